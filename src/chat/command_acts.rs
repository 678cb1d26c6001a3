//! What the chat's commands do (start, stop, run, logs, status, language), whether typed or
//! pressed: `handlers` and `presses` route here; the outcome is a reply.

use super::respond::{pick, reply, reply_headed, unknown_job};
use super::told::{tell, Actor};
use super::views;
use super::Services;
use crate::config::Config;
use crate::engine::jobs::{self, Action};
use crate::i18n::Lang;
use crate::policy::acted::{Acted, Change};
use crate::policy::press::{JobPress, Press};
use crate::store::callbacks;
use crate::t;
use std::sync::Arc;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

type HandlerResult = anyhow::Result<()>;

/// `/lang`: a button per language; `/lang zh-CN`: switches this chat at once.
pub fn choose_lang(s: &Services, chat: i64, user: Option<i64>, arg: &str) -> HandlerResult {
    let lang = s.lang(chat);
    if arg.is_empty() {
        let mut store = s.store()?;
        let row: Vec<_> = crate::i18n::ALL
            .iter()
            .map(|l| Ok(InlineKeyboardButton::callback(l.native_name(), callbacks::issue(&mut store, chat, Press::Lang, None, Some(l.code()))?)))
            .collect::<anyhow::Result<_>>()?;
        return reply(s, chat, &t!(lang, "reply-lang-pick"), Some(&InlineKeyboardMarkup::new(vec![row])));
    }
    match Lang::parse(arg) {
        Some(new) => set_lang(s, chat, new, user),
        None => {
            let available = crate::i18n::ALL.iter().map(|l| l.code()).collect::<Vec<_>>().join(", ");
            reply(s, chat, &t!(lang, "reply-lang-unknown", code = arg.chars().take(32).collect::<String>(), available = available), None)
        }
    }
}

/// Stores the chat's language and confirms in the new language.
pub fn set_lang(s: &Services, chat: i64, lang: Lang, user: Option<i64>) -> HandlerResult {
    crate::store::prefs::set_chat_lang(&mut s.store()?, chat, lang, user)?;
    reply(s, chat, &t!(lang, "reply-lang-set"), None)
}

/// `/status [job]`: the overview with the buttons that fit each job now.
pub async fn status(s: &Arc<Services>, chat: i64, cfg: &Config, arg: &str) -> HandlerResult {
    let lang = s.lang(chat);
    let views = crate::engine::overview::observe_all(&s.paths, cfg, (!arg.is_empty()).then_some(arg)).await?;
    if views.is_empty() && !arg.is_empty() {
        return reply(s, chat, &unknown_job(cfg, arg, lang), None);
    }
    let k = views::overview_keyboard(&mut s.store()?, chat, &views, lang)?;
    let text = views::overview_text(&s.store()?, &views, cfg, lang);
    reply_headed(s, chat, &text, Some(&k))
}
/// `/logs <job>`: the output tail of its last run; `/logs` alone: a button per job.
pub async fn logs(s: &Services, chat: i64, cfg: &Config, arg: &str) -> HandlerResult {
    let lang = s.lang(chat);
    if arg.is_empty() {
        return pick(s, chat, cfg, JobPress::Logs).await;
    }
    let Some(job) = cfg.job(arg) else { return reply(s, chat, &unknown_job(cfg, arg, lang), None) };
    let text = match s.store()?.runs(&job.id, 1)?.into_iter().next() {
        None => t!(lang, "reply-no-run", id = &job.id),
        Some(r) => {
            let out = format!("{}\n{}", r.stdout_tail.unwrap_or_default().trim(), r.stderr_tail.unwrap_or_default().trim());
            let summary = r.summary.as_deref().map_or_else(|| t!(lang, "in-flight"), |s| crate::render::stored_summary(s, lang));
            let head = t!(lang, "reply-logs", action = views::run_action_word(&r.action, lang), id = &job.id, summary = summary);
            format!("{head}\n{}", crate::policy::check::tail_chars(&out, 3000))
        }
    };
    let log = match job.kind {
        crate::config::Kind::LongRunningRead => {
            // Read off the async workers and bounded: a log path that is a FIFO or on a hung
            // mount blocks its reader, and must not hold up the bot's other chats.
            let file = jobs::observe(job, &s.paths).await.ok().and_then(|st| st.log_file);
            match file {
                Some(f) => {
                    // Bounded (a FIFO or a hung mount): no tail rather than a handler that never returns.
                    let read = tokio::task::spawn_blocking(move || crate::engine::logfile::tail_within(&f, crate::engine::logfile::READ_WITHIN));
                    read.await.ok().and_then(Result::ok).flatten()
                }
                None => None,
            }
        }
        _ => None,
    };
    match log {
        Some(tail) => reply(s, chat, &format!("{text}\n\n{}\n{tail}", t!(lang, "note-log-tail")), None),
        None => reply(s, chat, &text, None),
    }
}
/// Start/stop/run from the chat: refused or run in a task; the outcome is a reply, and each
/// other report chat is told silently who did what from where.
pub fn act(s: &Arc<Services>, chat: i64, cfg: &Config, action: Action, arg: &str, actor: &Actor) -> HandlerResult {
    let lang = s.lang(chat);
    if let Some(why) = not_operator(s, cfg, actor.user, lang) {
        return reply(s, chat, &why, None);
    }
    let word = views::action_word(JobPress::from(action), lang);
    if arg.is_empty() {
        // Start and Stop are offered by the jobs' status now, observed off the handler.
        let (s, cfg, asked) = (s.clone(), cfg.clone(), super::respond::asking());
        tokio::spawn(async move {
            let picked = pick(&s, chat, &cfg, JobPress::from(action));
            let queued = match asked {
                Some(key) => super::respond::asked(key, picked).await,
                None => picked.await,
            };
            if let Err(e) = queued {
                tracing::error!(error = %format!("{e:#}"), "could not queue the job picker");
            }
        });
        return Ok(());
    }
    let Some(job) = cfg.job(arg).cloned() else { return reply(s, chat, &unknown_job(cfg, arg, lang), None) };
    if let Err(e) = jobs::check_explicit(&job, action, false) {
        return reply(s, chat, &t!(lang, "reply-refused", reason = e.to_string()), None);
    }
    // The same action on the same job from one chat runs once at a time: a burst of /run (or
    // presses) waits for the run in flight instead of starting copies of it.
    let Some(flight) = s.in_flight(chat, action, &job.id) else {
        return reply(s, chat, &t!(lang, "reply-in-flight", action = &word, id = &job.id), None);
    };
    let (s, actor) = (s.clone(), actor.clone());
    let asked = super::respond::asking();
    tokio::spawn(async move {
        let _flight = flight;
        let (text, did) = perform(&s, &job, action, chat, lang).await;
        let queued = match asked {
            Some(key) => super::respond::asked(key, async { reply(&s, chat, &text, None) }).await,
            None => reply(&s, chat, &text, None),
        };
        if let Err(e) = queued.and_then(|()| did.map_or(Ok(()), |d| tell_others(&s, chat, &job, &actor, &d))) {
            tracing::error!(error = %e, "could not queue the action result");
        }
    });
    Ok(())
}

/// Runs `action` on `job` for `chat` (the same engine function and renderer as `ops-monitor
/// start|stop|run`): the reply's text, and what it came to (None: it failed). A check that
/// passes again has every chat's copy of its alert say so.
async fn perform(s: &Services, job: &crate::config::Job, action: Action, chat: i64, lang: Lang) -> (String, Option<Acted>) {
    match crate::engine::job_acts::perform(job, action, &s.paths, &format!("chat:{chat}"), false).await {
        Ok((acted, amends)) => {
            if let Err(e) = amends.map_or(Ok(()), |sec| amend_alerts(s, &sec)) {
                tracing::warn!(error = %format!("{e:#}"), "could not amend the check's alerts");
            }
            (crate::render::acted_text::chat_text(&acted, job, lang), Some(acted))
        }
        Err(e) => {
            let word = views::action_word(JobPress::from(action), lang);
            // The engine's error names the action and job for the CLI's "ERROR: stop scan: …";
            // the chat's line names them already.
            let error = e.to_string();
            let error = error.strip_prefix(&format!("{} {}: ", action.as_str(), job.id)).unwrap_or(&error).to_string();
            (t!(lang, "action-failed", action = &word, id = &job.id, error = error), None)
        }
    }
}

/// A check run from a chat passed again: every chat's copy of its alert says so.
fn amend_alerts(s: &Services, sec: &crate::policy::report::Section) -> anyhow::Result<()> {
    let mut store = s.store()?;
    let default = s.config().map_or(Default::default(), |c| c.locale);
    for chat in s.config.current().report_chats.iter().copied() {
        let lang = crate::store::prefs::chat_lang(&store, chat, default)?;
        super::alert_edits::queue(&mut store, chat, sec, lang)?;
    }
    s.wake.notify_one();
    Ok(())
}

/// Tells every report chat but `chat` (silently, in its language) that `actor` did `did` to
/// `job`: a member's stop in the group must not leave the owner's chat showing it running.
fn tell_others(s: &Services, chat: i64, job: &crate::config::Job, actor: &Actor, did: &Acted) -> HandlerResult {
    let others: Vec<i64> = s.config.current().report_chats.iter().copied().filter(|c| *c != chat).collect();
    let id = &job.id;
    // A refused start changed nothing: nobody else needs to hear of it.
    let Some(change) = did.change() else { return Ok(()) };
    tell(s, &others, actor, |lang, who, at, place| match change {
        Change::Started => t!(lang, "did-start", id = id, who = who, at = at, place = place),
        Change::Stopped => t!(lang, "did-stop", id = id, who = who, at = at, place = place),
        Change::Ran => {
            let summary = did.outcome().map(|o| crate::render::outcome_summary(o, lang)).unwrap_or_default();
            t!(lang, "did-run", id = id, who = who, at = at, place = place, summary = summary)
        }
    })
}

/// Why `user` may not start, stop or run jobs from a chat (`telegram.operatorUserIds` is set and
/// they are neither an operator nor an approver); None when they may.
pub fn not_operator(s: &Services, cfg: &Config, user: Option<i64>, lang: Lang) -> Option<String> {
    let approvers = super::approval_chat::approver_ids(s, cfg);
    if crate::policy::approval::may_operate(user, &cfg.telegram.operator_user_ids, &approvers) {
        return None;
    }
    tracing::info!(user_id = ?user, "a start, stop or run from someone who is not an operator refused");
    Some(t!(lang, "refuse-not-operator", user = user.map_or("?".into(), |u| u.to_string())))
}
