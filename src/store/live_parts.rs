//! The live progress message of each report chat ([`crate::policy::live`]): its parts, the
//! message Telegram shows, replaced messages still to delete, and its one pending outbox row
//! (kind 'live') that a newer routine text rewrites while it waits.

use super::outbox::{now_ms, OutMsg};
use super::Store;
use crate::policy::live::{LivePart, Shown};
use anyhow::Result;
use rusqlite::{params, OptionalExtension};

fn ensure(tx: &rusqlite::Transaction, chat: i64) -> Result<()> {
    tx.execute("INSERT OR IGNORE INTO live_message(chat_id) VALUES (?1)", [chat])?;
    Ok(())
}

/// Changes the parts of `chat`'s live message with `f`, which returns the message's new text and
/// keyboard (JSON). The chat's pending live row takes them; without one a row is queued when
/// `progress` came, or when a job left a message Telegram shows (an edit-only update: see
/// [`moves`]). With no part left the pending update is edit-only too: a message saying no job
/// runs is never posted or moved for its own sake.
pub fn change(store: &mut Store, chat: i64, progress: bool, f: impl FnOnce(&mut Vec<LivePart>) -> (String, Option<String>)) -> Result<()> {
    store.write(|tx| {
        ensure(tx, chat)?;
        let (json, shows): (String, bool) =
            tx.query_row("SELECT parts, tg_message_id IS NOT NULL FROM live_message WHERE chat_id=?1", [chat], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let mut parts: Vec<LivePart> = serde_json::from_str(&json).unwrap_or_default();
        let before = parts.clone();
        let (text, markup) = f(&mut parts);
        tx.execute("UPDATE live_message SET parts=?2 WHERE chat_id=?1", params![chat, serde_json::to_string(&parts)?])?;
        let updated =
            tx.execute("UPDATE outbox SET text=?2, markup=?3, html=1 WHERE chat_id=?1 AND kind='live' AND status='pending'", params![chat, text, markup])?;
        let inserted = updated == 0 && (progress || (parts != before && shows));
        if inserted {
            tx.execute(
                "INSERT INTO outbox(chat_id, text, html, silent, markup, created_at, bulk, kind) VALUES (?1, ?2, 1, 1, ?3, ?4, 1, 'live')",
                params![chat, text, markup, now_ms()],
            )?;
        }
        // Routine progress may move the message; a job leaving makes the waiting update an edit in
        // place (the next progress moves it again); with no job left it is never posted anew.
        let moves = match (parts.is_empty(), progress) {
            (true, _) => Some(false),
            (false, true) => Some(true),
            (false, false) => (inserted || parts != before).then_some(false),
        };
        if let Some(m) = moves {
            tx.execute("UPDATE live_message SET moves=?2 WHERE chat_id=?1", params![chat, m])?;
        }
        Ok(())
    })
}

/// The parts of `chat`'s live message as last composed (none before the first).
pub fn parts(store: &Store, chat: i64) -> Result<Vec<LivePart>> {
    use rusqlite::OptionalExtension;
    let json: Option<String> = store.conn().query_row("SELECT parts FROM live_message WHERE chat_id=?1", [chat], |r| r.get(0)).optional()?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default())
}

/// Whether `chat`'s pending live update may be sent as a new message (it carries routine
/// progress) rather than only edit the message shown ([`crate::policy::live::decide`]).
pub fn moves(store: &Store, chat: i64) -> Result<bool> {
    let m: Option<bool> = store.conn().query_row("SELECT moves FROM live_message WHERE chat_id=?1", [chat], |r| r.get(0)).optional()?;
    Ok(m.unwrap_or(true))
}

/// Live row `row` has nothing it could edit and must not be posted: it is dropped.
pub fn dropped(store: &mut Store, row: i64) -> Result<()> {
    store.write(|tx| {
        tx.execute("UPDATE outbox SET status='superseded' WHERE id=?1 AND kind='live'", [row])?;
        Ok(())
    })
}

/// The live message `chat` shows now, if any.
pub fn shown(store: &Store, chat: i64) -> Result<Option<Shown>> {
    Ok(store
        .conn()
        .query_row("SELECT tg_message_id, sent_at, edited_at, hash FROM live_message WHERE chat_id=?1 AND tg_message_id IS NOT NULL", [chat], |r| {
            Ok(Shown { message_id: r.get(0)?, sent_at: r.get(1)?, edited_at: r.get(2)?, hash: r.get(3)? })
        })
        .optional()?)
}

/// Whether anything was posted to `chat` after its live message `message_id` (message ids grow
/// within a chat): an outbox message, a photo or a person's message.
pub fn posted_after(store: &Store, chat: i64, message_id: i32) -> Result<bool> {
    let newest: i64 = store.conn().query_row(
        "SELECT MAX(COALESCE((SELECT MAX(tg_message_id) FROM outbox WHERE chat_id=?1 AND status='sent' AND kind<>'live'), 0),
                    COALESCE((SELECT later_id FROM live_message WHERE chat_id=?1), 0))",
        [chat],
        |r| r.get(0),
    )?;
    Ok(newest > i64::from(message_id))
}

/// A message `message_id` appeared in `chat` outside the outbox (a photo, a person's message).
pub fn saw(store: &mut Store, chat: i64, message_id: i32) -> Result<()> {
    store.write(|tx| {
        tx.execute(
            "UPDATE live_message SET later_id=MAX(later_id, ?2) WHERE chat_id=?1 AND tg_message_id IS NOT NULL AND tg_message_id < ?2",
            params![chat, message_id],
        )?;
        Ok(())
    })
}

/// Live row `m` went out as the new live message `message_id` (showing `hash`); the message it
/// replaces, if any, is remembered for deletion.
pub fn sent(store: &mut Store, m: &OutMsg, message_id: i32, hash: &str, replaced: Option<i32>) -> Result<()> {
    let (chat, now) = (m.chat_id, now_ms());
    store.write(|tx| {
        ensure(tx, chat)?;
        if let Some(old) = replaced {
            let json: String = tx.query_row("SELECT stale FROM live_message WHERE chat_id=?1", [chat], |r| r.get(0))?;
            let mut stale: Vec<i32> = serde_json::from_str(&json).unwrap_or_default();
            stale.push(old);
            tx.execute("UPDATE live_message SET stale=?2 WHERE chat_id=?1", params![chat, serde_json::to_string(&stale)?])?;
        }
        tx.execute("UPDATE live_message SET tg_message_id=?2, sent_at=?3, edited_at=?3, hash=?4 WHERE chat_id=?1", params![chat, message_id, now, hash])?;
        tx.execute(
            &format!("UPDATE outbox SET status='sent', sent_at=?2, tg_message_id=?3 WHERE id=?1 {UNCHANGED}"),
            params![m.id, now, message_id, m.text, m.markup],
        )?;
        Ok(())
    })
}

/// Live row `m` was delivered by editing the live message to show `hash` (`touched`), or the
/// message showed it already (no edit: its edit window stays where it was).
pub fn edited(store: &mut Store, m: &OutMsg, hash: &str, touched: bool) -> Result<()> {
    let (chat, now) = (m.chat_id, now_ms());
    store.write(|tx| {
        if touched {
            tx.execute("UPDATE live_message SET edited_at=?2, hash=?3 WHERE chat_id=?1", params![chat, now, hash])?;
        }
        tx.execute(
            &format!(
                "UPDATE outbox SET status='sent', sent_at=?2, tg_message_id=(SELECT tg_message_id FROM live_message WHERE chat_id=?3) WHERE id=?1 {UNCHANGED}"
            ),
            params![m.id, now, chat, m.text, m.markup],
        )?;
        Ok(())
    })
}

/// A delivered live row is done only if it still says what went out: a job that left while it
/// was on its way (a stop, a completion) rewrote it, and it stays pending, to edit the message.
const UNCHANGED: &str = "AND text=?4 AND markup IS ?5";

/// Telegram no longer has the live message (deleted by a person): the next text is sent anew.
pub fn lost(store: &mut Store, chat: i64) -> Result<()> {
    store.write(|tx| {
        tx.execute("UPDATE live_message SET tg_message_id=NULL WHERE chat_id=?1", [chat])?;
        Ok(())
    })
}

/// Replaced live messages of `chat` still to be deleted.
pub fn stale(store: &Store, chat: i64) -> Result<Vec<i32>> {
    let json: Option<String> = store.conn().query_row("SELECT stale FROM live_message WHERE chat_id=?1", [chat], |r| r.get(0)).optional()?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default())
}

/// The replaced message `message_id` is gone (deleted, or it cannot be deleted any more).
pub fn forget_stale(store: &mut Store, chat: i64, message_id: i32) -> Result<()> {
    store.write(|tx| {
        let json: String = tx.query_row("SELECT stale FROM live_message WHERE chat_id=?1", [chat], |r| r.get(0))?;
        let mut stale: Vec<i32> = serde_json::from_str(&json).unwrap_or_default();
        stale.retain(|id| *id != message_id);
        tx.execute("UPDATE live_message SET stale=?2 WHERE chat_id=?1", params![chat, serde_json::to_string(&stale)?])?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbox;

    use crate::store::temp as store;

    fn progress(job: &str, text: &str) -> impl FnOnce(&mut Vec<LivePart>) -> (String, Option<String>) {
        let p = LivePart { job: job.into(), text: text.into(), rows: vec![], section: None, lang: "en".into(), at: None };
        move |parts: &mut Vec<LivePart>| {
            crate::policy::live::upsert(parts, vec![p]);
            (parts.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("|"), None)
        }
    }

    #[test]
    fn a_newer_routine_text_replaces_the_waiting_one_and_jobs_share_one_message() {
        let (_d, mut s) = store();
        change(&mut s, 5, true, progress("a", "a1")).unwrap();
        change(&mut s, 5, true, progress("b", "b1")).unwrap();
        change(&mut s, 5, true, progress("a", "a2")).unwrap();
        let (head, _) = outbox::head(&s, 5).unwrap().unwrap();
        assert!(head.live && head.silent);
        assert_eq!(head.text, "a2|b1", "one pending update with every job's newest part");
        assert_eq!(outbox::pending_count(&s).unwrap(), 1);
    }

    #[test]
    fn the_live_message_moves_when_anything_is_posted_after_it_and_the_replaced_one_is_kept_for_deletion() {
        let (_d, mut s) = store();
        change(&mut s, 5, true, progress("a", "a1")).unwrap();
        let (row, _) = outbox::head(&s, 5).unwrap().unwrap();
        sent(&mut s, &row, 100, "h1", None).unwrap();
        let shown_now = shown(&s, 5).unwrap().unwrap();
        assert_eq!((shown_now.message_id, shown_now.hash.as_str()), (100, "h1"));
        assert!(!posted_after(&s, 5, 100).unwrap(), "its own row does not count");
        let reply = outbox::insert_parts(&mut s, 5, &["reply".into()], false, None, false).unwrap();
        let (row, _) = outbox::head(&s, 5).unwrap().unwrap();
        assert_eq!(row.id, reply);
        crate::store::delivery::mark_sent(&mut s, &row, 101).unwrap();
        assert!(posted_after(&s, 5, 100).unwrap(), "a reply below it");
        assert!(!posted_after(&s, 6, 100).unwrap(), "another chat's messages do not count");
        change(&mut s, 5, true, progress("a", "a2")).unwrap();
        let (row, _) = outbox::head(&s, 5).unwrap().unwrap();
        sent(&mut s, &row, 102, "h2", Some(100)).unwrap();
        assert_eq!(stale(&s, 5).unwrap(), vec![100]);
        forget_stale(&mut s, 5, 100).unwrap();
        assert!(stale(&s, 5).unwrap().is_empty());
        saw(&mut s, 5, 103).unwrap();
        assert!(posted_after(&s, 5, 102).unwrap(), "a photo or a person's message below it");
        lost(&mut s, 5).unwrap();
        assert!(shown(&s, 5).unwrap().is_none(), "a lost message is sent anew");
    }

    #[test]
    fn a_job_that_left_while_its_update_was_on_the_way_leaves_the_message_by_an_edit() {
        let (_d, mut s) = store();
        change(&mut s, 5, true, progress("a", "a runs")).unwrap();
        let (row, _) = outbox::head(&s, 5).unwrap().unwrap();
        // The job is stopped while the row saying it runs is being sent: the reconcile rewrites it.
        change(&mut s, 5, false, |parts| {
            parts.clear();
            ("none runs".into(), None)
        })
        .unwrap();
        sent(&mut s, &row, 100, "h-a-runs", None).unwrap();
        let (again, _) = outbox::head(&s, 5).unwrap().expect("the rewritten update is still to deliver");
        assert_eq!((again.id, again.text.as_str()), (row.id, "none runs"));
        assert_eq!(shown(&s, 5).unwrap().unwrap().message_id, 100, "it edits the message just sent");
        edited(&mut s, &row, "h-a-runs", true).unwrap();
        assert!(outbox::head(&s, 5).unwrap().is_some(), "nor is an edit of the old text the end of it");
        edited(&mut s, &again, "h-none", true).unwrap();
        assert!(outbox::head(&s, 5).unwrap().is_none());
    }

    #[test]
    fn a_job_leaving_a_shown_message_queues_an_edit_only_update_and_progress_makes_it_movable_again() {
        let (_d, mut s) = store();
        let leave = |job: &'static str| {
            move |parts: &mut Vec<LivePart>| {
                parts.retain(|p| p.job != job);
                (format!("{} left", parts.len()), None)
            }
        };
        change(&mut s, 5, false, leave("a")).unwrap();
        assert!(outbox::head(&s, 5).unwrap().is_none(), "nothing shown, nothing left: nothing queued");
        change(&mut s, 5, true, progress("a", "a1")).unwrap();
        change(&mut s, 5, true, progress("b", "b1")).unwrap();
        assert!(moves(&s, 5).unwrap());
        let (row, _) = outbox::head(&s, 5).unwrap().unwrap();
        sent(&mut s, &row, 100, "h1", None).unwrap();
        change(&mut s, 5, false, leave("zzz")).unwrap();
        assert!(outbox::head(&s, 5).unwrap().is_none(), "a job that was not in it changes nothing");
        change(&mut s, 5, false, leave("a")).unwrap();
        let (row, _) = outbox::head(&s, 5).unwrap().unwrap();
        assert_eq!(row.text, "1 left");
        assert!(!moves(&s, 5).unwrap(), "a job leaving is an edit in place");
        change(&mut s, 5, true, progress("b", "b2")).unwrap();
        assert!(moves(&s, 5).unwrap(), "routine progress may move it again");
        change(&mut s, 5, true, progress("c", "c1")).unwrap();
        change(&mut s, 5, false, leave("c")).unwrap();
        assert!(!moves(&s, 5).unwrap(), "a job leaving after progress waits as an edit in place");
        change(&mut s, 5, true, progress("b", "b3")).unwrap();
        change(&mut s, 5, false, leave("b")).unwrap();
        let (row, _) = outbox::head(&s, 5).unwrap().unwrap();
        assert_eq!(row.text, "0 left", "the last one leaving rewrites the waiting update");
        assert!(!moves(&s, 5).unwrap(), "saying no job runs is never posted anew");
        assert_eq!(outbox::pending_count(&s).unwrap(), 1);
        dropped(&mut s, row.id).unwrap();
        assert!(outbox::head(&s, 5).unwrap().is_none());
    }
}
