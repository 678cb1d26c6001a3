//! What a chat button does. Buttons carry only an opaque token; the store keeps this typed
//! action beside it, and every `match` over it is exhaustive: a new action is a compile error
//! wherever it is not handled yet, never a silent fallback to another one.

use std::fmt;
use std::str::FromStr;

/// A button's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Press {
    /// Approve a write request.
    Approve,
    /// Reject a write request.
    Reject,
    /// Switch the chat's language.
    Lang,
    /// Refresh an overview in place.
    Refresh,
    /// Acknowledge an alert.
    Ack,
    /// Snooze a job's alerts for an hour.
    Snooze,
    /// Something done to one job (start, stop, run, logs, chart).
    Job(JobPress),
}

/// The buttons that act on one job, labelled with its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobPress {
    /// Start a long job.
    Start,
    /// Stop a long job.
    Stop,
    /// Run a check (or request a write job).
    Run,
    /// The output tail of the job's last run.
    Logs,
    /// A long job's progress chart.
    Chart,
}

impl Press {
    /// Every action, for the round-trip test and for listing.
    pub const ALL: [Press; 11] = [
        Press::Approve,
        Press::Reject,
        Press::Lang,
        Press::Refresh,
        Press::Ack,
        Press::Snooze,
        Press::Job(JobPress::Start),
        Press::Job(JobPress::Stop),
        Press::Job(JobPress::Run),
        Press::Job(JobPress::Logs),
        Press::Job(JobPress::Chart),
    ];

    /// The stored name (the `callbacks.action` column; stable across versions).
    pub fn as_str(self) -> &'static str {
        match self {
            Press::Approve => "approve",
            Press::Reject => "reject",
            Press::Lang => "lang",
            Press::Refresh => "refresh",
            Press::Ack => "ack",
            Press::Snooze => "snooze",
            Press::Job(j) => j.as_str(),
        }
    }
}

impl JobPress {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobPress::Start => "start",
            JobPress::Stop => "stop",
            JobPress::Run => "run",
            JobPress::Logs => "logs",
            JobPress::Chart => "chart",
        }
    }
}

/// A stored action this version does not know (written by a newer one, or damaged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown button action {0:?}")]
pub struct UnknownPress(pub String);

impl FromStr for Press {
    type Err = UnknownPress;
    fn from_str(s: &str) -> Result<Press, UnknownPress> {
        Press::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| UnknownPress(s.to_string()))
    }
}

impl FromStr for JobPress {
    type Err = UnknownPress;
    fn from_str(s: &str) -> Result<JobPress, UnknownPress> {
        match s.parse::<Press>()? {
            Press::Job(j) => Ok(j),
            Press::Approve | Press::Reject | Press::Lang | Press::Refresh | Press::Ack | Press::Snooze => Err(UnknownPress(s.to_string())),
        }
    }
}

impl fmt::Display for Press {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_through_its_stored_name_and_anything_else_is_refused() {
        for p in Press::ALL {
            assert_eq!(p.as_str().parse::<Press>(), Ok(p));
        }
        let names: std::collections::HashSet<_> = Press::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(names.len(), Press::ALL.len(), "stored names are unique");
        for bad in ["Approve", "", "run ", "delete"] {
            assert_eq!(bad.parse::<Press>(), Err(UnknownPress(bad.into())));
        }
        assert_eq!("logs".parse::<JobPress>(), Ok(JobPress::Logs));
        assert!("ack".parse::<JobPress>().is_err(), "not a job button");
    }
}
