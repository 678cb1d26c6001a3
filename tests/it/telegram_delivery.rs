//! The durable outbox against a misbehaving fake Bot API: outages, 429, blocked and migrated
//! chats, long and hostile text, kill -9 with unsent messages, SIGTERM, and token hygiene.

use crate::support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::fake_tg::Fault;
use support::*;

const T: Duration = Duration::from_secs(30);

fn produced(env: &Env) -> u64 {
    std::fs::read_to_string(env.path().join("n")).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

fn assert_contiguous(ns: &[u64], upto: u64) {
    let want: Vec<u64> = (1..=ns.len() as u64).collect();
    assert_eq!(ns, &want[..], "each alert once, in order");
    assert!(ns.len() as u64 >= upto, "alerts up to {upto} delivered: {ns:?}");
}

#[test]
fn a_30_second_502_outage_loses_nothing_and_keeps_order() {
    let env = Env::new();
    env.tg.fault(Some(Fault::Status(502, Instant::now() + Duration::from_secs(30))));
    env.config(json!([counting_alert(&env)]), json!({"tickSeconds": 5}));
    let d = env.serve();
    assert!(eventually(Duration::from_secs(40), || produced(&env) >= 6), "ticks ran during the outage");
    let during = produced(&env);
    for chat in [ME, GROUP] {
        assert!(eventually(Duration::from_secs(60), || alert_numbers(&env, chat).len() as u64 >= during), "chat {chat} caught up");
        assert_contiguous(&alert_numbers(&env, chat), during);
    }
    stop(d);
}

/// teloxide-core alone sleeps 10 s inside each 5xx answer; the outbox's own backoff must be the
/// only wait, so a short outage delays an alert by about a second, not 30.
#[test]
fn after_three_502s_the_first_queued_alert_goes_out_within_2_seconds() {
    let env = Env::new();
    env.tg.fault(Some(Fault::StatusTimes(502, 3)));
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"disk gone\"}'\n");
    env.config(json!([long_job("scan", &st, json!({}))]), json!({"telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    let alert = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("disk gone")).expect("the alert arrives");
    let arrived = Instant::now();
    let faults = env.tg.faulted_at();
    assert_eq!(faults.len(), 3, "three 502s were answered before the alert got through");
    let after_outage = arrived - faults[2];
    println!("first alert {after_outage:?} after the third 502, {:?} after the first", arrived - faults[0]);
    assert!(after_outage < Duration::from_secs(2), "first alert {after_outage:?} after the outage ended (limit 2 s)");
    assert!(arrived - faults[0] < Duration::from_secs(5), "the three retries took {:?}", arrived - faults[0]);
    assert!(!alert.silent());
    stop(d);
}

#[test]
fn a_429_delays_but_loses_nothing_and_a_blocked_chat_does_not_stop_the_others() {
    let env = Env::new();
    env.tg.fault(Some(Fault::TooMany(2, 1)));
    env.tg.block(222);
    env.config(json!([counting_alert(&env)]), json!({"tickSeconds": 2, "telegram": {"allowedChatIds": [222, ME, GROUP]}}));
    let d = env.serve();
    for chat in [ME, GROUP] {
        assert!(eventually(T, || alert_numbers(&env, chat).len() >= 3), "chat {chat} receives alerts");
        let ns = alert_numbers(&env, chat);
        assert_contiguous(&ns, 3);
    }
    assert!(env.tg.to_chat(222).is_empty());
    assert!(env.count("SELECT COUNT(*) FROM outbox WHERE chat_id=222 AND status='failed'") >= 1);
    assert_eq!(env.tg.throttled(), 2, "both 429s were answered and the messages still arrived");
    assert!(env.log().to_lowercase().contains("retry after"), "the 429 is logged: {}", env.log());
    assert!(env.tg.attempts_to(222) <= 2, "a blocked chat is not hammered: {} attempts (one 429 + one 403 at most)", env.tg.attempts_to(222));
    stop(d);
}

#[test]
fn a_chat_where_telegram_hangs_does_not_delay_the_others() {
    let env = Env::new();
    let until = Instant::now() + Duration::from_secs(12);
    env.tg.hang(222, until);
    env.config(json!([counting_alert(&env)]), json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [222, ME]}}));
    let d = env.serve();
    assert!(eventually(Duration::from_secs(8), || alert_numbers(&env, ME).len() >= 3), "the other chat keeps getting alerts");
    assert!(Instant::now() < until, "…while the first chat is still hanging");
    assert!(eventually(T, || alert_numbers(&env, 222).len() >= 5), "the hanging chat catches up afterwards");
    assert_contiguous(&alert_numbers(&env, 222), 5);
    assert_contiguous(&alert_numbers(&env, ME), 3);
    stop(d);
}

#[test]
fn a_migrated_group_gets_the_message_once_at_its_new_id_and_the_owner_is_warned() {
    let env = Env::new();
    env.tg.migrate(-300, -100300);
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false}'\n");
    env.config(json!([long_job("scan", &st, json!({}))]), json!({"telegram": {"allowedChatIds": [ME, -300]}}));
    let d = env.serve();
    let moved = env.tg.wait_for(T, |m| m.chat_id == -100300 && m.text.contains("Ops report")).expect("re-sent to the new id");
    let warned = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("moved to chat id -100300")).expect("the owner is warned");
    assert!(warned.text.contains("-300") && warned.text.contains("allowedChatIds"), "{}", warned.text);
    assert!(env.tg.to_chat(-100300).iter().filter(|m| m.text == moved.text).count() == 1);
    let cfg: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(env.path().join("c.json")).unwrap()).unwrap();
    assert_eq!(cfg["telegram"]["allowedChatIds"], json!([ME, -300]), "the allowlist is not widened");
    stop(d);
}

#[test]
fn a_10000_character_report_arrives_split_and_a_hostile_name_shows_literally() {
    let env = Env::new();
    let line = "日志🙂 ".repeat(20);
    let long: Vec<String> = (0..120).map(|i| format!("{i:03} {line}")).collect();
    let msg = serde_json::to_string(&long.join("\n")).unwrap();
    let st = env.script("st.sh", &format!("cat <<'EOF'\n{{\"running\":true,\"completed\":false,\"message\":{msg}}}\nEOF\n"));
    env.config(json!([long_job("evil", &st, json!({"name": "<b>x_y*[z]&"}))]), json!({"telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    assert!(env.tg.eventually(T, |s| s.iter().any(|m| m.text.contains("119 "))), "the last line arrives");
    let parts = env.tg.to_chat(ME);
    assert!(parts.len() >= 3, "split into several messages: {}", parts.len());
    let visible: Vec<String> = parts.iter().map(|m| support::fake_tg::parse_html(&m.text).unwrap()).collect();
    assert!(visible.iter().all(|v| v.encode_utf16().count() <= 4096));
    let all = visible.join("\n");
    assert!(all.contains("• <b>x_y*[z]& (evil"), "name shown literally: {}", &all[..200]);
    for l in &long {
        assert!(all.contains(l.trim_end()), "line {} kept whole", &l[..3]);
    }
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}

#[test]
fn kill_9_with_unsent_messages_then_restart_delivers_them_once() {
    let env = Env::new();
    env.tg.fault(Some(Fault::Drop(Instant::now() + Duration::from_secs(3600))));
    env.config(json!([counting_alert(&env)]), json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME]}}));
    let mut d = env.serve();
    assert!(
        eventually(T, || env.count("SELECT COUNT(*) FROM outbox WHERE status='pending'") >= 3),
        "messages queued: {}",
        env.log().lines().take(12).collect::<Vec<_>>().join("\n")
    );
    d.kill().unwrap();
    d.wait().unwrap();
    let queued = env.count("SELECT COUNT(*) FROM outbox WHERE status='pending'");
    env.tg.fault(None);
    env.config(json!([counting_alert(&env)]), json!({"tickSeconds": 3600, "telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    assert!(eventually(T, || alert_numbers(&env, ME).len() as i64 >= queued), "unsent messages delivered after restart");
    assert_contiguous(&alert_numbers(&env, ME), queued as u64);
    stop(d);
}

#[test]
fn sigterm_exits_0_within_5_seconds_and_the_token_never_shows() {
    let env = Env::new();
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false}'\n");
    env.config(json!([long_job("scan", &st, json!({}))]), json!({}));
    let mut d = env.serve();
    assert!(env.tg.wait_for(T, |m| m.text.contains("Ops report")).is_some());
    env.tg.conflict(true);
    assert!(env.tg.wait_for(T, |m| m.text.contains("409")).is_some(), "the owner hears about a second poller");
    env.tg.conflict(false);
    let t0 = Instant::now();
    rustix::process::kill_process(rustix::process::Pid::from_raw(d.id() as i32).unwrap(), rustix::process::Signal::TERM).unwrap();
    let status = wait_exit(&mut d, Duration::from_secs(5)).expect("exits within 5 s");
    assert_eq!(status.code(), Some(0));
    assert!(t0.elapsed() < Duration::from_secs(5));
    let secret = TOKEN.split(':').nth(1).unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut d.stdout.take().unwrap(), &mut out).unwrap();
    assert!(!env.log().contains(secret) && !out.contains(secret), "token leaked: {}", env.log());
    let db = std::fs::read(env.path().join("s.db")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains(secret), "token stored in the database");
}

#[test]
fn a_message_whose_html_telegram_rejects_is_sent_again_as_plain_text() {
    let env = Env::new();
    env.tg.fault(Some(Fault::Entities(1)));
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"message\":\"a <tag> & b\"}'\n");
    env.config(json!([long_job("scan", &st, json!({}))]), json!({"telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    let m = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Ops report")).expect("delivered after the rejection");
    assert!(m.body.get("parse_mode").is_none(), "re-sent without parse mode: {:?}", m.body);
    assert!(m.text.contains("a <tag> & b") && !m.text.contains("&lt;"), "plain text, not escaped HTML: {}", m.text);
    assert_eq!(env.tg.to_chat(ME).iter().filter(|x| x.text.contains("Ops report")).count(), 1, "once");
    stop(d);
}

#[test]
fn keyboards_stay_within_telegrams_100_buttons_so_big_reports_and_overviews_are_not_lost() {
    let env = Env::new();
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"boom\"}'\n");
    let jobs: Vec<_> = (0..70).map(|i| long_job(&format!("j{i:02}"), &st, json!({}))).collect();
    env.config(json!(jobs), json!({"tickSeconds": 3600, "telegram": {"allowedChatIds": [ME]}}));
    let buttons = |m: &support::fake_tg::Sent| {
        m.body.pointer("/reply_markup/inline_keyboard").and_then(|k| k.as_array()).map_or(0, |rows| rows.iter().map(|r| r.as_array().unwrap().len()).sum())
    };
    // One tick with all 70 alerts in one report (serve's per-job schedules may split a start-up
    // burst over several reports; the CLI's tick is one pass through the same outbox).
    assert!(env.cli().arg("tick").output().unwrap().status.success());
    assert!(env.tg.eventually(T, |s| s.iter().any(|m| m.text.contains("(j69,"))), "the whole report arrives: {:?}", env.tg.rejected());
    let with_keys: Vec<usize> = env.tg.to_chat(ME).iter().map(buttons).filter(|n| *n > 0).collect();
    assert_eq!(with_keys, vec![100], "Ack/Snooze for the first 50 alerts, on the last part");
    let d = env.serve();
    env.tg.message(ME, ME, "/status");
    let o = env.tg.wait_for(T, |m| m.text.contains(" · 70 jobs (")).expect("overview");
    assert!(buttons(&o) == 71 && o.button("Refresh").is_some(), "70 running jobs × Stop (the one action possible now) + Refresh: {}", buttons(&o));
    env.tg.message(ME, ME, "/stop");
    let p = env.tg.wait_for(T, |m| m.text.contains(": Pick a job to stop")).expect("picker");
    assert_eq!(buttons(&p), 70, "one button per job");
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}
