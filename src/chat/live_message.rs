//! The live progress message of each report chat: routine progress of every running job in one
//! message, edited in place without sound; moved to the bottom (sent anew, the old one deleted)
//! when other messages were posted after it; replaced before Telegram's 48 h delete limit.
//! The decisions are [`crate::policy::live`]'s; this module renders the message and talks to
//! Telegram.

use super::attempt::{self, Verdict};
use super::text::CHUNK_LIMIT;
use super::token::{redact, Token};
use super::views;
use crate::config::Config;
use crate::i18n::Lang;
use crate::policy::decisions::Decisions;
use crate::policy::live::{self as policy, LivePart, Step};
use crate::policy::report::Section;
use crate::policy::state::JobState;
use crate::render::{self, Report};
use crate::store::callbacks;
use crate::store::delivery;
use crate::store::live_parts as record;
use crate::store::outbox::{now_ms, OutMsg};
use crate::store::Store;
use anyhow::Result;
use chrono_tz::Tz;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use teloxide::payloads::{DeleteMessage, EditMessageText, EditMessageTextSetters};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardMarkup, MessageId, ParseMode};
use teloxide::{ApiError, RequestError};

/// The sections of `report` that are not routine progress (they keep messages of their own).
pub fn others(report: &Report) -> Report {
    Report { at: report.at, sections: report.sections.iter().filter(|s| !policy::is_progress(s)).cloned().collect(), digest: None }
}

/// Takes `report`'s routine progress into `chat`'s live message and drops the jobs that no
/// longer run from it; queues the message's update when there was progress or a job left the
/// message Telegram shows (then only an edit: with no job left it says so under its header).
pub fn update(store: &mut Store, chat: i64, report: &Report, host: &str, tz: Tz, lang: Lang) -> Result<()> {
    let progress: Vec<_> = report.sections.iter().filter(|s| policy::is_progress(s)).cloned().collect();
    let leaving: Vec<&str> = report.sections.iter().filter(|s| policy::leaves(s)).map(|s| s.job_id.as_str()).collect();
    if progress.is_empty() && leaving.is_empty() {
        return Ok(());
    }
    let mut new = in_other_language(store, chat, tz, lang)?;
    new.retain(|p| !leaving.contains(&p.job.as_str()));
    new.extend(parts_of(store, chat, &progress, report.at.map(|t| t.timestamp()), tz, lang)?);
    let at = report.at.unwrap_or_else(chrono::Utc::now);
    // Said only if the message ends up with no job: which job left it last, and how.
    let left: Vec<String> = report
        .sections
        .iter()
        .filter(|s| policy::leaves(s))
        .filter_map(|s| s.status.as_ref().map(|st| format!("{} {}", s.job_name, render::state_word(st, s.life, lang))))
        .collect();
    let idle = if left.is_empty() { crate::t!(lang, "live-idle") } else { crate::t!(lang, "live-idle-after", jobs = left.join(", ")) };
    record::change(store, chat, !new.is_empty(), |parts| {
        policy::upsert(parts, new);
        parts.retain(|p| !leaving.contains(&p.job.as_str()));
        rendered(&header(parts, at, host, tz, lang), parts, &idle, lang)
    })
}

/// The live message's header: the time of its newest figures (a part rendered again in another
/// language, or left standing while another job leaves, is as old as it was), or `idle_at` when
/// no part is left ("no job runs now" is true then).
fn header(parts: &[LivePart], idle_at: chrono::DateTime<chrono::Utc>, host: &str, tz: Tz, lang: Lang) -> String {
    let newest = parts.iter().filter_map(|p| p.at).max().and_then(|t| chrono::DateTime::from_timestamp(t, 0));
    let at = if parts.is_empty() { idle_at } else { newest.unwrap_or(idle_at) };
    render::header(at, host, tz, lang)
}

/// The live message's parts for `sections`, rendered for `chat` in `lang` (the buttons keep
/// their tokens where the message already shows them).
fn parts_of(store: &mut Store, chat: i64, sections: &[Section], at: Option<i64>, tz: Tz, lang: Lang) -> Result<Vec<LivePart>> {
    let reuse = reusable(store, chat)?;
    let rows = views::section_rows_reusing(store, chat, sections, lang, &reuse)?;
    sections
        .iter()
        .zip(rows)
        .map(|(s, rows)| {
            let rows = rows.iter().map(|r| r.iter().map(serde_json::to_value).collect()).collect::<Result<_, _>>()?;
            Ok(LivePart { job: s.job_id.clone(), text: render::section_text(s, tz, lang), rows, section: Some(s.clone()), lang: lang.code().into(), at })
        })
        .collect()
}

/// The parts of `chat`'s live message that are in another language than `lang`, rendered again
/// in it (after a /lang).
fn in_other_language(store: &mut Store, chat: i64, tz: Tz, lang: Lang) -> Result<Vec<LivePart>> {
    let old: Vec<LivePart> = record::parts(store, chat)?.into_iter().filter(|p| p.speaks_other_than(lang.code()) && p.section.is_some()).collect();
    if old.is_empty() {
        return Ok(Vec::new());
    }
    let sections: Vec<Section> = old.iter().filter_map(|p| p.section.clone()).collect();
    let mut again = parts_of(store, chat, &sections, None, tz, lang)?;
    // One part per section, in order: each keeps the time of its figures.
    for (part, was) in again.iter_mut().zip(&old) {
        part.at = was.at;
    }
    Ok(again)
}

/// The live message's text and keyboard (JSON) for `parts` under `header`, within Telegram's
/// limits; `idle` when no part is left.
fn rendered(header: &str, parts: &[LivePart], idle: &str, lang: Lang) -> (String, Option<String>) {
    let more = |n| crate::t!(lang, "live-more", count = n);
    let (text, rows) = policy::compose(header, parts, CHUNK_LIMIT, views::MAX_BUTTONS, more, idle);
    (text, (!rows.is_empty()).then(|| serde_json::json!({ "inline_keyboard": rows }).to_string()))
}

/// Takes the jobs that no longer run out of `chat`'s live message, by their stored state
/// ([`policy::still_running`]; gone from the config or disabled counts too), and queues its edit.
/// True when any left. A report that says a job left updates the message at once; this keeps it
/// true when no report comes (a completion held by quiet hours, a deliberate stop).
/// Parts in another language than the chat's (it switched with /lang) are rendered again in it.
pub fn reconcile(store: &mut Store, chat: i64, cfg: &Config, known: (&HashMap<String, JobState>, &HashMap<String, Decisions>), lang: Lang) -> Result<bool> {
    let (states, said) = known;
    let said_of = |job: &str| said.get(job).cloned().unwrap_or_default();
    let runs = |job: &str| states.get(job).is_some_and(|st| policy::still_running(st, &said_of(job)));
    let stays = |job: &str| cfg.job(job).is_some_and(|j| j.enabled) && runs(job);
    let gone: Vec<String> = record::parts(store, chat)?.into_iter().map(|p| p.job).filter(|j| !stays(j)).collect();
    let mut relang = in_other_language(store, chat, cfg.timezone, lang)?;
    relang.retain(|p| !gone.contains(&p.job));
    if gone.is_empty() && relang.is_empty() {
        return Ok(false);
    }
    let now = chrono::Utc::now();
    // Said only if the message ends up with no job: which jobs left it, and how ("Scan disk
    // completed 12:41"), as the report that would have taken them out says.
    let left: Vec<String> = gone
        .iter()
        .filter_map(|job| {
            let how = policy::left(states.get(job)?, &said_of(job))?;
            let name = cfg.job(job).map_or(job.as_str(), |j| j.name.as_str());
            Some(format!("{name} {}", render::standing_word(how, None, now, cfg.timezone, lang)))
        })
        .collect();
    let idle = if left.is_empty() { crate::t!(lang, "live-idle") } else { crate::t!(lang, "live-idle-after", jobs = left.join(", ")) };
    record::change(store, chat, false, |parts| {
        parts.retain(|p| !gone.contains(&p.job));
        policy::upsert(parts, relang);
        rendered(&header(parts, now, &cfg.host, cfg.timezone, lang), parts, &idle, lang)
    })?;
    Ok(true)
}

/// The live message's buttons whose tokens are still unused, by label: its edits keep them.
fn reusable(store: &Store, chat: i64) -> Result<HashMap<String, String>> {
    let buttons: Vec<(String, String)> = record::parts(store, chat)?
        .iter()
        .flat_map(|p| p.rows.iter().flatten())
        .filter_map(|b| Some((b.get("text")?.as_str()?.to_string(), b.get("callback_data")?.as_str()?.to_string())))
        .collect();
    let tokens: Vec<String> = buttons.iter().map(|(_, t)| t.clone()).collect();
    let unused = callbacks::unused_of(store, chat, &tokens)?;
    Ok(buttons.into_iter().filter(|(_, t)| unused.contains(t)).collect())
}

/// What Telegram would show for `m`: its text as sent and its keyboard, hashed.
fn content_hash(m: &OutMsg) -> String {
    let mut h = Sha256::new();
    h.update(super::outbox_queue::body(m));
    h.update([0]);
    h.update(m.markup.as_deref().unwrap_or_default());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Delivers `chat`'s pending live row `m` (forum topic `thread` for a new message): sends it as
/// the live message, edits the live message, or defers it until the edit window opens. A
/// verdict `Sent` means Telegram was called successfully.
pub async fn deliver(bot: &Bot, db: &Path, m: &OutMsg, thread: Option<i32>, token: &Token) -> Result<Verdict> {
    let chat = m.chat_id;
    let hash = content_hash(m);
    let (shown, after, moves) = {
        let store = Store::open(db)?;
        let shown = record::shown(&store, chat)?;
        let after = match &shown {
            Some(s) => record::posted_after(&store, chat, s.message_id)?,
            None => false,
        };
        (shown, after, record::moves(&store, chat)?)
    };
    let verdict = match policy::decide(shown.as_ref(), after, &hash, now_ms(), moves) {
        Step::Drop => {
            record::dropped(&mut Store::open(db)?, m.id)?;
            return Ok(Verdict::Retry(now_ms(), false));
        }
        Step::Same => {
            record::edited(&mut Store::open(db)?, m, &hash, false)?;
            return Ok(Verdict::Retry(now_ms(), false));
        }
        Step::Wait(at) => {
            delivery::defer(&mut Store::open(db)?, m.id, at)?;
            return Ok(Verdict::Retry(at, false));
        }
        Step::Edit(id) => match edit(bot, m, id).await {
            Ok(()) => {
                record::edited(&mut Store::open(db)?, m, &hash, true)?;
                Verdict::Sent(id)
            }
            Err(e) if gone(&e) => {
                tracing::info!(chat_id = chat, message_id = id, "the live progress message is gone; sending it anew");
                record::lost(&mut Store::open(db)?, chat)?;
                return Ok(Verdict::Retry(now_ms(), false));
            }
            Err(e) => attempt::apply(db, m, Err(e), token)?,
        },
        Step::Send { replace } => match attempt::send(bot, m, thread).await {
            Ok(id) => {
                record::sent(&mut Store::open(db)?, m, id, &hash, replace)?;
                Verdict::Sent(id)
            }
            Err(e) => attempt::apply(db, m, Err(e), token)?,
        },
    };
    if matches!(verdict, Verdict::Sent(_)) {
        delete_stale(bot, db, chat, token).await?;
    }
    Ok(verdict)
}

/// Edits live message `id` to show `m`; without a keyboard in `m` the message's buttons go.
/// Telegram's "message is not modified" (it shows that already) is success.
async fn edit(bot: &Bot, m: &OutMsg, id: i32) -> Result<(), RequestError> {
    let mut req = EditMessageText::new(ChatId(m.chat_id), MessageId(id), super::outbox_queue::body(m));
    if m.html {
        req = req.parse_mode(ParseMode::Html);
    }
    let keyboard = m.markup.as_deref().and_then(|j| serde_json::from_str::<InlineKeyboardMarkup>(j).ok());
    req = req.reply_markup(keyboard.unwrap_or_default());
    match super::direct::call(bot, &req).await {
        Ok(_) => Ok(()),
        Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
        Err(RequestError::Api(ApiError::Unknown(d))) if d.contains("message is not modified") => Ok(()),
        Err(e) => Err(e),
    }
}

/// The live message no longer exists or can no longer be edited: it is sent anew.
fn gone(e: &RequestError) -> bool {
    match e {
        RequestError::Api(ApiError::MessageToEditNotFound | ApiError::MessageCantBeEdited | ApiError::MessageIdInvalid) => true,
        RequestError::Api(ApiError::Unknown(d)) => d.contains("message to edit not found") || d.contains("message can't be edited"),
        _ => false,
    }
}

/// Deletes the live messages of `chat` that newer ones replaced. One Telegram no longer has (or
/// no longer lets us delete) is forgotten; on a network error or 429 the rest wait for the next
/// live delivery.
async fn delete_stale(bot: &Bot, db: &Path, chat: i64, token: &Token) -> Result<()> {
    for id in record::stale(&Store::open(db)?, chat)? {
        match super::direct::call(bot, &DeleteMessage::new(ChatId(chat), MessageId(id))).await {
            Ok(_) => {}
            Err(e) if matches!(attempt::classify(&e, 0, 0), Verdict::Retry(..)) => {
                tracing::info!(chat_id = chat, message_id = id, error = %redact(&e.to_string(), token), "could not delete the replaced live message yet");
                return Ok(());
            }
            Err(e) => tracing::info!(chat_id = chat, message_id = id, error = %redact(&e.to_string(), token), "replaced live message not deleted"),
        }
        record::forget_stale(&mut Store::open(db)?, chat, id)?;
    }
    Ok(())
}
