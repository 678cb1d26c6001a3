//! How the bot answers: a reply queued to the chat's outbox, the answer to a press, the words
//! for an unknown job and the job pickers. The lowest layer of the bot: it imports no handler.

use super::outbox_queue;
use super::views;
use super::Services;
use crate::config::Config;
use crate::i18n::Lang;
use crate::policy::press::JobPress;
use crate::t;
use teloxide::payloads::AnswerCallbackQuery;
use teloxide::prelude::*;

type HandlerResult = anyhow::Result<()>;

/// Queues `text` as this host's reply, prefixed with its name ("nas: start scan (scan): exit 0"):
/// in a group shared by several hosts' bots, everyone sees which host answered.
pub fn reply(s: &Services, chat: i64, text: &str, markup: Option<&teloxide::types::InlineKeyboardMarkup>) -> anyhow::Result<()> {
    reply_headed(s, chat, &from_host(s, s.lang(chat), text), markup)
}

/// `text` prefixed with the name of this host, in `lang`.
pub fn from_host(s: &Services, lang: Lang, text: &str) -> String {
    t!(lang, "reply-from", host = crate::config::host::of(s.config().as_deref()), text = text)
}

tokio::task_local! {
    /// Who asked for the replies being queued and with which command ("<user>:status"), while
    /// that command's handler (or the task it started) runs: see [`reply_headed`].
    pub static ASKED: String;
}

/// Runs `f` as the handling of `key`'s command: its replies coalesce under that key.
pub async fn asked<F: std::future::Future>(key: String, f: F) -> F::Output {
    ASKED.scope(key, f).await
}

/// The command being answered now, if any.
pub fn asking() -> Option<String> {
    ASKED.try_with(Clone::clone).ok()
}

/// Queues `text`, which names the host already (the overview, the greeting, the help), as it is.
/// A reply to a command ([`asked`]) replaces that person's earlier answer to the same command if
/// it still waits, and the chat's waiting replies are capped: a chatty group can queue only so
/// much, and its alerts go first anyway.
pub fn reply_headed(s: &Services, chat: i64, text: &str, markup: Option<&teloxide::types::InlineKeyboardMarkup>) -> anyhow::Result<()> {
    match asking() {
        Some(key) => {
            let lang = s.lang(chat);
            outbox_queue::enqueue_reply(&mut s.store()?, chat, text, markup, &key, |n| t!(lang, "reply-dropped-note", count = n))?;
        }
        None => {
            outbox_queue::enqueue(&mut s.store()?, chat, text, false, markup)?;
        }
    }
    s.wake.notify_one();
    Ok(())
}

pub fn unknown_job(cfg: &Config, id: &str, lang: Lang) -> String {
    t!(lang, "reply-unknown-job", id = id.chars().take(64).collect::<String>(), known = cfg.job_ids().join(", "))
}

/// A command without a job: a button per job it applies to (or words saying there is none);
/// Start and Stop by whether each job runs now.
pub async fn pick(s: &Services, chat: i64, cfg: &Config, action: JobPress) -> HandlerResult {
    let running = match action {
        JobPress::Start | JobPress::Stop => crate::engine::overview::running_now(&s.paths, cfg).await?,
        JobPress::Run | JobPress::Logs | JobPress::Chart => Default::default(),
    };
    pick_by(s, chat, cfg, action, &running)
}

/// [`pick`] with `running` known (empty for the actions that do not depend on it).
pub fn pick_by(s: &Services, chat: i64, cfg: &Config, action: JobPress, running: &std::collections::HashMap<String, bool>) -> HandlerResult {
    let lang = s.lang(chat);
    let k = views::picker(&mut s.store()?, chat, cfg, action, lang, running)?;
    let word = views::action_word(action, lang);
    let text = match (k.is_some(), action) {
        (true, _) => t!(lang, "reply-pick", action = &word),
        // Nothing to stop is nothing running (not a permission), nothing to start is all running.
        (false, JobPress::Stop) => t!(lang, "reply-none-running"),
        (false, JobPress::Start) => t!(lang, "reply-all-running"),
        (false, JobPress::Run | JobPress::Logs | JobPress::Chart) => t!(lang, "reply-no-job", action = &word),
    };
    reply(s, chat, &text, k.as_ref())
}

/// Telegram's limit for a press's answer (0-200 characters): longer ones are refused whole.
pub const ANSWER_LIMIT: usize = 200;

/// `text` cut to [`ANSWER_LIMIT`] characters (an ellipsis shows the cut).
pub fn answer_text(text: &str) -> String {
    if text.chars().count() <= ANSWER_LIMIT {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(ANSWER_LIMIT - 1).collect();
    cut.push('…');
    cut
}

/// Answers a press, best effort: Telegram refuses answers to presses that waited too long
/// (queued while the daemon was down), and what the press asked for must happen all the same.
/// Sent on the direct path: a 5xx costs no built-in 10 s sleep, which would hold up the
/// chat's next updates behind this handler.
pub async fn answer(bot: &Bot, q: &CallbackQuery, text: &str) -> HandlerResult {
    let mut req = AnswerCallbackQuery::new(q.id.clone());
    req.text = Some(answer_text(text));
    if let Err(e) = super::direct::call(bot, &req).await {
        tracing::warn!(error = %e, "could not answer a button press (it was handled all the same)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_press_answer_is_cut_to_telegrams_200_characters() {
        let long = format!("Acting on {}", "j".repeat(251));
        let cut = super::answer_text(&long);
        assert_eq!(cut.chars().count(), super::ANSWER_LIMIT);
        assert!(cut.ends_with('…'));
        assert_eq!(super::answer_text("short"), "short");
    }
}
