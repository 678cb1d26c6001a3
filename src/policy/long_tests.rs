//! Table-driven tests of the pure policy with a fake clock.

use super::check::{evaluate_check, schedule_due, CheckResult};
use super::decisions::Decisions;
use super::failure::{Failure, FailureKind};
use super::long::evaluate_long;
use super::report::{Anomaly, AutoResume, Note};
use super::state::JobState;
use super::status::JobStatus;
use crate::config::{parse, Job, When};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::path::Path;

const BERLIN: Tz = chrono_tz::Europe::Berlin;

fn job(kind: &str, risk: &str, policy: &str) -> Job {
    let cmds = if kind == "long_running_read" { r#"{"start":["true"],"status":["true"]}"# } else { r#"{"run":["true"]}"# };
    let text = format!(
        r#"{{"version":1,"defaults":{{"quietHours":{{"start":"23:00","end":"08:00"}}}},
            "jobs":[{{"id":"j","kind":"{kind}","risk":"{risk}","enabled":true,"commands":{cmds},"policy":{policy}}}]}}"#
    );
    parse(&text, Path::new("/tmp/c.json"), Path::new("/tmp")).expect("valid").jobs.remove(0)
}

fn long(policy: &str) -> Job {
    job("long_running_read", "read_only", policy)
}

/// Berlin wall-clock time on 2026-02-05 (winter) plus `secs`.
fn at(h: u32, m: u32, secs: i64) -> DateTime<Utc> {
    BERLIN.with_ymd_and_hms(2026, 2, 5, h, m, 0).unwrap().with_timezone(&Utc) + chrono::Duration::seconds(secs)
}

fn running(key: &str) -> Result<JobStatus, Failure> {
    Ok(JobStatus { running: true, progress_key: Some(key.into()), ..JobStatus::default() })
}

fn paused() -> Result<JobStatus, Failure> {
    Ok(JobStatus::default())
}

/// No decisions by anyone.
const NO: &Decisions = &Decisions { acked: None, snoozed_until: None, stopped_at: None, started_at: None };

fn completed() -> Result<JobStatus, Failure> {
    Ok(JobStatus { completed: true, ..JobStatus::default() })
}

/// Runs a sequence of (time, observation) and returns for each whether a section was reported.
fn run(j: &Job, steps: &[(DateTime<Utc>, Result<JobStatus, Failure>)]) -> (Vec<bool>, JobState) {
    let mut st = JobState::default();
    let mut out = Vec::new();
    for (t, obs) in steps {
        let d = evaluate_long(j, &st, NO, obs, *t, BERLIN);
        out.push(d.section.is_some());
        st = d.state;
    }
    (out, st)
}

#[test]
fn stall_is_reported_after_stall_seconds_then_repeated_with_backoff() {
    let j = long(r#"{"stallSeconds":600,"reportEverySeconds":0}"#);
    let steps = [
        (at(12, 0, 0), running("a")),    // first seen: status change
        (at(12, 0, 599), running("a")),  // not yet stalled
        (at(12, 0, 600), running("a")),  // stalled: new anomaly
        (at(12, 0, 1200), running("a")), // same anomaly, 600 s later: held (backoff 900)
        (at(12, 0, 1500), running("a")), // 900 s after the last alert: repeated
        (at(12, 0, 1560), running("b")), // progress again: healthy, no routine (reportEvery 0)
    ];
    assert_eq!(run(&j, &steps).0, vec![true, false, true, false, true, false]);
}

#[test]
fn anomaly_repeat_uses_report_every_when_larger() {
    let j = long(r#"{"stallSeconds":60,"reportEverySeconds":1800}"#);
    let d0 = evaluate_long(&j, &JobState::default(), NO, &running("a"), at(12, 0, 0), BERLIN);
    let d1 = evaluate_long(&j, &d0.state, NO, &running("a"), at(12, 0, 60), BERLIN);
    assert!(matches!(d1.section.as_ref().unwrap().anomaly, Some(Anomaly::Stalled { seconds: 60 })));
    let d2 = evaluate_long(&j, &d1.state, NO, &running("a"), at(12, 0, 60 + 1000), BERLIN);
    assert!(d2.section.is_none(), "1000 s < 1800 s");
    let d3 = evaluate_long(&j, &d2.state, NO, &running("a"), at(12, 0, 60 + 1800), BERLIN);
    assert!(d3.section.is_some());
}

#[test]
fn explicit_zero_stall_disables_stall_detection() {
    let j = long(r#"{"stallSeconds":0,"reportEverySeconds":0}"#);
    let (r, st) = run(&j, &[(at(12, 0, 0), running("a")), (at(12, 0, 100_000), running("a"))]);
    assert_eq!(r, vec![true, false]);
    assert!(st.last_anomaly_key.is_none());
}

/// The state after the job was seen running at 11:00.
fn was_running(j: &Job) -> JobState {
    evaluate_long(j, &JobState::default(), NO, &running("a"), at(11, 0, 0), BERLIN).state
}

#[test]
fn changed_anomaly_is_reported_at_once_and_ack_silences_repeats() {
    let j = long(r#"{"reportEverySeconds":0}"#);
    let d0 = evaluate_long(&j, &was_running(&j), NO, &paused(), at(12, 0, 0), BERLIN);
    assert!(d0.section.is_some());
    let st = d0.state;
    let acked = Decisions { acked: st.last_anomaly_key.clone().map(|k| (k, at(12, 0, 10).timestamp())), ..Decisions::default() };
    let d1 = evaluate_long(&j, &st, &acked, &paused(), at(12, 0, 5000), BERLIN);
    assert!(d1.section.is_none(), "acknowledged: not repeated");
    let changed = Ok(JobStatus { stop_reason: Some("disk full".into()), ..JobStatus::default() });
    let d2 = evaluate_long(&j, &d1.state, &acked, &changed, at(12, 0, 5060), BERLIN);
    assert!(d2.section.is_some(), "changed anomaly comes at once despite the ack");
}

#[test]
fn crashed_job_requires_action_unless_auto_resume_handles_it() {
    let j = long("{}");
    let d = evaluate_long(&j, &was_running(&j), NO, &paused(), at(12, 0, 0), BERLIN);
    let s = d.section.unwrap();
    assert!(matches!(s.anomaly, Some(Anomaly::Crashed { ran_seconds: Some(3600), .. })), "{:?}", s.anomaly);
    assert!(s.notes.iter().any(|n| matches!(n, Note::Hint(_))));
    assert_eq!(d.chain, Some(When::Failure));
    let j = long(r#"{"autoResume":true}"#);
    let d = evaluate_long(&j, &was_running(&j), NO, &paused(), at(12, 0, 0), BERLIN);
    assert_eq!(d.auto_resume, Some(AutoResume::Start));
    assert!(!d.section.unwrap().notes.iter().any(|n| matches!(n, Note::Hint(_))));
}

#[test]
fn a_never_started_job_is_no_alert_and_auto_resume_starts_it_silently() {
    let j = long("{}");
    let d = evaluate_long(&j, &JobState::default(), NO, &paused(), at(12, 0, 0), BERLIN);
    assert!(d.section.is_none(), "never started: listed in /status, no report");
    let j = long(r#"{"autoResume":true}"#);
    let d = evaluate_long(&j, &JobState::default(), NO, &paused(), at(12, 0, 0), BERLIN);
    assert_eq!(d.auto_resume, Some(AutoResume::Start));
    let s = d.section.unwrap();
    assert!(s.anomaly.is_none() && !s.loud, "started (auto-resume) silently: {s:?}");
}

#[test]
fn a_job_stopped_on_purpose_is_no_alert_and_not_auto_resumed() {
    let j = long(r#"{"autoResume":true}"#);
    let mut st = was_running(&j);
    let mut said = Decisions::default();
    said.stop(0);
    for secs in [0, 5000, 50_000] {
        let d = evaluate_long(&j, &st, &said, &paused(), at(12, 0, secs), BERLIN);
        assert!(d.section.is_none(), "no report at +{secs}s");
        assert_eq!(d.auto_resume, None);
        assert_eq!(d.chain, None, "a stop is no failure");
        st = d.state;
    }
}

#[test]
fn auto_resume_backoff_table() {
    let j = long(r#"{"autoResume":true,"autoResumeBackoffSeconds":900}"#);
    let mut st = JobState::default();
    let mut verdicts = Vec::new();
    for secs in [0, 300, 899, 900, 1000, 1800] {
        let d = evaluate_long(&j, &st, NO, &paused(), at(12, 0, secs), BERLIN);
        verdicts.push(d.auto_resume.clone().unwrap());
        st = d.state;
    }
    use AutoResume::*;
    assert_eq!(verdicts, vec![Start, Backoff, Backoff, Start, Backoff, Start]);
}

#[test]
fn a_crash_that_auto_resume_brings_back_amends_its_alert_instead_of_a_new_message() {
    let j = long(r#"{"autoResume":true,"autoResumeBackoffSeconds":60}"#);
    let at_progress = |done: u32| {
        let mut s = JobStatus { running: true, ..JobStatus::default() };
        s.progress = serde_json::from_str(&format!(r#"{{"done":{done},"total":12,"unit":"files"}}"#)).ok();
        s
    };
    let before = evaluate_long(&j, &JobState::default(), NO, &Ok(at_progress(2)), at(11, 0, 0), BERLIN).state;
    let crash = evaluate_long(&j, &before, NO, &paused(), at(12, 0, 0), BERLIN);
    assert_eq!(crash.auto_resume, Some(AutoResume::Start));
    let alert = crash.section.unwrap();
    let key = alert.anomaly.as_ref().map(|a| a.key(None)).unwrap();
    // Seen running again further on: the line tells where it was resumed, not where it is now.
    let d = evaluate_long(&j, &crash.state, NO, &Ok(at_progress(7)), at(12, 0, 1), BERLIN);
    let s = d.section.expect("the news goes out as an amendment");
    assert_eq!(s.amends.as_deref(), Some(key.as_str()));
    assert!(!s.loud && s.anomaly.is_none(), "{s:?}");
    let resumed = Note::Resumed { job: "j".into(), crashed: "12:00:00".into(), resumed: "12:00:00".into(), progress: Some("2/12 files".into()) };
    assert_eq!(s.notes, vec![resumed]);
    assert!(d.state.resuming.is_none(), "said once");
    let again = evaluate_long(&j, &d.state, NO, &running("a"), at(12, 0, 2), BERLIN);
    assert!(again.section.is_none_or(|s| s.amends.is_none()));
}

#[test]
fn a_crashed_job_a_person_starts_again_amends_its_crash_alert_once_it_runs() {
    let j = long("{}");
    let crash = evaluate_long(&j, &was_running(&j), NO, &paused(), at(12, 0, 0), BERLIN);
    let key = crash.section.unwrap().anomaly.map(|a| a.key(None)).unwrap();
    let said = Decisions { started_at: Some(at(12, 0, 30).timestamp()), ..Decisions::default() };
    let d = evaluate_long(&j, &crash.state, &said, &running("a"), at(12, 0, 31), BERLIN);
    let s = d.section.expect("the crash alert is amended");
    assert_eq!(s.amends.as_deref(), Some(key.as_str()));
    assert!(!s.loud && s.anomaly.is_none(), "{s:?}");
    assert!(matches!(&s.notes[..], [Note::Resumed { resumed, .. }] if resumed == "12:00:30"), "{:?}", s.notes);
    let again = evaluate_long(&j, &d.state, &said, &running("a"), at(12, 0, 32), BERLIN);
    assert!(again.section.is_none_or(|s| s.amends.is_none()), "said once");
    // Seen running in the very second of the start (before the start counts): amended too.
    let d = evaluate_long(&j, &crash.state, &said, &running("a"), at(12, 0, 30), BERLIN);
    assert_eq!(d.section.and_then(|s| s.amends).as_deref(), Some(key.as_str()));
}

#[test]
fn a_crash_reported_while_auto_resume_waited_is_not_reported_again_when_it_starts() {
    let j = long(r#"{"autoResume":true,"autoResumeBackoffSeconds":60}"#);
    let mut st = was_running(&j);
    st.last_auto_resume_at = Some(at(11, 59, 30).timestamp());
    let waiting = evaluate_long(&j, &st, NO, &paused(), at(12, 0, 0), BERLIN);
    assert_eq!(waiting.auto_resume, Some(AutoResume::Backoff));
    assert!(waiting.section.is_some_and(|s| s.anomaly.is_some()), "the crash alert");
    let start = evaluate_long(&j, &waiting.state, NO, &paused(), at(12, 0, 40), BERLIN);
    assert_eq!(start.auto_resume, Some(AutoResume::Start), "the tick still starts it");
    assert!(start.section.is_none(), "no second alert: the first is edited once it runs");
    assert!(start.state.resuming.is_some());
}

#[test]
fn auto_resume_never_starts_a_non_read_only_job() {
    let j = job("long_running_read", "write_local", r#"{"autoResume":true}"#);
    let d = evaluate_long(&j, &JobState::default(), NO, &paused(), at(12, 0, 0), BERLIN);
    assert_eq!(d.auto_resume, Some(AutoResume::Blocked));
    assert!(d.section.is_some());
}

#[test]
fn a_completed_job_whose_process_then_exits_is_not_reported_completed_twice() {
    let j = long(r#"{"reportEverySeconds":60}"#);
    let done_running = || Ok(JobStatus { running: true, completed: true, ..JobStatus::default() });
    let steps = [(at(12, 0, 0), running("a")), (at(12, 0, 60), done_running()), (at(12, 0, 120), completed()), (at(12, 0, 180), completed())];
    assert_eq!(run(&j, &steps).0, vec![true, true, false, false], "running+completed, then not running+completed: one completion");
}

#[test]
fn completion_is_reported_exactly_once_and_chains_success() {
    let j = long(r#"{"reportEverySeconds":60}"#);
    let steps = [
        (at(12, 0, 0), running("a")),
        (at(12, 0, 60), completed()),
        (at(12, 0, 120), completed()),
        (at(12, 0, 3600), completed()),
        (at(12, 0, 7200), completed()),
    ];
    assert_eq!(run(&j, &steps).0, vec![true, true, false, false, false]);
    let d0 = evaluate_long(&j, &JobState::default(), NO, &running("a"), at(12, 0, 0), BERLIN);
    let d1 = evaluate_long(&j, &d0.state, NO, &completed(), at(12, 0, 60), BERLIN);
    assert_eq!(d1.chain, Some(When::Success));
    let d2 = evaluate_long(&j, &d1.state, NO, &completed(), at(12, 0, 120), BERLIN);
    assert_eq!(d2.chain, None);
}

#[test]
fn a_running_job_that_stops_without_completing_chains_failure() {
    let j = long("{}");
    let d0 = evaluate_long(&j, &JobState::default(), NO, &running("a"), at(12, 0, 0), BERLIN);
    let d1 = evaluate_long(&j, &d0.state, NO, &paused(), at(12, 0, 60), BERLIN);
    assert_eq!(d1.chain, Some(When::Failure));
}

#[test]
fn routine_progress_respects_interval_and_only_on_change_day_and_night() {
    let j = long(r#"{"reportEverySeconds":600,"stallSeconds":0}"#);
    // (Berlin time, progress key, reported?)
    let table = [
        (at(20, 0, 0), "a", true),      // started
        (at(20, 5, 0), "b", false),     // 300 s < 600 s
        (at(20, 10, 0), "c", true),     // due and changed
        (at(20, 20, 0), "c", false),    // due but unchanged (onlyOnChange)
        (at(23, 30, 0), "d", true),     // quiet hours: the live message is updated silently
        (at(7, 59, 86_400), "e", true), // next morning, still quiet
        (at(8, 5, 86_400), "f", false), // quiet hours over, 360 s < 600 s
        (at(8, 10, 86_400), "g", true), // due and changed
    ];
    let mut st = JobState::default();
    for (t, key, want) in table {
        let d = evaluate_long(&j, &st, NO, &running(key), t, BERLIN);
        assert_eq!(d.section.is_some(), want, "at {t} key {key}");
        if let Some(s) = &d.section {
            assert_eq!(s.loud, t == at(20, 0, 0), "routine progress is silent, the status change is loud");
            assert_eq!(crate::policy::live::is_progress(s), t != at(20, 0, 0), "routine progress goes to the live message");
        }
        st = d.state;
    }
}

#[test]
fn only_on_change_false_repeats_unchanged_progress() {
    let j = long(r#"{"reportEverySeconds":600,"stallSeconds":0,"onlyOnChange":false}"#);
    let (r, _) = run(&j, &[(at(12, 0, 0), running("a")), (at(12, 10, 0), running("a"))]);
    assert_eq!(r, vec![true, true]);
}

#[test]
fn quiet_hours_never_hold_back_anomalies_or_status_changes() {
    let j = long(r#"{"reportEverySeconds":600}"#);
    let (r, _) = run(&j, &[(at(23, 30, 0), running("a")), (at(23, 40, 0), paused())]);
    assert_eq!(r, vec![true, true]);
}

#[test]
fn snooze_pauses_routine_and_repeats_but_not_new_anomalies() {
    let j = long(r#"{"reportEverySeconds":600,"stallSeconds":0}"#);
    let d0 = evaluate_long(&j, &JobState::default(), NO, &running("a"), at(12, 0, 0), BERLIN);
    let st = d0.state;
    let said = Decisions { snoozed_until: Some(at(13, 0, 0).timestamp()), ..Decisions::default() };
    let d1 = evaluate_long(&j, &st, &said, &running("b"), at(12, 20, 0), BERLIN);
    assert!(d1.section.is_none(), "routine held while snoozed");
    let d2 = evaluate_long(&j, &d1.state, &said, &paused(), at(12, 30, 0), BERLIN);
    assert!(d2.section.is_some(), "a new anomaly still comes");
    let d3 = evaluate_long(&j, &d2.state, &said, &paused(), at(12, 50, 0), BERLIN);
    assert!(d3.section.is_none(), "repeat held (backoff and snooze)");
}

#[test]
fn invalid_status_is_an_alert_naming_the_reason_and_is_not_repeated_at_once() {
    let j = long("{}");
    let bad: Result<JobStatus, Failure> = Err(Failure::new(FailureKind::NotJson, "status output is not JSON"));
    let d0 = evaluate_long(&j, &JobState::default(), NO, &bad, at(12, 0, 0), BERLIN);
    match &d0.section.as_ref().unwrap().anomaly {
        Some(Anomaly::InvalidStatus { failure }) => assert!(failure.reason.contains("not JSON")),
        other => panic!("{other:?}"),
    }
    let d1 = evaluate_long(&j, &d0.state, NO, &bad, at(12, 1, 0), BERLIN);
    assert!(d1.section.is_none());
}

#[test]
fn job_level_alert_is_an_anomaly() {
    let j = long("{}");
    let s = Ok(JobStatus { running: true, level: Some("alert".into()), message: Some("disk errors".into()), ..JobStatus::default() });
    let d = evaluate_long(&j, &JobState::default(), NO, &s, at(12, 0, 0), BERLIN);
    assert!(matches!(d.section.unwrap().anomaly, Some(Anomaly::JobAlert { .. })));
}

fn check(success: bool, output: &str) -> CheckResult {
    CheckResult {
        run_failure: (!success).then_some(FailureKind::Exit(1)),
        summary: if success { "exit 0".into() } else { "exit 1".into() },
        output: output.into(),
    }
}

#[test]
fn a_write_job_is_never_due_on_a_schedule_even_if_one_slips_through() {
    let read = job("one_shot_read", "read_only", r#"{"runEverySeconds":60}"#);
    assert!(schedule_due(&read, &JobState::default(), 0));
    let mut write = job("one_shot_read", "read_only", r#"{"runEverySeconds":60}"#);
    write.kind = crate::config::Kind::OneShotWrite;
    write.risk = crate::config::Risk::WriteLocal;
    assert!(!schedule_due(&write, &JobState::default(), 0));
    assert!(!schedule_due(&write, &JobState::default(), 1_000_000));
}

#[test]
fn scheduled_check_reports_failures_with_backoff_and_recovery_once() {
    let j = job("one_shot_read", "read_only", r#"{"runEverySeconds":60}"#);
    let table = [
        (0, check(true, "ok"), false),
        (60, check(false, ""), true),           // failure
        (120, check(false, ""), false),         // same failure within backoff
        (180, check(true, "ALERT: hot"), true), // different failure (ALERT line)
        (240, check(true, "fine"), true),       // recovered
        (300, check(true, "fine"), false),
        (360, check(true, "ACTION REQUIRED: x"), true),
    ];
    let mut st = JobState::default();
    for (secs, r, want) in table {
        let (s, sec, _) = evaluate_check(&j, &st, NO, &r, secs, true);
        assert_eq!(sec.is_some(), want, "at +{secs}");
        if secs == 240 {
            let sec = sec.unwrap();
            assert!(sec.notes.contains(&Note::Recovered));
            // Every chat's copy of the failing alert is amended: it says the check passes again.
            assert_eq!(sec.amends, st.last_anomaly_key, "the recovery amends the alert it ends");
            assert!(sec.amends.is_some());
        }
        st = s;
    }
}

#[test]
fn chained_check_reports_every_failure() {
    let j = job("one_shot_read", "read_only", "{}");
    let (st, a, w) = evaluate_check(&j, &JobState::default(), NO, &check(true, "ACTION REQUIRED: test"), 0, false);
    let (_, b, _) = evaluate_check(&j, &st, NO, &check(true, "ACTION REQUIRED: test"), 10, false);
    assert!(a.is_some() && b.is_some());
    assert_eq!(w, When::Success);
}

#[test]
fn schedule_due_table() {
    let j = job("one_shot_read", "read_only", r#"{"runEverySeconds":300}"#);
    let mut st = JobState::default();
    assert!(schedule_due(&j, &st, 1000));
    st.last_check_at = Some(1000);
    assert!(!schedule_due(&j, &st, 1299));
    assert!(schedule_due(&j, &st, 1300));
    let unscheduled = job("one_shot_read", "read_only", "{}");
    assert!(!schedule_due(&unscheduled, &JobState::default(), 1000));
}

#[test]
fn a_timeout_is_one_anomaly_whatever_it_measured_and_repeats_only_as_a_reminder() {
    let j = long("{}");
    let hung = |ms: u64| -> Result<JobStatus, Failure> { Err(Failure::new(FailureKind::Timeout, format!("status command timed out after {ms} ms"))) };
    let steps = [(at(12, 0, 0), hung(1027)), (at(12, 1, 0), hung(1031)), (at(12, 29, 0), hung(1009)), (at(12, 30, 0), hung(1044))];
    let (reported, st) = run(&j, &steps);
    assert_eq!(reported, vec![true, false, false, true], "new, same, same, reminder after max(900 s, reportEverySeconds)");
    assert_eq!(st.last_anomaly_key.as_deref(), Some("invalid:timeout"));
    let exit = |code| -> Result<JobStatus, Failure> { Err(Failure::new(FailureKind::Exit(code), "status command exit")) };
    let (reported, _) = run(&j, &[(at(12, 0, 0), hung(5)), (at(12, 1, 0), exit(3)), (at(12, 2, 0), exit(3)), (at(12, 3, 0), exit(4))]);
    assert_eq!(reported, vec![true, true, false, true], "a different kind is a changed anomaly");
}

#[test]
fn a_repeated_anomaly_says_it_is_a_reminder_and_which_one() {
    let j = long(r#"{"stallSeconds":600,"reportEverySeconds":0}"#);
    let mut st = JobState::default();
    let mut reminders = Vec::new();
    for secs in [0, 600, 1500, 2400, 2460] {
        let d = evaluate_long(&j, &st, NO, &running("a"), at(12, 0, secs), BERLIN);
        if let Some(s) = &d.section {
            reminders.push(s.notes.iter().find_map(|n| match n {
                Note::Reminder { count, for_seconds } => Some((*count, *for_seconds)),
                _ => None,
            }));
        }
        st = d.state;
    }
    assert_eq!(reminders, vec![None, None, Some((1, 900)), Some((2, 1800))], "first report, first alert, then numbered reminders");
}

#[test]
fn a_run_started_from_a_chat_is_reported_running_without_sound_but_its_crash_still_rings() {
    use super::lifecycle::started;
    use super::long::quiet_if_started_from_chat;
    let j = long("{}");
    let mut st = evaluate_long(&j, &JobState::default(), NO, &paused(), at(12, 0, 0), BERLIN).state;
    let t = at(12, 0, 5).timestamp();
    started(&mut st, t);
    let d = evaluate_long(&j, &st, NO, &running("a"), at(12, 0, 10), BERLIN);
    let mut sec = d.section.expect("the status change is reported");
    assert!(sec.loud);
    let mut other = sec.clone();
    quiet_if_started_from_chat(&mut other, Some(t - 60));
    assert!(other.loud, "a run started elsewhere (an earlier chat start) still rings");
    quiet_if_started_from_chat(&mut sec, Some(t));
    assert!(!sec.loud, "the run started from the chat goes out silently");
    let crash = evaluate_long(&j, &d.state, NO, &paused(), at(12, 0, 20), BERLIN).section.expect("the crash is reported");
    let mut crash_sec = crash;
    quiet_if_started_from_chat(&mut crash_sec, Some(t));
    assert!(crash_sec.loud && crash_sec.anomaly.is_some(), "a crash after a start from the chat still rings");
}
