//! Cron schedules (`policy.cron`) as pure time math: a job's marks in its time zone, which mark
//! a tick owes the job, and whether it is late (passed while the daemon was stopped).
//!
//! croner does the calendar work and its documented DST rule holds: a fixed time that falls in
//! the spring-forward gap (02:30 in Europe/Berlin on the last Sunday of March) runs at the first
//! valid time after the gap that day (03:00), and a fixed time the fall-back hour repeats runs
//! once, at its first occurrence. Wildcard and step fields follow the wall clock: their marks
//! inside the gap do not exist, and those in the repeated hour come twice.

use super::state::{JobState, ScheduleMark};
use crate::config::{parse_cron, Job, Kind};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// A job's cron schedule, as the tick and the status views need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule<'a> {
    /// The expression (validated by the loader).
    pub expr: &'a str,
    /// The zone its wall-clock times are in.
    pub tz: Tz,
    /// Run a mark missed while stopped once at start (`policy.catchUp`).
    pub catch_up: bool,
}

impl<'a> Schedule<'a> {
    /// The schedule of an enabled one_shot job that has a cron; None for every other job.
    pub fn of(job: &'a Job) -> Option<Schedule<'a>> {
        let runs = matches!(job.kind, Kind::OneShotRead | Kind::OneShotWrite);
        let expr = job.policy.cron.as_deref().filter(|_| job.enabled && runs)?;
        Some(Schedule { expr, tz: job.policy.timezone.unwrap_or(chrono_tz::UTC), catch_up: job.policy.catch_up })
    }
    /// Identity of the expression and zone, kept with the last mark.
    pub fn key(&self) -> String {
        format!("{} @ {}", self.expr, self.tz.name())
    }
    /// The first mark strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        next_after(self.expr, self.tz, after)
    }
}

/// The first mark of `expr` in `tz` strictly after `after` (None: invalid, or no mark before the
/// year 5000).
pub fn next_after(expr: &str, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let cron = parse_cron(expr).ok()?;
    cron.find_next_occurrence(&after.with_timezone(&tz), false).ok().map(|t| t.with_timezone(&Utc))
}

/// The latest mark of `expr` in `tz` in `(since, now]`: what a tick at `now` owes a job whose
/// last handled mark is `since`. Several marks passed are one run, not a burst.
pub fn missed(expr: &str, tz: Tz, since: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let cron = parse_cron(expr).ok()?;
    let latest = cron.find_previous_occurrence(&now.with_timezone(&tz), true).ok()?.with_timezone(&Utc);
    (latest > since && latest <= now).then_some(latest)
}

/// What a schedule asks of a tick at `now`.
#[derive(Debug, Clone, PartialEq)]
pub enum Due {
    /// First sight of this schedule (or its expression or zone changed): its marks count from
    /// `now`; nothing runs.
    Start(ScheduleMark),
    /// A mark came: run it (a write job asks). `late`: it passed while the daemon was stopped.
    Run { mark: ScheduleMark, late: bool },
    /// A mark passed while stopped and `catchUp` is false: remembered, not run.
    Skip(ScheduleMark),
}

/// The mark a tick at `now` owes the job, if any. `started` is when the daemon started: a mark
/// before it passed while nothing watched. Without a daemon (the CLI's one-shot `tick`) a mark
/// more than `grace` seconds old counts as late.
pub fn due(s: &Schedule, st: &JobState, now: i64, started: Option<i64>, grace: i64) -> Option<Due> {
    let key = s.key();
    let at = |t: i64| ScheduleMark { key: key.clone(), at: t };
    let since = match &st.schedule_mark {
        Some(m) if m.key == key => m.at,
        _ => return Some(Due::Start(at(now))),
    };
    let mark = missed(s.expr, s.tz, DateTime::from_timestamp(since, 0)?, DateTime::from_timestamp(now, 0)?)?.timestamp();
    let late = started.map_or(now - mark > grace, |started| mark < started);
    Some(match (late, s.catch_up) {
        (true, false) => Due::Skip(at(mark)),
        _ => Due::Run { mark: at(mark), late },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn sched(expr: &str, tz: Tz) -> Schedule<'_> {
        Schedule { expr, tz, catch_up: true }
    }

    /// Runs a daemon's ticks over `[from, to)` a minute apart and returns the marks it ran.
    fn ran(s: &Schedule, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut st = JobState::default();
        let (mut now, mut out) = (from.timestamp(), Vec::new());
        while now < to.timestamp() {
            match due(s, &st, now, Some(from.timestamp()), 60) {
                Some(Due::Start(m) | Due::Skip(m)) => st.schedule_mark = Some(m),
                Some(Due::Run { mark, late }) => {
                    assert!(!late, "a mark after the start is on time");
                    out.push(DateTime::from_timestamp(mark.at, 0).unwrap());
                    st.schedule_mark = Some(mark);
                }
                None => {}
            }
            now += 60;
        }
        out
    }

    #[test]
    fn a_daily_run_in_the_spring_forward_gap_runs_once_at_the_first_valid_time() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 2025-03-30: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
        let runs = ran(&sched("30 2 * * *", berlin), utc(2025, 3, 28, 12, 0), utc(2025, 4, 1, 12, 0));
        let local: Vec<String> = runs.iter().map(|t| t.with_timezone(&berlin).format("%m-%d %H:%M %Z").to_string()).collect();
        assert_eq!(local, ["03-29 02:30 CET", "03-30 03:00 CEST", "03-31 02:30 CEST", "04-01 02:30 CEST"], "one run a day, none skipped");
    }

    #[test]
    fn a_daily_run_in_the_repeated_fall_back_hour_runs_once() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 2025-10-26: 03:00 CEST falls back to 02:00 CET; 02:30 comes twice.
        let runs = ran(&sched("30 2 * * *", berlin), utc(2025, 10, 24, 12, 0), utc(2025, 10, 28, 12, 0));
        let local: Vec<String> = runs.iter().map(|t| t.with_timezone(&berlin).format("%m-%d %H:%M %Z").to_string()).collect();
        assert_eq!(local, ["10-25 02:30 CEST", "10-26 02:30 CEST", "10-27 02:30 CET", "10-28 02:30 CET"], "one run a day, none doubled");
    }

    #[test]
    fn marks_are_read_in_the_schedules_zone() {
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        let next = next_after("30 3 * * *", kolkata, utc(2025, 6, 1, 0, 0)).unwrap();
        assert_eq!(next, utc(2025, 6, 1, 22, 0), "03:30 IST is 22:00 UTC the day before");
        let secs = next_after("*/2 * * * * *", chrono_tz::UTC, utc(2025, 6, 1, 0, 0)).unwrap();
        assert_eq!(secs.timestamp() - utc(2025, 6, 1, 0, 0).timestamp(), 2, "six fields: seconds first");
    }

    #[test]
    fn a_mark_missed_while_stopped_runs_once_late_or_is_skipped_without_catch_up() {
        let s = sched("30 3 * * *", chrono_tz::UTC);
        let st = JobState { schedule_mark: Some(ScheduleMark { key: s.key(), at: utc(2025, 6, 1, 4, 0).timestamp() }), ..JobState::default() };
        // Down from 04:00 on the 1st to 07:12 on the 3rd: the 2nd's and the 3rd's 03:30 passed.
        let now = utc(2025, 6, 3, 7, 12).timestamp();
        let mark = ScheduleMark { key: s.key(), at: utc(2025, 6, 3, 3, 30).timestamp() };
        assert_eq!(due(&s, &st, now, Some(now), 60), Some(Due::Run { mark: mark.clone(), late: true }), "once, the latest");
        assert_eq!(due(&Schedule { catch_up: false, ..s.clone() }, &st, now, Some(now), 60), Some(Due::Skip(mark.clone())));
        assert_eq!(due(&s, &st, now, None, 60), Some(Due::Run { mark: mark.clone(), late: true }), "the CLI's tick: older than the grace");
        let ran = JobState { schedule_mark: Some(mark), ..st.clone() };
        assert_eq!(due(&s, &ran, now, Some(now), 60), None, "nothing twice");
    }

    #[test]
    fn a_new_or_changed_schedule_starts_counting_instead_of_catching_up() {
        let s = sched("30 3 * * *", chrono_tz::UTC);
        let now = utc(2025, 6, 3, 7, 12).timestamp();
        let start = Some(Due::Start(ScheduleMark { key: s.key(), at: now }));
        assert_eq!(due(&s, &JobState::default(), now, Some(now), 60), start);
        let old = JobState { schedule_mark: Some(ScheduleMark { key: "0 3 * * * @ UTC".into(), at: 0 }), ..JobState::default() };
        assert_eq!(due(&s, &old, now, Some(now), 60), start);
    }
}
