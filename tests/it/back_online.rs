//! "Back online" through the binary and the fake Bot API: after kill -9 the restarted daemon
//! says it is back (silently, once per report chat); a clean stop and a quick restart say
//! nothing; a clean stop followed by a long gap says it too.

use crate::support;

use serde_json::json;
use std::time::Duration;
use support::{eventually, stop, Env, GROUP, ME};

fn meta(env: &Env, key: &str) -> Option<String> {
    env.db().ok()?.query_row("SELECT value FROM meta WHERE key=?1", [key], |r| r.get(0)).ok()
}

fn backs(env: &Env, chat: i64) -> Vec<support::fake_tg::Sent> {
    env.tg.to_chat(chat).into_iter().filter(|m| m.text.contains("ops-monitor is back")).collect()
}

/// Starts serve and waits until it has recorded this run (the "back" decision is made by then).
fn start(env: &Env) -> support::Daemon {
    let d = env.serve();
    let pid = d.id().to_string();
    assert!(eventually(Duration::from_secs(15), || meta(env, "serve_pid") == Some(pid.clone())), "serve did not start:\n{}", env.log());
    d
}

#[test]
fn kill_9_then_restart_says_back_once_per_report_chat_silently_and_a_clean_quick_restart_says_nothing() {
    let env = Env::new();
    let state = env.path().join("scan.json");
    std::fs::write(&state, r#"{"running": true, "completed": false}"#).unwrap();
    let status = env.script("status.sh", &format!("cat {}\n", state.display()));
    env.config(json!([support::long_job("scan", &status, json!({}))]), json!({}));
    let mut first = start(&env);
    assert!(env.tg.wait_for(Duration::from_secs(10), |m| m.chat_id == ME && m.text.contains("running")).is_some(), "first tick not reported");
    first.kill().unwrap(); // SIGKILL: no clean stop recorded
    first.wait().unwrap();
    // While nobody watches, the job dies.
    std::fs::write(&state, r#"{"running": false, "completed": false, "stopReason": "crashed"}"#).unwrap();
    assert_eq!(meta(&env, "serve_clean_stop").as_deref(), Some("0"));

    let second = start(&env);
    for chat in [ME, GROUP] {
        let m = env.tg.wait_for(Duration::from_secs(10), |m| m.chat_id == chat && m.text.contains("ops-monitor is back")).expect("a back message");
        assert!(m.text.contains("unclean stop") && m.text.contains("down "), "{}", m.text);
        let host = rustix::system::uname().nodename().to_string_lossy().trim().to_string();
        assert!(m.text.starts_with(&format!("{host}: ops-monitor is back")), "the back message names the host: {}", m.text);
        assert!(m.silent(), "the back message rang");
        // What changed meanwhile follows the back message.
        let alert = env.tg.wait_for(Duration::from_secs(10), |m| m.chat_id == chat && m.text.contains("crashed")).expect("the job's death reported");
        assert!(alert.message_id > m.message_id, "the alert came before the back message");
    }
    stop(second);
    assert_eq!(meta(&env, "serve_clean_stop").as_deref(), Some("1"), "the clean stop was not recorded");

    let third = start(&env);
    // Anything the third start queued is in the outbox once its run is recorded.
    assert!(eventually(Duration::from_secs(10), || env.count("SELECT COUNT(*) FROM outbox WHERE status='pending'") == 0));
    assert_eq!(env.count("SELECT COUNT(*) FROM outbox WHERE text LIKE '%is back%'"), 2, "a clean, quick restart announced itself");
    assert_eq!(backs(&env, ME).len(), 1);
    stop(third);
}

#[test]
fn a_clean_stop_followed_by_a_long_gap_says_back_with_its_length() {
    let env = Env::new();
    env.config(json!([]), json!({"telegram": {"reportChatIds": [ME]}}));
    stop(start(&env));
    let ago = chrono::Utc::now().timestamp() - 25 * 60;
    env.db().unwrap().execute("UPDATE meta SET value=?1 WHERE key='serve_alive_at'", [ago.to_string()]).unwrap();
    let d = start(&env);
    let m = env.tg.wait_for(Duration::from_secs(10), |m| m.chat_id == ME && m.text.contains("ops-monitor is back")).expect("a back message");
    assert!(m.text.contains("down 25 min") && m.text.contains("stopped cleanly"), "{}", m.text);
    assert!(backs(&env, GROUP).is_empty(), "a chat that gets no reports was told");
    stop(d);
}
