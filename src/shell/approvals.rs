//! Write-job approvals in the store: requests, atomic single-use decisions, the run, the
//! verification chain, and the audit trail.

use super::jobs::{self, Action};
use super::paths::Paths;
use super::runner::Outcome;
use crate::config::{Config, Job, When};
use crate::policy::approval::{decide as decide_pure, Decider, Refusal, Request, State};
use crate::store::{self, Store};
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

/// The state machine's view of a stored request.
pub fn request_of(r: &ApprovalRow) -> Request {
    Request {
        id: r.id,
        job_id: r.job_id.clone(),
        digest: r.digest.clone(),
        requested_by: r.requested_by,
        requested_uid: r.requested_uid,
        expires_at: r.expires_at,
        state: r.state,
    }
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
    /// requested | approved | rejected | refused | expired | void | run | verify | interrupted.
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

/// The uid of this process: who is acting on the host.
pub fn host_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Who asks for a run: a Telegram user, or a user on the host (by uid).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Requester {
    /// A Telegram user id.
    User(i64),
    /// A host uid.
    Host(u32),
}

/// Creates a pending request bound to the job's current definition.
///
/// At most one request per write job is open: while one is pending, unexpired and bound to the
/// job's current definition, asking again returns it (`new` false) and creates nothing, so a
/// flood of `/run` neither grows the trail nor reaches the approvers again. A job that needs no
/// approval gets a fresh request each time (each is an explicit run).
pub fn create(store: &mut Store, job: &Job, by: Requester, via: &str, now: i64) -> Result<Requested> {
    let (requested_by, requested_uid) = match by {
        Requester::User(u) => (Some(u), None),
        Requester::Host(uid) => (None, Some(uid)),
    };
    let argv = serde_json::to_string(job.commands.run.as_deref().unwrap_or_default())?;
    let (id, new) = store.write(|tx| {
        if job.approval.required {
            let open: Option<i64> = tx
                .query_row(
                    "SELECT id FROM approvals WHERE job_id=?1 AND state='pending' AND expires_at>?2 AND digest=?3 ORDER BY id LIMIT 1",
                    params![job.id, now, job.digest],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = open {
                return Ok((id, false));
            }
        }
        tx.execute(
            "INSERT INTO approvals(job_id, digest, argv, cwd, requested_by, requested_via, created_at, expires_at, state, requested_uid) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,'pending',?9)",
            params![job.id, job.digest, argv, job.cwd.display().to_string(), requested_by, via, now, now + job.approval.expires_seconds as i64, requested_uid],
        )?;
        let id = tx.last_insert_rowid();
        audit_tx(tx, Some(id), &job.id, "requested", Some(via), &format!("argv {argv}"))?;
        Ok((id, true))
    })?;
    Ok(Requested { row: get(store, id)?.ok_or_else(|| anyhow!("request vanished"))?, new })
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

fn refused_before(store: &Store, id: i64, actor: &str) -> Result<bool> {
    let n: i64 =
        store.conn().query_row("SELECT COUNT(*) FROM audit WHERE approval_id=?1 AND event='refused' AND actor=?2", params![id, actor], |r| r.get(0))?;
    Ok(n > 0)
}

/// Atomic compare-and-set of the state: exactly one of several concurrent deciders wins.
fn transition(store: &mut Store, id: i64, from: State, to: State, by: Option<&str>, now: i64) -> Result<bool> {
    store.write(|tx| transition_tx(tx, id, from, to, by, now))
}

fn transition_tx(tx: &rusqlite::Transaction, id: i64, from: State, to: State, by: Option<&str>, now: i64) -> Result<bool> {
    let n = tx.execute(
        "UPDATE approvals SET state=?3, decided_by=COALESCE(?4, decided_by), decided_at=COALESCE(?5, decided_at), owner=?6 WHERE id=?1 AND state=?2",
        params![id, from.as_str(), to.as_str(), by, by.map(|_| now), crate::store::owner::token()],
    )?;
    Ok(n == 1)
}

/// What a decision led to.
#[derive(Debug)]
pub enum Decided {
    /// Refused; nothing ran.
    Refused(Refusal),
    /// Rejected; nothing ran.
    Rejected,
    /// Approved and run once; the verification jobs queued.
    Ran { outcome: Outcome, queued: Vec<String> },
}

/// Applies a decision: checks it (pure), claims the request atomically, runs the job once,
/// queues its `after` jobs, and records every step in the audit trail.
pub async fn decide(paths: &Paths, cfg: &Config, id: i64, who: Decider, actor: &str, approve: bool, approvers: &[i64]) -> Result<(ApprovalRow, Decided)> {
    let mut store = Store::open(&paths.state_db)?;
    let req = get(&store, id)?.ok_or_else(|| anyhow!("no approval request #{id}"))?;
    let now = chrono::Utc::now().timestamp();
    let job = cfg.job(&req.job_id);
    let to = match decide_pure(&request_of(&req), job, who, approvers, approve, now) {
        Ok(s) => s,
        Err(r) => {
            let final_state = match r {
                Refusal::Expired => Some(State::Expired),
                Refusal::JobChanged | Refusal::JobGone => Some(State::Void),
                _ => None,
            };
            if let Some(s) = final_state {
                transition(&mut store, id, State::Pending, s, None, now)?;
            }
            // A non-approver pressing again and again leaves one line in the trail, not one each.
            if r != Refusal::NotApprover || !refused_before(&store, id, actor)? {
                audit(&mut store, Some(id), &req.job_id, "refused", Some(actor), &r.to_string())?;
            }
            return Ok((req, Decided::Refused(r)));
        }
    };
    if !transition(&mut store, id, State::Pending, to, Some(actor), now)? {
        let cur = get(&store, id)?.map_or(State::Void, |r| r.state);
        audit(&mut store, Some(id), &req.job_id, "refused", Some(actor), "already decided")?;
        return Ok((req, Decided::Refused(Refusal::NotPending(cur.as_str()))));
    }
    if to == State::Rejected {
        audit(&mut store, Some(id), &req.job_id, "rejected", Some(actor), "nothing ran")?;
        return Ok((get(&store, id)?.unwrap_or(req), Decided::Rejected));
    }
    audit(&mut store, Some(id), &req.job_id, "approved", Some(actor), "running once")?;
    let job = job.expect("checked by decide").clone();
    let outcome = jobs::execute(&job, Action::Run, paths, &format!("approval:{id}")).await?;
    let queued = finish(&mut store, &req, &job, &outcome)?;
    Ok((get(&store, id)?.unwrap_or(req), Decided::Ran { outcome, queued }))
}

/// Records the run's end and queues what follows it in one transaction: a crash or an error in
/// between can never leave a succeeded write with nothing verifying it. If this fails, the
/// request stays "running" and the next daemon start reports it interrupted, offering the
/// verification.
fn finish(store: &mut Store, req: &ApprovalRow, job: &Job, o: &Outcome) -> Result<Vec<String>> {
    let now = chrono::Utc::now().timestamp();
    let (state, when) = if o.success() { (State::Succeeded, When::Success) } else { (State::Failed, When::Failure) };
    // One transaction: the outcome and its verification queue items land together.
    let follow = crate::policy::check::follow_ups(job, when, now, Some(req.id));
    store.write(|tx| {
        transition_tx(tx, req.id, State::Running, state, None, now)?;
        audit_tx(tx, Some(req.id), &job.id, "run", None, &format!("{} in {} ms", o.summary(), o.duration_ms))?;
        for f in &follow {
            store::enqueue(tx, &f.job_id, &f.reason, now, f.not_before)?;
            audit_tx(tx, Some(req.id), &job.id, "verify-queued", None, &format!("{} in {} s", f.job_id, f.delay_seconds))?;
        }
        Ok(())
    })?;
    Ok(follow.into_iter().map(|f| f.job_id).collect())
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
        if crate::store::owner::alive(owner.as_deref()) {
            continue; // another process (a CLI approve) is still running it
        }
        if transition(store, r.id, State::Running, State::Interrupted, None, now)? {
            audit(store, Some(r.id), &r.job_id, "interrupted", None, "the daemon stopped during the run: outcome unknown; not re-run")?;
            out.push(r);
        }
    }
    Ok(out)
}
