//! Tables that people outside the allowlist can make grow stay bounded.

use ops_framework::store::callbacks::{count_events, record_event, refused_summary, EVENTS_KEPT};
use ops_framework::store::Store;

#[test]
fn refused_updates_from_a_flooding_stranger_keep_only_the_newest_events() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    store
        .write(|tx| {
            for i in 0..EVENTS_KEPT + 50 {
                tx.execute("INSERT INTO events(at, kind, chat_id, detail) VALUES (?1, 'refused', 999, 'message')", [i])?;
            }
            Ok(())
        })
        .unwrap();
    record_event(&mut store, "ack", 111, Some(111), Some("scan"), "k").unwrap();
    record_event(&mut store, "refused", 999, Some(999), None, "message").unwrap();
    assert_eq!(count_events(&store, "refused").unwrap(), EVENTS_KEPT);
    assert_eq!(count_events(&store, "ack").unwrap(), 1, "the owners' events are not pushed out");
    for _ in 0..3 {
        record_event(&mut store, "refused", 999, Some(999), None, "message").unwrap();
    }
    assert_eq!(count_events(&store, "refused").unwrap(), EVENTS_KEPT);
    let (total, _, _, _) = refused_summary(&store).unwrap().unwrap();
    assert_eq!(total, 4, "the refused total counts every recorded attempt (the rows inserted by hand above are not counted)");
    let newest: i64 = store.conn().query_row("SELECT user_id FROM events ORDER BY id DESC LIMIT 1", [], |r| r.get(0)).unwrap();
    assert_eq!(newest, 999, "the newest event is kept");
}
