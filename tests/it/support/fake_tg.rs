//! A fake Telegram Bot API on 127.0.0.1 speaking real HTTP/1.1 (keep-alive, JSON bodies), with
//! the shapes and limits teloxide 0.17 and Telegram insist on, plus fault injection for the
//! outbox tests. `tools/fake-phone` includes this file too: a person's fake phone for trying the bot
//! without Telegram (`FakeTg::open`, any token), so it is kept to the real API's shapes.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The bot's username, as getMe gives it: `/cmd@ops_bot` is addressed to this bot.
pub const BOT_USERNAME: &str = "ops_bot";

/// The token of a fake that accepts every token (`FakeTg::open`).
const ANY_TOKEN: &str = "";

/// Whether the path's `bot<token>` part is the fake's token (any non-empty one for `open`).
fn authorized(token: &str, bot: &str) -> bool {
    match bot.strip_prefix("bot") {
        Some(t) if token == ANY_TOKEN => !t.is_empty(),
        Some(t) => t == token,
        None => false,
    }
}

/// A message the bot sent (or an edit it made).
#[derive(Clone, Debug)]
pub struct Sent {
    pub method: String,
    pub chat_id: i64,
    pub message_id: i64,
    pub text: String,
    pub body: Value,
    /// The forum topic it was posted into (`message_thread_id`), if any.
    pub thread: Option<i64>,
    /// When the fake accepted it.
    pub at: Instant,
}

impl Sent {
    /// Callback data of the button whose label contains `label`.
    pub fn button(&self, label: &str) -> Option<String> {
        let rows = self.body.pointer("/reply_markup/inline_keyboard")?.as_array()?;
        rows.iter().flat_map(|r| r.as_array().cloned().unwrap_or_default()).find(|b| b["text"].as_str().is_some_and(|t| t.contains(label)))?["callback_data"]
            .as_str()
            .map(str::to_string)
    }
    /// Whether the message asked for no sound.
    pub fn silent(&self) -> bool {
        self.body["disable_notification"].as_bool().unwrap_or(false)
    }
}

/// What the fake answers for sendMessage instead of accepting it.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Every send gets this HTTP status (e.g. 502) until the instant.
    Status(u16, Instant),
    /// The next `n` sends get this HTTP status (e.g. 502).
    StatusTimes(u16, u32),
    /// The next `n` sends get 429 with `retry_after` seconds.
    TooMany(u32, u32),
    /// The connection is closed without an answer until the instant.
    Drop(Instant),
    /// The next `n` sends with parse_mode HTML get "can't parse entities".
    Entities(u32),
}

/// How the fake answers one method instead of the normal answer (API servers and emulators
/// that are not Telegram, presses answered too late).
#[derive(Clone, Debug)]
pub enum Quirk {
    /// 400 whose description echoes the request path, token included.
    EchoPath,
    /// `{"ok": true, "result": null}`, as an emulator does for some methods.
    Null,
    /// 400 "query is too old ...": the press was answered too late (queued while down).
    TooOld,
    /// This HTTP status (e.g. 502) with Telegram's error body, every time.
    ServerError(u16),
    /// 400 "message is not modified ...", as Telegram answers an edit to the same content.
    NotModified,
    /// getChat's result with only the chat's id and type: fields teloxide's `ChatFullInfo`
    /// requires left out, as an API server or another Telegram version may.
    BareChat,
    /// This HTTP status (e.g. 502) the next `n` times, then the normal answer.
    ServerErrorTimes(u16, u32),
}

#[derive(Default)]
struct State {
    quirks: HashMap<String, Quirk>,
    updates: Vec<Value>,
    next_update: i64,
    next_message: i64,
    sent: Vec<Sent>,
    messages: HashMap<(i64, i64), String>,
    answers: HashMap<String, String>,
    open_callbacks: HashSet<String>,
    blocked: HashSet<i64>,
    migrated: HashMap<i64, i64>,
    fault: Option<Fault>,
    rejected: Vec<(String, String)>,
    requests: Vec<String>,
    conflict: bool,
    throttled: u32,
    attempts: Vec<i64>,
    hung: HashMap<i64, Instant>,
    down_until: Option<Instant>,
    my_commands: Vec<Value>,
    faulted_at: Vec<Instant>,
    unopened: HashSet<i64>,
    photos: Vec<(i64, Vec<u8>)>,
    names: HashMap<i64, (String, Option<String>)>,
}

/// The fake server; dropped with the test.
pub struct FakeTg {
    pub token: String,
    port: u16,
    state: Arc<(Mutex<State>, Condvar)>,
}

impl FakeTg {
    /// Starts a fake on a free port for `token`.
    pub fn start(token: &str) -> FakeTg {
        FakeTg::listen(TcpListener::bind("127.0.0.1:0").unwrap(), token)
    }

    /// A fake on `addr` (e.g. "127.0.0.1:8081") that accepts any bot token, as a person's fake
    /// phone must: whatever token they give `ops-monitor setup` works.
    pub fn open(addr: &str) -> std::io::Result<FakeTg> {
        Ok(FakeTg::listen(TcpListener::bind(addr)?, ANY_TOKEN))
    }

    fn listen(listener: TcpListener, token: &str) -> FakeTg {
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new((Mutex::new(State { next_update: 1, next_message: 100, ..State::default() }), Condvar::new()));
        let (st, tok) = (state.clone(), token.to_string());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (st, tok) = (st.clone(), tok.clone());
                std::thread::spawn(move || serve_conn(conn, &st, &tok));
            }
        });
        FakeTg { token: token.to_string(), port, state }
    }

    /// The base URL for `telegram.apiUrl`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.0.lock().unwrap()
    }

    fn push(&self, update: Value) -> i64 {
        let mut s = self.lock();
        let id = s.next_update;
        s.next_update += 1;
        let mut u = update;
        u["update_id"] = json!(id);
        s.updates.push(u);
        self.state.1.notify_all();
        id
    }

    /// A text message from `user` in `chat` (private when chat > 0, supergroup otherwise).
    pub fn message(&self, chat: i64, user: i64, text: &str) {
        self.message_in(chat, user, "en", text)
    }

    /// A text message from a user whose Telegram app is set to `language_code`.
    pub fn message_in(&self, chat: i64, user: i64, language_code: &str, text: &str) {
        let mid = {
            let mut s = self.lock();
            s.next_message += 1;
            s.next_message
        };
        self.lock().unopened.remove(&chat); // writing to the bot opens the chat (Start)
        let mut from = self.user(user);
        from["language_code"] = json!(language_code);
        let mut m = json!({"message_id": mid, "date": now(), "chat": chat_json(chat), "from": from, "text": text});
        if text.starts_with('/') {
            let len = text.split(' ').next().unwrap().encode_utf16().count();
            m["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
        }
        self.push(json!({"message": m}));
    }

    /// A button press on `msg` by `user`; returns the callback query id.
    pub fn press(&self, msg: &Sent, user: i64, data: &str) -> String {
        let mut message = json!({"message_id": msg.message_id, "date": now(), "chat": chat_json(msg.chat_id), "text": msg.text,
            "from": {"id": 42, "is_bot": true, "first_name": "ops", "username": BOT_USERNAME}});
        if let Some(k) = msg.body.get("reply_markup").filter(|k| k.is_object()) {
            message["reply_markup"] = k.clone(); // Telegram sends the pressed message's keyboard along
        }
        self.push_press(message, user, data)
    }

    /// A press on a message Telegram no longer shows the bot (older than 48 h, say): the update
    /// carries an InaccessibleMessage, only its chat, its id and `date` 0.
    pub fn press_inaccessible(&self, msg: &Sent, user: i64, data: &str) -> String {
        self.push_press(json!({"chat": chat_json(msg.chat_id), "message_id": msg.message_id, "date": 0}), user, data)
    }

    fn push_press(&self, message: Value, user: i64, data: &str) -> String {
        let id = format!("cq{}", {
            let mut s = self.lock();
            s.next_message += 1;
            s.next_message
        });
        self.lock().open_callbacks.insert(id.clone());
        self.push(json!({"callback_query": {"id": id, "from": self.user(user), "chat_instance": "ci1", "data": data, "message": message}}));
        id
    }

    /// Gives `user` a first name and @username (instead of `U<id>`), as Telegram shows a person.
    pub fn name(&self, user: i64, first_name: &str, username: Option<&str>) {
        self.lock().names.insert(user, (first_name.to_string(), username.map(str::to_string)));
    }

    fn user(&self, user: i64) -> Value {
        let mut u = user_json(user);
        if let Some((first, username)) = self.lock().names.get(&user) {
            u["first_name"] = json!(first);
            if let Some(n) = username {
                u["username"] = json!(n);
            }
        }
        u
    }

    /// What was sent after the first `seen` entries, waiting up to `within` for something new.
    pub fn sent_since(&self, seen: usize, within: Duration) -> Vec<Sent> {
        self.wait_until(within, |s| (s.sent.len() > seen).then(|| s.sent[seen..].to_vec())).unwrap_or_default()
    }

    /// The answer text of a callback query if it has been answered (no waiting).
    pub fn answer(&self, id: &str) -> Option<String> {
        self.lock().answers.get(id).cloned()
    }

    /// Every message sent so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }

    /// Messages sent to `chat` (not edits).
    pub fn to_chat(&self, chat: i64) -> Vec<Sent> {
        self.sent().into_iter().filter(|m| m.chat_id == chat && m.method == "sendmessage").collect()
    }

    /// Messages `chat` holds now: sent (messages and photos) and not deleted, in order.
    pub fn present(&self, chat: i64) -> Vec<Sent> {
        let sent = self.sent();
        let gone: HashSet<i64> =
            sent.iter().filter(|m| m.chat_id == chat && (m.method == "deletemessage" || m.method == "deletedbyuser")).map(|m| m.message_id).collect();
        sent.into_iter().filter(|m| m.chat_id == chat && (m.method == "sendmessage" || m.method == "sendphoto") && !gone.contains(&m.message_id)).collect()
    }

    /// A person deletes message `message_id` of `chat` (recorded as method "deletedbyuser"):
    /// editing or deleting it afterwards is 400 "message to edit/delete not found".
    pub fn delete_by_user(&self, chat: i64, message_id: i64) {
        let mut s = self.lock();
        s.messages.remove(&(chat, message_id));
        let gone = Sent { method: "deletedbyuser".into(), chat_id: chat, message_id, text: String::new(), body: json!({}), thread: None, at: Instant::now() };
        s.sent.push(gone);
        self.state.1.notify_all();
    }

    /// Edits made to message `message_id` of `chat`, in order.
    pub fn edits(&self, chat: i64, message_id: i64) -> Vec<Sent> {
        self.sent().into_iter().filter(|m| m.chat_id == chat && m.message_id == message_id && m.method == "editmessagetext").collect()
    }

    /// Waits until a sent message satisfies `pred`.
    pub fn wait_for(&self, within: Duration, pred: impl Fn(&Sent) -> bool) -> Option<Sent> {
        self.wait_until(within, |s| s.sent.iter().find(|m| pred(m)).cloned())
    }

    /// The answer text of a callback query, once answered.
    pub fn wait_answer(&self, id: &str, within: Duration) -> Option<String> {
        self.wait_until(within, |s| s.answers.get(id).cloned())
    }

    fn wait_until<T>(&self, within: Duration, f: impl Fn(&State) -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + within;
        let mut s = self.lock();
        loop {
            if let Some(v) = f(&s) {
                return Some(v);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            s = self.state.1.wait_timeout(s, left.min(Duration::from_millis(200))).unwrap().0;
        }
    }

    /// Polls `f` until it holds or the deadline passes.
    pub fn eventually(&self, within: Duration, f: impl Fn(&[Sent]) -> bool) -> bool {
        self.wait_until(within, |s| f(&s.sent).then_some(())).is_some()
    }

    /// `chat` has never opened the bot: getChat and sendMessage answer 400 "chat not found"
    /// until a message comes from it (the person pressed Start).
    pub fn unopened(&self, chat: i64) {
        self.lock().unopened.insert(chat);
    }
    /// Sends to `chat` fail with 403 "bot was blocked by the user".
    pub fn block(&self, chat: i64) {
        self.lock().blocked.insert(chat);
    }
    /// The person unblocked the bot: sends to `chat` are accepted again.
    pub fn unblock(&self, chat: i64) {
        self.lock().blocked.remove(&chat);
    }
    /// Every request (getMe included) gets its connection closed until `until`.
    pub fn down(&self, until: Instant) {
        self.lock().down_until = Some(until);
    }
    /// Sends to `chat` get no answer until `until` (then they are accepted).
    pub fn hang(&self, chat: i64, until: Instant) {
        self.lock().hung.insert(chat, until);
    }
    /// Sends to `chat` fail with 400 and `migrate_to_chat_id`.
    pub fn migrate(&self, from: i64, to: i64) {
        self.lock().migrated.insert(from, to);
    }
    /// Answers `method` (lowercase, e.g. "editmessagetext") with `quirk` from now on (None: normally).
    pub fn quirk(&self, method: &str, quirk: Option<Quirk>) {
        let mut s = self.lock();
        match quirk {
            Some(q) => s.quirks.insert(method.to_string(), q),
            None => s.quirks.remove(method),
        };
    }
    /// The bytes of every photo sent to `chat` (sendPhoto), in order.
    pub fn photos(&self, chat: i64) -> Vec<Vec<u8>> {
        self.state.0.lock().unwrap().photos.iter().filter(|(c, _)| *c == chat).map(|(_, b)| b.clone()).collect()
    }
    /// How many times `method` (lowercase) was requested.
    pub fn count(&self, method: &str) -> usize {
        self.lock().requests.iter().filter(|m| *m == method).count()
    }
    /// Installs a fault for sendMessage.
    pub fn fault(&self, f: Option<Fault>) {
        self.lock().fault = f;
    }
    /// getUpdates answers 409 Conflict.
    pub fn conflict(&self, on: bool) {
        self.lock().conflict = on;
    }
    /// Requests the fake refused as invalid (method, description): a test asserts none.
    pub fn rejected(&self) -> Vec<(String, String)> {
        self.lock().rejected.clone()
    }
    /// How many sendMessage calls targeted `chat` (accepted or not).
    pub fn attempts_to(&self, chat: i64) -> usize {
        self.lock().attempts.iter().filter(|c| **c == chat).count()
    }
    /// When each `StatusTimes` fault was answered.
    pub fn faulted_at(&self) -> Vec<Instant> {
        self.lock().faulted_at.clone()
    }
    /// How many sends were answered 429.
    pub fn throttled(&self) -> u32 {
        self.lock().throttled
    }
    /// Bodies of the setMyCommands calls, in order.
    pub fn my_commands(&self) -> Vec<Value> {
        self.lock().my_commands.clone()
    }
    /// Method names requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn chat_json(chat: i64) -> Value {
    if chat > 0 {
        json!({"id": chat, "type": "private", "first_name": "Op"})
    } else {
        json!({"id": chat, "type": "supergroup", "title": "Ops"})
    }
}

fn user_json(user: i64) -> Value {
    json!({"id": user, "is_bot": false, "first_name": format!("U{user}"), "language_code": "en"})
}

fn serve_conn(conn: TcpStream, st: &Arc<(Mutex<State>, Condvar)>, token: &str) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut out = conn;
    loop {
        let Some((path, body, files)) = read_request(&mut reader) else {
            return;
        };
        if path.to_ascii_lowercase().ends_with("/sendphoto") && !path.contains("..") {
            if let Some(a) = send_photo(st, token, &path, &body, files) {
                let text = a.1.to_string();
                let head = format!("HTTP/1.1 {} OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n", a.0, text.len());
                if out.write_all(head.as_bytes()).and_then(|_| out.write_all(text.as_bytes())).is_err() {
                    return;
                }
                continue;
            }
        }
        let Some((status, answer)) = handle(st, token, &path, &body) else {
            return;
        };
        let text = match answer {
            Value::String(raw) => raw,
            v => v.to_string(),
        };
        let reason = if status == 200 { "OK" } else { "Error" };
        let head = format!("HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n", text.len());
        if out.write_all(head.as_bytes()).and_then(|_| out.write_all(text.as_bytes())).is_err() {
            return;
        }
    }
}

/// One request: path, JSON body (or a multipart form's text fields as a JSON object) and the
/// multipart form's file parts (field name, bytes).
/// A multipart form's file parts: (field name, bytes).
type Files = Vec<(String, Vec<u8>)>;

fn read_request(r: &mut BufReader<TcpStream>) -> Option<(String, Value, Files)> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_string();
    let mut len = 0usize;
    let mut boundary = None;
    let mut chunked = false;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().ok()?;
            }
            if k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            }
            if k.eq_ignore_ascii_case("content-type") && v.contains("multipart/form-data") {
                boundary = v.split("boundary=").nth(1).map(|b| b.trim().trim_matches('"').to_string());
            }
        }
    }
    let body = if chunked {
        read_chunked(r)?
    } else {
        let mut body = vec![0; len];
        r.read_exact(&mut body).ok()?;
        body
    };
    match boundary {
        Some(b) => {
            let (fields, files) = multipart(&body, &b);
            Some((path, fields, files))
        }
        None => Some((path, serde_json::from_slice(&body).unwrap_or(json!({})), Vec::new())),
    }
}

/// A `Transfer-Encoding: chunked` body (reqwest streams multipart forms this way).
fn read_chunked(r: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        r.read_line(&mut size).ok()?;
        let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; n + 2];
        r.read_exact(&mut chunk).ok()?;
        if n == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..n]);
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// Splits a multipart/form-data body: text fields (numbers parsed as JSON) and file parts.
fn multipart(body: &[u8], boundary: &str) -> (Value, Files) {
    let delim = format!("--{boundary}");
    let mut fields = serde_json::Map::new();
    let mut files = Vec::new();
    let mut at = find(body, delim.as_bytes(), 0).map(|p| p + delim.len());
    while let Some(start) = at {
        let Some(head_end) = find(body, b"\r\n\r\n", start) else { break };
        let head = String::from_utf8_lossy(&body[start..head_end]).to_string();
        let Some(next) = find(body, format!("\r\n{delim}").as_bytes(), head_end + 4) else { break };
        let data = body[head_end + 4..next].to_vec();
        let name = head.split("name=\"").nth(1).and_then(|n| n.split('"').next()).unwrap_or("").to_string();
        if head.contains("filename=") {
            files.push((name, data));
        } else {
            let text = String::from_utf8_lossy(&data).to_string();
            fields.insert(name, serde_json::from_str(&text).unwrap_or(Value::String(text)));
        }
        at = Some(next + 2 + delim.len());
    }
    (Value::Object(fields), files)
}

/// sendPhoto (multipart): records the photo's bytes and a `Sent` with the caption as text.
fn send_photo(st: &Arc<(Mutex<State>, Condvar)>, token: &str, path: &str, body: &Value, files: Files) -> Option<(u16, Value)> {
    let bot = path.replace("%3A", ":").trim_start_matches('/').split('/').next().unwrap_or("").to_string();
    if !authorized(token, &bot) {
        return Some(err(401, "Unauthorized"));
    }
    let chat = body["chat_id"].as_i64().unwrap_or(0);
    // The photo is a file part named `photo`, or named by `photo: "attach://<name>"`.
    let part = body["photo"].as_str().and_then(|p| p.strip_prefix("attach://")).unwrap_or("photo").to_string();
    let Some((_, bytes)) = files.into_iter().find(|(n, _)| *n == part) else { return Some(err(400, "Bad Request: there is no photo in the request")) };
    let mut s = st.0.lock().unwrap();
    s.requests.push("sendphoto".into());
    if let Some(Quirk::ServerError(code)) = s.quirks.get("sendphoto") {
        return Some(err(*code, "Bad Gateway"));
    }
    s.next_message += 1;
    let mid = s.next_message;
    let caption = body["caption"].as_str().unwrap_or("").to_string();
    let thread = body["message_thread_id"].as_i64();
    s.sent.push(Sent { method: "sendphoto".into(), chat_id: chat, message_id: mid, text: caption.clone(), body: body.clone(), thread, at: Instant::now() });
    let size = bytes.len();
    s.photos.push((chat, bytes));
    st.1.notify_all();
    let photo = json!([{"file_id": format!("p{mid}"), "file_unique_id": format!("u{mid}"), "width": 1000, "height": 600, "file_size": size}]);
    Some(ok(json!({"message_id": mid, "date": now(), "chat": chat_json(chat), "photo": photo, "caption": caption,
        "from": {"id": 42, "is_bot": true, "first_name": "ops", "username": "ops_bot"}})))
}

/// Telegram's answer to an edit that changes nothing.
const NOT_MODIFIED: &str =
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

fn err(code: u16, desc: &str) -> (u16, Value) {
    (code, json!({"ok": false, "error_code": code, "description": desc}))
}

fn ok(v: Value) -> (u16, Value) {
    (200, json!({"ok": true, "result": v}))
}

fn handle(st: &Arc<(Mutex<State>, Condvar)>, token: &str, path: &str, body: &Value) -> Option<(u16, Value)> {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let bot = parts.next()?.replace("%3A", ":");
    let method = parts.next()?.to_ascii_lowercase();
    if !authorized(token, &bot) {
        return Some(err(401, "Unauthorized"));
    }
    {
        let mut s = st.0.lock().unwrap();
        if s.down_until.is_some_and(|u| Instant::now() < u) {
            return None; // Telegram unreachable: the connection closes without an answer
        }
        s.requests.push(method.clone());
        match s.quirks.get(&method) {
            Some(Quirk::EchoPath) => return Some(err(400, &format!("Bad Request: cannot handle {path}"))),
            Some(Quirk::Null) => return Some(ok(Value::Null)),
            Some(Quirk::TooOld) => {
                return Some(err(400, "Bad Request: query is too old and response timeout expired or query ID is invalid"));
            }
            Some(Quirk::ServerError(code)) => return Some(err(*code, "Bad Gateway")),
            Some(Quirk::NotModified) => return Some(err(400, NOT_MODIFIED)),
            Some(Quirk::BareChat) => return Some(ok(chat_json(body["chat_id"].as_i64().unwrap_or(0)))),
            Some(Quirk::ServerErrorTimes(code, n)) => {
                let code = *code;
                match n - 1 {
                    0 => s.quirks.remove(&method),
                    left => s.quirks.insert(method.clone(), Quirk::ServerErrorTimes(code, left)),
                };
                return Some(err(code, "Bad Gateway"));
            }
            None => {}
        }
    }
    Some(match method.as_str() {
        "getme" => ok(json!({"id": 42, "is_bot": true, "first_name": "ops", "username": BOT_USERNAME, "can_join_groups": true,
            "can_read_all_group_messages": false, "supports_inline_queries": false, "has_main_web_app": false})),
        "getwebhookinfo" => ok(json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0})),
        "deletewebhook" => ok(json!(true)),
        "setmycommands" => {
            st.0.lock().unwrap().my_commands.push(body.clone());
            ok(json!(true))
        }
        "getupdates" => get_updates(st, body),
        "getchat" => get_chat(st, body),
        "answercallbackquery" => answer_callback(st, body),
        "sendmessage" => return send(st, body),
        "editmessagetext" => edit(st, body),
        "deletemessage" => delete(st, body),
        _ => err(404, "Not Found: method not found"),
    })
}

fn get_updates(st: &Arc<(Mutex<State>, Condvar)>, body: &Value) -> (u16, Value) {
    let offset = body["offset"].as_i64().unwrap_or(0);
    let deadline = Instant::now() + Duration::from_millis(500);
    let mut s = st.0.lock().unwrap();
    loop {
        if s.conflict {
            return err(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running");
        }
        s.updates.retain(|u| u["update_id"].as_i64().unwrap() >= offset);
        if !s.updates.is_empty() {
            return ok(json!(s.updates.clone()));
        }
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return ok(json!([]));
        };
        s = st.1.wait_timeout(s, left).unwrap().0;
    }
}

fn get_chat(st: &Arc<(Mutex<State>, Condvar)>, body: &Value) -> (u16, Value) {
    let chat = body["chat_id"].as_i64().unwrap_or(0);
    if st.0.lock().unwrap().unopened.contains(&chat) {
        return err(400, "Bad Request: chat not found");
    }
    let mut info = chat_json(chat);
    info["accent_color_id"] = json!(0);
    info["max_reaction_count"] = json!(11);
    info["accepted_gift_types"] = json!({"unlimited_gifts": false, "limited_gifts": false, "unique_gifts": false, "premium_subscription": false});
    ok(info)
}

fn answer_callback(st: &Arc<(Mutex<State>, Condvar)>, body: &Value) -> (u16, Value) {
    let id = body["callback_query_id"].as_str().unwrap_or("").to_string();
    let mut s = st.0.lock().unwrap();
    if !s.open_callbacks.remove(&id) {
        s.rejected.push(("answerCallbackQuery".into(), format!("query {id} is too old or already answered")));
        return err(400, "Bad Request: query is too old and response timeout expired or query ID is invalid");
    }
    s.answers.insert(id, body["text"].as_str().unwrap_or("").to_string());
    st.1.notify_all();
    ok(json!(true))
}

fn send(st: &Arc<(Mutex<State>, Condvar)>, body: &Value) -> Option<(u16, Value)> {
    let chat = body["chat_id"].as_i64().unwrap_or(0);
    let hang = st.0.lock().unwrap().hung.get(&chat).copied();
    if let Some(until) = hang.filter(|u| *u > Instant::now()) {
        std::thread::sleep(until - Instant::now()); // Telegram hanging for this chat
    }
    let mut s = st.0.lock().unwrap();
    s.attempts.push(chat);
    match s.fault.clone() {
        Some(Fault::Status(code, until)) if Instant::now() < until => {
            return Some((code, Value::String(format!("<html><body>{code} Bad Gateway</body></html>"))))
        }
        Some(Fault::StatusTimes(code, n)) if n > 0 => {
            s.fault = Some(Fault::StatusTimes(code, n - 1));
            s.faulted_at.push(Instant::now());
            return Some((code, Value::String(format!("<html><body>{code} Bad Gateway</body></html>"))));
        }
        Some(Fault::Drop(until)) if Instant::now() < until => return None,
        Some(Fault::Entities(n)) if n > 0 && body["parse_mode"].as_str() == Some("HTML") => {
            s.fault = Some(Fault::Entities(n - 1));
            return Some(err(400, "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0"));
        }
        Some(Fault::TooMany(n, after)) if n > 0 => {
            s.fault = Some(Fault::TooMany(n - 1, after));
            s.throttled += 1;
            return Some((
                429,
                json!({"ok": false, "error_code": 429, "description": format!("Too Many Requests: retry after {after}"), "parameters": {"retry_after": after}}),
            ));
        }
        _ => {}
    }
    if s.blocked.contains(&chat) {
        return Some(err(403, "Forbidden: bot was blocked by the user"));
    }
    if s.unopened.contains(&chat) {
        return Some(err(400, "Bad Request: chat not found"));
    }
    if let Some(to) = s.migrated.get(&chat) {
        return Some((
            400,
            json!({"ok": false, "error_code": 400, "description": "Bad Request: group chat was upgraded to a supergroup chat", "parameters": {"migrate_to_chat_id": to}}),
        ));
    }
    if let Err(e) = check_text(body) {
        s.rejected.push(("sendMessage".into(), e.clone()));
        return Some(err(400, &e));
    }
    s.next_message += 1;
    let mid = s.next_message;
    let text = body["text"].as_str().unwrap_or("").to_string();
    s.messages.insert((chat, mid), format!("{text}\u{0}{}", body["reply_markup"]));
    let thread = body["message_thread_id"].as_i64();
    s.sent.push(Sent { method: "sendmessage".into(), chat_id: chat, message_id: mid, text: text.clone(), body: body.clone(), thread, at: Instant::now() });
    st.1.notify_all();
    let mut answer = json!({"message_id": mid, "date": now(), "chat": chat_json(chat), "text": text,
        "from": {"id": 42, "is_bot": true, "first_name": "ops", "username": BOT_USERNAME}});
    if let Some(t) = thread {
        answer["message_thread_id"] = json!(t);
        answer["is_topic_message"] = json!(true);
    }
    Some(ok(answer))
}

fn edit(st: &Arc<(Mutex<State>, Condvar)>, body: &Value) -> (u16, Value) {
    let chat = body["chat_id"].as_i64().unwrap_or(0);
    let mid = body["message_id"].as_i64().unwrap_or(0);
    let mut s = st.0.lock().unwrap();
    if let Err(e) = check_text(body) {
        s.rejected.push(("editMessageText".into(), e.clone()));
        return err(400, &e);
    }
    let text = body["text"].as_str().unwrap_or("").to_string();
    let key = format!("{text}\u{0}{}", body["reply_markup"]);
    match s.messages.get(&(chat, mid)) {
        None => return err(400, "Bad Request: message to edit not found"),
        Some(old) if *old == key => return err(400, NOT_MODIFIED),
        Some(_) => {}
    }
    s.messages.insert((chat, mid), key);
    s.sent.push(Sent {
        method: "editmessagetext".into(),
        chat_id: chat,
        message_id: mid,
        text: text.clone(),
        body: body.clone(),
        thread: None,
        at: Instant::now(),
    });
    st.1.notify_all();
    ok(json!({"message_id": mid, "date": now(), "edit_date": now(), "chat": chat_json(chat), "text": text,
        "from": {"id": 42, "is_bot": true, "first_name": "ops", "username": BOT_USERNAME}}))
}

/// deleteMessage: the message leaves the chat (recorded as a `Sent` with method "deletemessage");
/// one the chat does not have is 400 "message to delete not found".
fn delete(st: &Arc<(Mutex<State>, Condvar)>, body: &Value) -> (u16, Value) {
    let chat = body["chat_id"].as_i64().unwrap_or(0);
    let mid = body["message_id"].as_i64().unwrap_or(0);
    let mut s = st.0.lock().unwrap();
    if s.messages.remove(&(chat, mid)).is_none() {
        return err(400, "Bad Request: message to delete not found");
    }
    s.sent.push(Sent {
        method: "deletemessage".into(),
        chat_id: chat,
        message_id: mid,
        text: String::new(),
        body: body.clone(),
        thread: None,
        at: Instant::now(),
    });
    st.1.notify_all();
    ok(json!(true))
}

/// Telegram's checks on text, parse mode and buttons.
fn check_text(body: &Value) -> Result<(), String> {
    let text = body["text"].as_str().unwrap_or("");
    let visible = if body["parse_mode"].as_str() == Some("HTML") { parse_html(text)? } else { text.to_string() };
    if visible.trim().is_empty() {
        return Err("Bad Request: message text is empty".into());
    }
    if visible.encode_utf16().count() > 4096 {
        return Err("Bad Request: message is too long".into());
    }
    let rows = body.pointer("/reply_markup/inline_keyboard").and_then(Value::as_array);
    if rows.into_iter().flatten().map(|r| r.as_array().map_or(0, Vec::len)).sum::<usize>() > 100 {
        return Err("Bad Request: reply markup is too long".into());
    }
    for row in rows.into_iter().flatten() {
        for b in row.as_array().into_iter().flatten() {
            let d = b["callback_data"].as_str().unwrap_or("");
            if d.is_empty() || d.len() > 64 {
                return Err("Bad Request: BUTTON_DATA_INVALID".into());
            }
        }
    }
    Ok(())
}

const TAGS: &[&str] = &["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre", "blockquote"];

/// Returns the visible text of Telegram HTML, or the "can't parse entities" error.
pub fn parse_html(text: &str) -> Result<String, String> {
    let bad = |why: &str| format!("Bad Request: can't parse entities: {why}");
    let (mut out, mut stack, mut rest) = (String::new(), Vec::<String>::new(), text);
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            let end = rest.find('>').ok_or_else(|| bad("unclosed start tag"))?;
            let inner = &rest[1..end];
            let (closing, name) = match inner.strip_prefix('/') {
                Some(n) => (true, n.trim()),
                None => (false, inner.split_whitespace().next().unwrap_or("")),
            };
            if !TAGS.contains(&name) {
                return Err(bad(&format!("unsupported start tag \"{name}\"")));
            }
            if closing {
                if stack.pop().as_deref() != Some(name) {
                    return Err(bad(&format!("unmatched end tag \"{name}\"")));
                }
            } else {
                stack.push(name.to_string());
            }
            rest = &rest[end + 1..];
        } else if c == '&' {
            let end = rest.find(';').filter(|e| *e <= 8).ok_or_else(|| bad("unterminated entity"))?;
            out.push(match &rest[1..end] {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                e => numeric(e).ok_or_else(|| bad("unknown entity"))?,
            });
            rest = &rest[end + 1..];
        } else if c == '>' {
            return Err(bad("character '>' is reserved"));
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if let Some(t) = stack.pop() {
        return Err(bad(&format!("can't find end tag corresponding to start tag \"{t}\"")));
    }
    Ok(out)
}

fn numeric(e: &str) -> Option<char> {
    let n = e.strip_prefix('#')?;
    let v = match n.strip_prefix('x') {
        Some(h) => u32::from_str_radix(h, 16).ok()?,
        None => n.parse().ok()?,
    };
    char::from_u32(v)
}
