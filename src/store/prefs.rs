//! Per-chat language: chosen with /lang, else guessed once from the first user's Telegram
//! `language_code`, else the config's `locale`.

use crate::i18n::Lang;
use crate::store::Store;
use anyhow::Result;
use rusqlite::{params, OptionalExtension};

/// The language of `chat` (its stored choice or guess, else `default`).
pub fn chat_lang(store: &Store, chat: i64, default: Lang) -> Result<Lang> {
    let code: Option<String> = store.conn().query_row("SELECT locale FROM chat_prefs WHERE chat_id=?1", [chat], |r| r.get(0)).optional()?;
    Ok(code.as_deref().and_then(Lang::parse).unwrap_or(default))
}

/// Records a person's explicit choice (replaces any earlier choice or guess).
pub fn set_chat_lang(store: &mut Store, chat: i64, lang: Lang, by: Option<i64>) -> Result<()> {
    store.write(|tx| {
        tx.execute(
            "INSERT INTO chat_prefs(chat_id, locale, source, set_by, set_at) VALUES (?1, ?2, 'chosen', ?3, ?4)
             ON CONFLICT(chat_id) DO UPDATE SET locale=excluded.locale, source='chosen', set_by=excluded.set_by, set_at=excluded.set_at",
            params![chat, lang.code(), by, chrono::Utc::now().timestamp()],
        )?;
        Ok(())
    })
}

/// For a chat seen for the first time: remembers the user's Telegram language as the initial
/// guess (only a supported one; never overrides an earlier guess or choice).
pub fn guess_chat_lang(store: &mut Store, chat: i64, language_code: Option<&str>, user: Option<i64>) -> Result<()> {
    let Some(lang) = language_code.and_then(Lang::parse) else { return Ok(()) };
    store.write(|tx| {
        tx.execute(
            "INSERT OR IGNORE INTO chat_prefs(chat_id, locale, source, set_by, set_at) VALUES (?1, ?2, 'guess', ?3, ?4)",
            params![chat, lang.code(), user, chrono::Utc::now().timestamp()],
        )?;
        Ok(())
    })
}
