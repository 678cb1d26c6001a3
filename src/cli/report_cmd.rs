//! `ops-monitor report`: a job's scripts write their progress to `$OPS_STATUS_FILE` in the status
//! contract, so the job needs no status command and is watched without spawning anything. Needs
//! no config file: only the variable that ops-monitor gives every command of a long job.

use super::Exit;
use crate::engine::status_file;
use anyhow::Result;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// `--level`: how the job itself rates its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    /// All is well (the contract's `ok`).
    #[value(alias = "ok")]
    Info,
    /// Worth a look.
    Warn,
    /// Something is wrong: an alert.
    Alert,
}

/// The arguments of `ops-monitor report`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// Units done so far (a number ≥ 0).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub done: f64,
    /// Units in all (a number ≥ --done).
    #[arg(long, value_name = "M", allow_negative_numbers = true)]
    pub total: f64,
    /// What is counted ("files", "GB").
    #[arg(long, value_name = "U")]
    pub unit: Option<String>,
    /// A line for people, shown in /status.
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,
    /// The job's own rating: info (ok), warn or alert.
    #[arg(long, value_enum)]
    pub level: Option<Level>,
    /// The work is finished (the last report of a run).
    #[arg(long)]
    pub completed: bool,
    /// The job's log, whose last lines crash and stall alerts show.
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// The job's pid (default: the process that called `report`, i.e. the job's script; in a
    /// pipeline's subshell pass `--pid $$`).
    #[arg(long)]
    pub pid: Option<i64>,
}

/// Writes the report atomically; exit 2 outside a job or on values that make no sense.
pub fn run(args: &ReportArgs) -> Result<i32> {
    let file = std::env::var_os(status_file::ENV).filter(|v| !v.is_empty()).ok_or_else(|| {
        Exit::usage(format!(
            "report is for a job's own scripts: ${} is not set (ops-monitor sets it for every command of a long_running_read job)",
            status_file::ENV
        ))
    })?;
    let status = contract(args)?;
    status_file::write_atomic(std::path::Path::new(&file), &status.to_string())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", PathBuf::from(&file).display()))?;
    Ok(0)
}

/// The contract JSON for `args`, or the usage error that names the bad value.
pub fn contract(args: &ReportArgs) -> Result<Value> {
    let (done, total) = (args.done, args.total);
    if !done.is_finite() || done < 0.0 {
        return Err(Exit::usage(format!("--done {done} must be a number ≥ 0")));
    }
    if !total.is_finite() || total < done {
        return Err(Exit::usage(format!("--total {total} must be a number ≥ --done ({done})")));
    }
    if args.pid.is_some_and(|p| p <= 1) {
        return Err(Exit::usage("--pid must be a process id above 1"));
    }
    let mut progress = Map::new();
    progress.insert("done".into(), number(done));
    progress.insert("total".into(), number(total));
    if let Some(u) = args.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        progress.insert("unit".into(), json!(u));
    }
    let pid = args.pid.or_else(|| rustix::process::getppid().map(|p| p.as_raw_nonzero().get() as i64));
    let mut o = Map::new();
    o.insert("running".into(), json!(!args.completed));
    o.insert("completed".into(), json!(args.completed));
    o.insert("progress".into(), Value::Object(progress));
    if let Some(pid) = pid.filter(|_| !args.completed) {
        o.insert("pid".into(), json!(pid));
    }
    if let Some(m) = &args.message {
        o.insert("message".into(), json!(m));
    }
    if let Some(l) = args.level {
        o.insert(
            "level".into(),
            json!(match l {
                Level::Info => "ok",
                Level::Warn => "warn",
                Level::Alert => "alert",
            }),
        );
    }
    if let Some(p) = &args.log_file {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
        o.insert("logFile".into(), json!(abs.display().to_string()));
    }
    Ok(Value::Object(o))
}

/// Whole numbers stay whole in the JSON ("3/10 files", not "3.0/10.0").
fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x <= 9_007_199_254_740_992.0 {
        json!(x as u64)
    } else {
        json!(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(done: f64, total: f64) -> ReportArgs {
        ReportArgs { done, total, unit: Some("files".into()), message: None, level: None, completed: false, log_file: None, pid: Some(1234) }
    }

    #[test]
    fn the_contract_parses_back() {
        let v = contract(&args(3.0, 10.0)).unwrap();
        let s = crate::policy::status::parse_status(&v.to_string()).unwrap();
        assert!(s.running && !s.completed);
        assert_eq!((s.pid, v["progress"]["done"].to_string()), (Some(1234), "3".to_string()));
        let done = contract(&ReportArgs { completed: true, level: Some(Level::Info), ..args(10.0, 10.0) }).unwrap();
        let s = crate::policy::status::parse_status(&done.to_string()).unwrap();
        assert!(!s.running && s.completed && s.level.as_deref() == Some("ok"));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for (d, t) in [(-1.0, 5.0), (6.0, 5.0), (f64::NAN, 5.0)] {
            let e = contract(&args(d, t)).unwrap_err();
            assert_eq!(e.downcast_ref::<Exit>().map(|x| x.code), Some(super::super::EXIT_USAGE), "{d} {t}");
        }
    }
}
