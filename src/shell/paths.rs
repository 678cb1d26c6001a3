//! Default locations under `$OPENCLAW_HOME` (default `~/.openclaw`), overridable by flags.

use std::path::{Path, PathBuf};

/// Resolved locations for one invocation.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `$OPENCLAW_HOME`; also the default job cwd.
    pub home: PathBuf,
    /// The ops-jobs.json file.
    pub config: PathBuf,
    /// The SQLite state database.
    pub state_db: PathBuf,
}

impl Paths {
    /// Applies the defaults to the optional flag values.
    pub fn resolve(config: Option<&Path>, state: Option<&Path>) -> Paths {
        let home = openclaw_home();
        Paths {
            config: config.map(Path::to_path_buf).unwrap_or_else(|| home.join("net/config/ops-jobs.json")),
            state_db: state.map(Path::to_path_buf).unwrap_or_else(|| home.join("net/state/ops-monitor.db")),
            home,
        }
    }

    /// Folder of the state database; per-job `OPS_STATE_DIR`s live under it.
    pub fn state_dir(&self) -> PathBuf {
        self.state_db.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
    }
}

/// `$OPENCLAW_HOME`, else `~/.openclaw`.
pub fn openclaw_home() -> PathBuf {
    if let Some(h) = std::env::var_os("OPENCLAW_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/")).join(".openclaw")
}
