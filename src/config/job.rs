//! Reads one entry of `jobs[]`.

use super::model::*;
use super::parts::digest;
use super::reader::Reader;
use serde_json::{Map, Value};
use std::path::Path;

/// Reads `jobs[i]`; returns None when the entry is too broken to use (issues are recorded).
#[allow(clippy::too_many_arguments)] // the reader's context, each argument used once; a struct would only rename them
pub fn read_job(
    r: &mut Reader,
    raw: &Value,
    at: &str,
    defaults: &Policy,
    base: &Path,
    home: &Path,
    warnings: &mut Vec<String>,
    known_ids: &std::collections::HashSet<&str>,
) -> Option<Job> {
    let Some(o) = raw.as_object() else {
        r.err(at, "must be an object");
        return None;
    };
    let p = |k: &str| format!("{at}.{k}");
    let id = r.string(o, "id", &p("id")).filter(|id| {
        let ok = valid_job_id(id);
        if !ok {
            r.err(&p("id"), format!("{id:?} is not a valid job id: use letters, digits, '.', '_' and '-', starting with a letter or digit"));
        }
        ok
    });
    if id.is_none() && o.get("id").is_none_or(Value::is_null) {
        r.err(&p("id"), "is required");
    }
    for k in ["kind", "risk", "after", "approval.granted"] {
        r.known(&p(k));
    }
    for k in ["start", "status", "stop", "run"] {
        r.known(&p(&format!("commands.{k}")));
    }
    let kind = read_enum(r, o, "kind", &p("kind"), Kind::parse, "long_running_read, one_shot_read, one_shot_write");
    let risk = read_enum(r, o, "risk", &p("risk"), Risk::parse, "read_only, write_local, write_external");
    let cwd = match r.string(o, "cwd", &p("cwd")) {
        Some(c) => {
            let p = base.join(expand_home(&c));
            std::fs::canonicalize(&p).unwrap_or(p)
        }
        None => home.to_path_buf(),
    };
    let commands = read_commands(r, o, &p("commands"));
    let policy = match r.object(o, "policy", &p("policy")) {
        Some(po) => super::parts::read_policy(r, po, &p("policy"), defaults),
        None => defaults.clone(),
    };
    let approval = read_approval(r, o, &p("approval"), id.as_deref(), warnings);
    let after = read_after(r, o, &p("after"), known_ids);
    let enabled = r.bool(o, "enabled", &p("enabled")).unwrap_or(false);
    let name = r.string(o, "name", &p("name"));
    let (kind, risk) = (kind?, risk?);
    let own = |key: &str| o.get("policy").and_then(Value::as_object).is_some_and(|p| p.contains_key(key));
    let own_schedule = Schedules { every: own("runEverySeconds"), cron: own("cron") };
    let present = |name: &str| o.get("commands").and_then(Value::as_object).is_some_and(|c| c.contains_key(name));
    // Checked whatever else is wrong with the entry (a bad id included): every problem at once.
    check_kind_rules(r, at, kind, risk, present, own_schedule);
    let id = id?;
    if kind == Kind::LongRunningRead && !present("status") {
        warnings.push(format!(
            "{at}.commands.status is absent: job {id} is watched only through the status file it writes ($OPS_STATUS_FILE, e.g. `ops-monitor report`); until it writes one it shows 'no status yet'"
        ));
    }
    let mut policy = policy;
    // A job's cron replaces an inherited runEverySeconds (both in its own policy is an error).
    if kind != Kind::OneShotRead || policy.cron.is_some() {
        policy.run_every_seconds = None;
    }
    if kind == Kind::LongRunningRead {
        policy.cron = None;
    }
    let mut job = Job { name: name.unwrap_or_else(|| id.clone()), digest: String::new(), id, kind, risk, enabled, cwd, commands, policy, approval, after };
    job.digest = digest(&job);
    Some(job)
}

/// Job ids name a folder (`OPS_STATE_DIR`) and appear in commands and buttons: `[A-Za-z0-9]`
/// then `[A-Za-z0-9._-]*`, so no id is `.`/`..`, holds a `/`, or maps onto another id's folder.
pub fn valid_job_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric()) && chars.all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

fn expand_home(p: &str) -> std::path::PathBuf {
    let home = std::env::var_os("HOME");
    match (p, p.strip_prefix("~/"), home) {
        ("~", _, Some(h)) => h.into(),
        (_, Some(rest), Some(h)) => Path::new(&h).join(rest),
        _ => p.into(),
    }
}

fn read_enum<T>(r: &mut Reader, o: &Map<String, Value>, k: &str, at: &str, parse: fn(&str) -> Option<T>, allowed: &str) -> Option<T> {
    match o.get(k) {
        None => {
            r.err(at, format!("is required (one of {allowed})"));
            None
        }
        Some(v) => {
            let got = v.as_str().and_then(parse);
            if got.is_none() {
                r.err(at, format!("unknown value {v}; expected one of {allowed}"));
            }
            got
        }
    }
}

fn read_commands(r: &mut Reader, o: &Map<String, Value>, at: &str) -> Commands {
    let mut c = Commands::default();
    let Some(obj) = r.object(o, "commands", at) else {
        if o.get("commands").is_none() {
            r.err(at, "is required (an object of argv lists)");
        }
        return c;
    };
    for (k, v) in obj {
        let argv = r.argv(v, &format!("{at}.{k}"));
        match k.as_str() {
            "start" => c.start = argv,
            "status" => c.status = argv,
            "stop" => c.stop = argv,
            "run" => c.run = argv,
            _ => {}
        }
    }
    c
}

/// Which schedule keys a job's own `policy` holds.
struct Schedules {
    every: bool,
    cron: bool,
}

fn check_kind_rules(r: &mut Reader, at: &str, kind: Kind, risk: Risk, present: impl Fn(&str) -> bool, own_schedule: Schedules) {
    let need = |r: &mut Reader, present: bool, name: &str| {
        if !present {
            r.err(&format!("{at}.commands.{name}"), format!("is required for kind {}", kind.as_str()));
        }
    };
    match kind {
        Kind::LongRunningRead => {
            need(r, present("start"), "start");
        }
        Kind::OneShotRead | Kind::OneShotWrite => need(r, present("run"), "run"),
    }
    if kind == Kind::OneShotRead && risk != Risk::ReadOnly {
        r.err(&format!("{at}.risk"), "a one_shot_read job must be read_only");
    }
    if kind != Kind::OneShotRead && own_schedule.every {
        r.err(&format!("{at}.policy.runEverySeconds"), "schedules are only allowed for one_shot_read jobs");
    }
    if kind == Kind::LongRunningRead && own_schedule.cron {
        r.err(&format!("{at}.policy.cron"), "cron schedules are for one_shot_read jobs (they run) and one_shot_write jobs (they ask)");
    }
    if own_schedule.every && own_schedule.cron {
        r.err(&format!("{at}.policy.cron"), "set either cron or runEverySeconds, not both");
    }
}

fn read_approval(r: &mut Reader, o: &Map<String, Value>, at: &str, id: Option<&str>, warnings: &mut Vec<String>) -> Approval {
    let mut a = Approval::default();
    let Some(obj) = r.object(o, "approval", at) else {
        return a;
    };
    a.required = r.bool(obj, "required", &format!("{at}.required")).unwrap_or(true);
    a.expires_seconds = r.u64(obj, "expiresSeconds", &format!("{at}.expiresSeconds")).unwrap_or(a.expires_seconds);
    a.distinct_approver = r.bool(obj, "distinctApprover", &format!("{at}.distinctApprover")).unwrap_or(false);
    if obj.contains_key("granted") {
        warnings
            .push(format!("{at}.granted (job {}) is ignored: approvals are now given per run (Approve button or `ops-monitor approve`)", id.unwrap_or("?")));
    }
    a
}

fn read_after(r: &mut Reader, o: &Map<String, Value>, at: &str, known_ids: &std::collections::HashSet<&str>) -> Vec<After> {
    let Some(v) = o.get("after") else {
        return Vec::new();
    };
    let Some(list) = v.as_array() else {
        r.err(at, "must be a list");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, e) in list.iter().enumerate() {
        let ea = format!("{at}[{k}]");
        let Some(eo) = e.as_object() else {
            r.err(&ea, "must be an object with jobId");
            continue;
        };
        let job_id = r.string(eo, "jobId", &format!("{ea}.jobId"));
        if eo.get("jobId").is_none_or(Value::is_null) {
            r.err(&format!("{ea}.jobId"), "is required");
        }
        let when = match r.string(eo, "when", &format!("{ea}.when")).as_deref() {
            None | Some("success") => Some(When::Success),
            Some("failure") => Some(When::Failure),
            Some(other) => {
                r.err(&format!("{ea}.when"), format!("unknown value {other:?}; expected success or failure"));
                None
            }
        };
        if let Some(j) = &job_id {
            if !known_ids.contains(j.as_str()) {
                r.err(&format!("{ea}.jobId"), format!("unknown job {j:?}"));
            }
        }
        let delay_seconds = r.u64(eo, "delaySeconds", &format!("{ea}.delaySeconds")).unwrap_or(0);
        if let (Some(job_id), Some(when)) = (job_id, when) {
            out.push(After { job_id, when, delay_seconds });
        }
    }
    out
}
