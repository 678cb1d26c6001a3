//! Per-job schedules for `serve`: each enabled long job polls on its own timer (and at once when
//! its watched pid dies), each scheduled check runs on its own timer, each due chain item runs in
//! its own task, and approval expiry and config errors go on the tick cadence. A hung command
//! therefore delays nothing but itself. Every task ticks with the current config snapshot and
//! hands its report to the coalescer, so events close together reach a chat as one message.
//! Every loop records its passes in the [`Liveness`] (a pass must end within its wait, its
//! commands' timeouts and a slack), so systemd's watchdog and the heartbeat stop being fed when
//! any loop that does the work wedges, not only the global one.

use super::status_watch::StatusWatch;
use super::watch::PidWatch;
use crate::config::{Job, Kind};
use crate::engine::config_watch::ConfigWatch;
use crate::engine::paths::Paths;
use crate::engine::tick::{self, Scope, TickOptions};
use crate::policy::liveness::{self, pass_budget, GLOBAL, SLACK, SUPERVISOR};
use crate::render::Report;
use crate::store::Store;
use crate::watch::Liveness;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

/// How often the supervisor looks for config changes and due chain items.
pub const SUPERVISE_EVERY: Duration = Duration::from_secs(1);

/// What every scheduled task shares.
#[derive(Clone)]
pub struct Ctx {
    /// Paths of config and store.
    pub paths: Paths,
    /// The config snapshot.
    pub config: Arc<ConfigWatch>,
    /// Reports go to the coalescer, with the spool row that holds each until it is queued.
    pub reports: UnboundedSender<(Report, Option<i64>)>,
    /// Pid deaths wake their job.
    pub pids: PidWatch,
    /// Writes of a long job's status file wake it.
    pub files: StatusWatch,
    /// Each loop's passes, for the watchdog and the heartbeat.
    pub live: Liveness,
    /// When this daemon started (Unix seconds): cron marks before it were missed while stopped.
    pub started: i64,
    /// Jobs whose ticks fail: reported once when that begins.
    pub unwatched: super::unwatched::Unwatched,
}

impl Ctx {
    fn tick_seconds(&self) -> u64 {
        self.config.config().map_or(60, |c| c.tick_seconds).max(1)
    }

    /// One tick of `scope` with the current snapshot; its report goes to the coalescer.
    async fn tick(&self, scope: Scope) -> anyhow::Result<tick::TickOutcome> {
        let opts =
            TickOptions { scope: scope.clone(), config: Some(self.config.current()), spool: true, started: Some(self.started), ..TickOptions::default() };
        let result = tick::tick(&self.paths, &opts).await;
        match &result {
            Ok(out) => {
                if let (Some(e), Scope::Global) = (&out.config_error, &scope) {
                    if config_error_due(e) {
                        tracing::warn!(error = %e, "config invalid; the last good config stays in force (said again hourly while it stays)");
                    }
                }
                if !out.report.is_empty() {
                    let _ = self.reports.send((out.report.clone(), out.spooled));
                }
            }
            Err(e) => tracing::error!(error = %format!("{e:#}"), ?scope, "tick failed"),
        }
        if let Scope::Job(id) = &scope {
            self.tell_unwatched(id, &result);
        }
        result
    }

    /// A job whose tick fails is not watched: said once when it begins, not only logged.
    fn tell_unwatched(&self, id: &str, result: &anyhow::Result<tick::TickOutcome>) {
        let Err(e) = result else { return self.unwatched.watched(id) };
        let cfg = self.config.config();
        let Some(job) = cfg.as_deref().and_then(|c| c.jobs.iter().find(|j| j.id == id)) else { return };
        if let Some(report) = self.unwatched.failed(job, e) {
            let _ = self.reports.send((report, None));
        }
    }
}

/// The invalid config's error is logged when it is new and then hourly, not at every tick.
fn config_error_due(error: &str) -> bool {
    static LAST: std::sync::Mutex<Option<(String, std::time::Instant)>> = std::sync::Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let due = last.as_ref().is_none_or(|(e, at)| e != error || at.elapsed() >= Duration::from_secs(3600));
    if due {
        *last = Some((error.to_string(), std::time::Instant::now()));
    }
    due
}

/// Runs the schedules until the task is aborted: one task per enabled job (restarted when its
/// definition changes, or when it died), one per due chain item, one for the global work. The
/// loops there at start are registered before any runs, so READY=1 waits for their first passes.
pub async fn run(ctx: Ctx) {
    let mut jobs: HashMap<String, (Job, AbortOnDrop)> = HashMap::new();
    ctx.live.register(GLOBAL, SLACK, true);
    ctx.live.register(SUPERVISOR, SUPERVISE_EVERY + SLACK, true);
    let global = tokio::spawn(global_loop(ctx.clone()));
    let _stop_global = AbortOnDrop(global);
    let mut at_start = true;
    loop {
        let cfg = ctx.config.config();
        let wanted: Vec<Job> = cfg.iter().flat_map(|c| c.jobs.iter()).filter(|j| j.enabled && scheduled(j)).cloned().collect();
        jobs.retain(|id, (job, handle)| {
            let same = wanted.iter().any(|w| w == job);
            if !same {
                // Removed or changed: its new loop (if any) starts with a fresh record.
                ctx.live.forget(&liveness::job_loop(id));
            } else if handle.0.is_finished() {
                // It keeps its record: a loop that keeps dying becomes overdue.
                tracing::error!(job = %id, "its schedule ended unexpectedly; starting it again");
            }
            if !same && !wanted.iter().any(|w| &w.id == id) {
                ctx.pids.set(id, None);
                ctx.files.forget(id);
            }
            same && !handle.0.is_finished()
        });
        for job in wanted {
            if !jobs.contains_key(&job.id) {
                ctx.live.register(&liveness::job_loop(&job.id), pass_budget(&job), at_start);
                let handle = tokio::spawn(job_loop(ctx.clone(), job.clone()));
                jobs.insert(job.id.clone(), (job, AbortOnDrop(handle)));
            }
        }
        at_start = false;
        spawn_due_items(&ctx).await;
        ctx.live.passed(SUPERVISOR, SUPERVISE_EVERY + SLACK);
        tokio::time::sleep(SUPERVISE_EVERY).await;
    }
}

/// A task that ends with its owner (the supervisor's future, aborted at shutdown).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Jobs with a loop of their own: long jobs, checks with a schedule, and write jobs with a
/// cron (each mark asks for approval; nothing runs by itself).
fn scheduled(job: &Job) -> bool {
    match job.kind {
        Kind::LongRunningRead => true,
        Kind::OneShotRead => job.policy.run_every_seconds.is_some_and(|s| s > 0) || job.policy.cron.is_some(),
        Kind::OneShotWrite => job.policy.cron.is_some(),
    }
}

/// Approval expiry, config errors and digests on the tick cadence; its verdict (config valid,
/// store writable) decides between the heartbeat's URL and `<url>/fail`.
async fn global_loop(ctx: Ctx) {
    loop {
        let result = ctx.tick(Scope::Global).await;
        let every = Duration::from_secs(ctx.tick_seconds());
        ctx.live.global_pass(&ctx.paths, &result, ctx.config.config().as_deref(), every + SLACK);
        tokio::time::sleep(every).await;
    }
}

/// Claims the chain items that are due and runs each in its own task.
async fn spawn_due_items(ctx: &Ctx) {
    let db = ctx.paths.state_db.clone();
    let claimed = tokio::task::spawn_blocking(move || Store::open(&db)?.claim_due(chrono::Utc::now().timestamp())).await;
    match claimed {
        Ok(Ok(items)) => {
            for item in items {
                let ctx = ctx.clone();
                tokio::spawn(async move { ctx.tick(Scope::Items(vec![item])).await.map(|_| ()) });
            }
        }
        Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), "could not claim due chain items"),
        Err(e) => tracing::error!(error = %e, "could not claim due chain items"),
    }
}

/// Least time between two ticks of a job woken by its status file: a job that reports many
/// times a second is read a few times a second, each read showing its latest report.
const FILE_WAKE_SPACING: Duration = Duration::from_millis(200);

/// One job's own schedule.
async fn job_loop(ctx: Ctx, job: Job) {
    let waker = ctx.pids.waker(&job.id);
    let file = (job.kind == Kind::LongRunningRead).then(|| crate::engine::status_file::path(&ctx.paths, &job.id)).flatten();
    let written = match &file {
        Some(f) => ctx.files.watch(&job.id, f),
        None => Arc::new(tokio::sync::Notify::new()),
    };
    let mut first = true;
    loop {
        let began = tokio::time::Instant::now();
        let _ = ctx.tick(Scope::Job(job.id.clone())).await;
        let wait = match job.kind {
            Kind::LongRunningRead => {
                // A pid already gone (a zombie its status command still counts) is not watched
                // again: that would poll the status four times a second until it is reaped.
                let pid = running_pid(&ctx.paths, &job.id).await.filter(|p| crate::engine::runner::pid_running(*p));
                ctx.pids.set(&job.id, pid);
                let every = Duration::from_secs(ctx.tick_seconds());
                // Every loop starts at once; after its first pass each is moved by its own share
                // of the period, so a thousand jobs are polled spread over it, not in one burst.
                if std::mem::take(&mut first) {
                    every + spread(&job.id, every)
                } else {
                    every
                }
            }
            _ => next_check_in(&ctx.paths, &job).await,
        };
        ctx.live.passed(&liveness::job_loop(&job.id), wait + pass_budget(&job));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = waker.notified() => tracing::info!(job = %job.id, "its process exited; polling now"),
            _ = written.notified() => {
                tracing::debug!(job = %job.id, "its status file changed; reading it now");
                tokio::time::sleep_until(began + FILE_WAKE_SPACING).await;
            }
        }
    }
}

async fn running_pid(paths: &Paths, job: &str) -> Option<i32> {
    let (db, job) = (paths.state_db.clone(), job.to_string());
    let state = tokio::task::spawn_blocking(move || Store::open(&db).ok()?.job_state(&job).ok()).await.ok()??;
    let seen = state.last_seen?;
    seen.running.then_some(seen.pid).flatten().map(|p| p as i32)
}

/// Longest sleep of a cron job's loop: a clock that jumped (suspend, NTP) is seen this soon.
const CRON_WAIT_MAX: Duration = Duration::from_secs(60);

/// A job's fixed share of `every` (from its id): where in the period its polls fall.
fn spread(id: &str, every: Duration) -> Duration {
    let h = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    every.mul_f64((h % 1000) as f64 / 1000.0)
}

/// Time until a scheduled check is due again (at least a second); a cron job's next mark, to
/// the millisecond, so a seconds-level schedule runs on its marks.
async fn next_check_in(paths: &Paths, job: &Job) -> Duration {
    if let Some(s) = crate::policy::cron::Schedule::of(job) {
        let now = chrono::Utc::now();
        let wait = s.next_after(now).and_then(|next| (next - now).to_std().ok()).unwrap_or(CRON_WAIT_MAX);
        return wait.clamp(Duration::from_millis(10), CRON_WAIT_MAX);
    }
    let every = job.policy.run_every_seconds.unwrap_or(60).max(1) as i64;
    let (db, id) = (paths.state_db.clone(), job.id.clone());
    let last = tokio::task::spawn_blocking(move || Store::open(&db).ok()?.job_state(&id).ok()?.last_check_at).await.ok().flatten();
    let now = chrono::Utc::now().timestamp();
    let due_in = last.map_or(0, |t| t + every - now);
    Duration::from_secs(due_in.clamp(1, every) as u64)
}
