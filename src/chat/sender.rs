//! Delivers the outbox: one message per chat at a time (order), paced per chat, errors classified;
//! a chat's queued reports go out merged (after an outage: minutes of alerts in seconds).

use super::token::{redact, Token};
use crate::policy::backlog::Plan;
use crate::policy::retry::{self, Retry};
use crate::shell::config_watch::ConfigWatch;
use crate::store::held;
use crate::store::outbox::{self, now_ms, OutMsg};
use crate::store::Store;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use teloxide::payloads::{SendMessage, SendMessageSetters};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardMarkup, LinkPreviewOptions, MessageId, ParseMode, ThreadId};
use teloxide::{ApiError, RequestError};
use tokio::sync::Notify;

/// Minimum gap between two messages to one private chat (Telegram: about 1 per second).
pub const PRIVATE_GAP_MS: i64 = 1000;
/// Minimum gap for groups (Telegram: 20 per minute).
pub const GROUP_GAP_MS: i64 = 3000;
/// Minimum gap between any two sends of the bot (Telegram: about 30 messages per second overall).
pub const GLOBAL_GAP_MS: i64 = 35;
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
async fn send(bot: &Bot, m: &OutMsg, thread: Option<i32>) -> Result<i32, RequestError> {
    let mut req = SendMessage::new(ChatId(m.chat_id), super::outbox::body(m)).disable_notification(m.silent).link_preview_options(LinkPreviewOptions {
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

/// Per-chat pacing memory of one sender.
#[derive(Default)]
pub struct Pacer {
    last_sent: HashMap<i64, i64>,
}

/// Sends every due head once; returns how long to wait before the next round (ms).
pub async fn deliver_round(bot: &Bot, db: &std::path::Path, token: &Token, config: &ConfigWatch, pacer: &mut Pacer) -> i64 {
    let heads = Store::open(db).and_then(|s| outbox::due_heads(&s, now_ms())).unwrap_or_else(|e| {
        tracing::error!(error = %e, "outbox read failed");
        Vec::new()
    });
    let mut next_pace: Option<i64> = None;
    for m in &heads {
        let gap = if m.chat_id < 0 { GROUP_GAP_MS } else { PRIVATE_GAP_MS };
        let ready_at = pacer.last_sent.get(&m.chat_id).map_or(0, |t| t + gap);
        if ready_at > now_ms() {
            next_pace = Some(next_pace.map_or(ready_at, |p: i64| p.min(ready_at)));
            continue;
        }
        if let Some(why) = Store::open(db).ok().and_then(|s| outbox::unreachable(&s, m.chat_id, now_ms()).ok().flatten()) {
            if let Err(e) = Store::open(db).and_then(|mut s| settle_unreachable(&mut s, m.chat_id, &why)) {
                tracing::error!(error = %e, "outbox update failed");
            }
            continue;
        }
        let result = send(bot, m, config.current().thread_of(m.chat_id)).await;
        if result.is_ok() {
            pacer.last_sent.insert(m.chat_id, now_ms());
        }
        match apply(db, m, result, token) {
            Ok(Verdict::HoldChat) => log_remedy(bot, m.chat_id, token).await,
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "outbox update failed"),
        }
    }
    let next = Store::open(db).ok().and_then(|s| outbox::next_due(&s).ok().flatten());
    let wait_until = [next, next_pace].into_iter().flatten().min();
    wait_until.map_or(5_000, |t| (t - now_ms()).clamp(0, 5_000))
}

/// Runs forever: one worker per chat with pending messages, so a slow, failing or hanging chat
/// never delays another; per-chat order and pacing are kept by the chat's single worker.
/// `config` decides the forum topic of each chat at send time.
pub async fn run(bot: Bot, db: PathBuf, wake: Arc<Notify>, token: Token, config: Arc<ConfigWatch>) {
    let last_sent: Arc<Mutex<HashMap<i64, i64>>> = Arc::default();
    let global: Arc<Mutex<i64>> = Arc::default();
    let reachable = Arc::new(Notify::new());
    let mut workers: HashMap<i64, tokio::task::JoinHandle<()>> = HashMap::new();
    let (mut probed, mut down) = (0, false);
    loop {
        if now_ms() - probed >= super::probe::PROBE_EVERY_MS {
            probed = now_ms();
            super::probe::probe(&bot, &db, &reachable, &mut down).await;
        }
        workers.retain(|_, h| !h.is_finished());
        let chats = Store::open(&db).and_then(|s| outbox::pending_chats(&s)).unwrap_or_else(|e| {
            tracing::error!(error = %e, "outbox read failed");
            Vec::new()
        });
        for chat in chats {
            workers.entry(chat).or_insert_with(|| {
                let w = ChatWorker {
                    bot: bot.clone(),
                    db: db.clone(),
                    token: token.clone(),
                    chat,
                    last_sent: last_sent.clone(),
                    global: global.clone(),
                    config: config.clone(),
                    reachable: reachable.clone(),
                };
                tokio::spawn(w.run())
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = wake.notified() => {}
        }
    }
}

/// Reserves the next global send slot at or after `now` (ms).
fn reserve_slot(next: &Mutex<i64>, now: i64) -> i64 {
    let mut next = next.lock().expect("global pacer");
    let slot = (*next).max(now);
    *next = slot + GLOBAL_GAP_MS;
    slot
}

/// Delivers one chat's messages in order until none is pending.
struct ChatWorker {
    bot: Bot,
    db: PathBuf,
    token: Token,
    chat: i64,
    last_sent: Arc<Mutex<HashMap<i64, i64>>>,
    /// The next free slot for any send (global rate across chats).
    global: Arc<Mutex<i64>>,
    /// The config snapshot: which forum topic this chat's messages go to.
    config: Arc<ConfigWatch>,
    /// Notified when Telegram answers again after failures.
    reachable: Arc<Notify>,
}

impl ChatWorker {
    async fn run(self) {
        let gap = if self.chat < 0 { GROUP_GAP_MS } else { PRIVATE_GAP_MS };
        let mut store_failures = 0;
        let mut merging = true;
        let mut outage = false;
        loop {
            let head = match Store::open(&self.db).and_then(|s| outbox::head(&s, self.chat)) {
                Ok(Some(h)) => h,
                Ok(None) => return,
                Err(e) => {
                    pause_after_store_error(&mut store_failures, "outbox read failed", &e).await;
                    continue;
                }
            };
            store_failures = 0;
            let (m, not_before) = head;
            let paced = self.last_sent.lock().expect("pacer").get(&self.chat).map_or(0, |t| t + gap);
            let ready_at = not_before.max(paced);
            if ready_at > now_ms() {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis((ready_at - now_ms()).clamp(1, 5_000) as u64)) => {}
                    _ = self.reachable.notified() => {}
                }
                continue;
            }
            if let Some(why) = Store::open(&self.db).ok().and_then(|s| outbox::unreachable(&s, self.chat, now_ms()).ok().flatten()) {
                if let Err(e) = Store::open(&self.db).and_then(|mut s| settle_unreachable(&mut s, self.chat, &why)) {
                    pause_after_store_error(&mut store_failures, "outbox update failed", &e).await;
                }
                continue;
            }
            let slot = reserve_slot(&self.global, now_ms());
            if slot > now_ms() {
                tokio::time::sleep(Duration::from_millis((slot - now_ms()) as u64)).await;
            }
            let merged = if merging { self.merged(&m, outage) } else { None };
            let result = send(&self.bot, merged.as_ref().map_or(&m, |(msg, _)| msg), self.config.current().thread_of(self.chat)).await;
            match &result {
                Ok(_) => {
                    self.last_sent.lock().expect("pacer").insert(self.chat, now_ms());
                    outage &= merged.is_none(); // a merged message carried the header: headed once
                }
                Err(e) => outage |= matches!(classify(e, 0, 0), Verdict::Retry(..)), // unreachable, 5xx, 429
            }
            let applied = match &merged {
                Some((_, plan)) => apply_merged(&self.db, &m, plan, result, &self.token).map(|(keep, verdict)| {
                    merging = keep;
                    verdict
                }),
                None => apply(&self.db, &m, result, &self.token),
            };
            match applied {
                Ok(Verdict::HoldChat) => log_remedy(&self.bot, self.chat, &self.token).await,
                Ok(_) => {}
                Err(e) => pause_after_store_error(&mut store_failures, "outbox update failed", &e).await,
            }
        }
    }

    /// The chat's backlog merged into the next message (led by the head row), if it has one.
    fn merged(&self, head: &OutMsg, outage: bool) -> Option<(OutMsg, Plan)> {
        Store::open(&self.db).and_then(|s| super::outbox::merged_next(&s, head, outage)).unwrap_or_else(|e| {
            tracing::error!(error = %e, "outbox backlog read failed; sending one by one");
            None
        })
    }
}

/// Records the outcome of sending a merged backlog message headed by `head`; returns whether to
/// keep merging (a merged message Telegram refuses is sent again row by row instead) and the
/// verdict.
fn apply_merged(db: &std::path::Path, head: &OutMsg, plan: &Plan, result: Result<i32, RequestError>, token: &Token) -> anyhow::Result<(bool, Verdict)> {
    match result {
        Ok(id) => {
            let markup = serde_json::json!({ "inline_keyboard": plan.rows }).to_string();
            outbox::mark_merged(&mut Store::open(db)?, &plan.covers, id, &plan.text, Some(&markup)).map(|()| (true, Verdict::Sent(id)))
        }
        Err(e) => match classify(&e, head.attempts, now_ms()) {
            Verdict::Retry(..) | Verdict::FailChat | Verdict::HoldChat => apply(db, head, Err(e), token).map(|v| (true, v)),
            verdict => {
                tracing::warn!(chat_id = head.chat_id, error = %redact(&e.to_string(), token), verdict = ?verdict, "merged backlog message refused; sending one by one");
                Ok((false, verdict))
            }
        },
    }
}

/// The pending messages of a chat known unreachable: held when it has not opened the bot yet,
/// else failed (no API call either way).
fn settle_unreachable(store: &mut Store, chat: i64, why: &str) -> anyhow::Result<()> {
    match why.strip_prefix(held::NOT_OPENED) {
        Some(err) => held::hold_pending(store, chat, err).map(|_| ()),
        None => outbox::fail_chat_pending(store, chat, why).map(|_| ()),
    }
}

/// Logs a failed store access of a chat worker and waits as the store retry policy says.
async fn pause_after_store_error(failures: &mut u32, what: &str, e: &anyhow::Error) {
    *failures += 1;
    tracing::error!(error = %e, "{what}");
    tokio::time::sleep(retry::STORE_ERROR.wait(*failures)).await;
}

/// Delivers until the outbox is empty or `within` has passed (for `tick` on the CLI); returns
/// the number of messages still pending.
pub async fn flush(bot: &Bot, db: &std::path::Path, token: &Token, config: &ConfigWatch, within: Duration) -> anyhow::Result<i64> {
    let deadline = tokio::time::Instant::now() + within;
    let mut pacer = Pacer::default();
    loop {
        let pending = outbox::pending_count(&Store::open(db)?)?;
        if pending == 0 || tokio::time::Instant::now() >= deadline {
            return Ok(pending);
        }
        let wait = deliver_round(bot, db, token, config, &mut pacer).await;
        tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + Duration::from_millis(wait.max(10) as u64))).await;
    }
}

/// Records the outcome of one send; returns the verdict.
fn apply(db: &std::path::Path, m: &OutMsg, result: Result<i32, RequestError>, token: &Token) -> anyhow::Result<Verdict> {
    let mut store = Store::open(db)?;
    let verdict = match &result {
        Ok(id) => Verdict::Sent(*id),
        Err(e) => classify(e, m.attempts, now_ms()),
    };
    let err = result.as_ref().err().map(|e| redact(&e.to_string(), token)).unwrap_or_default();
    if !err.is_empty() {
        tracing::warn!(chat_id = m.chat_id, outbox_id = m.id, error = %err, verdict = ?verdict, "send failed");
    }
    match verdict.clone() {
        Verdict::Sent(id) => outbox::mark_sent(&mut store, m.id, id),
        Verdict::Retry(at, count) => outbox::retry_at(&mut store, m.id, at, &err, count),
        Verdict::Plain => outbox::fall_back_to_plain(&mut store, m.id),
        Verdict::FailMessage => outbox::mark_failed(&mut store, m.id, &err),
        Verdict::FailChat => outbox::fail_chat(&mut store, m.chat_id, &err).map(|_| ()),
        Verdict::HoldChat => {
            outbox::mark_unreachable(&mut store, m.chat_id, &format!("{}{err}", held::NOT_OPENED))?;
            let n = held::hold_pending(&mut store, m.chat_id, &err)?;
            tracing::info!(chat_id = m.chat_id, held = n, "messages held until the chat opens the bot");
            Ok(())
        }
        Verdict::Migrate(new) => super::outbox::migrate(&mut store, m, new),
    }?;
    Ok(verdict)
}

/// Chats whose remedy was logged by this process.
static REMEDY_LOGGED: Mutex<Option<std::collections::HashSet<i64>>> = Mutex::new(None);

/// Logs once per chat how to make the bot reach a chat that has not opened it.
async fn log_remedy(bot: &Bot, chat: i64, token: &Token) {
    let first = REMEDY_LOGGED.lock().expect("remedy log").get_or_insert_with(Default::default).insert(chat);
    if !first {
        return;
    }
    let name = match bot.get_me().await {
        Ok(me) => me.username.clone().unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %redact(&e.to_string(), token), "getMe failed");
            "<bot username>".into()
        }
    };
    tracing::warn!("chat {chat} has not opened the bot yet: open t.me/{name} and press Start (its messages are held until then)");
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::Seconds;

    #[test]
    fn sends_across_chats_are_spaced_to_stay_under_telegrams_global_rate() {
        let next = Mutex::new(0);
        let slots: Vec<i64> = (0..30).map(|_| reserve_slot(&next, 1_000)).collect();
        assert_eq!(slots[0], 1_000);
        assert!(slots.windows(2).all(|w| w[1] - w[0] == GLOBAL_GAP_MS));
        assert!(slots[29] - slots[0] >= 1_000 - GLOBAL_GAP_MS, "30 sends take about a second, never less");
        assert_eq!(reserve_slot(&next, 1_000_000), 1_000_000, "an idle bot sends at once");
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
