//! Reads a `version: 1` file into [`Config`], collecting every problem with its JSON path.

use super::canonical_json;
use super::model::*;
use super::parts::{hex16, read_policy};
use super::reader::{Issue, Reader};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// All problems of one file, reported together.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// Every problem found.
    pub issues: Vec<Issue>,
    /// The warnings of a file that was read far enough (unknown keys with their closest known
    /// key): shown with the problems, since a typo is often the cause of one.
    pub warnings: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let [only] = self.issues.as_slice() {
            if only.path == "(file)" {
                return write!(f, "config {}: {}", self.file.display(), only.message);
            }
        }
        // The first line is the whole reason on its own (the first problem); all follow below.
        let n = self.issues.len();
        write!(f, "invalid config {} ({n} problem{})", self.file.display(), if n == 1 { "" } else { "s" })?;
        if let Some(first) = self.issues.first() {
            write!(f, ": {}: {}", first.path, first.message)?;
        }
        // A single problem is said once, on the first line.
        for i in self.issues.iter().filter(|_| n > 1) {
            write!(f, "\n  {}: {}", i.path, i.message)?;
        }
        for w in &self.warnings {
            write!(f, "\n  WARNING: {w}")?;
        }
        Ok(())
    }
}

/// Reads and validates a config file; `home` is `$OPENCLAW_HOME` (default cwd).
pub fn load(path: &Path, home: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        issues: vec![Issue { path: "(file)".into(), message: format!("cannot read: {e}") }],
        warnings: Vec::new(),
    })?;
    parse(&text, path, home)
}

/// Validates config text as if read from `path`.
pub fn parse(text: &str, path: &Path, home: &Path) -> Result<Config, ConfigError> {
    let fail = |issues, warnings| ConfigError { file: path.to_path_buf(), issues, warnings };
    let root: Value = serde_json::from_str(text).map_err(|e| {
        // serde_json ends its message with the position the path already gives.
        let said = e.to_string();
        let message = said.strip_suffix(&format!(" at line {} column {}", e.line(), e.column())).unwrap_or(&said).to_string();
        fail(vec![Issue { path: format!("line {}, column {}", e.line(), e.column()), message: format!("invalid JSON: {message}") }], Vec::new())
    })?;
    // The folder relative paths resolve against, canonical: however the config path was spelled
    // (`ops-jobs.json`, `./x/../ops-jobs.json`, a symlink), jobs get the same cwd and digest.
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let base = std::fs::canonicalize(parent).or_else(|_| std::path::absolute(parent)).unwrap_or_else(|_| parent.to_path_buf());
    let mut r = Reader::default();
    let cfg = build(&mut r, &root, path, &base, home);
    match cfg {
        Some(c) if r.issues.is_empty() => Ok(c),
        Some(c) => Err(fail(r.issues, c.warnings)),
        None => Err(fail(r.issues, Vec::new())),
    }
}

fn build(r: &mut Reader, root: &Value, path: &Path, base: &Path, home: &Path) -> Option<Config> {
    let Some(obj) = root.as_object() else {
        r.err("$", "the file must hold a JSON object");
        return None;
    };
    r.known("version");
    r.known("jobs");
    match obj.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        Some(_) => r.err("version", "must be 1"),
        None => r.err("version", "is required and must be 1"),
    }
    let defaults = read_defaults(r, obj);
    let timezone = read_timezone(r, obj);
    let locale = match r.string(obj, "locale", "locale") {
        None => crate::i18n::Lang::En,
        Some(code) => crate::i18n::Lang::parse(&code).unwrap_or_else(|| {
            r.err("locale", format!("unknown locale {code:?}; supported: en, zh-CN"));
            crate::i18n::Lang::En
        }),
    };
    let tick_seconds = r.u64(obj, "tickSeconds", "tickSeconds").unwrap_or(60);
    if tick_seconds == 0 {
        r.err("tickSeconds", "must be at least 1");
    }
    let host = read_host(r, obj);
    let telegram = read_telegram(r, obj, base);
    let heartbeat = read_heartbeat(r, obj, tick_seconds);
    let mut warnings = Vec::new();
    let jobs = read_jobs(r, obj, &defaults, base, home, &mut warnings);
    check_cross_job(r, &jobs);
    let mut jobs = jobs;
    bind_after_digests(&mut jobs);
    // A cron is read in its job's zone, else the config's: filled in here so a job carries it.
    for (_, j) in jobs.iter_mut().filter(|(_, j)| j.policy.cron.is_some()) {
        j.policy.timezone.get_or_insert(timezone);
    }
    warnings.extend(super::keys::unknown_keys(root, &r.known));
    if !telegram.allowed_chat_ids.is_empty() {
        warnings.extend(unreachable_approvers(&telegram.approver_user_ids, &telegram.allowed_chat_ids, "telegram.allowedChatIds"));
    }
    Some(Config {
        path: path.to_path_buf(),
        host,
        defaults,
        jobs: jobs.into_iter().map(|(_, j)| j).collect(),
        timezone,
        locale,
        tick_seconds,
        telegram,
        heartbeat,
        warnings,
    })
}

/// Longest `host`: it heads every message and the command menu's descriptions.
pub const MAX_HOST_CHARS: usize = 64;

fn read_host(r: &mut Reader, obj: &Map<String, Value>) -> String {
    match r.string(obj, "host", "host") {
        Some(h) if h.chars().count() > MAX_HOST_CHARS => {
            r.err("host", format!("must be at most {MAX_HOST_CHARS} characters"));
            h
        }
        Some(h) if h.chars().any(char::is_control) => {
            r.err("host", "must be one line without control characters");
            h
        }
        Some(h) => h,
        None => crate::config::host::machine_name(),
    }
}

fn read_timezone(r: &mut Reader, obj: &Map<String, Value>) -> chrono_tz::Tz {
    match r.string(obj, "timezone", "timezone") {
        None => chrono_tz::UTC,
        Some(name) => name.parse().unwrap_or_else(|_| {
            r.err("timezone", format!("unknown IANA timezone {name:?}"));
            chrono_tz::UTC
        }),
    }
}

fn read_defaults(r: &mut Reader, obj: &Map<String, Value>) -> Policy {
    let base = Policy::default();
    let mut defaults = match r.object(obj, "defaults", "defaults") {
        Some(d) => read_policy(r, d, "defaults", &base),
        None => base,
    };
    // One cron for every job would have every write job ask at the same mark: a schedule is
    // said per job.
    if defaults.cron.take().is_some() {
        r.err("defaults.cron", "a cron schedule belongs in a job's own policy");
    }
    defaults
}

fn read_telegram(r: &mut Reader, obj: &Map<String, Value>, base: &Path) -> TelegramConfig {
    let Some(t) = r.object(obj, "telegram", "telegram") else {
        return TelegramConfig::default();
    };
    let allowed = r.ids(t, "allowedChatIds", "telegram.allowedChatIds").unwrap_or_default();
    TelegramConfig {
        report_chat_ids: r.ids(t, "reportChatIds", "telegram.reportChatIds").unwrap_or_else(|| allowed.clone()),
        approver_user_ids: r.ids(t, "approverUserIds", "telegram.approverUserIds").unwrap_or_default(),
        operator_user_ids: read_operators(r, t),
        api_url: r.string(t, "apiUrl", "telegram.apiUrl"),
        token_file: r.string(t, "tokenFile", "telegram.tokenFile").map(|f| base.join(f)),
        report_thread_id: read_thread_id(r, t),
        allowed_chat_ids: allowed,
    }
}

/// `telegram.operatorUserIds`: people, so a chat id (negative: a group) is an error, not a
/// list that silently lets nobody act.
fn read_operators(r: &mut Reader, t: &Map<String, Value>) -> Vec<i64> {
    let ids = r.ids(t, "operatorUserIds", "telegram.operatorUserIds").unwrap_or_default();
    for (i, id) in ids.iter().enumerate().filter(|(_, id)| **id <= 0) {
        r.err(&format!("telegram.operatorUserIds[{i}]"), format!("must be a user id (positive); {id} is a group's chat id"));
    }
    ids
}

fn read_thread_id(r: &mut Reader, t: &Map<String, Value>) -> Option<i32> {
    let id = r.u64(t, "reportThreadId", "telegram.reportThreadId")?;
    match i32::try_from(id) {
        Ok(id) if id > 0 => Some(id),
        _ => {
            r.err("telegram.reportThreadId", "must be a forum topic id (a positive message_thread_id)");
            None
        }
    }
}

fn read_heartbeat(r: &mut Reader, obj: &Map<String, Value>, tick_seconds: u64) -> Option<Heartbeat> {
    let h = r.object(obj, "heartbeat", "heartbeat")?;
    let url = r.string(h, "url", "heartbeat.url");
    let every_seconds = r.u64(h, "everySeconds", "heartbeat.everySeconds").unwrap_or(tick_seconds);
    if every_seconds == 0 {
        r.err("heartbeat.everySeconds", "must be at least 1");
    }
    match url {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => Some(Heartbeat { url: u, every_seconds }),
        Some(u) => {
            r.err("heartbeat.url", format!("must be an http:// or https:// URL, found {u:?}"));
            None
        }
        None if h.get("url").is_none_or(Value::is_null) => {
            r.err("heartbeat.url", "is required (the ping URL, e.g. https://hc-ping.com/<uuid>)");
            None
        }
        None => None,
    }
}

fn read_jobs(r: &mut Reader, obj: &Map<String, Value>, defaults: &Policy, base: &Path, home: &Path, warnings: &mut Vec<String>) -> Vec<(usize, Job)> {
    let Some(list) = obj.get("jobs") else {
        r.err("jobs", "is required (a list of jobs)");
        return Vec::new();
    };
    let Some(list) = list.as_array() else {
        r.err("jobs", "must be a list");
        return Vec::new();
    };
    let known: std::collections::HashSet<&str> = list.iter().filter_map(|j| j.get("id")?.as_str()).map(str::trim).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, raw) in list.iter().enumerate() {
        let at = format!("jobs[{i}]");
        // Named even when either entry has problems of its own: every problem at once.
        let duplicate = raw.get("id").and_then(Value::as_str).map(str::trim).and_then(|id| match seen.get(id) {
            Some(&first) => Some(format!("duplicate job id {id:?} (first at jobs[{first}])")),
            None => {
                seen.insert(id.to_string(), i);
                None
            }
        });
        if let Some(d) = &duplicate {
            r.err(&format!("{at}.id"), d);
        }
        let Some(job) = super::job::read_job(r, raw, &at, defaults, base, home, warnings, &known) else {
            continue;
        };
        if duplicate.is_none() {
            out.push((i, job));
        }
    }
    out
}

/// Approval requests go to each approver's private chat, which only works when that chat is
/// allowed: names every explicit approver whose chat is not in `allowed` (the list called
/// `list` in the message). The loader checks the config's own allowlist; when the config has
/// none, the daemon checks openclaw.json's `allowFrom`, which it alone reads.
pub fn unreachable_approvers(approvers: &[i64], allowed: &[i64], list: &str) -> Vec<String> {
    approvers
        .iter()
        .enumerate()
        .filter(|(_, u)| !allowed.contains(u))
        .map(|(i, u)| {
            format!(
                "telegram.approverUserIds[{i}]: user {u}'s private chat is not in {list}, so they cannot receive approval requests (they can still approve with the buttons in an allowed group)"
            )
        })
        .collect()
}

/// Rules between jobs: `after` targets exist, write jobs chain to a read_only verification.
fn check_cross_job(r: &mut Reader, jobs: &[(usize, Job)]) {
    let by_id: HashMap<&str, &Job> = jobs.iter().map(|(_, j)| (j.id.as_str(), j)).collect();
    for (i, job) in jobs {
        if job.kind != Kind::OneShotWrite {
            continue;
        }
        let verified = job
            .after
            .iter()
            .any(|a| a.when == When::Success && by_id.get(a.job_id.as_str()).is_some_and(|t| t.risk == Risk::ReadOnly && t.kind != Kind::OneShotWrite));
        if !verified {
            r.err(&format!("jobs[{i}].after"), "a one_shot_write job needs an after entry with when=success referencing a read_only verification job");
        }
    }
}

/// A job's digest also covers the effective definitions of its `after` jobs, and theirs in turn:
/// the verification (and whatever it chains to) is part of what an approver agreed to, so
/// changing any job down the chain voids the request. A cycle is cut where it closes.
fn bind_after_digests(jobs: &mut [(usize, Job)]) {
    let own: HashMap<&str, (&str, Vec<&str>)> =
        jobs.iter().map(|(_, j)| (j.id.as_str(), (j.digest.as_str(), j.after.iter().map(|a| a.job_id.as_str()).collect()))).collect();
    let mut done: HashMap<String, String> = HashMap::new();
    // Each job's result is its own (a cycle is cut where it closes on that job's path), so the
    // order of the jobs in the file never changes a digest.
    let bound: HashMap<String, String> =
        jobs.iter().filter_map(|(_, j)| Some((j.id.clone(), chained_digest(&j.id, &own, &mut done, &mut Vec::new())?.0))).collect();
    for (_, job) in jobs.iter_mut() {
        if let Some(d) = bound.get(&job.id) {
            job.digest = d.clone();
        }
    }
}

/// The digest of `id` bound to its `after` jobs' chained digests; a job without `after` keeps
/// its own digest. A job met again on the current path (a cycle) is cut there (its own digest).
/// Results that did not depend on such a cut are memoized in `done`, so a chain is digested
/// once however many jobs share it. Returns the digest and whether a cut was involved.
fn chained_digest(id: &str, own: &HashMap<&str, (&str, Vec<&str>)>, done: &mut HashMap<String, String>, path: &mut Vec<String>) -> Option<(String, bool)> {
    if let Some(d) = done.get(id) {
        return Some((d.clone(), false));
    }
    let (digest, after) = own.get(id)?;
    if path.iter().any(|p| p == id) {
        return Some((digest.to_string(), true));
    }
    if after.is_empty() {
        done.insert(id.to_string(), digest.to_string());
        return Some((digest.to_string(), false));
    }
    path.push(id.to_string());
    let mut cut = false;
    let then: Vec<Value> = after
        .iter()
        .map(|a| {
            let d = chained_digest(a, own, done, path);
            cut |= d.as_ref().is_some_and(|(_, c)| *c);
            serde_json::json!([a, d.map(|(d, _)| d)])
        })
        .collect();
    path.pop();
    let mut h = Sha256::new();
    h.update(digest.as_bytes());
    h.update(canonical_json(&Value::Array(then)).as_bytes());
    let d = hex16(h);
    if !cut {
        done.insert(id.to_string(), d.clone());
    }
    Some((d, cut))
}
