//! The durable outbox table: a message is written before sending and marked sent after Telegram
//! accepts it; per chat in order; retry times; chats that refused us.

use super::Store;
use anyhow::Result;
use rusqlite::{named_params, params};

/// One queued message part.
#[derive(Debug, Clone)]
pub struct OutMsg {
    /// Row id (order within a chat).
    pub id: i64,
    /// Target chat.
    pub chat_id: i64,
    /// Plain text (rendered to HTML at send time when `html`).
    pub text: String,
    /// Send with parse_mode HTML.
    pub html: bool,
    /// disable_notification (routine progress).
    pub silent: bool,
    /// Inline keyboard JSON.
    pub markup: Option<String>,
    /// Failed attempts so far.
    pub attempts: i64,
    /// The chat's live progress message ([`super::live_parts`]): edited in place, not sent anew.
    pub live: bool,
}

/// Milliseconds since the epoch (outbox scheduling resolution).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Queues already split `parts` for `chat_id`; the keyboard (JSON) goes on the last part.
/// `bulk` parts (requests to approvers, routine progress) wait behind the chat's other messages.
/// Returns the row id of the last part.
pub fn insert_parts(store: &mut Store, chat_id: i64, parts: &[String], silent: bool, markup: Option<&str>, bulk: bool) -> Result<i64> {
    insert_kind(store, chat_id, parts, silent, markup, if bulk { Kind::Request } else { Kind::Reply }, None)
}

/// What a queued message is: reports may be merged with the chat's other queued reports,
/// anything else (replies, requests, notices) is always sent on its own; routine progress and
/// requests are bulk (they wait behind the chat's alerts and replies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A report that rings (alerts, status changes).
    Alert,
    /// Routine progress (bulk).
    Routine,
    /// A reply or notice: never merged.
    Reply,
    /// A request to approvers or other bulk: never merged.
    Request,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Alert => "alert",
            Kind::Routine => "routine",
            Kind::Reply => "reply",
            Kind::Request => "request",
        }
    }
    fn bulk(self) -> bool {
        matches!(self, Kind::Routine | Kind::Request)
    }
}

/// Like [`insert_parts`] with the message's kind and, for a report in one part, its mergeable
/// parts (`merge`, JSON).
pub fn insert_kind(store: &mut Store, chat_id: i64, parts: &[String], silent: bool, markup: Option<&str>, kind: Kind, merge: Option<&str>) -> Result<i64> {
    store.write(|tx| insert_in(tx, chat_id, parts, silent, markup, kind, merge))
}

/// [`insert_kind`] inside the caller's transaction (a message queued together with other writes).
pub fn insert_in(
    tx: &rusqlite::Transaction,
    chat_id: i64,
    parts: &[String],
    silent: bool,
    markup: Option<&str>,
    kind: Kind,
    merge: Option<&str>,
) -> Result<i64> {
    insert_rows(tx, chat_id, parts, silent, markup, kind, merge, None)
}

#[allow(clippy::too_many_arguments)]
fn insert_rows(
    tx: &rusqlite::Transaction,
    chat_id: i64,
    parts: &[String],
    silent: bool,
    markup: Option<&str>,
    kind: Kind,
    merge: Option<&str>,
    key: Option<&str>,
) -> Result<i64> {
    let now = now_ms();
    let merge = if parts.len() == 1 { merge } else { None };
    let n = parts.len();
    let mut last = 0;
    for (i, p) in parts.iter().enumerate() {
        let m = if i + 1 == n { markup } else { None };
        tx.execute(
            "INSERT INTO outbox(chat_id, text, html, silent, markup, created_at, bulk, kind, merge, reply_key) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![chat_id, p, silent, m, now, kind.bulk(), kind.as_str(), merge, key],
        )?;
        last = tx.last_insert_rowid();
    }
    Ok(last)
}

/// Replies that may wait in one chat at once; a chat that asks faster than Telegram lets the bot
/// answer (a group: one message every 3 s) loses its oldest waiting replies, never its alerts.
pub const REPLIES_WAITING_PER_CHAT: usize = 20;

/// Queues a reply asked for as `key` ("<user>:<command>"): that person's earlier answer to the
/// same command still waiting is replaced (a burst gets one answer, the newest), and when the
/// chat already has [`REPLIES_WAITING_PER_CHAT`] replies waiting the oldest go (status
/// `dropped`). `parts(dropped)` gives the message's parts, told how many were dropped.
pub fn insert_reply(store: &mut Store, chat_id: i64, key: &str, markup: Option<&str>, parts: impl Fn(usize) -> Vec<String>) -> Result<i64> {
    store.write(|tx| {
        tx.execute(
            "UPDATE outbox SET status='superseded', last_error='replaced by a newer answer to the same command' \
             WHERE chat_id=?1 AND reply_key=?2 AND status='pending' AND attempts=0",
            params![chat_id, key],
        )?;
        let waiting: Vec<i64> = {
            let mut st = tx.prepare("SELECT id FROM outbox WHERE chat_id=?1 AND status='pending' AND kind='reply' ORDER BY id")?;
            let rows = st.query_map([chat_id], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let over = (waiting.len() + 1).saturating_sub(REPLIES_WAITING_PER_CHAT);
        for id in &waiting[..over] {
            tx.execute("UPDATE outbox SET status='dropped', last_error='dropped: more replies waited in this chat than it can be sent' WHERE id=?1", [id])?;
        }
        insert_rows(tx, chat_id, &parts(over), false, markup, Kind::Reply, None, Some(key))
    })
}

/// A pending row of a chat's queue as the backlog merger sees it.
#[derive(Debug, Clone)]
pub struct Queued {
    /// Row id (queue order).
    pub id: i64,
    /// Sent without sound.
    pub silent: bool,
    /// The report's parts (JSON) when the row may be merged: an HTML report in one part.
    pub merge: Option<String>,
}

/// How long an approval request waits behind a chat's alerts and replies at most: after that
/// it takes its place by age, so a sustained alert storm cannot hold it back without end. Other
/// bulk (routine progress, the live message) never ages: alerts stay ahead of it.
pub const BULK_AGING_MS: i64 = 60_000;

/// How long a reply (or notice) waits behind a chat's alerts at most: then it takes its place by
/// age, so alerts arriving at the chat's pace cannot starve it (a burst of one command keeps
/// only one waiting answer, so an aged reply delays an alert by one slot at most).
pub const REPLY_AGING_MS: i64 = 10_000;

/// Replies queued before this (unix ms) have aged into the chat's order by age.
fn reply_aged_before() -> i64 {
    now_ms() - REPLY_AGING_MS
}

/// Bulk queued before this (unix ms) has aged into the chat's order by age.
fn aged_before() -> i64 {
    now_ms() - BULK_AGING_MS
}

/// A chat's sending order over its pending rows `p`, one rule for the sender's head, every
/// chat's head and the backlog merger (they must agree): alerts first, then replies (a reply
/// older than [`REPLY_AGING_MS`] by age among the alerts), then bulk younger than
/// [`BULK_AGING_MS`]; oldest first within each. Parameters `:reply_aged` and `:bulk_aged`.
macro_rules! send_order {
    () => {
        "p.kind!='alert' AND (p.kind!='reply' OR p.created_at > :reply_aged), p.bulk AND (p.kind!='request' OR p.created_at > :bulk_aged), p.id"
    };
}

/// The chat's pending rows in sending order, from its head, at most `limit`.
pub fn queued(store: &Store, chat: i64, limit: i64) -> Result<Vec<Queued>> {
    let mut st = store.conn().prepare(concat!(
        "SELECT p.id, p.silent, CASE WHEN p.kind IN ('alert', 'routine') AND p.html=1 THEN p.merge END FROM outbox p
         WHERE p.status='pending' AND p.chat_id=:chat ORDER BY ",
        send_order!(),
        " LIMIT :limit"
    ))?;
    let args = named_params! {":chat": chat, ":limit": limit, ":bulk_aged": aged_before(), ":reply_aged": reply_aged_before()};
    let rows = st.query_map(args, |r| Ok(Queued { id: r.get(0)?, silent: r.get(1)?, merge: r.get(2)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether sending row `id` has failed at least once (an outage or a rate limit, as opposed to a
/// row that merely waited behind the pacing).
pub fn head_failed(store: &Store, id: i64) -> Result<bool> {
    Ok(store.conn().query_row("SELECT last_error IS NOT NULL FROM outbox WHERE id=?1", [id], |r| r.get(0))?)
}

/// Marks the rows one merged message delivered; `shown` (its text) and `shown_markup` (its
/// keyboard) are kept with the newest of them for [`sent_text`] and later edits.
pub fn mark_merged(store: &mut Store, ids: &[i64], tg_message_id: i32, shown: &str, shown_markup: Option<&str>) -> Result<()> {
    store.write(|tx| {
        let now = now_ms();
        for id in ids {
            tx.execute("UPDATE outbox SET status='sent', sent_at=?2, tg_message_id=?3 WHERE id=?1", params![id, now, tg_message_id])?;
        }
        if let Some(newest) = ids.iter().max() {
            tx.execute("UPDATE outbox SET shown=?2, shown_markup=?3 WHERE id=?1", params![newest, shown, shown_markup])?;
        }
        super::delivery::prune(tx)
    })
}

/// An [`OutMsg`] from a row whose first columns are id, chat_id, text, html, silent, markup,
/// attempts and whether its kind is 'live'.
fn out_msg(r: &rusqlite::Row) -> rusqlite::Result<OutMsg> {
    Ok(OutMsg {
        id: r.get(0)?,
        chat_id: r.get(1)?,
        text: r.get(2)?,
        html: r.get(3)?,
        silent: r.get(4)?,
        markup: r.get(5)?,
        attempts: r.get(6)?,
        live: r.get(7)?,
    })
}

/// The next pending message of each chat (in its sending order, `send_order!`) whose retry
/// time has come.
pub fn due_heads(store: &Store, now: i64) -> Result<Vec<OutMsg>> {
    let mut stmt = store.conn().prepare(concat!(
        "SELECT o.id, o.chat_id, o.text, o.html, o.silent, o.markup, o.attempts, o.kind='live' FROM outbox o
         WHERE o.status='pending' AND o.next_attempt_at <= :now
         AND o.id = (SELECT p.id FROM outbox p WHERE p.status='pending' AND p.chat_id=o.chat_id ORDER BY ",
        send_order!(),
        " LIMIT 1) ORDER BY o.id"
    ))?;
    let rows = stmt.query_map(named_params! {":now": now, ":bulk_aged": aged_before(), ":reply_aged": reply_aged_before()}, out_msg)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The next pending message of `chat` (in the order of [`due_heads`]) and
/// the time (ms) it may be tried.
pub fn head(store: &Store, chat: i64) -> Result<Option<(OutMsg, i64)>> {
    use rusqlite::OptionalExtension;
    Ok(store
        .conn()
        .query_row(
            concat!(
                "SELECT p.id, p.chat_id, p.text, p.html, p.silent, p.markup, p.attempts, p.kind='live', p.next_attempt_at FROM outbox p
                 WHERE p.status='pending' AND p.chat_id=:chat ORDER BY ",
                send_order!(),
                " LIMIT 1"
            ),
            named_params! {":chat": chat, ":bulk_aged": aged_before(), ":reply_aged": reply_aged_before()},
            |r| Ok((out_msg(r)?, r.get(8)?)),
        )
        .optional()?)
}

/// Chats that have pending messages.
pub fn pending_chats(store: &Store) -> Result<Vec<i64>> {
    let mut st = store.conn().prepare("SELECT DISTINCT chat_id FROM outbox WHERE status='pending'")?;
    let rows = st.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Earliest retry time among pending messages (to sleep until then).
pub fn next_due(store: &Store) -> Result<Option<i64>> {
    Ok(store.conn().query_row("SELECT MIN(next_attempt_at) FROM outbox WHERE status='pending'", [], |r| r.get(0))?)
}

/// Chat and Telegram message id of a delivered outbox row (None while unsent).
pub fn delivered(store: &Store, id: i64) -> Result<Option<(i64, i32)>> {
    use rusqlite::OptionalExtension;
    Ok(store
        .conn()
        .query_row("SELECT chat_id, tg_message_id FROM outbox WHERE id=?1 AND tg_message_id IS NOT NULL", [id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Messages still waiting to be delivered (all chats).
pub fn pending_count(store: &Store) -> Result<i64> {
    Ok(store.conn().query_row("SELECT COUNT(*) FROM outbox WHERE status='pending'", [], |r| r.get(0))?)
}

/// The text of the message delivered to `chat` as Telegram message `tg_message_id` (one row, or
/// the merged text of a backlog), for edits that add a line to it.
pub fn sent_text(store: &Store, chat: i64, tg_message_id: i32) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(store
        .conn()
        .query_row(
            "SELECT COALESCE(shown, text) FROM outbox WHERE chat_id=?1 AND tg_message_id=?2 ORDER BY id DESC LIMIT 1",
            params![chat, tg_message_id],
            |r| r.get(0),
        )
        .optional()?)
}
