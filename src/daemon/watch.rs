//! Notices the death of a supervised long job within about a second, not a tick later.

use crate::shell::runner::pid_alive;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// How often watched pids are checked (a `kill(pid, 0)` each: cheap).
pub const WATCH_INTERVAL: Duration = Duration::from_millis(250);

/// Pids of running long jobs, updated after each tick; a death wakes the tick loop.
#[derive(Clone, Default)]
pub struct PidWatch {
    pids: Arc<Mutex<Vec<i32>>>,
    /// Notified when a watched pid disappears.
    pub died: Arc<Notify>,
}

impl PidWatch {
    /// Replaces the watched set.
    pub fn set(&self, pids: Vec<i32>) {
        *self.pids.lock().expect("pid lock") = pids;
    }

    /// Runs forever: checks the pids, notifies and forgets the dead ones.
    pub async fn run(self) {
        loop {
            tokio::time::sleep(WATCH_INTERVAL).await;
            let dead = {
                let mut pids = self.pids.lock().expect("pid lock");
                let before = pids.len();
                pids.retain(|p| pid_alive(*p));
                before != pids.len()
            };
            if dead {
                self.died.notify_one();
            }
        }
    }
}
