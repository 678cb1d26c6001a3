//! Adversarial chat input from allowed and unknown chats: nothing runs, strangers get nothing,
//! no invalid request reaches Telegram, and neither the token nor refused text is logged.

use crate::support;

use serde_json::json;
use std::time::Duration;
use support::*;

const T: Duration = Duration::from_secs(30);

const HOSTILE: &[&str] = &[
    "/start $(id)",
    "/run x; rm -rf /",
    "/run `touch /tmp/pwned`",
    "/stop --help",
    "/status -100123",
    "/logs ../../etc/passwd",
    "/start@ops_bot",
    "/definitely_not_a_command",
    "/start scan\n/stop scan",
    "/lang <b>&amp;",
    "/status 🙂🙂 مرحبا שלום \u{202e}evil",
    "/",
    "hello there",
];

#[test]
fn hostile_commands_run_nothing_and_strangers_get_nothing() {
    let env = Env::new();
    let marker = env.path().join("ran");
    let act = env.script("act.sh", &format!("touch {}\n", marker.display()));
    let st = env.script("st.sh", "echo '{\"running\":false,\"completed\":false}'\n");
    let mut job = long_job("scan", &st, json!({}));
    job["commands"]["start"] = json!(["sh", act]);
    job["commands"]["stop"] = json!(["sh", act]);
    let check = json!({"id": "chk", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", act]}});
    env.config(json!([job, check]), json!({"telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    let long = format!("/start {}", "A".repeat(10_000));
    let mut inputs: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
    inputs.push(long);
    for text in &inputs {
        env.tg.message(STRANGER, STRANGER, text);
        env.tg.message(ME, ME, text);
    }
    env.tg.message(ME, ME, "/help");
    // Updates of one chat are handled in order: the /help reply means all of ME's were handled.
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("/status —")).is_some(), "help reply");
    let n = inputs.len() as i64;
    assert!(
        eventually(T, || env.count(&format!("SELECT COUNT(*) FROM events WHERE kind='refused' AND chat_id={STRANGER}")) == n),
        "every stranger message refused and counted"
    );
    assert!(env.tg.to_chat(STRANGER).is_empty(), "a stranger got a reply");
    assert!(!marker.exists(), "a hostile command ran a job");
    assert_eq!(env.count("SELECT COUNT(*) FROM runs"), 0, "no run recorded");
    assert!(env.tg.rejected().is_empty(), "invalid requests reached Telegram: {:?}", env.tg.rejected());
    let replies = env.tg.to_chat(ME).len();
    assert!(replies <= inputs.len() + 2, "at most a reply per message ({replies})");
    let log = env.log();
    assert!(!log.contains(TOKEN.split(':').nth(1).unwrap()), "token in the log");
    assert!(!log.contains("rm -rf") && !log.contains("$(id)"), "refused message text logged:\n{log}");
    stop(d);
}
