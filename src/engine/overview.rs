//! A current view of every job, for `status` on the CLI and `/status` in the chat.

use super::jobs;
use super::paths::Paths;
use crate::config::{Config, Job, Kind};
use crate::i18n::Lang;
use crate::policy::rate::{self, Estimate, Sample};
use crate::policy::standing::{self, Standing};
use crate::policy::status::JobStatus;
use crate::store::{RunRecord, Store};
use crate::t;
use anyhow::Result;
use std::collections::HashMap;

/// One job's current facts.
#[derive(Debug, Clone)]
pub struct JobView {
    /// The job.
    pub job: Job,
    /// Fresh status (long jobs), or the reason it is unavailable.
    pub status: Option<Result<JobStatus, String>>,
    /// The newest recorded run.
    pub last_run: Option<RunRecord>,
    /// Rate and ETA from the stored progress history and this status.
    pub estimate: Option<Estimate>,
    /// Its lifecycle word and age (long jobs; checks while failing).
    pub standing: Option<Standing>,
    /// Its next cron mark (enabled jobs with `policy.cron`).
    pub next_run: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether the stored state last saw it running (what the buttons follow when its status is
    /// unavailable now).
    pub seen_running: bool,
}

/// Observes every job, or only the job `only` names (none when no job has that id): long jobs'
/// status commands run concurrently; one-shot jobs show their last run.
pub async fn observe_all(paths: &Paths, cfg: &Config, only: Option<&str>) -> Result<Vec<JobView>> {
    let store = Store::open(&paths.state_db)?;
    let wanted = |job: &&crate::config::Job| only.is_none_or(|id| job.id == id);
    let mut set = tokio::task::JoinSet::new();
    for (i, job) in cfg.jobs.iter().filter(wanted).enumerate() {
        if job.kind == Kind::LongRunningRead {
            let (job, paths) = (job.clone(), paths.clone());
            set.spawn(async move { (i, jobs::observe(&job, &paths).await.map_err(|f| f.reason)) });
        }
    }
    let mut statuses: Vec<(usize, Result<JobStatus, String>)> = set.join_all().await;
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
        let estimate = match &status {
            Some(Ok(s)) => estimate_now(&store, &job.id, s, now)?,
            _ => None,
        };
        let st = states.get(&job.id).cloned().unwrap_or_default();
        let decided = said.get(&job.id).cloned().unwrap_or_default();
        let standing = match &status {
            Some(Ok(s)) => Some(standing::long(job, &st, &decided, s, now)),
            Some(Err(_)) => None,
            None => standing::check(&st),
        };
        let next_run = crate::policy::cron::Schedule::of(job).and_then(|s| s.next_after(chrono::Utc::now()));
        let seen_running = crate::policy::live::still_running(&st, &decided);
        out.push(JobView { job: job.clone(), status, last_run: store.runs(&job.id, 1)?.into_iter().next(), estimate, standing, next_run, seen_running });
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
/// the last [`rate::WINDOW_SECONDS`] plus this observation. None when it reports no progress.
pub fn estimate_now(store: &Store, job_id: &str, s: &JobStatus, now: i64) -> Result<Option<Estimate>> {
    let Some(cur) = s.progress.as_ref().and_then(|p| Sample::from_progress(p, now)) else { return Ok(None) };
    let mut h = crate::store::progress::history(store, job_id, now - rate::WINDOW_SECONDS)?;
    h.retain(|x| x.at < cur.at);
    h.push(cur);
    Ok(Some(rate::estimate(&h)))
}

impl JobView {
    /// When its cron runs it next, in the schedule's zone ("next 03:30 IST"), for the status views.
    pub fn next_line(&self, lang: Lang) -> Option<String> {
        let tz = self.job.policy.timezone.unwrap_or(chrono_tz::UTC);
        self.next_run.map(|at| t!(lang, "overview-next", when = crate::render::zoned_clock(at, chrono::Utc::now(), tz)))
    }

    /// One-line summary ("running 2 h 10 min", "crashed 13:23", "failing since 13:44", "last
    /// run: exit 0", "never ran") in `lang`, times in `tz`.
    pub fn summary(&self, tz: chrono_tz::Tz, lang: Lang) -> String {
        let stop_reason = self.status.as_ref().and_then(|s| s.as_ref().ok()).and_then(|s| s.stop_reason.as_deref());
        if let Some(standing) = self.standing {
            return crate::render::standing_word(standing, stop_reason, chrono::Utc::now(), tz, lang);
        }
        match (&self.status, &self.last_run) {
            (Some(Ok(s)), _) => crate::render::state_word(s, None, lang),
            (Some(Err(e)), _) => t!(lang, "overview-status-unavailable", reason = e),
            (None, Some(r)) => {
                t!(lang, "overview-last-run", summary = r.summary.as_deref().map_or_else(|| t!(lang, "in-flight"), |s| crate::render::stored_summary(s, lang)))
            }
            (None, None) => t!(lang, "overview-never"),
        }
    }
}
