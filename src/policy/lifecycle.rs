//! Words for what happened to a long job that is not running: never started, stopped on purpose,
//! or crashed. Only a crash is an alert; the other two are facts a person already knows.

use super::state::JobState;
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
/// returns the lifecycle now. Being started by a person or by auto-resume counts as running
/// from then on ([`started`]), so a job that dies before it is first seen is a crash too.
pub fn advance(st: &mut JobState, running: bool, completed: bool, t: i64) -> Lifecycle {
    if completed {
        st.running_since = None;
        st.crashed_at = None;
        st.completed_at.get_or_insert(t);
        return Lifecycle::Completed;
    }
    st.completed_at = None;
    if running {
        st.running_since.get_or_insert(t);
        st.crashed_at = None;
        return Lifecycle::Running;
    }
    if st.stopped_on_purpose {
        st.running_since = None;
        st.crashed_at = None;
        return Lifecycle::Stopped;
    }
    if let Some(since) = st.running_since.take() {
        st.crashed_at = Some(t);
        st.crash_ran_seconds = Some((t - since).max(0));
    }
    if st.crashed_at.is_some() {
        Lifecycle::Crashed
    } else {
        Lifecycle::NotStarted
    }
}

/// The lifecycle last stored in `st` for an observation, without changing anything (for
/// `/status`).
pub fn current(st: &JobState, running: bool, completed: bool) -> Lifecycle {
    let mut copy = st.clone();
    advance(&mut copy, running, completed, st.crashed_at.unwrap_or(0))
}

/// A start was asked for (a person or auto-resume) at `t`: the job counts as running from now,
/// and a stop on purpose is over.
pub fn started(st: &mut JobState, t: i64) {
    st.stopped_on_purpose = false;
    st.stopped_at = None;
    st.crashed_at = None;
    st.running_since = Some(t);
}

/// The run the job's state is about, by its start (Unix seconds): the one running now, or the
/// one found crashed (until the job is started again); None when no run is current (never
/// started, completed, stopped on purpose). The one place that reads which run is current, so
/// a button bound to a run ([`outdated`]) survives a change of how the state keeps it.
pub fn current_run(st: &JobState) -> Option<i64> {
    st.running_since.or_else(|| Some(st.crashed_at? - st.crash_ran_seconds.unwrap_or(0)))
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
pub fn outdated(bound: Option<i64>, st: &JobState) -> Option<Outdated> {
    let bound = bound?;
    match current_run(st) {
        Some(now) if now == bound => None,
        Some(_) => Some(Outdated::Restarted),
        None => Some(Outdated::Ended),
    }
}

/// A person stopped the job on purpose at `t`.
pub fn stopped(st: &mut JobState, t: i64) {
    st.stopped_on_purpose = true;
    st.stopped_at = Some(t);
}

#[cfg(test)]
mod tests {
    use super::*;
    use Lifecycle::*;

    #[test]
    fn a_button_is_outdated_once_its_run_is_no_longer_the_current_one() {
        let mut st = JobState::default();
        assert_eq!(outdated(None, &st), None, "not bound to a run");
        advance(&mut st, true, false, 100);
        assert_eq!(current_run(&st), Some(100));
        assert_eq!(outdated(Some(100), &st), None);
        advance(&mut st, false, false, 160);
        assert_eq!(current_run(&st), Some(100), "the crashed run stays current until a start");
        assert_eq!(outdated(Some(100), &st), None);
        started(&mut st, 200);
        assert_eq!(outdated(Some(100), &st), Some(Outdated::Restarted));
        stopped(&mut st, 300);
        advance(&mut st, false, false, 301);
        assert_eq!(outdated(Some(200), &st), Some(Outdated::Ended));
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
            for (i, (event, want)) in steps.iter().enumerate() {
                let t = i as i64 * 10;
                let got = match *event {
                    "start" => {
                        started(&mut st, t);
                        None
                    }
                    "stop" => {
                        stopped(&mut st, t);
                        None
                    }
                    e => Some(advance(&mut st, e == "run", e == "done", t)),
                };
                assert_eq!(got, *want, "{name}: step {i} ({event})");
            }
        }
    }

    #[test]
    fn a_crash_remembers_how_long_the_job_ran() {
        let mut st = JobState::default();
        advance(&mut st, true, false, 100);
        advance(&mut st, true, false, 150);
        assert_eq!(advance(&mut st, false, false, 190), Crashed);
        assert_eq!(st.crash_ran_seconds, Some(90));
        assert_eq!(st.crashed_at, Some(190));
        assert_eq!(current(&st, false, false), Crashed, "current() does not change the verdict");
    }
}
