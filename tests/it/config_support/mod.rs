//! Helpers shared by the config tests: parse from text or JSON, expect exactly one issue at a
//! path, and small job builders.
#![allow(dead_code)]

use ops_framework::config::{parse, Config, ConfigError, Issue};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub const FILE: &str = "/srv/ops/conf/ops-jobs.json";
pub const HOME: &str = "/home/oc/.openclaw";

pub fn parse_text(text: &str) -> Result<Config, ConfigError> {
    parse(text, Path::new(FILE), Path::new(HOME))
}

pub fn parse_value(v: &Value) -> Result<Config, ConfigError> {
    parse_text(&serde_json::to_string_pretty(v).unwrap())
}

pub fn ok(v: &Value) -> Config {
    match parse_value(v) {
        Ok(c) => c,
        Err(e) => panic!("expected a valid config, got:\n{e}"),
    }
}

pub fn issues_of_text(text: &str) -> Vec<Issue> {
    match parse_text(text) {
        Ok(_) => panic!("expected an invalid config, it was accepted:\n{text}"),
        Err(e) => {
            assert_eq!(e.file, PathBuf::from(FILE), "the error names the file");
            assert!(!e.issues.is_empty(), "an error carries at least one issue");
            e.issues
        }
    }
}

pub fn issues(v: &Value) -> Vec<Issue> {
    issues_of_text(&serde_json::to_string_pretty(v).unwrap())
}

pub fn show(issues: &[Issue]) -> String {
    issues.iter().map(|i| format!("  {}: {}", i.path, i.message)).collect::<Vec<_>>().join("\n")
}

/// The config has exactly one issue, at `path`, whose message contains `word`.
pub fn only_issue(v: &Value, path: &str, word: &str) -> Issue {
    let is = issues(v);
    assert_eq!(is.len(), 1, "expected exactly one issue at {path}, got:\n{}", show(&is));
    check(&is[0], path, word);
    is[0].clone()
}

/// Every issue is at `path` (nothing cascades elsewhere) and one of them mentions `word`.
pub fn issues_at(v: &Value, path: &str, word: &str) -> Vec<Issue> {
    let is = issues(v);
    assert!(is.iter().all(|i| i.path == path), "expected issues only at {path}, got:\n{}", show(&is));
    assert!(is.iter().any(|i| i.message.to_lowercase().contains(&word.to_lowercase())), "an issue at {path} should mention {word:?}:\n{}", show(&is));
    is
}

pub fn check(i: &Issue, path: &str, word: &str) {
    assert_eq!(i.path, path, "issue path (message: {})", i.message);
    assert!(i.message.to_lowercase().contains(&word.to_lowercase()), "message of {path} should mention {word:?}: {}", i.message);
}

/// A config with `version: 1` and the given jobs.
pub fn cfg(jobs: Value) -> Value {
    json!({"version": 1, "jobs": jobs})
}

pub fn long_job(id: &str) -> Value {
    json!({"id": id, "kind": "long_running_read", "risk": "read_only",
           "commands": {"start": ["sh", "start.sh"], "status": ["sh", "status.sh"]}})
}

pub fn read_job(id: &str) -> Value {
    json!({"id": id, "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", "check.sh"]}})
}

pub fn write_job(id: &str, verify: &str) -> Value {
    json!({"id": id, "kind": "one_shot_write", "risk": "write_local", "commands": {"run": ["sh", "write.sh"]},
           "after": [{"jobId": verify, "when": "success"}]})
}

/// `base` with `patch`'s keys set (a null value removes the key).
pub fn with(mut base: Value, patch: Value) -> Value {
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k.as_str()] = v.clone();
        }
    }
    base
}
