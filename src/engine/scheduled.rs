//! A tick's cron work (`policy.cron`): the mark a job is owed ([`crate::policy::cron::due`]), a
//! request asked for a write job (never a run), and the line that says a check ran late.

use crate::config::{Job, Kind};
use crate::policy::check::CheckResult;
use crate::policy::cron::{due, Due, Schedule};
use crate::policy::report::{Note, Section};
use crate::policy::state::JobState;
use crate::render::zoned_clock;
use crate::store::{approval_rows, Store};
use anyhow::Result;
use chrono::{DateTime, Utc};

/// What a job's cron asks of this tick.
pub(super) enum Step {
    /// Nothing is due.
    Idle,
    /// Only the state's mark moved (counting starts, a mark skipped, a write job asked).
    Marked,
    /// Run the check now; with the line saying it is late, when it is.
    Run(Option<Note>),
    /// Dry run: what would happen.
    Would(Note),
}

/// Applies `job`'s cron at `now` to its state `st`. A write job's request is asked (or the one
/// still pending refreshed) here; a check is the caller's to run. `started`: the daemon's
/// start (None for the CLI's one-shot tick, which calls marks older than `grace` late).
pub(super) fn step(store: &mut Store, job: &Job, st: &mut JobState, now: DateTime<Utc>, started: Option<i64>, grace: i64, dry_run: bool) -> Result<Step> {
    let Some(s) = Schedule::of(job) else { return Ok(Step::Idle) };
    let (mark, late) = match due(&s, st, now.timestamp(), started, grace) {
        None => return Ok(Step::Idle),
        Some(Due::Start(m) | Due::Skip(m)) => {
            st.schedule_mark = Some(m);
            return Ok(Step::Marked);
        }
        Some(Due::Run { mark, late }) => (mark, late),
    };
    if dry_run {
        return Ok(Step::Would(if job.kind == Kind::OneShotWrite { Note::WouldAsk } else { Note::WouldRun { queued: None } }));
    }
    let missed = zoned_clock(DateTime::from_timestamp(mark.at, 0).unwrap_or(now), now, s.tz);
    st.schedule_mark = Some(mark);
    if job.kind == Kind::OneShotWrite {
        let via = if late { format!("schedule {} (missed {missed} while stopped)", s.expr) } else { format!("schedule {}", s.expr) };
        let asked = approval_rows::ask_on_schedule(store, job, &via, now.timestamp())?;
        tracing::info!(job = %job.id, request = asked.row.id, new = asked.new, "asked for approval on schedule");
        return Ok(Step::Marked);
    }
    Ok(Step::Run(late.then(|| Note::Late { missed, ran: zoned_clock(now, now, s.tz) })))
}

/// The section of a check that ran late: always said (a late run that passed is news too,
/// quietly), its first line naming the missed mark and when it ran.
pub(super) fn late_section(job: &Job, sec: Option<Section>, late: Note, r: &CheckResult) -> Section {
    let mut sec = sec.unwrap_or_else(|| {
        let mut s = Section::for_job(job);
        s.loud = false;
        s.notes.push(Note::Outcome(r.summary.clone()));
        s
    });
    sec.notes.insert(0, late);
    sec
}
