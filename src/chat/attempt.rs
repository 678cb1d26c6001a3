//! One delivery attempt of an outbox message and its outcome: Telegram's errors classified
//! (retry, plain text, give up the message or the chat, hold it, migrate) and recorded in the
//! store. Shared by the sender's chat workers and the live progress message.

use super::token::{redact, Token};
use crate::policy::retry::{self, Retry};
use crate::store::delivery;
use crate::store::held;
use crate::store::outbox::{now_ms, OutMsg};
use crate::store::Store;
use teloxide::payloads::{SendMessage, SendMessageSetters};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardMarkup, LinkPreviewOptions, MessageId, ParseMode, ThreadId};
use teloxide::{ApiError, RequestError};
/// First wait after a failing send (network error, 5xx); doubles per failure.
pub const BASE_BACKOFF_MS: i64 = retry::SEND.first.as_millis() as i64;
/// Longest wait between retries of a failing send.
pub const MAX_BACKOFF_MS: i64 = retry::SEND.max.as_millis() as i64;

/// What to do after one send attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Delivered with this Telegram message id.
    Sent(i32),
    /// Try again at this time; bool: counts as a failure.
    Retry(i64, bool),
    /// Re-send as plain text.
    Plain,
    /// This message cannot be delivered.
    FailMessage,
    /// Nothing can be delivered to this chat.
    FailChat,
    /// The chat has not opened the bot yet: hold its messages until it writes to us.
    HoldChat,
    /// The chat migrated to a supergroup with this id.
    Migrate(i64),
}

/// What to do after an edit of a delivered message failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditNext {
    /// Try again after this long.
    Again(std::time::Duration),
    /// Passing failures went on past the edit's attempt limit: give it up, visibly.
    GiveUp,
    /// Telegram refused this edit for good (message gone, too old to edit): nothing to retry.
    Refused,
}

/// The one rule for every failed edit: `failures` counts this edit's failed attempts, this one
/// included. 429 waits as asked; answers that do not parse, network errors and 5xx back off
/// under their limits; any other API error is final.
pub fn edit_next(e: &RequestError, failures: u32) -> EditNext {
    next_try(e, failures, retry::EDIT)
}

/// [`edit_next`] for any request that is not queued: network errors and 5xx back off under
/// `passing` (answers that do not parse under [`retry::EDIT_BAD_ANSWER`]).
pub fn next_try(e: &RequestError, failures: u32, passing: Retry) -> EditNext {
    let policy = match e {
        RequestError::RetryAfter(s) => return EditNext::Again(s.duration()),
        RequestError::InvalidJson { .. } => retry::EDIT_BAD_ANSWER,
        RequestError::Api(ApiError::Unknown(d)) if !(d.starts_with("Bad Request") || d.starts_with("Forbidden") || d.starts_with("Unauthorized")) => passing,
        RequestError::Api(_) | RequestError::MigrateToChatId(_) => return EditNext::Refused,
        _ => passing,
    };
    policy.after(failures).map_or(EditNext::GiveUp, EditNext::Again)
}

impl Verdict {
    /// What happens next, for a log line ("retry in 2.0 s", not `Retry(1795637565616, true)`).
    pub fn said(&self, now: i64) -> String {
        match self {
            Verdict::Sent(id) => format!("sent as message {id}"),
            Verdict::Retry(at, _) => format!("retry in {:.1} s", (at - now).max(0) as f64 / 1000.0),
            Verdict::Plain => "re-send as plain text".into(),
            Verdict::FailMessage => "message given up".into(),
            Verdict::FailChat => "chat given up".into(),
            Verdict::HoldChat => "held until the chat opens the bot".into(),
            Verdict::Migrate(c) => format!("moved to chat {c}"),
        }
    }
}

/// Classifies a send error; `attempts` counts the earlier failures of this message.
pub fn classify(e: &RequestError, attempts: i64, now: i64) -> Verdict {
    let failures = u32::try_from(attempts.saturating_add(1)).unwrap_or(u32::MAX).max(1);
    let backoff = |policy: Retry| match policy.after(failures) {
        Some(wait) => Verdict::Retry(now + wait.as_millis() as i64, true),
        None => Verdict::FailMessage,
    };
    match e {
        RequestError::RetryAfter(s) => Verdict::Retry(now + s.duration().as_millis() as i64, false),
        RequestError::MigrateToChatId(id) => Verdict::Migrate(id.0),
        RequestError::Api(ApiError::CantParseEntities(_)) => Verdict::Plain,
        RequestError::Api(ApiError::ChatNotFound | ApiError::CantInitiateConversation) => Verdict::HoldChat,
        RequestError::Api(ApiError::Unknown(d)) if d.contains("can't initiate conversation") => Verdict::HoldChat,
        RequestError::Api(ApiError::Unknown(d)) if d.starts_with("Forbidden") || d.starts_with("Unauthorized") => Verdict::FailChat,
        RequestError::Api(ApiError::Unknown(d)) if d.starts_with("Bad Request") => Verdict::FailMessage,
        RequestError::Api(ApiError::Unknown(_)) => backoff(retry::SEND),
        RequestError::Api(a) => {
            let d = a.to_string();
            if d.starts_with("Forbidden") || d.starts_with("Unauthorized") {
                Verdict::FailChat
            } else {
                Verdict::FailMessage
            }
        }
        RequestError::InvalidJson { .. } => backoff(retry::SEND_BAD_ANSWER),
        _ => backoff(retry::SEND),
    }
}

/// Sends one outbox message (into forum topic `thread` when given); through [`super::direct`],
/// so a 5xx costs only the outbox's own backoff, not teloxide-core's extra 10 s.
pub async fn send(bot: &Bot, m: &OutMsg, thread: Option<i32>) -> Result<i32, RequestError> {
    let mut req = SendMessage::new(ChatId(m.chat_id), super::outbox_queue::body(m)).disable_notification(m.silent).link_preview_options(LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    });
    if m.html {
        req = req.parse_mode(ParseMode::Html);
    }
    if let Some(t) = thread {
        req = req.message_thread_id(ThreadId(MessageId(t)));
    }
    if let Some(k) = m.markup.as_deref().and_then(|j| serde_json::from_str::<InlineKeyboardMarkup>(j).ok()) {
        req = req.reply_markup(k);
    }
    Ok(super::direct::call(bot, &req).await?.id.0)
}

/// Records the outcome of one send; returns the verdict.
pub fn apply(db: &std::path::Path, m: &OutMsg, result: Result<i32, RequestError>, token: &Token) -> anyhow::Result<Verdict> {
    let mut store = Store::open(db)?;
    let verdict = match &result {
        Ok(id) => Verdict::Sent(*id),
        Err(e) => classify(e, m.attempts, now_ms()),
    };
    let err = result.as_ref().err().map(|e| redact(&e.to_string(), token)).unwrap_or_default();
    if !err.is_empty() {
        tracing::warn!(chat_id = m.chat_id, outbox_id = m.id, error = %err, next = %verdict.said(now_ms()), "send failed");
    }
    match verdict.clone() {
        Verdict::Sent(id) => delivery::mark_sent(&mut store, m, id),
        Verdict::Retry(at, count) => delivery::retry_at(&mut store, m.id, at, &err, count),
        Verdict::Plain => delivery::fall_back_to_plain(&mut store, m.id),
        Verdict::FailMessage => delivery::mark_failed(&mut store, m.id, &err),
        Verdict::FailChat => delivery::fail_chat(&mut store, m.chat_id, &err).map(|_| ()),
        Verdict::HoldChat => {
            delivery::mark_unreachable(&mut store, m.chat_id, &format!("{}{err}", held::NOT_OPENED))?;
            let n = held::hold_pending(&mut store, m.chat_id, &err)?;
            tracing::info!(chat_id = m.chat_id, held = n, "messages held until the chat opens the bot");
            Ok(())
        }
        Verdict::Migrate(new) => super::outbox_queue::migrate(&mut store, m, new),
    }?;
    Ok(verdict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::Seconds;

    #[test]
    fn every_failed_edit_has_a_limit_except_a_flood_wait_which_is_told() {
        use std::time::Duration;
        let gone = RequestError::Api(ApiError::MessageToEditNotFound);
        assert_eq!(edit_next(&gone, 1), EditNext::Refused, "a message that is gone is not retried");
        let bad = RequestError::Api(ApiError::Unknown("Bad Request: message can't be edited".into()));
        assert_eq!(edit_next(&bad, 1), EditNext::Refused);
        let server = RequestError::Api(ApiError::Unknown("Bad Gateway".into()));
        assert_eq!(edit_next(&server, 1), EditNext::Again(Duration::from_secs(1)));
        assert_eq!(edit_next(&server, 3), EditNext::Again(Duration::from_secs(4)), "backs off");
        assert_eq!(edit_next(&server, 89), EditNext::Again(Duration::from_secs(60)));
        assert_eq!(edit_next(&server, 90), EditNext::GiveUp, "an endless outage is given up, not retried forever");
        let garbled = RequestError::InvalidJson { source: std::sync::Arc::new(serde_json::from_str::<u8>("x").unwrap_err()), raw: "null".into() };
        assert_eq!(edit_next(&garbled, 5), EditNext::GiveUp);
        assert_eq!(edit_next(&RequestError::RetryAfter(Seconds::from_seconds(9)), 500), EditNext::Again(Duration::from_secs(9)));
    }

    #[test]
    fn classifies_telegram_errors() {
        let now = 1_000_000;
        assert_eq!(classify(&RequestError::RetryAfter(Seconds::from_seconds(7)), 0, now), Verdict::Retry(now + 7000, false));
        assert_eq!(classify(&RequestError::MigrateToChatId(ChatId(-1001)), 0, now), Verdict::Migrate(-1001));
        assert_eq!(classify(&RequestError::Api(ApiError::CantParseEntities("x".into())), 0, now), Verdict::Plain);
        assert_eq!(classify(&RequestError::Api(ApiError::BotBlocked), 0, now), Verdict::FailChat);
        assert_eq!(classify(&RequestError::Api(ApiError::ChatNotFound), 0, now), Verdict::HoldChat);
        let never_opened = ApiError::Unknown("Forbidden: bot can't initiate conversation with a user".into());
        assert_eq!(classify(&RequestError::Api(never_opened), 0, now), Verdict::HoldChat);
        assert_eq!(classify(&RequestError::Api(ApiError::Unknown("Forbidden: bot was kicked".into())), 0, now), Verdict::FailChat);
        assert_eq!(classify(&RequestError::Api(ApiError::Unknown("Bad Request: odd".into())), 0, now), Verdict::FailMessage);
        assert_eq!(classify(&RequestError::Api(ApiError::Unknown("Bad Gateway".into())), 0, now), Verdict::Retry(now + BASE_BACKOFF_MS, true));
        assert_eq!(classify(&RequestError::Api(ApiError::Unknown("Bad Gateway".into())), 3, now), Verdict::Retry(now + 8 * BASE_BACKOFF_MS, true));
        assert_eq!(classify(&RequestError::Api(ApiError::Unknown("Bad Gateway".into())), 60, now), Verdict::Retry(now + MAX_BACKOFF_MS, true));
        let bad_json = serde_json::from_str::<serde_json::Value>("<html>").unwrap_err();
        assert!(matches!(
            classify(&RequestError::InvalidJson { source: std::sync::Arc::new(bad_json), raw: "<html>".into() }, 0, now),
            Verdict::Retry(_, true)
        ));
        let bad_answer = || {
            let source = std::sync::Arc::new(serde_json::from_str::<serde_json::Value>("null!").unwrap_err());
            RequestError::InvalidJson { source, raw: "null!".into() }
        };
        assert_eq!(classify(&bad_answer(), 38, now), Verdict::Retry(now + MAX_BACKOFF_MS, true));
        assert_eq!(classify(&bad_answer(), 39, now), Verdict::FailMessage, "an answer that never parses is given up after 40 attempts");
        assert!(
            matches!(classify(&RequestError::Io(std::sync::Arc::new(std::io::Error::other("connection reset"))), 10_000, now), Verdict::Retry(_, true)),
            "an outage is never given up"
        );
    }
}
