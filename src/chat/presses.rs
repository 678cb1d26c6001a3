//! Button presses (callback queries): routed by the action stored with their token; every one
//! is answered, also when refused or stale.

use super::command_acts::{act, logs, set_lang};
use super::respond::answer;
use super::{views, Services};
use crate::config::Config;
use crate::engine::jobs::Action;
use crate::i18n::Lang;
use crate::policy::press::{JobPress, Press};
use crate::store::callbacks::{self, Callback, Redeemed};
use crate::store::decision_rows;
use crate::t;
use dptree::case;
use std::sync::Arc;
use teloxide::dispatching::UpdateHandler;

use teloxide::prelude::*;

use teloxide::{ApiError, RequestError};

type HandlerResult = anyhow::Result<()>;

/// A press after its token was looked up.
#[derive(Debug, Clone)]
pub enum Pressed {
    /// A valid token, now used.
    Valid(Callback),
    /// Pressed before.
    Used,
    /// Never issued, issued to another chat, or the store failed.
    Unknown,
}

/// The callback branch of `schema()`: the allowlist as a filter node, the token redeemed once,
/// then one endpoint per [`Press`]; everything refused or stale is answered too.
pub fn schema() -> UpdateHandler<anyhow::Error> {
    let on_job = dptree::entry()
        .branch(case![JobPress::Start].map(|| Action::Start).endpoint(on_act))
        .branch(case![JobPress::Stop].map(|| Action::Stop).endpoint(on_act))
        .branch(case![JobPress::Run].map(|| Action::Run).endpoint(on_act))
        .branch(case![JobPress::Logs].endpoint(on_logs))
        .branch(case![JobPress::Chart].endpoint(on_chart));
    let actions = dptree::map(|cb: Callback| cb.action)
        .branch(case![Press::Approve].endpoint(decide))
        .branch(case![Press::Reject].endpoint(decide))
        .branch(case![Press::Lang].endpoint(on_lang))
        .branch(case![Press::Refresh].endpoint(on_refresh))
        .branch(case![Press::Ack].endpoint(on_ack_or_snooze))
        .branch(case![Press::Snooze].endpoint(on_ack_or_snooze))
        .branch(case![Press::Job(job)].chain(on_job));
    Update::filter_callback_query()
        .branch(
            dptree::filter(|q: CallbackQuery, s: Arc<Services>| press_chat(&q).is_some_and(|c| s.allowed(c)))
                .inspect(|q: CallbackQuery, s: Arc<Services>| {
                    if let Some(c) = press_chat(&q) {
                        s.heard_from(c);
                        s.release_held(c);
                    }
                })
                .map(redeem)
                .branch(case![Pressed::Valid(cb)].branch(actions).endpoint(gone))
                .branch(
                    case![Pressed::Used]
                        .endpoint(|bot: Bot, q: CallbackQuery, s: Arc<Services>| async move { answer(&bot, &q, &t!(press_lang(&s, &q), "answer-used")).await }),
                )
                .endpoint(|bot: Bot, q: CallbackQuery, s: Arc<Services>| async move { answer(&bot, &q, &t!(press_lang(&s, &q), "answer-unknown")).await }),
        )
        .endpoint(refused)
}

/// The chat a press came from; a message too old for Telegram to show the bot (inaccessible)
/// still names its chat, so its owner is not told "Not allowed".
fn press_chat(q: &CallbackQuery) -> Option<i64> {
    q.message.as_ref().map(|m| m.chat().id.0)
}

fn press_lang(s: &Services, q: &CallbackQuery) -> Lang {
    s.lang(press_chat(q).unwrap_or(0))
}

/// Marks the token used by the presser (atomically: two presses at once give one `Valid`).
fn redeem(q: CallbackQuery, s: Arc<Services>) -> Pressed {
    let chat = press_chat(&q).unwrap_or(0);
    let r = s.store().and_then(|mut st| callbacks::redeem(&mut st, q.data.as_deref().unwrap_or(""), chat, q.from.id.0 as i64));
    match r {
        Ok(Redeemed::Ok(cb)) => Pressed::Valid(cb),
        Ok(Redeemed::Used) => Pressed::Used,
        Ok(Redeemed::Unknown) => Pressed::Unknown,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "could not look up a button token");
            Pressed::Unknown
        }
    }
}

async fn refused(bot: Bot, q: CallbackQuery, s: Arc<Services>) -> HandlerResult {
    let (chat, user) = (press_chat(&q), q.from.id.0 as i64);
    tracing::warn!(chat_id = ?chat, user_id = user, "button press from outside the allowlist refused");
    callbacks::record_event(&mut s.store()?, "refused", chat.unwrap_or(0), Some(user), None, "callback")?;
    let lang = q.from.language_code.as_deref().and_then(Lang::parse).unwrap_or_default();
    answer(&bot, &q, &t!(lang, "answer-not-allowed")).await
}

async fn gone(bot: Bot, q: CallbackQuery, s: Arc<Services>) -> HandlerResult {
    answer(&bot, &q, &t!(press_lang(&s, &q), "answer-gone")).await
}

/// The config in force, or the press is answered that it cannot be acted on now.
async fn config_or_answer(bot: &Bot, q: &CallbackQuery, s: &Services) -> anyhow::Result<Option<Arc<Config>>> {
    let cfg = s.config();
    if cfg.is_none() {
        answer(bot, q, &t!(press_lang(s, q), "answer-config-invalid")).await?;
    }
    Ok(cfg)
}

async fn decide(bot: Bot, q: CallbackQuery, s: Arc<Services>, cb: Callback) -> HandlerResult {
    let Some(cfg) = config_or_answer(&bot, &q, &s).await? else { return Ok(()) };
    super::approval_chat::on_press(&bot, &q, &s, &cb, &cfg).await
}

async fn on_lang(bot: Bot, q: CallbackQuery, s: Arc<Services>, cb: Callback) -> HandlerResult {
    let new = cb.arg.as_deref().and_then(Lang::parse).unwrap_or_default();
    set_lang(&s, cb.chat_id, new, Some(q.from.id.0 as i64))?;
    answer(&bot, &q, new.native_name()).await
}

async fn on_refresh(bot: Bot, q: CallbackQuery, s: Arc<Services>) -> HandlerResult {
    let Some(cfg) = config_or_answer(&bot, &q, &s).await? else { return Ok(()) };
    let lang = press_lang(&s, &q);
    answer(&bot, &q, &t!(lang, "answer-refreshed")).await?;
    refresh(&bot, &q, &s, &cfg, lang).await
}

/// The job a press concerns, when it is still in the config (else the press is answered "gone").
async fn job_or_answer(bot: &Bot, q: &CallbackQuery, s: &Services, cb: &Callback) -> anyhow::Result<Option<(Arc<Config>, String)>> {
    let Some(cfg) = config_or_answer(bot, q, s).await? else { return Ok(None) };
    match cb.job_id.as_deref().and_then(|j| cfg.job(j)).map(|j| j.id.clone()) {
        Some(id) => Ok(Some((cfg, id))),
        None => {
            answer(bot, q, &t!(press_lang(s, q), "answer-gone")).await?;
            Ok(None)
        }
    }
}

async fn on_ack_or_snooze(bot: Bot, q: CallbackQuery, s: Arc<Services>, cb: Callback) -> HandlerResult {
    let Some((cfg, job)) = job_or_answer(&bot, &q, &s, &cb).await? else { return Ok(()) };
    let user = q.from.id.0 as i64;
    // An approver's snooze holds for every chat; anyone else's for their own chat only.
    let everywhere = cb.action == Press::Ack || super::approval_chat::approver_ids(&s, &cfg).contains(&user);
    let t = ack_or_snooze(&s, &cb, user, &job, press_lang(&s, &q), everywhere)?;
    answer(&bot, &q, &t).await?;
    if everywhere {
        mark_other_copies(&s, &cb, &job, &views::person(&q.from), &cfg)?;
    }
    mark_alert(&bot, &q, &s, &cb, &cfg).await
}

/// The line an Ack or Snooze adds to an alert, in `lang`.
fn marked_line(action: Press, who: &str, cfg: &Config, lang: Lang) -> String {
    let now = chrono::Utc::now();
    if action == Press::Snooze {
        let until = (now + chrono::Duration::hours(1)).with_timezone(&cfg.timezone).format("%H:%M").to_string();
        t!(lang, "alert-snoozed-by", who = who, until = until)
    } else {
        t!(lang, "alert-acked-by", who = who, at = now.with_timezone(&cfg.timezone).format("%H:%M").to_string())
    }
}

/// An Ack (or an approver's Snooze) belongs to the alert, not to the copy pressed: every other
/// chat's copy of it gets the same line and loses its Ack and Snooze buttons, silently (an edit).
fn mark_other_copies(s: &Services, cb: &Callback, job: &str, who: &str, cfg: &Config) -> anyhow::Result<()> {
    let Some(key) = cb.arg.as_deref() else { return Ok(()) };
    let mut store = s.store()?;
    for chat in s.config.current().report_chats.iter().filter(|c| **c != cb.chat_id) {
        let line = marked_line(cb.action, who, cfg, s.lang(*chat));
        super::alert_edits::alert(&mut store, *chat, job, key, &line, &[Press::Ack, Press::Snooze])?;
    }
    s.wake.notify_one();
    Ok(())
}

/// Edits the alert an Ack or Snooze was pressed on: one line says who did it and when (or until
/// when), and that alert's Ack/Snooze row goes; its other buttons stay.
async fn mark_alert(bot: &Bot, q: &CallbackQuery, s: &Services, cb: &Callback, cfg: &Config) -> HandlerResult {
    let Some(msg) = q.regular_message() else { return Ok(()) };
    let lang = s.lang(msg.chat.id.0);
    let Some(original) = crate::store::outbox::sent_text(&s.store()?, msg.chat.id.0, msg.id.0)? else { return Ok(()) };
    let line = marked_line(cb.action, &views::person(&q.from), cfg, lang);
    let pressed = q.data.clone().unwrap_or_default();
    let rows: Vec<Vec<teloxide::types::InlineKeyboardButton>> = msg
        .reply_markup()
        .map(|k| k.inline_keyboard.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|row| !row.iter().any(|b| matches!(&b.kind, teloxide::types::InlineKeyboardButtonKind::CallbackData(d) if *d == pressed)))
        .collect();
    let text = format!("{original}\n{line}");
    let keyboard = teloxide::types::InlineKeyboardMarkup::new(rows);
    let edit = super::direct::edit_html(msg.chat.id.0, msg.id.0, super::text::to_html(&text), Some(keyboard.clone()));
    match super::direct::call(bot, &edit).await {
        // What it shows now, so a later edit (the job resumed) keeps this line and these buttons.
        Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => {
            crate::store::alerts::set_shown(&mut s.store()?, msg.chat.id.0, msg.id.0, &text, Some(&serde_json::to_string(&keyboard)?))
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not mark the alert as acknowledged or snoozed");
            Ok(())
        }
    }
}

async fn on_act(bot: Bot, q: CallbackQuery, s: Arc<Services>, cb: Callback, action: Action) -> HandlerResult {
    let Some((cfg, job)) = job_or_answer(&bot, &q, &s, &cb).await? else { return Ok(()) };
    let lang = press_lang(&s, &q);
    if let Some(why) = super::command_acts::not_operator(&s, &cfg, Some(q.from.id.0 as i64), lang) {
        // The button stays for those who may press it.
        callbacks::unredeem(&mut s.store()?, &cb.token)?;
        return answer(&bot, &q, &why).await;
    }
    if let Some(why) = outdated_run(&s, &cb, &job, &cfg, lang)? {
        return answer(&bot, &q, &why).await;
    }
    if let Some(write) = cfg.job(&job).filter(|j| action == Action::Run && j.kind == crate::config::Kind::OneShotWrite) {
        // A write job's button asks for an approval, exactly as typing `/run <job>` does.
        answer(&bot, &q, &t!(lang, "answer-acting", action = views::action_word(JobPress::Run, lang), id = &job)).await?;
        let Some(chat) = q.message.as_ref().map(|m| m.chat()) else { return Ok(()) };
        return super::approval_chat::request(&s, cb.chat_id, &super::told::Actor::of(Some(&q.from), chat), write, &cfg).await;
    }
    let Some(chat) = q.message.as_ref().map(|m| m.chat()) else { return Ok(()) };
    act(&s, cb.chat_id, &cfg, action, &job, &super::told::Actor::of(Some(&q.from), chat))?;
    answer(&bot, &q, &t!(lang, "answer-acting", action = views::action_word(JobPress::from(action), lang), id = &job)).await
}

/// Why a button bound to a run that is no longer the job's current one acts on nothing ("this
/// alert is about the run of 22:12; the job was restarted since"); None when it still applies.
fn outdated_run(s: &Services, cb: &Callback, job: &str, cfg: &Config, lang: Lang) -> anyhow::Result<Option<String>> {
    use crate::policy::lifecycle::{outdated, Outdated};
    let Some(run) = cb.run else { return Ok(None) };
    let store = s.store()?;
    let Some(why) = outdated(Some(run), &store.job_state(job)?, &crate::store::decision_rows::of(&store, job)?) else { return Ok(None) };
    tracing::info!(job, chat_id = cb.chat_id, run, ?why, "a button about an earlier run was pressed; refused");
    let now = chrono::Utc::now();
    let at = chrono::DateTime::from_timestamp(run, 0).map(|t| crate::render::short_clock(t, now, cfg.timezone)).unwrap_or_default();
    Ok(Some(match why {
        Outdated::Restarted => t!(lang, "answer-run-restarted", run = at),
        Outdated::Ended => t!(lang, "answer-run-ended", run = at),
    }))
}

/// The `/logs` picker's buttons: the output tail of the job's last run.
async fn on_logs(bot: Bot, q: CallbackQuery, s: Arc<Services>, cb: Callback) -> HandlerResult {
    let Some((cfg, job)) = job_or_answer(&bot, &q, &s, &cb).await? else { return Ok(()) };
    logs(&s, cb.chat_id, &cfg, &job).await?;
    let lang = press_lang(&s, &q);
    answer(&bot, &q, &t!(lang, "answer-acting", action = views::action_word(JobPress::Logs, lang), id = &job)).await
}

async fn on_chart(bot: Bot, q: CallbackQuery, s: Arc<Services>, cb: Callback) -> HandlerResult {
    let Some((cfg, job)) = job_or_answer(&bot, &q, &s, &cb).await? else { return Ok(()) };
    super::chart_reply::chart(bot.clone(), &s, cb.chat_id, &cfg, &job)?;
    let lang = press_lang(&s, &q);
    answer(&bot, &q, &t!(lang, "answer-acting", action = views::action_word(JobPress::Chart, lang), id = &job)).await
}

/// Records an Ack (for the alert, every chat) or a Snooze (every chat, or only `cb`'s when not
/// `everywhere`) as the person's decision; the answer to show them.
fn ack_or_snooze(s: &Services, cb: &Callback, user: i64, job: &str, lang: Lang, everywhere: bool) -> anyhow::Result<String> {
    let mut store = s.store()?;
    let now = chrono::Utc::now().timestamp();
    let until = now + 3600;
    let answer = match cb.action {
        Press::Snooze if everywhere => {
            decision_rows::decide(&mut store, job, |d| d.snoozed_until = Some(until))?;
            t!(lang, "answer-snoozed", id = job)
        }
        Press::Snooze => {
            decision_rows::snooze_in_chat(&mut store, job, cb.chat_id, until)?;
            t!(lang, "answer-snoozed-here", id = job)
        }
        _ => {
            decision_rows::decide(&mut store, job, |d| d.acked = cb.arg.clone().map(|k| (k, now)))?;
            t!(lang, "answer-acked", id = job)
        }
    };
    callbacks::record_event(&mut store, cb.action.as_str(), cb.chat_id, Some(user), Some(job), cb.arg.as_deref().unwrap_or(""))?;
    Ok(answer)
}

async fn refresh(bot: &Bot, q: &CallbackQuery, s: &Arc<Services>, cfg: &Config, lang: Lang) -> HandlerResult {
    let Some(msg) = q.regular_message() else { return Ok(()) };
    let views = crate::engine::overview::observe_all(&s.paths, cfg, None).await?;
    let k = views::overview_keyboard(&mut s.store()?, msg.chat.id.0, &views, lang)?;
    let text = views::overview_text(&s.store()?, &views, cfg, lang);
    if super::text::split(&text, super::text::CHUNK_LIMIT).len() > 1 {
        // Too long for one message (many jobs): a fresh overview in several parts instead of an edit.
        super::outbox_queue::enqueue(&mut s.store()?, msg.chat.id.0, &text, false, Some(&k))?;
        s.wake.notify_one();
        return Ok(());
    }
    let html = super::text::to_html(&text);
    match super::direct::call(bot, &super::direct::edit_html(msg.chat.id.0, msg.id.0, html, Some(k))).await {
        Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
