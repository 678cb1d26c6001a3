//! Quiet nights through the binary and the fake Bot API: inside quiet hours only alerts ring; a
//! completion is held and the digest at the end of the quiet hours names it, once per chat.

use crate::support;

use chrono::{Duration as Span, Utc};
use serde_json::json;
use std::time::Duration;
use support::*;

/// "HH:MM" (UTC) of now plus `minutes`.
fn hhmm(minutes: i64) -> String {
    (Utc::now() + Span::minutes(minutes)).format("%H:%M").to_string()
}

#[test]
fn a_completion_inside_quiet_hours_does_not_ring_and_the_digest_names_it() {
    let env = Env::new();
    let flag = env.path().join("finished");
    let st = env.script(
        "backup.sh",
        &format!(
            "if [ -f {f} ]; then echo '{{\"running\":false,\"completed\":true,\"progress\":{{\"done\":10,\"total\":10}}}}'; \
             else echo '{{\"running\":true,\"completed\":false,\"progress\":{{\"done\":4,\"total\":10}}}}'; fi\n",
            f = flag.display()
        ),
    );
    let jobs = json!([long_job("backup", &st, json!({})), counting_alert(&env)]);
    let config = |quiet: serde_json::Value| {
        env.config(jobs.clone(), json!({"tickSeconds": 1, "timezone": "UTC", "defaults": {"quietHours": quiet, "reportEverySeconds": 0}}))
    };
    config(json!({"start": hhmm(-60), "end": hhmm(60)}));
    let _d = env.serve();
    // Alerts ring in quiet hours.
    assert!(env.tg.wait_for(Duration::from_secs(20), |m| m.chat_id == ME && m.text.contains("n=") && !m.silent()).is_some(), "no alert in quiet hours");
    std::fs::write(&flag, "").unwrap();
    let held = || env.count("SELECT COUNT(*) FROM quiet_held WHERE job_id='backup' AND section LIKE '%\"completed\":true%'");
    assert!(eventually(Duration::from_secs(20), || held() >= 1), "the completion was not held");
    assert!(
        !env.tg.to_chat(ME).iter().any(|m| m.text.contains("backup")),
        "a held message reached the chat: {:?}",
        env.tg.to_chat(ME).iter().map(|m| &m.text).collect::<Vec<_>>()
    );
    // The quiet hours end: one digest per report chat names the completion.
    config(json!({"start": hhmm(-120), "end": hhmm(-60)}));
    let digest = env.tg.wait_for(Duration::from_secs(20), |m| m.chat_id == ME && m.text.contains("Quiet hours are over"));
    let digest = digest.unwrap_or_else(|| panic!("no digest: {:?}", env.tg.to_chat(ME).iter().map(|m| &m.text).collect::<Vec<_>>()));
    assert!(digest.text.contains("• backup</b>\n- progress: 4/10 (40%) → 10/10 (100%)"), "{}", digest.text);
    assert!(digest.text.contains(" completed ✅"), "{}", digest.text);
    assert!(eventually(Duration::from_secs(5), || held() == 0));
    // A few more ticks (two more alerts): the digest does not repeat.
    let alerts = alert_numbers(&env, ME).len();
    assert!(eventually(Duration::from_secs(20), || alert_numbers(&env, ME).len() >= alerts + 2));
    assert_eq!(env.tg.to_chat(ME).iter().filter(|m| m.text.contains("Quiet hours are over")).count(), 1);
}

const T: Duration = Duration::from_secs(20);
/// A member of the allowed group who is not an approver.
const BOB: i64 = 333;

/// Writes the config with a quiet window around now (`quiet`) or one that just ended.
fn night(env: &Env, jobs: &serde_json::Value, quiet: bool, extra: serde_json::Value) {
    let window = if quiet { json!({"start": hhmm(-60), "end": hhmm(60)}) } else { json!({"start": hhmm(-120), "end": hhmm(-60)}) };
    let mut cfg = json!({"tickSeconds": 1, "timezone": "UTC", "defaults": {"quietHours": window, "reportEverySeconds": 0}});
    if let serde_json::Value::Object(m) = extra {
        for (k, v) in m {
            cfg[k] = v;
        }
    }
    env.config(jobs.clone(), cfg);
}

/// A long job whose status is an alert saying `message` while `flag` exists, else plain running.
fn alerting(env: &Env, id: &str, message: &str, flag: &std::path::Path) -> serde_json::Value {
    let st = env.script(
        &format!("{id}.sh"),
        &format!(
            "if [ -f {f} ]; then echo '{{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"{message}\"}}'; \
             else echo '{{\"running\":true,\"completed\":false}}'; fi\n",
            f = flag.display()
        ),
    );
    long_job(id, &st, json!({}))
}

/// A long job that completes once `flag` exists (the completion is held in quiet hours).
fn completing(env: &Env, flag: &std::path::Path) -> serde_json::Value {
    let st = env.script(
        "backup.sh",
        &format!(
            "if [ -f {f} ]; then echo '{{\"running\":false,\"completed\":true}}'; else echo '{{\"running\":true,\"completed\":false}}'; fi\n",
            f = flag.display()
        ),
    );
    long_job("backup", &st, json!({}))
}

fn digest_in(env: &Env, chat: i64, title: &str) -> support::fake_tg::Sent {
    env.tg
        .wait_for(T, |m| m.chat_id == chat && m.text.contains(title))
        .unwrap_or_else(|| panic!("no digest in {chat}: {:?}", env.tg.to_chat(chat).iter().map(|m| &m.text).collect::<Vec<_>>()))
}

/// The digest's line that mentions `what`.
fn line<'a>(text: &'a str, what: &str) -> &'a str {
    text.lines().find(|l| l.contains(what)).unwrap_or_else(|| panic!("no line with {what:?} in {text}"))
}

#[test]
fn the_digest_lists_the_alerts_that_rang_at_night_and_whether_each_is_still_open() {
    let env = Env::new();
    let (disk, net, cpu) = (env.path().join("disk"), env.path().join("net"), env.path().join("cpu"));
    for f in [&disk, &net, &cpu] {
        std::fs::write(f, "").unwrap();
    }
    let jobs = json!([alerting(&env, "disk", "disk full", &disk), alerting(&env, "net", "link down", &net), alerting(&env, "cpu", "cpu hot", &cpu)]);
    night(&env, &jobs, true, json!({}));
    let _d = env.serve();
    // Alerts ring in quiet hours.
    for what in ["disk full", "link down", "cpu hot"] {
        assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains(what) && !m.silent()).is_some(), "no alert {what}");
    }
    // By morning: the disk recovered, the net alert was acknowledged, the cpu alert is still on.
    std::fs::remove_file(&disk).unwrap();
    let alert = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("link down")).unwrap();
    env.tg.press(&alert, ME, &alert.button("Ack net").expect("Ack button"));
    let state = |job: &str, like: &str| env.count(&format!("SELECT COUNT(*) FROM job_state WHERE job_id='{job}' AND state LIKE '{like}'")) == 1;
    let acked = || env.count("SELECT COUNT(*) FROM job_decisions WHERE job_id='net' AND acked_key='alert:link down'") == 1;
    assert!(eventually(T, acked), "the ack was not stored");
    assert!(eventually(T, || state("disk", "%\"last_anomaly_key\":null%")), "the disk did not recover");
    night(&env, &jobs, false, json!({}));
    let digest = digest_in(&env, ME, "Quiet hours are over");
    assert!(line(&digest.text, "disk full").contains("over now"), "{}", digest.text);
    assert!(line(&digest.text, "link down").contains("acknowledged"), "{}", digest.text);
    assert!(line(&digest.text, "cpu hot").contains("still open"), "{}", digest.text);
    assert!(digest.text.contains("only alerts rang (3)"), "{}", digest.text);
    assert_eq!(env.count("SELECT COUNT(*) FROM quiet_held"), 0, "the digest took what it covers");
}

#[test]
fn the_digest_has_buttons_for_what_needs_a_decision_and_approvals_check_the_presser() {
    let env = Env::new();
    let dead = env.path().join("dead");
    let scan = env.script(
        "scan.sh",
        &format!(
            "if [ -f {f} ]; then echo '{{\"running\":false,\"completed\":false}}'; else echo '{{\"running\":true,\"completed\":false}}'; fi\n",
            f = dead.display()
        ),
    );
    env.script("w.sh", &format!("echo wrote >> {}\n", env.path().join("ran").display()));
    let jobs = json!([
        long_job("scan", &scan, json!({})),
        {"id": "w", "name": "Rotate", "kind": "one_shot_write", "risk": "write_local", "enabled": true,
         "commands": {"run": ["sh", env.path().join("w.sh")]}, "after": [{"jobId": "v", "when": "success"}]},
        {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["true"]}}
    ]);
    night(&env, &jobs, true, json!({}));
    let _d = env.serve();
    // Seen running (held: a status change), then gone without completing: a crash, which rings.
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM job_state WHERE job_id='scan' AND state LIKE '%\"Running\":{\"since\":1%'") == 1));
    std::fs::write(&dead, "").unwrap();
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("crashed") && !m.silent()).is_some(), "the crash rang");
    env.tg.message(GROUP, BOB, "/run w");
    assert!(env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.contains("Approval request #1")).is_some());
    night(&env, &jobs, false, json!({}));
    let digest = digest_in(&env, GROUP, "Quiet hours are over");
    assert!(line(&digest.text, "crashed").contains("still open"), "{}", digest.text);
    assert!(line(&digest.text, "#1").contains("w"), "{}", digest.text);
    for label in ["Start scan", "Logs scan", "Approve #1 w", "Reject #1 w"] {
        assert!(digest.button(label).is_some(), "no {label} button: {:?}", digest.body["reply_markup"]);
    }
    // Bob is in the group but no approver: refused, nothing runs; the approver's press runs it once.
    let q = env.tg.press(&digest, BOB, &digest.button("Approve #1").unwrap());
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("Refused"));
    assert_eq!(env.count("SELECT COUNT(*) FROM approvals WHERE state='pending'"), 1);
    let mine = digest_in(&env, ME, "Quiet hours are over");
    let q = env.tg.press(&mine, ME, &mine.button("Approve #1").unwrap());
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("Approved"));
    assert!(eventually(T, || std::fs::read_to_string(env.path().join("ran")).is_ok_and(|r| r.lines().count() == 1)), "the approved run did not happen");
    // Both digests lose the decided request's buttons and say how it ended; the rest stays.
    for (chat, d) in [(ME, &mine), (GROUP, &digest)] {
        let edited = env.tg.wait_for(T, |m| m.chat_id == chat && m.message_id == d.message_id && m.method == "editmessagetext");
        let edited = edited.unwrap_or_else(|| panic!("the digest in chat {chat} was not edited"));
        assert!(edited.text.contains("Quiet hours are over") && edited.text.contains("#1 w: ✅ Approved by"), "{}", edited.text);
        assert!(edited.button("Approve #1").is_none() && edited.button("Reject #1").is_none(), "{:?}", edited.body["reply_markup"]);
        assert!(edited.button("Start scan").is_some(), "the other buttons stay: {:?}", edited.body["reply_markup"]);
    }
    // The digest's buttons are bound to the run its alert was about: once scan runs again (a
    // new run), its Start acts on nothing and says why.
    std::fs::remove_file(&dead).unwrap();
    assert!(
        eventually(T, || env.count("SELECT COUNT(*) FROM job_state WHERE job_id='scan' AND state GLOB '*\"run\":{\"Running\"*'") == 1),
        "scan seen running again"
    );
    let q = env.tg.press(&mine, ME, &mine.button("Start scan").unwrap());
    let answer = env.tg.wait_answer(&q, T).expect("Start pressed from the digest is answered");
    assert!(answer.contains("restarted since"), "{answer}");
}

#[test]
fn a_digest_that_cannot_be_queued_keeps_what_it_covers_and_goes_out_later() {
    let env = Env::new();
    let flag = env.path().join("finished");
    let jobs = json!([completing(&env, &flag)]);
    night(&env, &jobs, true, json!({}));
    let _d = env.serve();
    std::fs::write(&flag, "").unwrap();
    let held = || env.count("SELECT COUNT(*) FROM quiet_held WHERE job_id='backup' AND section LIKE '%\"completed\":true%'");
    assert!(eventually(T, || held() >= 1), "the completion was not held");
    // The outbox refuses the digest (as a full disk would) while the quiet hours end.
    env.db()
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse_digest BEFORE INSERT ON outbox WHEN NEW.text LIKE '%Quiet hours are over%' BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    night(&env, &jobs, false, json!({}));
    assert!(eventually(T, || env.log().contains("could not deliver report")), "the digest was not tried: {}", env.log());
    assert!(held() >= 1, "the held completion was lost with the failed digest");
    env.db().unwrap().execute_batch("DROP TRIGGER refuse_digest;").unwrap();
    let digest = digest_in(&env, ME, "Quiet hours are over");
    assert!(line(&digest.text, "completed").contains("✅"), "{}", digest.text);
    assert!(eventually(T, || held() == 0));
    // Exactly one digest per chat, however many ticks tried.
    assert!(eventually(T, || env.tg.to_chat(GROUP).iter().any(|m| m.text.contains("Quiet hours are over"))));
    assert_eq!(env.tg.to_chat(ME).iter().filter(|m| m.text.contains("Quiet hours are over")).count(), 1);
}

#[test]
fn each_chat_gets_the_digest_in_its_own_language() {
    let env = Env::new();
    let flag = env.path().join("finished");
    let jobs = json!([completing(&env, &flag)]);
    night(&env, &jobs, true, json!({"locale": "en"}));
    let _d = env.serve();
    env.tg.message(ME, ME, "/lang zh-CN");
    assert!(eventually(T, || env.count(&format!("SELECT COUNT(*) FROM chat_prefs WHERE chat_id={ME} AND locale='zh-CN'")) == 1), "/lang not stored");
    std::fs::write(&flag, "").unwrap();
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM quiet_held WHERE section LIKE '%\"completed\":true%'") >= 1));
    night(&env, &jobs, false, json!({"locale": "en"}));
    let zh = digest_in(&env, ME, "静默时段已结束");
    assert!(zh.text.contains("已完成") && !zh.text.contains("Quiet hours are over"), "{}", zh.text);
    let en = digest_in(&env, GROUP, "Quiet hours are over");
    assert!(en.text.contains("completed ✅"), "{}", en.text);
}

#[test]
fn a_night_in_which_nothing_was_held_still_gets_a_digest_of_the_progress() {
    let env = Env::new();
    let n = env.path().join("n");
    let st = env.script(
        "copy.sh",
        &format!("k=$(( $(cat {n} 2>/dev/null || echo 0) + 1 ))\necho $k > {n}\necho '{{\"running\":true,\"completed\":false,\"progress\":{{\"done\":'$k',\"total\":1000}}}}'\n", n = n.display()),
    );
    let jobs = json!([long_job("copy", &st, json!({}))]);
    let polls = || std::fs::read_to_string(&n).ok().and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(0);
    // Running before the quiet hours (its first report is sent), then a night of silent progress.
    env.config(jobs.clone(), json!({"tickSeconds": 1, "timezone": "UTC", "defaults": {"quietHours": null, "reportEverySeconds": 0}}));
    let _d = env.serve();
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("copy")).is_some(), "no first report");
    night(&env, &jobs, true, json!({}));
    let start = polls();
    assert!(eventually(T, || polls() >= start + 3), "the job was not polled in the quiet hours");
    assert_eq!(env.count("SELECT COUNT(*) FROM quiet_held WHERE job_id='copy'"), 0, "nothing was held");
    night(&env, &jobs, false, json!({}));
    let digest = digest_in(&env, ME, "Quiet hours are over");
    let progress = line(&digest.text, "progress:");
    assert!(progress.contains("/1000") && progress.contains(" → "), "{}", digest.text);
}

#[test]
fn the_digest_tells_the_progress_of_the_first_poll_of_the_night_even_when_the_window_is_removed_by_morning() {
    let env = Env::new();
    let p = env.path().join("p");
    let st = env.script(
        "scan.sh",
        &format!(
            "d=$(cat {p})\nif [ \"$d\" = 10 ]; then echo '{{\"running\":false,\"completed\":true,\"progress\":{{\"done\":10,\"total\":10}}}}'; \
             else echo '{{\"running\":true,\"completed\":false,\"progress\":{{\"done\":'$d',\"total\":10}}}}'; fi\n",
            p = p.display()
        ),
    );
    // The job's own quiet hours (none by default): no night mark, only the job's window.
    let config = |quiet: serde_json::Value| {
        let jobs = json!([long_job("scan", &st, json!({"policy": {"quietHours": quiet}}))]);
        env.config(jobs, json!({"tickSeconds": 1, "timezone": "UTC", "defaults": {"reportEverySeconds": 0}}));
    };
    let polled = |done: u32| env.count(&format!("SELECT COUNT(*) FROM progress_samples WHERE job_id='scan' AND done={done}"));
    std::fs::write(&p, "1").unwrap();
    config(serde_json::Value::Null);
    let _d = env.serve();
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("1/10")).is_some(), "no first report");
    std::fs::write(&p, "3").unwrap();
    assert!(eventually(T, || polled(3) >= 1), "3/10 was not polled");
    // The night begins at 3/10; the scan moves on to 6/10 and completes in it.
    config(json!({"start": hhmm(-60), "end": hhmm(60)}));
    let before = polled(3);
    assert!(eventually(T, || polled(3) >= before + 4), "the scan was not polled in its quiet hours");
    std::fs::write(&p, "6").unwrap();
    assert!(eventually(T, || polled(6) >= 2), "6/10 was not polled");
    std::fs::write(&p, "10").unwrap();
    let held = || env.count("SELECT COUNT(*) FROM quiet_held WHERE job_id='scan' AND section LIKE '%\"completed\":true%'");
    assert!(eventually(T, || held() >= 1), "the completion was not held");
    // By morning the quiet hours are removed from the config altogether.
    config(serde_json::Value::Null);
    let digest = digest_in(&env, ME, "Quiet hours are over");
    assert_eq!(line(&digest.text, "progress:"), "- progress: 3/10 (30%) → 10/10 (100%)", "{}", digest.text);
    assert!(digest.text.contains("no alert rang;"), "the zero case reads naturally: {}", digest.text);
    assert!(!digest.text.contains("(0)"), "{}", digest.text);
}
