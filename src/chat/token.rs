//! Where the bot token and allowlist come from. The token is a secret: it is kept in a
//! `secrecy::SecretString` (Debug prints a placeholder, no Display, wiped from memory when
//! dropped), and registered so children never inherit it.

use crate::config::{parse_id, Config};
use crate::engine::paths::Paths;
use anyhow::Result;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::path::Path;
use std::sync::OnceLock;

/// The bot token; Debug prints a placeholder, so deriving Debug on a holder cannot leak it.
#[derive(Clone, Debug)]
pub struct Token(SecretString);

impl Token {
    /// A token typed by a person (`ops-monitor setup`); registered for masking by the caller.
    pub fn new(secret: String) -> Token {
        Token(secret.into())
    }

    /// `TELEGRAM_BOT_TOKEN` as the process started with it (it is removed from the environment
    /// right after start), for `setup`, which takes no token from openclaw.json.
    pub fn from_env() -> Option<Token> {
        env_token().map(Token::new)
    }

    /// The secret itself (for building the Bot and redacting only).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// Token and allowlist fallback found for `serve`.
#[derive(Debug)]
pub struct Found {
    /// The token, if any source has one.
    pub token: Option<Token>,
    /// Where the token was found (for `doctor`; never the token itself).
    pub source: Option<String>,
    /// `channels.telegram.allowFrom` of openclaw.json (used when the config has no allowlist).
    pub allow_from: Vec<i64>,
    /// The file the token was read from (None: the environment, or no token).
    pub file: Option<std::path::PathBuf>,
}

/// `TELEGRAM_BOT_TOKEN` as it was when first read: [`prepare`] removes the variable from the
/// process's environment right after, so later calls get the remembered value.
fn env_token() -> Option<String> {
    static ENV_TOKEN: OnceLock<Option<String>> = OnceLock::new();
    ENV_TOKEN.get_or_init(|| std::env::var("TELEGRAM_BOT_TOKEN").ok().map(|t| t.trim().to_string()).filter(|t| !t.is_empty())).clone()
}

/// `telegram.tokenFile` names a file that cannot be read: a config problem (exit 2) for every
/// command that reads the token, so a service manager does not restart the daemon every few
/// seconds over it, and a CLI command does not run on without the token it masks output with.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "telegram.tokenFile cannot be read: {file}: {error} (fix the path, or let the user ops-monitor runs as read it: `chown <that user> {file} && chmod 600 {file}`)"
)]
pub struct TokenFileUnreadable {
    file: String,
    error: String,
}

/// What [`prepare`] found wrong with `telegram.tokenFile` (the environment's token wins over it).
static TOKEN_FILE_PROBLEM: OnceLock<TokenFileUnreadable> = OnceLock::new();

/// The token file named by the config could not be read when the process started.
pub fn token_file_problem() -> Option<TokenFileUnreadable> {
    TOKEN_FILE_PROBLEM.get().cloned()
}

/// `TELEGRAM_BOT_TOKEN`, else `telegram.tokenFile`, else `$OPENCLAW_HOME/openclaw.json`.
pub fn resolve(cfg: &Config, home: &Path) -> Result<Found> {
    resolve_with(cfg.telegram.token_file.as_deref(), home)
}

fn resolve_with(token_file: Option<&Path>, home: &Path) -> Result<Found> {
    let openclaw = std::fs::read_to_string(home.join("openclaw.json")).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok());
    let tg = openclaw.as_ref().and_then(|v| v.pointer("/channels/telegram")).cloned().unwrap_or(Value::Null);
    let allow_from = tg.get("allowFrom").and_then(Value::as_array).map(|a| a.iter().filter_map(parse_id).collect()).unwrap_or_default();
    let (token, source, file) = if let Some(t) = env_token() {
        (Some(t), "the environment variable TELEGRAM_BOT_TOKEN".to_string(), None)
    } else if let Some(f) = token_file {
        let t = std::fs::read_to_string(f).map_err(|e| TokenFileUnreadable { file: f.display().to_string(), error: e.to_string() })?;
        (Some(t.trim().to_string()), format!("telegram.tokenFile {}", f.display()), Some(f.to_path_buf()))
    } else {
        let f = home.join("openclaw.json");
        (tg.get("botToken").and_then(Value::as_str).map(|s| s.trim().to_string()), format!("{} (channels.telegram.botToken)", f.display()), Some(f))
    };
    let token = token.filter(|t| !t.is_empty()).map(|t| Token(t.into()));
    Ok(Found { source: token.as_ref().map(|_| source), file: token.as_ref().and(file), token, allow_from })
}

/// A warning when the file holding the token can be read (or written) by others than its owner.
pub fn exposed_file_warning(file: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(file).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| {
        format!("the file holding the bot token, {}, has mode {mode:04o}: other users can read it; run `chmod 600 {}`", file.display(), file.display())
    })
}

/// Runs first on every CLI path, before any job can be spawned and before any thread starts:
/// finds the token (environment, token file, openclaw.json), registers it so job output, logs
/// and children's environments never carry it, and removes it (and any variable holding it)
/// from this process's environment.
pub fn prepare(paths: &Paths) {
    let _ = env_token();
    let token_file = crate::config::load(&paths.config, &paths.home).ok().and_then(|c| c.telegram.token_file);
    match resolve_with(token_file.as_deref(), &paths.home) {
        Ok(Found { token: Some(t), file, .. }) => {
            crate::engine::secrets::register(t.expose());
            // Once per process (this runs once, before logging starts): stderr, journald under systemd.
            if let Some(w) = file.as_deref().and_then(exposed_file_warning) {
                eprintln!("WARNING: {w}");
            }
        }
        Ok(_) => {}
        Err(e) => {
            if let Some(u) = e.downcast_ref::<TokenFileUnreadable>() {
                let _ = TOKEN_FILE_PROBLEM.set(u.clone());
            }
        }
    }
    crate::engine::secrets::scrub_own_environment();
}

/// Replaces every occurrence of the token in `s` (for anything logged or reported).
pub fn redact(s: &str, token: &Token) -> String {
    match token.expose() {
        "" => s.to_string(),
        secret => s.replace(secret, "<token>"),
    }
}

#[cfg(test)]
mod tests {
    use super::{redact, Token};

    #[test]
    fn debug_never_prints_the_token_and_redact_masks_it() {
        let t = Token("123456:SECRET-part".to_string().into());
        let shown = format!("{t:?} {:?}", Some(t.clone()));
        assert!(!shown.contains("SECRET"), "{shown}");
        assert_eq!(redact("GET /bot123456:SECRET-part/getMe", &t), "GET /bot<token>/getMe");
        assert_eq!(t.expose(), "123456:SECRET-part");
    }
}
