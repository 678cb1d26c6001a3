//! Config v1 validation: one test per rule, each checking the exact JSON path of the issue and a
//! distinctive word of its message, and all problems of a file reported at once.

use crate::config_support;

use config_support::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------- syntax and top level

#[test]
fn invalid_json_reports_line_and_column() {
    // Line 4, column 12 is the `x` that is not a JSON value.
    let text = "{\n  \"version\": 1,\n  \"jobs\": [\n    {\"id\": x}\n  ]\n}\n";
    let is = issues_of_text(text);
    assert_eq!(is.len(), 1, "{}", show(&is));
    check(&is[0], "line 4, column 12", "JSON");
}

#[test]
fn top_level_must_be_an_object() {
    let is = issues_of_text("[{\"version\": 1}]");
    assert_eq!(is.len(), 1, "{}", show(&is));
    check(&is[0], "$", "object");
}

#[test]
fn version_is_required() {
    only_issue(&json!({"jobs": []}), "version", "required");
}

#[test]
fn version_must_be_1() {
    only_issue(&json!({"version": 2, "jobs": []}), "version", "1");
    only_issue(&json!({"version": "1", "jobs": []}), "version", "1");
}

#[test]
fn jobs_is_required() {
    only_issue(&json!({"version": 1}), "jobs", "required");
}

#[test]
fn jobs_must_be_a_list() {
    only_issue(&json!({"version": 1, "jobs": {"a": long_job("a")}}), "jobs", "list");
}

#[test]
fn job_entry_must_be_an_object() {
    only_issue(&cfg(json!([long_job("a"), "b"])), "jobs[1]", "object");
}

// ---------------------------------------------------------------- ids, kind, risk

#[test]
fn job_id_is_required() {
    only_issue(&cfg(json!([with(long_job("a"), json!({"id": null}))])), "jobs[0].id", "required");
}

#[test]
fn duplicate_id_names_the_first_index() {
    let i = only_issue(&cfg(json!([long_job("a"), long_job("b"), long_job("a")])), "jobs[2].id", "duplicate");
    assert!(i.message.contains("jobs[0]"), "names the first occurrence: {}", i.message);
    assert!(i.message.contains("\"a\""), "names the id: {}", i.message);
}

#[test]
fn unknown_kind() {
    let i = only_issue(&cfg(json!([with(long_job("a"), json!({"kind": "long_running_write"}))])), "jobs[0].kind", "unknown");
    assert!(i.message.contains("long_running_read"), "lists the allowed kinds: {}", i.message);
}

#[test]
fn unknown_risk() {
    let i = only_issue(&cfg(json!([with(long_job("a"), json!({"risk": "dangerous"}))])), "jobs[0].risk", "unknown");
    assert!(i.message.contains("write_external"), "lists the allowed risks: {}", i.message);
}

// ---------------------------------------------------------------- argv

fn with_status(status: Value) -> Value {
    cfg(json!([with(long_job("a"), json!({"commands": {"start": ["sh", "start.sh"], "status": status}}))]))
}

#[test]
fn argv_empty_list() {
    issues_at(&with_status(json!([])), "jobs[0].commands.status", "argv");
}

#[test]
fn argv_with_a_non_string() {
    issues_at(&with_status(json!(["sh", 3])), "jobs[0].commands.status", "argv");
}

#[test]
fn argv_with_an_empty_string() {
    issues_at(&with_status(json!(["sh", ""])), "jobs[0].commands.status", "argv");
}

#[test]
fn argv_string_instead_of_list() {
    issues_at(&with_status(json!("sh status.sh")), "jobs[0].commands.status", "no shell");
}

#[test]
fn invalid_argv_is_not_also_reported_as_missing() {
    // The command is present but malformed: one issue, not a second "is required" at the same path.
    only_issue(&with_status(json!([])), "jobs[0].commands.status", "argv");
    only_issue(&with_status(json!("sh status.sh")), "jobs[0].commands.status", "argv");
    let job = with(read_job("a"), json!({"commands": {"run": ["sh", 1]}}));
    only_issue(&cfg(json!([job])), "jobs[0].commands.run", "argv");
}

// ---------------------------------------------------------------- commands required by kind

#[test]
fn long_running_read_needs_start() {
    let job = with(long_job("a"), json!({"commands": {"status": ["sh", "status.sh"]}}));
    only_issue(&cfg(json!([job])), "jobs[0].commands.start", "required");
}

#[test]
fn long_running_read_without_status_is_watched_through_its_file() {
    // commands.status is optional: such a job pushes its status ($OPS_STATUS_FILE); the loader
    // says so as a warning naming the path, never an issue.
    let job = with(long_job("a"), json!({"commands": {"start": ["sh", "start.sh"], "stop": ["sh", "stop.sh"]}}));
    let c = ok(&cfg(json!([job])));
    assert!(c.warnings.iter().any(|w| w.contains("jobs[0].commands.status") && w.contains("OPS_STATUS_FILE")), "{:?}", c.warnings);
}

#[test]
fn one_shot_read_needs_run() {
    let job = with(read_job("a"), json!({"commands": {"start": ["sh", "x.sh"]}}));
    only_issue(&cfg(json!([job])), "jobs[0].commands.run", "required");
}

#[test]
fn one_shot_write_needs_run() {
    let job = with(write_job("w", "v"), json!({"commands": {"status": ["sh", "x.sh"]}}));
    only_issue(&cfg(json!([job, read_job("v")])), "jobs[0].commands.run", "required");
}

#[test]
fn one_shot_read_must_be_read_only() {
    only_issue(&cfg(json!([with(read_job("a"), json!({"risk": "write_local"}))])), "jobs[0].risk", "read_only");
}

// ---------------------------------------------------------------- write jobs and chains

#[test]
fn one_shot_write_needs_an_after_success_entry() {
    let job = with(write_job("w", "v"), json!({"after": null}));
    only_issue(&cfg(json!([job, read_job("v")])), "jobs[0].after", "when=success");
}

#[test]
fn one_shot_write_verification_must_be_read_only() {
    // Points at a long job whose risk is write_local, and at another write job.
    let target = with(long_job("t"), json!({"risk": "write_local"}));
    only_issue(&cfg(json!([write_job("w", "t"), target])), "jobs[0].after", "read_only");
    only_issue(&cfg(json!([write_job("w", "w2"), write_job("w2", "v"), read_job("v")])), "jobs[0].after", "read_only");
}

#[test]
fn one_shot_write_with_only_a_failure_entry() {
    let job = with(write_job("w", "v"), json!({"after": [{"jobId": "v", "when": "failure"}]}));
    only_issue(&cfg(json!([job, read_job("v")])), "jobs[0].after", "when=success");
}

#[test]
fn after_job_id_must_exist() {
    let job = with(read_job("a"), json!({"after": [{"jobId": "nope"}]}));
    let i = only_issue(&cfg(json!([job])), "jobs[0].after[0].jobId", "unknown");
    assert!(i.message.contains("nope"), "{}", i.message);
}

#[test]
fn after_when_must_be_success_or_failure() {
    let job = with(read_job("a"), json!({"after": [{"jobId": "b", "when": "always"}]}));
    let i = only_issue(&cfg(json!([job, read_job("b")])), "jobs[0].after[0].when", "unknown");
    assert!(i.message.contains("always"), "{}", i.message);
}

// ---------------------------------------------------------------- quiet hours

fn with_default_quiet(q: Value) -> Value {
    json!({"version": 1, "defaults": {"quietHours": q}, "jobs": []})
}

#[test]
fn quiet_hours_24_00_is_rejected() {
    only_issue(&with_default_quiet(json!({"start": "24:00", "end": "08:00"})), "defaults.quietHours.start", "HH:MM");
}

#[test]
fn quiet_hours_need_two_digit_hours() {
    only_issue(&with_default_quiet(json!({"start": "23:00", "end": "7:00"})), "defaults.quietHours.end", "HH:MM");
}

#[test]
fn quiet_hours_must_be_digits() {
    only_issue(&with_default_quiet(json!({"start": "ab:cd", "end": "08:00"})), "defaults.quietHours.start", "HH:MM");
}

#[test]
fn quiet_hours_end_is_required() {
    only_issue(&with_default_quiet(json!({"start": "23:00"})), "defaults.quietHours.end", "required");
}

#[test]
fn quiet_hours_in_a_job_policy() {
    let job = with(long_job("a"), json!({"policy": {"quietHours": {"start": "25:00", "end": "08:00"}}}));
    only_issue(&cfg(json!([job])), "jobs[0].policy.quietHours.start", "HH:MM");
}

// ---------------------------------------------------------------- wrong types

#[test]
fn report_every_seconds_as_string() {
    let v = json!({"version": 1, "defaults": {"reportEverySeconds": "1800"}, "jobs": []});
    let i = only_issue(&v, "defaults.reportEverySeconds", "integer");
    assert!(i.message.contains("string"), "says what was found: {}", i.message);
}

#[test]
fn report_every_seconds_negative() {
    let v = json!({"version": 1, "defaults": {"reportEverySeconds": -5}, "jobs": []});
    only_issue(&v, "defaults.reportEverySeconds", "non-negative");
}

#[test]
fn enabled_as_string() {
    only_issue(&cfg(json!([with(long_job("a"), json!({"enabled": "true"}))])), "jobs[0].enabled", "true or false");
}

#[test]
fn auto_resume_as_number() {
    let job = with(long_job("a"), json!({"policy": {"autoResume": 1}}));
    only_issue(&cfg(json!([job])), "jobs[0].policy.autoResume", "true or false");
}

// ---------------------------------------------------------------- extensions

#[test]
fn unknown_timezone() {
    let i = only_issue(&json!({"version": 1, "timezone": "Mars/Olympus_Mons", "jobs": []}), "timezone", "timezone");
    assert!(i.message.contains("Mars/Olympus_Mons"), "{}", i.message);
    let c = ok(&json!({"version": 1, "timezone": "Europe/Paris", "jobs": []}));
    assert_eq!(c.timezone, chrono_tz::Europe::Paris);
}

#[test]
fn tick_seconds_zero() {
    only_issue(&json!({"version": 1, "tickSeconds": 0, "jobs": []}), "tickSeconds", "at least 1");
}

#[test]
fn timeouts_of_zero_are_rejected_with_their_path() {
    let job = with(long_job("a"), json!({"policy": {"statusTimeoutSeconds": 0}}));
    only_issue(&cfg(json!([job])), "jobs[0].policy.statusTimeoutSeconds", "at least 1");
    only_issue(&json!({"version": 1, "defaults": {"timeoutSeconds": 0}, "jobs": []}), "defaults.timeoutSeconds", "at least 1");
    let c = ok(&cfg(json!([with(long_job("a"), json!({"policy": {"timeoutSeconds": 7}}))])));
    assert_eq!(c.jobs[0].policy.timeout_seconds, 7);
}

#[test]
fn kill_grace_defaults_to_3_is_inherited_and_is_bounded() {
    let c = ok(&cfg(json!([long_job("a")])));
    assert_eq!(c.jobs[0].policy.kill_grace_seconds, 3);
    let c = ok(
        &json!({"version": 1, "defaults": {"killGraceSeconds": 0}, "jobs": [long_job("a"), with(long_job("b"), json!({"policy": {"killGraceSeconds": 20}}))]}),
    );
    assert_eq!((c.jobs[0].policy.kill_grace_seconds, c.jobs[1].policy.kill_grace_seconds), (0, 20), "an explicit 0 stays 0; a job overrides");
    let job = with(long_job("a"), json!({"policy": {"killGraceSeconds": 301}}));
    only_issue(&cfg(json!([job])), "jobs[0].policy.killGraceSeconds", "at most 300");
    only_issue(&json!({"version": 1, "defaults": {"killGraceSeconds": "3"}, "jobs": []}), "defaults.killGraceSeconds", "integer");
}

#[test]
fn run_every_seconds_only_for_one_shot_read() {
    let job = with(long_job("a"), json!({"policy": {"runEverySeconds": 300}}));
    only_issue(&cfg(json!([job])), "jobs[0].policy.runEverySeconds", "one_shot_read");
    let c = ok(&cfg(json!([with(read_job("c"), json!({"policy": {"runEverySeconds": 300}}))])));
    assert_eq!(c.jobs[0].policy.run_every_seconds, Some(300));
}

#[test]
fn telegram_allowed_chat_ids_must_be_numeric() {
    let v = json!({"version": 1, "telegram": {"allowedChatIds": [123, "-100456", "@me"]}, "jobs": []});
    only_issue(&v, "telegram.allowedChatIds", "integer");
    let c = ok(&json!({"version": 1, "telegram": {"allowedChatIds": [123, "-100456"]}, "jobs": []}));
    assert_eq!(c.telegram.allowed_chat_ids, vec![123, -100456]);
    assert_eq!(c.telegram.report_chat_ids, vec![123, -100456], "reports go to the allowed chats by default");
}

// ---------------------------------------------------------------- all at once

#[test]
fn every_problem_is_reported_at_once() {
    let v = json!({
        "version": 1,
        "timezone": "Nowhere/Land",
        "defaults": {"stallSeconds": "long"},
        "jobs": [
            with(long_job("a"), json!({"enabled": "yes"})),
            with(read_job("b"), json!({"risk": "write_external"})),
            with(read_job("c"), json!({"after": [{"jobId": "ghost"}]})),
        ]
    });
    let is = issues(&v);
    let mut got: Vec<&str> = is.iter().map(|i| i.path.as_str()).collect();
    got.sort_unstable();
    let mut want = vec!["timezone", "defaults.stallSeconds", "jobs[0].enabled", "jobs[1].risk", "jobs[2].after[0].jobId"];
    want.sort_unstable();
    assert_eq!(got, want, "all five problems, each once:\n{}", show(&is));
    let e = parse_value(&v).unwrap_err();
    let text = e.to_string();
    assert!(text.contains(FILE) && text.contains("5 problems"), "{text}");
    for p in want {
        assert!(text.contains(p), "Display lists {p}:\n{text}");
    }
}
