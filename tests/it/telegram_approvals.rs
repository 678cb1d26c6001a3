//! Write-job approvals through the chat: approve once, every refusal answered with nothing run,
//! concurrent presses, and kill -9 during a write run.

use crate::support;

use serde_json::json;
use std::time::Duration;
use support::fake_tg::Sent;
use support::*;

const T: Duration = Duration::from_secs(20);
/// A second approver (private chat = user id).
const ALICE: i64 = 222;
/// A member of the allowed group who is not an approver.
const BOB: i64 = 333;

/// Write job `w` (appends to `ran`, optionally sleeps) verified by `v`.
fn setup(env: &Env, sleep: u32, approval: serde_json::Value) {
    let ran = env.path().join("ran");
    env.script("w.sh", &format!("echo $$ >> {}\nsleep {sleep}\necho wrote\n", ran.display()));
    env.script("v.sh", "echo verified-ok\n");
    let jobs = json!([
        {"id": "w", "name": "Rotate", "kind": "one_shot_write", "risk": "write_local", "enabled": true,
         "commands": {"run": ["sh", env.path().join("w.sh")]}, "approval": approval,
         "after": [{"jobId": "v", "when": "success", "delaySeconds": 0}]},
        {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", env.path().join("v.sh")]}},
        long_job("beat", &env.script("beat.sh", &format!("echo x >> {}\necho '{{\"running\":true,\"completed\":false}}'\n", env.path().join("beats").display())), json!({}))
    ]);
    env.config(jobs, json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME, ALICE, GROUP]}}));
}

fn runs(env: &Env) -> Vec<i32> {
    std::fs::read_to_string(env.path().join("ran")).unwrap_or_default().lines().filter_map(|l| l.trim().parse().ok()).collect()
}

fn beats(env: &Env) -> usize {
    std::fs::read_to_string(env.path().join("beats")).unwrap_or_default().lines().count()
}

/// Waits until `n` "refused … Nothing ran now." reports reached `chat` (a refused press is fully handled).
fn refusals(env: &Env, chat: i64, n: usize) -> bool {
    env.tg.eventually(T, |sent| sent.iter().filter(|m| m.chat_id == chat && m.text.contains("refused") && m.text.contains("Nothing ran")).count() >= n)
}

fn request_in(env: &Env, chat: i64) -> Sent {
    env.tg.wait_for(T, |m| m.chat_id == chat && m.text.contains("Approval request #")).expect("request message")
}

#[test]
fn approve_runs_the_job_once_then_the_verification_and_a_second_press_is_refused() {
    let env = Env::new();
    setup(&env, 0, json!({}));
    let d = env.serve();
    env.tg.message(ME, ME, "/run w");
    let req = request_in(&env, ME);
    assert!(req.text.contains("write_local") && req.text.contains("w.sh") && req.text.contains("v (success"), "{}", req.text);
    assert!(request_in(&env, ALICE).text.contains("#1"), "the other approver is asked too");
    let approve = req.button("Approve").unwrap();
    let q = env.tg.press(&req, ME, &approve);
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("Approved"));
    let ran = env.tg.wait_for(T, |m| m.text.contains("ran once")).expect("result");
    assert!(ran.text.contains("exit 0") && ran.text.contains("wrote"), "{}", ran.text);
    let edited = env.tg.wait_for(T, |m| m.method == "editmessagetext" && m.message_id == req.message_id).expect("request edited");
    assert!(edited.text.contains("Approved by") && edited.body.get("reply_markup").is_none(), "{:?}", edited.body);
    let verified = env.tg.wait_for(T, |m| m.text.contains("verification of write request #1")).expect("verification reported");
    assert!(verified.text.contains("verified-ok") || verified.text.contains("passed"), "{}", verified.text);
    assert!(verified.button("Verify").is_some(), "Verify again button");
    let again = env.tg.press(&req, ME, &approve);
    assert!(env.tg.wait_answer(&again, T).unwrap().contains("Refused"));
    let alice = request_in(&env, ALICE);
    let late = env.tg.press(&alice, ALICE, &alice.button("Approve").unwrap());
    assert!(env.tg.wait_answer(&late, T).unwrap().contains("Refused"));
    assert!(refusals(&env, ME, 1) && refusals(&env, ALICE, 1), "both refusals handled to the end");
    assert_eq!(runs(&env).len(), 1, "ran exactly once");
    let audit = env.cli().args(["audit", "--job", "w"]).output().unwrap();
    let audit = String::from_utf8_lossy(&audit.stdout);
    assert!(audit.contains("request") && audit.contains("approved") && audit.contains("U111 · id 111") && audit.contains("exit 0"), "{audit}");
    stop(d);
}

#[test]
fn a_non_approver_a_forged_button_an_expired_request_and_a_changed_job_are_refused() {
    let env = Env::new();
    setup(&env, 0, json!({"expiresSeconds": 2}));
    let d = env.serve();
    env.tg.message(GROUP, BOB, "/run w");
    let req = request_in(&env, GROUP);
    let approve = req.button("Approve").unwrap();
    let q = env.tg.press(&req, BOB, &approve);
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("Refused"), "bob is not an approver");
    let forged = env.tg.press(&req, ME, "ffffffffffffffffffffffffffffffff");
    assert!(env.tg.wait_answer(&forged, T).unwrap().contains("Unknown"));
    assert!(refusals(&env, GROUP, 1));
    let expired = eventually(T, || {
        let q = env.tg.press(&req, ME, &approve);
        env.tg.wait_answer(&q, T).is_some_and(|a| a.contains("expired"))
    });
    assert!(expired, "a press after expiry is refused as expired");
    setup(&env, 0, json!({}));
    env.tg.message(ME, ME, "/run w");
    let req2 = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #2")).expect("second request");
    env.script("w.sh", "echo changed\n");
    let mut changed = serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(env.path().join("c.json")).unwrap()).unwrap();
    changed["jobs"][0]["commands"]["run"] = json!(["sh", env.path().join("w.sh"), "--force"]);
    std::fs::write(env.path().join("c.json"), changed.to_string()).unwrap();
    let q = env.tg.press(&req2, ME, &req2.button("Approve").unwrap());
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("changed"));
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Request #2") && m.text.contains("refused")).is_some());
    assert!(runs(&env).is_empty(), "nothing ran");
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}

#[test]
fn a_non_approver_pressing_again_and_again_is_answered_each_time_but_reported_and_audited_once() {
    let env = Env::new();
    setup(&env, 0, json!({}));
    let d = env.serve();
    env.tg.message(GROUP, BOB, "/run w");
    let req = request_in(&env, GROUP);
    let approve = req.button("Approve").unwrap();
    let q = env.tg.press(&req, BOB, &approve);
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("Refused"));
    assert!(refusals(&env, GROUP, 1));
    for _ in 0..10 {
        let q = env.tg.press(&req, BOB, &approve);
        assert!(env.tg.wait_answer(&q, T).unwrap().contains("Refused"), "each press is answered");
    }
    let reported = || env.count(&format!("SELECT COUNT(*) FROM outbox WHERE chat_id={GROUP} AND text LIKE '%Nothing ran%'"));
    assert!(!eventually(Duration::from_secs(3), || reported() > 1), "{} refusal reports queued in the group", reported());
    assert_eq!(env.count("SELECT COUNT(*) FROM audit WHERE event='refused'"), 1);
    assert!(runs(&env).is_empty(), "nothing ran");
    stop(d);
}

#[test]
fn two_approvers_pressing_at_once_run_the_job_once() {
    let env = Env::new();
    setup(&env, 0, json!({}));
    let d = env.serve();
    env.tg.message(ME, ME, "/run w");
    let (mine, hers) = (request_in(&env, ME), request_in(&env, ALICE));
    let a = env.tg.press(&mine, ME, &mine.button("Approve").unwrap());
    let b = env.tg.press(&hers, ALICE, &hers.button("Approve").unwrap());
    assert!(env.tg.wait_answer(&a, T).is_some() && env.tg.wait_answer(&b, T).is_some(), "both presses answered");
    assert!(env.tg.wait_for(T, |m| m.text.contains("ran once")).is_some());
    assert!(env.tg.wait_for(T, |m| m.text.contains("verification of write request #1")).is_some());
    assert_eq!(runs(&env).len(), 1);
    stop(d);
}

#[test]
fn kill_9_during_a_write_run_is_reported_interrupted_after_restart_and_not_rerun() {
    let env = Env::new();
    setup(&env, 30, json!({}));
    let mut d = env.serve();
    env.tg.message(ME, ME, "/run w");
    let req = request_in(&env, ME);
    env.tg.press(&req, ME, &req.button("Approve").unwrap());
    assert!(eventually(T, || runs(&env).len() == 1), "the write job started");
    let approved = env.tg.wait_for(T, |m| m.method == "editmessagetext" && m.message_id == req.message_id && m.text.contains("Approved by"));
    assert!(approved.is_some(), "the copy says who approved while the run is on");
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM approval_messages WHERE settled=0") == 0), "those edits are recorded");
    d.kill().unwrap();
    d.wait().unwrap();
    let pid = runs(&env)[0];
    rustix::process::kill_process_group(rustix::process::Pid::from_raw(pid).unwrap(), rustix::process::Signal::KILL).unwrap();
    let d = env.serve();
    let note = env.tg.wait_for(T, |m| m.text.contains("interrupted — outcome unknown")).expect("interrupted reported");
    assert!(note.button("Verify v").is_some(), "{:?}", note.body);
    // The request's own message says so too (it said "Approved by …" while the run was on).
    let said = env.tg.wait_for(T, |m| m.method == "editmessagetext" && m.message_id == req.message_id && m.text.contains("interrupted"));
    assert!(said.is_some(), "the request copy still reads as approved: {:#?}", env.tg.edits(ME, req.message_id));
    let q = env.tg.press(&req, ME, &req.button("Approve").unwrap());
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("Refused"));
    let seen = beats(&env);
    assert!(eventually(T, || beats(&env) >= seen + 3), "several ticks ran after the restart");
    assert_eq!(runs(&env).len(), 1, "no second run");
    stop(d);
}

#[test]
fn a_request_made_on_the_host_reaches_the_approvers_and_their_button_runs_it() {
    let env = Env::new();
    setup(&env, 0, json!({}));
    let d = env.serve();
    let o = env.cli().args(["run", "w"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let req = request_in(&env, ME);
    assert!(req.text.contains("#1") && req.text.contains("w.sh") && req.text.contains("cli"), "{}", req.text);
    assert!(request_in(&env, ALICE).text.contains("#1"), "every approver is asked");
    let q = env.tg.press(&req, ME, &req.button("Approve").unwrap());
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("Approved"));
    assert!(env.tg.wait_for(T, |m| m.text.contains("verification of write request #1")).is_some(), "verified");
    assert_eq!(runs(&env).len(), 1);
    // Announced once: a later tick or restart does not ask again.
    let asked = |env: &Env| env.tg.sent().iter().filter(|m| m.method == "sendmessage" && m.text.contains("Approval request #1")).count();
    let n = asked(&env);
    stop(d);
    let d = env.serve();
    let b = beats(&env);
    assert!(eventually(T, || beats(&env) >= b + 3), "a few ticks after the restart");
    assert_eq!(asked(&env), n, "no second announcement");
    stop(d);
}

#[test]
fn distinct_approver_refuses_ones_own_request_and_another_approver_can_reject_it() {
    let env = Env::new();
    setup(&env, 0, json!({"distinctApprover": true}));
    let d = env.serve();
    env.tg.message(ME, ME, "/run w");
    let mine = request_in(&env, ME);
    let q = env.tg.press(&mine, ME, &mine.button("Approve").unwrap());
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("different person"), "own request refused");
    assert!(refusals(&env, ME, 1));
    let hers = request_in(&env, ALICE);
    let q = env.tg.press(&hers, ALICE, &hers.button("Reject").unwrap());
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("Rejected"));
    assert!(env.tg.wait_for(T, |m| m.chat_id == ALICE && m.text.starts_with("Request #1 · ") && m.text.contains(" (w): rejected. Nothing ran.")).is_some());
    let edited = env.tg.wait_for(T, |m| m.method == "editmessagetext" && m.message_id == mine.message_id).expect("request edited");
    assert!(edited.text.contains("Rejected by U222 · id 222") && edited.body.get("reply_markup").is_none(), "{}", edited.text);
    assert_eq!(env.count("SELECT COUNT(*) FROM approvals WHERE state='rejected'"), 1);
    assert!(runs(&env).is_empty(), "nothing ran");
    stop(d);
}

#[test]
fn approval_not_required_runs_on_the_explicit_chat_request_once_and_never_by_itself() {
    let env = Env::new();
    setup(&env, 0, json!({"required": false}));
    let d = env.serve();
    let b = beats(&env);
    assert!(eventually(T, || beats(&env) >= b + 3), "ticks ran");
    assert!(runs(&env).is_empty(), "not run by a tick");
    env.tg.message(ME, ME, "/run w");
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("ran once")).is_some(), "ran on the explicit request");
    assert!(env.tg.wait_for(T, |m| m.text.contains("verification of write request #1")).is_some(), "and was verified");
    assert!(!env.tg.sent().iter().any(|m| m.button("Approve").is_some()), "no approval buttons were sent");
    assert_eq!(runs(&env).len(), 1);
    stop(d);
}

#[test]
fn request_messages_lose_their_buttons_when_decided_on_the_host_or_expired() {
    let env = Env::new();
    setup(&env, 0, json!({"expiresSeconds": 3}));
    let d = env.serve();
    env.tg.message(ME, ME, "/run w");
    let first = request_in(&env, ME);
    let o = env.cli().args(["approve", "1"]).env("USER", "ops-admin").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let edited = |m: &Sent| env.tg.wait_for(T, |e| e.method == "editmessagetext" && e.message_id == m.message_id).expect("request message edited");
    let e1 = edited(&first);
    assert!(e1.text.contains("Approved by host:ops-admin") && e1.body.get("reply_markup").is_none(), "{}", e1.text);
    env.tg.message(ME, ME, "/run w");
    let second = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #2")).expect("second request");
    let e2 = edited(&second);
    assert!(e2.text.contains("Expired: nothing ran") && e2.body.get("reply_markup").is_none(), "{}", e2.text);
    assert_eq!(runs(&env).len(), 1, "only the host approval ran");
    stop(d);
}

/// A write requested and approved on the host before `serve` announced it (within its ~2 s) is
/// still shown to the approvers, with who approved it and that it failed; it used to reach no
/// chat, and the only message was its `when: failure` follow-up saying "ok".
#[test]
fn a_write_approved_on_the_host_before_any_chat_saw_it_is_shown_with_its_failure() {
    let env = Env::new();
    let w = env.script("w.sh", "echo 'target is read-only' >&2\nexit 1\n");
    let jobs = json!([
        {"id": "w", "name": "Rotate", "kind": "one_shot_write", "risk": "write_local", "enabled": true,
         "commands": {"run": ["sh", w]},
         "after": [{"jobId": "v", "when": "success"}, {"jobId": "diag", "when": "failure", "delaySeconds": 0}]},
        {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["echo", "verified"]}},
        {"id": "diag", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["echo", "looked"]}}
    ]);
    env.config(jobs, json!({"tickSeconds": 1}));
    // Request and approval on the host while no serve runs: nothing could announce it.
    let o = env.cli().args(["run", "w"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = env.cli().args(["approve", "1"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "the write failed: {}", String::from_utf8_lossy(&o.stderr));
    let d = env.serve();
    let shown = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #1") && m.text.contains("failed"));
    let shown =
        shown.unwrap_or_else(|| panic!("the approver never learned of the write: {:#?}", env.tg.to_chat(ME).iter().map(|m| &m.text).collect::<Vec<_>>()));
    assert!(shown.text.contains("exit 1") && shown.text.contains("target is read-only") && shown.text.contains("Approved by host:"), "{}", shown.text);
    assert!(shown.button("Approve").is_none(), "no button for a request decided already: {}", shown.body);
    // Its failure follow-up says what it follows.
    let diag = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("write request #1") && !m.text.contains("Approval request"));
    let diag = diag.expect("the follow-up of the failed write is reported");
    assert!(diag.text.contains("failed"), "a follow-up after a failed write must not read as all good: {}", diag.text);
    stop(d);
}

/// A verification that fails is an alert whose "Verify" runs the check again: no "Run again"
/// beside it doing the same.
#[test]
fn a_failed_verification_offers_one_button_to_verify_again() {
    let env = Env::new();
    setup(&env, 0, json!({}));
    env.script("v.sh", "echo 'marker missing'\nexit 1\n");
    let d = env.serve();
    env.tg.message(ME, ME, "/run w");
    let req = request_in(&env, ME);
    env.tg.press(&req, ME, &req.button("Approve").unwrap());
    let failed = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("verification of write request #1") && m.text.contains("FAILED"));
    let failed = failed.expect("the failed verification is reported");
    assert!(failed.button("Verify v").is_some(), "{}", failed.body);
    assert!(failed.button("Run again").is_none(), "two buttons that do the same: {}", failed.body);
    stop(d);
}

/// A verification that passes after an earlier one failed is reported for its own request; it
/// was lost in the edit that marks the earlier failure recovered.
#[test]
fn a_passing_verification_after_a_failed_one_is_reported_for_its_own_request() {
    let env = Env::new();
    setup(&env, 0, json!({}));
    env.script("v.sh", "echo 'marker missing'\nexit 1\n");
    let d = env.serve();
    for n in [1, 2] {
        if n == 2 {
            env.script("v.sh", "echo verified-ok\n");
        }
        env.tg.message(ME, ME, "/run w");
        let req = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains(&format!("Approval request #{n}"))).expect("the request");
        env.tg.press(&req, ME, &req.button("Approve").unwrap());
        let told = env.tg.wait_for(T, |m| m.chat_id == ME && m.method == "sendmessage" && m.text.contains(&format!("verification of write request #{n}")));
        assert!(told.is_some(), "the verification of #{n} was not reported: {:#?}", env.tg.sent().iter().map(|m| (&m.method, &m.text)).collect::<Vec<_>>());
    }
    let recovered = env.tg.wait_for(T, |m| {
        m.chat_id == ME && m.method == "editmessagetext" && m.text.contains("verification of write request #1") && m.text.contains("passes again")
    });
    assert!(recovered.is_some(), "the failed verification's alert says the check recovered");
    stop(d);
}
