//! The process's connections to its state database: opened and migrated once, then reused.
//!
//! Written here rather than taken from r2d2: the whole need is "keep idle connections of one
//! file and notice when the file was replaced", which a connection pool crate does not do and
//! would bring a reaper thread for. `Store::open` checks a connection out; dropping the `Store`
//! returns it.

use rusqlite::Connection;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Idle connections kept per database file; more may be open at once, the rest are closed.
pub const IDLE_KEPT: usize = 8;
/// Database files whose idle connections are kept (a daemon has one; a test process or a
/// `selftest` opens many temporary ones, whose connections must not pile up).
pub const FILES_KEPT: usize = 4;

/// Which file a connection was opened on: a file deleted or replaced under a running daemon
/// is a new database (opened, and migrated, afresh), never the old inode written on in silence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The identity of the file at `path` now (None when it is gone).
    pub fn of(path: &Path) -> Option<FileId> {
        std::fs::metadata(path).ok().map(|m| FileId { dev: m.dev(), ino: m.ino() })
    }
}

struct Idle {
    file: FileId,
    conns: Vec<Connection>,
    /// When a connection was last returned (a counter): the least recently used file goes first.
    used: u64,
}

fn idle() -> &'static Mutex<HashMap<PathBuf, Idle>> {
    static IDLE: OnceLock<Mutex<HashMap<PathBuf, Idle>>> = OnceLock::new();
    IDLE.get_or_init(Default::default)
}

static USES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// An idle connection to the file at `path`, if one was kept and the file is still the same.
pub(super) fn take(path: &Path) -> Option<Pooled> {
    let file = FileId::of(path)?;
    let mut idle = idle().lock().unwrap_or_else(|e| e.into_inner());
    let entry = idle.get_mut(path)?;
    if entry.file != file {
        idle.remove(path);
        return None;
    }
    entry.conns.pop().map(|c| Pooled { conn: Some(c), path: path.to_path_buf(), file })
}

/// Closes every idle connection, at a process's exit: the last connection to close folds the
/// write-ahead log back into the database file and removes it, so a copy of the `.db` file alone
/// (a backup, a move to another host) holds everything.
pub fn close_idle() {
    idle().lock().unwrap_or_else(|e| e.into_inner()).clear();
}

/// A connection checked out of the pool; returned to it on drop.
pub struct Pooled {
    conn: Option<Connection>,
    path: PathBuf,
    file: FileId,
}

impl Pooled {
    /// Wraps a freshly opened connection to the file identified by `file`.
    pub(super) fn fresh(conn: Connection, path: &Path, file: FileId) -> Pooled {
        Pooled { conn: Some(conn), path: path.to_path_buf(), file }
    }
}

impl Deref for Pooled {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("a pooled connection is present until dropped")
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("a pooled connection is present until dropped")
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        // A connection left inside a transaction (a panic mid-write) is not reused.
        if !conn.is_autocommit() {
            return;
        }
        let mut idle = idle().lock().unwrap_or_else(|e| e.into_inner());
        if !idle.contains_key(&self.path) && idle.len() >= FILES_KEPT {
            let mut by_use: Vec<(u64, PathBuf)> = idle.iter().map(|(p, i)| (i.used, p.clone())).collect();
            by_use.sort();
            for (_, p) in by_use.into_iter().take(idle.len() + 1 - FILES_KEPT) {
                idle.remove(&p);
            }
        }
        let used = USES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let entry = idle.entry(self.path.clone()).or_insert_with(|| Idle { file: self.file, conns: Vec::new(), used });
        entry.used = used;
        if entry.file != self.file {
            // The file was replaced while this connection was out: keep only the newest file's.
            if FileId::of(&self.path) != Some(self.file) {
                return;
            }
            *entry = Idle { file: self.file, conns: Vec::new(), used };
        }
        if entry.conns.len() < IDLE_KEPT {
            entry.conns.push(conn);
        }
    }
}
