//! The bot token as a process-wide secret, the way CI systems mask theirs: registered before any
//! job is spawned, masked in every job output (before it is stored, sent or logged) and in every
//! log line, never passed to a child, and wiped from the process's own environment.

use std::io::{Seek, SeekFrom, Write};
use std::sync::RwLock;

/// What a masked secret is replaced with.
pub const MASK: &str = "<token>";

/// Shortest piece of a secret that is masked where a capture was cut through it.
const MIN_FRAGMENT: usize = 8;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers the bot token: itself and its secret part (after `id:`) are masked from now on.
pub fn register(token: &str) {
    let token = token.trim();
    if token.is_empty() {
        return;
    }
    let mut all = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    let secret = token.split_once(':').map_or(token, |(_, s)| s);
    // The whole token always; its secret part when long enough not to mask ordinary text.
    for s in [token, secret] {
        if (s == token || s.len() >= MIN_FRAGMENT) && !all.iter().any(|x| x == s) {
            all.push(s.to_string());
        }
    }
    // Longest first, so the whole token is masked as one piece before its secret part.
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

fn registered() -> Vec<String> {
    SECRETS.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// True when `value` holds a registered secret (such an environment variable is not inherited).
pub fn held_in(value: &str) -> bool {
    registered().iter().any(|s| value.contains(s.as_str()))
}

/// `text` with every registered secret replaced by [`MASK`].
pub fn mask(text: &str) -> String {
    let mut out = text.to_string();
    for s in registered() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MASK);
        }
    }
    out
}

/// [`mask`] for what leaves for a chat: also the forms a secret takes once text was decoded or
/// encoded on its way (URL-encoded, as in a request path an error page echoes). Applied to every
/// request body the bot sends, after all parsing and rendering; `html`: the text is Telegram
/// HTML, where the mask must be escaped to stay text.
pub fn mask_outgoing(text: &str, html: bool) -> String {
    let with = if html { "&lt;token&gt;" } else { MASK };
    let mut out = text.to_string();
    for s in registered() {
        for form in [s.clone(), s.replace(':', "%3A"), s.replace(':', "%3a")] {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), with);
            }
        }
    }
    out
}

/// Like [`mask`], for the tail of a longer output: a capture that starts inside a secret (the
/// cut fell through it) has that leading piece masked too.
pub fn mask_tail(text: &str) -> String {
    let out = mask(text);
    for s in registered() {
        let cut = (1..s.len().saturating_sub(MIN_FRAGMENT - 1)).filter(|i| s.is_char_boundary(*i)).find(|i| out.starts_with(&s[*i..]));
        if let Some(i) = cut {
            return format!("{MASK}{}", &out[s.len() - i..]);
        }
    }
    out
}

/// Removes from this process's environment `TELEGRAM_BOT_TOKEN` and every variable holding a
/// registered secret, and overwrites them in the environment block the kernel shows as
/// `/proc/<pid>/environ` (which a job of the same user could otherwise read through
/// `/proc/$PPID/environ`). Call before any thread is started. Returns the names removed.
pub fn scrub_own_environment() -> Vec<String> {
    let names: Vec<String> = std::env::vars_os()
        .filter(|(k, v)| k == "TELEGRAM_BOT_TOKEN" || held_in(&v.to_string_lossy()))
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();
    for n in &names {
        std::env::remove_var(n);
    }
    if !names.is_empty() {
        if let Err(e) = wipe_initial_environ(&names) {
            eprintln!("WARNING: could not wipe the token from /proc/self/environ ({e}); run ops-monitor with the token in telegram.tokenFile instead of the environment");
        }
    }
    names
}

/// Overwrites `NAME=value` of each name with NUL bytes in the initial environment block.
fn wipe_initial_environ(names: &[String]) -> std::io::Result<()> {
    let stat = procfs::process::Process::myself().and_then(|p| p.stat()).map_err(std::io::Error::other)?;
    let (Some(start), Some(end)) = (stat.env_start, stat.env_end) else { return Ok(()) };
    let block = std::fs::read("/proc/self/environ")?;
    let mut mem = std::fs::OpenOptions::new().write(true).open("/proc/self/mem")?;
    let mut at = 0usize;
    for entry in block.split(|b| *b == 0) {
        let name = entry.split(|b| *b == b'=').next().unwrap_or_default();
        if names.iter().any(|n| n.as_bytes() == name) && start + ((at + entry.len()) as u64) <= end {
            mem.seek(SeekFrom::Start(start + at as u64))?;
            mem.write_all(&vec![0u8; entry.len()])?;
        }
        at += entry.len() + 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_token_its_secret_part_and_a_piece_cut_at_the_start() {
        register("4242:unit-test-SECRET-value");
        assert_eq!(mask("x 4242:unit-test-SECRET-value y"), "x <token> y");
        assert_eq!(mask("bare unit-test-SECRET-value"), "bare <token>");
        assert_eq!(mask_tail("SECRET-value and more"), "<token> and more");
        assert_eq!(mask_tail("lue and more"), "lue and more", "pieces shorter than 8 bytes stay");
        assert!(held_in("prefix 4242:unit-test-SECRET-value"));
        assert!(!held_in("nothing here"));
    }
}
