//! The last lines of a job's `logFile` (status contract extension), bounded and with the token
//! masked, for crash and stall alerts and `/logs`.

use crate::policy::report::{Anomaly, Note, Section};
use std::io::{Read, Seek, SeekFrom};

/// Lines shown from the end of the log.
pub const TAIL_LINES: usize = 10;
/// Characters shown at most.
pub const TAIL_CHARS: usize = 3000;
/// Bytes read from the end of the file (a log may be gigabytes).
const READ_BYTES: u64 = 64 * 1024;

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
    if let Some(t) = sec.status.as_ref().and_then(|s| s.log_file.as_deref()).and_then(tail) {
        sec.notes.push(Note::LogTail(t));
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
}
