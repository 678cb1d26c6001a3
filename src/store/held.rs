//! Messages held for a chat that has not opened the bot yet (Telegram: "chat not found", "bot
//! can't initiate conversation"): kept bounded instead of failed, and delivered in order after
//! the chat's first update, headed by one line.

use super::outbox::now_ms;
use super::Store;
use anyhow::Result;
use rusqlite::params;

/// At most this many messages are held per chat (the newest).
pub const HELD_PER_CHAT: i64 = 20;
/// Held messages older than this are given up.
pub const HELD_FOR_MS: i64 = 24 * 3_600_000;
/// Prefix of the unreachable reason of a chat that has not opened the bot (its messages are held).
pub const NOT_OPENED: &str = "not opened: ";

/// Holds every pending message of `chat` (it has not opened the bot), then trims the held ones
/// to the bound. Returns how many are held now.
pub fn hold_pending(store: &mut Store, chat: i64, error: &str) -> Result<i64> {
    let now = now_ms();
    store.write(|tx| {
        tx.execute("UPDATE outbox SET status='held', last_error=?2 WHERE chat_id=?1 AND status='pending'", params![chat, error])?;
        trim(tx, chat, now)?;
        Ok(tx.query_row("SELECT COUNT(*) FROM outbox WHERE chat_id=?1 AND status='held'", [chat], |r| r.get(0))?)
    })
}

/// Gives up held messages beyond the newest [`HELD_PER_CHAT`] or older than [`HELD_FOR_MS`].
fn trim(tx: &rusqlite::Transaction, chat: i64, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE outbox SET status='failed', last_error='held too long or too many while the chat had not opened the bot' \
         WHERE chat_id=?1 AND status='held' AND (created_at < ?2 OR id NOT IN \
         (SELECT id FROM outbox WHERE chat_id=?1 AND status='held' ORDER BY id DESC LIMIT ?3))",
        params![chat, now - HELD_FOR_MS, HELD_PER_CHAT],
    )?;
    Ok(())
}

/// The chat wrote to the bot: forgets its unreachable mark. Returns whether there was one.
pub fn clear_unreachable(store: &mut Store, chat: i64) -> Result<bool> {
    let key = format!("unreachable:{chat}");
    if store.meta(&key)?.is_none() {
        return Ok(false);
    }
    store.write(|tx| Ok(tx.execute("DELETE FROM meta WHERE key=?1", [key])? > 0))
}

/// Queues the chat's held messages again, in order, after whatever is queued now, headed by
/// `heading(n)`; references to the old rows (request messages) follow them. Returns n.
pub fn release(store: &mut Store, chat: i64, heading: impl FnOnce(i64) -> String) -> Result<i64> {
    let now = now_ms();
    let held: i64 = store.conn().query_row("SELECT COUNT(*) FROM outbox WHERE chat_id=?1 AND status='held'", [chat], |r| r.get(0))?;
    if held == 0 {
        return Ok(0);
    }
    store.write(|tx| {
        trim(tx, chat, now)?;
        let ids: Vec<i64> = {
            let mut st = tx.prepare("SELECT id FROM outbox WHERE chat_id=?1 AND status='held' ORDER BY id")?;
            let rows = st.query_map([chat], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        if ids.is_empty() {
            return Ok(0);
        }
        let n = ids.len() as i64;
        tx.execute("INSERT INTO outbox(chat_id, text, html, silent, created_at) VALUES (?1, ?2, 1, 1, ?3)", params![chat, heading(n), now])?;
        for old in ids {
            tx.execute(
                // Released as the backlog of the reply that opened the chat: after it and its
                // heading, oldest first. Queued now and not as bulk, so the sending order is their
                // order: a held reply's age would put it ahead of the heading (replies older than
                // a few seconds go by age), bulk would put it behind younger held alerts.
                "INSERT INTO outbox(chat_id, text, html, silent, markup, created_at, bulk, kind, merge)
                 SELECT chat_id, text, html, silent, markup, ?2, 0, CASE kind WHEN 'alert' THEN 'reply' ELSE kind END, merge FROM outbox WHERE id=?1",
                params![old, now],
            )?;
            let new = tx.last_insert_rowid();
            tx.execute("UPDATE approval_messages SET outbox_id=?2 WHERE outbox_id=?1", params![old, new])?;
            tx.execute("UPDATE outbox SET status='released', last_error=?2 WHERE id=?1", params![old, format!("re-queued as {new}")])?;
        }
        Ok(n)
    })
}

/// Messages held for `chat` now.
pub fn held_count(store: &Store, chat: i64) -> Result<i64> {
    Ok(store.conn().query_row("SELECT COUNT(*) FROM outbox WHERE chat_id=?1 AND status='held'", [chat], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbox;

    use crate::store::temp as store;

    #[test]
    fn holds_the_newest_twenty_and_releases_them_in_order_after_the_reply() {
        let (_d, mut s) = store();
        for i in 0..25 {
            outbox::insert_parts(&mut s, 42, &[format!("alert {i}")], false, None, false).unwrap();
        }
        assert_eq!(hold_pending(&mut s, 42, "chat not found").unwrap(), HELD_PER_CHAT);
        assert!(outbox::head(&s, 42).unwrap().is_none(), "nothing is pending while held");
        outbox::insert_parts(&mut s, 42, &["greeting".into()], false, None, false).unwrap();
        assert_eq!(release(&mut s, 42, |n| format!("{n} held")).unwrap(), 20);
        let mut texts = Vec::new();
        while let Some((m, _)) = outbox::head(&s, 42).unwrap() {
            texts.push(m.text.clone());
            crate::store::delivery::mark_sent(&mut s, &m, 1).unwrap();
        }
        assert_eq!(texts[0], "greeting");
        assert_eq!(texts[1], "20 held");
        assert_eq!(texts[2], "alert 5");
        assert_eq!(texts.last().unwrap(), "alert 24");
        assert_eq!(release(&mut s, 42, |n| format!("{n} held")).unwrap(), 0, "released once");
    }

    #[test]
    fn a_day_old_held_message_is_given_up() {
        let (_d, mut s) = store();
        outbox::insert_parts(&mut s, 7, &["old".into()], false, None, false).unwrap();
        s.write(|tx| Ok(tx.execute("UPDATE outbox SET created_at=?1", [now_ms() - HELD_FOR_MS - 1])?)).unwrap();
        outbox::insert_parts(&mut s, 7, &["new".into()], false, None, false).unwrap();
        assert_eq!(hold_pending(&mut s, 7, "x").unwrap(), 1);
        assert_eq!(held_count(&s, 7).unwrap(), 1);
    }
}
