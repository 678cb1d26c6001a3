//! One config snapshot for the whole daemon. The file is loaded and validated at start and again
//! whenever it changes (a cheap `stat` at least every tick); every reader (ticks, the bot's
//! allowlist, report chats, approvers, locale, timezone, cadence) takes the current immutable
//! snapshot and nothing re-reads the file on its own. An invalid file leaves the last good config
//! in force for everything and is carried as `error`, which the global tick reports hourly.

use super::paths::Paths;
use crate::config::{self, Config, ConfigError};
use crate::store::Store;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// What every part of the daemon reads, as of the last look at the file.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The config in force: the file's, or the last good one while the file is invalid.
    pub cfg: Option<Arc<Config>>,
    /// Why the file is invalid right now (None when it loads).
    pub error: Option<Arc<ConfigError>>,
    /// Chats that may talk to the bot (fail closed: empty allows nobody).
    pub allowlist: Vec<i64>,
    /// Chats that receive reports.
    pub report_chats: Vec<i64>,
}

impl Snapshot {
    /// The forum topic (`message_thread_id`) for messages to `chat`: `telegram.reportThreadId`
    /// for report chats that are groups (a private chat has no topics), else none.
    pub fn thread_of(&self, chat: i64) -> Option<i32> {
        self.cfg.as_ref()?.telegram.topic_of(chat, &self.report_chats)
    }
}

/// How fresh a failing file may be before its error is believed: an editor (or a test) that
/// truncates then writes the file shows a half-written file for an instant.
const SETTLE: Duration = Duration::from_secs(1);

type Stamp = Option<(SystemTime, u64)>;

/// Holds the current snapshot and notices changes of the file.
pub struct ConfigWatch {
    paths: Paths,
    allow_from: Vec<i64>,
    tx: watch::Sender<Arc<Snapshot>>,
    /// What the file looked like when it was last loaded (None: never loaded).
    seen: Mutex<Option<Stamp>>,
}

fn stamp(path: &std::path::Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

impl ConfigWatch {
    /// Loads the file now (falling back to the last good config kept in the store).
    /// `allow_from` is the allowlist found beside the token (openclaw.json), used when the
    /// config names no allowed chats.
    pub fn load(paths: &Paths, allow_from: Vec<i64>) -> ConfigWatch {
        let w = ConfigWatch { paths: paths.clone(), allow_from, tx: watch::channel(Arc::new(Snapshot::default())).0, seen: Mutex::new(None) };
        w.refresh();
        w
    }

    /// The snapshot in force.
    pub fn current(&self) -> Arc<Snapshot> {
        self.tx.borrow().clone()
    }

    /// The config in force (None only when no good config was ever seen).
    pub fn config(&self) -> Option<Arc<Config>> {
        self.current().cfg.clone()
    }

    /// A receiver that sees each new snapshot.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.tx.subscribe()
    }

    /// Loads the file again when it changed since the last load; returns whether a new snapshot
    /// was published. Costs one `stat` when nothing changed.
    pub fn refresh(&self) -> bool {
        let now = stamp(&self.paths.config);
        if self.seen.lock().expect("config stamp").as_ref() == Some(&now) {
            return false;
        }
        let (snap, settled) = self.read();
        if settled {
            *self.seen.lock().expect("config stamp") = Some(now);
        }
        if !settled && self.current().cfg.is_some() {
            return false;
        }
        self.tx.send_replace(Arc::new(snap));
        true
    }

    /// Reads the file; the bool says whether the result can be trusted (a failing file that was
    /// written in the last second is looked at again).
    fn read(&self) -> (Snapshot, bool) {
        match config::load(&self.paths.config, &self.paths.home) {
            Ok(cfg) => {
                // Each load (the start, then every change of the file) names its warnings:
                // unknown keys, unreachable approvers.
                log_warnings(&self.paths, &cfg);
                if cfg.telegram.allowed_chat_ids.is_empty() && !self.allow_from.is_empty() {
                    let list = "openclaw.json's channels.telegram.allowFrom";
                    for w in config::unreachable_approvers(&cfg.telegram.approver_user_ids, &self.allow_from, list) {
                        tracing::warn!("{w}");
                    }
                }
                if let Err(e) = remember(&self.paths) {
                    tracing::warn!(error = %format!("{e:#}"), "could not keep the config as the last good one");
                }
                (self.snapshot(Some(Arc::new(cfg)), None), true)
            }
            Err(e) => {
                let fresh =
                    std::fs::metadata(&self.paths.config).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok()).is_some_and(|age| age < SETTLE);
                let cfg = self.current().cfg.clone().or_else(|| last_good(&self.paths).map(Arc::new));
                (self.snapshot(cfg, Some(Arc::new(e))), !fresh)
            }
        }
    }

    fn snapshot(&self, cfg: Option<Arc<Config>>, error: Option<Arc<ConfigError>>) -> Snapshot {
        let (allowlist, report_chats) = match &cfg {
            Some(c) => chats(c, &self.allow_from),
            None => (Vec::new(), Vec::new()),
        };
        Snapshot { cfg, error, allowlist, report_chats }
    }

    /// Looks at the file every `every` until the process ends.
    pub async fn run(self: Arc<Self>, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            let me = self.clone();
            match tokio::task::spawn_blocking(move || me.refresh()).await {
                Ok(true) => tracing::info!("config file changed; new snapshot in force"),
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "config refresh failed"),
            }
        }
    }
}

/// Allowed chats (the config's, else openclaw.json's) and report chats (else the allowed ones).
pub fn chats(cfg: &Config, allow_from: &[i64]) -> (Vec<i64>, Vec<i64>) {
    let allowlist = if cfg.telegram.allowed_chat_ids.is_empty() { allow_from.to_vec() } else { cfg.telegram.allowed_chat_ids.clone() };
    let report = if cfg.telegram.report_chat_ids.is_empty() { allowlist.clone() } else { cfg.telegram.report_chat_ids.clone() };
    (allowlist, report)
}

/// Keeps the file's text as the last good config (for a restart while the file is broken).
/// Returns whether the text was new (a changed file).
pub fn remember(paths: &Paths) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(&paths.config)?;
    let mut store = Store::open(&paths.state_db)?;
    let changed = store.meta("last_good_config")?.as_deref() != Some(text.as_str());
    if changed {
        store.set_meta("last_good_config", &text)?;
    }
    Ok(changed)
}

/// Logs a loaded file's warnings (they never fail it).
pub fn log_warnings(paths: &Paths, cfg: &Config) {
    for w in &cfg.warnings {
        tracing::warn!(config = %paths.config.display(), "{w}");
    }
}

/// The last good config kept in the store, if any.
pub fn last_good(paths: &Paths) -> Option<Config> {
    let text = Store::open(&paths.state_db).ok()?.meta("last_good_config").ok()??;
    config::parse(&text, &paths.config, &paths.home).ok()
}
