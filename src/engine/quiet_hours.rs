//! Quiet nights: inside a section's quiet hours only alerts ring; every other section
//! (completions, status changes, recoveries) is held in the store, and the alerts that rang are
//! remembered there too. Once the quiet hours are over, the digest of what was recorded is built
//! from the store (the pure part is [`crate::policy::digest`]); the sink queues it per chat and
//! forgets the rows in the same transaction.

use crate::config::{Config, Kind};
use crate::policy::approval::State;
use crate::policy::digest::{build, quiet_start, Current, Digest, Pending};
use crate::policy::quiet::{holds, is_quiet, window_for};
use crate::policy::rate::Sample;
use crate::policy::report::Section;
use crate::store::{decision_rows, progress, quiet_held, Store};
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Moves the sections that must wait for the morning out of `sections` into the store, and
/// remembers the alerts that ring inside their quiet hours; inside the tick's transaction, so
/// what is held and what is spooled to be said now are decided together.
pub fn hold_quiet(tx: &crate::store::Tx, cfg: &Config, sections: &mut Vec<Section>, now: DateTime<Utc>) -> Result<()> {
    let (held, keep): (Vec<Section>, Vec<Section>) = std::mem::take(sections).into_iter().partition(|s| holds(cfg, s, now));
    *sections = keep;
    // Routine progress is kept too (it updates the live message silently): it did not ring.
    let rang = sections.iter().filter(|s| !crate::policy::live::is_progress(s) && is_quiet(now, cfg.timezone, window_for(cfg, &s.job_id)));
    let t = now.timestamp();
    held.iter().try_for_each(|s| quiet_held::record(tx, t, s, false))?;
    rang.into_iter().try_for_each(|s| quiet_held::record(tx, t, s, true))
}

/// The polls among `samples` that fell inside their job's quiet hours, with when those began:
/// (job, poll time, night start) for [`quiet_held::note_first_poll`].
pub fn quiet_polls(cfg: &Config, samples: &[(String, Sample)]) -> Vec<(String, i64, i64)> {
    samples
        .iter()
        .filter_map(|(job_id, s)| {
            let q = window_for(cfg, job_id)?;
            is_quiet(DateTime::from_timestamp(s.at, 0).unwrap_or_default(), cfg.timezone, Some(q))
                .then(|| (job_id.clone(), s.at, quiet_start(s.at, cfg.timezone, q)))
        })
        .collect()
}

/// Marks the start of the default quiet hours (once a night), so that the digest comes also
/// after a night in which nothing was held: it still tells each job's progress then and now.
pub fn mark_night(store: &mut Store, cfg: &Config, now: DateTime<Utc>) -> Result<()> {
    if is_quiet(now, cfg.timezone, cfg.defaults.quiet_hours) {
        quiet_held::mark_night(store, now.timestamp())?;
    }
    Ok(())
}

/// The digest of what was recorded in quiet hours that are over now, if any. The rows stay in
/// the store until the digest is queued ([`quiet_held::deliver`]).
pub fn due(store: &Store, cfg: &Config, now: DateTime<Utc>) -> Result<Option<Digest>> {
    let over: Vec<_> = quiet_held::all(store)?.into_iter().filter(|r| !is_quiet(now, cfg.timezone, window_for(cfg, &r.section.job_id))).collect();
    let Some(since) = over.iter().map(|r| window_for(cfg, &r.section.job_id).map_or(r.at, |q| quiet_start(r.at, cfg.timezone, q))).min() else {
        return Ok(None);
    };
    let jobs: Vec<(String, String)> = cfg.jobs.iter().map(|j| (j.id.clone(), j.name.clone())).collect();
    let mut ends = HashMap::new();
    let began = since;
    let mut since = since;
    for job in cfg.jobs.iter().filter(|j| j.enabled && j.kind == Kind::LongRunningRead) {
        // Progress then is the job's first poll of the night, as noted then: the quiet window in
        // force by morning may have been edited or removed since.
        let from = quiet_held::first_poll(store, &job.id)?;
        since = since.min(from.unwrap_or(began));
        if let Some(p) = progress::ends(store, &job.id, from.unwrap_or(began))? {
            ends.insert(job.id.clone(), p);
        }
    }
    let pending: Vec<Pending> = super::approval_flow::list(store, Some(State::Pending))?
        .into_iter()
        .map(|r| Pending { id: r.id, job_id: r.job_id, asked_by: r.requested_via, expires_at: r.expires_at })
        .collect();
    let states = store.job_states()?;
    let said = decision_rows::all(store)?;
    Ok(build(&over, since, &Current { jobs: &jobs, states: &states, said: &said, progress: &ends, pending: &pending, now: now.timestamp() }))
}
