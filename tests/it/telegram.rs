//! `serve` with a token against the fake Bot API: commands, buttons, allowlist, pushes.

use crate::support;

use serde_json::json;
use std::time::Duration;
use support::*;

const T: Duration = Duration::from_secs(20);
const ALICE: i64 = 222;

/// The /status overview in English: "1 job (HH:MM:SS)" / "3 jobs (…)".
fn is_overview(text: &str) -> bool {
    text.lines().next().is_some_and(|l| l.contains(" job (") || l.contains(" jobs ("))
}

fn running_status(env: &Env, name: &str, progress: &str) -> std::path::PathBuf {
    env.script(name, &format!("echo '{{\"running\":true,\"completed\":false,\"progress\":{progress}}}'\n"))
}

#[test]
fn status_from_an_allowed_chat_gets_the_overview_and_a_stranger_gets_nothing() {
    let env = Env::new();
    let st = running_status(&env, "st.sh", r#"{"done":3,"total":10}"#);
    env.config(json!([long_job("scan", &st, json!({}))]), json!({}));
    let d = env.serve();
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Ops report")).is_some(), "first tick report");
    env.tg.message(STRANGER, STRANGER, "/status");
    env.tg.message(ME, ME, "/status");
    let o = env.tg.wait_for(T, |m| m.chat_id == ME && is_overview(&m.text)).expect("overview");
    assert!(o.text.contains("scan") && o.text.contains("▓▓▓░░░░░░░ 30%"), "{}", o.text);
    assert!(o.button("Refresh").is_some() && o.button("Stop scan").is_some(), "a running job can be stopped");
    assert!(o.button("Start scan").is_none(), "a running job offers no Start");
    assert!(eventually(T, || env.count(&format!("SELECT COUNT(*) FROM events WHERE kind='refused' AND chat_id={STRANGER}")) == 1));
    assert!(env.tg.to_chat(STRANGER).is_empty(), "the stranger got a reply");
    assert!(!env.log().contains("/status"), "message text of a refused update is not logged");
    // The owner sees the attempt counted, in the chat and on the host.
    env.tg.message(ME, ME, "/status");
    let again = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("from outside the allowlist")).expect("refused attempts in /status");
    assert!(again.text.contains("1 update from outside the allowlist refused (latest: chat 999, user 999"), "{}", again.text);
    let host = env.cli().args(["status"]).output().unwrap();
    assert!(String::from_utf8_lossy(&host.stdout).contains("outside the allowlist: 1 (latest: chat 999, user 999)"), "{host:?}");
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}

#[test]
fn a_picker_button_starts_a_job_refresh_edits_in_place_and_a_forged_button_is_refused() {
    let env = Env::new();
    let marker = env.path().join("started");
    let st = env.script(
        "st.sh",
        &format!(
            "if [ -e {m} ]; then echo '{{\"running\":true,\"completed\":false}}'; else echo '{{\"running\":false,\"completed\":false}}'; fi\n",
            m = marker.display()
        ),
    );
    let start = env.script("start.sh", &format!("touch {}\necho started-ok\n", marker.display()));
    let mut job = long_job("scan", &st, json!({"name": "Disk scan"}));
    job["commands"]["start"] = json!(["sh", start]);
    env.config(json!([job]), json!({}));
    let d = env.serve();
    env.tg.message(ME, ME, "/status");
    let overview = env.tg.wait_for(T, |m| is_overview(&m.text)).expect("overview");
    assert!(overview.text.contains("not started"), "{}", overview.text);
    env.tg.message(ME, ME, "/start");
    let picker = env.tg.wait_for(T, |m| m.text.contains("Pick a job") || m.text.contains("Hello")).expect("greeting with picker");
    let start_data = picker.button("Start Disk scan").expect("start button");
    let q = env.tg.press(&picker, ME, &start_data);
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("start scan"));
    let result = env.tg.wait_for(T, |m| m.text.contains(": start Disk scan")).expect("outcome");
    assert!(result.text.contains("exit 0") && result.text.contains("started-ok"), "{}", result.text);
    assert!(marker.exists());
    let again = env.tg.press(&picker, ME, &start_data);
    assert!(env.tg.wait_answer(&again, T).unwrap().contains("already used"));
    let q = env.tg.press(&overview, ME, &overview.button("Refresh").unwrap());
    assert!(env.tg.wait_answer(&q, T).is_some());
    let edited = env.tg.wait_for(T, |m| m.method == "editmessagetext").expect("edit in place");
    assert_eq!(edited.message_id, overview.message_id);
    assert!(edited.text.contains("running"), "{}", edited.text);
    let before = env.tg.sent().len();
    let forged = env.tg.press(&overview, ME, "0123456789abcdef0123456789abcdef");
    assert!(env.tg.wait_answer(&forged, T).unwrap().contains("Unknown"));
    let stranger = env.tg.press(&support::fake_tg::Sent { chat_id: STRANGER, ..overview.clone() }, STRANGER, &start_data);
    assert!(env.tg.wait_answer(&stranger, T).unwrap().contains("Not allowed"));
    assert_eq!(env.tg.sent().len(), before, "refused presses sent nothing");
    assert_eq!(env.count("SELECT COUNT(*) FROM runs WHERE job_id='scan' AND action='start'"), 1, "started exactly once");
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}

#[test]
fn a_stalled_job_alerts_within_a_tick_and_a_completion_is_reported_once() {
    let env = Env::new();
    let ticks = env.path().join("ticks.log");
    let stuck = env.script(
        "stuck.sh",
        &format!("echo x >> {}\necho '{{\"running\":true,\"completed\":false,\"progress\":{{\"done\":1,\"total\":10}}}}'\n", ticks.display()),
    );
    let tick_count = || std::fs::read_to_string(&ticks).unwrap_or_default().lines().count();
    let flag = env.path().join("done");
    let fin = env.script("fin.sh", &format!("if [ -e {f} ]; then echo '{{\"running\":false,\"completed\":true}}'; else echo '{{\"running\":true,\"completed\":false,\"progress\":{{\"n\":'$(date +%s%N)'}}}}'; fi\n", f = flag.display()));
    let jobs = json!([long_job("stuck", &stuck, json!({"policy": {"stallSeconds": 2}})), long_job("fin", &fin, json!({"policy": {"reportEverySeconds": 1}})),]);
    env.config(jobs, json!({"tickSeconds": 1}));
    let d = env.serve();
    let alert = env.tg.wait_for(T, |m| m.text.contains("stalled for")).expect("stall alert");
    assert!(!alert.silent(), "alerts ring");
    assert!(alert.button("Ack stuck").is_some() && alert.button("Snooze 1h stuck").is_some());
    std::fs::write(&flag, "").unwrap();
    let first = env.tg.wait_for(T, |m| m.text.contains("completed ✅")).expect("completion");
    let seen = tick_count();
    let q = env.tg.press(&alert, ME, &alert.button("Ack stuck").unwrap());
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("acknowledged"));
    assert!(eventually(T, || tick_count() >= seen + 4), "more ticks ran");
    let completions = env.tg.to_chat(ME).iter().filter(|m| m.text.contains("completed ✅")).count();
    assert_eq!(completions, 1, "completion reported once (first at message {})", first.message_id);
    stop(d);
}

#[test]
fn lang_switches_the_replies_of_one_chat_only_and_a_new_chat_starts_in_its_users_language() {
    let env = Env::new();
    let st = running_status(&env, "st.sh", r#"{"done":3,"total":10}"#);
    env.config(json!([long_job("scan", &st, json!({})), long_job("scan2", &st, json!({}))]), json!({"telegram": {"allowedChatIds": [ME, GROUP, ALICE]}}));
    let d = env.serve();
    env.tg.message(ME, ME, "/lang zh-CN");
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("简体中文")).is_some());
    env.tg.message(ME, ME, "/status");
    let zh = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains(" · 2 个任务（")).expect("overview in Chinese");
    assert!(zh.text.contains("运行中") && zh.button("刷新").is_some(), "{}", zh.text);
    env.tg.message(GROUP, ME, "/status");
    let en = env.tg.wait_for(T, |m| m.chat_id == GROUP && is_overview(&m.text)).expect("the group stays English");
    assert!(en.text.contains(" · 2 jobs (") && en.text.contains("running") && en.button("Refresh").is_some(), "{}", en.text);
    env.tg.message(GROUP, ME, "/lang");
    let pick = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.button("简体中文").is_some()).expect("language buttons");
    let q = env.tg.press(&pick, ME, &pick.button("简体中文").unwrap());
    assert!(env.tg.wait_answer(&q, T).is_some());
    assert!(env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.contains("简体中文")).is_some(), "the button switched the group");
    env.tg.message_in(ALICE, ALICE, "zh-hans", "/help");
    let help = env.tg.wait_for(T, |m| m.chat_id == ALICE && m.text.contains("/status —")).expect("help for a new chat");
    assert!(help.text.lines().next().is_some_and(|l| l.ends_with(" 的命令：")), "a new chat starts in its first user's language: {}", help.text);
    assert_eq!(env.count("SELECT COUNT(*) FROM chat_prefs WHERE chat_id=222 AND source='guess'"), 1);
    let menus = env.tg.my_commands();
    let menu = |lang: Option<&str>| menus.iter().find(|b| b["language_code"].as_str() == lang).unwrap_or_else(|| panic!("no menu for {lang:?}: {menus:?}"));
    let desc = |m: &serde_json::Value, cmd: &str| {
        m["commands"].as_array().unwrap().iter().find(|c| c["command"] == cmd).map(|c| c["description"].as_str().unwrap().to_string()).unwrap()
    };
    let (en, zh) = (menu(None), menu(Some("zh")));
    assert!(desc(en, "status").is_ascii(), "the default menu is English: {en}");
    assert!(desc(zh, "status").chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "phones set to Chinese get Chinese: {zh}");
    assert_eq!(en["commands"].as_array().unwrap().len(), zh["commands"].as_array().unwrap().len());
    stop(d);
}

#[test]
fn reports_use_each_chats_language_and_the_configured_timezone() {
    let env = Env::new();
    let st = running_status(&env, "st.sh", r#"{"done":3,"total":10}"#);
    env.config(json!([long_job("scan", &st, json!({}))]), json!({"locale": "zh-CN", "timezone": "Asia/Shanghai"}));
    let shanghai_hour = || chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format(" · %H:").to_string();
    let before = shanghai_hour();
    let d = env.serve();
    let zh = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Ops 快报")).expect("report in the config's language");
    let after = shanghai_hour();
    assert!(zh.text.starts_with("<b>🛠️ Ops 快报 · ") && (zh.text.contains(&before) || zh.text.contains(&after)), "{}", zh.text);
    assert!(zh.text.contains("状态") && zh.text.contains("进度"), "{}", zh.text);
    stop(d);
}

#[test]
fn a_status_overview_longer_than_one_message_is_split_and_refresh_resends_it() {
    let env = Env::new();
    let st = running_status(&env, "st.sh", r#"{"done":1,"total":4}"#);
    let jobs: Vec<_> = (0..60).map(|i| long_job(&format!("job{i:02}"), &st, json!({"name": format!("{i:02} {}", "long job name ".repeat(6))}))).collect();
    env.config(json!(jobs), json!({"telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    env.tg.message(ME, ME, "/status");
    let last = env.tg.wait_for(T, |m| m.chat_id == ME && m.button("Refresh").is_some()).expect("overview with buttons");
    let parts = env.tg.to_chat(ME).into_iter().filter(|m| m.text.contains("long job name")).count();
    assert!(parts >= 3, "the overview came in several messages ({parts} with job lines, incl. the report)");
    assert!(env.tg.to_chat(ME).iter().any(|m| m.text.contains("59 long job name")), "no job line dropped");
    let before = env.tg.to_chat(ME).len();
    let q = env.tg.press(&last, ME, &last.button("Refresh").unwrap());
    assert!(env.tg.wait_answer(&q, T).is_some());
    assert!(env.tg.eventually(T, |s| s.iter().filter(|m| m.chat_id == ME && m.method == "sendmessage").count() >= before + 2), "a fresh overview was sent");
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}

#[test]
fn telegram_unreachable_at_start_up_delays_commands_but_does_not_kill_polling() {
    let env = Env::new();
    let st = running_status(&env, "st.sh", r#"{"done":3,"total":10}"#);
    env.config(json!([long_job("scan", &st, json!({}))]), json!({}));
    env.tg.down(std::time::Instant::now() + Duration::from_secs(4));
    let d = env.serve();
    env.tg.message(ME, ME, "/status");
    assert!(env.tg.wait_for(Duration::from_secs(40), |m| m.chat_id == ME && is_overview(&m.text)).is_some(), "commands work once Telegram is back");
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Ops report")).is_some(), "the queued report arrives");
    assert!(!env.log().contains("panicked"), "{}", env.log());
    stop(d);
}

#[test]
fn a_check_hanging_until_its_timeout_holds_back_no_alert_of_a_long_job() {
    let env = Env::new();
    let started = env.path().join("check-started");
    let check = env.script("check.sh", &format!("touch {}\nsleep 30\n", started.display()));
    let bad = env.path().join("bad");
    let st = env.script(
        "st.sh",
        &format!(
            "if [ -f {} ]; then echo '{{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"disk on fire\"}}'; else echo '{{\"running\":true,\"completed\":false}}'; fi\n",
            bad.display()
        ),
    );
    let slow = json!({"id": "slow", "kind": "one_shot_read", "risk": "read_only", "enabled": true,
        "commands": {"run": ["sh", check]}, "policy": {"runEverySeconds": 1, "timeoutSeconds": 60}});
    env.config(json!([slow, long_job("scan", &st, json!({}))]), json!({"tickSeconds": 1}));
    let d = env.serve();
    assert!(eventually(T, || started.exists()), "the check is running (and will hang for 30 s)");
    std::fs::write(&bad, "").unwrap();
    let t0 = std::time::Instant::now();
    assert!(env.tg.wait_for(Duration::from_secs(10), |m| m.text.contains("disk on fire")).is_some(), "the alert came while the check hung");
    assert!(t0.elapsed() < Duration::from_secs(10));
    stop(d);
}
