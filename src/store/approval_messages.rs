//! Which delivered messages show an approval request, so they can be edited (buttons removed)
//! once the request leaves the pending state.

use super::Store;
use anyhow::Result;
use rusqlite::params;

/// Remembers that outbox row `outbox_id` shows request `approval_id`.
pub fn record(store: &mut Store, approval_id: i64, outbox_id: i64) -> Result<()> {
    store.write(|tx| {
        tx.execute("INSERT INTO approval_messages(approval_id, outbox_id) VALUES (?1, ?2)", params![approval_id, outbox_id])?;
        Ok(())
    })
}

/// The chats that were shown request `approval_id` (a copy queued or sent).
pub fn chats_shown(store: &Store, approval_id: i64) -> Result<Vec<i64>> {
    let mut st = store.conn().prepare("SELECT DISTINCT o.chat_id FROM approval_messages m JOIN outbox o ON o.id=m.outbox_id WHERE m.approval_id=?1")?;
    let chats = st.query_map([approval_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(chats)
}

/// Whether `chat` already has a copy of request `approval_id` waiting in its outbox: asking again
/// while it waits adds nothing (a flood of `/run` in a group would otherwise queue a copy per
/// ask, each delaying that group's alerts by its pace).
pub fn copy_waiting(store: &Store, approval_id: i64, chat: i64) -> Result<bool> {
    Ok(store.conn().query_row(
        "SELECT EXISTS(SELECT 1 FROM approval_messages m JOIN outbox o ON o.id=m.outbox_id \
         WHERE m.approval_id=?1 AND o.chat_id=?2 AND o.status='pending')",
        params![approval_id, chat],
        |r| r.get(0),
    )?)
}

/// Delivered request messages whose request is no longer pending and that were not edited yet:
/// (approval id, outbox id, whether the message shows more than this request: a digest).
pub fn unsettled_decided(store: &Store) -> Result<Vec<(i64, i64, bool)>> {
    let mut st = store.conn().prepare(
        "SELECT m.approval_id, m.outbox_id, m.shared FROM approval_messages m JOIN approvals a ON a.id=m.approval_id \
         JOIN outbox o ON o.id=m.outbox_id WHERE m.settled=0 AND a.state!='pending' AND o.tg_message_id IS NOT NULL",
    )?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Remembers, inside the transaction that queues it, that outbox row `outbox_id` shows request
/// `approval_id` among other things (the morning digest's Approve/Reject buttons).
pub fn record_shared_in(tx: &rusqlite::Transaction, approval_id: i64, outbox_id: i64) -> Result<()> {
    tx.execute("INSERT INTO approval_messages(approval_id, outbox_id, shared) VALUES (?1, ?2, 1)", params![approval_id, outbox_id])?;
    Ok(())
}

/// The requests shown in outbox row `outbox_id` that are no longer pending, oldest first.
pub fn decided_in(store: &Store, outbox_id: i64) -> Result<Vec<i64>> {
    let mut st = store.conn().prepare(
        "SELECT m.approval_id FROM approval_messages m JOIN approvals a ON a.id=m.approval_id \
         WHERE m.outbox_id=?1 AND a.state!='pending' ORDER BY m.approval_id",
    )?;
    let ids = st.query_map([outbox_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Text and keyboard (JSON) outbox row `id` was queued with.
pub fn queued_as(store: &Store, id: i64) -> Result<Option<(String, Option<String>)>> {
    use rusqlite::OptionalExtension;
    Ok(store.conn().query_row("SELECT text, markup FROM outbox WHERE id=?1", [id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
}

/// Only while the request is still in the state an edit showed: a run that ended while its
/// "Approved by" edit was on the wire leaves the copy unsettled, for the edit with the result.
const DREW: &str = "(SELECT state FROM approvals WHERE id=approval_messages.approval_id)";

/// Marks request `approval_id`'s place in outbox row `outbox_id` as edited to `drawn`, the
/// request's state the edit showed.
pub fn mark_settled_one(store: &mut Store, approval_id: i64, outbox_id: i64, drawn: &str) -> Result<()> {
    store.write(|tx| {
        tx.execute(
            &format!("UPDATE approval_messages SET settled=1 WHERE approval_id=?1 AND outbox_id=?2 AND {DREW}=?3"),
            params![approval_id, outbox_id, drawn],
        )?;
        Ok(())
    })
}

/// Counts a failed edit of request `approval_id`'s place in outbox row `outbox_id` (each
/// request of a digest keeps its own count); returns the failures so far.
pub fn count_failed_edit(store: &mut Store, approval_id: i64, outbox_id: i64) -> Result<u32> {
    store.write(|tx| {
        let key = params![approval_id, outbox_id];
        tx.execute("UPDATE approval_messages SET attempts=attempts+1 WHERE approval_id=?1 AND outbox_id=?2", key)?;
        let n: i64 = tx.query_row("SELECT COALESCE(MAX(attempts), 0) FROM approval_messages WHERE approval_id=?1 AND outbox_id=?2", key, |r| r.get(0))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    })
}

/// Marks every copy shown in outbox row `outbox_id` as edited to `drawn` (see
/// [`mark_settled_one`]).
pub fn mark_settled(store: &mut Store, outbox_id: i64, drawn: &str) -> Result<()> {
    store.write(|tx| {
        tx.execute(&format!("UPDATE approval_messages SET settled=1 WHERE outbox_id=?1 AND {DREW}=?2"), params![outbox_id, drawn])?;
        Ok(())
    })
}

/// How long after its decision a host request no chat was shown is still posted, as it ended.
pub const DECIDED_POSTED_SECONDS: i64 = 86_400;

/// Requests made on the host (by a person there or by a job's cron) that no chat has been shown
/// yet (no "announced" audit row): the pending ones, and those a person decided on the host
/// (approved, with how the run went; rejected) within [`DECIDED_POSTED_SECONDS`] that no chat
/// has a copy of — a write must reach the approvers even when it was approved at once. One that
/// expired or became void unseen is not posted (the tick reports an expiry).
pub fn unannounced_host_requests(store: &Store, now: i64) -> Result<Vec<i64>> {
    let mut st = store.conn().prepare(
        "SELECT id FROM approvals a WHERE requested_by IS NULL \
         AND (requested_uid IS NOT NULL OR requested_via='cli' OR requested_via LIKE 'schedule%') \
         AND NOT EXISTS (SELECT 1 FROM audit WHERE approval_id=a.id AND event='announced') \
         AND (state='pending' OR (state IN ('running', 'succeeded', 'failed', 'rejected', 'interrupted') \
              AND COALESCE(decided_at, created_at) > ?1 \
              AND NOT EXISTS (SELECT 1 FROM approval_messages m WHERE m.approval_id=a.id))) ORDER BY id",
    )?;
    let ids = st.query_map([now - DECIDED_POSTED_SECONDS], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(ids)
}

/// The request's run ended (or was interrupted): every delivered copy is edited again, to say
/// how (the copies said "Approved by …" while it ran).
pub fn unsettle_tx(tx: &rusqlite::Transaction, approval_id: i64) -> Result<()> {
    tx.execute("UPDATE approval_messages SET settled=0, attempts=0 WHERE approval_id=?1", [approval_id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::temp as store;

    #[test]
    fn a_copy_is_settled_only_for_the_state_its_edit_showed() {
        let (_d, mut s) = store();
        s.write(|tx| {
            tx.execute(
                "INSERT INTO approvals(job_id, digest, argv, cwd, requested_via, created_at, expires_at, state) VALUES ('w', 'd', '[]', '/', 'cli', 0, 99, 'running')",
                [],
            )?;
            Ok(())
        })
        .unwrap();
        let copy = crate::store::outbox::insert_parts(&mut s, 5, &["request #1".into()], false, None, false).unwrap();
        record(&mut s, 1, copy).unwrap();
        let settled = |s: &Store| s.conn().query_row("SELECT settled FROM approval_messages", [], |r| r.get::<_, i64>(0)).unwrap();
        // The run ends while the "Approved by" edit (drawn as running) is on the wire.
        s.write(|tx| {
            tx.execute("UPDATE approvals SET state='succeeded'", [])?;
            unsettle_tx(tx, 1)
        })
        .unwrap();
        mark_settled(&mut s, copy, "running").unwrap();
        assert_eq!(settled(&s), 0, "left for the edit with the result");
        mark_settled(&mut s, copy, "succeeded").unwrap();
        assert_eq!(settled(&s), 1);
    }

    #[test]
    fn host_requests_decided_before_the_upgrade_are_not_posted_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let conn = crate::store::file_before(&path, "decided before this version");
            let insert =
                "INSERT INTO approvals(job_id, digest, argv, cwd, requested_via, created_at, expires_at, state) VALUES ('w', 'd', '[]', '/', 'cli', 0, 99, ?1)";
            conn.execute(insert, ["succeeded"]).unwrap();
            conn.execute(insert, ["pending"]).unwrap();
        }
        let mut s = Store::open(&path).unwrap();
        assert_eq!(unannounced_host_requests(&s, 50).unwrap(), vec![2], "history stays history; the open one is still shown");
        let add = |s: &mut Store, state: &str, via: &str| {
            // A chat's request names its asker (requested_by); a host's or a cron's does not.
            let by = (!via.starts_with("cli") && !via.starts_with("schedule")).then_some(4242);
            s.write(|tx| {
                let sql = "INSERT INTO approvals(job_id, digest, argv, cwd, requested_via, created_at, expires_at, state, decided_at, requested_by) VALUES ('w', 'd', '[]', '/', ?2, 0, 99, ?1, 40, ?3)";
                tx.execute(sql, params![state, via, by])?;
                Ok(tx.last_insert_rowid())
            })
            .unwrap()
        };
        let failed = add(&mut s, "failed", "cli");
        assert_eq!(unannounced_host_requests(&s, 50).unwrap(), vec![2, failed], "one decided on the host after the upgrade is shown as it ended");
        add(&mut s, "expired", "schedule 0 3 * * *");
        add(&mut s, "void", "cli");
        add(&mut s, "failed", "Scheduler Bob (@bob)");
        assert_eq!(
            unannounced_host_requests(&s, 50).unwrap(),
            vec![2, failed],
            "an expiry or a void is not posted; a chat's request by a person named Schedule… is none"
        );
        assert_eq!(unannounced_host_requests(&s, 40 + DECIDED_POSTED_SECONDS).unwrap(), vec![2], "a day later it is history");
        let copy = crate::store::outbox::insert_parts(&mut s, 5, &["request".into()], false, None, false).unwrap();
        record(&mut s, failed, copy).unwrap();
        assert_eq!(unannounced_host_requests(&s, 50).unwrap(), vec![2], "a chat was shown it already");
    }
}
