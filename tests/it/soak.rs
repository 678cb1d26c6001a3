//! Long fault ("soak") tests of `serve` against the fake Bot API. The long forms are `#[ignore]`d
//! (a plain `cargo test` lists them as ignored; run them on request); a short form of each runs
//! with every `cargo test`, so a regression cannot land unseen.
//!
//! ```sh
//! cargo test --test it soak -- --ignored --nocapture --test-threads 1
//! OPS_SOAK_CYCLES=10 OPS_SOAK_OUTAGE_SECS=30 cargo test --test it soak -- --ignored --nocapture
//! ```
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `OPS_SOAK_CYCLES` | 100 | approve → run → verify cycles in `kill_9_at_random_points_…` (the checks against the `runs` table assume ≤ 190: the store keeps the last 200 runs per job) |
//! | `OPS_SOAK_SEED` | clock | seed of the kill schedule (printed, to replay a run) |
//! | `OPS_SOAK_OUTAGE_SECS` | 180 | how long Telegram is unreachable in `telegram_unreachable_…` (tests/soak_outage.rs) |
//!
//! 1. `kill_9_at_random_points_of_approve_run_verify_cycles_loses_and_repeats_nothing`: each
//!    cycle sends `/run w` (a write job appending "$OPS_RUN_ID $$" to a file, verified by a
//!    read-only job), presses Approve on the request and waits for the verification report (or,
//!    when the daemon died during the run, the "interrupted" report). In most cycles `serve` is
//!    killed with SIGKILL at a random moment and restarted at once. A request whose press was
//!    swallowed by a kill (still pending) is pressed again, as a person would; stray requests
//!    (a `/run` delivered twice across a restart) are rejected. Afterwards, once a last restart
//!    has drained everything: no approval ran its write job twice (the file, the `runs` table
//!    and the `approvals` table agree), every request is in a terminal state or still pending,
//!    no outbox row is pending and every failed row says why, every row marked sent reached the
//!    fake, and `PRAGMA integrity_check` is ok.
//! 2. `telegram_unreachable_for_minutes_then_every_alert_arrives_once_in_order`
//!    (tests/soak_outage.rs): Telegram unreachable for minutes, then every alert once, in order.

use crate::support;

use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};
use support::fake_tg::Sent;
use support::*;

/// xorshift64*: enough randomness for a kill schedule, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The request number of an "Approval request #N" message.
fn request_id(m: &Sent) -> Option<i64> {
    let rest = m.text.split("Approval request #").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// A `serve` child that is killed and restarted at will.
struct Serve<'a> {
    env: &'a Env,
    child: Option<Daemon>,
    kills: usize,
    starts: usize,
}

impl<'a> Serve<'a> {
    fn start(&mut self) {
        assert!(self.child.is_none());
        for _ in 0..50 {
            let mut c = self.env.serve();
            std::thread::sleep(Duration::from_millis(150));
            match c.try_wait().unwrap() {
                None => {
                    self.child = Some(c);
                    self.starts += 1;
                    return;
                }
                // e.g. the lock of a previous instance not yet released: try again.
                Some(st) => eprintln!("serve exited at start ({st}); retrying"),
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("serve does not start: {}", self.env.log());
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
            self.kills += 1;
        }
    }

    fn alive(&mut self) -> bool {
        match self.child.as_mut().map(|c| c.try_wait().unwrap()) {
            Some(None) => true,
            Some(Some(st)) => panic!("serve exited by itself ({st}): {}", self.env.log()),
            None => false,
        }
    }

    fn stop(&mut self) {
        if let Some(c) = self.child.take() {
            stop(c);
        }
    }
}

#[derive(Debug)]
enum Phase {
    /// Send `/run w`.
    Ask,
    /// Wait for a new request message after this index of the fake's log.
    Request { mark: usize, since: Instant },
    /// Approve pressed on request `k` (message `msg`); wait for its end.
    Done { k: i64, msg: Box<Sent>, pressed: Instant },
}

fn state_of(env: &Env, k: i64) -> Option<String> {
    env.db().ok()?.query_row("SELECT state FROM approvals WHERE id=?1", [k], |r| r.get(0)).ok()
}

#[derive(Default)]
struct Stats {
    lost_run_commands: usize,
    repressed: usize,
    stray_rejected: usize,
    outcome: BTreeMap<String, usize>,
    /// Approvals that ran (succeeded) but whose "ran once" chat message never came.
    missing_result_message: Vec<i64>,
}

/// The kill schedule and the person at the phone: asks, approves, re-presses, rejects strays.
struct Soak<'a> {
    env: &'a Env,
    d: Serve<'a>,
    rng: Rng,
    stats: Stats,
    handled: HashSet<i64>,
    stray_pressed: HashSet<i64>,
    stuck: Vec<String>,
}

/// Write job `w` (appends "$OPS_RUN_ID $$" to `ran`) verified by `v`, plus a heartbeat job.
fn soak_config(env: &Env) -> std::path::PathBuf {
    let ran = env.path().join("ran");
    env.script("w.sh", &format!("echo \"$OPS_RUN_ID $$\" >> {}\nsleep 0.3\necho wrote\n", ran.display()));
    env.script("v.sh", "echo verified-ok\n");
    let beat = env.script("beat.sh", "echo '{\"running\":true,\"completed\":false}'\n");
    let jobs = json!([
        {"id": "w", "name": "Rotate", "kind": "one_shot_write", "risk": "write_local", "enabled": true,
         "commands": {"run": ["sh", env.path().join("w.sh")]},
         "after": [{"jobId": "v", "when": "success", "delaySeconds": 0}]},
        {"id": "v", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", env.path().join("v.sh")]}},
        long_job("beat", &beat, json!({}))
    ]);
    env.config(jobs, json!({"tickSeconds": 1, "telegram": {"allowedChatIds": [ME]}}));
    ran
}

impl Soak<'_> {
    /// One approve → run → verify cycle, with a kill -9 at a random moment in most of them.
    fn cycle(&mut self, i: u64) {
        let kill_at = (self.rng.below(4) != 0).then(|| Instant::now() + Duration::from_millis(self.rng.below(3000)));
        let pause = Duration::from_millis(self.rng.below(500));
        let mut killed = false;
        let mut phase = Phase::Ask;
        let deadline = Instant::now() + Duration::from_secs(90);
        let finished = loop {
            if Instant::now() > deadline {
                self.stuck.push(format!("cycle {i}: stuck in {phase:?}"));
                break None;
            }
            if !killed && kill_at.is_some_and(|t| Instant::now() >= t) {
                self.d.kill9();
                std::thread::sleep(pause);
                self.d.start();
                killed = true;
            }
            self.d.alive();
            match self.step(phase) {
                Ok(k) => break Some(k),
                Err(next) => phase = next,
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        if let Some((k, state)) = &finished {
            *self.stats.outcome.entry(state.clone()).or_default() += 1;
            if state == "succeeded" && !self.env.tg.sent().iter().any(|m| m.chat_id == ME && ran_once(&m.text, *k)) {
                self.stats.missing_result_message.push(*k); // might still be queued: checked at the end
            }
        }
        self.reject_strays();
    }

    fn said(&self, needle: &str) -> bool {
        self.env.tg.sent().iter().any(|m| m.chat_id == ME && m.text.contains(needle))
    }

    /// Advances the person at the phone: Ok((request, final state)) when the cycle ended.
    fn step(&mut self, phase: Phase) -> Result<(i64, String), Phase> {
        let env = self.env;
        match phase {
            Phase::Ask => {
                let mark = env.tg.sent().len();
                env.tg.message(ME, ME, "/run w");
                Err(Phase::Request { mark, since: Instant::now() })
            }
            Phase::Request { mark, since } => {
                let sent = env.tg.sent();
                let new = sent[mark..]
                    .iter()
                    .filter(|m| m.method == "sendmessage" && m.chat_id == ME)
                    .find_map(|m| request_id(m).filter(|k| !self.handled.contains(k)).map(|k| (k, m.clone())));
                if let Some((k, msg)) = new {
                    self.handled.insert(k);
                    env.tg.press(&msg, ME, &msg.button("Approve").expect("Approve button"));
                    return Err(Phase::Done { k, msg: Box::new(msg), pressed: Instant::now() });
                }
                if since.elapsed() > Duration::from_secs(15) {
                    self.stats.lost_run_commands += 1; // swallowed by a kill: ask again
                    return Err(Phase::Ask);
                }
                Err(Phase::Request { mark, since })
            }
            Phase::Done { k, msg, pressed } => {
                let state = state_of(env, k).unwrap_or_default();
                let done = match state.as_str() {
                    "succeeded" => self.said(&format!("verification of write request #{k}:")),
                    "interrupted" => self.said(&format!("write request #{k} was running when ops-monitor stopped")),
                    "failed" | "rejected" | "expired" | "void" => true,
                    _ => false,
                };
                if done {
                    return Ok((k, state));
                }
                if state == "pending" && pressed.elapsed() > Duration::from_secs(8) {
                    // The press died with the daemon: press again (its token stays valid).
                    self.stats.repressed += 1;
                    env.tg.press(&msg, ME, &msg.button("Approve").unwrap());
                    return Err(Phase::Done { k, msg, pressed: Instant::now() });
                }
                Err(Phase::Done { k, msg, pressed })
            }
        }
    }

    /// Stray requests (a `/run` delivered twice across a restart): reject them.
    fn reject_strays(&mut self) {
        for m in self.env.tg.sent().iter().filter(|m| m.method == "sendmessage" && m.chat_id == ME) {
            let Some(j) = request_id(m) else { continue };
            if !self.handled.contains(&j) && !self.stray_pressed.contains(&j) && state_of(self.env, j).as_deref() == Some("pending") {
                self.env.tg.press(m, ME, &m.button("Reject").expect("Reject button"));
                self.stray_pressed.insert(j);
                self.stats.stray_rejected += 1;
            }
        }
    }
}

fn rows<T: rusqlite::types::FromSql, U: rusqlite::types::FromSql>(db: &rusqlite::Connection, sql: &str) -> Vec<(T, U)> {
    db.prepare(sql).unwrap().query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

/// What the write job did: executions per approval (from its own file, cross-checked with the
/// `runs` and `approvals` tables). Returns (executions per approval, lines, approvals, problems).
fn audit_writes(env: &Env, ran: &std::path::Path) -> (HashMap<i64, usize>, usize, BTreeMap<i64, String>, Vec<String>) {
    let db = env.db().unwrap();
    let lines: Vec<i64> = std::fs::read_to_string(ran).unwrap_or_default().lines().map(|l| l.split_whitespace().next().unwrap().parse().unwrap()).collect();
    let runs: HashMap<i64, String> = rows(&db, "SELECT id, origin FROM runs WHERE job_id='w' AND action='run'").into_iter().collect();
    let approvals: BTreeMap<i64, String> = rows(&db, "SELECT id, state FROM approvals ORDER BY id").into_iter().collect();
    let approval_of = |origin: &str| origin.strip_prefix("approval:").and_then(|a| a.parse::<i64>().ok());
    let mut problems = Vec::new();
    let (mut executions, mut run_rows): (HashMap<i64, usize>, HashMap<i64, usize>) = Default::default();
    for run_id in &lines {
        match runs.get(run_id).and_then(|o| approval_of(o)) {
            Some(a) => *executions.entry(a).or_default() += 1,
            None => problems.push(format!("write run {run_id} has no approval origin in the runs table ({:?})", runs.get(run_id))),
        }
    }
    for origin in runs.values() {
        match approval_of(origin) {
            Some(a) => *run_rows.entry(a).or_default() += 1,
            None => problems.push(format!("a run of the write job not started by an approval: origin {origin}")),
        }
    }
    for (a, n) in executions.iter().chain(run_rows.iter()).filter(|(_, n)| **n > 1) {
        problems.push(format!("approval #{a} ran its write job {n} times"));
    }
    for (id, state) in &approvals {
        let n = executions.get(id).copied().unwrap_or(0);
        let ok = match state.as_str() {
            "succeeded" | "failed" => n == 1,
            "interrupted" => n <= 1,
            "pending" | "rejected" | "expired" | "void" => n == 0,
            _ => false,
        };
        if !ok {
            problems.push(format!("approval #{id} is {state} with {n} execution(s) of the write job"));
        }
    }
    for k in env.tg.sent().iter().filter(|m| m.method == "sendmessage").filter_map(request_id).collect::<HashSet<_>>() {
        if !approvals.contains_key(&k) {
            problems.push(format!("request #{k} was shown in the chat but is not in the approvals table"));
        }
    }
    (executions, lines.len(), approvals, problems)
}

/// The outbox and the file: nothing pending, failures explained, every row marked sent really
/// arrived, integrity ok, no panic. Returns (summary line, problems).
fn audit_outbox(env: &Env, drained: bool) -> (String, Vec<String>) {
    let mut problems = Vec::new();
    if !drained {
        problems.push(format!(
            "not drained after the final restart: {} outbox rows pending, {} approvals running, {} queue items open",
            env.count("SELECT COUNT(*) FROM outbox WHERE status='pending'"),
            env.count("SELECT COUNT(*) FROM approvals WHERE state='running'"),
            env.count("SELECT COUNT(*) FROM queue WHERE status IN ('pending','running')")
        ));
    }
    for (sql, what) in [
        ("SELECT COUNT(*) FROM outbox WHERE status='failed' AND COALESCE(last_error,'')=''", "failed outbox rows without a reason"),
        (
            "SELECT COUNT(*) FROM outbox WHERE status NOT IN ('sent','failed','migrated','superseded','dropped','released')",
            "outbox rows neither sent nor failed",
        ),
    ] {
        let n = env.count(sql);
        if n != 0 {
            problems.push(format!("{n} {what}"));
        }
    }
    let db = env.db().unwrap();
    let delivered: HashSet<(i64, i64)> = env.tg.sent().iter().filter(|m| m.method == "sendmessage").map(|m| (m.chat_id, m.message_id)).collect();
    let sent_rows: Vec<(i64, (i64, i64))> = db
        .prepare("SELECT id, chat_id, COALESCE(tg_message_id, -1) FROM outbox WHERE status='sent'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (id, (chat, mid)) in sent_rows.iter().filter(|(_, k)| !delivered.contains(k)) {
        problems.push(format!("outbox row {id} is marked sent as message {mid} in chat {chat}, which the Bot API never received"));
    }
    let recorded: HashSet<(i64, i64)> = sent_rows.iter().map(|(_, k)| *k).collect();
    let unrecorded = delivered.iter().filter(|k| !recorded.contains(k)).count();
    let integrity: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    if integrity != "ok" {
        problems.push(format!("integrity_check: {integrity}"));
    }
    let panics = env.log().matches("panicked").count();
    if panics > 0 {
        problems.push(format!("serve panicked {panics} time(s): see serve.log"));
    }
    let summary = format!(
        "soak: outbox {} sent, {} failed, 0 pending = {drained}; {unrecorded} message(s) received by the Bot API but not marked sent (killed between Telegram's answer and the commit: sent again after the restart); integrity_check {integrity}",
        sent_rows.len(),
        env.count("SELECT COUNT(*) FROM outbox WHERE status='failed'")
    );
    (summary, problems)
}

#[test]
#[ignore = "soak test (minutes): cargo test --test it soak::kill_9_at -- --ignored --nocapture --test-threads 1"]
fn kill_9_at_random_points_of_approve_run_verify_cycles_loses_and_repeats_nothing() {
    kill_9_soak(env_num("OPS_SOAK_CYCLES", 100));
}

/// The soak's short form, run by every `cargo test`: 20 cycles in two runs of 10 side by side
/// (each about 35 s; one run of 20 was the suite's longest test), each with a fresh seed (printed,
/// so a failure replays with `OPS_SOAK_SEED`).
#[test]
fn kill_9_soak_short_form_10_cycles_a() {
    kill_9_soak(10);
}

/// The other half of the short form, with a seed of its own.
#[test]
fn kill_9_soak_short_form_10_cycles_b() {
    kill_9_soak(10);
}

fn kill_9_soak(cycles: u64) {
    let seed = env_num("OPS_SOAK_SEED", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64) | 1;
    println!("soak: {cycles} cycles, seed {seed} (OPS_SOAK_SEED={seed} replays the kill schedule)");
    let env = Env::new();
    let ran = soak_config(&env);
    let d = Serve { env: &env, child: None, kills: 0, starts: 0 };
    let mut s = Soak { env: &env, d, rng: Rng(seed), stats: Stats::default(), handled: HashSet::new(), stray_pressed: HashSet::new(), stuck: Vec::new() };
    s.d.start();
    let t_all = Instant::now();
    for i in 0..cycles {
        s.cycle(i);
        if (i + 1) % 10 == 0 {
            println!("soak: {} cycles done, {} kills, {:.0} s", i + 1, s.d.kills, t_all.elapsed().as_secs_f64());
        }
    }
    // A last kill and restart; then everything must drain.
    s.d.kill9();
    s.d.start();
    let drained = eventually(Duration::from_secs(180), || {
        env.count("SELECT COUNT(*) FROM outbox WHERE status='pending'") == 0
            && env.count("SELECT COUNT(*) FROM approvals WHERE state='running'") == 0
            && env.count("SELECT COUNT(*) FROM queue WHERE status IN ('pending','running')") == 0
    });
    std::thread::sleep(Duration::from_secs(2));
    s.d.stop();
    let elapsed = t_all.elapsed();
    let (executions, lines, approvals, mut problems) = audit_writes(&env, &ran);
    let (outbox_summary, outbox_problems) = audit_outbox(&env, drained);
    problems.extend(outbox_problems);
    problems.extend(s.stuck.iter().cloned());
    let all_text: Vec<String> = env.tg.sent().iter().map(|m| m.text.clone()).collect();
    s.stats.missing_result_message.retain(|k| !all_text.iter().any(|t| ran_once(t, *k)));
    let by_state = approvals.values().fold(BTreeMap::<&str, usize>::new(), |mut m, st| {
        *m.entry(st.as_str()).or_default() += 1;
        m
    });
    let st = &s.stats;
    println!(
        "soak: {cycles} cycles in {:.0} s; {} kill -9, {} starts; outcomes {:?}; {} approvals in the store {by_state:?}",
        elapsed.as_secs_f64(),
        s.d.kills,
        s.d.starts,
        st.outcome,
        approvals.len(),
    );
    println!(
        "soak: write job executions {lines} (max per approval {}); /run swallowed by a kill and re-sent {}; Approve pressed again {}; stray requests rejected {}",
        executions.values().max().copied().unwrap_or(0),
        st.lost_run_commands,
        st.repressed,
        st.stray_rejected
    );
    println!("{outbox_summary}");
    if !st.missing_result_message.is_empty() {
        println!(
            "soak: NOTE approvals that ran but whose \"ran once\" result message never reached the chat (the daemon died before queueing it): {:?}",
            st.missing_result_message
        );
    }
    assert!(problems.is_empty(), "soak problems (seed {seed}):\n{}", problems.join("\n"));
}

/// Whether `text` is the result of write request `k` having run ("Request #k · host (w): ran once").
fn ran_once(text: &str, k: i64) -> bool {
    text.starts_with(&format!("Request #{k} · ")) && text.contains(" (w): ran once")
}
