//! The morning digest in each report chat: in the chat's own language, with buttons for what
//! still needs a decision, queued together with forgetting the rows it covers.

use super::text::{split, CHUNK_LIMIT};
use super::{approval_chat, views};
use crate::i18n::Lang;
use crate::policy::digest::Digest;
use crate::store::outbox::{self, Kind};
use crate::store::{approval_messages, prefs, quiet_held, Store};
use crate::t;
use anyhow::Result;
use chrono_tz::Tz;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

/// Queues `d` for each of `chats` (nothing when it has nothing to tell) and forgets its rows, in
/// one transaction. Returns false when its rows were taken already (another tick or process
/// queued their digest).
pub fn enqueue(store: &mut Store, chats: &[i64], d: &Digest, host: &str, tz: Tz, default: Lang) -> Result<bool> {
    if !quiet_held::present(store, &d.rows)? {
        return Ok(false);
    }
    let mut messages = Vec::new();
    for chat in chats.iter().filter(|_| !d.is_empty()) {
        let lang = prefs::chat_lang(store, *chat, default)?;
        let text = crate::render::digest_text::digest_text(d, host, tz, lang);
        let (rows, requests) = keyboard(store, *chat, d, lang)?;
        let markup = (!rows.is_empty()).then(|| serde_json::to_string(&InlineKeyboardMarkup::new(rows))).transpose()?;
        messages.push((*chat, split(&text, CHUNK_LIMIT), markup, requests));
    }
    quiet_held::deliver(store, &d.rows, d.until, &d.job_ids(), |tx| {
        for (chat, parts, markup, requests) in &messages {
            let last = outbox::insert_in(tx, *chat, parts, false, markup.as_deref(), Kind::Reply, None)?;
            // Its Approve/Reject buttons go (and the outcome is added) once each is decided.
            for id in requests {
                approval_messages::record_shared_in(tx, *id, last)?;
            }
        }
        Ok(())
    })
}

/// One row per job with alerts still open (its fitting actions), then Approve/Reject per open
/// request; within Telegram's button limit, keeping room for the requests first. Also returns
/// the requests that got buttons.
fn keyboard(store: &mut Store, chat: i64, d: &Digest, lang: Lang) -> Result<(Vec<Vec<InlineKeyboardButton>>, Vec<i64>)> {
    let mut requests = Vec::new();
    let mut ids = Vec::new();
    for p in d.pending.iter().take(views::MAX_BUTTONS / 2) {
        let labels = [t!(lang, "btn-approve-id", id = p.id, job = &p.job_id), t!(lang, "btn-reject-id", id = p.id, job = &p.job_id)];
        requests.push(approval_chat::buttons(store, chat, p.id, labels)?);
        ids.push(p.id);
    }
    let mut left = views::MAX_BUTTONS - requests.len() * 2;
    let mut rows = Vec::new();
    for j in d.jobs.iter().filter(|j| !j.actions.is_empty()) {
        if j.actions.len() > left {
            continue;
        }
        left -= j.actions.len();
        rows.push(j.actions.iter().map(|a| views::alert_button(store, chat, *a, &j.job_id, j.run, lang)).collect::<Result<Vec<_>>>()?);
    }
    rows.extend(requests);
    Ok((rows, ids))
}
