//! `ops-monitor tick` end to end against the binary: the Python selftest scenarios, chains,
//! blocked queue items, a hung status among 50 jobs, config errors, crash safety.

use ops_framework::store::Store;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new(jobs: Value) -> Env {
        let e = Env { dir: tempfile::tempdir().unwrap() };
        e.write_config(jobs);
        e
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn write_config(&self, jobs: Value) {
        let cfg = json!({"version": 1, "defaults": {"quietHours": {"start": "00:00", "end": "00:00"}}, "jobs": jobs});
        std::fs::write(self.path("c.json"), serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    }
    fn script(&self, name: &str, body: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    }
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ops-monitor"));
        c.arg("--config-file").arg(self.path("c.json")).arg("--state-file").arg(self.path("state/s.db")).args(args);
        c.env("OPENCLAW_HOME", self.dir.path()).env_remove("TELEGRAM_BOT_TOKEN");
        c
    }
    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
    fn store(&self) -> Store {
        Store::open(&self.path("state/s.db")).unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn long_job(id: &str, start: &str, status: &str, policy: Value) -> Value {
    json!({"id": id, "kind": "long_running_read", "risk": "read_only", "enabled": true,
           "commands": {"start": ["sh", start], "status": ["sh", status]}, "policy": policy})
}

#[test]
fn autorun_calls_start_and_the_report_says_so() {
    let e = Env::new(json!([]));
    let start = e.script("start.sh", "touch \"$(dirname \"$0\")/started\"\n");
    let status = e.script("status.sh", "echo '{\"running\": false, \"completed\": false}'\n");
    e.write_config(json!([long_job("j1", &start, &status, json!({"autoResume": true, "reportEverySeconds": 0}))]));
    let o = e.run(&["tick", "--print-only"]);
    assert!(o.status.success(), "{o:?}");
    assert!(e.path("started").is_file());
    let out = stdout(&o);
    assert!(out.starts_with("Ops report · "), "{out}");
    assert!(out.contains("auto-resume: started"), "{out}");
    let runs = e.store().runs("j1", 10).unwrap();
    assert_eq!(runs[0].action, "start");
    assert_eq!(runs[0].origin, "autoresume");
}

#[test]
fn dry_run_performs_no_auto_resume_and_says_what_it_would_do() {
    let e = Env::new(json!([]));
    let start = e.script("start.sh", "touch \"$(dirname \"$0\")/started\"\n");
    let status = e.script("status.sh", "echo '{\"running\": false, \"completed\": false}'\n");
    e.write_config(json!([long_job("j1", &start, &status, json!({"autoResume": true}))]));
    let o = e.run(&["tick", "--print-only", "--dry-run"]);
    assert!(stdout(&o).contains("would start (dry run)"), "{}", stdout(&o));
    assert!(!e.path("started").exists());
    assert!(e.store().job_states().unwrap().is_empty(), "dry run stores nothing");
}

#[test]
fn queued_one_shot_read_with_action_required_is_run_reported_and_done() {
    let e = Env::new(json!([]));
    let run = e.script("run.sh", "echo 'ACTION REQUIRED: test'\n");
    e.write_config(json!([{"id": "r1", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", run]}}]));
    e.store().enqueue("r1", "test", 0, 0).unwrap();
    let o = e.run(&["tick", "--print-only"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("ACTION REQUIRED: test"), "{}", stdout(&o));
    let q = e.store().queue().unwrap();
    assert_eq!(q.last().unwrap().status, "done");
    let again = e.run(&["tick", "--print-only"]);
    assert!(!stdout(&again).contains("ACTION REQUIRED: test"), "a done item does not run again");
}

#[test]
fn a_queued_write_job_is_blocked_and_never_run() {
    let e = Env::new(json!([]));
    let w = e.script("w.sh", "touch \"$(dirname \"$0\")/wrote\"\n");
    let v = e.script("v.sh", "echo ok\n");
    e.write_config(json!([
        {"id": "w", "kind": "one_shot_write", "risk": "write_local", "enabled": true, "commands": {"run": ["sh", w]},
         "after": [{"jobId": "v"}]},
        {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", v]}, "after": [{"jobId": "w"}]}
    ]));
    e.store().enqueue("w", "forged", 0, 0).unwrap();
    e.store().enqueue("v", "test", 0, 0).unwrap();
    let o = e.run(&["tick", "--print-only"]);
    let out = stdout(&o);
    assert!(out.contains("ACTION REQUIRED: queued job blocked"), "{out}");
    // v succeeded and chains to w: that item is queued, and the next tick blocks it too.
    let o2 = e.run(&["tick", "--print-only"]);
    assert!(stdout(&o2).contains("queued job blocked"), "{}", stdout(&o2));
    assert!(!e.path("wrote").exists(), "the write job never ran");
    let statuses: Vec<String> = e.store().queue().unwrap().into_iter().map(|q| q.status).collect();
    assert_eq!(statuses, vec!["blocked", "done", "blocked"]);
}

#[test]
fn a_write_job_is_never_started_by_a_schedule_or_auto_resume() {
    let e = Env::new(json!([]));
    let w = e.script("w.sh", "touch \"$(dirname \"$0\")/wrote\"\n");
    let status = e.script("paused.sh", "echo '{\"running\":false,\"completed\":false}'\n");
    let start = e.script("start.sh", "touch \"$(dirname \"$0\")/started\"\n");
    let cfg = json!({"version": 1, "defaults": {"runEverySeconds": 1, "autoResume": true, "quietHours": null}, "jobs": [
        {"id": "w", "kind": "one_shot_write", "risk": "write_local", "enabled": true, "commands": {"run": ["sh", w]},
         "after": [{"jobId": "r", "when": "success"}]},
        {"id": "r", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["true"]}},
        {"id": "lw", "kind": "long_running_read", "risk": "write_local", "enabled": true,
         "commands": {"start": ["sh", start], "status": ["sh", status]}}
    ]});
    std::fs::write(e.path("c.json"), cfg.to_string()).unwrap();
    let mut out = String::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    // Tick until the read-only check ran twice on the inherited schedule (time must pass for it).
    while e.store().runs("r", 10).unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "the read-only check never ran twice");
        let o = e.run(&["tick", "--print-only"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out.push_str(&stdout(&o));
    }
    assert!(!e.path("wrote").exists(), "the schedule never runs the write job");
    assert!(!e.path("started").exists(), "auto-resume never starts a job that is not read_only");
    assert!(out.contains("auto-resume: blocked"), "{out}");
}

#[test]
fn completion_chains_the_after_job_with_its_delay() {
    let e = Env::new(json!([]));
    let status = e.script(
        "status.sh",
        "if [ -f \"$(dirname \"$0\")/done\" ]; then echo '{\"running\":false,\"completed\":true}'; else echo '{\"running\":true,\"completed\":false}'; fi\n",
    );
    let verify = e.script("verify.sh", "echo 'ALERT: verification says hello'\n");
    let mut j = long_job("scan", &status, &status, json!({}));
    j["after"] = json!([{"jobId": "verify", "when": "success", "delaySeconds": 0}]);
    e.write_config(json!([j, {"id": "verify", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", verify]}}]));
    assert!(stdout(&e.run(&["tick", "--print-only"])).contains("running"));
    std::fs::write(e.path("done"), "").unwrap();
    let out = stdout(&e.run(&["tick", "--print-only"]));
    assert!(out.contains("completed"), "{out}");
    assert!(out.contains("queued verify"), "{out}");
    let out = stdout(&e.run(&["tick", "--print-only"]));
    assert!(out.contains("ALERT: verification says hello"), "{out}");
    assert!(!out.contains("completed ✅"), "completion is reported once");
}

#[test]
fn one_hung_status_among_50_jobs_delays_nothing_else() {
    let e = Env::new(json!([]));
    let ok = e.script("ok.sh", "sleep 0.05; echo '{\"running\":true,\"completed\":false,\"progress\":{\"done\":1,\"total\":2}}'\n");
    let hung = e.script("hung.sh", "sleep 600\n");
    let mut jobs: Vec<Value> = (0..49).map(|i| long_job(&format!("job{i}"), &ok, &ok, json!({}))).collect();
    jobs.push(long_job("hung", &hung, &hung, json!({"statusTimeoutSeconds": 2})));
    e.write_config(Value::Array(jobs));
    let t0 = Instant::now();
    let o = e.run(&["tick", "--print-only"]);
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(2 + 2), "tick took {took:?} (status timeout 2 s)");
    let out = stdout(&o);
    assert_eq!(out.matches("- status: running").count(), 49, "{out}");
    assert!(out.contains("(hung, long_running_read)"));
    assert!(out.contains("status unavailable: status command timed out"), "{out}");
}

#[test]
fn bad_status_outputs_are_alerts_naming_the_job() {
    let e = Env::new(json!([]));
    let cases = [
        ("nonjson", "echo hello"),
        ("fails", "echo boom >&2; exit 4"),
        ("huge", "head -c 104857600 /dev/zero | tr '\\0' x"),
        ("nobool", "echo '{\"running\":\"yes\",\"completed\":false}'"),
    ];
    let jobs: Vec<Value> =
        cases.iter().map(|(id, body)| long_job(id, &e.script(&format!("{id}.sh"), body), &e.script(&format!("{id}.sh"), body), json!({}))).collect();
    let mut jobs = jobs;
    jobs.push(json!({"id": "missing", "kind": "long_running_read", "risk": "read_only", "enabled": true,
                     "commands": {"start": ["/nonexistent/start"], "status": ["/nonexistent/status"]}}));
    e.write_config(Value::Array(jobs));
    let o = e.run(&["tick", "--print-only"]);
    assert!(o.status.success());
    let out = stdout(&o);
    for want in ["(nonjson,", "not JSON", "(fails,", "exit 4: boom", "(huge,", "too large", "(nobool,", "boolean fields", "(missing,", "could not start"] {
        assert!(out.contains(want), "missing {want:?} in {out}");
    }
    let ok: String = e.store().conn().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn invalid_config_is_reported_hourly_and_the_last_good_config_stays_in_use() {
    let e = Env::new(json!([]));
    let status = e.script("status.sh", "echo '{\"running\":false,\"completed\":false}'\n");
    e.write_config(json!([long_job("j1", &status, &status, json!({}))]));
    assert!(e.run(&["tick", "--print-only"]).status.success());
    std::fs::write(e.path("c.json"), "{\"version\": 1, \"jobs\": [ {\"id\": 3} ]").unwrap();
    let o = e.run(&["tick", "--print-only"]);
    let out = stdout(&o);
    assert!(out.contains("the config is invalid"), "{out}");
    assert!(out.contains("last good config stays in use"), "{out}");
    assert!(o.status.success(), "the last good config was used");
    let o2 = e.run(&["tick", "--print-only"]);
    assert!(!stdout(&o2).contains("the config is invalid"), "not repeated within the hour: {}", stdout(&o2));
    assert!(String::from_utf8_lossy(&o2.stderr).contains("invalid config"), "but always on stderr");
    // An hour later it is reported again.
    let hour_ago = chrono::Utc::now().timestamp() - 3601;
    e.store().set_meta("config_error_at", &hour_ago.to_string()).unwrap();
    assert!(stdout(&e.run(&["tick", "--print-only"])).contains("the config is invalid"), "repeated after an hour");
}

#[test]
fn two_processes_writing_the_store_at_once_lose_nothing() {
    let e = Env::new(json!([]));
    e.write_config(json!([{"id": "c", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["true"]}}]));
    let spawn = || {
        let mut cmds: Vec<_> = (0..2).map(|_| e.cmd(&["run", "c"]).spawn().unwrap()).collect();
        cmds.iter_mut().all(|c| c.wait().unwrap().success())
    };
    for _ in 0..15 {
        assert!(spawn());
    }
    assert_eq!(e.store().runs("c", 1000).unwrap().len(), 30);
}

#[test]
fn jobs_get_their_id_run_id_and_a_private_state_dir() {
    let e = Env::new(json!([]));
    e.write_config(json!([{"id": "c", "kind": "one_shot_read", "risk": "read_only",
        "commands": {"run": ["sh", "-c", "echo $OPS_JOB_ID $OPS_RUN_ID $OPS_STATE_DIR; pwd"]}, "cwd": "sub"}]));
    std::fs::create_dir(e.path("sub")).unwrap();
    let o = e.run(&["run", "c"]);
    let out = stdout(&o);
    let dir = e.path("state/jobs/c");
    assert!(out.contains(&format!("c 1 {}", dir.display())), "{out}");
    assert!(out.contains(&e.path("sub").display().to_string()), "relative cwd resolves against the config folder: {out}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(e.path("state")).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(e.path("state/s.db")).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn kill_9_during_a_tick_leaves_the_previous_consistent_state() {
    let e = Env::new(json!([]));
    // The second tick sees new progress (and says when its status command has started), so a
    // tick that stored anything before its one commit would show in the state.
    let status = e.script(
        "status.sh",
        "d=\"$(dirname \"$0\")\"; if [ -f \"$d/slow\" ]; then touch \"$d/started\"; sleep 5; echo '{\"running\":true,\"completed\":false,\"progressKey\":\"k2\",\"message\":\"moved\"}'; exit; fi; echo '{\"running\":true,\"completed\":false,\"progressKey\":\"k\"}'\n",
    );
    e.write_config(json!([long_job("j1", &status, &status, json!({})), long_job("j2", &status, &status, json!({}))]));
    assert!(e.run(&["tick", "--print-only"]).status.success());
    let before = e.store().job_states().unwrap();
    std::fs::write(e.path("slow"), "").unwrap();
    let mut child = e.cmd(&["tick", "--print-only"]).spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !e.path("started").exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(e.path("started").exists(), "the second tick polls");
    child.kill().unwrap();
    child.wait().unwrap();
    let s = e.store();
    let ok: String = s.conn().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    assert_eq!(s.job_states().unwrap(), before);
}

#[test]
fn kill_9_after_a_chain_item_ran_but_before_the_commit_loses_no_follow_up() {
    let e = Env::new(json!([]));
    let check = |name: &str| e.script(&format!("{name}.sh"), &format!("echo x >> \"$(dirname \"$0\")/{name}.ran\"\n"));
    let (p, c, d) = (check("p"), check("c"), check("d"));
    let status = e.script("slow.sh", "if [ -f \"$(dirname \"$0\")/slow\" ]; then sleep 30; fi; echo '{\"running\":true,\"completed\":false}'\n");
    let read = |id: &str, script: &str, after: Value| json!({"id": id, "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", script]}, "after": after});
    e.write_config(json!([
        read("p", &p, json!([{"jobId": "c"}])),
        read("c", &c, json!([{"jobId": "d"}])),
        read("d", &d, json!([])),
        long_job("slow", &status, &status, json!({"statusTimeoutSeconds": 60}))
    ]));
    assert!(e.run(&["run", "p"]).status.success(), "p runs and queues c");
    std::fs::write(e.path("slow"), "").unwrap();
    let mut child = e.cmd(&["tick", "--print-only"]).spawn().unwrap();
    let lines = |f: &str| std::fs::read_to_string(e.path(f)).map(|s| s.lines().count()).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while lines("c.ran") == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(lines("c.ran"), 1, "c ran in the tick (which now waits for the slow status)");
    child.kill().unwrap();
    child.wait().unwrap();
    let q = e.store().queue().unwrap();
    assert!(q.iter().all(|i| i.status != "done"), "nothing is marked done before the commit: {q:?}");
    std::fs::remove_file(e.path("slow")).unwrap();
    for _ in 0..2 {
        assert!(e.run(&["tick", "--print-only"]).status.success());
    }
    assert_eq!(lines("c.ran"), 2, "the interrupted item ran again (read-only)");
    assert_eq!(lines("d.ran"), 1, "and its follow-up was queued and ran");
}

#[test]
fn a_chain_delay_holds_the_queued_job_until_it_is_due() {
    let e = Env::new(json!([]));
    let p = e.script("p.sh", "true\n");
    let c = e.script("c.sh", "echo x >> \"$(dirname \"$0\")/c.ran\"\n");
    e.write_config(json!([
        {"id": "p", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", p]}, "after": [{"jobId": "c", "delaySeconds": 3600}]},
        {"id": "c", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", c]}}
    ]));
    let before = chrono::Utc::now().timestamp();
    assert!(e.run(&["run", "p"]).status.success());
    assert!(e.run(&["tick", "--print-only"]).status.success());
    assert!(!e.path("c.ran").exists(), "not due for an hour");
    let q = e.store().queue().unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].status, "pending");
    assert!(q[0].not_before >= before + 3600, "{q:?}");
}

#[test]
fn alert_in_a_checks_output_counts_only_as_a_word() {
    let e = Env::new(json!([]));
    let calm = e.script("calm.sh", "echo 'scan done: 0 ALERTS found'\n");
    let loud = e.script("loud.sh", "echo '[ALERT] fan 2 stopped'\n");
    let check = |id: &str, s: &str| json!({"id": id, "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", s]}, "policy": {"runEverySeconds": 60}});
    e.write_config(json!([check("calmcheck", &calm), check("loudcheck", &loud)]));
    let o = e.run(&["tick", "--print-only"]);
    let out = stdout(&o);
    assert!(out.contains("loudcheck") && out.contains("[ALERT] fan 2 stopped"), "{out}");
    assert!(!out.contains("calmcheck") && !out.contains("0 ALERTS"), "a count of alerts is not an alert: {out}");
}
