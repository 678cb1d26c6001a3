//! The status contract of `commands.status` (long_running_read), parsed strictly.

use super::failure::{Failure, FailureKind};
pub use crate::config::canonical_json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Largest status output accepted, in bytes.
pub const MAX_STATUS_BYTES: usize = 64 * 1024;

/// One parsed status report of a long job; serialized (`status --json`) in the contract's own
/// camelCase names (`stopReason`, `progressKey`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    /// The job is running now.
    pub running: bool,
    /// The job has finished its work.
    pub completed: bool,
    /// Pid of the job's main process, when reported.
    pub pid: Option<i64>,
    /// Why it stopped.
    pub stop_reason: Option<String>,
    /// Free-form progress facts.
    pub progress: Option<Map<String, Value>>,
    /// Stable key for stall detection (derived from `progress` when absent).
    pub progress_key: Option<String>,
    /// ok | warn | alert.
    pub level: Option<String>,
    /// A human message.
    pub message: Option<String>,
    /// The job's log file, whose last lines are shown in crash and stall alerts and `/logs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_file: Option<String>,
    /// How the job's process ended, when the job knows (ops-monitor cannot wait for a process
    /// its start command put in the background): its exit status...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// ...or the signal that killed it ("KILL", "9").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
}

fn opt_str(o: &Map<String, Value>, k: &str) -> Option<String> {
    o.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Parses the stdout of a status command; the error has a kind and a one-line reason.
pub fn parse_status(stdout: &str) -> Result<JobStatus, Failure> {
    if stdout.len() > MAX_STATUS_BYTES {
        return Err(too_big(stdout.len() as u64));
    }
    let text = stdout.trim();
    if text.is_empty() {
        return Err(Failure::new(FailureKind::Empty, "status printed nothing (expected one JSON object)"));
    }
    let v: Value = serde_json::from_str(text).map_err(|e| {
        // Its first characters say more than the parser's position ("expected ident at ...").
        let start: String = text.chars().take(60).collect();
        let more = if text.chars().count() > 60 { "…" } else { "" };
        Failure::new(FailureKind::NotJson, format!("status output is not JSON: {start:?}{more} ({e})"))
    })?;
    let Value::Object(o) = v else {
        return Err(Failure::new(FailureKind::NotObject, "status output is not a JSON object"));
    };
    let flag = |k: &str| o.get(k).and_then(Value::as_bool);
    let (Some(running), Some(completed)) = (flag("running"), flag("completed")) else {
        return Err(Failure::new(FailureKind::MissingFields, "status JSON must include boolean fields running and completed"));
    };
    let progress = o.get("progress").and_then(Value::as_object).cloned();
    let progress_key = opt_str(&o, "progressKey").or_else(|| progress.as_ref().map(|p| canonical_json(&Value::Object(p.clone()))));
    let level = opt_str(&o, "level").map(|l| l.to_ascii_lowercase());
    if let Some(l) = &level {
        if !["ok", "warn", "alert"].contains(&l.as_str()) {
            return Err(Failure::new(FailureKind::BadLevel, format!("status level {l:?} is not one of ok, warn, alert")));
        }
    }
    Ok(JobStatus {
        running,
        completed,
        pid: o.get("pid").and_then(Value::as_i64).filter(|p| *p > 1),
        stop_reason: opt_str(&o, "stopReason"),
        progress,
        progress_key,
        level,
        message: opt_str(&o, "message"),
        log_file: opt_str(&o, "logFile"),
        exit_code: o.get("exitCode").and_then(Value::as_i64),
        signal: o.get("signal").and_then(|v| v.as_i64().map(|n| n.to_string())).or_else(|| opt_str(&o, "signal")).map(|s| s.chars().take(32).collect()),
    })
}

/// The failure for a status output of `bytes` bytes (over the limit).
pub fn too_big(bytes: u64) -> Failure {
    Failure::new(FailureKind::TooBig, format!("status output too large ({bytes} bytes, limit {MAX_STATUS_BYTES})"))
}

/// Fraction done (0..=1) from `done`/`total` or `percent` in the progress object.
pub fn progress_fraction(p: &Map<String, Value>) -> Option<f64> {
    let num = |k: &str| p.get(k).and_then(Value::as_f64);
    if let (Some(d), Some(t)) = (num("done"), num("total")) {
        if t > 0.0 {
            return Some((d / t).clamp(0.0, 1.0));
        }
    }
    num("percent").map(|x| (x / 100.0).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_progress_key_with_sorted_keys() {
        let s = parse_status(r#"{"running":true,"completed":false,"progress":{"b":2,"a":{"z":1,"y":0}}}"#).unwrap();
        assert_eq!(s.progress_key.as_deref(), Some(r#"{"a":{"y":0,"z":1},"b":2}"#));
    }

    #[test]
    fn explicit_progress_key_wins() {
        let s = parse_status(r#"{"running":true,"completed":false,"progress":{"a":1},"progressKey":"k1"}"#).unwrap();
        assert_eq!(s.progress_key.as_deref(), Some("k1"));
    }

    #[test]
    fn how_a_job_ended_when_it_says_so() {
        let s = parse_status(r#"{"running":false,"completed":false,"exitCode":3,"signal":"KILL"}"#).unwrap();
        assert_eq!((s.exit_code, s.signal.as_deref()), (Some(3), Some("KILL")));
        let s = parse_status(r#"{"running":false,"completed":false,"signal":9}"#).unwrap();
        assert_eq!((s.exit_code, s.signal.as_deref()), (None, Some("9")));
        let s = parse_status(r#"{"running":false,"completed":false,"exitCode":"x"}"#).unwrap();
        assert_eq!((s.exit_code, s.signal), (None, None), "not a number: unknown");
    }

    #[test]
    fn rejects_bad_output_with_a_reason() {
        for (input, want) in [
            ("", "printed nothing"),
            ("hello", "not JSON: \"hello\""),
            ("[1]", "not a JSON object"),
            (r#"{"running":1,"completed":false}"#, "boolean fields"),
            (r#"{"running":true}"#, "boolean fields"),
            (r#"{"running":true,"completed":false,"level":"boom"}"#, "level"),
        ] {
            let e = parse_status(input).unwrap_err();
            assert!(e.reason.contains(want), "{input:?} -> {e}");
        }
        let big = format!("{{\"running\":true,\"completed\":false,\"message\":\"{}\"}}", "x".repeat(MAX_STATUS_BYTES));
        assert_eq!(parse_status(&big).unwrap_err().kind, FailureKind::TooBig);
    }

    #[test]
    fn fraction_from_done_total_or_percent() {
        let p: Map<String, Value> = serde_json::from_str(r#"{"done":3,"total":10}"#).unwrap();
        assert_eq!(progress_fraction(&p), Some(0.3));
        let p: Map<String, Value> = serde_json::from_str(r#"{"percent":45}"#).unwrap();
        assert_eq!(progress_fraction(&p), Some(0.45));
    }
}
