//! After an outage a chat's backlog arrives merged: the alerts queued while Telegram was
//! unreachable reach even a group (paced at one message per 3 s) within seconds, each once, in
//! order, under one header; an alert whose anomaly cleared meanwhile says "(since recovered)", one
//! whose job has moved on to another anomaly "(since changed)";
//! approval requests and command replies stay messages of their own with working buttons.

use crate::support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::fake_tg::{Fault, Sent};
use support::*;

const T: Duration = Duration::from_secs(30);

fn produced(env: &Env) -> u64 {
    std::fs::read_to_string(env.path().join("n")).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

/// A job `id` that reports `level: alert` with the text of the file named `id` as its message
/// while the file exists, else runs fine.
fn flaky(env: &Env, id: &str) -> serde_json::Value {
    let flag = env.path().join(id);
    let st = env.script(
        &format!("{id}.sh"),
        &format!(
            "if [ -e {f} ]; then echo '{{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"'\"$(cat {f})\"'\"}}'\nelse echo '{{\"running\":true,\"completed\":false}}'; fi\n",
            f = flag.display()
        ),
    );
    long_job(id, &st, json!({}))
}

fn after(env: &Env, chat: i64, from: usize) -> Vec<Sent> {
    env.tg.to_chat(chat).into_iter().skip(from).collect()
}

#[test]
fn twenty_alerts_raised_during_an_outage_reach_a_group_within_10_s_each_once_in_order_and_a_recovered_one_says_so() {
    let env = Env::new();
    env.config(json!([counting_alert(&env), flaky(&env, "flaky"), flaky(&env, "shifty")]), json!({"tickSeconds": 1, "host": "nas"}));
    let d = env.serve();
    for chat in [ME, GROUP] {
        assert!(eventually(T, || !alert_numbers(&env, chat).is_empty()), "chat {chat}: an alert before the outage");
    }
    env.tg.down(Instant::now() + Duration::from_secs(3600));
    let (start, before) = (produced(&env), [env.tg.to_chat(ME).len(), env.tg.to_chat(GROUP).len()]);
    std::fs::write(env.path().join("flaky"), "disk gone").unwrap();
    std::fs::write(env.path().join("shifty"), "fan loud").unwrap();
    let queued = |what: &str| env.count(&format!("SELECT COUNT(*) FROM outbox WHERE status='pending' AND text LIKE '%{what}%'"));
    assert!(eventually(T, || queued("disk gone") >= 2 && queued("fan loud") >= 2), "flaky's and shifty's alerts are queued for both chats…");
    std::fs::write(env.path().join("shifty"), "fan failed").unwrap();
    assert!(eventually(T, || queued("fan failed") >= 2), "…then shifty alerts about something else…");
    std::fs::remove_file(env.path().join("flaky")).unwrap();
    let clear = "SELECT COUNT(*) FROM job_state WHERE job_id='flaky' AND state LIKE '%\"last_anomaly_key\":null%'";
    assert!(eventually(T, || env.count(clear) == 1), "…then its anomaly clears");
    assert!(eventually(Duration::from_secs(60), || produced(&env) >= start + 20), "20 alerts raised during the outage");
    let at_end = produced(&env);
    env.tg.down(Instant::now());
    let ended = Instant::now();
    assert!(
        eventually(Duration::from_secs(10), || alert_numbers(&env, GROUP).len() as u64 >= at_end),
        "the group got {} of {at_end} alerts within 10 s of the outage's end",
        alert_numbers(&env, GROUP).len()
    );
    println!("group: alerts 1..={at_end} in by {:.1} s after the outage", ended.elapsed().as_secs_f64());
    for (chat, from) in [(ME, before[0]), (GROUP, before[1])] {
        assert!(eventually(T, || alert_numbers(&env, chat).len() as u64 >= at_end), "chat {chat} caught up");
        let ns = alert_numbers(&env, chat);
        assert_eq!(ns, (1..=ns.len() as u64).collect::<Vec<_>>(), "chat {chat}: each alert named once, in order");
        let backlog = after(&env, chat, from);
        let first = &backlog[0];
        assert!(first.text.starts_with("While Telegram was unreachable · nas · ") && first.text.contains(" alerts"), "chat {chat}: headed: {}", first.text);
        assert_eq!(backlog.iter().filter(|m| m.text.contains("While Telegram was unreachable")).count(), 1, "headed once");
        let all: String = backlog.iter().map(|m| m.text.as_str()).collect::<Vec<_>>().join("\n");
        assert!(all.contains("disk gone (since recovered)"), "chat {chat}: the cleared alert is marked: {all}");
        assert!(all.contains("fan loud (since changed)"), "chat {chat}: the superseded alert is marked: {all}");
        assert!(!all.contains("alert: disk gone\n") && !all.contains("alert: fan loud\n"), "chat {chat}: …each as one line, not the whole alert");
        assert!(all.contains("- ALERT: job reports alert: fan failed\n"), "chat {chat}: the anomaly in force stays whole: {all}");
        assert!(backlog.len() < 10, "chat {chat}: merged into few messages, not one per alert: {}", backlog.len());
    }
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}

#[test]
fn an_approval_request_and_a_reply_queued_during_an_outage_keep_their_own_messages_and_working_buttons() {
    let env = Env::new();
    env.script("w.sh", &format!("echo $$ >> {}\necho wrote\n", env.path().join("ran").display()));
    let jobs = json!([
        counting_alert(&env),
        {"id": "w", "name": "Rotate", "kind": "one_shot_write", "risk": "write_local", "enabled": true,
         "commands": {"run": ["sh", env.path().join("w.sh")]}, "after": [{"jobId": "v", "when": "success", "delaySeconds": 0}]},
        {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["true"]}}
    ]);
    // A new alert every 2 s: alerts go ahead of bulk (the request), and at one alert per second
    // (the private chat's pace) the request would wait behind them indefinitely.
    env.config(jobs, json!({"tickSeconds": 2, "telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    assert!(eventually(T, || !alert_numbers(&env, ME).is_empty()), "an alert before the outage");
    env.tg.fault(Some(Fault::Status(502, Instant::now() + Duration::from_secs(3600))));
    let (start, before) = (produced(&env), env.tg.to_chat(ME).len());
    assert!(env.cli().args(["run", "w"]).output().unwrap().status.success(), "request made on the host");
    env.tg.message(ME, ME, "/status");
    assert!(eventually(T, || produced(&env) >= start + 5), "alerts raised during the outage");
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM outbox WHERE status='pending' AND text LIKE '%Approval request%'") == 1), "request queued");
    env.tg.fault(None);
    let req = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #1")).expect("the request arrives");
    assert!(!req.text.contains("n="), "a request is never merged into alerts: {}", req.text);
    let merged = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.starts_with("While Telegram was unreachable")).expect("merged backlog");
    let overview = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains(" jobs (")).expect("the /status reply");
    assert!(!overview.text.contains("While Telegram") && !overview.text.contains("- ALERT:"), "a reply is never merged into alerts: {}", overview.text);
    let q = env.tg.press(&req, ME, &req.button("Approve").expect("Approve button"));
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("Approved"), "the request's button works");
    assert!(env.tg.wait_for(T, |m| m.text.contains("ran once")).is_some(), "the job ran");
    let ack = merged.button("Ack pulse").expect("the merged alerts keep an Ack for the job still alerting");
    let q = env.tg.press(&merged, ME, &ack);
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("acknowledged"), "the merged message's Ack works");
    let edited = env.tg.wait_for(T, |m| m.method == "editmessagetext" && m.message_id == merged.message_id).expect("the merged alert is marked");
    let visible = |t: &str| support::fake_tg::parse_html(t).unwrap();
    assert!(visible(&edited.text).starts_with(&visible(&merged.text)), "the edit keeps the whole merged text: {}", edited.text);
    assert!(after(&env, ME, before).len() < 10, "merged, not one message per alert");
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}

#[test]
fn alerts_merged_by_the_groups_pace_alone_are_headed_with_the_host_like_a_report() {
    let env = Env::new();
    env.config(json!([counting_alert(&env)]), json!({"tickSeconds": 1, "host": "nas"}));
    let d = env.serve();
    // A new alert every second, a group message every 3 s: alerts queue behind the pace, with no
    // outage, and go out merged.
    let merged = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.matches("• pulse").count() >= 2).expect("alerts merged by the pace");
    assert!(merged.text.starts_with("<b>Ops report · nas · "), "a merged message names its host: {}", merged.text);
    assert!(!merged.text.contains("While Telegram was unreachable"), "no outage, no outage header: {}", merged.text);
    for m in env.tg.to_chat(GROUP) {
        assert!(m.text.starts_with("<b>Ops report · nas · "), "every alert in the group names its host: {}", m.text);
    }
    stop(d);
}
