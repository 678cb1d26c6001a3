//! The command runner: process-group timeout, bounded capture, scrubbed environment, bad commands.

use ops_framework::engine::runner::{self, Life, Spec, CAPTURE_BYTES};
use std::time::{Duration, Instant};

/// The kill grace of these tests: short, so a timeout test waits milliseconds, not seconds.
const GRACE: Duration = Duration::from_millis(200);

fn spec(argv: &[&str], timeout_ms: u64) -> Spec {
    Spec {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        cwd: std::env::temp_dir(),
        env: vec![],
        timeout: Duration::from_millis(timeout_ms),
        kill_grace: GRACE,
        reap: false,
    }
}

/// Pids whose command line contains `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) && !cmd.contains("sh -c") {
                out.push(format!("{}: {cmd}", e.file_name().to_string_lossy()));
            }
        }
    }
    out
}

async fn wait_gone(needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_with(needle).is_empty() {
        assert!(Instant::now() < deadline, "left behind: {:?}", processes_with(needle));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let marker = format!("sleep 100.{}", std::process::id());
    let t0 = Instant::now();
    let out = runner::run(&spec(&["sh", "-c", &format!("{marker} & {marker}")], 500)).await;
    assert_eq!(out.life, Life::TimedOut, "{out:?}");
    assert!(!out.success());
    assert!(out.summary().contains("timed out"));
    assert!(t0.elapsed() < Duration::from_secs(5), "took {:?}", t0.elapsed());
    wait_gone(&marker).await;
}

#[tokio::test]
async fn a_group_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let marker = format!("sleep 200.{}", std::process::id());
    let script = format!("trap '' TERM; {marker} & {marker}; {marker}");
    let t0 = Instant::now();
    let out = runner::run(&spec(&["sh", "-c", &script], 300)).await;
    let took = t0.elapsed();
    assert!(out.timed_out(), "{out:?}");
    assert!(took >= Duration::from_millis(300) + GRACE, "SIGKILL came before the grace ended: {took:?}");
    assert!(took < Duration::from_millis(300) + GRACE + Duration::from_millis(1500), "the grace is the spec's, not a fixed 3 s: {took:?}");
    wait_gone(&marker).await;
}

#[tokio::test]
async fn huge_output_is_captured_bounded() {
    let out = runner::run(&spec(&["sh", "-c", "head -c 104857600 /dev/zero | tr '\\0' x; echo END"], 60_000)).await;
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout_bytes, 104_857_600 + 4);
    assert!(out.stdout.len() <= CAPTURE_BYTES, "kept {}", out.stdout.len());
    assert!(out.stdout.ends_with("END\n"), "keeps the tail");
}

#[tokio::test]
async fn exit_code_stdout_stderr_and_duration_are_recorded() {
    let out = runner::run(&spec(&["sh", "-c", "echo out; echo err >&2; exit 3"], 10_000)).await;
    assert_eq!(out.life, Life::Exited(3));
    assert_eq!(out.exit_code(), Some(3));
    assert_eq!(out.stdout, "out\n");
    assert_eq!(out.stderr, "err\n");
    assert_eq!(out.summary(), "exit 3");
}

#[tokio::test]
async fn a_leader_killed_by_a_signal_is_signalled_not_an_unknown_exit() {
    let out = runner::run(&spec(&["sh", "-c", "kill -9 $$"], 10_000)).await;
    assert_eq!(out.life, Life::Signalled(9), "{out:?}");
    assert_eq!(out.exit_code(), None);
    assert!(!out.success());
    assert_eq!(out.summary(), "killed by signal 9");
}

#[tokio::test]
async fn stdin_is_closed() {
    let out = runner::run(&spec(&["sh", "-c", "cat; echo done"], 5_000)).await;
    assert!(out.success());
    assert_eq!(out.stdout, "done\n");
}

#[tokio::test]
async fn missing_and_non_executable_commands_give_a_reason() {
    let out = runner::run(&spec(&["/nonexistent/cmd"], 1_000)).await;
    assert!(out.spawn_error().unwrap().contains("/nonexistent/cmd"));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("script");
    std::fs::write(&f, "#!/bin/sh\necho hi\n").unwrap();
    let out = runner::run(&spec(&[f.to_str().unwrap()], 1_000)).await;
    assert!(out.spawn_error().unwrap().to_lowercase().contains("permission"), "{out:?}");
    assert!(out.summary().starts_with("could not start"));
    let mut s = spec(&["true"], 1_000);
    s.cwd = dir.path().join("missing");
    let out = runner::run(&s).await;
    assert!(out.spawn_error().unwrap().contains("working directory"), "{out:?}");
}

#[tokio::test]
async fn a_background_child_holding_the_pipe_does_not_block_the_run() {
    let marker = format!("sleep 300.{}", std::process::id());
    let t0 = Instant::now();
    let out = runner::run(&spec(&["sh", "-c", &format!("{marker} & echo started")], 10_000)).await;
    assert!(out.success());
    assert!(out.stdout.contains("started"));
    assert!(t0.elapsed() < Duration::from_secs(3));
    for p in processes_with(&marker) {
        let pid: i32 = p.split(':').next().unwrap().parse().unwrap();
        runner::signal_group(runner::pgid_of(pid).unwrap_or(pid), runner::Signal::KILL);
    }
}

#[tokio::test]
async fn a_group_that_obeys_sigterm_ends_the_timeout_at_once_even_with_orphaned_zombies() {
    // sh forks sleep; both die on SIGTERM, and the orphaned sleep may linger as a zombie where
    // PID 1 does not reap (containers). The grace period must not wait for zombies.
    let marker = format!("sleep 200.{}", std::process::id());
    // A long grace here: the test is that the run does not wait it out for zombies.
    let mut s = spec(&["sh", "-c", &format!("{marker}; true")], 500);
    s.kill_grace = Duration::from_secs(5);
    let t0 = Instant::now();
    let out = runner::run(&s).await;
    assert!(out.timed_out(), "{out:?}");
    assert!(t0.elapsed() < Duration::from_millis(500 + 1000), "took {:?} (grace {:?})", t0.elapsed(), s.kill_grace);
}

#[tokio::test]
async fn a_run_dropped_before_its_command_ended_ends_the_whole_group() {
    // The daemon shutting down, or a job's schedule restarted by a config change, drops a run
    // in flight: its command must not live on unwatched (and be started again next time).
    let marker = format!("sleep 301.{}", std::process::id());
    let s = spec(&["sh", "-c", &format!("{marker}; true")], 60_000);
    let mut run = Box::pin(runner::run(&s));
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_with(&marker).is_empty() {
        assert!(Instant::now() < deadline, "the command never started");
        tokio::select! {
            _ = &mut run => panic!("the command ended by itself"),
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
    }
    drop(run);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_with(&marker).is_empty() {
        assert!(Instant::now() < deadline, "left running: {:?}", processes_with(&marker));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
