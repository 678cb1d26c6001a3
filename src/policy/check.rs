//! Policy for one-shot check results (schedules, chains, verification runs).

use super::decisions::Decisions;
use super::failure::{Failure, FailureKind};
use super::long::{anomaly_due, clear_anomaly};
use super::report::{Anomaly, Note, Section};
use super::state::JobState;
use crate::config::{Job, When};

/// What a one-shot run produced, as the policy sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    /// Why the run failed (timeout, exit code, signal, spawn); None: exit 0.
    pub run_failure: Option<FailureKind>,
    /// One-line outcome ("exit 3", "timed out ...").
    pub summary: String,
    /// Output tail (stdout then stderr).
    pub output: String,
}

impl CheckResult {
    /// Exit 0, no timeout, started fine.
    pub fn success(&self) -> bool {
        self.run_failure.is_none()
    }
}

/// The markers that make a check's output a failure (as in ops-monitor.py).
const MARKERS: [&str; 2] = ["ACTION REQUIRED", "ALERT"];

/// Why a check counts as failing, if it does.
pub fn failure(r: &CheckResult) -> Option<Failure> {
    if let Some(kind) = r.run_failure {
        return Some(Failure::new(kind, r.summary.clone()));
    }
    let line = r.output.lines().find(|l| MARKERS.iter().any(|m| has_word(l, m)))?;
    Some(Failure::new(FailureKind::OutputAlert, line.trim().chars().take(200).collect::<String>()))
}

/// True when `word` occurs in `line` on its own, not inside a longer word: "ALERT:",
/// "[ALERT]" and "ALERT - disk" count, "0 ALERTS found" and "NO_ALERT" do not. Two fixed
/// markers and one rule, so a scan is clearer than a regex dependency.
fn has_word(line: &str, word: &str) -> bool {
    let wordy = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    line.match_indices(word).any(|(i, w)| !wordy(line[..i].chars().next_back()) && !wordy(line[i + w.len()..].chars().next()))
}

/// Output tail shown in reports (last `max` characters, trimmed).
pub fn tail_chars(s: &str, max: usize) -> String {
    let s = s.trim();
    let n = s.chars().count();
    s.chars().skip(n.saturating_sub(max)).collect()
}

/// Decides what to report about a check run. `dedup` applies the anomaly repeat backoff
/// (schedules); chained runs report every failure. Returns new state, section, and the chain.
pub fn evaluate_check(job: &Job, prev: &JobState, said: &Decisions, r: &CheckResult, now: i64, dedup: bool) -> (JobState, Option<Section>, When) {
    let mut st = prev.clone();
    st.last_check_at = Some(now);
    let failing = failure(r);
    let mut sec = Section::for_job(job);
    let report = match &failing {
        Some(f) => {
            let a = Anomaly::CheckFailed { failure: f.clone() };
            let due = anomaly_due(&mut st, said, &a.key(None), job.policy.report_every_seconds, now, !dedup);
            sec.anomaly = Some(a);
            sec.notes.extend(super::long::reminder(&st, now));
            due
        }
        None => {
            clear_anomaly(&mut st);
            if prev.check_failing {
                sec.notes.push(Note::Recovered);
                // The failing alert's copies say it passes again, in every chat.
                sec.amends = prev.last_anomaly_key.clone();
            }
            prev.check_failing
        }
    };
    // "exit 0" under an ALERT line reads as if all were well: the exit status is shown only
    // when it is part of the story.
    if !(r.success() && failing.is_some()) {
        sec.notes.push(Note::Outcome(r.summary.clone()));
    }
    if !r.output.trim().is_empty() {
        sec.notes.push(Note::Output(tail_chars(&r.output, 800)));
    }
    st.check_failing = failing.is_some();
    let when = if r.success() { When::Success } else { When::Failure };
    (st, report.then_some(sec), when)
}

/// One `after` entry a finished run queues.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUp {
    /// The job to queue.
    pub job_id: String,
    /// Why it was queued (`after chk (success)`, or `verify:<request>` for an approved write run,
    /// which the tick reports as that request's verification).
    pub reason: String,
    /// Its delay (for the reply), and the time it may run.
    pub delay_seconds: u64,
    /// Unix seconds.
    pub not_before: i64,
}

/// What a finished run queues, whoever started it (CLI, chat command or button, chain,
/// schedule, approval, a long job that ended): its `after` entries for that outcome. The one
/// rule every path uses, so none of them can forget the chain.
pub fn follow_ups(job: &Job, when: When, now: i64, approval: Option<i64>) -> Vec<FollowUp> {
    job.after
        .iter()
        .filter(|a| a.when == when)
        .map(|a| FollowUp {
            job_id: a.job_id.clone(),
            reason: approval.map_or_else(|| format!("after {} ({})", job.id, when.as_str()), |id| format!("verify:{id}")),
            delay_seconds: a.delay_seconds,
            not_before: now + a.delay_seconds as i64,
        })
        .collect()
}

/// True when a scheduled check is due at `now`.
pub fn schedule_due(job: &Job, st: &JobState, now: i64) -> bool {
    match job.policy.run_every_seconds {
        // Only read-only checks run on a schedule, whatever the config loader let through.
        Some(every) if job.enabled && job.kind == crate::config::Kind::OneShotRead && job.risk == crate::config::Risk::ReadOnly => {
            st.last_check_at.is_none_or(|t| now - t >= every as i64)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(output: &str) -> Option<String> {
        failure(&CheckResult { run_failure: None, summary: "exit 0".into(), output: output.into() }).map(|f| f.reason)
    }

    #[test]
    fn alert_markers_count_only_as_words() {
        for hit in ["ALERT: disk full", "[ALERT] disk", "ALERT - disk", "x\nACTION REQUIRED: rotate keys", "disk ALERT", "(ALERT)", "ALERT"] {
            assert!(reason(hit).is_some(), "{hit:?} is an alert");
        }
        for miss in ["0 ALERTS found", "NO_ALERT", "ALERTING disabled", "PREALERT", "ACTION REQUIREDNESS", "alert: lower case", "all good"] {
            assert_eq!(reason(miss), None, "{miss:?} is not an alert");
        }
        assert_eq!(reason("ok\n0 ALERTS, 1 ALERT: fan").as_deref(), Some("0 ALERTS, 1 ALERT: fan"), "a later word on the same line counts");
    }
}
