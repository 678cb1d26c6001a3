//! The Telegram transport: bot (long polling), durable outbox sender, and the report sink.

mod alert_edits;
mod approval_chat;
mod attempt;
mod chart_reply;
mod command_acts;
mod digest_send;
pub mod direct;
pub mod handlers;
mod listen;
mod live_message;
mod menu;
pub mod outbox_queue;
mod polling;
mod presses;
mod probe;
mod report_sink;
mod respond;
pub mod sender;
mod settle;
pub mod text;
pub mod token;
mod told;
mod views;

use crate::config::Config;
use crate::engine::config_watch::ConfigWatch;
use crate::engine::paths::Paths;
use crate::engine::sink::Sink;
use crate::render::Report;
use crate::store::{prefs, Store};
use anyhow::Result;
use menu::{menu_follows_host, MenuHost};
use polling::{poll_forever, PollErrors};
use report_sink::OutboxSink;
use std::sync::Arc;
use teloxide::prelude::*;
use token::Token;
use tokio::sync::Notify;

/// A token is configured but the allowlist is empty: `serve` and `tick` refuse (fail closed).
#[derive(Debug, thiserror::Error)]
#[error("a Telegram token is configured but the allowlist is empty: set telegram.allowedChatIds (refusing to start: fail closed)")]
pub struct FailClosed;

/// Shared services injected into handlers (never Debug-printed: it holds the token).
pub struct Services {
    /// Paths of config and store.
    pub paths: Paths,
    /// The daemon's config snapshot: allowlist, approvers, locale, timezone, jobs.
    pub config: Arc<ConfigWatch>,
    /// Wakes the outbox sender after a message was queued.
    pub wake: Arc<Notify>,
    /// Actions from the chat running now (chat, action, job): each runs once at a time.
    pub running: ActionsRunning,
}

/// The actions from chats running now: (chat, action, job).
pub type ActionsRunning = Arc<std::sync::Mutex<std::collections::HashSet<(i64, &'static str, String)>>>;

/// An action from a chat in flight; it is over when this is dropped.
pub struct InFlight {
    running: ActionsRunning,
    key: (i64, &'static str, String),
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.key);
    }
}

impl Services {
    /// Allowlist check against the snapshot in force (fail closed: an empty list allows nobody).
    /// Every update passes here first, so the snapshot is brought up to date (one `stat` when the
    /// file did not change): a press decides against the definition on disk, not a second-old one.
    pub fn allowed(&self, chat: i64) -> bool {
        self.config.refresh();
        self.config.current().allowlist.contains(&chat)
    }
    /// Marks `action` on `job` from `chat` as running; None when it runs already.
    pub fn in_flight(&self, chat: i64, action: crate::engine::jobs::Action, job: &str) -> Option<InFlight> {
        let key = (chat, action.as_str(), job.to_string());
        let fresh = self.running.lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone());
        fresh.then(|| InFlight { running: self.running.clone(), key })
    }
    /// The allowed chats now.
    pub fn allowlist(&self) -> Vec<i64> {
        self.config.current().allowlist.clone()
    }
    /// A store handle.
    pub fn store(&self) -> Result<Store> {
        Store::open(&self.paths.state_db)
    }
    /// The language of `chat`: its /lang choice or first-contact guess, else the config's locale.
    pub fn lang(&self, chat: i64) -> crate::i18n::Lang {
        let default = self.config().map_or(Default::default(), |c| c.locale);
        self.store().and_then(|s| prefs::chat_lang(&s, chat, default)).unwrap_or(default)
    }
    /// An update came from allowed `chat`: it can be reached now, so its unreachable mark goes
    /// (its reply must not be dropped for a refusal from before it opened the bot).
    pub fn heard_from(&self, chat: i64) {
        match self.store().and_then(|mut st| crate::store::held::clear_unreachable(&mut st, chat)) {
            Ok(true) => tracing::info!(chat_id = chat, "chat reachable again: it wrote to the bot"),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "could not clear the unreachable mark"),
        }
    }
    /// Message `message_id` appeared in `chat` outside the outbox (a person's message, a photo):
    /// the chat's live progress message moves below it with the next routine report.
    pub fn saw(&self, chat: i64, message_id: i32) {
        if let Err(e) = self.store().and_then(|mut st| crate::store::live_parts::saw(&mut st, chat, message_id)) {
            tracing::warn!(error = %e, "could not note a message posted to the chat");
        }
    }
    /// Queues the messages held while `chat` had not opened the bot, after its reply, headed by
    /// one line saying they were held.
    pub fn release_held(&self, chat: i64) {
        let lang = self.lang(chat);
        let released = self.store().and_then(|mut st| crate::store::held::release(&mut st, chat, |n| crate::t!(lang, "held-heading", count = n)));
        match released {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(chat_id = chat, held = n, "held messages queued after first contact");
                self.wake.notify_one();
            }
            Err(e) => tracing::error!(error = %e, "could not release the held messages"),
        }
    }
    /// The config in force (the file's, or the last good one while it is invalid).
    pub fn config(&self) -> Option<Arc<Config>> {
        self.config.config()
    }
}

/// What `serve` needs to run the bot.
pub struct BotSetup {
    /// The token.
    pub token: Token,
    /// `channels.telegram.allowFrom` of openclaw.json (the allowlist when the config has none).
    pub allow_from: Vec<i64>,
    /// API base URL override.
    pub api_url: Option<String>,
}

/// Decides the bot setup (fails closed when there is a token but no allowlist) and remembers the
/// owners' chats for the sender's warnings.
pub fn setup(cfg: &Config, paths: &Paths) -> Result<Option<BotSetup>> {
    let found = token::resolve(cfg, &paths.home)?;
    let Some(token) = found.token else {
        return Ok(None);
    };
    let (allowlist, _) = crate::engine::config_watch::chats(cfg, &found.allow_from);
    if allowlist.is_empty() {
        return Err(FailClosed.into());
    }
    let api_url = cfg.telegram.api_url.clone().or_else(|| std::env::var("TELEGRAM_API_URL").ok().filter(|u| !u.is_empty()));
    crate::engine::secrets::register(token.expose());
    crate::store::delivery::remember_owners(&mut Store::open(&paths.state_db)?, &allowlist)?;
    Ok(Some(BotSetup { token, allow_from: found.allow_from, api_url }))
}

fn make_bot(b: &BotSetup) -> Result<Bot> {
    let mut bot = Bot::new(b.token.expose());
    if let Some(u) = &b.api_url {
        bot = bot.set_api_url(u.parse()?);
    }
    Ok(bot)
}

/// `tick` on the CLI: queues the report like the daemon would and delivers the outbox
/// (bounded wait); returns how many messages are still pending (the daemon sends them later).
pub async fn deliver_now(paths: &Paths, b: &BotSetup, report: &Report, cfg: Option<&Config>) -> Result<i64> {
    let config = Arc::new(ConfigWatch::load(paths, b.allow_from.clone()));
    let services = Arc::new(Services { paths: paths.clone(), config: config.clone(), wake: Arc::new(Notify::new()), running: Arc::default() });
    OutboxSink { services }.report(report, cfg)?;
    sender::flush(&make_bot(b)?, &paths.state_db, &b.token, &config, std::time::Duration::from_secs(30)).await
}

/// The running bot: long polling, outbox sender and request announcer, and its report sink.
pub struct Running {
    services: Arc<Services>,
    stop: Arc<std::sync::Mutex<Option<teloxide::dispatching::ShutdownToken>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// The sink that queues reports for the report chats.
    pub fn sink(&self) -> Arc<dyn Sink> {
        Arc::new(OutboxSink { services: self.services.clone() })
    }

    /// Stops polling (bounded wait) and the background tasks.
    pub async fn shutdown(self) {
        let token = self.stop.lock().expect("shutdown token").clone();
        if let Some(t) = token {
            if let Ok(f) = t.shutdown() {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(3), f).await;
            }
        }
        for t in self.tasks {
            t.abort();
        }
    }
}

/// Starts dispatcher, outbox sender and announcer; reports are queued through [`Running::sink`].
pub fn start(paths: &Paths, b: BotSetup, config: Arc<ConfigWatch>) -> Result<Running> {
    let bot = make_bot(&b)?;
    let wake = Arc::new(Notify::new());
    let services = Arc::new(Services { paths: paths.clone(), config: config.clone(), wake: wake.clone(), running: Arc::default() });
    let stop: Arc<std::sync::Mutex<Option<teloxide::dispatching::ShutdownToken>>> = Arc::default();
    let poll_errors = Arc::new(PollErrors { services: services.clone(), token: b.token.clone() });
    let menu = MenuHost::default();
    let tasks = vec![
        tokio::spawn(sender::run(bot.clone(), paths.state_db.clone(), wake, b.token.clone(), config.clone())),
        tokio::spawn(menu_follows_host(bot.clone(), b.token.clone(), config, menu.clone())),
        tokio::spawn(poll_forever(bot.clone(), services.clone(), poll_errors, stop.clone(), b.token.clone(), menu)),
        tokio::spawn(announce_forever(bot, services.clone())),
    ];
    Ok(Running { services, stop, tasks })
}

/// How often the store is checked for approval requests made on the host.
const ANNOUNCE_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Sends host requests to the approvers soon after `ops-monitor run <write job>` made them, and
/// edits the messages of every request that left the pending state (decided, expired, void).
async fn announce_forever(bot: Bot, services: Arc<Services>) {
    loop {
        if let Err(e) = approval_chat::announce_host_requests(&services) {
            tracing::warn!(error = %format!("{e:#}"), "could not announce host approval requests");
        }
        if let Err(e) = settle::settle_decided(&bot, &services).await {
            tracing::warn!(error = %format!("{e:#}"), "could not update decided request messages");
        }
        if let Err(e) = alert_edits::edit_delivered(&bot, &services).await {
            tracing::warn!(error = %format!("{e:#}"), "could not edit alerts with their news");
        }
        if let Err(e) = reconcile_live(&services) {
            tracing::warn!(error = %format!("{e:#}"), "could not bring the live messages up to date");
        }
        tokio::time::sleep(ANNOUNCE_EVERY).await;
    }
}

/// Every report chat's live message follows the jobs' stored states (see [`live_message::reconcile`]).
fn reconcile_live(services: &Services) -> Result<()> {
    let Some(cfg) = services.config() else { return Ok(()) };
    let mut store = services.store()?;
    let chats = services.config.current().report_chats.clone();
    // Only the jobs the live messages show: every 2 s, with a thousand jobs configured.
    let mut shown = Vec::new();
    for c in &chats {
        shown.extend(crate::store::live_parts::parts(&store, *c)?.into_iter().map(|p| p.job));
    }
    if shown.is_empty() {
        return Ok(());
    }
    shown.sort();
    shown.dedup();
    let ids: Vec<&str> = shown.iter().map(String::as_str).collect();
    let states = store.job_states_of(&ids)?;
    let said = crate::store::decision_rows::of_jobs(&store, &ids)?;
    let mut any = false;
    for chat in chats {
        let lang = prefs::chat_lang(&store, chat, cfg.locale)?;
        any |= live_message::reconcile(&mut store, chat, &cfg, (&states, &said), lang)?;
    }
    if any {
        services.wake.notify_one();
    }
    Ok(())
}
