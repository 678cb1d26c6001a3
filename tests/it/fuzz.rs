//! Property tests (proptest) of the config loader and the status parser: random and adversarial
//! inputs never panic, and every rejection carries a one-line message.

use ops_framework::config::parse;
use ops_framework::policy::status::parse_status;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::path::Path;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        Just(json!(u64::MAX)),
        ".{0,24}".prop_map(Value::String),
        "[0-9]{1,2}:[0-9]{1,2}".prop_map(Value::String),
        prop_oneof![Just("long_running_read"), Just("one_shot_read"), Just("one_shot_write"), Just("read_only"), Just("write_local")].prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("id".to_string()),
                    Just("kind".to_string()),
                    Just("risk".to_string()),
                    Just("commands".to_string()),
                    Just("status".to_string()),
                    Just("run".to_string()),
                    Just("after".to_string()),
                    Just("jobId".to_string()),
                    Just("policy".to_string()),
                    Just("quietHours".to_string()),
                    ".{0,8}".prop_map(|s| s),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid config whose fields are then replaced by random values.
fn mutated_config() -> impl Strategy<Value = Value> {
    let base = json!({"version": 1, "timezone": "Europe/Berlin", "defaults": {"quietHours": {"start": "23:00", "end": "08:00"}},
    "jobs": [
        {"id": "scan", "kind": "long_running_read", "risk": "read_only", "commands": {"start": ["true"], "status": ["true"]}},
        {"id": "w", "kind": "one_shot_write", "risk": "write_local", "commands": {"run": ["true"]}, "after": [{"jobId": "v", "when": "success"}]},
        {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["true"]}}
    ]});
    let paths = [
        "/version",
        "/timezone",
        "/defaults",
        "/defaults/quietHours/start",
        "/jobs",
        "/jobs/0/id",
        "/jobs/0/kind",
        "/jobs/0/commands/status",
        "/jobs/1/after",
        "/jobs/1/after/0/jobId",
        "/jobs/2/risk",
        "/jobs/2/commands/run",
        "/jobs/1/id",
    ];
    prop::collection::vec((prop::sample::select(paths.to_vec()), json_value()), 1..4).prop_map(move |edits| {
        let mut v = base.clone();
        for (p, new) in edits {
            if let Some(slot) = v.pointer_mut(p) {
                *slot = new;
            }
        }
        v
    })
}

fn check_config(text: &str) -> Result<(), TestCaseError> {
    match parse(text, Path::new("/etc/ops/c.json"), Path::new("/home/x")) {
        Ok(cfg) => prop_assert!(cfg.jobs.iter().all(|j| !j.id.is_empty())),
        Err(e) => {
            prop_assert!(!e.issues.is_empty(), "a rejection without an issue");
            for i in &e.issues {
                prop_assert!(!i.message.trim().is_empty() && !i.message.contains('\n'), "bad message {:?}", i.message);
            }
        }
    }
    Ok(())
}

fn check_status(text: &str) -> Result<(), TestCaseError> {
    match parse_status(text) {
        Ok(_) => {
            let v: Value = serde_json::from_str(text.trim()).expect("accepted means JSON");
            prop_assert!(v["running"].is_boolean() && v["completed"].is_boolean());
        }
        Err(e) => prop_assert!(!e.reason.trim().is_empty() && !e.reason.contains('\n'), "bad reason {e:?}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn config_loader_never_panics_on_random_text(text in ".{0,300}") {
        check_config(&text)?;
    }

    #[test]
    fn config_loader_never_panics_on_random_json(v in json_value()) {
        check_config(&v.to_string())?;
    }

    #[test]
    fn config_loader_handles_mutated_valid_configs(v in mutated_config()) {
        check_config(&v.to_string())?;
    }

    #[test]
    fn status_parser_never_panics_on_random_text(text in ".{0,200}") {
        check_status(&text)?;
    }

    #[test]
    fn status_parser_never_panics_on_random_json(v in json_value()) {
        check_status(&v.to_string())?;
    }

    #[test]
    fn status_parser_handles_near_valid_objects(running in json_value(), completed in json_value(), progress in json_value(), level in json_value(), pid in json_value()) {
        let v = json!({"running": running, "completed": completed, "progress": progress, "level": level, "pid": pid, "message": "x"});
        check_status(&v.to_string())?;
    }
}
