//! Long fault test (`#[ignore]`d, see tests/soak.rs for the knobs): every Bot API
//! request (sendMessage, getUpdates, getMe) has its connection closed without an answer
//! (`FakeTg::down`) for `OPS_SOAK_OUTAGE_SECS` (180) while a job raises a new alert every tick;
//! afterwards both chats receive every alert once, in order.
//!
//! ```sh
//! cargo test --test it soak_outage -- --ignored --nocapture
//! ```

use crate::support;

use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::*;

fn produced(env: &Env) -> u64 {
    std::fs::read_to_string(env.path().join("n")).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

#[test]
#[ignore = "soak test (minutes): cargo test --test it soak_outage -- --ignored --nocapture --test-threads 1"]
fn telegram_unreachable_for_minutes_then_every_alert_arrives_once_in_order() {
    outage_soak(Duration::from_secs(env_num("OPS_SOAK_OUTAGE_SECS", 180)));
}

/// The short form, run by every `cargo test`: a 30 s outage.
#[test]
fn telegram_unreachable_for_30_s_then_every_alert_arrives_once_in_order() {
    outage_soak(Duration::from_secs(30));
}

fn outage_soak(outage: Duration) {
    let env = Env::new();
    env.config(json!([counting_alert(&env)]), json!({"tickSeconds": 5}));
    let d = env.serve();
    for chat in [ME, GROUP] {
        assert!(eventually(Duration::from_secs(30), || !alert_numbers(&env, chat).is_empty()), "chat {chat}: first alert before the outage");
    }
    let until = Instant::now() + outage;
    env.tg.down(until);
    let before = env.tg.sent().len();
    let failures0 = env.log().matches("send failed").count();
    println!("soak: Telegram unreachable for {} s (every request, getUpdates included, has its connection closed without an answer)", outage.as_secs());
    std::thread::sleep(until - Instant::now());
    let at_end = produced(&env);
    let failures = env.log().matches("send failed").count() - failures0;
    assert_eq!(env.tg.sent().len(), before, "nothing can arrive during the outage");
    let chats = [ME, GROUP];
    let (mut first, mut done): (HashMap<i64, Duration>, HashMap<i64, Duration>) = Default::default();
    let deadline = Instant::now() + outage + Duration::from_secs(300);
    while done.len() < chats.len() && Instant::now() < deadline {
        let sent = env.tg.sent();
        for chat in chats {
            if !first.contains_key(&chat) && sent[before..].iter().any(|m| m.chat_id == chat && m.method == "sendmessage") {
                first.insert(chat, until.elapsed());
            }
            if !done.contains_key(&chat) && alert_numbers(&env, chat).len() as u64 >= at_end {
                done.insert(chat, until.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut lines = Vec::new();
    for chat in chats {
        let ns = alert_numbers(&env, chat);
        assert!(done.contains_key(&chat), "chat {chat}: only {} of {at_end} alerts delivered: {ns:?}", ns.len());
        let want: Vec<u64> = (1..=ns.len() as u64).collect();
        assert_eq!(ns, want, "chat {chat}: each alert once, in order");
        lines.push(format!(
            "chat {chat}: first message {:.1} s after the outage ended; alerts 1..={at_end} all in by {:.1} s ({} delivered when checked, each once, in order)",
            first[&chat].as_secs_f64(),
            done[&chat].as_secs_f64(),
            ns.len()
        ));
    }
    println!("soak: {at_end} alerts raised up to the end of the outage; {failures} failed send attempts logged during it (retried with backoff)");
    for l in lines {
        println!("soak: {l}");
    }
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}
