//! Write-job approvals as a flow: a decision checked by the state machine, claimed atomically,
//! run once, its verification queued, every step in the audit trail (rows in `store::approval_rows`).

use super::jobs::{self, Action};
use super::paths::Paths;
use super::runner::Outcome;
use crate::config::{Config, Job, When};
use crate::policy::approval::{decide as decide_pure, Decider, Refusal, Request, State};
use crate::store::approval_rows::{self, refused_before, transition};
use crate::store::Store;
use anyhow::{anyhow, Result};

pub use crate::store::approval_rows::{
    ask_on_schedule, audit, create, expire_due, get, list, mark_interrupted, trail, ApprovalRow, AuditRow, Requested, Requester,
};

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

/// The uid of this process: who is acting on the host.
pub fn host_uid() -> u32 {
    rustix::process::getuid().as_raw()
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
    let detail = format!("{} in {} ms", o.summary(), o.duration_ms);
    approval_rows::record_run(store, req.id, &job.id, state, &detail, &follow, now)?;
    Ok(follow.into_iter().map(|f| f.job_id).collect())
}
