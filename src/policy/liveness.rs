//! Liveness of `serve`, decided from the loops that do the work: the global loop, the supervisor
//! and one loop per scheduled job. Each loop says when it finished a pass and by when its next
//! pass must be finished (its wait, plus the time its commands may take, plus [`SLACK`]); the
//! daemon is alive while no loop is past that time. The shell feeds systemd's watchdog and the
//! heartbeat only while it is alive, and sends READY=1 when [`ready`] says so.

use crate::config::{Job, Kind};
use std::time::{Duration, Instant};

/// Added to every pass's budget: the store's busy timeout (15 s) on a write, the process-wide
/// bound on concurrent commands, a slow host. A pass later than its budget plus this is wedged.
pub const SLACK: Duration = Duration::from_secs(30);

/// READY=1 waits at most this long for the first pass of the job loops that were due at start
/// (a first status poll may be slow). systemd's `TimeoutStartSec` must be longer: see the unit in
/// examples/ (2 min).
pub const READY_WAIT: Duration = Duration::from_secs(60);

/// Name of the loop that expires approvals, reports config errors and sends digests.
pub const GLOBAL: &str = "the global loop";
/// Name of the loop that starts job loops and claims due chain items.
pub const SUPERVISOR: &str = "the supervisor";

/// The loop name a job's schedule is known by.
pub fn job_loop(id: &str) -> String {
    format!("job {id}")
}

/// What one loop last said about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopRecord {
    /// [`GLOBAL`], [`SUPERVISOR`] or [`job_loop`].
    pub name: String,
    /// Its next pass must be finished by then.
    pub due_by: Instant,
    /// Passes finished since it was registered.
    pub passes: u64,
    /// It existed when `serve` started: READY=1 waits for its first pass.
    pub at_start: bool,
}

/// A loop past its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    /// The loop's name.
    pub name: String,
    /// How far past its time.
    pub late: Duration,
}

/// The loops past their time at `now`, the latest first (empty: alive).
pub fn overdue(loops: &[LoopRecord], now: Instant) -> Vec<Overdue> {
    let mut late: Vec<Overdue> = loops.iter().filter(|l| now > l.due_by).map(|l| Overdue { name: l.name.clone(), late: now - l.due_by }).collect();
    late.sort_by(|a, b| b.late.cmp(&a.late).then_with(|| a.name.cmp(&b.name)));
    late
}

/// Whether READY=1 is due: the global loop finished a pass, and every loop there at start
/// finished its first pass or [`READY_WAIT`] has passed since `started`.
pub fn ready(loops: &[LoopRecord], started: Instant, now: Instant) -> bool {
    let global = loops.iter().any(|l| l.name == GLOBAL && l.passes > 0);
    global && (loops.iter().filter(|l| l.at_start).all(|l| l.passes > 0) || now.saturating_duration_since(started) >= READY_WAIT)
}

/// The longest one pass of `job`'s loop may take: its commands' timeouts, each followed by the
/// kill grace, plus [`SLACK`]. A long job's pass is its status poll and, when it has a start
/// command, possibly an auto-resume start; a check's pass is its run.
pub fn pass_budget(job: &Job) -> Duration {
    let p = &job.policy;
    let grace = p.kill_grace_seconds;
    let secs = match job.kind {
        Kind::LongRunningRead => p.status_timeout_seconds + grace + job.commands.start.as_ref().map_or(0, |_| p.timeout_seconds + grace),
        _ => p.timeout_seconds + grace,
    };
    Duration::from_secs(secs) + SLACK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, due_by: Instant, passes: u64, at_start: bool) -> LoopRecord {
        LoopRecord { name: name.into(), due_by, passes, at_start }
    }

    #[test]
    fn alive_while_every_loop_is_within_its_time_and_overdue_names_the_latest_first() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let loops = vec![rec(GLOBAL, t0 + s(90), 3, true), rec("job scan", t0 + s(40), 1, true), rec("job disk", t0 + s(10), 0, false)];
        assert!(overdue(&loops, t0).is_empty());
        assert!(overdue(&loops, t0 + s(10)).is_empty(), "exactly at its time is not late");
        assert_eq!(overdue(&loops, t0 + s(11)), vec![Overdue { name: "job disk".into(), late: s(1) }]);
        let late = overdue(&loops, t0 + s(100));
        assert_eq!(late.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["job disk", "job scan", GLOBAL]);
        assert_eq!(late[0].late, s(90));
        assert!(overdue(&[], t0 + s(1000)).is_empty());
    }

    #[test]
    fn ready_waits_for_the_global_pass_and_every_loop_there_at_start_but_not_longer_than_ready_wait() {
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(3600);
        let mut loops = vec![rec(GLOBAL, far, 0, true), rec("job scan", far, 0, true), rec("job late", far, 0, false)];
        assert!(!ready(&loops, t0, t0));
        loops[0].passes = 1;
        assert!(!ready(&loops, t0, t0 + Duration::from_secs(1)), "job scan was due at start and has not polled yet");
        loops[1].passes = 1;
        assert!(ready(&loops, t0, t0 + Duration::from_secs(1)), "a loop added later does not hold READY");
        loops[1].passes = 0;
        assert!(ready(&loops, t0, t0 + READY_WAIT), "a slow first poll holds READY at most READY_WAIT");
        loops[0].passes = 0;
        assert!(!ready(&loops, t0, t0 + READY_WAIT * 10), "never before the global loop's first pass");
    }

    #[test]
    fn a_pass_may_last_its_commands_timeouts_with_kill_grace_plus_slack() {
        let cfg = r#"{"version":1,"jobs":[{"id":"j","kind":"long_running_read","risk":"read_only","commands":{"start":["s"],"status":["s"]}}]}"#;
        let mut job = crate::config::parse(cfg, std::path::Path::new("/tmp/c.json"), std::path::Path::new("/tmp")).unwrap().jobs.remove(0);
        job.policy.status_timeout_seconds = 30;
        job.policy.timeout_seconds = 300;
        job.policy.kill_grace_seconds = 3;
        job.commands.start = None;
        assert_eq!(pass_budget(&job), Duration::from_secs(33) + SLACK);
        job.commands.start = Some(vec!["./start".into()]);
        assert_eq!(pass_budget(&job), Duration::from_secs(33 + 303) + SLACK, "an auto-resume start may run in the pass");
        job.kind = Kind::OneShotRead;
        assert_eq!(pass_budget(&job), Duration::from_secs(303) + SLACK);
    }
}
