//! The subcommands' bodies.

use super::common::{find, load, print_outcome};
use super::{Cli, Command, Exit};
use crate::config;
use crate::engine::jobs::{self, Action};
use crate::engine::paths::Paths;
use crate::engine::sink::{ConsoleSink, Sink};
use crate::engine::tick::{self, TickOptions};
use crate::store::Store;
use anyhow::{Context, Result};
use serde_json::{json, Value};

/// Runs the chosen subcommand; Ok(code) is the exit code.
pub async fn dispatch(cli: Cli) -> Result<i32> {
    let paths = Paths::resolve(cli.config_file.as_deref(), cli.state_file.as_deref());
    match cli.command {
        Command::ValidateConfig => validate(&paths),
        Command::Status { job, json } => status(&paths, job.as_deref(), json).await,
        Command::Tick { print_only, dry_run } => run_tick(&paths, print_only, dry_run).await,
        Command::Start { job, allow_risk, force } => start(&paths, &job, allow_risk, force).await,
        Command::Stop { job } => {
            let cfg = load(&paths)?;
            let job = find(&cfg, &job)?;
            jobs::check_explicit(job, Action::Stop, false).map_err(|e| Exit::usage(e.to_string()))?;
            match jobs::stop(job, &paths, "cli").await? {
                // Like `start`: the stop command's own output follows its summary.
                jobs::Stopped::Command(o) => print_outcome(&format!("stop {}", job.id), &o),
                signalled => say!("{}", signalled.describe(&job.id)),
            }
            Ok(0)
        }
        Command::Run { job } => run(&paths, &job).await,
        Command::Chart { job, out } => chart(&paths, &job, out).await,
        Command::Pending => super::approve_cmd::pending(&paths),
        Command::Approve { id } => super::approve_cmd::decide(&paths, id, true).await,
        Command::Reject { id } => super::approve_cmd::decide(&paths, id, false).await,
        Command::Audit { job } => super::approve_cmd::audit(&paths, job.as_deref()),
        Command::Doctor { send_test } => super::doctor::run(&paths, send_test).await,
        Command::Selftest => super::selftest::run().await,
        Command::Report(args) => super::report_cmd::run(&args),
        Command::SelftestProbe { file, set } => super::selftest_lab::probe(&file, set.as_deref()),
        Command::Serve { console } => {
            load(&paths)?;
            crate::daemon::serve(paths, console).await?;
            Ok(0)
        }
        Command::Setup { wait, chat_id, force } => {
            let opts = super::setup::Options { wait, chat_id, force, explicit_config: cli.config_file.is_some() };
            super::setup::run(&paths, &opts).await
        }
    }
}

fn validate(paths: &Paths) -> Result<i32> {
    let cfg = load(paths)?;
    for w in &cfg.warnings {
        eprintln!("WARNING: {w}");
    }
    say!("OK: {} version=1 jobs={} timezone={} tickSeconds={}", cfg.path.display(), cfg.jobs.len(), cfg.timezone, cfg.tick_seconds);
    // Jobs are off unless `"enabled": true`: a job left off by a typo (`"enable"`) is named.
    let off: Vec<&str> = cfg.jobs.iter().filter(|j| !j.enabled).map(|j| j.id.as_str()).collect();
    if !off.is_empty() {
        say!("disabled ({} of {}, not monitored): {}", off.len(), cfg.jobs.len(), off.join(", "));
    }
    Ok(0)
}

async fn status(paths: &Paths, only: Option<&str>, as_json: bool) -> Result<i32> {
    let cfg = load(paths)?;
    if let Some(id) = only {
        find(&cfg, id)?;
    }
    let views = crate::engine::overview::observe_all(paths, &cfg, only).await?;
    let store = Store::open(&paths.state_db)?;
    let queue = store.queue()?.into_iter().filter(|q| q.status == "pending" || q.status == "running").count();
    let refused = crate::store::callbacks::refused_summary(&store)?;
    if as_json {
        let jobs: Vec<_> = views
            .iter()
            .map(|v| {
                let j = &v.job;
                let status = match &v.status {
                    Some(Ok(s)) => json!(s),
                    Some(Err(e)) => json!({ "error": e }),
                    None => Value::Null,
                };
                let last = v.last_run.as_ref().map(|r| json!({ "action": r.action, "summary": r.summary, "exitCode": r.exit_code, "startedAt": r.started_at, "durationMs": r.duration_ms }));
                let next_local = v.next_run.map(|at| crate::render::zoned_clock(at, chrono::Utc::now(), j.policy.timezone.unwrap_or(cfg.timezone)));
                json!({ "id": j.id, "name": j.name, "kind": j.kind.as_str(), "risk": j.risk.as_str(), "enabled": j.enabled, "summary": v.summary(cfg.timezone, crate::i18n::Lang::En), "status": status, "lastRun": last, "estimate": v.estimate,
                        "cron": j.policy.cron, "nextRunAt": v.next_run.map(|t| t.timestamp()), "nextRun": next_local })
            })
            .collect();
        // A count scripts can add to: zero (with no last one) rather than null when none came.
        let refused = refused.map_or_else(
            || json!({ "count": 0, "lastChatId": null, "lastUserId": null, "lastAt": null }),
            |(n, chat, user, at)| json!({ "count": n, "lastChatId": chat, "lastUserId": user, "lastAt": at }),
        );
        say!("{}", serde_json::to_string_pretty(&json!({ "host": cfg.host, "jobs": jobs, "queue": queue, "refusedUpdates": refused }))?);
    } else {
        for v in &views {
            say!("- {} ({}{}): {}", v.job.id, v.job.kind.as_str(), if v.job.enabled { "" } else { ", disabled" }, v.summary(cfg.timezone, cfg.locale));
            // The job's own words, as /status shows them, unless its stopReason already said them.
            if let Some(m) = v.status.as_ref().and_then(|s| s.as_ref().ok()).and_then(|s| s.message.as_ref().filter(|m| s.stop_reason.as_ref() != Some(*m))) {
                say!("  {m}");
            }
            if let Some(p) =
                v.status.as_ref().and_then(|s| s.as_ref().ok()).and_then(|s| crate::render::progress_line(s, v.estimate.as_ref(), cfg.timezone, cfg.locale))
            {
                say!("  {p}");
            }
            if let Some(next) = v.next_line(cfg.locale) {
                say!("  {next}");
            }
        }
        if queue > 0 {
            say!("\nqueue: {queue}");
        }
        if let Some((n, chat, user, _)) = refused {
            say!("refused Telegram updates from outside the allowlist: {n} (latest: chat {chat}, user {})", user.map_or("-".into(), |u| u.to_string()));
        }
    }
    Ok(0)
}

async fn chart(paths: &Paths, id: &str, out: Option<std::path::PathBuf>) -> Result<i32> {
    let cfg = load(paths)?;
    let job = find(&cfg, id)?;
    let Some(c) = crate::engine::chart_data::for_job(paths, job, cfg.timezone, cfg.locale).await? else {
        return Err(Exit { code: 1, msg: crate::t!(cfg.locale, "reply-no-chart", id = &job.id) }.into());
    };
    let out = out.unwrap_or_else(|| format!("{}-chart.png", job.id).into());
    std::fs::write(&out, &c.png).with_context(|| format!("write {}", out.display()))?;
    say!(
        "{}
{}",
        out.display(),
        c.caption
    );
    Ok(0)
}

async fn run_tick(paths: &Paths, print_only: bool, dry_run: bool) -> Result<i32> {
    let out = tick::tick(paths, &TickOptions { dry_run, ..TickOptions::default() }).await?;
    if let Some(e) = &out.config_error {
        eprintln!("ERROR: {e}");
    }
    let cfg = config::load(&paths.config, &paths.home).ok();
    let bot = match (&cfg, print_only || dry_run) {
        (Some(c), false) => crate::chat::setup(c, paths)?,
        _ => None,
    };
    if !out.report.is_empty() {
        match &bot {
            Some(b) => {
                let left = crate::chat::deliver_now(paths, b, &out.report, cfg.as_ref()).await?;
                if left > 0 {
                    eprintln!("WARNING: {left} message(s) could not be sent yet; they stay in the outbox");
                }
            }
            None => ConsoleSink { state_db: paths.state_db.clone() }.report(&out.report, cfg.as_ref())?,
        }
    } else if out.had_config && (bot.is_none() || out.held > 0) {
        // Silence would look like a tick that did not run.
        match out.held {
            0 => say!("nothing to report"),
            n => say!("nothing to report now: {n} message(s) held for the morning digest (quiet hours)"),
        }
    }
    Ok(if out.had_config { 0 } else { 2 })
}

async fn start(paths: &Paths, id: &str, allow_risk: bool, force: bool) -> Result<i32> {
    let cfg = load(paths)?;
    let job = find(&cfg, id)?;
    jobs::check_explicit(job, Action::Start, allow_risk).map_err(|e| Exit::usage(e.to_string()))?;
    let o = match jobs::start(job, paths, "cli", force).await? {
        jobs::Started::Ran(o) => o,
        jobs::Started::AlreadyRunning(pid) => {
            let pid = pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
            return Err(Exit { code: 1, msg: format!("{id} is already running{pid}: not started again (--force starts it anyway)") }.into());
        }
        jobs::Started::JustStarted(ago) => {
            return Err(Exit { code: 1, msg: format!("{id} was started {ago} s ago: not started again (--force starts it anyway)") }.into());
        }
    };
    print_outcome(&format!("start {id}"), &o);
    if !o.success() {
        return Err(anyhow::anyhow!("start {id} failed: {}", o.summary()));
    }
    Ok(0)
}

async fn run(paths: &Paths, id: &str) -> Result<i32> {
    let cfg = load(paths)?;
    let job = find(&cfg, id)?;
    if job.kind == config::Kind::OneShotWrite {
        return super::approve_cmd::request(paths, job, cfg.timezone).await;
    }
    jobs::check_explicit(job, Action::Run, false).map_err(|e| Exit::usage(e.to_string()))?;
    let (o, queued, _) = jobs::run_once(job, paths, "cli").await?;
    print_outcome(&format!("run {id}"), &o);
    for f in &queued {
        say!("queued {} (in {} s)", f.job_id, f.delay_seconds);
    }
    if !o.success() {
        return Err(anyhow::anyhow!("run {id} failed: {}", o.summary()));
    }
    if let Some(f) = jobs::check_failure(&o) {
        return Err(anyhow::anyhow!("run {id}: the check is failing: {}", f.reason));
    }
    Ok(0)
}
