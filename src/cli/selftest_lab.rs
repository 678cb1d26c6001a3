//! A throw-away installation for `selftest`: a temporary folder with its own config and state,
//! job commands played by `ops-monitor selftest-probe` (this very binary), no token, no network.

use crate::engine::paths::Paths;
use crate::engine::tick::{self, TickOptions, TickOutcome};
use crate::policy::report::Section;
use crate::store::Store;
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// One scenario's private installation; removed when dropped.
pub struct Lab {
    _dir: tempfile::TempDir,
    /// Config, state and home, all inside the temporary folder.
    pub paths: Paths,
    exe: PathBuf,
}

impl Lab {
    /// A fresh folder with nothing in it yet.
    pub fn new() -> Result<Lab> {
        let dir = tempfile::Builder::new().prefix("ops-monitor-selftest-").tempdir().context("create a temporary folder")?;
        let root = dir.path().to_path_buf();
        let paths = Paths { home: root.clone(), config: root.join("ops-jobs.json"), state_db: root.join("state/ops-monitor.db") };
        let exe = std::env::current_exe().context("find the ops-monitor binary")?;
        Ok(Lab { _dir: dir, paths, exe })
    }

    /// Writes `name` in the folder and returns its path.
    pub fn file(&self, name: &str, content: &str) -> Result<PathBuf> {
        let p = self.paths.home.join(name);
        std::fs::write(&p, content).with_context(|| format!("write {}", p.display()))?;
        Ok(p)
    }

    /// Whether `name` exists in the folder.
    pub fn exists(&self, name: &str) -> bool {
        self.paths.home.join(name).exists()
    }

    /// argv that prints file `name` (a status or check output), or with `set` writes it.
    pub fn probe(&self, name: &str, set: Option<&Value>) -> Value {
        let mut argv = vec![json!(self.exe), json!("selftest-probe"), json!(self.paths.home.join(name))];
        if let Some(v) = set {
            argv.push(json!("--set"));
            argv.push(json!(match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }));
        }
        Value::Array(argv)
    }

    /// Writes the config: `jobs`, quiet hours off unless `defaults` says otherwise.
    pub fn config(&self, jobs: Value, defaults: Value) -> Result<()> {
        let mut d = json!({"quietHours": {"start": "00:00", "end": "00:00"}});
        if let (Value::Object(d), Value::Object(extra)) = (&mut d, defaults) {
            d.extend(extra);
        }
        let cfg = json!({"version": 1, "timezone": "UTC", "defaults": d, "jobs": jobs});
        std::fs::write(&self.paths.config, cfg.to_string()).context("write the scenario's config")
    }

    /// One real tick (everything: polls, queue, schedules) over this installation.
    pub async fn tick(&self) -> Result<TickOutcome> {
        let out = tick::tick(&self.paths, &TickOptions::default()).await?;
        if let Some(e) = &out.config_error {
            anyhow::bail!("the scenario's own config was refused: {e}");
        }
        Ok(out)
    }

    /// The scenario's store.
    pub fn store(&self) -> Result<Store> {
        Store::open(&self.paths.state_db)
    }
}

/// The section a tick reported for `job`, if any.
pub fn section<'a>(out: &'a TickOutcome, job: &str) -> Option<&'a Section> {
    out.report.sections.iter().find(|s| s.job_id == job)
}

/// `ops-monitor selftest-probe FILE [--set TEXT]`: prints FILE, or writes TEXT into it.
pub fn probe(file: &Path, set: Option<&str>) -> Result<i32> {
    match set {
        Some(text) => std::fs::write(file, text).with_context(|| format!("write {}", file.display()))?,
        None => print!("{}", std::fs::read_to_string(file).with_context(|| format!("read {}", file.display()))?),
    }
    Ok(0)
}
