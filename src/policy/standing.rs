//! Where a job stands for `/status`: its lifecycle word and the time that goes with it
//! ("running 2 h 10 min", "stalled 4 min", "crashed 13:23", "completed 12:41", "failing since
//! 13:44"), decided from the stored state and a fresh observation at `now`.

use super::decisions::Decisions;
use super::lifecycle::{self, Lifecycle};
use super::state::{JobState, Run};
use super::status::JobStatus;
use crate::config::Job;
use serde::Serialize;

/// A job's lifecycle word with its age or time (Unix seconds); None where ops-monitor never
/// saw the moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Standing {
    /// Running, for this long (since it was first seen running or started).
    Running { for_seconds: Option<i64> },
    /// Running without progress for this long (at least its `stallSeconds`).
    Stalled { for_seconds: i64 },
    /// Finished its work at this time.
    Completed { at: Option<i64> },
    /// Found gone without `completed` at this time.
    Crashed { at: Option<i64> },
    /// Stopped on purpose at this time.
    Stopped { at: Option<i64> },
    /// Never seen running, never started.
    NotStarted,
    /// A check failing since this time.
    Failing { since: Option<i64> },
}

/// Where the long job `job` stands, given its stored state `st` and fresh status `s` at `now`.
pub fn long(job: &Job, st: &JobState, said: &Decisions, s: &JobStatus, now: i64) -> Standing {
    let mut seen = st.clone();
    match lifecycle::advance(&mut seen, said, s.running, s.completed, now) {
        Lifecycle::Running => match lifecycle::stalled_for(job, st, s, now) {
            Some(idle) => Standing::Stalled { for_seconds: idle },
            None => Standing::Running { for_seconds: seen.run.since().map(|since| (now - since).max(0)) },
        },
        Lifecycle::Completed => Standing::Completed {
            at: match seen.run {
                Run::Completed { at } => Some(at),
                _ => None,
            },
        },
        Lifecycle::Crashed => Standing::Crashed { at: seen.run.crashed_at() },
        Lifecycle::Stopped => Standing::Stopped { at: said.stopped_at },
        Lifecycle::NotStarted => Standing::NotStarted,
    }
}

/// Where a check stands when its last scheduled or chained run failed (None: nothing to say
/// beyond its last run).
pub fn check(st: &JobState) -> Option<Standing> {
    st.check_failing.then_some(Standing::Failing { since: st.anomaly_since })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(stall: u64) -> Job {
        let cfg = serde_json::json!({"version": 1, "jobs": [{"id": "j", "kind": "long_running_read", "risk": "read_only", "enabled": true,
            "commands": {"start": ["true"], "status": ["true"]}, "policy": {"stallSeconds": stall}}]});
        crate::config::parse(&cfg.to_string(), std::path::Path::new("/tmp/c.json"), std::path::Path::new("/tmp")).unwrap().jobs.remove(0)
    }

    fn status(running: bool, completed: bool, key: Option<&str>) -> JobStatus {
        JobStatus { running, completed, progress_key: key.map(str::to_string), ..JobStatus::default() }
    }

    const NO: &Decisions = &Decisions { acked: None, snoozed_until: None, stopped_at: None, started_at: None };

    #[test]
    fn words_and_times_for_each_lifecycle() {
        let j = job(600);
        let running = JobState { run: Run::Running { since: 1000 }, last_progress_key: Some("k".into()), last_progress_at: Some(1000), ..JobState::default() };
        assert_eq!(long(&j, &running, NO, &status(true, false, Some("k")), 1300), Standing::Running { for_seconds: Some(300) });
        assert_eq!(long(&j, &running, NO, &status(true, false, Some("k")), 1700), Standing::Stalled { for_seconds: 700 });
        assert_eq!(long(&j, &running, NO, &status(true, false, Some("k2")), 1700), Standing::Running { for_seconds: Some(700) }, "progress moved");
        assert_eq!(long(&j, &running, NO, &status(false, false, None), 1800), Standing::Crashed { at: Some(1800) }, "first noticed now");
        let crashed = JobState { run: Run::Crashed { at: 1500, ran_seconds: 0 }, ..JobState::default() };
        assert_eq!(long(&j, &crashed, NO, &status(false, false, None), 1800), Standing::Crashed { at: Some(1500) });
        let done = JobState { run: Run::Completed { at: 1600 }, ..JobState::default() };
        assert_eq!(long(&j, &done, NO, &status(false, true, None), 1800), Standing::Completed { at: Some(1600) });
        let stopped = Decisions { stopped_at: Some(1650), ..Decisions::default() };
        assert_eq!(long(&j, &running, &stopped, &status(false, false, None), 1800), Standing::Stopped { at: Some(1650) });
        assert_eq!(long(&j, &JobState::default(), NO, &status(false, false, None), 1800), Standing::NotStarted);
        assert_eq!(long(&job(0), &running, NO, &status(true, false, Some("k")), 99_999), Standing::Running { for_seconds: Some(98_999) }, "no stall rule");
    }

    #[test]
    fn a_failing_check_says_since_when() {
        assert_eq!(check(&JobState { check_failing: true, anomaly_since: Some(42), ..JobState::default() }), Some(Standing::Failing { since: Some(42) }));
        assert_eq!(check(&JobState::default()), None);
    }
}
