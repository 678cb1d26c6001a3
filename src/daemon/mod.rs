//! `ops-monitor serve`: wires the parts — config snapshot, store, per-job schedules, coalescer,
//! pid watcher and (with a token) the Telegram bot and outbox sender. A library function so tests
//! can boot it in-process.

mod coalesce;
mod lock;
pub mod schedule;
mod status_watch;
mod unwatched;
mod watch;

pub use lock::{LockHeld, ServeLock};
pub use status_watch::StatusWatch;
pub use watch::PidWatch;

use crate::config;
use crate::engine::config_watch::ConfigWatch;
use crate::engine::paths::Paths;
use crate::engine::sink::{ConsoleSink, Sink};
use crate::render::Report;
use crate::store::Store;
use anyhow::Result;
use std::future::Future;
use std::sync::Arc;

/// What `serve` has to say before its schedules start: the reports a killed predecessor left
/// spooled, then the write runs found interrupted.
pub struct Startup {
    /// The report.
    pub report: Report,
    /// The spool rows it delivers (forgotten once it is queued).
    pub spooled: Vec<i64>,
}

impl Startup {
    /// Reads the spool left by a previous process and adds `interrupted` after it.
    pub fn gather(store: &Store, interrupted: Vec<crate::policy::report::Section>) -> Result<Startup> {
        let (spooled, first, mut sections) = crate::store::spool::pending(store)?;
        if !spooled.is_empty() {
            tracing::warn!(reports = spooled.len(), "reports the last process decided on but had not queued are delivered now");
        }
        sections.extend(interrupted);
        let at = first.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).unwrap_or_else(chrono::Utc::now);
        Ok(Startup { report: Report { at: Some(at), sections, digest: None }, spooled })
    }
}

/// Runs the schedules until `shutdown` resolves, delivering to `sink`; `startup` is delivered
/// first.
pub async fn run_schedules(paths: &Paths, config: Arc<ConfigWatch>, sink: Arc<dyn Sink>, startup: Startup, shutdown: impl Future<Output = ()>) -> Result<()> {
    if !startup.report.is_empty() {
        sink.report(&startup.report, config.config().as_deref())?;
    }
    crate::store::spool::remove(&mut Store::open(&paths.state_db)?, &startup.spooled)?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let pids = PidWatch::default();
    let live = crate::watch::Liveness::default();
    let started = chrono::Utc::now().timestamp();
    let ctx = schedule::Ctx {
        paths: paths.clone(),
        config: config.clone(),
        reports: tx,
        pids: pids.clone(),
        files: StatusWatch::default(),
        live: live.clone(),
        started,
        unwatched: Default::default(),
    };
    let tasks = [
        tokio::spawn(crate::watch::feed(live, paths.clone())),
        tokio::spawn(pids.run()),
        tokio::spawn(config.clone().run(schedule::SUPERVISE_EVERY)),
        tokio::spawn(schedule::run(ctx)),
        tokio::spawn(coalesce::run(rx, sink, config, paths.state_db.clone())),
    ];
    shutdown.await;
    for t in tasks {
        t.abort();
    }
    crate::watch::back_online::stopped_cleanly(paths);
    Ok(())
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed when this is called, not when the
/// future is first polled: `serve` calls it first thing, so a SIGTERM during start-up is a clean
/// stop rather than the default action (death without the clean-stop mark).
pub fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = int.recv() => tracing::info!("SIGINT: shutting down"),
        }
        crate::watch::stopping();
    }
}

/// The daemon: lock, repair, config snapshot, then the schedules (and the bot, with a token,
/// unless `console` asks for the console) until SIGTERM/SIGINT.
pub async fn serve(paths: Paths, console: bool) -> Result<()> {
    let shutdown = shutdown_signal();
    crate::engine::paths::check_private_state(&paths)?;
    let mut store = Store::open(&paths.state_db)?;
    let _lock = ServeLock::acquire(&paths.state_db)?;
    let repaired = store.repair(chrono::Utc::now().timestamp())?;
    if repaired > 0 {
        tracing::warn!(runs = repaired, "runs in flight at the last stop were marked interrupted");
    }
    let cfg = config::load(&paths.config, &paths.home).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut interrupted = crate::engine::verify::interrupted_sections(&mut store, &cfg, chrono::Utc::now().timestamp())?;
    interrupted.extend(reset_states(&mut store, &cfg)?);
    let startup = Startup::gather(&store, interrupted)?;
    let setup = if console { None } else { crate::chat::setup(&cfg, &paths)? };
    let config = Arc::new(ConfigWatch::load(&paths, setup.as_ref().map(|b| b.allow_from.clone()).unwrap_or_default()));
    crate::watch::back_online::on_start(&paths, &cfg, setup.as_ref().map(|_| config.current().report_chats.clone()).as_deref())?;
    match setup {
        Some(setup) => {
            eprintln!("ops-monitor serve: Telegram bot on, {} allowed chat(s)", config.current().allowlist.len());
            let bot = crate::chat::start(&paths, setup, config.clone())?;
            let sink: Arc<dyn Sink> = bot.sink();
            run_schedules(&paths, config, sink, startup, shutdown).await?;
            bot.shutdown().await;
            Ok(())
        }
        None => {
            match console {
                true => eprintln!("ops-monitor serve --console: reports are printed to the console; Telegram is not used"),
                false => eprintln!("ops-monitor serve: no Telegram token configured; reports are printed to the console"),
            }
            run_schedules(&paths, config, Arc::new(ConsoleSink { state_db: paths.state_db.clone() }), startup, shutdown).await
        }
    }
}

/// Repairs the job states on start ([`Store::repair_states`]): each job whose state could not be
/// read is told once, by a section of its own, and logged.
fn reset_states(store: &mut Store, cfg: &config::Config) -> Result<Vec<crate::policy::report::Section>> {
    let bad = store.repair_states(chrono::Utc::now().timestamp())?;
    Ok(bad
        .into_iter()
        .map(|(job, error)| {
            tracing::warn!(job = job.as_str(), error = error.as_str(), "the job's stored state could not be read; moved to job_state_unreadable");
            let mut s = match cfg.job(&job) {
                Some(j) => crate::policy::report::Section::for_job(j),
                None => crate::policy::report::Section::system(&job, &job),
            };
            s.loud = true;
            s.notes.push(crate::policy::report::Note::StateReset { error });
            s
        })
        .collect())
}
