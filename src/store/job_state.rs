//! The jobs' observed monitor states ([`JobState`], one JSON row per job) and their repair on
//! start: a row that cannot be read is kept aside and the job starts fresh.

use super::Store;
use crate::policy::state::JobState;
use anyhow::Result;
use rusqlite::{params, OptionalExtension};
use std::collections::HashMap;

impl Store {
    /// All per-job monitor states (see [`parse_state`] for an unreadable row).
    pub fn job_states(&self) -> Result<HashMap<String, JobState>> {
        let mut stmt = self.conn.prepare("SELECT job_id, state FROM job_state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = HashMap::new();
        for row in rows {
            let (id, json) = row?;
            let st = parse_state(&id, &json);
            out.insert(id, st);
        }
        Ok(out)
    }

    /// The stored states of `ids` (those that have one; see [`parse_state`]).
    pub fn job_states_of(&self, ids: &[&str]) -> Result<HashMap<String, JobState>> {
        let mut stmt = self.conn.prepare_cached("SELECT state FROM job_state WHERE job_id=?1")?;
        let mut out = HashMap::new();
        for id in ids {
            if let Some(json) = stmt.query_row([id], |r| r.get::<_, String>(0)).optional()? {
                out.insert(id.to_string(), parse_state(id, &json));
            }
        }
        Ok(out)
    }

    /// One job's monitor state (fresh when it has none yet; see [`parse_state`]).
    pub fn job_state(&self, job_id: &str) -> Result<JobState> {
        let json: Option<String> = self.conn.query_row("SELECT state FROM job_state WHERE job_id=?1", [job_id], |r| r.get(0)).optional()?;
        Ok(json.map(|j| parse_state(job_id, &j)).unwrap_or_default())
    }

    /// Applies `f` to one job's observed state atomically (CLI and self-test updates).
    pub fn update_job_state(&mut self, job_id: &str, f: impl FnOnce(&mut JobState)) -> Result<()> {
        self.write(|tx| {
            let mut st = get_job_state(tx, job_id)?.unwrap_or_default();
            f(&mut st);
            put_job_state(tx, job_id, &st)
        })
    }

    /// The restore-with-repair pass of a starting daemon over the job states: a row that cannot
    /// be read (damaged, or written by a newer version) is moved to `job_state_unreadable` and the
    /// job starts fresh. Returns (job, what was wrong) for each, to be told to the chats.
    pub fn repair_states(&mut self, now: i64) -> Result<Vec<(String, String)>> {
        self.write(|tx| {
            let rows: Vec<(String, String)> = {
                let mut st = tx.prepare("SELECT job_id, state FROM job_state")?;
                let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let mut bad = Vec::new();
            for (job, raw) in rows {
                let Err(e) = serde_json::from_str::<JobState>(&raw) else { continue };
                tx.execute("INSERT INTO job_state_unreadable(job_id, raw, error, at) VALUES (?1, ?2, ?3, ?4)", params![job, raw, e.to_string(), now])?;
                tx.execute("DELETE FROM job_state WHERE job_id=?1", [&job])?;
                bad.push((job, e.to_string()));
            }
            Ok(bad)
        })
    }
}

/// Reads one job's state inside a transaction (None when never stored).
pub fn get_job_state(tx: &rusqlite::Transaction, job_id: &str) -> Result<Option<JobState>> {
    let cur: Option<String> = tx.query_row("SELECT state FROM job_state WHERE job_id=?1", [job_id], |r| r.get(0)).optional()?;
    Ok(cur.map(|j| parse_state(job_id, &j)))
}

/// A stored job state, or a fresh one (logged) when the row cannot be read. A starting daemon
/// moves such rows aside first ([`Store::repair_states`]) and tells the chats; this covers a row
/// damaged while it runs, which its next commit then replaces.
pub fn parse_state(job_id: &str, json: &str) -> JobState {
    serde_json::from_str(json).unwrap_or_else(|e| {
        tracing::warn!(job = job_id, error = %e, "the job's stored state could not be read; it starts fresh");
        JobState::default()
    })
}

/// Writes one job's state inside a transaction.
pub fn put_job_state(tx: &rusqlite::Transaction, job_id: &str, st: &JobState) -> Result<()> {
    tx.execute(
        "INSERT INTO job_state(job_id, state) VALUES (?1, ?2) ON CONFLICT(job_id) DO UPDATE SET state=excluded.state",
        params![job_id, serde_json::to_string(st)?],
    )?;
    Ok(())
}
