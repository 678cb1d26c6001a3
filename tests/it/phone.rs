//! The phone experience through the binary and the fake Bot API (issue: first contact, calm
//! lifecycle, alerts you can act on).

use crate::support;

use serde_json::json;
use std::time::Duration;
use support::*;

const T: Duration = Duration::from_secs(30);
/// A person who was allowed before they ever opened the bot.
const NEWCOMER: i64 = 4242;

#[test]
fn first_report_before_the_chat_exists_is_held_then_start_is_answered_and_the_alert_delivered() {
    let env = Env::new();
    env.tg.unopened(NEWCOMER);
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"disk gone\"}'\n");
    env.config(json!([long_job("scan", &st, json!({}))]), json!({"telegram": {"allowedChatIds": [ME, NEWCOMER]}}));
    let d = env.serve();
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("disk gone")).expect("the alert reaches the chat that opened the bot");
    let remedy = format!("chat {NEWCOMER} has not opened the bot yet: open t.me/ops_bot and press Start");
    assert!(eventually(T, || env.log().contains(&remedy)), "serve names the remedy:\n{}", env.log());
    assert!(eventually(T, || env.count(&format!("SELECT COUNT(*) FROM outbox WHERE chat_id={NEWCOMER} AND status='held'")) == 1), "the alert is held");

    env.tg.message(NEWCOMER, NEWCOMER, "/start");
    assert!(
        env.tg.eventually(T, |all| all.iter().filter(|m| m.chat_id == NEWCOMER).count() >= 3),
        "greeting, heading and the held alert arrive: {:?}",
        env.tg.to_chat(NEWCOMER)
    );
    let texts: Vec<String> = env.tg.to_chat(NEWCOMER).into_iter().map(|m| m.text).collect();
    assert!(texts[0].contains("Hello!"), "/start is answered first: {texts:?}");
    assert!(texts[1].contains("1 message was held while this chat had not opened the bot"), "{texts:?}");
    assert!(texts[2].contains("disk gone"), "the held alert follows: {texts:?}");
    assert_eq!(env.log().matches(&remedy).count(), 1, "the remedy is logged once per chat");
    stop(d);
}

#[test]
fn a_chat_marked_unreachable_is_answered_as_soon_as_it_writes() {
    let env = Env::new();
    env.tg.block(NEWCOMER);
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"disk gone\"}'\n");
    env.config(json!([long_job("scan", &st, json!({}))]), json!({"telegram": {"allowedChatIds": [ME, NEWCOMER]}}));
    let d = env.serve();
    let marked = format!("SELECT COUNT(*) FROM meta WHERE key='unreachable:{NEWCOMER}'");
    assert!(eventually(T, || env.count(&marked) == 1), "the blocked chat is marked unreachable");
    env.tg.unblock(NEWCOMER);
    env.tg.message(NEWCOMER, NEWCOMER, "/help");
    env.tg.wait_for(T, |m| m.chat_id == NEWCOMER && m.text.contains("/status")).expect("the reply goes out at once, not after an hour");
    assert_eq!(env.count(&marked), 0, "the mark is gone");
    stop(d);
}

/// A long job "scan" whose start runs a worker in the background (pid in a file, one "started"
/// line per start in its log) and whose status answers the contract with its pid and `logFile`.
fn scan_job(env: &Env, policy: serde_json::Value) -> serde_json::Value {
    scan_job_with(env, policy, "")
}

/// [`scan_job`] whose running status also says `extra` (e.g. `,"progressKey":"k"`).
fn scan_job_with(env: &Env, policy: serde_json::Value, extra: &str) -> serde_json::Value {
    scan_job_full(env, policy, extra, "")
}

/// [`scan_job_with`] whose start script runs `first` before it starts the worker. The status
/// script waits while a file `hold` exists (a test holds the next poll back that way).
fn scan_job_full(env: &Env, policy: serde_json::Value, extra: &str, first: &str) -> serde_json::Value {
    let dir = env.path().display().to_string();
    let start = env.script(
        "start.sh",
        &format!("{first}\necho \"worker started, hashing block 7\" >> {dir}/scan.log\nnohup sleep 1000 >/dev/null 2>&1 &\necho $! > {dir}/scan.pid.new\nmv {dir}/scan.pid.new {dir}/scan.pid\n"),
    );
    let status = env.script(
        "status.sh",
        &format!(
            "while [ -e {dir}/hold ]; do sleep 0.05; done\np=$(cat {dir}/scan.pid 2>/dev/null)\nstate=$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)\nif [ -n \"$p\" ] && [ -n \"$state\" ] && [ \"$state\" != Z ]; then echo '{{\"running\":true,\"completed\":false{extra},\"pid\":'$p',\"logFile\":\"{dir}/scan.log\"}}'\nelse echo '{{\"running\":false,\"completed\":false,\"logFile\":\"{dir}/scan.log\"}}'; fi\n"
        ),
    );
    json!({"id": "scan", "name": "scan", "kind": "long_running_read", "risk": "read_only", "enabled": true,
        "commands": {"start": ["sh", start], "status": ["sh", status]}, "policy": policy})
}

fn idle_job(env: &Env) -> serde_json::Value {
    let st = env.script("idle.sh", "echo '{\"running\":false,\"completed\":false}'\n");
    long_job("idle", &st, json!({}))
}

/// The scan's pid as its start script wrote it (the script renames the file into place).
fn scan_pid(env: &Env) -> i32 {
    std::fs::read_to_string(env.path().join("scan.pid")).unwrap().trim().parse().unwrap()
}

/// The pid of a scan started after `old` was killed: the start script may still be running.
fn new_scan_pid(env: &Env, old: i32) -> i32 {
    let pid = std::cell::Cell::new(old);
    let read = || std::fs::read_to_string(env.path().join("scan.pid")).ok().and_then(|s| s.trim().parse().ok());
    assert!(eventually(T, || {
        pid.set(read().unwrap_or(old));
        pid.get() != old
    }));
    pid.get()
}

fn starts(env: &Env) -> usize {
    std::fs::read_to_string(env.path().join("scan.log")).unwrap_or_default().lines().count()
}

fn kill9(pid: i32) {
    let _ = rustix::process::kill_process(rustix::process::Pid::from_raw(pid).unwrap(), rustix::process::Signal::KILL);
}

/// The job's stored state as JSON text (empty until a tick wrote it).
fn state_of(env: &Env, job: &str) -> String {
    env.db().and_then(|db| db.query_row("SELECT state FROM job_state WHERE job_id=?1", [job], |r| r.get(0))).unwrap_or_default()
}

#[test]
fn kill_9_is_a_crash_alert_within_2_s_with_the_log_tail_and_a_start_button_that_works() {
    let env = Env::new();
    env.config(json!([scan_job(&env, json!({})), idle_job(&env)]), json!({"telegram": {"allowedChatIds": [ME]}}));
    assert!(env.cli().args(["start", "scan"]).status().unwrap().success());
    let d = env.serve();
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("running (pid")).expect("the first tick sees scan running");
    // The chat is idle again (one message per second to a private chat), as when a job dies.
    let seen = std::time::Instant::now();
    assert!(eventually(T, || seen.elapsed() >= Duration::from_secs(1)));
    let killed = std::time::Instant::now();
    let first = scan_pid(&env);
    kill9(first);
    let alert = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("crashed")).expect("a crash alert");
    assert!(killed.elapsed() < Duration::from_secs(2), "crash alert after {:?}\n{}", killed.elapsed(), env.log());
    assert!(alert.text.contains("ALERT: crashed after"), "{}", alert.text);
    assert!(alert.text.contains("worker started, hashing block 7"), "the log's last line is shown: {}", alert.text);
    assert!(!alert.text.contains("idle"), "a never started job is no alert: {}", alert.text);
    assert!(alert.button("Logs").is_some(), "a Logs button");
    let start = alert.button("Start").expect("a Start button");
    env.tg.press(&alert, ME, &start);
    assert!(eventually(T, || starts(&env) == 2), "the Start button started the job again");
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("start scan")).expect("the start is answered");
    kill9(new_scan_pid(&env, first));
    stop(d);
}

#[test]
fn a_never_started_job_and_a_stop_on_purpose_are_no_alerts_and_stop_holds_off_auto_resume() {
    let env = Env::new();
    env.config(
        json!([scan_job(&env, json!({"autoResume": true, "autoResumeBackoffSeconds": 1})), idle_job(&env)]),
        json!({"telegram": {"allowedChatIds": [ME]}}),
    );
    assert!(env.cli().args(["start", "scan"]).status().unwrap().success());
    let d = env.serve();
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("running (pid")).expect("the first tick sees scan running");
    assert!(state_of(&env, "idle").contains("\"running\":false"), "idle was evaluated in the first tick");
    env.tg.message(ME, ME, "/stop scan");
    assert!(eventually(T, || state_of(&env, "scan").contains("\"running\":false")), "a tick saw scan stopped: {}", state_of(&env, "scan"));
    env.tg.message(ME, ME, "/status");
    let status = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("idle (idle)")).expect("/status answers");
    assert!(status.text.contains("not started"), "{}", status.text);
    assert!(status.text.contains("stopped"), "{}", status.text);
    let alerts: Vec<String> = env.tg.to_chat(ME).into_iter().map(|m| m.text).filter(|t| t.contains("ALERT")).collect();
    assert!(alerts.is_empty(), "no alert for a never started job or a stop on purpose: {alerts:?}");
    assert_eq!(starts(&env), 1, "auto-resume leaves a stopped job alone");
    stop(d);
}

#[test]
fn a_stall_alert_has_a_stop_button_that_works_and_ack_edits_the_alert() {
    let env = Env::new();
    let job = scan_job_with(&env, json!({"stallSeconds": 1}), r#","progressKey":"block-7""#);
    env.config(json!([job]), json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME]}}));
    assert!(env.cli().args(["start", "scan"]).status().unwrap().success());
    let d = env.serve();
    let alert = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("stalled")).expect("a stall alert");
    assert!(alert.text.contains("worker started, hashing block 7"), "the log's last line: {}", alert.text);
    assert!(alert.button("Logs").is_some(), "a Logs button");
    let ack = alert.button("Ack").expect("an Ack button");
    env.tg.press(&alert, ME, &ack);
    let edited = env
        .tg
        .wait_for(T, |m| m.method == "editmessagetext" && m.message_id == alert.message_id && m.text.contains("Acknowledged by U111 at"))
        .expect("the alert is edited to say who acknowledged it");
    assert!(edited.text.contains("stalled"), "the alert text stays: {}", edited.text);
    assert!(edited.button("Ack").is_none() && edited.button("Snooze").is_none(), "Ack and Snooze go: {:?}", edited.body);
    let stop_button = edited.button("Stop").expect("the Stop button stays");
    let pid = scan_pid(&env);
    env.tg.press(&edited, ME, &stop_button);
    assert!(eventually(T, || std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| s.contains(") Z "))), "Stop stopped the job");
    stop(d);
}

#[test]
fn a_check_alert_is_one_line_without_exit_0_and_run_again_runs_it() {
    let env = Env::new();
    let runs = env.path().join("runs");
    let chk = env.script("chk.sh", &format!("echo x >> {}\necho 'ALERT: only 74 GB free'\necho 'checked /srv'\n", runs.display()));
    let check = json!({"id": "disk", "name": "disk", "kind": "one_shot_read", "risk": "read_only", "enabled": true,
        "commands": {"run": ["sh", chk]}, "policy": {"runEverySeconds": 3600}});
    env.config(json!([check]), json!({"telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    let alert = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("74 GB")).expect("the check's alert");
    assert!(alert.text.lines().any(|l| l == "- ALERT: only 74 GB free"), "the check's own line is the alert line: {}", alert.text);
    assert!(!alert.text.contains("check failed: ALERT"), "{}", alert.text);
    assert!(!alert.text.contains("exit 0"), "exit 0 under an ALERT reads as all well: {}", alert.text);
    assert!(alert.button("Logs").is_some());
    let again = alert.button("Run again").expect("a Run again button");
    env.tg.press(&alert, ME, &again);
    let count = || std::fs::read_to_string(&runs).unwrap_or_default().lines().count();
    assert!(eventually(T, || count() == 2), "Run again ran the check");
    stop(d);
}

#[test]
fn a_report_header_names_the_timezone() {
    let env = Env::new();
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"disk gone\"}'\n");
    env.config(json!([long_job("scan", &st, json!({}))]), json!({"timezone": "America/New_York", "telegram": {"allowedChatIds": [ME]}}));
    let abbreviation = || chrono::Utc::now().with_timezone(&chrono_tz::America::New_York).format(" %Z").to_string();
    let before = abbreviation();
    let d = env.serve();
    let alert = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("disk gone")).expect("the alert");
    let header = alert.text.lines().next().unwrap().to_string();
    assert!(header.ends_with(&format!("{before}</b>")) || header.ends_with(&format!("{}</b>", abbreviation())), "{header}");
    assert!(header.contains(" E") && header.ends_with("T</b>"), "EST or EDT: {header}");
    stop(d);
}

#[test]
fn a_write_job_is_requested_from_the_run_picker_and_people_are_named() {
    let env = Env::new();
    let w = env.script("w.sh", "echo wrote\n");
    let v = env.script("v.sh", "echo verified-ok\n");
    let jobs = json!([
        {"id": "w", "name": "Rotate", "kind": "one_shot_write", "risk": "write_local", "enabled": true,
         "commands": {"run": ["sh", w]}, "after": [{"jobId": "v", "when": "success"}]},
        {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", v]}}
    ]);
    env.config(jobs, json!({"telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    env.tg.message(ME, ME, "/run");
    let picker = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Pick a job")).expect("the /run picker");
    let rotate = picker.button("Rotate").expect("the write job is in the picker");
    env.tg.press(&picker, ME, &rotate); // tap 2: the request exists
    let req = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #1")).expect("the request");
    assert!(req.text.contains("U111 · id 111"), "the requester by name: {}", req.text);
    assert!(!req.text.contains("chat:111"), "{}", req.text);
    env.tg.press(&req, ME, &req.button("Approve").expect("Approve")); // approve: 1 tap
    let edited = env.tg.wait_for(T, |m| m.method == "editmessagetext" && m.message_id == req.message_id).expect("request edited");
    assert!(edited.text.contains("Approved by U111"), "the decider by name: {}", edited.text);
    stop(d);
}

#[test]
fn status_offers_only_the_actions_possible_now() {
    let env = Env::new();
    let w = env.script("w.sh", "echo wrote\n");
    let jobs = json!([scan_job(&env, json!({})), idle_job(&env),
        {"id": "w", "name": "Rotate", "kind": "one_shot_write", "risk": "write_local", "enabled": true,
         "commands": {"run": ["sh", w]}, "after": [{"jobId": "v", "when": "success"}]},
        {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["true"]}}]);
    env.config(jobs, json!({"telegram": {"allowedChatIds": [ME]}}));
    assert!(env.cli().args(["start", "scan"]).status().unwrap().success());
    let d = env.serve();
    env.tg.message(ME, ME, "/status");
    let status = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("idle (idle)")).expect("/status answers");
    assert!(status.button("Stop scan").is_some() && status.button("Start scan").is_none(), "running: Stop only {:?}", status.body);
    assert!(status.button("Start idle").is_some() && status.button("Stop idle").is_none(), "not running: Start only {:?}", status.body);
    assert!(status.button("Run v").is_some(), "a check: Run");
    assert!(status.button("Request Rotate").is_some(), "a write job: Request, by its name as in /run {:?}", status.body);
    kill9(scan_pid(&env));
    stop(d);
}

/// The "▶️ scan: crashed HH:MM:SS → resumed HH:MM:SS at 2/12" line of an alert, checked.
fn resumed_line(text: &str) -> String {
    let line = text.lines().find(|l| l.contains("scan: crashed ")).unwrap_or_else(|| panic!("no resume line: {text}")).to_string();
    let times: Vec<&str> = line.split(' ').filter(|w| w.len() == 8 && w.chars().filter(|c| *c == ':').count() == 2).collect();
    assert_eq!(times.len(), 2, "crash and resume times: {line}");
    assert!(line.contains(&format!("crashed {} → resumed {} at 2/12", times[0], times[1])), "{line}");
    line
}

/// A job whose progress is 2/12 and that auto-resume restarts after a crash.
fn resuming_scan(env: &Env, first: &str) -> serde_json::Value {
    scan_job_full(env, json!({"autoResume": true, "autoResumeBackoffSeconds": 1}), r#","progress":{"done":2,"total":12}"#, first)
}

#[test]
fn auto_resume_edits_the_delivered_crash_alert_instead_of_ringing_again() {
    let env = Env::new();
    let dir = env.path().display().to_string();
    // The resume's start holds the next status poll back until the test has seen the alert.
    let job = resuming_scan(&env, &format!("[ -e {dir}/scan.pid ] && touch {dir}/hold"));
    env.config(json!([job]), json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME]}}));
    assert!(env.cli().args(["start", "scan"]).status().unwrap().success());
    let d = env.serve();
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("running (pid")).expect("the first tick sees scan running");
    let first = scan_pid(&env);
    kill9(first);
    let alert = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("crashed")).expect("a crash alert");
    assert!(alert.button("Start").is_some(), "the alert offers Start while the job is down");
    assert!(env.path().join("hold").exists(), "auto-resume started the job");
    std::fs::remove_file(env.path().join("hold")).unwrap();
    let edited = env
        .tg
        .wait_for(T, |m| m.method == "editmessagetext" && m.message_id == alert.message_id && m.text.contains("→ resumed"))
        .expect("the crash alert is edited to say the job resumed");
    resumed_line(&edited.text);
    assert!(edited.text.contains("ALERT: crashed after"), "the alert's text stays: {}", edited.text);
    assert!(edited.button("Start").is_none(), "no Start once it runs again: {:?}", edited.body);
    assert!(edited.button("Logs").is_some() && edited.button("Ack").is_some(), "the other buttons stay: {:?}", edited.body);
    let later: Vec<String> = env.tg.to_chat(ME).into_iter().filter(|m| m.method == "sendmessage" && m.message_id > alert.message_id).map(|m| m.text).collect();
    assert!(later.is_empty(), "no second message: {later:?}");
    kill9(new_scan_pid(&env, first));
    stop(d);
}

#[test]
fn the_resume_line_tells_the_progress_the_job_was_resumed_at_not_a_later_polls() {
    let env = Env::new();
    let dir = env.path().display().to_string();
    std::fs::write(env.path().join("done"), "21").unwrap();
    let progress = format!(r#","progress":{{"done":'$(cat {dir}/done)',"total":60}}"#);
    let policy = json!({"autoResume": true, "autoResumeBackoffSeconds": 1});
    // The resume's start holds the next status poll back until the scan has moved on.
    let job = scan_job_full(&env, policy, &progress, &format!("[ -e {dir}/scan.pid ] && touch {dir}/hold"));
    env.config(json!([job]), json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME]}}));
    assert!(env.cli().args(["start", "scan"]).status().unwrap().success());
    let d = env.serve();
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("21/60")).expect("the first tick sees scan at 21/60");
    let first = scan_pid(&env);
    kill9(first);
    let alert = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("crashed")).expect("a crash alert");
    assert!(eventually(T, || env.path().join("hold").exists()), "auto-resume started the job");
    // By the next poll the resumed scan is at 41/60.
    std::fs::write(env.path().join("done"), "41").unwrap();
    std::fs::remove_file(env.path().join("hold")).unwrap();
    let edited = env
        .tg
        .wait_for(T, |m| m.method == "editmessagetext" && m.message_id == alert.message_id && m.text.contains("→ resumed"))
        .expect("the crash alert is edited to say the job resumed");
    let line = edited.text.lines().find(|l| l.contains("→ resumed")).unwrap();
    assert!(line.ends_with(" at 21/60"), "resumed at the progress it had, not a later poll's: {line}");
    kill9(new_scan_pid(&env, first));
    stop(d);
}

#[test]
fn auto_resume_rewrites_a_crash_alert_still_queued_so_one_message_says_both() {
    let env = Env::new();
    env.config(json!([resuming_scan(&env, "")]), json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME]}}));
    assert!(env.cli().args(["start", "scan"]).status().unwrap().success());
    let d = env.serve();
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("running (pid")).expect("the first tick sees scan running");
    env.tg.fault(Some(support::fake_tg::Fault::Status(502, std::time::Instant::now() + Duration::from_secs(600))));
    let first = scan_pid(&env);
    kill9(first);
    let rewritten = "SELECT COUNT(*) FROM outbox WHERE status='pending' AND text LIKE '%crashed after%' AND text LIKE '%→ resumed%'";
    assert!(eventually(T, || env.count(rewritten) == 1), "the queued alert is rewritten:\n{}", env.log());
    env.tg.fault(None);
    let alert = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("crashed")).expect("the alert goes out");
    resumed_line(&alert.text);
    assert!(alert.button("Start").is_none() && alert.button("Logs").is_some(), "no Start once it runs again: {:?}", alert.body);
    let crash_messages = env.tg.to_chat(ME).into_iter().filter(|m| m.text.contains("crashed") || m.message_id > alert.message_id).count();
    assert_eq!(crash_messages, 1, "one message: {:?}", env.tg.to_chat(ME));
    kill9(new_scan_pid(&env, first));
    stop(d);
}

/// Reads a pid file once it is in place (its writer renames it there whole).
fn pid_in(env: &Env, file: &str) -> i32 {
    let read = || std::fs::read_to_string(env.path().join(file)).ok().and_then(|s| s.trim().parse().ok());
    assert!(eventually(T, || read().is_some()), "{file} appears");
    read().unwrap()
}

#[test]
fn a_crash_alert_shows_the_signal_when_the_jobs_status_knows_it() {
    let env = Env::new();
    let dir = env.path().display().to_string();
    // The worker's wrapper records how the worker ended; the status reports it (`signal`).
    env.script("sleeper.sh", &format!("echo $$ > {dir}/sleeper.pid.new\nmv {dir}/sleeper.pid.new {dir}/sleeper.pid\nexec sleep 1000\n"));
    env.script("wrapper.sh", &format!("sh {dir}/sleeper.sh\necho $? > {dir}/rc.new\nmv {dir}/rc.new {dir}/rc\n"));
    let start =
        env.script("start.sh", &format!("nohup sh {dir}/wrapper.sh >/dev/null 2>&1 &\necho $! > {dir}/scan.pid.new\nmv {dir}/scan.pid.new {dir}/scan.pid\n"));
    let status = env.script(
        "status.sh",
        &format!(
            "p=$(cat {dir}/scan.pid 2>/dev/null)\nstate=$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)\n\
             if [ -n \"$p\" ] && [ -n \"$state\" ] && [ \"$state\" != Z ]; then echo '{{\"running\":true,\"completed\":false,\"pid\":'$p'}}'; exit; fi\n\
             rc=$(cat {dir}/rc 2>/dev/null)\n\
             if [ -n \"$rc\" ] && [ \"$rc\" -gt 128 ]; then echo '{{\"running\":false,\"completed\":false,\"signal\":'$((rc - 128))'}}'; \
             else echo '{{\"running\":false,\"completed\":false}}'; fi\n"
        ),
    );
    let job = json!({"id": "scan", "name": "scan", "kind": "long_running_read", "risk": "read_only", "enabled": true,
        "commands": {"start": ["sh", start], "status": ["sh", status]}});
    env.config(json!([job]), json!({"telegram": {"allowedChatIds": [ME]}}));
    assert!(env.cli().args(["start", "scan"]).status().unwrap().success());
    let d = env.serve();
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("running (pid")).expect("the first tick sees scan running");
    kill9(pid_in(&env, "sleeper.pid"));
    let alert = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("crashed")).expect("a crash alert");
    assert!(alert.text.contains("ALERT: crashed after") && alert.text.contains("(killed by signal 9): the job is gone"), "{}", alert.text);
    stop(d);
}
