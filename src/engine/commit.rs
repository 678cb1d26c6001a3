//! A tick's commit: everything it decided lands in one transaction.

use super::tick::Tick;
use crate::policy::state::JobState;
use crate::store::{self, Store};
use anyhow::Result;
use chrono::Utc;
use std::collections::HashMap;

/// Writes the states of the jobs this tick evaluated, the finished and the new queue items, what
/// quiet hours hold and (`spool`) the report to be said now in one transaction: a queue item is
/// never done without its report. Jobs it did not evaluate are left alone (the other tick loop or the CLI may own
/// them now). What people decide (ack, snooze, stop) is not in these rows at all
/// ([`crate::store::decision_rows`]): a press during the tick cannot be undone by its commit.
pub(super) fn commit(store: &mut Store, loaded: &HashMap<String, JobState>, t: &mut Tick, spool: bool) -> Result<()> {
    let now = Utc::now().timestamp();
    store.write(|tx| {
        for id in &t.evaluated {
            let Some(st) = t.states.get(id) else { continue };
            if loaded.get(id) != Some(st) {
                store::put_job_state(tx, id, st)?;
            }
        }
        for (job_id, sample) in &t.samples {
            store::progress::record(tx, job_id, sample)?;
        }
        for (job_id, at, night) in super::quiet_hours::quiet_polls(&t.cfg, &t.samples) {
            store::quiet_held::note_first_poll(tx, &job_id, at, night)?;
        }
        for (job_id, reason, not_before) in &t.enqueue {
            store::enqueue(tx, job_id, reason, now, *not_before)?;
        }
        for (id, status, error) in &t.finished {
            store::finish_queue_item(tx, *id, status, error.as_deref(), t.now.timestamp())?;
        }
        let before = t.sections.len();
        super::quiet_hours::hold_quiet(tx, &t.cfg, &mut t.sections, t.now)?;
        t.held = before - t.sections.len();
        if spool && !t.sections.is_empty() {
            t.spooled = Some(store::spool::put(tx, t.now.timestamp(), &t.sections)?);
        }
        Ok(())
    })
}
