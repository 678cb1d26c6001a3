//! Loads the config for a tick; an invalid file is reported at most hourly and the last good
//! config (kept in the store) stays in use.

use super::paths::Paths;
use crate::config::{self, Config};
use crate::policy::report::{Note, Section};
use crate::store::Store;
use anyhow::Result;
use chrono::{DateTime, Utc};

/// Config errors are repeated at most this often.
pub const CONFIG_ERROR_REPEAT_SECONDS: i64 = 3600;

/// Returns the config to use and, when due, a section reporting the config error (the CLI's
/// one-shot ticks; the daemon uses its [`super::config_watch::Snapshot`] instead).
pub fn current(paths: &Paths, store: &mut Store, now: DateTime<Utc>, dry_run: bool, error: &mut Option<String>) -> Result<(Option<Config>, Option<Section>)> {
    match config::load(&paths.config, &paths.home) {
        Ok(cfg) => {
            if !dry_run {
                // A one-shot tick names the file's warnings when the file changed since the last.
                if super::config_watch::remember(paths)? {
                    super::config_watch::log_warnings(paths, &cfg);
                }
            }
            Ok((Some(cfg), report_due(store, now, None, true, dry_run)?))
        }
        Err(e) => {
            *error = Some(e.to_string());
            let fallback = super::config_watch::last_good(paths);
            let section = report_due(store, now, Some(&e), fallback.is_some(), dry_run)?;
            Ok((fallback, section))
        }
    }
}

/// The config-error section when one is due (at most hourly while the file stays invalid);
/// a valid file (`error` None) clears the clock. Nothing is stored when `dry_run`.
pub fn report_due(store: &mut Store, now: DateTime<Utc>, error: Option<&config::ConfigError>, using_last_good: bool, dry_run: bool) -> Result<Option<Section>> {
    let Some(e) = error else {
        if !dry_run && store.meta("config_error_at")?.is_some_and(|v| !v.is_empty()) {
            store.set_meta("config_error_at", "")?;
        }
        return Ok(None);
    };
    let last: i64 = store.meta("config_error_at")?.and_then(|v| v.parse().ok()).unwrap_or(0);
    let due = now.timestamp() - last >= CONFIG_ERROR_REPEAT_SECONDS;
    if due && !dry_run {
        store.set_meta("config_error_at", &now.timestamp().to_string())?;
    }
    Ok(due.then(|| error_section(e, using_last_good)))
}
fn error_section(e: &config::ConfigError, using_last_good: bool) -> Section {
    let mut s = Section::system("config", "ops-jobs.json");
    s.notes.push(Note::ConfigInvalid { file: e.file.display().to_string(), using_last_good });
    for i in &e.issues {
        s.notes.push(Note::Info(format!("{}: {}", i.path, i.message)));
    }
    s
}
