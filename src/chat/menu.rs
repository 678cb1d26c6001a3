//! The bot's command menu (setMyCommands), in every language, naming the host in force.

use super::{handlers, token, token::Token};
use crate::engine::config_watch::ConfigWatch;
use std::sync::Arc;
use teloxide::prelude::*;
use teloxide::utils::command::BotCommands;

/// Registers the command menu (each description names `host`): English as the default, and each
/// other language for phones set to it. True when every language was registered.
async fn set_commands(bot: &Bot, token: &Token, host: &str) -> bool {
    let mut all = true;
    use teloxide::payloads::SetMyCommandsSetters;
    for lang in crate::i18n::ALL {
        let cmds: Vec<_> = handlers::Cmd::bot_commands()
            .into_iter()
            .map(|c| teloxide::types::BotCommand::new(c.command.trim_start_matches('/'), handlers::menu_description(&c.command, host, lang)))
            .collect();
        let req = bot.set_my_commands(cmds);
        let req = if lang == crate::i18n::Lang::En { req } else { req.language_code(lang.code().split('-').next().unwrap_or("en")) };
        if let Err(e) = req.await {
            tracing::warn!(error = %token::redact(&e.to_string(), token), lang = lang.code(), "setMyCommands failed");
            all = false;
        }
    }
    all
}

/// The host the command menu names now (None: not registered yet). Shared by the poller, which
/// registers the menu at each start, and [`menu_follows_host`]; the lock keeps two registrations
/// from interleaving, and each reads the host in force under it.
pub(super) type MenuHost = Arc<tokio::sync::Mutex<Option<String>>>;

/// How long a failed re-registration of the menu waits before the next try.
const MENU_RETRY: std::time::Duration = std::time::Duration::from_secs(30);

/// Registers the menu for the host in force, unless it names that host already (`force`: always).
/// True when the menu names the host in force.
pub(super) async fn register_menu(bot: &Bot, token: &Token, config: &ConfigWatch, menu: &MenuHost, force: bool) -> bool {
    let mut registered = menu.lock().await;
    let host = crate::config::host::of(config.config().as_deref());
    if !force && registered.as_deref() == Some(host.as_str()) {
        return true;
    }
    let ok = set_commands(bot, token, &host).await;
    if ok {
        *registered = Some(host);
    }
    ok
}

/// Keeps the menu's descriptions naming the host in force: a `host` changed in the config while
/// serving is registered again at once (retried while Telegram refuses), not only when polling
/// restarts. Waits for the poller's first registration.
pub(super) async fn menu_follows_host(bot: Bot, token: Token, config: Arc<ConfigWatch>, menu: MenuHost) {
    let mut rx = config.subscribe();
    while rx.changed().await.is_ok() {
        while menu.lock().await.is_some() && !register_menu(&bot, &token, &config, &menu, false).await {
            tokio::time::sleep(MENU_RETRY).await;
        }
    }
}
