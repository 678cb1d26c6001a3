//! Button presses (callback queries): every one is answered, also when refused or stale.

use super::handlers::{act, set_lang};
use super::{views, Services};
use crate::config::Config;
use crate::i18n::Lang;
use crate::shell::jobs::Action;
use crate::store::callbacks::{self, Redeemed};
use crate::t;
use std::sync::Arc;
use teloxide::payloads::EditMessageTextSetters;
use teloxide::prelude::*;
use teloxide::types::ParseMode;
use teloxide::{ApiError, RequestError};

type HandlerResult = anyhow::Result<()>;

/// Entry point for callback queries: allowlist, token redemption, then the action.
pub async fn on_callback(bot: Bot, q: CallbackQuery, s: Arc<Services>) -> HandlerResult {
    let chat = q.regular_message().map(|m| m.chat.id.0);
    let user = q.from.id.0 as i64;
    let verdict = match chat {
        Some(c) if s.allowed(c) => callbacks::redeem(&mut s.store()?, q.data.as_deref().unwrap_or(""), c, user)?,
        _ => {
            tracing::warn!(chat_id = ?chat, user_id = user, "button press from outside the allowlist refused");
            callbacks::record_event(&mut s.store()?, "refused", chat.unwrap_or(0), Some(user), None, "callback")?;
            let lang = q.from.language_code.as_deref().and_then(Lang::parse).unwrap_or_default();
            return answer(&bot, &q, &t!(lang, "answer-not-allowed")).await;
        }
    };
    let lang = s.lang(chat.unwrap_or(0));
    let cb = match verdict {
        Redeemed::Ok(cb) => cb,
        Redeemed::Used => return answer(&bot, &q, &t!(lang, "answer-used")).await,
        Redeemed::Unknown => return answer(&bot, &q, &t!(lang, "answer-unknown")).await,
    };
    let Some(cfg) = s.config() else { return answer(&bot, &q, &t!(lang, "answer-config-invalid")).await };
    let job = cb.job_id.as_deref().and_then(|j| cfg.job(j)).cloned();
    match (cb.action.as_str(), job) {
        ("approve" | "reject", _) => super::approve::on_press(&bot, &q, &s, &cb, &cfg).await,
        ("lang", _) => {
            let new = cb.arg.as_deref().and_then(Lang::parse).unwrap_or_default();
            set_lang(&s, cb.chat_id, new, Some(user))?;
            answer(&bot, &q, new.native_name()).await
        }
        ("refresh", _) => {
            answer(&bot, &q, &t!(lang, "answer-refreshed")).await?;
            refresh(&bot, &q, &s, &cfg, lang).await
        }
        ("ack" | "snooze", Some(job)) => {
            let t = ack_or_snooze(&s, &cb, user, &job.id, lang)?;
            answer(&bot, &q, &t).await
        }
        (a @ ("start" | "stop" | "run"), Some(job)) => {
            let action = match a {
                "start" => Action::Start,
                "stop" => Action::Stop,
                _ => Action::Run,
            };
            act(&s, cb.chat_id, &cfg, action, &job.id)?;
            answer(&bot, &q, &t!(lang, "answer-acting", action = views::action_word(a, lang), id = &job.id)).await
        }
        _ => answer(&bot, &q, &t!(lang, "answer-gone")).await,
    }
}

/// Answers a press, best effort: Telegram refuses answers to presses that waited too long
/// (queued while the daemon was down), and what the press asked for must happen all the same.
pub(super) async fn answer(bot: &Bot, q: &CallbackQuery, text: &str) -> HandlerResult {
    if let Err(e) = bot.answer_callback_query(q.id.clone()).text(text).await {
        tracing::warn!(error = %e, "could not answer a button press (it was handled all the same)");
    }
    Ok(())
}

fn ack_or_snooze(s: &Services, cb: &callbacks::Callback, user: i64, job: &str, lang: Lang) -> anyhow::Result<String> {
    let mut store = s.store()?;
    let snooze = cb.action == "snooze";
    let until = chrono::Utc::now().timestamp() + 3600;
    store.update_job_state(job, |st| {
        if snooze {
            st.snoozed_until = Some(until);
        } else {
            st.acked_anomaly_key = cb.arg.clone();
        }
    })?;
    callbacks::record_event(&mut store, &cb.action, cb.chat_id, Some(user), Some(job), cb.arg.as_deref().unwrap_or(""))?;
    Ok(if snooze { t!(lang, "answer-snoozed", id = job) } else { t!(lang, "answer-acked", id = job) })
}

async fn refresh(bot: &Bot, q: &CallbackQuery, s: &Arc<Services>, cfg: &Config, lang: Lang) -> HandlerResult {
    let Some(msg) = q.regular_message() else { return Ok(()) };
    let views = crate::shell::overview::observe_all(&s.paths, cfg).await?;
    let k = views::overview_keyboard(&mut s.store()?, msg.chat.id.0, &views, lang)?;
    let text = views::overview_text(&s.store()?, &views, cfg.timezone, lang);
    if super::text::split(&text, super::text::CHUNK_LIMIT).len() > 1 {
        // Too long for one message (many jobs): a fresh overview in several parts instead of an edit.
        super::outbox::enqueue(&mut s.store()?, msg.chat.id.0, &text, false, Some(&k))?;
        s.wake.notify_one();
        return Ok(());
    }
    let html = super::text::to_html(&text);
    match bot.edit_message_text(msg.chat.id, msg.id, html).parse_mode(ParseMode::Html).reply_markup(k).await {
        Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
