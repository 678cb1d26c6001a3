//! The imperative shell: processes, paths, and the tick that ties them together.

pub mod approvals;
pub mod batch;
pub mod chart;
mod commit;
pub mod config_guard;
pub mod config_watch;
pub mod digest;
pub mod jobs;
pub mod logfile;
pub mod overview;
pub mod paths;
pub mod runner;
mod scheduled;
pub mod secrets;
pub mod sink;
pub mod status_file;
pub mod tick;
pub mod verify;
