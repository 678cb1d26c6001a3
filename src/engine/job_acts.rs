//! A person's start, stop and run of a job, one function each, called alike by the chat
//! (`chat/command_acts.rs`) and the CLI (`cli/job_cmds.rs`): each returns the typed
//! [`Acted`] that `render::acted_text` words for both.

use super::jobs::{self, Action, Started, Stopped};
use super::paths::Paths;
use crate::config::Job;
use crate::policy::acted::Acted;
use crate::policy::report::Section;
use anyhow::Result;

/// Starts a long job, unless it runs already or was started moments ago (`force` skips both).
pub async fn start(job: &Job, paths: &Paths, origin: &str, force: bool) -> Result<Acted> {
    Ok(match jobs::start(job, paths, origin, force).await? {
        Started::Ran(o) => Acted::Started(o),
        Started::AlreadyRunning(pid) => Acted::AlreadyRunning { pid },
        Started::JustStarted(seconds) => Acted::JustStarted { seconds },
    })
}

/// Stops a long job on purpose: `commands.stop`, else SIGTERM to its process group.
pub async fn stop(job: &Job, paths: &Paths, origin: &str) -> Result<Acted> {
    Ok(match jobs::stop(job, paths, origin).await? {
        Stopped::Command(o) => Acted::StoppedByCommand(o),
        Stopped::Signalled { pgid, pid } => Acted::Signalled { pgid, pid },
    })
}

/// Runs a one-shot job once and queues its `after` jobs; a check that exits 0 with an ALERT
/// line is failing, as on its schedule. With it, when a failing check passes again, the section
/// that amends its alert's copies (each chat's alert says so).
pub async fn run(job: &Job, paths: &Paths, origin: &str) -> Result<(Acted, Option<Section>)> {
    let (outcome, queued, amends) = jobs::run_once(job, paths, origin).await?;
    let failing = jobs::check_failure(&outcome).filter(|_| outcome.success());
    Ok((Acted::Ran { outcome, failing, queued }, amends))
}

/// `action` on `job` by a person (a chat's start is never forced), and what it amends ([`run`]).
pub async fn perform(job: &Job, action: Action, paths: &Paths, origin: &str, force: bool) -> Result<(Acted, Option<Section>)> {
    match action {
        Action::Start => Ok((start(job, paths, origin, force).await?, None)),
        Action::Stop => Ok((stop(job, paths, origin).await?, None)),
        Action::Run => run(job, paths, origin).await,
    }
}
