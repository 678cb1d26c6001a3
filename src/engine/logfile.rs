//! The last lines of a job's `logFile` (status contract extension), bounded and with the token
//! masked, for crash and stall alerts and `/logs`.

use crate::policy::report::{Anomaly, Note, Section};
use std::io::{Read, Seek, SeekFrom};
use std::sync::Mutex;
use std::time::Duration;

/// Lines shown from the end of the log.
pub const TAIL_LINES: usize = 10;
/// Characters shown at most.
pub const TAIL_CHARS: usize = 3000;
/// Bytes read from the end of the file (a log may be gigabytes).
const READ_BYTES: u64 = 64 * 1024;

/// How long reading a log's tail may take before the alert goes out without it.
pub const READ_WITHIN: Duration = Duration::from_secs(3);

/// Logs whose read is still stuck (a hung mount): not read again until that read returns, so a
/// job whose log hangs costs one blocked thread, not one per alert.
static STUCK: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// [`tail`] bounded in time: the read runs on a thread of its own and is given up after
/// `within` (the thread is left to finish; a path whose read is still stuck is not read again).
/// Err says why there is no tail: not a regular file, timed out.
pub fn tail_within(path: &str, within: Duration) -> Result<Option<String>, String> {
    if STUCK.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|p| p == path) {
        return Err("timed out (an earlier read of it has not returned yet)".into());
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = path.to_string();
    std::thread::spawn(move || {
        let _ = tx.send(regular_tail(&owned));
        STUCK.lock().unwrap_or_else(|e| e.into_inner()).retain(|p| p != &owned);
    });
    match rx.recv_timeout(within) {
        Ok(r) => r,
        Err(_) => {
            STUCK.lock().unwrap_or_else(|e| e.into_inner()).push(path.to_string());
            Err(format!("timed out after {} s", within.as_secs()))
        }
    }
}

/// [`tail`] of a regular file only: a FIFO or a device would block or never end.
fn regular_tail(path: &str) -> Result<Option<String>, String> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => Err("not a regular file".into()),
        _ => Ok(tail(path)),
    }
}

/// The last [`TAIL_LINES`] lines of `path` (at most [`TAIL_CHARS`] characters, token masked);
/// None when the file cannot be read or is empty.
pub fn tail(path: &str) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(READ_BYTES))).ok()?;
    let mut buf = Vec::new();
    f.take(READ_BYTES).read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let last = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
    let shown = crate::policy::check::tail_chars(&last, TAIL_CHARS);
    (!shown.trim().is_empty()).then(|| super::secrets::mask_tail(&shown))
}

/// Adds the log tail to a crash or stall section whose status names a `logFile`.
pub fn attach_tail(sec: &mut Section) {
    if !matches!(sec.anomaly, Some(Anomaly::Crashed { .. } | Anomaly::Stalled { .. })) {
        return;
    }
    let Some(path) = sec.status.as_ref().and_then(|s| s.log_file.clone()) else { return };
    match tail_within(&path, READ_WITHIN) {
        Ok(Some(t)) => sec.notes.push(Note::LogTail(t)),
        Ok(None) => {}
        Err(reason) => sec.notes.push(Note::LogUnreadable { path, reason }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_last_ten_lines_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("job.log");
        let body: String = (1..=500).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&p, body).unwrap();
        let t = tail(p.to_str().unwrap()).unwrap();
        assert_eq!(t.lines().count(), 10);
        assert!(t.starts_with("line 491") && t.ends_with("line 500"), "{t}");
        std::fs::write(&p, "x".repeat(10_000)).unwrap();
        assert!(tail(p.to_str().unwrap()).unwrap().chars().count() <= TAIL_CHARS + 1);
        assert_eq!(tail("/nonexistent/log"), None);
    }

    #[test]
    fn a_fifo_is_refused_at_once_instead_of_blocking_the_alert() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("job.log");
        assert!(std::process::Command::new("mkfifo").arg(&p).status().unwrap().success());
        let t0 = std::time::Instant::now();
        assert_eq!(tail_within(p.to_str().unwrap(), Duration::from_secs(2)), Err("not a regular file".to_string()));
        assert!(t0.elapsed() < Duration::from_secs(2));
        let mut sec = Section::system("j", "J");
        sec.anomaly = Some(Anomaly::Stalled { seconds: 60 });
        sec.status = Some(crate::policy::status::JobStatus { log_file: Some(p.display().to_string()), ..Default::default() });
        attach_tail(&mut sec);
        assert!(matches!(sec.notes.last(), Some(Note::LogUnreadable { .. })), "{:?}", sec.notes);
    }
}
