//! A fleet in one group: one bot per host. Every message says which host it comes from, a
//! command for another bot is ignored, a typo in a group stays unanswered, and reports can go to
//! the host's own forum topic. Through the binary and the fake Bot API.

use crate::support;

use serde_json::{json, Value};
use std::time::Duration;
use support::fake_tg::BOT_USERNAME;
use support::*;

const T: Duration = Duration::from_secs(20);

/// A job that raises an alert on every tick, so the first tick always reports.
fn alerting(env: &Env) -> Value {
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"disk almost full\"}'\n");
    long_job("scan", &st, json!({}))
}

/// A write job that needs an approval, and its verification.
fn rotate() -> Value {
    json!({"id": "rotate", "kind": "one_shot_write", "risk": "write_local", "enabled": true,
        "commands": {"run": ["true"]}, "after": [{"jobId": "verify", "when": "success"}]})
}

fn verify() -> Value {
    json!({"id": "verify", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["true"]}})
}

fn machine_hostname() -> String {
    rustix::system::uname().nodename().to_string_lossy().trim().to_string()
}

fn status_json(env: &Env) -> Value {
    let out = env.cli().args(["status", "--json"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_message_names_the_configured_host() {
    let env = Env::new();
    env.config(json!([alerting(&env), rotate(), verify()]), json!({"host": "nas"}));
    let d = env.serve();
    let report = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("disk almost full")).expect("alert");
    assert!(report.text.starts_with("<b>Ops report · nas · "), "{}", report.text);
    env.tg.message(ME, ME, "/status");
    let overview = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains(" jobs (")).expect("overview");
    assert!(overview.text.starts_with("nas · 3 jobs ("), "{}", overview.text);
    env.tg.message(ME, ME, "/run rotate");
    let request = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #")).expect("approval request");
    assert!(request.text.lines().next().unwrap().ends_with(" · nas"), "{}", request.text);
    env.tg.message(ME, ME, "/help");
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.starts_with("Commands of nas:")).is_some(), "help names the host");
    let menus = env.tg.my_commands();
    assert!(!menus.is_empty());
    for menu in &menus {
        for c in menu["commands"].as_array().unwrap() {
            assert!(c["description"].as_str().unwrap().starts_with("nas: ") || c["description"].as_str().unwrap().starts_with("nas："), "{menu}");
        }
    }
    assert_eq!(status_json(&env)["host"], "nas");
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}

#[test]
fn without_host_the_machines_hostname_is_used_and_a_bad_value_is_refused() {
    let env = Env::new();
    env.config(json!([alerting(&env)]), json!({}));
    let host = machine_hostname();
    assert!(!host.is_empty());
    let out = env.cli().args(["tick", "--print-only"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with(&format!("Ops report · {host} · ")), "{text}");
    assert_eq!(status_json(&env)["host"], host.as_str());
    for (extra, path) in [
        (json!({"host": ""}), "host"),
        (json!({"host": "a\nb"}), "host"),
        (json!({"host": "x".repeat(65)}), "host"),
        (json!({"telegram": {"reportThreadId": 0}}), "telegram.reportThreadId"),
        (json!({"telegram": {"reportThreadId": "general"}}), "telegram.reportThreadId"),
    ] {
        env.config(json!([alerting(&env)]), extra.clone());
        let out = env.cli().arg("validate-config").output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(&format!("{path}: ")), "{extra}: {err}");
    }
}

#[test]
fn without_host_the_bot_names_the_machines_hostname_in_reports_and_the_menu() {
    let env = Env::new();
    env.config(json!([alerting(&env)]), json!({}));
    let host = machine_hostname();
    let d = env.serve();
    let report = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("disk almost full")).expect("alert");
    assert!(report.text.starts_with(&format!("<b>Ops report · {host} · ")), "{}", report.text);
    assert!(eventually(T, || !env.tg.my_commands().is_empty()), "the menu is registered");
    let first = &env.tg.my_commands()[0]["commands"][0]["description"];
    assert!(first.as_str().unwrap().starts_with(&format!("{host}: ")), "{first}");
    stop(d);
}

#[test]
fn a_host_renamed_while_serving_is_registered_in_the_command_menu_at_once() {
    let env = Env::new();
    env.config(json!([alerting(&env)]), json!({"host": "nas"}));
    let d = env.serve();
    // Each registration is one setMyCommands per language; the last ones are the menu in force.
    let menu_names = |host: &str| {
        let menus = env.tg.my_commands();
        let langs = menus.iter().map(|m| m["language_code"].clone()).collect::<std::collections::HashSet<_>>().len();
        langs > 0
            && menus
                .iter()
                .rev()
                .take(langs)
                .all(|m| m["commands"].as_array().unwrap().iter().all(|c| c["description"].as_str().unwrap().split([':', '：']).next() == Some(host)))
    };
    assert!(eventually(T, || menu_names("nas")), "{:?}", env.tg.my_commands());
    env.config(json!([alerting(&env)]), json!({"host": "build"}));
    assert!(eventually(T, || menu_names("build")), "the menu follows the new host without a restart: {:?}", env.tg.my_commands());
    env.tg.message(ME, ME, "/help");
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.starts_with("Commands of build:")).is_some(), "and so do the replies");
    stop(d);
}

#[test]
fn in_a_shared_group_only_commands_for_this_bot_or_nobody_are_answered() {
    let env = Env::new();
    env.config(json!([alerting(&env)]), json!({"host": "nas", "telegram": {"reportChatIds": [ME]}}));
    let d = env.serve();
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Ops report")).is_some(), "first tick report");
    for text in ["/status@other_bot", "/frobnicate", "/frobnicate@other_bot", "/help@Other_Bot"] {
        env.tg.message(GROUP, ME, text);
    }
    env.tg.message(GROUP, ME, &format!("/status@{BOT_USERNAME}"));
    env.tg.message(GROUP, ME, &format!("/frobnicate@{}", BOT_USERNAME.to_uppercase()));
    env.tg.message(GROUP, ME, "/status");
    // Replies go out in the order of the commands: once the last one is there, any reply to an
    // earlier command would be there too.
    let in_group = |sent: &[support::fake_tg::Sent]| sent.iter().filter(|m| m.chat_id == GROUP && m.method == "sendmessage").count();
    assert!(env.tg.eventually(T, |sent| in_group(sent) >= 3), "{:?}", env.tg.to_chat(GROUP));
    let group: Vec<String> = env.tg.to_chat(GROUP).into_iter().map(|m| m.text).collect();
    assert_eq!(group.len(), 3, "{group:#?}");
    assert!(group[0].starts_with("nas · 1 job ("), "{group:#?}");
    assert!(group[1].starts_with("Unknown command.") && group[1].contains("Commands of nas:"), "{group:#?}");
    assert!(group[2].starts_with("nas · 1 job ("), "{group:#?}");
    // A private chat still gets the help for a typo, and nothing for another bot's command.
    env.tg.message(ME, ME, "/status@other_bot");
    env.tg.message(ME, ME, "/frobnicate");
    let reply = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.starts_with("Unknown command.")).expect("help in private");
    let after_report: Vec<_> = env.tg.to_chat(ME).into_iter().filter(|m| !m.text.contains("Ops report")).collect();
    assert_eq!(after_report.len(), 1, "{after_report:#?}");
    assert_eq!(after_report[0].message_id, reply.message_id);
    stop(d);
}

#[test]
fn reports_go_to_the_configured_forum_topic_of_report_groups() {
    let env = Env::new();
    let n = env.path().join("n");
    let counting = env.script(
        "copy.sh",
        &format!("k=$(( $(cat {n} 2>/dev/null || echo 0) + 1 ))\necho $k > {n}\necho '{{\"running\":true,\"completed\":false,\"progress\":{{\"done\":'$k',\"total\":1000}}}}'\n", n = n.display()),
    );
    let copy = long_job("copy", &counting, json!({}));
    env.config(json!([alerting(&env), copy]), json!({"host": "nas", "tickSeconds": 1, "telegram": {"reportChatIds": [GROUP, ME], "reportThreadId": 7}}));
    let d = env.serve();
    let in_group = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.contains("disk almost full")).expect("report in the group");
    assert_eq!(in_group.thread, Some(7), "{:?}", in_group.body);
    let private = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("disk almost full")).expect("report in private");
    assert_eq!(private.thread, None, "a private chat has no topics: {:?}", private.body);
    env.tg.message(GROUP, ME, "/status");
    let reply = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.starts_with("nas · 2 jobs (")).expect("overview in the group");
    assert_eq!(reply.thread, Some(7), "the host's replies stay in its topic");
    assert!(eventually(T, || env.count("SELECT COUNT(*) FROM progress_samples WHERE job_id='copy'") >= 3));
    env.tg.message(GROUP, ME, "/chart copy");
    let chart = env.tg.wait_for(T, |m| m.method == "sendphoto").expect("chart");
    assert_eq!((chart.chat_id, chart.thread), (GROUP, Some(7)), "the chart goes to the topic too");
    assert!(chart.text.starts_with("nas: copy (copy): progress since "), "the caption names the host: {}", chart.text);
    stop(d);
    // `doctor --send-test` posts where the reports go.
    let out = env.cli().args(["doctor", "--send-test"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("test message sent to chat {GROUP}")), "{out:?}");
    let test = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.starts_with("ops-monitor doctor on nas: test message")).expect("doctor test");
    assert_eq!(test.thread, Some(7));
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
}

#[test]
fn replies_and_approval_outcomes_in_a_shared_group_name_the_host() {
    let env = Env::new();
    env.config(json!([alerting(&env), rotate(), verify()]), json!({"host": "nas"}));
    let d = env.serve();
    assert!(env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("disk almost full")).is_some(), "first tick report");
    // A button's or a command's outcome, in a group where several hosts' bots answer.
    env.tg.message(GROUP, ME, "/start scan");
    // (scan reports running, so it is not started twice.)
    let started = env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.contains("already running")).expect("start result");
    assert!(started.text.starts_with("nas: scan is already running"), "{}", started.text);
    env.tg.message(GROUP, ME, "/stop");
    assert!(env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.starts_with("nas: Pick a job to stop")).is_some(), "{:?}", env.tg.to_chat(GROUP));
    env.tg.message(GROUP, ME, "/logs nope");
    assert!(env.tg.wait_for(T, |m| m.chat_id == GROUP && m.text.starts_with("nas: Unknown job")).is_some(), "{:?}", env.tg.to_chat(GROUP));
    // "#1 · nas" and "#1 · build" are different requests: the outcome says which.
    assert!(env.cli().args(["run", "rotate"]).output().unwrap().status.success(), "request made on the host");
    let req = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("Approval request #1")).expect("request");
    let q = env.tg.press(&req, ME, &req.button("Approve").expect("Approve button"));
    assert!(env.tg.wait_answer(&q, T).unwrap().contains("Approved"));
    let ran = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("ran once")).expect("outcome");
    assert!(ran.text.starts_with("Request #1 · nas (rotate): ran once"), "{}", ran.text);
    assert!(eventually(T, || env.tg.edits(ME, req.message_id).iter().any(|e| e.text.contains("Approved by"))), "the request is marked decided");
    let edit = env.tg.edits(ME, req.message_id).into_iter().last().unwrap();
    assert!(edit.text.lines().next().unwrap().ends_with(" · nas"), "the decided request still names its host: {}", edit.text);
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}
