//! Queuing chat messages: split to Telegram's limits and keyboards serialised, then written to the
//! store's durable outbox ([`crate::store::outbox`]); the sender delivers them.

use super::text::{split, to_html, CHUNK_LIMIT};
pub use crate::store::outbox::{now_ms, OutMsg};
use crate::store::{outbox, prefs, Store};
use anyhow::Result;
use teloxide::types::InlineKeyboardMarkup;

/// The text of `m` as sent (HTML-escaped when `html`).
pub fn body(m: &OutMsg) -> String {
    if m.html {
        to_html(&m.text)
    } else {
        m.text.clone()
    }
}

/// Queues `text` (an alert or a reply) for `chat_id`, split into valid messages; the keyboard
/// goes on the last part. Returns the row id of the last part.
pub fn enqueue(store: &mut Store, chat_id: i64, text: &str, silent: bool, markup: Option<&InlineKeyboardMarkup>) -> Result<i64> {
    queue(store, chat_id, text, silent, markup, false)
}

/// Like [`enqueue`] for bulk (requests to approvers, routine progress): in each chat, alerts
/// and replies queued later still go out first, so a flood of bulk never delays them.
pub fn enqueue_bulk(store: &mut Store, chat_id: i64, text: &str, silent: bool, markup: Option<&InlineKeyboardMarkup>) -> Result<i64> {
    queue(store, chat_id, text, silent, markup, true)
}

fn queue(store: &mut Store, chat_id: i64, text: &str, silent: bool, markup: Option<&InlineKeyboardMarkup>, bulk: bool) -> Result<i64> {
    let parts = split(text, CHUNK_LIMIT);
    let markup = markup.map(serde_json::to_string).transpose()?;
    outbox::insert_parts(store, chat_id, &parts, silent, markup.as_deref(), bulk)
}

/// The group became a supergroup: re-send to the new id and warn the owners once, each in the
/// language of their chat.
pub fn migrate(store: &mut Store, m: &OutMsg, new_chat: i64) -> Result<()> {
    let warns: Vec<(i64, String)> = outbox::migration_warn_chats(store, new_chat)
        .into_iter()
        .map(|c| {
            let lang = prefs::chat_lang(store, c, Default::default()).unwrap_or_default();
            (c, crate::t!(lang, "warn-migrated", new = new_chat, old = m.chat_id))
        })
        .collect();
    outbox::migrate(store, m, new_chat, &warns)
}
