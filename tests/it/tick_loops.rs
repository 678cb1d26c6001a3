//! The per-job ticks of `serve` share one store: a tick writes only the
//! jobs it evaluated, so a slow check tick never rolls back what the other loop or a person
//! stored meanwhile.

use ops_framework::engine::paths::Paths;
use ops_framework::engine::tick::{tick, Scope, TickOptions};
use ops_framework::store::Store;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_check_tick_does_not_write_back_another_jobs_old_state() {
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f);
    std::fs::write(p("check.sh"), format!("touch {}\nsleep 2\n", p("started").display())).unwrap();
    std::fs::write(p("st.sh"), "echo '{\"running\":true,\"completed\":false}'\n").unwrap();
    let cfg = json!({"version": 1, "jobs": [
        {"id": "check", "kind": "one_shot_read", "risk": "read_only", "enabled": true,
         "commands": {"run": ["sh", p("check.sh")]}, "policy": {"runEverySeconds": 60}},
        {"id": "long", "kind": "long_running_read", "risk": "read_only", "enabled": true,
         "commands": {"start": ["true"], "status": ["sh", p("st.sh")]}}
    ]});
    std::fs::write(p("c.json"), cfg.to_string()).unwrap();
    let paths = Paths { home: dir.path().to_path_buf(), config: p("c.json"), state_db: p("s.db") };
    let mut store = Store::open(&paths.state_db).unwrap();
    store.update_job_state("long", |s| s.last_report_at = Some(1)).unwrap();
    let checks = tokio::spawn({
        let paths = paths.clone();
        async move { tick(&paths, &TickOptions { scope: Scope::Job("check".into()), ..TickOptions::default() }).await.map(|_| ()) }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while !p("started").exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(p("started").exists(), "the check runs");
    // Meanwhile: the long-job loop stores news, and a person snoozes the job.
    store.update_job_state("long", |s| s.reported_completed = true).unwrap();
    ops_framework::store::decision_rows::decide(&mut store, "long", |d| d.snoozed_until = Some(42)).unwrap();
    checks.await.unwrap().unwrap();
    let states = store.job_states().unwrap();
    let long = &states["long"];
    assert!(long.reported_completed, "rolled back: {long:?}");
    assert_eq!(ops_framework::store::decision_rows::of(&store, "long").unwrap().snoozed_until, Some(42), "the snooze was undone");
    assert!(states["check"].last_check_at.is_some(), "the check's own state was written");
}
