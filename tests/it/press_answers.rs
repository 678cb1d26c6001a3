//! Answers to button presses go out on the bot's own request path: a Telegram 5xx on one costs
//! nothing more than the failed request (teloxide-core would sleep 10 s inside it, and the chat's
//! next updates wait behind that handler).

use crate::support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::fake_tg::Quirk;
use support::*;

const T: Duration = Duration::from_secs(20);

#[test]
fn a_server_error_answering_a_press_does_not_hold_up_the_chat() {
    let env = Env::new();
    let st = env.script("st.sh", "echo '{\"running\":false,\"completed\":false}'\n");
    env.config(json!([long_job("scan", &st, json!({}))]), json!({"telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    env.tg.message(ME, ME, "/lang");
    let pick = env.tg.wait_for(T, |m| m.chat_id == ME && m.button("English").is_some()).expect("language buttons");
    env.tg.quirk("answercallbackquery", Some(Quirk::ServerError(502)));
    let pressed = Instant::now();
    env.tg.press(&pick, ME, &pick.button("English").unwrap());
    env.tg.message(ME, ME, "/help");
    env.tg.wait_for(T, |m| m.chat_id == ME && m.text.contains("/status —")).expect("/help is answered");
    let took = pressed.elapsed();
    assert!(env.tg.count("answercallbackquery") >= 1, "the press was answered (and failed)");
    assert!(took < Duration::from_secs(5), "/help after a press whose answer got a 502 took {took:?}");
    stop(d);
}
