//! The trial's bookkeeping (the steps it took, who took them where) and its invariants, each a
//! function returning what is wrong, with the chat's messages, for a failure message.

use super::T;
use crate::support::fake_tg::Sent;
use crate::support::*;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// One step of the script: a person's action in `chat`, or something done on the host (`None`).
#[derive(Debug, Default, Clone)]
pub struct Step {
    /// The chat a person acted in; None for the host.
    pub chat: Option<i64>,
    /// How many messages the fake had received before the step.
    pub mark: usize,
    /// What was done (the text typed, the button pressed, the host's event).
    pub what: String,
}

/// The running trial: its environment and the steps taken so far.
pub struct Trial {
    pub env: Env,
    pub steps: Vec<Step>,
    began: Instant,
}

/// Sends `sig` to the scan's worker (its pid file).
pub fn signal(dir: &Path, sig: &str) {
    let pid = std::fs::read_to_string(dir.join("pid")).unwrap();
    let ok = std::process::Command::new("kill").arg(format!("-{sig}")).arg(pid.trim()).status().unwrap();
    assert!(ok.success(), "kill -{sig} {pid}");
}

/// One line `key = value` of a locale file, up to its first placeholder (what every text in
/// that language shows of it).
pub fn ftl_prefix(lang: &str, key: &str) -> String {
    let file = std::fs::read_to_string(format!("{}/locales/{lang}/ops.ftl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let line = file.lines().find(|l| l.split(" = ").next() == Some(key)).unwrap_or_else(|| panic!("no {key} in {lang}"));
    let value = line.split_once(" = ").unwrap().1;
    value.split('{').next().unwrap().trim().to_string()
}

impl Trial {
    /// A trial on `env`, whose `serve` runs.
    pub fn new(env: Env) -> Trial {
        Trial { env, steps: Vec::new(), began: Instant::now() }
    }

    fn step(&mut self, chat: Option<i64>, what: &str) {
        eprintln!("trial {:>6.1}s {chat:?}: {what}", self.began.elapsed().as_secs_f64());
        self.steps.push(Step { chat, mark: self.env.tg.sent().len(), what: what.to_string() });
    }

    /// A person writes `text` in `chat`.
    pub fn say(&mut self, chat: i64, user: i64, text: &str) {
        self.step(Some(chat), text);
        self.env.tg.message(chat, user, text);
    }

    /// Something happens on the host (not a person's action in a chat).
    pub fn host(&mut self, what: &str, f: impl FnOnce(&Env)) {
        self.step(None, what);
        f(&self.env);
    }

    /// Waits until `pred` holds and everything the step caused has gone out (a message is judged
    /// in the window of the step that caused it); fails naming `what`.
    pub fn wait(&self, what: &str, pred: impl Fn(&Trial) -> bool) {
        let deadline = Instant::now() + T;
        while !pred(self) {
            assert!(Instant::now() < deadline, "trial step never happened: {what}\n{}", self.dump());
            std::thread::sleep(Duration::from_millis(200));
        }
        let queued = "SELECT id FROM outbox WHERE status='pending' AND kind!='live'";
        self.until_true(&format!("after: {what}"), |t| (!t.text_rows(queued).is_empty()).then(|| "messages still queued".into()));
    }

    /// As [`Trial::wait`], for a step that takes a job out of the live messages: they must both
    /// say so (within the edit pace), not only at the end of the pass.
    pub fn wait_left(&self, what: &str, pred: impl Fn(&Trial) -> bool) {
        self.wait(what, pred);
        self.until_true(&format!("after: {what}"), |t| t.live_views());
    }

    /// How many messages quiet hours hold.
    pub fn held(&self) -> usize {
        self.text_rows("SELECT rowid FROM quiet_held").len()
    }

    /// Polls `f` until it gives something; fails naming `what`.
    pub fn poll<V>(&self, what: &str, f: impl Fn() -> Option<V>) -> V {
        let deadline = Instant::now() + T;
        loop {
            if let Some(v) = f() {
                return v;
            }
            assert!(Instant::now() < deadline, "never came: {what}\n{}", self.dump());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Polls `check` (None: holds) until it holds; fails with its last finding.
    fn until_true(&self, when: &str, check: impl Fn(&Trial) -> Option<String>) {
        let deadline = Instant::now() + T;
        loop {
            let Some(wrong) = check(self) else { return };
            assert!(Instant::now() < deadline, "{when}: {wrong}\n{}", self.dump());
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Every view agrees with the jobs (within the edit pace), in the middle of a pass too.
    pub fn views_agree(&self, when: &str) {
        self.until_true(when, |t| t.live_views().or_else(|| t.alert_views()).or_else(|| t.request_views()));
    }

    /// The end of a pass: every invariant.
    pub fn settle(&self) {
        eprintln!("trial {:>6.1}s: end of pass", self.began.elapsed().as_secs_f64());
        self.views_agree("end of pass");
        let rang = self.rings_for_own_actions();
        assert!(rang.is_none(), "{}\n{}", rang.unwrap(), self.dump());
        let english = self.english_in_zh();
        assert!(english.is_none(), "{}\n{}", english.unwrap(), self.dump());
    }

    /// `ops-monitor status --json`.
    pub fn status(&self) -> Value {
        let out = self.env.cli().args(["status", "--json"]).output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("status --json: {e}: {}", String::from_utf8_lossy(&out.stderr)))
    }

    fn job(&self, id: &str) -> Value {
        self.status()["jobs"].as_array().unwrap().iter().find(|j| j["id"] == id).cloned().unwrap()
    }

    /// Whether status says the job runs.
    pub fn running(&self, id: &str) -> bool {
        self.job(id)["status"]["running"].as_bool() == Some(true)
    }

    /// Whether the check's last run passed.
    pub fn check_passes(&self, id: &str) -> bool {
        self.job(id)["lastRun"]["exitCode"].as_i64() == Some(0)
    }

    /// Whether the check has run at all.
    pub fn check_ran(&self, id: &str) -> bool {
        !self.job(id)["lastRun"].is_null()
    }

    fn query<T: rusqlite::types::FromSql>(&self, sql: &str) -> Vec<Vec<T>> {
        let Ok(db) = self.env.db() else { return Vec::new() };
        // A loaded host: the daemon may have created the file but not yet its tables.
        let mut st = match db.prepare(sql) {
            Ok(st) => st,
            Err(e) if e.to_string().contains("no such table") => return Vec::new(),
            Err(e) => panic!("{sql}: {e}"),
        };
        let n = st.column_count();
        st.query_map([], |r| (0..n).map(|i| r.get(i)).collect()).unwrap().map(Result::unwrap).collect()
    }

    fn text_rows(&self, sql: &str) -> Vec<Vec<String>> {
        self.query::<rusqlite::types::Value>(sql)
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|v| match v {
                        rusqlite::types::Value::Integer(i) => i.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        _ => String::new(),
                    })
                    .collect()
            })
            .collect()
    }

    /// The chat's language.
    pub fn lang_of(&self, chat: i64) -> String {
        self.text_rows(&format!("SELECT locale FROM chat_prefs WHERE chat_id={chat}")).first().map_or_else(|| "en".into(), |r| r[0].clone())
    }

    /// Delivered copies of the job's alerts: (chat, message id, anomaly key).
    pub fn alerts(&self, job: &str) -> Vec<(i64, i64, String)> {
        let rows = self.text_rows(&format!(
            "SELECT a.chat_id, o.tg_message_id, a.anomaly_key FROM alert_messages a JOIN outbox o ON o.id=a.outbox_id WHERE a.job_id='{job}' AND o.tg_message_id IS NOT NULL ORDER BY o.tg_message_id"
        ));
        rows.into_iter().map(|r| (r[0].parse().unwrap(), r[1].parse().unwrap(), r[2].clone())).collect()
    }

    /// The newest message id among the job's delivered alerts (0 for none): what [`Trial::alerts_since`]
    /// counts from. Counting the alerts instead fails once the outbox keeps only its newest 2000
    /// rows (after about 50 minutes of the trial): older alerts drop out of the count.
    pub fn alert_mark(&self, job: &str) -> i64 {
        self.alerts(job).iter().map(|a| a.1).max().unwrap_or(0)
    }

    /// The job's alerts delivered after message `mark` ([`Trial::alert_mark`]), in all chats.
    pub fn alerts_since(&self, job: &str, mark: i64) -> usize {
        self.alerts(job).iter().filter(|a| a.1 > mark).count()
    }

    /// Whether the job's current anomaly was acknowledged.
    pub fn acked(&self, job: &str) -> bool {
        !self.text_rows(&format!("SELECT acked_key FROM job_decisions WHERE job_id='{job}' AND acked_key IS NOT NULL")).is_empty()
    }

    /// The pending write request's id.
    pub fn pending_request(&self) -> Option<String> {
        self.text_rows("SELECT id FROM approvals WHERE state='pending'").first().map(|r| r[0].clone())
    }

    /// How many write requests ran.
    pub fn approvals_done(&self) -> usize {
        self.text_rows("SELECT id FROM approvals WHERE state IN ('succeeded','failed')").len()
    }

    /// What message `mid` of `chat` shows now: its last edit, else itself.
    pub fn view(&self, chat: i64, mid: i64) -> Option<Sent> {
        let all = self.env.tg.sent();
        let mine = |m: &&Sent| m.chat_id == chat && m.message_id == mid;
        all.iter().rfind(|m| mine(m) && m.method == "editmessagetext").or_else(|| all.iter().find(|m| mine(m) && m.method == "sendmessage")).cloned()
    }

    /// The buttons a view shows now: (token, action, job, bound run).
    pub fn buttons(&self, view: &Sent) -> Vec<(String, String, String, Option<i64>)> {
        let rows = view.body.pointer("/reply_markup/inline_keyboard").and_then(Value::as_array).cloned().unwrap_or_default();
        let tokens: Vec<String> =
            rows.iter().flat_map(|r| r.as_array().cloned().unwrap_or_default()).filter_map(|b| b["callback_data"].as_str().map(str::to_string)).collect();
        tokens
            .into_iter()
            .filter_map(|t| {
                let r = self.text_rows(&format!("SELECT action, COALESCE(job_id,''), COALESCE(run_started_at,'') FROM callbacks WHERE token='{t}'"));
                r.first().map(|r| (t.clone(), r[0].clone(), r[1].clone(), r[2].parse().ok()))
            })
            .collect()
    }

    fn press(&mut self, chat: i64, user: i64, view: &Sent, action: &str, job: &str) {
        let token = self.buttons(view).into_iter().find(|b| b.1 == action && (job.is_empty() || b.2 == job)).map(|b| b.0);
        let token = token.unwrap_or_else(|| panic!("no {action} {job} button on {:?}\n{}", view.text, self.dump()));
        self.step(Some(chat), &format!("press {action} {job}"));
        self.env.tg.press(view, user, &token);
    }

    /// Presses `action` on the newest reply in `chat` that offers it for `job`.
    pub fn press_on_reply(&mut self, chat: i64, user: i64, action: &str, job: &str) {
        let mark = self.steps.last().map_or(0, |s| s.mark);
        let view = self.poll(&format!("a reply with {action} {job} in {chat}"), || {
            let sent = self.env.tg.sent();
            sent[mark..]
                .iter()
                .rev()
                .find(|m| m.chat_id == chat && m.method == "sendmessage" && self.buttons(m).iter().any(|b| b.1 == action && b.2 == job))
                .cloned()
        });
        self.press(chat, user, &view, action, job);
    }

    /// Presses `action` on the newest alert about `job` in `chat`.
    pub fn press_alert(&mut self, chat: i64, user: i64, job: &str, action: &str) {
        let (_, mid, _) = self.poll(&format!("an alert about {job} in {chat}"), || self.alerts(job).into_iter().rfind(|a| a.0 == chat));
        let view = self.view(chat, mid).unwrap();
        self.press(chat, user, &view, action, job);
    }

    /// Presses `action` on the pending request's copy in `chat`.
    pub fn press_request(&mut self, chat: i64, user: i64, action: &str) {
        let id = self.pending_request().expect("a pending request");
        let sql = format!("SELECT o.tg_message_id FROM approval_messages m JOIN outbox o ON o.id=m.outbox_id WHERE m.approval_id={id} AND o.chat_id={chat} AND o.tg_message_id IS NOT NULL");
        let mid: i64 = self.poll(&format!("a copy of request {id} in {chat}"), || self.text_rows(&sql).pop().and_then(|r| r[0].parse().ok()));
        let view = self.view(chat, mid).unwrap();
        self.press(chat, user, &view, action, "");
    }

    /// Everything each chat was sent or had edited, for a failure message.
    pub fn dump(&self) -> String {
        let mut out = String::from("steps:\n");
        for s in &self.steps {
            out += &format!("  @{} {:?}: {}\n", s.mark, s.chat, s.what);
        }
        for (i, m) in self.env.tg.sent().iter().enumerate() {
            let ring = if m.method == "sendmessage" && !m.silent() { "RINGS" } else { "" };
            out += &format!("#{i} {} chat {} msg {} {ring}\n    {}\n", m.method, m.chat_id, m.message_id, m.text.replace('\n', "\n    "));
        }
        out
    }
}

#[path = "views.rs"]
mod views;
