//! The long-polling listener, up without waiting on Telegram's 5xx.
//!
//! teloxide's `polling_default` first asks getWebhookInfo (and deleteWebhook when a webhook is
//! set) through teloxide-core, which sleeps 10 s after each 5xx before it returns: a Bot API
//! answering 502 kept the bot deaf for that long after every start. Here both go through the
//! direct request path (no sleep) and are waited for at most [`WEBHOOK_WAIT`]; what is left of
//! them finishes beside polling (getUpdates is refused while a webhook is set, and polling
//! retries until it is gone).

use super::direct;
use super::token::{self, Token};
use std::time::Duration;
use teloxide::payloads::{DeleteWebhook, GetWebhookInfo};
use teloxide::update_listeners::Polling;
use teloxide::Bot;

/// How long polling waits for the webhook check before it starts anyway.
pub const WEBHOOK_WAIT: Duration = Duration::from_secs(2);

/// The long-polling listener (10 s getUpdates), after a webhook check bounded in time.
pub async fn listener(bot: &Bot, token: &Token) -> Polling<Bot> {
    let clear = tokio::spawn(clear_webhook(bot.clone(), token.clone()));
    if tokio::time::timeout(WEBHOOK_WAIT, clear).await.is_err() {
        tracing::warn!("the webhook check has not answered yet; polling starts beside it");
    }
    Polling::builder(bot.clone()).timeout(Duration::from_secs(10)).build()
}

/// Deletes the bot's webhook if one is set: Telegram refuses getUpdates while it is.
async fn clear_webhook(bot: Bot, token: Token) {
    let info = match direct::call(&bot, &GetWebhookInfo::new()).await {
        Ok(info) => info,
        Err(e) => return tracing::warn!(error = %token::redact(&e.to_string(), &token), "getWebhookInfo failed; polling without it"),
    };
    if info.url.is_none() {
        return;
    }
    match direct::call(&bot, &DeleteWebhook::new()).await {
        Ok(_) => tracing::info!("a webhook was set for this bot: deleted, so long polling gets the updates"),
        Err(e) => tracing::warn!(error = %token::redact(&e.to_string(), &token), "deleteWebhook failed; polling may be refused until the webhook is gone"),
    }
}
