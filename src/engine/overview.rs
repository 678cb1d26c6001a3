//! A current view of every job, for `status` on the CLI and `/status` in the chat.

use super::jobs;
use super::paths::Paths;
use crate::config::{Config, Kind};
use crate::policy::rate::{self, Estimate, Sample};
use crate::policy::standing;
use crate::policy::status::JobStatus;
use crate::store::{RunRecord, Store};
use anyhow::Result;
use std::collections::HashMap;

pub use crate::render::overview_text::JobView;

/// Observes every job, or only the job `only` names (none when no job has that id): long jobs'
/// status commands run concurrently; one-shot jobs show their last run.
pub async fn observe_all(paths: &Paths, cfg: &Config, only: Option<&str>) -> Result<Vec<JobView>> {
    let store = Store::open(&paths.state_db)?;
    let wanted = |job: &&crate::config::Job| only.is_none_or(|id| job.id == id);
    let mut set = tokio::task::JoinSet::new();
    for (i, job) in cfg.jobs.iter().filter(wanted).enumerate() {
        if job.kind == Kind::LongRunningRead {
            let (job, paths) = (job.clone(), paths.clone());
            set.spawn(async move { (i, jobs::observe(&job, &paths).await) });
        }
    }
    let mut statuses: Vec<(usize, Result<JobStatus, crate::policy::failure::Failure>)> = set.join_all().await;
    statuses.sort_by_key(|(i, _)| *i);
    let mut statuses = statuses.into_iter().peekable();
    let states = store.job_states()?;
    let said = crate::store::decision_rows::all(&store)?;
    let mut out = Vec::new();
    for (i, job) in cfg.jobs.iter().filter(wanted).enumerate() {
        let status = match statuses.peek() {
            Some((j, _)) if *j == i => statuses.next().map(|(_, s)| s),
            _ => None,
        };
        let now = chrono::Utc::now().timestamp();
        let st = states.get(&job.id).cloned().unwrap_or_default();
        let estimate = match &status {
            Some(Ok(s)) => estimate_now(&store, &job.id, s, now, crate::policy::lifecycle::current_run(&st))?,
            _ => None,
        };
        let decided = said.get(&job.id).cloned().unwrap_or_default();
        let standing = match &status {
            Some(Ok(s)) => Some(standing::long(job, &st, &decided, s, now)),
            Some(Err(_)) => None,
            None => standing::check(&st),
        };
        let next_run = crate::policy::cron::Schedule::of(job).and_then(|s| s.next_after(chrono::Utc::now()));
        let seen_running = crate::policy::live::still_running(&st, &decided);
        let last_run = store.runs(&job.id, 1)?.into_iter().next().map(masked);
        out.push(JobView { job: job.clone(), status, last_run, estimate, standing, next_run, seen_running });
    }
    Ok(out)
}

/// Whether each long job runs now, by a fresh status (its status file or command, concurrently),
/// else by what the stored state last saw: the pickers offer Start and Stop by it, so a job
/// started or finished since the last poll is offered what can be done now.
pub async fn running_now(paths: &Paths, cfg: &Config) -> Result<HashMap<String, bool>> {
    let store = Store::open(&paths.state_db)?;
    let (states, said) = (store.job_states()?, crate::store::decision_rows::all(&store)?);
    drop(store);
    let mut set = tokio::task::JoinSet::new();
    for job in cfg.jobs.iter().filter(|j| j.kind == Kind::LongRunningRead) {
        let (job, paths) = (job.clone(), paths.clone());
        set.spawn(async move {
            let now = jobs::observe(&job, &paths).await.ok();
            (job.id, now)
        });
    }
    let seen = |id: &str| states.get(id).is_some_and(|st| crate::policy::live::still_running(st, &said.get(id).cloned().unwrap_or_default()));
    Ok(set.join_all().await.into_iter().map(|(id, now)| (id.clone(), now.map_or_else(|| seen(&id), |s| s.running && !s.completed))).collect())
}

/// Rate and ETA for a job whose fresh status is `s` (observed at `now`): the stored history of
/// the last [`rate::WINDOW_SECONDS`] since its run began (`run`: a run resumed after a crash
/// does not count the time it was down) plus this observation. None when it reports no progress.
pub fn estimate_now(store: &Store, job_id: &str, s: &JobStatus, now: i64, run: Option<i64>) -> Result<Option<Estimate>> {
    let Some(cur) = s.progress.as_ref().and_then(|p| Sample::from_progress(p, now)) else { return Ok(None) };
    let from = (now - rate::WINDOW_SECONDS).max(run.unwrap_or(i64::MIN));
    let mut h = crate::store::progress::history(store, job_id, from)?;
    h.retain(|x| x.at < cur.at);
    h.push(cur);
    Ok(Some(rate::estimate(&h)))
}

/// `r` with the token masked in its output tails (a capture may start inside it), before any
/// view shows them.
fn masked(mut r: RunRecord) -> RunRecord {
    r.stdout_tail = r.stdout_tail.map(|t| super::secrets::mask_tail(&t));
    r.stderr_tail = r.stderr_tail.map(|t| super::secrets::mask_tail(&t));
    r
}
