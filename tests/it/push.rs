//! Pushed status (`$OPS_STATUS_FILE`, `ops-monitor report`), through the binary: a job that
//! reports is watched without spawning its status command, and falls back to it once the file
//! goes stale; a report reaches the stored state (tick woken by the file watcher, not the tick)
//! and /status within 2 s; a malformed file is an alert naming it; a job without a status
//! command is valid and its crash is seen from the pid it reported; `report` refuses to run
//! outside a job and refuses bad values (exit 2); CLI `status` reads the file too.

use crate::support;

use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::*;

const T: Duration = Duration::from_secs(30);
const OM: &str = env!("CARGO_BIN_EXE_ops-monitor");

/// `sh -c "sh <worker> &"`: the start command launches the worker and returns.
fn starter(worker: &std::path::Path) -> Value {
    json!(["sh", "-c", format!("nohup sh {} </dev/null >/dev/null 2>&1 &", worker.display())])
}

/// A status command that counts its calls in `<dir>/spawns` and says where its answer came from.
fn counting_status(env: &Env) -> PathBuf {
    let spawns = env.path().join("spawns");
    env.script("status.sh", &format!("echo x >> {}\necho '{{\"running\":false,\"completed\":false,\"message\":\"from the command\"}}'\n", spawns.display()))
}

fn spawns(env: &Env) -> usize {
    std::fs::read_to_string(env.path().join("spawns")).map_or(0, |s| s.lines().count())
}

/// The highest `done` the daemon stored for `job` (-1 before any).
fn stored_done(env: &Env, job: &str) -> f64 {
    env.db().and_then(|db| db.query_row("SELECT COALESCE(MAX(done), -1) FROM progress_samples WHERE job_id=?1", [job], |r| r.get(0))).unwrap_or(-1.0)
}

fn status_json(env: &Env) -> Value {
    let out = env.cli().args(["status", "--json"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn start(env: &Env, job: &str) {
    let out = env.cli().args(["start", job]).output().unwrap();
    assert!(out.status.success(), "start {job}: {out:?}");
}

#[test]
fn a_reporting_job_spawns_no_status_command_until_its_file_goes_stale() {
    let env = Env::new();
    let dir = env.path().display().to_string();
    // Reports every 0.3 s until `quiet` exists; then stays alive, silent, until `end`.
    let worker = env.script(
        "worker.sh",
        &format!(
            "i=0\nwhile [ ! -f {dir}/quiet ] && [ $i -lt 600 ]; do i=$((i+1)); {OM} report --done $i --total 1000 --unit files; sleep 0.3; done\n\
             n=0\nwhile [ ! -f {dir}/end ] && [ $n -lt 600 ]; do n=$((n+1)); sleep 0.2; done\n"
        ),
    );
    let job = long_job(
        "scan",
        &counting_status(&env),
        json!({"commands": {"start": starter(&worker), "status": ["sh", env.path().join("status.sh")]},
        "policy": {"statusFileMaxAgeSeconds": 2}}),
    );
    env.config(json!([job]), json!({"tickSeconds": 1}));
    let d = env.serve();
    start(&env, "scan");
    assert!(eventually(T, || stored_done(&env, "scan") >= 3.0), "reports never observed: {}", env.log());
    let (before, from) = (spawns(&env), stored_done(&env, "scan"));
    // A few one-second ticks while it reports: each reads the file, none spawns.
    assert!(eventually(T, || stored_done(&env, "scan") >= from + 10.0), "reports stopped being observed");
    assert_eq!(spawns(&env), before, "the status command ran while the job reported");
    let view = status_json(&env);
    assert!(view.to_string().contains("\"unit\":\"files\""), "CLI status reads the file: {view}");
    std::fs::write(env.path().join("quiet"), "").unwrap();
    assert!(eventually(T, || spawns(&env) > before), "no fallback to the status command after the file went stale");
    assert!(eventually(T, || status_json(&env).to_string().contains("from the command")), "status still from the stale file");
    std::fs::write(env.path().join("end"), "").unwrap();
    stop(d);
}

#[test]
fn a_report_reaches_the_stored_state_and_status_within_two_seconds() {
    let env = Env::new();
    let dir = env.path().display().to_string();
    // Reports step k once `go.k` exists (k = 1..3).
    let worker = env.script(
        "worker.sh",
        &format!(
            "k=1\nn=0\nwhile [ $k -le 3 ] && [ $n -lt 3000 ]; do n=$((n+1)); if [ -f {dir}/go.$k ]; then {OM} report --done $k --total 9 --unit files --message \"step $k\"; k=$((k+1)); fi; sleep 0.05; done\n\
             n=0\nwhile [ ! -f {dir}/end ] && [ $n -lt 600 ]; do n=$((n+1)); sleep 0.2; done\n"
        ),
    );
    let job = long_job("scan", &counting_status(&env), json!({"commands": {"start": starter(&worker), "status": ["sh", env.path().join("status.sh")]}}));
    // An hour between ticks: only the file watcher can make a report show this soon.
    env.config(json!([job]), json!({}));
    let d = env.serve();
    assert!(eventually(T, || spawns(&env) > 0), "serve never polled");
    start(&env, "scan");
    let file = env.path().join("jobs/scan/status.json");
    for k in 1..=3u32 {
        std::fs::write(env.path().join(format!("go.{k}")), "").unwrap();
        let written = format!("\"done\":{k},");
        assert!(eventually(T, || std::fs::read_to_string(&file).unwrap_or_default().contains(&written)), "the worker never reported {k}");
        let at = Instant::now();
        assert!(eventually(Duration::from_secs(2), || stored_done(&env, "scan") >= k as f64), "report {k} not observed within 2 s: {}", env.log());
        let stored = at.elapsed();
        if k == 2 {
            let mark = env.tg.sent().len();
            env.tg.message(ME, ME, "/status");
            let reply = env.tg.wait_for(Duration::from_secs(2), |m| m.chat_id == ME && m.text.contains("2/9 files"));
            assert!(reply.is_some(), "/status did not show the report within 2 s: {:#?}", &env.tg.sent()[mark..]);
            println!("report {k}: stored in {stored:?}, /status answered in {:?}", at.elapsed());
        }
    }
    std::fs::write(env.path().join("end"), "").unwrap();
    stop(d);
}

#[test]
fn a_malformed_file_is_an_alert_naming_it_and_a_crash_is_seen_from_the_pid() {
    let env = Env::new();
    let dir = env.path().display().to_string();
    let wait = |f: &str| format!("n=0\nwhile [ ! -f {dir}/{f} ] && [ $n -lt 1500 ]; do n=$((n+1)); sleep 0.05; done\n");
    let worker = env.script(
        "worker.sh",
        &format!(
            "{OM} report --done 1 --total 3 --unit files\n{}echo 'not json {{' > \"$OPS_STATUS_FILE\"\n{}{OM} report --done 2 --total 3 --unit files\n{}exit 0\n",
            wait("bad"),
            wait("good"),
            wait("die")
        ),
    );
    // No status command: watched through its file alone.
    let job = json!({"id": "sync", "kind": "long_running_read", "risk": "read_only", "enabled": true, "commands": {"start": starter(&worker)}});
    env.config(json!([job]), json!({}));
    let mut d = env.serve();
    start(&env, "sync");
    assert!(eventually(T, || stored_done(&env, "sync") >= 1.0), "first report not observed: {}", env.log());
    std::fs::write(env.path().join("bad"), "").unwrap();
    let file = env.path().join("jobs/sync/status.json").display().to_string();
    let alert = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("status unavailable") && m.text.contains(&file));
    let alert = alert.unwrap_or_else(|| panic!("no alert naming {file}: {:#?}", env.tg.sent()));
    assert!(alert.text.contains("not JSON"), "{}", alert.text);
    std::fs::write(env.path().join("good"), "").unwrap();
    assert!(eventually(T, || stored_done(&env, "sync") >= 2.0), "the daemon stopped observing after a malformed file: {}", env.log());
    assert!(d.try_wait().unwrap().is_none(), "serve ended");
    std::fs::write(env.path().join("die"), "").unwrap();
    let crash = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("crashed"));
    assert!(crash.is_some(), "the worker's death was not seen: {:#?}", env.tg.sent());
    stop(d);
}

#[test]
fn report_refuses_outside_a_job_and_bad_values_and_status_reads_the_file() {
    let env = Env::new();
    let job = json!({"id": "sync", "kind": "long_running_read", "risk": "read_only", "commands": {"start": ["true"]}});
    env.config(json!([job]), json!({}));
    let out = env.cli().arg("validate-config").output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("OPS_STATUS_FILE"), "a job without commands.status is valid, with a note: {text}");
    let report = |args: &[&str], file: Option<&std::path::Path>| {
        let mut c = std::process::Command::new(OM);
        c.arg("report").args(args).env_remove("OPS_STATUS_FILE");
        if let Some(f) = file {
            c.env("OPS_STATUS_FILE", f);
        }
        c.output().unwrap()
    };
    let outside = report(&["--done", "1", "--total", "2"], None);
    assert_eq!(outside.status.code(), Some(2), "{outside:?}");
    assert!(String::from_utf8_lossy(&outside.stderr).contains("OPS_STATUS_FILE is not set"), "{outside:?}");
    std::fs::create_dir_all(env.path().join("jobs/sync")).unwrap();
    let file = env.path().join("jobs/sync/status.json");
    for bad in [
        &["--done", "5", "--total", "3"][..],
        &["--done", "-1", "--total", "3"],
        &["--done", "x", "--total", "3"],
        &["--done", "1", "--total", "3", "--level", "loud"],
    ] {
        let out = report(bad, Some(&file));
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {out:?}");
        assert!(!file.exists(), "{bad:?} wrote the file");
    }
    let me = std::process::id().to_string();
    let ok = report(&["--done", "4", "--total", "8", "--unit", "files", "--message", "halfway", "--pid", &me], Some(&file));
    assert!(ok.status.success(), "{ok:?}");
    let view = status_json(&env);
    let job = &view["jobs"][0];
    assert_eq!(job["status"]["progress"], json!({"done": 4, "total": 8, "unit": "files"}), "{view}");
    assert_eq!((job["status"]["running"].as_bool(), job["status"]["message"].as_str()), (Some(true), Some("halfway")), "{view}");
}
