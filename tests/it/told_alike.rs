//! A person's start, stop or run is told in the same words by the chat's reply and by
//! `ops-monitor start|stop|run` (one renderer, `render::acted_text`), the CLI in the config's
//! `locale`: every fact the chat's reply states, the CLI prints too.

use crate::support;

use serde_json::json;
use std::time::Duration;
use support::*;

const T: Duration = Duration::from_secs(20);

/// The CLI's stdout and stderr as one text, without the "ERROR: " in front of its error line.
fn cli_says(env: &Env, args: &[&str]) -> (Option<i32>, String) {
    let o = env.cli().args(args).output().unwrap();
    let text = format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    (o.status.code(), text.lines().map(|l| l.strip_prefix("ERROR: ").unwrap_or(l)).collect::<Vec<_>>().join("\n"))
}

/// The chat's reply as fact lines: without the host in front, the label over the command's
/// output, the ⚠️ in front of a warning, and the head line's duration (a second run takes
/// another few milliseconds).
fn reply_facts(reply: &str, output_label: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for (i, line) in reply.lines().enumerate() {
        let line = if i == 0 { line.strip_prefix("nas: ").or_else(|| line.strip_prefix("nas：")).expect("the host first") } else { line };
        let line = line.strip_prefix("⚠️ ").unwrap_or(line);
        let line = if i == 0 { line.rsplit_once(" in ").or_else(|| line.rsplit_once("，用时")).map_or(line, |(head, _)| head) } else { line };
        if line != output_label && !line.trim().is_empty() {
            lines.push(line.to_string());
        }
    }
    lines
}

fn failing_check(env: &Env, locale: &str) {
    let fan = env.script("fan.sh", "echo 'ALERT: fan broken'\n");
    let fix = env.script("fix.sh", "echo looked\n");
    env.config(
        json!([
            {"id": "fan", "name": "Fan check", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", fan]},
             "after": [{"jobId": "fix", "when": "failure", "delaySeconds": 99}]},
            {"id": "fix", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", fix]}}
        ]),
        json!({"host": "nas", "locale": locale}),
    );
}

fn a_failing_check_run_by_hand_is_told_alike(locale: &str, output_label: &str) {
    let env = Env::new();
    failing_check(&env, locale);
    let (code, cli) = cli_says(&env, &["run", "fan"]);
    assert_eq!(code, Some(1), "{cli}");
    let d = env.serve();
    // The chat speaks the language its person chose (or theirs); here, the config's.
    env.tg.message(ME, ME, &format!("/lang {locale}"));
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("nas")).expect("the language set");
    env.tg.message(ME, ME, "/run fan");
    let reply = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("ALERT: fan broken")).expect("the run's reply");
    stop(d);
    let facts = reply_facts(&reply.text, output_label);
    assert!(facts.len() >= 4, "head, output, failing, queued: {facts:?}");
    for fact in &facts {
        assert!(cli.contains(fact.as_str()), "the chat says {fact:?}, the CLI does not:\n{cli}\n--- chat:\n{}", reply.text);
    }
}

#[test]
fn a_check_that_exits_0_but_prints_alert_is_told_alike_by_the_chat_and_the_cli() {
    a_failing_check_run_by_hand_is_told_alike("en", "output:");
}

#[test]
fn the_cli_tells_a_run_in_the_configs_locale_as_the_chat_does() {
    a_failing_check_run_by_hand_is_told_alike("zh-CN", "输出：");
}

#[test]
fn a_start_refused_as_already_running_is_told_alike_when_the_status_gives_no_pid() {
    let env = Env::new();
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false}'\n");
    let start = env.script("start.sh", &format!("echo x >> {}\n", env.path().join("starts").display()));
    env.config(json!([long_job("scan", &st, json!({"commands": {"start": ["sh", start], "status": ["sh", st]}}))]), json!({"host": "nas"}));
    let (code, cli) = cli_says(&env, &["start", "scan"]);
    assert_eq!(code, Some(1), "{cli}");
    let d = env.serve();
    env.tg.message(ME, ME, "/start scan");
    let reply = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("already running")).expect("the refusal");
    stop(d);
    let said = reply.text.strip_prefix("nas: ").expect("the host first");
    assert!(cli.lines().any(|l| l.strip_suffix(" (--force starts it anyway)") == Some(said)), "chat: {said:?}\ncli: {cli}");
    assert!(!std::fs::read_to_string(env.path().join("starts")).is_ok_and(|s| !s.is_empty()), "nothing was started");
}

/// The lines `/status` gives `job` (under its `• name (id): summary` heading), as plain text.
fn status_entry(text: &str, id: &str) -> (String, Vec<String>) {
    let text = text.replace("<b>", "").replace("</b>", "");
    let mut lines = text.lines().skip_while(|l| !(l.starts_with("• ") && l.contains(&format!("({id}): "))));
    let head = lines.next().unwrap_or_else(|| panic!("no entry for {id}: {text}"));
    let summary = head.split_once(&format!("({id}): ")).map(|(_, s)| s.to_string()).unwrap_or_default();
    (summary, lines.take_while(|l| !l.starts_with("• ")).map(str::to_string).collect())
}

#[test]
fn status_in_the_chat_and_on_the_cli_say_the_same_of_a_failing_check() {
    let env = Env::new();
    failing_check(&env, "en");
    assert_eq!(env.cli().args(["run", "fan"]).output().unwrap().status.code(), Some(1));
    let o = env.cli().args(["status", "fan"]).output().unwrap();
    let cli = String::from_utf8_lossy(&o.stdout).into_owned();
    let d = env.serve();
    env.tg.message(ME, ME, "/status fan");
    let reply = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("(fan): ")).expect("/status fan");
    stop(d);
    let (summary, lines) = status_entry(&reply.text, "fan");
    assert!(summary.starts_with("failing"), "{}", reply.text);
    assert!(lines.iter().any(|l| l.contains("ALERT: fan broken")), "the chat names the check's line: {}", reply.text);
    let head = cli.lines().next().unwrap_or_default();
    assert!(head.starts_with("- fan (") && head.ends_with(&format!("): {summary}")), "the same summary:\n{cli}\n--- chat:\n{}", reply.text);
    for line in &lines {
        assert!(cli.lines().any(|l| l == line), "the chat says {line:?}, the CLI does not:\n{cli}\n--- chat:\n{}", reply.text);
    }
}

/// A stop whose command fails stopped nothing: the chat's reply and the CLI tell its exit and
/// output in the same words, each fact once ("stop scan failed: stop scan: exit 1" said it
/// twice, without the output), and the job is not marked stopped on purpose.
#[test]
fn a_stop_whose_command_fails_is_told_alike_with_its_output_and_marks_nothing() {
    let env = Env::new();
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"pid\":4242}'\n");
    let halt = env.script("halt.sh", "echo 'worker unreachable' >&2\nexit 1\n");
    env.config(json!([long_job("scan", &st, json!({"commands": {"start": ["true"], "status": ["sh", st], "stop": ["sh", halt]}}))]), json!({"host": "nas"}));
    let (code, cli) = cli_says(&env, &["stop", "scan"]);
    assert_eq!(code, Some(1), "{cli}");
    let d = env.serve();
    env.tg.message(ME, ME, "/stop scan");
    let reply = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("exit 1")).expect("the stop's reply");
    stop(d);
    assert!(reply.text.contains("worker unreachable"), "the command's output: {}", reply.text);
    assert!(reply.text.contains("scan was not stopped"), "what the exit means: {}", reply.text);
    assert_eq!(reply.text.matches("exit 1").count(), 1, "said once: {}", reply.text);
    for fact in reply_facts(&reply.text, "output:") {
        assert!(cli.contains(fact.as_str()), "the chat says {fact:?}, the CLI does not:\n{cli}\n--- chat:\n{}", reply.text);
    }
    assert_eq!(env.count("SELECT COUNT(*) FROM job_decisions WHERE stopped_at IS NOT NULL"), 0, "marked stopped on purpose");
}

/// A failing stop of a job already stopped on purpose leaves it stopped: the mark goes back to
/// what it was (it was cleared, so the job's absence read as a crash and auto-resume could act).
#[test]
fn a_failing_stop_of_a_job_stopped_before_leaves_it_stopped() {
    let env = Env::new();
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"pid\":4242}'\n");
    let fail = env.path().join("fail");
    let halt = env.script("halt.sh", &format!("[ ! -f {} ]\n", fail.display()));
    env.config(json!([long_job("scan", &st, json!({"commands": {"start": ["true"], "status": ["sh", st], "stop": ["sh", halt]}}))]), json!({}));
    let stopped = "SELECT COUNT(*) FROM job_decisions WHERE stopped_at IS NOT NULL";
    assert_eq!(cli_says(&env, &["stop", "scan"]).0, Some(0));
    assert_eq!(env.count(stopped), 1, "stopped on purpose");
    std::fs::write(&fail, "").unwrap();
    assert_eq!(cli_says(&env, &["stop", "scan"]).0, Some(1));
    assert_eq!(env.count(stopped), 1, "a failed second stop un-stopped it");
}
