//! `ops-monitor selftest`: the built-in scenarios run with no config, no token, no network.

use std::process::Command;

fn selftest(home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ops-monitor"));
    c.arg("selftest").env("HOME", home).env("OPENCLAW_HOME", home).env_remove("TELEGRAM_BOT_TOKEN").env("TELEGRAM_API_URL", "http://127.0.0.1:9");
    c
}

#[test]
fn every_scenario_passes_without_config_token_or_network_and_leaves_home_alone() {
    let home = tempfile::tempdir().unwrap();
    let out = selftest(home.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for name in ["auto-resume of a paused read job", "ACTION REQUIRED", "blocked write job", "stall detection", "quiet hours"] {
        assert!(text.lines().any(|l| l.starts_with("PASS") && l.contains(name)), "no PASS line for {name}:\n{text}");
    }
    assert!(text.contains("5 of 5 scenarios passed"), "{text}");
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0, "selftest wrote into the real home");
}

#[test]
fn a_scenario_that_cannot_run_fails_and_the_exit_code_says_so() {
    let home = tempfile::tempdir().unwrap();
    let out = selftest(home.path()).env("TMPDIR", home.path().join("missing")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.lines().filter(|l| l.starts_with("FAIL")).count() == 5, "{text}");
    assert!(text.contains("0 of 5 scenarios passed"), "{text}");
}
