//! News about an alert already sent edits that alert instead of ringing again: when auto-resume
//! brings a crashed job back, its crash alert says "crashed 13:23:38 → resumed 13:23:39 at
//! 2/12" and loses its Start button. An alert still queued is rewritten in place; a delivered
//! one is edited by [`edit_delivered`] (retried like any send until Telegram answers).

use super::attempt::{edit_next, EditNext};
use super::Services;
use crate::i18n::Lang;
use crate::policy::amend::{amend_meta, keyboard_without};
use crate::policy::backlog::Meta;
use crate::policy::press::{JobPress, Press};
use crate::policy::report::Section;
use crate::render;
use crate::store::{alerts, outbox, Store};
use anyhow::Result;
use std::collections::HashSet;
use teloxide::prelude::*;
use teloxide::types::InlineKeyboardMarkup;
use teloxide::{ApiError, RequestError};

/// The buttons that no longer fit an alert once the job runs again.
const RUNS_AGAIN: &[Press] = &[Press::Job(JobPress::Start)];
/// The buttons that no longer fit a check's alert once it passes again: nothing is left to
/// acknowledge or snooze.
const PASSES_AGAIN: &[Press] = &[Press::Ack, Press::Snooze];

/// Applies `s`'s news to the alert it amends in `chat`: the queued row is rewritten, or the
/// delivered message is marked for an edit. False when `chat` has no such alert (then the
/// section is sent as a message of its own).
pub fn queue(store: &mut Store, chat: i64, s: &Section, lang: Lang) -> Result<bool> {
    let (Some(key), Some(line)) = (s.amends.as_deref(), render::amend_line(s, lang)) else { return Ok(false) };
    let gone = if s.notes.contains(&crate::policy::report::Note::Recovered) { PASSES_AGAIN } else { RUNS_AGAIN };
    alert(store, chat, &s.job_id, key, &line, gone)
}

/// Adds `line` to `chat`'s copy of `job`'s alert `key` and takes its `gone` buttons off: the
/// queued row is rewritten, or the delivered message is marked for an edit (made by
/// [`edit_delivered`], at the chat's pace). False when `chat` has no copy of that alert.
pub fn alert(store: &mut Store, chat: i64, job: &str, key: &str, line: &str, gone: &[Press]) -> Result<bool> {
    let Some(row) = alerts::find(store, chat, job, key)? else { return Ok(false) };
    let tokens = gone_tokens(store, chat, job, gone)?;
    let gone_token = |t: &str| tokens.contains(t);
    if row.status == "pending" || row.status == "held" {
        let text = format!("{}\n{line}", row.text);
        let markup = row.markup.as_deref().and_then(|m| keyboard_without(m, &gone_token));
        let merge = row.merge.as_deref().and_then(|m| serde_json::from_str::<Meta>(m).ok()).map(|mut meta| {
            amend_meta(&mut meta, job, key, line, &gone_token);
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
    let names: Vec<&str> = gone.iter().map(|p| p.as_str()).collect();
    alerts::add_amend(store, row.outbox_id, line, &names.join(" "))?;
    Ok(true)
}

/// The tokens of `chat`'s buttons for `job` whose action is one of `gone`.
fn gone_tokens(store: &Store, chat: i64, job: &str, gone: &[Press]) -> Result<HashSet<String>> {
    let mut all = HashSet::new();
    for p in gone {
        all.extend(alerts::tokens(store, chat, p.as_str(), job)?);
    }
    Ok(all)
}

/// Edits every delivered alert that has lines to add: the lines go under what it shows now and
/// its Start buttons go. On a 429 or network error the round stops and waits as Telegram asked
/// (at most a minute); a permanent error (message gone) gives the edit up.
pub async fn edit_delivered(bot: &Bot, s: &Services) -> Result<()> {
    for a in alerts::pending_amends(&s.store()?)? {
        if let Some(at) = edit_one(bot, s, &a).await? {
            let wait = (at - outbox::now_ms()).clamp(0, 60_000) as u64;
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            break;
        }
    }
    Ok(())
}

/// One edit; returns when to try again (unix ms) after a passing failure.
async fn edit_one(bot: &Bot, s: &Services, a: &alerts::Amend) -> Result<Option<i64>> {
    let (outbox_id, chat, msg, job) = (a.outbox_id, a.chat, a.message_id, a.job.as_str());
    let mut store = s.store()?;
    let (text, markup) = alerts::shown(&store, chat, msg)?.unwrap_or_default();
    let gone: Vec<Press> = a.gone.split_whitespace().filter_map(|p| p.parse().ok()).collect();
    let tokens = gone_tokens(&store, chat, job, &gone)?;
    let text = format!("{text}\n{}", a.lines);
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
