//! The trial's invariants: every living view agrees with `ops-monitor status --json`; a person's
//! action rings only its direct reply in its chat; a zh-CN chat shows no English heading. Each
//! returns what is wrong (None: it holds).

use super::{ftl_prefix, Trial};
use crate::support::{GROUP, ME};

/// The long jobs the live message follows: (id, name).
const LONG: &[(&str, &str)] = &[("scan", "Scan disk")];
/// The checks whose alerts say when they pass again: (id, name).
const CHECKS: &[&str] = &["health"];
/// Headings every report, live message or request in English starts a line with.
const HEADINGS: &[&str] =
    &["report-header", "fact-status", "fact-message", "fact-progress", "live-idle", "digest-title", "approval-request", "section-heading"];

impl Trial {
    /// Each chat's live message shows exactly the jobs status says run.
    pub fn live_views(&self) -> Option<String> {
        for chat in [ME, GROUP] {
            let mid = self.text_rows(&format!("SELECT COALESCE(tg_message_id,'') FROM live_message WHERE chat_id={chat}"));
            let view = mid.first().and_then(|r| r[0].parse::<i64>().ok()).and_then(|mid| self.view(chat, mid));
            let text = view.as_ref().map(|v| v.text.clone()).unwrap_or_default();
            let buttons = view.as_ref().map(|v| self.buttons(v)).unwrap_or_default();
            let idle = ftl_prefix(&self.lang_of(chat), "live-idle");
            for (id, name) in LONG {
                let shown = text.lines().any(|l| l.contains(name) && !l.starts_with(&idle));
                let running = self.running(id);
                if running != shown {
                    return Some(format!(
                        "chat {chat}'s live message {} {id} while status says running={running}: {text:?}",
                        if shown { "shows" } else { "omits" }
                    ));
                }
                let acts = |b: &&(String, String, String, Option<i64>)| b.2 == *id && (b.3.is_none() || b.3 == self.current_run(id));
                if let Some(b) = buttons.iter().filter(acts).find(|b| b.1 == if running { "start" } else { "stop" }) {
                    return Some(format!("chat {chat}'s live message offers {} for {id} while status says running={running}: {text:?}", b.1));
                }
            }
        }
        None
    }

    /// Every copy of every alert: acknowledged ones say so and lost Ack/Snooze; a check's alert
    /// says it passes again once it does; no Stop on a job that does not run, no Start on one
    /// that runs, unless the button is bound to an earlier run (it refuses).
    pub fn alert_views(&self) -> Option<String> {
        for job in LONG.iter().map(|j| j.0).chain(CHECKS.iter().copied()) {
            let acked = self
                .text_rows(&format!("SELECT COALESCE(acked_key,'') FROM job_decisions WHERE job_id='{job}'"))
                .first()
                .map(|r| r[0].clone())
                .unwrap_or_default();
            let running = self.running(job);
            let current = self.current_run(job);
            for (chat, mid, key) in self.alerts(job) {
                let Some(view) = self.view(chat, mid) else { continue };
                // An alert stays in the language it was written in when the chat switches later.
                let says = |key: &str| ["en", "zh-CN"].iter().any(|l| view.text.contains(&ftl_prefix(l, key)));
                let buttons = self.buttons(&view);
                let has = |a: &str| buttons.iter().filter(|b| b.1 == a).map(|b| b.3).collect::<Vec<_>>();
                let wrong = |why: &str| Some(format!("chat {chat}'s alert {mid} about {job} ({key}) {why}: {:?}", view.text));
                if key == acked && (!has("ack").is_empty() || !has("snooze").is_empty() || !says("alert-acked-by")) {
                    return wrong("was acknowledged but does not show it (or keeps Ack/Snooze)");
                }
                if CHECKS.contains(&job) && self.check_passes(job) && !says("note-recovered") {
                    return wrong("is about a check that passes now, and does not say so");
                }
                let resumed = view.text.lines().any(|l| l.starts_with("▶️") && l.contains('→'));
                if key.starts_with("crashed:") && running && !resumed {
                    return wrong("is about a crash, the job was started again and runs, and the alert does not say so");
                }
                let acts = |bound: Option<i64>| bound.is_none() || bound == current;
                if !running && has("stop").into_iter().any(acts) {
                    return wrong("offers a Stop that would act, on a job that does not run");
                }
                if running && has("start").into_iter().any(acts) {
                    return wrong("offers a Start that would act, on a job that runs");
                }
            }
        }
        None
    }

    /// The run a button about `job` acts on now (`policy::lifecycle::current_run`, with a start
    /// a person asked for after it): None when none is current.
    fn current_run(&self, job: &str) -> Option<i64> {
        let rows = self.text_rows(&format!(
            "SELECT COALESCE(json_extract(state,'$.run.Running.since'), json_extract(state,'$.run.Crashed.at') - json_extract(state,'$.run.Crashed.ran_seconds'), '') FROM job_state WHERE job_id='{job}'"
        ));
        rows.first().and_then(|r| r[0].parse().ok())
    }

    /// Every copy of every decided request has lost Approve/Reject, and each chat shown a request
    /// that ran was told its outcome (in the copy or in a message after it).
    pub fn request_views(&self) -> Option<String> {
        let rows = self.text_rows(
            "SELECT a.id, a.state, o.chat_id, o.tg_message_id FROM approvals a JOIN approval_messages m ON m.approval_id=a.id JOIN outbox o ON o.id=m.outbox_id WHERE o.tg_message_id IS NOT NULL",
        );
        let sent = self.env.tg.sent();
        for r in rows {
            let (id, state, chat, mid): (&str, &str, i64, i64) = (&r[0], &r[1], r[2].parse().unwrap(), r[3].parse().unwrap());
            let Some(view) = self.view(chat, mid) else { continue };
            let buttons = self.buttons(&view);
            if state != "pending" && buttons.iter().any(|b| b.1 == "approve" || b.1 == "reject") {
                return Some(format!("chat {chat}'s copy of request #{id} ({state}) still offers Approve/Reject: {:?}", view.text));
            }
            let outcome = |t: &str| t.contains(&format!("#{id}")) && ["exit 0", "退出码 0"].iter().any(|e| t.contains(e));
            let told = sent.iter().any(|m| m.chat_id == chat && (m.message_id == mid || (m.method == "sendmessage" && m.message_id > mid)) && outcome(&m.text));
            if state == "succeeded" && !told {
                return Some(format!("chat {chat} was shown request #{id}, which ran, and never told its outcome: {:?}", view.text));
            }
        }
        None
    }

    /// For each action a person took in a chat, at most one message rang in that chat before
    /// the next step: its direct reply.
    pub fn rings_for_own_actions(&self) -> Option<String> {
        let sent = self.env.tg.sent();
        for (i, s) in self.steps.iter().enumerate() {
            let Some(chat) = s.chat else { continue };
            let end = self.steps.get(i + 1).map_or(sent.len(), |n| n.mark);
            let rang: Vec<&str> =
                sent[s.mark..end].iter().filter(|m| m.chat_id == chat && m.method == "sendmessage" && !m.silent()).map(|m| m.text.as_str()).collect();
            if rang.len() > 1 {
                return Some(format!("{:?} in chat {chat} rang {} times there (only its reply may): {rang:#?}", s.what, rang.len()));
            }
        }
        None
    }

    /// Texts sent to (or edited in) the group while it was set to zh-CN hold no English heading.
    pub fn english_in_zh(&self) -> Option<String> {
        let sent = self.env.tg.sent();
        let heads: Vec<String> = HEADINGS.iter().map(|k| ftl_prefix("en", k)).filter(|h| !h.is_empty() && h != "•").collect();
        let mut zh = false;
        for (i, s) in self.steps.iter().enumerate() {
            if s.chat == Some(GROUP) && s.what.starts_with("/lang") {
                zh = s.what.ends_with("zh-CN");
                continue;
            }
            let end = self.steps.get(i + 1).map_or(sent.len(), |n| n.mark);
            for m in sent[s.mark..end].iter().filter(|m| zh && m.chat_id == GROUP) {
                if let Some(h) = heads.iter().find(|h| m.text.lines().any(|l| l.trim_start().starts_with(h.as_str()))) {
                    return Some(format!("the zh-CN group got the English heading {h:?}: {:?}", m.text));
                }
            }
        }
        None
    }
}
