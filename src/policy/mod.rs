//! The functional core: pure policy over (config, previous state, observations, now).

pub mod acted;
pub mod address;
pub mod amend;
pub mod approval;
pub mod back;
pub mod backlog;
pub mod check;
pub mod cron;
pub mod decisions;
pub mod digest;
pub mod failure;
pub mod lifecycle;
pub mod live;
pub mod liveness;
pub mod long;
pub mod outcome;
pub mod press;
pub mod quiet;
pub mod rate;
pub mod report;
pub mod retry;
pub mod standing;
pub mod state;
pub mod status;

#[cfg(test)]
mod long_tests;
