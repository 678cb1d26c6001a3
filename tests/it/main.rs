//! The integration tests, one binary: each module boots the CLI or `serve` against a fake Bot
//! API (support/fake_tg.rs) and checks what a person or the host would see. One binary links
//! once, so a fresh `cargo test` spends its time testing rather than linking; the few tests that
//! need a process of their own (they set process-wide environment variables) stay in tests/*.rs.

mod config_support;
mod support;

mod approvals_cli;
mod back_online;
mod chat_trial;
mod cli_basics;
mod config_validation;
mod config_values;
mod config_warnings;
mod crash_chain;
mod crate_policy;
mod decisions;
mod doctor;
mod fake_phone;
mod fleet;
mod fuzz;
mod hardening;
mod hardening_round2;
mod limits;
mod locales;
mod outbox_order;
mod phone;
mod phone_status;
mod press_answers;
mod progress;
mod push;
mod quiet_digest;
mod readme_backup;
mod readme_promises;
mod runner;
mod schedules;
mod selftest;
mod serve_console;
mod serve_shape;
mod setup;
mod soak;
mod soak_outage;
mod start_twice;
mod startup_edges;
mod store_owner;
mod store_pool;
mod store_retention;
mod telegram;
mod telegram_adversarial;
mod telegram_approvals;
mod telegram_backlog;
mod telegram_delivery;
mod telegram_hardening;
mod telegram_live;
mod telegram_promises;
mod telegram_setup;
mod telegram_truth;
mod tick;
mod tick_loops;
mod told_alike;
mod truth_views;
mod watched;
