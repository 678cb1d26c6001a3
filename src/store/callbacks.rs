//! Inline buttons carry only an opaque, single-use token; its meaning lives in the store.

use crate::policy::press::Press;
use crate::store::Store;
use anyhow::Result;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{params, OptionalExtension};

/// Stored by its stable name.
impl ToSql for Press {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

/// Read back typed; a name this version does not know is an error, never another action.
impl FromSql for Press {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Press> {
        v.as_str()?.parse().map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// What a button does.
#[derive(Debug, Clone, PartialEq)]
pub struct Callback {
    /// The token (callback_data).
    pub token: String,
    /// The chat it was issued to.
    pub chat_id: i64,
    /// What the button does.
    pub action: Press,
    /// The job it concerns.
    pub job_id: Option<String>,
    /// Extra argument (the anomaly key for ack).
    pub arg: Option<String>,
    /// The start of the run the button was issued about (an alert's Start/Stop/Run again);
    /// None for buttons not tied to a run (pickers, /status).
    pub run: Option<i64>,
}

/// Outcome of pressing a button.
#[derive(Debug, PartialEq)]
pub enum Redeemed {
    /// Valid, now used.
    Ok(Callback),
    /// Never issued (forged) or issued to another chat.
    Unknown,
    /// Already pressed once.
    Used,
}

fn random_token() -> Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("the OS random source failed: {e}"))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Button tokens kept per chat (the newest): a group member sending `/status` in a loop, and
/// the live progress message's buttons renewed on every edit, cannot grow the table without
/// bound. At a few buttons a minute this keeps days of buttons working; an older one is
/// answered as gone.
pub const TOKENS_KEPT_PER_CHAT: i64 = 20_000;

/// The per-chat cap is enforced on every this-many-th token (it may be exceeded by as many).
const TRIM_EVERY: i64 = 64;

/// Issues a token (32 hex characters, well under Telegram's 64-byte limit).
pub fn issue(store: &mut Store, chat_id: i64, action: Press, job_id: Option<&str>, arg: Option<&str>) -> Result<String> {
    issue_for_run(store, chat_id, action, job_id, arg, None)
}

/// [`issue`] for a button about the run that started at `run` (Unix seconds): pressed once the
/// job's current run is another one, it is refused (see [`crate::policy::lifecycle::outdated`]).
pub fn issue_for_run(store: &mut Store, chat_id: i64, action: Press, job_id: Option<&str>, arg: Option<&str>, run: Option<i64>) -> Result<String> {
    let token = random_token()?;
    let now = chrono::Utc::now().timestamp();
    store.write(|tx| {
        tx.execute(
            "INSERT INTO callbacks(token, chat_id, action, job_id, arg, created_at, run_started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![token, chat_id, action, job_id, arg, now, run],
        )?;
        if tx.last_insert_rowid() % TRIM_EVERY == 0 {
            tx.execute("DELETE FROM callbacks WHERE created_at < ?1", [now - 30 * 86_400])?;
            tx.execute(
                "DELETE FROM callbacks WHERE chat_id=?1 AND rowid IN
                   (SELECT rowid FROM callbacks WHERE chat_id=?1 ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?2)",
                params![chat_id, TOKENS_KEPT_PER_CHAT],
            )?;
        }
        Ok(())
    })?;
    Ok(token)
}

/// A token already issued to `chat_id` for `action` with `arg` and not used yet: showing the
/// same request again reuses its Approve/Reject tokens instead of creating new rows.
pub fn issued(store: &Store, chat_id: i64, action: Press, arg: &str) -> Result<Option<String>> {
    let since = chrono::Utc::now().timestamp() - 30 * 86_400;
    Ok(store
        .conn()
        .query_row(
            "SELECT token FROM callbacks WHERE chat_id=?1 AND action=?2 AND arg=?3 AND used_at IS NULL AND created_at >= ?4 ORDER BY created_at DESC LIMIT 1",
            params![chat_id, action, arg, since],
            |r| r.get(0),
        )
        .optional()?)
}

/// Every Approve/Reject token issued to `chat_id` for request `approval_id`, used or not: the
/// buttons to take away from a message that shows it once it is decided.
pub fn request_tokens(store: &Store, chat_id: i64, approval_id: i64) -> Result<Vec<String>> {
    let mut st = store.conn().prepare("SELECT token FROM callbacks WHERE chat_id=?1 AND action IN ('approve', 'reject') AND arg=?2")?;
    let tokens = st.query_map(params![chat_id, approval_id.to_string()], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(tokens)
}

/// Which of `tokens` were issued to `chat_id` and are still unused (so a message's edit may keep
/// showing them).
pub fn unused_of(store: &Store, chat_id: i64, tokens: &[String]) -> Result<std::collections::HashSet<String>> {
    let mut st = store.conn().prepare("SELECT 1 FROM callbacks WHERE token=?1 AND chat_id=?2 AND used_at IS NULL")?;
    let mut out = std::collections::HashSet::new();
    for t in tokens {
        if st.exists(params![t, chat_id])? {
            out.insert(t.clone());
        }
    }
    Ok(out)
}

/// Marks the token used by `user_id` (atomically: two presses at once give one Ok).
pub fn redeem(store: &mut Store, token: &str, chat_id: i64, user_id: i64) -> Result<Redeemed> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Redeemed::Unknown);
    }
    store.write(|tx| {
        let row = tx
            .query_row("SELECT chat_id, action, job_id, arg, used_at, run_started_at FROM callbacks WHERE token=?1", [token], |r| {
                let (chat, action, job_id, arg) = (r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?, r.get::<_, Option<String>>(3)?);
                Ok((chat, action, job_id, arg, r.get::<_, Option<i64>>(4)?, r.get::<_, Option<i64>>(5)?))
            })
            .optional()?;
        let Some((chat, stored, job_id, arg, used, run)) = row else {
            return Ok(Redeemed::Unknown);
        };
        let action = match stored.parse::<Press>() {
            Ok(a) => a,
            Err(e) => {
                // Refused explicitly (and left unused): a newer version's button, or a damaged row.
                tracing::error!(error = %e, chat_id, "a pressed button's stored action is unknown; refused");
                return Ok(Redeemed::Unknown);
            }
        };
        if chat != chat_id {
            return Ok(Redeemed::Unknown);
        }
        if used.is_some() {
            return Ok(Redeemed::Used);
        }
        // Approve/Reject stay pressable: the approval state machine makes decisions single-use,
        // and a refused press (non-approver) must not burn the button for the approvers.
        if matches!(action, Press::Approve | Press::Reject) {
            return Ok(Redeemed::Ok(Callback { token: token.into(), chat_id, action, job_id, arg, run }));
        }
        tx.execute("UPDATE callbacks SET used_at=?2, used_by=?3 WHERE token=?1", params![token, chrono::Utc::now().timestamp(), user_id])?;
        Ok(Redeemed::Ok(Callback { token: token.into(), chat_id, action, job_id, arg, run }))
    })
}

/// Makes a redeemed token pressable again: a press refused for who pressed it (not an
/// operator) must not use up the button for those who may press it.
pub fn unredeem(store: &mut Store, token: &str) -> Result<()> {
    store.write(|tx| {
        tx.execute("UPDATE callbacks SET used_at=NULL, used_by=NULL WHERE token=?1", [token])?;
        Ok(())
    })
}

/// Events kept per kind (the newest); older ones are deleted as new ones arrive.
pub const EVENTS_KEPT: i64 = 10_000;

/// Records something a person did or tried (acks, snoozes, refused access), for the owner.
pub fn record_event(store: &mut Store, kind: &str, chat_id: i64, user_id: Option<i64>, job_id: Option<&str>, detail: &str) -> Result<()> {
    store.write(|tx| {
        tx.execute(
            "INSERT INTO events(at, kind, chat_id, user_id, job_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![chrono::Utc::now().timestamp(), kind, chat_id, user_id, job_id, detail],
        )?;
        // Bounded per kind: a stranger flooding the bot neither grows the database without end nor
        // pushes the owners' acks and snoozes out; the total per kind is kept as a counter.
        tx.execute(
            "DELETE FROM events WHERE kind=?1 AND id < (SELECT MIN(id) FROM (SELECT id FROM events WHERE kind=?1 ORDER BY id DESC LIMIT ?2))",
            params![kind, EVENTS_KEPT],
        )?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES (?1, '1') ON CONFLICT(key) DO UPDATE SET value=CAST(value AS INTEGER)+1",
            [format!("events_total:{kind}")],
        )?;
        Ok(())
    })
}

/// (total refused, latest chat, latest user, latest unix time).
pub type Refused = (i64, i64, Option<i64>, i64);

/// Updates refused because their chat or user is outside the allowlist: how many, and the
/// latest (chat, user, unix time), so the owner sees attempts without reading logs.
pub fn refused_summary(store: &Store) -> Result<Option<Refused>> {
    use rusqlite::OptionalExtension;
    let n = match store.meta("events_total:refused")?.and_then(|v| v.parse().ok()) {
        Some(total) => total,
        None => count_events(store, "refused")?,
    };
    let last = store
        .conn()
        .query_row("SELECT chat_id, user_id, at FROM events WHERE kind='refused' ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(last.map(|(c, u, at)| (n, c, u, at)))
}

/// How many events of `kind` were recorded (e.g. refused updates).
pub fn count_events(store: &Store, kind: &str) -> Result<i64> {
    Ok(store.conn().query_row("SELECT COUNT(*) FROM events WHERE kind=?1", [kind], |r| r.get(0))?)
}
