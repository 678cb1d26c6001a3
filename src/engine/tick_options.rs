//! What a tick is asked to do ([`Scope`], [`TickOptions`]) and what it produced
//! ([`TickOutcome`]): the tick's interface, apart from how it does it (`engine/tick.rs`).

use super::config_watch::Snapshot;
use crate::render::Report;
use crate::store;
use std::sync::Arc;

/// Which part of the work a tick does. The CLI's one-shot `tick` does `All`; `serve` gives each
/// job its own schedule (`Job`), runs each due chain item on its own (`Items`) and does the rest
/// (`Global`) on the tick cadence, so a hung command delays nothing but itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// Everything, in one report.
    All,
    /// Approval expiry and config errors.
    Global,
    /// One job: a long job's status poll (and auto-resume), or a check when its schedule is due.
    Job(String),
    /// Chain items this process already claimed.
    Items(Vec<store::QueueItem>),
}

impl Scope {
    pub(super) fn global(&self) -> bool {
        matches!(self, Scope::All | Scope::Global)
    }
    pub(super) fn covers(&self, job: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Job(id) => id == job,
            _ => false,
        }
    }
}

/// How a tick behaves.
#[derive(Debug, Clone)]
pub struct TickOptions {
    /// Observe and report, but run no auto-resume, chain or schedule, and store nothing.
    pub dry_run: bool,
    /// Which work this tick does.
    pub scope: Scope,
    /// The daemon's config snapshot; None: read the file (the CLI).
    pub config: Option<Arc<Snapshot>>,
    /// Spool the report in the tick's transaction (`serve`: the report waits for company before
    /// it is queued, and a kill -9 meanwhile must not lose it; see [`store::spool`]).
    pub spool: bool,
    /// When the daemon started (Unix seconds): a cron mark before it passed while nothing
    /// watched, and runs late. None (the CLI's tick): marks older than a tick are late.
    pub started: Option<i64>,
}

impl Default for TickOptions {
    fn default() -> Self {
        TickOptions { dry_run: false, scope: Scope::All, config: None, spool: false, started: None }
    }
}

/// What a tick produced.
#[derive(Debug, Default)]
pub struct TickOutcome {
    /// The report (may be empty).
    pub report: Report,
    /// The config error, when the file is invalid (the last good config was used if any).
    pub config_error: Option<String>,
    /// Whether a config (current or last good) was available.
    pub had_config: bool,
    /// Sections held for the morning digest (quiet hours) instead of being reported now.
    pub held: usize,
    /// The spool row holding the report until it is delivered ([`TickOptions::spool`]).
    pub spooled: Option<i64>,
}
