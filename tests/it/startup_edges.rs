//! Edges of starting and of the token, through the binary and the fake Bot API: polling that
//! does not wait on Telegram's 5xx at start, one exit code for a token file that cannot be read,
//! doctor reading getChat's `ok` rather than every field, and a press on a message Telegram no
//! longer shows the bot.

use crate::support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::fake_tg::Quirk;
use support::*;

const T: Duration = Duration::from_secs(30);

/// Starts `serve`, sends `command` from the owner at once, and says how long after the start the
/// first message to the owner holding `reply` reached the fake (None: not within the deadline).
fn reply_after_start(env: &Env, command: &str, reply: &str) -> (Daemon, Option<Duration>) {
    let started = Instant::now();
    let d = env.serve();
    env.tg.message(ME, ME, command);
    let sent = env.tg.wait_for(T, |m| m.chat_id == ME && m.method == "sendmessage" && m.text.contains(reply));
    (d, sent.map(|m| m.at.duration_since(started)))
}

#[test]
fn a_status_sent_right_after_start_is_answered_while_getwebhookinfo_and_setmycommands_answer_5xx() {
    let env = Env::new();
    env.tg.quirk("getwebhookinfo", Some(Quirk::ServerError(502)));
    env.tg.quirk("setmycommands", Some(Quirk::ServerError(502)));
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"message\":\"hashing\"}'\n");
    env.config(json!([long_job("scan", &st, json!({})), long_job("sync", &st, json!({}))]), json!({"telegram": {"allowedChatIds": [ME]}}));
    let (d, took) = reply_after_start(&env, "/status", " 2 jobs (");
    assert!(env.tg.count("getwebhookinfo") >= 1, "the webhook was checked: {:?}", env.tg.requests());
    // teloxide's own request path sleeps 10 s after each 5xx before polling starts.
    assert!(took.is_some_and(|t| t < Duration::from_secs(6)), "/status answered after {took:?}");
    stop(d);
}

#[test]
fn a_getme_answered_502_at_start_is_retried_without_teloxides_10_s_sleep() {
    let env = Env::new();
    env.tg.quirk("getme", Some(Quirk::ServerErrorTimes(502, 1)));
    env.config(json!([]), json!({"telegram": {"allowedChatIds": [ME]}}));
    let (d, took) = reply_after_start(&env, "/help", "/status");
    assert!(env.tg.count("getme") >= 2, "getMe was asked again: {:?}", env.tg.requests());
    // The retry waits 1 s; teloxide's request path would sleep 10 s inside the failed getMe first.
    assert!(took.is_some_and(|t| t < Duration::from_secs(6)), "/help answered after {took:?}");
    stop(d);
}

#[test]
fn a_token_file_that_cannot_be_read_stops_every_command_that_reads_the_token_with_exit_2() {
    let env = Env::new();
    let ran = env.path().join("ran");
    let chk = env.script("chk.sh", &format!("echo x >> {}\n", ran.display()));
    let missing = env.path().join("no-such-token");
    env.config(
        json!([{"id": "chk", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", chk]}}]),
        json!({"telegram": {"tokenFile": missing}}),
    );
    let file = missing.display().to_string();
    for args in [&["serve"][..], &["tick"], &["tick", "--print-only"], &["run", "chk"], &["status"], &["doctor"]] {
        let o = env.cli().env_remove("TELEGRAM_BOT_TOKEN").args(args).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert_eq!(o.status.code(), Some(2), "{args:?}: {text}");
        let said = text.lines().find(|l| l.contains("telegram.tokenFile cannot be read")).unwrap_or_else(|| panic!("{args:?}: {text}"));
        assert!(said.contains(&file) && said.contains(&format!("chmod 600 {file}")) && said.contains("chown"), "{args:?}: {said}");
    }
    assert!(!ran.exists(), "a command ran the job without the token it masks output with");
    // The file's content is valid: validate-config says so, and warns.
    let o = env.cli().env_remove("TELEGRAM_BOT_TOKEN").arg("validate-config").output().unwrap();
    assert!(o.status.success() && String::from_utf8_lossy(&o.stderr).contains("WARNING: telegram.tokenFile cannot be read"), "{o:?}");
}

#[test]
fn doctor_counts_a_chat_reachable_when_getchat_says_ok_without_every_field_teloxide_wants() {
    let env = Env::new();
    env.config(json!([]), json!({"telegram": {"allowedChatIds": [ME]}}));
    env.tg.quirk("getchat", Some(Quirk::BareChat));
    let o = env.cli().arg("doctor").output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(text.contains(&format!("ok    chat {ME} is reachable")), "{text}");
    assert_eq!(o.status.code(), Some(0), "{text}");
}

#[test]
fn the_owners_press_on_a_message_telegram_no_longer_shows_the_bot_is_honoured() {
    let env = Env::new();
    let ran = env.path().join("ran");
    let chk = env.script("chk.sh", &format!("echo x >> {}\necho checked-ok\n", ran.display()));
    env.config(
        json!([{"id": "chk", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", chk]}}]),
        json!({"telegram": {"allowedChatIds": [ME]}}),
    );
    let d = env.serve();
    env.tg.message(ME, ME, "/run");
    let picker = env.tg.wait_for(T, |m| m.chat_id == ME && m.button("Run chk").is_some()).expect("run picker");
    let q = env.tg.press_inaccessible(&picker, ME, &picker.button("Run chk").unwrap());
    let answer = env.tg.wait_answer(&q, T).expect("the press is answered");
    assert!(!answer.contains("Not allowed"), "{answer}");
    assert!(eventually(T, || ran.exists()), "the press ran the check");
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("checked-ok")).is_some(), "the outcome reached the chat");
    stop(d);
}
