//! Where `serve` gets its token and allowlist, failing closed, and shutting down on SIGINT.

use crate::support;

use serde_json::json;
use std::process::Stdio;
use std::time::Duration;
use support::*;

const T: Duration = Duration::from_secs(20);

/// `serve` without the token in its environment (the config or openclaw.json must supply it).
fn serve_without_env_token(env: &Env) -> Daemon {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(env.path().join("serve.log")).unwrap();
    let mut c = env.cli();
    c.arg("serve").env_remove("TELEGRAM_BOT_TOKEN").env("RUST_LOG", "info").stdout(Stdio::piped()).stderr(log);
    Daemon(c.spawn().unwrap())
}

fn job(env: &Env) -> serde_json::Value {
    json!([long_job("scan", &env.script("st.sh", "echo '{\"running\":true,\"completed\":false}'\n"), json!({}))])
}

#[test]
fn the_token_comes_from_telegram_token_file() {
    let env = Env::new();
    std::fs::write(env.path().join("bot-token.txt"), format!("{TOKEN}\n")).unwrap();
    env.config(job(&env), json!({"telegram": {"tokenFile": env.path().join("bot-token.txt")}}));
    let d = serve_without_env_token(&env);
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Ops report")).is_some(), "{}", env.log());
    stop(d);
}

#[test]
fn openclaw_json_gives_the_token_and_its_allow_from_is_the_allowlist_when_the_config_has_none() {
    let env = Env::new();
    let openclaw = json!({"channels": {"telegram": {"botToken": TOKEN, "allowFrom": ["222"]}}});
    std::fs::write(env.path().join("openclaw.json"), openclaw.to_string()).unwrap();
    env.config(job(&env), json!({"telegram": {"allowedChatIds": [], "approverUserIds": [222, 333]}}));
    let d = serve_without_env_token(&env);
    assert!(env.tg.wait_for(T, |m| m.chat_id == 222 && m.text.contains("Ops report")).is_some(), "{}", env.log());
    // Approvers are checked against that allowlist: 222 is reachable, 333 is named.
    let log = env.log();
    assert!(log.contains("user 333's private chat is not in openclaw.json's channels.telegram.allowFrom"), "{log}");
    assert!(!log.contains("user 222"), "an approver allowFrom lets in is fine:\n{log}");
    env.tg.message(ME, ME, "/status");
    env.tg.message(222, 222, "/status");
    assert!(env.tg.wait_for(T, |m| m.chat_id == 222 && m.text.contains(" · 1 job (")).is_some(), "allowFrom chat answered");
    assert!(env.tg.to_chat(ME).is_empty(), "a chat outside allowFrom gets nothing");
    stop(d);
}

#[test]
fn a_token_with_an_empty_allowlist_refuses_to_start() {
    let env = Env::new();
    env.config(job(&env), json!({"telegram": {"allowedChatIds": []}}));
    let mut d = env.serve();
    let st = wait_exit(&mut d, T).expect("serve exits");
    assert!(!st.success());
    let log = env.log();
    assert!(log.contains("allowlist is empty") && log.contains("fail closed"), "{log}");
    assert!(env.tg.requests().is_empty(), "nothing was sent to Telegram: {:?}", env.tg.requests());
}

#[test]
fn sigint_shuts_serve_down_cleanly() {
    let env = Env::new();
    env.config(job(&env), json!({}));
    let mut d = env.serve();
    assert!(env.tg.wait_for(T, |m| m.text.contains("Ops report")).is_some());
    rustix::process::kill_process(rustix::process::Pid::from_raw(d.id() as i32).unwrap(), rustix::process::Signal::INT).unwrap();
    let st = wait_exit(&mut d, Duration::from_secs(5)).expect("exits within 5 s");
    assert!(st.success(), "{st:?}: {}", env.log());
}

#[test]
fn serve_names_a_config_typo_at_start_and_again_when_the_file_changes() {
    let env = Env::new();
    let mut jobs = job(&env);
    jobs[0]["enable"] = json!(true);
    env.config(jobs.clone(), json!({}));
    let d = env.serve();
    assert!(support::eventually(T, || env.log().contains("jobs[0].enable: unknown key, ignored; did you mean `enabled`?")), "{}", env.log());
    // A later edit with another typo is named when the daemon picks the file up.
    jobs[0]["polcy"] = json!({});
    env.config(jobs, json!({}));
    assert!(support::eventually(T, || env.log().contains("jobs[0].polcy: unknown key, ignored; did you mean `policy`?")), "{}", env.log());
    stop(d);
}
