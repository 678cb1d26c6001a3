//! A job's current view (`/status` in the chat, `ops-monitor status` on the host) in words: the
//! one renderer of both, so the two say the same of each job (its standing, its own message,
//! its progress, its last run and that run's last output lines, its next cron mark). Each
//! surface only heads the lines: the chat with `• name (id)`, the CLI with `- id (kind)`.

use crate::config::{Job, Kind};
use crate::i18n::Lang;
use crate::policy::rate::Estimate;
use crate::policy::standing::Standing;
use crate::policy::status::JobStatus;
use crate::store::RunRecord;
use crate::t;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// One job's current facts, as `engine::overview` observes them.
#[derive(Debug, Clone)]
pub struct JobView {
    /// The job.
    pub job: Job,
    /// Fresh status (long jobs), or the reason it is unavailable.
    pub status: Option<Result<JobStatus, crate::policy::failure::Failure>>,
    /// The newest recorded run (its output tails masked).
    pub last_run: Option<RunRecord>,
    /// Rate and ETA from the stored progress history and this status.
    pub estimate: Option<Estimate>,
    /// Its lifecycle word and age (long jobs; checks while failing).
    pub standing: Option<Standing>,
    /// Its next cron mark (enabled jobs with `policy.cron`).
    pub next_run: Option<DateTime<Utc>>,
    /// Whether the stored state last saw it running (what the buttons follow when its status is
    /// unavailable now).
    pub seen_running: bool,
}

impl JobView {
    /// When its cron runs it next, in the schedule's zone ("next 03:30 IST"), for the status views.
    pub fn next_line(&self, lang: Lang) -> Option<String> {
        let tz = self.job.policy.timezone.unwrap_or(chrono_tz::UTC);
        self.next_run.map(|at| t!(lang, "overview-next", when = super::zoned_clock(at, Utc::now(), tz)))
    }

    /// One-line summary ("running 2 h 10 min", "crashed 13:23", "failing since 13:44", "last
    /// run: exit 0", "never ran") in `lang`, times in `tz`.
    pub fn summary(&self, tz: Tz, lang: Lang) -> String {
        let stop_reason = self.status.as_ref().and_then(|s| s.as_ref().ok()).and_then(|s| s.stop_reason.as_deref());
        if let Some(standing) = self.standing {
            return super::standing_word(standing, stop_reason, Utc::now(), tz, lang);
        }
        match (&self.status, &self.last_run) {
            (Some(Ok(s)), _) => super::state_word(s, None, lang),
            (Some(Err(e)), _) => t!(lang, "overview-status-unavailable", reason = super::failure_words(e, lang)),
            (None, Some(r)) => {
                t!(lang, "overview-last-run", summary = r.summary.as_deref().map_or_else(|| t!(lang, "in-flight"), |s| super::stored_summary(s, lang)))
            }
            (None, None) => t!(lang, "overview-never"),
        }
    }
}

/// How much of a job's progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// At a glance (`/status`): bar, figures, rate and ETA; other facts only without those.
    Brief,
    /// Everything (`ops-monitor status`, a terminal has room): up to four other facts too.
    Full,
}

/// A job told: its summary, and the lines under it (already indented).
#[derive(Debug, Clone, PartialEq)]
pub struct JobLines {
    /// "running 2 h 10 min", "failing since 13:44", "last run: exit 0 at 12:41".
    pub summary: String,
    /// Its own message, progress, last run, that run's last output lines, next cron mark.
    pub lines: Vec<String>,
}

/// `v` at `now` in `lang`, times in `tz`.
pub fn job_lines(v: &JobView, now: DateTime<Utc>, tz: Tz, lang: Lang, progress: Progress) -> JobLines {
    let (last, output) = last_run(v, now, tz, lang);
    // A job whose summary would only repeat its last run says it once, with its time.
    let summary = match (&last, v.status.is_none() && v.standing.is_none()) {
        (Some(l), true) => l.clone(),
        _ => v.summary(tz, lang),
    };
    let mut lines = Vec::new();
    if let Some(Ok(s)) = &v.status {
        // The job's own words, unless its stopReason already said them.
        if let Some(m) = s.message.as_ref().filter(|m| s.stop_reason.as_ref() != Some(*m)) {
            lines.push(format!("  {m}"));
        }
        let p = match progress {
            Progress::Brief => super::progress_brief(s, v.estimate.as_ref(), tz, lang),
            Progress::Full => super::progress_line(s, v.estimate.as_ref(), tz, lang),
        };
        lines.extend(p.map(|p| format!("  {p}")));
    }
    lines.extend(last.filter(|l| *l != summary).map(|l| format!("  {l}")));
    lines.extend(output.into_iter().map(|l| format!("    {l}")));
    lines.extend(v.next_line(lang).map(|n| format!("  {n}")));
    JobLines { summary, lines }
}

/// Lines of a run's output the overview shows under its last-run line.
const OUTPUT_LINES: usize = 3;

/// The job's last-run line where it adds something ("last run: exit 0 at 12:41"), and for a
/// check or write job the last lines of that run's output, as a person may see them (escape
/// sequences and control characters removed; the engine masked secrets). A long job's
/// lifecycle word already tells what its last start or stop did, unless it failed; a failing
/// check's "exit 0" (it printed ALERT) would read as all well.
fn last_run(v: &JobView, now: DateTime<Utc>, tz: Tz, lang: Lang) -> (Option<String>, Vec<String>) {
    let failing = matches!(v.standing, Some(Standing::Failing { .. }));
    let Some(r) = v.last_run.as_ref().filter(|r| if v.job.kind == Kind::LongRunningRead || failing { r.ok == Some(false) } else { true }) else {
        return (None, Vec::new());
    };
    let when = DateTime::from_timestamp(r.started_at, 0).map(|t| super::short_clock(t, now, tz)).unwrap_or_default();
    let summary = r.summary.as_deref().map_or_else(|| t!(lang, "in-flight"), |s| super::stored_summary(s, lang));
    let line = t!(lang, "overview-last", action = super::acted_text::run_action_word(&r.action, lang), summary = summary, when = when);
    if v.job.kind == Kind::LongRunningRead {
        return (Some(line), Vec::new());
    }
    let out = format!("{}\n{}", r.stdout_tail.as_deref().unwrap_or_default(), r.stderr_tail.as_deref().unwrap_or_default());
    let shown = super::shown(&out);
    let lines: Vec<String> = shown.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).map(str::to_string).collect();
    (Some(line), lines[lines.len().saturating_sub(OUTPUT_LINES)..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check() -> Job {
        let text = r#"{"version":1,"jobs":[{"id":"fan","kind":"one_shot_read","risk":"read_only","enabled":true,"commands":{"run":["true"]}}]}"#;
        crate::config::parse(text, std::path::Path::new("/tmp/c.json"), std::path::Path::new("/tmp")).expect("valid").jobs.remove(0)
    }

    #[test]
    fn a_failing_check_names_its_alert_line_and_output_in_every_view_and_language() {
        let now = Utc::now();
        let run = RunRecord {
            action: "run".into(),
            started_at: now.timestamp() - 60,
            ok: Some(false),
            summary: Some("ALERT: fan broken".into()),
            stdout_tail: Some("\u{1b}[31mALERT: fan broken\u{1b}[0m\n".into()),
            ..RunRecord::default()
        };
        let v = JobView {
            job: check(),
            status: None,
            last_run: Some(run),
            estimate: None,
            standing: Some(Standing::Failing { since: Some(now.timestamp() - 60) }),
            next_run: None,
            seen_running: false,
        };
        for lang in crate::i18n::ALL.iter().copied() {
            let brief = job_lines(&v, now, chrono_tz::UTC, lang, Progress::Brief);
            assert_eq!(brief, job_lines(&v, now, chrono_tz::UTC, lang, Progress::Full), "only progress facts differ");
            assert!(brief.lines.iter().any(|l| l.starts_with("  ") && l.contains("ALERT: fan broken")), "{lang:?}: {brief:?}");
            assert!(brief.lines.contains(&"    ALERT: fan broken".to_string()), "the output as shown, colours removed: {brief:?}");
            assert!(!brief.lines.iter().chain([&brief.summary]).any(|l| l.contains("exit 0")), "{brief:?}");
        }
    }
}
