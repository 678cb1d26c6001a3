//! Hardening, second round, through the binary and the fake Bot API: the token's paths to a
//! chat, disabled write jobs, a state folder others can write, and the edges users hit.

use crate::support;

use serde_json::json;
use std::time::Duration;
use support::*;

const T: Duration = Duration::from_secs(30);

/// The token's secret part and its URL-encoded whole: neither may reach a chat.
fn leaked(env: &Env) -> Vec<String> {
    let secret = TOKEN.split_once(':').unwrap().1;
    let encoded = TOKEN.replace(':', "%3A");
    env.tg.sent().iter().map(|m| m.body.to_string()).filter(|b| b.contains(secret) || b.contains(&encoded)).collect()
}

#[test]
fn the_token_never_reaches_a_chat_url_encoded_or_unicode_escaped() {
    let env = Env::new();
    let encoded = TOKEN.replace(':', "%3A");
    let escaped: String = TOKEN.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
    // A check printing the token URL-encoded, and a long job whose status message carries it
    // \u-escaped (the raw output is masked before it is parsed; the escape only decodes after).
    let check = env.script("check.sh", &format!("echo 'calling https://example.invalid/bot{encoded}/getMe'\n"));
    let status = env.script("st.sh", &format!("printf '%s\\n' '{{\"running\":true,\"completed\":false,\"message\":\"{escaped}\"}}'\n"));
    env.config(
        json!([
            {"id": "check", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", check]}},
            long_job("scan", &status, json!({}))
        ]),
        json!({"telegram": {"allowedChatIds": [ME]}}),
    );
    let d = env.serve();
    env.tg.message(ME, ME, "/run check");
    env.tg.message(ME, ME, "/status");
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("calling https")).is_some(), "the check's output came: {:?}", env.tg.to_chat(ME));
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("• scan")).is_some(), "/status answered");
    assert!(
        env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("message: &lt;token&gt;")).is_some(),
        "the decoded token is masked: {:?}",
        env.tg.to_chat(ME)
    );
    assert!(leaked(&env).is_empty(), "the token reached the chat: {:#?}", leaked(&env));
    stop(d);
    // (Env's drop checks that neither the log nor the state file holds it.)
}

#[test]
fn output_stored_by_a_cli_run_that_did_not_know_the_token_is_masked_on_its_way_to_the_chat() {
    let env = Env::new();
    let plain = env.script("plain.sh", &format!("echo 'token is {TOKEN}'\n"));
    env.config(
        json!([{"id": "plain", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", plain]}}]),
        json!({"telegram": {"allowedChatIds": [ME]}}),
    );
    // The service's environment file is not the shell's: this run stores the token as printed.
    let ran = env.cli().env_remove("TELEGRAM_BOT_TOKEN").args(["run", "plain"]).output().unwrap();
    assert!(String::from_utf8_lossy(&ran.stdout).contains("token is"), "{ran:?}");
    let d = env.serve();
    env.tg.message(ME, ME, "/logs plain");
    let logs = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("token is"));
    assert!(logs.is_some_and(|m| m.text.contains("token is &lt;token&gt;")), "/logs masks it: {:?}", env.tg.to_chat(ME));
    assert!(leaked(&env).is_empty(), "the token reached the chat: {:#?}", leaked(&env));
    stop(d);
    // The run this test planted holds the token (the CLI could not know it): remove it, so that
    // Env's own check (log and state file) still guards everything else.
    let db = env.db().unwrap();
    db.execute_batch("DELETE FROM runs; DELETE FROM outbox; VACUUM; PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
}

#[test]
fn a_disabled_write_job_cannot_be_requested_from_the_chat_or_the_cli_nor_approved_once_disabled() {
    let env = Env::new();
    let w = env.script("w.sh", "touch \"$(dirname \"$0\")/wrote\"\n");
    let jobs = |enabled: bool| {
        json!([
            {"id": "w", "kind": "one_shot_write", "risk": "write_local", "enabled": enabled, "commands": {"run": ["sh", w]}, "after": [{"jobId": "v"}]},
            {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["true"]}}
        ])
    };
    env.config(jobs(false), json!({"telegram": {"allowedChatIds": [ME], "approverUserIds": [ME]}}));
    let cli = env.cli().args(["run", "w"]).output().unwrap();
    assert_eq!(cli.status.code(), Some(2), "{cli:?}");
    assert!(String::from_utf8_lossy(&cli.stderr).contains("disabled"), "{cli:?}");
    let d = env.serve();
    env.tg.message(ME, ME, "/run w");
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("w is disabled")).is_some(), "{:?}", env.tg.to_chat(ME));
    assert_eq!(env.count("SELECT COUNT(*) FROM approvals"), 0, "nothing was requested");
    // Asked while enabled, disabled before the press: Approve runs nothing.
    env.config(jobs(true), json!({"telegram": {"allowedChatIds": [ME], "approverUserIds": [ME]}}));
    env.tg.message(ME, ME, "/run w");
    let req = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #")).expect("a request");
    env.config(jobs(false), json!({"telegram": {"allowedChatIds": [ME], "approverUserIds": [ME]}}));
    env.tg.press(&req, ME, &req.button("Approve").unwrap());
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("disabled")).is_some(), "{:?}", env.tg.to_chat(ME));
    assert!(!env.path().join("wrote").exists(), "the disabled write job ran");
    stop(d);
}

#[test]
fn serve_refuses_a_state_folder_or_file_other_users_can_write_and_says_the_chmod() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.config(json!([]), json!({}));
    let state = env.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let serve = |db: &std::path::Path| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_ops-monitor"));
        c.arg("--config-file").arg(env.path().join("c.json")).arg("--state-file").arg(db).arg("serve");
        c.env("TELEGRAM_BOT_TOKEN", TOKEN).env("OPENCLAW_HOME", env.path());
        let mut child = c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
        let status = wait_exit(&mut child, Duration::from_secs(20));
        let _ = child.kill();
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        (status.and_then(|s| s.code()), err)
    };
    let (code, err) = serve(&state.join("s.db"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("mode 777") && err.contains(&format!("chmod 700 {}", state.display())), "{err}");
    assert!(!state.join("s.db").exists(), "nothing was created in it");
    // A private folder with a state file others can write.
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(state.join("s.db"), "").unwrap();
    std::fs::set_permissions(state.join("s.db"), std::fs::Permissions::from_mode(0o666)).unwrap();
    let (code, err) = serve(&state.join("s.db"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("chmod 600"), "{err}");
}

#[test]
fn a_member_sending_100_status_cannot_hold_back_a_crash_alert_in_the_group() {
    let env = Env::new();
    let dead = env.path().join("dead");
    let st = env.script(
        "scan.sh",
        &format!(
            "if [ -f {d} ]; then echo '{{\"running\":false,\"completed\":false,\"stopReason\":\"worker died\"}}'; else echo '{{\"running\":true,\"completed\":false}}'; fi\n",
            d = dead.display()
        ),
    );
    env.config(json!([long_job("scan", &st, json!({}))]), json!({"tickSeconds": 1}));
    let d = env.serve();
    assert!(env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.contains("running")).is_some(), "first sighting: {:?} {}", env.tg.sent(), env.log());
    for _ in 0..100 {
        env.tg.message(GROUP, 222, "/status");
    }
    // Every /status is in: the group's queue is as full as that member can make it.
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM outbox WHERE chat_id=-100500 AND kind='reply'") >= 1));
    std::thread::sleep(Duration::from_secs(2)); // let the burst be handled (the bot answers as it can)
    let crashed = std::time::Instant::now();
    std::fs::write(&dead, "").unwrap();
    let alert = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.contains("crashed"));
    let took = alert.as_ref().map(|m| m.at.duration_since(crashed));
    assert!(took.is_some_and(|t| t <= Duration::from_secs(10)), "the crash alert reached the group after {took:?}");
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM outbox WHERE chat_id=-100500 AND status='pending'") == 0));
    let replies = env.tg.to_chat(GROUP).iter().filter(|m| m.text.contains("• scan") && !m.text.contains("crashed")).count();
    assert!(replies <= 20, "{replies} replies to one member's burst of /status");
    stop(d);
}

#[test]
fn a_crash_alert_goes_out_without_the_tail_when_the_log_is_a_fifo() {
    let env = Env::new();
    let (dead, fifo) = (env.path().join("dead"), env.path().join("job.log"));
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let st = env.script(
        "scan.sh",
        &format!(
            "if [ -f {d} ]; then echo '{{\"running\":false,\"completed\":false,\"logFile\":\"{f}\"}}'; else echo '{{\"running\":true,\"completed\":false,\"logFile\":\"{f}\"}}'; fi\n",
            d = dead.display(),
            f = fifo.display()
        ),
    );
    env.config(json!([long_job("scan", &st, json!({}))]), json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("running")).is_some(), "first sighting");
    std::fs::write(&dead, "").unwrap();
    let alert = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("crashed"));
    let alert = alert.unwrap_or_else(|| panic!("no crash alert: {:?}", env.tg.to_chat(ME)));
    assert!(alert.text.contains("could not be read: not a regular file"), "{}", alert.text);
    stop(d);
}

#[test]
fn an_invalid_config_is_logged_once_not_at_every_tick() {
    let env = Env::new();
    env.config(json!([]), json!({"tickSeconds": 1}));
    let d = env.serve();
    assert!(eventually(T, || env.log().contains("Telegram bot on")));
    std::fs::write(env.path().join("c.json"), "{ not json").unwrap();
    assert!(eventually(T, || env.log().contains("config invalid")), "{}", env.log());
    std::thread::sleep(Duration::from_secs(4)); // an observation window of four global ticks: nothing may be added in it
    assert_eq!(env.log().matches("config invalid").count(), 1, "{}", env.log());
    stop(d);
}

#[test]
fn a_check_that_prints_alert_but_exits_0_is_stored_as_a_failed_run() {
    let env = Env::new();
    let chk = env.script("chk.sh", "echo 'ALERT: disk almost full'\nexit 0\n");
    env.config(json!([{"id": "chk", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", chk]}}]), json!({}));
    let ran = env.cli().args(["run", "chk"]).output().unwrap();
    assert_eq!(ran.status.code(), Some(1), "{ran:?}");
    let db = env.db().unwrap();
    let (ok, summary): (bool, String) = db.query_row("SELECT ok, summary FROM runs WHERE job_id='chk'", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert!(!ok, "stored as a success");
    assert!(summary.contains("ALERT: disk almost full"), "{summary}");
    let status = env.cli().args(["status", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert!(v["jobs"][0]["lastRun"]["summary"].as_str().unwrap().contains("ALERT"), "{v}");
}

#[test]
fn a_bot_api_failing_setmycommands_does_not_keep_the_bot_deaf_at_start() {
    let env = Env::new();
    env.tg.quirk("setmycommands", Some(support::fake_tg::Quirk::ServerError(502)));
    env.config(json!([]), json!({"telegram": {"allowedChatIds": [ME]}}));
    let started = std::time::Instant::now();
    let d = env.serve();
    env.tg.message(ME, ME, "/help");
    let reply = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("/status"));
    let took = reply.map(|m| m.at.duration_since(started));
    // teloxide waits 10 s after each 5xx; the menu registers beside polling, so that wait is not the bot's.
    assert!(took.is_some_and(|t| t < Duration::from_secs(8)), "/help answered after {took:?}");
    stop(d);
}

#[test]
fn get_me_answering_200_with_bad_json_is_not_called_telegram_unreachable() {
    let env = Env::new();
    env.tg.quirk("getme", Some(support::fake_tg::Quirk::Null));
    env.config(json!([]), json!({"telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    assert!(eventually(T, || env.log().contains("not its JSON")), "{}", env.log());
    assert!(!env.log().contains("Telegram unreachable"), "{}", env.log());
    stop(d);
}

#[test]
fn what_a_check_leaves_running_when_it_exits_is_ended_with_it() {
    let env = Env::new();
    let pidfile = env.path().join("orphan.pid");
    let chk = env.script("chk.sh", &format!("sleep 1000 &\necho $! > {}\necho done\n", pidfile.display()));
    env.config(json!([{"id": "chk", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", chk]}}]), json!({}));
    let ran = env.cli().args(["run", "chk"]).output().unwrap();
    assert!(ran.status.success(), "{ran:?}");
    let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    let alive =
        || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with(['Z', 'X'])));
    let gone = eventually(T, || !alive());
    if !gone {
        let _ = rustix::process::kill_process(rustix::process::Pid::from_raw(pid).unwrap(), rustix::process::Signal::KILL);
    }
    assert!(gone, "the check's background sleep (pid {pid}) outlived it");
}
