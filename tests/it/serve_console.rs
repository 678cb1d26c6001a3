//! `ops-monitor serve` without a token: console reports, pid watch, lock, clean shutdown.

use crate::support;

use serde_json::json;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::wait_exit;

fn serve(dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ops-monitor"))
        .arg("--config-file")
        .arg(dir.join("c.json"))
        .arg("--state-file")
        .arg(dir.join("s.db"))
        .arg("serve")
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env("OPENCLAW_HOME", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Lines of the child's stdout, delivered through a channel so tests can wait with a deadline.
fn lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_line(rx: &mpsc::Receiver<String>, needle: &str, within: Duration) -> Option<Instant> {
    let deadline = Instant::now() + within;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(l) if l.contains(needle) => return Some(Instant::now()),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

#[test]
fn a_dead_job_is_noticed_within_a_second_not_a_tick_later_and_sigterm_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut job = Command::new("sleep").arg("1000").process_group(0).spawn().unwrap();
    let status = dir.path().join("status.sh");
    std::fs::write(
        &status,
        format!("if kill -0 {pid} 2>/dev/null; then echo '{{\"running\":true,\"completed\":false,\"pid\":{pid}}}'; else echo '{{\"running\":false,\"completed\":false,\"stopReason\":\"died\"}}'; fi\n", pid = job.id()),
    )
    .unwrap();
    let cfg = json!({"version": 1, "tickSeconds": 3600, "defaults": {"quietHours": null}, "jobs": [{"id": "long", "kind": "long_running_read", "risk": "read_only",
        "enabled": true, "commands": {"start": ["true"], "status": ["sh", status]}}]});
    std::fs::write(dir.path().join("c.json"), cfg.to_string()).unwrap();
    let mut child = serve(dir.path());
    let rx = lines(&mut child);
    assert!(wait_line(&rx, "status: running", Duration::from_secs(10)).is_some(), "first tick reports running");
    let second = serve(dir.path()).wait_with_output().unwrap();
    assert_eq!(second.status.code(), Some(3), "a second serve on the same state refuses (exit 3: lock held)");
    assert!(String::from_utf8_lossy(&second.stderr).contains("already running"));
    // The watcher has the pid before the report is printed.
    let killed = Instant::now();
    job.kill().unwrap();
    job.wait().unwrap();
    let seen = wait_line(&rx, "status: crashed", Duration::from_secs(10)).expect("death reported before the next tick (1 h)");
    assert!(seen - killed < Duration::from_secs(3), "took {:?}", seen - killed);
    let t0 = Instant::now();
    rustix::process::kill_process(rustix::process::Pid::from_raw(child.id() as i32).unwrap(), rustix::process::Signal::TERM).unwrap();
    let st = wait_exit(&mut child, Duration::from_secs(5)).expect("exits within 5 s of SIGTERM");
    assert!(st.success(), "{st:?}");
    assert!(t0.elapsed() < Duration::from_secs(5));
}
