//! Config typos and unreachable approvers are named (never failing a file), and the defaults
//! that change behaviour can be switched off as README says (`"quietHours": null` or `false`).

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn run(dir: &Path, cfg: &Value, args: &[&str]) -> Output {
    std::fs::write(dir.join("c.json"), serde_json::to_string_pretty(cfg).unwrap()).unwrap();
    Command::new(env!("CARGO_BIN_EXE_ops-monitor"))
        .arg("--config-file")
        .arg(dir.join("c.json"))
        .arg("--state-file")
        .arg(dir.join("s.db"))
        .args(args)
        .env("OPENCLAW_HOME", dir)
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn show(o: &Output) -> String {
    format!("exit {:?}\n--- stdout\n{}--- stderr\n{}", o.status.code(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn unknown_keys_are_warned_with_their_path_and_the_closest_known_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = json!({"version": 1, "tickSecond": 30, "telegram": {"allowedChatIDs": [111]},
        "jobs": [{"id": "scan", "kind": "long_running_read", "risk": "read_only", "enable": true,
                  "commands": {"start": ["true"], "status": ["true"], "statsu": ["true"]},
                  "polcy": {"autoResume": true}, "policy": {"stallSecond": 60}, "after": [{"jobId": "scan", "delaySecond": 5}]}]});
    let o = run(dir.path(), &cfg, &["validate-config"]);
    assert_eq!(o.status.code(), Some(0), "warnings never fail a file:\n{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for (path, hint) in [
        ("tickSecond", "tickSeconds"),
        ("telegram.allowedChatIDs", "allowedChatIds"),
        ("jobs[0].enable", "enabled"),
        ("jobs[0].polcy", "policy"),
        ("jobs[0].policy.stallSecond", "stallSeconds"),
        ("jobs[0].commands.statsu", "status"),
        ("jobs[0].after[0].delaySecond", "delaySeconds"),
    ] {
        let want = format!("WARNING: {path}: unknown key, ignored; did you mean `{hint}`?");
        assert!(err.contains(&want), "missing {want:?}:\n{err}");
    }
    // The typo left the job off: the OK line is followed by the jobs not monitored.
    assert!(String::from_utf8_lossy(&o.stdout).contains("disabled (1 of 1, not monitored): scan"), "{}", show(&o));
    // tick warns too, at load.
    let o = run(dir.path(), &cfg, &["tick", "--print-only"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("jobs[0].enable: unknown key"), "{}", show(&o));
}

#[test]
fn an_approver_whose_private_chat_is_not_allowed_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = json!({"version": 1, "telegram": {"allowedChatIds": [111, -100500], "approverUserIds": [111, 333]}, "jobs": []});
    let o = run(dir.path(), &cfg, &["validate-config"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("telegram.approverUserIds[1]: user 333") && err.contains("cannot receive approval requests"), "{}", show(&o));
    assert!(!err.contains("user 111"), "an approver whose chat is allowed is fine:\n{err}");
    // Without an allowlist in the config, it comes from openclaw.json (which only serve reads):
    // nobody is named as unreachable by the config alone.
    let cfg = json!({"version": 1, "telegram": {"approverUserIds": [111, 333]}, "jobs": []});
    let o = run(dir.path(), &cfg, &["validate-config"]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("cannot receive approval requests"), "{}", show(&o));
}

/// An `Etc/GMT…` zone where it is now about 03:00, inside the default quiet hours 23:00–08:00.
fn zone_at_3am() -> String {
    let utc_hour = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 3600 % 24) as i64;
    let mut offset = (3 - utc_hour).rem_euclid(24);
    if offset > 14 {
        offset -= 24;
    }
    match offset {
        0 => "Etc/GMT".into(),
        o if o > 0 => format!("Etc/GMT-{o}"), // POSIX sign: GMT-3 is UTC+3
        o => format!("Etc/GMT+{}", -o),
    }
}

/// Ticks until routine progress of `scan` is printed (true) or 10 s pass (false).
fn routine_progress_shows(dir: &Path, cfg: &Value) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut first = true;
    while Instant::now() < deadline {
        let o = run(dir, cfg, &["tick", "--print-only"]);
        assert!(o.status.success(), "{}", show(&o));
        // The first tick reports the start (a status change, not held by quiet hours).
        if !first && String::from_utf8_lossy(&o.stdout).contains("scan") {
            return true;
        }
        first = false;
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

#[test]
fn quiet_hours_null_or_false_means_none() {
    for (defaults, policy) in [(json!(null), json!({})), (json!({"start": "23:00", "end": "08:00"}), json!({"quietHours": false}))] {
        let dir = tempfile::tempdir().unwrap();
        let st = dir.path().join("st.sh");
        std::fs::write(&st, "echo '{\"running\":true,\"completed\":false,\"progress\":{\"n\":'$(date +%s%N)'}}'\n").unwrap();
        let mut policy = policy;
        policy["reportEverySeconds"] = json!(1);
        let cfg = json!({"version": 1, "timezone": zone_at_3am(), "defaults": {"quietHours": defaults},
            "jobs": [{"id": "scan", "kind": "long_running_read", "risk": "read_only", "enabled": true,
                      "commands": {"start": ["true"], "status": ["sh", st]}, "policy": policy}]});
        assert!(routine_progress_shows(dir.path(), &cfg), "routine progress at 03:00 with no quiet hours ({defaults}, {policy})");
    }
}

#[test]
fn a_tick_with_nothing_to_print_says_so_and_names_what_quiet_hours_held() {
    let dir = tempfile::tempdir().unwrap();
    let st = dir.path().join("st.sh");
    std::fs::write(&st, "echo '{\"running\":true,\"completed\":false}'\n").unwrap();
    let job = json!({"id": "scan", "kind": "long_running_read", "risk": "read_only", "enabled": true, "commands": {"start": ["true"], "status": ["sh", st]}});
    // At 03:00 inside the default quiet hours, the first sighting (a status change) is held.
    let night = json!({"version": 1, "tickSeconds": 1, "timezone": zone_at_3am(), "jobs": [job.clone()]});
    let o = run(dir.path(), &night, &["tick", "--print-only"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "nothing to report now: 1 message(s) held for the morning digest (quiet hours)", "{}", show(&o));
    // Without quiet hours, the unchanged running job gives ticks with nothing to say: they say so.
    let day = json!({"version": 1, "tickSeconds": 1, "defaults": {"quietHours": null}, "jobs": [job]});
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = String::new();
    while Instant::now() < deadline && last.trim() != "nothing to report" {
        last = String::from_utf8_lossy(&run(dir.path(), &day, &["tick", "--print-only"]).stdout).into_owned();
    }
    assert_eq!(last.trim(), "nothing to report");
}
