//! Cron schedules (`policy.cron`): a check runs on its marks, a write job asks on its marks and
//! never runs by itself (one request, refreshed), a mark missed while the daemon was stopped
//! runs once at start and says so, the next run shows in the status views, and a bad
//! expression is named by its path.

use crate::config_support::{cfg, issues, show};
use crate::support::*;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const T: Duration = Duration::from_secs(30);

fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// A read_only check that appends the time it ran (Unix seconds with fractions) to `<id>.runs`.
fn check(env: &Env, id: &str, policy: Value) -> Value {
    let log = env.path().join(format!("{id}.runs"));
    let script = env.script(&format!("{id}.sh"), &format!("date +%s.%N >> {}\n", log.display()));
    json!({"id": id, "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", script]}, "policy": policy})
}

/// The verification a write job needs.
fn verify() -> Value {
    json!({"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["true"]}})
}

fn runs(env: &Env, id: &str) -> Vec<f64> {
    std::fs::read_to_string(env.path().join(format!("{id}.runs"))).unwrap_or_default().lines().filter_map(|l| l.trim().parse().ok()).collect()
}

#[test]
fn a_seconds_level_cron_check_runs_on_its_marks() {
    let env = Env::new();
    env.config(json!([check(&env, "tick4", json!({"cron": "*/4 * * * * *"}))]), json!({}));
    let d = env.serve();
    assert!(eventually(T, || runs(&env, "tick4").len() >= 3), "it ran on three marks: {:?}", runs(&env, "tick4"));
    stop(d);
    let at = runs(&env, "tick4");
    // Each run starts just after a second divisible by 4 (the command's own start-up aside),
    // one run per mark.
    for t in &at {
        assert!(t.rem_euclid(4.0) < 2.0, "a run at {t} is not on a */4 mark: {at:?}");
    }
    let marks: std::collections::BTreeSet<i64> = at.iter().map(|t| (t / 4.0).floor() as i64).collect();
    assert_eq!(marks.len(), at.len(), "one run per mark: {at:?}");
}

#[test]
fn a_scheduled_write_job_asks_and_never_runs() {
    let env = Env::new();
    let ran = env.path().join("ran");
    let w = env.script("w.sh", &format!("echo run >> {}\n", ran.display()));
    let write = |id: &str, approval: Value| {
        json!({"id": id, "kind": "one_shot_write", "risk": "write_local", "enabled": true, "commands": {"run": ["sh", &w]},
               "approval": approval, "policy": {"cron": "*/2 * * * * *"}, "after": [{"jobId": "v", "when": "success"}]})
    };
    env.config(
        json!([write("rotate", json!({"expiresSeconds": 3600})), write("free", json!({"required": false, "expiresSeconds": 3600})), verify()]),
        json!({}),
    );
    let d = env.serve();
    let req = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #") && m.text.contains("rotate")).expect("rotate asks");
    assert!(req.text.contains("schedule */2 * * * * *"), "the request names the schedule that asked: {}", req.text);
    assert!(req.button("Approve").is_some(), "with its buttons");
    // Several more marks pass: each refreshes the open request instead of adding one.
    let refreshed = |job: &str| env.count(&format!("SELECT COUNT(*) FROM audit WHERE job_id='{job}' AND event='refreshed'"));
    assert!(eventually(T, || refreshed("rotate") >= 2 && refreshed("free") >= 2), "later marks refresh the request");
    let requests = |job: &str| env.count(&format!("SELECT COUNT(*) FROM approvals WHERE job_id='{job}'"));
    assert_eq!((requests("rotate"), requests("free")), (1, 1), "one request per job, not one per mark");
    let asked = env.tg.sent().iter().filter(|m| m.chat_id == ME && m.text.contains("Approval request #") && m.text.contains("(rotate)")).count();
    assert_eq!(asked, 1, "the approver is asked once");
    assert!(!ran.exists(), "a schedule never runs a write job, not even one that needs no approval");
    // The request is a real one: the approver's button runs it, once.
    let q = env.tg.press(&req, ME, &req.button("Approve").unwrap());
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("Approved"));
    assert!(eventually(T, || ran.exists()), "approved, it ran");
    stop(d);
    assert_eq!(std::fs::read_to_string(&ran).unwrap().lines().count(), 1, "only the approved run");
}

#[test]
fn a_mark_missed_while_stopped_runs_once_at_start_and_says_it_is_late() {
    let env = Env::new();
    env.config(
        json!([check(&env, "late", json!({"cron": "*/2 * * * * *"})), check(&env, "skip", json!({"cron": "*/2 * * * * *", "catchUp": false}))]),
        json!({}),
    );
    let d = env.serve();
    assert!(eventually(T, || !runs(&env, "late").is_empty() && !runs(&env, "skip").is_empty()), "both ran on a mark");
    stop(d);
    let stopped = now_secs();
    let before = (runs(&env, "late").len(), runs(&env, "skip").len());
    // Marks pass while nothing watches (the clock, not another process, is waited for).
    assert!(eventually(T, || now_secs() > stopped + 5.0));
    let d = env.serve();
    let late = env.tg.wait_for(T, |m| m.text.contains("while stopped")).expect("the late run is reported");
    assert!(late.text.contains("(late,") && late.text.contains("missed") && late.text.contains("ran at") && late.text.contains("UTC"), "{}", late.text);
    assert!(!late.text.contains("(skip,"), "catchUp false: no late run: {}", late.text);
    // Later marks run on time again, and none of them is late.
    assert!(eventually(T, || runs(&env, "late").len() >= before.0 + 3 && runs(&env, "skip").len() > before.1), "the schedule goes on");
    stop(d);
    let said: Vec<_> = env.tg.to_chat(ME).into_iter().filter(|m| m.text.contains("while stopped")).map(|m| (m.method, m.text)).collect();
    assert_eq!(said.len(), 1, "several missed marks are one late run, said once: {said:#?}");
    let skip_late = env
        .tg
        .to_chat(ME)
        .iter()
        .flat_map(|m| m.text.split("\n\n").map(str::to_string).collect::<Vec<_>>())
        .any(|sec| sec.contains("(skip,") && sec.contains("while stopped"));
    assert!(!skip_late, "catchUp false: the missed mark is not run late");
}

#[test]
fn the_next_run_shows_in_status_json_and_the_chat() {
    let env = Env::new();
    let nightly = check(&env, "nightly", json!({"cron": "30 3 * * *", "timezone": "Asia/Kolkata"}));
    let rotate = json!({"id": "rotate", "kind": "one_shot_write", "risk": "write_local", "enabled": true,
                        "commands": {"run": ["true"]}, "policy": {"cron": "0 9 1 * *"}, "after": [{"jobId": "v", "when": "success"}]});
    env.config(json!([nightly, rotate, verify()]), json!({"timezone": "Europe/Berlin"}));
    let o = env.cli().arg("status").output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && text.contains("next ") && text.contains("03:30 IST"), "{text}");
    assert!(text.contains("09:00 CE"), "a job without a zone of its own is in the config's: {text}");
    let o = env.cli().args(["status", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let job = &v["jobs"][0];
    let at = job["nextRunAt"].as_i64().expect("nextRunAt");
    let ahead = at as f64 - now_secs();
    assert!(ahead > 0.0 && ahead <= 86400.0, "within a day: {job}");
    assert_eq!((at + 5 * 3600 + 1800).rem_euclid(86400), 3 * 3600 + 1800, "03:30 in Kolkata (UTC+5:30): {job}");
    assert!(job["nextRun"].as_str().unwrap().contains("03:30 IST"), "{job}");
    assert_eq!(job["cron"], "30 3 * * *");
    let d = env.serve();
    env.tg.message(ME, ME, "/status");
    let st = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("nightly") && m.text.contains("next")).expect("/status");
    assert!(st.text.contains("next ") && st.text.contains("03:30 IST"), "{}", st.text);
    stop(d);
}

#[test]
fn invalid_schedules_are_named_by_their_path_all_at_once() {
    let run = json!({"run": ["true"]});
    let is = issues(&cfg(json!([
        {"id": "a", "kind": "one_shot_read", "risk": "read_only", "commands": run, "policy": {"cron": "61 * * * *"}},
        {"id": "b", "kind": "one_shot_read", "risk": "read_only", "commands": run, "policy": {"cron": "30 3 * * *", "timezone": "Mars/Olympus"}},
        {"id": "c", "kind": "long_running_read", "risk": "read_only", "commands": {"start": ["true"], "status": ["true"]}, "policy": {"cron": "* * * * *"}},
        {"id": "d", "kind": "one_shot_read", "risk": "read_only", "commands": run, "policy": {"cron": "* * * * *", "runEverySeconds": 60}},
        {"id": "e", "kind": "one_shot_read", "risk": "read_only", "commands": run, "policy": {"cron": "0 0 0 * * * 2030", "catchUp": "no"}},
    ])));
    let at = |path: &str, word: &str| is.iter().any(|i| i.path == path && i.message.to_lowercase().contains(word));
    assert!(at("jobs[0].policy.cron", "invalid cron expression \"61 * * * *\""), "{}", show(&is));
    assert!(at("jobs[1].policy.timezone", "mars/olympus"), "{}", show(&is));
    assert!(at("jobs[2].policy.cron", "one_shot_read"), "{}", show(&is));
    assert!(at("jobs[3].policy.cron", "not both"), "{}", show(&is));
    assert!(at("jobs[4].policy.cron", "too many fields"), "{}", show(&is));
    assert!(at("jobs[4].policy.catchUp", "true or false"), "{}", show(&is));
    assert_eq!(is.len(), 6, "nothing else: {}", show(&is));
    // validate-config says the same with the path.
    let env = Env::new();
    env.config(json!([{"id": "a", "kind": "one_shot_read", "risk": "read_only", "commands": run, "policy": {"cron": "*/0 * * * *"}}]), json!({}));
    let o = env.cli().arg("validate-config").output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(!o.status.success() && said.contains("jobs[0].policy.cron") && said.contains("*/0 * * * *"), "{said}");
    assert!(issues(&json!({"version": 1, "defaults": {"cron": "* * * * *"}, "jobs": []})).iter().any(|i| i.path == "defaults.cron"));
}
