//! Report sections held during quiet hours, until the morning digest takes them.

use crate::policy::report::Section;
use anyhow::Result;
use rusqlite::params;

/// Holds `section` (observed at `at`) for the digest.
pub fn hold(tx: &rusqlite::Transaction, at: i64, section: &Section) -> Result<()> {
    tx.execute("INSERT INTO quiet_held(at, job_id, section) VALUES (?1, ?2, ?3)", params![at, section.job_id, serde_json::to_string(section)?])?;
    Ok(())
}

/// Every held section, oldest first: (row id, held at, section). Unreadable rows are skipped.
pub fn all(tx: &rusqlite::Transaction) -> Result<Vec<(i64, i64, Section)>> {
    let mut st = tx.prepare("SELECT id, at, section FROM quiet_held ORDER BY id")?;
    let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at, json) = row?;
        if let Ok(s) = serde_json::from_str(&json) {
            out.push((id, at, s));
        }
    }
    Ok(out)
}

/// Forgets the rows a digest took.
pub fn take(tx: &rusqlite::Transaction, ids: &[i64]) -> Result<()> {
    for id in ids {
        tx.execute("DELETE FROM quiet_held WHERE id=?1", [id])?;
    }
    Ok(())
}
