//! A person's start (CLI `start`, chat `/start` and its button) never starts a second copy of a
//! job whose status says it is running: the two would race over one checkpoint.

use crate::support;

use serde_json::json;
use std::time::Duration;
use support::*;

/// Long job `scan` reporting running (pid 4242); its start command counts its runs in `starts`.
fn running_scan(env: &Env) -> serde_json::Value {
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"pid\":4242}'\n");
    let start = env.script("start.sh", &format!("echo x >> {}\n", env.path().join("starts").display()));
    long_job("scan", &st, json!({"commands": {"start": ["sh", start], "status": ["sh", st]}}))
}

fn starts(env: &Env) -> usize {
    std::fs::read_to_string(env.path().join("starts")).unwrap_or_default().lines().count()
}

#[test]
fn the_cli_does_not_start_a_running_job_again_unless_forced() {
    let env = Env::new();
    env.config(json!([running_scan(&env)]), json!({}));
    let o = env.cli().args(["start", "scan"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("scan is already running (pid 4242)"), "{err}");
    assert_eq!(starts(&env), 0, "the start command ran");
    let o = env.cli().args(["start", "scan", "--force"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(starts(&env), 1);
}

#[test]
fn the_chat_says_a_running_job_is_running_instead_of_starting_it_again() {
    let env = Env::new();
    env.config(json!([running_scan(&env)]), json!({}));
    let d = env.serve();
    env.tg.message(ME, ME, "/start scan");
    let m = env.tg.wait_for(Duration::from_secs(20), |m| m.chat_id == ME && m.text.contains("already running"));
    assert!(m.is_some_and(|m| m.text.contains("(pid 4242)")), "{:#?}", env.tg.to_chat(ME).iter().map(|m| &m.text).collect::<Vec<_>>());
    assert_eq!(starts(&env), 0, "the start command ran");
    stop(d);
}

#[test]
fn a_second_start_moments_after_the_first_is_not_a_second_copy() {
    let env = Env::new();
    let st = env.script("st.sh", "echo '{\"running\":false,\"completed\":false}'\n");
    let start = env.script("start.sh", &format!("echo x >> {}\n", env.path().join("starts").display()));
    env.config(json!([long_job("scan", &st, json!({"commands": {"start": ["sh", start], "status": ["sh", st]}}))]), json!({}));
    assert!(env.cli().args(["start", "scan"]).status().unwrap().success());
    // The job does not report running yet; a second tap from a chat or the host comes now.
    let o = env.cli().args(["start", "scan"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    // "0 s ago" on a quiet host; a loaded CI machine has taken a second or two between the starts.
    let err = String::from_utf8_lossy(&o.stderr);
    let ago = err.split("was started ").nth(1).and_then(|t| t.split(" s ago").next()).and_then(|n| n.parse::<u64>().ok());
    assert!(ago.is_some_and(|n| n <= 10), "{err}");
    assert_eq!(starts(&env), 1, "a second copy was started");
}
