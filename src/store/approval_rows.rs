//! Write-job approvals' rows: requests, atomic single-use state changes, and the audit trail.
//! The flow that decides and runs them is `engine::approval_flow`; the state machine is
//! `policy::approval`.

use super::Store;
use crate::config::Job;
use crate::policy::approval::State;
use crate::policy::check::FollowUp;
use anyhow::{anyhow, Result};
use rusqlite::{params, OptionalExtension};

/// One stored request.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRow {
    /// Request id.
    pub id: i64,
    /// The write job.
    pub job_id: String,
    /// Definition digest at request time.
    pub digest: String,
    /// argv at request time (shown to approvers).
    pub argv: Vec<String>,
    /// cwd at request time.
    pub cwd: String,
    /// Requesting Telegram user (None: host).
    pub requested_by: Option<i64>,
    /// Requesting host user's uid (None: a chat).
    pub requested_uid: Option<u32>,
    /// "chat:<id>" or "cli".
    pub requested_via: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// State.
    pub state: State,
    /// Who decided: the person as Telegram shows them ("Anna (@anna)"), or "host:<login> (uid N)".
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<i64>,
}

/// One audit line.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// Unix seconds.
    pub at: i64,
    /// Request id.
    pub approval_id: Option<i64>,
    /// Job.
    pub job_id: String,
    /// requested | refreshed (a cron mark asked again) | approved | rejected | refused | expired | void | run | verify | interrupted.
    pub event: String,
    /// Who.
    pub actor: Option<String>,
    /// Facts.
    pub detail: Option<String>,
}

const COLS: &str = "id, job_id, digest, argv, cwd, requested_by, requested_via, created_at, expires_at, state, decided_by, decided_at, requested_uid";

fn row(r: &rusqlite::Row) -> rusqlite::Result<ApprovalRow> {
    Ok(ApprovalRow {
        id: r.get(0)?,
        job_id: r.get(1)?,
        digest: r.get(2)?,
        argv: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
        cwd: r.get(4)?,
        requested_by: r.get(5)?,
        requested_via: r.get(6)?,
        created_at: r.get(7)?,
        expires_at: r.get(8)?,
        state: State::parse(&r.get::<_, String>(9)?).unwrap_or(State::Void),
        decided_by: r.get(10)?,
        decided_at: r.get(11)?,
        requested_uid: r.get(12)?,
    })
}

/// Appends to the audit trail.
pub fn audit(store: &mut Store, approval_id: Option<i64>, job_id: &str, event: &str, actor: Option<&str>, detail: &str) -> Result<()> {
    store.write(|tx| audit_tx(tx, approval_id, job_id, event, actor, detail))
}

fn audit_tx(tx: &rusqlite::Transaction, approval_id: Option<i64>, job_id: &str, event: &str, actor: Option<&str>, detail: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO audit(at, approval_id, job_id, event, actor, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![chrono::Utc::now().timestamp(), approval_id, job_id, event, actor, detail],
    )?;
    Ok(())
}

/// Who asks for a run: a Telegram user, a user on the host (by uid), or the job's own schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Requester {
    /// A Telegram user id.
    User(i64),
    /// A host uid.
    Host(u32),
    /// A cron mark of the job's `policy.cron`: nobody's own request, so any approver may decide.
    Schedule,
}

/// Creates a pending request bound to the job's current definition.
///
/// At most one request per write job is open: while one is pending, unexpired and bound to the
/// job's current definition, asking again returns it (`new` false) and creates nothing, so a
/// flood of `/run` neither grows the trail nor reaches the approvers again. A job that needs no
/// approval gets a fresh request each time (each is an explicit run).
pub fn create(store: &mut Store, job: &Job, by: Requester, via: &str, now: i64) -> Result<Requested> {
    let (id, new) = store.write(|tx| {
        if job.approval.required {
            if let Some(id) = open_tx(tx, job, now)? {
                return Ok((id, false));
            }
        }
        Ok((insert_tx(tx, job, by, via, now)?, true))
    })?;
    Ok(Requested { row: get(store, id)?.ok_or_else(|| anyhow!("request vanished"))?, new })
}

/// A cron mark of a write job asks for a run. Never stacked: while a request for the job's
/// current definition is still pending, the mark refreshes it (its expiry moves to a full
/// `expiresSeconds` from now, the trail says which mark) instead of creating another, whether
/// or not the job requires approval: a schedule never runs a write job by itself.
pub fn ask_on_schedule(store: &mut Store, job: &Job, via: &str, now: i64) -> Result<Requested> {
    let (id, new) = store.write(|tx| {
        if let Some(id) = open_tx(tx, job, now)? {
            tx.execute("UPDATE approvals SET expires_at=MAX(expires_at, ?2) WHERE id=?1", params![id, now + job.approval.expires_seconds as i64])?;
            audit_tx(tx, Some(id), &job.id, "refreshed", Some(via), "asked again on schedule while still pending")?;
            return Ok((id, false));
        }
        Ok((insert_tx(tx, job, Requester::Schedule, via, now)?, true))
    })?;
    Ok(Requested { row: get(store, id)?.ok_or_else(|| anyhow!("request vanished"))?, new })
}

/// The oldest pending, unexpired request bound to the job's current definition.
fn open_tx(tx: &rusqlite::Transaction, job: &Job, now: i64) -> Result<Option<i64>> {
    Ok(tx
        .query_row(
            "SELECT id FROM approvals WHERE job_id=?1 AND state='pending' AND expires_at>?2 AND digest=?3 ORDER BY id LIMIT 1",
            params![job.id, now, job.digest],
            |r| r.get(0),
        )
        .optional()?)
}

fn insert_tx(tx: &rusqlite::Transaction, job: &Job, by: Requester, via: &str, now: i64) -> Result<i64> {
    let (requested_by, requested_uid) = match by {
        Requester::User(u) => (Some(u), None),
        Requester::Host(uid) => (None, Some(uid)),
        Requester::Schedule => (None, None),
    };
    let argv = serde_json::to_string(job.commands.run.as_deref().unwrap_or_default())?;
    tx.execute(
        "INSERT INTO approvals(job_id, digest, argv, cwd, requested_by, requested_via, created_at, expires_at, state, requested_uid) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,'pending',?9)",
        params![job.id, job.digest, argv, job.cwd.display().to_string(), requested_by, via, now, now + job.approval.expires_seconds as i64, requested_uid],
    )?;
    let id = tx.last_insert_rowid();
    audit_tx(tx, Some(id), &job.id, "requested", Some(via), &format!("argv {argv}"))?;
    Ok(id)
}

/// A request asked for: the new one, or the one already open for the job.
#[derive(Debug)]
pub struct Requested {
    /// The request.
    pub row: ApprovalRow,
    /// False when it was already open (nobody is asked again).
    pub new: bool,
}

/// One request.
pub fn get(store: &Store, id: i64) -> Result<Option<ApprovalRow>> {
    Ok(store.conn().query_row(&format!("SELECT {COLS} FROM approvals WHERE id=?1"), [id], row).optional()?)
}

/// Requests in `state` (all when None), oldest first.
pub fn list(store: &Store, state: Option<State>) -> Result<Vec<ApprovalRow>> {
    let mut stmt = store.conn().prepare(&format!("SELECT {COLS} FROM approvals WHERE ?1 IS NULL OR state=?1 ORDER BY id"))?;
    let rows = stmt.query_map([state.map(State::as_str)], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The audit trail (optionally of one job), oldest first.
pub fn trail(store: &Store, job: Option<&str>) -> Result<Vec<AuditRow>> {
    let mut stmt = store.conn().prepare("SELECT at, approval_id, job_id, event, actor, detail FROM audit WHERE ?1 IS NULL OR job_id=?1 ORDER BY id")?;
    let rows = stmt.query_map([job], |r| {
        Ok(AuditRow { at: r.get(0)?, approval_id: r.get(1)?, job_id: r.get(2)?, event: r.get(3)?, actor: r.get(4)?, detail: r.get(5)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// True when `actor` was refused on request `id` before (one trail line per refused person).
pub fn refused_before(store: &Store, id: i64, actor: &str) -> Result<bool> {
    let n: i64 =
        store.conn().query_row("SELECT COUNT(*) FROM audit WHERE approval_id=?1 AND event='refused' AND actor=?2", params![id, actor], |r| r.get(0))?;
    Ok(n > 0)
}

/// Atomic compare-and-set of the state: exactly one of several concurrent deciders wins.
pub fn transition(store: &mut Store, id: i64, from: State, to: State, by: Option<&str>, now: i64) -> Result<bool> {
    store.write(|tx| transition_tx(tx, id, from, to, by, now))
}

fn transition_tx(tx: &rusqlite::Transaction, id: i64, from: State, to: State, by: Option<&str>, now: i64) -> Result<bool> {
    let n = tx.execute(
        "UPDATE approvals SET state=?3, decided_by=COALESCE(?4, decided_by), decided_at=COALESCE(?5, decided_at), owner=?6 WHERE id=?1 AND state=?2",
        params![id, from.as_str(), to.as_str(), by, by.map(|_| now), super::owner::token()],
    )?;
    Ok(n == 1)
}

/// Records how an approved run ended and queues what verifies it, in one transaction: a crash
/// or an error in between can never leave a succeeded write with nothing verifying it.
pub fn record_run(store: &mut Store, id: i64, job_id: &str, state: State, detail: &str, follow: &[FollowUp], now: i64) -> Result<()> {
    store.write(|tx| {
        transition_tx(tx, id, State::Running, state, None, now)?;
        audit_tx(tx, Some(id), job_id, "run", None, detail)?;
        super::approval_messages::unsettle_tx(tx, id)?;
        for f in follow {
            super::enqueue(tx, &f.job_id, &f.reason, now, f.not_before)?;
            audit_tx(tx, Some(id), job_id, "verify-queued", None, &format!("{} in {} s", f.job_id, f.delay_seconds))?;
        }
        Ok(())
    })
}

/// Pending requests past expiry become expired (reported by the tick).
pub fn expire_due(store: &mut Store, now: i64) -> Result<Vec<ApprovalRow>> {
    let mut out = Vec::new();
    for r in list(store, Some(State::Pending))?.into_iter().filter(|r| r.expires_at <= now) {
        if transition(store, r.id, State::Pending, State::Expired, None, now)? {
            audit(store, Some(r.id), &r.job_id, "expired", None, "nothing ran")?;
            out.push(r);
        }
    }
    Ok(out)
}

/// Runs in flight when the daemon died: interrupted, outcome unknown, never re-run.
pub fn mark_interrupted(store: &mut Store, now: i64) -> Result<Vec<ApprovalRow>> {
    let mut out = Vec::new();
    for r in list(store, Some(State::Running))? {
        let owner: Option<String> = store.conn().query_row("SELECT owner FROM approvals WHERE id=?1", [r.id], |x| x.get(0))?;
        if super::owner::alive(owner.as_deref()) {
            continue; // another process (a CLI approve) is still running it
        }
        if transition(store, r.id, State::Running, State::Interrupted, None, now)? {
            store.write(|tx| super::approval_messages::unsettle_tx(tx, r.id))?;
            audit(store, Some(r.id), &r.job_id, "interrupted", None, "the daemon stopped during the run: outcome unknown; not re-run")?;
            out.push(r);
        }
    }
    Ok(out)
}
