//! The Telegram part of `doctor`: token, getMe, every allowed chat reachable (getChat),
//! approvers, and with `--send-test` one test message per report chat.

use super::findings::Findings;
use crate::chat::token::{self, Token};
use crate::config::{Config, Kind};
use crate::engine::paths::Paths;
use teloxide::prelude::*;
use teloxide::{ApiError, RequestError};

/// Runs the Telegram checks (nothing to check without a token: serve then uses the console).
pub async fn check(cfg: &Config, paths: &Paths, send_test: bool, f: &mut Findings) {
    let found = match token::resolve(cfg, &paths.home) {
        Ok(found) => found,
        Err(e) => return f.error(format!("Telegram token: {e:#}")),
    };
    let (Some(tok), Some(source)) = (found.token, found.source) else {
        f.warn("no Telegram token (TELEGRAM_BOT_TOKEN, telegram.tokenFile or openclaw.json): `serve` prints reports to the console");
        return;
    };
    f.ok(format!("Telegram token found in {source}"));
    let allowed = if cfg.telegram.allowed_chat_ids.is_empty() { found.allow_from } else { cfg.telegram.allowed_chat_ids.clone() };
    if allowed.is_empty() {
        f.error("telegram.allowedChatIds is empty: `serve` refuses to start (fail closed); add your chat id");
    }
    check_approvers(cfg, f);
    let bot = match bot(cfg, &tok) {
        Ok(b) => b,
        Err(e) => return f.error(format!("telegram.apiUrl: {e}")),
    };
    let me = match crate::chat::direct::call(&bot, &teloxide::payloads::GetMe::new()).await {
        Ok(me) => me,
        Err(e) => {
            f.error(format!("getMe failed: {}", token::redact(&getme_failure(&e, bot.api_url().as_str(), &source), &tok)));
            return f.warn(format!("chats {allowed:?}: not checked (getMe failed)"));
        }
    };
    let name = me.username.clone().unwrap_or_default();
    f.ok(format!("getMe: the bot is @{name}"));
    for chat in &allowed {
        check_chat(&bot, *chat, &name, &tok, f).await;
    }
    if send_test {
        let reports = if cfg.telegram.report_chat_ids.is_empty() { allowed.clone() } else { cfg.telegram.report_chat_ids.clone() };
        let text = crate::t!(cfg.locale, "doctor-test", host = &cfg.host, config = cfg.path.display().to_string());
        for chat in reports.iter().copied() {
            let mut req = bot.send_message(ChatId(chat), text.clone());
            if let Some(t) = cfg.telegram.topic_of(chat, &reports) {
                // Into the topic the reports go to, so the test shows where they will appear.
                req = req.message_thread_id(teloxide::types::ThreadId(teloxide::types::MessageId(t)));
            }
            match req.await {
                Ok(_) => f.ok(format!("test message sent to chat {chat}")),
                Err(e) => f.error(format!("test message to chat {chat} failed: {}", token::redact(&e.to_string(), &tok))),
            }
        }
    }
}

/// Why getMe failed, with what to do: the token refused, the API URL not reachable (and why),
/// or something at that URL that is not the Bot API.
pub(super) fn getme_failure(e: &RequestError, url: &str, source: &str) -> String {
    match e {
        RequestError::Api(ApiError::InvalidToken) => format!("Telegram refused the token: get a new one from @BotFather and put it in {source}"),
        RequestError::Api(ApiError::Unknown(d)) if d.starts_with("Unauthorized") || d.starts_with("Not Found") => {
            format!("Telegram refused the token ({d}): get a new one from @BotFather and put it in {source}")
        }
        RequestError::Network(n) => {
            // The innermost cause says what happened ("Connection refused", a DNS failure, a timeout).
            let mut cause: &dyn std::error::Error = n.as_ref();
            while let Some(next) = cause.source() {
                cause = next;
            }
            format!("cannot reach {url}: {cause} (check telegram.apiUrl, the network or the proxy: HTTPS_PROXY)")
        }
        RequestError::InvalidJson { .. } => format!("{url} did not answer like the Bot API (its answer is not the API's JSON): check telegram.apiUrl"),
        other => format!("{other} (at {url}; try again later)"),
    }
}

fn bot(cfg: &Config, tok: &Token) -> anyhow::Result<Bot> {
    let mut bot = Bot::new(tok.expose());
    if let Some(u) = cfg.telegram.api_url.clone().or_else(|| std::env::var("TELEGRAM_API_URL").ok().filter(|u| !u.is_empty())) {
        bot = bot.set_api_url(u.parse()?);
    }
    Ok(bot)
}

async fn check_chat(bot: &Bot, chat: i64, bot_name: &str, tok: &Token, f: &mut Findings) {
    match crate::chat::direct::call(bot, &GetChatJson { chat_id: chat }).await {
        Ok(c) => {
            let title = c.get("title").and_then(serde_json::Value::as_str).map(|t| format!(" ({t})")).unwrap_or_default();
            f.ok(format!("chat {chat} is reachable{title}"))
        }
        Err(RequestError::Api(ApiError::ChatNotFound | ApiError::CantInitiateConversation | ApiError::BotBlocked)) if chat > 0 => {
            f.error(format!("chat {chat} has not opened the bot: open t.me/{bot_name} and press Start"))
        }
        Err(RequestError::Api(ApiError::ChatNotFound | ApiError::BotKicked | ApiError::BotKickedFromSupergroup)) => {
            f.error(format!("chat {chat}: the bot is not a member of this group: add @{bot_name} to it"))
        }
        Err(e) => f.error(format!("chat {chat} is not reachable: {}", token::redact(&e.to_string(), tok))),
    }
}

/// getChat with its answer read as plain JSON: reachable is the Bot API's `ok` (its
/// `description` otherwise), not whether the answer carries every field teloxide's `ChatFullInfo`
/// requires (an API server or a newer Telegram leaving one out failed with "did not match any
/// variant").
#[derive(serde::Serialize)]
struct GetChatJson {
    chat_id: i64,
}

impl teloxide::requests::Payload for GetChatJson {
    type Output = serde_json::Value;
    const NAME: &'static str = "getChat";
}

fn check_approvers(cfg: &Config, f: &mut Findings) {
    let writes: Vec<&str> = cfg.jobs.iter().filter(|j| j.kind == Kind::OneShotWrite).map(|j| j.id.as_str()).collect();
    let approvers = &cfg.telegram.approver_user_ids;
    match (writes.is_empty(), approvers.is_empty()) {
        (true, true) => f.ok("approvers: none listed (no write jobs)"),
        (false, true) => {
            f.warn(format!("no telegram.approverUserIds: write jobs ({}) can be approved only on the host (`ops-monitor approve`)", writes.join(", ")))
        }
        _ => f.ok(format!("approvers: {}", approvers.iter().map(i64::to_string).collect::<Vec<_>>().join(", "))),
    }
}
