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
    /// Applies the defaults to the optional flag values and makes every path absolute, once, at
    /// start: jobs run in their own `cwd`, so a relative `OPS_STATE_DIR` (from a relative
    /// `--state-file`) would point somewhere else for them.
    pub fn resolve(config: Option<&Path>, state: Option<&Path>) -> Paths {
        // Canonical when it exists: it is the default job cwd, which the approval digest covers,
        // so a home spelled through a symlink must not make an approved job look changed.
        let home = std::fs::canonicalize(openclaw_home()).unwrap_or_else(|_| absolute(openclaw_home()));
        Paths {
            config: absolute(config.map(Path::to_path_buf).unwrap_or_else(|| home.join("net/config/ops-jobs.json"))),
            state_db: absolute(state.map(Path::to_path_buf).unwrap_or_else(|| home.join("net/state/ops-monitor.db"))),
            home,
        }
    }

    /// Folder of the state database; per-job `OPS_STATE_DIR`s live under it.
    pub fn state_dir(&self) -> PathBuf {
        self.state_db.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
    }
}

/// The state folder or file can be written by other users: they could forge an approval or a
/// button press (or replace the file). `serve` refuses to start on it (exit 2), as `doctor`
/// reports it.
#[derive(Debug, thiserror::Error)]
#[error("{what} {path}: mode {mode:o} lets other users write it (they could forge an approval or a button press); refusing to start: chmod {want:o} {path}")]
pub struct StateExposed {
    /// "state folder" or "state file".
    pub what: &'static str,
    /// The path.
    pub path: String,
    /// Its permission bits.
    pub mode: u32,
    /// The mode to set.
    pub want: u32,
}

/// Refuses a state folder or file (those that exist) that group or others may write.
pub fn check_private_state(paths: &Paths) -> Result<(), StateExposed> {
    use std::os::unix::fs::PermissionsExt;
    for (what, p, want) in [("state folder", paths.state_dir(), 0o700), ("state file", paths.state_db.clone(), 0o600)] {
        let Ok(meta) = std::fs::metadata(&p) else { continue };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(StateExposed { what, path: p.display().to_string(), mode: mode & 0o777, want });
        }
    }
    Ok(())
}

/// `p` against the current directory (lexically: no symlink is resolved, nothing must exist).
fn absolute(p: PathBuf) -> PathBuf {
    std::path::absolute(&p).unwrap_or(p)
}

/// `$OPENCLAW_HOME`, else `~/.openclaw`.
pub fn openclaw_home() -> PathBuf {
    if let Some(h) = std::env::var_os("OPENCLAW_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/")).join(".openclaw")
}
