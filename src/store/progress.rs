//! Each job's progress history: one sample per status poll for the last day, thinned to one per
//! [`THIN_BUCKET_SECONDS`] beyond it, and gone after [`KEEP_SECONDS`].

use super::Store;
use crate::policy::rate::Sample;
use anyhow::Result;
use rusqlite::params;

/// Samples younger than this are all kept (one per poll).
pub const FULL_SECONDS: i64 = 24 * 3600;
/// Beyond [`FULL_SECONDS`], one sample per bucket of this many seconds is kept.
pub const THIN_BUCKET_SECONDS: i64 = 600;
/// Samples older than this are deleted.
pub const KEEP_SECONDS: i64 = 30 * 24 * 3600;

/// Records one poll's sample (a second poll in the same second replaces the first) and thins the
/// job's history once per bucket.
pub fn record(tx: &rusqlite::Transaction, job_id: &str, s: &Sample) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO progress_samples(job_id, at, done, total, percent) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![job_id, s.at, s.done, s.total, s.percent],
    )?;
    if s.at % THIN_BUCKET_SECONDS < 60 {
        thin(tx, job_id, s.at)?;
    }
    Ok(())
}

/// Keeps the first sample of each bucket older than a day, and nothing older than the keep limit.
fn thin(tx: &rusqlite::Transaction, job_id: &str, now: i64) -> Result<()> {
    tx.execute("DELETE FROM progress_samples WHERE job_id=?1 AND at < ?2", params![job_id, now - KEEP_SECONDS])?;
    tx.execute(
        "DELETE FROM progress_samples WHERE job_id=?1 AND at < ?2 AND at NOT IN \
         (SELECT MIN(at) FROM progress_samples WHERE job_id=?1 AND at < ?2 GROUP BY at / ?3)",
        params![job_id, now - FULL_SECONDS, THIN_BUCKET_SECONDS],
    )?;
    Ok(())
}

/// A job's samples since `since` (Unix seconds), oldest first.
pub fn history(store: &Store, job_id: &str, since: i64) -> Result<Vec<Sample>> {
    let mut st = store.conn().prepare_cached("SELECT at, done, total, percent FROM progress_samples WHERE job_id=?1 AND at >= ?2 ORDER BY at")?;
    let rows = st.query_map(params![job_id, since], |r| Ok(Sample { at: r.get(0)?, done: r.get(1)?, total: r.get(2)?, percent: r.get(3)? }))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many samples a job has stored.
pub fn count(store: &Store, job_id: &str) -> Result<i64> {
    Ok(store.conn().query_row("SELECT COUNT(*) FROM progress_samples WHERE job_id=?1", [job_id], |r| r.get(0))?)
}

/// A job's first sample at or after `since` and its latest one (progress then and now).
pub fn ends(store: &Store, job_id: &str, since: i64) -> Result<Option<(Sample, Sample)>> {
    use rusqlite::OptionalExtension;
    let one = |order: &str| -> Result<Option<Sample>> {
        let sql = format!("SELECT at, done, total, percent FROM progress_samples WHERE job_id=?1 AND at >= ?2 ORDER BY at {order} LIMIT 1");
        Ok(store
            .conn()
            .prepare_cached(&sql)?
            .query_row(params![job_id, since], |r| Ok(Sample { at: r.get(0)?, done: r.get(1)?, total: r.get(2)?, percent: r.get(3)? }))
            .optional()?)
    };
    Ok(one("ASC")?.zip(one("DESC")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_poll_for_a_day_and_thins_beyond() {
        let (_dir, mut store) = crate::store::temp();
        let start = 1_700_000_400; // a bucket boundary
        let days = 2;
        store
            .write(|tx| {
                for i in 0..(days * 24 * 120) {
                    let at = start + i * 30;
                    record(tx, "j", &Sample { at, done: i as f64, total: Some(1e6), percent: false })?;
                }
                Ok(())
            })
            .unwrap();
        let n = count(&store, "j").unwrap();
        // The newest day at one per 30 s poll, the day before at one per 10 minutes (±1 bucket).
        let want = 24 * 120 + 24 * 6;
        assert!((n - want).abs() <= 21, "{n} samples, want about {want}");
        let h = history(&store, "j", 0).unwrap();
        assert!(h.windows(2).all(|w| w[0].at < w[1].at));
    }
}
