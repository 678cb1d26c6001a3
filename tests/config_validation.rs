//! Config v1 validation: one test per rule, each checking the exact JSON path of the issue and a
//! distinctive word of its message; plus defaults, explicit zeros, cwd resolution, the Python
//! ops-monitor.py file format and the job digest.

use ops_framework::config::{parse, After, Config, ConfigError, Issue, Kind, Policy, QuietHours, Risk, When};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const FILE: &str = "/srv/ops/conf/ops-jobs.json";
const HOME: &str = "/home/oc/.openclaw";

fn parse_text(text: &str) -> Result<Config, ConfigError> {
    parse(text, Path::new(FILE), Path::new(HOME))
}

fn parse_value(v: &Value) -> Result<Config, ConfigError> {
    parse_text(&serde_json::to_string_pretty(v).unwrap())
}

fn ok(v: &Value) -> Config {
    match parse_value(v) {
        Ok(c) => c,
        Err(e) => panic!("expected a valid config, got:\n{e}"),
    }
}

fn issues_of_text(text: &str) -> Vec<Issue> {
    match parse_text(text) {
        Ok(_) => panic!("expected an invalid config, it was accepted:\n{text}"),
        Err(e) => {
            assert_eq!(e.file, PathBuf::from(FILE), "the error names the file");
            assert!(!e.issues.is_empty(), "an error carries at least one issue");
            e.issues
        }
    }
}

fn issues(v: &Value) -> Vec<Issue> {
    issues_of_text(&serde_json::to_string_pretty(v).unwrap())
}

fn show(issues: &[Issue]) -> String {
    issues.iter().map(|i| format!("  {}: {}", i.path, i.message)).collect::<Vec<_>>().join("\n")
}

/// The config has exactly one issue, at `path`, whose message contains `word`.
fn only_issue(v: &Value, path: &str, word: &str) -> Issue {
    let is = issues(v);
    assert_eq!(is.len(), 1, "expected exactly one issue at {path}, got:\n{}", show(&is));
    check(&is[0], path, word);
    is[0].clone()
}

/// Every issue is at `path` (nothing cascades elsewhere) and one of them mentions `word`.
fn issues_at(v: &Value, path: &str, word: &str) -> Vec<Issue> {
    let is = issues(v);
    assert!(is.iter().all(|i| i.path == path), "expected issues only at {path}, got:\n{}", show(&is));
    assert!(is.iter().any(|i| i.message.to_lowercase().contains(&word.to_lowercase())), "an issue at {path} should mention {word:?}:\n{}", show(&is));
    is
}

fn check(i: &Issue, path: &str, word: &str) {
    assert_eq!(i.path, path, "issue path (message: {})", i.message);
    assert!(i.message.to_lowercase().contains(&word.to_lowercase()), "message of {path} should mention {word:?}: {}", i.message);
}

/// A config with `version: 1` and the given jobs.
fn cfg(jobs: Value) -> Value {
    json!({"version": 1, "jobs": jobs})
}

fn long_job(id: &str) -> Value {
    json!({"id": id, "kind": "long_running_read", "risk": "read_only",
           "commands": {"start": ["sh", "start.sh"], "status": ["sh", "status.sh"]}})
}

fn read_job(id: &str) -> Value {
    json!({"id": id, "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", "check.sh"]}})
}

fn write_job(id: &str, verify: &str) -> Value {
    json!({"id": id, "kind": "one_shot_write", "risk": "write_local", "commands": {"run": ["sh", "write.sh"]},
           "after": [{"jobId": verify, "when": "success"}]})
}

/// `base` with `patch`'s keys set (a null value removes the key).
fn with(mut base: Value, patch: Value) -> Value {
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k.as_str()] = v.clone();
        }
    }
    base
}

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
fn long_running_read_needs_status() {
    let job = with(long_job("a"), json!({"commands": {"start": ["sh", "start.sh"], "stop": ["sh", "stop.sh"]}}));
    only_issue(&cfg(json!([job])), "jobs[0].commands.status", "required");
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

// ---------------------------------------------------------------- values

#[test]
fn explicit_zero_stays_zero() {
    let v = json!({
        "version": 1,
        "defaults": {"reportEverySeconds": 0, "stallSeconds": 0},
        "jobs": [
            long_job("inherits"),
            with(long_job("own"), json!({"policy": {"reportEverySeconds": 0, "stallSeconds": 0, "autoResumeBackoffSeconds": 0}})),
        ]
    });
    let c = ok(&v);
    assert_eq!((c.defaults.report_every_seconds, c.defaults.stall_seconds), (0, 0));
    for j in &c.jobs {
        assert_eq!((j.policy.report_every_seconds, j.policy.stall_seconds), (0, 0), "job {}", j.id);
    }
    assert_eq!(c.jobs[1].policy.auto_resume_backoff_seconds, 0);

    // Per job only: defaults keep their values, the job has 0.
    let v = cfg(json!([with(long_job("own"), json!({"policy": {"reportEverySeconds": 0, "stallSeconds": 0}}))]));
    let c = ok(&v);
    assert_eq!((c.defaults.report_every_seconds, c.defaults.stall_seconds), (1800, 3600));
    assert_eq!((c.jobs[0].policy.report_every_seconds, c.jobs[0].policy.stall_seconds), (0, 0));
}

#[test]
fn defaults_apply_when_absent() {
    let c = ok(&cfg(json!([long_job("a"), write_job("w", "v"), read_job("v")])));
    let d = &c.defaults;
    assert_eq!(d.report_every_seconds, 1800);
    assert_eq!(d.stall_seconds, 3600);
    assert!(!d.auto_resume);
    assert_eq!(d.auto_resume_backoff_seconds, 900);
    assert_eq!(d.quiet_hours, Some(QuietHours { start: 23 * 60, end: 8 * 60 }));
    assert_eq!(d, &Policy::default());
    assert_eq!(c.tick_seconds, 60);
    assert_eq!(c.timezone, chrono_tz::UTC);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    for j in &c.jobs {
        assert!(!j.enabled, "enabled defaults to false ({})", j.id);
        assert_eq!(j.name, j.id, "name defaults to the id");
        assert_eq!(&j.policy, d, "job {} inherits the defaults", j.id);
        assert!(j.approval.required, "approval.required defaults to true");
    }
    let w = c.job("w").unwrap();
    assert_eq!(w.after, vec![After { job_id: "v".into(), when: When::Success, delay_seconds: 0 }]);

    // A job policy overrides only the keys it names.
    let c = ok(&json!({"version": 1, "defaults": {"stallSeconds": 60, "quietHours": {"start": "22:30", "end": "06:15"}},
                       "jobs": [with(long_job("a"), json!({"policy": {"reportEverySeconds": 120}}))]}));
    let p = &c.jobs[0].policy;
    assert_eq!((p.report_every_seconds, p.stall_seconds), (120, 60));
    assert_eq!(p.quiet_hours, Some(QuietHours { start: 22 * 60 + 30, end: 6 * 60 + 15 }));
}

#[test]
fn cwd_resolution() {
    let home_env = PathBuf::from(std::env::var_os("HOME").expect("HOME is set"));
    let c = ok(&cfg(json!([
        with(read_job("rel"), json!({"cwd": "work/dir"})),
        with(read_job("dot"), json!({"cwd": "."})),
        read_job("none"),
        with(read_job("tilde"), json!({"cwd": "~/x"})),
        with(read_job("abs"), json!({"cwd": "/var/tmp"})),
    ])));
    let cwd = |id: &str| c.job(id).unwrap().cwd.clone();
    assert_eq!(cwd("rel"), PathBuf::from("/srv/ops/conf/work/dir"), "relative to the config file's folder");
    assert_eq!(cwd("dot"), PathBuf::from("/srv/ops/conf/."));
    assert_eq!(cwd("none"), PathBuf::from(HOME), "no cwd: OPENCLAW_HOME");
    assert_eq!(cwd("tilde"), home_env.join("x"), "~/ expands to $HOME");
    assert_eq!(cwd("abs"), PathBuf::from("/var/tmp"));
}

#[test]
fn approval_granted_is_accepted_with_a_warning() {
    let job = with(write_job("w", "v"), json!({"approval": {"required": true, "granted": true}}));
    let c = ok(&cfg(json!([job, read_job("v")])));
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("granted"), "{}", c.warnings[0]);
    assert!(c.warnings[0].contains("jobs[0].approval.granted"), "names the path: {}", c.warnings[0]);
    assert!(c.job("w").unwrap().approval.required, "granted never turns approval off");
}

const PYTHON_EXAMPLE: &str = r#"{"version":1,"defaults":{"quietHours":{"start":"23:00","end":"08:00"},"reportEverySeconds":1800,"stallSeconds":3600,"autoResume":false,"autoResumeBackoffSeconds":900},"jobs":[{"id":"example-long-scan","name":"Example long scan","kind":"long_running_read","enabled":false,"risk":"read_only","cwd":"~/.openclaw","commands":{"start":["python3","scripts/scan.py","start"],"status":["python3","scripts/scan.py","status"],"stop":["python3","scripts/scan.py","stop"]},"policy":{"reportEverySeconds":1800,"stallSeconds":3600,"autoResume":true,"autoResumeBackoffSeconds":900,"onlyOnChange":true,"reportWhileRunning":true}},{"id":"example-health-check","kind":"one_shot_read","enabled":false,"risk":"read_only","commands":{"run":["python3","scripts/health.py"]}},{"id":"example-write-op","kind":"one_shot_write","enabled":false,"risk":"write_external","commands":{"run":["python3","scripts/write.py"]},"approval":{"required":true,"granted":false},"after":[{"jobId":"example-health-check","when":"success","delaySeconds":60}]}]}"#;

fn argv(a: &[&str]) -> Option<Vec<String>> {
    Some(a.iter().map(|s| s.to_string()).collect())
}

#[test]
fn python_ops_monitor_file_loads_unchanged() {
    let c = match parse_text(PYTHON_EXAMPLE) {
        Ok(c) => c,
        Err(e) => panic!("the Python example must load:\n{e}"),
    };
    let home_env = PathBuf::from(std::env::var_os("HOME").expect("HOME is set"));
    assert_eq!(c.path, PathBuf::from(FILE));
    assert_eq!(c.defaults, Policy::default());
    assert_eq!(c.job_ids(), vec!["example-long-scan", "example-health-check", "example-write-op"]);

    let scan = c.job("example-long-scan").unwrap();
    assert_eq!(scan.name, "Example long scan");
    assert_eq!((scan.kind, scan.risk, scan.enabled), (Kind::LongRunningRead, Risk::ReadOnly, false));
    assert_eq!(scan.cwd, home_env.join(".openclaw"));
    assert_eq!(scan.commands.start, argv(&["python3", "scripts/scan.py", "start"]));
    assert_eq!(scan.commands.status, argv(&["python3", "scripts/scan.py", "status"]));
    assert_eq!(scan.commands.stop, argv(&["python3", "scripts/scan.py", "stop"]));
    assert_eq!(scan.commands.run, None);
    assert_eq!(scan.policy, Policy { auto_resume: true, only_on_change: true, ..Policy::default() });
    assert!(scan.after.is_empty());

    let health = c.job("example-health-check").unwrap();
    assert_eq!(health.name, "example-health-check");
    assert_eq!((health.kind, health.risk, health.enabled), (Kind::OneShotRead, Risk::ReadOnly, false));
    assert_eq!(health.cwd, PathBuf::from(HOME));
    assert_eq!(health.commands.run, argv(&["python3", "scripts/health.py"]));
    assert_eq!(health.policy, Policy::default());
    assert_eq!(health.policy.run_every_seconds, None, "no schedule unless asked");

    let write = c.job("example-write-op").unwrap();
    assert_eq!((write.kind, write.risk, write.enabled), (Kind::OneShotWrite, Risk::WriteExternal, false));
    assert_eq!(write.commands.run, argv(&["python3", "scripts/write.py"]));
    assert!(write.approval.required);
    assert_eq!(write.after, vec![After { job_id: "example-health-check".into(), when: When::Success, delay_seconds: 60 }]);

    assert_eq!(c.warnings.len(), 1, "only the granted remark: {:?}", c.warnings);
    assert!(c.warnings[0].contains("granted") && c.warnings[0].contains("example-write-op"), "{}", c.warnings[0]);
}

#[test]
fn digest_follows_the_job_definition_only() {
    let base = |run: &str, other_run: &str| {
        cfg(json!([with(read_job("a"), json!({"commands": {"run": ["sh", run]}})), with(read_job("b"), json!({"commands": {"run": ["sh", other_run]}})),]))
    };
    let d = |v: &Value, id: &str| ok(v).job(id).unwrap().digest.clone();
    let a0 = d(&base("one.sh", "x.sh"), "a");
    assert!(!a0.is_empty());
    assert_eq!(a0, d(&base("one.sh", "x.sh"), "a"), "stable");
    assert_ne!(a0, d(&base("two.sh", "x.sh"), "a"), "changes with the job's argv");
    assert_eq!(a0, d(&base("one.sh", "y.sh"), "a"), "another job's change does not matter");
    assert_ne!(d(&base("one.sh", "x.sh"), "b"), d(&base("one.sh", "y.sh"), "b"));
    // Key order in the file does not matter (canonical JSON).
    let reordered = r#"{"version":1,"jobs":[{"commands":{"run":["sh","one.sh"]},"risk":"read_only","kind":"one_shot_read","id":"a"},
        {"id":"b","kind":"one_shot_read","risk":"read_only","commands":{"run":["sh","x.sh"]}}]}"#;
    assert_eq!(a0, parse_text(reordered).unwrap().job("a").unwrap().digest);
    // Inherited settings count: a new default timeout changes what an approved run would do.
    let mut slower = base("one.sh", "x.sh");
    slower["defaults"] = json!({"timeoutSeconds": 5});
    assert_ne!(a0, d(&slower, "a"), "changes with an inherited timeout");
    let mut chattier = base("one.sh", "x.sh");
    chattier["defaults"] = json!({"reportEverySeconds": 60});
    assert_eq!(a0, d(&chattier, "a"), "report cadence is not part of what runs");
}

// ---------------------------------------------------------------- edge cases of the rules above

#[test]
fn job_id_null_is_reported_not_dropped() {
    // `"id": null` must be an issue; the job must never vanish silently from a "valid" config.
    let v = cfg(json!([read_job("a"), read_job("b")]));
    let v = {
        let mut v = v;
        v["jobs"][0]["id"] = Value::Null;
        v
    };
    only_issue(&v, "jobs[0].id", "required");
}

#[test]
fn after_job_id_null_is_reported_not_dropped() {
    let mut v = cfg(json!([with(read_job("a"), json!({"after": [{"jobId": "b"}]})), read_job("b")]));
    v["jobs"][0]["after"][0]["jobId"] = Value::Null;
    only_issue(&v, "jobs[0].after[0].jobId", "required");
}

#[test]
fn after_paths_keep_the_file_index_after_a_bad_entry() {
    let job = with(read_job("a"), json!({"after": [{"jobId": "b", "when": "sometimes"}, {"jobId": "ghost"}]}));
    let is = issues(&cfg(json!([job, read_job("b")])));
    let paths: Vec<&str> = is.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, vec!["jobs[0].after[0].when", "jobs[0].after[1].jobId"], "\n{}", show(&is));
}

#[test]
fn every_duplicate_names_the_first_index() {
    let is = issues(&cfg(json!([long_job("a"), long_job("a"), long_job("a")])));
    assert_eq!(is.len(), 2, "{}", show(&is));
    check(&is[0], "jobs[1].id", "jobs[0]");
    check(&is[1], "jobs[2].id", "jobs[0]");
}

#[test]
fn default_schedule_does_not_break_long_jobs() {
    // A `runEverySeconds` in defaults must either be rejected at its own path, or apply to
    // one_shot_read jobs only; never an issue at a `jobs[i].policy.runEverySeconds` the file lacks.
    let v = json!({"version": 1, "defaults": {"runEverySeconds": 600}, "jobs": [long_job("l"), read_job("r")]});
    match parse_value(&v) {
        Ok(c) => {
            assert_eq!(c.job("l").unwrap().policy.run_every_seconds, None);
            assert_eq!(c.job("r").unwrap().policy.run_every_seconds, Some(600));
        }
        Err(e) => {
            assert_eq!(e.issues.len(), 1, "{e}");
            check(&e.issues[0], "defaults.runEverySeconds", "one_shot_read");
        }
    }
}

#[test]
fn unknown_locale() {
    only_issue(&json!({"version": 1, "locale": "fr", "jobs": []}), "locale", "zh-CN");
    assert_eq!(ok(&json!({"version": 1, "locale": "zh-CN", "jobs": []})).locale, ops_framework::i18n::Lang::ZhCn);
    assert_eq!(ok(&json!({"version": 1, "jobs": []})).locale, ops_framework::i18n::Lang::En, "default en");
}
