//! One poller per state: an exclusive lock (std's `File::try_lock`, flock on Linux) on
//! `<state db>.lock`, held while `serve` runs.

use anyhow::{Context, Result};
use std::fs::{File, TryLockError};
use std::path::Path;

/// Another `serve` holds the lock (its own exit code: waiting, not fixing, resolves it).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LockHeld(pub String);

/// Held for the daemon's lifetime; released by the kernel when the process dies (even kill -9).
pub struct ServeLock {
    _file: File,
}

impl ServeLock {
    /// Takes the lock or fails naming the state file.
    pub fn acquire(state_db: &Path) -> Result<ServeLock> {
        let path = state_db.with_extension("lock");
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).with_context(|| format!("open lock {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(ServeLock { _file: file }),
            Err(TryLockError::WouldBlock) => {
                Err(LockHeld(format!("another `ops-monitor serve` is already running on {} (lock {} is held)", state_db.display(), path.display())).into())
            }
            Err(TryLockError::Error(e)) => Err(e).with_context(|| format!("lock {}", path.display())),
        }
    }
}
