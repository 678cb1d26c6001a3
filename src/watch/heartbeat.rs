//! The heartbeat pinger: a GET to the configured URL after a good tick (at most once per
//! `everySeconds`), to `<url>/fail` after a tick that found trouble. Pings run in the background
//! with a 10 s timeout: a slow or dead ping service never delays a tick; failures are logged.

use crate::config::Heartbeat;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Timeout of one ping.
pub const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// Remembers the last URL seen (so a broken config can still be reported) and the last good ping.
#[derive(Default)]
pub struct Pinger {
    last: Mutex<(Option<Heartbeat>, Option<Instant>)>,
    in_flight: Arc<AtomicBool>,
    client: std::sync::OnceLock<reqwest::Client>,
}

impl Pinger {
    /// After a tick: `hb` is the heartbeat of the config in force (None when unknown), `healthy`
    /// whether the tick found the config valid and the store writable.
    pub fn after_tick(&self, hb: Option<Heartbeat>, healthy: bool) {
        let url = {
            let mut last = self.last.lock().expect("heartbeat lock");
            if hb.is_some() || healthy {
                last.0 = hb;
            }
            let Some(h) = last.0.clone() else { return };
            if !healthy {
                format!("{}/fail", h.url.trim_end_matches('/'))
            } else if last.1.is_some_and(|t| t.elapsed() < Duration::from_secs(h.every_seconds).saturating_sub(Duration::from_millis(500))) {
                return;
            } else {
                last.1 = Some(Instant::now());
                h.url
            }
        };
        self.send(url);
    }

    /// The HTTP client (10 s timeout), built once.
    pub fn client(&self) -> reqwest::Client {
        self.client.get_or_init(|| reqwest::Client::builder().timeout(PING_TIMEOUT).build().unwrap_or_default()).clone()
    }

    fn send(&self, url: String) {
        if self.in_flight.swap(true, Ordering::SeqCst) {
            tracing::warn!("heartbeat: the previous ping has not finished; skipping this one");
            return;
        }
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
