//! "Back online", the shell part: the previous run's last sign of life and whether it stopped
//! cleanly live in the store's meta table; at start `serve` says it is back (once per report
//! chat, silently) when [`crate::policy::back::assess`] says so. The first tick then reports what
//! changed meanwhile (jobs that ended or crashed while nobody watched).

use crate::config::Config;
use crate::engine::paths::Paths;
use crate::i18n::Lang;
use crate::policy::back::{assess, Back, LastRun};
use crate::store::{self, prefs, Store};
use anyhow::Result;
use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use std::time::Duration;

const ALIVE_AT: &str = "serve_alive_at";
const CLEAN_STOP: &str = "serve_clean_stop";
const PID: &str = "serve_pid";

/// How often the last sign of life is refreshed while `serve` waits between ticks, so the
/// downtime it reports after a crash is right within a minute.
pub const ALIVE_EVERY: Duration = Duration::from_secs(60);

/// At start (after the lock is taken): queues the "back" message for each report chat (or prints
/// it without a token) when due, then records this run (its pid) as alive and not yet stopped.
pub fn on_start(paths: &Paths, cfg: &Config, report_chats: Option<&[i64]>) -> Result<()> {
    let mut store = Store::open(&paths.state_db)?;
    let now = Utc::now().timestamp();
    if let Some(back) = assess(last_run(&store)?, now) {
        tracing::warn!(down_seconds = back.down_seconds, unclean = back.unclean, "back online after a gap");
        match report_chats {
            Some(chats) => {
                for chat in chats {
                    let lang = prefs::chat_lang(&store, *chat, cfg.locale)?;
                    crate::chat::outbox_queue::enqueue_notice(&mut store, *chat, &text(back, &cfg.host, lang, cfg.timezone), true)?;
                }
            }
            None => println!("{}\n", text(back, &cfg.host, cfg.locale, cfg.timezone)),
        }
    }
    store.write(|tx| {
        store::set_meta(tx, CLEAN_STOP, "0")?;
        store::set_meta(tx, PID, &std::process::id().to_string())?;
        store::set_meta(tx, ALIVE_AT, &now.to_string())
    })
}

/// Records a sign of life (best effort: a store that cannot be written is reported elsewhere).
pub fn alive(paths: &Paths) {
    if let Err(e) = Store::open(&paths.state_db).and_then(|mut s| s.set_meta(ALIVE_AT, &Utc::now().timestamp().to_string())) {
        tracing::warn!(error = %format!("{e:#}"), "could not record the last sign of life");
    }
}

/// After the loops finished on SIGTERM/SIGINT: the next start is not an unclean one.
pub fn stopped_cleanly(paths: &Paths) {
    let now = Utc::now().timestamp().to_string();
    let r = Store::open(&paths.state_db).and_then(|mut s| {
        s.write(|tx| {
            store::set_meta(tx, ALIVE_AT, &now)?;
            store::set_meta(tx, CLEAN_STOP, "1")
        })
    });
    if let Err(e) = r {
        tracing::warn!(error = %format!("{e:#}"), "could not record the clean stop");
    }
}

fn last_run(store: &Store) -> Result<Option<LastRun>> {
    let Some(alive_at) = store.meta(ALIVE_AT)?.and_then(|v| v.parse().ok()) else {
        return Ok(None);
    };
    Ok(Some(LastRun { alive_at, clean: store.meta(CLEAN_STOP)?.as_deref() == Some("1") }))
}

/// "nas: ops-monitor is back — down 12 min (since 03:10, unclean stop)" in `lang`, times in `tz`.
pub fn text(b: Back, host: &str, lang: Lang, tz: Tz) -> String {
    let since = Utc.timestamp_opt(b.since, 0).single().unwrap_or_default().with_timezone(&tz);
    let since = if b.down_seconds < 20 * 3600 { since.format("%H:%M") } else { since.format("%Y-%m-%d %H:%M") }.to_string();
    let why = if b.unclean { crate::t!(lang, "back-why-unclean") } else { crate::t!(lang, "back-why-clean") };
    crate::t!(lang, "back-online", host = host, duration = crate::i18n::duration(lang, b.down_seconds as u64), since = since, why = why)
}
