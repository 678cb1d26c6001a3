//! Who watches the watcher: the heartbeat pings (an outside service notices when the host or the
//! daemon dies), the systemd notify protocol (systemd restarts a wedged daemon), "back online"
//! after a crash or a long gap, and the serve loop's hooks that drive them. The serve loop calls
//! [`after_tick`] after each long-jobs tick, [`idle`] to wait for the next one, [`stopping`] on
//! SIGTERM, and [`back`]'s `on_start` / `stopped_cleanly` around its loops.

pub mod back;
pub mod heartbeat;
pub mod systemd;

use crate::config::{Config, Heartbeat};
use crate::shell::paths::Paths;
use crate::shell::tick::TickOutcome;
use sd_notify::NotifyState;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What the hooks remember between ticks (one daemon per process).
#[derive(Default)]
struct Watcher {
    pinger: heartbeat::Pinger,
    ready: AtomicBool,
}

fn watcher() -> &'static Watcher {
    static W: OnceLock<Watcher> = OnceLock::new();
    W.get_or_init(Watcher::default)
}

/// After each long-jobs tick: heartbeat ping (or `/fail` when the config is invalid or the tick
/// failed, e.g. the store is unwritable), WATCHDOG=1 and STATUS=, and READY=1 after the first.
/// `cfg` is the config file now (None when invalid: the last good one's heartbeat is used).
pub fn after_tick(paths: &Paths, result: &anyhow::Result<TickOutcome>, cfg: Option<&Config>) {
    let w = watcher();
    let now = chrono::Utc::now().format("%H:%M:%S UTC");
    let (healthy, status) = match result {
        Ok(out) if out.config_error.is_none() => (true, format!("watching {}; last tick {now}: ok", jobs_word(cfg))),
        Ok(out) if out.had_config => (false, format!("config invalid, last good config in use; last tick {now}")),
        Ok(_) => (false, format!("config invalid, nothing watched; last tick {now}")),
        Err(e) => (false, format!("tick failed at {now}: {}", one_line(&format!("{e:#}")))),
    };
    let hb = match cfg {
        Some(c) => c.heartbeat.clone(),
        None => last_good_heartbeat(paths),
    };
    w.pinger.after_tick(hb, healthy);
    back::alive(paths);
    let mut states = vec![NotifyState::Watchdog, NotifyState::Status(&status)];
    if !w.ready.swap(true, Ordering::SeqCst) {
        states.insert(0, NotifyState::Ready);
    }
    systemd::notify(&states);
}

/// Waits `every` before the next tick. The long-jobs loop (`watching`) meanwhile sends WATCHDOG=1
/// at half of systemd's `WATCHDOG_USEC` (so a tick that wedges stops the pings) and refreshes
/// the last sign of life every minute (for "back online").
pub async fn idle(paths: &Paths, every: Duration, watching: bool) {
    if !watching {
        return tokio::time::sleep(every).await;
    }
    let watchdog = systemd::watchdog_every();
    let step = watchdog.map_or(back::ALIVE_EVERY, |w| w.min(back::ALIVE_EVERY));
    let deadline = Instant::now() + every;
    let mut alive_at = Instant::now();
    while let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) {
        tokio::time::sleep(left.min(step)).await;
        if watchdog.is_some() {
            systemd::notify(&[NotifyState::Watchdog]);
        }
        if alive_at.elapsed() >= back::ALIVE_EVERY {
            back::alive(paths);
            alive_at = Instant::now();
        }
    }
}

/// On SIGTERM/SIGINT: STOPPING=1.
pub fn stopping() {
    systemd::notify(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

fn last_good_heartbeat(paths: &Paths) -> Option<Heartbeat> {
    crate::shell::config_watch::last_good(paths)?.heartbeat
}

fn jobs_word(cfg: Option<&Config>) -> String {
    let n = cfg.map_or(0, |c| c.jobs.iter().filter(|j| j.enabled).count());
    format!("{n} enabled job{}", if n == 1 { "" } else { "s" })
}

fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(200).collect()
}
