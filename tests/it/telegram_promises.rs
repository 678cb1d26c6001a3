//! Chat paths README promises, through the fake Bot API: `/run` (and its button) queues the
//! job's `after` jobs like `ops-monitor run`; `/logs` without a job offers a picker.

use crate::support;

use serde_json::json;
use std::time::Duration;
use support::*;

const T: Duration = Duration::from_secs(20);

fn chained(env: &Env) -> serde_json::Value {
    let chk = env.script("chk.sh", "echo checked-ok\n");
    let v = env.script("v.sh", "echo verified\n");
    json!([
        {"id": "chk", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", chk]}, "after": [{"jobId": "v", "delaySeconds": 5}]},
        {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", v]}}
    ])
}

fn queued(env: &Env) -> i64 {
    env.count("SELECT COUNT(*) FROM queue WHERE job_id='v' AND reason LIKE 'after chk%'")
}

#[test]
fn run_from_the_chat_and_its_button_queue_the_after_jobs_like_the_cli() {
    let env = Env::new();
    env.config(chained(&env), json!({}));
    let d = env.serve();
    env.tg.message(ME, ME, "/run chk");
    let result = env.tg.wait_for(T, |m| m.text.contains("checked-ok")).expect("the run's result");
    assert!(result.text.contains("queued v"), "the reply says what was queued: {}", result.text);
    assert!(eventually(T, || queued(&env) == 1), "the after job is queued once");
    env.tg.message(ME, ME, "/run");
    let picker = env.tg.wait_for(T, |m| m.button("Run chk").is_some()).expect("run picker");
    let q = env.tg.press(&picker, ME, &picker.button("Run chk").unwrap());
    assert!(env.tg.wait_answer(&q, T).is_some());
    assert!(env.tg.eventually(T, |s| s.iter().filter(|m| m.text.contains("checked-ok")).count() == 2), "the button ran it again");
    assert!(eventually(T, || queued(&env) == 2), "the button's run queued v too");
    // The CLI does the same (one code path).
    let o = env.cli().args(["run", "chk"]).output().unwrap();
    assert!(o.status.success(), "{o:?}");
    assert_eq!(queued(&env), 3);
    stop(d);
}

#[test]
fn logs_without_a_job_shows_a_picker() {
    let env = Env::new();
    env.config(chained(&env), json!({}));
    let d = env.serve();
    env.tg.message(ME, ME, "/run chk");
    assert!(env.tg.wait_for(T, |m| m.text.contains("checked-ok")).is_some());
    env.tg.message(ME, ME, "/logs");
    let picker = env.tg.wait_for(T, |m| m.button("Logs chk").is_some()).expect("a logs picker, not 'Unknown job'");
    assert!(picker.button("Logs v").is_some(), "every job has logs");
    assert!(!env.tg.sent().iter().any(|m| m.text.contains("Unknown job")), "{:?}", env.tg.sent());
    let q = env.tg.press(&picker, ME, &picker.button("Logs chk").unwrap());
    assert!(env.tg.wait_answer(&q, T).is_some());
    let logs = env.tg.wait_for(T, |m| m.text.contains(": last run of chk")).expect("the logs of chk");
    assert!(logs.text.contains("checked-ok"), "{}", logs.text);
    stop(d);
}

#[test]
fn a_check_run_by_hand_that_prints_alert_is_failing_as_on_its_schedule() {
    let env = Env::new();
    let fan = env.script("fan.sh", "echo 'ALERT: fan broken'\n");
    let fix = env.script("fix.sh", "echo looked\n");
    env.config(
        json!([
            {"id": "fan", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", fan]},
             "after": [{"jobId": "fix", "when": "failure"}, {"jobId": "fix", "when": "success", "delaySeconds": 99}]},
            {"id": "fix", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", fix]}}
        ]),
        json!({}),
    );
    let failure_chain = || env.count("SELECT COUNT(*) FROM queue WHERE job_id='fix' AND reason LIKE 'after fan (failure)%'");
    // On the host: exit 1, the output line named, the failure chain queued.
    let o = env.cli().args(["run", "fan"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("the check is failing: ALERT: fan broken"), "{err}");
    assert_eq!(
        failure_chain(),
        1,
        "{:?}",
        env.db().unwrap().prepare("SELECT reason FROM queue").unwrap().query_map([], |r| r.get::<_, String>(0)).unwrap().collect::<Vec<_>>()
    );
    // In the chat: the reply says so.
    let d = env.serve();
    env.tg.message(ME, ME, "/run fan");
    let reply = env.tg.wait_for(T, |m| m.text.contains("run fan")).expect("the run's result");
    assert!(reply.text.contains("the check is failing: ALERT: fan broken"), "{}", reply.text);
    stop(d);
}

#[test]
fn logs_of_a_job_whose_log_file_blocks_still_answer_and_the_bot_stays_responsive() {
    let env = Env::new();
    let fifo = env.path().join("job.log");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let st = env.script("st.sh", &format!("echo '{{\"running\":true,\"completed\":false,\"logFile\":\"{}\"}}'\n", fifo.display()));
    env.config(json!([long_job("scan", &st, json!({}))]), json!({}));
    let d = env.serve();
    env.tg.message(ME, ME, "/logs scan");
    // Nobody writes the FIFO: reading it blocks; the reply comes without the log's tail.
    let reply = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("scan has no recorded run"));
    env.tg.message(ME, ME, "/help");
    let help = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Commands of "));
    // Release the blocked reader before judging, so the daemon can stop either way.
    let f = fifo.clone();
    std::thread::spawn(move || std::fs::write(f, "x\n"));
    assert!(reply.is_some(), "/logs never answered: {:#?}", env.tg.to_chat(ME).iter().map(|m| &m.text).collect::<Vec<_>>());
    assert!(help.is_some(), "the bot stopped answering");
    stop(d);
}
