//! Quiet nights through the binary and the fake Bot API: inside quiet hours only alerts ring; a
//! completion is held and the digest at the end of the quiet hours names it, once per chat.

mod support;

use chrono::{Duration as Span, Utc};
use serde_json::json;
use std::time::Duration;
use support::*;

/// "HH:MM" (UTC) of now plus `minutes`.
fn hhmm(minutes: i64) -> String {
    (Utc::now() + Span::minutes(minutes)).format("%H:%M").to_string()
}

#[test]
fn a_completion_inside_quiet_hours_does_not_ring_and_the_digest_names_it() {
    let env = Env::new();
    let flag = env.path().join("finished");
    let st = env.script(
        "backup.sh",
        &format!(
            "if [ -f {f} ]; then echo '{{\"running\":false,\"completed\":true,\"progress\":{{\"done\":10,\"total\":10}}}}'; \
             else echo '{{\"running\":true,\"completed\":false,\"progress\":{{\"done\":4,\"total\":10}}}}'; fi\n",
            f = flag.display()
        ),
    );
    let jobs = json!([long_job("backup", &st, json!({})), counting_alert(&env)]);
    let config = |quiet: serde_json::Value| {
        env.config(jobs.clone(), json!({"tickSeconds": 1, "timezone": "UTC", "defaults": {"quietHours": quiet, "reportEverySeconds": 0}}))
    };
    config(json!({"start": hhmm(-60), "end": hhmm(60)}));
    let _d = env.serve();
    // Alerts ring in quiet hours.
    assert!(env.tg.wait_for(Duration::from_secs(20), |m| m.chat_id == ME && m.text.contains("n=") && !m.silent()).is_some(), "no alert in quiet hours");
    std::fs::write(&flag, "").unwrap();
    let held = || env.count("SELECT COUNT(*) FROM quiet_held WHERE job_id='backup' AND section LIKE '%\"completed\":true%'");
    assert!(eventually(Duration::from_secs(20), || held() >= 1), "the completion was not held");
    assert!(
        !env.tg.to_chat(ME).iter().any(|m| m.text.contains("backup")),
        "a held message reached the chat: {:?}",
        env.tg.to_chat(ME).iter().map(|m| &m.text).collect::<Vec<_>>()
    );
    // The quiet hours end: one digest per report chat names the completion.
    config(json!({"start": hhmm(-120), "end": hhmm(-60)}));
    let digest = env.tg.wait_for(Duration::from_secs(20), |m| m.chat_id == ME && m.text.contains("Quiet hours are over"));
    let digest = digest.unwrap_or_else(|| panic!("no digest: {:?}", env.tg.to_chat(ME).iter().map(|m| &m.text).collect::<Vec<_>>()));
    assert!(digest.text.contains("backup") && digest.text.contains("completed"), "{}", digest.text);
    assert!(digest.text.contains("progress of backup: 4/10 (40%) → 10/10 (100%)"), "{}", digest.text);
    assert!(eventually(Duration::from_secs(5), || held() == 0));
    // A few more ticks (two more alerts): the digest does not repeat.
    let alerts = alert_numbers(&env, ME).len();
    assert!(eventually(Duration::from_secs(20), || alert_numbers(&env, ME).len() >= alerts + 2));
    assert_eq!(env.tg.to_chat(ME).iter().filter(|m| m.text.contains("Quiet hours are over")).count(), 1);
}
