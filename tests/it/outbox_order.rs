//! The order a chat's outbox is sent in: alerts and replies ahead of bulk (approval requests,
//! routine progress), but bulk that waited long enough is not held back any longer.

use ops_framework::store::outbox::{self, BULK_AGING_MS};
use ops_framework::store::Store;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    (dir, store)
}

#[test]
fn alerts_go_ahead_of_fresh_bulk_but_bulk_that_waited_a_minute_goes_by_age() {
    let (_dir, mut s) = store();
    let request = outbox::insert_parts(&mut s, 1, &["request".into()], false, None, true).unwrap();
    let alert = outbox::insert_parts(&mut s, 1, &["alert".into()], false, None, false).unwrap();
    assert_eq!(outbox::head(&s, 1).unwrap().unwrap().0.id, alert, "a fresh request waits behind the alert");
    // The request has waited longer than the aging bound while alerts kept coming.
    s.write(|tx| {
        tx.execute("UPDATE outbox SET created_at=created_at-?2 WHERE id=?1", rusqlite::params![request, BULK_AGING_MS + 1_000])?;
        Ok(())
    })
    .unwrap();
    let later = outbox::insert_parts(&mut s, 1, &["another alert".into()], false, None, false).unwrap();
    assert_eq!(outbox::head(&s, 1).unwrap().unwrap().0.id, request, "the aged request goes first: it is the oldest");
    let heads: Vec<i64> = outbox::due_heads(&s, i64::MAX).unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(heads, vec![request]);
    let order: Vec<i64> = outbox::queued(&s, 1, 10).unwrap().into_iter().map(|q| q.id).collect();
    assert_eq!(order, vec![request, alert, later]);
}

#[test]
fn routine_progress_never_ages_ahead_of_an_alert() {
    let (_dir, mut s) = store();
    let routine = outbox::insert_kind(&mut s, 1, &["progress".into()], true, None, outbox::Kind::Routine, None).unwrap();
    s.write(|tx| {
        tx.execute("UPDATE outbox SET created_at=created_at-?2 WHERE id=?1", rusqlite::params![routine, BULK_AGING_MS * 10])?;
        Ok(())
    })
    .unwrap();
    let alert = outbox::insert_parts(&mut s, 1, &["alert".into()], false, None, false).unwrap();
    assert_eq!(outbox::head(&s, 1).unwrap().unwrap().0.id, alert, "only approval requests age");
}
