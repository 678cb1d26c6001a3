//! Words for what happened to a long job that is not running: never started, stopped on purpose,
//! or crashed. Only a crash is an alert; the other two are facts a person already knows.

use super::decisions::Decisions;
use super::state::{JobState, Run};
use serde::{Deserialize, Serialize};

/// Where a long job stands, as a person would say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lifecycle {
    /// Running now.
    Running,
    /// Finished its work.
    Completed,
    /// Never seen running and never started by ops-monitor: no alert.
    NotStarted,
    /// Stopped on purpose (`/stop`, its button, `ops-monitor stop`): no alert, no auto-resume.
    Stopped,
    /// Was running (or was started) and is gone without `completed`: an alert.
    Crashed,
}

/// The one stall rule: a running job whose progress key has stayed the same for its
/// `stallSeconds` (0: never) is stalled; the idle seconds. `st` holds the key last seen changing
/// and when ([`JobState::last_progress_key`], [`JobState::last_progress_at`]); a job that
/// reports no progress key cannot stall.
pub fn stalled_for(job: &crate::config::Job, st: &JobState, s: &crate::policy::status::JobStatus, now: i64) -> Option<i64> {
    let stall = job.policy.stall_seconds as i64;
    let same_key = s.progress_key.is_some() && s.progress_key == st.last_progress_key;
    let idle = now - st.last_progress_at?;
    (s.running && stall > 0 && same_key && idle >= stall).then_some(idle)
}

/// Advances the lifecycle bookkeeping of `st` by one observation at `t` (Unix seconds) and
/// returns the lifecycle now. A start asked for by a person ([`Decisions::started_at`]) or by
/// auto-resume ([`started`]) counts as running from then on, so a job that dies before it is
/// first seen is a crash too; a stop on purpose ([`Decisions::stopped_at`]) is no crash.
/// `t` is when the observation began: a start in that second or later is not in it when it
/// says "not running" (a status taken just before a person's start, committed after it: no
/// crash; the next observation judges it); when it says running, its status command ran after
/// the start (a loaded host) and saw the person's run, which begins at the start.
pub fn advance(st: &mut JobState, said: &Decisions, running: bool, completed: bool, t: i64) -> Lifecycle {
    if let Some(at) = pending_start(st, said) {
        if at < t || (running && at - t < START_GRACE_SECONDS) {
            st.start_taken = Some(at);
            started(st, at);
        }
    }
    // A person's start not seen running yet (its worker still coming up: a loaded host, a slow
    // start) is given START_GRACE_SECONDS before its absence is a crash.
    let starting = |since: i64| st.start_taken == Some(since) && !st.last_seen.as_ref().is_some_and(|s| s.running) && t - since < START_GRACE_SECONDS;
    st.run = match (completed, running, st.run) {
        (false, false, Run::Running { since }) if !said.stopped() && starting(since) => Run::Running { since },
        (true, _, Run::Completed { at }) => Run::Completed { at },
        (true, _, _) => Run::Completed { at: t },
        (false, true, Run::Running { since }) => Run::Running { since },
        (false, true, _) => Run::Running { since: t },
        (false, false, _) if said.stopped() => Run::Idle,
        (false, false, Run::Running { since }) => Run::Crashed { at: t, ran_seconds: (t - since).max(0) },
        (false, false, Run::Completed { .. }) => Run::Idle,
        (false, false, run @ (Run::Idle | Run::Crashed { .. })) => run,
    };
    match st.run {
        Run::Completed { .. } => Lifecycle::Completed,
        Run::Running { .. } => Lifecycle::Running,
        Run::Idle if said.stopped() => Lifecycle::Stopped,
        Run::Crashed { .. } => Lifecycle::Crashed,
        Run::Idle => Lifecycle::NotStarted,
    }
}

/// The start a person asked for that `st` has not taken in yet.
fn pending_start(st: &JobState, said: &Decisions) -> Option<i64> {
    said.started_at.filter(|at| st.start_taken.is_none_or(|taken| taken < *at))
}

/// A worker restarted outside ops-monitor between two polls (by hand, by its own supervisor):
/// the status names another pid, and the pid seen running before is gone (`old_alive`, looked
/// up by the caller). That is another run, from `t`: a button about the run before acts on
/// nothing. A status naming another live process (a worker's current child) is the same run;
/// a start a person asked for is [`advance`]'s to take in. The stall clock goes on.
pub fn restarted_outside(st: &mut JobState, said: &Decisions, running: bool, pid: Option<i64>, old_alive: Option<bool>, t: i64) {
    let before = st.last_seen.as_ref().filter(|s| s.running).and_then(|s| s.pid);
    let moved = matches!((before, pid), (Some(b), Some(n)) if b != n);
    if moved && running && old_alive == Some(false) && matches!(st.run, Run::Running { .. }) && pending_start(st, said).is_none() {
        st.run = Run::Running { since: t };
    }
}

/// How long a job a person started may take to be seen running before its absence is a crash.
pub const START_GRACE_SECONDS: i64 = 10;

/// The lifecycle last stored in `st` for an observation, without changing anything (for
/// `/status`).
pub fn current(st: &JobState, said: &Decisions, running: bool, completed: bool) -> Lifecycle {
    let mut copy = st.clone();
    advance(&mut copy, said, running, completed, st.run.crashed_at().unwrap_or(0))
}

/// Auto-resume started the job at `t`: it counts as running from now.
pub fn started(st: &mut JobState, t: i64) {
    st.run = Run::Running { since: t };
}

/// The run the job's state is about, by its start (Unix seconds): the one running now, or the
/// one found crashed (until the job is started again); None when no run is current (never
/// started, completed, stopped on purpose). The one place that reads which run is current, so
/// a button bound to a run ([`outdated`]) survives a change of how the state keeps it.
pub fn current_run(st: &JobState) -> Option<i64> {
    match st.run {
        Run::Running { since } => Some(since),
        Run::Crashed { at, ran_seconds } => Some(at - ran_seconds),
        Run::Idle | Run::Completed { .. } => None,
    }
}

/// Why a button about the run that started at `bound` no longer applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outdated {
    /// Another run is current: the job was started again since.
    Restarted,
    /// No run is current: that run ended (stopped, completed) since.
    Ended,
}

/// Whether a button bound to the run that started at `bound` (None: not bound to a run) is
/// outdated by the job's state now: a Stop pressed on an old stall alert must not stop the run
/// started since.
/// A start a person asked for after that run began counts at once, before a tick has seen it.
pub fn outdated(bound: Option<i64>, st: &JobState, said: &Decisions) -> Option<Outdated> {
    let bound = bound?;
    if said.started_at.is_some_and(|at| at > bound) {
        return Some(Outdated::Restarted);
    }
    match current_run(st) {
        Some(now) if now == bound => None,
        Some(_) => Some(Outdated::Restarted),
        None => Some(Outdated::Ended),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Lifecycle::*;

    #[test]
    fn a_status_taken_before_a_persons_start_is_no_crash_of_that_start() {
        let mut st = JobState::default();
        let mut said = Decisions::default();
        advance(&mut st, &said, true, false, 10);
        said.stop(50);
        assert_eq!(advance(&mut st, &said, false, false, 60), Stopped);
        // A person starts it at 100 while a tick that began at 100 finds it not running yet.
        said.start(100);
        assert_eq!(advance(&mut st, &said, false, false, 100), NotStarted, "the start is not in that observation");
        assert_eq!(advance(&mut st, &said, true, false, 101), Running);
        // A start that dies before it is ever seen is a crash all the same, once its grace is over.
        said.start(200);
        advance(&mut st, &said, false, false, 200);
        assert_eq!(advance(&mut st, &said, false, false, 202), Running, "still coming up");
        assert_eq!(advance(&mut st, &said, false, false, 200 + START_GRACE_SECONDS), Crashed);
    }

    #[test]
    fn a_button_is_outdated_once_its_run_is_no_longer_the_current_one() {
        let mut st = JobState::default();
        let mut said = Decisions::default();
        assert_eq!(outdated(None, &st, &said), None, "not bound to a run");
        advance(&mut st, &said, true, false, 100);
        assert_eq!(current_run(&st), Some(100));
        assert_eq!(outdated(Some(100), &st, &said), None);
        advance(&mut st, &said, false, false, 160);
        assert_eq!(current_run(&st), Some(100), "the crashed run stays current until a start");
        assert_eq!(outdated(Some(100), &st, &said), None);
        started(&mut st, 200);
        assert_eq!(outdated(Some(100), &st, &said), Some(Outdated::Restarted));
        let asked = Decisions { started_at: Some(250), ..Decisions::default() };
        assert_eq!(outdated(Some(200), &st, &asked), Some(Outdated::Restarted), "a start asked for counts before a tick saw it");
        said.stop(300);
        advance(&mut st, &said, false, false, 301);
        assert_eq!(outdated(Some(200), &st, &said), Some(Outdated::Ended));
    }

    /// A tick's status command that began just before a person's start and ran after it (a
    /// loaded host) sees the new run: that run is the person's start, by its start time, so its
    /// report is known as theirs (no second ring) and its buttons are not "restarted since".
    #[test]
    fn a_run_first_seen_by_a_status_begun_before_its_start_is_that_start() {
        let mut st = JobState::default();
        let mut said = Decisions::default();
        said.start(101);
        assert_eq!(advance(&mut st, &said, true, false, 100), Running);
        assert_eq!(current_run(&st), Some(101));
        assert_eq!(outdated(Some(101), &st, &said), None);
        assert_eq!(advance(&mut st, &said, true, false, 110), Running);
        assert_eq!(current_run(&st), Some(101), "the next observation keeps the run");
        // A start long after the observation began is not the run it saw.
        let mut st = JobState::default();
        said.start(100 + START_GRACE_SECONDS + 1);
        advance(&mut st, &said, true, false, 100);
        assert_eq!(current_run(&st), Some(100));
    }

    #[test]
    fn a_worker_seen_under_another_pid_is_another_run() {
        let mut st = JobState::default();
        let mut said = Decisions::default();
        let seen = |st: &mut JobState, pid: i64| st.last_seen = Some(crate::policy::state::Seen { running: true, pid: Some(pid), ..Default::default() });
        advance(&mut st, &said, true, false, 100);
        seen(&mut st, 10);
        restarted_outside(&mut st, &said, true, Some(10), Some(true), 110);
        assert_eq!(current_run(&st), Some(100), "the same pid is the same run");
        restarted_outside(&mut st, &said, true, None, None, 120);
        assert_eq!(current_run(&st), Some(100), "a status without a pid says nothing of it");
        restarted_outside(&mut st, &said, true, Some(11), Some(true), 125);
        assert_eq!(current_run(&st), Some(100), "another live process (a child of the worker) is the same run");
        restarted_outside(&mut st, &said, false, Some(11), Some(false), 126);
        assert_eq!(current_run(&st), Some(100), "a last status saying it stopped is no restart");
        restarted_outside(&mut st, &said, true, Some(11), Some(false), 130);
        assert_eq!(current_run(&st), Some(130));
        assert_eq!(outdated(Some(100), &st, &said), Some(Outdated::Restarted));
        // A person's stop and start between two polls: the person's start, not a restart outside.
        seen(&mut st, 11);
        said.start(141);
        restarted_outside(&mut st, &said, true, Some(12), Some(false), 140);
        assert_eq!(current_run(&st), Some(130), "left to advance");
        advance(&mut st, &said, true, false, 140);
        assert_eq!(current_run(&st), Some(141), "the run begins at the person's start");
    }

    /// Each row: event ("run", "idle", "done", "start", "stop"), then the lifecycle expected
    /// after the next observation.
    #[test]
    fn lifecycle_table() {
        type Steps = &'static [(&'static str, Option<Lifecycle>)];
        let table: &[(&str, Steps)] = &[
            ("never started", &[("idle", Some(NotStarted)), ("idle", Some(NotStarted))]),
            ("crash after running", &[("run", Some(Running)), ("idle", Some(Crashed)), ("idle", Some(Crashed)), ("run", Some(Running))]),
            ("stopped on purpose", &[("run", Some(Running)), ("stop", None), ("run", Some(Running)), ("idle", Some(Stopped)), ("idle", Some(Stopped))]),
            ("started again after a stop", &[("run", Some(Running)), ("stop", None), ("idle", Some(Stopped)), ("start", None), ("idle", Some(Crashed))]),
            ("started but never seen", &[("start", None), ("idle", Some(Crashed))]),
            ("completed", &[("run", Some(Running)), ("done", Some(Completed)), ("idle", Some(NotStarted))]),
        ];
        for (name, steps) in table {
            let mut st = JobState::default();
            let mut said = Decisions::default();
            for (i, (event, want)) in steps.iter().enumerate() {
                let t = i as i64 * 10;
                let got = match *event {
                    "start" => {
                        said.start(t);
                        None
                    }
                    "stop" => {
                        said.stop(t);
                        None
                    }
                    e => Some(advance(&mut st, &said, e == "run", e == "done", t)),
                };
                assert_eq!(got, *want, "{name}: step {i} ({event})");
            }
        }
    }

    #[test]
    fn a_started_job_has_a_grace_to_come_up_then_its_absence_is_a_crash() {
        let seen = |st: &mut JobState, running: bool| st.last_seen = Some(crate::policy::state::Seen { running, ..Default::default() });
        let mut said = Decisions::default();
        said.start(100);
        let mut st = JobState::default();
        seen(&mut st, false);
        assert_eq!(advance(&mut st, &said, false, false, 101), Running, "its worker is still coming up");
        seen(&mut st, false);
        assert_eq!(advance(&mut st, &said, true, false, 104), Running);
        seen(&mut st, true);
        assert_eq!(advance(&mut st, &said, false, false, 105), Crashed, "seen running, then gone: a crash at once");
        let mut never = JobState::default();
        seen(&mut never, false);
        assert_eq!(advance(&mut never, &said, false, false, 101), Running);
        assert_eq!(advance(&mut never, &said, false, false, 100 + START_GRACE_SECONDS), Crashed, "never came up: a crash after the grace");
    }

    #[test]
    fn a_crash_remembers_how_long_the_job_ran() {
        let mut st = JobState::default();
        let said = Decisions::default();
        advance(&mut st, &said, true, false, 100);
        advance(&mut st, &said, true, false, 150);
        assert_eq!(advance(&mut st, &said, false, false, 190), Crashed);
        assert_eq!(st.run, Run::Crashed { at: 190, ran_seconds: 90 });
        assert_eq!(current(&st, &said, false, false), Crashed, "current() does not change the verdict");
    }
}
