//! Merging a chat's backlog: after an outage (or when sends queue up behind Telegram's pacing)
//! the queued alerts and routine reports of a chat go out as few messages as the text and
//! button limits allow, in order, headed once (by the outage header, else by the first report's
//! own header), so every merged message names its host. Superseded routine progress is dropped, an alert
//! whose anomaly has cleared since shrinks to one "(since recovered)" line, one whose job has
//! moved on to another anomaly to one "(since changed)" line, and only buttons of what still
//! needs a decision are kept.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// One job's part of a queued report, stored with its outbox row so a backlog can be merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// The job (or pseudo id) the part is about.
    pub job: String,
    /// Identity of the anomaly when the part is an alert.
    pub key: Option<String>,
    /// Routine progress: superseded by a later routine part of the same job.
    pub routine: bool,
    /// The part as rendered for the chat.
    pub text: String,
    /// The one line shown instead once the anomaly has cleared.
    pub recovered: String,
    /// The one line shown instead once the job has moved on to another anomaly (empty in rows
    /// queued before it was kept: such a part is shown whole).
    #[serde(default)]
    pub changed: String,
    /// Inline keyboard rows (button JSON) belonging to this part.
    pub rows: Vec<Vec<Value>>,
}

/// What a mergeable outbox row stores besides its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// The reader's language (code), for the backlog header.
    pub lang: String,
    /// The report's time as shown before its parts ("13:02:05").
    pub stamp: String,
    /// The report's hour and minute, for the backlog header's range ("13:02").
    pub hm: String,
    /// The report's own header ("Ops report · nas · 13:02:05 CET"): it leads a merge caused by
    /// pacing alone, so the message names its host (empty in rows queued before it was kept).
    #[serde(default)]
    pub head: String,
    /// The report's parts, in order.
    pub parts: Vec<Part>,
}

/// One queued, mergeable row.
#[derive(Debug, Clone)]
pub struct Item {
    /// Outbox row id.
    pub id: i64,
    /// Sent without sound.
    pub silent: bool,
    /// Its parts.
    pub meta: Meta,
}

/// Counts and time range of a whole backlog, for its header.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Alert parts (recovered ones included).
    pub alerts: usize,
    /// Other parts still shown (superseded progress not counted).
    pub updates: usize,
    /// Time of the first report ("13:02").
    pub from: String,
    /// Time of the last report ("13:05").
    pub to: String,
}

/// The next message of a backlog.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The text (plain; escaped for the parse mode by the sender).
    pub text: String,
    /// Keyboard rows of what still needs a decision.
    pub rows: Vec<Vec<Value>>,
    /// Outbox rows this message delivers (rows whose parts were all dropped included).
    pub covers: Vec<i64>,
    /// No sound unless one of the merged reports wanted one.
    pub silent: bool,
}

/// Telegram's limits for one message.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// UTF-16 code units of text.
    pub units: usize,
    /// Inline keyboard buttons.
    pub buttons: usize,
}

/// Each job's anomaly now: `None` when it has cleared; jobs without a state are absent.
pub type Current = HashMap<String, Option<String>>;

fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Positions (item, part) of routine parts superseded by a later routine part of the same job.
fn superseded(items: &[Item]) -> Vec<(usize, usize)> {
    let mut last: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        for (p, part) in it.meta.parts.iter().enumerate().filter(|(_, p)| p.routine) {
            if let Some(prev) = last.insert(&part.job, (i, p)) {
                out.push(prev);
            }
        }
    }
    out
}

fn cleared(part: &Part, now: &Current) -> bool {
    part.key.is_some() && matches!(now.get(&part.job), Some(None))
}

/// What a part shows: one line once its anomaly has cleared or its job has moved on to another
/// anomaly (the newer one has its own alert), else the whole part.
fn shown<'a>(part: &'a Part, now: &Current) -> &'a str {
    match (part.key.as_deref(), now.get(&part.job)) {
        (Some(_), Some(None)) => &part.recovered,
        (Some(key), Some(Some(current))) if key != current && !part.changed.is_empty() => &part.changed,
        _ => &part.text,
    }
}

/// The parts whose buttons are kept: for each job the last one with buttons whose anomaly has
/// not cleared (an Ack for an older anomaly of the job would decide nothing new).
fn deciding(items: &[Item], now: &Current) -> Vec<(usize, usize)> {
    let mut last: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        for (p, part) in it.meta.parts.iter().enumerate() {
            if !cleared(part, now) && !part.rows.is_empty() {
                last.insert(&part.job, (i, p));
            }
        }
    }
    last.into_values().collect()
}

/// Counts the backlog's alerts and updates and its time range.
pub fn summary(items: &[Item]) -> Summary {
    let dropped = superseded(items);
    let mut s = Summary { alerts: 0, updates: 0, from: String::new(), to: String::new() };
    for (i, it) in items.iter().enumerate() {
        for (p, part) in it.meta.parts.iter().enumerate() {
            if part.key.is_some() {
                s.alerts += 1;
            } else if !dropped.contains(&(i, p)) {
                s.updates += 1;
            }
        }
    }
    s.from = items.first().map(|i| i.meta.hm.clone()).unwrap_or_default();
    s.to = items.last().map(|i| i.meta.hm.clone()).unwrap_or_default();
    s
}

/// Plans the next message from `items` (the chat's queue from its head, in order), led by
/// `header` (the outage header) when given, else by the first shown report's own header in place
/// of its time. `None` when merging would not save a message (fewer than two rows fit): the head
/// is then sent as it is.
pub fn plan(items: &[Item], now: &Current, header: Option<&str>, limits: Limits) -> Option<Plan> {
    let dropped = superseded(items);
    let deciding = deciding(items, now);
    let mut text = header.unwrap_or_default().to_string();
    let (mut rows, mut covers, mut silent) = (Vec::new(), Vec::new(), true);
    for (i, it) in items.iter().enumerate() {
        let kept: Vec<(usize, &Part)> = it.meta.parts.iter().enumerate().filter(|(p, _)| !dropped.contains(&(i, *p))).collect();
        let shown: Vec<&str> = kept.iter().map(|(_, part)| shown(part, now)).collect();
        let buttons: Vec<Vec<Value>> = kept.iter().filter(|(p, _)| deciding.contains(&(i, *p))).flat_map(|(_, part)| part.rows.clone()).collect();
        let lead = if header.is_none() && text.is_empty() { &it.meta.head } else { &it.meta.stamp };
        let block = if shown.is_empty() { String::new() } else { format!("{lead}\n{}", shown.join("\n\n")) };
        let joined = if text.is_empty() || block.is_empty() { units(&text) + units(&block) } else { units(&text) + 2 + units(&block) };
        let count = |r: &[Vec<Value>]| r.iter().map(Vec::len).sum::<usize>();
        if joined > limits.units || count(&rows) + count(&buttons) > limits.buttons {
            break;
        }
        if !block.is_empty() {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&block);
            silent &= it.silent;
        }
        rows.extend(buttons);
        covers.push(it.id);
    }
    (covers.len() >= 2).then_some(Plan { text, rows, covers, silent })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIMITS: Limits = Limits { units: 4096, buttons: 100 };

    fn alert(id: i64, job: &str, key: &str) -> Item {
        let part = Part {
            job: job.into(),
            key: Some(key.into()),
            routine: false,
            text: format!("• {job}\n- ALERT: {key}"),
            recovered: format!("• {job} — {key} (since recovered)"),
            changed: format!("• {job} — {key} (since changed)"),
            rows: vec![vec![json!({"text": format!("Ack {job} {key}")})]],
        };
        item(id, false, part)
    }

    /// A report queued at 13:0`id`:00 with one part.
    fn item(id: i64, silent: bool, part: Part) -> Item {
        let meta = Meta {
            lang: "en".into(),
            stamp: format!("13:0{id}:00"),
            hm: format!("13:0{id}"),
            head: format!("Ops report · nas · 13:0{id}:00 CET"),
            parts: vec![part],
        };
        Item { id, silent, meta }
    }

    fn progress(id: i64, job: &str, n: u32) -> Item {
        let part = Part {
            job: job.into(),
            key: None,
            routine: true,
            text: format!("• {job}\n- progress {n}"),
            recovered: String::new(),
            changed: String::new(),
            rows: vec![],
        };
        item(id, true, part)
    }

    fn now(entries: &[(&str, Option<&str>)]) -> Current {
        entries.iter().map(|(j, k)| (j.to_string(), k.map(str::to_string))).collect()
    }

    #[test]
    fn alerts_merge_in_order_under_one_header_with_the_buttons_of_each_jobs_latest_anomaly() {
        let items = vec![alert(1, "a", "k1"), alert(2, "a", "k2"), alert(3, "b", "x")];
        let p = plan(&items, &now(&[("a", Some("k2")), ("b", Some("x"))]), Some("HEADER"), LIMITS).unwrap();
        assert_eq!(p.covers, vec![1, 2, 3]);
        assert!(p.text.starts_with("HEADER\n\n13:01:00\n• a — k1 (since changed)\n\n13:02:00\n• a\n- ALERT: k2"), "{}", p.text);
        assert!(p.text.find("k2").unwrap() < p.text.find("- ALERT: x").unwrap());
        let labels: Vec<&str> = p.rows.iter().flatten().map(|b| b["text"].as_str().unwrap()).collect();
        assert_eq!(labels, vec!["Ack a k2", "Ack b x"], "one Ack per job: for its latest anomaly");
        assert!(!p.silent);
        let s = summary(&items);
        assert_eq!((s.alerts, s.updates, s.from.as_str(), s.to.as_str()), (3, 0, "13:01", "13:03"));
    }

    #[test]
    fn an_alert_whose_anomaly_cleared_becomes_one_line_without_buttons() {
        let items = vec![alert(1, "a", "k1"), alert(2, "b", "x")];
        let p = plan(&items, &now(&[("a", None), ("b", Some("x"))]), None, LIMITS).unwrap();
        assert!(p.text.contains("• a — k1 (since recovered)") && !p.text.contains("- ALERT: k1"), "{}", p.text);
        assert_eq!(p.rows.len(), 1);
    }

    #[test]
    fn an_alert_whose_job_moved_on_to_another_anomaly_becomes_one_line_and_an_old_row_stays_whole() {
        let items = vec![alert(1, "a", "k1"), alert(2, "b", "x")];
        let p = plan(&items, &now(&[("a", Some("k2")), ("b", Some("x"))]), None, LIMITS).unwrap();
        assert!(p.text.contains("• a — k1 (since changed)") && !p.text.contains("- ALERT: k1"), "{}", p.text);
        assert!(p.text.contains("• b\n- ALERT: x"), "the current anomaly stays whole: {}", p.text);
        let mut old = items.clone();
        old[0].meta.parts[0].changed = String::new();
        let p = plan(&old, &now(&[("a", Some("k2")), ("b", Some("x"))]), None, LIMITS).unwrap();
        assert!(p.text.contains("• a\n- ALERT: k1"), "a row queued before the line was kept: {}", p.text);
    }

    #[test]
    fn superseded_progress_of_a_job_is_dropped_and_only_its_newest_shown() {
        let items = vec![progress(1, "scan", 10), alert(2, "b", "x"), progress(3, "scan", 20), progress(4, "other", 5)];
        let p = plan(&items, &now(&[]), None, LIMITS).unwrap();
        assert!(!p.text.contains("progress 10") && p.text.contains("progress 20") && p.text.contains("progress 5"), "{}", p.text);
        assert!(!p.text.contains("13:01:00"), "a report with nothing left shows no stamp");
        assert_eq!(p.covers, vec![1, 2, 3, 4], "the dropped report is delivered by this message");
        assert_eq!(summary(&items).updates, 2);
    }

    #[test]
    fn without_an_outage_the_first_shown_reports_own_header_leads_so_the_host_is_named() {
        let items = vec![progress(1, "scan", 10), alert(2, "b", "x"), progress(3, "scan", 20)];
        let p = plan(&items, &now(&[]), None, LIMITS).unwrap();
        assert!(p.text.starts_with("Ops report · nas · 13:02:00 CET\n• b\n- ALERT: x\n\n13:03:00\n• scan"), "{}", p.text);
        let p = plan(&items, &now(&[]), Some("H"), LIMITS).unwrap();
        assert!(p.text.starts_with("H\n\n13:02:00\n") && !p.text.contains("Ops report"), "an outage header leads instead: {}", p.text);
    }

    #[test]
    fn the_text_and_button_limits_end_a_message_and_one_row_alone_is_not_merged() {
        let items: Vec<Item> = (1..=9).map(|i| alert(i, &format!("j{i}"), "k")).collect();
        let p = plan(&items, &now(&[]), Some("H"), Limits { units: 60, buttons: 100 }).unwrap();
        assert!(units(&p.text) <= 60 && p.covers.len() >= 2 && p.covers.len() < 9, "{:?}", p.covers);
        let p = plan(&items, &now(&[]), Some("H"), Limits { units: 4096, buttons: 4 }).unwrap();
        assert_eq!((p.covers.len(), p.rows.len()), (4, 4));
        assert!(plan(&items[..1], &now(&[]), Some("H"), LIMITS).is_none());
        assert!(plan(&items, &now(&[]), Some("H"), Limits { units: 30, buttons: 100 }).is_none(), "only one fits");
    }
}
