//! Which outbox rows show a job's alert, so news about that alert (auto-resume brought the job
//! back) edits it — its queued text, or the delivered message — instead of ringing again; and
//! what a delivered message shows now (text and keyboard), so edits build on each other.

use super::Store;
use anyhow::Result;
use rusqlite::{params, OptionalExtension};
use std::collections::HashSet;

/// Remembers that outbox row `outbox_id` (the part holding the buttons) shows `job`'s alert
/// `key` in `chat`; rows whose outbox row is gone are forgotten.
pub fn record(store: &mut Store, outbox_id: i64, chat: i64, job: &str, key: &str) -> Result<()> {
    store.write(|tx| {
        tx.execute(
            "INSERT OR REPLACE INTO alert_messages(outbox_id, chat_id, job_id, anomaly_key) VALUES (?1, ?2, ?3, ?4)",
            params![outbox_id, chat, job, key],
        )?;
        tx.execute("DELETE FROM alert_messages WHERE outbox_id NOT IN (SELECT id FROM outbox)", [])?;
        Ok(())
    })
}

/// The newest outbox row showing `job`'s alert `key` in `chat`, as it stands.
#[derive(Debug, Clone)]
pub struct AlertRow {
    /// The outbox row.
    pub outbox_id: i64,
    /// pending | held | sent | failed | migrated.
    pub status: String,
    /// Its queued text (plain).
    pub text: String,
    /// Its queued keyboard (JSON).
    pub markup: Option<String>,
    /// Its mergeable parts (JSON), for a queued report.
    pub merge: Option<String>,
}

/// The row showing `job`'s alert `key` in `chat`, if one was recorded.
pub fn find(store: &Store, chat: i64, job: &str, key: &str) -> Result<Option<AlertRow>> {
    Ok(store
        .conn()
        .query_row(
            "SELECT o.id, o.status, o.text, o.markup, o.merge FROM alert_messages a JOIN outbox o ON o.id=a.outbox_id
             WHERE a.chat_id=?1 AND a.job_id=?2 AND a.anomaly_key=?3 ORDER BY o.id DESC LIMIT 1",
            params![chat, job, key],
            |r| Ok(AlertRow { outbox_id: r.get(0)?, status: r.get(1)?, text: r.get(2)?, markup: r.get(3)?, merge: r.get(4)? }),
        )
        .optional()?)
}

/// Rewrites a row not delivered yet (pending, or held until its chat opens the bot); false when
/// it went out meanwhile (then the delivered message is edited instead).
pub fn rewrite_queued(store: &mut Store, outbox_id: i64, text: &str, markup: Option<&str>, merge: Option<&str>) -> Result<bool> {
    store.write(|tx| {
        let n = tx
            .execute("UPDATE outbox SET text=?2, markup=?3, merge=?4 WHERE id=?1 AND status IN ('pending', 'held')", params![outbox_id, text, markup, merge])?;
        Ok(n == 1)
    })
}

/// Adds `line` to what the delivered message of row `outbox_id` still has to say, and the
/// `gone` actions (space-separated) to the buttons it loses.
pub fn add_amend(store: &mut Store, outbox_id: i64, line: &str, gone: &str) -> Result<()> {
    store.write(|tx| append_amend(tx, outbox_id, line, gone))
}

/// [`add_amend`] inside a transaction (also used when a row was rewritten during its send).
pub(super) fn append_amend(tx: &super::Tx, outbox_id: i64, line: &str, gone: &str) -> Result<()> {
    tx.execute(
        "UPDATE alert_messages SET amend = CASE WHEN amend IS NULL THEN ?2 ELSE amend || char(10) || ?2 END,
         gone = TRIM(COALESCE(gone, '') || ' ' || ?3) WHERE outbox_id=?1",
        params![outbox_id, line, gone],
    )?;
    Ok(())
}

/// A delivered alert with lines still to add.
#[derive(Debug, Clone)]
pub struct Amend {
    /// Its outbox row.
    pub outbox_id: i64,
    /// The chat.
    pub chat: i64,
    /// The Telegram message.
    pub message_id: i32,
    /// The job it is about.
    pub job: String,
    /// The lines to add.
    pub lines: String,
    /// The actions whose buttons go (space-separated).
    pub gone: String,
}

/// Delivered alerts with lines still to add, oldest first.
pub fn pending_amends(store: &Store) -> Result<Vec<Amend>> {
    let mut st = store.conn().prepare(
        "SELECT a.outbox_id, a.chat_id, o.tg_message_id, a.job_id, a.amend, COALESCE(a.gone, '') FROM alert_messages a JOIN outbox o ON o.id=a.outbox_id
         WHERE a.amend IS NOT NULL AND o.tg_message_id IS NOT NULL ORDER BY a.outbox_id",
    )?;
    let rows =
        st.query_map([], |r| Ok(Amend { outbox_id: r.get(0)?, chat: r.get(1)?, message_id: r.get(2)?, job: r.get(3)?, lines: r.get(4)?, gone: r.get(5)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The lines of row `outbox_id` were added to its message (or never can be).
pub fn amended(store: &mut Store, outbox_id: i64) -> Result<()> {
    store.write(|tx| {
        tx.execute("UPDATE alert_messages SET amend=NULL, gone=NULL WHERE outbox_id=?1", [outbox_id])?;
        Ok(())
    })
}

/// Counts a failed edit of row `outbox_id`'s message; returns the failures so far.
pub fn count_failed(store: &mut Store, outbox_id: i64) -> Result<u32> {
    store.write(|tx| {
        let n: i64 = tx.query_row("UPDATE alert_messages SET attempts=attempts+1 WHERE outbox_id=?1 RETURNING attempts", [outbox_id], |r| r.get(0))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    })
}

/// What Telegram message `tg_message_id` in `chat` shows now: its text (plain) and keyboard
/// (JSON), from the newest row it delivered.
pub fn shown(store: &Store, chat: i64, tg_message_id: i32) -> Result<Option<(String, Option<String>)>> {
    Ok(store
        .conn()
        .query_row(
            "SELECT COALESCE(shown, text), COALESCE(shown_markup, markup) FROM outbox WHERE chat_id=?1 AND tg_message_id=?2 ORDER BY id DESC LIMIT 1",
            params![chat, tg_message_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// The message was edited: it shows `text` and `markup` now (an empty keyboard: `None`).
pub fn set_shown(store: &mut Store, chat: i64, tg_message_id: i32, text: &str, markup: Option<&str>) -> Result<()> {
    store.write(|tx| {
        tx.execute(
            "UPDATE outbox SET shown=?3, shown_markup=COALESCE(?4, '{\"inline_keyboard\":[]}') WHERE id =
             (SELECT id FROM outbox WHERE chat_id=?1 AND tg_message_id=?2 ORDER BY id DESC LIMIT 1)",
            params![chat, tg_message_id, text, markup],
        )?;
        Ok(())
    })
}

/// The tokens of the `action` buttons issued in `chat` for `job` (e.g. its Start buttons, to
/// take them off an alert once the job runs again).
pub fn tokens(store: &Store, chat: i64, action: &str, job: &str) -> Result<HashSet<String>> {
    let mut st = store.conn().prepare("SELECT token FROM callbacks WHERE chat_id=?1 AND action=?2 AND job_id=?3")?;
    let rows = st.query_map(params![chat, action, job], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbox;

    #[test]
    fn an_alert_rewritten_while_it_was_being_sent_is_edited_afterwards() {
        let (_dir, mut store) = crate::store::temp();
        let id = outbox::insert_parts(&mut store, 7, &["ALERT disk full".into()], false, Some(r#"{"inline_keyboard":[]}"#), false).unwrap();
        record(&mut store, id, 7, "disk", "alert:disk full").unwrap();
        let (sending, _) = outbox::head(&store, 7).unwrap().unwrap();
        // An Ack in another chat rewrites the row while its send is on the wire.
        assert!(rewrite_queued(&mut store, id, "ALERT disk full\n✅ Acknowledged", None, None).unwrap());
        crate::store::delivery::mark_sent(&mut store, &sending, 55).unwrap();
        let (shown_text, _) = shown(&store, 7, 55).unwrap().unwrap();
        assert_eq!(shown_text, "ALERT disk full", "the message shows what went out");
        let amends = pending_amends(&store).unwrap();
        assert_eq!(amends.len(), 1, "the added line waits for an edit");
        assert_eq!((amends[0].message_id, amends[0].lines.as_str()), (55, "✅ Acknowledged"));
    }
}
