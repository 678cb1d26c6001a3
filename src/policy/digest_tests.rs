use super::*;
use crate::policy::status::JobStatus;

fn long(id: &str, running: bool, completed: bool) -> Section {
    let mut s = Section::system(id, id);
    s.kind = Some("long_running_read".into());
    s.status = Some(JobStatus { running, completed, ..JobStatus::default() });
    s
}

fn alert(id: &str, message: &str) -> Section {
    let mut s = long(id, true, false);
    s.anomaly = Some(Anomaly::JobAlert { message: Some(message.into()) });
    s
}

fn crash(id: &str, at: i64, resume: Option<AutoResume>) -> Section {
    let mut s = long(id, false, false);
    s.anomaly = Some(Anomaly::Crashed { stop_reason: None, ran_seconds: Some(60), at, exit_code: None, signal: None });
    s.notes.extend(resume.map(Note::AutoResume));
    s
}

fn rec(id: i64, at: i64, rang: bool, section: Section) -> Recorded {
    Recorded { id, at, rang, section }
}

fn sample(at: i64, done: f64) -> Sample {
    Sample { at, done, total: Some(10.0), percent: false }
}

struct World {
    jobs: Vec<(String, String)>,
    states: HashMap<String, JobState>,
    said: HashMap<String, Decisions>,
    progress: HashMap<String, (Sample, Sample)>,
    pending: Vec<Pending>,
}

impl World {
    fn new(ids: &[&str]) -> World {
        World {
            jobs: ids.iter().map(|i| (i.to_string(), i.to_string())).collect(),
            states: HashMap::new(),
            said: HashMap::new(),
            progress: HashMap::new(),
            pending: Vec::new(),
        }
    }
    fn digest(&self, recorded: &[Recorded]) -> Option<Digest> {
        build(recorded, 0, &Current { jobs: &self.jobs, states: &self.states, said: &self.said, progress: &self.progress, pending: &self.pending, now: 1000 })
    }
    fn anomaly(&mut self, job: &str, key: &str, acked: bool) {
        let st = self.states.entry(job.into()).or_default();
        st.last_anomaly_key = Some(key.into());
        st.anomaly_since = Some(1);
        if acked {
            self.said.insert(job.into(), Decisions { acked: Some((key.into(), 2)), ..Decisions::default() });
        }
    }
}

fn events(d: &Digest, job: &str) -> Vec<Event> {
    d.jobs.iter().find(|j| j.job_id == job).map(|j| j.events.iter().map(|t| t.event.clone()).collect()).unwrap_or_default()
}

#[test]
fn nothing_recorded_is_no_digest() {
    assert_eq!(World::new(&["a"]).digest(&[]), None);
}

#[test]
fn held_sections_become_completions_runs_resumes_and_recoveries() {
    let mut resumed = long("b", false, false);
    resumed.notes.push(Note::AutoResume(AutoResume::Started));
    let mut recovered = Section::system("c", "c");
    recovered.notes.push(Note::Recovered);
    let mut other = Section::system("c", "c");
    other.notes.push(Note::Verification { approval_id: 4, ok: true, after_failure: false });
    let d = World::new(&["a", "b", "c"])
        .digest(&[
            rec(1, 10, false, long("a", true, false)),
            rec(2, 20, false, long("a", false, true)),
            rec(3, 30, false, resumed),
            rec(4, 40, false, recovered),
            rec(5, 50, false, other.clone()),
        ])
        .unwrap();
    assert_eq!(events(&d, "a"), vec![Event::Running, Event::Completed]);
    assert_eq!(events(&d, "b"), vec![Event::Resumed(AutoResume::Started)], "an auto-resume of a never started job says only that");
    assert_eq!(events(&d, "c"), vec![Event::Recovered, Event::Other(Box::new(other))]);
    assert_eq!((d.held, d.rang, d.rows.clone()), (5, 0, vec![1, 2, 3, 4, 5]));
}

#[test]
fn each_alert_says_whether_it_is_still_open_acknowledged_or_over() {
    let mut w = World::new(&["open", "acked", "over"]);
    w.anomaly("open", "alert:disk full", false);
    w.anomaly("acked", "alert:link down", true);
    w.anomaly("over", "alert:something else now", false);
    let d = w
        .digest(&[rec(1, 10, true, alert("open", "disk full")), rec(2, 10, true, alert("acked", "link down")), rec(3, 10, true, alert("over", "cpu hot"))])
        .unwrap();
    let standing = |job: &str| match &events(&d, job)[0] {
        Event::Alert { standing, .. } => *standing,
        e => panic!("{e:?}"),
    };
    assert_eq!((standing("open"), standing("acked"), standing("over")), (Standing::Open, Standing::Acknowledged, Standing::Over));
    assert_eq!(d.rang, 3);
}

#[test]
fn the_same_alert_rung_again_is_listed_once_with_how_often_it_rang() {
    let d = World::new(&["a"]).digest(&[rec(1, 10, true, alert("a", "x")), rec(2, 20, true, alert("a", "x")), rec(3, 30, true, alert("a", "y"))]).unwrap();
    let rang: Vec<u32> = events(&d, "a")
        .iter()
        .map(|e| match e {
            Event::Alert { rang, .. } => *rang,
            e => panic!("{e:?}"),
        })
        .collect();
    assert_eq!(rang, vec![2, 1]);
    assert_eq!(d.rang, 2, "the heading counts the alerts it lists, not the times they rang");
}

#[test]
fn the_counts_are_those_of_what_is_listed() {
    // Nine completions of one job: the eight newest are listed, one is counted as earlier; a held
    // note of auto-resume alone lists nothing.
    let mut resume_only = Section::system("a", "a");
    resume_only.notes.push(Note::AutoResume(AutoResume::Backoff));
    let mut recorded: Vec<Recorded> = (1..=9).map(|i| rec(i, i * 10, false, long("a", false, true))).collect();
    recorded.push(rec(10, 100, false, resume_only));
    let d = World::new(&["a"]).digest(&recorded).unwrap();
    let listed = d.jobs[0].events.len();
    assert_eq!((listed, d.jobs[0].more), (EVENTS_PER_JOB, 1));
    assert_eq!(d.held, listed, "held counts the listed events (the earlier one has its own line), nothing else");
}

#[test]
fn a_crash_and_its_auto_resume_and_the_buttons_of_open_alerts_only() {
    let mut w = World::new(&["scan", "gone"]);
    w.anomaly("gone", "crashed:50:", false);
    let d = w.digest(&[rec(1, 40, true, crash("scan", 40, Some(AutoResume::Started))), rec(2, 50, true, crash("gone", 50, None))]).unwrap();
    assert!(matches!(events(&d, "scan")[..], [Event::Alert { standing: Standing::Over, .. }, Event::Resumed(AutoResume::Started)]), "{:?}", events(&d, "scan"));
    let actions = |job: &str| d.jobs.iter().find(|j| j.job_id == job).unwrap().actions.clone();
    assert!(actions("scan").is_empty(), "a crash that is over needs no decision");
    assert_eq!(actions("gone"), vec![crate::policy::press::JobPress::Start, crate::policy::press::JobPress::Logs]);
}

#[test]
fn progress_then_and_now_for_jobs_that_moved_or_have_news() {
    let mut w = World::new(&["moved", "still", "news"]);
    w.progress.insert("moved".into(), (sample(1, 2.0), sample(900, 7.0)));
    w.progress.insert("still".into(), (sample(1, 5.0), sample(1, 5.0)));
    w.progress.insert("news".into(), (sample(1, 5.0), sample(1, 5.0)));
    let d = w.digest(&[rec(1, 10, false, long("news", false, true))]).unwrap();
    let ids: Vec<&str> = d.jobs.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(ids, vec!["moved", "news"], "a job that neither moved nor did anything is left out");
    assert_eq!(d.jobs[0].progress, Some((sample(1, 2.0), sample(900, 7.0))));
}

#[test]
fn expired_requests_are_left_out_and_system_sections_come_after_the_jobs() {
    let mut w = World::new(&["a"]);
    w.pending = vec![
        Pending { id: 1, job_id: "w".into(), asked_by: "cli".into(), expires_at: 999 },
        Pending { id: 2, job_id: "w".into(), asked_by: "cli".into(), expires_at: 2000 },
    ];
    let mut cfg = Section::system("config", "config");
    cfg.notes.push(Note::ConfigInvalid { file: "c.json".into(), using_last_good: true });
    let d = w.digest(&[rec(1, 10, true, cfg), rec(2, 20, false, long("a", false, true))]).unwrap();
    assert_eq!(d.pending.iter().map(|p| p.id).collect::<Vec<_>>(), vec![2]);
    assert_eq!(d.jobs.iter().map(|j| j.job_id.as_str()).collect::<Vec<_>>(), vec!["a", "config"]);
}

#[test]
fn a_busy_night_lists_the_newest_events_and_counts_the_rest() {
    let recorded: Vec<Recorded> = (0..20).map(|i| rec(i, i * 10, true, alert("a", &format!("n={i}")))).collect();
    let d = World::new(&["a"]).digest(&recorded).unwrap();
    let j = &d.jobs[0];
    assert_eq!((j.events.len(), j.more), (EVENTS_PER_JOB, 20 - EVENTS_PER_JOB));
    assert_eq!(j.events.last().unwrap().at, 190, "the newest are kept");
}

#[test]
fn quiet_start_is_the_last_start_of_the_window_before_the_event() {
    use chrono::TimeZone;
    let night = QuietHours { start: 23 * 60, end: 8 * 60 };
    let utc = chrono_tz::UTC;
    let t = |d: u32, h: u32, m: u32| Utc.with_ymd_and_hms(2026, 2, d, h, m, 0).unwrap().timestamp();
    assert_eq!(quiet_start(t(5, 2, 0), utc, night), t(4, 23, 0), "after midnight: the evening before");
    assert_eq!(quiet_start(t(5, 23, 30), utc, night), t(5, 23, 0));
    // Berlin, the night clocks jump from 02:00 to 03:00: a window starting at 02:30 counts from 03:30 CEST.
    let berlin = chrono_tz::Europe::Berlin;
    let w = QuietHours { start: 2 * 60 + 30, end: 6 * 60 };
    let at = Utc.with_ymd_and_hms(2026, 3, 29, 3, 0, 0).unwrap().timestamp(); // 05:00 CEST
    assert_eq!(quiet_start(at, berlin, w), Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap().timestamp());
}

#[test]
fn a_night_with_nothing_held_tells_progress_or_nothing() {
    let mark = rec(7, 5, false, Section::system(NIGHT_MARK, NIGHT_MARK));
    let mut w = World::new(&["a"]);
    let d = w.digest(std::slice::from_ref(&mark)).unwrap();
    assert!(d.is_empty() && d.rows == vec![7], "nothing to tell, but the mark is taken");
    w.progress.insert("a".into(), (sample(5, 1.0), sample(900, 6.0)));
    let d = w.digest(&[mark]).unwrap();
    assert!(!d.is_empty());
    assert_eq!((d.held, d.rang, d.jobs.len(), d.jobs[0].events.len()), (0, 0, 1, 0), "the mark is no event");
}
