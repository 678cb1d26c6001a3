//! `ops-monitor selftest`: the built-in scenarios (parity with the Python tool's `selftest`), each
//! run through the real tick (runner, store, policy) in its own temporary installation. Verdicts
//! come from what the tick reported and stored, never from a canned answer.

use super::selftest_lab::{section, Lab};
use crate::policy::report::{Anomaly, AutoResume, Note};
use anyhow::{bail, ensure, Context, Result};
use chrono::Timelike;
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;

type Verdict = Pin<Box<dyn Future<Output = Result<String>>>>;

/// A named scenario: runs in its own installation and says why it passed.
type Scenario = (&'static str, fn() -> Verdict);

/// The scenarios, in the order they are printed.
const SCENARIOS: &[Scenario] = &[
    ("auto-resume of a paused read job", || Box::pin(auto_resume())),
    ("queued one_shot_read whose output says ACTION REQUIRED", || Box::pin(action_required())),
    ("blocked write job", || Box::pin(blocked_write())),
    ("stall detection", || Box::pin(stall())),
    ("quiet hours", || Box::pin(quiet_hours())),
];

/// Runs every scenario, prints one line each; exit code 0 only when all pass.
pub async fn run() -> Result<i32> {
    let mut failed = 0;
    for (name, scenario) in SCENARIOS {
        match scenario().await {
            Ok(why) => say!("PASS  {name}: {why}"),
            Err(e) => {
                failed += 1;
                say!("FAIL  {name}: {e:#}");
            }
        }
    }
    let n = SCENARIOS.len();
    say!("selftest: {} of {n} scenarios passed", n - failed);
    Ok(if failed == 0 { 0 } else { 1 })
}

fn long_job(lab: &Lab, id: &str, status: &str, extra: Value) -> Value {
    let mut j = json!({"id": id, "kind": "long_running_read", "risk": "read_only", "enabled": true,
        "commands": {"start": lab.probe("started", Some(&json!("yes"))), "status": lab.probe(status, None)}});
    if let (Value::Object(j), Value::Object(extra)) = (&mut j, extra) {
        j.extend(extra);
    }
    j
}

async fn auto_resume() -> Result<String> {
    let lab = Lab::new()?;
    lab.file("scan.json", r#"{"running":false,"completed":false,"stopReason":"paused by selftest"}"#)?;
    let running = json!({"running": true, "completed": false, "progress": {"done": 1, "total": 10}});
    let mut job = long_job(&lab, "scan", "scan.json", json!({"policy": {"autoResume": true}}));
    job["commands"]["start"] = lab.probe("scan.json", Some(&running));
    lab.config(json!([job]), json!({}))?;
    let out = lab.tick().await?;
    let sec = section(&out, "scan").context("the paused job was not reported")?;
    ensure!(sec.anomaly.is_none() && !sec.loud, "a job never started is started silently, got {:?}", sec.anomaly);
    let resumed = sec.notes.iter().find_map(|n| match n {
        Note::AutoResume(a) => Some(a.clone()),
        _ => None,
    });
    ensure!(resumed == Some(AutoResume::Started), "auto-resume verdict {resumed:?}, expected Started");
    let again = lab.tick().await?;
    let now = section(&again, "scan").and_then(|s| s.status.clone()).context("the next tick did not report the restarted job")?;
    ensure!(now.running, "the job is not running after its auto-resume");
    Ok("never started job started by itself without an alert, seen running on the next tick".into())
}

async fn action_required() -> Result<String> {
    let lab = Lab::new()?;
    lab.file("check.txt", "disk /data 97% full\nACTION REQUIRED: free space on /data\n")?;
    let job = json!({"id": "disk", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": lab.probe("check.txt", None)}});
    lab.config(json!([job]), json!({}))?;
    let now = chrono::Utc::now().timestamp();
    lab.store()?.enqueue("disk", "selftest", now, now)?;
    let out = lab.tick().await?;
    let sec = section(&out, "disk").context("the queued check was not reported")?;
    match &sec.anomaly {
        Some(Anomaly::CheckFailed { failure }) if failure.reason.contains("ACTION REQUIRED") => {}
        other => bail!("expected a failed-check alert naming ACTION REQUIRED, got {other:?}"),
    }
    ensure!(sec.loud, "the alert would not ring");
    let status = lab.store()?.queue()?.into_iter().find(|q| q.job_id == "disk").map(|q| q.status);
    ensure!(status.as_deref() == Some("done"), "queue item is {status:?}, expected done");
    Ok("the queued check ran once and its ACTION REQUIRED line became a loud alert".into())
}

async fn blocked_write() -> Result<String> {
    let lab = Lab::new()?;
    lab.file("ok.txt", "verified\n")?;
    let write = json!({"id": "rotate", "kind": "one_shot_write", "risk": "write_local", "enabled": true,
        "commands": {"run": lab.probe("rotated", Some(&json!("ran")))}, "after": [{"jobId": "verify", "when": "success"}]});
    let verify = json!({"id": "verify", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": lab.probe("ok.txt", None)}});
    lab.config(json!([write, verify]), json!({}))?;
    let now = chrono::Utc::now().timestamp();
    lab.store()?.enqueue("rotate", "selftest: as if chained", now, now)?;
    let out = lab.tick().await?;
    let sec = section(&out, "rotate").context("the queued write job was not reported")?;
    ensure!(sec.notes.iter().any(|n| matches!(n, Note::ChainBlocked { .. })), "no 'blocked' note: {:?}", sec.notes);
    ensure!(!lab.exists("rotated"), "the write job's command ran");
    let status = lab.store()?.queue()?.into_iter().find(|q| q.job_id == "rotate").map(|q| q.status);
    ensure!(status.as_deref() == Some("blocked"), "queue item is {status:?}, expected blocked");
    Ok("a queued write job was refused and reported; its command never ran".into())
}

async fn stall() -> Result<String> {
    let lab = Lab::new()?;
    lab.file("sync.json", r#"{"running":true,"completed":false,"progress":{"done":5,"total":10}}"#)?;
    lab.config(json!([long_job(&lab, "sync", "sync.json", json!({"policy": {"stallSeconds": 3600}}))]), json!({}))?;
    let first = lab.tick().await?;
    ensure!(section(&first, "sync").is_none_or(|s| s.anomaly.is_none()), "alert on the first sight of a running job");
    // Two hours pass without progress: move the recorded progress time back.
    lab.store()?.update_job_state("sync", |s| s.last_progress_at = s.last_progress_at.map(|t| t - 7200))?;
    let out = lab.tick().await?;
    match section(&out, "sync").and_then(|s| s.anomaly.clone()) {
        Some(Anomaly::Stalled { seconds }) if seconds >= 7200 => Ok(format!("no progress for {} min (stallSeconds 3600) raised a stall alert", seconds / 60)),
        other => bail!("expected a stall alert, got {other:?}"),
    }
}

async fn quiet_hours() -> Result<String> {
    let lab = Lab::new()?;
    let status = |done: u32| format!(r#"{{"running":true,"completed":false,"progress":{{"done":{done},"total":100}}}}"#);
    lab.file("copy.json", &status(1))?;
    lab.file("mail.json", r#"{"running":true,"completed":false,"level":"ok"}"#)?;
    let jobs = |window: (String, String)| -> Result<()> {
        let policy = json!({"reportEverySeconds": 60, "quietHours": {"start": window.0, "end": window.1}});
        lab.config(
            json!([long_job(&lab, "copy", "copy.json", json!({"policy": policy})), long_job(&lab, "mail", "mail.json", json!({"policy": policy}))]),
            json!({}),
        )
    };
    jobs(window_around_now(true))?;
    lab.tick().await?;
    let an_hour_later = |lab: &Lab| -> Result<()> {
        lab.store()?.update_job_state("copy", |s| s.last_report_at = s.last_report_at.map(|t| t - 3600))?;
        Ok(())
    };
    an_hour_later(&lab)?;
    lab.file("copy.json", &status(2))?;
    lab.file("mail.json", r#"{"running":true,"completed":false,"level":"alert","message":"queue backed up"}"#)?;
    let quiet = lab.tick().await?;
    let silent = |s: &crate::policy::report::Section| !s.loud && crate::policy::live::is_progress(s);
    ensure!(section(&quiet, "copy").is_some_and(silent), "routine progress did not go silently to the live message during quiet hours");
    let alert = section(&quiet, "mail").context("an alert was held during quiet hours")?;
    ensure!(alert.loud && matches!(alert.anomaly, Some(Anomaly::JobAlert { .. })), "the alert would not ring: {alert:?}");
    jobs(window_around_now(false))?;
    an_hour_later(&lab)?;
    lab.file("copy.json", &status(3))?;
    let awake = lab.tick().await?;
    ensure!(section(&awake, "copy").is_some_and(|s| !s.loud), "routine progress was not reported outside quiet hours");
    Ok("progress went silently to the live message inside the window and outside it; an alert rang inside it".into())
}

/// A one-hour quiet window (UTC) that contains now, or one that is far from now.
fn window_around_now(containing: bool) -> (String, String) {
    let now = chrono::Utc::now();
    let minute = (now.hour() * 60 + now.minute()) as i64;
    let start = if containing { minute - 30 } else { minute + 600 };
    let hhmm = |m: i64| {
        let m = m.rem_euclid(24 * 60);
        format!("{:02}:{:02}", m / 60, m % 60)
    };
    (hhmm(start), hhmm(start + 60))
}
