//! ops-framework: runs and watches long scripted jobs on a host, reports to Telegram or the console.
//!
//! Layout: [`config`] (the v1 file format), [`policy`] (the pure functional core), [`shell`] (processes, store,
//! tick execution), [`render`] (text), [`chat`] (the Telegram bot and sender), [`cli`] (the `ops-monitor` command).

pub mod chart;
pub mod chat;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod engine;
pub mod i18n;
pub mod policy;
pub mod render;
pub mod store;
pub mod watch;

pub use crate::config::canonical_json;
