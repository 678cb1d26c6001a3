//! Where the bot token and allowlist come from. The token is a secret: it is kept in a type
//! whose Debug/Display never print it, and registered so children never inherit it.

use crate::config::{parse_id, Config};
use anyhow::{Context, Result};
use serde_json::Value;
use std::path::Path;

/// The bot token; Debug prints a placeholder.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// The secret itself (for building the Bot only).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Token and allowlist fallback found for `serve`.
#[derive(Debug)]
pub struct Found {
    /// The token, if any source has one.
    pub token: Option<Token>,
    /// `channels.telegram.allowFrom` of openclaw.json (used when the config has no allowlist).
    pub allow_from: Vec<i64>,
}

/// `TELEGRAM_BOT_TOKEN`, else `telegram.tokenFile`, else `$OPENCLAW_HOME/openclaw.json`.
pub fn resolve(cfg: &Config, home: &Path) -> Result<Found> {
    let openclaw = std::fs::read_to_string(home.join("openclaw.json")).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok());
    let tg = openclaw.as_ref().and_then(|v| v.pointer("/channels/telegram")).cloned().unwrap_or(Value::Null);
    let allow_from = tg.get("allowFrom").and_then(Value::as_array).map(|a| a.iter().filter_map(parse_id).collect()).unwrap_or_default();
    let token = if let Some(t) = std::env::var("TELEGRAM_BOT_TOKEN").ok().filter(|t| !t.trim().is_empty()) {
        Some(t.trim().to_string())
    } else if let Some(f) = &cfg.telegram.token_file {
        Some(std::fs::read_to_string(f).with_context(|| format!("read telegram.tokenFile {}", f.display()))?.trim().to_string())
    } else {
        tg.get("botToken").and_then(Value::as_str).map(|s| s.trim().to_string())
    };
    Ok(Found { token: token.filter(|t| !t.is_empty()).map(Token), allow_from })
}

/// Replaces every occurrence of the token in `s` (for anything logged or reported).
pub fn redact(s: &str, token: &Token) -> String {
    if token.0.is_empty() {
        s.to_string()
    } else {
        s.replace(&token.0, "<token>")
    }
}
