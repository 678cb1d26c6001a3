//! The bot's update handling: `schema()` only routes; auth is a filter node; services come via deps.

use super::command_acts::{self, act, choose_lang};
use super::respond::{reply, reply_headed};
use super::views;
use super::Services;

use crate::engine::jobs::Action;
use crate::i18n::Lang;
use crate::policy::address;
use crate::policy::press::JobPress;
use crate::store::callbacks;
use crate::t;
use dptree::case;
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

/// The handler tree: allowed messages → one route per command (else the unknown-command help,
/// when it is ours to give); callbacks; everything else is refused. Side concerns are nodes of
/// their own: the allowlist a filter, first contact an inspection, the held backlog a guard
/// released after the handler, the config in force a map (its absence one endpoint).
pub fn schema() -> UpdateHandler<anyhow::Error> {
    let commands = dptree::entry()
        .filter_command::<Cmd>()
        .inspect(first_contact)
        .branch(dptree::filter(|s: Arc<Services>| s.config().is_none()).endpoint(config_invalid))
        .filter_map(Said::of)
        .branch(case![Cmd::Help].endpoint(help))
        .branch(case![Cmd::Lang(arg)].endpoint(lang))
        .branch(case![Cmd::Status(arg)].endpoint(status))
        .branch(case![Cmd::Logs(arg)].endpoint(logs))
        .branch(case![Cmd::Chart(arg)].endpoint(chart))
        .branch(case![Cmd::Start(arg)].endpoint(start))
        .branch(case![Cmd::Stop(arg)].endpoint(stop))
        .branch(case![Cmd::Run(arg)].endpoint(run))
        .branch(case![Cmd::Pending].endpoint(pending));
    let messages = Update::filter_message()
        .branch(
            dptree::filter(|m: Message, s: Arc<Services>| s.allowed(m.chat.id.0))
                .inspect(|m: Message, s: Arc<Services>| {
                    s.heard_from(m.chat.id.0);
                    s.saw(m.chat.id.0, m.id.0);
                })
                .map(|m: Message, s: Arc<Services>| Arc::new(ReleaseHeld { s, chat: m.chat.id.0 }))
                .branch(commands)
                .endpoint(on_other),
        )
        .endpoint(on_refused_message);
    dptree::entry().branch(messages).branch(super::presses::schema())
}

/// Queues what a chat missed before it opened the bot once its message was handled (the reply
/// goes first): dptree drops an update's dependencies after the endpoint ran.
struct ReleaseHeld {
    s: Arc<Services>,
    chat: i64,
}

impl Drop for ReleaseHeld {
    fn drop(&mut self) {
        self.s.release_held(self.chat);
    }
}

/// What every command's handler needs: the services, the chat, who typed it, the chat's
/// language and the config in force.
#[derive(Clone)]
pub struct Said {
    /// Who asked what ("<user>:/status scan"): the key its replies coalesce under.
    key: String,
    s: Arc<Services>,
    chat: i64,
    user: Option<i64>,
    /// Who typed it and where, for the line the other chats get.
    actor: super::told::Actor,
    lang: Lang,
    cfg: Arc<crate::config::Config>,
}

impl Said {
    fn of(m: Message, s: Arc<Services>) -> Option<Said> {
        let chat = m.chat.id.0;
        let user = m.from.as_ref().map(|u| u.id.0 as i64);
        // The command as typed, without the bot's @name and with its argument's spacing folded.
        let typed = m.text().unwrap_or_default().split_whitespace().map(|w| w.split('@').next().unwrap_or(w)).collect::<Vec<_>>().join(" ");
        let key = format!("{}:{}", user.unwrap_or(chat), typed.chars().take(200).collect::<String>());
        let actor = super::told::Actor::of(m.from.as_ref(), &m.chat);
        Some(Said { key, cfg: s.config()?, lang: s.lang(chat), user, actor, chat, s })
    }

    /// Runs the handling of this command: its replies coalesce under its key (a person's burst of
    /// one command keeps one waiting answer).
    async fn answering(&self, f: impl std::future::Future<Output = HandlerResult>) -> HandlerResult {
        super::respond::asked(self.key.clone(), f).await
    }
}

async fn config_invalid(m: Message, s: Arc<Services>) -> HandlerResult {
    let chat = m.chat.id.0;
    reply(&s, chat, &t!(s.lang(chat), "reply-config-invalid"), None)
}

async fn help(c: Said) -> HandlerResult {
    c.answering(async { reply_headed(&c.s, c.chat, &help_text(&c.cfg.host, c.lang), None) }).await
}

async fn lang(c: Said, arg: String) -> HandlerResult {
    c.answering(async { choose_lang(&c.s, c.chat, c.user, arg.trim()) }).await
}

async fn status(c: Said, arg: String) -> HandlerResult {
    c.answering(command_acts::status(&c.s, c.chat, &c.cfg, arg.trim())).await
}

async fn logs(c: Said, arg: String) -> HandlerResult {
    c.answering(command_acts::logs(&c.s, c.chat, &c.cfg, arg.trim())).await
}

async fn chart(bot: Bot, c: Said, arg: String) -> HandlerResult {
    super::chart_reply::chart(bot, &c.s, c.chat, &c.cfg, arg.trim())
}

/// `/start` alone is what Telegram sends when someone opens the bot: a greeting and the picker.
async fn start(c: Said, arg: String) -> HandlerResult {
    c.answering(async {
        if arg.trim().is_empty() {
            let running = crate::engine::overview::running_now(&c.s.paths, &c.cfg).await?;
            let k = views::picker(&mut c.s.store()?, c.chat, &c.cfg, JobPress::Start, c.lang, &running)?;
            return reply_headed(&c.s, c.chat, &t!(c.lang, "reply-greeting", host = &c.cfg.host), k.as_ref());
        }
        act(&c.s, c.chat, &c.cfg, Action::Start, arg.trim(), &c.actor)
    })
    .await
}

async fn stop(c: Said, arg: String) -> HandlerResult {
    c.answering(async { act(&c.s, c.chat, &c.cfg, Action::Stop, arg.trim(), &c.actor) }).await
}

/// Runs a check; a write job is requested for approval instead.
async fn run(c: Said, arg: String) -> HandlerResult {
    c.answering(async {
        match c.cfg.job(arg.trim()).filter(|j| j.kind == crate::config::Kind::OneShotWrite) {
            Some(job) => match command_acts::not_operator(&c.s, &c.cfg, c.user, c.lang) {
                Some(why) => reply(&c.s, c.chat, &why, None),
                None => super::approval_chat::request(&c.s, c.chat, &c.actor, job, &c.cfg).await,
            },
            None => act(&c.s, c.chat, &c.cfg, Action::Run, arg.trim(), &c.actor),
        }
    })
    .await
}

async fn pending(c: Said) -> HandlerResult {
    c.answering(async {
        if super::approval_chat::pending(&c.s, c.chat, &c.cfg)? == 0 {
            reply(&c.s, c.chat, &t!(c.lang, "reply-no-pending"), None)?;
        }
        Ok(())
    })
    .await
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

/// A command's menu description in `lang` (also used for setMyCommands per language); the
/// command is one of [`Cmd::bot_commands`], so every variant has its line (the match is exhaustive).
pub fn command_description(command: &str, lang: Lang) -> String {
    let Ok(cmd) = Cmd::parse(command, "") else { return command.to_string() };
    match cmd {
        Cmd::Status(_) => t!(lang, "cmd-status"),
        Cmd::Start(_) => t!(lang, "cmd-start"),
        Cmd::Stop(_) => t!(lang, "cmd-stop"),
        Cmd::Run(_) => t!(lang, "cmd-run"),
        Cmd::Logs(_) => t!(lang, "cmd-logs"),
        Cmd::Chart(_) => t!(lang, "cmd-chart"),
        Cmd::Pending => t!(lang, "cmd-pending"),
        Cmd::Lang(_) => t!(lang, "cmd-lang"),
        Cmd::Help => t!(lang, "cmd-help"),
    }
}

/// Remembers the first user's Telegram language as the chat's initial guess.
fn first_contact(m: Message, s: Arc<Services>) {
    let user = m.from.as_ref();
    let guessed = s.store().and_then(|mut st| {
        crate::store::prefs::guess_chat_lang(&mut st, m.chat.id.0, user.and_then(|u| u.language_code.as_deref()), user.map(|u| u.id.0 as i64))
    });
    if let Err(e) = guessed {
        tracing::warn!(error = %format!("{e:#}"), "could not note the chat's language");
    }
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
    first_contact(m.clone(), s.clone());
    let lang = s.lang(m.chat.id.0);
    let host = crate::config::host::of(s.config().as_deref());
    reply_headed(&s, m.chat.id.0, &format!("{}\n\n{}", t!(lang, "reply-unknown-command"), help_text(&host, lang)), None)
}
