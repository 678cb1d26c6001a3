//! Noticing the end of an outage early: while a chat waits out a failure backoff (up to 15 s),
//! Telegram is asked every [`PROBE_EVERY_MS`] whether it answers.

use crate::store::delivery;
use crate::store::outbox::now_ms;
use crate::store::Store;
use std::time::Duration;
use teloxide::Bot;
use tokio::sync::Notify;

/// How often Telegram is probed (getMe) while a chat waits out a failure backoff.
pub const PROBE_EVERY_MS: i64 = 2000;

/// While some chat waits out a failure backoff (up to 15 s), asks Telegram whether it answers;
/// when it answers again after a failed probe (the outage is over), releases the waiting rows
/// and wakes the chat workers, so a backlog goes out within seconds of an outage's end, not one
/// backoff later. While getMe works but sends fail, the backoff stands. `down`: the last probe
/// failed.
pub async fn probe(bot: &Bot, db: &std::path::Path, reachable: &Notify, down: &mut bool) {
    let waiting = Store::open(db).and_then(|s| delivery::backing_off(&s, now_ms())).unwrap_or(false);
    if !waiting {
        return;
    }
    let me = teloxide::payloads::GetMe::new();
    let answers = matches!(tokio::time::timeout(Duration::from_secs(2), super::direct::call(bot, &me)).await, Ok(Ok(_)));
    if answers && *down {
        match Store::open(db).and_then(|mut s| delivery::retry_now(&mut s, now_ms())) {
            Ok(n) => tracing::info!(rows = n, "Telegram answers again; queued messages go out now"),
            Err(e) => tracing::error!(error = %e, "outbox update failed"),
        }
        reachable.notify_waiters();
    }
    *down = !answers;
}
