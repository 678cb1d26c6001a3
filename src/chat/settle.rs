//! Request messages follow their request to the end: once it is decided (in the chat or on the
//! host), expired, void or interrupted, every delivered copy is edited to say so and loses its
//! buttons, so nobody presses a button that can only be refused.

use super::attempt::{edit_next, EditNext};
use super::Services;
use crate::config::Config;
use crate::engine::approval_flow::{self, ApprovalRow};
use crate::i18n::Lang;
use crate::policy::amend::keyboard_without;
use crate::policy::approval::State;
use crate::render::approval_text;
use crate::store::runs::RunRecord;
use crate::store::{approval_messages, callbacks, outbox};
use crate::t;
use anyhow::Result;
use std::collections::HashSet;
use teloxide::prelude::*;
use teloxide::types::InlineKeyboardMarkup;

use teloxide::{ApiError, RequestError};

/// The last line of a request message once it is no longer pending; once its run ended, how
/// (`ran`: the run the approval made, [`ran_of`]).
fn final_line(r: &ApprovalRow, cfg: &Config, lang: Lang, ran: Option<&RunRecord>) -> String {
    let when = r
        .decided_at
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| t.with_timezone(&cfg.timezone).format("%H:%M:%S").to_string())
        .unwrap_or_default();
    let who = r.decided_by.clone().unwrap_or_else(|| "?".into());
    let approved = t!(lang, "approval-decided-approved", who = &who, when = &when);
    match r.state {
        State::Rejected => t!(lang, "approval-decided-rejected", who = &who, when = &when),
        State::Expired => t!(lang, "approval-decided-expired"),
        State::Void => t!(lang, "approval-decided-void"),
        State::Pending | State::Running => approved,
        State::Interrupted => format!("{approved}\n{}", t!(lang, "approval-decided-interrupted")),
        State::Succeeded | State::Failed => match ran {
            Some(run) => format!("{approved}\n{}", approval_text::run_line(run, r.state == State::Failed, lang)),
            None => approved,
        },
    }
}

/// The run approval `r` made, once it ended (None before, or when the record is gone).
fn ran_of(s: &Services, r: &ApprovalRow) -> Result<Option<RunRecord>> {
    if !matches!(r.state, State::Succeeded | State::Failed) {
        return Ok(None);
    }
    Ok(s.store()?.run_by_origin(&format!("approval:{}", r.id))?.filter(|run| run.finished_at.is_some()))
}

/// Characters of a finished run's output an edited request copy shows.
const COPY_OUTPUT_CHARS: usize = 1000;

/// A request no longer pending as its own message shows it: the request, how it ended and, once
/// its run ended, the tail of its output (without it when the whole would pass Telegram's
/// length limit, which refuses such an edit for good).
pub(super) fn settled_text(s: &Services, r: &ApprovalRow, cfg: &Config, lang: Lang) -> Result<String> {
    let ran = ran_of(s, r)?;
    let out = |run: &RunRecord| {
        crate::render::output_block(run.stdout_tail.as_deref().unwrap_or(""), run.stderr_tail.as_deref().unwrap_or(""), COPY_OUTPUT_CHARS, lang)
    };
    let tail = ran.as_ref().map(out).unwrap_or_default();
    let request = approval_text::request(r, cfg.job(&r.job_id), &cfg.host, cfg.timezone, lang);
    let body = format!("{request}\n\n{}", final_line(r, cfg, lang, ran.as_ref()));
    let with_tail = format!("{body}{tail}");
    Ok(if with_tail.encode_utf16().count() <= super::text::TELEGRAM_LIMIT { with_tail } else { body })
}

/// What a settled copy shows: a request message its request and how it ended, without buttons;
/// a message that shows more (the digest) its own text with a line per decided request, and
/// its keyboard without those requests' buttons.
fn settled_view(s: &Services, r: &ApprovalRow, cfg: &Config, outbox_id: i64, chat: i64, shared: bool) -> Result<(String, Option<InlineKeyboardMarkup>)> {
    let lang = s.lang(chat);
    if !shared {
        return Ok((settled_text(s, r, cfg, lang)?, None));
    }
    let store = s.store()?;
    let (text, markup) = approval_messages::queued_as(&store, outbox_id)?.unwrap_or_default();
    let mut gone = HashSet::new();
    let mut lines = Vec::new();
    for id in approval_messages::decided_in(&store, outbox_id)? {
        let Some(d) = approval_flow::get(&store, id)? else { continue };
        gone.extend(callbacks::request_tokens(&store, chat, id)?);
        let ran = ran_of(s, &d)?;
        lines.push(format!("#{} {}: {}", d.id, d.job_id, final_line(&d, cfg, lang, ran.as_ref()).replace('\n', " · ")));
    }
    let keyboard = markup.as_deref().and_then(|m| keyboard_without(m, &|t| gone.contains(t))).and_then(|m| serde_json::from_str(&m).ok());
    let with_lines = format!("{text}\n\n{}", lines.join("\n"));
    // Telegram refuses an edit past its length limit for good: then only the buttons go.
    let fits = with_lines.encode_utf16().count() <= super::text::TELEGRAM_LIMIT;
    Ok((if fits { with_lines } else { text }, keyboard))
}

/// Edits one delivered copy of a decided request (see [`settled_view`]) and marks it settled; a
/// permanent error (message gone) settles it too. A network error or 429 leaves it for later and
/// returns when to try again (unix ms).
async fn settle_message(bot: &Bot, s: &Services, r: &ApprovalRow, cfg: &Config, outbox_id: i64, shared: bool) -> Option<i64> {
    let Ok(Some((chat, msg))) = s.store().and_then(|st| outbox::delivered(&st, outbox_id)) else { return None };
    let (body, keyboard) = match settled_view(s, r, cfg, outbox_id, chat, shared) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "could not read a request message to settle");
            return None;
        }
    };
    match super::direct::call(bot, &super::direct::edit_html(chat, msg, super::text::to_html(&body), keyboard)).await {
        Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => {}
        Err(e) => {
            tracing::warn!(chat_id = chat, error = %e, "could not edit the request message");
            let failures = s.store().and_then(|mut st| approval_messages::count_failed_edit(&mut st, r.id, outbox_id)).unwrap_or(u32::MAX);
            match edit_next(&e, failures) {
                EditNext::Again(wait) => return Some(outbox::now_ms() + wait.as_millis() as i64),
                EditNext::GiveUp => tracing::error!(chat_id = chat, approval = r.id, failures, error = %e, "gave up editing the request message"),
                EditNext::Refused => {}
            }
        }
    }
    let marked = s.store().and_then(|mut st| {
        if shared {
            approval_messages::mark_settled_one(&mut st, r.id, outbox_id, r.state.as_str())
        } else {
            approval_messages::mark_settled(&mut st, outbox_id, r.state.as_str())
        }
    });
    if let Err(e) = marked {
        tracing::warn!(error = %e, "could not mark a request message settled");
    }
    None
}

/// Settles every delivered request message whose request is no longer pending (decided in the
/// chat or on the host, expired, void, interrupted). On a 429 or network error the round stops
/// and waits as Telegram asked (at most a minute), so alerts in the outbox are not crowded out.
pub async fn settle_decided(bot: &Bot, s: &Services) -> Result<usize> {
    let rows = approval_messages::unsettled_decided(&s.store()?)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let Some(cfg) = s.config() else { return Ok(0) };
    for (approval, outbox_id, shared) in &rows {
        let Some(r) = approval_flow::get(&s.store()?, *approval)? else { continue };
        if let Some(at) = settle_message(bot, s, &r, &cfg, *outbox_id, *shared).await {
            let wait = (at - outbox::now_ms()).clamp(0, 60_000) as u64;
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            break;
        }
    }
    Ok(rows.len())
}
