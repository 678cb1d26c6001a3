//! What happened during quiet hours, until the morning digest takes it: report sections held
//! (not sent) and alerts that rang.

use super::Store;
use crate::policy::digest::{Recorded, NIGHT_MARK};
use crate::policy::report::Section;
use anyhow::Result;
use rusqlite::params;

/// Records `section` (observed at `at`) for the digest: held when `rang` is false, else an alert
/// that rang and is only remembered.
pub fn record(tx: &rusqlite::Transaction, at: i64, section: &Section, rang: bool) -> Result<()> {
    tx.execute(
        "INSERT INTO quiet_held(at, job_id, section, rang) VALUES (?1, ?2, ?3, ?4)",
        params![at, section.job_id, serde_json::to_string(section)?, rang],
    )?;
    Ok(())
}

/// Records that the quiet hours began at `at` (the night's mark, [`NIGHT_MARK`]), unless a mark
/// is recorded already (looked up first: no write on the ticks after the first of the night).
pub fn mark_night(store: &mut Store, at: i64) -> Result<()> {
    let marked: bool = store.conn().query_row("SELECT EXISTS (SELECT 1 FROM quiet_held WHERE job_id=?1)", [NIGHT_MARK], |r| r.get(0))?;
    if marked {
        return Ok(());
    }
    let mark = serde_json::to_string(&Section::system(NIGHT_MARK, NIGHT_MARK))?;
    store.write(|tx| {
        tx.execute(
            "INSERT INTO quiet_held(at, job_id, section, rang) SELECT ?1, ?2, ?3, 0 WHERE NOT EXISTS (SELECT 1 FROM quiet_held WHERE job_id=?2)",
            params![at, NIGHT_MARK, mark],
        )?;
        Ok(())
    })
}

/// Everything recorded, oldest first. Unreadable rows are skipped.
pub fn all(store: &Store) -> Result<Vec<Recorded>> {
    let mut st = store.conn().prepare("SELECT id, at, rang, section FROM quiet_held ORDER BY id")?;
    let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, bool>(2)?, r.get::<_, String>(3)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at, rang, json) = row?;
        if let Ok(section) = serde_json::from_str(&json) {
            out.push(Recorded { id, at, rang, section });
        }
    }
    Ok(out)
}

/// True when every row of `ids` is still recorded (no other process delivered their digest).
pub fn present(store: &Store, ids: &[i64]) -> Result<bool> {
    let mut st = store.conn().prepare_cached("SELECT COUNT(*) FROM quiet_held WHERE id=?1")?;
    for id in ids {
        if st.query_row([id], |r| r.get::<_, i64>(0))? == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Forgets the rows `ids` and runs `queue` (which queues their digest) in one transaction, so a
/// failure in between neither loses them nor sends them twice. Returns false, changing nothing,
/// when some row is gone already (its digest was queued by another tick or process).
pub fn deliver(store: &mut Store, ids: &[i64], queue: impl FnOnce(&rusqlite::Transaction) -> Result<()>) -> Result<bool> {
    let done = store.write(|tx| {
        let mut gone = 0;
        for id in ids {
            gone += tx.execute("DELETE FROM quiet_held WHERE id=?1", [id])?;
        }
        if gone != ids.len() {
            return Err(Taken.into()); // rolls back
        }
        queue(tx)
    });
    match done {
        Ok(()) => Ok(true),
        Err(e) if e.is::<Taken>() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Some rows of a digest were already taken by another delivery.
#[derive(Debug, thiserror::Error)]
#[error("the digest's rows were already delivered")]
struct Taken;
