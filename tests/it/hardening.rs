//! Hardening through the binary: alert identity of failing observations, the token kept from
//! children, job-id rules, approvals on the host (distinct approver, digests, one transaction).

use crate::support;

use serde_json::{json, Value};
use std::process::Output;
use support::Env;

/// Runs the CLI with `args` in `env`.
fn run(env: &Env, args: &[&str]) -> Output {
    env.cli().args(args).output().unwrap()
}

/// The stored anomaly key of `job`.
fn anomaly_key(env: &Env, job: &str) -> Option<String> {
    let st: String = env.db().unwrap().query_row("SELECT state FROM job_state WHERE job_id=?1", [job], |r| r.get(0)).unwrap();
    serde_json::from_str::<Value>(&st).unwrap()["last_anomaly_key"].as_str().map(str::to_string)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_hung_or_failing_observation_alerts_once_not_every_tick() {
    let e = Env::new();
    let hang = e.script("hang.sh", "sleep 30\n").display().to_string();
    // Each failure carries a figure that changes every tick (a clock in nanoseconds).
    let fails = e.script("fails.sh", "echo \"failed at $(date +%s%N)\" >&2; exit 3\n").display().to_string();
    let big = e.script("big.sh", "head -c $((70000 + $$ % 1000)) /dev/zero | tr '\\0' x\n").display().to_string();
    let long = |id: &str, status: &str| {
        json!({"id": id, "kind": "long_running_read", "risk": "read_only", "enabled": true,
               "commands": {"start": ["true"], "status": ["sh", status]}, "policy": {"statusTimeoutSeconds": 1}})
    };
    e.config(
        json!([
            long("hung", &hang), long("failing", &fails), long("huge", &big),
            {"id": "check", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", hang]},
             "policy": {"runEverySeconds": 1, "timeoutSeconds": 1}}
        ]),
        json!({}),
    );
    let first = stdout(&run(&e, &["tick", "--print-only"]));
    for want in ["(hung,", "timed out", "(failing,", "exit 3", "(huge,", "too large", "(check,"] {
        assert!(first.contains(want), "first tick lacks {want:?}: {first}");
    }
    let second = stdout(&run(&e, &["tick", "--print-only"]));
    for id in ["hung", "failing", "huge", "check"] {
        assert!(!second.contains(&format!("({id},")), "{id} alerted again on the next tick (its key held a measured figure): {second}");
    }
    assert_eq!(anomaly_key(&e, "hung").as_deref(), Some("invalid:timeout"));
    assert_eq!(anomaly_key(&e, "failing").as_deref(), Some("invalid:exit:3"));
    assert_eq!(anomaly_key(&e, "huge").as_deref(), Some("invalid:too-big"));
    assert_eq!(anomaly_key(&e, "check").as_deref(), Some("check:timeout"));
}

/// The token's secret part (what must never appear).
fn secret() -> &'static str {
    support::TOKEN.split_once(':').unwrap().1
}

#[test]
fn jobs_started_by_run_tick_or_approve_never_see_the_token_in_their_or_the_parents_environment() {
    let e = Env::new();
    // Each job keeps what it can read in a file (its own output would be masked anyway).
    let dump = |name: &str| e.script(&format!("{name}.sh"), &format!("env > {0}.env; cat /proc/$PPID/environ > {0}.parent\n", e.path().join(name).display()));
    let (run, tick, write, verify) = (dump("run"), dump("tick"), dump("write"), dump("verify"));
    e.config(
        json!([
            {"id": "run", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", run]}},
            {"id": "tick", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", tick]},
             "policy": {"runEverySeconds": 60}},
            {"id": "write", "kind": "one_shot_write", "enabled": true, "risk": "write_local", "commands": {"run": ["sh", write]},
             "after": [{"jobId": "verify"}]},
            {"id": "verify", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", verify]}}
        ]),
        json!({}),
    );
    let with_token = |args: &[&str]| e.cli().env("MY_BOT_TOKEN", support::TOKEN).env("OTHER", format!("x{}", secret())).args(args).output().unwrap();
    assert!(with_token(&["run", "run"]).status.success());
    assert!(with_token(&["tick", "--print-only"]).status.success());
    assert!(with_token(&["run", "write"]).status.success());
    let approved = with_token(&["approve", "1"]);
    assert!(approved.status.success(), "{}", String::from_utf8_lossy(&approved.stderr));
    for name in ["run", "tick", "write"] {
        for ext in ["env", "parent"] {
            let f = e.path().join(format!("{name}.{ext}"));
            let seen = std::fs::read(&f).unwrap_or_else(|err| panic!("{} not written: {err}", f.display()));
            let seen = String::from_utf8_lossy(&seen).replace('\0', "\n");
            assert!(seen.contains("PATH="), "{name}.{ext} looks empty: {seen}");
            assert!(!seen.contains(secret()), "the job {name} read the token from {ext}: {seen}");
        }
    }
}

#[test]
fn job_ids_that_could_name_another_folder_are_rejected() {
    let e = Env::new();
    let job = |id: &str| json!({"id": id, "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["true"]}});
    e.config(json!([job(".."), job("."), job("a/b"), job("-x"), job("a b"), job("a_b"), job("v1.2-x")]), json!({}));
    let o = run(&e, &["validate-config"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for (i, id) in ["..", ".", "a/b", "-x", "a b"].iter().enumerate() {
        assert!(err.contains(&format!("jobs[{i}].id: {id:?} is not a valid job id")), "{id} accepted: {err}");
    }
    assert!(!err.contains("jobs[5]") && !err.contains("jobs[6]"), "a_b and v1.2-x are fine: {err}");
}

/// Write job `w` (appends to `ran`) verified by `v`, with `approval` settings.
fn write_job(e: &Env, approval: Value) {
    let w = e.script("w.sh", &format!("echo ran >> {}\n", e.path().join("ran").display())).display().to_string();
    let v = e.script("v.sh", "echo verified\n").display().to_string();
    e.config(
        json!([
            {"id": "w", "kind": "one_shot_write", "enabled": true, "risk": "write_local", "cwd": ".", "commands": {"run": ["sh", w]}, "approval": approval,
             "after": [{"jobId": "v"}]},
            {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", v]}}
        ]),
        json!({}),
    );
}

fn ran(e: &Env) -> usize {
    std::fs::read_to_string(e.path().join("ran")).unwrap_or_default().lines().count()
}

#[test]
fn distinct_approver_holds_on_the_host_the_same_user_cannot_approve_their_own_request() {
    let e = Env::new();
    write_job(&e, json!({"distinctApprover": true}));
    assert!(run(&e, &["run", "w"]).status.success());
    let o = run(&e, &["approve", "1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("different person"), "{err}");
    assert_eq!(ran(&e), 0, "nothing ran");
    let audit = stdout(&run(&e, &["audit"]));
    assert!(audit.contains("requested by cli host:") && audit.contains("(uid "), "the host user is the requester: {audit}");
    // Rejecting one's own request stays possible.
    assert!(run(&e, &["reject", "1"]).status.success());
}

#[test]
fn changing_the_verification_job_after_the_request_voids_it() {
    let e = Env::new();
    write_job(&e, json!({}));
    assert!(run(&e, &["run", "w"]).status.success());
    let cfg = std::fs::read_to_string(e.path().join("c.json")).unwrap().replace("v.sh", "v2.sh");
    std::fs::write(e.path().join("c.json"), cfg).unwrap();
    let o = run(&e, &["approve", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stderr).contains("definition changed"), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(ran(&e), 0, "the write must not run followed by a verification nobody approved");
}

#[test]
fn changing_a_job_further_down_the_verification_chain_voids_it_too() {
    let e = Env::new();
    let w = e.script("w.sh", &format!("echo ran >> {}\n", e.path().join("ran").display())).display().to_string();
    let v = e.script("v.sh", "echo verified\n").display().to_string();
    let deep = e.script("deep.sh", "echo deep\n").display().to_string();
    let jobs = |deep: &str| {
        json!([
            {"id": "w", "kind": "one_shot_write", "enabled": true, "risk": "write_local", "commands": {"run": ["sh", w]}, "after": [{"jobId": "v"}]},
            {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", v]}, "after": [{"jobId": "deep"}]},
            {"id": "deep", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", deep]}}
        ])
    };
    e.config(jobs(&deep), json!({}));
    assert!(run(&e, &["run", "w"]).status.success());
    // The job the verification chains to now runs something else.
    e.config(jobs("/bin/true"), json!({}));
    let o = run(&e, &["approve", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stderr).contains("definition changed"), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(ran(&e), 0, "the write must not run followed by a chain nobody approved");
}

#[test]
fn a_request_made_with_a_relative_config_path_is_approved_through_the_absolute_one() {
    let e = Env::new();
    write_job(&e, json!({}));
    let relative = std::process::Command::new(env!("CARGO_BIN_EXE_ops-monitor"))
        .current_dir(e.path())
        .args(["--config-file", "c.json", "--state-file", "s.db", "run", "w"])
        .env("OPENCLAW_HOME", e.path())
        .env_remove("TELEGRAM_BOT_TOKEN")
        .output()
        .unwrap();
    assert!(relative.status.success(), "{}", String::from_utf8_lossy(&relative.stderr));
    let o = run(&e, &["approve", "1"]);
    assert!(o.status.success(), "refused through the absolute path: {}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(ran(&e), 1);
}

#[test]
fn a_request_made_under_a_symlinked_home_is_approved_under_its_real_path() {
    let e = Env::new();
    // The write job has no cwd: it runs in $OPENCLAW_HOME, which is part of what was approved.
    let w = e.script("w.sh", &format!("echo ran >> {}\n", e.path().join("ran").display())).display().to_string();
    let v = e.script("v.sh", "echo verified\n").display().to_string();
    e.config(
        json!([
            {"id": "w", "kind": "one_shot_write", "enabled": true, "risk": "write_local", "commands": {"run": ["sh", w]}, "after": [{"jobId": "v"}]},
            {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", v]}}
        ]),
        json!({}),
    );
    let link = e.path().join("home-link");
    std::os::unix::fs::symlink(e.path(), &link).unwrap();
    let asked = e.cli().env("OPENCLAW_HOME", &link).args(["run", "w"]).output().unwrap();
    assert!(asked.status.success(), "{}", String::from_utf8_lossy(&asked.stderr));
    let o = run(&e, &["approve", "1"]);
    assert!(o.status.success(), "refused through the real path: {}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(ran(&e), 1);
}

#[test]
fn a_succeeded_write_is_never_left_without_its_verification() {
    let e = Env::new();
    write_job(&e, json!({}));
    assert!(run(&e, &["run", "w"]).status.success());
    // Something fails between "the write succeeded" and "its verification is queued".
    e.db().unwrap().execute_batch("CREATE TRIGGER fail_queue BEFORE INSERT ON queue BEGIN SELECT RAISE(ABORT, 'injected'); END;").unwrap();
    let o = run(&e, &["approve", "1"]);
    assert!(!o.status.success(), "the failure is not hidden");
    assert_eq!(ran(&e), 1, "the write ran");
    let state = |e: &Env| e.db().unwrap().query_row("SELECT state FROM approvals WHERE id=1", [], |r| r.get::<_, String>(0)).unwrap();
    assert_eq!(e.count("SELECT COUNT(*) FROM queue"), 0);
    assert_eq!(state(&e), "running", "not marked succeeded with nothing verifying it");
    // The next daemon start reports it (interrupted, outcome unknown, verification offered).
    e.db().unwrap().execute_batch("DROP TRIGGER fail_queue;").unwrap();
    let d = e.serve();
    let msg = e.tg.wait_for(std::time::Duration::from_secs(20), |m| m.chat_id == support::ME && m.text.contains("#1")).expect("reported");
    assert!(msg.text.contains("interrupted") && msg.text.contains("v"), "{}", msg.text);
    assert_eq!(state(&e), "interrupted");
    support::stop(d);
}

#[test]
fn a_token_file_others_can_read_is_warned_about_once_with_the_path_and_the_mode_to_set() {
    use std::os::unix::fs::PermissionsExt;
    let e = Env::new();
    e.config(json!([]), json!({"telegram": {"tokenFile": "bot-token.txt"}}));
    let file = e.path().join("bot-token.txt");
    std::fs::write(&file, format!("{}\n", support::TOKEN)).unwrap();
    let stderr =
        |e: &Env| String::from_utf8_lossy(&e.cli().env_remove("TELEGRAM_BOT_TOKEN").args(["tick", "--print-only"]).output().unwrap().stderr).into_owned();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let warned = stderr(&e);
    assert_eq!(warned.matches("WARNING: the file holding the bot token").count(), 1, "{warned}");
    assert!(warned.contains(&file.display().to_string()) && warned.contains("0644") && warned.contains("chmod 600"), "{warned}");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let quiet = stderr(&e);
    assert!(!quiet.contains("bot token"), "{quiet}");
    // The same for openclaw.json when the token comes from there.
    e.config(json!([]), json!({}));
    let openclaw = e.path().join("openclaw.json");
    std::fs::write(&openclaw, json!({"channels": {"telegram": {"botToken": support::TOKEN}}}).to_string()).unwrap();
    std::fs::set_permissions(&openclaw, std::fs::Permissions::from_mode(0o664)).unwrap();
    let warned = stderr(&e);
    assert!(warned.contains(&openclaw.display().to_string()) && warned.contains("chmod 600"), "{warned}");
}

#[test]
fn asking_again_on_the_host_while_a_request_is_open_shows_it_and_creates_nothing() {
    let e = Env::new();
    write_job(&e, json!({}));
    assert!(stdout(&run(&e, &["run", "w"])).contains("approval request created"));
    let again = stdout(&run(&e, &["run", "w"]));
    assert!(again.contains("already has an open request") && again.contains("#1 "), "{again}");
    assert_eq!(e.count("SELECT COUNT(*) FROM approvals"), 1);
    assert_eq!(e.count("SELECT COUNT(*) FROM audit WHERE event='requested'"), 1);
    assert!(run(&e, &["reject", "1"]).status.success());
    assert!(stdout(&run(&e, &["run", "w"])).contains("approval request created"), "a decided request is no longer open");
}

#[test]
fn a_host_requester_without_user_in_the_environment_is_named_from_the_password_file() {
    let e = Env::new();
    write_job(&e, json!({}));
    let o = e.cli().args(["run", "w"]).env_remove("USER").env_remove("LOGNAME").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let audit = stdout(&run(&e, &["audit"]));
    assert!(audit.contains("requested by cli host:") && !audit.contains("host:local"), "named from /etc/passwd: {audit}");
}
