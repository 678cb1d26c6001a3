//! The fake phone a person runs to try the bot without Telegram (`cargo run --release -p fake-phone`):
//! its core, typed at as a person types, takes `ops-monitor setup` with a token it never saw,
//! shows the greeting, and then `serve`'s answer to /status with numbered buttons, one of which
//! is pressed with `!1`.

use crate::support::fake_tg::FakeTg;
use crate::support::phone_console::{self, Person};
use crate::support::{self, Daemon};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The phone's screen: what it printed so far.
#[derive(Clone, Default)]
struct Screen(Arc<Mutex<Vec<u8>>>);

impl Write for Screen {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Screen {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }
    /// Waits until the screen shows `what` after its first `from` bytes.
    fn shows(&self, from: usize, what: &str) -> bool {
        support::eventually(Duration::from_secs(30), || self.text().get(from..).is_some_and(|t| t.contains(what)))
    }
}

const ANNA: i64 = 123456789;

fn cli(home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ops-monitor"));
    c.env("OPENCLAW_HOME", home).env_remove("TELEGRAM_BOT_TOKEN").env_remove("TELEGRAM_API_URL").stdin(Stdio::null());
    c
}

#[test]
fn the_fake_phone_takes_setup_with_any_token_shows_the_greeting_and_presses_a_reply_button() {
    let home = tempfile::tempdir().unwrap();
    let tg = Arc::new(FakeTg::open("127.0.0.1:0").unwrap());
    tg.name(ANNA, "Anna", Some("anna"));
    let (keys, mut typing) = std::io::pipe().unwrap();
    let screen = Screen::default();
    let phone = {
        let (tg, screen) = (tg.clone(), screen.clone());
        std::thread::spawn(move || phone_console::run(&tg, &Person { id: ANNA, lang: "en".into() }, std::io::BufReader::new(keys), screen))
    };
    let mut type_line = |line: &str| writeln!(typing, "{line}").unwrap();

    // setup, with a token the fake was never told, learns the chat from the phone's /start.
    let out = home.path().join("setup.out");
    let mut c = cli(home.path());
    c.args(["setup", "--wait", "60"]).env("TELEGRAM_API_URL", tg.url()).env("TELEGRAM_BOT_TOKEN", "987654:a-token-the-fake-never-saw");
    let mut setup = Daemon(c.stdout(std::fs::File::create(&out).unwrap()).stderr(Stdio::inherit()).spawn().unwrap());
    assert!(support::eventually(Duration::from_secs(20), || tg.requests().iter().any(|r| r == "getupdates")), "setup waits for the /start");
    type_line("/start");
    let status = support::wait_exit(&mut setup, Duration::from_secs(20)).expect("setup ends once it has the chat");
    let said = std::fs::read_to_string(&out).unwrap();
    assert!(status.success() && said.contains("Anna (@anna), chat id 123456789"), "{status:?}\n{said}");
    assert!(screen.shows(0, "connected to this chat"), "the phone shows the greeting:\n{}", screen.text());

    // serve, from setup's files alone, answers /status; its buttons are numbered and one is pressed.
    let log = std::fs::File::create(home.path().join("serve.log")).unwrap();
    let _serve = Daemon(cli(home.path()).arg("serve").stdout(Stdio::null()).stderr(log).spawn().unwrap());
    let mark = screen.text().len();
    type_line("/status");
    assert!(screen.shows(mark, "jobs (") && screen.shows(mark, "[1 "), "the status reply with numbered buttons:\n{}", screen.text());
    let mark = screen.text().len();
    type_line("!1");
    assert!(screen.shows(mark, "(you pressed "), "{}", screen.text());
    assert!(screen.shows(mark, "the bot says"), "the press is answered:\n{}", screen.text());
    assert!(tg.rejected().is_empty(), "the bot sent nothing Telegram would refuse: {:?}", tg.rejected());
    drop(typing);
    phone.join().unwrap();
}
