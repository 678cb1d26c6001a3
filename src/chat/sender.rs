//! Delivers the outbox: one message per chat at a time (order), paced per chat, errors classified;
//! a chat's queued reports go out merged (after an outage: minutes of alerts in seconds).

use super::attempt::{apply, classify, send, Verdict};
pub use super::attempt::{BASE_BACKOFF_MS, MAX_BACKOFF_MS};
use super::token::{redact, Token};
use crate::engine::config_watch::ConfigWatch;
use crate::policy::backlog::Plan;
use crate::policy::retry;
use crate::store::delivery;
use crate::store::held;
use crate::store::outbox::{self, now_ms, OutMsg};
use crate::store::Store;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use teloxide::prelude::*;
use teloxide::RequestError;
use tokio::sync::Notify;

/// Minimum gap between two messages to one private chat (Telegram: about 1 per second).
pub const PRIVATE_GAP_MS: i64 = 1000;
/// Minimum gap for groups (Telegram: 20 per minute).
pub const GROUP_GAP_MS: i64 = 3000;
/// Minimum gap between any two sends of the bot (Telegram: about 30 messages per second overall).
pub const GLOBAL_GAP_MS: i64 = 35;

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
        if let Some(why) = Store::open(db).ok().and_then(|s| delivery::unreachable(&s, m.chat_id, now_ms()).ok().flatten()) {
            if let Err(e) = Store::open(db).and_then(|mut s| settle_unreachable(&mut s, m.chat_id, &why)) {
                tracing::error!(error = %e, "outbox update failed");
            }
            continue;
        }
        let thread = config.current().thread_of(m.chat_id);
        let applied = if m.live {
            super::live_message::deliver(bot, db, m, thread, token).await
        } else {
            let result = send(bot, m, thread).await;
            apply(db, m, result, token)
        };
        if matches!(applied, Ok(Verdict::Sent(_))) {
            pacer.last_sent.insert(m.chat_id, now_ms());
        }
        match applied {
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
                    // A live message waiting for its edit window lets alerts queued meanwhile pass.
                    _ = tokio::time::sleep(Duration::from_millis((ready_at - now_ms()).clamp(1, if m.live { 1_000 } else { 5_000 }) as u64)) => {}
                    _ = self.reachable.notified() => {}
                }
                continue;
            }
            if let Some(why) = Store::open(&self.db).ok().and_then(|s| delivery::unreachable(&s, self.chat, now_ms()).ok().flatten()) {
                if let Err(e) = Store::open(&self.db).and_then(|mut s| settle_unreachable(&mut s, self.chat, &why)) {
                    pause_after_store_error(&mut store_failures, "outbox update failed", &e).await;
                }
                continue;
            }
            let slot = reserve_slot(&self.global, now_ms());
            if slot > now_ms() {
                tokio::time::sleep(Duration::from_millis((slot - now_ms()) as u64)).await;
            }
            if m.live {
                match super::live_message::deliver(&self.bot, &self.db, &m, self.config.current().thread_of(self.chat), &self.token).await {
                    Ok(Verdict::Sent(_)) => {
                        self.last_sent.lock().expect("pacer").insert(self.chat, now_ms());
                    }
                    Ok(Verdict::HoldChat) => log_remedy(&self.bot, self.chat, &self.token).await,
                    Ok(v) => outage |= matches!(v, Verdict::Retry(_, true)),
                    Err(e) => pause_after_store_error(&mut store_failures, "outbox update failed", &e).await,
                }
                continue;
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
        let host = crate::config::host::of(self.config.config().as_deref());
        Store::open(&self.db).and_then(|s| super::outbox_queue::merged_next(&s, head, outage, &host)).unwrap_or_else(|e| {
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
                tracing::warn!(chat_id = head.chat_id, error = %redact(&e.to_string(), token), next = %verdict.said(crate::store::outbox::now_ms()), "merged backlog message refused; sending one by one");
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
        None => delivery::fail_chat_pending(store, chat, why).map(|_| ()),
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

    #[test]
    fn sends_across_chats_are_spaced_to_stay_under_telegrams_global_rate() {
        let next = Mutex::new(0);
        let slots: Vec<i64> = (0..30).map(|_| reserve_slot(&next, 1_000)).collect();
        assert_eq!(slots[0], 1_000);
        assert!(slots.windows(2).all(|w| w[1] - w[0] == GLOBAL_GAP_MS));
        assert!(slots[29] - slots[0] >= 1_000 - GLOBAL_GAP_MS, "30 sends take about a second, never less");
        assert_eq!(reserve_slot(&next, 1_000_000), 1_000_000, "an idle bot sends at once");
    }
}
