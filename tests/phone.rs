//! The phone experience through the binary and the fake Bot API (issue: first contact, calm
//! lifecycle, alerts you can act on).

mod support;

use serde_json::json;
use std::time::Duration;
use support::*;

const T: Duration = Duration::from_secs(30);
/// A person who was allowed before they ever opened the bot.
const NEWCOMER: i64 = 4242;

#[test]
fn first_report_before_the_chat_exists_is_held_then_start_is_answered_and_the_alert_delivered() {
    let env = Env::new();
    env.tg.unopened(NEWCOMER);
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"disk gone\"}'\n");
    env.config(json!([long_job("scan", &st, json!({}))]), json!({"telegram": {"allowedChatIds": [ME, NEWCOMER]}}));
    let d = env.serve();
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("disk gone")).expect("the alert reaches the chat that opened the bot");
    let remedy = format!("chat {NEWCOMER} has not opened the bot yet: open t.me/ops_bot and press Start");
    assert!(eventually(T, || env.log().contains(&remedy)), "serve names the remedy:\n{}", env.log());
    assert!(eventually(T, || env.count(&format!("SELECT COUNT(*) FROM outbox WHERE chat_id={NEWCOMER} AND status='held'")) == 1), "the alert is held");

    env.tg.message(NEWCOMER, NEWCOMER, "/start");
    assert!(
        env.tg.eventually(T, |all| all.iter().filter(|m| m.chat_id == NEWCOMER).count() >= 3),
        "greeting, heading and the held alert arrive: {:?}",
        env.tg.to_chat(NEWCOMER)
    );
    let texts: Vec<String> = env.tg.to_chat(NEWCOMER).into_iter().map(|m| m.text).collect();
    assert!(texts[0].contains("Hello!"), "/start is answered first: {texts:?}");
    assert!(texts[1].contains("1 message was held while this chat had not opened the bot"), "{texts:?}");
    assert!(texts[2].contains("disk gone"), "the held alert follows: {texts:?}");
    assert_eq!(env.log().matches(&remedy).count(), 1, "the remedy is logged once per chat");
    stop(d);
}

#[test]
fn a_chat_marked_unreachable_is_answered_as_soon_as_it_writes() {
    let env = Env::new();
    env.tg.block(NEWCOMER);
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"disk gone\"}'\n");
    env.config(json!([long_job("scan", &st, json!({}))]), json!({"telegram": {"allowedChatIds": [ME, NEWCOMER]}}));
    let d = env.serve();
    let marked = format!("SELECT COUNT(*) FROM meta WHERE key='unreachable:{NEWCOMER}'");
    assert!(eventually(T, || env.count(&marked) == 1), "the blocked chat is marked unreachable");
    env.tg.unblock(NEWCOMER);
    env.tg.message(NEWCOMER, NEWCOMER, "/help");
    env.tg.wait_for(T, |m| m.chat_id == NEWCOMER && m.text.contains("/status")).expect("the reply goes out at once, not after an hour");
    assert_eq!(env.count(&marked), 0, "the mark is gone");
    stop(d);
}
