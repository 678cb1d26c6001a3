//! One live progress message per report chat: routine progress of every running job in one
//! message, edited in place (silently) instead of piling up. This module decides, from what the
//! chat shows now, whether the next routine text edits that message, replaces it with a new one
//! at the bottom of the chat (and deletes the old one), or waits for Telegram's edit window; and
//! which jobs' parts the message holds.

use super::report::Section;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Least time between two edits of one message (Telegram allows about one edit per message every
/// few seconds; more get 429s). A newer text arriving meanwhile replaces the waiting one.
pub const EDIT_GAP_MS: i64 = 5_000;

/// Age after which the live message is sent anew instead of edited. Telegram lets a bot delete a
/// message only within 48 h of sending it, so the old one is replaced (and deleted) before that.
pub const REPLACE_AFTER_MS: i64 = 47 * 3_600_000;

/// True for routine progress of a running long job: it goes to the chat's live message, not to a
/// message of its own (alerts, status changes and completions keep their own messages, and a
/// section that amends an alert edits that alert).
pub fn is_progress(s: &Section) -> bool {
    !s.loud && s.anomaly.is_none() && s.amends.is_none() && s.is_long() && s.status.as_ref().is_some_and(|st| st.running && !st.completed)
}

/// True when `s` says its long job no longer runs (completed, stopped, crashed): the job's part
/// leaves the live message.
pub fn leaves(s: &Section) -> bool {
    s.is_long() && s.status.as_ref().is_some_and(|st| !st.running || st.completed)
}

/// Whether a job still belongs in the live message, by its stored state: seen running and not
/// completed, not stopped on purpose (recorded the moment a person stops it) and not found
/// crashed. The live message follows this at every check, not only the reports: a completion
/// held by quiet hours or a deliberate stop says nothing, and the job must leave all the same.
pub fn still_running(st: &super::state::JobState, said: &super::decisions::Decisions) -> bool {
    st.last_seen.as_ref().is_some_and(|s| s.running && !s.completed) && !said.stopped() && st.run.crashed_at().is_none()
}

/// How a job that left the live message by its stored state left it: completed, stopped or
/// crashed, with the time (None when the state says none of these: the job left the config, or
/// was disabled). Its idle line names the job and this, as a report would.
pub fn left(st: &super::state::JobState, said: &super::decisions::Decisions) -> Option<super::standing::Standing> {
    use super::standing::Standing;
    use super::state::Run;
    match (st.last_seen.as_ref(), st.run) {
        (Some(seen), run) if seen.completed => Some(Standing::Completed { at: if let Run::Completed { at } = run { Some(at) } else { None } }),
        _ if said.stopped() => Some(Standing::Stopped { at: said.stopped_at }),
        (_, Run::Crashed { at, .. }) => Some(Standing::Crashed { at: Some(at) }),
        _ => None,
    }
}

/// One running job's part of the live message, as rendered for the chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivePart {
    /// The job.
    pub job: String,
    /// Its latest routine progress text.
    pub text: String,
    /// Its buttons (inline keyboard rows, button JSON).
    pub rows: Vec<Vec<Value>>,
    /// The section it was rendered from, so the part can be rendered again in another language
    /// (absent in parts stored before it was kept).
    #[serde(default)]
    pub section: Option<Section>,
    /// The language (code) `text` and `rows` are in.
    #[serde(default)]
    pub lang: String,
    /// When its figures were observed (Unix seconds): the message's header shows the newest, so
    /// a part rendered again in another language does not pass for fresh.
    #[serde(default)]
    pub at: Option<i64>,
}

impl LivePart {
    /// True when this part is in another language than `lang` (code) and can be rendered again
    /// in it: a chat switched with /lang sees its live message in the new language at once, not
    /// job by job as new progress comes.
    pub fn speaks_other_than(&self, lang: &str) -> bool {
        self.lang != lang && self.section.is_some()
    }
}

/// Puts `new` parts into `parts`: a job's newer part replaces its older one in place, a new job
/// is added at the end.
pub fn upsert(parts: &mut Vec<LivePart>, new: Vec<LivePart>) {
    for p in new {
        match parts.iter_mut().find(|q| q.job == p.job) {
            Some(q) => *q = p,
            None => parts.push(p),
        }
    }
}

/// The live message's text and keyboard rows: `header`, then each part, within `units` UTF-16
/// code units and `buttons` buttons; parts that do not fit are counted by `more(n)` instead.
/// With no part left (every job left the message) it says `idle` under the header, no buttons.
pub fn compose(header: &str, parts: &[LivePart], units: usize, buttons: usize, more: impl Fn(usize) -> String, idle: &str) -> (String, Vec<Vec<Value>>) {
    let len = |s: &str| s.encode_utf16().count();
    let (mut text, mut rows) = (header.to_string(), Vec::new());
    if parts.is_empty() {
        text.push_str("\n\n");
        text.push_str(idle);
        return (text, rows);
    }
    for (i, p) in parts.iter().enumerate() {
        let rest = parts.len() - i - 1;
        let tail = if rest > 0 { len(&more(rest)) + 2 } else { 0 };
        let count: usize = rows.iter().chain(&p.rows).map(Vec::len).sum();
        if len(&text) + 2 + len(&p.text) + tail > units || count > buttons {
            let line = more(parts.len() - i);
            if len(&text) + 2 + len(&line) <= units {
                text.push_str("\n\n");
                text.push_str(&line);
            }
            break;
        }
        text.push_str("\n\n");
        text.push_str(&p.text);
        rows.extend(p.rows.iter().cloned());
    }
    (text, rows)
}

/// The live message as Telegram shows it now.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    /// Its Telegram message id.
    pub message_id: i32,
    /// When it was sent (unix ms).
    pub sent_at: i64,
    /// When it was last sent or edited (unix ms): the edit window starts there.
    pub edited_at: i64,
    /// Hash of its text and keyboard.
    pub hash: String,
}

/// What to do with the next routine text of a chat.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send it as a new message; then delete the old live message, if any (moved to the bottom,
    /// or too old to edit).
    Send {
        /// The live message the new one replaces.
        replace: Option<i32>,
    },
    /// Edit the live message in place.
    Edit(i32),
    /// The live message was edited too recently: try again at this time (unix ms).
    Wait(i64),
    /// The live message already shows this text: nothing to do.
    Same,
    /// An update that only takes jobs out of the message has no message it could edit (none
    /// shown, or too old): it is dropped rather than posted anew.
    Drop,
}

/// Decides the next step for a live text hashing to `hash` at `now`; `posted_after` says
/// whether other messages were posted to the chat after the live message. `moves` is true when
/// the text carries routine progress: it may be sent anew (first, moved to the bottom, or
/// replacing an old message). An update that only says jobs left (`moves` false) is an edit in
/// place or nothing: a message saying no job runs is never posted, nor moved, for its own sake.
pub fn decide(shown: Option<&Shown>, posted_after: bool, hash: &str, now: i64, moves: bool) -> Step {
    let old = |s: &Shown| now - s.sent_at >= REPLACE_AFTER_MS;
    let s = match shown {
        None if moves => return Step::Send { replace: None },
        Some(s) if moves && (posted_after || old(s)) => return Step::Send { replace: Some(s.message_id) },
        Some(s) if !old(s) => s,
        _ => return Step::Drop,
    };
    if s.hash == hash {
        Step::Same
    } else if now - s.edited_at < EDIT_GAP_MS {
        Step::Wait(s.edited_at + EDIT_GAP_MS)
    } else {
        Step::Edit(s.message_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::status::JobStatus;
    use serde_json::json;

    const NOW: i64 = 1_000_000_000;

    fn shown(sent_ago: i64, edited_ago: i64) -> Shown {
        Shown { message_id: 7, sent_at: NOW - sent_ago, edited_at: NOW - edited_ago, hash: "old".into() }
    }

    #[test]
    fn the_first_routine_text_is_sent_then_edited_in_place() {
        assert_eq!(decide(None, false, "h", NOW, true), Step::Send { replace: None });
        assert_eq!(decide(Some(&shown(60_000, 60_000)), false, "h", NOW, true), Step::Edit(7));
    }

    #[test]
    fn edits_of_one_message_are_spaced_by_the_edit_gap() {
        assert_eq!(decide(Some(&shown(60_000, 1_000)), false, "h", NOW, true), Step::Wait(NOW - 1_000 + EDIT_GAP_MS));
        assert_eq!(decide(Some(&shown(60_000, EDIT_GAP_MS)), false, "h", NOW, true), Step::Edit(7));
        assert_eq!(decide(Some(&shown(1_000, 1_000)), false, "h", NOW, true), Step::Wait(NOW + 4_000), "a message sent a second ago waits too");
    }

    #[test]
    fn a_message_posted_after_it_moves_it_to_the_bottom_at_once() {
        assert_eq!(decide(Some(&shown(60_000, 1_000)), true, "h", NOW, true), Step::Send { replace: Some(7) }, "a new message is not an edit: no wait");
        assert_eq!(decide(Some(&shown(60_000, 60_000)), true, "old", NOW, true), Step::Send { replace: Some(7) });
    }

    #[test]
    fn a_message_near_telegrams_48_hour_delete_limit_is_replaced_not_edited() {
        assert_eq!(decide(Some(&shown(REPLACE_AFTER_MS, 60_000)), false, "h", NOW, true), Step::Send { replace: Some(7) });
        assert_eq!(decide(Some(&shown(REPLACE_AFTER_MS - 1, 60_000)), false, "h", NOW, true), Step::Edit(7));
        const { assert!(REPLACE_AFTER_MS < 48 * 3_600_000, "the old message can still be deleted") };
    }

    #[test]
    fn the_same_text_is_not_edited_again() {
        assert_eq!(decide(Some(&shown(60_000, 1_000)), false, "old", NOW, true), Step::Same);
    }

    #[test]
    fn a_job_leaving_edits_the_message_in_place_and_never_posts_one() {
        let edit_only = |shown: Option<&Shown>, after: bool, hash: &str| decide(shown, after, hash, NOW, false);
        assert_eq!(edit_only(None, false, "h"), Step::Drop, "no message to edit: nothing is posted");
        assert_eq!(edit_only(Some(&shown(60_000, 60_000)), true, "h"), Step::Edit(7), "a completion posted after it does not move it");
        assert_eq!(edit_only(Some(&shown(60_000, 1_000)), true, "h"), Step::Wait(NOW + 4_000), "the edit gap still holds");
        assert_eq!(edit_only(Some(&shown(60_000, 60_000)), false, "old"), Step::Same);
        assert_eq!(edit_only(Some(&shown(REPLACE_AFTER_MS, 60_000)), false, "h"), Step::Drop, "too old to edit: left alone, not replaced");
        assert_eq!(edit_only(Some(&shown(REPLACE_AFTER_MS - 1, 60_000)), true, "h"), Step::Edit(7));
    }

    #[test]
    fn with_no_job_left_the_message_says_so_under_its_header_without_buttons() {
        let (text, rows) = compose("H", &[], 4096, 100, |n| format!("+{n} more"), "No job running now");
        assert_eq!(text, "H\n\nNo job running now");
        assert!(rows.is_empty());
        let (text, _) = compose("H", &[part("a", "a1", 1)], 4096, 100, |n| format!("+{n} more"), "No job running now");
        assert!(!text.contains("No job running"), "{text}");
    }

    fn part(job: &str, text: &str, buttons: usize) -> LivePart {
        let rows = (0..buttons).map(|i| vec![json!({"text": format!("{job}{i}")})]).collect();
        LivePart { job: job.into(), text: text.into(), rows, section: None, lang: "en".into(), at: None }
    }

    #[test]
    fn a_job_that_left_says_how_by_its_state() {
        use crate::policy::decisions::Decisions;
        use crate::policy::standing::Standing;
        use crate::policy::state::{JobState, Run, Seen};
        let seen = |completed: bool| Some(Seen { running: !completed, completed, ..Default::default() });
        let none = Decisions::default();
        let done = JobState { last_seen: seen(true), run: Run::Completed { at: 5 }, ..Default::default() };
        assert_eq!(left(&done, &none), Some(Standing::Completed { at: Some(5) }));
        let idle = JobState { last_seen: seen(false), ..Default::default() };
        let stopped = Decisions { stopped_at: Some(6), ..Decisions::default() };
        assert_eq!(left(&idle, &stopped), Some(Standing::Stopped { at: Some(6) }));
        let crashed = JobState { last_seen: seen(false), run: Run::Crashed { at: 7, ran_seconds: 1 }, ..Default::default() };
        assert_eq!(left(&crashed, &none), Some(Standing::Crashed { at: Some(7) }));
        assert_eq!(left(&idle, &none), None);
    }

    #[test]
    fn a_jobs_newer_part_replaces_its_older_one_in_place() {
        let mut parts = vec![part("a", "a1", 1), part("b", "b1", 0)];
        upsert(&mut parts, vec![part("a", "a2", 1), part("c", "c1", 0)]);
        let texts: Vec<&str> = parts.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["a2", "b1", "c1"]);
    }

    #[test]
    fn parts_that_do_not_fit_the_text_or_button_limits_are_counted_instead() {
        let parts = vec![part("a", &"x".repeat(40), 1), part("b", &"y".repeat(40), 1), part("c", &"z".repeat(40), 1)];
        let more = |n: usize| format!("+{n} more");
        let (text, rows) = compose("H", &parts, 4096, 100, more, "idle");
        assert_eq!((text.matches("\n\n").count(), rows.len()), (3, 3));
        let (text, rows) = compose("H", &parts, 90, 100, more, "idle");
        assert!(text.starts_with("H\n\nxxx") && text.ends_with("\n\n+2 more") && text.encode_utf16().count() <= 90, "{text}");
        assert_eq!(rows.len(), 1, "only the shown parts' buttons");
        let (text, rows) = compose("H", &parts, 4096, 2, more, "idle");
        assert!(text.ends_with("+1 more") && rows.len() == 2, "{text}");
    }

    #[test]
    fn only_routine_progress_of_a_running_long_job_goes_live() {
        let mut s = Section::system("scan", "scan");
        s.kind = Some(crate::config::Kind::LongRunningRead.as_str().into());
        s.status = Some(JobStatus { running: true, ..Default::default() });
        s.loud = false;
        assert!(is_progress(&s) && !leaves(&s));
        s.loud = true;
        assert!(!is_progress(&s), "a status change rings in a message of its own");
        s.status = Some(JobStatus { running: false, completed: true, ..Default::default() });
        assert!(!is_progress(&s) && leaves(&s), "a completion takes the job out of the live message");
        assert!(!is_progress(&Section::system("config", "config")));
        s.status = Some(JobStatus { running: true, ..Default::default() });
        s.loud = false;
        s.amends = Some("crash".into());
        assert!(!is_progress(&s), "a job resumed after a crash edits the crash alert instead");
    }
}
