//! The morning digest in words, in the reader's language: a heading, then per job its progress
//! then and now and what happened at what time, then what still needs a decision.

use super::{anomaly_line, note_line, progress_line, resume_line, state_word};
use crate::i18n::Lang;
use crate::policy::digest::{Digest, Event, JobNight, Standing, Timed};
use crate::policy::rate::{figure, Sample};
use crate::policy::report::Section;
use crate::t;
use chrono::DateTime;
use chrono_tz::Tz;

/// The whole digest as plain text, headed with `host`.
pub fn digest_text(d: &Digest, host: &str, tz: Tz, lang: Lang) -> String {
    let hm = |t: i64| DateTime::from_timestamp(t, 0).unwrap_or_default().with_timezone(&tz).format("%H:%M").to_string();
    let mut parts = vec![format!(
        "{}\n{}",
        t!(lang, "digest-title", host = host),
        t!(lang, "digest-intro", since = hm(d.since), until = hm(d.until), held = d.held, rang = d.rang)
    )];
    parts.extend(d.jobs.iter().map(|j| job_text(j, tz, lang)));
    if !d.pending.is_empty() {
        let mut lines = vec![t!(lang, "digest-decide")];
        for p in &d.pending {
            lines.push(format!("- {}", t!(lang, "digest-pending", id = p.id, job = &p.job_id, who = &p.asked_by, expires = hm(p.expires_at))));
        }
        parts.push(lines.join("\n"));
    }
    parts.join("\n\n")
}

fn job_text(j: &JobNight, tz: Tz, lang: Lang) -> String {
    let mut lines = vec![t!(lang, "section-heading-plain", name = &j.name)];
    if let Some((then, now)) = &j.progress {
        lines.push(format!("- {}", t!(lang, "digest-progress", then = amount(then), now = amount(now))));
    }
    if j.more > 0 {
        lines.push(format!("- {}", t!(lang, "digest-more", count = j.more)));
    }
    for e in &j.events {
        lines.push(format!("- {}", event_text(e, tz, lang)));
    }
    lines.join("\n")
}

fn event_text(e: &Timed, tz: Tz, lang: Lang) -> String {
    let time = DateTime::from_timestamp(e.at, 0).unwrap_or_default().with_timezone(&tz).format("%H:%M").to_string();
    let what = match &e.event {
        Event::Alert { anomaly, rang, standing } => {
            let now = match standing {
                Standing::Open => t!(lang, "digest-open"),
                Standing::Acknowledged => t!(lang, "digest-acked"),
                Standing::Over => t!(lang, "digest-over"),
            };
            t!(lang, "digest-alert", what = anomaly_line(anomaly, lang), times = *rang, now = now)
        }
        Event::Completed => t!(lang, "digest-completed"),
        Event::Running => t!(lang, "digest-running"),
        Event::Resumed(ar) => resume_line(ar, lang),
        Event::Recovered => t!(lang, "note-recovered"),
        Event::Other(s) => held_line(s, tz, lang),
    };
    format!("{time} {what}")
}

/// A held message in one line, in words: its job's state, its own message and its notes
/// ("stopped · message: disk full · verification of write request #4: ok"), never the raw
/// section with its "- status:" facts.
fn held_line(s: &Section, tz: Tz, lang: Lang) -> String {
    let mut parts = Vec::new();
    if let Some(st) = &s.status {
        parts.push(state_word(st, s.life, lang));
        parts.extend(st.message.clone());
        parts.extend(progress_line(st, s.estimate.as_ref(), tz, lang));
    }
    parts.extend(s.notes.iter().map(|n| note_line(n, lang).replace('\n', " ")));
    parts.join(" · ")
}

/// "930/3000 (31%)", "45%" or "930".
fn amount(s: &Sample) -> String {
    match s.total {
        _ if s.percent => format!("{}%", figure(s.done)),
        Some(t) => format!("{}/{} ({}%)", figure(s.done), figure(t), (s.done / t * 100.0).round() as i64),
        None => figure(s.done),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::digest::Pending;
    use crate::policy::report::Anomaly;

    fn digest() -> Digest {
        let at = 1_770_000_000; // 2026-02-02 02:40 UTC
        let alert = Event::Alert { anomaly: Anomaly::JobAlert { message: Some("disk full".into()) }, rang: 2, standing: Standing::Open };
        let progress = (Sample { at, done: 4.0, total: Some(10.0), percent: false }, Sample { at, done: 10.0, total: Some(10.0), percent: false });
        Digest {
            rows: vec![1, 2],
            since: at - 3600,
            until: at + 3600,
            held: 1,
            rang: 2,
            jobs: vec![JobNight {
                job_id: "backup".into(),
                name: "Backup".into(),
                progress: Some(progress),
                events: vec![Timed { at, event: alert }, Timed { at, event: Event::Completed }],
                more: 0,
                actions: Vec::new(),
                run: None,
            }],
            pending: vec![Pending { id: 3, job_id: "rotate".into(), asked_by: "cli".into(), expires_at: at + 4000 }],
        }
    }

    #[test]
    fn the_digest_reads_per_job_then_what_needs_a_decision_in_each_language() {
        let en = digest_text(&digest(), "nas", chrono_tz::UTC, Lang::En);
        let lines: Vec<&str> = en.lines().collect();
        assert_eq!(lines[0], "🌅 Quiet hours are over · nas", "{en}");
        assert!(lines[1].starts_with("From 01:40 to 03:40"), "{en}");
        assert!(
            en.contains(
                "• Backup\n- progress: 4/10 (40%) → 10/10 (100%)\n- 02:40 ALERT: job reports alert: disk full (rang 2×) — still open\n- 02:40 completed ✅"
            ),
            "{en}"
        );
        assert!(en.contains("Needs a decision:\n- approval request #3: rotate (asked by cli), expires 03:46"), "{en}");
        let zh = digest_text(&digest(), "nas", chrono_tz::UTC, Lang::ZhCn);
        assert!(zh.starts_with("🌅 静默时段已结束 · nas") && zh.contains("仍未解决") && zh.contains("待你决定"), "{zh}");
    }

    #[test]
    fn a_held_message_is_one_line_in_words_not_a_raw_dump() {
        let mut held = Section::system("backup", "Backup");
        held.status = Some(crate::policy::status::JobStatus { running: false, message: Some("paused by the owner".into()), ..Default::default() });
        held.life = Some(crate::policy::lifecycle::Lifecycle::Stopped);
        let d = Digest {
            jobs: vec![JobNight { events: vec![Timed { at: 1_770_000_000, event: Event::Other(Box::new(held)) }], ..digest().jobs[0].clone() }],
            ..digest()
        };
        let en = digest_text(&d, "nas", chrono_tz::UTC, Lang::En);
        assert!(en.contains("- 02:40 stopped · paused by the owner\n"), "{en}");
        assert!(!en.contains("held:") && !en.contains("- status:") && !en.contains("- message:"), "{en}");
    }

    #[test]
    fn a_night_without_alerts_or_held_messages_says_so_in_words_not_zeros() {
        let d = Digest { held: 0, rang: 0, ..digest() };
        let en = digest_text(&d, "nas", chrono_tz::UTC, Lang::En);
        assert_eq!(en.lines().nth(1), Some("From 01:40 to 03:40 no alert rang; no message was held."), "{en}");
        let zh = digest_text(&d, "nas", chrono_tz::UTC, Lang::ZhCn);
        assert_eq!(zh.lines().nth(1), Some("01:40 至 03:40 没有告警响铃；没有暂存的消息。"), "{zh}");
        let one = digest_text(&Digest { held: 2, rang: 1, ..digest() }, "nas", chrono_tz::UTC, Lang::En);
        assert_eq!(one.lines().nth(1), Some("From 01:40 to 03:40 only one alert rang; 2 held messages are summed up here."), "{one}");
    }
}
