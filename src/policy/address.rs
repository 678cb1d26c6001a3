//! To whom a chat command is addressed. Several hosts' bots share one group (one bot per host):
//! `/status@nas_ops_bot` is for that bot alone, and the others must stay quiet.

/// The addressee of a command message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressee {
    /// `/cmd`: every bot in the chat may answer.
    Nobody,
    /// `/cmd@this_bot` (Telegram usernames compare case-insensitively).
    ThisBot,
    /// `/cmd@other_bot`: not ours; ignored without a word.
    OtherBot,
}

/// The addressee of `text` for the bot `me` (its username, without `@`); None when the text is
/// not a command at all.
pub fn addressee(text: &str, me: &str) -> Option<Addressee> {
    let word = text.strip_prefix('/')?.split_whitespace().next().unwrap_or("");
    Some(match word.split_once('@') {
        None => Addressee::Nobody,
        Some((_, bot)) if bot.eq_ignore_ascii_case(me.trim_start_matches('@')) => Addressee::ThisBot,
        Some(_) => Addressee::OtherBot,
    })
}

/// Whether an unknown command gets the "unknown command" help: in a private chat always; in a
/// group only when addressed to this bot, so a fleet's bots do not all answer a typo (or a
/// command meant for another bot).
pub fn answers_unknown(addressee: Addressee, private_chat: bool) -> bool {
    match addressee {
        Addressee::OtherBot => false,
        Addressee::ThisBot => true,
        Addressee::Nobody => private_chat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_commands_for_this_bot_from_commands_for_another() {
        let cases = [
            ("/status", Some(Addressee::Nobody)),
            ("/status scan", Some(Addressee::Nobody)),
            ("/status@ops_bot", Some(Addressee::ThisBot)),
            ("/status@OPS_Bot scan", Some(Addressee::ThisBot)),
            ("/status@nas_ops_bot", Some(Addressee::OtherBot)),
            ("/status@nas_ops_bot@ops_bot", Some(Addressee::OtherBot)),
            ("/", Some(Addressee::Nobody)),
            ("status@ops_bot", None),
            ("hello /status@x", None),
        ];
        for (text, want) in cases {
            assert_eq!(addressee(text, "ops_bot"), want, "{text}");
        }
    }

    #[test]
    fn unknown_commands_are_answered_in_private_or_when_addressed_to_this_bot() {
        assert!(answers_unknown(Addressee::Nobody, true));
        assert!(!answers_unknown(Addressee::Nobody, false));
        assert!(answers_unknown(Addressee::ThisBot, false));
        assert!(!answers_unknown(Addressee::OtherBot, true));
        assert!(!answers_unknown(Addressee::OtherBot, false));
    }
}
