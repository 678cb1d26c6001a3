//! `ops-monitor setup` against the fake Bot API: the chat id learnt from the first private /start,
//! a starter config that validates, a token file others cannot read, a greeting in the chat,
//! and a refusal (with what to do) for each way it can fail.

use crate::support::{self, Env, GROUP, ME, STRANGER, TOKEN};
use serde_json::Value;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};
use std::time::Duration;

fn setup(env: &Env, args: &[&str]) -> Command {
    let mut c = env.cli();
    c.arg("setup").args(args).env("TELEGRAM_API_URL", env.tg.url());
    c
}

fn show(o: &Output) -> String {
    format!("exit {:?}\n--- stdout\n{}--- stderr\n{}", o.status.code(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn setup_learns_the_chat_from_the_first_private_start_writes_a_private_token_and_a_valid_config_and_greets() {
    let env = Env::new();
    let (out_file, err_file) = (env.path().join("setup.out"), env.path().join("setup.err"));
    let child = setup(&env, &["--wait", "60"]).stdout(File::create(&out_file).unwrap()).stderr(File::create(&err_file).unwrap()).spawn().unwrap();
    let mut child = support::Daemon(child);
    assert!(support::eventually(Duration::from_secs(20), || env.tg.requests().iter().any(|r| r == "getupdates")), "setup polls for updates");
    // A group message and a private chat saying something else are not taken; the first /start is.
    env.tg.message(GROUP, STRANGER, "/status");
    env.tg.message(STRANGER, STRANGER, "hello");
    env.tg.message(ME, ME, "/start");
    let status = support::wait_exit(&mut child, Duration::from_secs(20)).expect("setup ends once it has the chat");
    let o = Output { status, stdout: std::fs::read(&out_file).unwrap(), stderr: std::fs::read(&err_file).unwrap() };
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("@ops_bot") && out.contains(&format!("chat id {ME}")), "names the bot and whom it took:\n{}", show(&o));
    assert!(out.contains("doctor") && out.contains("serve"), "prints the next steps:\n{out}");
    let secret = TOKEN.split_once(':').unwrap().1;
    assert!(!out.contains(secret) && !String::from_utf8_lossy(&o.stderr).contains(secret), "the token is never printed");

    // The config: this person allowed and approving, the token by file; it validates.
    let cfg: Value = serde_json::from_str(&std::fs::read_to_string(env.path().join("c.json")).unwrap()).unwrap();
    assert_eq!(cfg["telegram"]["allowedChatIds"], serde_json::json!([ME]), "{cfg}");
    assert_eq!(cfg["telegram"]["approverUserIds"], serde_json::json!([ME]), "{cfg}");
    let v = env.cli().arg("validate-config").output().unwrap();
    assert!(v.status.success() && v.stderr.is_empty(), "the starter config validates without warnings:\n{}", show(&v));
    // The token file: only its owner can read it, in a folder only its owner can enter.
    let token_file = env.path().join(cfg["telegram"]["tokenFile"].as_str().unwrap());
    assert_eq!(std::fs::read_to_string(&token_file).unwrap().trim(), TOKEN);
    assert_eq!(mode(&token_file), 0o600, "token file mode");
    assert_eq!(mode(token_file.parent().unwrap()), 0o700, "token folder mode");
    // The greeting reached the person, and nobody else got anything.
    let greeting = env.tg.to_chat(ME);
    assert!(greeting.len() == 1 && greeting[0].text.contains("connected"), "{greeting:?}");
    assert!(env.tg.to_chat(STRANGER).is_empty() && env.tg.to_chat(GROUP).is_empty());

    // The next step works from the files alone (no token in the environment): a test message arrives.
    let d = env.cli().args(["doctor", "--send-test"]).env_remove("TELEGRAM_BOT_TOKEN").output().unwrap();
    assert!(String::from_utf8_lossy(&d.stdout).contains(&format!("test message sent to chat {ME}")), "{}", show(&d));
    assert!(env.tg.eventually(Duration::from_secs(5), |sent| sent.iter().any(|m| m.chat_id == ME && m.text.contains("test message"))));
}

#[test]
fn setup_with_a_chat_id_does_not_wait_and_never_overwrites_a_config_unless_forced() {
    let env = Env::new();
    env.config(serde_json::json!([]), serde_json::json!({}));
    let before = std::fs::read_to_string(env.path().join("c.json")).unwrap();
    let o = setup(&env, &["--chat-id", &ME.to_string()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let first = String::from_utf8_lossy(&o.stderr).lines().next().unwrap_or("").to_string();
    assert!(first.contains("exists") && first.contains("--force"), "the refusal says what to do: {first}");
    assert_eq!(std::fs::read_to_string(env.path().join("c.json")).unwrap(), before, "the config is untouched");

    let o = setup(&env, &["--chat-id", &ME.to_string(), "--force"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(std::fs::read_to_string(env.path().join("c.json.bak")).unwrap(), before, "the old config is kept");
    assert_eq!(env.tg.count("getupdates"), 0, "--chat-id skips the wait");
    assert!(env.tg.to_chat(ME).iter().any(|m| m.text.contains("connected")), "greeted");
    assert!(env.cli().arg("validate-config").output().unwrap().status.success());
}

#[test]
fn setup_says_what_to_do_when_no_start_comes_or_the_token_is_refused_or_the_chat_never_opened_the_bot() {
    let env = Env::new();
    let o = setup(&env, &["--wait", "1"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("t.me/ops_bot") && err.contains("press Start"), "{}", show(&o));
    assert!(!env.path().join("c.json").exists(), "nothing written");

    env.tg.unopened(4242);
    let o = setup(&env, &["--chat-id", "4242"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("has not opened the bot: open t.me/ops_bot"), "{}", show(&o));
    assert!(!env.path().join("c.json").exists(), "nothing written");

    let o = setup(&env, &["--chat-id", "1"]).env("TELEGRAM_BOT_TOKEN", "777:wrong-secret").output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("refused the token") && err.contains("@BotFather") && !err.contains("wrong-secret"), "{}", show(&o));

    let o = setup(&env, &[]).env_remove("TELEGRAM_BOT_TOKEN").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("TELEGRAM_BOT_TOKEN"), "{}", show(&o));
}
