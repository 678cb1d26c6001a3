//! Per-job monitor state carried from tick to tick (stored as JSON in the store): what the ticks
//! observed. What people decided (ack, snooze, stop) is [`super::decisions::Decisions`], apart.

use serde::{Deserialize, Serialize};

/// What the previous tick saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    /// Was running.
    pub running: bool,
    /// Was completed.
    pub completed: bool,
    /// Its progress key.
    pub progress_key: Option<String>,
    /// Its pid.
    pub pid: Option<i64>,
}

/// Everything the policy remembers about one job; times are Unix seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobState {
    /// Last observation.
    pub last_seen: Option<Seen>,
    /// Progress key being timed for stall detection.
    pub last_progress_key: Option<String>,
    /// When that key first appeared.
    pub last_progress_at: Option<i64>,
    /// Last report of this job's status (any kind).
    pub last_report_at: Option<i64>,
    /// Progress key at the last report.
    pub last_reported_progress_key: Option<String>,
    /// Identity of the last reported anomaly.
    pub last_anomaly_key: Option<String>,
    /// When it was last reported.
    pub last_anomaly_report_at: Option<i64>,
    /// Completion was reported.
    pub reported_completed: bool,
    /// Last auto-resume attempt.
    pub last_auto_resume_at: Option<i64>,
    /// Last scheduled check run.
    pub last_check_at: Option<i64>,
    /// The check is failing (for "recovered").
    pub check_failing: bool,
    /// Where the job's current (or last) run stands, as observed.
    pub run: Run,
    /// The last start a person asked for ([`super::decisions::Decisions::started_at`]) that
    /// this state has taken in: a newer one counts the job as running from then.
    pub start_taken: Option<i64>,
    /// When the anomaly being reported first came.
    pub anomaly_since: Option<i64>,
    /// Reminders of it sent so far.
    pub anomaly_reminders: u32,
    /// Auto-resume started the job after this crash alert: once it is seen running, the alert
    /// is edited to say so.
    pub resuming: Option<Resuming>,
    /// The last progress a status reported, as figures ("21/60 files"), kept while later
    /// statuses (a crashed job's) report none: where a job auto-resume restarts stands.
    pub last_progress_figures: Option<String>,
    /// The last cron mark this job ran (or asked) at, skipped, or started counting from: marks
    /// after it are due; one that passed while the daemon was stopped runs once, late.
    pub schedule_mark: Option<ScheduleMark>,
}

/// Where a long job's run stands, as the ticks observed it: one of these at a time, each with
/// what belongs to it. (Stopped on purpose is a person's decision, apart: `Decisions`.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Run {
    /// Never seen running since the last completion or stop (or never at all).
    #[default]
    Idle,
    /// Seen running (or started) since then.
    Running {
        /// Since when (Unix seconds).
        since: i64,
    },
    /// Found completed at.
    Completed {
        /// When first seen completed.
        at: i64,
    },
    /// Found gone without `completed` (cleared once it runs again).
    Crashed {
        /// When the crash was found.
        at: i64,
        /// How long the crashed run had run.
        ran_seconds: i64,
    },
}

impl Run {
    /// When the current run started, if it is running.
    pub fn since(self) -> Option<i64> {
        match self {
            Run::Running { since } => Some(since),
            Run::Idle | Run::Completed { .. } | Run::Crashed { .. } => None,
        }
    }
    /// When the crash was found, if the last run crashed.
    pub fn crashed_at(self) -> Option<i64> {
        match self {
            Run::Crashed { at, .. } => Some(at),
            Run::Idle | Run::Running { .. } | Run::Completed { .. } => None,
        }
    }
}

/// A cron mark and the schedule it belongs to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleMark {
    /// The schedule (expression and time zone): a changed one starts counting afresh instead of
    /// catching up on marks of an expression that was never in force.
    pub key: String,
    /// The mark, Unix seconds.
    pub at: i64,
}

/// A crash alert whose job auto-resume started, waiting for the job to be seen running.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resuming {
    /// The crash alert's anomaly key.
    pub key: String,
    /// When the crash was found (Unix seconds).
    pub crashed_at: i64,
    /// When auto-resume started the job.
    pub started_at: i64,
    /// The job's progress when auto-resume started it (its last progress before the crash, or
    /// the crashed status's own); the line says "resumed … at" this, not a later poll's.
    #[serde(default)]
    pub progress: Option<String>,
}
