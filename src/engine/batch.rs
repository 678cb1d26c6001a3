//! A tick's commands — status polls and due checks — run concurrently under one process-wide
//! bound, their results returned in the order the work was given.

use super::jobs::{self, Action};
use super::paths::Paths;
use super::runner::Outcome;
use crate::config::Job;
use crate::policy::failure::Failure;
use crate::policy::status::JobStatus;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Commands (status polls, checks) run at once by this process, across all ticks. Status
/// commands mostly wait (read a file, look at a pid), so the limit is set by what spawning costs,
/// not by cores: 32 per core, at least 16 and at most 64 (the point beyond which spawning 200
/// commands gets no faster here; see BENCHMARKS.md). CPU-heavy commands are held to the same
/// bound, and each has its own timeout, so they queue instead of starving the host.
pub fn parallelism() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores * 32).clamp(16, 64)
}

/// The process-wide permits behind [`parallelism`].
fn commands() -> Arc<Semaphore> {
    static SEM: std::sync::OnceLock<Arc<Semaphore>> = std::sync::OnceLock::new();
    SEM.get_or_init(|| Arc::new(Semaphore::new(parallelism()))).clone()
}

/// One command a tick wants run.
pub(super) enum Work {
    Poll(Job),
    Check { job: Job, queue_id: Option<i64>, reason: Option<String> },
}

/// What it came to.
pub(super) enum Done {
    Poll(Job, Result<JobStatus, Failure>),
    Check { job: Job, queue_id: Option<i64>, reason: Option<String>, out: Outcome },
}

/// Runs `work` concurrently (at most [`parallelism`] commands at once across the process).
pub(super) async fn run_all(work: Vec<Work>, paths: &Paths) -> Vec<Done> {
    let sem = commands();
    let mut set = JoinSet::new();
    for (i, w) in work.into_iter().enumerate() {
        let (sem, paths) = (sem.clone(), paths.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            let done = match w {
                Work::Poll(job) => {
                    let obs = jobs::observe(&job, &paths).await;
                    Done::Poll(job, obs)
                }
                Work::Check { job, queue_id, reason } => {
                    let origin = if queue_id.is_some() { "chain" } else { "schedule" };
                    let out = jobs::execute(&job, Action::Run, &paths, origin).await.unwrap_or_else(|e| Outcome::not_started(e.to_string()));
                    Done::Check { job, queue_id, reason, out }
                }
            };
            (i, done)
        });
    }
    let mut all: Vec<(usize, Done)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(done) => all.push(done),
            // Cancelled as the daemon stops (or a panic, already reported by its hook): that
            // piece of work is left out of this tick instead of taking the tick down with it.
            Err(e) => tracing::warn!(error = %e, "a command of this tick did not finish"),
        }
    }
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, d)| d).collect()
}
