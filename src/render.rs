//! Turns report facts into text (plain for the console; Telegram HTML is built on top of it).

use crate::core::report::{Anomaly, AutoResume, Note, Section};
use crate::core::status::{progress_fraction, JobStatus};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

/// A tick's report: header time plus sections.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// When the tick ran.
    pub at: Option<DateTime<Utc>>,
    /// One per job with something to say.
    pub sections: Vec<Section>,
}

impl Report {
    /// True when nothing is to be said.
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }
    /// True when any section should ring (alerts, status changes).
    pub fn loud(&self) -> bool {
        self.sections.iter().any(|s| s.loud)
    }
}

/// "Ops report (HH:MM:SS)" in the configured timezone.
pub fn header(at: DateTime<Utc>, tz: Tz) -> String {
    format!("Ops report ({})", at.with_timezone(&tz).format("%H:%M:%S"))
}

/// The whole report as plain text.
pub fn report_text(r: &Report, tz: Tz) -> String {
    let mut parts = vec![header(r.at.unwrap_or_else(Utc::now), tz)];
    parts.extend(r.sections.iter().map(section_text));
    parts.join("\n\n")
}

/// A text progress bar such as `▓▓▓░░░░░░░ 30%`.
pub fn bar(fraction: f64) -> String {
    let filled = (fraction * 10.0).round().clamp(0.0, 10.0) as usize;
    format!("{}{} {}%", "▓".repeat(filled), "░".repeat(10 - filled), (fraction * 100.0).round() as i64)
}

/// One-word state of a long job.
pub fn state_word(s: &JobStatus) -> String {
    if s.completed {
        "completed ✅".into()
    } else if s.running {
        s.pid.map_or("running".into(), |p| format!("running (pid {p})"))
    } else {
        s.stop_reason.as_ref().map_or("paused".into(), |r| format!("paused (stopReason: {r})"))
    }
}

/// Progress facts: bar (when done/total or percent exist) and up to six scalar fields.
pub fn progress_line(s: &JobStatus) -> Option<String> {
    let p = s.progress.as_ref()?;
    let mut keys: Vec<&String> = p.keys().collect();
    keys.sort();
    let facts: Vec<String> = keys
        .iter()
        .filter_map(|k| match &p[k.as_str()] {
            Value::Object(_) | Value::Array(_) => None,
            Value::String(v) => Some(format!("{k}={v}")),
            v => Some(format!("{k}={v}")),
        })
        .take(6)
        .collect();
    let bar = progress_fraction(p).map(bar);
    match (bar, facts.is_empty()) {
        (Some(b), true) => Some(b),
        (Some(b), false) => Some(format!("{b} ({})", facts.join(" | "))),
        (None, false) => Some(facts.join(" | ")),
        (None, true) => None,
    }
}

/// The anomaly as one line.
pub fn anomaly_line(a: &Anomaly) -> String {
    match a {
        Anomaly::Stalled { seconds } => format!("ALERT: stalled for {seconds} s (no progress)"),
        Anomaly::Paused { .. } => "ALERT: job is not running and not completed".into(),
        Anomaly::InvalidStatus { reason } => format!("ALERT: status unavailable: {reason}"),
        Anomaly::JobAlert { message } => format!("ALERT: job reports alert{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default()),
        Anomaly::CheckFailed { reason } => format!("ALERT: check failed: {reason}"),
    }
}

fn note_line(n: &Note) -> String {
    match n {
        Note::ActionRequired(t) => format!("ACTION REQUIRED: {t}"),
        Note::AutoResume(a) => format!(
            "auto-resume: {}",
            match a {
                AutoResume::Start => "starting".to_string(),
                AutoResume::Started => "started".to_string(),
                AutoResume::Failed(r) => format!("start failed ({r}) — ACTION REQUIRED"),
                AutoResume::WouldStart => "would start (dry run)".to_string(),
                AutoResume::Backoff => "waiting (backoff)".to_string(),
                AutoResume::Blocked => "blocked: the job is not read_only — ACTION REQUIRED".to_string(),
            }
        ),
        Note::Recovered => "recovered: the check passes again".into(),
        Note::Output(o) => format!("output:\n{o}"),
        Note::Outcome(o) => format!("result: {o}"),
        Note::Queued { job_id, delay_seconds } => format!("queued {job_id} (in {delay_seconds} s)"),
        Note::Verification { approval_id, verdict } => format!("verification of write request #{approval_id}: {verdict}"),
        Note::Interrupted { approval_id, verify } => format!(
            "write request #{approval_id} was running when ops-monitor stopped: interrupted — outcome unknown; it is not re-run. ACTION REQUIRED: verify ({})",
            verify.join(", ")
        ),
        Note::Expired { approval_id } => format!("approval request #{approval_id} expired; nothing ran"),
        Note::Info(t) => t.clone(),
    }
}

/// One section: heading line then "- " facts.
pub fn section_text(s: &Section) -> String {
    let mut lines = vec![match &s.kind {
        Some(k) => format!("• {} ({}, {k})", s.job_name, s.job_id),
        None => format!("• {}", s.job_name),
    }];
    if let Some(st) = &s.status {
        lines.push(format!("- status: {}", state_word(st)));
        if let Some(m) = &st.message {
            lines.push(format!("- message: {m}"));
        }
        if let Some(p) = progress_line(st) {
            lines.push(format!("- progress: {p}"));
        }
    }
    if let Some(a) = &s.anomaly {
        lines.push(format!("- {}", anomaly_line(a)));
    }
    lines.extend(s.notes.iter().map(|n| format!("- {}", note_line(n))));
    lines.join("\n")
}
