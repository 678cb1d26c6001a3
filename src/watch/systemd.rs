//! The systemd notify protocol (only when `NOTIFY_SOCKET` is set, i.e. under `Type=notify`):
//! READY=1 after the first passes, WATCHDOG=1 while no loop is overdue (see [`super::feed`]), STATUS= a one-line summary,
//! STOPPING=1 on SIGTERM. Sending is best effort: a failure is logged, never fatal.

use sd_notify::NotifyState;
use std::time::Duration;

/// Sends `states`; logs (once per call) when the socket refuses them.
pub fn notify(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "systemd notify failed");
    }
}

/// How often WATCHDOG=1 must be sent: half of `WATCHDOG_USEC`, when systemd asked for it.
pub fn watchdog_every() -> Option<Duration> {
    sd_notify::watchdog_enabled().map(|d| (d / 2).max(Duration::from_millis(100)))
}
