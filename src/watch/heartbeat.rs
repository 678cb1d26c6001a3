//! The heartbeat pinger: a GET to the configured URL while the daemon is well (once per
//! `everySeconds`), to `<url>/fail` while it is not (a broken config, an unwritable store, a loop
//! overdue). Pings run in the background with a 10 s timeout: a slow or dead ping service never
//! delays anything; failures are logged.

use crate::config::Heartbeat;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Timeout of one ping.
pub const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// When the last ping went, and whether it was a good one (not `/fail`).
type LastPing = Option<(Instant, bool)>;

/// Remembers the last URL seen (so a broken config can still be reported) and the last ping.
#[derive(Default)]
pub struct Pinger {
    last: Mutex<(Option<Heartbeat>, LastPing)>,
    in_flight: Arc<AtomicBool>,
    client: std::sync::OnceLock<reqwest::Client>,
}

impl Pinger {
    /// Called often (every second): `hb` is the heartbeat of the config in force (None when
    /// unknown), `healthy` whether the daemon is well (the last global tick found the config valid
    /// and the store writable, and no loop is overdue). Pings the URL, or `<url>/fail` when not
    /// healthy, at once when that changed and otherwise once per `everySeconds`.
    pub fn beat(&self, hb: Option<Heartbeat>, healthy: bool) {
        let url = {
            let mut last = self.last.lock().expect("heartbeat lock");
            if hb.is_some() || healthy {
                last.0 = hb;
            }
            let Some(h) = last.0.clone() else { return };
            let every = Duration::from_secs(h.every_seconds).saturating_sub(Duration::from_millis(500));
            // While a ping is in flight nothing is recorded: the next beat tries again.
            if last.1.is_some_and(|(t, was)| was == healthy && t.elapsed() < every) || self.in_flight.load(Ordering::SeqCst) {
                return;
            }
            last.1 = Some((Instant::now(), healthy));
            if healthy {
                h.url
            } else {
                format!("{}/fail", h.url.trim_end_matches('/'))
            }
        };
        self.send(url);
    }

    /// The HTTP client (10 s timeout), built once.
    pub fn client(&self) -> reqwest::Client {
        self.client.get_or_init(|| reqwest::Client::builder().timeout(PING_TIMEOUT).build().unwrap_or_default()).clone()
    }

    fn send(&self, url: String) {
        self.in_flight.store(true, Ordering::SeqCst);
        let (client, flag) = (self.client(), self.in_flight.clone());
        tokio::spawn(async move {
            match ping(&client, &url).await {
                Ok(()) => tracing::debug!("heartbeat ping sent"),
                Err(e) => tracing::warn!(error = %e, "heartbeat ping failed"),
            }
            flag.store(false, Ordering::SeqCst);
        });
    }
}

/// One GET; an HTTP error status counts as a failure.
pub async fn ping(client: &reqwest::Client, url: &str) -> Result<(), String> {
    let resp = client.get(url).send().await.map_err(|e| e.without_url().to_string())?;
    match resp.status() {
        s if s.is_success() => Ok(()),
        s => Err(format!("HTTP {s}")),
    }
}
