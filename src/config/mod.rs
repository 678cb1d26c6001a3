//! The ops-jobs.json v1 format (plus additive extensions): model, loading, validation.

mod canonical;
mod cron_check;
pub mod host;
mod job;
mod keys;
mod load;
mod model;
mod parts;
mod reader;

pub use canonical::canonical_json;
pub use cron_check::parse_cron;
pub use load::{load, parse, unreachable_approvers, ConfigError};
pub use model::*;
pub use reader::Issue;
pub use reader::{parse_hhmm, parse_id};
