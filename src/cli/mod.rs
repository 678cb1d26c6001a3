//! The `ops-monitor` command line (parity with ops-monitor.py, plus the daemon).

/// `println!` for the CLI's output: `ops-monitor status | head` closes the pipe early, and a
/// closed stdout then ends the command quietly (exit 0) instead of panicking as `println!` does.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::say(format_args!($($arg)*))
    };
}

mod approve_cmd;
mod arenas;
mod common;
mod doctor;
mod doctor_tg;
mod findings;
mod job_cmds;
mod report_cmd;
mod selftest;
mod selftest_lab;
mod setup;
mod setup_files;
mod setup_wait;

use clap::{Parser, Subcommand};

/// Writes one line of output; a reader that went away (broken pipe) ends the process quietly.
pub fn say(line: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("ERROR: cannot write the output: {e}");
        std::process::exit(1);
    }
}
use std::path::PathBuf;

/// Runs and watches long scripted jobs; reports to Telegram or the console.
#[derive(Debug, Parser)]
#[command(name = "ops-monitor", version, about)]
pub struct Cli {
    /// Config file (default: $OPENCLAW_HOME/net/config/ops-jobs.json).
    #[arg(long, global = true, value_name = "PATH")]
    pub config_file: Option<PathBuf>,
    /// State database (default: $OPENCLAW_HOME/net/state/ops-monitor.db).
    #[arg(long, global = true, value_name = "PATH")]
    pub state_file: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the config file and list every problem with its JSON path.
    ValidateConfig,
    /// Show every job's current status.
    Status {
        /// Only this job (as the chat's `/status <job>`).
        job: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Run one monitoring tick.
    Tick {
        /// Print the report instead of sending it.
        #[arg(long)]
        print_only: bool,
        /// Observe only: no auto-resume, chain or scheduled run, nothing stored.
        #[arg(long)]
        dry_run: bool,
    },
    /// Start a long_running_read job.
    Start {
        /// Job id.
        job: String,
        /// Allow starting a job whose risk is not read_only.
        #[arg(long)]
        allow_risk: bool,
        /// Start even when the job's status says it is running already.
        #[arg(long)]
        force: bool,
    },
    /// Stop a long_running_read job (commands.stop, else SIGTERM to its process group).
    Stop {
        /// Job id.
        job: String,
    },
    /// List open approval requests of write jobs.
    Pending,
    /// Approve a write-job request on the host (runs the job once, then its verification).
    Approve {
        /// Request id (see `pending`), with or without its `#`.
        #[arg(value_parser = request_id)]
        id: i64,
    },
    /// Reject a write-job request on the host.
    Reject {
        /// Request id, with or without its `#`.
        #[arg(value_parser = request_id)]
        id: i64,
    },
    /// Print the approval audit trail.
    Audit {
        /// Only this job.
        #[arg(long)]
        job: Option<String>,
    },
    /// The daemon: tick loop (+ Telegram bot when a token is configured).
    Serve {
        /// Print reports to the console and leave Telegram alone, even where a token is found
        /// (the demo: an OpenClaw install's token would send it to that bot's chats).
        #[arg(long)]
        console: bool,
    },
    /// Connect your phone: checks the bot token, learns your chat id from your /start, writes
    /// the token file and a starter config, and greets you in the chat.
    Setup {
        /// How long to wait for your /start: seconds, or with a unit (90s, 5m).
        #[arg(long, default_value = "5m", value_parser = wait_time, value_name = "TIME")]
        wait: std::time::Duration,
        /// Your chat id, when you know it: no waiting for a /start.
        #[arg(long, value_name = "ID")]
        chat_id: Option<i64>,
        /// Replace an existing config (the old one is kept beside it as .bak).
        #[arg(long)]
        force: bool,
    },
    /// Run a one_shot_read job now (a one_shot_write job: create its approval request).
    Run {
        /// Job id.
        job: String,
    },
    /// Check this installation end to end (config, state, programs, Telegram) and say what to fix.
    Doctor {
        /// Also send one test message to each report chat.
        #[arg(long)]
        send_test: bool,
    },
    /// Draw a long job's progress chart (PNG) from its stored history, as `/chart` sends it.
    Chart {
        /// Job id.
        job: String,
        /// Where to write the PNG (default: `<job>-chart.png` in the current folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the built-in scenarios against a temporary state (no config, token or network).
    Selftest,
    /// For a long job's own scripts: write its progress to $OPS_STATUS_FILE (the status
    /// contract), so it is watched without a status command. Needs no config file.
    Report(report_cmd::ReportArgs),
    /// Plays a job's command in `selftest`: prints FILE, or writes TEXT into it.
    #[command(hide = true)]
    SelftestProbe {
        /// The file.
        file: PathBuf,
        /// Write this instead of printing.
        #[arg(long)]
        set: Option<String>,
    },
}

/// An error carrying the process exit code; printed as one line.
#[derive(Debug, thiserror::Error)]
#[error("{msg}")]
pub struct Exit {
    /// Exit code.
    pub code: i32,
    /// One-line reason.
    pub msg: String,
}

/// Threads the runtime may add for blocking work (store writes, bounded file reads).
pub const MAX_BLOCKING_THREADS: usize = 16;

/// Exit code: a job or action failed (non-zero exit, timeout), or an unexpected error.
pub const EXIT_FAILED: i32 = 1;
/// Exit code: bad usage, unknown job or request id, invalid config, a fail-closed start.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: another `serve` already holds the state's lock.
pub const EXIT_LOCKED: i32 = 3;

impl Exit {
    /// Exit code 2: bad usage or config.
    pub fn usage(msg: impl Into<String>) -> anyhow::Error {
        Exit { code: EXIT_USAGE, msg: msg.into() }.into()
    }
}

/// A request id as every output shows it (`#2`) or bare (`2`).
fn request_id(s: &str) -> Result<i64, String> {
    s.trim().trim_start_matches('#').parse().map_err(|_| format!("{s:?} is not a request id (like 2 or #2; see `ops-monitor pending`)"))
}

/// A wait as `setup --wait` takes it: `300`, `90s`, `5m`, `1h`.
fn wait_time(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits.parse().map_err(|_| format!("{s:?} is not a wait (like 300, 90s or 5m)"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "m" | "min" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{s:?}: the unit is s, m or h (like 90s or 5m)")),
    };
    Ok(std::time::Duration::from_secs(secs))
}

/// The exit code of a failed command (README "Exit codes"): retrying does not help with 2, so a
/// service manager can be told not to restart on it.
fn exit_code(e: &anyhow::Error) -> i32 {
    if let Some(x) = e.downcast_ref::<Exit>() {
        x.code
    } else if e.downcast_ref::<crate::config::ConfigError>().is_some()
        || e.downcast_ref::<crate::chat::FailClosed>().is_some()
        || e.downcast_ref::<crate::chat::token::TokenFileUnreadable>().is_some()
        || e.downcast_ref::<crate::engine::paths::StateExposed>().is_some()
    {
        EXIT_USAGE
    } else if e.downcast_ref::<crate::daemon::LockHeld>().is_some() {
        EXIT_LOCKED
    } else {
        EXIT_FAILED
    }
}

/// Entry point used by `main`: parses arguments, runs, returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    // Before the token is read and scrubbed from the environment: the new image inherits it.
    if matches!(cli.command, Command::Serve { .. }) {
        arenas::limit();
    }
    // The token is found, registered and wiped from the environment before the runtime starts
    // (no thread exists yet) and before any command can spawn a job.
    crate::chat::token::prepare(&crate::engine::paths::Paths::resolve(cli.config_file.as_deref(), cli.state_file.as_deref()));
    init_logging();
    // Blocking work (store writes, log reads) on at most 16 threads: each thread that ever ran
    // keeps a malloc arena, so an unbounded pool under 1000 jobs grew the daemon by gigabytes.
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).max_blocking_threads(MAX_BLOCKING_THREADS).enable_all().build().expect("tokio runtime");
    let code = match rt.block_on(job_cmds::dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            let code = exit_code(&e);
            eprintln!("ERROR: {}", crate::engine::secrets::mask(&format!("{e:#}")));
            code
        }
    };
    // Dropping the tasks still running (a clean stop of `serve`) ends the commands they had in
    // flight (SIGTERM to each group, SIGKILL after its grace): wait for that before exiting, or
    // a command that ignores SIGTERM would outlive us. A thread stuck in a blocking read is left.
    rt.shutdown_timeout(std::time::Duration::from_secs(10));
    if !crate::engine::runner::await_ending_groups(ENDING_WAIT) {
        tracing::warn!("some commands in flight were still being ended at exit");
    }
    crate::store::pool::close_idle();
    code
}

/// How long exit waits for the groups of dropped commands to end: above any sensible
/// `killGraceSeconds`; systemd's `TimeoutStopSec` (15 s in examples/) bounds it anyway.
const ENDING_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(|| MaskedStderr).with_ansi(false).try_init();
}

/// The one place every log line passes: the bot token is masked before it reaches stderr,
/// whatever a library put into an error (an API server echoing the request path, for one).
struct MaskedStderr;

impl std::io::Write for MaskedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // The formatter writes each event in one call, so a token is never split between calls.
        let line = crate::engine::secrets::mask(&String::from_utf8_lossy(buf));
        std::io::stderr().lock().write_all(line.as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
