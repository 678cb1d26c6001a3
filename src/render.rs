//! Turns report facts into text (plain for the console; Telegram HTML is built on top of it).

use crate::i18n::{self, Lang};
use crate::policy::failure::FailureKind;
use crate::policy::lifecycle::Lifecycle;
use crate::policy::rate::{self, Estimate, NoEta, Sample};
use crate::policy::report::{Anomaly, AutoResume, Hint, Note, Section};
use crate::policy::standing::Standing;
use crate::policy::status::{progress_fraction, JobStatus};
use crate::t;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

pub mod acted_text;
pub mod approval_text;
pub mod digest_text;
mod outcome_words;
pub mod overview_text;

pub use outcome_words::{failure_words, outcome_summary, output_block, stored_summary};

/// A tick's report: header time plus sections.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// When the tick ran.
    pub at: Option<DateTime<Utc>>,
    /// One per job with something to say.
    pub sections: Vec<Section>,
    /// The morning digest, when quiet hours just ended: rendered per chat, in its language, and
    /// queued in one transaction with forgetting what it covers.
    pub digest: Option<crate::policy::digest::Digest>,
}

impl Report {
    /// True when nothing is to be said.
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty() && self.digest.is_none()
    }
    /// True when any section should ring (alerts, status changes).
    pub fn loud(&self) -> bool {
        self.sections.iter().any(|s| s.loud)
    }
}

/// "Ops report · nas · HH:MM:SS CET" in the configured timezone, in the reader's language: the
/// host comes first so several hosts' reports in one group are told apart at a glance; the date
/// is added when the report is not from today (a report held while the phone was away).
pub fn header(at: DateTime<Utc>, host: &str, tz: Tz, lang: Lang) -> String {
    header_at(at, Utc::now(), host, tz, lang)
}

/// [`header`] as seen at `now`.
pub fn header_at(at: DateTime<Utc>, now: DateTime<Utc>, host: &str, tz: Tz, lang: Lang) -> String {
    t!(lang, "report-header", host = host, time = clock(at, now, tz))
}

/// `at` as a reader in `tz` needs it at `now`: time and timezone abbreviation ("13:27:05 CET"),
/// with the date in front when it is not today ("2026-01-14 13:27:05 CET").
pub fn clock(at: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> String {
    local_time(at, now, tz, "%H:%M:%S %Z", "%Y-%m-%d %H:%M:%S %Z")
}

/// `at` in `tz` with `today` as the format when it is `now`'s day there, else `other`.
fn local_time(at: DateTime<Utc>, now: DateTime<Utc>, tz: Tz, today: &str, other: &str) -> String {
    let local = at.with_timezone(&tz);
    local.format(if local.date_naive() == now.with_timezone(&tz).date_naive() { today } else { other }).to_string()
}

/// The whole report as plain text, headed with `host`.
pub fn report_text(r: &Report, host: &str, tz: Tz, lang: Lang) -> String {
    let mut parts = vec![header(r.at.unwrap_or_else(Utc::now), host, tz, lang)];
    parts.extend(r.sections.iter().map(|s| section_text(s, tz, lang)));
    parts.join("\n\n")
}

/// A text progress bar such as `▓▓▓░░░░░░░ 30%`.
pub fn bar(fraction: f64) -> String {
    let filled = (fraction * 10.0).round().clamp(0.0, 10.0) as usize;
    format!("{}{} {}%", "▓".repeat(filled), "░".repeat(10 - filled), (fraction * 100.0).round() as i64)
}

/// One-word state of a long job: running, completed, or what happened to it (not started,
/// stopped, crashed) when the lifecycle is known.
pub fn state_word(s: &JobStatus, life: Option<Lifecycle>, lang: Lang) -> String {
    if s.completed {
        return t!(lang, "state-completed");
    }
    if s.running {
        return s.pid.map_or_else(|| t!(lang, "state-running"), |p| t!(lang, "state-running-pid", pid = p));
    }
    let word = match life {
        Some(Lifecycle::NotStarted) => t!(lang, "state-not-started"),
        Some(Lifecycle::Stopped) => t!(lang, "state-stopped"),
        Some(Lifecycle::Crashed) => t!(lang, "state-crashed"),
        Some(Lifecycle::Running | Lifecycle::Completed) | None => t!(lang, "state-not-running"),
    };
    s.stop_reason.as_ref().map_or(word.clone(), |r| t!(lang, "state-with-reason", state = word, reason = r))
}

/// A job's standing in words, with its age or time in `tz` as a reader needs it at `now`
/// ("running 2 h 10 min", "stalled 4 min", "crashed 13:23", "failing since 13:44"); the job's
/// `stopReason` follows the words of a job that is not running.
pub fn standing_word(standing: Standing, stop_reason: Option<&str>, now: DateTime<Utc>, tz: Tz, lang: Lang) -> String {
    let age = |secs: i64| i18n::duration(lang, secs.max(0) as u64);
    let at = |t: Option<i64>| t.and_then(|t| DateTime::from_timestamp(t, 0)).map(|t| short_clock(t, now, tz));
    let word = match standing {
        Standing::Running { for_seconds: Some(secs) } => t!(lang, "standing-running-for", duration = age(secs)),
        Standing::Running { for_seconds: None } => t!(lang, "state-running"),
        Standing::Stalled { for_seconds } => t!(lang, "standing-stalled", duration = age(for_seconds)),
        Standing::Completed { at: t } => at(t).map_or_else(|| t!(lang, "state-completed"), |time| t!(lang, "standing-completed-at", time = time)),
        Standing::Crashed { at: t } => at(t).map_or_else(|| t!(lang, "state-crashed"), |time| t!(lang, "standing-crashed-at", time = time)),
        Standing::Stopped { at: t } => at(t).map_or_else(|| t!(lang, "state-stopped"), |time| t!(lang, "standing-stopped-at", time = time)),
        Standing::NotStarted => t!(lang, "state-not-started"),
        Standing::Failing { since } => at(since).map_or_else(|| t!(lang, "standing-failing"), |time| t!(lang, "standing-failing-since", time = time)),
    };
    match (standing, stop_reason) {
        (Standing::Crashed { .. } | Standing::Stopped { .. } | Standing::Completed { .. }, Some(r)) => t!(lang, "state-with-reason", state = word, reason = r),
        _ => word,
    }
}

/// `at` as "03:30 IST" in `tz`, with the date in front when it is not `now`'s day ("11-24
/// 03:30 IST"): a cron mark or next run, whose zone may not be the config's.
pub fn zoned_clock(at: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> String {
    local_time(at, now, tz, "%H:%M %Z", "%m-%d %H:%M %Z")
}

/// `at` as "13:23" in `tz`, with the date in front when it is not `now`'s day ("11-24 13:23").
pub fn short_clock(at: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> String {
    local_time(at, now, tz, "%H:%M", "%m-%d %H:%M")
}

/// Keys of `progress` shown as the bar and the figures rather than as raw facts.
const SHOWN_KEYS: [&str; 4] = ["done", "total", "unit", "percent"];

/// Progress for people: bar, `done/total unit`, rate and ETA (labelled as estimates), then up to
/// four other scalar facts: "▓▓▓░░░░░░░ 31% · 930/3000 files · 12.4 files/min · ETA 15:42 (≈ 2 h 47 min)".
pub fn progress_line(s: &JobStatus, est: Option<&Estimate>, tz: Tz, lang: Lang) -> Option<String> {
    progress_text(s, est, tz, lang, true)
}

/// [`progress_line`] at a glance (`/status`): the bar, `done/total unit`, rate and ETA; the job's
/// other progress facts only when it reports none of those.
pub fn progress_brief(s: &JobStatus, est: Option<&Estimate>, tz: Tz, lang: Lang) -> Option<String> {
    progress_text(s, est, tz, lang, false)
}

fn progress_text(s: &JobStatus, est: Option<&Estimate>, tz: Tz, lang: Lang, all_facts: bool) -> Option<String> {
    let p = s.progress.as_ref()?;
    let num = |k: &str| p.get(k).and_then(Value::as_f64);
    let unit = p.get("unit").and_then(Value::as_str).unwrap_or("").trim();
    let mut parts: Vec<String> = progress_fraction(p).map(bar).into_iter().collect();
    if let Some(done) = num("done") {
        let figures = num("total").map_or_else(|| rate::figure(done), |t| format!("{}/{}", rate::figure(done), rate::figure(t)));
        parts.push(if unit.is_empty() { figures } else { format!("{figures} {unit}") });
    }
    if let Some(e) = est.filter(|_| s.running && !s.completed) {
        parts.extend(rate_and_eta(e, unit, tz, lang));
    }
    let mut keys: Vec<&String> = p.keys().filter(|k| !SHOWN_KEYS.contains(&k.as_str())).collect();
    keys.sort();
    let facts: Vec<String> = keys
        .iter()
        .filter_map(|k| match &p[k.as_str()] {
            Value::Object(_) | Value::Array(_) => None,
            Value::String(v) => Some(format!("{k}={v}")),
            v => Some(format!("{k}={v}")),
        })
        .take(4)
        .collect();
    if !facts.is_empty() && (all_facts || parts.is_empty()) {
        parts.push(facts.join(" | "));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// One history sample as figures (for a chart's caption): bar, `done/total unit`, rate and ETA.
pub fn sample_line(s: &Sample, est: Option<&Estimate>, unit: &str, tz: Tz, lang: Lang) -> String {
    let mut parts = Vec::new();
    if let Some(t) = s.total {
        parts.push(bar((s.done / t).clamp(0.0, 1.0)));
    }
    if !s.percent {
        let figures = s.total.map_or_else(|| rate::figure(s.done), |t| format!("{}/{}", rate::figure(s.done), rate::figure(t)));
        parts.push(if unit.is_empty() { figures } else { format!("{figures} {unit}") });
    }
    if let Some(e) = est {
        parts.extend(rate_and_eta(e, unit, tz, lang));
    }
    parts.join(" · ")
}

/// "12.4 files/min" and "ETA 15:42 (≈ 2 h 47 min)" (or "ETA unknown"), in `lang`.
pub fn rate_and_eta(e: &Estimate, unit: &str, tz: Tz, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    if e.no_eta == Some(NoEta::Zero) {
        // "0 files/h · ETA unknown" says the same thing twice, and neither says it plainly.
        return vec![t!(lang, "progress-not-moving")];
    }
    if let Some(ps) = e.per_second {
        let (v, per) = rate::rate_parts(ps, e.percent);
        let unit = if e.percent {
            "%"
        } else if unit.is_empty() {
            ""
        } else {
            unit
        };
        let value = rate::figure(v);
        let text = match per {
            "s" => t!(lang, "rate-per-s", value = value, unit = unit),
            "min" => t!(lang, "rate-per-min", value = value, unit = unit),
            _ => t!(lang, "rate-per-h", value = value, unit = unit),
        };
        out.push(text.replace(" /", "/"));
    }
    match (e.eta_at, e.eta_seconds, e.no_eta) {
        (Some(at), Some(left), None) => {
            let local = DateTime::from_timestamp(at, 0).unwrap_or_default().with_timezone(&tz);
            let today = Utc::now().with_timezone(&tz).date_naive();
            let clock = if local.date_naive() == today { local.format("%H:%M") } else { local.format("%m-%d %H:%M") };
            out.push(t!(lang, "eta-at", time = clock.to_string(), duration = i18n::duration(lang, left.max(0) as u64)));
        }
        (_, _, Some(NoEta::NoTotal)) => {}
        _ => out.push(t!(lang, "eta-unknown")),
    }
    out
}

/// The anomaly as one line.
pub fn anomaly_line(a: &Anomaly, lang: Lang) -> String {
    match a {
        Anomaly::Stalled { seconds } => t!(lang, "anomaly-stalled", duration = i18n::duration(lang, (*seconds).max(0) as u64)),
        Anomaly::Crashed { ran_seconds, exit_code, signal, .. } => {
            let how = match (signal, exit_code) {
                (Some(s), _) => Some(t!(lang, "outcome-signal", signal = s.as_str())),
                (None, Some(code)) => Some(t!(lang, "outcome-exit", code = *code)),
                (None, None) => None,
            };
            let ran = ran_seconds.map(|secs| i18n::duration(lang, secs.max(0) as u64));
            match (ran, how) {
                (Some(duration), Some(how)) => t!(lang, "anomaly-crashed-after-how", duration = duration, how = how),
                (Some(duration), None) => t!(lang, "anomaly-crashed-after", duration = duration),
                (None, Some(how)) => t!(lang, "anomaly-crashed-how", how = how),
                (None, None) => t!(lang, "anomaly-crashed"),
            }
        }
        Anomaly::InvalidStatus { failure } => t!(lang, "anomaly-invalid-status", reason = failure_words(failure, lang)),
        Anomaly::JobAlert { message: None } => t!(lang, "anomaly-job-alert"),
        Anomaly::JobAlert { message: Some(m) } => t!(lang, "anomaly-job-alert-message", message = m),
        // The check's own ALERT line speaks for itself: "ALERT: check failed: ALERT: …" stutters.
        Anomaly::CheckFailed { failure } if failure.kind == FailureKind::OutputAlert => t!(lang, "anomaly-check-says", line = &failure.reason),
        Anomaly::CheckFailed { failure } => t!(lang, "anomaly-check-failed", reason = stored_summary(&failure.reason, lang)),
    }
}

fn resume_line(a: &AutoResume, lang: Lang) -> String {
    match a {
        AutoResume::Start => t!(lang, "resume-start"),
        AutoResume::Started => t!(lang, "resume-started"),
        AutoResume::Failed(r) => t!(lang, "resume-failed", reason = r),
        AutoResume::WouldStart => t!(lang, "resume-would-start"),
        AutoResume::Backoff => t!(lang, "resume-backoff"),
        AutoResume::Blocked => t!(lang, "resume-blocked"),
    }
}

/// A queue item's stored reason in `lang`: "after scan (failure)" is how the queue keeps it
/// (the config's words); anything else is shown as stored.
fn queued_reason(reason: &str, lang: Lang) -> String {
    let parsed = reason.strip_prefix("after ").and_then(|r| r.strip_suffix(')')).and_then(|r| r.rsplit_once(" ("));
    match parsed {
        Some((job, "success")) => t!(lang, "chain-after-success", job = job),
        Some((job, "failure")) => t!(lang, "chain-after-failure", job = job),
        _ => reason.to_string(),
    }
}

fn note_line(n: &Note, lang: Lang) -> String {
    match n {
        Note::Hint(h) => hint_line(h, lang),
        Note::AutoResume(a) => resume_line(a, lang),
        Note::Recovered => t!(lang, "note-recovered"),
        Note::Reminder { count, for_seconds } => t!(lang, "note-reminder", count = *count, duration = i18n::duration(lang, (*for_seconds).max(0) as u64)),
        Note::Output(o) => format!("{}\n{o}", t!(lang, "note-output")),
        Note::LogTail(o) => format!("{}\n{o}", t!(lang, "note-log-tail")),
        Note::LogUnreadable { path, reason } => t!(lang, "note-log-unreadable", path = path.as_str(), reason = reason.as_str()),
        Note::StateReset { error } => t!(lang, "note-state-reset", error = error.as_str()),
        Note::Outcome(o) => t!(lang, "note-result", text = stored_summary(o, lang)),
        Note::Queued { job_id, delay_seconds } => t!(lang, "note-queued", job = job_id, delay = i18n::duration(lang, *delay_seconds)),
        Note::Verification { approval_id, ok, after_failure } => {
            let verdict = if *ok { t!(lang, "verdict-ok") } else { t!(lang, "verdict-failed") };
            if *after_failure {
                t!(lang, "note-verification-after-failure", id = *approval_id, verdict = verdict)
            } else {
                t!(lang, "note-verification", id = *approval_id, verdict = verdict)
            }
        }
        Note::Interrupted { approval_id, verify } => t!(lang, "note-interrupted", id = *approval_id, jobs = verify.join(", ")),
        Note::Expired { approval_id } => t!(lang, "note-expired", id = *approval_id),
        Note::ConfigInvalid { file, using_last_good } => {
            let next = if *using_last_good { t!(lang, "config-keeps-last-good") } else { t!(lang, "config-none-good") };
            format!("{}\n- {}", t!(lang, "config-invalid", file = file), t!(lang, "note-action-required", text = next))
        }
        Note::ChainBlocked { kind, risk } => t!(lang, "note-action-required", text = t!(lang, "chain-blocked", kind = kind, risk = risk)),
        Note::ChainUnknown { job_id } => t!(lang, "note-action-required", text = t!(lang, "chain-unknown", job = job_id)),
        Note::QueuedBecause(reason) => t!(lang, "chain-queued-because", reason = queued_reason(reason, lang)),
        Note::WouldRun { queued: Some(reason) } => t!(lang, "dry-would-run-queued", reason = reason),
        Note::WouldRun { queued: None } => t!(lang, "dry-would-run-schedule"),
        Note::WouldAsk => t!(lang, "dry-would-ask-schedule"),
        Note::Late { missed, ran } => t!(lang, "note-late", missed = missed, ran = ran),
        Note::Info(text) => text.clone(),
        Note::Resumed { job, crashed, resumed, progress: Some(p) } => {
            t!(lang, "note-resumed-at", job = job, crashed = crashed, resumed = resumed, progress = p)
        }
        Note::Resumed { job, crashed, resumed, progress: None } => t!(lang, "note-resumed", job = job, crashed = crashed, resumed = resumed),
    }
}

/// The line a section adds to the alert it amends ([`Section::amends`]), in `lang`.
pub fn amend_line(s: &Section, lang: Lang) -> Option<String> {
    s.notes.iter().find(|n| matches!(n, Note::Resumed { .. } | Note::Recovered)).map(|n| note_line(n, lang))
}

fn hint_line(h: &Hint, lang: Lang) -> String {
    match h {
        Hint::Crashed { job_id } => t!(lang, "hint-crashed", id = job_id),
        Hint::Stalled { job_id } => t!(lang, "hint-stalled", id = job_id),
        Hint::Check => t!(lang, "hint-check"),
    }
}

/// One section: heading line then "- " facts.
pub fn section_text(s: &Section, tz: Tz, lang: Lang) -> String {
    let mut lines = vec![match &s.kind {
        Some(k) => t!(lang, "section-heading", name = &s.job_name, id = &s.job_id, kind = kind_word(k, lang)),
        None => t!(lang, "section-heading-plain", name = &s.job_name),
    }];
    if let Some(st) = &s.status {
        lines.push(t!(lang, "fact-status", state = state_word(st, s.life, lang)));
        if let Some(m) = &st.message {
            lines.push(t!(lang, "fact-message", text = m));
        }
        if let Some(p) = progress_line(st, s.estimate.as_ref(), tz, lang) {
            lines.push(t!(lang, "fact-progress", text = p));
        }
    }
    if let Some(a) = &s.anomaly {
        lines.push(format!("- {}", anomaly_line(a, lang)));
    }
    lines.extend(s.notes.iter().map(|n| format!("- {}", note_line(n, lang))));
    lines.join("\n")
}

/// A job kind as the reader's language names it (English keeps the config's own words); a kind
/// this version does not know is shown as written.
pub fn kind_word(kind: &str, lang: Lang) -> String {
    match crate::config::Kind::parse(kind) {
        Some(crate::config::Kind::LongRunningRead) => t!(lang, "kind-long-running-read"),
        Some(crate::config::Kind::OneShotRead) => t!(lang, "kind-one-shot-read"),
        Some(crate::config::Kind::OneShotWrite) => t!(lang, "kind-one-shot-write"),
        None => kind.to_string(),
    }
}

/// `text` as a person may see it (a chat or a terminal): ANSI escape sequences (colours a job
/// printed) removed, and control characters and bidirectional overrides dropped (a job's output
/// could otherwise reorder what the reader sees, "exe.txt" shown as "txt.exe"); newlines and
/// tabs stay.
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI: ESC [ parameters… final byte (@ to ~); other escapes: ESC and one char.
                if chars.next_if_eq(&'[').is_some() {
                    while chars.next().is_some_and(|f| !('@'..='~').contains(&f)) {}
                } else {
                    chars.next();
                }
            }
            '\n' | '\t' => out.push(c),
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}
