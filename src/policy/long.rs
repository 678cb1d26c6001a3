//! The monitoring policy: a pure function of (job, previous state, observation, now, timezone).

use super::decisions::Decisions;
use super::failure::Failure;
use super::lifecycle::{self, Lifecycle};
use super::rate::{figure, Sample};
use super::report::{Anomaly, AutoResume, Hint, Note, Section};
use super::state::{JobState, Resuming, Run, Seen};
use super::status::JobStatus;
use crate::config::{Job, Risk, When};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Same anomaly again at most this often (or `reportEverySeconds` when larger).
pub const ANOMALY_REPEAT_MIN_SECONDS: i64 = 900;

/// The outcome of evaluating one long job for one tick.
#[derive(Debug, Clone, PartialEq)]
pub struct LongDecision {
    /// State to store.
    pub state: JobState,
    /// Section to report, if any.
    pub section: Option<Section>,
    /// Auto-resume verdict (Start means: run `commands.start` now).
    pub auto_resume: Option<AutoResume>,
    /// The job ended: queue its `after` entries with this `when`.
    pub chain: Option<When>,
}

/// Decides whether an anomaly is reported now and updates the anomaly bookkeeping.
pub fn anomaly_due(st: &mut JobState, said: &Decisions, key: &str, report_every: u64, now: i64, force: bool) -> bool {
    let new = st.last_anomaly_key.as_deref() != Some(key);
    let acked = said.acked(key, st.anomaly_since);
    let snoozed = said.snoozed(now);
    let backoff = ANOMALY_REPEAT_MIN_SECONDS.max(report_every as i64);
    let elapsed = st.last_anomaly_report_at.map_or(i64::MAX, |t| now - t);
    let due = new || force || (!acked && !snoozed && elapsed >= backoff);
    if new {
        st.anomaly_since = Some(now);
        st.anomaly_reminders = 0;
    } else if due {
        st.anomaly_reminders += 1;
    }
    if due {
        st.last_anomaly_key = Some(key.to_string());
        st.last_anomaly_report_at = Some(now);
    }
    due
}

/// The note that says a report is a reminder of an anomaly already reported (None for the first).
pub fn reminder(st: &JobState, now: i64) -> Option<Note> {
    let since = st.anomaly_since?;
    (st.anomaly_reminders > 0).then(|| Note::Reminder { count: st.anomaly_reminders, for_seconds: (now - since).max(0) })
}

/// Forgets anomaly bookkeeping once the job is healthy again.
pub fn clear_anomaly(st: &mut JobState) {
    st.last_anomaly_key = None;
    st.last_anomaly_report_at = None;
    st.anomaly_since = None;
    st.anomaly_reminders = 0;
}

/// A status change a person just caused does not ring again: when the run `sec` reports as
/// running is the one a person started from a chat at `started_from_chat` (that chat got the
/// direct reply, the others a line naming them), it goes out silently, to the live message.
/// A crash or stall of that run is an anomaly and still rings.
pub fn quiet_if_started_from_chat(sec: &mut Section, started_from_chat: Option<i64>) {
    let running = sec.status.as_ref().is_some_and(|s| s.running && !s.completed);
    if sec.loud && sec.anomaly.is_none() && sec.amends.is_none() && running && sec.run.is_some() && sec.run == started_from_chat {
        sec.loud = false;
    }
}

/// Evaluates a long_running_read job; `obs` is the parsed status or why there is none.
pub fn evaluate_long(job: &Job, prev: &JobState, said: &Decisions, obs: &Result<JobStatus, Failure>, now: DateTime<Utc>, tz: Tz) -> LongDecision {
    let t = now.timestamp();
    let mut st = prev.clone();
    let status = match obs {
        Err(failure) => return invalid_status(job, st, said, failure, t),
        Ok(s) => s,
    };
    track_progress(&mut st, status, t);
    if let Some(f) = progress_figures(status) {
        st.last_progress_figures = Some(f);
    }
    let seen = st.last_seen.clone().unwrap_or_default();
    let life = lifecycle::advance(&mut st, said, status.running, status.completed, t);
    // The run this observation is about, before auto-resume starts another.
    let run = lifecycle::current_run(&st);
    restarted_by_person(prev, said, &mut st);
    let resumed = resumed(&mut st, life, job, tz);
    let anomaly = detect_anomaly(job, &st, status, life, t);
    let (auto_resume, told) = resume_now(job, prev, &mut st, &anomaly, life, t);
    let chain = match (seen.running, status.running, status.completed) {
        (_, _, true) if !seen.completed && prev.last_seen.is_some() => Some(When::Success),
        (true, false, false) if life == Lifecycle::Crashed => Some(When::Failure),
        _ => None,
    };
    let mut section = Section::for_job(job);
    section.status = Some(status.clone());
    section.life = Some(life);
    section.run = run;
    let report = match &anomaly {
        Some(_) if told => false,
        Some(a) => {
            let key = a.key(status.progress_key.as_deref());
            let force = auto_resume == Some(AutoResume::Start);
            anomaly_due(&mut st, said, &key, job.policy.report_every_seconds, t, force)
        }
        None => {
            clear_anomaly(&mut st);
            match life {
                Lifecycle::Stopped => false,
                Lifecycle::NotStarted => {
                    section.loud = false;
                    match &auto_resume {
                        Some(AutoResume::Start) => true,
                        Some(AutoResume::Blocked) => anomaly_due(&mut st, said, "autoresume-blocked", job.policy.report_every_seconds, t, false),
                        _ => false,
                    }
                }
                // Seen running again after auto-resume: the crash alert is edited, no new message.
                _ if resumed.is_some() => {
                    section.loud = false;
                    true
                }
                _ => routine_or_change(job, &mut st, said, status, &seen, now, &mut section),
            }
        }
    };
    let report = report || resumed.is_some();
    if let Some((key, note)) = resumed {
        section.amends = Some(key);
        section.notes.push(note);
    }
    if let (true, Some(_), Some(n)) = (report, &anomaly, reminder(&st, t)) {
        section.notes.push(n);
    }
    if anomaly.is_some() && auto_resume.is_none() && !status.completed {
        section.notes.push(Note::Hint(action_text(job, &anomaly)));
    }
    if let Some(ar) = &auto_resume {
        section.notes.push(Note::AutoResume(ar.clone()));
    }
    section.anomaly = anomaly;
    if report {
        note_reported(&mut st, status, t);
    }
    st.last_seen = Some(Seen { running: status.running, completed: status.completed, progress_key: status.progress_key.clone(), pid: status.pid });
    LongDecision { state: st, section: report.then_some(section), auto_resume, chain }
}

/// Auto-resume's verdict for this observation; on Start the job counts as started. The flag says
/// the crash being resumed was reported before (auto-resume waited out its backoff): it is not
/// reported again, its alert is edited once the job runs.
fn resume_now(job: &Job, prev: &JobState, st: &mut JobState, anomaly: &Option<Anomaly>, life: Lifecycle, t: i64) -> (Option<AutoResume>, bool) {
    let auto_resume = match (anomaly, life) {
        (Some(Anomaly::Crashed { .. }), _) => decide_auto_resume(job, st, t),
        (None, Lifecycle::NotStarted) if job.enabled => decide_auto_resume(job, st, t),
        (Some(Anomaly::Stalled { .. } | Anomaly::InvalidStatus { .. } | Anomaly::JobAlert { .. } | Anomaly::CheckFailed { .. }), _)
        | (None, Lifecycle::NotStarted | Lifecycle::Running | Lifecycle::Completed | Lifecycle::Stopped | Lifecycle::Crashed) => None,
    };
    let mut told = false;
    if auto_resume == Some(AutoResume::Start) {
        lifecycle::started(st, t);
        if let Some(a @ Anomaly::Crashed { at, .. }) = anomaly {
            let key = a.key(None);
            told = prev.last_anomaly_key.as_deref() == Some(key.as_str());
            let progress = st.last_progress_figures.clone();
            st.resuming = Some(Resuming { key, crashed_at: *at, started_at: t, progress });
        }
    }
    (auto_resume, told)
}

/// A person started the crashed job and it runs again: its crash alert says so in every chat and
/// loses its Start, as after auto-resume (each copy kept "crashed, start it again" with a Start
/// that refused).
fn restarted_by_person(prev: &JobState, said: &Decisions, st: &mut JobState) {
    let (Run::Crashed { at, .. }, Some(key)) = (prev.run, prev.last_anomaly_key.as_deref()) else { return };
    let Some(started_at) = said.started_at.filter(|s| *s >= at) else { return };
    if key.starts_with("crashed:") && matches!(st.run, Run::Running { .. }) {
        st.resuming = Some(Resuming { key: key.to_string(), crashed_at: at, started_at, progress: st.last_progress_figures.clone() });
    }
}

/// When a crashed job that auto-resume started is seen running: the crash alert's key and the
/// line that says so ("crashed 13:23:38 → resumed 13:23:39 at 2/12", the progress it was resumed
/// at, not what it has reached by now). Anything but running forgets the pending resume (a new
/// crash gets its own alert).
fn resumed(st: &mut JobState, life: Lifecycle, job: &Job, tz: Tz) -> Option<(String, Note)> {
    if life != Lifecycle::Running {
        st.resuming = None;
        return None;
    }
    let r = st.resuming.take()?;
    let hms = |t: i64| DateTime::from_timestamp(t, 0).unwrap_or_default().with_timezone(&tz).format("%H:%M:%S").to_string();
    let note = Note::Resumed { job: job.id.clone(), crashed: hms(r.crashed_at), resumed: hms(r.started_at), progress: r.progress };
    Some((r.key, note))
}

/// The job's progress as figures: "2/12 files", "930 files", "45%".
fn progress_figures(s: &JobStatus) -> Option<String> {
    let p = s.progress.as_ref()?;
    let x = Sample::from_progress(p, 0)?;
    let unit = p.get("unit").and_then(serde_json::Value::as_str).unwrap_or("").trim();
    let figures = match x.total {
        _ if x.percent => return Some(format!("{}%", figure(x.done))),
        Some(total) => format!("{}/{}", figure(x.done), figure(total)),
        None => figure(x.done),
    };
    Some(if unit.is_empty() { figures } else { format!("{figures} {unit}") })
}

fn invalid_status(job: &Job, mut st: JobState, said: &Decisions, failure: &Failure, t: i64) -> LongDecision {
    let a = Anomaly::InvalidStatus { failure: failure.clone() };
    let due = anomaly_due(&mut st, said, &a.key(None), job.policy.report_every_seconds, t, false);
    let mut s = Section::for_job(job);
    s.anomaly = Some(a);
    LongDecision { state: st, section: due.then_some(s), auto_resume: None, chain: None }
}

fn track_progress(st: &mut JobState, s: &JobStatus, t: i64) {
    if !s.running {
        st.last_progress_key = None;
        st.last_progress_at = None;
    } else if st.last_progress_at.is_none() || s.progress_key != st.last_progress_key {
        st.last_progress_key = s.progress_key.clone();
        st.last_progress_at = Some(t);
    }
}

fn detect_anomaly(job: &Job, st: &JobState, s: &JobStatus, life: Lifecycle, t: i64) -> Option<Anomaly> {
    if let Some(seconds) = lifecycle::stalled_for(job, st, s, t) {
        return Some(Anomaly::Stalled { seconds });
    }
    if s.level.as_deref() == Some("alert") {
        return Some(Anomaly::JobAlert { message: s.message.clone() });
    }
    if job.enabled && life == Lifecycle::Crashed {
        let (exit_code, signal) = (s.exit_code, s.signal.clone());
        return Some(Anomaly::Crashed {
            stop_reason: s.stop_reason.clone(),
            ran_seconds: match st.run {
                Run::Crashed { ran_seconds, .. } => Some(ran_seconds),
                _ => None,
            },
            at: st.run.crashed_at().unwrap_or(t),
            exit_code,
            signal,
        });
    }
    None
}

fn decide_auto_resume(job: &Job, st: &mut JobState, t: i64) -> Option<AutoResume> {
    if !job.policy.auto_resume {
        return None;
    }
    if job.risk != Risk::ReadOnly {
        return Some(AutoResume::Blocked);
    }
    let backoff = job.policy.auto_resume_backoff_seconds as i64;
    if st.last_auto_resume_at.is_some_and(|last| t - last < backoff) {
        return Some(AutoResume::Backoff);
    }
    st.last_auto_resume_at = Some(t);
    Some(AutoResume::Start)
}

fn routine_or_change(job: &Job, st: &mut JobState, said: &Decisions, s: &JobStatus, seen: &Seen, now: DateTime<Utc>, sec: &mut Section) -> bool {
    let t = now.timestamp();
    // A completed job whose process then exits (running: true → false, completed both times)
    // has no news: its completion was reported once.
    if (s.running != seen.running || s.completed != seen.completed) && !(s.completed && seen.completed) {
        return true;
    }
    if s.completed && !st.reported_completed {
        return true;
    }
    let every = job.policy.report_every_seconds as i64;
    let snoozed = said.snoozed(t);
    let due = st.last_report_at.is_none_or(|r| t - r >= every);
    let changed = !job.policy.only_on_change || s.progress_key != st.last_reported_progress_key;
    // Inside quiet hours too: routine progress only updates the live message, without sound.
    let routine = s.running && every > 0 && due && changed && !snoozed;
    sec.loud = !routine;
    routine
}

fn note_reported(st: &mut JobState, s: &JobStatus, t: i64) {
    st.last_report_at = Some(t);
    st.last_reported_progress_key = s.progress_key.clone();
    st.reported_completed = s.completed;
}

fn action_text(job: &Job, a: &Option<Anomaly>) -> Hint {
    match a {
        Some(Anomaly::Crashed { .. }) => Hint::Crashed { job_id: job.id.clone() },
        Some(Anomaly::Stalled { .. }) => Hint::Stalled { job_id: job.id.clone() },
        Some(Anomaly::InvalidStatus { .. } | Anomaly::JobAlert { .. } | Anomaly::CheckFailed { .. }) | None => Hint::Check,
    }
}
