//! News about an alert already sent edits that alert instead of ringing again: when auto-resume
//! brings a crashed job back, its crash alert says "crashed 13:23:38 → resumed 13:23:39 at
//! 2/12" and loses its Start button. An alert still queued is rewritten in place; a delivered
//! one is edited by [`edit_delivered`] (retried like any send until Telegram answers).

use super::attempt::{edit_next, EditNext};
use super::Services;
use crate::i18n::Lang;
use crate::policy::amend::{amend_meta, keyboard_without};
use crate::policy::backlog::Meta;
use crate::policy::report::Section;
use crate::render;
use crate::store::{alerts, outbox, Store};
use anyhow::Result;
use teloxide::prelude::*;
use teloxide::types::InlineKeyboardMarkup;
use teloxide::{ApiError, RequestError};

/// The buttons that no longer fit an alert once the job runs again.
const GONE_ACTION: &str = "start";

/// Applies `s`'s news to the alert it amends in `chat`: the queued row is rewritten, or the
/// delivered message is marked for an edit. False when `chat` has no such alert (then the
/// section is sent as a message of its own).
pub fn queue(store: &mut Store, chat: i64, s: &Section, lang: Lang) -> Result<bool> {
    let (Some(key), Some(line)) = (s.amends.as_deref(), render::amend_line(s, lang)) else { return Ok(false) };
    let Some(row) = alerts::find(store, chat, &s.job_id, key)? else { return Ok(false) };
    let tokens = alerts::tokens(store, chat, GONE_ACTION, &s.job_id)?;
    let gone = |t: &str| tokens.contains(t);
    if row.status == "pending" || row.status == "held" {
        let text = format!("{}\n{line}", row.text);
        let markup = row.markup.as_deref().and_then(|m| keyboard_without(m, &gone));
        let merge = row.merge.as_deref().and_then(|m| serde_json::from_str::<Meta>(m).ok()).map(|mut meta| {
            amend_meta(&mut meta, &s.job_id, key, &line, &gone);
            meta
        });
        let merge = merge.map(|m| serde_json::to_string(&m)).transpose()?;
        if alerts::rewrite_queued(store, row.outbox_id, &text, markup.as_deref(), merge.as_deref())? {
            return Ok(true);
        }
    }
    if row.status == "failed" || row.status == "migrated" {
        return Ok(false);
    }
    alerts::add_amend(store, row.outbox_id, &line)?;
    Ok(true)
}

/// Edits every delivered alert that has lines to add: the lines go under what it shows now and
/// its Start buttons go. On a 429 or network error the round stops and waits as Telegram asked
/// (at most a minute); a permanent error (message gone) gives the edit up.
pub async fn edit_delivered(bot: &Bot, s: &Services) -> Result<()> {
    for (outbox_id, chat, msg, job, lines) in alerts::pending_amends(&s.store()?)? {
        if let Some(at) = edit_one(bot, s, outbox_id, chat, msg, &job, &lines).await? {
            let wait = (at - outbox::now_ms()).clamp(0, 60_000) as u64;
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            break;
        }
    }
    Ok(())
}

/// One edit; returns when to try again (unix ms) after a passing failure.
async fn edit_one(bot: &Bot, s: &Services, outbox_id: i64, chat: i64, msg: i32, job: &str, lines: &str) -> Result<Option<i64>> {
    let mut store = s.store()?;
    let (text, markup) = alerts::shown(&store, chat, msg)?.unwrap_or_default();
    let tokens = alerts::tokens(&store, chat, GONE_ACTION, job)?;
    let text = format!("{text}\n{lines}");
    let markup = markup.as_deref().and_then(|m| keyboard_without(m, &|t| tokens.contains(t)));
    let keyboard: InlineKeyboardMarkup = markup.as_deref().and_then(|m| serde_json::from_str(m).ok()).unwrap_or_default();
    match super::direct::call(bot, &super::direct::edit_html(chat, msg, super::text::to_html(&text), Some(keyboard))).await {
        Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => {
            alerts::set_shown(&mut store, chat, msg, &text, markup.as_deref())?;
        }
        Err(e) => {
            tracing::warn!(chat_id = chat, error = %e, "could not edit the alert");
            let failures = alerts::count_failed(&mut store, outbox_id)?;
            match edit_next(&e, failures) {
                EditNext::Again(wait) => return Ok(Some(outbox::now_ms() + wait.as_millis() as i64)),
                EditNext::GiveUp => tracing::error!(chat_id = chat, job, failures, error = %e, "gave up editing the alert"),
                EditNext::Refused => {}
            }
        }
    }
    alerts::amended(&mut store, outbox_id)?;
    Ok(None)
}
