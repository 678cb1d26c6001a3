//! The subcommands' bodies.

use super::common::{find, load};
use super::{Cli, Command, Exit};
use crate::config;
use crate::engine::job_acts;
use crate::engine::jobs::{self, Action};
use crate::engine::paths::Paths;
use crate::engine::sink::{ConsoleSink, Sink};
use crate::engine::tick::{self, TickOptions};
use crate::policy::acted::Acted;
use crate::store::Store;
use anyhow::{Context, Result};
use serde_json::{json, Value};

/// Runs the chosen subcommand; Ok(code) is the exit code.
pub async fn dispatch(cli: Cli) -> Result<i32> {
    let paths = Paths::resolve(cli.config_file.as_deref(), cli.state_file.as_deref());
    // Every command that runs jobs or talks to Telegram reads the token (to send, or to mask it
    // in what it prints): a token file it cannot read stops each of them alike, with exit 2.
    // `setup` writes that file, `doctor` lists it among its findings, `validate-config` checks the
    // file's content (it warns), a job's `report` and the self-test do not use it.
    let reads_token = !matches!(
        cli.command,
        Command::Setup { .. } | Command::Doctor { .. } | Command::ValidateConfig | Command::Report(_) | Command::Selftest | Command::SelftestProbe { .. }
    );
    if let Some(unreadable) = crate::chat::token::token_file_problem().filter(|_| reads_token) {
        return Err(unreadable.into());
    }
    match cli.command {
        Command::ValidateConfig => validate(&paths),
        Command::Status { job, json } => status(&paths, job.as_deref(), json).await,
        Command::Tick { print_only, dry_run } => run_tick(&paths, print_only, dry_run).await,
        Command::Start { job, allow_risk, force } => start(&paths, &job, allow_risk, force).await,
        Command::Stop { job } => {
            let cfg = load(&paths)?;
            let job = find(&cfg, &job)?;
            jobs::check_explicit(job, Action::Stop, false).map_err(|e| Exit::usage(e.to_string()))?;
            print_acted(&job_acts::stop(job, &paths, "cli").await?, job, cfg.locale)
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
    if let Some(unreadable) = crate::chat::token::token_file_problem() {
        eprintln!("WARNING: {unreadable} (every command that runs jobs or talks to Telegram exits 2 on it)");
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
                    Some(Err(e)) => json!({ "error": e.reason }),
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
        // The same lines as /status in the chat (one renderer), under the CLI's own heading.
        let now = chrono::Utc::now();
        for v in &views {
            let told = crate::render::overview_text::job_lines(v, now, cfg.timezone, cfg.locale, crate::render::overview_text::Progress::Full);
            say!("- {} ({}{}): {}", v.job.id, v.job.kind.as_str(), if v.job.enabled { "" } else { ", disabled" }, told.summary);
            for line in &told.lines {
                say!("{line}");
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
    print_acted(&job_acts::start(job, paths, "cli", force).await?, job, cfg.locale)
}

async fn run(paths: &Paths, id: &str) -> Result<i32> {
    let cfg = load(paths)?;
    let job = find(&cfg, id)?;
    if job.kind == config::Kind::OneShotWrite {
        return super::approve_cmd::request(paths, job, &cfg).await;
    }
    jobs::check_explicit(job, Action::Run, false).map_err(|e| Exit::usage(e.to_string()))?;
    print_acted(&job_acts::run(job, paths, "cli").await?.0, job, cfg.locale)
}

/// Prints what a start, stop or run came to in the words of the chat's reply
/// (`render::acted_text`), in the config's locale: the command's stderr on stderr, and exit 1
/// when it was refused or failed, or the check is failing.
fn print_acted(acted: &Acted, job: &config::Job, lang: crate::i18n::Lang) -> Result<i32> {
    let text = crate::render::acted_text::cli_text(acted, job, lang);
    for line in &text.out {
        say!("{line}");
    }
    for line in &text.err {
        eprintln!("{line}");
    }
    match text.error {
        Some(msg) => Err(Exit { code: super::EXIT_FAILED, msg }.into()),
        None => Ok(0),
    }
}
