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

/// Notes that `job_id` was polled at `at` inside quiet hours that began at `night_start`, unless
/// a poll of this night is noted already (a note from an earlier night is replaced): the digest's
/// "progress then" is the job's sample at its first poll of the night.
pub fn note_first_poll(tx: &rusqlite::Transaction, job_id: &str, at: i64, night_start: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO quiet_from(job_id, at) VALUES (?1, ?2) ON CONFLICT(job_id) DO UPDATE SET at=excluded.at WHERE quiet_from.at < ?3",
        params![job_id, at, night_start],
    )?;
    Ok(())
}

/// When `job_id` was first polled inside the quiet hours ([`note_first_poll`]), if noted.
pub fn first_poll(store: &Store, job_id: &str) -> Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    Ok(store.conn().prepare_cached("SELECT at FROM quiet_from WHERE job_id=?1")?.query_row([job_id], |r| r.get(0)).optional()?)
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

/// Forgets the rows `ids` and the first polls of `jobs` noted until `until` (the digest's time), and runs
/// `queue` (which queues their digest) in one transaction, so a failure in between neither loses
/// them nor sends them twice. Returns false, changing nothing, when some row is gone already (its
/// digest was queued by another tick or process).
pub fn deliver(store: &mut Store, ids: &[i64], until: i64, jobs: &[&str], queue: impl FnOnce(&rusqlite::Transaction) -> Result<()>) -> Result<bool> {
    let done = store.write(|tx| {
        // Only the jobs this digest covers: another job may still be inside its own quiet hours.
        for job in jobs {
            tx.execute("DELETE FROM quiet_from WHERE at <= ?1 AND job_id=?2", rusqlite::params![until, job])?;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_poll_of_a_night_is_kept_and_a_note_from_an_earlier_night_is_replaced() {
        let (_dir, mut store) = crate::store::temp();
        let note = |store: &mut Store, at: i64, night: i64| store.write(|tx| note_first_poll(tx, "scan", at, night)).unwrap();
        note(&mut store, 1000, 900);
        note(&mut store, 1030, 900);
        assert_eq!(first_poll(&store, "scan").unwrap(), Some(1000), "later polls of the same night keep the first");
        note(&mut store, 90_000, 86_000);
        assert_eq!(first_poll(&store, "scan").unwrap(), Some(90_000), "the next night starts anew");
        store.write(|tx| note_first_poll(tx, "backup", 89_000, 86_000)).unwrap();
        assert!(deliver(&mut store, &[], 90_000, &["scan"], |_| Ok(())).unwrap());
        assert_eq!(first_poll(&store, "scan").unwrap(), None, "the digest forgets what it used");
        assert_eq!(first_poll(&store, "backup").unwrap(), Some(89_000), "a job the digest did not cover keeps its note");
    }
}
