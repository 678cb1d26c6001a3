//! The bot's update handling: `schema()` only routes; auth is a filter node; services come via deps.

use super::commands::{act, choose_lang, logs, status};
use super::respond::{reply, reply_headed};
use super::views;
use super::Services;

use crate::i18n::Lang;
use crate::policy::address;
use crate::shell::jobs::Action;
use crate::store::callbacks;
use crate::t;
use std::sync::Arc;
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::Me;
use teloxide::utils::command::BotCommands;

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
    /// Progress chart of a long job (PNG).
    #[command(description = "chart of a long job's progress (PNG)")]
    Chart(String),
    /// Open approval requests.
    #[command(description = "open approval requests of write jobs")]
    Pending,
    /// Language of this chat (buttons without argument).
    #[command(description = "choose the language of this chat")]
    Lang(String),
    /// Help.
    #[command(description = "this help")]
    Help,
}

/// The handler tree: allowed messages → commands (else the unknown-command help, when it is
/// ours to give); callbacks; everything else is refused.
pub fn schema() -> UpdateHandler<anyhow::Error> {
    let messages = Update::filter_message()
        .branch(
            dptree::filter(|m: Message, s: Arc<Services>| s.allowed(m.chat.id.0))
                .inspect(|m: Message, s: Arc<Services>| {
                    s.heard_from(m.chat.id.0);
                    s.saw(m.chat.id.0, m.id.0);
                })
                .branch(dptree::entry().filter_command::<Cmd>().endpoint(|bot: Bot, m: Message, cmd: Cmd, s: Arc<Services>| async move {
                    let chat = m.chat.id.0;
                    let done = on_command(bot, m, cmd, s.clone()).await;
                    s.release_held(chat);
                    done
                }))
                .endpoint(|m: Message, me: Me, s: Arc<Services>| async move {
                    let chat = m.chat.id.0;
                    let done = on_other(m, me, s.clone()).await;
                    s.release_held(chat);
                    done
                }),
        )
        .endpoint(on_refused_message);
    dptree::entry().branch(messages).branch(super::presses::schema())
}

async fn on_refused_message(m: Message, s: Arc<Services>) -> HandlerResult {
    let user = m.from.as_ref().map(|u| u.id.0 as i64);
    tracing::warn!(chat_id = m.chat.id.0, user_id = ?user, "update from a chat outside the allowlist ignored");
    callbacks::record_event(&mut s.store()?, "refused", m.chat.id.0, user, None, "message")?;
    Ok(())
}

/// The localized command list for /help, headed with the host it controls.
pub fn help_text(host: &str, lang: Lang) -> String {
    let lines: Vec<String> = Cmd::bot_commands().iter().map(|c| format!("{} — {}", c.command, command_description(&c.command, lang))).collect();
    format!("{}\n{}", t!(lang, "help-header", host = host), lines.join("\n"))
}

/// A command's description in the phone's menu: with the host first, so the menu of a group
/// shared by a fleet's bots tells which host each command acts on.
pub fn menu_description(command: &str, host: &str, lang: Lang) -> String {
    t!(lang, "cmd-menu", host = host, text = command_description(command, lang))
}

/// A command's menu description in `lang` (also used for setMyCommands per language).
pub fn command_description(command: &str, lang: Lang) -> String {
    match command.trim_start_matches('/') {
        "status" => t!(lang, "cmd-status"),
        "start" => t!(lang, "cmd-start"),
        "stop" => t!(lang, "cmd-stop"),
        "run" => t!(lang, "cmd-run"),
        "logs" => t!(lang, "cmd-logs"),
        "chart" => t!(lang, "cmd-chart"),
        "pending" => t!(lang, "cmd-pending"),
        "lang" => t!(lang, "cmd-lang"),
        _ => t!(lang, "cmd-help"),
    }
}

/// Remembers the first user's Telegram language as the chat's initial guess.
fn first_contact(s: &Services, m: &Message) -> anyhow::Result<()> {
    let user = m.from.as_ref();
    crate::store::prefs::guess_chat_lang(&mut s.store()?, m.chat.id.0, user.and_then(|u| u.language_code.as_deref()), user.map(|u| u.id.0 as i64))
}

/// A message that is no known command of this bot. An unknown command gets the help only when
/// it is ours to answer (a private chat, or addressed to this bot): a command for another bot
/// (`/status@nas_ops_bot`) or a typo in a group shared by several hosts' bots gets no reply.
async fn on_other(m: Message, me: Me, s: Arc<Services>) -> HandlerResult {
    let Some(to) = m.text().and_then(|t| address::addressee(t, me.username())) else { return Ok(()) };
    if !address::answers_unknown(to, m.chat.is_private()) {
        tracing::debug!(chat_id = m.chat.id.0, addressee = ?to, "command not for this bot ignored");
        return Ok(());
    }
    first_contact(&s, &m)?;
    let lang = s.lang(m.chat.id.0);
    let host = crate::config::host::of(s.config().as_deref());
    reply_headed(&s, m.chat.id.0, &format!("{}\n\n{}", t!(lang, "reply-unknown-command"), help_text(&host, lang)), None)
}

async fn on_command(bot: Bot, m: Message, cmd: Cmd, s: Arc<Services>) -> HandlerResult {
    let chat = m.chat.id.0;
    first_contact(&s, &m)?;
    let lang = s.lang(chat);
    let Some(cfg) = s.config() else { return reply(&s, chat, &t!(lang, "reply-config-invalid"), None) };
    let user = m.from.as_ref().map(|u| u.id.0 as i64);
    match cmd {
        Cmd::Help => reply_headed(&s, chat, &help_text(&cfg.host, lang), None),
        Cmd::Lang(arg) => choose_lang(&s, chat, user, arg.trim()),
        Cmd::Status(arg) => status(&s, chat, &cfg, arg.trim()).await,
        Cmd::Logs(arg) => logs(&s, chat, &cfg, arg.trim()).await,
        Cmd::Chart(arg) => super::chart::chart(bot, &s, chat, &cfg, arg.trim()),
        Cmd::Start(arg) if arg.trim().is_empty() => {
            let k = views::picker(&mut s.store()?, chat, &cfg, "start", lang)?;
            reply_headed(&s, chat, &t!(lang, "reply-greeting", host = &cfg.host), k.as_ref())
        }
        Cmd::Start(arg) => act(&s, chat, &cfg, Action::Start, arg.trim()),
        Cmd::Stop(arg) => act(&s, chat, &cfg, Action::Stop, arg.trim()),
        Cmd::Run(arg) => match cfg.job(arg.trim()).filter(|j| j.kind == crate::config::Kind::OneShotWrite) {
            Some(job) => {
                let who = m.from.as_ref().map_or_else(|| format!("chat {chat}"), views::person_with_id);
                super::approve::request(&s, chat, user.unwrap_or(0), &who, job, &cfg).await
            }
            None => act(&s, chat, &cfg, Action::Run, arg.trim()),
        },
        Cmd::Pending => {
            if super::approve::pending(&s, chat, &cfg)? == 0 {
                reply(&s, chat, &t!(lang, "reply-no-pending"), None)?;
            }
            Ok(())
        }
    }
}
