//! Notices the death of a supervised long job within about a second, not a tick later, and wakes
//! that job's own schedule.

use crate::engine::runner::pid_running;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// How often watched pids are checked (a `kill(pid, 0)` each: cheap).
pub const WATCH_INTERVAL: Duration = Duration::from_millis(250);

/// The pid each running long job reported, and one wake-up per job.
#[derive(Clone, Default)]
pub struct PidWatch {
    pids: Arc<Mutex<HashMap<String, i32>>>,
    wakers: Arc<Mutex<HashMap<String, Arc<Notify>>>>,
}

impl PidWatch {
    /// Watches `pid` for `job` (None: the job reported no running pid).
    pub fn set(&self, job: &str, pid: Option<i32>) {
        let mut pids = self.pids.lock().expect("pid lock");
        match pid {
            Some(p) => pids.insert(job.to_string(), p),
            None => pids.remove(job),
        };
    }

    /// Notified when the pid of `job` disappears.
    pub fn waker(&self, job: &str) -> Arc<Notify> {
        self.wakers.lock().expect("waker lock").entry(job.to_string()).or_default().clone()
    }

    /// Runs forever: checks the pids, wakes the jobs whose pid died and forgets them.
    pub async fn run(self) {
        loop {
            tokio::time::sleep(WATCH_INTERVAL).await;
            let dead: Vec<String> = {
                let mut pids = self.pids.lock().expect("pid lock");
                let dead: Vec<String> = pids.iter().filter(|(_, p)| !pid_running(**p)).map(|(j, _)| j.clone()).collect();
                pids.retain(|j, _| !dead.contains(j));
                dead
            };
            for job in dead {
                self.waker(&job).notify_one();
            }
        }
    }
}
