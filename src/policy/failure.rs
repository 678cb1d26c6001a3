//! Why an observation failed (a status poll or a check run), as a typed kind. Anomaly identity is
//! built from the kind, never from the one-line reason: reasons carry measured figures ("timed
//! out after 1027 ms", byte counts, JSON error positions) that differ on every tick.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong, without any measured figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureKind {
    /// The command ran past its timeout and its process group was killed.
    Timeout,
    /// The command exited with this non-zero code.
    Exit(i32),
    /// The command was ended by this signal.
    Signal(i32),
    /// The command could not be started (not found, not executable, bad cwd).
    Spawn,
    /// The status command printed nothing.
    Empty,
    /// The status output is not JSON.
    NotJson,
    /// The status output is JSON but not an object.
    NotObject,
    /// The status object lacks the boolean fields `running` and `completed`.
    MissingFields,
    /// The status `level` is not ok, warn or alert.
    BadLevel,
    /// The status output is larger than the contract allows.
    TooBig,
    /// A check's output holds an `ALERT` / `ACTION REQUIRED` line (the job's own words).
    OutputAlert,
    /// The job's tick failed before it could observe the job (the state database, a resource limit).
    Unwatched,
}

impl FailureKind {
    /// Stable spelling used in anomaly keys.
    pub fn key(self) -> String {
        match self {
            FailureKind::Timeout => "timeout".into(),
            FailureKind::Exit(c) => format!("exit:{c}"),
            FailureKind::Signal(s) => format!("signal:{s}"),
            FailureKind::Spawn => "spawn".into(),
            FailureKind::Empty => "empty".into(),
            FailureKind::NotJson => "not-json".into(),
            FailureKind::NotObject => "not-object".into(),
            FailureKind::MissingFields => "missing-fields".into(),
            FailureKind::BadLevel => "bad-level".into(),
            FailureKind::TooBig => "too-big".into(),
            FailureKind::OutputAlert => "output-alert".into(),
            FailureKind::Unwatched => "unwatched".into(),
        }
    }
}

/// A failed observation: its kind (the identity) and a one-line reason for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// What went wrong.
    pub kind: FailureKind,
    /// One line for people; may hold measured figures, so it is never part of a key.
    pub reason: String,
}

impl Failure {
    /// A failure of `kind` with a reason.
    pub fn new(kind: FailureKind, reason: impl Into<String>) -> Failure {
        Failure { kind, reason: reason.into() }
    }
    /// The identity of this failure: the kind, plus the job's own words for an `ALERT` line
    /// (what the job says is the job's choice, like `message` with `level: alert`).
    pub fn key(&self) -> String {
        match self.kind {
            FailureKind::OutputAlert => format!("{}:{}", self.kind.key(), self.reason),
            k => k.key(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}
