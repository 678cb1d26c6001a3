//! What people decide (Ack, Snooze, stop) belongs to the job or the alert, not to the copy pressed
//! or to the tick that happened to run: every chat's copy shows it, a member's snooze holds in
//! their chat only, and a state row that cannot be read is told and kept aside.

use crate::support::fake_tg::Sent;
use crate::support::*;
use serde_json::json;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// A job whose status says "ALERT: disk full" on every poll (one alert, one key).
fn alerting(env: &Env) -> serde_json::Value {
    let st = env.script("st.sh", r#"echo '{"running":true,"completed":false,"level":"alert","message":"disk full"}'"#);
    long_job("disk", &st, json!({}))
}

/// The alert's copy in `chat`, with its Ack and Snooze buttons.
fn copy_in(env: &Env, chat: i64) -> Sent {
    env.tg.wait_for(T, |m| m.chat_id == chat && m.text.contains("disk full") && m.button("Ack").is_some()).expect("the alert in the chat")
}

#[test]
fn an_ack_in_one_chat_edits_every_copy_of_the_alert() {
    let env = Env::new();
    env.config(json!([alerting(&env)]), json!({"tickSeconds": 1}));
    let d = env.serve();
    let mine = copy_in(&env, ME);
    let theirs = copy_in(&env, GROUP);
    env.tg.press(&mine, ME, &mine.button("Ack").unwrap());
    let edited = env
        .tg
        .wait_for(T, |m| m.method == "editmessagetext" && m.chat_id == GROUP && m.message_id == theirs.message_id && m.text.contains("Acknowledged by U111"))
        .unwrap_or_else(|| panic!("the group's copy says who acknowledged it: {:#?}\n{}", env.tg.to_chat(GROUP), env.log()));
    assert!(edited.text.contains("disk full"), "the alert stays: {}", edited.text);
    assert!(edited.button("Ack").is_none() && edited.button("Snooze").is_none(), "its Ack and Snooze go: {:?}", edited.body);
    let acked = || env.count("SELECT COUNT(*) FROM job_decisions WHERE job_id='disk' AND acked_key='alert:disk full'") == 1;
    assert!(eventually(T, acked), "the ack is the job's, stored once");
    stop(d);
}

#[test]
fn a_members_snooze_holds_in_their_chat_an_approvers_in_every_chat() {
    let env = Env::new();
    env.config(json!([alerting(&env)]), json!({"tickSeconds": 1}));
    let d = env.serve();
    let mine = copy_in(&env, ME);
    let theirs = copy_in(&env, GROUP);
    let q = env.tg.press(&theirs, 222, &theirs.button("Snooze").unwrap());
    let answer = env.tg.wait_answer(&q, T).expect("the press is answered");
    assert!(answer.contains("in this chat"), "{answer}");
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM chat_snoozes WHERE job_id='disk' AND chat_id=-100500") == 1));
    assert_eq!(env.count("SELECT COUNT(*) FROM job_decisions WHERE snoozed_until IS NOT NULL"), 0, "not snoozed for everyone");
    let q = env.tg.press(&mine, ME, &mine.button("Snooze").unwrap());
    assert!(env.tg.wait_answer(&q, T).expect("answered").contains("every chat"));
    let edited = env
        .tg
        .wait_for(T, |m| m.method == "editmessagetext" && m.chat_id == GROUP && m.message_id == theirs.message_id && m.text.contains("Snoozed by U111"))
        .expect("the approver's snooze shows on the group's copy");
    assert!(edited.button("Snooze").is_none(), "{:?}", edited.body);
    assert_eq!(env.count("SELECT COUNT(*) FROM job_decisions WHERE job_id='disk' AND snoozed_until IS NOT NULL"), 1);
    stop(d);
}

#[test]
fn an_unreadable_job_state_is_told_kept_aside_and_started_fresh() {
    let env = Env::new();
    let st = env.script("st.sh", r#"echo '{"running":true,"completed":false}'"#);
    env.config(json!([long_job("scan", &st, json!({}))]), json!({"telegram": {"allowedChatIds": [ME]}}));
    // A state file with the job's row damaged (a half-written disk, an editor, a newer version).
    assert!(env.cli().args(["status"]).output().unwrap().status.success());
    env.db().unwrap().execute("INSERT OR REPLACE INTO job_state(job_id, state) VALUES ('scan', '{\"last_seen\": 7')", []).unwrap();
    let d = env.serve();
    let told = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("saved state could not be read")).expect("the chat is told");
    assert!(told.text.contains("scan"), "names the job: {}", told.text);
    assert_eq!(env.count("SELECT COUNT(*) FROM job_state_unreadable WHERE job_id='scan' AND raw LIKE '%last_seen%'"), 1, "the row is kept aside");
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM job_state WHERE job_id='scan' AND json_valid(state)") == 1), "the job starts fresh");
    stop(d);
}
