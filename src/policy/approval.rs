//! The approval state machine for write jobs: pure checks of a decision against the request,
//! the job's current definition, the approver list and `now`.

use crate::config::Job;

/// Where a request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for a decision.
    Pending,
    /// Approved; the run is in flight.
    Running,
    /// The run exited 0.
    Succeeded,
    /// The run failed.
    Failed,
    /// Rejected by a person.
    Rejected,
    /// Nobody decided in time.
    Expired,
    /// The job changed or disappeared before approval.
    Void,
    /// The daemon died during the run: outcome unknown, never re-run.
    Interrupted,
}

impl State {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Running => "running",
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::Rejected => "rejected",
            State::Expired => "expired",
            State::Void => "void",
            State::Interrupted => "interrupted",
        }
    }
    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<State> {
        [State::Pending, State::Running, State::Succeeded, State::Failed, State::Rejected, State::Expired, State::Void, State::Interrupted]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A request as the state machine sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Request id.
    pub id: i64,
    /// The write job.
    pub job_id: String,
    /// Digest of the job's definition when requested.
    pub digest: String,
    /// Telegram user id of the requester (None: the host).
    pub requested_by: Option<i64>,
    /// Host user (uid) of the requester (None: a chat, or a request older than this field).
    pub requested_uid: Option<u32>,
    /// Unix seconds.
    pub expires_at: i64,
    /// Current state.
    pub state: State,
}

/// Who decides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decider {
    /// A Telegram user (checked against the approvers).
    User(i64),
    /// The local operator on the host (`ops-monitor approve`), by uid.
    Host(u32),
}

/// Why a decision is refused (nothing runs).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// Already decided, running or finished.
    #[error("{}", not_pending(.0))]
    NotPending(&'static str),
    /// Past its expiry.
    #[error("this request has expired")]
    Expired,
    /// The presser is not an approver.
    #[error("you are not an approver of write jobs")]
    NotApprover,
    /// distinctApprover forbids approving one's own request.
    #[error("the job requires a different person to approve than the one who asked")]
    OwnRequest,
    /// The job's definition changed since the request.
    #[error("the job's definition changed since the request; ask again")]
    JobChanged,
    /// The job is gone from the config.
    #[error("the job is no longer in the config")]
    JobGone,
    /// The job is disabled (`enabled: false`): it may not run, approved or not.
    #[error("the job is disabled (enabled: false in the config)")]
    JobDisabled,
}

/// Why a request that is no longer pending cannot be decided, in words (CLI and logs; the chat
/// has the same in its own language: `refuse-not-pending`).
fn not_pending(state: &str) -> String {
    match state {
        "running" => "this request is running now".into(),
        "succeeded" => "this request already ran (succeeded)".into(),
        "failed" => "this request already ran (failed)".into(),
        "rejected" => "this request was rejected".into(),
        "expired" => "this request has expired".into(),
        "void" => "this request is void (its job changed or was turned off)".into(),
        "interrupted" => "this request was interrupted".into(),
        other => format!("this request is already {other}"),
    }
}

/// Checks an Approve (or Reject, with `approve = false`) and returns the state to move to.
pub fn decide(req: &Request, job: Option<&Job>, who: Decider, approvers: &[i64], approve: bool, now: i64) -> Result<State, Refusal> {
    if req.state != State::Pending {
        return Err(Refusal::NotPending(req.state.as_str()));
    }
    if let Decider::User(u) = who {
        if !approvers.contains(&u) {
            return Err(Refusal::NotApprover);
        }
    }
    if now >= req.expires_at {
        return Err(Refusal::Expired);
    }
    if !approve {
        return Ok(State::Rejected);
    }
    let Some(job) = job else {
        return Err(Refusal::JobGone);
    };
    if !job.enabled {
        return Err(Refusal::JobDisabled);
    }
    if job.digest != req.digest {
        return Err(Refusal::JobChanged);
    }
    // The same person on the same side (chat user, or host uid) may not approve their own
    // request; without a required approval (explicit /run only) there is nobody to distinguish.
    let own = match who {
        Decider::User(u) => req.requested_by == Some(u),
        Decider::Host(uid) => req.requested_uid == Some(uid),
    };
    if job.approval.required && job.approval.distinct_approver && own {
        return Err(Refusal::OwnRequest);
    }
    Ok(State::Running)
}

/// Approvers: `telegram.approverUserIds`, else the positive ids of the allowlist (private chats).
pub fn approvers(configured: &[i64], allowlist: &[i64]) -> Vec<i64> {
    if configured.is_empty() {
        allowlist.iter().copied().filter(|id| *id > 0).collect()
    } else {
        configured.to_vec()
    }
}

/// Whether `user` may start, stop or run jobs (or request a write run) from a chat: anyone in an
/// allowed chat when no `operators` are configured, else the operators and the `approvers`.
pub fn may_operate(user: Option<i64>, operators: &[i64], approvers: &[i64]) -> bool {
    operators.is_empty() || user.is_some_and(|u| operators.contains(&u) || approvers.contains(&u))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    #[test]
    fn operators_limit_who_acts_only_when_configured_and_approvers_always_may() {
        assert!(may_operate(Some(5), &[], &[1]), "no operators: anyone in an allowed chat");
        assert!(may_operate(None, &[], &[]));
        assert!(may_operate(Some(2), &[2], &[1]));
        assert!(may_operate(Some(1), &[2], &[1]), "an approver may act too");
        assert!(!may_operate(Some(5), &[2], &[1]));
        assert!(!may_operate(None, &[2], &[1]), "a message without a sender is nobody");
    }
    use std::path::Path;

    fn job(distinct: bool, argv: &str) -> Job {
        let text = format!(
            r#"{{"version":1,"jobs":[{{"id":"w","kind":"one_shot_write","risk":"write_local","enabled":true,"commands":{{"run":["{argv}"]}},
               "approval":{{"distinctApprover":{distinct}}},"after":[{{"jobId":"v"}}]}},
               {{"id":"v","kind":"one_shot_read","risk":"read_only","commands":{{"run":["true"]}}}}]}}"#
        );
        parse(&text, Path::new("/c.json"), Path::new("/")).unwrap().jobs.remove(0)
    }

    fn req(j: &Job) -> Request {
        Request { id: 1, job_id: "w".into(), digest: j.digest.clone(), requested_by: Some(10), requested_uid: None, expires_at: 1000, state: State::Pending }
    }

    #[test]
    fn decision_table() {
        let j = job(false, "a");
        let r = req(&j);
        let approvers = [10, 20];
        assert_eq!(decide(&r, Some(&j), Decider::User(20), &approvers, true, 500), Ok(State::Running));
        assert_eq!(decide(&r, Some(&j), Decider::User(10), &approvers, true, 500), Ok(State::Running), "own request allowed by default");
        assert_eq!(decide(&r, Some(&j), Decider::User(20), &approvers, false, 500), Ok(State::Rejected));
        assert_eq!(decide(&r, Some(&j), Decider::Host(1000), &[], true, 500), Ok(State::Running));
        assert_eq!(decide(&r, Some(&j), Decider::User(30), &approvers, true, 500), Err(Refusal::NotApprover));
        assert_eq!(decide(&r, Some(&j), Decider::User(30), &approvers, false, 500), Err(Refusal::NotApprover), "nor reject");
        assert_eq!(decide(&r, Some(&j), Decider::User(20), &approvers, true, 1000), Err(Refusal::Expired));
        assert_eq!(decide(&r, None, Decider::User(20), &approvers, true, 500), Err(Refusal::JobGone));
        let off = Job { enabled: false, ..j.clone() };
        assert_eq!(decide(&r, Some(&off), Decider::User(20), &approvers, true, 500), Err(Refusal::JobDisabled));
        assert_eq!(decide(&r, Some(&off), Decider::User(20), &approvers, false, 500), Ok(State::Rejected), "a disabled job's request can still be rejected");
        assert_eq!(decide(&r, Some(&job(false, "b")), Decider::User(20), &approvers, true, 500), Err(Refusal::JobChanged));
        let used = Request { state: State::Running, ..r.clone() };
        assert_eq!(decide(&used, Some(&j), Decider::User(20), &approvers, true, 500), Err(Refusal::NotPending("running")));
        let jd = job(true, "a");
        let rd = req(&jd);
        assert_eq!(decide(&rd, Some(&jd), Decider::User(10), &approvers, true, 500), Err(Refusal::OwnRequest));
        assert_eq!(decide(&rd, Some(&jd), Decider::User(20), &approvers, true, 500), Ok(State::Running));
        let host = Request { requested_by: None, requested_uid: Some(1000), ..rd.clone() };
        assert_eq!(decide(&host, Some(&jd), Decider::Host(1000), &[], true, 500), Err(Refusal::OwnRequest), "same host user");
        assert_eq!(decide(&host, Some(&jd), Decider::Host(1001), &[], true, 500), Ok(State::Running), "another host user");
        assert_eq!(decide(&host, Some(&jd), Decider::User(20), &approvers, true, 500), Ok(State::Running), "an approver in the chat");
    }

    #[test]
    fn default_approvers_are_the_private_chats_of_the_allowlist() {
        assert_eq!(approvers(&[], &[5, -100123, 7]), vec![5, 7]);
        assert_eq!(approvers(&[9], &[5]), vec![9]);
    }
}
