//! The `ops-monitor` binary's basic contract: exit codes (0 ok, 1 failed run, 2 usage/config)
//! and one-line reasons, with config and state in a tempdir.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env { dir: tempfile::tempdir().unwrap() }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn write_config(&self, cfg: &Value) {
        std::fs::write(self.path("ops-jobs.json"), serde_json::to_string_pretty(cfg).unwrap()).unwrap();
    }
    fn jobs(&self, jobs: Value) {
        self.write_config(&json!({"version": 1, "jobs": jobs}));
    }
    /// Writes a shell script into the tempdir; returns its absolute path.
    fn script(&self, name: &str, body: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    }
    fn run_with(&self, config: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ops-monitor"))
            .arg("--config-file")
            .arg(config)
            .arg("--state-file")
            .arg(self.path("state/ops-monitor.db"))
            .args(args)
            .current_dir(self.dir.path())
            .env("OPENCLAW_HOME", self.dir.path())
            .env_remove("TELEGRAM_BOT_TOKEN")
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    }
    fn run(&self, args: &[&str]) -> Output {
        self.run_with(&self.path("ops-jobs.json"), args)
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn show(o: &Output) -> String {
    format!("exit {:?}\n--- stdout\n{}--- stderr\n{}", o.status.code(), stdout(o), stderr(o))
}

fn read_job(id: &str, run: &str) -> Value {
    json!({"id": id, "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", run]}})
}

#[test]
fn validate_config_lists_every_problem() {
    let e = Env::new();
    e.write_config(&json!({
        "version": 1,
        "tickSeconds": 0,
        "defaults": {"quietHours": {"start": "24:00", "end": "08:00"}},
        "jobs": [
            {"id": "a", "kind": "long_running_read", "risk": "read_only", "commands": {"start": ["sh", "s.sh"]}},
            {"id": "b", "kind": "teleport", "risk": "read_only", "commands": {"run": ["sh", "r.sh"]}},
            {"id": "c", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", "r.sh"]},
             "after": [{"jobId": "ghost"}]}
        ]
    }));
    let o = e.run(&["validate-config"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = stderr(&o);
    assert!(err.contains(&e.path("ops-jobs.json").display().to_string()), "names the file:\n{err}");
    for p in ["tickSeconds", "defaults.quietHours.start", "jobs[1].kind", "jobs[2].after[0].jobId"] {
        assert!(err.contains(&format!("{p}:")), "lists {p}:\n{err}");
    }
    assert!(err.contains("4 problems"), "{err}");
    assert!(!stdout(&o).contains("OK"), "{}", show(&o));
}

#[test]
fn validate_config_syntax_error_gives_line_and_column() {
    let e = Env::new();
    std::fs::write(e.path("ops-jobs.json"), "{\n  \"version\": 1,\n  \"jobs\": [,]\n}\n").unwrap();
    let o = e.run(&["validate-config"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(stderr(&o).contains("line 3, column 12"), "{}", show(&o));
}

#[test]
fn validate_config_missing_file_is_one_line() {
    let e = Env::new();
    let missing = e.path("nowhere/ops-jobs.json");
    let o = e.run_with(&missing, &["validate-config"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line of reason:\n{err}");
    assert!(lines[0].contains(&missing.display().to_string()), "names the file:\n{err}");
    assert!(lines[0].to_lowercase().contains("no such file") || lines[0].contains("cannot read"), "says why:\n{err}");
}

#[test]
fn validate_config_accepts_the_repo_example() {
    let e = Env::new();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("ops-jobs.example.json");
    let o = e.run_with(&example, &["validate-config"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(stdout(&o).starts_with("OK: "), "{}", show(&o));
    assert!(stdout(&o).contains("jobs=4"), "{}", show(&o));
}

#[test]
fn run_unknown_id_lists_the_known_ids() {
    let e = Env::new();
    let ok = e.script("ok.sh", "exit 0\n");
    e.jobs(json!([read_job("alpha", &ok), read_job("beta", &ok)]));
    let o = e.run(&["run", "gamma"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = stderr(&o);
    assert!(err.contains("gamma"), "{err}");
    assert!(err.contains("alpha") && err.contains("beta"), "lists the known ids:\n{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn start_of_a_risky_long_job_needs_allow_risk() {
    let e = Env::new();
    let marker = e.path("started");
    let start = e.script("start.sh", &format!("touch '{}'\n", marker.display()));
    let status = e.script("status.sh", "echo '{\"running\": false, \"completed\": false}'\n");
    e.jobs(json!([{"id": "sync", "kind": "long_running_read", "risk": "write_local",
                   "commands": {"start": ["sh", start], "status": ["sh", status]}}]));
    let o = e.run(&["start", "sync"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(stderr(&o).contains("--allow-risk"), "{}", show(&o));
    assert!(!marker.exists(), "the start command must not run");

    let o = e.run(&["start", "sync", "--allow-risk"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(marker.exists(), "with --allow-risk it runs");
}

#[test]
fn failed_run_exits_1_and_is_recorded() {
    let e = Env::new();
    let fail = e.script("fail.sh", "echo checking\nexit 3\n");
    e.jobs(json!([read_job("chk", &fail)]));
    let o = e.run(&["run", "chk"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one-line reason:\n{err}");
    assert!(lines[0].contains("chk") && lines[0].contains('3'), "names the job and the exit code:\n{err}");

    let o = e.run(&["status", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|err| panic!("{err}: {}", show(&o)));
    let job = v["jobs"].as_array().unwrap().iter().find(|j| j["id"] == "chk").expect("job chk in status");
    assert_eq!(job["lastRun"]["exitCode"], json!(3), "{job}");
    assert_eq!(job["lastRun"]["action"], json!("run"), "{job}");
    assert_eq!(v["refusedUpdates"]["count"], json!(0), "a count, not null, when nothing was refused: {v}");
}

#[test]
fn a_timed_out_run_that_ignores_sigterm_is_killed_after_the_jobs_kill_grace() {
    let e = Env::new();
    // The shell and its sleep ignore SIGTERM, so only the SIGKILL after the grace ends them.
    let stubborn = e.script("stubborn.sh", "trap '' TERM\nsleep 30 &\nwait\n");
    let job = json!({"id": "chk", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", stubborn]},
        "policy": {"timeoutSeconds": 1, "killGraceSeconds": 0}});
    e.jobs(json!([job]));
    let t0 = std::time::Instant::now();
    let o = e.run(&["run", "chk"]);
    let took = t0.elapsed();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(stderr(&o).contains("timed out"), "{}", show(&o));
    // Timeout 1 s + grace 0 s; the default grace (3 s) would take 4 s.
    assert!(took < std::time::Duration::from_millis(2800), "took {took:?}: the grace did not come from the policy");
}

fn stop_runs(e: &Env) -> Vec<String> {
    let store = ops_framework::store::Store::open(&e.path("state/ops-monitor.db")).unwrap();
    store.runs("j", 10).unwrap().into_iter().filter(|r| r.action == "stop").map(|r| r.summary.unwrap_or_default()).collect()
}

#[test]
fn stop_without_a_stop_command_sends_sigterm_to_the_whole_group_of_the_status_pid() {
    use std::os::unix::process::CommandExt;
    let e = Env::new();
    // A job of two processes in their own group; the status reports the leader's pid.
    let mut job = Command::new("sh").args(["-c", "sleep 100 & sleep 100; wait"]).process_group(0).spawn().unwrap();
    let pid = job.id();
    let status = e.script("status.sh", &format!("echo '{{\"running\":true,\"completed\":false,\"pid\":{pid}}}'\n"));
    e.jobs(json!([{"id": "j", "kind": "long_running_read", "risk": "read_only", "enabled": true,
        "commands": {"start": ["true"], "status": ["sh", status]}}]));
    let o = e.run(&["stop", "j"]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(stdout(&o).contains(&format!("SIGTERM sent to process group {pid}")), "{}", show(&o));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let group_alive = || rustix::process::test_kill_process_group(rustix::process::Pid::from_raw(pid as i32).unwrap()).is_ok();
    while job.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(job.try_wait().unwrap().is_some(), "the leader got SIGTERM");
    while group_alive() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!group_alive(), "the background child got it too");
    assert_eq!(stop_runs(&e).len(), 1, "recorded in the run history");
}

#[test]
fn stop_uses_the_stop_command_when_there_is_one_and_fails_with_its_reason() {
    let e = Env::new();
    let stop = e.script("stop.sh", "touch \"$(dirname \"$0\")/stopped\"; [ ! -f \"$(dirname \"$0\")/fail\" ]\n");
    let status = e.script("status.sh", "echo '{\"running\":true,\"completed\":false,\"pid\":1}'\n");
    e.jobs(json!([{"id": "j", "kind": "long_running_read", "risk": "read_only", "enabled": true,
        "commands": {"start": ["true"], "status": ["sh", status], "stop": ["sh", stop]}}]));
    let o = e.run(&["stop", "j"]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(e.path("stopped").is_file(), "commands.stop ran (pid 1 was not signalled)");
    std::fs::write(e.path("fail"), "").unwrap();
    let o = e.run(&["stop", "j"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(stderr(&o).contains("stop j failed: exit 1") && stderr(&o).lines().count() == 1, "{}", show(&o));
    assert!(stdout(&o).contains("stop j (j): exit 1 in "), "the command's outcome, as a chat's reply says it: {}", show(&o));
    assert_eq!(stop_runs(&e).len(), 2, "both attempts recorded");
}

#[test]
fn output_into_a_closed_pipe_ends_quietly_instead_of_panicking() {
    // `ops-monitor status | head -1` with more lines than head reads: the reader is gone.
    let e = Env::new();
    let ok = e.script("ok.sh", "exit 0\n");
    e.jobs(json!([read_job("alpha", &ok), read_job("beta", &ok)]));
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = Command::new(env!("CARGO_BIN_EXE_ops-monitor"))
        .arg("--config-file")
        .arg(e.path("ops-jobs.json"))
        .arg("--state-file")
        .arg(e.path("state/ops-monitor.db"))
        .args(["status"])
        .env("OPENCLAW_HOME", e.dir.path())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(0), "{err}");
}

#[test]
fn one_jobs_status_and_actions_that_do_not_fit_say_what_to_do_instead() {
    let e = Env::new();
    let stopped = e.script("st.sh", "echo '{\"running\":false,\"completed\":false}'\n");
    let check = e.script("chk.sh", "echo ok\n");
    e.jobs(json!([
        {"id": "scan", "kind": "long_running_read", "risk": "read_only", "enabled": true, "commands": {"start": ["true"], "status": ["sh", stopped]}},
        {"id": "health", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", check]}}
    ]));
    // status <job>, as /status <job> in the chat.
    let o = e.run(&["status", "scan"]);
    assert!(o.status.success() && stdout(&o).contains("- scan (") && !stdout(&o).contains("health"), "{}", show(&o));
    assert_eq!(e.run(&["status", "nosuch"]).status.code(), Some(2));
    // start of a check points to run.
    let o = e.run(&["start", "health"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(stderr(&o).contains("use run"), "{}", show(&o));
    // stop of a job that is not running says so, not "the status gives no pid".
    let o = e.run(&["stop", "scan"]);
    assert!(stderr(&o).contains("it is not running"), "{}", show(&o));
}
