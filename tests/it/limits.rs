//! `serve` under an open-file limit far too low for its jobs: a job whose tick fails (its state
//! database cannot be opened) is reported, not only logged, so it is never unwatched in silence.

use crate::support;

use serde_json::json;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;

#[test]
fn a_job_whose_tick_fails_for_lack_of_open_files_is_reported_not_only_logged() {
    let env = Env::new();
    let st = env.script("st.sh", "sleep 0.05\necho '{\"running\":true,\"completed\":false}'\n");
    let jobs: Vec<_> = (0..100).map(|i| long_job(&format!("j{i}"), &st, json!({}))).collect();
    env.config(json!(jobs), json!({"tickSeconds": 1}));
    let (out, err) = (env.path().join("out.txt"), env.path().join("err.txt"));
    let serve = format!(
        "ulimit -n 40; exec {} --config-file {} --state-file {} serve",
        env!("CARGO_BIN_EXE_ops-monitor"),
        env.path().join("c.json").display(),
        env.path().join("s.db").display()
    );
    // No token: the reports go to stdout.
    let child = Command::new("bash")
        .args(["-c", &serve])
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env("OPENCLAW_HOME", env.path())
        .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err).unwrap()))
        .spawn()
        .unwrap();
    let d = Daemon(child);
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    // The first job whose tick failed, as the log names it: scope=Job("j17").
    let failed = || read(&err).lines().find(|l| l.contains("tick failed")).and_then(|l| l.split("scope=Job(\"").nth(1)?.split('"').next().map(str::to_string));
    assert!(eventually(Duration::from_secs(30), || failed().is_some()), "no tick failed under 40 open files:\n{}", read(&err));
    let job = failed().unwrap();
    let told = |text: &str| text.split("\n• ").any(|s| s.starts_with(&format!("{job} (")) && s.contains("not watched: its tick failed"));
    assert!(eventually(Duration::from_secs(20), || told(&read(&out))), "{job} failed its tick but was not reported:\n{}", read(&out));
    stop(d);
}

/// The variables `serve`'s process image started with.
fn environ(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/environ")).map(|b| b.split(|c| *c == 0).map(|v| String::from_utf8_lossy(v).into_owned()).collect()).unwrap_or_default()
}

#[test]
fn serve_runs_with_two_malloc_arenas_unless_told_otherwise() {
    let env = Env::new();
    let seen = env.path().join("job-env");
    let st = env.script("st.sh", &format!("env > {}\necho '{{\"running\":false,\"completed\":false}}'\n", seen.display()));
    env.config(json!([long_job("scan", &st, json!({}))]), json!({}));
    let d = env.serve();
    let pid = d.id();
    assert!(eventually(Duration::from_secs(10), || environ(pid).iter().any(|v| v == "MALLOC_ARENA_MAX=2")), "{:?}", environ(pid));
    // It runs on after executing itself again, and its jobs do not inherit its own limit.
    assert!(eventually(Duration::from_secs(20), || std::fs::read_to_string(&seen).is_ok_and(|e| e.contains("OPS_STATUS_FILE"))), "the status command ran");
    assert!(!std::fs::read_to_string(&seen).unwrap().contains("MALLOC_ARENA_MAX"), "a job inherited serve's arena limit");
    stop(d);
    // A value the user set is kept.
    let log = env.path().join("second.log");
    let mut c = env.cli();
    c.arg("serve").env("MALLOC_ARENA_MAX", "4").env("RUST_LOG", "info").stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap());
    let d = Daemon(c.spawn().unwrap());
    let pid = d.id();
    // Once it logs, it runs the image it will keep.
    assert!(eventually(Duration::from_secs(10), || std::fs::metadata(&log).is_ok_and(|m| m.len() > 0)), "serve logged nothing");
    assert!(environ(pid).iter().any(|v| v == "MALLOC_ARENA_MAX=4"), "{:?}", environ(pid));
    stop(d);
}
