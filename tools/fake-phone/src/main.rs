//! A fake phone for trying ops-monitor without Telegram: a fake Telegram Bot API on 127.0.0.1
//! (the one the integration tests use, accepting any bot token) and this terminal as the phone
//! of one person who has opened the bot.
//!
//! ```sh
//! cargo run --release -p fake-phone                 # listens on 127.0.0.1:8081
//! cargo run --release -p fake-phone -- --port 9000 --lang zh-CN --name Anna
//! ```

#[path = "../../../tests/it/support/fake_tg.rs"]
mod fake_tg;

mod console;

use console::Person;

/// The person's id: their private chat's id too (the one `setup` shows).
const PERSON_ID: i64 = 123456789;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("usage: cargo run --release -p fake-phone [-- --port 8081] [--lang en|zh-CN] [--name NAME]");
        return;
    }
    let port = opt("--port").unwrap_or_else(|| "8081".into());
    let name = opt("--name").or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "you".into());
    let person = Person { id: PERSON_ID, lang: opt("--lang").unwrap_or_else(|| "en".into()) };
    let tg = match fake_tg::FakeTg::open(&format!("127.0.0.1:{port}")) {
        Ok(tg) => tg,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e} (another program has it? pass `-- --port 9000`)");
            std::process::exit(1);
        }
    };
    tg.name(PERSON_ID, &name, None);
    println!("{}", banner(&tg.url(), &name));
    console::run(&tg, &person, std::io::stdin().lock(), std::io::stdout());
}

/// What the person reads first: what this is and the commands for the other terminal.
fn banner(url: &str, name: &str) -> String {
    format!(
        "A fake Telegram Bot API listens on {url} (any bot token works; nothing leaves this machine).\n\
         This terminal is a phone, held by \"{name}\" (chat id {PERSON_ID}), who has opened the bot.\n\
         {help}\n\n\
         In another terminal, in the repository folder, connect ops-monitor to it:\n  \
         export OPENCLAW_HOME=/tmp/fake-phone     # a trial config and state, apart from your real ones\n  \
         TELEGRAM_API_URL={url} TELEGRAM_BOT_TOKEN=1:fake ops-monitor setup\n\
         then type /start here.\n",
        help = console::HELP
    )
}
