//! The Telegram transport: bot (long polling), durable outbox sender, and the report sink.

mod amend;
mod approve;
mod attempt;
mod chart;
mod commands;
mod digest;
pub mod direct;
pub mod handlers;
mod listen;
mod live;
pub mod outbox;
mod presses;
mod probe;
mod respond;
pub mod sender;
mod settle;
pub mod text;
pub mod token;
mod views;

use crate::config::Config;
use crate::policy::report::Section;
use crate::render::Report;
use crate::shell::config_watch::ConfigWatch;
use crate::shell::paths::Paths;
use crate::shell::sink::Sink;
use crate::store::{prefs, Store};
use anyhow::Result;
use std::sync::Arc;
use teloxide::prelude::*;
use teloxide::utils::command::BotCommands;
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
    pub fn in_flight(&self, chat: i64, action: crate::shell::jobs::Action, job: &str) -> Option<InFlight> {
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
        if let Err(e) = self.store().and_then(|mut st| crate::store::live::saw(&mut st, chat, message_id)) {
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

/// Queues each report for every report chat of the snapshot in force, with Ack/Snooze buttons
/// for alerts, and the morning digest in each chat's language; routine progress goes to each
/// chat's live progress message instead.
pub struct OutboxSink {
    services: Arc<Services>,
}

impl Sink for OutboxSink {
    fn report(&self, report: &Report, cfg: Option<&Config>) -> Result<()> {
        let tz = cfg.map_or(chrono_tz::UTC, |c| c.timezone);
        let default = cfg.map_or(Default::default(), |c| c.locale);
        let host = crate::config::host::of(cfg);
        let mut store = self.services.store()?;
        let chats = self.services.config.current().report_chats.clone();
        // A section that only amends an alert already queued or sent edits it instead of ringing
        // (sent on its own, silently, to a chat that never got that alert).
        let amends_only = |s: &Section| s.amends.is_some() && s.anomaly.is_none();
        // Routine progress goes to the chat's live progress message.
        let news: Vec<Section> = live::others(report).sections.into_iter().filter(|s| !amends_only(s)).collect();
        for chat in &chats {
            let lang = prefs::chat_lang(&store, *chat, default)?;
            live::update(&mut store, *chat, report, &host, tz, lang)?;
            if !news.is_empty() {
                outbox::enqueue_report(&mut store, *chat, &Report { at: report.at, sections: news.clone(), digest: None }, &host, tz, lang)?;
            }
            let mut unmatched = Vec::new();
            for s in report.sections.iter().filter(|s| s.amends.is_some()) {
                if !amend::queue(&mut store, *chat, s, lang)? && amends_only(s) {
                    unmatched.push(s.clone());
                }
            }
            if !unmatched.is_empty() {
                outbox::enqueue_report(&mut store, *chat, &Report { at: report.at, sections: unmatched, digest: None }, &host, tz, lang)?;
            }
        }
        if let Some(d) = &report.digest {
            digest::enqueue(&mut store, &chats, d, &host, tz, default)?;
        }
        self.services.wake.notify_one();
        Ok(())
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
    let (allowlist, _) = crate::shell::config_watch::chats(cfg, &found.allow_from);
    if allowlist.is_empty() {
        return Err(FailClosed.into());
    }
    let api_url = cfg.telegram.api_url.clone().or_else(|| std::env::var("TELEGRAM_API_URL").ok().filter(|u| !u.is_empty()));
    crate::shell::secrets::register(token.expose());
    crate::store::outbox::remember_owners(&mut Store::open(&paths.state_db)?, &allowlist)?;
    Ok(Some(BotSetup { token, allow_from: found.allow_from, api_url }))
}

/// Registers the command menu (each description names `host`): English as the default, and each
/// other language for phones set to it. True when every language was registered.
async fn set_commands(bot: &Bot, token: &Token, host: &str) -> bool {
    let mut all = true;
    use teloxide::payloads::SetMyCommandsSetters;
    for lang in crate::i18n::ALL {
        let cmds: Vec<_> = handlers::Cmd::bot_commands()
            .into_iter()
            .map(|c| teloxide::types::BotCommand::new(c.command.trim_start_matches('/'), handlers::menu_description(&c.command, host, lang)))
            .collect();
        let req = bot.set_my_commands(cmds);
        let req = if lang == crate::i18n::Lang::En { req } else { req.language_code(lang.code().split('-').next().unwrap_or("en")) };
        if let Err(e) = req.await {
            tracing::warn!(error = %token::redact(&e.to_string(), token), lang = lang.code(), "setMyCommands failed");
            all = false;
        }
    }
    all
}

/// The host the command menu names now (None: not registered yet). Shared by the poller, which
/// registers the menu at each start, and [`menu_follows_host`]; the lock keeps two registrations
/// from interleaving, and each reads the host in force under it.
type MenuHost = Arc<tokio::sync::Mutex<Option<String>>>;

/// How long a failed re-registration of the menu waits before the next try.
const MENU_RETRY: std::time::Duration = std::time::Duration::from_secs(30);

/// Registers the menu for the host in force, unless it names that host already (`force`: always).
/// True when the menu names the host in force.
async fn register_menu(bot: &Bot, token: &Token, config: &ConfigWatch, menu: &MenuHost, force: bool) -> bool {
    let mut registered = menu.lock().await;
    let host = crate::config::host::of(config.config().as_deref());
    if !force && registered.as_deref() == Some(host.as_str()) {
        return true;
    }
    let ok = set_commands(bot, token, &host).await;
    if ok {
        *registered = Some(host);
    }
    ok
}

/// Keeps the menu's descriptions naming the host in force: a `host` changed in the config while
/// serving is registered again at once (retried while Telegram refuses), not only when polling
/// restarts. Waits for the poller's first registration.
async fn menu_follows_host(bot: Bot, token: Token, config: Arc<ConfigWatch>, menu: MenuHost) {
    let mut rx = config.subscribe();
    while rx.changed().await.is_ok() {
        while menu.lock().await.is_some() && !register_menu(&bot, &token, &config, &menu, false).await {
            tokio::time::sleep(MENU_RETRY).await;
        }
    }
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
        if let Err(e) = approve::announce_host_requests(&services) {
            tracing::warn!(error = %format!("{e:#}"), "could not announce host approval requests");
        }
        if let Err(e) = settle::settle_decided(&bot, &services).await {
            tracing::warn!(error = %format!("{e:#}"), "could not update decided request messages");
        }
        if let Err(e) = amend::edit_delivered(&bot, &services).await {
            tracing::warn!(error = %format!("{e:#}"), "could not edit alerts with their news");
        }
        if let Err(e) = reconcile_live(&services) {
            tracing::warn!(error = %format!("{e:#}"), "could not bring the live messages up to date");
        }
        tokio::time::sleep(ANNOUNCE_EVERY).await;
    }
}

/// Every report chat's live message follows the jobs' stored states (see [`live::reconcile`]).
fn reconcile_live(services: &Services) -> Result<()> {
    let Some(cfg) = services.config() else { return Ok(()) };
    let mut store = services.store()?;
    let chats = services.config.current().report_chats.clone();
    // Only the jobs the live messages show: every 2 s, with a thousand jobs configured.
    let mut shown = Vec::new();
    for c in &chats {
        shown.extend(crate::store::live::parts(&store, *c)?.into_iter().map(|p| p.job));
    }
    if shown.is_empty() {
        return Ok(());
    }
    shown.sort();
    shown.dedup();
    let states = store.job_states_of(&shown.iter().map(String::as_str).collect::<Vec<_>>())?;
    let mut any = false;
    for chat in chats {
        let lang = prefs::chat_lang(&store, chat, cfg.locale)?;
        any |= live::reconcile(&mut store, chat, &cfg, &states, lang)?;
    }
    if any {
        services.wake.notify_one();
    }
    Ok(())
}

/// Long polling that survives Telegram being unreachable at start-up or a crashed dispatcher:
/// waits until getMe answers (teloxide panics when it cannot), registers the command menu, then
/// dispatches; if the dispatcher dies it is rebuilt after a pause. Ticks and the outbox go on
/// meanwhile.
async fn poll_forever(
    bot: Bot,
    services: Arc<Services>,
    errors: Arc<PollErrors>,
    stop: Arc<std::sync::Mutex<Option<teloxide::dispatching::ShutdownToken>>>,
    token: Token,
    menu: MenuHost,
) {
    let policy = crate::policy::retry::POLL_RESTART;
    let mut failures = 0;
    loop {
        // Through the direct path: teloxide's would sleep 10 s after a 5xx before the retry's wait.
        if let Err(e) = direct::call(&bot, &teloxide::payloads::GetMe::new()).await {
            failures += 1;
            let pause = policy.wait(failures);
            let error = token::redact(&e.to_string(), &token);
            match e {
                // It answered, but not with the Bot API's JSON: a proxy, a captive portal or a
                // wrong telegram.apiUrl, not an outage.
                teloxide::RequestError::InvalidJson { .. } => tracing::warn!(
                    error = %error,
                    retry_in = ?pause,
                    "the Bot API answered getMe with something that is not its JSON (a proxy, or a wrong telegram.apiUrl?); commands wait, reports stay queued"
                ),
                _ => tracing::warn!(error = %error, retry_in = ?pause, "Telegram unreachable; commands wait, reports stay queued"),
            }
            tokio::time::sleep(pause).await;
            continue;
        }
        // The menu is registered beside polling, not before it: a Bot API answering 5xx to
        // setMyCommands (teloxide waits 10 s after each) must not keep the bot deaf at start.
        {
            let (bot, token, config, menu) = (bot.clone(), token.clone(), services.config.clone(), menu.clone());
            tokio::spawn(async move { register_menu(&bot, &token, &config, &menu, true).await });
        }
        let mut dispatcher = Dispatcher::builder(bot.clone(), handlers::schema())
            .dependencies(dptree::deps![services.clone()])
            .default_handler(|_| async {})
            .error_handler({
                let token = token.clone();
                Arc::new(move |e: anyhow::Error| {
                    let text = token::redact(&format!("{e:#}"), &token);
                    async move { tracing::error!(error = %text, "handler failed") }
                })
            })
            .build();
        *stop.lock().expect("shutdown token") = Some(dispatcher.shutdown_token());
        let listener = listen::listener(&bot, &token).await;
        let errs = errors.clone();
        let started = std::time::Instant::now();
        match tokio::spawn(async move { dispatcher.dispatch_with_listener(listener, errs).await }).await {
            Ok(()) => return, // shut down
            Err(e) => tracing::error!(error = %token::redact(&e.to_string(), &token), "polling stopped unexpectedly; restarting"),
        }
        // A dispatcher that ran for a while starts the backoff afresh; one that keeps dying backs off.
        failures = if started.elapsed() > policy.max { 1 } else { failures + 1 };
        tokio::time::sleep(policy.wait(failures)).await;
    }
}

/// Polling errors: logged (token redacted); a 409 conflict is also reported to the owner hourly.
struct PollErrors {
    services: Arc<Services>,
    token: Token,
}

impl teloxide::error_handlers::ErrorHandler<teloxide::RequestError> for PollErrors {
    fn handle_error(self: Arc<Self>, e: teloxide::RequestError) -> futures_util::future::BoxFuture<'static, ()> {
        Box::pin(async move {
            let text = token::redact(&e.to_string(), &self.token);
            tracing::error!(error = %text, "polling failed");
            if matches!(e, teloxide::RequestError::Api(teloxide::ApiError::TerminatedByOtherGetUpdates)) {
                if let Err(err) = self.warn_conflict() {
                    tracing::error!(error = %err, "could not queue the conflict warning");
                }
            }
        })
    }
}

impl PollErrors {
    fn warn_conflict(&self) -> Result<()> {
        let mut store = self.services.store()?;
        let now = chrono::Utc::now().timestamp();
        let last: i64 = store.meta("conflict_warned_at")?.and_then(|v| v.parse().ok()).unwrap_or(0);
        if now - last < 3600 {
            return Ok(());
        }
        store.set_meta("conflict_warned_at", &now.to_string())?;
        for chat in &self.services.config.current().report_chats {
            let lang = self.services.lang(*chat);
            let host = crate::config::host::of(self.services.config().as_deref());
            outbox::enqueue(&mut store, *chat, &crate::t!(lang, "warn-conflict", host = host), false, None)?;
        }
        self.services.wake.notify_one();
        Ok(())
    }
}
