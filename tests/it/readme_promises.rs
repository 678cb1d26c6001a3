//! What README (and docs/REFERENCE.md, where README sends readers for the details) promises,
//! tried against the binary: its JSON examples validate, a relative state path works for jobs,
//! `status --json` speaks camelCase, the exit codes table holds, and every link stays inside the
//! repository and lands on a file and heading that exist.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ops-monitor"));
    c.env_remove("TELEGRAM_BOT_TOKEN").env_remove("TELEGRAM_API_URL").env_remove("RUST_LOG");
    c
}

/// Runs the binary in `dir` with config `c.json` and state `s.db` there (absolute paths).
fn run(dir: &Path, args: &[&str]) -> Output {
    bin().arg("--config-file").arg(dir.join("c.json")).arg("--state-file").arg(dir.join("s.db")).args(args).env("OPENCLAW_HOME", dir).output().unwrap()
}

fn show(o: &Output) -> String {
    format!("exit {:?}\n--- stdout\n{}--- stderr\n{}", o.status.code(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The documents a user reads: README.md, then docs/REFERENCE.md (the details README links to).
const USER_DOCS: [&str; 2] = ["README.md", "docs/REFERENCE.md"];

/// What README and docs/REFERENCE.md say, one after the other.
fn readme() -> String {
    USER_DOCS.iter().map(|f| std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(f)).unwrap()).collect::<Vec<_>>().join("\n")
}

/// The bodies of the README's fenced code blocks in `lang`.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let (mut out, mut cur): (Vec<String>, Option<String>) = (Vec::new(), None);
    for line in text.lines() {
        match (&mut cur, line.trim_start().strip_prefix("```")) {
            (None, Some(tag)) if tag.trim() == lang => cur = Some(String::new()),
            (Some(_), Some("")) => out.extend(cur.take()),
            (Some(body), _) => body.push_str(&format!("{line}\n")),
            _ => {}
        }
    }
    out
}

#[test]
fn every_json_block_of_the_readme_validates() {
    let dir = tempfile::tempdir().unwrap();
    let found = blocks(&readme(), "json");
    assert!(!found.is_empty(), "README has JSON examples");
    for (i, block) in found.iter().enumerate() {
        std::fs::write(dir.path().join("c.json"), block).unwrap();
        let o = run(dir.path(), &["validate-config"]);
        assert_eq!(o.status.code(), Some(0), "README JSON block #{i} does not validate:\n{block}\n{}", show(&o));
    }
}

#[test]
fn a_relative_state_file_gives_jobs_an_absolute_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("conf/jobs")).unwrap();
    let job = json!({"id": "chk", "kind": "one_shot_read", "risk": "read_only", "cwd": "jobs",
        "commands": {"run": ["sh", "-c", "echo \"dir=$OPS_STATE_DIR\"; touch \"$OPS_STATE_DIR/checkpoint\""]}});
    std::fs::write(dir.path().join("conf/c.json"), json!({"version": 1, "jobs": [job]}).to_string()).unwrap();
    let o = bin()
        .args(["--config-file", "conf/c.json", "--state-file", "state/s.db", "run", "chk"])
        .current_dir(dir.path())
        .env("OPENCLAW_HOME", dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let state_dir = out.lines().find_map(|l| l.strip_prefix("dir=")).expect("the job printed its state dir");
    assert!(Path::new(state_dir).is_absolute(), "OPS_STATE_DIR is absolute: {state_dir}");
    assert!(dir.path().join("state/jobs/chk/checkpoint").is_file(), "the checkpoint landed under the state folder");
}

fn keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            out.push(k.clone());
            keys(x, out);
        }),
        Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

#[test]
fn status_json_uses_camel_case_only() {
    let dir = tempfile::tempdir().unwrap();
    let st = dir.path().join("st.sh");
    std::fs::write(&st, "echo '{\"running\":false,\"completed\":false,\"stopReason\":\"paused\",\"progressKey\":\"k7\",\"progress\":{\"done\":7}}'\n").unwrap();
    let job = json!({"id": "scan", "kind": "long_running_read", "risk": "read_only", "enabled": true, "commands": {"start": ["true"], "status": ["sh", st]}});
    std::fs::write(dir.path().join("c.json"), json!({"version": 1, "jobs": [job]}).to_string()).unwrap();
    let o = run(dir.path(), &["status", "--json"]);
    assert!(o.status.success(), "{}", show(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["jobs"][0]["status"]["stopReason"], "paused", "{v}");
    assert_eq!(v["jobs"][0]["status"]["progressKey"], "k7", "{v}");
    let mut all = Vec::new();
    keys(&v, &mut all);
    let snake: Vec<&String> = all.iter().filter(|k| k.contains('_')).collect();
    assert!(snake.is_empty(), "snake_case keys in status --json: {snake:?}");
}

fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

#[test]
fn exit_codes_are_the_ones_readme_lists_and_the_first_stderr_line_is_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let table = readme();
    for row in ["| 0 |", "| 1 |", "| 2 |", "| 3 |"] {
        assert!(table.contains(row), "README's exit code table has {row}");
    }
    // Invalid config: exit 2, and the first line already says what is wrong.
    write(d, "c.json", &json!({"version": 1, "tickSeconds": 0, "jobs": []}));
    let o = run(d, &["validate-config"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let first = String::from_utf8_lossy(&o.stderr).lines().next().unwrap_or("").to_string();
    assert!(first.contains("c.json") && first.contains("tickSeconds: must be at least 1"), "one-line reason first: {first}");
    // Unknown approval id: 2.
    write(d, "c.json", &json!({"version": 1, "jobs": []}));
    assert_eq!(run(d, &["approve", "42"]).status.code(), Some(2));
    // tick with an invalid config but a last good one: 0 (it ran on the last good config).
    assert_eq!(run(d, &["tick", "--print-only"]).status.code(), Some(0));
    write(d, "c.json", &json!({"version": 1, "tickSeconds": 0, "jobs": []}));
    let o = run(d, &["tick", "--print-only"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("ERROR: invalid config"), "{}", show(&o));
    // An unknown job in the audit trail: 2, like run and start; a known one without entries says so.
    write(d, "c.json", &json!({"version": 1, "jobs": [{"id": "w", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["true"]}}]}));
    assert_eq!(run(d, &["audit", "--job", "nosuch"]).status.code(), Some(2));
    let o = run(d, &["audit", "--job", "w"]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("no audit entries for w"), "{}", show(&o));
    // A tokenFile that cannot be read is a config problem: 2, so the unit does not restart on it.
    write(d, "c.json", &json!({"version": 1, "jobs": [], "telegram": {"allowedChatIds": [1], "tokenFile": d.join("missing-token")}}));
    let o = run(d, &["serve"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("telegram.tokenFile cannot be read"), "{}", show(&o));
    // A token but no allowlist: serve refuses with 2 (fail closed), before anything else.
    write(d, "c.json", &json!({"version": 1, "jobs": []}));
    let o = bin()
        .arg("--config-file")
        .arg(d.join("c.json"))
        .arg("--state-file")
        .arg(d.join("s.db"))
        .arg("serve")
        .env("TELEGRAM_BOT_TOKEN", "1:x")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).lines().next().unwrap_or("").contains("fail closed"), "{}", show(&o));
    // A second serve on the same state: 3. The first holds the lock once its lock file exists
    // (it is created and locked in one step); the second is killed if it ever runs on.
    let serve = || {
        bin()
            .arg("--config-file")
            .arg(d.join("c.json"))
            .arg("--state-file")
            .arg(d.join("l.db"))
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut first = serve();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !d.join("l.lock").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut second = serve();
    let mut code = None;
    while code.is_none() && Instant::now() < deadline {
        code = second.try_wait().unwrap().map(|s| s.code());
        std::thread::sleep(Duration::from_millis(20));
    }
    for c in [&mut first, &mut second] {
        let _ = c.kill();
        let _ = c.wait();
    }
    assert_eq!(code, Some(Some(3)), "the second serve exits 3");
}

/// The status JSON of the demo scan (running, done).
fn demo_status(dir: &Path) -> (bool, u64) {
    let o = demo(dir, &["status", "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&o)));
    let job = v["jobs"].as_array().unwrap().iter().find(|j| j["id"] == "disk-scan").cloned().unwrap();
    (job["status"]["running"] == json!(true), job["status"]["progress"]["done"].as_u64().unwrap_or(0))
}

/// The CLI on README's demo config with a private state; the scan steps every 0.3 s (60 steps,
/// so a worker left behind by a failed test ends by itself within 18 s).
fn demo(dir: &Path, args: &[&str]) -> Output {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("ops-jobs.example.json");
    bin().arg("--config-file").arg(example).arg("--state-file").arg(dir.join("state.db")).args(args).env("SCAN_STEP_SECONDS", "0.3").output().unwrap()
}

#[test]
fn the_demo_scan_stops_with_its_stop_command_and_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(demo(d, &["start", "disk-scan"]).status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while demo_status(d).1 < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = demo(d, &["stop", "disk-scan"]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("stopped at item"), "the demo's own stop command ran:\n{}", show(&o));
    let (running, done) = demo_status(d);
    assert!(!running && done >= 2, "stopped at once, checkpoint kept: running={running} done={done}");
    let o = demo(d, &["start", "disk-scan"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("resuming at item {done}")), "{}", show(&o));
    assert!(demo(d, &["stop", "disk-scan"]).status.success());
    let readme = readme();
    assert!(!readme.contains("run it again\nand the scan resumes where it stopped"), "README no longer says Ctrl-C stops the scan");
}

#[test]
fn the_systemd_example_lingers_keeps_the_token_private_and_does_not_loop_on_a_bad_config() {
    let unit = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ops-monitor.service")).unwrap();
    let settings: Vec<&str> = unit.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
    assert!(unit.contains("loginctl enable-linger"), "a user service needs lingering to start at boot");
    assert!(unit.contains("umask 077") && unit.contains("read -rs"), "bot.env is written private, the token typed at a prompt");
    assert!(!unit.contains("\"<token>\""), "no install step puts the token on a command line");
    assert!(!settings.iter().any(|l| l.contains("network-online.target")), "a user unit cannot order after network-online.target");
    // What KillMode=process leaves running: the detached long jobs always; commands in flight only
    // when serve dies without a clean stop (tests/watched.rs proves a clean stop ends them).
    let readme = readme();
    for text in [&unit, &readme] {
        let flat = text.replace("\n# ", " ").replace('\n', " ");
        assert!(flat.contains("Only when serve dies without a clean stop (a crash, kill -9, the watchdog's abort"), "what KillMode leaves running");
        assert!(
            flat.contains("SIGKILL after the job's killGraceSeconds") || flat.contains("SIGKILL after the job's `killGraceSeconds`"),
            "how a clean stop ends them"
        );
        assert!(!flat.contains("finish unsupervised"), "a clean stop does not leave commands in flight running");
    }
    let code: i32 = settings.iter().find_map(|l| l.strip_prefix("RestartPreventExitStatus=")).expect("RestartPreventExitStatus").trim().parse().unwrap();
    // The code it names is the one serve exits with on an invalid config.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.json"), r#"{"version": 1, "tickSeconds": 0, "jobs": []}"#).unwrap();
    let o = run(dir.path(), &["serve"]);
    assert_eq!(o.status.code(), Some(code), "{}", show(&o));
}

/// README's demo command, as README spells it (the part from `--config-file` on).
fn readme_demo_args() -> Vec<String> {
    let line = blocks(&readme(), "sh")
        .iter()
        .flat_map(|b| b.lines().map(str::to_string).collect::<Vec<_>>())
        .find(|l| l.contains("ops-jobs.example.json") && l.split_whitespace().any(|w| w == "serve"))
        .expect("README shows the demo's serve command");
    let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    let from = words.iter().position(|w| w == "--config-file").expect("the demo command names its config");
    words[from..].to_vec()
}

#[test]
fn the_readme_demo_prints_to_the_console_even_where_an_openclaw_token_exists() {
    // An OpenClaw install with a bot token and an allowlist: without asking for the console,
    // serve would report to that bot's chats.
    let home = tempfile::tempdir().unwrap();
    let tg = crate::support::fake_tg::FakeTg::start(crate::support::TOKEN);
    let openclaw = json!({"channels": {"telegram": {"botToken": crate::support::TOKEN, "allowFrom": [crate::support::ME]}}});
    std::fs::write(home.path().join("openclaw.json"), openclaw.to_string()).unwrap();
    let mut args = readme_demo_args();
    let state = args.iter().position(|a| a == "--state-file").expect("the demo command names its state file") + 1;
    args[state] = home.path().join("demo/state.db").display().to_string();
    let mut child = bin()
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("OPENCLAW_HOME", home.path())
        .env("TELEGRAM_API_URL", tg.url())
        .env("SCAN_STEP_SECONDS", "0.3")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let report = rx.recv_timeout(Duration::from_secs(20)).ok().filter(|l| l.starts_with("Ops report"));
    let _ = child.kill();
    let _ = child.wait();
    assert!(report.is_some(), "the demo's first report is printed on the console: {report:?}");
    assert_eq!(tg.count("sendmessage") + tg.count("getupdates"), 0, "the demo did not use the OpenClaw bot: {:?}", tg.requests());
}

#[test]
fn the_demo_status_counts_a_zombie_worker_as_dead() {
    let dir = tempfile::tempdir().unwrap();
    // A child that has exited but is not reaped yet (this test is its parent): `kill -0` still
    // finds it; the demo's status must not.
    let mut zombie = Command::new("true").spawn().unwrap();
    let stat = format!("/proc/{}/stat", zombie.id());
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&stat).map_or(true, |s| !s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z'))) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::write(dir.path().join("pid"), zombie.id().to_string()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/jobs/scan-status.sh");
    let o = Command::new("sh").arg(script).env("OPS_STATE_DIR", dir.path()).output().unwrap();
    let _ = zombie.wait();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&o)));
    assert_eq!(v["running"], json!(false), "a zombie worker is not running: {v}");
}

#[test]
fn the_demo_is_visible_at_any_hour_shows_an_approval_and_can_be_reset() {
    let example: Value = serde_json::from_str(&std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ops-jobs.example.json")).unwrap()).unwrap();
    let quiet = &example["defaults"]["quietHours"];
    assert!(quiet.is_null() || *quiet == json!(false), "no quiet hours in the demo: {quiet}");
    assert!(example["jobs"].as_array().unwrap().iter().all(|j| j["policy"].get("quietHours").is_none()), "no job brings its own");
    let write = example["jobs"].as_array().unwrap().iter().find(|j| j["kind"] == "one_shot_write").expect("the demo has a write job");
    assert_eq!(write["enabled"], json!(true), "its approval can be tried");
    let readme = readme();
    assert!(readme.contains("demo approve 1") && readme.contains("\nrm -rf /tmp/ops-demo\n"), "README shows the approval and the reset");
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes.
fn anchor(heading: &str) -> String {
    heading.trim().to_lowercase().chars().filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' ')).map(|c| if c == ' ' { '-' } else { c }).collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(text: &str) -> Vec<String> {
    let mut fence = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
        } else if !fence && line.starts_with('#') {
            out.push(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

#[test]
fn every_link_of_readme_and_the_reference_lands_inside_the_repository_on_a_heading_that_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().unwrap();
    let mut broken = Vec::new();
    for doc in USER_DOCS {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        let dir = root.join(doc).parent().unwrap().to_path_buf();
        for target in text.split("](").skip(1).filter_map(|t| t.split(')').next()) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, hash) = target.split_once('#').map_or((target, None), |(f, h)| (f, Some(h)));
            let path = if file.is_empty() { root.join(doc) } else { dir.join(file) };
            let Ok(path) = path.canonicalize() else {
                broken.push(format!("{doc}: {target}: no such file"));
                continue;
            };
            if !path.starts_with(&root) {
                broken.push(format!("{doc}: {target}: outside the repository"));
            } else if let Some(h) = hash {
                if !anchors(&std::fs::read_to_string(&path).unwrap_or_default()).iter().any(|a| a == h) {
                    broken.push(format!("{doc}: {target}: no such heading"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.contains("](docs/REFERENCE.md)"), "README links the reference");
}
