//! What a person did from one chat (a start, a stop, a run, a decision), told in the other
//! chats as one silent line naming who and from where: every chat stays true to what happened.

use super::views;
use super::Services;
use crate::i18n::Lang;
use crate::t;

/// Who acts from a chat, and where: named in the line the other chats get.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Their Telegram user id (None: a message sent on behalf of the chat).
    pub user: Option<i64>,
    /// As Telegram shows them, with their id ([`views::person_with_id`]).
    pub who: String,
    /// The group's title; None in a private chat.
    pub group: Option<String>,
}

impl Actor {
    /// `user` acting in `chat`.
    pub fn of(user: Option<&teloxide::types::User>, chat: &teloxide::types::Chat) -> Actor {
        let who = user.map_or_else(|| format!("chat {}", chat.id.0), views::person_with_id);
        let group = (!chat.is_private()).then(|| chat.title().unwrap_or_default().to_string());
        Actor { user: user.map(|u| u.id.0 as i64), who, group }
    }
}

/// Queues for each of `chats`, silently and in its language, the line `line(lang, who, at,
/// place)` about what `actor` just did (at: now, HH:MM:SS in the configured timezone; place:
/// "from the group “Ops”" or "from a private chat"), headed with this host.
pub fn tell(s: &Services, chats: &[i64], actor: &Actor, line: impl Fn(Lang, &str, &str, String) -> String) -> anyhow::Result<()> {
    let Some(cfg) = s.config() else { return Ok(()) };
    let at = chrono::Utc::now().with_timezone(&cfg.timezone).format("%H:%M:%S").to_string();
    let mut store = s.store()?;
    for &chat in chats {
        let lang = s.lang(chat);
        let place = match &actor.group {
            Some(title) => t!(lang, "did-in-group", title = title),
            None => t!(lang, "did-in-private"),
        };
        let text = line(lang, &actor.who, &at, place);
        super::outbox_queue::enqueue(&mut store, chat, &super::respond::from_host(s, lang, &text), true, None)?;
    }
    s.wake.notify_one();
    Ok(())
}
