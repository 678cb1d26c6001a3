//! Running a job's commands with the job environment, recording each run in the store.

use super::paths::Paths;
use super::runner::{self, Outcome, Spec};
use super::status_file;
use crate::config::{Job, Kind, Risk, When};
use crate::policy::check::{follow_ups, FollowUp};
use crate::policy::failure::Failure;
use crate::policy::status::{parse_status, too_big, JobStatus, MAX_STATUS_BYTES};
use crate::store::Store;
use anyhow::{anyhow, bail, Result};
use std::time::Duration;

/// Which of a job's commands to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `commands.start`.
    Start,
    /// `commands.stop`.
    Stop,
    /// `commands.run`.
    Run,
}

impl Action {
    /// Name used in run history.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Run => "run",
        }
    }
    fn argv(self, job: &Job) -> Option<&Vec<String>> {
        match self {
            Action::Start => job.commands.start.as_ref(),
            Action::Stop => job.commands.stop.as_ref(),
            Action::Run => job.commands.run.as_ref(),
        }
    }
}

/// The chat button of each command.
impl From<Action> for crate::policy::press::JobPress {
    fn from(a: Action) -> Self {
        use crate::policy::press::JobPress;
        match a {
            Action::Start => JobPress::Start,
            Action::Stop => JobPress::Stop,
            Action::Run => JobPress::Run,
        }
    }
}

fn spec(job: &Job, argv: &[String], paths: &Paths, run_id: i64, timeout: u64, reap: bool) -> Spec {
    let dir = runner::job_state_dir(&paths.state_dir(), &job.id).map(|d| d.display().to_string()).unwrap_or_default();
    let mut env = vec![("OPS_JOB_ID".into(), job.id.clone()), ("OPS_RUN_ID".into(), run_id.to_string()), ("OPS_STATE_DIR".into(), dir)];
    // Every command of a long job, start included: the worker it launches is what reports.
    if job.kind == Kind::LongRunningRead {
        if let Some(file) = status_file::path(paths, &job.id) {
            env.push((status_file::ENV.into(), file.display().to_string()));
        }
    }
    Spec {
        argv: argv.to_vec(),
        cwd: job.cwd.clone(),
        env,
        timeout: Duration::from_secs(timeout.max(1)),
        kill_grace: Duration::from_secs(job.policy.kill_grace_seconds),
        reap,
    }
}

/// Runs one of the job's commands and records it (in flight first, then its outcome).
pub async fn execute(job: &Job, action: Action, paths: &Paths, origin: &str) -> Result<Outcome> {
    let argv = action.argv(job).ok_or_else(|| anyhow!("job {} has no commands.{}", job.id, action.as_str()))?.clone();
    let now = chrono::Utc::now().timestamp();
    let mut store = Store::open(&paths.state_db)?;
    if action == Action::Start {
        crate::store::decision_rows::decide(&mut store, &job.id, |d| d.start(now))?;
        if job.kind == Kind::LongRunningRead {
            status_file::prepare_start(job, paths)?;
        }
    }
    let run_id = store.begin_run(&job.id, action.as_str(), origin, now)?;
    // A run (a check, a write) is over when it exits: what it left in its group goes with it. A
    // start's worker, and whatever a stop command starts, live on.
    let out = runner::run(&spec(job, &argv, paths, run_id, job.policy.timeout_seconds, action == Action::Run)).await;
    // A check's run is judged as the check is: exit 0 with an ALERT line is a failed run.
    let verdict = (action == Action::Run && job.kind == Kind::OneShotRead).then(|| check_failure(&out)).flatten().filter(|_| out.success());
    let (ok, summary) = match &verdict {
        Some(f) => (false, f.reason.clone()),
        None => (out.success(), out.summary()),
    };
    Store::open(&paths.state_db)?.finish_run_as(run_id, &out, ok, &summary, chrono::Utc::now().timestamp())?;
    Ok(out)
}

/// What a person's start (CLI `start`, chat `/start` or its button) did.
#[derive(Debug)]
pub enum Started {
    /// The job's status says it is running already (with this pid, when reported): nothing
    /// was started, so a second copy cannot race the first over its checkpoint.
    AlreadyRunning(Option<i64>),
    /// Started this many seconds ago (it may not report running yet): not started again.
    JustStarted(i64),
    /// The start command ran.
    Ran(Outcome),
}

/// A start recorded this recently counts as under way: the job may not report running yet, and
/// a second tap (or a second chat's Start button) must not start another copy.
const START_SETTLE_SECONDS: i64 = 10;

/// One lock per job for starts in this process: the check and the start happen as one step.
fn start_lock(id: &str) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    static LOCKS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>> =
        std::sync::LazyLock::new(Default::default);
    LOCKS.lock().expect("start locks").entry(id.to_string()).or_default().clone()
}

/// Starts a long job unless it was started moments ago or its status command says it runs
/// already (`force` skips both checks). A status that cannot be read does not block the start:
/// the person asked for it.
pub async fn start(job: &Job, paths: &Paths, origin: &str, force: bool) -> Result<Started> {
    let lock = start_lock(&job.id);
    let _one_at_a_time = lock.lock().await;
    if !force {
        let now = chrono::Utc::now().timestamp();
        let store = Store::open(&paths.state_db)?;
        let last = store.runs(&job.id, 5)?.into_iter().filter(|r| r.action == "start").map(|r| r.started_at).max();
        // A crash or a stop seen since that start ends it: starting again is what is wanted.
        let st = store.job_state(&job.id)?;
        let stopped_at = crate::store::decision_rows::of(&store, &job.id)?.stopped_at;
        let ended = |at: i64| st.run.crashed_at().is_some_and(|c| c >= at) || stopped_at.is_some_and(|s| s >= at);
        if let Some(at) = last.filter(|at| now - at < START_SETTLE_SECONDS && !ended(*at)) {
            return Ok(Started::JustStarted(now - at));
        }
    }
    if !force {
        if let Ok(st) = observe(job, paths).await {
            if st.running && !st.completed {
                return Ok(Started::AlreadyRunning(st.pid));
            }
        }
    }
    Ok(Started::Ran(execute(job, Action::Start, paths, origin).await?))
}

/// When the latest start of `job` from a chat began (Unix seconds), among its recent runs: the
/// run a person started there, whose status change then does not ring again.
pub fn last_start_from_chat(store: &Store, job: &str) -> Result<Option<i64>> {
    Ok(store.runs(job, 5)?.into_iter().filter(|r| r.action == "start" && r.origin.starts_with("chat:")).map(|r| r.started_at).max())
}

/// A one-shot run asked for by a person (CLI `run`, chat `/run` or its button): runs it, then
/// queues its `after` jobs by the outcome ([`follow_ups`], as the tick does for chain and
/// schedule runs). Returns the outcome, what was queued, and, when a failing check passes again,
/// the section that amends its alert's copies (each chat's alert says so).
pub async fn run_once(job: &Job, paths: &Paths, origin: &str) -> Result<(Outcome, Vec<FollowUp>, Option<crate::policy::report::Section>)> {
    let out = execute(job, Action::Run, paths, origin).await?;
    let now = chrono::Utc::now().timestamp();
    // The same verdict as a scheduled run: exit 0 with ALERT in the output is a failing check.
    let when = if check_failure(&out).is_none() { When::Success } else { When::Failure };
    let queued = follow_ups(job, when, now, None);
    let amends = Store::open(&paths.state_db)?.write(|tx| {
        for f in &queued {
            crate::store::enqueue(tx, &f.job_id, &f.reason, now, f.not_before)?;
        }
        // The check's standing moves as after a scheduled run: passing clears "failing" at once
        // (no late "recovered" for the person who just saw it pass), failing counts as reported
        // (they see it in the run's reply). The reply is the report, so the section is dropped,
        // but for the alert's copies to amend.
        if job.kind != crate::config::Kind::OneShotRead {
            return Ok(None);
        }
        let prev = crate::store::get_job_state(tx, &job.id)?.unwrap_or_default();
        let said = crate::store::decision_rows::read_in(tx, &job.id)?;
        let (st, sec, _) = crate::policy::check::evaluate_check(job, &prev, &said, &check_result(&out), now, true);
        crate::store::put_job_state(tx, &job.id, &st)?;
        Ok(sec.filter(|s| s.amends.is_some() && s.anomaly.is_none()))
    })?;
    Ok((out, queued, amends))
}

/// The check's result as the policy sees it (exit, timeout, output with its words).
pub fn check_result(out: &Outcome) -> crate::policy::check::CheckResult {
    crate::policy::check::CheckResult { run_failure: out.failure_kind(), summary: out.summary(), output: format!("{}\n{}", out.stdout, out.stderr) }
}

/// Why a one-shot run counts as failing: its exit, timeout or signal, or an `ALERT` /
/// `ACTION REQUIRED` line in its output although it exited 0. One rule for schedules, chains,
/// `run` on the CLI and `/run` in the chat.
pub fn check_failure(out: &Outcome) -> Option<Failure> {
    crate::policy::check::failure(&check_result(out))
}

/// The job's status: its pushed file while fresh (no process spawned), else its status command
/// (bounded by the status timeout). A job without a status command is watched through its file
/// alone: a stale file still counts (its unchanged progress stalls), and no file is "no status
/// yet" (not running, never an alert by itself).
pub async fn observe(job: &Job, paths: &Paths) -> Result<JobStatus, Failure> {
    let pushed = match status_file::path(paths, &job.id) {
        Some(p) => read_pushed(&p, job).await,
        None => status_file::Pushed::Missing,
    };
    let stale = match pushed {
        status_file::Pushed::Fresh(r) => return r,
        status_file::Pushed::Stale(r) => Some(r),
        status_file::Pushed::Missing => None,
    };
    match (job.commands.status.as_ref(), stale) {
        (Some(argv), _) => status_from_outcome(&runner::run(&spec(job, argv, paths, 0, job.policy.status_timeout_seconds, true)).await),
        (None, Some(r)) => r,
        (None, None) => Ok(JobStatus { message: Some(format!("no status yet (it writes ${})", status_file::ENV)), ..JobStatus::default() }),
    }
}

/// Reads the pushed file; a fresh file that does not parse is read once more a moment later, so
/// a job that rewrites it in place (not atomically) is not reported for a torn read.
async fn read_pushed(p: &std::path::Path, job: &Job) -> status_file::Pushed {
    let read = || status_file::read(p, status_file::max_age(job), std::time::SystemTime::now());
    match read() {
        status_file::Pushed::Fresh(Err(_)) => {
            tokio::time::sleep(Duration::from_millis(100)).await;
            read()
        }
        other => other,
    }
}

/// Turns a status command's outcome into the contract or a typed failure with its reason.
pub fn status_from_outcome(out: &Outcome) -> Result<JobStatus, Failure> {
    if let Some(kind) = out.failure_kind() {
        let last = out.stderr.trim().lines().last().map(|l| format!(": {}", crate::policy::check::tail_chars(l, 200))).unwrap_or_default();
        return Err(Failure::new(kind, format!("status command {}{last}", out.summary())));
    }
    if out.stdout_bytes as usize > MAX_STATUS_BYTES {
        return Err(too_big(out.stdout_bytes));
    }
    parse_status(&decoded_and_masked(&out.stdout))
}

/// The status JSON with its string escapes decoded (re-serialised) and the token masked again: a
/// token written as `\u0031\u0032…` is masked in the raw output only once it is decoded. Text
/// that is not JSON is left to the parser to refuse.
fn decoded_and_masked(stdout: &str) -> String {
    // Only a \u escape can spell the token's characters (digits, letters, ':', '-', '_')
    // otherwise: without one the output, masked when captured, is parsed once, as before.
    if !stdout.contains("\\u") {
        return stdout.to_string();
    }
    match serde_json::from_str::<serde_json::Value>(stdout.trim()) {
        Ok(v) => crate::engine::secrets::mask(&v.to_string()),
        Err(_) => stdout.to_string(),
    }
}

/// Checks that `action` is allowed for `job` when asked by a person (CLI or chat).
pub fn check_explicit(job: &Job, action: Action, allow_risk: bool) -> Result<()> {
    match (action, job.kind) {
        (Action::Start | Action::Stop, Kind::LongRunningRead) => {
            if action == Action::Start && job.risk != Risk::ReadOnly && !allow_risk {
                bail!("job {} has risk {}: only `ops-monitor start {} --allow-risk` on the host starts it", job.id, job.risk.as_str(), job.id);
            }
            Ok(())
        }
        (Action::Run, Kind::OneShotRead) => Ok(()),
        (Action::Run, Kind::OneShotWrite) => bail!("job {} is a write job: it runs only after an approval", job.id),
        (Action::Start | Action::Stop, _) => {
            bail!("job {} is {}: {} is only for long_running_read jobs; use run", job.id, job.kind.as_str(), action.as_str())
        }
        _ => bail!("job {} is {}: {} is not possible (start and stop it instead)", job.id, job.kind.as_str(), action.as_str()),
    }
}

/// How a stop was done.
pub enum Stopped {
    /// `commands.stop` ran; when it failed, the job was not stopped.
    Command(Outcome),
    /// SIGTERM went to the job's process group.
    Signalled { pgid: i32, pid: i32 },
}

impl Stopped {
    /// `commands.stop` ran and failed (the job is not marked stopped).
    pub fn failed(&self) -> bool {
        matches!(self, Stopped::Command(o) if !o.success())
    }

    /// One English line for the run record (people read `render::acted_text`'s words).
    pub fn describe(&self, job: &str) -> String {
        match self {
            Stopped::Command(o) => format!("stop {job}: {}", o.summary()),
            Stopped::Signalled { pgid, pid } => format!("stop {job}: SIGTERM sent to process group {pgid} (pid {pid})"),
        }
    }
}

/// Stops a long job on purpose: marked stopped first (so its death is not taken for a crash
/// when the watcher sees it go), then `commands.stop`, else SIGTERM to the process group of the
/// status pid; the mark is taken back when the stop fails.
pub async fn stop(job: &Job, paths: &Paths, origin: &str) -> Result<Stopped> {
    use crate::store::decision_rows::decide;
    let now = chrono::Utc::now().timestamp();
    let mut before = None;
    decide(&mut Store::open(&paths.state_db)?, &job.id, |d| {
        before = d.stopped_at;
        d.stop(now)
    })?;
    let stopped = stop_now(job, paths, origin).await;
    // A stop that failed stopped nothing: the mark goes back to what it was (a job stopped
    // before stays stopped; a running one's absence, if it comes, is a crash), unless a person
    // decided otherwise meanwhile.
    if stopped.as_ref().is_ok_and(Stopped::failed) || stopped.is_err() {
        decide(&mut Store::open(&paths.state_db)?, &job.id, |d| {
            if d.stopped_at == Some(now) {
                d.stopped_at = before;
            }
        })?;
    }
    stopped
}

async fn stop_now(job: &Job, paths: &Paths, origin: &str) -> Result<Stopped> {
    if job.commands.stop.is_some() {
        return Ok(Stopped::Command(execute(job, Action::Stop, paths, origin).await?));
    }
    let st = observe(job, paths).await.map_err(|e| anyhow!("stop {}: {e}", job.id))?;
    if !st.running {
        bail!("stop {}: it is not running (its status says running=false)", job.id);
    }
    let pid = st.pid.ok_or_else(|| anyhow!("stop {}: no commands.stop and the status gives no pid", job.id))? as i32;
    let pgid = runner::pgid_of(pid).ok_or_else(|| anyhow!("stop {}: pid {pid} is not running", job.id))?;
    if pgid == runner::pgid_of(std::process::id() as i32).unwrap_or(0) {
        bail!("stop {}: pid {pid} is in ops-monitor's own process group; refusing to signal it", job.id);
    }
    if !runner::signal_group(pgid, runner::Signal::TERM) {
        bail!("stop {}: could not signal process group {pgid}", job.id);
    }
    let stopped = Stopped::Signalled { pgid, pid };
    let msg = stopped.describe(&job.id);
    let mut store = Store::open(&paths.state_db)?;
    let now = chrono::Utc::now().timestamp();
    let id = store.begin_run(&job.id, "stop", origin, now)?;
    store.finish_run(id, &Outcome { life: runner::Life::Exited(0), stdout: msg, ..Outcome::default() }, now)?;
    Ok(stopped)
}
