//! What became of each send: delivered, to be retried (and when), failed for good, sent again as
//! plain text, a chat that cannot be reached (for an hour) or that became a supergroup. The queue
//! itself (what waits, in which order) is [`super::outbox`].

use super::outbox::{now_ms, OutMsg};
use super::Store;
use anyhow::Result;
use rusqlite::params;

/// Row `m` went out as message `tg_message_id`, with the text it had when the send began. When
/// news rewrote the row meanwhile (an Ack in another chat, a resume: [`super::alerts`]), the
/// message shows the old text: the lines added are left to the alert's edit, which also takes
/// the rewritten row's keyboard.
pub fn mark_sent(store: &mut Store, m: &OutMsg, tg_message_id: i32) -> Result<()> {
    store.write(|tx| {
        let now: String = tx.query_row("SELECT text FROM outbox WHERE id=?1", [m.id], |r| r.get(0))?;
        tx.execute("UPDATE outbox SET status='sent', sent_at=?2, tg_message_id=?3 WHERE id=?1", params![m.id, now_ms(), tg_message_id])?;
        if let Some(added) = now.strip_prefix(m.text.as_str()).map(|a| a.trim_start_matches('\n')).filter(|a| !a.is_empty()) {
            tx.execute("UPDATE outbox SET shown=?2 WHERE id=?1", params![m.id, m.text])?;
            super::alerts::append_amend(tx, m.id, added, "")?;
        }
        prune(tx)
    })
}

/// Forgets delivered and failed rows beyond the newest 2000.
pub(super) fn prune(tx: &rusqlite::Transaction) -> Result<()> {
    tx.execute("DELETE FROM outbox WHERE status NOT IN ('pending', 'held') AND id NOT IN (SELECT id FROM outbox ORDER BY id DESC LIMIT 2000)", [])?;
    Ok(())
}

/// Schedules another attempt; `count` says whether this was a failure (429 waits are not).
pub fn retry_at(store: &mut Store, id: i64, at_ms: i64, error: &str, count: bool) -> Result<()> {
    store.write(|tx| {
        tx.execute("UPDATE outbox SET next_attempt_at=?2, last_error=?3, attempts=attempts+?4 WHERE id=?1", params![id, at_ms, error, i64::from(count)])?;
        Ok(())
    })
}

/// Whether some chat waits out a failure backoff (not a 429's `retry_after`) at `now`: then the
/// sender probes Telegram to notice the end of an outage early.
pub fn backing_off(store: &Store, now: i64) -> Result<bool> {
    Ok(store.conn().query_row(
        "SELECT EXISTS(SELECT 1 FROM outbox WHERE status='pending' AND next_attempt_at > ?1 AND last_error IS NOT NULL
         AND LOWER(last_error) NOT LIKE '%retry after%')",
        [now],
        |r| r.get(0),
    )?)
}

/// Telegram answers again: every row waiting out a failure backoff may be tried at once (rows
/// waiting for a 429's `retry_after` keep waiting). Returns how many rows were released.
pub fn retry_now(store: &mut Store, now: i64) -> Result<usize> {
    store.write(|tx| {
        Ok(tx.execute(
            "UPDATE outbox SET next_attempt_at=?1 WHERE status='pending' AND next_attempt_at > ?1 AND last_error IS NOT NULL
             AND LOWER(last_error) NOT LIKE '%retry after%'",
            [now],
        )?)
    })
}

/// Holds message `id` back until `at_ms` without counting a failure (the live message waits for
/// Telegram's edit window).
pub fn defer(store: &mut Store, id: i64, at_ms: i64) -> Result<()> {
    store.write(|tx| {
        tx.execute("UPDATE outbox SET next_attempt_at=?2 WHERE id=?1", params![id, at_ms])?;
        Ok(())
    })
}

/// Sends the message again as plain text (Telegram rejected our entities).
pub fn fall_back_to_plain(store: &mut Store, id: i64) -> Result<()> {
    store.write(|tx| {
        tx.execute("UPDATE outbox SET html=0 WHERE id=?1", [id])?;
        Ok(())
    })
}

/// Gives up on one message (a permanent error for it).
pub fn mark_failed(store: &mut Store, id: i64, error: &str) -> Result<()> {
    store.write(|tx| {
        tx.execute("UPDATE outbox SET status='failed', last_error=?2 WHERE id=?1", params![id, error])?;
        Ok(())
    })
}

/// How long a chat that refused us (blocked, kicked, not found) is not tried again.
pub const UNREACHABLE_FOR_MS: i64 = 3_600_000;

/// Gives up on every pending message of a chat (blocked, kicked, not found) and remembers the
/// chat as unreachable for an hour, so each later report costs no API call until then.
pub fn fail_chat(store: &mut Store, chat_id: i64, error: &str) -> Result<usize> {
    mark_unreachable(store, chat_id, error)?;
    fail_chat_pending(store, chat_id, error)
}

/// Remembers `chat_id` as unreachable for an hour (until it writes to the bot).
pub fn mark_unreachable(store: &mut Store, chat_id: i64, error: &str) -> Result<()> {
    let until = now_ms() + UNREACHABLE_FOR_MS;
    store.set_meta(&format!("unreachable:{chat_id}"), &format!("{until} {error}"))
}

/// Fails the pending messages of a chat already known unreachable (no API call).
pub fn fail_chat_pending(store: &mut Store, chat_id: i64, error: &str) -> Result<usize> {
    let why = format!("chat unreachable: {error}");
    store.write(|tx| Ok(tx.execute("UPDATE outbox SET status='failed', last_error=?2 WHERE chat_id=?1 AND status='pending'", params![chat_id, why])?))
}

/// The reason a chat is still known unreachable at `now`, if it is.
pub fn unreachable(store: &Store, chat_id: i64, now: i64) -> Result<Option<String>> {
    let Some(v) = store.meta(&format!("unreachable:{chat_id}"))? else { return Ok(None) };
    let (until, why) = v.split_once(' ').unwrap_or((&v, ""));
    Ok((until.parse::<i64>().unwrap_or(0) > now).then(|| why.to_string()))
}

/// Remembers the owners' chats (private chats of the allowlist) for warnings the sender raises
/// without a config at hand (a migrated group).
pub fn remember_owners(store: &mut Store, allowlist: &[i64]) -> Result<()> {
    let owners: Vec<i64> = allowlist.iter().copied().filter(|c| *c > 0).collect();
    store.set_meta("owner_chats", &serde_json::to_string(&owners)?)
}

fn owners(store: &Store) -> Vec<i64> {
    store.meta("owner_chats").ok().flatten().and_then(|v| serde_json::from_str(&v).ok()).unwrap_or_default()
}

/// The chats to warn about a migrated group: the owners, else the new group itself.
pub fn migration_warn_chats(store: &Store, new_chat: i64) -> Vec<i64> {
    let mut warn_to = owners(store);
    if warn_to.is_empty() {
        warn_to.push(new_chat);
    }
    warn_to
}

/// The group became a supergroup: re-send this message to the new id once and, the first time,
/// queue `warns` (chat, text) for the owners (the new id is not added to the allowlist: that
/// stays the owner's decision).
pub fn migrate(store: &mut Store, m: &OutMsg, new_chat: i64, warns: &[(i64, String)]) -> Result<()> {
    let warn_key = format!("migrated:{}:{new_chat}", m.chat_id);
    let warned = store.meta(&warn_key)?.is_some();
    store.write(|tx| {
        tx.execute("UPDATE outbox SET status='migrated', last_error=?2 WHERE id=?1", params![m.id, format!("migrated to {new_chat}")])?;
        let now = now_ms();
        tx.execute(
            "INSERT INTO outbox(chat_id, text, html, silent, markup, created_at, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')",
            params![new_chat, m.text, m.html, m.silent, m.markup, now],
        )?;
        if !warned {
            for (chat, warn) in warns {
                tx.execute("INSERT INTO outbox(chat_id, text, html, silent, created_at) VALUES (?1, ?2, 1, 0, ?3)", params![chat, warn, now])?;
            }
            super::set_meta(tx, &warn_key, "1")?;
        }
        Ok(())
    })
}
