//! A long job's pushed status: the status contract JSON that the job writes to
//! `$OPS_STATUS_FILE` (by hand or through `ops-monitor report`). While the file is fresh it is
//! read instead of spawning `commands.status`; the daemon watches it to observe a report at once.

use super::paths::Paths;
use super::runner;
use crate::config::Job;
use crate::policy::failure::{Failure, FailureKind};
use crate::policy::status::{parse_status, too_big, JobStatus, MAX_STATUS_BYTES};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The file's name inside the job's state folder (`OPS_STATE_DIR`).
pub const FILE_NAME: &str = "status.json";

/// The environment variable that tells a long job's commands where to write their status.
pub const ENV: &str = "OPS_STATUS_FILE";

/// Where `job` writes its status (its state folder is created when missing).
pub fn path(paths: &Paths, job_id: &str) -> Option<PathBuf> {
    runner::job_state_dir(&paths.state_dir(), job_id).ok().map(|d| d.join(FILE_NAME))
}

/// What the file said, and whether it is young enough to stand for the status command.
#[derive(Debug)]
pub enum Pushed {
    /// No file (or no state folder).
    Missing,
    /// Written within the job's `statusFileMaxAgeSeconds`.
    Fresh(Result<JobStatus, Failure>),
    /// Older than that: the status command is used again, when the job has one.
    Stale(Result<JobStatus, Failure>),
}

/// Reads the file at `path`, bounded like a status command's output; every problem is a
/// [`Failure`] whose reason names the file, never a panic.
pub fn read(path: &Path, max_age: Duration, now: SystemTime) -> Pushed {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Pushed::Missing,
        Err(e) => return Pushed::Fresh(Err(named(path, Failure::new(FailureKind::Spawn, format!("cannot read it: {e}"))))),
    };
    let age = meta.modified().ok().and_then(|m| now.duration_since(m).ok()).unwrap_or_default();
    let parsed =
        if !meta.is_file() { Err(Failure::new(FailureKind::Spawn, "is not a regular file")) } else { contents(path).and_then(|text| parse_status(&text)) };
    let parsed = parsed.map_err(|f| named(path, f)).map(settle_pid);
    if age <= max_age {
        Pushed::Fresh(parsed)
    } else {
        Pushed::Stale(parsed)
    }
}

fn contents(path: &Path) -> Result<String, Failure> {
    let mut buf = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(MAX_STATUS_BYTES as u64 + 1).read_to_end(&mut buf));
    if let Err(e) = read {
        return Err(Failure::new(FailureKind::Spawn, format!("cannot read it: {e}")));
    }
    if buf.len() > MAX_STATUS_BYTES {
        return Err(too_big(buf.len() as u64));
    }
    String::from_utf8(buf).map_err(|_| Failure::new(FailureKind::NotJson, "status output is not UTF-8 text"))
}

fn named(path: &Path, f: Failure) -> Failure {
    Failure::new(f.kind, format!("status file {}: {}", path.display(), f.reason))
}

/// A file that says "running" for a pid that is gone is a job that died without a last word:
/// not running, so the crash is seen from the pid as with a status command.
pub fn settle_pid(mut s: JobStatus) -> JobStatus {
    if s.running && s.pid.is_some_and(|p| !runner::pid_running(p as i32)) {
        s.running = false;
    }
    s
}

/// How old the file may be and still stand for the status command: `statusFileMaxAgeSeconds`,
/// else `stallSeconds` (an hour when stalls are off).
pub fn max_age(job: &Job) -> Duration {
    let stall = Some(job.policy.stall_seconds).filter(|s| *s > 0).unwrap_or(3600);
    Duration::from_secs(job.policy.status_file_max_age_seconds.unwrap_or(stall))
}

/// Writes `json` to `path` atomically (a temporary file beside it, then a rename), so a reader
/// sees the old report or the new one, never half of one.
pub fn write_atomic(path: &Path, json: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".status.").suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(json.as_bytes())?;
    tmp.as_file().sync_data()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Before `commands.start` runs: the last run's file must not speak for the new one. A job with
/// a status command loses it (the command answers until the new run reports); a job watched only
/// through its file gets a placeholder that says it was started (running, progress key
/// "started"), so it is not taken for a crash before its first report, and stalls if none comes.
pub fn prepare_start(job: &Job, paths: &Paths) -> std::io::Result<()> {
    let Some(p) = path(paths, &job.id) else { return Ok(()) };
    if job.commands.status.is_some() {
        return match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let placeholder = serde_json::json!({"running": true, "completed": false, "progressKey": "started", "message": "started; no report yet"});
    write_atomic(&p, &placeholder.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_stale_missing_and_malformed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        let now = SystemTime::now();
        assert!(matches!(read(&p, Duration::from_secs(60), now), Pushed::Missing));
        write_atomic(&p, r#"{"running":true,"completed":false,"progress":{"done":1,"total":2}}"#).unwrap();
        assert!(matches!(read(&p, Duration::from_secs(60), now), Pushed::Fresh(Ok(s)) if s.running));
        let later = now + Duration::from_secs(120);
        assert!(matches!(read(&p, Duration::from_secs(60), later), Pushed::Stale(Ok(_))));
        write_atomic(&p, "not json").unwrap();
        match read(&p, Duration::from_secs(60), SystemTime::now()) {
            Pushed::Fresh(Err(f)) => assert!(f.reason.contains(&p.display().to_string()) && f.reason.contains("not JSON"), "{f}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_dead_pid_is_not_running() {
        let s = JobStatus { running: true, pid: Some(i32::MAX as i64 - 1), ..JobStatus::default() };
        assert!(!settle_pid(s).running);
        let s = JobStatus { running: true, pid: Some(std::process::id() as i64), ..JobStatus::default() };
        assert!(settle_pid(s).running);
    }
}
