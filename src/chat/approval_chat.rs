//! Write-job approvals in the chat: requests with Approve/Reject, the presser checked (not the
//! chat), the request messages edited after the decision, /pending.

use super::{outbox_queue, Services};
use crate::config::{Config, Job};
use crate::engine::approval_flow::{self, ApprovalRow, Decided};
use crate::i18n::Lang;
use crate::policy::approval::{approvers, decide as check, Decider, Refusal, State};
use crate::policy::press::Press;
use crate::store::approval_rows::refused_before as approval_refused_before;
use crate::store::callbacks::{issue, Callback};
use crate::store::{approval_messages, Store};
use crate::t;
use anyhow::Result;
use std::sync::Arc;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

/// The approvers for this config and allowlist.
pub fn approver_ids(s: &Services, cfg: &Config) -> Vec<i64> {
    approvers(&cfg.telegram.approver_user_ids, &s.allowlist())
}

/// Approve/Reject for request `id` in `chat`: the tokens issued to this chat before are reused,
/// so showing a request again and again creates no new rows.
fn keyboard(s: &Services, chat: i64, id: i64, lang: Lang) -> Result<InlineKeyboardMarkup> {
    let row = buttons(&mut s.store()?, chat, id, [t!(lang, "btn-approve"), t!(lang, "btn-reject")])?;
    Ok(InlineKeyboardMarkup::new(vec![row]))
}

/// The Approve and Reject buttons (with these `labels`) of request `id` in `chat`, reusing the
/// tokens issued to the chat before. A press is checked against the pressing user.
pub(super) fn buttons(store: &mut Store, chat: i64, id: i64, labels: [String; 2]) -> Result<Vec<InlineKeyboardButton>> {
    let arg = id.to_string();
    let mut token = |action: Press| -> Result<String> {
        match crate::store::callbacks::issued(store, chat, action, &arg)? {
            Some(t) => Ok(t),
            None => issue(store, chat, action, None, Some(&arg)),
        }
    };
    let (approve, reject) = (token(Press::Approve)?, token(Press::Reject)?);
    let [a, r] = labels;
    Ok(vec![InlineKeyboardButton::callback(a, approve), InlineKeyboardButton::callback(r, reject)])
}

/// How a request's message is queued.
#[derive(Clone, Copy, PartialEq)]
enum Shown {
    /// The answer to the asking chat's command (ahead of bulk).
    Reply,
    /// The asking chat asked for a request that was already open: shown again, said so.
    Again,
    /// A copy for an approver's chat (bulk: behind that chat's alerts and replies).
    Bulk,
}

/// Sends a request's message with its buttons to `chat`, remembering it for the later edit.
fn send_request(s: &Services, chat: i64, r: &ApprovalRow, cfg: &Config, shown: Shown) -> Result<()> {
    let lang = s.lang(chat);
    // A request decided before any chat saw it (approved on the host at once) is shown as it
    // ended, without buttons.
    let (mut body, k) = match r.state {
        State::Pending => (request_text(r, cfg, lang), Some(keyboard(s, chat, r.id, lang)?)),
        State::Running | State::Succeeded | State::Failed | State::Rejected | State::Expired | State::Void | State::Interrupted => {
            (super::settle::settled_text(s, r, cfg, lang)?, None)
        }
    };
    let mut store = s.store()?;
    if shown == Shown::Again {
        body = format!("{}\n{body}", t!(lang, "approval-already-open"));
    }
    let row = match shown {
        Shown::Bulk => outbox_queue::enqueue_bulk(&mut store, chat, &body, false, k.as_ref())?,
        Shown::Reply | Shown::Again => outbox_queue::enqueue(&mut store, chat, &body, false, k.as_ref())?,
    };
    approval_messages::record(&mut store, r.id, row)?;
    if r.state != State::Pending {
        // It shows that state already: no edit to the same text (another state edits it again).
        approval_messages::mark_settled(&mut store, row, r.state.as_str())?;
    }
    s.wake.notify_one();
    Ok(())
}

/// `/run <write job>`: a request to the asking chat and the approvers' private chats; when one
/// is already open for the job, only the asking chat sees it again.
/// `who` is the person as Telegram shows them (see [`super::views::person`]).
pub async fn request(s: &Arc<Services>, chat: i64, actor: &super::told::Actor, job: &Job, cfg: &Config) -> Result<()> {
    let (user, who) = (actor.user.unwrap_or(0), actor.who.as_str());
    if !job.enabled {
        let lang = s.lang(chat);
        return super::respond::reply(s, chat, &t!(lang, "reply-write-disabled", id = &job.id), None);
    }
    let asked = approval_flow::create(&mut s.store()?, job, approval_flow::Requester::User(user), who, chrono::Utc::now().timestamp())?;
    let r = asked.row;
    if !job.approval.required {
        let (_, d) = approval_flow::decide(
            &s.paths,
            cfg,
            r.id,
            Decider::Host(crate::engine::approval_flow::host_uid()),
            &format!("{who} (approval not required)"),
            true,
            &[],
        )
        .await?;
        // Nothing to approve: it ran like a check run by hand, and the other chats hear of it so.
        if let Decided::Ran { outcome, .. } = &d {
            let others: Vec<i64> = s.config.current().report_chats.iter().copied().filter(|c| *c != chat).collect();
            super::told::tell(s, &others, actor, |lang, who, at, place| {
                t!(lang, "did-run", id = &r.job_id, who = who, at = at, place = place, summary = crate::render::outcome_summary(outcome, lang))
            })?;
        }
        return report_to(s, chat, &r, &d, false, who);
    }
    if !asked.new {
        if approval_messages::copy_waiting(&s.store()?, r.id, chat)? {
            return Ok(());
        }
        return send_request(s, chat, &r, cfg, Shown::Again);
    }
    send_request(s, chat, &r, cfg, Shown::Reply)?;
    for c in approver_ids(s, cfg).into_iter().filter(|a| s.allowed(*a) && *a != chat) {
        send_request(s, c, &r, cfg, Shown::Bulk)?;
    }
    Ok(())
}

/// Host requests (`ops-monitor run <write job>`: the CLI cannot reach Telegram itself) that no
/// chat has seen yet: sent to the approvers' chats once, recorded as "announced" in the trail.
pub fn announce_host_requests(s: &Services) -> Result<usize> {
    let mut store = s.store()?;
    let ids = approval_messages::unannounced_host_requests(&store, chrono::Utc::now().timestamp())?;
    if ids.is_empty() {
        return Ok(0);
    }
    let Some(cfg) = s.config() else { return Ok(0) };
    let chats: Vec<i64> = approver_ids(s, &cfg).into_iter().filter(|a| s.allowed(*a)).collect();
    for id in &ids {
        let Some(r) = approval_flow::get(&store, *id)? else { continue };
        for c in &chats {
            send_request(s, *c, &r, &cfg, Shown::Bulk)?;
        }
        approval_flow::audit(&mut store, Some(r.id), &r.job_id, "announced", None, &format!("to chats {chats:?}"))?;
    }
    Ok(ids.len())
}

/// `/pending`: open requests with fresh buttons.
pub fn pending(s: &Services, chat: i64, cfg: &Config) -> Result<usize> {
    let rows = approval_flow::list(&s.store()?, Some(State::Pending))?;
    for r in &rows {
        send_request(s, chat, r, cfg, Shown::Reply)?;
    }
    Ok(rows.len())
}

/// An Approve/Reject press: decided first (the decision and the run continue in a task), then
/// answered, best effort (with the refusal when refused): a press Telegram no longer lets us
/// answer still approves.
pub async fn on_press(bot: &Bot, q: &CallbackQuery, s: &Arc<Services>, cb: &Callback, cfg: &Config) -> Result<()> {
    let approve = cb.action == Press::Approve;
    let user = q.from.id.0 as i64;
    let row = match cb.arg.as_deref().and_then(|a| a.parse::<i64>().ok()) {
        Some(id) => approval_flow::get(&s.store()?, id)?,
        None => None,
    };
    let Some(row) = row else {
        return super::respond::answer(bot, q, &t!(s.lang(cb.chat_id), "answer-unknown-request")).await;
    };
    let id = row.id;
    let approvers = approver_ids(s, cfg);
    let now = chrono::Utc::now().timestamp();
    let pre = check(&approval_flow::request_of(&row), cfg.job(&row.job_id), Decider::User(user), &approvers, approve, now);
    let lang = s.lang(cb.chat_id);
    let answer = match &pre {
        Err(r) => t!(lang, "answer-approve-refused", reason = crate::render::approval_text::refusal(r, lang)),
        Ok(_) if approve => t!(lang, "answer-approved", id = &row.job_id),
        Ok(_) => t!(lang, "answer-rejected"),
    };
    let actor = super::views::person_with_id(&q.from);
    let who = super::views::person(&q.from);
    // A non-approver pressing again and again is told so each time, but the chat is told once:
    // each report would otherwise wait in the chat's queue ahead of its alerts.
    if matches!(pre, Err(Refusal::NotApprover)) && approval_refused_before(&s.store()?, id, &actor)? {
        return super::respond::answer(bot, q, &answer).await;
    }
    let (s2, chat) = (s.clone(), cb.chat_id);
    let cfg = cfg.clone();
    let presser = q.message.as_ref().map(|m| super::told::Actor::of(Some(&q.from), m.chat()));
    tokio::spawn(async move {
        match approval_flow::decide(&s2.paths, &cfg, id, Decider::User(user), &actor, approve, &approvers).await {
            Ok((row, d)) => {
                if let Err(e) = report(&s2, chat, &row, &d, &who) {
                    tracing::error!(error = %e, "could not queue the decision result");
                }
                if let Err(e) = presser.map_or(Ok(()), |p| tell_unaware(&s2, chat, &row, &d, &p)) {
                    tracing::error!(error = %e, "could not tell the other chats of the decision");
                }
                // Every other chat that was shown the request (the group that asked for it, the
                // other approvers) learns what the run came to from its copy, edited once the run
                // ended (chat/settle.rs): the copy is the view of the request.
            }
            Err(e) => tracing::error!(error = %format!("{e:#}"), approval = id, "decision failed"),
        }
    });
    super::respond::answer(bot, q, &answer).await
}

/// Tells the report chats that were never shown request `r` (the others have a copy, edited to
/// say who decided) who approved or rejected it, from where, and what the run came to: one
/// silent line, like a start or stop from another chat.
fn tell_unaware(s: &Services, chat: i64, r: &ApprovalRow, d: &Decided, presser: &super::told::Actor) -> Result<()> {
    let shown = approval_messages::chats_shown(&s.store()?, r.id)?;
    let unaware: Vec<i64> = s.config.current().report_chats.iter().copied().filter(|c| *c != chat && !shown.contains(c)).collect();
    let (id, job) = (r.id, &r.job_id);
    match d {
        Decided::Ran { outcome, .. } => super::told::tell(s, &unaware, presser, |lang, who, at, place| {
            t!(lang, "did-approve", id = id, job = job, who = who, at = at, place = place, summary = crate::render::outcome_summary(outcome, lang))
        }),
        Decided::Rejected => {
            super::told::tell(s, &unaware, presser, |lang, who, at, place| t!(lang, "did-reject", id = id, job = job, who = who, at = at, place = place))
        }
        Decided::Refused(_) => Ok(()),
    }
}

/// Queues the outcome of request `r` for `chat`, naming the host ("Request #4 · nas"): another
/// host's request #4 is a different one. A refusal is a silent line naming `who` pressed (the
/// presser was told in the press's answer; the chat has nothing to act on).
fn report(s: &Services, chat: i64, r: &ApprovalRow, d: &Decided, who: &str) -> Result<()> {
    report_to(s, chat, r, d, matches!(d, Decided::Refused(_)), who)
}

/// [`report`] to `chat`, without sound when `silent`; `who` pressed.
fn report_to(s: &Services, chat: i64, r: &ApprovalRow, d: &Decided, silent: bool, who: &str) -> Result<()> {
    let lang = s.lang(chat);
    let host = crate::config::host::of(s.config().as_deref());
    let t = match d {
        Decided::Refused(why) => {
            t!(lang, "approval-result-refused", id = r.id, host = &host, job = &r.job_id, who = who, reason = crate::render::approval_text::refusal(why, lang))
        }
        Decided::Rejected => t!(lang, "approval-result-rejected", id = r.id, host = &host, job = &r.job_id),
        Decided::Ran { outcome, queued } => crate::render::approval_text::ran(r, &host, outcome, queued, lang),
    };
    outbox_queue::enqueue(&mut s.store()?, chat, &t, silent, None)?;
    s.wake.notify_one();
    Ok(())
}

/// The request's text as approvers see it.
fn request_text(r: &ApprovalRow, cfg: &Config, lang: Lang) -> String {
    crate::render::approval_text::request(r, cfg.job(&r.job_id), &cfg.host, cfg.timezone, lang)
}
