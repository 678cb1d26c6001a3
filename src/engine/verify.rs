//! Verification runs after an approved write: always reported, recorded in the audit trail.

use super::approval_flow;
use crate::config::Job;
use crate::policy::check::{tail_chars, CheckResult};
use crate::policy::report::{Note, Section};
use crate::store::Store;
use anyhow::Result;

/// The section for a verification result (success included), with the audit entry written; and
/// the check's own section when that one edits an earlier alert of the check ("recovered"): it
/// goes out too, and the verification is told on its own (it was lost in that edit).
pub fn section(store: &mut Store, job: &Job, approval_id: i64, r: &CheckResult, policy_section: Option<Section>) -> Result<(Section, Option<Section>)> {
    let ok = crate::policy::check::failure(r).is_none();
    let verdict = if ok { "ok" } else { "FAILED" };
    let approval = approval_flow::get(store, approval_id)?;
    let after_failure = approval.as_ref().is_some_and(|a| a.state == crate::policy::approval::State::Failed);
    let job_of = approval.map(|a| a.job_id).unwrap_or_else(|| job.id.clone());
    approval_flow::audit(store, Some(approval_id), &job_of, "verify", Some(&job.id), &format!("{verdict}: {}", r.summary))?;
    let (own, amend) = match policy_section {
        Some(p) if p.amends.is_some() => (None, Some(p)),
        p => (p, None),
    };
    let mut s = own.unwrap_or_else(|| {
        let mut s = Section::for_job(job);
        s.notes.push(Note::Outcome(r.summary.clone()));
        if !r.output.trim().is_empty() {
            s.notes.push(Note::Output(tail_chars(&r.output, 800)));
        }
        s
    });
    s.notes.insert(0, Note::Verification { approval_id, ok, after_failure });
    // A person approved the run this verifies and got its reply: a passing verification is
    // told without sound (a failing one rings, and so does what follows a write that failed).
    if ok && !after_failure {
        s.loud = false;
    }
    Ok((s, amend))
}

/// Sections for requests that expired (nothing ran).
pub fn expired_sections(store: &mut Store, cfg: &crate::config::Config, now: i64) -> Result<Vec<Section>> {
    Ok(approval_flow::expire_due(store, now)?
        .into_iter()
        .map(|r| {
            let mut s = cfg.job(&r.job_id).map_or_else(|| Section::system(&r.job_id, &r.job_id), Section::for_job);
            s.notes.push(Note::Expired { approval_id: r.id });
            s
        })
        .collect())
}

/// Sections for write runs interrupted by a daemon stop (repair pass), with their verify jobs.
pub fn interrupted_sections(store: &mut Store, cfg: &crate::config::Config, now: i64) -> Result<Vec<Section>> {
    Ok(approval_flow::mark_interrupted(store, now)?
        .into_iter()
        .map(|r| {
            let job = cfg.job(&r.job_id);
            let verify = job.map(|j| j.after.iter().filter(|a| a.when == crate::config::When::Success).map(|a| a.job_id.clone()).collect()).unwrap_or_default();
            let mut s = job.map_or_else(|| Section::system(&r.job_id, &r.job_id), Section::for_job);
            s.notes.push(Note::Interrupted { approval_id: r.id, verify });
            s
        })
        .collect())
}
