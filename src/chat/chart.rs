//! `/chart <job>`: the job's progress chart as a photo (sendPhoto); `/chart` alone: a button per
//! long job. Drawn in a task so the chat stays responsive; a job without history gets a reply.

use super::respond::{from_host, pick, reply, unknown_job};
use super::views;
use super::Services;
use crate::config::Config;
use crate::t;
use std::sync::Arc;
use teloxide::prelude::*;
use teloxide::types::{InputFile, MessageId, ThreadId};

/// Answers `/chart [job]` in `chat`.
pub(super) fn chart(bot: Bot, s: &Arc<Services>, chat: i64, cfg: &Config, arg: &str) -> anyhow::Result<()> {
    let lang = s.lang(chat);
    if arg.is_empty() {
        return pick(s, chat, cfg, "chart");
    }
    let Some(job) = cfg.job(arg).cloned() else { return reply(s, chat, &unknown_job(cfg, arg, lang), None) };
    let (s, tz) = (s.clone(), cfg.timezone);
    tokio::spawn(async move {
        let sent = match crate::shell::chart::for_job(&s.paths, &job, tz, lang).await {
            Ok(Some(c)) => {
                let mut req = bot.send_photo(ChatId(chat), InputFile::memory(c.png).file_name("chart.png")).caption(from_host(&s, lang, &c.caption));
                if let Some(t) = s.config.current().thread_of(chat) {
                    req = req.message_thread_id(ThreadId(MessageId(t)));
                }
                req.await.map(|m| s.saw(chat, m.id.0)).map_err(anyhow::Error::from)
            }
            Ok(None) => reply(&s, chat, &t!(lang, "reply-no-chart", id = &job.id), None),
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            tracing::error!(job = %job.id, error = %e, "could not send the chart");
            let _ = reply(&s, chat, &t!(lang, "action-failed", action = views::action_word("chart", lang), id = &job.id, error = e.to_string()), None);
        }
    });
    Ok(())
}
