//! `/chart <job>`: the job's progress chart as a photo (sendPhoto); `/chart` alone: a button per
//! long job. Drawn in a task so the chat stays responsive; a job without history gets a reply.

use super::attempt::{next_try, EditNext};
use super::respond::{from_host, pick_by, reply, unknown_job};
use super::Services;
use crate::config::Config;
use crate::policy::press::JobPress;
use crate::policy::retry;
use crate::t;
use std::sync::Arc;
use teloxide::prelude::*;

/// Answers `/chart [job]` in `chat`.
pub(super) fn chart(bot: Bot, s: &Arc<Services>, chat: i64, cfg: &Config, arg: &str) -> anyhow::Result<()> {
    let lang = s.lang(chat);
    if arg.is_empty() {
        return pick_by(s, chat, cfg, JobPress::Chart, &Default::default());
    }
    let Some(job) = cfg.job(arg).cloned() else { return reply(s, chat, &unknown_job(cfg, arg, lang), None) };
    let (s, tz) = (s.clone(), cfg.timezone);
    tokio::spawn(async move {
        let sent = match crate::engine::chart_data::for_job(&s.paths, &job, tz, lang).await {
            Ok(Some(c)) => send(&bot, &s, chat, c.png, &from_host(&s, lang, &c.caption)).await.map(|id| s.saw(chat, id)),
            Ok(None) => reply(&s, chat, &t!(lang, "reply-no-chart", id = &job.id), None),
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            tracing::error!(job = %job.id, error = %e, "could not send the chart");
            // The person gets words; the raw error (a parser's, an HTTP client's) goes to the log.
            let _ = reply(&s, chat, &t!(lang, "chart-failed", id = &job.id), None);
        }
    });
    Ok(())
}

/// Sends the chart, retrying a network error or 5xx a few times quickly ([`retry::PHOTO`]): a
/// person is waiting for it, and teloxide's own path would sleep 10 s on each 5xx.
async fn send(bot: &Bot, s: &Services, chat: i64, png: Vec<u8>, caption: &str) -> anyhow::Result<i32> {
    let thread = s.config.current().thread_of(chat);
    let mut failures = 0;
    loop {
        match super::direct::send_photo(bot, chat, png.clone(), caption, thread).await {
            Ok(m) => return Ok(m.id.0),
            Err(e) => {
                failures += 1;
                match next_try(&e, failures, retry::PHOTO) {
                    EditNext::Again(wait) if wait <= retry::PHOTO.max * 5 => tokio::time::sleep(wait).await,
                    _ => return Err(e.into()),
                }
            }
        }
    }
}
