//! What several CLI commands share: loading the config as a usage error, finding a job, and
//! printing a command's outcome.

use super::Exit;
use crate::config::{self, Config, Job};
use crate::engine::paths::Paths;
use anyhow::Result;

/// Loads the config or fails with exit code 2 and every problem listed.
pub fn load(paths: &Paths) -> Result<Config> {
    config::load(&paths.config, &paths.home).map_err(|e| Exit::usage(e.to_string()))
}

/// Finds a job or fails listing the known ids.
pub fn find<'a>(cfg: &'a Config, id: &str) -> Result<&'a Job> {
    cfg.job(id).ok_or_else(|| Exit::usage(format!("unknown job id {id:?}; known: {}", cfg.job_ids().join(", "))))
}
