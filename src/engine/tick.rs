//! One monitoring tick: observe concurrently, apply the pure policy, act, commit in one transaction.

use super::batch::{run_all, Done, Work};
use super::jobs::{self, Action};
use super::paths::Paths;
use super::scheduled::{self, Step};
use crate::config::{Config, Job, Kind, Risk, When};
use crate::policy::check::{evaluate_check, follow_ups, schedule_due};
use crate::policy::decisions::Decisions;
use crate::policy::failure::Failure;
use crate::policy::long::evaluate_long;
use crate::policy::rate::Sample;
use crate::policy::report::{AutoResume, Note, Section};
use crate::policy::state::JobState;
use crate::policy::status::JobStatus;
use crate::store::{self, Store};
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

pub use super::tick_options::{Scope, TickOptions, TickOutcome};

/// Runs one tick at `Utc::now()`. Its writes wait for the database off the async workers
/// ([`Store::write`] runs through [`store::blocking`]), so a busy database holds up nothing else.
pub async fn tick(paths: &Paths, opts: &TickOptions) -> Result<TickOutcome> {
    let now = Utc::now();
    let mut store = Store::open(&paths.state_db)?;
    let mut out = TickOutcome::default();
    let Some((mut t, work, states)) = prepare(paths, opts, &mut store, &mut out, now)? else { return Ok(out) };
    // What the first pass found to say (expired requests, a config error) is held and spooled
    // with the rest.
    t.sections.splice(0..0, std::mem::take(&mut out.report.sections));
    // The connection goes back to the pool while the commands run (they may wait for the
    // process-wide command limit): a thousand job loops waiting hold no thousand connections.
    drop(store);
    let mut store = match t.run_and_commit(work, &states, opts).await {
        Ok(store) => store,
        Err(e) => {
            // What this tick claimed goes back to the queue (its owner, this process, lives on).
            if let Err(e2) = Store::open(&paths.state_db).and_then(|mut s| s.release_claimed(&t.claimed)) {
                tracing::error!(error = %e2, "could not release the queue items of a failed tick");
            }
            return Err(e);
        }
    };
    out.report.sections = std::mem::take(&mut t.sections);
    (out.held, out.spooled) = (t.held, t.spooled);
    if !opts.dry_run && opts.scope.global() {
        super::quiet_hours::mark_night(&mut store, &t.cfg, now)?;
        out.report.digest = super::quiet_hours::due(&store, &t.cfg, now)?;
    }
    Ok(out)
}

/// A tick ready to run: its state, the work due and the states as loaded (to write only changes).
type Prepared<'a> = (Tick<'a>, Vec<Work>, HashMap<String, JobState>);

/// The tick's first store pass: the config (or its error), the states, expired approvals and the
/// work due. None when there is no usable config.
fn prepare<'a>(paths: &'a Paths, opts: &TickOptions, store: &mut Store, out: &mut TickOutcome, now: DateTime<Utc>) -> Result<Option<Prepared<'a>>> {
    // Only the global part reports config errors (and marks them reported).
    let quiet = opts.dry_run || !opts.scope.global();
    let (cfg, err_section) = match &opts.config {
        Some(snap) => {
            out.config_error = snap.error.as_ref().map(|e| e.to_string());
            let section = super::config_guard::report_due(store, now, snap.error.as_deref(), snap.cfg.is_some(), quiet)?;
            (snap.cfg.clone(), section)
        }
        None => {
            let (cfg, section) = super::config_guard::current(paths, store, now, quiet, &mut out.config_error)?;
            (cfg.map(Arc::new), section)
        }
    };
    out.report.at = Some(now);
    out.report.sections.extend(err_section.filter(|_| opts.scope.global()));
    let Some(cfg) = cfg else { return Ok(None) };
    out.had_config = true;
    // Only the states this tick can evaluate: a job's own loop reads its own row, not all of
    // them (with a thousand jobs, every poll parsed a thousand states).
    let states = match &opts.scope {
        Scope::Job(id) => store.job_states_of(&[id.as_str()])?,
        Scope::Items(items) => store.job_states_of(&items.iter().map(|i| i.job_id.as_str()).collect::<Vec<_>>())?,
        Scope::Global => HashMap::new(),
        Scope::All => store.job_states()?,
    };
    if !opts.dry_run && opts.scope.global() {
        out.report.sections.extend(super::verify::expired_sections(store, &cfg, now.timestamp())?);
    }
    let mut t = Tick {
        cfg,
        paths,
        now,
        states: states.clone(),
        sections: Vec::new(),
        enqueue: Vec::new(),
        finished: Vec::new(),
        evaluated: Default::default(),
        claimed: Vec::new(),
        samples: Vec::new(),
        starts: Vec::new(),
        held: 0,
        spooled: None,
        late: HashMap::new(),
    };
    let mut work = t.queue_work(store, &opts.scope, opts.dry_run)?;
    work.extend(t.poll_and_schedule_work(store, opts)?);
    Ok(Some((t, work, states)))
}

/// One tick's state while it runs (its commit is in [`super::commit`]).
pub(super) struct Tick<'a> {
    pub(super) cfg: Arc<Config>,
    pub(super) paths: &'a Paths,
    pub(super) now: DateTime<Utc>,
    pub(super) states: HashMap<String, JobState>,
    pub(super) sections: Vec<Section>,
    pub(super) enqueue: Vec<(String, String, i64)>,
    /// Queue items this tick finished: (id, status, error), written with the commit.
    pub(super) finished: Vec<(i64, &'static str, Option<String>)>,
    /// Jobs whose state this tick evaluated (only these are written).
    pub(super) evaluated: std::collections::HashSet<String>,
    /// Queue items this tick claimed (released again if it fails).
    pub(super) claimed: Vec<i64>,
    /// Progress samples this tick's polls measured, written with the commit.
    pub(super) samples: Vec<(String, Sample)>,
    /// Jobs the policy said to start now (auto-resume).
    pub(super) starts: Vec<String>,
    /// Sections the commit held for the morning digest.
    pub(super) held: usize,
    /// The spool row the commit wrote the report to.
    pub(super) spooled: Option<i64>,
    /// Checks running for a cron mark that passed while the daemon was stopped: their line.
    pub(super) late: HashMap<String, Note>,
}

impl Tick<'_> {
    async fn run_and_commit(&mut self, work: Vec<Work>, loaded: &HashMap<String, JobState>, opts: &TickOptions) -> Result<Store> {
        let done = run_all(work, self.paths).await;
        let mut store = Store::open(&self.paths.state_db)?;
        for d in done {
            self.absorb(d, &mut store)?;
        }
        if !self.starts.is_empty() {
            drop(store);
            self.auto_resume(opts).await;
            store = Store::open(&self.paths.state_db)?;
        }
        if !opts.dry_run {
            super::commit::commit(&mut store, loaded, self, opts.spool)?;
        }
        Ok(store)
    }

    fn queue_work(&mut self, store: &mut Store, scope: &Scope, dry_run: bool) -> Result<Vec<Work>> {
        let t = self.now.timestamp();
        let items: Vec<store::QueueItem> = match scope {
            Scope::Items(items) => items.clone(),
            Scope::All if dry_run => store.queue()?.into_iter().filter(|q| q.status == "pending" && q.not_before <= t).collect(),
            Scope::All => store.claim_due(t)?,
            _ => return Ok(Vec::new()),
        };
        if !dry_run {
            self.claimed = items.iter().map(|i| i.id).collect();
        }
        let mut work = Vec::new();
        for item in items {
            let job = self.cfg.job(&item.job_id).cloned();
            match job {
                Some(j) if j.kind == Kind::OneShotRead && j.risk == Risk::ReadOnly => {
                    if dry_run {
                        self.info(&j, Note::WouldRun { queued: Some(item.reason.clone()) });
                    } else {
                        work.push(Work::Check { job: j, queue_id: Some(item.id), reason: Some(item.reason.clone()) });
                    }
                }
                other => self.block(&item, other.as_ref(), dry_run),
            }
        }
        Ok(work)
    }

    fn block(&mut self, item: &store::QueueItem, job: Option<&Job>, dry_run: bool) {
        let (mut sec, note, why) = match job {
            Some(j) => (
                Section::for_job(j),
                Note::ChainBlocked { kind: j.kind.as_str().into(), risk: j.risk.as_str().into() },
                format!("blocked: only one_shot_read read_only jobs run from a chain ({}, {})", j.kind.as_str(), j.risk.as_str()),
            ),
            None => (Section::system(&item.job_id, &item.job_id), Note::ChainUnknown { job_id: item.job_id.clone() }, "not in the config".to_string()),
        };
        sec.notes.push(note);
        sec.notes.push(Note::QueuedBecause(item.reason.clone()));
        self.sections.push(sec);
        if !dry_run {
            self.finished.push((item.id, "blocked", Some(why)));
        }
    }

    fn info(&mut self, job: &Job, note: Note) {
        let mut s = Section::for_job(job);
        s.loud = false;
        s.notes.push(note);
        self.sections.push(s);
    }

    fn poll_and_schedule_work(&mut self, store: &mut Store, opts: &TickOptions) -> Result<Vec<Work>> {
        let (dry_run, t) = (opts.dry_run, self.now.timestamp());
        let mut work = Vec::new();
        let cfg = self.cfg.clone();
        for job in cfg.jobs.iter().filter(|j| j.enabled && opts.scope.covers(&j.id)) {
            match job.kind {
                Kind::LongRunningRead => work.push(Work::Poll(job.clone())),
                _ if job.policy.cron.is_some() => work.extend(self.cron(store, job, opts)?),
                Kind::OneShotRead if schedule_due(job, self.states.get(&job.id).unwrap_or(&JobState::default()), t) => {
                    if dry_run {
                        self.info(job, Note::WouldRun { queued: None });
                    } else {
                        work.push(Work::Check { job: job.clone(), queue_id: None, reason: None });
                    }
                }
                _ => {}
            }
        }
        Ok(work)
    }

    /// A job's cron mark: its check to run, or (a write job) its request asked in [`scheduled::step`].
    fn cron(&mut self, store: &mut Store, job: &Job, opts: &TickOptions) -> Result<Option<Work>> {
        let mut st = self.states.get(&job.id).cloned().unwrap_or_default();
        let grace = (self.cfg.tick_seconds as i64).max(60);
        let run = match scheduled::step(store, job, &mut st, self.now, opts.started, grace, opts.dry_run)? {
            Step::Idle => return Ok(None),
            Step::Would(note) => {
                self.info(job, note);
                return Ok(None);
            }
            Step::Marked => false,
            Step::Run(late) => {
                self.late.extend(late.map(|n| (job.id.clone(), n)));
                true
            }
        };
        self.states.insert(job.id.clone(), st);
        self.evaluated.insert(job.id.clone());
        Ok(run.then(|| Work::Check { job: job.clone(), queue_id: None, reason: None }))
    }

    fn absorb(&mut self, done: Done, store: &mut Store) -> Result<()> {
        let t = self.now.timestamp();
        match done {
            Done::Poll(job, obs) => {
                let prev = self.states.get(&job.id).cloned().unwrap_or_default();
                // Read after the observation: a stop pressed while the status command ran is
                // known before the job's absence is judged.
                let said = store::decision_rows::of(store, &job.id)?;
                let prev = restarted_outside(prev, &said, &obs, t);
                let d = evaluate_long(&job, &prev, &said, &obs, self.now, self.cfg.timezone);
                let run = crate::policy::lifecycle::current_run(&d.state);
                self.states.insert(job.id.clone(), d.state);
                self.evaluated.insert(job.id.clone());
                if d.auto_resume == Some(AutoResume::Start) {
                    self.starts.push(job.id.clone());
                }
                let mut sec = d.section;
                if let Some(sec) = sec.as_mut().filter(|s| s.loud && s.anomaly.is_none()) {
                    crate::policy::long::quiet_if_started_from_chat(sec, super::jobs::last_start_from_chat(store, &job.id)?);
                }
                if let Ok(s) = &obs {
                    // Only a run's progress is a sample: a job sitting at 0 before its start (or
                    // stopped, or crashed) would drag its rate down for the window's length.
                    let sample = s.progress.as_ref().filter(|_| s.running || s.completed).and_then(|p| Sample::from_progress(p, t));
                    if let Some(sample) = sample {
                        self.samples.push((job.id.clone(), sample));
                    }
                    if let Some(sec) = sec.as_mut() {
                        sec.estimate = super::overview::estimate_now(store, &job.id, s, t, run)?;
                    }
                }
                if let Some(sec) = sec.as_mut() {
                    // A log on a hung mount (or a FIFO) can block this read for ever: off the
                    // async workers, so it wedges this job's loop (which liveness then reports)
                    // instead of freezing the whole runtime.
                    store::blocking(|| super::logfile::attach_tail(sec));
                }
                if let Some(w) = d.chain {
                    self.chain(&job, w, sec.as_mut());
                }
                self.sections.extend(sec);
            }
            Done::Check { job, queue_id, reason, out } => {
                let prev = self.states.get(&job.id).cloned().unwrap_or_default();
                let r = super::jobs::check_result(&out);
                let said = store::decision_rows::of(store, &job.id)?;
                let (st, mut sec, when) = evaluate_check(&job, &prev, &said, &r, t, queue_id.is_none());
                if let Some(approval) = reason.as_deref().and_then(|r| r.strip_prefix("verify:")).and_then(|v| v.parse().ok()) {
                    let (verified, amend) = super::verify::section(store, &job, approval, &r, sec)?;
                    self.sections.extend(amend);
                    sec = Some(verified);
                }
                if let Some(late) = self.late.remove(&job.id).filter(|_| queue_id.is_none()) {
                    sec = Some(scheduled::late_section(&job, sec, late, &r));
                }
                self.states.insert(job.id.clone(), st);
                self.evaluated.insert(job.id.clone());
                self.chain(&job, when, sec.as_mut());
                self.sections.extend(sec);
                if let Some(q) = queue_id {
                    let status = if out.success() { "done" } else { "failed" };
                    self.finished.push((q, status, (!out.success()).then(|| out.summary())));
                }
            }
        }
        Ok(())
    }

    fn chain(&mut self, job: &Job, when: When, sec: Option<&mut Section>) {
        let t = self.now.timestamp();
        let mut notes = Vec::new();
        for f in follow_ups(job, when, t, None) {
            notes.push(Note::Queued { job_id: f.job_id.clone(), delay_seconds: f.delay_seconds });
            self.enqueue.push((f.job_id, f.reason, f.not_before));
        }
        if let Some(s) = sec {
            s.notes.extend(notes);
        }
    }

    /// Runs `commands.start` of the jobs the policy said to start (AutoResume::Start); the
    /// outcome replaces the note in the job's section. A start the policy did not report (its
    /// crash alert went out before, and is edited once the job runs) is silent unless it fails.
    async fn auto_resume(&mut self, opts: &TickOptions) {
        for id in std::mem::take(&mut self.starts) {
            let Some(job) = self.cfg.job(&id).cloned() else { continue };
            let ar = if opts.dry_run {
                AutoResume::WouldStart
            } else {
                match jobs::execute(&job, Action::Start, self.paths, "autoresume").await {
                    Ok(o) if o.success() => AutoResume::Started,
                    Ok(o) => AutoResume::Failed(o.summary()),
                    Err(e) => AutoResume::Failed(e.to_string()),
                }
            };
            let note =
                self.sections.iter_mut().filter(|s| s.job_id == id).flat_map(|s| s.notes.iter_mut()).find(|n| **n == Note::AutoResume(AutoResume::Start));
            match note {
                Some(n) => *n = Note::AutoResume(ar),
                None if matches!(ar, AutoResume::Failed(_)) => {
                    let mut s = Section::for_job(&job);
                    s.notes.push(Note::AutoResume(ar));
                    self.sections.push(s);
                }
                None => {}
            }
        }
    }
}

/// `prev` with its run renewed when the worker was restarted outside ops-monitor since the
/// last poll ([`lifecycle::restarted_outside`]): whether the pid seen before is gone is looked
/// up here, on the host, for the pure rule.
fn restarted_outside(mut prev: JobState, said: &Decisions, obs: &Result<JobStatus, Failure>, t: i64) -> JobState {
    if let Ok(s) = obs {
        let old = prev.last_seen.as_ref().and_then(|l| l.pid).and_then(|p| i32::try_from(p).ok());
        let old_alive = old.map(super::runner::pid_running);
        crate::policy::lifecycle::restarted_outside(&mut prev, said, s.running, s.pid, old_alive, t);
    }
    prev
}
