//! Quiet nights: inside a section's quiet hours only alerts ring; every other section
//! (completions, status changes, recoveries) is held in the store, and once its quiet hours are
//! over one digest — one message per report chat — says what happened, with each long job's
//! progress then and now.

use crate::config::{Config, Kind};
use crate::policy::quiet::{holds, is_quiet, window_for};
use crate::policy::rate::{figure, Sample};
use crate::policy::report::{Note, Section};
use crate::store::{progress, quiet_held, Store};
use crate::t;
use anyhow::Result;
use chrono::{DateTime, Utc};

/// Moves the sections that must wait for the morning out of `sections` into the store.
pub fn hold_quiet(store: &mut Store, cfg: &Config, sections: &mut Vec<Section>, now: DateTime<Utc>) -> Result<()> {
    let (held, keep): (Vec<Section>, Vec<Section>) = std::mem::take(sections).into_iter().partition(|s| holds(cfg, s, now));
    *sections = keep;
    if !held.is_empty() {
        store.write(|tx| held.iter().try_for_each(|s| quiet_held::hold(tx, now.timestamp(), s)))?;
    }
    Ok(())
}

/// The digest of the held sections whose quiet hours are over (taken from the store), if any.
pub fn due(store: &mut Store, cfg: &Config, now: DateTime<Utc>) -> Result<Vec<Section>> {
    let taken = store.write(|tx| {
        let due: Vec<(i64, i64, Section)> =
            quiet_held::all(tx)?.into_iter().filter(|(_, _, s)| !is_quiet(now, cfg.timezone, window_for(cfg, &s.job_id))).collect();
        quiet_held::take(tx, &due.iter().map(|d| d.0).collect::<Vec<_>>())?;
        Ok(due)
    })?;
    let Some(since) = taken.iter().map(|d| d.1).min() else { return Ok(Vec::new()) };
    let local = |t: i64| DateTime::from_timestamp(t, 0).unwrap_or_default().with_timezone(&cfg.timezone).format("%H:%M").to_string();
    let mut head = Section::system("digest", &t!(cfg.locale, "digest-title"));
    head.notes.push(Note::DigestIntro { since: local(since), count: taken.len() });
    for job in cfg.jobs.iter().filter(|j| j.enabled && j.kind == Kind::LongRunningRead) {
        let h = progress::history(store, &job.id, since)?;
        if let (Some(a), Some(b)) = (h.first(), h.last()) {
            head.notes.push(Note::ProgressThenNow { job: job.name.clone(), then: amount(a), now: amount(b) });
        }
    }
    let mut out = vec![head];
    for (_, at, mut s) in taken {
        s.notes.insert(0, Note::HeldAt(local(at)));
        out.push(s);
    }
    Ok(out)
}

/// "930/3000 (31%)", "45%" or "930".
fn amount(s: &Sample) -> String {
    match s.total {
        _ if s.percent => format!("{}%", figure(s.done)),
        Some(t) => format!("{}/{} ({}%)", figure(s.done), figure(t), (s.done / t * 100.0).round() as i64),
        None => figure(s.done),
    }
}
