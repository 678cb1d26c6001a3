//! Host-side approval commands: request (`run <write job>`), `pending`, `approve`, `reject`, `audit`.

use super::common::{load, print_outcome};
use super::Exit;
use crate::config::Job;
use crate::engine::approval_flow::{self, ApprovalRow, Decided};
use crate::engine::paths::Paths;
use crate::policy::approval::Decider;
use crate::store::Store;
use anyhow::Result;

/// The host user as recorded in the trail: login name and uid (the uid is what counts).
fn actor() -> String {
    let uid = approval_flow::host_uid();
    let login = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).ok().or_else(|| login_of(uid)).unwrap_or_else(|| "local".into());
    format!("host:{login} (uid {uid})")
}

/// The name /etc/passwd gives `uid` (a service or `sudo -i` shell may have no $USER); the uid
/// beside it is what the approval rules compare.
fn login_of(uid: u32) -> Option<String> {
    std::fs::read_to_string("/etc/passwd").ok()?.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        f.next()?;
        (f.next()?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}

/// A timestamp in the config's timezone (UTC when the config cannot be read).
fn fmt_time(t: i64, tz: chrono_tz::Tz) -> String {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z").to_string()).unwrap_or_default()
}

/// One request as text (also what approvers see).
pub fn describe(r: &ApprovalRow, job: Option<&Job>, tz: chrono_tz::Tz) -> String {
    let verify: Vec<String> =
        job.map(|j| j.after.iter().map(|a| format!("{} ({}, after {} s)", a.job_id, a.when.as_str(), a.delay_seconds)).collect()).unwrap_or_default();
    format!(
        "#{id} {name} ({job_id}), risk {risk}\n  argv: {argv:?}\n  cwd: {cwd}\n  then: {verify}\n  asked by {via} at {at}; expires {exp}; state {state}",
        id = r.id,
        name = job.map_or(r.job_id.as_str(), |j| j.name.as_str()),
        job_id = r.job_id,
        risk = job.map_or("?", |j| j.risk.as_str()),
        argv = r.argv,
        cwd = r.cwd,
        verify = if verify.is_empty() { "-".into() } else { verify.join(", ") },
        via = r.requested_via,
        at = fmt_time(r.created_at, tz),
        exp = fmt_time(r.expires_at, tz),
        state = r.state.as_str(),
    )
}

/// `run <write job>`: creates a request, or shows the one already open (or, with
/// `approval.required: false`, runs it now).
pub async fn request(paths: &Paths, job: &Job, tz: chrono_tz::Tz) -> Result<i32> {
    if !job.enabled {
        return Err(super::Exit::usage(format!("job {} is disabled (enabled: false in the config): nothing was requested; enable it to run it", job.id)));
    }
    let mut store = Store::open(&paths.state_db)?;
    let asked = approval_flow::create(
        &mut store,
        job,
        approval_flow::Requester::Host(approval_flow::host_uid()),
        &format!("cli {}", actor()),
        chrono::Utc::now().timestamp(),
    )?;
    let r = asked.row;
    if !job.approval.required {
        say!("approval.required is false: running {} now (explicit request)", job.id);
        return decide(paths, r.id, true).await;
    }
    let head = if asked.new { "approval request created" } else { "a request for this job is already open (nobody was asked again)" };
    say!("{head}:\n{}", describe(&r, Some(job), tz));
    say!("approve with `ops-monitor approve {}` or the Approve button in Telegram", r.id);
    Ok(0)
}

/// `pending`.
pub fn pending(paths: &Paths) -> Result<i32> {
    let cfg = load(paths)?;
    let rows = approval_flow::list(&Store::open(&paths.state_db)?, Some(crate::policy::approval::State::Pending))?;
    if rows.is_empty() {
        say!("no open requests");
    }
    for r in rows {
        say!("{}", describe(&r, cfg.job(&r.job_id), cfg.timezone));
    }
    Ok(0)
}

/// `approve <id>` / `reject <id>`.
pub async fn decide(paths: &Paths, id: i64, approve: bool) -> Result<i32> {
    let cfg = load(paths)?;
    if approval_flow::get(&Store::open(&paths.state_db)?, id)?.is_none() {
        return Err(Exit::usage(format!("no approval request #{id} (see `ops-monitor pending` or `audit`)")));
    }
    let (row, decided) = approval_flow::decide(paths, &cfg, id, Decider::Host(approval_flow::host_uid()), &actor(), approve, &[]).await?;
    match decided {
        // Nothing ran and asking again will not change that: a usage-class exit (2).
        Decided::Refused(r) => Err(Exit::usage(format!("request #{id} ({}): refused: {r}", row.job_id))),
        Decided::Rejected => {
            say!("request #{id} ({}) rejected; nothing ran", row.job_id);
            Ok(0)
        }
        Decided::Ran { outcome, queued } => {
            print_outcome(&format!("run {} (request #{id})", row.job_id), &outcome);
            for q in &queued {
                say!("verification queued: {q} (runs on the next tick)");
            }
            if outcome.success() {
                Ok(0)
            } else {
                Err(anyhow::anyhow!("run {} failed: {}", row.job_id, outcome.summary()))
            }
        }
    }
}

/// `audit [--job J]`.
pub fn audit(paths: &Paths, job: Option<&str>) -> Result<i32> {
    let cfg = crate::config::load(&paths.config, &paths.home).ok();
    let tz = cfg.as_ref().map_or(chrono_tz::UTC, |c| c.timezone);
    let trail = approval_flow::trail(&Store::open(&paths.state_db)?, job)?;
    if trail.is_empty() {
        // A job the config does not know and the trail never saw is a typo (exit 2, as for
        // run/start); a job removed from the config keeps its history.
        if let (Some(id), Some(c)) = (job, &cfg) {
            if c.job(id).is_none() {
                return Err(Exit::usage(format!("unknown job {id:?}")));
            }
        }
        say!("no audit entries{}", job.map(|j| format!(" for {j}")).unwrap_or_default());
        return Ok(0);
    }
    for a in trail {
        say!(
            "{} #{} {} {}{}{}",
            fmt_time(a.at, tz),
            a.approval_id.map_or("-".into(), |i| i.to_string()),
            a.job_id,
            a.event,
            a.actor.map(|x| format!(" by {x}")).unwrap_or_default(),
            a.detail.map(|d| format!(": {d}")).unwrap_or_default()
        );
    }
    Ok(0)
}
