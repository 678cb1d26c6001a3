//! A kill -9 at the worst moment of an approved write's chain: the verification ran and was
//! recorded, its report not yet queued. After the restart the person still gets the report.

use crate::support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::*;

/// Write job `w` verified by `v` (no delay), as in the soak.
fn chain_config(env: &Env) {
    env.script("w.sh", "echo wrote\n");
    env.script("v.sh", "echo verified-ok\n");
    let jobs = json!([
        {"id": "w", "name": "Rotate", "kind": "one_shot_write", "risk": "write_local", "enabled": true,
         "commands": {"run": ["sh", env.path().join("w.sh")]},
         "after": [{"jobId": "v", "when": "success", "delaySeconds": 0}]},
        {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", env.path().join("v.sh")]}},
    ]);
    env.config(jobs, json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME]}}));
}

/// Asks for `w` and presses Approve; returns the request number.
fn approve_w(env: &Env) -> i64 {
    env.tg.message(ME, ME, "/run w");
    let find = || env.tg.to_chat(ME).into_iter().find(|m| m.text.contains("Approval request #"));
    assert!(eventually(Duration::from_secs(10), || find().is_some()), "no request: {}", env.log());
    let req = find().unwrap();
    let k: i64 = req.text.split("Approval request #").nth(1).unwrap().split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap();
    env.tg.press(&req, ME, &req.button("Approve").expect("Approve button"));
    k
}

fn verified(env: &Env, k: i64) -> bool {
    env.tg.to_chat(ME).iter().any(|m| m.text.contains(&format!("verification of write request #{k}:")))
}

#[test]
fn a_kill_after_the_verification_ran_but_before_its_report_was_queued_still_reports_it() {
    let env = Env::new();
    chain_config(&env);
    let mut d = env.serve();
    let k = approve_w(&env);
    // The moment the verification's queue item is recorded done, its report exists only in the
    // daemon (gathered with others for under a second): kill it there.
    let deadline = Instant::now() + Duration::from_secs(20);
    while env.count("SELECT COUNT(*) FROM queue WHERE job_id='v' AND status='done'") < 1 {
        assert!(Instant::now() < deadline, "the verification never ran: {}", env.log());
        std::thread::sleep(Duration::from_millis(2));
    }
    d.kill().unwrap();
    d.wait().unwrap();
    assert!(!verified(&env, k), "reported before the kill: the kill missed the window this test is about");
    let _d = env.serve();
    assert!(eventually(Duration::from_secs(15), || verified(&env, k)), "the verification of #{k} was lost with the kill: {:?}", env.tg.to_chat(ME));
    let copies = env.tg.to_chat(ME).iter().filter(|m| m.text.contains(&format!("verification of write request #{k}:"))).count();
    assert_eq!(copies, 1, "reported once");
}

#[test]
fn a_kill_after_the_write_succeeded_runs_and_reports_its_verification_after_the_restart() {
    let env = Env::new();
    // A verification that waits for a file the test creates: the kill lands while it is queued.
    let gate = env.path().join("gate");
    chain_config(&env);
    env.script("v.sh", &format!("while [ ! -e {} ]; do sleep 0.05; done\necho verified-ok\n", gate.display()));
    let mut d = env.serve();
    let k = approve_w(&env);
    assert!(eventually(Duration::from_secs(20), || env.count(&format!("SELECT COUNT(*) FROM approvals WHERE id={k} AND state='succeeded'")) == 1));
    d.kill().unwrap();
    d.wait().unwrap();
    std::fs::write(&gate, "").unwrap();
    let mark = env.tg.sent().len();
    let restarted = Instant::now();
    let _d = env.serve();
    env.tg.message(ME, ME, "/help");
    // When the daemon had the reply queued and the verification run (what it controls), then when
    // Telegram got them (a private chat gets one message a second, and the previous process had
    // just sent one; the "back" notice goes first).
    let (mut replied, mut ran) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(15);
    while (replied.is_none() || ran.is_none()) && Instant::now() < deadline {
        if replied.is_none() && env.count("SELECT COUNT(*) FROM outbox WHERE text LIKE 'Commands of%'") > 0 {
            replied = Some(restarted.elapsed());
        }
        if ran.is_none() && env.count("SELECT COUNT(*) FROM queue WHERE job_id='v' AND status='done'") > 0 {
            ran = Some(restarted.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let (replied, ran) = (replied.expect("/help never answered"), ran.expect("the verification never ran"));
    assert!(eventually(Duration::from_secs(15), || verified(&env, k)), "the verification of #{k} never came: {}", env.log());
    let delivered = |needle: &str| env.tg.sent()[mark..].iter().find(|m| m.text.contains(needle)).map(|m| m.at.duration_since(restarted));
    let verification = format!("verification of write request #{k}:");
    assert!(eventually(Duration::from_secs(15), || delivered("/status").is_some()), "/help unanswered");
    println!(
        "restart after kill -9: /help answered (queued) in {replied:?}, delivered in {:?}; the queued verification ran in {ran:?}, reported in {:?}",
        delivered("/status").unwrap(),
        delivered(&verification).unwrap()
    );
    // The bounds only catch a start-up that waits for something again (the soak's 20 s
    // cycles), not a slow machine; BENCHMARKS.md has the figures.
    assert!(replied < Duration::from_secs(3), "the bot answered {replied:?} after the restart");
    assert!(ran < Duration::from_secs(4), "the queued verification ran {ran:?} after the restart");
}
