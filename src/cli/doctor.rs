//! `ops-monitor doctor`: checks this installation end to end and says what to do, one line per
//! finding; any error makes the exit code non-zero. The Telegram part is in `doctor_tg`.

use super::findings::Findings;
use crate::config::{self, Config, Job, Kind};
use crate::engine::paths::Paths;
use anyhow::Result;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Runs every check; exit code 1 when any found an error.
pub async fn run(paths: &Paths, send_test: bool) -> Result<i32> {
    let mut f = Findings::default();
    let cfg = check_config(paths, &mut f);
    check_state(paths, &mut f);
    if let Some(cfg) = &cfg {
        check_jobs(cfg, paths, &mut f).await;
        check_heartbeat(cfg, &mut f).await;
        super::doctor_tg::check(cfg, paths, send_test, &mut f).await;
    }
    let n = f.errors();
    say!("doctor: {}", if n == 0 { "no errors".to_string() } else { format!("{n} error(s)") });
    // A token file that cannot be read is the config problem every other command exits 2 on.
    Ok(match n {
        0 => 0,
        _ if crate::chat::token::token_file_problem().is_some() => super::EXIT_USAGE,
        _ => 1,
    })
}

fn check_config(paths: &Paths, f: &mut Findings) -> Option<Config> {
    match config::load(&paths.config, &paths.home) {
        Ok(cfg) => {
            let enabled = cfg.jobs.iter().filter(|j| j.enabled).count();
            f.ok(format!("config {}: valid, {} job(s), {enabled} enabled", paths.config.display(), cfg.jobs.len()));
            for w in &cfg.warnings {
                f.warn(format!("config {}: {w}", paths.config.display()));
            }
            Some(cfg)
        }
        Err(e) => {
            for i in &e.issues {
                f.error(format!("config {}: {}: {} (fix it, then `ops-monitor validate-config`)", e.file.display(), i.path, i.message));
            }
            None
        }
    }
}

/// The state folder must be writable and private (0700), the database file private (0600):
/// see [`check_mode`] for what is an error and what a warning.
fn check_state(paths: &Paths, f: &mut Findings) {
    let dir = paths.state_dir();
    let db = &paths.state_db;
    let Some(existing) = dir.ancestors().find(|a| a.exists()) else {
        return f.error(format!("state folder {}: no part of it exists", dir.display()));
    };
    if let Err(e) = tempfile::tempfile_in(existing) {
        return f.error(format!("state folder {}: cannot write in {}: {e} (fix ownership or choose --state-file)", dir.display(), existing.display()));
    }
    if existing != dir {
        return f.ok(format!("state {}: will be created (0700 folder, 0600 file) on first use", db.display()));
    }
    check_mode(f, &dir, 0o700, "state folder");
    if db.exists() {
        match std::fs::OpenOptions::new().read(true).write(true).open(db) {
            Ok(_) => check_mode(f, db, 0o600, "state file"),
            Err(e) => f.error(format!("state file {}: not writable: {e}", db.display())),
        }
    } else {
        f.ok(format!("state {}: will be created (0600) on first use", db.display()));
    }
}

/// Writable by group or others is an error: whoever can write the state can forge an approval or
/// a button press (or replace the file, for the folder). Only readable by them is a warning: it
/// shows job output, chat ids and the audit trail, but controls nothing.
fn check_mode(f: &mut Findings, p: &Path, want: u32, what: &str) {
    let mode = std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    let fix = format!("chmod {want:o} {}", p.display());
    if mode & 0o022 != 0 {
        f.error(format!("{what} {}: mode {mode:o} lets others write it (forge an approval or a press): {fix}", p.display()));
    } else if mode & 0o077 != 0 {
        f.warn(format!("{what} {}: mode {mode:o} lets others read it (job output, chats, audit): {fix}", p.display()));
    } else {
        f.ok(format!("{what} {}: writable, mode {mode:o}", p.display()));
    }
}

/// Every enabled job: its folder, its programs, and for long jobs a status answer.
async fn check_jobs(cfg: &Config, paths: &Paths, f: &mut Findings) {
    for (i, job) in cfg.jobs.iter().enumerate().filter(|(_, j)| j.enabled) {
        if !job.cwd.is_dir() {
            f.error(format!("jobs[{i}].cwd ({}): folder {} does not exist", job.id, job.cwd.display()));
            continue;
        }
        let mut runnable = true;
        for (name, argv) in commands(job) {
            let at = format!("jobs[{i}].commands.{name}[0] ({})", job.id);
            match find_program(&argv[0], &job.cwd).and_then(|p| script_of(argv, &job.cwd).map(|s| (p, s))) {
                Ok((p, None)) => f.ok(format!("{at}: {}", p.display())),
                Ok((p, Some(script))) => f.ok(format!("{at}: {} {}", p.display(), script.display())),
                Err(why) => {
                    runnable &= name != "status";
                    f.error(format!("{at}: {why}"));
                }
            }
        }
        if job.kind == Kind::LongRunningRead && runnable {
            let what = if job.commands.status.is_some() { "commands.status" } else { "status file" };
            match crate::engine::jobs::observe(job, paths).await {
                Ok(s) => f.ok(format!("jobs[{i}].{what} ({}): valid contract JSON (running={}, completed={})", job.id, s.running, s.completed)),
                Err(why) => f.error(format!("jobs[{i}].{what} ({}): {why}", job.id)),
            }
        }
    }
}

/// The heartbeat URL must answer (this GET counts as one ping at the service).
async fn check_heartbeat(cfg: &Config, f: &mut Findings) {
    let Some(h) = &cfg.heartbeat else {
        return f.warn("no heartbeat configured: nobody outside this host notices if it dies (see docs/REFERENCE.md, Keep it watched)");
    };
    match crate::watch::heartbeat::ping(&crate::watch::heartbeat::Pinger::default().client(), &h.url).await {
        Ok(()) => f.ok(format!("heartbeat.url {}: answers", h.url)),
        Err(e) => f.error(format!("heartbeat.url {}: does not answer: {e}", h.url)),
    }
}

fn commands(job: &Job) -> Vec<(&'static str, &Vec<String>)> {
    let c = &job.commands;
    [("start", &c.start), ("status", &c.status), ("stop", &c.stop), ("run", &c.run)].into_iter().filter_map(|(n, a)| Some((n, a.as_ref()?))).collect()
}

/// Interpreters whose first argument is the script that really is the job.
const INTERPRETERS: [&str; 10] = ["sh", "bash", "dash", "zsh", "ksh", "python", "python3", "perl", "ruby", "node"];

/// For `sh script.sh …` and the like: the script, which must exist in `cwd` (an interpreter on
/// PATH says nothing about it). None for other programs and for `sh -c …`.
fn script_of(argv: &[String], cwd: &Path) -> Result<Option<PathBuf>, String> {
    let interpreter = Path::new(&argv[0]).file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let Some(script) = argv.get(1).filter(|a| INTERPRETERS.contains(&interpreter) && !a.starts_with('-')) else { return Ok(None) };
    let path = cwd.join(script);
    if path.is_file() {
        Ok(Some(path))
    } else {
        Err(format!("script {script:?} of {} not found in {}", argv[0], cwd.display()))
    }
}

/// Where `program` resolves when run in `cwd` (a name is looked up in PATH, a path against cwd).
fn find_program(program: &str, cwd: &Path) -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = if program.contains('/') {
        vec![cwd.join(program)]
    } else {
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).map(|d| cwd.join(d).join(program)).collect()).unwrap_or_default()
    };
    let found = candidates.iter().find(|p| p.is_file());
    match found {
        None if program.contains('/') => Err(format!("program {program:?} not found in {}", cwd.display())),
        None => Err(format!("program {program:?} not found in PATH")),
        Some(p) if std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0) => Ok(p.clone()),
        Some(p) => Err(format!("{} is not executable: chmod +x {}", p.display(), p.display())),
    }
}
