//! `serve` figures against the fake Bot API (tests/support/fake_tg.rs), printed as a markdown
//! table with each target and PASS/FAIL. Run: `cargo bench --bench serve` (about 4 minutes).
//! (`cargo test --all-targets` builds this binary and runs it without `--bench`: it then does
//! nothing.)
//!
//! 1. Idle: 200 long_running_read jobs (status prints a fixed running status), tickSeconds 60.
//!    After the first tick's report has been delivered, `serve`'s own resident memory (VmRSS of
//!    /proc/<pid>/status; the tick's status children are separate processes) and its CPU
//!    (utime+stime of /proc/<pid>/stat) over a 20 s window between ticks.
//! 2. Crash detection: a long job whose status reports the pid of a `sleep` we spawned in its own
//!    process group; tickSeconds 3600, so only the pid watcher can notice. SIGKILL → the fake
//!    receives the report saying the job stopped (matched on the job id plus the stopReason our
//!    status prints, or the Ack button, not on localized words). 10 runs. A second job ("trig")
//!    reports the pid of another `sleep`: to flip the first job back to running between runs we
//!    write its new pid, replace the trigger's pid and kill the old trigger, which makes the
//!    watcher start a tick (the trigger job itself stays "running" throughout).
//! 3. Burst: 1000 jobs alerting in one tick to 3 report chats (two private, one group), the fake
//!    answering 429 retry_after=1 now and then. Arrival times are stamped at the fake (under its
//!    lock, as each message is accepted) to compute the busiest 1 s / 60 s window per chat.
//! 4. Backlog after an outage: 36 alerts (one job) and 1000 alerts (25 jobs), see [`backlog`].
//!    Only this part: `OPS_BENCH_ONLY=backlog cargo bench --bench serve`.

#[path = "../tests/it/support/mod.rs"]
mod support;

use serde_json::json;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use support::fake_tg::{Fault, Sent};
use support::*;

/// A second private chat (report chat in the burst).
const ALICE: i64 = 222;

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "FAIL"
    }
}

fn row(figure: &str, measured: String, target: &str, verdict: &str) {
    println!("| {figure} | {measured} | {target} | {verdict} |");
}

/// (utime+stime clock ticks, VmRSS kB, VmHWM kB) of a process.
fn proc_sample(pid: u32) -> (u64, u64, u64) {
    let Ok(p) = procfs::process::Process::new(pid as i32) else { return (0, 0, 0) };
    let cpu = p.stat().map_or(0, |s| s.utime + s.stime);
    let (rss, hwm) = p.status().map_or((0, 0), |s| (s.vmrss.unwrap_or(0), s.vmhwm.unwrap_or(0)));
    (cpu, rss, hwm)
}

fn is_send(m: &Sent) -> bool {
    m.method == "sendmessage"
}

fn has_buttons(m: &Sent) -> bool {
    m.body.pointer("/reply_markup/inline_keyboard").and_then(|k| k.as_array()).is_some_and(|k| !k.is_empty())
}

/// Every "(<prefix>…, " job heading id in a text (section headings are "• name (id, kind)").
fn heading_ids<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.match_indices(&format!("({prefix}")).filter_map(|(i, _)| text[i + 1..].split_once(", ").map(|(id, _)| id)).collect()
}

/// Waits (stamping arrivals as the fake accepts them) until `done` holds for the sendMessage
/// calls after index `from` of the fake's log. Returns them with their arrival instants, whether
/// `done` held in time, and the log index to continue from.
fn watch(tg: &support::fake_tg::FakeTg, from: usize, within: Duration, done: impl Fn(&[(Sent, Instant)]) -> bool) -> (Vec<(Sent, Instant)>, bool, usize) {
    let seen = RefCell::new((from, Vec::<(Sent, Instant)>::new()));
    let ok = tg.eventually(within, |s| {
        let mut st = seen.borrow_mut();
        let now = Instant::now();
        let start = st.0;
        for m in s[start..].iter().filter(|m| is_send(m)) {
            st.1.push((m.clone(), now));
        }
        st.0 = s.len();
        done(&st.1)
    });
    let (next, msgs) = seen.into_inner();
    (msgs, ok, next)
}

fn idle_200_jobs() {
    let env = Env::new();
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"progress\":{\"done\":1,\"total\":2}}'\n");
    let jobs: Vec<_> = (0..200).map(|i| long_job(&format!("job{i:03}"), &st, json!({}))).collect();
    env.config(json!(jobs), json!({"tickSeconds": 60, "telegram": {"allowedChatIds": [ME]}}));
    let t0 = Instant::now();
    let d = env.serve();
    let pid = d.id();
    let all_sections = |ms: &[(Sent, Instant)]| {
        let text: String = ms.iter().map(|(m, _)| m.text.as_str()).collect::<Vec<_>>().join("\n");
        heading_ids(&text, "job").len() >= 200
    };
    let (msgs, ok, _) = watch(&env.tg, 0, Duration::from_secs(120), all_sections);
    assert!(ok, "the first report (200 sections) was not delivered: {}", env.log());
    let delivered = msgs.last().map_or(t0, |(_, t)| *t);
    let parts = msgs.len();
    // Idle window: starts after the first report is out, ends well before the next tick (60 s
    // after the first one finished).
    std::thread::sleep(Duration::from_millis(500));
    let window = Duration::from_secs(20);
    let requests0 = env.tg.requests().len();
    let (c0, _, _) = proc_sample(pid);
    let w0 = Instant::now();
    let mut rss_max = 0;
    while w0.elapsed() < window {
        std::thread::sleep(Duration::from_secs(1));
        rss_max = rss_max.max(proc_sample(pid).1);
    }
    let (c1, rss, hwm) = proc_sample(pid);
    let elapsed = w0.elapsed().as_secs_f64();
    let requests = env.tg.requests().len() - requests0;
    let hz = procfs::ticks_per_second() as f64;
    let cpu = (c1 - c0) as f64 / hz / elapsed * 100.0;
    let (rss_mb, rss_max_mb, hwm_mb) = (rss as f64 / 1024.0, rss_max as f64 / 1024.0, hwm as f64 / 1024.0);
    let in_window = proc_sample(pid).0 > 0 && w0.duration_since(delivered) < Duration::from_secs(30);
    row(
        "idle, 200 jobs: serve's resident memory (VmRSS) between ticks",
        format!("{rss_mb:.1} MB (max {rss_max_mb:.1} MB over the window; peak VmHWM since start {hwm_mb:.1} MB)"),
        "< 20 MB",
        verdict(rss_max_mb < 20.0),
    );
    row(
        "idle, 200 jobs: serve's CPU between ticks (20 s window)",
        format!("{cpu:.2} % of one core ({} clock ticks in {elapsed:.1} s; {requests} Bot API requests, i.e. getUpdates polls)", c1 - c0),
        "< 1 %",
        verdict(cpu < 1.0 && in_window),
    );
    row(
        "idle, 200 jobs: first tick + report delivered",
        format!("{:.1} s after start, {parts} message(s)", delivered.duration_since(t0).as_secs_f64()),
        "—",
        "info",
    );
    stop(d);
}

/// A pseudo-random number of milliseconds below `max` (clock nanoseconds; no rand crate here).
fn jitter_ms(max: u64) -> u64 {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64;
    (n.wrapping_mul(6364136223846793005) >> 33) % max
}

fn sleeper() -> Child {
    Command::new("sleep").arg("1000").process_group(0).spawn().unwrap()
}

fn crash_latency() {
    let env = Env::new();
    let status = |name: &str, file: &std::path::Path| {
        env.script(
            name,
            &format!(
                "p=$(cat {f})\nif kill -0 \"$p\" 2>/dev/null; then echo '{{\"running\":true,\"completed\":false,\"pid\":'$p'}}'\nelse echo '{{\"running\":false,\"completed\":false,\"stopReason\":\"killed-by-bench\"}}'; fi\n",
                f = file.display()
            ),
        )
    };
    let (long_pid, trig_pid) = (env.path().join("long.pid"), env.path().join("trig.pid"));
    let (st_long, st_trig) = (status("long.sh", &long_pid), status("trig.sh", &trig_pid));
    let mut long = sleeper();
    let mut trig = sleeper();
    std::fs::write(&long_pid, long.id().to_string()).unwrap();
    std::fs::write(&trig_pid, trig.id().to_string()).unwrap();
    env.config(
        json!([long_job("long", &st_long, json!({})), long_job("trig", &st_trig, json!({}))]),
        json!({"tickSeconds": 3600, "telegram": {"allowedChatIds": [ME]}}),
    );
    let d = env.serve();
    let running = |pid: u32| move |m: &Sent| is_send(m) && m.chat_id == ME && m.text.contains("(long,") && m.text.contains(&pid.to_string());
    assert!(env.tg.wait_for(Duration::from_secs(60), running(long.id())).is_some(), "first report: {}", env.log());
    let mut lat = Vec::new();
    for _ in 0..10 {
        // Idle first, so the per-chat pacing (1 message/s) after the last report plays no part;
        // the jitter spreads the kills over the watcher's 250 ms polling phase.
        std::thread::sleep(Duration::from_millis(1500 + jitter_ms(250)));
        let before = env.tg.sent().len();
        let t0 = Instant::now();
        long.kill().unwrap();
        long.wait().unwrap();
        let stopped = |ms: &[(Sent, Instant)]| {
            ms.iter().any(|(m, _)| m.chat_id == ME && m.text.contains("(long,") && (m.text.contains("killed-by-bench") || has_buttons(m)))
        };
        let (msgs, ok, _) = watch(&env.tg, before, Duration::from_secs(60), stopped);
        assert!(ok, "the death was not reported: {}", env.log());
        let at = msgs.iter().find(|(m, _)| m.text.contains("(long,")).map(|(_, t)| *t).unwrap();
        lat.push(at.duration_since(t0));
        // Back to running: new pid for the job, then a trigger death makes the watcher tick.
        long = sleeper();
        std::fs::write(&long_pid, long.id().to_string()).unwrap();
        let old = std::mem::replace(&mut trig, sleeper());
        std::fs::write(&trig_pid, trig.id().to_string()).unwrap();
        let mut old = old;
        old.kill().unwrap();
        old.wait().unwrap();
        assert!(env.tg.wait_for(Duration::from_secs(60), running(long.id())).is_some(), "the job was not seen running again: {}", env.log());
    }
    let mut sorted = lat.clone();
    sorted.sort();
    let median = (sorted[4] + sorted[5]) / 2;
    let all: Vec<String> = lat.iter().map(|l| format!("{:.2}", l.as_secs_f64())).collect();
    row(
        "crash detection latency: SIGKILL of the job's pid → report at the fake Bot API (tickSeconds 3600), 10 runs",
        format!(
            "median {:.2} s, max {:.2} s (runs: {} s; ticks started by the pid watcher, from serve's log: {})",
            median.as_secs_f64(),
            sorted[9].as_secs_f64(),
            all.join(", "),
            env.log().matches("a watched job exited").count()
        ),
        "median < 2 s",
        verdict(median < Duration::from_secs(2)),
    );
    for mut c in [long, trig] {
        let _ = c.kill();
        let _ = c.wait();
    }
    stop(d);
}

/// Waits until every chat has all `n` alert sections (or 10 minutes), re-arming a 429 now and
/// then. Returns the stamped messages and whether all arrived.
fn collect_burst(env: &Env, chats: &[i64], n: usize) -> (Vec<(Sent, Instant)>, bool) {
    // Distinct alert ids seen per chat, updated as messages arrive (cheap under the fake's lock).
    let ids: RefCell<HashMap<i64, HashSet<String>>> = RefCell::default();
    let complete = |new: &[(Sent, Instant)]| {
        let mut ids = ids.borrow_mut();
        for c in chats {
            let e = ids.entry(*c).or_default();
            for (m, _) in new.iter().filter(|(m, _)| m.chat_id == *c) {
                e.extend(heading_ids(&m.text, "j").into_iter().map(str::to_string));
            }
        }
        chats.iter().all(|c| ids[c].len() >= n)
    };
    let (mut msgs, mut seen, mut delivered) = (Vec::new(), 0, false);
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut rearmed = Instant::now();
    while !delivered && Instant::now() < deadline {
        // `complete` sees only the messages of this call: feed it the new ones once each.
        let fed = std::cell::Cell::new(0);
        let (more, ok, next) = watch(&env.tg, seen, Duration::from_secs(1), |new| {
            let r = complete(&new[fed.get()..]);
            fed.set(new.len());
            r
        });
        msgs.extend(more);
        seen = next;
        delivered = ok;
        if rearmed.elapsed() > Duration::from_secs(10) {
            env.tg.fault(Some(Fault::TooMany(1, 1))); // the next send gets 429 retry_after=1
            rearmed = Instant::now();
        }
    }
    // Anything sent twice would come after the last first delivery: wait a little and look again.
    std::thread::sleep(Duration::from_secs(5));
    msgs.extend(watch(&env.tg, seen, Duration::from_millis(10), |_| false).0);
    (msgs, delivered)
}

/// Stamps are taken by this thread when the fake wakes it, so two arrivals can look up to a
/// millisecond or two closer than they were: windows are shortened by this for the verdicts
/// (the exact-window counts are printed too).
const TOLERANCE: Duration = Duration::from_millis(10);

/// The most stamps within any window of `w`.
fn max_in(ts: &[Instant], w: Duration) -> usize {
    (0..ts.len()).map(|i| ts[i..].iter().take_while(|t| t.duration_since(ts[i]) < w).count()).max().unwrap_or(0)
}

/// One chat's share of the burst.
struct ChatBurst {
    /// Every alert section exactly once.
    once: bool,
    /// Busiest window (1 s for private chats, 60 s for groups), shortened by TOLERANCE / exact.
    worst: (usize, usize),
    /// Largest keyboard: (buttons, bytes of reply_markup JSON).
    keyboard: (usize, usize),
    /// Line for the table.
    line: String,
}

fn chat_burst(msgs: &[(Sent, Instant)], c: i64, n: usize, t0: Instant) -> ChatBurst {
    let mine: Vec<&(Sent, Instant)> = msgs.iter().filter(|(m, _)| m.chat_id == c).collect();
    let text: String = mine.iter().map(|(m, _)| m.text.as_str()).collect::<Vec<_>>().join("\n");
    let mut count: HashMap<&str, usize> = HashMap::new();
    for id in heading_ids(&text, "j") {
        *count.entry(id).or_default() += 1;
    }
    let once = count.len() == n && count.values().all(|k| *k == 1);
    let ts: Vec<Instant> = mine.iter().map(|(_, t)| *t).collect();
    let min_gap = ts.windows(2).map(|w| w[1].duration_since(w[0])).min().unwrap_or_default();
    let done = ts.last().map_or(Duration::ZERO, |t| t.duration_since(t0));
    let (per_s, per_min) = (max_in(&ts, Duration::from_secs(1)), max_in(&ts, Duration::from_secs(60)));
    let window = if c < 0 { Duration::from_secs(60) } else { Duration::from_secs(1) };
    let worst = (max_in(&ts, window - TOLERANCE), if c < 0 { per_min } else { per_s });
    let buttons = |m: &Sent| {
        m.body.pointer("/reply_markup/inline_keyboard").and_then(|k| k.as_array()).map_or(0, |rows| rows.iter().map(|r| r.as_array().map_or(0, Vec::len)).sum())
    };
    let keyboard = mine.iter().map(|(m, _)| (buttons(m), m.body["reply_markup"].to_string().len())).max().unwrap_or_default();
    let line = format!(
        "chat {c}: {} messages, last at {:.1} s, max {per_s} in 1 s / {per_min} in 60 s, min gap {} ms, each alert once: {once}",
        mine.len(),
        done.as_secs_f64(),
        min_gap.as_millis()
    );
    ChatBurst { once, worst, keyboard, line }
}

fn burst() {
    const N: usize = 1000;
    let env = Env::new();
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"boom\"}'\n");
    let jobs: Vec<_> = (0..N).map(|i| long_job(&format!("j{i:04}"), &st, json!({}))).collect();
    let chats = [ME, ALICE, GROUP];
    env.config(json!(jobs), json!({"tickSeconds": 3600, "telegram": {"allowedChatIds": chats}}));
    env.tg.fault(Some(Fault::TooMany(2, 1)));
    let t0 = Instant::now();
    let d = env.serve();
    let (msgs, delivered) = collect_burst(&env, &chats, N);
    let all_in = msgs.iter().map(|(_, t)| t.duration_since(t0)).max().unwrap_or_default();
    let first = msgs.first().map_or(Duration::ZERO, |(_, t)| t.duration_since(t0));
    let per_chat: Vec<ChatBurst> = chats.iter().map(|c| chat_burst(&msgs, *c, N, t0)).collect();
    let worst =
        |private: bool| chats.iter().zip(&per_chat).filter(|(c, _)| (**c > 0) == private).fold((0, 0), |(a, b), (_, s)| (a.max(s.worst.0), b.max(s.worst.1)));
    let ((wp, wp_exact), (wg, wg_exact)) = (worst(true), worst(false));
    let all_once = per_chat.iter().all(|s| s.once);
    let keyboard = per_chat.iter().map(|s| s.keyboard).max().unwrap_or_default();
    let all_ts: Vec<Instant> = msgs.iter().map(|(_, t)| *t).collect();
    let global = max_in(&all_ts, Duration::from_secs(1));
    let pending = env.count("SELECT COUNT(*) FROM outbox WHERE status!='sent'");
    let rejected = env.tg.rejected().len();
    row(
        "burst: 1000 alerts in one tick to 3 chats: all delivered",
        format!(
            "{:.1} s from start (first message at {:.1} s); outbox rows not sent: {pending}; refused by the fake: {rejected}",
            all_in.as_secs_f64(),
            first.as_secs_f64()
        ),
        "all delivered",
        verdict(delivered && pending == 0 && rejected == 0),
    );
    row("burst: each alert section exactly once per chat", format!("{all_once}"), "exactly once", verdict(all_once));
    row(
        "burst: max messages to one private chat in any 1 s window",
        format!("{wp} ({wp_exact} with an exact 1 s window; see min gaps below)"),
        "≤ 1 (window 1 s − 10 ms stamp tolerance)",
        verdict(wp <= 1),
    );
    row(
        "burst: max messages to the group in any 60 s window",
        format!("{wg} ({wg_exact} with an exact 60 s window)"),
        "≤ 20 (window 60 s − 10 ms)",
        verdict(wg <= 20),
    );
    row("burst: max messages across all chats in any 1 s window", format!("{global}"), "≤ 30", verdict(global <= 30));
    row(
        "burst: largest inline keyboard sent (Ack + Snooze per alert, on the report's last part)",
        format!("{} buttons, {} bytes of reply_markup JSON", keyboard.0, keyboard.1),
        "≤ 100 buttons (Telegram refuses more, and the message with them)",
        verdict(keyboard.0 <= 100),
    );
    row("burst: 429 retry_after=1 answers injected and survived", format!("{}", env.tg.throttled()), "—", "info");
    for s in per_chat {
        row("burst: per chat", s.line, "—", "info");
    }
    stop(d);
}

/// Every "b<job>#<n>" alert token in a text (the backlog bench's jobs say which alert they are).
fn tokens(text: &str) -> HashSet<(u64, u64)> {
    let num = |s: &str| s.chars().take_while(char::is_ascii_digit).collect::<String>().parse::<u64>().ok();
    text.match_indices('b')
        .filter_map(|(i, _)| {
            let rest = &text[i + 1..];
            let job = num(rest)?;
            let after = rest.trim_start_matches(|c: char| c.is_ascii_digit()).strip_prefix('#')?;
            Some((job, num(after)?))
        })
        .collect()
}

/// 4. Backlog: `jobs` long jobs raise a new alert every 1 s tick ("b<job>#<n>") while every Bot
///    API request has its connection closed (`FakeTg::down`), until `alerts` were raised; then
///    Telegram answers again. Time from the outage's end until the last alert raised during it
///    reached the private chat and the group, and how many messages that took.
fn backlog(jobs: usize, alerts: u64) {
    let env = Env::new();
    let counter = |k: usize| env.path().join(format!("c{k}"));
    let list: Vec<_> = (0..jobs)
        .map(|k| {
            let c = counter(k);
            let body = format!(
                "k=$(( $(cat {c} 2>/dev/null || echo 0) + 1 ))\necho $k > {c}.new && mv {c}.new {c}\necho '{{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"b{k}#'$k'\"}}'\n",
                c = c.display()
            );
            long_job(&format!("job{k}"), &env.script(&format!("st{k}.sh"), &body), json!({}))
        })
        .collect();
    env.config(json!(list), json!({"tickSeconds": 1}));
    let counts = || -> Vec<u64> { (0..jobs).map(|k| std::fs::read_to_string(counter(k)).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)).collect() };
    let d = env.serve();
    let chats = [ME, GROUP];
    let up = eventually(Duration::from_secs(120), || chats.iter().all(|c| env.tg.to_chat(*c).iter().any(|m| !tokens(&m.text).is_empty())));
    assert!(up, "alerts before the outage: {}", env.log());
    let start: u64 = counts().iter().sum();
    env.tg.down(Instant::now() + Duration::from_secs(7200));
    let before: Vec<usize> = chats.iter().map(|c| env.tg.to_chat(*c).len()).collect();
    assert!(eventually(Duration::from_secs(3600), || counts().iter().sum::<u64>().saturating_sub(start) >= alerts), "alerts raised during the outage");
    let end = counts();
    let raised = end.iter().sum::<u64>() - start;
    env.tg.down(Instant::now());
    let t_end = Instant::now();
    let want: HashSet<(u64, u64)> = end.iter().enumerate().flat_map(|(k, n)| (1..=*n).map(move |i| (k as u64, i))).collect();
    let mut done: HashMap<i64, (Duration, usize)> = HashMap::new();
    while done.len() < chats.len() && t_end.elapsed() < Duration::from_secs(1800) {
        for c in chats {
            if done.contains_key(&c) {
                continue;
            }
            let sent = env.tg.to_chat(c);
            let got: HashSet<(u64, u64)> = sent.iter().flat_map(|m| tokens(&m.text)).collect();
            if want.is_subset(&got) {
                done.insert(c, (t_end.elapsed(), sent.len()));
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    for (i, c) in chats.iter().enumerate() {
        let kind = if *c < 0 { "group" } else { "private chat" };
        let measured = match done.get(c) {
            Some((t, n)) => format!("last one in {:.1} s after the outage ended, {} messages since the outage began", t.as_secs_f64(), n - before[i]),
            None => "NOT all delivered within 30 min".to_string(),
        };
        row(
            &format!("backlog: {raised} alerts raised during an outage ({jobs} job(s), new alert each 1 s tick) → {kind}"),
            measured,
            if *c < 0 && alerts <= 36 { "< 10 s" } else { "—" },
            if *c < 0 && alerts <= 36 { verdict(done.get(c).is_some_and(|(t, _)| *t < Duration::from_secs(10))) } else { verdict(done.contains_key(c)) },
        );
    }
    assert!(env.tg.rejected().is_empty(), "{:?}", env.tg.rejected());
    stop(d);
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let only = std::env::var("OPS_BENCH_ONLY").unwrap_or_default();
    println!("| figure | measured | target | verdict |\n|---|---|---|---|");
    if only.is_empty() || only.contains("idle") {
        idle_200_jobs();
    }
    if only.is_empty() || only.contains("crash") {
        crash_latency();
    }
    if only.is_empty() || only.contains("burst") {
        burst();
    }
    if only.is_empty() || only.contains("backlog") {
        backlog(1, 36);
        backlog(25, 1000);
    }
}
