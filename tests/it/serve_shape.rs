//! The daemon's shape, through the binary and the fake Bot API: one config snapshot read by every
//! part (allowlist, locale, timezone, cadence), per-job schedules (a hung check delays nothing
//! but itself) and events close together coalesced into one message per chat.

use crate::support;

use serde_json::json;
use std::time::Duration;
use support::*;

fn refused_from(env: &Env, chat: i64) -> i64 {
    env.count(&format!("SELECT COUNT(*) FROM events WHERE kind='refused' AND chat_id={chat}"))
}

#[test]
fn removing_a_chat_from_the_allowlist_stops_its_answers_without_a_restart() {
    let env = Env::new();
    env.config(json!([]), json!({"tickSeconds": 1}));
    let _d = env.serve();
    env.tg.message(GROUP, ME, "/help");
    assert!(env.tg.wait_for(Duration::from_secs(20), |m| m.chat_id == GROUP).is_some(), "the allowed group is answered");
    env.config(json!([]), json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME]}}));
    // Within about a tick the group is refused: its updates are recorded as refused.
    let refused = eventually(Duration::from_secs(15), || {
        env.tg.message(GROUP, ME, "/help");
        eventually(Duration::from_millis(700), || refused_from(&env, GROUP) > 0)
    });
    assert!(refused, "the removed group was still served");
    let answered = env.tg.to_chat(GROUP).len();
    env.tg.message(GROUP, ME, "/status");
    assert!(eventually(Duration::from_secs(10), || refused_from(&env, GROUP) >= 2), "the next update is refused too");
    env.tg.message(ME, ME, "/help");
    assert!(env.tg.wait_for(Duration::from_secs(10), |m| m.chat_id == ME).is_some(), "the chat still allowed is answered");
    assert_eq!(env.tg.to_chat(GROUP).len(), answered, "no answer went to the removed group");
}

#[test]
fn a_broken_config_keeps_the_last_good_locale_timezone_and_cadence() {
    let env = Env::new();
    let pulse = counting_alert(&env);
    env.config(json!([pulse]), json!({"tickSeconds": 1, "locale": "zh-CN", "timezone": "Asia/Shanghai"}));
    let _d = env.serve();
    assert!(env.tg.eventually(Duration::from_secs(20), |s| s.iter().filter(|m| m.chat_id == ME).count() >= 2), "reports flow");
    std::fs::write(env.path().join("c.json"), "{ \"version\": 1, broken").unwrap();
    assert!(env.tg.wait_for(Duration::from_secs(20), |m| m.chat_id == ME && m.text.contains("ops-jobs.json")).is_some(), "the broken file is reported");
    let before = alert_numbers(&env, ME).len();
    // The last good cadence (1 s) goes on: a 60 s fallback would bring nothing within 12 s.
    assert!(eventually(Duration::from_secs(12), || alert_numbers(&env, ME).len() >= before + 3), "the cadence fell back");
    let last = env.tg.to_chat(ME).into_iter().rev().find(|m| m.text.contains("n=")).unwrap();
    assert!(last.text.contains("Ops 快报"), "the language fell back: {}", last.text);
    let hour = |h: i64| {
        chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).checked_sub_signed(chrono::TimeDelta::seconds(h)).unwrap().format(" · %H:").to_string()
    };
    assert!(last.text.contains(&hour(0)) || last.text.contains(&hour(60)), "the timezone fell back: {}", last.text);
}

#[test]
fn a_hung_check_does_not_delay_another_check_due_every_2_s() {
    let env = Env::new();
    let runs = env.path().join("quick.runs");
    let quick = env.script("quick.sh", &format!("echo x >> {}\n", runs.display()));
    let jobs = json!([
        {"id": "hang", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sleep", "40"]},
         "policy": {"runEverySeconds": 2, "timeoutSeconds": 60}},
        {"id": "quick", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", quick]},
         "policy": {"runEverySeconds": 2}}
    ]);
    env.config(jobs, json!({"tickSeconds": 1}));
    let _d = env.serve();
    let count = || std::fs::read_to_string(&runs).map(|s| s.lines().count()).unwrap_or(0);
    assert!(eventually(Duration::from_secs(15), || count() >= 4), "the quick check ran {} time(s) while the other one hung", count());
}

#[test]
fn two_anomalies_raised_in_the_same_second_reach_a_chat_as_one_message() {
    let env = Env::new();
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"disk on fire\"}'\n");
    let jobs = json!([
        long_job("scan", &st, json!({})),
        {"id": "health", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", "-c", "echo 'ALERT: fan stopped'; exit 1"]},
         "policy": {"runEverySeconds": 3600}}
    ]);
    env.config(jobs, json!({}));
    let _d = env.serve();
    let both = |t: &str| t.contains("disk on fire") && t.contains("fan stopped");
    let got = env.tg.wait_for(Duration::from_secs(20), |m| m.chat_id == ME && (m.text.contains("disk on fire") || m.text.contains("fan stopped")));
    let first = got.expect("an alert arrives");
    assert!(both(&first.text), "the two alerts came as separate messages; the first was: {}", first.text);
}
