//! Typed, validated configuration (the output of [`super::load`]).

use chrono_tz::Tz;
use std::path::PathBuf;

/// What a job is; decides which commands it needs and what may run it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Long job driven by start/status(/stop).
    LongRunningRead,
    /// A check run by `commands.run`; must be read_only.
    OneShotRead,
    /// A side-effecting job; never run automatically.
    OneShotWrite,
}

impl Kind {
    /// Parses the v1 spelling.
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "long_running_read" => Some(Kind::LongRunningRead),
            "one_shot_read" => Some(Kind::OneShotRead),
            "one_shot_write" => Some(Kind::OneShotWrite),
            _ => None,
        }
    }
    /// The v1 spelling, used in reports and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::LongRunningRead => "long_running_read",
            Kind::OneShotRead => "one_shot_read",
            Kind::OneShotWrite => "one_shot_write",
        }
    }
}

/// How much harm a job can do; only `ReadOnly` jobs may run unattended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Risk {
    /// Reads only.
    ReadOnly,
    /// Writes on this host.
    WriteLocal,
    /// Writes elsewhere.
    WriteExternal,
}

impl Risk {
    /// Parses the v1 spelling.
    pub fn parse(s: &str) -> Option<Risk> {
        match s {
            "read_only" => Some(Risk::ReadOnly),
            "write_local" => Some(Risk::WriteLocal),
            "write_external" => Some(Risk::WriteExternal),
            _ => None,
        }
    }
    /// The v1 spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::ReadOnly => "read_only",
            Risk::WriteLocal => "write_local",
            Risk::WriteExternal => "write_external",
        }
    }
}

/// When a chained (`after`) job is queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// After the parent succeeded.
    Success,
    /// After the parent failed.
    Failure,
}

impl When {
    /// The v1 spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            When::Success => "success",
            When::Failure => "failure",
        }
    }
}

/// Quiet hours as minutes after local midnight; may wrap midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// First quiet minute.
    pub start: u16,
    /// First minute that is not quiet any more.
    pub end: u16,
}

/// Per-job policy after merging `defaults` with the job's own `policy`.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Routine progress at most this often; 0 disables routine progress.
    pub report_every_seconds: u64,
    /// Unchanged progress for this long while running is a stall; 0 disables.
    pub stall_seconds: u64,
    /// Restart a paused read_only job by itself.
    pub auto_resume: bool,
    /// At most one auto-resume per this many seconds.
    pub auto_resume_backoff_seconds: u64,
    /// Routine progress is held back in this window (configured timezone).
    pub quiet_hours: Option<QuietHours>,
    /// Routine progress only when the progress key changed.
    pub only_on_change: bool,
    /// Timeout for start/stop/run commands.
    pub timeout_seconds: u64,
    /// Timeout for the status command.
    pub status_timeout_seconds: u64,
    /// Seconds between SIGTERM and SIGKILL when a command's timeout kills its process group.
    pub kill_grace_seconds: u64,
    /// A long job's pushed status file (`$OPS_STATUS_FILE`) stands for its status command while
    /// younger than this (`policy.statusFileMaxAgeSeconds`; None: `stallSeconds`).
    pub status_file_max_age_seconds: Option<u64>,
    /// Schedule for one_shot_read checks.
    pub run_every_seconds: Option<u64>,
    /// Cron expression (`policy.cron`, checked by [`super::parse_cron`]): at each of its marks a
    /// one_shot_read job runs and a one_shot_write job asks for approval.
    pub cron: Option<String>,
    /// The time zone the cron is read in (`policy.timezone`); the loader fills in the config's
    /// `timezone` for a job with a cron that sets none, so it carries the zone its marks are in.
    pub timezone: Option<Tz>,
    /// A mark missed while the daemon was stopped runs once at start (`policy.catchUp`).
    pub catch_up: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            report_every_seconds: 1800,
            stall_seconds: 3600,
            auto_resume: false,
            auto_resume_backoff_seconds: 900,
            quiet_hours: Some(QuietHours { start: 23 * 60, end: 8 * 60 }),
            only_on_change: true,
            timeout_seconds: 300,
            status_timeout_seconds: 30,
            kill_grace_seconds: 3,
            status_file_max_age_seconds: None,
            run_every_seconds: None,
            cron: None,
            timezone: None,
            catch_up: true,
        }
    }
}

/// A job's argv lists; which ones are required depends on the kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Commands {
    /// Starts a long job (should return quickly).
    pub start: Option<Vec<String>>,
    /// Prints the status contract JSON; optional for a long job that writes `$OPS_STATUS_FILE`.
    pub status: Option<Vec<String>>,
    /// Stops a long job.
    pub stop: Option<Vec<String>>,
    /// Runs a one-shot job.
    pub run: Option<Vec<String>>,
}

/// One `after` chain entry.
#[derive(Debug, Clone, PartialEq)]
pub struct After {
    /// The job to queue.
    pub job_id: String,
    /// Which outcome of the parent queues it.
    pub when: When,
    /// Delay before it may run.
    pub delay_seconds: u64,
}

/// Approval settings of a write job.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    /// Whether each run needs an approval.
    pub required: bool,
    /// How long a request stays valid.
    pub expires_seconds: u64,
    /// Forbid approving one's own request.
    pub distinct_approver: bool,
}

impl Default for Approval {
    fn default() -> Self {
        Approval { required: true, expires_seconds: 900, distinct_approver: false }
    }
}

/// One validated job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Unique id.
    pub id: String,
    /// Display name (defaults to id).
    pub name: String,
    /// Kind.
    pub kind: Kind,
    /// Risk.
    pub risk: Risk,
    /// Included in monitoring/schedules.
    pub enabled: bool,
    /// Absolute working directory.
    pub cwd: PathBuf,
    /// Commands.
    pub commands: Commands,
    /// Effective policy.
    pub policy: Policy,
    /// Approval settings.
    pub approval: Approval,
    /// Chain entries.
    pub after: Vec<After>,
    /// Digest of the job's definition, binding approvals to it.
    pub digest: String,
}

/// Telegram settings (the token itself never lives in the config).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TelegramConfig {
    /// Chats that may talk to the bot.
    pub allowed_chat_ids: Vec<i64>,
    /// Chats that receive reports (default: allowed chats).
    pub report_chat_ids: Vec<i64>,
    /// Users that may approve write jobs.
    pub approver_user_ids: Vec<i64>,
    /// Users that may start, stop and run jobs from a chat (with the approvers); empty: anyone
    /// in an allowed chat.
    pub operator_user_ids: Vec<i64>,
    /// Bot API base URL override.
    pub api_url: Option<String>,
    /// File holding the bot token.
    pub token_file: Option<PathBuf>,
    /// Forum topic (`message_thread_id`) that messages to report groups go to, so each host of
    /// a fleet can post into its own topic of one forum group.
    pub report_thread_id: Option<i32>,
}

impl TelegramConfig {
    /// The forum topic for messages to `chat`: `reportThreadId` when `chat` is one of
    /// `report_chats` and a group (a private chat has no topics), else none.
    pub fn topic_of(&self, chat: i64, report_chats: &[i64]) -> Option<i32> {
        self.report_thread_id.filter(|_| chat < 0 && report_chats.contains(&chat))
    }
}

/// Dead-man's switch (Healthchecks convention): `serve` pings `url` after good ticks and
/// `<url>/fail` when a tick finds trouble, so an outside service notices when the host dies.
#[derive(Debug, Clone, PartialEq)]
pub struct Heartbeat {
    /// The ping URL (http or https).
    pub url: String,
    /// At most one good ping per this many seconds (default: `tickSeconds`).
    pub every_seconds: u64,
}

/// A validated `version: 1` config file.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    /// The name of this host in every message (`host`, default: the machine's hostname), so
    /// several hosts' bots can share one group.
    pub host: String,
    /// Defaults after merging.
    pub defaults: Policy,
    /// Jobs in file order.
    pub jobs: Vec<Job>,
    /// Timezone for quiet hours and timestamps.
    pub timezone: Tz,
    /// Language of reports and replies (chats may choose their own with /lang).
    pub locale: crate::i18n::Lang,
    /// Seconds between daemon ticks.
    pub tick_seconds: u64,
    /// Telegram settings.
    pub telegram: TelegramConfig,
    /// Heartbeat pings, when configured.
    pub heartbeat: Option<Heartbeat>,
    /// Non-fatal remarks for `validate-config`.
    pub warnings: Vec<String>,
}

impl Config {
    /// Looks a job up by id.
    pub fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }
    /// The known ids, for "unknown job" errors.
    pub fn job_ids(&self) -> Vec<&str> {
        self.jobs.iter().map(|j| j.id.as_str()).collect()
    }
}
