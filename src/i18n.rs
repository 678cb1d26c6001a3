//! User-facing text from `locales/<lang>/ops.ftl` (Fluent), embedded in the binary. Every string a
//! person reads in Telegram or in a report comes through [`tr`] (usually via the [`t!`] macro).

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// English (the default and the fallback for missing messages).
    #[default]
    En,
    /// Simplified Chinese.
    ZhCn,
}

/// Every language, in menu order.
pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

/// The Fluent sources, by language (also read by the completeness tests).
pub const SOURCES: [(Lang, &str); 2] = [(Lang::En, include_str!("../locales/en/ops.ftl")), (Lang::ZhCn, include_str!("../locales/zh-CN/ops.ftl"))];

impl Lang {
    /// Parses a config value, a `/lang` argument or Telegram's `language_code` ("zh-hans", "en-US").
    pub fn parse(code: &str) -> Option<Lang> {
        let c = code.trim().to_ascii_lowercase().replace('_', "-");
        match c.as_str() {
            "en" => Some(Lang::En),
            _ if c.starts_with("en-") => Some(Lang::En),
            "zh" | "zh-cn" | "zh-hans" | "zh-sg" | "zh-hans-cn" => Some(Lang::ZhCn),
            _ => None,
        }
    }
    /// The BCP 47 code stored and shown ("en", "zh-CN").
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }
    /// The language's own name, for the /lang buttons.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::ZhCn => "简体中文",
        }
    }
}

type Bundle = FluentBundle<FluentResource>;

fn bundles() -> &'static [(Lang, Bundle)] {
    static B: OnceLock<Vec<(Lang, Bundle)>> = OnceLock::new();
    B.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(lang, src)| {
                let res = FluentResource::try_new(src.to_string()).unwrap_or_else(|(_, e)| panic!("locales/{}/ops.ftl: {e:?}", lang.code()));
                let mut b = FluentBundle::new_concurrent(vec![lang.code().parse().expect("language id")]);
                b.set_use_isolating(false);
                b.add_resource(res).unwrap_or_else(|e| panic!("locales/{}/ops.ftl: {e:?}", lang.code()));
                (*lang, b)
            })
            .collect()
    })
}

fn bundle(lang: Lang) -> &'static Bundle {
    &bundles().iter().find(|(l, _)| *l == lang).expect("every Lang has a bundle").1
}

/// An argument value: text or a number (numbers select plural forms).
pub enum Arg {
    /// Text, shown as is.
    Str(String),
    /// A number (plural selection, shown without grouping).
    Num(f64),
}

macro_rules! arg_from {
    ($($t:ty => $e:expr),*) => { $(impl From<$t> for Arg { fn from(v: $t) -> Arg { $e(v) } })* };
}
arg_from!(String => Arg::Str, &String => |v: &String| Arg::Str(v.clone()), &str => |v: &str| Arg::Str(v.to_string()),
    i64 => |v| Arg::Num(v as f64), i32 => |v| Arg::Num(v as f64), u64 => |v| Arg::Num(v as f64), usize => |v| Arg::Num(v as f64), u32 => |v| Arg::Num(v as f64));

/// The message `key` in `lang` with `args`; falls back to English, then to the key itself.
pub fn tr(lang: Lang, key: &str, args: &[(&str, Arg)]) -> String {
    let mut fa = FluentArgs::new();
    for (k, v) in args {
        match v {
            Arg::Str(s) => fa.set(*k, FluentValue::from(s.as_str())),
            Arg::Num(n) => fa.set(*k, FluentValue::from(*n)),
        }
    }
    for b in [bundle(lang), bundle(Lang::En)] {
        if let Some(p) = b.get_message(key).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            let s = b.format_pattern(p, Some(&fa), &mut errors);
            debug_assert!(errors.is_empty(), "message {key}: {errors:?}");
            return s.into_owned();
        }
    }
    debug_assert!(false, "no message {key}");
    key.to_string()
}

/// `t!(lang, "key", name = value, ...)`: a localized string.
#[macro_export]
macro_rules! t {
    ($lang:expr, $key:literal $(, $name:ident = $val:expr)* $(,)?) => {
        $crate::i18n::tr($lang, $key, &[$((stringify!($name), $crate::i18n::Arg::from($val))),*])
    };
}

/// A duration for people: "45 s", "12 min", "2 h 5 min" (or the locale's words).
/// Hand-written on purpose: the words come from our Fluent files (en, zh-CN); duration crates
/// (humantime) print English only.
pub fn duration(lang: Lang, seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (h, m) {
        (0, 0) => t!(lang, "duration-s", s = s),
        (0, _) if s == 0 => t!(lang, "duration-m", m = m),
        (0, _) => t!(lang, "duration-m-s", m = m, s = s),
        _ => t!(lang, "duration-h-m", h = h, m = m),
    }
}

/// Milliseconds for people: "850 ms", "3.2 s" (or the locale's words).
pub fn millis(lang: Lang, ms: u64) -> String {
    if ms < 1000 {
        t!(lang, "duration-ms", ms = ms)
    } else if ms < 60_000 {
        t!(lang, "duration-s", s = format!("{:.1}", ms as f64 / 1000.0))
    } else {
        duration(lang, ms / 1000)
    }
}

#[cfg(test)]
#[path = "i18n_tests.rs"]
mod tests;
