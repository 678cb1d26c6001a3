//! `ops-monitor doctor` through the binary, against the fake Bot API: it names what is broken
//! (a missing program, a status command off contract, a chat that never opened the bot) and
//! passes once each is fixed; `--send-test` reaches every report chat; a dead heartbeat URL is named.

mod support;

use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;
use support::{long_job, Env, ME, TOKEN};

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
