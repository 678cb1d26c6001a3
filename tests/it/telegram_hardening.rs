//! Hardening through `serve` and the fake Bot API: the token never leaves through job output or
//! a log line; approvals survive a press Telegram refuses to answer; outbox operations give up
//! visibly; a flood of requests never holds back the owner's alerts and replies.

use crate::support;

use serde_json::json;
use std::time::Duration;
use support::fake_tg::Quirk;
use support::*;

const T: Duration = Duration::from_secs(20);

fn secret() -> &'static str {
    TOKEN.split_once(':').unwrap().1
}

/// Write job `w` (appends a line to `ran`) verified by `v`.
fn write_job(env: &Env, extra: serde_json::Value) {
    env.script("w.sh", &format!("echo ran >> {}\n", env.path().join("ran").display()));
    let jobs = json!([
        {"id": "w", "kind": "one_shot_write", "enabled": true, "risk": "write_local", "commands": {"run": ["sh", env.path().join("w.sh")]},
         "after": [{"jobId": "v"}]},
        {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["echo", "verified"]}}
    ]);
    env.config(jobs, extra);
}

#[test]
fn job_output_holding_the_token_is_masked_before_it_is_stored_sent_or_logged() {
    let env = Env::new();
    // A job that got hold of the token (here: written into it) prints it in its status and output.
    let status = env.script("s.sh", &format!("echo '{{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"leak {TOKEN}\"}}'\n"));
    let check = env.script("c.sh", &format!("echo ALERT key {TOKEN}; echo {} >&2; exit 1\n", secret()));
    env.config(
        json!([long_job("long", &status, json!({})),
               {"id": "chk", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", check]},
                "policy": {"runEverySeconds": 3600}}]),
        json!({}),
    );
    let d = env.serve();
    let long = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("leak")).expect("the long job's alert");
    let chk = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("(chk,")).expect("the check's alert");
    env.tg.message(ME, ME, "/logs chk");
    let logs = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("ALERT key") && m.text.contains("chk")).expect("/logs reply");
    for m in [&long, &chk, &logs] {
        assert!(!m.text.contains(secret()), "the token reached Telegram: {}", m.text);
        assert!(m.text.contains("&lt;token&gt;") || m.text.contains("<token>"), "masked in place: {}", m.text);
    }
    stop(d);
    // Env's Drop checks serve.log and the database for the secret part.
}

#[test]
fn an_api_error_echoing_the_request_path_is_logged_without_the_token() {
    let env = Env::new();
    write_job(&env, json!({"tickSeconds": 1}));
    env.tg.quirk("editmessagetext", Some(Quirk::EchoPath));
    let d = env.serve();
    env.tg.message(ME, ME, "/run w");
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #1")).expect("request");
    assert!(env.cli().args(["approve", "1"]).output().unwrap().status.success());
    // The request message is edited once decided: the fake answers with the path in the error.
    assert!(eventually(T, || env.tg.count("editmessagetext") >= 1 && env.log().contains("cannot handle")), "no edit error logged:\n{}", env.log());
    let log = env.log();
    assert!(!log.contains(secret()), "the token is in the log:\n{log}");
    assert!(log.contains("/bot<token>/"), "the error is logged, masked:\n{log}");
    stop(d);
}

fn runs(env: &Env) -> usize {
    std::fs::read_to_string(env.path().join("ran")).unwrap_or_default().lines().count()
}

#[test]
fn a_press_telegram_refuses_to_answer_still_approves() {
    let env = Env::new();
    write_job(&env, json!({}));
    let d = env.serve();
    env.tg.message(ME, ME, "/run w");
    let req = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #1")).expect("request");
    // Presses queued while the daemon was down: Telegram says "query is too old" to every answer.
    env.tg.quirk("answercallbackquery", Some(Quirk::TooOld));
    env.tg.press(&req, ME, &req.button("Approve").unwrap());
    assert!(eventually(T, || runs(&env) == 1), "the approval was lost with the refused answer");
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("#1") && m.text.contains("exit 0")).expect("the run is reported");
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM approvals WHERE id=1 AND state='succeeded'") == 1));
    stop(d);
    assert_eq!(runs(&env), 1, "once");
}

#[test]
fn an_edit_whose_answer_never_parses_is_given_up_visibly() {
    let env = Env::new();
    write_job(&env, json!({}));
    // An emulator that answers editMessageText with `null`.
    env.tg.quirk("editmessagetext", Some(Quirk::Null));
    let d = env.serve();
    env.tg.message(ME, ME, "/run w");
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #1")).expect("request");
    assert!(env.cli().args(["approve", "1"]).output().unwrap().status.success());
    assert!(eventually(Duration::from_secs(40), || env.log().contains("gave up editing the request message")), "retried without end:\n{}", env.log());
    let edits = env.tg.count("editmessagetext");
    assert!(edits <= 5, "{edits} attempts");
    assert!(!eventually(Duration::from_secs(5), || env.tg.count("editmessagetext") > edits), "no attempt after giving up");
    stop(d);
}

/// A member of the allowed group who is not an approver.
const BOB: i64 = 333;

#[test]
fn a_request_flood_reaches_the_approver_once_per_job_and_never_delays_their_replies() {
    let env = Env::new();
    let mut jobs: Vec<serde_json::Value> = (0..8)
        .map(|i| json!({"id": format!("w{i}"), "kind": "one_shot_write", "enabled": true, "risk": "write_local", "commands": {"run": ["true"]}, "after": [{"jobId": "v"}]}))
        .collect();
    jobs.push(json!({"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["true"]}}));
    env.config(serde_json::Value::Array(jobs), json!({"telegram": {"approverUserIds": [ME]}}));
    let d = env.serve();
    // A group member who may not approve asks for every write job, then 40 times for the first.
    for i in 0..8 {
        env.tg.message(GROUP, BOB, &format!("/run w{i}"));
    }
    for _ in 0..40 {
        env.tg.message(GROUP, BOB, "/run w0");
    }
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM audit WHERE event='requested'") == 8), "one request per job");
    // The approver's own command, while their chat still has requests queued.
    let asked = std::time::Instant::now();
    env.tg.message(ME, ME, "/help");
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Commands of ")).expect("the help reply");
    let waited = asked.elapsed();
    let requests_before = env.tg.to_chat(ME).iter().take_while(|m| !m.text.contains("Commands of ")).filter(|m| m.text.contains("Approval request")).count();
    println!("flood: the approver's /help reply took {waited:?}, {requests_before} of 8 queued requests went before it");
    assert!(waited < Duration::from_secs(4), "the reply waited {waited:?} behind the requests");
    assert!(requests_before < 8, "the reply went ahead of the queued requests ({requests_before} before it)");
    // Each job's request reaches the approver once, however often it was asked for.
    assert!(eventually(T, || env.tg.to_chat(ME).iter().filter(|m| m.text.contains("Approval request")).count() >= 8));
    assert!(!eventually(Duration::from_secs(2), || env.tg.to_chat(ME).iter().filter(|m| m.text.contains("Approval request")).count() > 8));
    // The asking group holds at most one waiting copy per request: 40 asks did not queue 40
    // messages ahead of the group's own alerts.
    // (The group's own /help after the flood is queued once every ask before it was handled.)
    env.tg.message(GROUP, BOB, "/help");
    assert!(eventually(T, || env.count(&format!("SELECT COUNT(*) FROM outbox WHERE chat_id={GROUP} AND text LIKE '%Commands of%'")) == 1));
    let copies = env.count(&format!("SELECT COUNT(*) FROM outbox WHERE chat_id={GROUP} AND text NOT LIKE '%Commands of%'"));
    assert!(copies <= 8 + 1, "{copies} messages queued for the asking group");
    // Once the request was shown, asking again shows it again, said so; still no new audit rows.
    assert!(eventually(Duration::from_secs(40), || env.count(&format!("SELECT COUNT(*) FROM outbox WHERE chat_id={GROUP} AND status='pending'")) == 0));
    env.tg.message(GROUP, BOB, "/run w0");
    assert!(eventually(T, || env.tg.to_chat(GROUP).iter().any(|m| m.text.contains("already has an open request"))));
    assert_eq!(env.count("SELECT COUNT(*) FROM audit"), 8);
    assert!(env.count("SELECT COUNT(*) FROM callbacks WHERE action IN ('approve','reject')") <= 2 * 2 * 8, "tokens are reused");
    stop(d);
}
