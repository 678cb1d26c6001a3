//! Who watches the watcher: the heartbeat pings (an outside service notices when the host or the
//! daemon dies), the systemd notify protocol (systemd restarts a wedged daemon), "back online"
//! after a crash or a long gap. The loops that do the work record each pass in a [`Liveness`];
//! [`feed`] feeds systemd's watchdog and the heartbeat only while none of them is overdue
//! ([`crate::policy::liveness`] decides), and sends READY=1 once their first passes are done.
//! `serve` calls [`stopping`] on SIGTERM, and [`back`]'s `on_start` / `stopped_cleanly` around
//! its loops.

pub mod back_online;
pub mod heartbeat;
pub mod systemd;

use crate::config::{Config, Heartbeat};
use crate::engine::paths::Paths;
use crate::engine::tick::TickOutcome;
use crate::policy::liveness::{self, LoopRecord, Overdue};
use sd_notify::NotifyState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The loops' records and what the global loop's last pass found; written by the loops, read
/// by [`feed`].
#[derive(Clone, Default)]
pub struct Liveness(Arc<Mutex<Inner>>);

#[derive(Default)]
struct Inner {
    loops: HashMap<String, LoopRecord>,
    verdict: Option<Verdict>,
}

/// What the global loop's last pass found.
#[derive(Clone)]
struct Verdict {
    healthy: bool,
    status: String,
    heartbeat: Option<Heartbeat>,
}

impl Liveness {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.0.lock().expect("liveness lock"))
    }

    /// A loop begins; its first pass must be done within `first_pass`. A loop already known keeps
    /// its record: a loop that died (a panic) and is started again must not look fresh.
    pub fn register(&self, name: &str, first_pass: Duration, at_start: bool) {
        let due_by = Instant::now() + first_pass;
        self.with(|i| {
            i.loops.entry(name.to_string()).or_insert(LoopRecord { name: name.to_string(), due_by, passes: 0, at_start });
        });
    }

    /// A loop ended on purpose (its job was removed, or changed and gets a new loop).
    pub fn forget(&self, name: &str) {
        self.with(|i| i.loops.remove(name));
    }

    /// A loop finished a pass; its next one must be done within `next`.
    pub fn passed(&self, name: &str, next: Duration) {
        let due_by = Instant::now() + next;
        self.with(|i| {
            let r = i.loops.entry(name.to_string()).or_insert(LoopRecord { name: name.to_string(), due_by, passes: 0, at_start: false });
            r.due_by = due_by;
            r.passes += 1;
        });
    }

    /// The global loop finished a pass with `result` (`cfg`: the config file now, None when
    /// invalid: the last good one's heartbeat is used); its next one must be done within `next`.
    /// A tick that found the config invalid or failed (the store unwritable) is unhealthy.
    pub fn global_pass(&self, paths: &Paths, result: &anyhow::Result<TickOutcome>, cfg: Option<&Config>, next: Duration) {
        let now = chrono::Utc::now().format("%H:%M:%S UTC");
        let (healthy, status) = match result {
            Ok(out) if out.config_error.is_none() => (true, format!("watching {}; last tick {now}: ok", jobs_word(cfg))),
            Ok(out) if out.had_config => (false, format!("config invalid, last good config in use; last tick {now}")),
            Ok(_) => (false, format!("config invalid, nothing watched; last tick {now}")),
            Err(e) => (false, format!("tick failed at {now}: {}", one_line(&format!("{e:#}")))),
        };
        let heartbeat = match cfg {
            Some(c) => c.heartbeat.clone(),
            None => crate::engine::config_watch::last_good(paths).and_then(|c| c.heartbeat),
        };
        back_online::alive(paths);
        self.with(|i| i.verdict = Some(Verdict { healthy, status, heartbeat }));
        self.passed(liveness::GLOBAL, next);
    }

    fn snapshot(&self) -> (Vec<LoopRecord>, Option<Verdict>) {
        self.with(|i| (i.loops.values().cloned().collect(), i.verdict.clone()))
    }
}

/// Runs until aborted, every half of systemd's `WATCHDOG_USEC` (at most every second): READY=1
/// once [`liveness::ready`]; WATCHDOG=1 only while no loop is overdue; STATUS= when it changes;
/// the heartbeat (its URL while the last global pass was healthy and no loop is overdue, else
/// `<url>/fail`); the last sign of life every minute.
pub async fn feed(live: Liveness, paths: Paths) {
    let started = Instant::now();
    let watchdog = systemd::watchdog_every();
    let step = watchdog.map_or(Duration::from_secs(1), |w| w.min(Duration::from_secs(1)));
    let pinger = heartbeat::Pinger::default();
    let (mut ready, mut shown, mut was_late, mut alive_at) = (false, String::new(), false, Instant::now());
    // WATCHDOG=1 every half WatchdogSec (systemd's advice), not at every check of the loops.
    let mut fed_at: Option<Instant> = None;
    loop {
        tokio::time::sleep(step).await;
        let now = Instant::now();
        let (loops, verdict) = live.snapshot();
        let late = liveness::overdue(&loops, now);
        if late.is_empty() == was_late {
            match late.first() {
                Some(o) => {
                    tracing::error!(loops = %late_word(&late), "{} is overdue by {} s: systemd's watchdog is no longer fed and the heartbeat pings /fail", o.name, o.late.as_secs())
                }
                None => tracing::warn!("every loop is on time again"),
            }
            was_late = !late.is_empty();
        }
        let status = match (&verdict, late.is_empty()) {
            (Some(v), true) => v.status.clone(),
            (v, false) => format!("{}; {}", late_word(&late), v.as_ref().map_or("starting", |v| v.status.as_str())),
            (None, true) => String::new(),
        };
        let mut states = Vec::new();
        if !ready && liveness::ready(&loops, started, now) {
            ready = true;
            states.push(NotifyState::Ready);
        }
        if late.is_empty() && watchdog.is_some_and(|w| fed_at.is_none_or(|t| now.duration_since(t) + step / 2 >= w)) {
            states.push(NotifyState::Watchdog);
            fed_at = Some(now);
        }
        if status != shown && !status.is_empty() {
            states.push(NotifyState::Status(&status));
        }
        if !states.is_empty() {
            systemd::notify(&states);
        }
        shown = status.clone();
        if let Some(v) = verdict {
            pinger.beat(v.heartbeat, v.healthy && late.is_empty());
        }
        if alive_at.elapsed() >= back_online::ALIVE_EVERY {
            let paths = paths.clone();
            tokio::task::spawn_blocking(move || back_online::alive(&paths));
            alive_at = Instant::now();
        }
    }
}

/// On SIGTERM/SIGINT: STOPPING=1.
pub fn stopping() {
    systemd::notify(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

fn late_word(late: &[Overdue]) -> String {
    late.iter().map(|o| format!("{} overdue by {} s", o.name, o.late.as_secs())).collect::<Vec<_>>().join(", ")
}

fn jobs_word(cfg: Option<&Config>) -> String {
    let n = cfg.map_or(0, |c| c.jobs.iter().filter(|j| j.enabled).count());
    format!("{n} enabled job{}", if n == 1 { "" } else { "s" })
}

fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(200).collect()
}
