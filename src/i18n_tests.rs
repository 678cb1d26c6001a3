use super::*;

#[test]
fn parses_config_values_and_telegram_language_codes() {
    assert_eq!(Lang::parse("en"), Some(Lang::En));
    assert_eq!(Lang::parse("en-GB"), Some(Lang::En));
    assert_eq!(Lang::parse("zh"), Some(Lang::ZhCn));
    assert_eq!(Lang::parse("zh_CN"), Some(Lang::ZhCn));
    assert_eq!(Lang::parse("zh-Hans"), Some(Lang::ZhCn));
    assert_eq!(Lang::parse("fr"), None);
    assert_eq!(Lang::parse("zh-TW"), None, "traditional Chinese is not simplified");
}

#[test]
fn plural_forms_follow_the_language() {
    assert_eq!(t!(Lang::En, "jobs-count", count = 1), "1 job");
    assert_eq!(t!(Lang::En, "jobs-count", count = 3), "3 jobs");
    assert_eq!(t!(Lang::ZhCn, "jobs-count", count = 3), "3 个任务");
}

#[test]
fn durations_are_formatted_per_language() {
    assert_eq!(duration(Lang::En, 45), "45 s");
    assert_eq!(duration(Lang::En, 600), "10 min");
    assert_eq!(duration(Lang::En, 7500), "2 h 5 min");
    assert_eq!(duration(Lang::ZhCn, 7500), "2 小时 5 分");
    assert_eq!(millis(Lang::En, 850), "850 ms");
    assert_eq!(millis(Lang::ZhCn, 3200), "3.2 秒");
}

#[test]
fn a_report_header_names_the_host_and_the_time_in_the_configured_timezone() {
    let at = chrono::DateTime::parse_from_rfc3339("2026-01-15T01:02:03Z").unwrap().with_timezone(&chrono::Utc);
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let later = at + chrono::Duration::hours(2);
    assert_eq!(crate::render::header_at(at, later, "nas", tz, Lang::ZhCn), "🛠️ Ops 快报 · nas · 09:02:03 CST");
    assert_eq!(crate::render::header_at(at, later, "nas", tz, Lang::En), "Ops report · nas · 09:02:03 CST");
    let next_day = at + chrono::Duration::hours(20);
    assert_eq!(crate::render::header_at(at, next_day, "nas", tz, Lang::En), "Ops report · nas · 2026-01-15 09:02:03 CST", "the date when not today");
    let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let summer = chrono::DateTime::parse_from_rfc3339("2026-07-15T11:27:00Z").unwrap().with_timezone(&chrono::Utc);
    assert_eq!(crate::render::clock(summer, summer, berlin), "13:27:00 CEST");
    let report = crate::render::Report { at: Some(chrono::Utc::now()), sections: Vec::new(), digest: None };
    assert!(crate::render::report_text(&report, "build-1", tz, Lang::ZhCn).starts_with("🛠️ Ops 快报 · build-1 · "));
}

#[test]
fn config_errors_blocked_chain_items_and_dry_run_remarks_follow_the_reader_language() {
    use crate::policy::report::{Note, Section};
    let mut s = Section::system("config", "ops-jobs.json");
    s.notes = vec![
        Note::ConfigInvalid { file: "/x/ops-jobs.json".into(), using_last_good: true },
        Note::ChainBlocked { kind: "one_shot_write".into(), risk: "write_local".into() },
        Note::ChainUnknown { job_id: "gone".into() },
        Note::QueuedBecause("after a (success)".into()),
        Note::WouldRun { queued: None },
    ];
    let zh = crate::render::section_text(&s, chrono_tz::UTC, Lang::ZhCn);
    for want in ["配置无效：/x/ops-jobs.json", "继续使用上一份有效配置", "队列任务被阻断", "\"gone\" 不在配置中", "排队原因：在 a 成功之后", "计划时间已到"]
    {
        assert!(zh.contains(want), "{want:?} missing in\n{zh}");
    }
    let en = crate::render::section_text(&s, chrono_tz::UTC, Lang::En);
    assert!(en.contains("ACTION REQUIRED: fix the file; the last good config stays in use") && en.contains("would run (schedule due)"), "{en}");
    assert!(en.contains("queued because: after a (success)"), "English keeps the config's words: {en}");
}

#[test]
fn a_merged_backlog_is_headed_in_the_readers_language() {
    let h = |lang, alerts: usize, updates: usize| t!(lang, "backlog-header", host = "nas", from = "13:02", to = "13:05", alerts = alerts, updates = updates);
    assert_eq!(h(Lang::En, 36, 0), "While Telegram was unreachable · nas · 13:02–13:05: 36 alerts");
    assert_eq!(h(Lang::En, 1, 1), "While Telegram was unreachable · nas · 13:02–13:05: 1 alert, 1 update");
    assert_eq!(h(Lang::ZhCn, 36, 0), "Telegram 无法连接期间 · nas · 13:02–13:05：36 条告警");
    assert_eq!(h(Lang::ZhCn, 36, 2), "Telegram 无法连接期间 · nas · 13:02–13:05：36 条告警，2 条更新");
    assert_eq!(t!(Lang::ZhCn, "backlog-recovered", heading = "• a", what = "x"), "• a — x（已恢复）");
    assert_eq!(t!(Lang::ZhCn, "backlog-changed", heading = "• a", what = "x"), "• a — x（已变化）");
    assert_eq!(t!(Lang::En, "backlog-changed", heading = "• a", what = "x"), "• a — x (since changed)");
}

#[test]
fn a_runs_result_and_a_job_kind_read_in_the_readers_language() {
    use crate::policy::failure::{Failure, FailureKind};
    use crate::policy::report::{Anomaly, Section};
    use crate::render::{kind_word, stored_summary};
    assert_eq!(stored_summary("exit 3", Lang::ZhCn), "退出码 3");
    assert_eq!(stored_summary("killed by signal 9", Lang::ZhCn), "被信号 9 终止");
    assert_eq!(stored_summary("timed out after 3200 ms (process group killed)", Lang::ZhCn), "3.2 秒 后超时（已终止整个进程组）");
    assert_eq!(stored_summary("exit 3", Lang::En), "exit 3");
    assert_eq!(stored_summary("ALERT: disk 91% full", Lang::ZhCn), "ALERT: disk 91% full", "a check's own line is shown as it printed it");
    assert_eq!(kind_word("long_running_read", Lang::ZhCn), "长时任务");
    assert_eq!(kind_word("long_running_read", Lang::En), "long_running_read");
    let mut s = Section::system("chk", "Disk check");
    s.kind = Some("one_shot_read".into());
    s.anomaly = Some(Anomaly::CheckFailed { failure: Failure::new(FailureKind::Exit(3), "exit 3") });
    let zh = crate::render::section_text(&s, chrono_tz::UTC, Lang::ZhCn);
    assert!(zh.contains("（chk，检查）") && zh.contains("检查失败：退出码 3") && !zh.contains("exit 3"), "{zh}");
}
