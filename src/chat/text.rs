//! Telegram text: HTML escaping and splitting at 4096 UTF-16 units on line boundaries.
//! Hand-written on purpose: no crate splits by Telegram's UTF-16 count on line and grapheme
//! boundaries (teloxide has none; `unicode-segmentation` supplies the graphemes).

/// Telegram's limit per message, in UTF-16 code units after entity parsing.
pub const TELEGRAM_LIMIT: usize = 4096;
/// What we aim for, leaving room for a continuation marker.
pub const CHUNK_LIMIT: usize = 4000;

use teloxide::utils::html::escape;

/// Plain text to HTML: everything escaped; the header and job heading lines in bold.
pub fn to_html(plain: &str) -> String {
    shown(plain)
        .lines()
        .enumerate()
        .map(|(i, l)| if (i == 0 && is_header(l)) || l.starts_with("• ") { format!("<b>{}</b>", escape(l)) } else { escape(l) })
        .collect::<Vec<_>>()
        .join("\n")
}

pub use crate::render::shown;

/// True for a report header line in any language ("Ops report · …", "🛠️ Ops 快报 · …"): the
/// header's words before its first placeholder.
fn is_header(line: &str) -> bool {
    crate::i18n::ALL.iter().any(|l| {
        let h = crate::t!(*l, "report-header", host = "\u{0}", time = "\u{0}");
        let stem = h.split('\u{0}').next().unwrap_or_default();
        !stem.trim().is_empty() && line.starts_with(stem)
    })
}

fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Splits text into chunks of at most `limit` UTF-16 units, on line boundaries where possible
/// and never inside a character; nothing is dropped.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut cur = String::new();
    for line in text.split('\n') {
        for piece in split_long_line(line, limit) {
            let extra = if cur.is_empty() { 0 } else { 1 };
            if !cur.is_empty() && units(&cur) + extra + units(&piece) > limit {
                chunks.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push('\n');
            }
            cur.push_str(&piece);
        }
    }
    if !cur.trim().is_empty() {
        chunks.push(cur);
    }
    chunks.retain(|c| !c.trim().is_empty());
    chunks
}

/// Cuts a line longer than `limit` between grapheme clusters (a flag, an emoji with skin tone
/// or a letter with its accents stays whole); only a single cluster longer than the limit is cut
/// between characters.
fn split_long_line(line: &str, limit: usize) -> Vec<String> {
    use unicode_segmentation::UnicodeSegmentation;
    if units(line) <= limit {
        return vec![line.to_string()];
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut n = 0;
    let mut push = |piece: &str, out: &mut Vec<String>| {
        let w = units(piece);
        if n + w > limit && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
            n = 0;
        }
        n += w;
        cur.push_str(piece);
    };
    for g in line.graphemes(true) {
        if units(g) > limit {
            g.char_indices().for_each(|(i, c)| push(&g[i..i + c.len_utf8()], &mut out));
        } else {
            push(g, &mut out);
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn ansi_escapes_controls_and_bidi_overrides_never_reach_a_chat() {
        assert_eq!(super::shown("\u{1b}[31mred\u{1b}[0m ok\tx\ny\u{7}"), "red ok\tx\ny");
        assert_eq!(super::shown("invoice\u{202e}fdp.exe"), "invoicefdp.exe");
        assert_eq!(super::to_html("a \u{2066}b\u{2069} <c>"), "a b &lt;c&gt;");
    }

    use super::*;

    #[test]
    fn escapes_html_specials_and_bolds_headings() {
        assert_eq!(escape("<b>a_b*[x]&"), "&lt;b&gt;a_b*[x]&amp;");
        assert_eq!(to_html("Ops report · nas · 1\n\n• <b>x\n- y & z"), "<b>Ops report · nas · 1</b>\n\n<b>• &lt;b&gt;x</b>\n- y &amp; z");
        assert_eq!(to_html("🛠️ Ops 快报 · nas · 1"), "<b>🛠️ Ops 快报 · nas · 1</b>");
        assert_eq!(to_html("nas · 1 job (1)"), "nas · 1 job (1)", "only a report header is bold");
    }

    #[test]
    fn splits_on_lines_within_the_limit_and_loses_nothing() {
        let text: String = (0..500).map(|i| format!("line {i} with some text\n")).collect();
        let chunks = split(&text, 1000);
        assert!(chunks.len() > 5);
        assert!(chunks.iter().all(|c| units(c) <= 1000));
        assert_eq!(chunks.join("\n").trim_end(), text.trim_end());
    }

    #[test]
    fn a_long_line_is_cut_between_characters() {
        let line = "😀".repeat(3000); // 6000 UTF-16 units
        let chunks = split(&line, 4000);
        assert_eq!(chunks.len(), 2);
        assert!(chunks.iter().all(|c| units(c) <= 4000));
        assert_eq!(chunks.concat(), line);
    }

    #[test]
    fn a_long_line_is_never_cut_inside_a_flag_or_an_accented_letter() {
        // 🇩🇪 is two code points (4 UTF-16 units); "é" as e + combining accent is two.
        let line = format!("a{}", "🇩🇪e\u{301}".repeat(1000));
        for limit in [4000, 4001, 4002, 4003] {
            let chunks = split(&line, limit);
            assert!(chunks.iter().all(|c| units(c) <= limit));
            assert_eq!(chunks.concat(), line);
            for c in &chunks[1..] {
                assert!(c.starts_with("🇩🇪") || c.starts_with("e\u{301}"), "limit {limit}: a part starts mid-cluster: {:?}", c.chars().next());
            }
        }
    }
}
