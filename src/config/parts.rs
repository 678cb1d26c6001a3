//! What the file's `defaults` and each job read alike (policy blocks, quiet hours) and a job's
//! digest: shared by `load` and `job`, so neither imports the other for them.

use super::canonical_json;
use super::model::*;
use super::reader::Reader;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Longest `killGraceSeconds`: a job that needs more to stop cleanly should have a `stop` command.
pub const MAX_KILL_GRACE_SECONDS: u64 = 300;

/// Merges policy keys found in `obj` over `base`; an explicit 0 stays 0.
pub fn read_policy(r: &mut Reader, obj: &Map<String, Value>, at: &str, base: &Policy) -> Policy {
    let p = |k: &str| format!("{at}.{k}");
    // null or false: no quiet hours (as `start == end`), not "use the default".
    let quiet_hours = match obj.get("quietHours") {
        Some(Value::Null | Value::Bool(false)) => {
            r.known(&p("quietHours"));
            None
        }
        _ => match r.object(obj, "quietHours", &p("quietHours")) {
            Some(q) => read_quiet(r, q, &p("quietHours")),
            None => base.quiet_hours,
        },
    };
    let run_every = r.u64(obj, "runEverySeconds", &p("runEverySeconds"));
    let cron = r.string(obj, "cron", &p("cron")).filter(|expr| match super::parse_cron(expr) {
        Ok(_) => true,
        Err(why) => {
            r.err(&p("cron"), format!("invalid cron expression {expr:?}: {why}"));
            false
        }
    });
    let timezone = r.string(obj, "timezone", &p("timezone")).and_then(|name| {
        let tz = name.parse().ok();
        if tz.is_none() {
            r.err(&p("timezone"), format!("unknown IANA timezone {name:?}"));
        }
        tz
    });
    // A timeout of 0 would mean "kill at once": never what anyone wants, so it is an error
    // rather than a silent default (an explicit 0 elsewhere means 0 / disabled).
    let timeout = |r: &mut Reader, k: &str, base: u64| match r.u64(obj, k, &p(k)) {
        Some(0) => {
            r.err(&p(k), "must be at least 1 (seconds)");
            base
        }
        v => v.unwrap_or(base),
    };
    let timeout_seconds = timeout(r, "timeoutSeconds", base.timeout_seconds);
    let status_timeout_seconds = timeout(r, "statusTimeoutSeconds", base.status_timeout_seconds);
    let status_file_max_age_seconds = match r.u64(obj, "statusFileMaxAgeSeconds", &p("statusFileMaxAgeSeconds")) {
        Some(0) => {
            r.err(&p("statusFileMaxAgeSeconds"), "must be at least 1 (seconds)");
            base.status_file_max_age_seconds
        }
        v => v.or(base.status_file_max_age_seconds),
    };
    let kill_grace_seconds = match r.u64(obj, "killGraceSeconds", &p("killGraceSeconds")) {
        Some(s) if s > MAX_KILL_GRACE_SECONDS => {
            r.err(&p("killGraceSeconds"), format!("must be at most {MAX_KILL_GRACE_SECONDS} (seconds)"));
            base.kill_grace_seconds
        }
        v => v.unwrap_or(base.kill_grace_seconds),
    };
    Policy {
        report_every_seconds: r.u64(obj, "reportEverySeconds", &p("reportEverySeconds")).unwrap_or(base.report_every_seconds),
        stall_seconds: r.u64(obj, "stallSeconds", &p("stallSeconds")).unwrap_or(base.stall_seconds),
        auto_resume: r.bool(obj, "autoResume", &p("autoResume")).unwrap_or(base.auto_resume),
        auto_resume_backoff_seconds: r.u64(obj, "autoResumeBackoffSeconds", &p("autoResumeBackoffSeconds")).unwrap_or(base.auto_resume_backoff_seconds),
        quiet_hours,
        only_on_change: r.bool(obj, "onlyOnChange", &p("onlyOnChange")).unwrap_or(base.only_on_change),
        timeout_seconds,
        status_timeout_seconds,
        kill_grace_seconds,
        status_file_max_age_seconds,
        run_every_seconds: match run_every {
            Some(0) => None,
            Some(s) => Some(s),
            None => base.run_every_seconds,
        },
        cron: cron.or_else(|| base.cron.clone()),
        timezone: timezone.or(base.timezone),
        catch_up: r.bool(obj, "catchUp", &p("catchUp")).unwrap_or(base.catch_up),
    }
}

fn read_quiet(r: &mut Reader, q: &Map<String, Value>, at: &str) -> Option<QuietHours> {
    let start = r.hhmm(q, "start", &format!("{at}.start"));
    let end = r.hhmm(q, "end", &format!("{at}.end"));
    match (start, end) {
        (Some(s), Some(e)) if s != e => Some(QuietHours { start: s, end: e }),
        _ => None,
    }
}

/// Digest binding approvals to a job's effective definition (what would run, where, how long, what follows).
pub fn digest(job: &Job) -> String {
    // The effective definition (defaults merged in), so that a change of `defaults` that alters
    // what an approved run would do also voids the approval.
    let after: Vec<Value> = job.after.iter().map(|a| serde_json::json!([a.job_id, a.when.as_str(), a.delay_seconds])).collect();
    let c = &job.commands;
    let def = serde_json::json!({
        "id": job.id, "name": job.name, "kind": job.kind.as_str(), "risk": job.risk.as_str(), "enabled": job.enabled,
        "cwd": job.cwd.to_string_lossy(), "commands": [c.start, c.status, c.stop, c.run],
        "timeoutSeconds": job.policy.timeout_seconds, "after": after,
        "approval": [job.approval.required, job.approval.expires_seconds, job.approval.distinct_approver],
    });
    let mut h = Sha256::new();
    h.update(canonical_json(&def).as_bytes());
    hex16(h)
}

/// The first 16 bytes of a SHA-256, in hex.
pub fn hex16(h: Sha256) -> String {
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}
