//! Where the daemon's reports enter the chats: each report chat's outbox (alerts and news), its
//! live message (routine progress), edits of alerts already sent, and the morning digest.

use super::{alert_edits, digest_send, live_message, outbox_queue, Services};
use crate::config::Config;
use crate::engine::sink::Sink;
use crate::policy::decisions::reaches_snoozed_chat;
use crate::policy::report::Section;
use crate::render::Report;
use crate::store::prefs;
use anyhow::Result;
use std::sync::Arc;

/// Queues each report for every report chat of the snapshot in force, with Ack/Snooze buttons
/// for alerts, and the morning digest in each chat's language; routine progress goes to each
/// chat's live progress message instead.
pub(crate) struct OutboxSink {
    pub(super) services: Arc<Services>,
}

impl Sink for OutboxSink {
    fn report(&self, report: &Report, cfg: Option<&Config>) -> Result<()> {
        let tz = cfg.map_or(chrono_tz::UTC, |c| c.timezone);
        let default = cfg.map_or(Default::default(), |c| c.locale);
        let host = crate::config::host::of(cfg);
        let mut store = self.services.store()?;
        let chats = self.services.config.current().report_chats.clone();
        // A section that only amends an alert already queued or sent edits it instead of ringing
        // (sent on its own, silently, to a chat that never got that alert).
        let amends_only = |s: &Section| s.amends.is_some() && s.anomaly.is_none();
        // Routine progress goes to the chat's live progress message.
        let news: Vec<Section> = live_message::others(report).sections.into_iter().filter(|s| !amends_only(s)).collect();
        // A chat's own snooze (a non-approver's) keeps reminders out of that chat alone.
        let snoozed = crate::store::decision_rows::chat_snoozes(&store, chrono::Utc::now().timestamp())?;
        for chat in &chats {
            let lang = prefs::chat_lang(&store, *chat, default)?;
            live_message::update(&mut store, *chat, report, &host, tz, lang)?;
            let heard = |s: &&Section| !snoozed.contains(&(*chat, s.job_id.clone())) || reaches_snoozed_chat(s);
            let news: Vec<Section> = news.iter().filter(heard).cloned().collect();
            if !news.is_empty() {
                outbox_queue::enqueue_report(&mut store, *chat, &Report { at: report.at, sections: news, digest: None }, &host, tz, lang)?;
            }
            let mut unmatched = Vec::new();
            for s in report.sections.iter().filter(|s| s.amends.is_some()) {
                if !alert_edits::queue(&mut store, *chat, s, lang)? && amends_only(s) {
                    unmatched.push(s.clone());
                }
            }
            if !unmatched.is_empty() {
                outbox_queue::enqueue_report(&mut store, *chat, &Report { at: report.at, sections: unmatched, digest: None }, &host, tz, lang)?;
            }
        }
        if let Some(d) = &report.digest {
            digest_send::enqueue(&mut store, &chats, d, &host, tz, default)?;
        }
        self.services.wake.notify_one();
        Ok(())
    }
}
