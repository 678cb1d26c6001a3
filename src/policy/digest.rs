//! The morning digest as facts: a pure function of what happened during the quiet hours (the
//! held messages and the alerts that rang) and of how things stand now (job states, progress,
//! open approval requests). Rendering to words happens in `render::digest_text`.

use super::decisions::Decisions;
use super::press::JobPress;
use super::rate::Sample;
use super::report::{Anomaly, AutoResume, Note, Section};
use super::state::JobState;
use crate::config::QuietHours;
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;

/// Events listed per job at most (the newest); the others are counted.
pub const EVENTS_PER_JOB: usize = 8;

/// One thing recorded during the quiet hours.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The store's row id (the digest covers it).
    pub id: i64,
    /// When it happened (Unix seconds).
    pub at: i64,
    /// True for an alert that rang; false for a message held for the digest.
    pub rang: bool,
    /// The report section.
    pub section: Section,
}

/// An approval request still waiting for a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// Request id (the Approve/Reject buttons carry it).
    pub id: i64,
    /// The write job.
    pub job_id: String,
    /// Who asked ("chat:<id>" or "cli").
    pub asked_by: String,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
}

/// Where an alert raised in the night stands at digest time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Still the job's current anomaly, not acknowledged.
    Open,
    /// Still current, acknowledged by a person.
    Acknowledged,
    /// Gone: the job recovered (or the anomaly changed into another one, listed on its own).
    Over,
}

/// What a job went through in the night.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// An alert rang; how often it rang, and where it stands now.
    Alert { anomaly: Anomaly, rang: u32, standing: Standing },
    /// Completed.
    Completed,
    /// Running again (a status change).
    Running,
    /// Auto-resume acted (started it, or could not).
    Resumed(AutoResume),
    /// A failing check passes again.
    Recovered,
    /// Any other held message (its section, shown as it would have been).
    Other(Box<Section>),
}

/// One line of a job's night, at its time.
#[derive(Debug, Clone, PartialEq)]
pub struct Timed {
    /// Unix seconds.
    pub at: i64,
    /// What happened.
    pub event: Event,
}

impl Timed {
    /// True for an alert that rang (the others are held messages).
    pub fn is_alert(&self) -> bool {
        matches!(self.event, Event::Alert { .. })
    }
}

/// One job's part of the digest.
#[derive(Debug, Clone, PartialEq)]
pub struct JobNight {
    /// Job id (or a system id such as "config").
    pub job_id: String,
    /// Display name.
    pub name: String,
    /// Progress when the quiet hours began and now (long jobs that report progress).
    pub progress: Option<(Sample, Sample)>,
    /// The newest events, oldest first.
    pub events: Vec<Timed>,
    /// Older events not listed.
    pub more: usize,
    /// Actions that fit its alerts still open (start, stop, run, logs), for buttons.
    pub actions: Vec<JobPress>,
    /// The run its newest alert about a run was about (its start, Unix seconds): the buttons
    /// are bound to it, so a Stop pressed after the job was started again acts on nothing.
    pub run: Option<i64>,
}

/// The digest: what happened between `since` and `until`, per job, and what still needs a
/// decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    /// Store rows it covers (they are forgotten when it is queued).
    pub rows: Vec<i64>,
    /// Start of the quiet hours (Unix seconds).
    pub since: i64,
    /// Digest time.
    pub until: i64,
    /// Held messages it lists (the events that are not alerts): the heading's count equals what
    /// the reader finds below it; a job's earlier events have their own "not listed" line.
    pub held: usize,
    /// Alerts it lists (one per anomaly, however often it rang).
    pub rang: usize,
    /// Per job, in config order, then system sections.
    pub jobs: Vec<JobNight>,
    /// Approval requests waiting for a decision.
    pub pending: Vec<Pending>,
}

impl Digest {
    /// The jobs this digest tells about (their first polls of the night are done with).
    pub fn job_ids(&self) -> Vec<&str> {
        self.jobs.iter().map(|j| j.job_id.as_str()).collect()
    }
}

/// How things stand at digest time.
pub struct Current<'a> {
    /// Configured jobs: (id, name), in config order.
    pub jobs: &'a [(String, String)],
    /// Every job's state now.
    pub states: &'a HashMap<String, JobState>,
    /// What people decided about each job (acks).
    pub said: &'a HashMap<String, Decisions>,
    /// Progress per job: first sample since the quiet hours began, and the latest.
    pub progress: &'a HashMap<String, (Sample, Sample)>,
    /// Pending approval requests (expired ones are left out here).
    pub pending: &'a [Pending],
    /// Now (Unix seconds).
    pub now: i64,
}

/// When the quiet window `q` that contains `at` began, in `tz` (local wall-clock time; a start
/// inside a DST gap counts from the same minute an hour later).
pub fn quiet_start(at: i64, tz: Tz, q: QuietHours) -> i64 {
    let local = DateTime::from_timestamp(at, 0).unwrap_or_default().with_timezone(&tz).naive_local();
    let start = NaiveTime::from_hms_opt(u32::from(q.start / 60), u32::from(q.start % 60), 0).unwrap_or_default();
    let mut day = local.date();
    if day.and_time(start) > local {
        day = day.pred_opt().unwrap_or(day);
    }
    let naive = day.and_time(start);
    (0..4).find_map(|h| tz.from_local_datetime(&(naive + Duration::hours(h))).earliest()).map_or(at, |t| t.with_timezone(&Utc).timestamp().min(at))
}

/// The job id of the mark recorded when the default quiet hours begin (no job has an empty id):
/// a night with nothing held still gets a digest of the jobs' progress.
pub const NIGHT_MARK: &str = "";

/// True for the mark of the night's start (it tells nothing itself).
pub fn is_night_mark(r: &Recorded) -> bool {
    r.section.job_id == NIGHT_MARK
}

impl Digest {
    /// Nothing to tell (a quiet night with no progress and no open request): its rows are only
    /// forgotten.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty() && self.pending.is_empty()
    }
}

/// The digest of `all` that was recorded (with `since`, the start of their quiet hours) as things
/// stand in `now`; None when nothing was recorded.
pub fn build(all: &[Recorded], since: i64, now: &Current) -> Option<Digest> {
    if all.is_empty() {
        return None;
    }
    let recorded: Vec<&Recorded> = all.iter().filter(|r| !is_night_mark(r)).collect();
    let mut order: Vec<(String, String)> = now.jobs.to_vec();
    for r in &recorded {
        if !order.iter().any(|(id, _)| *id == r.section.job_id) {
            order.push((r.section.job_id.clone(), r.section.job_name.clone()));
        }
    }
    let jobs: Vec<JobNight> = order
        .into_iter()
        .filter_map(|(id, name)| {
            let mine: Vec<&Recorded> = recorded.iter().copied().filter(|r| r.section.job_id == id).collect();
            let progress = now.progress.get(&id).copied().filter(|(a, b)| !mine.is_empty() || a != b);
            night(&id, &name, &mine, progress, (now.states.get(&id), now.said.get(&id)))
        })
        .collect();
    Some(Digest {
        rows: all.iter().map(|r| r.id).collect(),
        since,
        until: now.now,
        held: jobs.iter().flat_map(|j| &j.events).filter(|e| !e.is_alert()).count(),
        rang: jobs.iter().flat_map(|j| &j.events).filter(|e| e.is_alert()).count(),
        jobs,
        pending: now.pending.iter().filter(|p| p.expires_at > now.now).cloned().collect(),
    })
}

fn night(id: &str, name: &str, mine: &[&Recorded], progress: Option<(Sample, Sample)>, st: Known) -> Option<JobNight> {
    if mine.is_empty() && progress.is_none() {
        return None;
    }
    let mut events: Vec<Timed> = Vec::new();
    let mut keys: Vec<(String, usize)> = Vec::new();
    for r in mine {
        let s = &r.section;
        let shown_whole = match &s.anomaly {
            Some(a) => {
                alert(&mut events, &mut keys, r.at, a, s, st);
                false
            }
            None => match plain(s) {
                Some(e @ Event::Other(_)) => {
                    events.push(Timed { at: r.at, event: e });
                    true
                }
                Some(e) => {
                    events.push(Timed { at: r.at, event: e });
                    false
                }
                None => false,
            },
        };
        if !shown_whole {
            events.extend(s.notes.iter().filter_map(|n| match n {
                Note::AutoResume(ar @ (AutoResume::Started | AutoResume::Failed(_))) => Some(Timed { at: r.at, event: Event::Resumed(ar.clone()) }),
                _ => None,
            }));
        }
    }
    let mut actions: Vec<JobPress> = Vec::new();
    for e in &events {
        if let Event::Alert { anomaly, standing: Standing::Open, .. } = &e.event {
            for a in anomaly.actions() {
                if !actions.contains(a) {
                    actions.push(*a);
                }
            }
        }
    }
    let more = events.len().saturating_sub(EVENTS_PER_JOB);
    events.drain(..more);
    let run = mine.iter().rev().filter(|r| r.section.anomaly.is_some()).find_map(|r| r.section.run);
    Some(JobNight { job_id: id.into(), name: name.into(), progress, events, more, actions, run })
}

/// An alert: listed once per anomaly identity, counting how often it rang.
fn alert(events: &mut Vec<Timed>, keys: &mut Vec<(String, usize)>, at: i64, a: &Anomaly, s: &Section, st: Known) {
    let key = a.key(s.status.as_ref().and_then(|x| x.progress_key.as_deref()));
    match keys.iter().find(|(k, _)| *k == key) {
        Some((_, i)) => {
            if let Event::Alert { rang, .. } = &mut events[*i].event {
                *rang += 1;
            }
        }
        None => {
            keys.push((key.clone(), events.len()));
            events.push(Timed { at, event: Event::Alert { anomaly: a.clone(), rang: 1, standing: standing(st.0, st.1, &key) } });
        }
    }
}

/// A held (not alerting) section as an event: a completion, running again, a recovery, nothing
/// of its own when it only says what auto-resume did, else the section as is.
fn plain(s: &Section) -> Option<Event> {
    let resume_only = s.notes.iter().all(|n| matches!(n, Note::AutoResume(_)));
    match &s.status {
        Some(st) if st.completed => Some(Event::Completed),
        Some(st) if st.running && resume_only => Some(Event::Running),
        _ if s.notes == [Note::Recovered] => Some(Event::Recovered),
        _ if resume_only && !s.notes.is_empty() => None,
        _ => Some(Event::Other(Box::new(s.clone()))),
    }
}

/// A job's stored state and what people decided about it, either possibly unknown.
type Known<'a> = (Option<&'a JobState>, Option<&'a Decisions>);

/// Where the alert with `key` stands given the job's state now.
pub fn standing(st: Option<&JobState>, said: Option<&Decisions>, key: &str) -> Standing {
    match st {
        Some(st) if st.last_anomaly_key.as_deref() == Some(key) && said.is_some_and(|d| d.acked(key, st.anomaly_since)) => Standing::Acknowledged,
        Some(st) if st.last_anomaly_key.as_deref() == Some(key) => Standing::Open,
        _ => Standing::Over,
    }
}

#[cfg(test)]
#[path = "digest_tests.rs"]
mod tests;
