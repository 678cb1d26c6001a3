//! The imperative shell around the policy (named engine: this tool runs shell commands, and a
//! folder called shell read as if it were about them): processes, paths, and the tick that ties
//! them together.

pub mod approval_flow;
pub mod batch;
pub mod chart_data;
mod commit;
pub mod config_guard;
pub mod config_watch;
pub mod job_acts;
pub mod jobs;
pub mod logfile;
pub mod overview;
pub mod paths;
pub mod quiet_hours;
pub mod runner;
mod scheduled;
pub mod secrets;
pub mod sink;
pub mod status_file;
pub mod tick;
pub mod tick_options;
pub mod verify;
