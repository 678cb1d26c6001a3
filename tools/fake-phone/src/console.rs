//! The fake phone's screen and keyboard: lines typed are private messages to the bot from one
//! person, what the bot sends to that chat is printed with its buttons numbered, and `!N` presses
//! one. Kept apart from `main.rs` so the integration tests drive the same code a person does.

use super::fake_tg::{parse_html, FakeTg, Sent};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Who holds the phone: a private chat's id is its person's user id, as in Telegram.
#[derive(Clone, Debug)]
pub struct Person {
    /// Chat id and user id.
    pub id: i64,
    /// The Telegram app's language (`en`, `zh-CN`): the bot answers in it.
    pub lang: String,
}

/// A button as printed: its label and what pressing it sends (callback data, or a link).
#[derive(Clone, Debug)]
struct Button {
    label: String,
    data: Option<String>,
}

/// What the screen remembers: each message's last version and buttons, the message whose buttons
/// `!N` presses, and the presses not yet answered.
#[derive(Default)]
struct Screen {
    messages: HashMap<i64, (Sent, Vec<Button>)>,
    latest_keyboard: Option<i64>,
    open_presses: Vec<(String, String)>,
}

/// The help shown at the start and on `!help`.
pub const HELP: &str = "Type a line and Enter to send it to the bot (/start, /status, /help …).\n\
    Buttons are numbered: !2 presses button 2 of the latest message with buttons, !105.2 button 2 of message #105.\n\
    !help shows this again; Ctrl-D quits.";

/// Runs the phone until `input` ends: prints what the bot sends `person` to `out`.
pub fn run(tg: &FakeTg, person: &Person, input: impl BufRead, out: impl Write + Send) {
    let out = Mutex::new(out);
    let screen = Mutex::new(Screen::default());
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut seen = 0;
            while !done.load(Ordering::Relaxed) {
                let new = tg.sent_since(seen, Duration::from_millis(200));
                seen += new.len();
                let mut sc = screen.lock().unwrap();
                let mut text = String::new();
                for m in new {
                    text += &show(&mut sc, person.id, m);
                }
                text += &answered(tg, &mut sc);
                if !text.is_empty() {
                    let mut o = out.lock().unwrap();
                    let _ = o.write_all(text.as_bytes()).and_then(|_| o.flush());
                }
            }
        });
        for line in input.lines() {
            let Ok(line) = line else { break };
            let reply = type_line(tg, person, &screen, line.trim());
            if !reply.is_empty() {
                let mut o = out.lock().unwrap();
                let _ = writeln!(o, "{reply}").and_then(|_| o.flush());
            }
        }
        done.store(true, Ordering::Relaxed);
    });
}

/// One typed line: a message to the bot, a press, or the help; returns what to print at once.
fn type_line(tg: &FakeTg, person: &Person, screen: &Mutex<Screen>, line: &str) -> String {
    match line.strip_prefix('!') {
        None if line.is_empty() => String::new(),
        None => {
            tg.message_in(person.id, person.id, &person.lang, line);
            String::new()
        }
        Some("help" | "") => HELP.to_string(),
        Some(which) => press(tg, person, &mut screen.lock().unwrap(), which),
    }
}

/// `!N` or `!M.N`: presses that button, as Telegram sends a press (the message and its keyboard).
fn press(tg: &FakeTg, person: &Person, sc: &mut Screen, which: &str) -> String {
    let (mid, n) = match which.split_once('.') {
        Some((m, n)) => (m.trim_start_matches('#').parse().ok(), n.parse::<usize>().ok()),
        None => (sc.latest_keyboard, which.parse().ok()),
    };
    let Some((msg, buttons)) = mid.and_then(|m| sc.messages.get(&m)) else {
        return "(no such message with buttons: !N presses button N of the latest one, !M.N one of message #M)".into();
    };
    let Some(b) = n.and_then(|n| n.checked_sub(1)).and_then(|i| buttons.get(i)) else {
        return format!("(message #{} has buttons 1 to {})", msg.message_id, buttons.len());
    };
    let Some(data) = &b.data else {
        return format!("({} is a link, not a button the bot answers)", b.label);
    };
    let id = tg.press(msg, person.id, data);
    sc.open_presses.push((id, b.label.clone()));
    format!("(you pressed {})", b.label)
}

/// Presses the bot has answered since the last look, one line each.
fn answered(tg: &FakeTg, sc: &mut Screen) -> String {
    let mut text = String::new();
    sc.open_presses.retain(|(id, label)| match tg.answer(id) {
        Some(a) if a.is_empty() => false,
        Some(a) => {
            text += &format!("  ({label}: the bot says \"{a}\")\n");
            false
        }
        None => true,
    });
    text
}

/// How one thing the bot did looks on the screen (nothing for another chat's message).
fn show(sc: &mut Screen, chat: i64, m: Sent) -> String {
    if m.chat_id != chat {
        return format!("── (the bot wrote to another chat, {})\n", m.chat_id);
    }
    let head = match m.method.as_str() {
        "sendmessage" => format!("── #{} ──", m.message_id),
        "editmessagetext" => format!("── #{} (edited) ──", m.message_id),
        "sendphoto" => format!("── #{} a photo (a PNG this phone cannot show), its caption: ──", m.message_id),
        "deletemessage" => {
            sc.messages.remove(&m.message_id);
            return format!("── #{} deleted by the bot\n", m.message_id);
        }
        _ => return String::new(),
    };
    let text = match m.body["parse_mode"].as_str() {
        Some("HTML") => parse_html(&m.text).unwrap_or_else(|_| m.text.clone()),
        _ => m.text.clone(),
    };
    let buttons = buttons(&m);
    let mut out = format!("{head}\n{text}\n");
    let mut n = 0;
    for row in rows(&m) {
        let labels: Vec<String> = row
            .iter()
            .map(|b| {
                n += 1;
                format!("[{n} {}]", b.label)
            })
            .collect();
        out += &format!("   {}\n", labels.join(" "));
    }
    if !buttons.is_empty() {
        sc.latest_keyboard = Some(m.message_id);
    }
    sc.messages.insert(m.message_id, (m, buttons));
    out
}

/// The message's inline keyboard, row by row.
fn rows(m: &Sent) -> Vec<Vec<Button>> {
    let rows = m.body.pointer("/reply_markup/inline_keyboard").and_then(|k| k.as_array()).cloned().unwrap_or_default();
    rows.iter()
        .map(|r| {
            r.as_array()
                .into_iter()
                .flatten()
                .map(|b| Button { label: b["text"].as_str().unwrap_or("?").to_string(), data: b["callback_data"].as_str().map(str::to_string) })
                .collect()
        })
        .collect()
}

/// The buttons in the order they are numbered.
fn buttons(m: &Sent) -> Vec<Button> {
    rows(m).into_iter().flatten().collect()
}
