//! Host-side approval commands: request (`run <write job>`), `pending`, `approve`, `reject`, `audit`.

use super::common::load;
use super::Exit;
use crate::config::{Config, Job};
use crate::engine::approval_flow::{self, Decided};
use crate::engine::paths::Paths;
use crate::policy::approval::Decider;
use crate::render::approval_text;
use crate::store::Store;
use crate::t;
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

/// `run <write job>`: creates a request, or shows the one already open (or, with
/// `approval.required: false`, runs it now).
pub async fn request(paths: &Paths, job: &Job, cfg: &Config) -> Result<i32> {
    let lang = cfg.locale;
    if !job.enabled {
        return Err(super::Exit::usage(t!(lang, "cli-request-disabled", id = &job.id)));
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
        say!("{}", t!(lang, "cli-approval-not-required", id = &job.id));
        return decide(paths, r.id, true).await;
    }
    let head = if asked.new { t!(lang, "cli-approval-created") } else { t!(lang, "approval-already-open") };
    say!("{head}\n{}", approval_text::request(&r, Some(job), &cfg.host, cfg.timezone, lang));
    say!("{}", t!(lang, "cli-approval-how", id = r.id));
    Ok(0)
}

/// `pending`.
pub fn pending(paths: &Paths) -> Result<i32> {
    let cfg = load(paths)?;
    let rows = approval_flow::list(&Store::open(&paths.state_db)?, Some(crate::policy::approval::State::Pending))?;
    if rows.is_empty() {
        say!("{}", t!(cfg.locale, "cli-no-pending"));
    }
    for r in rows {
        say!("{}\n", approval_text::request(&r, cfg.job(&r.job_id), &cfg.host, cfg.timezone, cfg.locale));
    }
    Ok(0)
}

/// `approve <id>` / `reject <id>`.
pub async fn decide(paths: &Paths, id: i64, approve: bool) -> Result<i32> {
    let cfg = load(paths)?;
    let lang = cfg.locale;
    if approval_flow::get(&Store::open(&paths.state_db)?, id)?.is_none() {
        return Err(Exit::usage(t!(lang, "cli-approval-unknown", id = id)));
    }
    let (row, decided) = approval_flow::decide(paths, &cfg, id, Decider::Host(approval_flow::host_uid()), &actor(), approve, &[]).await?;
    match decided {
        // Nothing ran and asking again will not change that: a usage-class exit (2).
        Decided::Refused(r) => Err(Exit::usage(t!(lang, "cli-approval-refused", id = id, job = &row.job_id, reason = approval_text::refusal(&r, lang)))),
        Decided::Rejected => {
            say!("{}", t!(lang, "approval-result-rejected", id = id, host = &cfg.host, job = &row.job_id));
            Ok(0)
        }
        Decided::Ran { outcome, queued } => {
            // The same words as the requesting chat's report.
            say!("{}", approval_text::ran(&row, &cfg.host, &outcome, &queued, lang));
            if outcome.success() {
                Ok(0)
            } else {
                let word = crate::render::acted_text::action_word(crate::policy::press::JobPress::Run, lang);
                Err(Exit {
                    code: super::EXIT_FAILED,
                    msg: t!(lang, "action-failed", action = &word, id = &row.job_id, error = crate::render::outcome_summary(&outcome, lang)),
                }
                .into())
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
        let lang = cfg.as_ref().map_or_else(Default::default, |c| c.locale);
        say!("{}", job.map_or_else(|| t!(lang, "cli-no-audit"), |j| t!(lang, "cli-no-audit-for", job = j)));
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
