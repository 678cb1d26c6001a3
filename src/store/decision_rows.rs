//! What people decided about jobs ([`Decisions`]): one row per job, written only by a person's
//! action, read by the ticks; and the snoozes that hold in one chat only.

use super::Store;
use crate::policy::decisions::Decisions;
use anyhow::Result;
use rusqlite::{params, OptionalExtension, Row};
use std::collections::{HashMap, HashSet};

const COLUMNS: &str = "acked_key, acked_at, snoozed_until, stopped_at, started_at";

/// The decisions in `r`'s columns from `i` on, in [`COLUMNS`] order.
fn from_row(r: &Row, i: usize) -> rusqlite::Result<Decisions> {
    let key: Option<String> = r.get(i)?;
    let at: Option<i64> = r.get(i + 1)?;
    Ok(Decisions { acked: key.map(|k| (k, at.unwrap_or(0))), snoozed_until: r.get(i + 2)?, stopped_at: r.get(i + 3)?, started_at: r.get(i + 4)? })
}

fn read(conn: &rusqlite::Connection, job: &str) -> rusqlite::Result<Decisions> {
    let sql = format!("SELECT {COLUMNS} FROM job_decisions WHERE job_id=?1");
    Ok(conn.prepare_cached(&sql)?.query_row([job], |r| from_row(r, 0)).optional()?.unwrap_or_default())
}

/// One job's decisions inside a transaction.
pub fn read_in(tx: &super::Tx, job: &str) -> Result<Decisions> {
    Ok(read(tx, job)?)
}

/// One job's decisions (none yet: the default).
pub fn of(store: &Store, job: &str) -> Result<Decisions> {
    Ok(read(store.conn(), job)?)
}

/// The decisions about `jobs` (those without any are left out).
pub fn of_jobs(store: &Store, jobs: &[&str]) -> Result<HashMap<String, Decisions>> {
    let mut out = HashMap::new();
    for job in jobs {
        let d = read(store.conn(), job)?;
        if d != Decisions::default() {
            out.insert(job.to_string(), d);
        }
    }
    Ok(out)
}

/// Every job's decisions.
pub fn all(store: &Store) -> Result<HashMap<String, Decisions>> {
    let mut st = store.conn().prepare(&format!("SELECT job_id, {COLUMNS} FROM job_decisions"))?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, from_row(r, 1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A person's action: applies `f` to `job`'s decisions atomically and stores them.
pub fn decide(store: &mut Store, job: &str, f: impl FnOnce(&mut Decisions)) -> Result<Decisions> {
    store.write(|tx| {
        let mut d = read(tx, job)?;
        f(&mut d);
        let (key, at) = d.acked.clone().unzip();
        tx.execute(
            "INSERT INTO job_decisions(job_id, acked_key, acked_at, snoozed_until, stopped_at, started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(job_id) DO UPDATE SET acked_key=?2, acked_at=?3, snoozed_until=?4, stopped_at=?5, started_at=?6",
            params![job, key, at, d.snoozed_until, d.stopped_at, d.started_at],
        )?;
        Ok(d)
    })
}

/// Pauses `job`'s routine reports and reminders in `chat` alone until `until`.
pub fn snooze_in_chat(store: &mut Store, job: &str, chat: i64, until: i64) -> Result<()> {
    store.write(|tx| {
        tx.execute(
            "INSERT INTO chat_snoozes(job_id, chat_id, until) VALUES (?1, ?2, ?3) ON CONFLICT(job_id, chat_id) DO UPDATE SET until=?3",
            params![job, chat, until],
        )?;
        Ok(())
    })
}

/// The (chat, job) pairs snoozed in one chat at `now`.
pub fn chat_snoozes(store: &Store, now: i64) -> Result<HashSet<(i64, String)>> {
    let mut st = store.conn().prepare_cached("SELECT chat_id, job_id FROM chat_snoozes WHERE until > ?1")?;
    let rows = st.query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_file_from_before_keeps_what_people_decided() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            // The file as the version before wrote it: decisions inside the job's JSON.
            let conn = crate::store::file_before(&path, "CREATE TABLE job_decisions");
            let old = r#"{"acked_anomaly_key":"stalled:7","snoozed_until":99,"stopped_on_purpose":true,"stopped_at":50,"running_since":null}"#;
            conn.execute("INSERT INTO job_state(job_id, state) VALUES ('scan', ?1), ('idle', '{}')", [old]).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let d = of(&store, "scan").unwrap();
        assert_eq!(d.acked.map(|(k, _)| k).as_deref(), Some("stalled:7"));
        assert_eq!((d.snoozed_until, d.stopped_at, d.started_at), (Some(99), Some(50), None));
        assert_eq!(of(&store, "idle").unwrap(), Decisions::default());
        assert!(store.job_state("scan").is_ok(), "the old row still reads");
        let conn = rusqlite::Connection::open(&path).unwrap();
        let old = r#"{"running_since":null,"crashed_at":70,"crash_ran_seconds":20}"#;
        conn.execute("UPDATE job_state SET state=?1 WHERE job_id='scan'", [old]).unwrap();
        conn.execute_batch(super::super::MIGRATIONS.iter().find(|m| m.contains("'$.crash_ran_seconds'")).unwrap()).unwrap();
        let run = store.job_state("scan").unwrap().run;
        assert_eq!(run, crate::policy::state::Run::Crashed { at: 70, ran_seconds: 20 }, "a crash stays a crash");
    }
}
