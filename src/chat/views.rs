//! Chat views: the /status overview, job pickers, alert buttons (an action's result is
//! `render::acted_text`'s, shared with the CLI).

use crate::config::{Config, Job, Kind};
use crate::engine::overview::JobView;
use crate::i18n::Lang;
use crate::policy::press::{JobPress, Press};
use crate::policy::report::Section;
use crate::render::{self, overview_text, Report};
use crate::store::callbacks::issue;
use crate::store::Store;
use crate::t;
use anyhow::Result;
use chrono_tz::Tz;
use std::collections::HashMap;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

/// Telegram refuses a message whose inline keyboard has more than 100 buttons, and the text
/// would be lost with it: keyboards are cut to this many (the text still lists everything).
pub const MAX_BUTTONS: usize = 100;

/// True when `next` more buttons (plus `reserve` kept for later rows) still fit.
fn room(rows: &[Vec<InlineKeyboardButton>], next: usize, reserve: usize) -> bool {
    rows.iter().map(Vec::len).sum::<usize>() + next + reserve <= MAX_BUTTONS
}

fn button(store: &mut Store, chat: i64, label: String, action: Press, job: Option<&str>, arg: Option<&str>) -> Result<InlineKeyboardButton> {
    Ok(InlineKeyboardButton::callback(label, issue(store, chat, action, job, arg)?))
}

/// Actions a person may trigger from the chat for this job.
pub fn actions(job: &Job) -> &'static [JobPress] {
    match job.kind {
        Kind::LongRunningRead => &[JobPress::Start, JobPress::Stop],
        Kind::OneShotRead | Kind::OneShotWrite => &[JobPress::Run],
    }
}

fn label(action: JobPress, job: &str, lang: Lang) -> String {
    match action {
        JobPress::Start => t!(lang, "btn-start", job = job),
        JobPress::Stop => t!(lang, "btn-stop", job = job),
        JobPress::Logs => t!(lang, "btn-logs", job = job),
        JobPress::Chart => t!(lang, "btn-chart", job = job),
        JobPress::Run => t!(lang, "btn-run", job = job),
    }
}

pub use crate::render::acted_text::action_word;

pub use crate::render::acted_text::run_action_word;

/// The /status overview text: a header naming the host, then per job one line with its
/// lifecycle word and age, its own `message`, its progress at a glance (bar, `done/total unit`,
/// rate and ETA) and, where it adds something, its last run.
pub fn overview_text(store: &Store, views: &[JobView], cfg: &Config, lang: Lang) -> String {
    let tz = cfg.timezone;
    let now = chrono::Utc::now();
    let time = render::clock(now, now, tz);
    let mut lines = vec![t!(lang, "overview-header", host = &cfg.host, count = views.len(), time = time)];
    for v in views {
        let told = overview_text::job_lines(v, now, tz, lang, overview_text::Progress::Brief);
        let mut line = t!(lang, "overview-line", name = &v.job.name, id = &v.job.id, summary = told.summary.as_str());
        for l in told.lines {
            line.push_str(&format!("\n{l}"));
        }
        lines.push(line);
    }
    if let Ok(Some((n, chat, user, at))) = crate::store::callbacks::refused_summary(store) {
        let when = chrono::DateTime::from_timestamp(at, 0).map(|t| t.with_timezone(&tz).format("%m-%d %H:%M").to_string()).unwrap_or_default();
        lines.push(t!(lang, "overview-refused", count = n, chat = chat, user = user.map_or("-".into(), |u| u.to_string()), when = when));
    }
    lines.join("\n")
}

/// Buttons for the overview: per job its actions, then Refresh.
pub fn overview_keyboard(store: &mut Store, chat: i64, views: &[JobView], lang: Lang) -> Result<InlineKeyboardMarkup> {
    let mut rows = Vec::new();
    for v in views {
        let now = possible_now(v);
        if !room(&rows, now.len(), 1) {
            break;
        }
        let row: Vec<_> = now.iter().map(|a| button(store, chat, job_label(*a, &v.job, lang), Press::Job(*a), Some(&v.job.id), None)).collect::<Result<_>>()?;
        if !row.is_empty() {
            rows.push(row);
        }
    }
    rows.push(vec![button(store, chat, t!(lang, "btn-refresh"), Press::Refresh, None, None)?]);
    Ok(InlineKeyboardMarkup::new(rows))
}

/// The actions of a job that are possible now: Stop for a running long job, Start for one that
/// is not running (while its status is unavailable, by what the stored state last saw: never
/// Stop for a job that never ran), Run for a check, a request for a write job.
pub fn possible_now(v: &JobView) -> &'static [JobPress] {
    match (&v.job.kind, &v.status) {
        (Kind::LongRunningRead, Some(Ok(s))) if s.running => &[JobPress::Stop],
        (Kind::LongRunningRead, Some(Ok(_))) => &[JobPress::Start],
        (Kind::LongRunningRead, _) if v.seen_running => &[JobPress::Stop],
        (Kind::LongRunningRead, _) => &[JobPress::Start],
        (Kind::OneShotRead | Kind::OneShotWrite, _) => actions(&v.job),
    }
}

/// A job's button for `action` as every picker and the overview show it: a write job's Run is a
/// request ("📝 Request Rotate marker"), since pressing it asks for an approval.
fn job_label(action: JobPress, job: &Job, lang: Lang) -> String {
    match (action, job.kind) {
        (JobPress::Run, Kind::OneShotWrite) => t!(lang, "btn-request", job = &job.name),
        (JobPress::Start | JobPress::Stop | JobPress::Run | JobPress::Logs | JobPress::Chart, _) => label(action, &job.name, lang),
    }
}

/// A picker: one button per job that allows `action`.
/// Start and Stop are offered only where they can be done now, by `running` (job id → runs now,
/// [`crate::engine::overview::running_now`]): Start for a job that does not run, Stop for one that
/// does.
pub fn picker(
    store: &mut Store,
    chat: i64,
    cfg: &Config,
    action: JobPress,
    lang: Lang,
    running: &HashMap<String, bool>,
) -> Result<Option<InlineKeyboardMarkup>> {
    let runs = |j: &Job| running.get(&j.id).copied().unwrap_or(false);
    let applies = |j: &Job| match action {
        JobPress::Logs => true,
        JobPress::Chart => j.kind == Kind::LongRunningRead,
        JobPress::Start => actions(j).contains(&action) && !runs(j),
        JobPress::Stop => actions(j).contains(&action) && runs(j),
        JobPress::Run => actions(j).contains(&action),
    };
    let rows: Vec<Vec<_>> = cfg
        .jobs
        .iter()
        .filter(|j| applies(j))
        .take(MAX_BUTTONS)
        .map(|j| Ok(vec![button(store, chat, job_label(action, j, lang), Press::Job(action), Some(&j.id), None)?]))
        .collect::<Result<_>>()?;
    Ok((!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows)))
}

/// The keyboard rows of each section of a report (Verify, the fitting actions, Ack / Snooze), as many as fit one
/// message; a merged backlog keeps the rows of the sections that still need a decision.
pub fn section_rows(store: &mut Store, chat: i64, sections: &[Section], lang: Lang) -> Result<Vec<Vec<Vec<InlineKeyboardButton>>>> {
    section_rows_reusing(store, chat, sections, lang, &HashMap::new())
}

/// [`section_rows`], keeping the token of a Verify or Chart button whose label `reuse` holds
/// (the live message's edits: a new token per button and edit would crowd older messages'
/// buttons out of the per-chat cap).
pub fn section_rows_reusing(
    store: &mut Store,
    chat: i64,
    sections: &[Section],
    lang: Lang,
    reuse: &HashMap<String, String>,
) -> Result<Vec<Vec<Vec<InlineKeyboardButton>>>> {
    let kept = |store: &mut Store, label: String, action: Press, job: &str| match reuse.get(&label) {
        Some(token) => Ok(InlineKeyboardButton::callback(label, token.clone())),
        None => button(store, chat, label, action, Some(job), None),
    };
    let mut per_section = vec![Vec::new(); sections.len()];
    let mut rows = Vec::new();
    for (i, s) in sections.iter().enumerate().filter(|(_, s)| s.kind.is_some()) {
        let verify = verify_jobs(s);
        // A failed verification's "Verify" already runs the check again: no "Run again" beside it.
        let fix: Vec<JobPress> =
            s.anomaly.as_ref().map_or(&[][..], |a| a.actions()).iter().copied().filter(|a| *a != JobPress::Run || !verify.contains(&s.job_id)).collect();
        // Progress and completion sections of long jobs offer their chart.
        let chart = s.is_long() && s.anomaly.is_none() && s.status.as_ref().is_some_and(|st| st.progress.is_some());
        if !room(&rows, verify.len() + fix.len() + usize::from(chart) + if s.anomaly.is_some() { 2 } else { 0 }, 0) {
            break;
        }
        let mut mine = Vec::new();
        for j in verify {
            mine.push(vec![kept(store, t!(lang, "btn-verify", job = &j), Press::Job(JobPress::Run), &j)?]);
        }
        if chart {
            mine.push(vec![kept(store, t!(lang, "btn-chart", job = &s.job_id), Press::Job(JobPress::Chart), &s.job_id)?]);
        }
        if let Some(a) = &s.anomaly {
            if !fix.is_empty() {
                let row = fix.iter().map(|act| alert_button(store, chat, *act, &s.job_id, s.run, lang)).collect::<Result<Vec<_>>>()?;
                mine.push(row);
            }
            let key = a.key(s.status.as_ref().and_then(|st| st.progress_key.as_deref()));
            mine.push(vec![
                button(store, chat, t!(lang, "btn-ack", job = &s.job_id), Press::Ack, Some(&s.job_id), Some(&key))?,
                button(store, chat, t!(lang, "btn-snooze", job = &s.job_id), Press::Snooze, Some(&s.job_id), Some(&key))?,
            ]);
        }
        rows.extend(mine.iter().cloned());
        per_section[i] = mine;
    }
    Ok(per_section)
}

/// The button for `action` on an alert of `job` (Start, Stop, Run again, Logs). Start, Stop
/// and Run again are bound to `run` (the start of the run the alert is about, when it is about
/// one): pressed once another run is current, they are refused and act on nothing.
pub fn alert_button(store: &mut Store, chat: i64, action: JobPress, job: &str, run: Option<i64>, lang: Lang) -> Result<InlineKeyboardButton> {
    let run = match action {
        JobPress::Start | JobPress::Stop | JobPress::Run => run,
        JobPress::Logs | JobPress::Chart => None,
    };
    let token = crate::store::callbacks::issue_for_run(store, chat, Press::Job(action), Some(job), None, run)?;
    Ok(InlineKeyboardButton::callback(alert_label(action, job, lang), token))
}

fn alert_label(action: JobPress, job: &str, lang: Lang) -> String {
    match action {
        JobPress::Run => t!(lang, "btn-run-again", job = job),
        JobPress::Start | JobPress::Stop | JobPress::Logs | JobPress::Chart => label(action, job, lang),
    }
}

/// Jobs to offer as "Verify again" (verification results) or "Verify" (interrupted write runs).
fn verify_jobs(s: &Section) -> Vec<String> {
    use crate::policy::report::Note;
    s.notes
        .iter()
        .flat_map(|n| match n {
            Note::Verification { .. } => vec![s.job_id.clone()],
            Note::Interrupted { verify, .. } => verify.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// A tick's report as text, headed with `host`.
pub fn report_text(r: &Report, host: &str, tz: Tz, lang: Lang) -> String {
    render::report_text(r, host, tz, lang)
}

/// A person as Telegram shows them: first (and last) name, and @username when there is one.
pub fn person(u: &teloxide::types::User) -> String {
    let name = u.full_name();
    match &u.username {
        Some(handle) => format!("{name} (@{handle})"),
        None => name,
    }
}

/// [`person`] with the Telegram user id, for requests and decisions kept in the audit trail (a
/// name can be chosen by anyone; the id is who it was).
pub fn person_with_id(u: &teloxide::types::User) -> String {
    format!("{} · id {}", person(u), u.id.0)
}
