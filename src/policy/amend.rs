//! Amending an alert that is already queued or sent, instead of sending a second message: a line
//! is added and the buttons that no longer fit go (a Start button once the job runs again).
//! Pure: keyboards are Telegram's JSON, the stored parts are [`Meta`].

use super::backlog::Meta;
use serde_json::Value;

/// `markup` (an inline keyboard, JSON) without the buttons whose callback data `gone` names;
/// rows left empty go too. None when no button is left (or `markup` is not a keyboard).
pub fn keyboard_without(markup: &str, gone: &dyn Fn(&str) -> bool) -> Option<String> {
    let k: Value = serde_json::from_str(markup).ok()?;
    let mut rows: Vec<Vec<Value>> = serde_json::from_value(k.get("inline_keyboard")?.clone()).ok()?;
    retain_buttons(&mut rows, gone);
    (!rows.is_empty()).then(|| serde_json::json!({ "inline_keyboard": rows }).to_string())
}

/// The queued report's parts with `line` added to `job`'s part about alert `key` (to its text and
/// to the line shown once the alert has cleared) and that part's `gone` buttons removed.
pub fn amend_meta(meta: &mut Meta, job: &str, key: &str, line: &str, gone: &dyn Fn(&str) -> bool) {
    for part in meta.parts.iter_mut().filter(|p| p.job == job && p.key.as_deref() == Some(key)) {
        part.text = format!("{}\n{line}", part.text);
        part.recovered = format!("{}\n{line}", part.recovered);
        if !part.changed.is_empty() {
            part.changed = format!("{}\n{line}", part.changed);
        }
        retain_buttons(&mut part.rows, gone);
    }
}

/// Drops the buttons whose callback data `gone` names, and the rows left empty.
fn retain_buttons(rows: &mut Vec<Vec<Value>>, gone: &dyn Fn(&str) -> bool) {
    for row in rows.iter_mut() {
        row.retain(|b| !b.get("callback_data").and_then(Value::as_str).is_some_and(gone));
    }
    rows.retain(|r| !r.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::backlog::Part;
    use serde_json::json;

    fn button(data: &str) -> Value {
        json!({"text": data, "callback_data": data})
    }

    #[test]
    fn the_gone_buttons_and_empty_rows_go() {
        let k = json!({"inline_keyboard": [[button("start"), button("logs")], [button("ack"), button("snooze")]]}).to_string();
        let left: Value = serde_json::from_str(&keyboard_without(&k, &|t| t == "start").unwrap()).unwrap();
        assert_eq!(left, json!({"inline_keyboard": [[button("logs")], [button("ack"), button("snooze")]]}));
        let only = json!({"inline_keyboard": [[button("start")]]}).to_string();
        assert_eq!(keyboard_without(&only, &|t| t == "start"), None, "no button left: no keyboard");
        assert_eq!(keyboard_without("not json", &|_| true), None);
    }

    #[test]
    fn only_the_amended_alerts_part_changes() {
        let part = |job: &str, key: &str| Part {
            job: job.into(),
            key: Some(key.into()),
            routine: false,
            text: format!("• {job}"),
            recovered: format!("• {job} (since recovered)"),
            changed: format!("• {job} (since changed)"),
            rows: vec![vec![button(&format!("start-{job}")), button("logs")]],
        };
        let mut meta = Meta {
            lang: "en".into(),
            stamp: "13:23:38".into(),
            hm: "13:23".into(),
            head: String::new(),
            parts: vec![part("scan", "crashed:1:"), part("disk", "x")],
        };
        amend_meta(&mut meta, "scan", "crashed:1:", "▶️ resumed", &|t| t.starts_with("start-"));
        assert_eq!(meta.parts[0].text, "• scan\n▶️ resumed");
        assert!(meta.parts[0].recovered.ends_with("\n▶️ resumed") && meta.parts[0].changed.ends_with("\n▶️ resumed"));
        assert_eq!(meta.parts[0].rows, vec![vec![button("logs")]]);
        assert_eq!(meta.parts[1], part("disk", "x"), "another job's part is left alone");
    }
}
