//! The bot's update handling: `schema()` only routes; auth is a filter node; services come via deps.

use super::callbacks::{self, Redeemed};
use super::outbox;
use super::views;
use super::Services;
use crate::config::Config;
use crate::shell::jobs::{self, Action};
use std::sync::Arc;
use teloxide::dispatching::UpdateHandler;
use teloxide::payloads::EditMessageTextSetters;
use teloxide::prelude::*;
use teloxide::types::ParseMode;
use teloxide::utils::command::BotCommands;
use teloxide::{ApiError, RequestError};

type HandlerResult = anyhow::Result<()>;

/// The commands shown in the phone's menu.
#[derive(BotCommands, Clone, Debug, PartialEq)]
#[command(rename_rule = "lowercase", description = "Commands:")]
pub enum Cmd {
    /// Overview of all jobs, or one job.
    #[command(description = "overview of the jobs (or /status <job>)")]
    Status(String),
    /// Start a long job (picker without argument).
    #[command(description = "start a long job")]
    Start(String),
    /// Stop a long job.
    #[command(description = "stop a long job")]
    Stop(String),
    /// Run a check now.
    #[command(description = "run a check now")]
    Run(String),
    /// Output tail of the last run.
    #[command(description = "output of a job's last run")]
    Logs(String),
    /// Open approval requests.
    #[command(description = "open approval requests of write jobs")]
    Pending,
    /// Help.
    #[command(description = "this help")]
    Help,
}

/// The handler tree: allowed messages → commands (else help); callbacks; everything else is refused.
pub fn schema() -> UpdateHandler<anyhow::Error> {
    let messages = Update::filter_message()
        .branch(
            dptree::filter(|m: Message, s: Arc<Services>| s.allowed(m.chat.id.0))
                .branch(dptree::entry().filter_command::<Cmd>().endpoint(on_command))
                .endpoint(on_other),
        )
        .endpoint(on_refused_message);
    dptree::entry().branch(messages).branch(Update::filter_callback_query().endpoint(on_callback))
}

fn reply(s: &Services, chat: i64, text: &str, markup: Option<&teloxide::types::InlineKeyboardMarkup>) -> anyhow::Result<()> {
    outbox::enqueue(&mut s.store()?, chat, text, false, markup)?;
    s.wake.notify_one();
    Ok(())
}

async fn on_refused_message(m: Message, s: Arc<Services>) -> HandlerResult {
    let user = m.from.as_ref().map(|u| u.id.0 as i64);
    tracing::warn!(chat_id = m.chat.id.0, user_id = ?user, "update from a chat outside the allowlist ignored");
    callbacks::record_event(&mut s.store()?, "refused", m.chat.id.0, user, None, "message")?;
    Ok(())
}

async fn on_other(m: Message, s: Arc<Services>) -> HandlerResult {
    if m.text().is_some_and(|t| t.starts_with('/')) {
        reply(&s, m.chat.id.0, &format!("Unknown command.\n\n{}", Cmd::descriptions()), None)?;
    }
    Ok(())
}

async fn on_command(m: Message, cmd: Cmd, s: Arc<Services>) -> HandlerResult {
    let chat = m.chat.id.0;
    let Some(cfg) = s.config() else {
        return reply(&s, chat, "The config is invalid and no good config is known; see the host.", None);
    };
    match cmd {
        Cmd::Help => reply(&s, chat, &Cmd::descriptions().to_string(), None),
        Cmd::Status(arg) => status(&s, chat, &cfg, arg.trim()).await,
        Cmd::Logs(arg) => logs(&s, chat, &cfg, arg.trim()),
        Cmd::Start(arg) if arg.trim().is_empty() => {
            let k = views::picker(&mut s.store()?, chat, &cfg, "start")?;
            reply(&s, chat, "Hello! I watch this host's jobs. Pick a job to start, or send /status or /help.", k.as_ref())
        }
        Cmd::Start(arg) => act(&s, chat, &cfg, Action::Start, arg.trim()),
        Cmd::Stop(arg) => act(&s, chat, &cfg, Action::Stop, arg.trim()),
        Cmd::Run(arg) => match cfg.job(arg.trim()).filter(|j| j.kind == crate::config::Kind::OneShotWrite) {
            Some(job) => super::approve::request(&s, chat, m.from.as_ref().map_or(0, |u| u.id.0 as i64), job, &cfg).await,
            None => act(&s, chat, &cfg, Action::Run, arg.trim()),
        },
        Cmd::Pending => {
            if super::approve::pending(&s, chat, &cfg)? == 0 {
                reply(&s, chat, "No open approval requests.", None)?;
            }
            Ok(())
        }
    }
}

async fn status(s: &Arc<Services>, chat: i64, cfg: &Config, arg: &str) -> HandlerResult {
    let mut views = crate::shell::overview::observe_all(&s.paths, cfg).await?;
    if !arg.is_empty() {
        views.retain(|v| v.job.id == arg);
        if views.is_empty() {
            return reply(s, chat, &unknown_job(cfg, arg), None);
        }
    }
    let k = views::overview_keyboard(&mut s.store()?, chat, &views)?;
    reply(s, chat, &views::overview_text(&views, cfg.timezone), Some(&k))
}

fn unknown_job(cfg: &Config, id: &str) -> String {
    format!("Unknown job \"{}\". Known: {}", id.chars().take(64).collect::<String>(), cfg.job_ids().join(", "))
}

fn logs(s: &Services, chat: i64, cfg: &Config, arg: &str) -> HandlerResult {
    let Some(job) = cfg.job(arg) else {
        return reply(s, chat, &unknown_job(cfg, arg), None);
    };
    let text = match s.store()?.runs(&job.id, 1)?.into_iter().next() {
        None => format!("{} has no recorded run.", job.id),
        Some(r) => {
            let out = format!("{}\n{}", r.stdout_tail.unwrap_or_default().trim(), r.stderr_tail.unwrap_or_default().trim());
            format!("last {} of {}: {}\n{}", r.action, job.id, r.summary.unwrap_or_else(|| "in flight".into()), crate::core::check::tail_chars(&out, 3000))
        }
    };
    reply(s, chat, &text, None)
}

fn act(s: &Arc<Services>, chat: i64, cfg: &Config, action: Action, arg: &str) -> HandlerResult {
    if arg.is_empty() {
        let k = views::picker(&mut s.store()?, chat, cfg, action.as_str())?;
        let text = if k.is_some() { format!("Pick a job to {}:", action.as_str()) } else { format!("No job can be {}ed from here.", action.as_str()) };
        return reply(s, chat, &text, k.as_ref());
    }
    let Some(job) = cfg.job(arg).cloned() else {
        return reply(s, chat, &unknown_job(cfg, arg), None);
    };
    if let Err(e) = jobs::check_explicit(&job, action, false) {
        return reply(s, chat, &format!("Refused: {e}"), None);
    }
    let s = s.clone();
    tokio::spawn(async move {
        let origin = format!("chat:{chat}");
        let text = if action == Action::Stop {
            jobs::stop(&job, &s.paths, &origin).await.unwrap_or_else(|e| format!("stop failed: {e}"))
        } else {
            match jobs::execute(&job, action, &s.paths, &origin).await {
                Ok(o) => views::outcome_text(action.as_str(), &job, &o),
                Err(e) => format!("{} {} failed: {e}", action.as_str(), job.id),
            }
        };
        if let Err(e) = reply(&s, chat, &text, None) {
            tracing::error!(error = %e, "could not queue the action result");
        }
    });
    Ok(())
}

async fn on_callback(bot: Bot, q: CallbackQuery, s: Arc<Services>) -> HandlerResult {
    let chat = q.regular_message().map(|m| m.chat.id.0);
    let user = q.from.id.0 as i64;
    let verdict = match chat {
        Some(c) if s.allowed(c) => callbacks::redeem(&mut s.store()?, q.data.as_deref().unwrap_or(""), c, user)?,
        _ => {
            tracing::warn!(chat_id = ?chat, user_id = user, "button press from outside the allowlist refused");
            callbacks::record_event(&mut s.store()?, "refused", chat.unwrap_or(0), Some(user), None, "callback")?;
            bot.answer_callback_query(q.id.clone()).text("Not allowed.").await?;
            return Ok(());
        }
    };
    let cb = match verdict {
        Redeemed::Ok(cb) => cb,
        Redeemed::Used => return answer(&bot, &q, "This button was already used. Send /status for fresh buttons.").await,
        Redeemed::Unknown => return answer(&bot, &q, "Unknown or expired button.").await,
    };
    let Some(cfg) = s.config() else {
        return answer(&bot, &q, "The config is invalid.").await;
    };
    let job = cb.job_id.as_deref().and_then(|j| cfg.job(j)).cloned();
    match (cb.action.as_str(), job) {
        ("approve" | "reject", _) => super::approve::on_press(&bot, &q, &s, &cb, &cfg).await,
        ("refresh", _) => {
            answer(&bot, &q, "Refreshed.").await?;
            refresh(&bot, &q, &s, &cfg).await
        }
        ("ack" | "snooze", Some(job)) => {
            let t = ack_or_snooze(&s, &cb, user, &job.id)?;
            answer(&bot, &q, &t).await
        }
        (a @ ("start" | "stop" | "run"), Some(job)) => {
            let action = match a {
                "start" => Action::Start,
                "stop" => Action::Stop,
                _ => Action::Run,
            };
            answer(&bot, &q, &format!("{a} {}…", job.id)).await?;
            act(&s, cb.chat_id, &cfg, action, &job.id)
        }
        _ => answer(&bot, &q, "This job is no longer in the config.").await,
    }
}

async fn answer(bot: &Bot, q: &CallbackQuery, text: &str) -> HandlerResult {
    bot.answer_callback_query(q.id.clone()).text(text).await?;
    Ok(())
}

fn ack_or_snooze(s: &Services, cb: &callbacks::Callback, user: i64, job: &str) -> anyhow::Result<String> {
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
    Ok(if snooze { format!("{job}: snoozed for 1 h (new anomalies still come).") } else { format!("{job}: acknowledged; not repeated until it changes.") })
}

async fn refresh(bot: &Bot, q: &CallbackQuery, s: &Arc<Services>, cfg: &Config) -> HandlerResult {
    let Some(msg) = q.regular_message() else {
        return Ok(());
    };
    let views = crate::shell::overview::observe_all(&s.paths, cfg).await?;
    let k = views::overview_keyboard(&mut s.store()?, msg.chat.id.0, &views)?;
    let html = super::text::to_html(&views::overview_text(&views, cfg.timezone));
    match bot.edit_message_text(msg.chat.id, msg.id, html).parse_mode(ParseMode::Html).reply_markup(k).await {
        Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
