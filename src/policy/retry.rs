//! One retry policy for every retry loop (outbox sends and request edits, the polling restart,
//! a busy state file): exponential backoff with a cap and an optional attempt limit.
//! A small type rather than `backon`: the outbox keeps its retry times and attempt counts in the
//! state file across restarts, so the policy must answer "how long after N failures", not run a loop.

use std::time::Duration;

/// Exponential backoff: `first` after the first failure, doubling, at most `max`; gives up
/// after `limit` failed attempts (`None`: never, for work that must not be lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Wait after the first failure.
    pub first: Duration,
    /// Longest wait.
    pub max: Duration,
    /// Failed attempts after which the operation is given up.
    pub limit: Option<u32>,
}

impl Retry {
    /// The wait before the next attempt after `failures` failed attempts (1 = the first one
    /// failed), or `None` when the limit is reached.
    pub fn after(&self, failures: u32) -> Option<Duration> {
        if self.limit.is_some_and(|limit| failures >= limit) {
            return None;
        }
        let doublings = failures.saturating_sub(1).min(31);
        Some(self.first.saturating_mul(1u32 << doublings).min(self.max))
    }

    /// The wait for a policy without a limit (the cap once a limit would have been reached).
    pub fn wait(&self, failures: u32) -> Duration {
        self.after(failures).unwrap_or(self.max)
    }
}

/// Outbox sends that could not reach Telegram or got a server error: never given up, so an
/// outage loses no alert; 0.25 s doubling to 15 s.
pub const SEND: Retry = Retry { first: Duration::from_millis(250), max: Duration::from_secs(15), limit: None };

/// Outbox sends answered with something that is not the Bot API's JSON (a proxy's error page, a
/// broken emulator): same pace, but given up after 40 attempts (about 9 minutes) so one message
/// cannot be retried forever.
pub const SEND_BAD_ANSWER: Retry = Retry { limit: Some(40), ..SEND };

/// Edits of a request message answered with something that is not the Bot API's JSON (an
/// emulator answering `null`): given up after 5 attempts. The decision holds without the edit;
/// only the message keeps its buttons, and a press on them is refused as already decided.
pub const EDIT_BAD_ANSWER: Retry = Retry { limit: Some(5), ..SEND };

/// Edits of delivered messages (a decided request's buttons removed, a crash alert amended) that
/// could not reach Telegram or got a server error: 1 s doubling to a minute, given up after 90
/// failures (over an hour of outage) and logged as an error. An edit only tidies a message whose
/// meaning already holds, so unlike a send it may be given up.
pub const EDIT: Retry = Retry { first: Duration::from_secs(1), max: Duration::from_secs(60), limit: Some(90) };

/// Sending a chart a person just asked for: a few quick tries (0.25 s doubling to 2 s, 5
/// attempts, about 4 s) on a network error or 5xx, then the failure is told in the chat.
pub const PHOTO: Retry = Retry { first: Duration::from_millis(250), max: Duration::from_secs(2), limit: Some(5) };

/// Restarting long polling while Telegram is unreachable: 1 s doubling to a minute, forever
/// (the daemon's purpose is to keep listening; each failure is logged).
pub const POLL_RESTART: Retry = Retry { first: Duration::from_secs(1), max: Duration::from_secs(60), limit: None };

/// Opening a state file another process is creating at the same moment (SQLITE_BUSY outside the
/// busy handler): 10 ms doubling to 250 ms, 64 attempts (about 15 s), then the error is shown.
pub const STORE_BUSY: Retry = Retry { first: Duration::from_millis(10), max: Duration::from_millis(250), limit: Some(64) };

/// A state file that cannot be read or written while the daemon runs (disk full, permissions):
/// 1 s doubling to 30 s, forever; the outbox is delivered again once the file is back.
pub const STORE_ERROR: Retry = Retry { first: Duration::from_secs(1), max: Duration::from_secs(30), limit: None };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_first_up_to_max() {
        let waits: Vec<u64> = (1..=9).map(|n| SEND.wait(n).as_millis() as u64).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
        assert_eq!(SEND.after(u32::MAX), Some(Duration::from_secs(15)), "no overflow, no limit");
    }

    #[test]
    fn a_limited_policy_gives_up_after_its_attempts() {
        let p = Retry { first: Duration::from_millis(1), max: Duration::from_millis(4), limit: Some(3) };
        assert_eq!(p.after(1), Some(Duration::from_millis(1)));
        assert_eq!(p.after(2), Some(Duration::from_millis(2)));
        assert_eq!(p.after(3), None, "the third failed attempt is the last");
        assert_eq!(SEND_BAD_ANSWER.after(39).map(|d| d.as_secs()), Some(15));
        assert_eq!(SEND_BAD_ANSWER.after(40), None);
        assert_eq!(STORE_BUSY.after(64), None);
    }

    #[test]
    fn the_store_busy_policy_waits_about_fifteen_seconds_in_all() {
        let total: Duration = (1..64).map(|n| STORE_BUSY.wait(n)).sum();
        assert!((Duration::from_secs(14)..Duration::from_secs(16)).contains(&total), "{total:?}");
    }
}
