//! What running a command came to: its life (pending, running, not started, exited, signalled,
//! timed out) and the captured output. Plain data, so policy and rendering read it without
//! depending on the runner that produces it.

/// A command's life: each state carries only what is known in it, so no combination of
/// independent fields can say "exited with no code and no signal".
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Life {
    /// Not spawned yet.
    #[default]
    Pending,
    /// Spawned; leader of its own process group.
    Running {
        /// The leader's pid (= the group id).
        pid: u32,
    },
    /// Could not be started (not found, not executable, bad cwd, empty argv).
    NotStarted(String),
    /// The leader exited with this code.
    Exited(i32),
    /// The leader was ended by this signal (not by our timeout).
    Signalled(i32),
    /// The timeout fired and the whole group was killed.
    TimedOut,
}

impl Life {
    /// The state after the leader's wait status: exited or signalled.
    pub fn ended(status: std::process::ExitStatus) -> Life {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => Life::Exited(code),
            (None, Some(sig)) => Life::Signalled(sig),
            // wait() without WUNTRACED reports only exits and deaths by signal; the raw status
            // is kept rather than inventing an "unknown" state.
            (None, None) => Life::Signalled(status.into_raw()),
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// How the command's life ended.
    pub life: Life,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Last bytes of stdout (lossy UTF-8).
    pub stdout: String,
    /// Last bytes of stderr (lossy UTF-8).
    pub stderr: String,
    /// Total bytes the command wrote to stdout.
    pub stdout_bytes: u64,
}

impl Outcome {
    /// An outcome that never started (for callers that fail before the runner).
    pub fn not_started(reason: impl Into<String>) -> Outcome {
        Outcome { life: Life::NotStarted(reason.into()), ..Outcome::default() }
    }
    /// Exited with code 0.
    pub fn success(&self) -> bool {
        self.life == Life::Exited(0)
    }
    /// The exit code, when the leader exited by itself.
    pub fn exit_code(&self) -> Option<i32> {
        match self.life {
            Life::Exited(c) => Some(c),
            _ => None,
        }
    }
    /// The timeout fired and the group was killed.
    pub fn timed_out(&self) -> bool {
        self.life == Life::TimedOut
    }
    /// Why the command could not be started, if so.
    pub fn spawn_error(&self) -> Option<&str> {
        match &self.life {
            Life::NotStarted(e) => Some(e),
            _ => None,
        }
    }
    /// Why the run failed, as a kind (None: exit 0).
    pub fn failure_kind(&self) -> Option<super::failure::FailureKind> {
        use super::failure::FailureKind;
        match self.life {
            Life::Exited(0) => None,
            Life::Exited(c) => Some(FailureKind::Exit(c)),
            Life::Signalled(s) => Some(FailureKind::Signal(s)),
            Life::TimedOut => Some(FailureKind::Timeout),
            Life::Pending | Life::Running { .. } | Life::NotStarted(_) => Some(FailureKind::Spawn),
        }
    }
    /// One-line reason for a failure (or "exit 0").
    pub fn summary(&self) -> String {
        match &self.life {
            Life::Pending => "not started yet".into(),
            Life::Running { pid } => format!("still running (pid {pid})"),
            Life::NotStarted(e) => format!("could not start: {e}"),
            Life::Exited(c) => format!("exit {c}"),
            Life::Signalled(s) => format!("killed by signal {s}"),
            Life::TimedOut => format!("timed out after {} ms (process group killed)", self.duration_ms),
        }
    }
}
