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
