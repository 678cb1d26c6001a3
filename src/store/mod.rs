//! The state store: one SQLite file (WAL), schema migrations embedded, safe for the CLI and the
//! daemon at the same time (busy timeout + IMMEDIATE transactions for read-modify-write).

pub mod alerts;
pub mod approval_messages;
pub mod approval_rows;
pub mod callbacks;
pub mod decision_rows;
pub mod delivery;
pub mod held;
mod job_state;
pub use job_state::{get_job_state, parse_state, put_job_state};
pub mod live_parts;
pub mod outbox;
pub mod owner;
pub mod pool;
pub mod prefs;
pub mod progress;
pub mod quiet_held;
pub mod runs;
pub mod spool;

pub use runs::RunRecord;

use anyhow::{Context, Result};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Runs blocking store work from async code: on the daemon's multi-threaded runtime the worker
/// first hands its other tasks to another thread (tokio's `block_in_place`), so SQLite waiting
/// for another process's write lock (up to the busy timeout) never stalls them; outside a
/// multi-threaded runtime (plain threads, blocking tasks, tests) `f` simply runs.
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// A write transaction, for the shell's steps that must land together with a tick's commit.
pub type Tx<'a> = rusqlite::Transaction<'a>;

/// Runs kept per job in the history.
pub const RUNS_KEPT_PER_JOB: i64 = 200;

/// Page cache per connection, in KiB (SQLite's default is 2000): bounds what each pooled
/// connection keeps of the file in memory.
pub const CACHE_KIB: i64 = 256;

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_init.sql"),
    include_str!("migrations/002_telegram.sql"),
    include_str!("migrations/003_approvals.sql"),
    include_str!("migrations/004_chat_prefs.sql"),
    include_str!("migrations/005_owners.sql"),
    include_str!("migrations/006_settled.sql"),
    include_str!("migrations/007_requester_uid.sql"),
    include_str!("migrations/008_edit_attempts.sql"),
    include_str!("migrations/009_outbox_bulk.sql"),
    include_str!("migrations/010_progress_samples.sql"),
    include_str!("migrations/011_quiet_held.sql"),
    include_str!("migrations/012_outbox_kind.sql"),
    include_str!("migrations/013_quiet_rang.sql"),
    include_str!("migrations/014_alert_messages.sql"),
    include_str!("migrations/015_live_message.sql"),
    include_str!("migrations/016_live_moves.sql"),
    include_str!("migrations/017_callbacks_index.sql"),
    include_str!("migrations/018_shared_request_messages.sql"),
    include_str!("migrations/019_quiet_from.sql"),
    include_str!("migrations/020_request_message_indexes.sql"),
    include_str!("migrations/021_report_spool.sql"),
    include_str!("migrations/022_reply_key.sql"),
    include_str!("migrations/023_decisions.sql"),
    include_str!("migrations/024_observed_run.sql"),
    include_str!("migrations/025_callback_run.sql"),
    include_str!("migrations/026_announce_decided.sql"),
];

/// An open store; cheap to open, one per thread/task: connections come from [`pool`], so the
/// file is opened and migrated once per process, not once per call.
pub struct Store {
    conn: pool::Pooled,
    path: PathBuf,
}

/// A chain (`after`) item waiting to run.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueItem {
    /// Row id.
    pub id: i64,
    /// Job to run.
    pub job_id: String,
    /// Why it was queued.
    pub reason: String,
    /// Not before this Unix time.
    pub not_before: i64,
    /// pending | running | done | failed | blocked.
    pub status: String,
}

impl Store {
    /// Opens (creating folder 0700 and file 0600 on first use) and migrates; later opens in
    /// the same process reuse an idle connection of the same file.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(conn) = pool::take(path) {
            return Ok(Store { conn, path: path.to_path_buf() });
        }
        prepare_file(path)?;
        let file = pool::FileId::of(path).with_context(|| format!("state database {} vanished while opening", path.display()))?;
        let conn = Connection::open(path).with_context(|| format!("open state database {}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(15))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // SQLite's default page cache is 2 MB per connection, filled as the file grows (a day of
        // progress history is a hundred MB at 200 jobs): with the pool's connections that was
        // tens of MB of a daemon's memory creeping up for hours. Pages missed here come from
        // the OS's file cache.
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        let mut s = Store { conn: pool::Pooled::fresh(conn, path, file), path: path.to_path_buf() };
        // WAL mode is a property of the file and the schema only moves forward: an up-to-date
        // file is checked with one read, without taking the write lock on every open.
        let version: i64 = s.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version < MIGRATIONS.len() as i64 {
            blocking(|| -> Result<()> {
                retry_busy(|| s.conn.pragma_update(None, "journal_mode", "WAL"))?;
                retry_busy(|| s.migrate()).context("migrate the state database")
            })?;
        }
        Ok(s)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The raw connection, for modules that own their tables (outbox, approvals).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    fn migrate(&mut self) -> rusqlite::Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let v: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(v as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        tx.commit()
    }

    /// Runs `f` in an IMMEDIATE transaction (serialised against other writers). Every write
    /// goes through here, so every write runs through [`blocking`]: waiting for another
    /// process's write lock never holds an async worker.
    pub fn write<T>(&mut self, f: impl FnOnce(&rusqlite::Transaction) -> Result<T>) -> Result<T> {
        blocking(|| {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
    }

    /// A value from the meta table.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key=?1", [key], |r| r.get(0)).optional()?)
    }

    /// Sets a meta value.
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.write(|tx| set_meta(tx, key, value))
    }

    /// Queues a chain item.
    pub fn enqueue(&mut self, job_id: &str, reason: &str, now: i64, not_before: i64) -> Result<()> {
        self.write(|tx| enqueue(tx, job_id, reason, now, not_before))
    }

    /// Atomically claims due pending items (pending -> running) so no two ticks run one item.
    /// Items claimed by a process that died (a `tick` killed mid-way) are claimable again.
    pub fn claim_due(&mut self, now: i64) -> Result<Vec<QueueItem>> {
        self.write(|tx| {
            requeue_orphans(tx)?;
            let mut stmt = tx.prepare(
                "UPDATE queue SET status='running', attempt=attempt+1, owner=?2 WHERE status='pending' AND not_before<=?1
                 RETURNING id, job_id, reason, not_before, status",
            )?;
            let rows = stmt.query_map(params![now, owner::token()], queue_row)?;
            let mut items: Vec<QueueItem> = rows.collect::<Result<_, _>>()?;
            items.sort_by_key(|i| i.id);
            Ok(items)
        })
    }

    /// Puts items this process claimed back to pending (its tick failed before finishing them).
    pub fn release_claimed(&mut self, ids: &[i64]) -> Result<()> {
        self.write(|tx| {
            for id in ids {
                tx.execute("UPDATE queue SET status='pending', owner=NULL WHERE id=?1 AND status='running'", [id])?;
            }
            Ok(())
        })
    }

    /// Queue items, newest last (all statuses).
    pub fn queue(&self) -> Result<Vec<QueueItem>> {
        let mut stmt = self.conn.prepare("SELECT id, job_id, reason, not_before, status FROM queue ORDER BY id")?;
        let rows = stmt.query_map([], queue_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Repair pass on daemon start: runs left in flight are marked interrupted; queue items a
    /// dead daemon had claimed go back to pending (queued jobs are read-only, safe to re-run).
    pub fn repair(&mut self, now: i64) -> Result<usize> {
        self.write(|tx| {
            let orphans = |sql: &str| -> rusqlite::Result<Vec<i64>> {
                let mut st = tx.prepare(sql)?;
                let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?)))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?.into_iter().filter(|(_, o)| !owner::alive(o.as_deref())).map(|(id, _)| id).collect())
            };
            let runs = orphans("SELECT id, owner FROM runs WHERE finished_at IS NULL")?;
            for id in &runs {
                tx.execute("UPDATE runs SET finished_at=?1, ok=0, summary='interrupted - outcome unknown' WHERE id=?2", params![now, id])?;
            }
            requeue_orphans(tx)?;
            Ok(runs.len())
        })
    }
}

/// Switching to WAL and the first migration on a brand-new file can report SQLITE_BUSY without
/// consulting the busy handler when two processes open it at the same moment: retry briefly.
fn retry_busy<T>(f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    retry_busy_with(crate::policy::retry::STORE_BUSY, f)
}

fn retry_busy_with<T>(policy: crate::policy::retry::Retry, mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let mut failures = 0;
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(e, msg)) if e.code == rusqlite::ErrorCode::DatabaseBusy => {
                failures += 1;
                match policy.after(failures) {
                    Some(wait) => std::thread::sleep(wait),
                    None => return Err(rusqlite::Error::SqliteFailure(e, msg)),
                }
            }
            other => return other,
        }
    }
}

fn queue_row(r: &rusqlite::Row) -> rusqlite::Result<QueueItem> {
    Ok(QueueItem { id: r.get(0)?, job_id: r.get(1)?, reason: r.get(2)?, not_before: r.get(3)?, status: r.get(4)? })
}

/// Sets a meta value inside a transaction.
pub fn set_meta(tx: &rusqlite::Transaction, key: &str, value: &str) -> Result<()> {
    tx.execute("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value=excluded.value", params![key, value])?;
    Ok(())
}

/// Queue items claimed by a process that is gone go back to pending (queued jobs are
/// read-only: safe to run again).
fn requeue_orphans(tx: &rusqlite::Transaction) -> Result<()> {
    let mut st = tx.prepare("SELECT id, owner FROM queue WHERE status='running'")?;
    let rows: Vec<(i64, Option<String>)> = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    for (id, owner) in rows {
        if !owner::alive(owner.as_deref()) {
            tx.execute("UPDATE queue SET status='pending', owner=NULL WHERE id=?1", [id])?;
        }
    }
    Ok(())
}

/// Marks a queue item finished (done, failed, blocked) inside a transaction; keeps the last 500.
pub fn finish_queue_item(tx: &rusqlite::Transaction, id: i64, status: &str, error: Option<&str>, now: i64) -> Result<()> {
    tx.execute("UPDATE queue SET status=?2, last_error=?3, finished_at=?4 WHERE id=?1", params![id, status, error, now])?;
    tx.execute("DELETE FROM queue WHERE status NOT IN ('pending','running') AND id NOT IN (SELECT id FROM queue ORDER BY id DESC LIMIT 500)", [])?;
    Ok(())
}

/// Queues a chain item inside a transaction.
pub fn enqueue(tx: &rusqlite::Transaction, job_id: &str, reason: &str, now: i64, not_before: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO queue(job_id, reason, created_at, not_before, status) VALUES (?1, ?2, ?3, ?4, 'pending')",
        params![job_id, reason, now, not_before],
    )?;
    Ok(())
}

fn prepare_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).with_context(|| format!("create {}", dir.display()))?;
        }
    }
    // Only ever create: opening and closing an existing database file outside SQLite would drop
    // this process's POSIX locks on it, and another process would then checkpoint and truncate
    // the WAL under our live connections (seen as SQLITE_IOERR_SHORT_READ).
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("create state database {}", path.display())),
    }
}

/// A store in a fresh temporary folder, for the store's unit tests (the folder goes with it).
#[cfg(test)]
pub(crate) fn temp() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("state.db")).unwrap();
    (dir, store)
}

/// A state file at `path` as the version before the migration whose SQL contains `marker` left
/// it, for the unit tests of that migration (open it with [`Store::open`] to migrate it).
#[cfg(test)]
pub(crate) fn file_before(path: &Path, marker: &str) -> Connection {
    let conn = Connection::open(path).unwrap();
    let before = MIGRATIONS.iter().position(|m| m.contains(marker)).expect("a migration with the marker");
    for sql in &MIGRATIONS[..before] {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", before as i64).unwrap();
    conn
}

#[cfg(test)]
mod tests {
    use crate::policy::retry::Retry;
    use std::time::Duration;

    #[test]
    fn opening_an_up_to_date_file_does_not_wait_for_the_write_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(super::Store::open(&path).unwrap());
        let writer = rusqlite::Connection::open(&path).unwrap();
        writer.execute_batch("BEGIN IMMEDIATE").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let p = path.clone();
        std::thread::spawn(move || tx.send(super::Store::open(&p).map(|_| ()).map_err(|e| e.to_string())));
        let opened = rx.recv_timeout(Duration::from_secs(5)).expect("open waited for another process's write transaction");
        assert!(opened.is_ok(), "{opened:?}");
        writer.execute_batch("ROLLBACK").unwrap();
    }

    fn busy() -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY), None)
    }

    #[test]
    fn a_busy_state_file_is_retried_by_the_policy_and_given_up_at_its_limit() {
        let policy = Retry { first: Duration::from_millis(1), max: Duration::from_millis(2), limit: Some(3) };
        let mut calls = 0;
        assert_eq!(
            super::retry_busy_with(policy, || {
                calls += 1;
                if calls < 3 {
                    Err(busy())
                } else {
                    Ok(calls)
                }
            })
            .unwrap(),
            3
        );
        let mut calls = 0;
        let err = super::retry_busy_with(policy, || -> rusqlite::Result<()> {
            calls += 1;
            Err(busy())
        })
        .unwrap_err();
        assert_eq!(err.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy));
        assert_eq!(calls, 3, "three attempts, then the error");
    }
}
