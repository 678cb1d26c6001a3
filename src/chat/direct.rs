//! A Bot API request path without teloxide-core's built-in delay on server errors.
//!
//! teloxide-core 0.13 sleeps `DELAY_ON_SERVER_ERROR` (10 s) inside every request Telegram
//! answers with a 5xx, before it returns the error (net/request.rs, `process_response`). The
//! outbox has its own backoff (sender::classify), so on top of it three 502s in a row cost ~30 s
//! more. The outbox therefore sends through this path: the same URL, JSON body, client (timeouts,
//! proxy) and error mapping as teloxide, minus that sleep.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use teloxide::payloads::EditMessageText;
use teloxide::requests::Payload;
use teloxide::types::{ChatId, InlineKeyboardMarkup, Message, MessageId, ParseMode, ResponseParameters};
use teloxide::{ApiError, Bot, RequestError};

/// Telegram's answer envelope: `{"ok": true, "result": …}` or `{"ok": false, "description": …,
/// "parameters": …}`.
#[derive(Deserialize)]
struct Answer<R> {
    ok: bool,
    result: Option<R>,
    description: Option<ApiError>,
    parameters: Option<ResponseParameters>,
}

/// Calls the Bot API method of `payload` once and returns its result or the classified error.
pub async fn call<P>(bot: &Bot, payload: &P) -> Result<P::Output, RequestError>
where
    P: Payload + Serialize,
    P::Output: DeserializeOwned,
{
    let mut url = bot.api_url();
    url.path_segments_mut()
        .map_err(|()| RequestError::Api(ApiError::Unknown("the Bot API URL cannot be a base".into())))?
        .extend([format!("bot{}", bot.token()), P::NAME.to_string()]);
    let body = serde_json::to_string(payload).map_err(|e| RequestError::InvalidJson { source: e.into(), raw: "".into() })?;
    // The one masking point of everything the bot says (texts, buttons, answers, edits): after
    // all parsing and rendering, so a token decoded from an escape or read from output stored
    // by a process that did not know it is masked all the same.
    let html = body.contains(r#""parse_mode":"HTML""#);
    let body = crate::engine::secrets::mask_outgoing(&body, html);
    // `RequestError::from(reqwest::Error)` strips the URL (it holds the token) from the error.
    let response = bot.client().post(url).header("Content-Type", "application/json").body(body).send().await?;
    let text = response.text().await?;
    parse(text)
}

/// sendPhoto (multipart) through the same path: the chart a person asked for, into forum topic
/// `thread` when given. Without teloxide-core's 10 s sleep a 5xx is the caller's to retry.
pub async fn send_photo(bot: &Bot, chat: i64, png: Vec<u8>, caption: &str, thread: Option<i32>) -> Result<Message, RequestError> {
    let mut url = bot.api_url();
    url.path_segments_mut()
        .map_err(|()| RequestError::Api(ApiError::Unknown("the Bot API URL cannot be a base".into())))?
        .extend([format!("bot{}", bot.token()), "sendPhoto".to_string()]);
    let photo = reqwest::multipart::Part::bytes(png).file_name("chart.png").mime_str("image/png")?;
    let mut form = reqwest::multipart::Form::new()
        .text("chat_id", chat.to_string())
        .text("caption", crate::engine::secrets::mask_outgoing(caption, false))
        .part("photo", photo);
    if let Some(t) = thread {
        form = form.text("message_thread_id", t.to_string());
    }
    let response = bot.client().post(url).multipart(form).send().await?;
    parse(response.text().await?)
}

/// An HTML edit of a delivered message (its buttons replaced by `markup`, or removed when
/// None), for [`call`]: alert marks, refreshed overviews and settled requests.
pub fn edit_html(chat: i64, msg: i32, html: String, markup: Option<InlineKeyboardMarkup>) -> EditMessageText {
    let mut req = EditMessageText::new(ChatId(chat), MessageId(msg), html);
    req.parse_mode = Some(ParseMode::Html);
    req.reply_markup = markup;
    req
}

/// Maps Telegram's answer as teloxide does (retry_after / migrate_to_chat_id first).
fn parse<R: DeserializeOwned>(text: String) -> Result<R, RequestError> {
    let invalid = |e: serde_json::Error, text: String| RequestError::InvalidJson { source: e.into(), raw: text.into() };
    let answer: Answer<R> = match serde_json::from_str(&text) {
        Ok(a) => a,
        Err(e) => return Err(invalid(e, text)),
    };
    match answer {
        Answer { ok: true, result: Some(r), .. } => Ok(r),
        Answer { ok: false, parameters: Some(ResponseParameters::RetryAfter(s)), .. } => Err(RequestError::RetryAfter(s)),
        Answer { ok: false, parameters: Some(ResponseParameters::MigrateToChatId(c)), .. } => Err(RequestError::MigrateToChatId(c)),
        Answer { ok: false, description: Some(e), .. } => Err(RequestError::Api(e)),
        _ => Err(invalid(serde::de::Error::custom("neither a result nor an error description"), text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::{ChatId, Seconds, True};

    #[test]
    fn answers_map_to_the_same_errors_as_teloxide() {
        assert!(matches!(parse::<True>(r#"{"ok":true,"result":true}"#.into()), Ok(True)));
        let retry = parse::<True>(r#"{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":7}}"#.into());
        assert!(matches!(retry, Err(RequestError::RetryAfter(s)) if s == Seconds::from_seconds(7)));
        let moved = parse::<True>(r#"{"ok":false,"description":"Bad Request: upgraded","parameters":{"migrate_to_chat_id":-1001}}"#.into());
        assert!(matches!(moved, Err(RequestError::MigrateToChatId(ChatId(-1001)))));
        let blocked = parse::<True>(r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#.into());
        assert!(matches!(blocked, Err(RequestError::Api(ApiError::BotBlocked))));
        let odd = parse::<True>(r#"{"ok":false,"error_code":500,"description":"Internal Server Error"}"#.into());
        assert!(matches!(odd, Err(RequestError::Api(ApiError::Unknown(d))) if d == "Internal Server Error"));
        let html = parse::<True>("<html>502 Bad Gateway</html>".into());
        assert!(matches!(html, Err(RequestError::InvalidJson { raw, .. }) if raw.contains("502")));
    }
}
