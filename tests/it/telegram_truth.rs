//! What the chats show matches the jobs' state and the chat's language, through the binary and
//! the fake Bot API: a chat switched to zh-CN sees its live message in zh-CN (job kinds and exit
//! codes in words too); a backlog held before first contact arrives oldest first; a refused
//! Approve does not ring for everyone; a write job is "Request" everywhere; /status shows a
//! check's last run once, with its output; the live message names the job that left it; the
//! overview offers only what can be done now.

use crate::support;

use serde_json::json;
use std::time::Duration;
use support::fake_tg::Sent;
use support::*;

const T: Duration = Duration::from_secs(30);
/// A member of the allowed group who is not an approver.
const BOB: i64 = 333;
/// A person who was allowed before they ever opened the bot.
const NEWCOMER: i64 = 4343;

/// Long job `scan` whose `done` counts its status calls up to 3 (then stays), out of 1000 files;
/// it reports completed once `scan.stop` exists.
fn scan(env: &Env) -> serde_json::Value {
    let (n, stop) = (env.path().join("done"), env.path().join("scan.stop"));
    let st = env.script(
        "scan.sh",
        &format!(
            "if [ -f {stop} ]; then echo '{{\"running\":false,\"completed\":true,\"progress\":{{\"done\":1000,\"total\":1000,\"unit\":\"files\"}}}}'; exit 0; fi\n\
             k=$(( $(cat {n} 2>/dev/null || echo 0) + 1 ))\n[ $k -gt 3 ] && k=3\necho $k > {n}\n\
             echo '{{\"running\":true,\"completed\":false,\"progress\":{{\"done\":'$k',\"total\":1000,\"unit\":\"files\"}}}}'\n",
            n = n.display(),
            stop = stop.display()
        ),
    );
    long_job("scan", &st, json!({"name": "Scan disk", "policy": {"reportEverySeconds": 1, "onlyOnChange": true}}))
}

/// The first live progress message sent to `chat` (silent, showing "/1000 files").
fn first_live(env: &Env, chat: i64) -> Sent {
    let live = env.tg.wait_for(T, |m| m.chat_id == chat && m.method == "sendmessage" && m.silent() && m.text.contains("/1000 files"));
    live.unwrap_or_else(|| panic!("no live progress message: {:#?}", env.tg.sent().iter().map(|m| (&m.method, m.silent(), &m.text)).collect::<Vec<_>>()))
}

fn newest_text(env: &Env, m: &Sent) -> String {
    env.tg.edits(m.chat_id, m.message_id).last().map_or_else(|| m.text.clone(), |e| e.text.clone())
}

fn texts(env: &Env, chat: i64) -> Vec<String> {
    env.tg.to_chat(chat).into_iter().map(|m| m.text).collect()
}

#[test]
fn messages_held_before_first_contact_arrive_oldest_first() {
    let env = Env::new();
    env.tg.unopened(NEWCOMER);
    // Five alerts ("n=1" … "n=5"), one per tick, then the same one (nothing new is sent).
    let n = env.path().join("n");
    let st = env.script(
        "alert.sh",
        &format!("k=$(( $(cat {n} 2>/dev/null || echo 0) + 1 ))\n[ $k -gt 5 ] && k=5\necho $k > {n}\necho '{{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"n='$k'\"}}'\n", n = n.display()),
    );
    env.config(json!([long_job("pulse", &st, json!({}))]), json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME, NEWCOMER]}}));
    let d = env.serve();
    let held = format!("SELECT COUNT(*) FROM outbox WHERE chat_id={NEWCOMER} AND status='held'");
    assert!(eventually(T, || env.count(&held) >= 5), "five alerts are held");
    // Held long enough that a reply of that age would go ahead of younger ones.
    let aged =
        format!("SELECT COUNT(*) FROM outbox WHERE chat_id={NEWCOMER} AND status='held' AND created_at < CAST(strftime('%s','now') AS INTEGER) * 1000 - 12000");
    assert!(eventually(T, || env.count(&aged) >= 1), "an old held alert");
    env.tg.message(NEWCOMER, NEWCOMER, "/help");
    let arrived = || alert_numbers(&env, NEWCOMER).len() >= 5 && texts(&env, NEWCOMER).iter().any(|t| t.contains("were held while"));
    assert!(eventually(T, arrived), "the heading and the held alerts arrive: {:?}", texts(&env, NEWCOMER));
    let got = alert_numbers(&env, NEWCOMER);
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(got, sorted, "held alerts arrive in the order they were raised: {:?}", texts(&env, NEWCOMER));
    let all = texts(&env, NEWCOMER);
    let at = |what: &str| all.iter().position(|t| t.contains(what)).unwrap_or_else(|| panic!("no {what:?} in {all:?}"));
    assert!(at("/status") < at("were held while") && at("were held while") < at("n="), "the answer, then the heading, then the held messages: {all:?}");
    stop(d);
}

/// Write job `w` ("Rotate marker") verified by `v`, approvable by ME only.
fn write_jobs(env: &Env) -> serde_json::Value {
    let w = env.script("w.sh", "echo rotated\n");
    json!([
        {"id": "w", "name": "Rotate marker", "kind": "one_shot_write", "risk": "write_local", "enabled": true, "commands": {"run": ["sh", w]},
         "after": [{"jobId": "v"}]},
        {"id": "v", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["true"]}}
    ])
}

#[test]
fn a_group_switched_to_zh_cn_sees_its_live_message_in_zh_cn_without_waiting_for_new_progress() {
    let env = Env::new();
    env.config(json!([scan(&env)]), json!({"tickSeconds": 1}));
    let d = env.serve();
    let live = first_live(&env, GROUP);
    assert!(eventually(T, || std::fs::read_to_string(env.path().join("done")).is_ok_and(|s| s.trim() == "3")), "progress settles");
    std::thread::sleep(Duration::from_secs(2)); // the last routine report is composed; no further progress comes
    let english = newest_text(&env, &live);
    env.tg.message(GROUP, BOB, "/lang zh-CN");
    let zh = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.message_id == live.message_id && m.method == "editmessagetext" && m.text.contains("进度"));
    let zh = zh.unwrap_or_else(|| panic!("the live message stayed in English: {}", newest_text(&env, &live)));
    assert!(!zh.text.contains("progress:") && !zh.text.contains("status:"), "English sections left: {}", zh.text);
    assert!(!zh.text.contains("long_running_read"), "the job kind is shown raw: {}", zh.text);
    // The same figures, so the same time: rendered again, the message does not pass for fresh.
    assert_eq!(clock_of(&zh.text), clock_of(&english), "{}\n--- before:\n{english}", zh.text);
    stop(d);
}

#[test]
fn a_zh_cn_chat_reads_a_checks_exit_in_words_in_status_and_logs() {
    let env = Env::new();
    let chk = json!({"id": "chk", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", "-c", "echo fine"]}});
    env.config(json!([chk]), json!({"telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    env.tg.message(ME, ME, "/lang zh-CN");
    env.tg.message(ME, ME, "/run chk");
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("fine")).expect("the run's reply");
    env.tg.message(ME, ME, "/status");
    let overview = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("个任务")).expect("/status");
    assert!(overview.text.contains("退出码 0") && !overview.text.contains("exit 0"), "{}", overview.text);
    let mark = env.tg.sent().len();
    env.tg.message(ME, ME, "/logs chk");
    assert!(env.tg.eventually(T, |all| all[mark..].iter().any(|m| m.chat_id == ME && m.text.contains("fine"))), "/logs");
    let logs = env.tg.sent()[mark..].iter().find(|m| m.chat_id == ME && m.text.contains("fine")).cloned().unwrap();
    assert!(!logs.text.contains("exit 0"), "{}", logs.text);
    stop(d);
}

#[test]
fn a_job_that_leaves_the_live_message_without_a_report_is_named_in_its_idle_line() {
    let env = Env::new();
    let now = chrono::Utc::now();
    let minute = (chrono::Timelike::hour(&now) * 60 + chrono::Timelike::minute(&now)) as i64;
    let hhmm = |m: i64| format!("{:02}:{:02}", m.rem_euclid(1440) / 60, m.rem_euclid(1440) % 60);
    // Quiet hours hold the completion: no report says the job left; the state check takes it out.
    let quiet = json!({"start": hhmm(minute - 30), "end": hhmm(minute + 30)});
    env.config(json!([scan(&env)]), json!({"tickSeconds": 1, "timezone": "UTC", "defaults": {"quietHours": quiet}, "telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    let live = first_live(&env, ME);
    std::fs::write(env.path().join("scan.stop"), "").unwrap();
    let left = env.tg.wait_for(T, |m| m.method == "editmessagetext" && m.message_id == live.message_id && !m.text.contains("/1000 files"));
    let left = left.unwrap_or_else(|| panic!("the completed job still shows as running: {}", newest_text(&env, &live)));
    assert!(left.text.contains("Scan disk") && left.text.contains("completed"), "the idle line does not name the job that left: {}", left.text);
    stop(d);
}

#[test]
fn a_non_approvers_refused_approve_rings_for_nobody_and_names_who_pressed() {
    let env = Env::new();
    env.config(write_jobs(&env), json!({"telegram": {"approverUserIds": [ME]}}));
    let d = env.serve();
    env.tg.message(GROUP, BOB, "/run w");
    let req = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.contains("Approval request #1")).expect("the group's copy");
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #1")).expect("the approver's copy");
    let mark = env.tg.sent().len();
    let q = env.tg.press(&req, BOB, &req.button("Approve").unwrap());
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("not an approver"), "the presser is told");
    std::thread::sleep(Duration::from_secs(3)); // what the refusal queues is sent within this
    let after: Vec<Sent> = env.tg.sent()[mark..].iter().filter(|m| m.method == "sendmessage").cloned().collect();
    assert!(after.iter().all(|m| m.silent()), "a refusal rang: {:?}", after.iter().map(|m| &m.text).collect::<Vec<_>>());
    assert!(
        after.iter().all(|m| m.text.contains("U333")),
        "a chat line that does not say who pressed: {:?}",
        after.iter().map(|m| &m.text).collect::<Vec<_>>()
    );
    stop(d);
}

#[test]
fn a_write_job_is_a_request_in_every_picker_and_the_menu_says_run_requests_it() {
    let env = Env::new();
    env.config(write_jobs(&env), json!({"telegram": {"approverUserIds": [ME]}}));
    let d = env.serve();
    env.tg.message(ME, ME, "/run");
    let pick = env.tg.wait_for(T, |m| m.chat_id == ME && m.button("Rotate marker").is_some()).expect("the /run picker");
    assert!(pick.button("Request Rotate marker").is_some(), "the write job is not a request in /run: {:?}", pick.body);
    env.tg.message(ME, ME, "/status");
    let overview = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains(" jobs (")).expect("/status");
    assert!(overview.button("Request Rotate marker").is_some(), "the write job's button differs in /status: {:?}", overview.body);
    assert!(eventually(T, || !env.tg.my_commands().is_empty()), "the menu is registered");
    let menus = env.tg.my_commands();
    let en = menus.iter().find(|m| m.get("language_code").is_none_or(|l| l.is_null() || l == "en")).expect("the English menu");
    let run = en["commands"].as_array().unwrap().iter().find(|c| c["command"] == "run").expect("/run in the menu").clone();
    assert!(run["description"].as_str().unwrap().contains("request a write job"), "{run}");
    stop(d);
}

#[test]
fn status_shows_a_checks_last_run_once_with_the_last_lines_of_its_output() {
    let env = Env::new();
    let chk = env.script("chk.sh", "echo first\necho second\nprintf 'all \\033[31mgood\\033[0m\\n'\n");
    let job = json!({"id": "chk", "name": "Disk check", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", chk]}});
    env.config(json!([job]), json!({"telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    env.tg.message(ME, ME, "/run chk");
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("second")).expect("the run's reply");
    env.tg.message(ME, ME, "/status");
    let overview = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains(" job (")).expect("/status");
    assert_eq!(overview.text.matches("exit 0").count(), 1, "the last run is told once: {}", overview.text);
    assert!(overview.text.contains("all good") && overview.text.contains("second"), "its output is shown: {}", overview.text);
    assert!(!overview.text.contains('\u{1b}'), "escape sequences are removed: {:?}", overview.text);
    stop(d);
}

#[test]
fn the_overview_offers_no_stop_for_a_job_that_never_ran_whose_status_is_unavailable() {
    let env = Env::new();
    let broken = env.script("broken.sh", "echo oops >&2\nexit 1\n");
    env.config(json!([long_job("idle", &broken, json!({}))]), json!({"telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    env.tg.message(ME, ME, "/status");
    let overview = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains(" job (")).expect("/status");
    assert!(overview.button("Stop idle").is_none(), "Stop offered for a job that never ran: {:?}", overview.body);
    assert!(overview.button("Start idle").is_some(), "Start not offered: {:?}", overview.body);
    stop(d);
}

#[test]
fn the_greeting_and_pickers_follow_a_job_started_since_the_last_poll() {
    let env = Env::new();
    let flag = env.path().join("started");
    let st = env.script(
        "late.sh",
        &format!("[ -f {} ] && echo '{{\"running\":true,\"completed\":false}}' || echo '{{\"running\":false,\"completed\":false}}'\n", flag.display()),
    );
    env.config(json!([long_job("late", &st, json!({}))]), json!({"tickSeconds": 3600, "telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    assert!(
        eventually(T, || env.count("SELECT COUNT(*) FROM job_state WHERE job_id='late' AND state LIKE '%\"last_seen\":{%'") == 1),
        "the first poll saw it idle"
    );
    std::fs::write(&flag, "").unwrap(); // started by someone on the host; the next poll is an hour away
    env.tg.message(ME, ME, "/start");
    let greeting = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Hello")).expect("the greeting");
    assert!(greeting.button("Start late").is_none(), "the greeting offers Start for a running job: {:?}", greeting.body);
    env.tg.message(ME, ME, "/stop");
    let pick = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Pick a job to stop") || m.text.contains("nothing to stop"));
    assert!(pick.is_some_and(|p| p.button("Stop late").is_some()), "Stop not offered for the running job: {:?}", texts(&env, ME));
    stop(d);
}

#[test]
fn stop_with_nothing_running_says_so_rather_than_that_no_job_allows_it() {
    let env = Env::new();
    let st = env.script("idle.sh", r#"echo '{"running":false,"completed":false}'"#);
    env.config(json!([long_job("scan", &st, json!({}))]), json!({"telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    env.tg.message(ME, ME, "/stop");
    let said = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("stop")).expect("/stop is answered");
    assert!(said.text.contains("No job is running now"), "{}", said.text);
    stop(d);
}

/// The first "HH:MM:SS" in `text` (a report header's time).
fn clock_of(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(7)).find_map(|i| {
        let w = &b[i..i + 8];
        let digits = [0, 1, 3, 4, 6, 7].iter().all(|&k| w[k].is_ascii_digit());
        (digits && w[2] == b':' && w[5] == b':').then(|| text[i..i + 8].to_string())
    })
}
