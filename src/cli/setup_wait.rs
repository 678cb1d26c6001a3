//! The Telegram side of `setup`: getMe, waiting for the person's first private /start through
//! getUpdates, a known chat through getChat, and the greeting. Every request goes through
//! `chat::direct` (no 10 s pause on a 5xx) and every error is masked before it is shown.

use super::Exit;
use crate::chat::direct;
use crate::chat::token::{self, Token};
use crate::i18n::Lang;
use anyhow::Result;
use std::time::{Duration, Instant};
use teloxide::payloads::{GetChat, GetMe, GetUpdates, SendMessage};
use teloxide::types::{ChatId, Message, Update, UpdateKind};
use teloxide::{ApiError, Bot, RequestError};

/// Seconds one getUpdates long poll waits at most: well inside the client's 17 s timeout.
const POLL_SECONDS: u32 = 5;
/// Non-interactive setup takes only a /start sent during the wait; Telegram's clock may differ
/// from ours by this much.
const CLOCK_SLACK: i64 = 60;

/// The person (their private chat) the bot will report to and take approvals from.
#[derive(Debug, Clone)]
pub struct Person {
    /// The chat id (a private chat's id is the person's user id).
    pub chat_id: i64,
    /// Telegram's name for them: "Anna Lee (@anna)".
    pub name: String,
    /// Their app's language, for the greeting and the config's `locale`.
    pub lang: Lang,
}

impl Person {
    /// Who it is, with the id: "Anna (@anna), chat id 111".
    pub fn describe(&self) -> String {
        format!("{}, chat id {}", self.name, self.chat_id)
    }
}

/// getMe: the bot's username, or what to do about the token or the URL.
pub async fn get_me(bot: &Bot, token: &Token) -> Result<String> {
    match direct::call(bot, &GetMe::new()).await {
        Ok(me) => Ok(me.username.clone().unwrap_or_default()),
        Err(e) => {
            let why = super::doctor_tg::getme_failure(&e, bot.api_url().as_str(), "TELEGRAM_BOT_TOKEN (or type it again)");
            Err(Exit { code: super::EXIT_FAILED, msg: format!("getMe failed: {}", token::redact(&why, token)) }.into())
        }
    }
}

/// `--chat-id`: checks the chat has opened the bot (getChat) and names it.
pub async fn known_chat(bot: &Bot, token: &Token, me: &str, id: i64) -> Result<Person> {
    match direct::call(bot, &GetChat::new(ChatId(id))).await {
        Ok(chat) => {
            let name = chat.title().map(str::to_string).unwrap_or_else(|| full_name(chat.first_name(), chat.last_name(), chat.username()));
            Ok(Person { chat_id: id, name, lang: Lang::En })
        }
        Err(RequestError::Api(ApiError::ChatNotFound | ApiError::CantInitiateConversation | ApiError::BotBlocked)) => {
            Err(Exit { code: super::EXIT_FAILED, msg: format!("chat {id} has not opened the bot: open t.me/{me}, press Start, then run setup again") }.into())
        }
        Err(e) => Err(anyhow::anyhow!(
            "getChat {id} failed: {} (check the id, or leave out --chat-id to be found by your /start)",
            token::redact(&e.to_string(), token)
        )),
    }
}

/// Polls getUpdates until a private /start that `confirm` accepts arrives or `wait` is over.
/// `fresh_only` (no terminal to confirm on) skips a /start sent before the wait began. The
/// update taken is confirmed to Telegram (the next getUpdates offset passes it), so `serve`
/// does not answer that /start again after setup's own greeting; later updates stay queued.
pub async fn first_private_start(bot: &Bot, token: &Token, me: &str, wait: Duration, fresh_only: bool, confirm: impl Fn(&Person) -> bool) -> Result<Person> {
    let started = chrono::Utc::now().timestamp();
    let deadline = Instant::now() + wait;
    let mut offset = None;
    let mut network_said = false;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let mut req = GetUpdates::new();
        // No allowed_updates: Telegram remembers that filter for later calls, and serve needs
        // button presses too.
        req.offset = offset;
        req.timeout = Some(POLL_SECONDS.min(left.as_secs() as u32));
        let updates = match direct::call(bot, &req).await {
            Ok(u) => u,
            Err(RequestError::Network(e)) => {
                if !std::mem::replace(&mut network_said, true) {
                    say!("WARNING: Telegram is not reachable ({}); still trying until the wait is over", token::redact(&e.to_string(), token));
                }
                tokio::time::sleep(Duration::from_secs(1).min(left)).await;
                continue;
            }
            Err(e) => return Err(poll_failure(&e, token)),
        };
        for u in &updates {
            offset = Some(u.id.0 as i32 + 1);
            let Some(p) = candidate(u, fresh_only.then_some(started - CLOCK_SLACK)) else { continue };
            if confirm(&p) {
                // Confirms the update taken (and those before it); failing that, serve only greets twice.
                let _ = direct::call(bot, &GetUpdates { offset, timeout: Some(0), ..GetUpdates::new() }).await;
                return Ok(p);
            }
            say!("Not taken; waiting for the next /start …");
        }
    }
    Err(Exit {
        code: super::EXIT_FAILED,
        msg: format!(
            "no private /start reached @{me} within {}: open t.me/{me} in Telegram, press Start (or send /start), and run setup again \
             (--wait 10m waits longer; --chat-id ID skips the wait)",
            crate::i18n::duration(Lang::En, wait.as_secs())
        ),
    }
    .into())
}

/// The sender of `u` when it is a /start in a private chat (sent at `since` or later, if given).
fn candidate(u: &Update, since: Option<i64>) -> Option<Person> {
    let UpdateKind::Message(m) = &u.kind else { return None };
    if !m.chat.is_private() {
        say!(
            "Ignored a message in the group {:?} (id {}): setup takes your private chat; add groups to telegram.allowedChatIds later",
            m.chat.title().unwrap_or(""),
            m.chat.id.0
        );
        return None;
    }
    let is_start = m.text().is_some_and(|t| t.split_whitespace().next().is_some_and(|w| w == "/start" || w.starts_with("/start@")));
    if !is_start {
        say!("A message from chat {} that is not /start: send /start to be taken", m.chat.id.0);
        return None;
    }
    if since.is_some_and(|s| m.date.timestamp() < s) {
        say!("Skipped a /start from chat {} sent before setup began: send /start again", m.chat.id.0);
        return None;
    }
    Some(person(m))
}

fn person(m: &Message) -> Person {
    let (name, lang) = match &m.from {
        Some(u) => (full_name(Some(&u.first_name), u.last_name.as_deref(), u.username.as_deref()), u.language_code.as_deref().and_then(Lang::parse)),
        None => (full_name(m.chat.first_name(), m.chat.last_name(), m.chat.username()), None),
    };
    Person { chat_id: m.chat.id.0, name, lang: lang.unwrap_or(Lang::En) }
}

/// "Anna Lee (@anna)", as Telegram shows a person.
fn full_name(first: Option<&str>, last: Option<&str>, username: Option<&str>) -> String {
    let mut name = [first, last].into_iter().flatten().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    if let Some(u) = username {
        name = if name.is_empty() { format!("@{u}") } else { format!("{name} (@{u})") };
    }
    if name.is_empty() {
        "someone without a name".to_string()
    } else {
        name
    }
}

/// A getUpdates error with what to do: another reader of the same bot is the usual cause.
fn poll_failure(e: &RequestError, token: &Token) -> anyhow::Error {
    let msg = match e {
        RequestError::Api(ApiError::TerminatedByOtherGetUpdates) => {
            "another program reads this bot's updates (an `ops-monitor serve`, OpenClaw's gateway): stop it while setup runs, or pass --chat-id".to_string()
        }
        RequestError::Api(ApiError::CantGetUpdates) => {
            "this bot has a webhook, so its updates cannot be read here: remove it (deleteWebhook) or use a bot of its own for this host".to_string()
        }
        other => format!("getUpdates failed: {}", token::redact(&other.to_string(), token)),
    };
    Exit { code: super::EXIT_FAILED, msg }.into()
}

/// The first message in the chat: it works, and what comes next.
pub async fn greet(bot: &Bot, token: &Token, p: &Person) -> Result<(), String> {
    let text = crate::t!(p.lang, "setup-greeting", host = crate::config::host::machine_name());
    direct::call(bot, &SendMessage::new(ChatId(p.chat_id), text)).await.map(|_| ()).map_err(|e| token::redact(&e.to_string(), token))
}
