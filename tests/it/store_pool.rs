//! The store's connection pool keeps idle connections for a few files only. In its own test
//! binary: it opens many files, and the pool is per process.

use ops_framework::store::Store;

#[test]
fn idle_connections_are_kept_for_a_few_files_only() {
    // A process that opens many temporary state files (tests, selftest) must not keep
    // connections to all of them open.
    let dirs: Vec<_> = (0..3 * ops_framework::store::pool::FILES_KEPT).map(|_| tempfile::tempdir().unwrap()).collect();
    let first = dirs[0].path().join("s.db");
    let s = Store::open(&first).unwrap();
    s.conn().execute_batch("CREATE TEMP TABLE marker(x)").unwrap();
    drop(s);
    for d in &dirs[1..] {
        drop(Store::open(&d.path().join("s.db")).unwrap());
    }
    let again = Store::open(&first).unwrap();
    assert!(again.conn().execute_batch("SELECT x FROM temp.marker").is_err(), "the first file's idle connection was closed");
}

/// A command that exits leaves the database in one file: its write-ahead log is folded back
/// (a backup or copy of the `.db` alone held nothing but an empty page before).
#[test]
fn a_command_leaves_no_write_ahead_log_behind() {
    let env = crate::support::Env::new();
    let st = env.script("st.sh", r#"echo '{"running":true,"completed":false}'"#);
    env.config(serde_json::json!([crate::support::long_job("scan", &st, serde_json::json!({}))]), serde_json::json!({}));
    let out = env.cli().args(["tick", "--print-only"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let db = env.path().join("s.db");
    assert!(db.exists());
    let wal = env.path().join("s.db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "a write-ahead log of {} bytes was left",
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0)
    );
    let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM job_state WHERE job_id='scan'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1, "the tick's state is in the database file itself");
}
