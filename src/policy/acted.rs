//! What a person's start, stop or run of a job came to (from the chat or the CLI), as facts:
//! `engine::job_acts` produces it, `render::acted_text` words it for both, so the two cannot
//! tell one action two ways.

use super::check::FollowUp;
use super::failure::Failure;
use super::outcome::Outcome;

/// The result of one person's action on a job; an error before any command ran (a job with
/// nothing to stop, a status that cannot be read) is not one of these but the action's `Err`.
#[derive(Debug, Clone, PartialEq)]
pub enum Acted {
    /// `commands.start` ran (its outcome may be a failure).
    Started(Outcome),
    /// Not started: the job's status says it runs (with this pid, when it reports one).
    AlreadyRunning { pid: Option<i64> },
    /// Not started: a start began this many seconds ago (it may not report running yet).
    JustStarted { seconds: i64 },
    /// `commands.stop` ran (its outcome may be a failure: then nothing was stopped).
    StoppedByCommand(Outcome),
    /// No `commands.stop`: SIGTERM went to the process group of the pid the status reported.
    Signalled { pgid: i32, pid: i32 },
    /// A one-shot run: its outcome, why the check fails although it exited 0 (an ALERT line),
    /// and the `after` jobs it queued.
    Ran { outcome: Outcome, failing: Option<Failure>, queued: Vec<FollowUp> },
}

/// What changed for the other chats to hear of (None: nothing did, e.g. a refused start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The job was started.
    Started,
    /// The job was stopped.
    Stopped,
    /// The job ran once.
    Ran,
}

impl Acted {
    /// What the action changed: a refused or failed start, a failed stop changed nothing.
    pub fn change(&self) -> Option<Change> {
        match self {
            Acted::Started(o) => o.success().then_some(Change::Started),
            Acted::AlreadyRunning { .. } | Acted::JustStarted { .. } => None,
            Acted::StoppedByCommand(o) => o.success().then_some(Change::Stopped),
            Acted::Signalled { .. } => Some(Change::Stopped),
            Acted::Ran { .. } => Some(Change::Ran),
        }
    }
    /// The command's outcome, when a command ran.
    pub fn outcome(&self) -> Option<&Outcome> {
        match self {
            Acted::Started(o) | Acted::StoppedByCommand(o) | Acted::Ran { outcome: o, .. } => Some(o),
            Acted::AlreadyRunning { .. } | Acted::JustStarted { .. } | Acted::Signalled { .. } => None,
        }
    }
    /// True when nothing was done because the job runs or was just started.
    pub fn refused(&self) -> bool {
        match self {
            Acted::AlreadyRunning { .. } | Acted::JustStarted { .. } => true,
            Acted::Started(_) | Acted::StoppedByCommand(_) | Acted::Signalled { .. } | Acted::Ran { .. } => false,
        }
    }
}
