//! README's backup and restore, run as README spells them (its `systemctl` lines left out): the
//! archive holds what the database holds (its `-wal` file included), and a restore brings back
//! the history as it was at the backup, even on a fresh install with no job folders yet.

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

/// The shell lines of README's `sh` block that contains `marker`, without `systemctl` lines.
fn readme_script(marker: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let block = readme
        .split("```sh\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.contains(marker))
        .unwrap_or_else(|| panic!("README has a block with {marker}"));
    block.replace("\\\n", " ").lines().filter(|l| !l.trim_start().starts_with("systemctl")).collect::<Vec<_>>().join("\n")
}

/// The CLI at its default paths under `home` (as a user who ran setup has them).
fn cli(home: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ops-monitor")).args(args).env("HOME", home).env_remove("OPENCLAW_HOME").env_remove("TELEGRAM_BOT_TOKEN").output().unwrap()
}

/// The exit code of the job's last run, as the state says.
fn last_exit(home: &Path) -> Value {
    let o = cli(home, &["status", "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    v["jobs"][0]["lastRun"]["exitCode"].clone()
}

fn sh(home: &Path, script: &str) {
    let o = Command::new("sh").arg("-c").arg(script).env("HOME", home).output().unwrap();
    assert!(o.status.success(), "{script}\n{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn the_readme_backup_keeps_the_history_and_its_restore_brings_it_back() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".openclaw/net/config");
    std::fs::create_dir_all(config.join("secrets")).unwrap();
    // The check succeeds until the marker exists: the runs before and after the backup differ.
    let marker = home.path().join("after-backup");
    let job = json!({"id": "chk", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["test", "!", "-e", marker]}});
    std::fs::write(config.join("ops-jobs.json"), json!({"version": 1, "jobs": [job], "defaults": {"quietHours": null}}).to_string()).unwrap();
    cli(home.path(), &["run", "chk"]);
    assert_eq!(last_exit(home.path()), json!(0), "the run is recorded");

    sh(home.path(), &readme_script("ops-monitor-backup-$(date +%F)"));
    std::fs::write(&marker, "").unwrap();
    cli(home.path(), &["run", "chk"]);
    assert_eq!(last_exit(home.path()), json!(1), "a failed run after the backup");

    sh(home.path(), &readme_script("-xzf").replace("YYYY-MM-DD", "$(date +%F)"));
    assert_eq!(last_exit(home.path()), json!(0), "the restore brings back the state of the backup");
}
