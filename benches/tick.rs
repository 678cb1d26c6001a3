//! Tick cost as jobs grow, and a hung status among 50. Run: `cargo bench --bench tick`.
//! Each long_running_read job's status command sleeps 20 ms (as in BENCHMARKS.md); the figure is
//! the wall time and the CPU time (user+sys of ops-monitor and its children) of one
//! `ops-monitor tick --print-only`. Optional: `OPS_BENCH_PYTHON=/path/to/ops-monitor.py` also
//! times the Python tool on the same config (skipped when python3 or the script is absent).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn children_cpu() -> Duration {
    use nix::sys::resource::{getrusage, UsageWho};
    use nix::sys::time::TimeValLike;
    let u = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    Duration::from_micros((u.user_time().num_microseconds() + u.system_time().num_microseconds()) as u64)
}

fn write_config(dir: &Path, n: usize, hung: bool) {
    let status = dir.join("status.sh");
    std::fs::write(&status, "sleep 0.02; echo '{\"running\":true,\"completed\":false,\"progress\":{\"done\":1,\"total\":2}}'\n").unwrap();
    let hang = dir.join("hang.sh");
    std::fs::write(&hang, "sleep 600\n").unwrap();
    let jobs: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let (cmd, policy) = if hung && i == 0 { (&hang, serde_json::json!({"statusTimeoutSeconds": 5})) } else { (&status, serde_json::json!({})) };
            serde_json::json!({"id": format!("job{i}"), "kind": "long_running_read", "risk": "read_only", "enabled": true, "cwd": dir,
                "commands": {"start": ["true"], "status": ["sh", cmd]}, "policy": policy})
        })
        .collect();
    let cfg = serde_json::json!({"version": 1, "defaults": {"quietHours": {"start": "00:00", "end": "00:00"}}, "jobs": jobs});
    std::fs::write(dir.join("c.json"), cfg.to_string()).unwrap();
}

fn time(mut cmd: Command) -> (Duration, Duration) {
    let cpu0 = children_cpu();
    let t0 = Instant::now();
    let out = cmd.output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (t0.elapsed(), children_cpu() - cpu0)
}

fn ours(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ops-monitor"));
    c.arg("--config-file").arg(dir.join("c.json")).arg("--state-file").arg(dir.join("s.db")).args(["tick", "--print-only"]);
    c
}

/// The same `n` status commands with no monitor at all, 64 at a time: the least a tick can cost.
fn spawn_floor(dir: &Path, n: usize) -> Duration {
    let script = format!("seq {n} | xargs -P 64 -n 1 sh {} >/dev/null", dir.join("status.sh").display());
    let mut c = Command::new("sh");
    c.args(["-c", &script]);
    time(c).0
}

fn python(dir: &Path) -> Option<Command> {
    let script = std::env::var("OPS_BENCH_PYTHON").ok().filter(|p| Path::new(p).is_file())?;
    Command::new("python3").arg("--version").output().ok()?;
    let mut c = Command::new("python3");
    c.arg(script).args(["tick", "--print-only", "--config-file"]).arg(dir.join("c.json")).arg("--state-file").arg(dir.join("s.json"));
    Some(c)
}

fn main() {
    // `cargo test --all-targets` runs this binary without `--bench`: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let mut floor = None;
    println!("| N jobs | ops-monitor wall | ops-monitor CPU | ops-monitor.py wall |");
    println!("|---|---|---|---|");
    for n in [10, 50, 200, 1000] {
        let dir = tempfile::tempdir().unwrap();
        write_config(dir.path(), n, false);
        let _ = time(ours(dir.path())); // first tick creates the database
        let (wall, cpu) = time(ours(dir.path()));
        let py = python(dir.path()).map(|c| format!("{:.2} s", time(c).0.as_secs_f64())).unwrap_or_else(|| "skipped".into());
        println!("| {n} | {:.3} s | {:.3} s | {py} |", wall.as_secs_f64(), cpu.as_secs_f64());
        if n == 200 {
            floor = Some((wall, spawn_floor(dir.path(), n)));
        }
    }
    if let Some((tick, floor)) = floor {
        println!(
            "\nspawn floor: {n} status commands, 64 at a time (seq | xargs -P 64): {:.3} s; tick N=200 {:.3} s = {:.2}x the floor (target <= 1.3x)",
            floor.as_secs_f64(),
            tick.as_secs_f64(),
            tick.as_secs_f64() / floor.as_secs_f64(),
            n = 200
        );
    }
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), 50, true);
    let (wall, _) = time(ours(dir.path()));
    println!("\nhung status (sleeps 600 s, statusTimeoutSeconds 5) among 50: tick wall {:.2} s (target ≤ 6 s)", wall.as_secs_f64());
    if let Some(mut c) = python(dir.path()) {
        // The Python tool has a fixed 30 s status timeout and does not catch its expiry.
        let t0 = Instant::now();
        let out = c.output().expect("run python");
        let first = String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("").to_string();
        println!("ops-monitor.py, same config: {:.2} s, {} ({first})", t0.elapsed().as_secs_f64(), out.status);
    }
}
