//! Config v1 values: defaults, explicit zeros, cwd resolution, the Python ops-monitor.py file
//! format, the job digest, and edge cases of the validation rules.

use crate::config_support;

use config_support::*;
use ops_framework::config::{After, Kind, Policy, QuietHours, Risk, When};
use serde_json::{json, Value};
use std::path::PathBuf;

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

    assert_eq!(c.warnings.len(), 2, "the granted and reportWhileRunning remarks only: {:?}", c.warnings);
    assert!(c.warnings[0].contains("granted") && c.warnings[0].contains("example-write-op"), "{}", c.warnings[0]);
    assert!(c.warnings[1].starts_with("jobs[0].policy.reportWhileRunning: from the Python format, ignored"), "{}", c.warnings[1]);
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
    let mut disabled = base("one.sh", "x.sh");
    disabled["jobs"][0]["enabled"] = json!(true);
    assert_ne!(a0, d(&disabled, "a"), "switching a job on or off changes it");
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

#[test]
fn every_problem_and_every_typo_hint_comes_at_once() {
    // jobs[0]: status missing (a typo: the job would be watched only through its status file,
    // which the warnings say), and a one_shot_read that is not read_only; jobs[1]: a
    // second "scan" that is broken too. Before, the kind rule and the duplicate showed only once
    // the other problems were fixed, and the typo hint only once the file was valid.
    let v = cfg(json!([
        {"id": "scan", "kind": "long_running_read", "risk": "read_only", "commands": {"start": ["true"], "stauts": ["true"]}},
        {"id": "scan", "kind": "one_shot_read", "risk": "write_local", "commands": {}}
    ]));
    let e = parse_value(&v).expect_err("invalid");
    let all = show(&e.issues);
    assert!(e.warnings.iter().any(|w| w.contains("jobs[0].commands.status is absent")), "{:?}", e.warnings);
    assert!(e.issues.iter().any(|i| i.path == "jobs[1].id" && i.message.contains("duplicate job id \"scan\"")), "{all}");
    assert!(e.issues.iter().any(|i| i.path.starts_with("jobs[1]") && i.message.contains("read_only")), "{all}");
    assert!(e.warnings.iter().any(|w| w.contains("jobs[0].commands.stauts") && w.contains("did you mean `status`")), "{:?}", e.warnings);
    assert!(e.to_string().contains("WARNING: jobs[0].commands.stauts"), "the error shows the hint: {e}");
}

#[test]
fn error_text_says_each_thing_once_and_shows_the_wrong_value() {
    let one = parse_value(&json!({"version": 1, "tickSeconds": 0, "jobs": []})).expect_err("invalid").to_string();
    assert_eq!(one.matches("must be at least 1").count(), 1, "a single problem is said once: {one}");
    let syntax = parse_text("{\n  \"version\": 1,\n  \"jobs\": [],\n}").expect_err("invalid").to_string();
    assert_eq!(syntax.matches("line 4").count(), 1, "the position is said once: {syntax}");
    let v = cfg(json!([long_job("scan")]));
    let mut v = v;
    v["defaults"] = json!({"quietHours": {"start": 8, "end": "08:00"}});
    let wrong = parse_value(&v).expect_err("invalid").to_string();
    assert!(wrong.contains("found an integer 8"), "the wrong value is shown: {wrong}");
}

#[test]
fn a_write_jobs_digest_does_not_depend_on_the_order_of_jobs_even_with_an_after_cycle() {
    let w = json!({"id": "w", "kind": "one_shot_write", "risk": "write_local", "commands": {"run": ["true"]}, "after": [{"jobId": "v"}]});
    let v = json!({"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["true"]}, "after": [{"jobId": "c"}]});
    let c = json!({"id": "c", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["true"]}, "after": [{"jobId": "v", "when": "failure"}]});
    let digest = |jobs: Value| ok(&cfg(jobs)).jobs.iter().find(|j| j.id == "w").unwrap().digest.clone();
    let a = digest(json!([w.clone(), v.clone(), c.clone()]));
    assert_eq!(a, digest(json!([c.clone(), v.clone(), w.clone()])));
    assert_eq!(a, digest(json!([v, c, w])));
}
