//! Queuing chat messages: split to Telegram's limits and keyboards serialised, then written to the
//! store's durable outbox ([`crate::store::outbox`]); the sender delivers them.

use super::text::{split, to_html, CHUNK_LIMIT};
use super::views;
use crate::i18n::Lang;
use crate::policy::backlog::{self, Item, Limits, Meta, Part, Plan};
use crate::render::{self, Report};
use crate::store::delivery;
use crate::store::outbox::Kind;
pub use crate::store::outbox::{now_ms, OutMsg};
use crate::store::{outbox, prefs, Store};
use anyhow::Result;
use chrono_tz::Tz;
use teloxide::types::InlineKeyboardMarkup;

/// How many queued rows of a chat one merge looks at (more are merged in later messages).
const MERGE_WINDOW: i64 = 5000;

/// The text of `m` as sent (HTML-escaped when `html`).
pub fn body(m: &OutMsg) -> String {
    if m.html {
        to_html(&m.text)
    } else {
        super::text::shown(&m.text)
    }
}

/// Queues `text` (an alert or a reply) for `chat_id`, split into valid messages; the keyboard
/// goes on the last part. Returns the row id of the last part.
pub fn enqueue(store: &mut Store, chat_id: i64, text: &str, silent: bool, markup: Option<&InlineKeyboardMarkup>) -> Result<i64> {
    queue(store, chat_id, text, silent, markup, false)
}

/// Queues a notice that goes out with the alerts, ahead of replies (the "back online" line: what
/// changed while the daemon was away follows it); never merged.
pub fn enqueue_notice(store: &mut Store, chat_id: i64, text: &str, silent: bool) -> Result<i64> {
    outbox::insert_kind(store, chat_id, &split(text, CHUNK_LIMIT), silent, None, Kind::Alert, None)
}

/// Like [`enqueue`] for bulk (requests to approvers, routine progress): in each chat, alerts
/// and replies queued later still go out first, so a flood of bulk never delays them.
pub fn enqueue_bulk(store: &mut Store, chat_id: i64, text: &str, silent: bool, markup: Option<&InlineKeyboardMarkup>) -> Result<i64> {
    queue(store, chat_id, text, silent, markup, true)
}

/// Queues the reply to `key`'s command ([`outbox::insert_reply`]: a burst of one command keeps
/// one pending answer, a chat's waiting replies are capped); `note(n)` is the line saying `n`
/// older replies were dropped.
pub fn enqueue_reply(
    store: &mut Store,
    chat_id: i64,
    text: &str,
    markup: Option<&InlineKeyboardMarkup>,
    key: &str,
    note: impl Fn(usize) -> String,
) -> Result<i64> {
    let markup = markup.map(serde_json::to_string).transpose()?;
    outbox::insert_reply(store, chat_id, key, markup.as_deref(), |dropped| {
        let text = if dropped > 0 { format!("{text}\n\n{}", note(dropped)) } else { text.to_string() };
        split(&text, CHUNK_LIMIT)
    })
}

fn queue(store: &mut Store, chat_id: i64, text: &str, silent: bool, markup: Option<&InlineKeyboardMarkup>, bulk: bool) -> Result<i64> {
    let parts = split(text, CHUNK_LIMIT);
    let markup = markup.map(serde_json::to_string).transpose()?;
    outbox::insert_parts(store, chat_id, &parts, silent, markup.as_deref(), bulk)
}

/// Queues a report for `chat`: its text and buttons, and the parts a later merge of the chat's
/// backlog needs (see [`crate::policy::backlog`]). Returns the row id of the last part.
pub fn enqueue_report(store: &mut Store, chat: i64, report: &Report, host: &str, tz: Tz, lang: Lang) -> Result<i64> {
    let text = views::report_text(report, host, tz, lang);
    let rows = views::section_rows(store, chat, &report.sections, lang)?;
    let keyboard: Vec<_> = rows.iter().flatten().cloned().collect();
    let markup = (!keyboard.is_empty()).then(|| serde_json::to_string(&InlineKeyboardMarkup::new(keyboard))).transpose()?;
    let parts = report
        .sections
        .iter()
        .zip(rows)
        .map(|(s, rows)| {
            let text = render::section_text(s, tz, lang);
            let heading = text.lines().next().unwrap_or_default().to_string();
            let key = s.anomaly.as_ref().map(|a| a.key(s.status.as_ref().and_then(|st| st.progress_key.as_deref())));
            let what = s.anomaly.as_ref().map(|a| render::anomaly_line(a, lang)).unwrap_or_default();
            let rows = rows.iter().map(|r| r.iter().map(serde_json::to_value).collect()).collect::<Result<_, _>>()?;
            let recovered = crate::t!(lang, "backlog-recovered", heading = &heading, what = &what);
            let changed = crate::t!(lang, "backlog-changed", heading = heading, what = what);
            Ok(Part { job: s.job_id.clone(), key, routine: !s.loud && s.anomaly.is_none(), text, recovered, changed, rows })
        })
        .collect::<Result<Vec<_>>>()?;
    let at = report.at.unwrap_or_else(chrono::Utc::now).with_timezone(&tz);
    let head = text.lines().next().unwrap_or_default().to_string();
    let meta = Meta { lang: lang.code().to_string(), stamp: at.format("%H:%M:%S").to_string(), hm: at.format("%H:%M").to_string(), head, parts };
    let kind = if report.loud() { Kind::Alert } else { Kind::Routine };
    let merge = serde_json::to_string(&meta)?;
    let last = outbox::insert_kind(store, chat, &split(&text, CHUNK_LIMIT), !report.loud(), markup.as_deref(), kind, Some(&merge))?;
    // Alerts are remembered by job and key, so later news about them edits them (see `amend`).
    for part in &meta.parts {
        if let Some(key) = &part.key {
            crate::store::alerts::record(store, last, chat, &part.job, key)?;
        }
    }
    Ok(last)
}

/// The next message for `chat` when its queue starts with a backlog of reports worth merging:
/// in order, within Telegram's limits; headed when `outage` (sends to the chat failed since its
/// last header) or when its first row failed (before a restart); else led by the first report's
/// own header. Either way the message names `host`.
/// Returns the message to send instead of `head`, and what it covers.
pub fn merged_next(store: &Store, head: &OutMsg, outage: bool, host: &str) -> Result<Option<(OutMsg, Plan)>> {
    let queued = outbox::queued(store, head.chat_id, MERGE_WINDOW)?;
    let mut items: Vec<Item> =
        queued.iter().map_while(|q| Some(Item { id: q.id, silent: q.silent, meta: serde_json::from_str(q.merge.as_deref()?).ok()? })).collect();
    if items.len() < 2 {
        return Ok(None);
    }
    let now = store.job_states()?.into_iter().map(|(job, st)| (job, st.last_anomaly_key)).collect();
    let lang = Lang::parse(&items[0].meta.lang).unwrap_or_default();
    // Rows queued before reports kept their own header: one from the host and the time.
    for it in items.iter_mut().filter(|it| it.meta.head.is_empty()) {
        it.meta.head = crate::t!(lang, "report-header", host = host, time = it.meta.stamp.clone());
    }
    let header = if outage || outbox::head_failed(store, items[0].id)? {
        let s = backlog::summary(&items);
        Some(crate::t!(lang, "backlog-header", host = host, from = s.from, to = s.to, alerts = s.alerts, updates = s.updates))
    } else {
        None
    };
    // CHUNK_LIMIT, not Telegram's 4096: an Ack or Snooze later adds a line to the message.
    let Some(plan) = backlog::plan(&items, &now, header.as_deref(), Limits { units: CHUNK_LIMIT, buttons: views::MAX_BUTTONS }) else { return Ok(None) };
    if plan.covers.first() != Some(&head.id) {
        return Ok(None);
    }
    let markup = (!plan.rows.is_empty()).then(|| serde_json::json!({ "inline_keyboard": plan.rows }).to_string());
    Ok(Some((OutMsg { text: plan.text.clone(), html: true, silent: plan.silent, markup, ..head.clone() }, plan)))
}

/// The group became a supergroup: re-send to the new id and warn the owners once, each in the
/// language of their chat.
pub fn migrate(store: &mut Store, m: &OutMsg, new_chat: i64) -> Result<()> {
    let warns: Vec<(i64, String)> = delivery::migration_warn_chats(store, new_chat)
        .into_iter()
        .map(|c| {
            let lang = prefs::chat_lang(store, c, Default::default()).unwrap_or_default();
            (c, crate::t!(lang, "warn-migrated", new = new_chat, old = m.chat_id))
        })
        .collect();
    delivery::migrate(store, m, new_chat, &warns)
}
