//! A job whose tick fails before it can observe anything (its state database cannot be opened
//! for lack of file descriptors, a resource limit, a failing disk) is not watched until a tick
//! succeeds again: that is reported, once when it begins, not only logged.

use crate::config::Job;
use crate::policy::failure::{Failure, FailureKind};
use crate::policy::report::{Anomaly, Section};
use crate::render::Report;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The jobs whose last tick failed (each was reported when its failures began).
#[derive(Clone, Default)]
pub struct Unwatched(Arc<Mutex<HashSet<String>>>);

impl Unwatched {
    /// The job's tick failed: the report to send, the first time in a row only.
    pub fn failed(&self, job: &Job, error: &anyhow::Error) -> Option<Report> {
        let new = self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(job.id.clone());
        new.then(|| report(job, error))
    }

    /// The job's tick succeeded: a later failure is reported again.
    pub fn watched(&self, id: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
}

/// Errors of a limit of the host or the service rather than of the job (EAGAIN, ENOMEM,
/// ENFILE, EMFILE).
const LIMIT_ERRNOS: [i32; 4] = [11, 12, 23, 24];

fn report(job: &Job, error: &anyhow::Error) -> Report {
    let limit = error.chain().filter_map(|c| c.downcast_ref::<std::io::Error>()).any(|e| e.raw_os_error().is_some_and(|n| LIMIT_ERRNOS.contains(&n)));
    let hint = if limit { "a resource limit was hit: raise the service's open-file limit (LimitNOFILE) or process limit; " } else { "" };
    let reason = crate::engine::secrets::mask(&format!("not watched: its tick failed: {error:#} ({hint}tried again every tick)"));
    let mut s = Section::for_job(job);
    s.anomaly = Some(Anomaly::InvalidStatus { failure: Failure::new(FailureKind::Unwatched, reason) });
    Report { at: Some(chrono::Utc::now()), sections: vec![s], digest: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        let cfg = serde_json::json!({"version": 1, "jobs": [{"id": "j", "kind": "long_running_read", "risk": "read_only", "enabled": true,
            "commands": {"start": ["true"], "status": ["true"]}}]});
        crate::config::parse(&cfg.to_string(), std::path::Path::new("/tmp/c.json"), std::path::Path::new("/tmp")).unwrap().jobs.remove(0)
    }

    fn emfile() -> anyhow::Error {
        anyhow::Error::from(std::io::Error::from_raw_os_error(24)).context("create state database /x/s.db")
    }

    #[test]
    fn reported_once_while_the_ticks_keep_failing_and_again_after_one_succeeded() {
        let (u, j) = (Unwatched::default(), job());
        let first = u.failed(&j, &emfile()).expect("the first failure is reported");
        let Some(Anomaly::InvalidStatus { failure }) = &first.sections[0].anomaly else { panic!("{first:?}") };
        assert!(failure.reason.contains("not watched") && failure.reason.contains("s.db") && failure.reason.contains("LimitNOFILE"), "{}", failure.reason);
        assert!(u.failed(&j, &emfile()).is_none(), "said once while it lasts");
        u.watched("j");
        let other = u.failed(&j, &anyhow::anyhow!("disk I/O error")).expect("a new episode is reported");
        let Some(Anomaly::InvalidStatus { failure }) = &other.sections[0].anomaly else { panic!("{other:?}") };
        assert!(!failure.reason.contains("LimitNOFILE"), "no limit named for another error: {}", failure.reason);
    }
}
