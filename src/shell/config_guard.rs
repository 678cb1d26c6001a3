//! Loads the config for a tick; an invalid file is reported at most hourly and the last good
//! config (kept in the store) stays in use.

use super::paths::Paths;
use crate::config::{self, Config};
use crate::core::report::{Note, Section};
use crate::store::Store;
use anyhow::Result;
use chrono::{DateTime, Utc};

/// Config errors are repeated at most this often.
pub const CONFIG_ERROR_REPEAT_SECONDS: i64 = 3600;

/// Returns the config to use and, when due, a section reporting the config error.
pub fn current(paths: &Paths, store: &mut Store, now: DateTime<Utc>, dry_run: bool, error: &mut Option<String>) -> Result<(Option<Config>, Option<Section>)> {
    match config::load(&paths.config, &paths.home) {
        Ok(cfg) => {
            if !dry_run {
                remember(paths, store)?;
                store.set_meta("config_error_at", "")?;
            }
            Ok((Some(cfg), None))
        }
        Err(e) => {
            *error = Some(e.to_string());
            let fallback = store.meta("last_good_config")?.and_then(|text| config::parse(&text, &paths.config, &paths.home).ok());
            let last: i64 = store.meta("config_error_at")?.and_then(|v| v.parse().ok()).unwrap_or(0);
            let due = now.timestamp() - last >= CONFIG_ERROR_REPEAT_SECONDS;
            if due && !dry_run {
                store.set_meta("config_error_at", &now.timestamp().to_string())?;
            }
            Ok((fallback.clone(), due.then(|| error_section(&e, fallback.is_some()))))
        }
    }
}

fn remember(paths: &Paths, store: &mut Store) -> Result<()> {
    if let Ok(text) = std::fs::read_to_string(&paths.config) {
        if store.meta("last_good_config")?.as_deref() != Some(text.as_str()) {
            store.set_meta("last_good_config", &text)?;
        }
    }
    Ok(())
}

fn error_section(e: &config::ConfigError, using_last_good: bool) -> Section {
    let mut s = Section::system("config", "ops-jobs.json");
    s.notes.push(Note::ConfigInvalid { file: e.file.display().to_string(), using_last_good });
    for i in &e.issues {
        s.notes.push(Note::Info(format!("{}: {}", i.path, i.message)));
    }
    s
}
