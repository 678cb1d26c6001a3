//! Shared fixtures: the fake Bot API and a `serve` child process pointed at it.
#![allow(dead_code)]

pub mod fake_tg;
/// The fake phone a person runs (`cargo run --release -p fake-phone`): its screen and keyboard.
#[path = "../../../tools/fake-phone/src/console.rs"]
pub mod phone_console;

use fake_tg::FakeTg;
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private chat and its user, allowed.
pub const ME: i64 = 111;
/// An allowed group.
pub const GROUP: i64 = -100500;
/// A stranger.
pub const STRANGER: i64 = 999;

/// A token whose every part is distinctive so a leak is easy to find.
pub const TOKEN: &str = "123456:SECRET-token-abcdefXYZ";

/// A temp dir with config, state, and a fake Bot API.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub tg: FakeTg,
}

impl Env {
    /// A fresh environment with the fake started.
    pub fn new() -> Env {
        Env { dir: tempfile::tempdir().unwrap(), tg: FakeTg::start(TOKEN) }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes the config: `jobs` plus a telegram block pointed at the fake; `extra` is merged in.
    pub fn config(&self, jobs: Value, extra: Value) {
        // No quiet hours unless a test sets them: what a test expects must not depend on the hour it runs at.
        let mut cfg = json!({"version": 1, "tickSeconds": 3600, "jobs": jobs, "defaults": {"quietHours": null},
            "telegram": {"allowedChatIds": [ME, GROUP], "apiUrl": self.tg.url()}});
        if let Value::Object(m) = extra {
            for (k, v) in m {
                if k == "telegram" {
                    for (tk, tv) in v.as_object().unwrap() {
                        cfg["telegram"][tk] = tv.clone();
                    }
                } else {
                    cfg[k] = v;
                }
            }
        }
        std::fs::write(self.path().join("c.json"), cfg.to_string()).unwrap();
    }

    /// Writes an executable-by-sh script and returns its path.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    }

    /// The CLI with this environment's config, state and token.
    pub fn cli(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ops-monitor"));
        c.arg("--config-file").arg(self.path().join("c.json")).arg("--state-file").arg(self.path().join("s.db"));
        c.env("TELEGRAM_BOT_TOKEN", TOKEN).env("OPENCLAW_HOME", self.path()).env_remove("TELEGRAM_API_URL");
        c
    }

    /// Starts `serve`; stderr goes to a file so logs can be checked for the token.
    pub fn serve(&self) -> Daemon {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.path().join("serve.log")).unwrap();
        let mut c = self.cli();
        c.arg("serve").env("RUST_LOG", "info").stdout(Stdio::piped()).stderr(log);
        Daemon(c.spawn().unwrap())
    }

    /// What `serve` logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path().join("serve.log")).unwrap_or_default()
    }

    /// Opens the state database for assertions (never creates it: that is the daemon's job).
    pub fn db(&self) -> rusqlite::Result<rusqlite::Connection> {
        let c = rusqlite::Connection::open_with_flags(self.path().join("s.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        c.busy_timeout(Duration::from_secs(5))?;
        Ok(c)
    }

    /// Runs a query returning one integer; -1 while the database does not exist yet.
    pub fn count(&self, sql: &str) -> i64 {
        self.db().and_then(|db| db.query_row(sql, [], |r| r.get(0))).unwrap_or(-1)
    }
}

/// Suite-wide token hygiene: after every test that used an `Env` (its daemons are dropped
/// first), neither serve's log nor the state database holds the token's secret part.
impl Drop for Env {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let secret = TOKEN.split_once(':').map_or(TOKEN, |(_, s)| s).as_bytes();
        for f in ["serve.log", "s.db", "s.db-wal"] {
            let bytes = std::fs::read(self.path().join(f)).unwrap_or_default();
            assert!(!bytes.windows(secret.len()).any(|w| w == secret), "the bot token leaked into {f}");
        }
    }
}

/// A `serve` child that is killed when dropped, so a failing test leaves no daemon behind.
pub struct Daemon(pub Child);

impl std::ops::Deref for Daemon {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Daemon {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Waits for the child to exit.
pub fn wait_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Polls `f` until true or the deadline passes.
pub fn eventually(within: Duration, f: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

/// SIGTERM, then wait for a clean exit.
pub fn stop(mut child: Daemon) {
    rustix::process::kill_process(rustix::process::Pid::from_raw(child.id() as i32).unwrap(), rustix::process::Signal::TERM).unwrap();
    let st = wait_exit(&mut child, Duration::from_secs(5));
    if st.is_none() {
        let _ = child.kill();
    }
}

/// A long_running_read job whose status is the output of `sh <status>`.
pub fn long_job(id: &str, status: &Path, extra: Value) -> Value {
    let mut j = json!({"id": id, "name": id, "kind": "long_running_read", "risk": "read_only", "enabled": true,
        "commands": {"start": ["true"], "status": ["sh", status]}});
    if let Value::Object(m) = extra {
        for (k, v) in m {
            j[k] = v;
        }
    }
    j
}

/// A job that raises a new alert "n=K" on every tick (K counts status calls).
pub fn counting_alert(env: &Env) -> serde_json::Value {
    let n = env.path().join("n");
    let st = env.script(
        "alert.sh",
        &format!("k=$(( $(cat {n} 2>/dev/null || echo 0) + 1 ))\necho $k > {n}\necho '{{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"n='$k'\"}}'\n", n = n.display()),
    );
    long_job("pulse", &st, json!({}))
}

/// The K of every "n=K" alert delivered to `chat`, in arrival order: the first "n=K" of each
/// job section ("• …"), so a merged backlog message counts each of its alerts.
pub fn alert_numbers(env: &Env, chat: i64) -> Vec<u64> {
    env.tg
        .to_chat(chat)
        .iter()
        .flat_map(|m| m.text.split("• ").skip(1).filter_map(|s| s.split("n=").nth(1)).map(str::to_string).collect::<Vec<_>>())
        .filter_map(|t| t.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .collect()
}

/// A numeric knob from the environment.
pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A tiny HTTP server (a heartbeat service) on 127.0.0.1 that answers 200 and records each request's path.
pub fn ping_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut line = String::new();
            let mut r = std::io::BufReader::new(conn.try_clone().unwrap());
            if r.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).map_or(true, |n| n == 0) || h.trim().is_empty() {
                    break;
                }
            }
            log.lock().unwrap().push(format!("{} {}", line.split_whitespace().next().unwrap_or(""), line.split_whitespace().nth(1).unwrap_or("")));
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK");
        }
    });
    (url, seen)
}
