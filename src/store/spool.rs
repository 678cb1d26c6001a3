//! The report spool: what a tick decided to say, kept durably from the tick's commit until the
//! sink has queued it (outbox, console). A daemon killed in between (the reports of one moment
//! are gathered for under a second before they are queued) delivers the rest at its next start,
//! so a verification or an alert recorded as done is never lost with the process.

use super::Store;
use crate::policy::report::Section;
use anyhow::Result;
use rusqlite::params;

/// Spools `sections` inside the tick's transaction; the row id names them until delivered.
pub fn put(tx: &rusqlite::Transaction, at: i64, sections: &[Section]) -> Result<i64> {
    tx.execute("INSERT INTO report_spool(at, sections) VALUES (?1, ?2)", params![at, serde_json::to_string(sections)?])?;
    Ok(tx.last_insert_rowid())
}

/// What is left in the spool (a previous process died before delivering it), oldest first, as
/// (ids, the earliest time, the sections in order). A row that cannot be read is logged and left
/// out (its id is still returned, so it is removed with the rest instead of blocking every start).
pub fn pending(store: &Store) -> Result<(Vec<i64>, Option<i64>, Vec<Section>)> {
    let mut stmt = store.conn().prepare("SELECT id, at, sections FROM report_spool ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?)))?;
    let (mut ids, mut first, mut sections) = (Vec::new(), None, Vec::new());
    for row in rows {
        let (id, at, json) = row?;
        ids.push(id);
        first = first.or(Some(at));
        match serde_json::from_str::<Vec<Section>>(&json) {
            Ok(s) => sections.extend(s),
            Err(e) => tracing::error!(spool_id = id, error = %e, "a spooled report cannot be read (written by another version?); dropped"),
        }
    }
    Ok((ids, first, sections))
}

/// Forgets delivered rows.
pub fn remove(store: &mut Store, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    store.write(|tx| {
        for id in ids {
            tx.execute("DELETE FROM report_spool WHERE id=?1", [id])?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use crate::policy::report::{Note, Section};

    #[test]
    fn spooled_sections_come_back_in_order_until_removed() {
        let (_dir, mut store) = crate::store::temp();
        let mut a = Section::system("a", "A");
        a.notes.push(Note::Outcome("first".into()));
        let b = Section::system("b", "B");
        let ids: Vec<i64> = [vec![a.clone()], vec![b.clone()]].iter().map(|s| store.write(|tx| super::put(tx, 10, s)).unwrap()).collect();
        store.conn().execute("INSERT INTO report_spool(at, sections) VALUES (11, 'not json')", []).unwrap();
        let (got, first, sections) = super::pending(&store).unwrap();
        assert_eq!(got.len(), 3, "the unreadable row is named for removal too");
        assert_eq!(&got[..2], &ids[..]);
        assert_eq!(first, Some(10));
        assert_eq!(sections, vec![a, b]);
        super::remove(&mut store, &got).unwrap();
        assert!(super::pending(&store).unwrap().0.is_empty());
    }
}
