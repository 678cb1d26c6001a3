//! The imperative shell: processes, the SQLite store, paths, and the tick that ties them together.

pub mod runner;
pub mod store;
pub mod paths;
pub mod jobs;
pub mod config_guard;
pub mod tick;
pub mod overview;
pub mod approvals;
pub mod verify;
