//! Push vs poll: the same N long jobs (default 1000, `OPS_BENCH_JOBS`) watched by `serve`
//! (tickSeconds 10, no Telegram: console sink), each job reporting new progress every 10 s
//! (staggered: N/10 reports a second), for a window of `OPS_BENCH_SECONDS` (default 60) after a
//! warm-up. Run: `cargo bench --bench push` (about 4 minutes at the defaults).
//!
//! - poll: each job's `commands.status` is `sh status.sh`, which counts its call (one line
//!   appended to a shared file) and prints the job's `progress.json`, which the bench rewrites
//!   (temp + rename) as the job's report.
//! - push: the same jobs and the same status command, but the bench writes each report to the
//!   job's `$OPS_STATUS_FILE` (jobs/<id>/status.json, temp + rename: what `ops-monitor report`
//!   does, without the cost of spawning it, which is the job's and not serve's), with the
//!   bench's own pid (alive) as the job's pid.
//!
//! Measured: status commands spawned per minute (the count file), serve's CPU (utime+stime of
//! its own process, and of its reaped children, /proc/<pid>/stat), its resident memory (VmRSS
//! at the end, VmHWM peak), and report-to-stored latency: for job 0 each report carries a new
//! `done`, and the time until serve's store holds it (`progress_samples`, what the live message
//! and the stall rule are computed from; `/status` and CLI `status` read the file itself, so they
//! show a report as soon as it is written).

use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// (utime+stime, cutime+cstime clock ticks, VmRSS kB, VmHWM kB) of a process.
fn proc_sample(pid: u32) -> (u64, u64, u64, u64) {
    let Ok(p) = procfs::process::Process::new(pid as i32) else { return (0, 0, 0, 0) };
    let (own, children) = p.stat().map_or((0, 0), |s| (s.utime + s.stime, (s.cutime + s.cstime).max(0) as u64));
    let (rss, hwm) = p.status().map_or((0, 0), |s| (s.vmrss.unwrap_or(0), s.vmhwm.unwrap_or(0)));
    (own, children, rss, hwm)
}

fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

struct Run {
    spawns_per_min: f64,
    cpu_pct: f64,
    children_cpu_pct: f64,
    rss_kb: u64,
    hwm_kb: u64,
    latency_ms: Vec<u128>,
}

fn report_file(dir: &Path, id: usize, push: bool) -> PathBuf {
    dir.join("jobs").join(format!("j{id}")).join(if push { "status.json" } else { "progress.json" })
}

fn report(dir: &Path, id: usize, push: bool, done: u64) {
    let s = json!({"running": true, "completed": false, "pid": std::process::id(), "progress": {"done": done, "total": 1_000_000, "unit": "files"}});
    write_atomic(&report_file(dir, id, push), &s.to_string());
}

fn stored_done(db: &rusqlite::Connection) -> f64 {
    db.query_row("SELECT COALESCE(MAX(done), -1) FROM progress_samples WHERE job_id='j0'", [], |r| r.get(0)).unwrap_or(-1.0)
}

fn run(n: usize, push: bool, window: Duration) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spawns = dir.join("spawns");
    let status = dir.join("status.sh");
    std::fs::write(&status, format!("echo >> {}\ncat \"$OPS_STATE_DIR/progress.json\"\n", spawns.display())).unwrap();
    let jobs: Vec<_> = (0..n)
        .map(|i| {
            json!({"id": format!("j{i}"), "kind": "long_running_read", "risk": "read_only", "enabled": true,
            "commands": {"start": ["true"], "status": ["sh", status]}, "policy": {"reportEverySeconds": 0}})
        })
        .collect();
    let cfg = json!({"version": 1, "tickSeconds": 10, "jobs": jobs, "defaults": {"quietHours": null}});
    std::fs::write(dir.join("c.json"), cfg.to_string()).unwrap();
    for i in 0..n {
        std::fs::create_dir_all(dir.join("jobs").join(format!("j{i}"))).unwrap();
        report(dir, i, push, 1);
        report(dir, i, false, 1);
    }
    let mut serve = spawn_serve(dir);
    let db_path = dir.join("s.db");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !db_path.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let db = rusqlite::Connection::open(&db_path).unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    // Warm-up: every job's first tick has passed.
    std::thread::sleep(Duration::from_secs(15));
    let count = || std::fs::read_to_string(&spawns).map_or(0, |s| s.len());
    let (c0, k0, t0) = (count(), proc_sample(serve.id()), Instant::now());
    let mut latency_ms = Vec::new();
    let per_report = Duration::from_secs(10).div_f64(n as f64);
    let (mut next, mut k, mut done) = (Instant::now(), 0usize, 1u64);
    let mut pending: Option<(u64, Instant)> = None;
    while t0.elapsed() < window {
        let id = k % n;
        if id == 0 {
            done += 1;
        }
        report(dir, id, push, done);
        if id == 0 {
            pending = Some((done, Instant::now()));
        }
        if let Some((d, at)) = pending {
            if stored_done(&db) >= d as f64 {
                latency_ms.push(at.elapsed().as_millis());
                pending = None;
            }
        }
        k += 1;
        next += per_report;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let (c1, k1, secs) = (count(), proc_sample(serve.id()), t0.elapsed().as_secs_f64());
    let _ = serve.kill();
    let _ = serve.wait();
    let hz = procfs::ticks_per_second() as f64;
    Run {
        spawns_per_min: (c1 - c0) as f64 * 60.0 / secs,
        cpu_pct: (k1.0 - k0.0) as f64 / hz / secs * 100.0,
        children_cpu_pct: (k1.1 - k0.1) as f64 / hz / secs * 100.0,
        rss_kb: k1.2,
        hwm_kb: k1.3,
        latency_ms,
    }
}

fn spawn_serve(dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ops-monitor"))
        .arg("--config-file")
        .arg(dir.join("c.json"))
        .arg("--state-file")
        .arg(dir.join("s.db"))
        .arg("serve")
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env("OPENCLAW_HOME", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn median_max(v: &mut [u128]) -> String {
    if v.is_empty() {
        return "none observed".into();
    }
    v.sort();
    format!("median {} ms, max {} ms ({} reports)", v[v.len() / 2], v[v.len() - 1], v.len())
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n = env_num("OPS_BENCH_JOBS", 1000) as usize;
    let window = Duration::from_secs(env_num("OPS_BENCH_SECONDS", 60));
    println!("{n} jobs, tickSeconds 10, each reporting every 10 s; {} s window\n", window.as_secs());
    println!("| figure | push (`$OPS_STATUS_FILE`) | poll (`commands.status`) |\n|---|---|---|");
    let (mut p, mut q) = (run(n, true, window), run(n, false, window));
    println!("| status commands spawned per minute | {:.0} | {:.0} |", p.spawns_per_min, q.spawns_per_min);
    println!("| serve CPU, own process (% of one core) | {:.1} % | {:.1} % |", p.cpu_pct, q.cpu_pct);
    println!("| serve CPU, its status commands (% of one core) | {:.1} % | {:.1} % |", p.children_cpu_pct, q.children_cpu_pct);
    println!(
        "| serve RSS at the end (peak VmHWM) | {:.1} MB ({:.1} MB) | {:.1} MB ({:.1} MB) |",
        p.rss_kb as f64 / 1024.0,
        p.hwm_kb as f64 / 1024.0,
        q.rss_kb as f64 / 1024.0,
        q.hwm_kb as f64 / 1024.0
    );
    println!("| report → stored state (job 0) | {} | {} |", median_max(&mut p.latency_ms), median_max(&mut q.latency_ms));
}
