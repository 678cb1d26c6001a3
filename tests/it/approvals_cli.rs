//! Write jobs on the host: request, approve once, verification, audit; every refusal runs nothing.

use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Output};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new(write_policy: Value, approval: Value) -> Env {
        let e = Env { dir: tempfile::tempdir().unwrap() };
        e.config("echo run >> \"$(dirname \"$0\")/ran\"; echo wrote", write_policy, approval);
        e
    }
    /// [`Env::new`] with the config's `locale`.
    fn in_locale(locale: &str) -> Env {
        let e = Env::new(json!({}), json!({}));
        let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(e.path("c.json")).unwrap()).unwrap();
        cfg["locale"] = json!(locale);
        std::fs::write(e.path("c.json"), cfg.to_string()).unwrap();
        e
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn config(&self, body: &str, policy: Value, approval: Value) {
        std::fs::write(self.path("w.sh"), body).unwrap();
        std::fs::write(self.path("v.sh"), "echo verified\n").unwrap();
        // No quiet hours: the results checked here must not depend on the hour the test runs at.
        let cfg = json!({"version": 1, "timezone": "Asia/Shanghai", "defaults": {"quietHours": null}, "jobs": [
            {"id": "w", "name": "Write <b>x</b>", "kind": "one_shot_write", "risk": "write_local", "enabled": true,
             "commands": {"run": ["sh", self.path("w.sh")]}, "policy": policy, "approval": approval,
             "after": [{"jobId": "v", "when": "success", "delaySeconds": 0}]},
            {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", self.path("v.sh")]}}
        ]});
        std::fs::write(self.path("c.json"), cfg.to_string()).unwrap();
    }
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ops-monitor"));
        c.arg("--config-file").arg(self.path("c.json")).arg("--state-file").arg(self.path("s.db")).args(args);
        c.env("OPENCLAW_HOME", self.dir.path()).env_remove("TELEGRAM_BOT_TOKEN").env("USER", "tester");
        c
    }
    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
    fn runs(&self) -> usize {
        std::fs::read_to_string(self.path("ran")).map(|s| s.lines().count()).unwrap_or(0)
    }
}

fn out(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn approve_runs_once_then_the_verification_and_the_audit_shows_it_all() {
    let e = Env::new(json!({}), json!({}));
    let o = e.run(&["run", "w"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("approval request created"), "{}", out(&o));
    assert!(out(&o).contains("argv:") && out(&o).contains("then: v (success"), "{}", out(&o));
    assert_eq!(e.runs(), 0, "a request runs nothing");
    let pending = out(&e.run(&["pending"]));
    assert!(pending.contains("request #1") && pending.contains("• Write <b>x</b> (w)"), "{pending}");
    assert!(pending.contains(" CST"), "times in the configured timezone: {pending}");
    assert!(e.run(&["tick", "--print-only"]).status.success());
    assert_eq!(e.runs(), 0, "tick never runs a write job");
    // The id as every output shows it ("#1") is accepted too.
    let o = e.run(&["approve", "#1"]);
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(e.runs(), 1);
    assert!(out(&o).contains("verification queued: v"));
    let again = e.run(&["approve", "1"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(out(&again).contains("already ran (succeeded)"), "{}", out(&again));
    assert_eq!(e.runs(), 1, "a second approval runs nothing");
    let t = e.run(&["tick", "--print-only"]);
    assert!(out(&t).contains("verification of write request #1: ok"), "{}", out(&t));
    let audit = out(&e.run(&["audit", "--job", "w"]));
    for ev in ["requested by cli", "approved by host:tester", "w run: exit 0", "verify-queued", "verify by v: ok", "refused by host:tester"] {
        assert!(audit.contains(ev), "missing {ev:?} in\n{audit}");
    }
    assert_eq!(e.runs(), 1);
}

#[test]
fn reject_runs_nothing() {
    let e = Env::new(json!({}), json!({}));
    e.run(&["run", "w"]);
    let o = e.run(&["reject", "1"]);
    assert!(out(&o).contains("rejected. Nothing ran"), "{}", out(&o));
    assert_eq!(e.run(&["approve", "1"]).status.code(), Some(2));
    assert_eq!(e.runs(), 0);
}

#[test]
fn approval_after_the_job_changed_is_refused() {
    let e = Env::new(json!({}), json!({}));
    e.run(&["run", "w"]);
    e.config("echo changed >> \"$(dirname \"$0\")/ran\"", json!({"timeoutSeconds": 10}), json!({}));
    let o = e.run(&["approve", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(out(&o).contains("definition changed"), "{}", out(&o));
    assert_eq!(e.runs(), 0);
}

#[test]
fn an_expired_request_is_reported_and_cannot_be_approved() {
    let e = Env::new(json!({}), json!({"expiresSeconds": 0}));
    e.run(&["run", "w"]);
    let t = e.run(&["tick", "--print-only"]);
    assert!(out(&t).contains("approval request #1 expired; nothing ran"), "{}", out(&t));
    let o = e.run(&["approve", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(e.runs(), 0);
}

#[test]
fn two_hosts_approving_at_once_run_the_job_once() {
    let e = Env::new(json!({}), json!({}));
    e.config("sleep 0.3; echo run >> \"$(dirname \"$0\")/ran\"", json!({}), json!({}));
    e.run(&["run", "w"]);
    let a = e.cmd(&["approve", "1"]).spawn().unwrap();
    let b = e.cmd(&["approve", "1"]).spawn().unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!([a.status.success(), b.status.success()].iter().filter(|x| **x).count(), 1, "{}\n{}", out(&a), out(&b));
    assert_eq!(e.runs(), 1);
}

#[test]
fn approval_not_required_runs_only_on_the_explicit_request() {
    let e = Env::new(json!({}), json!({"required": false}));
    e.run(&["tick", "--print-only"]);
    assert_eq!(e.runs(), 0, "never from a tick");
    let o = e.run(&["run", "w"]);
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(e.runs(), 1);
}

#[test]
fn python_granted_flag_is_accepted_with_a_warning() {
    let e = Env::new(json!({}), json!({"required": true, "granted": true}));
    let o = e.run(&["validate-config"]);
    assert!(o.status.success());
    assert!(out(&o).contains("granted") && out(&o).contains("per run"), "{}", out(&o));
    e.run(&["tick", "--print-only"]);
    assert_eq!(e.runs(), 0, "granted does not make it run");
}

#[test]
fn a_daemon_starting_while_the_cli_runs_a_write_job_does_not_call_it_interrupted() {
    use std::io::{BufRead, BufReader};
    let e = Env::new(json!({}), json!({}));
    e.config("echo run >> \"$(dirname \"$0\")/ran\"; sleep 3; echo wrote", json!({}), json!({}));
    e.run(&["run", "w"]);
    let mut approve = e.cmd(&["approve", "1"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while e.runs() == 0 {
        assert!(std::time::Instant::now() < deadline, "the write job never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut serve = e.cmd(&["serve"]).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut err = BufReader::new(serve.stderr.take().unwrap()).lines();
    // serve prints its mode after the repair pass: from then on the verdict is in the store.
    assert!(err.by_ref().map_while(Result::ok).any(|l| l.contains("no Telegram token")), "serve started");
    let during = out(&e.run(&["audit", "--job", "w"]));
    assert!(!during.contains("interrupted"), "a run owned by a live CLI is not interrupted:\n{during}");
    assert!(during.contains("approved"), "{during}");
    assert!(approve.wait().unwrap().success(), "the CLI finished its run");
    rustix::process::kill_process(rustix::process::Pid::from_raw(serve.id() as i32).unwrap(), rustix::process::Signal::TERM).unwrap();
    serve.wait().unwrap();
    let audit = out(&e.run(&["audit", "--job", "w"]));
    assert!(audit.contains("w run: exit 0") && !audit.contains("interrupted"), "{audit}");
    assert_eq!(e.runs(), 1);
}

#[test]
fn a_failed_write_run_queues_its_failure_jobs_not_its_verification() {
    let e = Env::new(json!({}), json!({}));
    std::fs::write(e.path("w.sh"), "echo run >> \"$(dirname \"$0\")/ran\"; exit 3\n").unwrap();
    std::fs::write(e.path("f.sh"), "echo cleanup-check >> \"$(dirname \"$0\")/f.ran\"\n").unwrap();
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(e.path("c.json")).unwrap()).unwrap();
    cfg["jobs"][0]["after"] = json!([{"jobId": "v", "when": "success"}, {"jobId": "f", "when": "failure"}]);
    cfg["jobs"].as_array_mut().unwrap().push(json!({"id": "f", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", e.path("f.sh")]}}));
    std::fs::write(e.path("c.json"), cfg.to_string()).unwrap();
    e.run(&["run", "w"]);
    let o = e.run(&["approve", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("verification queued: f"), "{}", out(&o));
    assert_eq!(e.runs(), 1);
    let t = e.run(&["tick", "--print-only"]);
    assert!(std::fs::read_to_string(e.path("f.ran")).is_ok_and(|s| s.lines().count() == 1), "the failure job ran: {}", out(&t));
    assert!(!out(&t).contains("(v,"), "the success verification did not run: {}", out(&t));
    let audit = out(&e.run(&["audit", "--job", "w"]));
    assert!(audit.contains("w run: exit 3") || audit.contains("run: exit 3"), "{audit}");
}

/// The host's request, approval and its result read as the chat's do, in the config's locale
/// (they were English whatever the locale).
#[test]
fn the_host_approval_path_speaks_the_configs_locale_in_the_chats_words() {
    let e = Env::in_locale("zh-CN");
    let o = e.run(&["run", "w"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("已创建审批请求") && out(&o).contains("🔐 审批请求 #1") && out(&o).contains("- 风险：write_local"), "{}", out(&o));
    assert!(out(&e.run(&["pending"])).contains("审批请求 #1"));
    let o = e.run(&["approve", "1"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("已运行一次：退出码 0") && out(&o).contains("wrote") && out(&o).contains("已排队验证：v"), "{}", out(&o));
    let again = e.run(&["approve", "1"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(out(&again).contains("已拒绝"), "{}", out(&again));
}
