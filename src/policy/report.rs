//! Report facts produced by the policy core; rendering to text happens in `render`.

use super::failure::Failure;
use super::lifecycle::Lifecycle;
use super::press::JobPress;
use super::rate::Estimate;
use super::status::JobStatus;
use crate::config::{Job, Kind};
use serde::{Deserialize, Serialize};

/// Something wrong with a job that deserves an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Anomaly {
    /// Running, progress unchanged for this many seconds.
    Stalled { seconds: i64 },
    /// Was running (or was started) and is gone without `completed`.
    Crashed {
        /// The job's own `stopReason`, when it said one.
        stop_reason: Option<String>,
        /// How long the run had run.
        ran_seconds: Option<i64>,
        /// When it was found gone (Unix seconds).
        at: i64,
        /// Its exit status, when the job's status says it.
        #[serde(default)]
        exit_code: Option<i64>,
        /// The signal that killed it, when the job's status says it.
        #[serde(default)]
        signal: Option<String>,
    },
    /// The status command failed or printed something outside the contract.
    InvalidStatus { failure: Failure },
    /// The job itself reported `level: alert`.
    JobAlert { message: Option<String> },
    /// A one-shot check failed (exit, timeout, or ALERT/ACTION REQUIRED output).
    CheckFailed { failure: Failure },
}

impl Anomaly {
    /// Stable identity used to decide "new or changed" versus "the same again": built from typed
    /// kinds and the job's own words, never from figures ops-monitor measured.
    pub fn key(&self, progress_key: Option<&str>) -> String {
        match self {
            Anomaly::Stalled { .. } => format!("stalled:{}", progress_key.unwrap_or("")),
            Anomaly::Crashed { stop_reason, at, .. } => format!("crashed:{at}:{}", stop_reason.as_deref().unwrap_or("")),
            Anomaly::InvalidStatus { failure } => format!("invalid:{}", failure.key()),
            Anomaly::JobAlert { message } => format!("alert:{}", message.as_deref().unwrap_or("")),
            Anomaly::CheckFailed { failure } => format!("check:{}", failure.key()),
        }
    }
    /// The actions that fit it, as buttons: start a crashed job, stop a stalled one, run a
    /// failing check again; each with its logs.
    pub fn actions(&self) -> &'static [JobPress] {
        match self {
            Anomaly::Crashed { .. } => &[JobPress::Start, JobPress::Logs],
            Anomaly::Stalled { .. } => &[JobPress::Stop, JobPress::Logs],
            Anomaly::CheckFailed { .. } => &[JobPress::Run, JobPress::Logs],
            Anomaly::InvalidStatus { .. } | Anomaly::JobAlert { .. } => &[],
        }
    }
}

/// What the monitor did or wants done about a crashed or never started job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AutoResume {
    /// Start it now.
    Start,
    /// Started; the start command succeeded.
    Started,
    /// The start command failed (one-line reason).
    Failed(String),
    /// Would start (dry run).
    WouldStart,
    /// Within the backoff window.
    Backoff,
    /// Not read_only: never started automatically.
    Blocked,
}

/// What a person should do about an anomaly (rendered as ACTION REQUIRED in the reader's language).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Hint {
    /// Start the crashed job or enable autoResume.
    Crashed { job_id: String },
    /// Check or stop the stalled job.
    Stalled { job_id: String },
    /// Look at the job.
    Check,
}

/// Extra lines of a section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Note {
    /// A person must act: what the policy suggests.
    Hint(Hint),
    /// Auto-resume outcome.
    AutoResume(AutoResume),
    /// A failing check passes again.
    Recovered,
    /// This report repeats an anomaly reported before: the how-manieth reminder, and for how long
    /// it has lasted.
    Reminder { count: u32, for_seconds: i64 },
    /// Output tail of a command.
    Output(String),
    /// The last lines of the job's `logFile`.
    LogTail(String),
    /// The job's `logFile` could not be read in time (a FIFO, a hung mount) or is not a file:
    /// the alert goes out without its tail, saying why.
    LogUnreadable { path: String, reason: String },
    /// The job's saved monitor state could not be read at start-up: it starts fresh (the row is
    /// kept aside in the store for a person to look at).
    StateReset { error: String },
    /// Exit code / timeout summary of a command.
    Outcome(String),
    /// A chained job was queued.
    Queued { job_id: String, delay_seconds: u64 },
    /// This run verifies approval request #id, and passed or not; `after_failure`: it is a
    /// `when: failure` follow-up of a write that failed (its "ok" is no all-clear).
    Verification {
        approval_id: i64,
        ok: bool,
        #[serde(default)]
        after_failure: bool,
    },
    /// A write run was in flight when the daemon died; these verification jobs can be run.
    Interrupted { approval_id: i64, verify: Vec<String> },
    /// An approval request expired; nothing ran.
    Expired { approval_id: i64 },
    /// The config file is invalid (its issues follow as `Info` lines).
    ConfigInvalid { file: String, using_last_good: bool },
    /// A queued job that may not run from a chain (not one_shot_read + read_only).
    ChainBlocked { kind: String, risk: String },
    /// A queued job that is no longer in the config.
    ChainUnknown { job_id: String },
    /// Why an item was queued ("after <job> (<when>)").
    QueuedBecause(String),
    /// Dry run: this would run now (queued for this reason, or its schedule is due).
    WouldRun { queued: Option<String> },
    /// Dry run: this write job's cron mark is due, so it would ask for approval.
    WouldAsk,
    /// A cron mark passed while the daemon was stopped and ran at start: the mark and when it
    /// ran, in the schedule's zone ("03:30 IST", "07:12 IST").
    Late { missed: String, ran: String },
    /// Plain fact (validator messages and similar).
    Info(String),
    /// A crashed job that auto-resume started runs again: when it crashed and was started (local
    /// HH:MM:SS) and its progress then ("2/12 files"), when it reports one.
    Resumed { job: String, crashed: String, resumed: String, progress: Option<String> },
}

/// One job's part of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Job id (or a pseudo id such as "config").
    pub job_id: String,
    /// Display name.
    pub job_name: String,
    /// Kind, for the heading.
    pub kind: Option<String>,
    /// Latest status, for long jobs.
    pub status: Option<JobStatus>,
    /// The anomaly being reported, if any.
    pub anomaly: Option<Anomaly>,
    /// Further facts.
    pub notes: Vec<Note>,
    /// Deliver with sound (alerts, status changes); false for routine progress.
    pub loud: bool,
    /// Rate and ETA from the job's progress history, for long jobs that report progress.
    #[serde(default)]
    pub estimate: Option<Estimate>,
    /// Where a long job stands (not started, stopped, crashed...), for its status word.
    #[serde(default)]
    pub life: Option<Lifecycle>,
    /// The key of an alert already sent about this job that this section's news belongs to:
    /// the chat edits that alert (or its queued text) instead of sending a message, unless the
    /// section carries an anomaly of its own.
    #[serde(default)]
    pub amends: Option<String>,
    /// The start of the run this section is about ([`super::lifecycle::current_run`]): its
    /// Start/Stop buttons act on that run only, and are refused once another is current.
    #[serde(default)]
    pub run: Option<i64>,
}

impl Section {
    /// An empty section for `job`.
    pub fn for_job(job: &Job) -> Section {
        Section { kind: Some(job.kind.as_str().to_string()), ..Section::system(&job.id, &job.name) }
    }
    /// A section not tied to a configured job (config errors, unknown queued jobs).
    pub fn system(id: &str, name: &str) -> Section {
        Section {
            job_id: id.into(),
            job_name: name.into(),
            kind: None,
            status: None,
            anomaly: None,
            notes: Vec::new(),
            loud: true,
            estimate: None,
            life: None,
            amends: None,
            run: None,
        }
    }
    /// True for long-running jobs' sections.
    pub fn is_long(&self) -> bool {
        self.kind.as_deref() == Some(Kind::LongRunningRead.as_str())
    }
}
