//! One live progress message per chat, through the binary and the fake Bot API: routine progress
//! edits one silent message in place instead of piling up; a message posted after it moves it to
//! the bottom (sent anew, the old one deleted); edits of one message are at least 5 s apart;
//! Telegram's "message is not modified" is neither retried nor logged as an error; inside quiet
//! hours the live message is still updated, silently; a job that completes leaves it by an edit
//! in place (with no job left it says none runs, without buttons).

use crate::support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::fake_tg::{Quirk, Sent};
use support::*;

const T: Duration = Duration::from_secs(30);
/// Long enough for a dozen one-second ticks on a loaded 2-core machine.
const DOZEN: Duration = Duration::from_secs(90);

/// A job whose `done` counts its status calls (one more per tick), out of 1000 files.
fn counting(env: &Env) -> serde_json::Value {
    job(env, "scan", "files", None)
}

/// Long job `name` whose `done` counts its status calls (one more per tick, up to `upto`), out of
/// 1000 `unit`; it reports completed once the file `<name>.stop` exists.
fn job(env: &Env, name: &str, unit: &str, upto: Option<u64>) -> serde_json::Value {
    let n = env.path().join(if name == "scan" { "done".to_string() } else { format!("{name}.done") });
    let stop = env.path().join(format!("{name}.stop"));
    let cap = upto.map_or(String::new(), |u| format!("[ $k -gt {u} ] && k={u}\n"));
    let st = env.script(
        &format!("{name}.sh"),
        &format!(
            "if [ -f {stop} ]; then echo '{{\"running\":false,\"completed\":true,\"progress\":{{\"done\":1000,\"total\":1000,\"unit\":\"{unit}\"}}}}'; exit 0; fi\n\
             k=$(( $(cat {n} 2>/dev/null || echo 0) + 1 ))\n{cap}echo $k > {n}\n\
             echo '{{\"running\":true,\"completed\":false,\"progress\":{{\"done\":'$k',\"total\":1000,\"unit\":\"{unit}\"}}}}'\n",
            n = n.display(),
            stop = stop.display()
        ),
    );
    let only_on_change = upto.is_some();
    long_job(name, &st, json!({"policy": {"reportEverySeconds": 1, "onlyOnChange": only_on_change}}))
}

/// The `done` figure a progress text shows ("▓░… 1% · 12/1000 files" → 12).
fn done(text: &str) -> Option<u64> {
    let before = text.split("/1000 files").next().filter(|_| text.contains("/1000 files"))?;
    before.rsplit(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Routine progress messages the chat holds now (sent, not deleted): silent ones showing
/// progress. (The job's first sighting, "status: running", rings in a message of its own.)
fn progress_present(env: &Env, chat: i64) -> Vec<Sent> {
    env.tg.present(chat).into_iter().filter(|m| m.silent() && done(&m.text).is_some()).collect()
}

/// Waits for the first routine progress message sent to `chat`.
pub fn first_live(env: &Env, chat: i64) -> Sent {
    let live = env.tg.wait_for(T, |m| m.chat_id == chat && m.method == "sendmessage" && m.silent() && done(&m.text).is_some());
    live.unwrap_or_else(|| panic!("no live progress message: {:#?}", env.tg.sent().iter().map(|m| (&m.method, m.silent(), &m.text)).collect::<Vec<_>>()))
}

/// The newest text of message `m`: its own, or that of its last edit.
pub fn newest_text(env: &Env, m: &Sent) -> String {
    env.tg.edits(m.chat_id, m.message_id).last().map_or_else(|| m.text.clone(), |e| e.text.clone())
}

fn config(env: &Env, extra: serde_json::Value) {
    let mut base = json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME]}});
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    env.config(json!([counting(env)]), base);
}

#[test]
fn after_a_dozen_routine_reports_the_chat_holds_one_silent_progress_message_edited_in_place() {
    let env = Env::new();
    config(&env, json!({}));
    let d = env.serve();
    let live = first_live(&env, ME);
    let edited = env.tg.wait_for(DOZEN, |m| m.method == "editmessagetext" && m.message_id == live.message_id && done(&m.text).is_some_and(|k| k >= 12));
    assert!(edited.is_some(), "a dozen routine reports edit the message: {:#?}", env.tg.sent().iter().map(|m| (&m.method, &m.text)).collect::<Vec<_>>());
    let present = progress_present(&env, ME);
    assert_eq!(present.len(), 1, "one progress message in the chat: {:#?}", present.iter().map(|m| &m.text).collect::<Vec<_>>());
    assert_eq!(present[0].message_id, live.message_id, "the first one, edited in place");
    assert_eq!(env.tg.present(ME).len(), 2, "besides it only the job's first sighting (status: running), which rang");
    assert_eq!(env.tg.count("deletemessage"), 0, "nothing was posted after it: it was never moved");
    let newest = done(&newest_text(&env, &live)).unwrap();
    let counted: u64 = std::fs::read_to_string(env.path().join("done")).unwrap().trim().parse().unwrap();
    assert!(newest >= 12 && newest <= counted, "the edited text shows the newest progress: {newest} of {counted}");
    let edits = env.tg.edits(ME, live.message_id);
    let gaps: Vec<Duration> = edits.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(edits.first().is_some_and(|e| e.at - live.at >= Duration::from_millis(4_900)), "the first edit waits 5 s after sending");
    assert!(gaps.iter().all(|g| *g >= Duration::from_millis(4_900)), "edits of one message are at least 5 s apart: {gaps:?}");
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    // Its Chart button keeps one token across the edits instead of a new one per edit.
    let chart = live.button("Chart").expect("the live message's Chart button");
    assert!(edits.iter().all(|e| e.button("Chart").as_ref() == Some(&chart)), "an edit issued a new token");
    let tokens = env.count(&format!("SELECT COUNT(*) FROM callbacks WHERE chat_id={ME} AND action='chart'"));
    assert!(tokens <= 2, "{tokens} chart tokens after {} edits", edits.len());
    stop(d);
}

#[test]
fn a_reply_posted_after_the_live_message_moves_it_to_the_bottom_and_deletes_the_old_one() {
    let env = Env::new();
    config(&env, json!({}));
    let d = env.serve();
    let first = first_live(&env, ME);
    env.tg.message(ME, ME, "/help");
    let reply = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("/status —")).expect("the help reply");
    assert!(reply.message_id > first.message_id);
    let moved = env.tg.wait_for(T, |m| m.chat_id == ME && m.method == "sendmessage" && m.message_id > reply.message_id && done(&m.text).is_some());
    let moved = moved.expect("the next routine report sends the live message anew, below the reply");
    assert!(moved.silent(), "moved without sound");
    assert!(env.tg.wait_for(T, |m| m.method == "deletemessage" && m.message_id == first.message_id).is_some(), "the old live message is deleted");
    let present = progress_present(&env, ME);
    assert_eq!(present.iter().map(|m| m.message_id).collect::<Vec<_>>(), vec![moved.message_id], "one progress message, below the reply");
    assert!(env.tg.present(ME).iter().any(|m| m.message_id == reply.message_id), "the reply stays a message of its own");
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}

#[test]
fn message_not_modified_is_not_retried_and_not_logged_as_an_error() {
    let env = Env::new();
    config(&env, json!({}));
    env.tg.quirk("editmessagetext", Some(Quirk::NotModified));
    let d = env.serve();
    let live = first_live(&env, ME);
    assert!(eventually(T, || env.tg.count("editmessagetext") >= 2), "edits were tried");
    let start = Instant::now();
    let before = env.tg.count("editmessagetext");
    let counted = |env: &Env| std::fs::read_to_string(env.path().join("done")).unwrap_or_default().trim().parse::<u64>().unwrap_or(0);
    let reports = counted(&env);
    assert!(eventually(DOZEN, || counted(&env) >= reports + 10), "ten more routine reports");
    let (edits, secs) = (env.tg.count("editmessagetext") - before, start.elapsed().as_secs_f64());
    assert!(edits as f64 <= secs / 5.0 + 1.0, "{edits} edits in {secs:.1} s: no retries beyond one per 5 s");
    let present = progress_present(&env, ME);
    assert_eq!(env.tg.to_chat(ME).iter().filter(|m| m.silent()).count(), 1, "not sent anew either");
    assert_eq!(present.len(), 1);
    assert_eq!(present[0].message_id, live.message_id);
    let log = env.log();
    assert!(!log.contains("not modified") && !log.contains("ERROR"), "{log}");
    assert_eq!(env.count("SELECT COUNT(*) FROM outbox WHERE status='failed'"), 0);
    stop(d);
}

#[test]
fn a_live_message_someone_deleted_is_sent_anew_on_the_next_routine_report() {
    let env = Env::new();
    config(&env, json!({}));
    let d = env.serve();
    let first = first_live(&env, ME);
    env.tg.delete_by_user(ME, first.message_id);
    let again =
        env.tg.wait_for(T, |m| m.chat_id == ME && m.method == "sendmessage" && m.silent() && m.message_id > first.message_id && done(&m.text).is_some());
    let again = again.expect("the next routine report sends the live message anew");
    let present = progress_present(&env, ME);
    assert_eq!(present.iter().map(|m| m.message_id).collect::<Vec<_>>(), vec![again.message_id]);
    assert_eq!(env.tg.count("deletemessage"), 0, "nothing left to delete");
    let live_failed = "SELECT COUNT(*) FROM outbox WHERE kind='live' AND status='failed'";
    assert_eq!(env.count(live_failed), 0, "no update was given up");
    assert!(!env.log().contains("ERROR"), "{}", env.log());
    stop(d);
}

/// A one-hour quiet window (UTC) around now.
fn quiet_now() -> serde_json::Value {
    let now = chrono::Utc::now();
    let minute = (chrono::Timelike::hour(&now) * 60 + chrono::Timelike::minute(&now)) as i64;
    let hhmm = |m: i64| format!("{:02}:{:02}", m.rem_euclid(1440) / 60, m.rem_euclid(1440) % 60);
    json!({"start": hhmm(minute - 30), "end": hhmm(minute + 30)})
}

#[test]
fn inside_quiet_hours_routine_progress_still_updates_the_live_message_silently() {
    let env = Env::new();
    config(&env, json!({"timezone": "UTC", "defaults": {"quietHours": quiet_now()}}));
    let d = env.serve();
    let live = first_live(&env, ME);
    let first = done(&live.text).unwrap();
    let edit = env.tg.wait_for(T, |m| m.method == "editmessagetext" && m.message_id == live.message_id && done(&m.text).is_some_and(|k| k > first));
    assert!(edit.is_some(), "the live message keeps moving at night");
    assert!(env.tg.to_chat(ME).iter().all(Sent::silent), "nothing rang: {:#?}", env.tg.to_chat(ME).iter().map(|m| &m.text).collect::<Vec<_>>());
    assert_eq!(env.count("SELECT COUNT(*) FROM quiet_held WHERE section LIKE '%\"loud\":false%'"), 0, "progress is not held for the digest");
    stop(d);
}

/// Silent messages `chat` holds now, each with its newest text (its own or its last edit's).
fn live_texts(env: &Env, chat: i64) -> Vec<(Sent, String)> {
    env.tg
        .present(chat)
        .into_iter()
        .filter(Sent::silent)
        .map(|m| {
            let text = newest_text(env, &m);
            (m, text)
        })
        .collect()
}

/// Whether `text` shows routine progress in `unit` ("… 12/1000 files").
fn shows(text: &str, unit: &str) -> bool {
    text.contains(&format!("/1000 {unit}"))
}

#[test]
fn a_job_that_completes_leaves_the_live_message_which_is_edited_to_say_no_job_runs_now() {
    let env = Env::new();
    config(&env, json!({}));
    let d = env.serve();
    let live = first_live(&env, ME);
    assert!(live.button("Chart").is_some(), "a running job's part has its buttons");
    std::fs::write(env.path().join("scan.stop"), "").unwrap();
    let stopped = Instant::now();
    let idle = env.tg.wait_for(T, |m| m.method == "editmessagetext" && m.message_id == live.message_id && m.text.contains("No job running now"));
    let all = || env.tg.sent().iter().map(|m| (m.method.clone(), m.message_id, m.text.clone())).collect::<Vec<_>>();
    let idle = idle.unwrap_or_else(|| panic!("the live message is edited to say no job runs: {:#?}", all()));
    assert!(!shows(&idle.text, "files"), "the finished job's progress is gone: {}", idle.text);
    assert_eq!(idle.text.lines().filter(|l| !l.trim().is_empty()).count(), 2, "its header and one calm line: {}", idle.text);
    assert!(idle.text.contains("No job running now · last: scan completed ✅"), "it names the job that left and how: {}", idle.text);
    assert_eq!(idle.body.pointer("/reply_markup/inline_keyboard").and_then(|k| k.as_array()).map(Vec::len), Some(0), "its buttons go");
    assert!(
        env.tg.wait_for(T, |m| m.chat_id == ME && m.method == "sendmessage" && m.at > stopped && !m.silent()).is_some(),
        "the completion rings as a message of its own"
    );
    let new_silent: Vec<_> = env.tg.to_chat(ME).into_iter().filter(|m| m.at > stopped && m.silent()).map(|m| m.text).collect();
    assert!(new_silent.is_empty(), "saying no job runs is an edit, not a new message: {new_silent:#?}");
    assert_eq!(env.tg.count("deletemessage"), 0, "the live message was not moved");
    let present = live_texts(&env, ME);
    assert_eq!(present.iter().map(|(m, _)| m.message_id).collect::<Vec<_>>(), vec![live.message_id], "the one live message stays where it was");
    assert!(!shows(&present[0].1, "files"));
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}

#[test]
fn with_two_running_jobs_one_completing_leaves_the_others_line_and_removes_its_own() {
    let env = Env::new();
    let base = json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME]}});
    // `sync` reports progress twice and then holds still: only `scan`'s leaving can change the message.
    env.config(json!([job(&env, "scan", "files", None), job(&env, "sync", "blocks", Some(3))]), base);
    let d = env.serve();
    let both = || live_texts(&env, ME).into_iter().find(|(_, t)| shows(t, "files") && t.contains("3/1000 blocks"));
    assert!(eventually(DOZEN, || both().is_some()), "both jobs in the live message: {:#?}", live_texts(&env, ME).iter().map(|(_, t)| t).collect::<Vec<_>>());
    std::fs::write(env.path().join("scan.stop"), "").unwrap();
    let stopped = Instant::now();
    let only_sync = |t: &str| t.contains("3/1000 blocks") && !shows(t, "files") && !t.contains("No job running");
    let edited = env.tg.wait_for(T, |m| m.method == "editmessagetext" && m.at > stopped && only_sync(&m.text));
    let edited =
        edited.unwrap_or_else(|| panic!("the live message is edited without scan: {:#?}", live_texts(&env, ME).iter().map(|(_, t)| t).collect::<Vec<_>>()));
    let present = live_texts(&env, ME);
    let progress: Vec<_> = present.iter().filter(|(_, t)| shows(t, "files") || shows(t, "blocks")).collect();
    assert_eq!(progress.len(), 1, "one live message: {:#?}", present.iter().map(|(_, t)| t).collect::<Vec<_>>());
    assert_eq!(progress[0].0.message_id, edited.message_id, "edited in place");
    assert!(only_sync(&progress[0].1), "sync's line stays, scan's is gone: {}", progress[0].1);
    assert!(env.tg.to_chat(ME).iter().all(|m| !(m.at > stopped && m.silent())), "a job leaving posts no new live message");
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}

#[test]
fn a_job_that_completes_inside_quiet_hours_still_leaves_the_live_message() {
    // The completion is held for the morning digest, so no report says the job left: the live
    // message follows the job's state, not the last report.
    let env = Env::new();
    config(&env, json!({"timezone": "UTC", "defaults": {"quietHours": quiet_now()}}));
    let d = env.serve();
    let live = first_live(&env, ME);
    std::fs::write(env.path().join("scan.stop"), "").unwrap();
    let left = env.tg.wait_for(T, |m| m.method == "editmessagetext" && m.message_id == live.message_id && !shows(&m.text, "files"));
    assert!(left.is_some(), "the completed job still shows as running: {}", newest_text(&env, &live));
    stop(d);
}

#[test]
fn a_job_stopped_from_one_chat_leaves_the_live_message_of_every_chat_within_seconds() {
    let env = Env::new();
    let (n, halt) = (env.path().join("done"), env.path().join("halt"));
    let st = env.script(
        "scan.sh",
        &format!(
            "if [ -f {halt} ]; then echo '{{\"running\":false,\"completed\":false}}'; exit 0; fi\n\
             k=$(( $(cat {n} 2>/dev/null || echo 0) + 1 ))\necho $k > {n}\n\
             echo '{{\"running\":true,\"completed\":false,\"progress\":{{\"done\":'$k',\"total\":1000,\"unit\":\"files\"}}}}'\n",
            n = n.display(),
            halt = halt.display()
        ),
    );
    let job =
        long_job("scan", &st, json!({"commands": {"start": ["true"], "status": ["sh", st], "stop": ["touch", halt]}, "policy": {"reportEverySeconds": 1}}));
    env.config(json!([job]), json!({"tickSeconds": 1}));
    let d = env.serve();
    let lives: Vec<Sent> = [ME, GROUP].into_iter().map(|c| first_live(&env, c)).collect();
    env.tg.message(GROUP, 222, "/stop scan");
    for live in &lives {
        let left =
            env.tg.wait_for(T, |m| m.method == "editmessagetext" && m.chat_id == live.chat_id && m.message_id == live.message_id && !shows(&m.text, "files"));
        assert!(left.is_some(), "chat {}: the stopped job still shows as running: {}", live.chat_id, newest_text(&env, live));
    }
    stop(d);
}

#[test]
fn pickers_offer_start_only_for_jobs_that_do_not_run_and_stop_only_for_those_that_do() {
    let env = Env::new();
    let idle = env.script("idle.sh", "echo '{\"running\":false,\"completed\":false}'\n");
    env.config(json!([counting(&env), long_job("idle", &idle, json!({}))]), json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    first_live(&env, ME); // scan has been seen running
    env.tg.message(ME, ME, "/start");
    let greeting = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Hello")).expect("the greeting");
    assert!(greeting.button("Start scan").is_none(), "Start offered for a running job: {:?}", greeting.body);
    assert!(greeting.button("Start idle").is_some(), "Start not offered for a job that does not run: {:?}", greeting.body);
    env.tg.message(ME, ME, "/stop");
    let pick = env.tg.wait_for(T, |m| m.chat_id == ME && m.button("Stop scan").is_some()).expect("Stop offered for the running job");
    assert!(pick.button("Stop idle").is_none(), "Stop offered for a job that does not run: {:?}", pick.body);
    stop(d);
}

#[test]
fn a_check_run_by_hand_that_passes_clears_failing_at_once_and_no_late_recovered_rings() {
    let env = Env::new();
    let ok = env.path().join("fixed");
    let chk = env.script("chk.sh", &format!("[ -f {} ] && echo fine && exit 0\necho broken; exit 3\n", ok.display()));
    let job =
        json!({"id": "chk", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", chk]}, "policy": {"runEverySeconds": 3}});
    env.config(json!([job]), json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("broken")).is_some(), "the scheduled run failed and said so");
    std::fs::write(&ok, "").unwrap();
    let mark = env.tg.sent().len();
    env.tg.message(ME, ME, "/run chk");
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("fine")).is_some(), "the run's reply");
    env.tg.message(ME, ME, "/status");
    let overview = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains(" jobs (") || m.text.contains(" job (")).expect("/status");
    assert!(!overview.text.contains("failing"), "still failing after it passed: {}", overview.text);
    // The next scheduled runs pass too: nothing says "recovered" to the person who fixed it.
    let runs = env.count("SELECT COUNT(*) FROM runs WHERE job_id='chk'");
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM runs WHERE job_id='chk'") >= runs + 2));
    let sent = env.tg.sent();
    let late: Vec<String> = sent[mark..].iter().filter(|m| m.method == "sendmessage" && m.text.contains("recovered")).map(|m| m.text.clone()).collect();
    assert!(late.is_empty(), "a late 'recovered': {late:?}");
    // The alert itself says so (an edit makes no sound), so it no longer reads as failing.
    let alert = sent.iter().find(|m| m.method == "sendmessage" && m.text.contains("broken")).unwrap();
    let amended = env.tg.edits(ME, alert.message_id).iter().any(|e| e.text.contains("recovered: the check passes again"));
    assert!(amended, "the failing alert was left as it was: {:?}", env.tg.edits(ME, alert.message_id));
    stop(d);
}

#[test]
fn the_group_that_asked_for_a_write_run_approved_in_private_gets_its_result() {
    let env = Env::new();
    let w = env.script("w.sh", "echo rotated\n");
    env.config(
        json!([
            {"id": "w", "kind": "one_shot_write", "risk": "write_local", "enabled": true, "commands": {"run": ["sh", w]}, "after": [{"jobId": "v"}]},
            {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["true"]}}
        ]),
        json!({"telegram": {"approverUserIds": [ME]}}),
    );
    let d = env.serve();
    env.tg.message(GROUP, 222, "/run w");
    let copy = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #1")).expect("the approver's copy");
    env.tg.press(&copy, ME, &copy.button("Approve").unwrap());
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("ran once")).is_some(), "the approver's chat gets the result");
    // The group's copy of the request is edited to say how the run ended, with its output's tail.
    let copy = env.tg.to_chat(GROUP).into_iter().find(|m| m.text.contains("Approval request #1")).expect("the group's copy of the request");
    let ended = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.message_id == copy.message_id && m.method == "editmessagetext" && m.text.contains("exit 0"));
    let ended = ended.unwrap_or_else(|| panic!("the group's request copy never told the outcome: {:#?}", env.tg.edits(GROUP, copy.message_id)));
    assert!(ended.text.contains("Approved by") && ended.text.contains("rotated"), "{}", ended.text);
    assert!(ended.body.get("reply_markup").is_none_or(|k| k["inline_keyboard"].as_array().is_none_or(|r| r.is_empty())), "buttons left: {}", ended.body);
    // No second message: the copy is the view of the request.
    assert!(!env.tg.to_chat(GROUP).iter().any(|m| m.text.contains("ran once")), "{:#?}", env.tg.to_chat(GROUP));
    stop(d);
}
