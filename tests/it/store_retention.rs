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

#[test]
fn button_tokens_are_capped_per_chat_keeping_the_newest() {
    use ops_framework::store::callbacks::{issue, redeem, Redeemed, TOKENS_KEPT_PER_CHAT};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let now = chrono::Utc::now().timestamp();
    // A group that sent /status in a loop: more tokens than the cap, all older than what follows.
    store
        .write(|tx| {
            for i in 0..TOKENS_KEPT_PER_CHAT + 500 {
                tx.execute(
                    "INSERT INTO callbacks(token, chat_id, action, created_at) VALUES (?1, -100500, 'start', ?2)",
                    rusqlite::params![format!("{i:032x}"), now - 3600],
                )?;
            }
            Ok(())
        })
        .unwrap();
    let owners = issue(&mut store, 111, ops_framework::policy::press::Press::Job(ops_framework::policy::press::JobPress::Start), Some("scan"), None).unwrap();
    let newest: Vec<String> = (0..100)
        .map(|_| {
            issue(&mut store, -100500, ops_framework::policy::press::Press::Job(ops_framework::policy::press::JobPress::Start), Some("scan"), None).unwrap()
        })
        .collect();
    let count = |chat: i64| -> i64 { store.conn().query_row("SELECT COUNT(*) FROM callbacks WHERE chat_id=?1", [chat], |r| r.get(0)).unwrap() };
    assert!(count(-100500) <= TOKENS_KEPT_PER_CHAT + 64, "the flooding chat keeps at most the cap: {}", count(-100500));
    assert_eq!(count(111), 1, "another chat's buttons are not pushed out");
    assert!(matches!(redeem(&mut store, &format!("{:032x}", 0), -100500, 7).unwrap(), Redeemed::Unknown), "the oldest token went");
    assert!(matches!(redeem(&mut store, newest.last().unwrap(), -100500, 7).unwrap(), Redeemed::Ok(_)), "the newest token works");
    assert!(matches!(redeem(&mut store, &owners, 111, 111).unwrap(), Redeemed::Ok(_)), "the owner's token works");
}
