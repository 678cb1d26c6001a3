//! `/status` tells the truth at a glance (issue 14 §4), through the binary and the fake Bot API:
//! one line per job with its lifecycle word and age, its own message, progress as figures with
//! the bar (not the raw dictionary), times in the configured timezone, words in the chat's
//! language, no line twice.

use crate::support;

use serde_json::json;
use std::time::Duration;
use support::*;

const T: Duration = Duration::from_secs(30);
const TZ: chrono_tz::Tz = chrono_tz::Asia::Tokyo;

/// A field of the job's stored state (Unix seconds), once a tick wrote it.
/// A time in `job`'s stored state, by its JSON pointer ("/anomaly_since", "/run/Crashed/at").
fn state_time(env: &Env, job: &str, pointer: &str) -> Option<i64> {
    let text: String = env.db().and_then(|db| db.query_row("SELECT state FROM job_state WHERE job_id=?1", [job], |r| r.get(0))).ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok()?.pointer(pointer)?.as_i64()
}

/// `t` as "HH:MM" in the configured timezone (the tests' times are all today there, or the
/// line carries the date: both end with HH:MM).
fn hm(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).unwrap().with_timezone(&TZ).format("%H:%M").to_string()
}

/// The text without its bold tags.
fn plain(html: &str) -> String {
    html.replace("<b>", "").replace("</b>", "")
}

fn line_of<'a>(text: &'a str, job: &str) -> &'a str {
    text.lines().find(|l| l.starts_with(&format!("• {job} ({job})"))).unwrap_or_else(|| panic!("no line for {job}: {text}"))
}

#[test]
fn status_says_each_jobs_lifecycle_word_with_its_age_its_message_and_its_progress_figures() {
    let env = Env::new();
    let scan = env.script(
        "scan.sh",
        "echo '{\"running\":true,\"completed\":false,\"message\":\"hashing /srv\",\"progress\":{\"done\":3,\"total\":12,\"unit\":\"files\",\"phase\":\"hashing\"}}'\n",
    );
    let stuck = env.script("stuck.sh", "echo '{\"running\":true,\"completed\":false,\"progressKey\":\"block-7\"}'\n");
    let on = env.path().join("gone.on");
    std::fs::write(&on, "").unwrap();
    let gone = env.script(
        "gone.sh",
        &format!(
            "if [ -e {} ]; then echo '{{\"running\":true,\"completed\":false}}'; else echo '{{\"running\":false,\"completed\":false}}'; fi\n",
            on.display()
        ),
    );
    let done = env.script("done.sh", "echo '{\"running\":false,\"completed\":true}'\n");
    let disk = json!({"id": "disk", "name": "disk", "kind": "one_shot_read", "risk": "read_only", "enabled": true,
        "commands": {"run": ["sh", "-c", "echo 'ALERT: only 74 GB free'"]}, "policy": {"runEverySeconds": 3600}});
    let jobs = json!([
        long_job("scan", &scan, json!({})),
        long_job("stuck", &stuck, json!({"policy": {"stallSeconds": 1}})),
        long_job("gone", &gone, json!({})),
        long_job("done", &done, json!({})),
        disk
    ]);
    env.config(jobs, json!({"tickSeconds": 1, "timezone": "Asia/Tokyo", "telegram": {"allowedChatIds": [ME]}}));
    // (Its status says it runs already: the start is forced to record one, as a restart would.)
    assert!(env.cli().args(["start", "scan", "--force"]).status().unwrap().success());
    let d = env.serve();
    assert!(eventually(T, || state_time(&env, "gone", "/run/Running/since").is_some()), "a tick saw gone running");
    std::fs::remove_file(&on).unwrap();
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("gone (gone") && m.text.contains("crashed")).expect("gone crashed");
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("stuck (stuck") && m.text.contains("stalled")).expect("stuck stalled");
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("74 GB")).expect("disk failing");

    env.tg.message(ME, ME, "/status");
    let mut o = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains(" · 5 jobs (")).expect("/status");
    o.text = plain(&o.text);
    let scan = line_of(&o.text, "scan");
    let age = scan.strip_prefix("• scan (scan): running ").unwrap_or_else(|| panic!("running with its age: {}", o.text));
    assert!(age.ends_with(" s") || age.ends_with(" min"), "{scan}");
    assert!(o.text.contains("\n  hashing /srv\n"), "the job's own message: {}", o.text);
    assert!(o.text.contains("▓") && o.text.contains(" 25% · 3/12 files"), "the bar and done/total unit: {}", o.text);
    assert!(!o.text.contains("phase="), "not the raw dictionary: {}", o.text);
    assert!(line_of(&o.text, "stuck").starts_with("• stuck (stuck): stalled "), "{}", o.text);
    let crashed = state_time(&env, "gone", "/run/Crashed/at").expect("crashed_at");
    assert!(line_of(&o.text, "gone").ends_with(&format!("crashed {}", hm(crashed))), "crash time in Tokyo: {}", o.text);
    let completed = state_time(&env, "done", "/run/Completed/at").expect("completed_at");
    assert!(line_of(&o.text, "done").ends_with(&format!("completed {}", hm(completed))), "{}", o.text);
    let since = state_time(&env, "disk", "/anomaly_since").expect("anomaly_since");
    assert!(line_of(&o.text, "disk").ends_with(&format!("failing since {}", hm(since))), "{}", o.text);
    assert!(!o.text.contains("last start"), "a running job's successful start is no news: {}", o.text);
    assert!(!o.text.contains("exit 0"), "a failing check's exit 0 does not read as all well: {}", o.text);
    let lines: Vec<&str> = o.text.lines().collect();
    let unique: std::collections::HashSet<&str> = lines.iter().copied().collect();
    assert_eq!(unique.len(), lines.len(), "no line twice: {}", o.text);

    env.tg.message(ME, ME, "/lang zh-CN");
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("中文")).expect("the chat switches to Chinese");
    env.tg.message(ME, ME, "/status");
    let mut zh = env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("5 个任务")).expect("/status in Chinese");
    zh.text = plain(&zh.text);
    assert!(zh.text.contains(&format!("• gone（gone）：{} 崩溃", hm(crashed))), "{}", zh.text);
    assert!(zh.text.contains("运行中（已 "), "{}", zh.text);
    stop(d);
}
