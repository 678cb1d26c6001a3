//! `ops-monitor serve`: the tick loop, the pid watcher, and (with a token) the Telegram bot and
//! outbox sender, sharing one store. A library function so tests can boot it in-process.

mod lock;
mod watch;

pub use lock::ServeLock;
pub use watch::PidWatch;

use crate::config;
use crate::render;
use crate::shell::paths::Paths;
use crate::shell::tick::{self, Scope, TickOptions};
use crate::store::Store;
use anyhow::Result;
use std::future::Future;
use std::time::Duration;

/// Where reports go.
pub trait Sink: Send + Sync {
    /// Delivers (or durably queues) one tick's report.
    fn report(&self, report: &render::Report, cfg: Option<&config::Config>) -> Result<()>;
}

/// Prints reports to stdout (no Telegram token).
pub struct ConsoleSink;

impl Sink for ConsoleSink {
    fn report(&self, report: &render::Report, cfg: Option<&config::Config>) -> Result<()> {
        use std::io::Write;
        let tz = cfg.map_or(chrono_tz::UTC, |c| c.timezone);
        let mut out = std::io::stdout().lock();
        let lang = cfg.map_or(Default::default(), |c| c.locale);
        writeln!(out, "{}\n", render::report_text(report, tz, lang))?;
        out.flush()?;
        Ok(())
    }
}

/// Runs ticks until `shutdown` resolves, in two loops: long jobs (every `tickSeconds`, or at
/// once when a watched pid dies) and checks/chains (every `tickSeconds`), so a check that hangs
/// until its timeout never holds back a long job's alert.
pub async fn tick_loop(paths: &Paths, sink: &dyn Sink, shutdown: impl Future<Output = ()>) -> Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let watch = PidWatch::default();
    let watcher = tokio::spawn(watch.clone().run());
    tokio::join!(
        async {
            shutdown.await;
            let _ = stop_tx.send(true);
        },
        run_loop(paths, sink, Scope::Watch, Some(&watch), stop_rx.clone()),
        run_loop(paths, sink, Scope::Checks, None, stop_rx),
    );
    watcher.abort();
    crate::watch::back::stopped_cleanly(paths);
    Ok(())
}

async fn stopped(rx: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

async fn run_loop(paths: &Paths, sink: &dyn Sink, scope: Scope, watch: Option<&PidWatch>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let opts = TickOptions { scope, ..TickOptions::default() };
    loop {
        let done = tokio::select! {
            r = tick::tick(paths, &opts) => Some(r),
            _ = stopped(&mut stop) => None,
        };
        let Some(result) = done else { break };
        let cfg = config::load(&paths.config, &paths.home).ok();
        if let Some(w) = watch {
            w.set(running_pids(paths));
        }
        if scope == Scope::Watch {
            crate::watch::after_tick(paths, &result, cfg.as_ref());
        }
        match result {
            Ok(out) => {
                if let (Some(e), Scope::Watch) = (&out.config_error, scope) {
                    tracing::warn!(error = %e, "config invalid");
                }
                if !out.report.is_empty() {
                    if let Err(e) = sink.report(&out.report, cfg.as_ref()) {
                        tracing::error!(error = %e, "could not deliver report");
                    }
                }
            }
            Err(e) => tracing::error!(error = %format!("{e:#}"), ?scope, "tick failed"),
        }
        let every = Duration::from_secs(cfg.map_or(60, |c| c.tick_seconds));
        let died = async {
            match watch {
                Some(w) => w.died.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = crate::watch::idle(paths, every, scope == Scope::Watch) => {}
            _ = died => tracing::info!("a watched job exited; ticking now"),
            _ = stopped(&mut stop) => break,
        }
    }
}

fn running_pids(paths: &Paths) -> Vec<i32> {
    let Ok(store) = Store::open(&paths.state_db) else {
        return Vec::new();
    };
    let states = store.job_states().unwrap_or_default();
    states.values().filter_map(|s| s.last_seen.as_ref()).filter(|s| s.running).filter_map(|s| s.pid).map(|p| p as i32).collect()
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = int.recv() => tracing::info!("SIGINT: shutting down"),
    }
    crate::watch::stopping();
}

/// The daemon: lock, repair, then the tick loop (console mode) until SIGTERM/SIGINT.
pub async fn serve(paths: Paths) -> Result<()> {
    let mut store = Store::open(&paths.state_db)?;
    let _lock = ServeLock::acquire(&paths.state_db)?;
    let repaired = store.repair(chrono::Utc::now().timestamp())?;
    if repaired > 0 {
        tracing::warn!(runs = repaired, "runs in flight at the last stop were marked interrupted");
    }
    let cfg = config::load(&paths.config, &paths.home).map_err(|e| anyhow::anyhow!("{e}"))?;
    let interrupted = crate::shell::verify::interrupted_sections(&mut store, &cfg, chrono::Utc::now().timestamp())?;
    let startup = render::Report { at: Some(chrono::Utc::now()), sections: interrupted };
    let bot = crate::telegram::setup(&cfg, &paths)?;
    crate::watch::back::on_start(&paths, &cfg, bot.as_ref().map(|b| b.report_chats.as_slice()))?;
    match bot {
        Some(bot) => {
            eprintln!("ops-monitor serve: Telegram bot on, {} allowed chat(s)", bot.allowlist.len());
            crate::telegram::run(paths, bot, startup, shutdown_signal()).await
        }
        None => {
            eprintln!("ops-monitor serve: no Telegram token configured; reports are printed to the console");
            if !startup.is_empty() {
                ConsoleSink.report(&startup, Some(&cfg))?;
            }
            tick_loop(&paths, &ConsoleSink, shutdown_signal()).await
        }
    }
}
