//! `ops-monitor doctor` through the binary, against the fake Bot API: it names what is broken
//! (a missing program, a status command off contract, a chat that never opened the bot) and
//! passes once each is fixed; `--send-test` reaches every report chat; a dead heartbeat URL is named,
//! one that answers is ok; an invalid config is named with its file and JSON path; a state that
//! others can write is an error, one they can only read a warning; approvers are listed; a status command
//! that times out is an error.

use crate::support;

use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;
use support::{long_job, ping_server, Env, ME, TOKEN};

const NEWCOMER: i64 = 4242;

fn doctor(env: &Env, args: &[&str]) -> (i32, String) {
    let out = env.cli().arg("doctor").args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains(TOKEN.split_once(':').unwrap().1), "doctor printed the token:\n{text}");
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn doctor_names_a_missing_program_a_bad_status_and_an_unopened_chat_then_passes_once_fixed() {
    let env = Env::new();
    let status = env.script("status.sh", "echo 'not json'\n");
    let check = json!({"id": "disk", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["./tool.sh", "--quick"]}});
    env.config(json!([check, long_job("scan", &status, json!({}))]), json!({"telegram": {"allowedChatIds": [ME, NEWCOMER]}}));
    env.tg.unopened(NEWCOMER);

    let (code, text) = doctor(&env, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.lines().any(|l| l.starts_with("ERROR") && l.contains("jobs[0].commands.run[0]") && l.contains("\"./tool.sh\" not found")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("ERROR") && l.contains("jobs[1].commands.status") && l.contains("JSON")), "{text}");
    assert!(text.contains(&format!("ERROR chat {NEWCOMER} has not opened the bot: open t.me/ops_bot and press Start")), "{text}");
    assert!(text.contains(&format!("ok    chat {ME} is reachable")), "{text}");
    assert!(text.contains("Telegram token found in the environment variable TELEGRAM_BOT_TOKEN"), "{text}");
    assert!(text.contains("getMe: the bot is @ops_bot"), "{text}");

    // Fix all three: the program exists, the status answers the contract, the person pressed Start.
    let tool = env.script("tool.sh", "#!/bin/sh\necho ok\n");
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.script("status.sh", "echo '{\"running\": true, \"completed\": false}'\n");
    env.tg.message(NEWCOMER, NEWCOMER, "/start");
    let (code, text) = doctor(&env, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("valid contract JSON (running=true, completed=false)"), "{text}");
    assert!(text.contains(&format!("ok    chat {NEWCOMER} is reachable")), "{text}");
    assert!(env.tg.to_chat(ME).is_empty(), "doctor without --send-test sent a message");
}

#[test]
fn send_test_reaches_each_report_chat_and_a_non_executable_program_is_named() {
    let env = Env::new();
    let tool = env.script("tool.sh", "#!/bin/sh\necho ok\n");
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o644)).unwrap();
    let check = json!({"id": "disk", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": [tool]}});
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    env.config(json!([check]), json!({"telegram": {"reportChatIds": [ME]}, "heartbeat": {"url": format!("http://127.0.0.1:{closed}/ping")}}));
    let (code, text) = doctor(&env, &["--send-test"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("is not executable: chmod +x"), "{text}");
    assert!(text.contains(&format!("ERROR heartbeat.url http://127.0.0.1:{closed}/ping: does not answer")), "{text}");
    assert!(text.contains(&format!("ok    test message sent to chat {ME}")), "{text}");
    assert!(env.tg.wait_for(Duration::from_secs(5), |m| m.chat_id == ME && m.text.contains("test message")).is_some());
    assert_eq!(env.tg.to_chat(support::GROUP).len(), 0, "the test went to a chat that gets no reports");
}

#[test]
fn a_script_run_through_an_interpreter_is_checked_too() {
    let env = Env::new();
    let here = env.script("here.sh", "echo ok\n");
    let jobs = json!([
        {"id": "gone", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", "missing.sh"]}},
        {"id": "here", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", here]}},
        {"id": "inline", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", "-c", "echo ok"]}}
    ]);
    env.config(jobs, json!({}));
    let (code, text) = doctor(&env, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("ERROR") && l.contains("jobs[0].commands.run[0] (gone)") && l.contains("script \"missing.sh\" of sh not found")),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("ok") && l.contains("(here)") && l.contains("here.sh")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("ok") && l.contains("(inline)")), "sh -c is not a script: {text}");
}

#[test]
fn a_failing_getme_says_whether_the_token_was_refused_or_telegram_is_unreachable() {
    let env = Env::new();
    env.config(json!([]), json!({}));
    // A token Telegram does not know.
    let out = env.cli().arg("doctor").env("TELEGRAM_BOT_TOKEN", "123:wrong-token-xyz").output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("getMe failed: Telegram refused the token") && text.contains("@BotFather"), "{text}");
    assert!(text.contains("not checked (getMe failed)"), "{text}");
    // An API URL where nothing listens: the URL and the cause are named, not the token blamed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    env.config(json!([]), json!({"telegram": {"apiUrl": format!("http://127.0.0.1:{closed}/")}}));
    let (code, text) = doctor(&env, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains(&format!("cannot reach http://127.0.0.1:{closed}/")) && text.to_lowercase().contains("connection refused"), "{text}");
    assert!(!text.contains("check the token"), "{text}");
}

#[test]
fn an_invalid_config_is_an_error_naming_the_file_and_the_json_path() {
    let env = Env::new();
    let job = json!({"id": "disk", "kind": "one_shot_reed", "risk": "read_only", "enabled": true, "commands": {"run": ["true"]}});
    env.config(json!([job]), json!({}));
    let (code, text) = doctor(&env, &[]);
    assert_eq!(code, 1, "{text}");
    let file = env.path().join("c.json");
    let line = text.lines().find(|l| l.starts_with("ERROR config")).unwrap_or_else(|| panic!("no config error:\n{text}"));
    assert!(line.contains(&file.display().to_string()) && line.contains("jobs[0].kind") && line.contains("validate-config"), "{line}");
    assert!(!text.contains("getMe"), "checks that need a valid config ran anyway:\n{text}");
}

#[test]
fn a_state_others_can_write_is_an_error_and_one_they_can_only_read_a_warning() {
    let env = Env::new();
    env.config(json!([]), json!({}));
    let db = env.path().join("s.db");
    drop(ops_framework::store::Store::open(&db).unwrap());
    let mode = |p: &std::path::Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    mode(env.path(), 0o700);
    mode(&db, 0o600);
    let (code, text) = doctor(&env, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("ok    state file {}: writable, mode 600", db.display())), "{text}");

    mode(env.path(), 0o755);
    mode(&db, 0o644);
    let (code, text) = doctor(&env, &[]);
    assert_eq!(code, 0, "readable by others is a warning, not an error:\n{text}");
    assert!(text.contains(&format!("WARN  state folder {}: mode 755 lets others read it", env.path().display())), "{text}");
    assert!(
        text.contains(&format!("WARN  state file {}: mode 644 lets others read it (job output, chats, audit): chmod 600 {}", db.display(), db.display())),
        "{text}"
    );

    mode(&db, 0o666);
    let (code, text) = doctor(&env, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains(&format!("ERROR state file {}: mode 666 lets others write it (forge an approval or a press): chmod 600", db.display())), "{text}");
    mode(env.path(), 0o700);
}

#[test]
fn approvers_are_listed_and_write_jobs_without_approvers_are_named() {
    let env = Env::new();
    let verify = json!({"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["true"]}});
    let write = json!({"id": "push", "kind": "one_shot_write", "risk": "write_external", "commands": {"run": ["true"]}, "after": [{"jobId": "v"}]});
    env.config(json!([write, verify]), json!({"telegram": {"approverUserIds": [ME, 222]}}));
    let (code, text) = doctor(&env, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("ok    approvers: {ME}, 222")), "{text}");

    env.config(json!([write, verify]), json!({}));
    let (_, text) = doctor(&env, &[]);
    assert!(text.contains("WARN  no telegram.approverUserIds: write jobs (push) can be approved only on the host"), "{text}");
}

#[test]
fn a_heartbeat_url_that_answers_is_ok_and_counts_as_one_ping() {
    let env = Env::new();
    let (base, seen) = ping_server();
    env.config(json!([]), json!({"heartbeat": {"url": format!("{base}/ping/abc")}}));
    let (code, text) = doctor(&env, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("ok    heartbeat.url {base}/ping/abc: answers")), "{text}");
    assert_eq!(*seen.lock().unwrap(), vec!["GET /ping/abc".to_string()]);
}

#[test]
fn a_status_command_that_times_out_is_an_error_within_its_timeout() {
    let env = Env::new();
    let status = env.script("status.sh", "sleep 30\n");
    env.config(json!([long_job("scan", &status, json!({"policy": {"statusTimeoutSeconds": 1, "killGraceSeconds": 0}}))]), json!({}));
    let t0 = std::time::Instant::now();
    let (code, text) = doctor(&env, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(t0.elapsed() < Duration::from_secs(10), "doctor waited {:?} for a status with a 1 s timeout", t0.elapsed());
    let line = text.lines().find(|l| l.contains("jobs[0].commands.status (scan)")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.starts_with("ERROR") && line.contains("timed out"), "{line}");
}
