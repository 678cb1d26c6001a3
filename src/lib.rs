//! ops-framework: runs and watches long scripted jobs on a host, reports to Telegram or the console.
//!
//! Layout: [`config`] (the v1 file format), [`core`] (pure policy), [`shell`] (processes, store,
//! tick execution), [`render`] (text), [`cli`] (the `ops-monitor` command).

pub mod chart;
pub mod cli;
pub mod config;
pub mod core;
pub mod daemon;
pub mod i18n;
pub mod render;
pub mod shell;
pub mod store;
pub mod telegram;
pub mod watch;

pub use crate::config::canonical_json;
