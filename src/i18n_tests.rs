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
fn a_zh_cn_report_has_the_python_tools_header_in_the_configured_timezone() {
    let at = chrono::DateTime::parse_from_rfc3339("2026-01-15T01:02:03Z").unwrap().with_timezone(&chrono::Utc);
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    assert_eq!(crate::render::header(at, tz, Lang::ZhCn), "🛠️ Ops 快报（09:02:03）");
    assert_eq!(crate::render::header(at, tz, Lang::En), "Ops report (09:02:03)");
    let report = crate::render::Report { at: Some(at), sections: Vec::new() };
    assert!(crate::render::report_text(&report, tz, Lang::ZhCn).starts_with("🛠️ Ops 快报（09:02:03）"));
}
