//! `ops-monitor setup`: from a bot token to a phone that gets reports, in one command. It checks
//! the token (getMe), learns the person's chat id from their first private /start (or takes
//! `--chat-id`), writes the token to a private file and a starter config that validates, greets
//! the person in the chat and prints the next steps. Waiting for the message is `setup_wait`,
//! the files are `setup_files`.

use super::setup_wait::{self, Person};
use super::Exit;
use crate::chat::token::Token;
use crate::engine::paths::Paths;
use anyhow::Result;
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;
use teloxide::prelude::*;

/// What `setup` was asked for on the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long to wait for the person's /start.
    pub wait: Duration,
    /// The chat id, when known: no waiting.
    pub chat_id: Option<i64>,
    /// Replace an existing config (kept as `.bak`).
    pub force: bool,
    /// The config path was given on the command line (the next steps then repeat it).
    pub explicit_config: bool,
}

/// Runs the whole setup; every failure says what to do.
pub async fn run(paths: &Paths, opts: &Options) -> Result<i32> {
    if paths.config.exists() && !opts.force {
        return Err(Exit::usage(format!(
            "{} exists; setup does not overwrite it. To connect a phone to it, add your chat id to its telegram.allowedChatIds \
             (`ops-monitor setup --config-file /tmp/try.json` shows your id), or run `ops-monitor setup --force` to replace it \
             (the old file is kept as .bak)",
            paths.config.display()
        )));
    }
    let tty = std::io::stdin().is_terminal();
    let token = obtain_token(tty)?;
    let api_url = std::env::var("TELEGRAM_API_URL").ok().filter(|u| !u.is_empty());
    let bot = bot(&token, api_url.as_deref())?;
    let me = setup_wait::get_me(&bot, &token).await?;
    say!("The token works: the bot is @{me}.");
    let person = match opts.chat_id {
        Some(id) => setup_wait::known_chat(&bot, &token, &me, id).await?,
        None => wait_for_person(&bot, &token, &me, opts.wait, tty).await?,
    };
    say!("Taking {}.", person.describe());
    let written = super::setup_files::write(paths, &token, &person, api_url.as_deref(), opts.force)?;
    say!("Wrote {} (starter config, valid; its example jobs are disabled)", written.config.display());
    say!("Wrote {} (the bot token; mode 0600, folder 0700)", written.token.display());
    match setup_wait::greet(&bot, &token, &person).await {
        Ok(()) => say!("Sent a greeting to {} in Telegram.", person.name),
        Err(e) => say!("WARNING: the greeting to chat {} failed: {e} (the files are written; `ops-monitor doctor --send-test` tries again)", person.chat_id),
    }
    next_steps(paths, opts);
    Ok(0)
}

/// Waits for the person, asking on a terminal whether it is them.
async fn wait_for_person(bot: &Bot, token: &Token, me: &str, wait: Duration, tty: bool) -> Result<Person> {
    say!("Open t.me/{me} on your phone and send /start (press Start). Waiting up to {} …", crate::i18n::duration(crate::i18n::Lang::En, wait.as_secs()));
    let confirm = move |p: &Person| -> bool { !tty || ask_yes(&format!("A /start from {}. Is this you? [Y/n] ", p.describe())) };
    setup_wait::first_private_start(bot, token, me, wait, !tty, confirm).await
}

/// The token: `TELEGRAM_BOT_TOKEN`, else typed at a silent prompt on a terminal.
fn obtain_token(tty: bool) -> Result<Token> {
    let token = match Token::from_env() {
        Some(t) => t,
        None if tty => {
            say!("Paste the token @BotFather gave you (/newbot); it is not shown while you type.");
            Token::new(read_hidden("Bot token: ").map_err(|e| anyhow::anyhow!("cannot read the token from the terminal: {e}"))?)
        }
        None => {
            return Err(Exit::usage(
                "no bot token: set TELEGRAM_BOT_TOKEN (create a bot with @BotFather, /newbot) or run `ops-monitor setup` in a terminal to type it",
            ))
        }
    };
    crate::engine::secrets::register(token.expose());
    if !plausible(token.expose()) {
        return Err(Exit::usage("that does not look like a bot token (digits, a colon, then letters: 123456789:AAF…); copy it again from @BotFather"));
    }
    Ok(token)
}

/// A bot token's shape: `<digits>:<secret>`, no spaces.
fn plausible(t: &str) -> bool {
    t.split_once(':')
        .is_some_and(|(id, secret)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !secret.is_empty() && !secret.contains(char::is_whitespace))
}

fn bot(token: &Token, api_url: Option<&str>) -> Result<Bot> {
    let mut bot = Bot::new(token.expose());
    if let Some(u) = api_url {
        bot = bot.set_api_url(u.parse().map_err(|e| Exit::usage(format!("TELEGRAM_API_URL {u:?} is not a URL: {e}")))?);
    }
    Ok(bot)
}

/// Reads one line from the terminal with echo off (the token never shows on screen).
fn read_hidden(prompt: &str) -> std::io::Result<String> {
    use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions};
    let stdin = std::io::stdin();
    print!("{prompt}");
    std::io::stdout().flush()?;
    let before = tcgetattr(&stdin)?;
    let mut quiet = before.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    tcsetattr(&stdin, OptionalActions::Now, &quiet)?;
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    tcsetattr(&stdin, OptionalActions::Now, &before)?;
    println!();
    read.map(|_| line.trim().to_string())
}

/// Asks a yes/no question on the terminal; an empty answer is yes.
fn ask_yes(question: &str) -> bool {
    print!("{question}");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim().to_ascii_lowercase().as_str(), "" | "y" | "yes")
}

/// What to run next, with the config path when it is not the default one.
fn next_steps(paths: &Paths, opts: &Options) {
    let cfg = if opts.explicit_config { format!(" --config-file {}", paths.config.display()) } else { String::new() };
    say!("");
    say!("Next:");
    say!("  ops-monitor{cfg} doctor --send-test   checks the installation and sends you a test message");
    say!("  ops-monitor{cfg} serve                runs the monitor in this terminal (Ctrl-C stops it)");
    say!("  then run it as a service: README, \"Run it as a service\"; add your own jobs: README, \"Write your own jobs\"");
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_token_has_digits_a_colon_and_a_secret() {
        assert!(super::plausible("123456:SECRET-token_x"));
        for bad in ["", "123456", ":abc", "12a:abc", "123:", "123:ab c"] {
            assert!(!super::plausible(bad), "{bad:?}");
        }
    }
}
