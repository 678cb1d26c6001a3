//! Children never see the bot token (own test binary: it changes the process environment).

use ops_framework::engine::runner::{self, Spec};
use ops_framework::engine::secrets;
use std::time::Duration;

#[tokio::test]
async fn token_variables_and_values_are_absent_from_a_childs_environment() {
    let token = "123456:SECRET-token-value";
    // Safe in edition 2021; sound here because this test binary has only this test, so nothing
    // else reads the environment concurrently.
    std::env::set_var("TELEGRAM_BOT_TOKEN", token);
    std::env::set_var("SOME_OTHER_VAR", format!("prefix-{token}"));
    std::env::set_var("HARMLESS_VAR", "kept");
    secrets::register(token);
    let spec = Spec {
        argv: vec!["env".into()],
        cwd: std::env::temp_dir(),
        env: vec![("OPS_JOB_ID".into(), "j1".into())],
        timeout: Duration::from_secs(5),
        kill_grace: Duration::from_millis(200),
        reap: false,
    };
    let out = runner::run(&spec).await;
    assert!(out.success());
    assert!(!out.stdout.contains("SECRET"), "{}", out.stdout);
    assert!(!out.stdout.contains("TELEGRAM_BOT_TOKEN"));
    // Checked by name: the value would be masked in the output anyway.
    assert!(!out.stdout.contains("SOME_OTHER_VAR"), "{}", out.stdout);
    assert!(out.stdout.contains("HARMLESS_VAR=kept"));
    assert!(out.stdout.contains("OPS_JOB_ID=j1"));
}
