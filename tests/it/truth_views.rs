//! Every chat's messages stay true to the jobs' state, through the binary and the fake Bot API
//! with two chats (a private chat and a group): a button acts only on the run its alert was
//! about; what a person does in one chat is told, silently, in the others; a status change a
//! person just caused does not ring again; `telegram.operatorUserIds` limits who may act.

use crate::support;

use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;
use support::*;

const T: Duration = Duration::from_secs(30);

/// A member of the group (not an approver: the approvers are the private chats).
const MEMBER: i64 = 222;

/// Lines appended to a file so far (how often a command ran).
fn lines(p: &PathBuf) -> usize {
    std::fs::read_to_string(p).unwrap_or_default().lines().count()
}

/// Long job `scan` driven by files: `commands.stop` writes `halt` (and counts itself in
/// `stops`), `commands.start` removes it (counted in `starts`); its status says running while
/// `halt` is absent. With `stall`, it reports one progress key for ever and stalls after 1 s.
fn scan(env: &Env, stall: bool) -> serde_json::Value {
    scan_with(env, stall, "")
}

/// [`scan`] whose status command runs `first` before it looks (a slow status: `sleep 2`).
fn scan_with(env: &Env, stall: bool, first: &str) -> serde_json::Value {
    let d = env.path().display().to_string();
    let key = if stall { r#","progressKey":"block-7""# } else { "" };
    let st = env.script(
        "scan.sh",
        &format!("{first}\nif [ -f {d}/halt ]; then echo '{{\"running\":false,\"completed\":false}}'; else echo '{{\"running\":true,\"completed\":false{key}}}'; fi\n"),
    );
    let start = env.script("start.sh", &format!("echo x >> {d}/starts\nrm -f {d}/halt\n"));
    let halt = env.script("stop.sh", &format!("echo x >> {d}/stops\ntouch {d}/halt\n"));
    long_job(
        "scan",
        &st,
        json!({"commands": {"start": ["sh", start], "status": ["sh", st], "stop": ["sh", halt]}, "policy": {"stallSeconds": if stall { 1 } else { 0 }}}),
    )
}

fn counter(env: &Env, name: &str) -> PathBuf {
    env.path().join(name)
}

/// What `chat` was sent, for a failure message.
fn shown(env: &Env, chat: i64) -> Vec<(bool, String)> {
    env.tg.to_chat(chat).into_iter().map(|m| (m.silent(), m.text)).collect()
}

#[test]
fn a_stop_pressed_on_an_alert_about_an_earlier_run_is_refused_and_stops_nothing() {
    let env = Env::new();
    env.config(json!([scan(&env, true)]), json!({"tickSeconds": 1}));
    let d = env.serve();
    let alert = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.contains("stalled")).expect("a stall alert in the group");
    let old_stop = alert.button("Stop").expect("the alert's Stop button");
    // The run is stopped and started again from the chat; the alert stays with its Stop button.
    env.tg.message(GROUP, MEMBER, "/stop scan");
    assert!(eventually(T, || lines(&counter(&env, "stops")) == 1), "the first stop ran");
    env.tg.message(GROUP, MEMBER, "/start scan");
    assert!(eventually(T, || lines(&counter(&env, "starts")) == 1), "the start ran: {:?}", shown(&env, GROUP));
    let q = env.tg.press(&alert, MEMBER, &old_stop);
    let answer = env.tg.wait_answer(&q, T).expect("the press is answered");
    assert!(answer.contains("about the run of") && answer.contains("restarted since"), "{answer}");
    assert_eq!(lines(&counter(&env, "stops")), 1, "the new run was stopped by a button about the old one");
    stop(d);
}

/// A worker restarted outside ops-monitor between two polls (its status names another pid)
/// is another run: a Stop on the stall alert about the run before is refused and stops nothing.
#[test]
fn a_stop_pressed_on_an_alert_about_a_worker_since_restarted_outside_is_refused() {
    let env = Env::new();
    let mut first = std::process::Command::new("sleep").arg("300").spawn().unwrap();
    let mut second = std::process::Command::new("sleep").arg("300").spawn().unwrap();
    let pid_file = env.path().join("pid");
    std::fs::write(&pid_file, first.id().to_string()).unwrap();
    let d = env.path().display().to_string();
    let st =
        env.script("st.sh", &format!("echo \"{{\\\"running\\\":true,\\\"completed\\\":false,\\\"progressKey\\\":\\\"b7\\\",\\\"pid\\\":$(cat {d}/pid)}}\"\n"));
    let halt = env.script("stop.sh", &format!("echo x >> {d}/stops\n"));
    let job = long_job("scan", &st, json!({"commands": {"start": ["true"], "status": ["sh", st], "stop": ["sh", halt]}, "policy": {"stallSeconds": 1}}));
    env.config(json!([job]), json!({"tickSeconds": 1}));
    let daemon = env.serve();
    let alert = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.contains("stalled"));
    let alert = alert.unwrap_or_else(|| panic!("a stall alert in the group: {:?}", shown(&env, GROUP)));
    let old_stop = alert.button("Stop").expect("the alert's Stop button");
    // The worker is restarted by something else: the first process is gone and the status
    // names the second.
    first.kill().unwrap();
    first.wait().unwrap();
    std::fs::write(&pid_file, second.id().to_string()).unwrap();
    let polled = format!("SELECT COUNT(*) FROM job_state WHERE job_id='scan' AND state LIKE '%\"pid\":{}%'", second.id());
    assert!(eventually(T, || env.count(&polled) == 1), "a poll saw the new pid");
    let q = env.tg.press(&alert, MEMBER, &old_stop);
    let answer = env.tg.wait_answer(&q, T).expect("the press is answered");
    assert!(answer.contains("restarted since"), "{answer}");
    assert_eq!(lines(&counter(&env, "stops")), 0, "the new run was stopped by a button about the old one");
    stop(daemon);
    for p in [&mut first, &mut second] {
        let _ = p.kill();
        let _ = p.wait();
    }
}

#[test]
fn a_stop_or_start_in_one_chat_is_told_silently_in_the_other_naming_who_and_where() {
    let env = Env::new();
    env.config(json!([scan(&env, false)]), json!({"tickSeconds": 1}));
    let d = env.serve();
    // A member stops the job in the group: the owner's private chat is told who, from where.
    env.tg.message(GROUP, MEMBER, "/stop scan");
    let told = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("stopped by U222"));
    let told = told.unwrap_or_else(|| panic!("the private chat was not told: {:?}", shown(&env, ME)));
    assert!(told.silent(), "the line rings: {}", told.text);
    assert!(told.text.contains("id 222") && told.text.contains("“Ops”") && told.text.contains("scan"), "{}", told.text);
    // The owner starts it again from the private chat (a button of /status): the group is told.
    env.tg.message(ME, ME, "/status");
    let overview = env.tg.wait_for(T, |m| m.chat_id == ME && m.button("Start").is_some()).expect("/status with a Start button");
    env.tg.press(&overview, ME, &overview.button("Start").unwrap());
    let told = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.contains("started by U111"));
    let told = told.unwrap_or_else(|| panic!("the group was not told: {:?}", shown(&env, GROUP)));
    assert!(told.silent() && told.text.contains("from a private chat"), "{}", told.text);
    // The chat where it was done gets its own reply, not the line.
    assert!(!shown(&env, GROUP).iter().any(|(_, t)| t.contains("stopped by U222")), "the acting chat got the line too");
    stop(d);
}

/// The messages sent to `chat` from index `mark` of everything sent on.
fn since(env: &Env, chat: i64, mark: usize) -> Vec<support::fake_tg::Sent> {
    env.tg.sent()[mark..].iter().filter(|m| m.chat_id == chat && m.method == "sendmessage").cloned().collect()
}

#[test]
fn a_start_rings_once_in_its_chat_with_its_reply_and_the_status_change_it_caused_is_silent_everywhere() {
    let env = Env::new();
    std::fs::write(env.path().join("halt"), "").unwrap();
    env.config(json!([scan(&env, false)]), json!({"tickSeconds": 1}));
    let d = env.serve();
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM job_state WHERE job_id='scan'") == 1), "the first poll saw scan not running");
    let mark = env.tg.sent().len();
    env.tg.message(ME, ME, "/start scan");
    // The next polls see it running: that news reaches both chats (a report or the live message).
    for chat in [ME, GROUP] {
        let seen = env.tg.eventually(T, |all| all[mark..].iter().any(|m| m.chat_id == chat && m.text.contains("running") && !m.text.contains("started by")));
        assert!(seen, "chat {chat} never learned scan runs: {:?}", shown(&env, chat));
    }
    let rang: Vec<String> = since(&env, ME, mark).into_iter().filter(|m| !m.silent()).map(|m| m.text).collect();
    assert_eq!(rang.len(), 1, "only the start's own reply rings in the chat that started it: {rang:#?}");
    assert!(rang[0].contains("start scan (scan): exit 0"), "{rang:?}");
    let rang: Vec<String> = since(&env, GROUP, mark).into_iter().filter(|m| !m.silent()).map(|m| m.text).collect();
    assert!(rang.is_empty(), "the other chat is told silently: {rang:#?}");
    stop(d);
}

/// A loaded host: the status command that first sees the started run began before the start
/// (it takes 2 s here). That run is still the one the person started: no second ring.
#[test]
fn a_start_first_seen_by_a_status_begun_before_it_does_not_ring_again() {
    let env = Env::new();
    std::fs::write(env.path().join("halt"), "").unwrap();
    env.config(json!([scan_with(&env, false, "sleep 2")]), json!({"tickSeconds": 1}));
    let d = env.serve();
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM job_state WHERE job_id='scan'") == 1), "the first poll saw scan not running");
    let mark = env.tg.sent().len();
    env.tg.message(ME, ME, "/start scan");
    let seen = env.tg.eventually(T, |all| all[mark..].iter().any(|m| m.chat_id == GROUP && m.text.contains("running") && !m.text.contains("started by")));
    assert!(seen, "the group never learned scan runs: {:?}", shown(&env, GROUP));
    let rang: Vec<String> = since(&env, ME, mark).into_iter().filter(|m| !m.silent()).map(|m| m.text).collect();
    assert_eq!(rang.len(), 1, "only the start's own reply rings in the chat that started it: {rang:#?}");
    stop(d);
}

/// A write job `w` verified by the check `v` (which prints "marker rotated"); the private chat's
/// user approves.
fn write_job(env: &Env) {
    let w = env.script("w.sh", "echo rotated\n");
    env.config(
        json!([
            {"id": "w", "kind": "one_shot_write", "risk": "write_local", "enabled": true, "commands": {"run": ["sh", w]}, "after": [{"jobId": "v"}]},
            {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["echo", "marker rotated"]}}
        ]),
        json!({"tickSeconds": 1, "telegram": {"approverUserIds": [ME]}}),
    );
}

/// `user` asks for `w` in `chat`; the private chat's user approves it there. Returns how many
/// messages were sent before the press.
fn ask_and_approve(env: &Env, chat: i64, user: i64) -> usize {
    env.tg.message(chat, user, "/run w");
    let copy = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #1")).expect("the approver's copy");
    let mark = env.tg.sent().len();
    env.tg.press(&copy, ME, &copy.button("Approve").unwrap());
    mark
}

#[test]
fn a_passing_verification_after_ones_own_approval_does_not_ring() {
    let env = Env::new();
    write_job(&env);
    let d = env.serve();
    let mark = ask_and_approve(&env, GROUP, MEMBER);
    let verified = env.tg.wait_for(T, |m| m.chat_id == ME && m.method == "sendmessage" && m.text.contains("marker rotated"));
    assert!(verified.is_some(), "the verification is reported: {:?}", shown(&env, ME));
    let rang: Vec<String> = since(&env, ME, mark).into_iter().filter(|m| !m.silent()).map(|m| m.text).collect();
    assert!(rang.len() == 1 && rang[0].contains("ran once"), "only the decision's own reply rings for the approver: {rang:#?}");
    stop(d);
}

#[test]
fn with_operators_set_only_they_and_the_approvers_may_stop_and_a_refused_press_leaves_the_button() {
    let env = Env::new();
    env.config(json!([scan(&env, false)]), json!({"tickSeconds": 1, "telegram": {"operatorUserIds": [333]}}));
    let d = env.serve();
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM job_state WHERE job_id='scan'") == 1), "the first poll");
    env.tg.message(GROUP, MEMBER, "/stop scan");
    let refused = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.contains("operatorUserIds"));
    let refused = refused.unwrap_or_else(|| panic!("no refusal: {:?}", shown(&env, GROUP)));
    assert!(refused.text.contains("user 222"), "{}", refused.text);
    env.tg.message(GROUP, MEMBER, "/status");
    let overview = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.button("Stop").is_some()).expect("/status with a Stop button");
    let q = env.tg.press(&overview, MEMBER, &overview.button("Stop").unwrap());
    let answer = env.tg.wait_answer(&q, T).expect("the press is answered");
    assert!(answer.contains("operatorUserIds"), "{answer}");
    assert_eq!(lines(&counter(&env, "stops")), 0, "a non-operator stopped the job");
    // An approver (the private chat's user, by default) may; the refused press used nothing up.
    let q = env.tg.press(&overview, ME, &overview.button("Stop").unwrap());
    assert!(env.tg.wait_answer(&q, T).is_some_and(|a| !a.contains("used")), "the button was used up by the refused press");
    assert!(eventually(T, || lines(&counter(&env, "stops")) == 1), "the approver's press stopped the job");
    stop(d);
}

#[test]
fn operator_user_ids_must_be_people_not_groups() {
    let env = Env::new();
    env.config(json!([scan(&env, false)]), json!({"telegram": {"operatorUserIds": [333, GROUP]}}));
    let out = env.cli().arg("validate-config").output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success() && text.contains("telegram.operatorUserIds[1]"), "{text}");
}

#[test]
fn a_request_decided_in_private_is_told_silently_in_a_chat_that_never_saw_it() {
    let env = Env::new();
    write_job(&env);
    let d = env.serve();
    ask_and_approve(&env, ME, ME);
    let told = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.contains("approved by U111"));
    let told = told.unwrap_or_else(|| panic!("the group was not told: {:?}", shown(&env, GROUP)));
    assert!(told.silent() && told.text.contains("from a private chat") && told.text.contains("result: exit 0"), "{}", told.text);
    stop(d);
}

#[test]
fn a_write_job_that_needs_no_approval_run_from_the_group_is_told_silently_in_private() {
    let env = Env::new();
    let w = env.script("w.sh", "echo rotated\n");
    env.config(
        json!([{"id": "w", "kind": "one_shot_write", "risk": "write_local", "enabled": true, "commands": {"run": ["sh", w]},
                "approval": {"required": false}, "after": [{"jobId": "v"}]},
               {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["echo", "marker rotated"]}}]),
        json!({"telegram": {"approverUserIds": [ME]}}),
    );
    let d = env.serve();
    env.tg.message(GROUP, MEMBER, "/run w");
    let told = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("run by"));
    let told = told.unwrap_or_else(|| panic!("the private chat was not told: {:?} group: {:?} {}", shown(&env, ME), shown(&env, GROUP), env.log()));
    assert!(told.silent() && told.text.contains("from the group") && told.text.contains("exit 0"), "{}", told.text);
    stop(d);
}
