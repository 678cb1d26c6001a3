//! Run history: every command ops-monitor ran (start, stop, run, auto-resume, chain, schedule),
//! in flight first, then how it ended; the newest [`RUNS_KEPT_PER_JOB`] per job are kept.

use super::{owner, Store, RUNS_KEPT_PER_JOB};
use anyhow::Result;
use rusqlite::params;

/// One recorded command run (start, stop, run, auto-resume, chain, schedule).
#[derive(Debug, Clone, Default)]
pub struct RunRecord {
    /// Row id.
    pub id: i64,
    /// Job.
    pub job_id: String,
    /// start | stop | run | autoresume | chain | schedule | status.
    pub action: String,
    /// Who or what asked (cli, tick, chat:<id>).
    pub origin: String,
    /// Unix seconds.
    pub started_at: i64,
    /// Unix seconds; None while in flight (or interrupted).
    pub finished_at: Option<i64>,
    /// Success flag once finished.
    pub ok: Option<bool>,
    /// One-line outcome.
    pub summary: Option<String>,
    /// Exit code.
    pub exit_code: Option<i32>,
    /// Duration.
    pub duration_ms: Option<i64>,
    /// Output tails.
    pub stdout_tail: Option<String>,
    /// Output tails.
    pub stderr_tail: Option<String>,
}

impl Store {
    /// Records the start of a run; finish it with [`Store::finish_run`].
    pub fn begin_run(&mut self, job_id: &str, action: &str, origin: &str, now: i64) -> Result<i64> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO runs(job_id, action, origin, started_at, owner) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![job_id, action, origin, now, owner::token()],
            )?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "DELETE FROM runs WHERE job_id=?1 AND id NOT IN (SELECT id FROM runs WHERE job_id=?1 ORDER BY id DESC LIMIT ?2)",
                params![job_id, RUNS_KEPT_PER_JOB],
            )?;
            Ok(id)
        })
    }

    /// Records how a run ended.
    pub fn finish_run(&mut self, id: i64, out: &crate::policy::outcome::Outcome, now: i64) -> Result<()> {
        self.finish_run_as(id, out, out.success(), &out.summary(), now)
    }

    /// [`Store::finish_run`] with the verdict and summary given: a check that exited 0 but
    /// printed ALERT is a failed run, and says so.
    pub fn finish_run_as(&mut self, id: i64, out: &crate::policy::outcome::Outcome, ok: bool, summary: &str, now: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE runs SET finished_at=?2, ok=?3, summary=?4, exit_code=?5, duration_ms=?6, stdout_tail=?7, stderr_tail=?8 WHERE id=?1",
                params![id, now, ok, summary, out.exit_code(), out.duration_ms as i64, tail(&out.stdout), tail(&out.stderr)],
            )?;
            Ok(())
        })
    }

    /// The newest runs of a job (newest first).
    pub fn runs(&self, job_id: &str, limit: i64) -> Result<Vec<RunRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, job_id, action, origin, started_at, finished_at, ok, summary, exit_code, duration_ms, stdout_tail, stderr_tail
             FROM runs WHERE job_id=?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![job_id, limit], record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest run asked for by `origin` ("approval:4": the run an approval made), for the
    /// views that show how it ended.
    pub fn run_by_origin(&self, origin: &str) -> Result<Option<RunRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, job_id, action, origin, started_at, finished_at, ok, summary, exit_code, duration_ms, stdout_tail, stderr_tail
             FROM runs WHERE origin=?1 ORDER BY id DESC LIMIT 1",
        )?;
        let run = stmt.query_map([origin], record)?.next().transpose()?;
        Ok(run)
    }
}

/// A `runs` row read with the columns [`Store::runs`] selects, in that order.
fn record(r: &rusqlite::Row) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: r.get(0)?,
        job_id: r.get(1)?,
        action: r.get(2)?,
        origin: r.get(3)?,
        started_at: r.get(4)?,
        finished_at: r.get(5)?,
        ok: r.get(6)?,
        summary: r.get(7)?,
        exit_code: r.get(8)?,
        duration_ms: r.get(9)?,
        stdout_tail: r.get(10)?,
        stderr_tail: r.get(11)?,
    })
}

fn tail(s: &str) -> String {
    crate::policy::check::tail_chars(s, 4000)
}
