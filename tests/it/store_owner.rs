//! The store layer owns the database: one connection reused per process, and SQLite's waits
//! (another process holding the write lock) never stall the daemon's other tasks.

use ops_framework::engine::paths::Paths;
use ops_framework::engine::tick::{tick, TickOptions};
use ops_framework::store::Store;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn paths(dir: &std::path::Path) -> Paths {
    let config = dir.join("c.json");
    let status = json!({"running": true, "completed": false, "progress": {"done": 1, "total": 2}}).to_string();
    let cfg = json!({"version": 1, "tickSeconds": 3600, "defaults": {"quietHours": null}, "jobs": [
        {"id": "scan", "kind": "long_running_read", "risk": "read_only", "enabled": true,
         "commands": {"start": ["true"], "status": ["echo", status]}}]});
    std::fs::write(&config, cfg.to_string()).unwrap();
    Paths::resolve(Some(&config), Some(&dir.join("state/s.db")))
}

/// Holds the write lock of `db` from another connection (another process, say the CLI) until
/// the runtime's other tasks have beaten 10 times, or 4 s at most; returns the beats seen.
fn hold_write_lock(db: std::path::PathBuf, beats: Arc<AtomicUsize>) -> std::thread::JoinHandle<usize> {
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let c = rusqlite::Connection::open(db).unwrap();
        c.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked_tx.send(()).unwrap();
        let t0 = Instant::now();
        while beats.load(Ordering::SeqCst) < 10 && t0.elapsed() < Duration::from_secs(4) {
            std::thread::sleep(Duration::from_millis(5));
        }
        c.execute_batch("COMMIT").unwrap();
        beats.load(Ordering::SeqCst)
    });
    locked_rx.recv().unwrap();
    holder
}

/// A runtime with one worker (the daemon has two) and a task that beats every 20 ms on it.
fn one_worker_with_heartbeat(beats: Arc<AtomicUsize>) -> tokio::runtime::Runtime {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            beats.fetch_add(1, Ordering::SeqCst);
        }
    });
    rt
}

#[test]
fn a_tick_waiting_for_the_write_lock_does_not_stall_the_other_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path());
    drop(Store::open(&paths.state_db).unwrap());
    let beats = Arc::new(AtomicUsize::new(0));
    let holder = hold_write_lock(paths.state_db.clone(), beats.clone());
    let rt = one_worker_with_heartbeat(beats);
    let p = paths.clone();
    let out = rt.block_on(async move { tokio::spawn(async move { tick(&p, &TickOptions::default()).await }).await.unwrap() });
    assert!(out.is_ok(), "{out:?}");
    let seen = holder.join().unwrap();
    assert!(seen >= 10, "the other task beat {seen} times while the tick waited for the lock: a busy SQLite held the only worker");
}

#[test]
fn any_write_from_async_code_waiting_for_the_lock_leaves_the_worker_to_other_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    drop(Store::open(&db).unwrap());
    let beats = Arc::new(AtomicUsize::new(0));
    let holder = hold_write_lock(db.clone(), beats.clone());
    let rt = one_worker_with_heartbeat(beats);
    // What the bot's handlers do: a plain (sync) store write inside an async task.
    let written = rt.block_on(async move { tokio::spawn(async move { Store::open(&db)?.set_meta("k", "v") }).await.unwrap() });
    assert!(written.is_ok(), "{written:?}");
    let seen = holder.join().unwrap();
    assert!(seen >= 10, "the other task beat {seen} times while a write waited for the lock");
}

#[test]
fn the_database_is_opened_once_and_reused_until_the_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let s = Store::open(&db).unwrap();
    s.conn().execute_batch("CREATE TEMP TABLE marker(x)").unwrap();
    drop(s);
    // Temp tables belong to one connection: seeing it again means the connection was reused.
    let again = Store::open(&db).unwrap();
    assert!(again.conn().execute_batch("SELECT x FROM temp.marker").is_ok(), "the second open reused the first connection");
    drop(again);
    std::fs::remove_file(&db).unwrap();
    let fresh = Store::open(&db).unwrap();
    assert!(fresh.conn().execute_batch("SELECT x FROM temp.marker").is_err(), "a replaced file gets a new connection");
    let v: i64 = fresh.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert!(v > 0, "the new file is migrated");
    let mut fresh = fresh;
    fresh.set_meta("probe", "1").unwrap();
    assert_eq!(fresh.meta("probe").unwrap().as_deref(), Some("1"));
}
