//! `serve` figures against the fake Bot API: idle memory/CPU with 200 jobs, crash detection
//! latency, and a burst of 1000 alerts to 3 chats. Run: `cargo bench --bench serve`.
//! (`cargo test` builds this binary and runs it without `--bench`: it then does nothing.)

#[path = "../tests/support/mod.rs"]
#[allow(dead_code)]
mod support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::fake_tg::Fault;
use support::*;

fn proc_stat(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let f: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("").split_whitespace().collect();
    let ticks = f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kb = status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0);
    (ticks, rss_kb)
}

fn idle_200_jobs() {
    let env = Env::new();
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"progress\":{\"done\":1,\"total\":2}}'\n");
    let jobs: Vec<_> = (0..200).map(|i| long_job(&format!("job{i}"), &st, json!({}))).collect();
    env.config(json!(jobs), json!({"tickSeconds": 60, "telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    let pid = d.id();
    assert!(env.tg.wait_for(Duration::from_secs(60), |m| m.text.contains("Ops report")).is_some(), "first report");
    let mut n = 0;
    while env.tg.sent().len() != n {
        n = env.tg.sent().len(); // wait until the report's parts are all out (3 s without a new one)
        std::thread::sleep(Duration::from_secs(3));
    }
    let window = Duration::from_secs(20);
    let (t0, _) = proc_stat(pid);
    std::thread::sleep(window);
    let (t1, rss) = proc_stat(pid);
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let cpu = (t1 - t0) as f64 / hz / window.as_secs_f64() * 100.0;
    let rss_mb = rss as f64 / 1024.0;
    println!("| serve idle, 200 jobs: resident memory | {rss_mb:.1} MB | < 20 MB | {} |", verdict(rss_mb < 20.0));
    println!("| serve idle, 200 jobs: CPU between ticks (20 s window) | {cpu:.2} % | < 1 % | {} |", verdict(cpu < 1.0));
    stop(d);
}

fn crash_latency() {
    let env = Env::new();
    let pidfile = env.path().join("pid");
    let st = env.script(
        "st.sh",
        &format!("p=$(cat {f}); if kill -0 $p 2>/dev/null; then echo '{{\"running\":true,\"completed\":false,\"pid\":'$p'}}'; else echo '{{\"running\":false,\"completed\":false,\"stopReason\":\"died\"}}'; fi\n", f = pidfile.display()),
    );
    let spawn = || {
        use std::os::unix::process::CommandExt;
        let c = std::process::Command::new("sleep").arg("1000").process_group(0).spawn().unwrap();
        std::fs::write(&pidfile, c.id().to_string()).unwrap();
        c
    };
    let mut child = spawn();
    env.config(json!([long_job("long", &st, json!({}))]), json!({"tickSeconds": 10, "telegram": {"allowedChatIds": [ME]}}));
    let d = env.serve();
    let mut lat = Vec::new();
    for _ in 0..10 {
        let running = |m: &support::fake_tg::Sent| m.text.contains("running (pid");
        assert!(env.tg.wait_for(Duration::from_secs(30), |m| running(m) && m.text.contains(&child.id().to_string())).is_some(), "running seen");
        let before = env.tg.sent().len();
        let t0 = Instant::now();
        child.kill().unwrap();
        child.wait().unwrap();
        let got = env.tg.eventually(Duration::from_secs(30), |s| s[before..].iter().any(|m| m.text.contains("died")));
        assert!(got, "death reported");
        lat.push(t0.elapsed());
        child = spawn(); // the next regular tick (10 s) sees it running and the watcher takes its pid
    }
    lat.sort();
    let median = lat[lat.len() / 2];
    println!(
        "| crash detection latency (kill → alert at the fake Bot API), 10 runs | median {:.2} s, max {:.2} s | median < 2 s | {} |",
        median.as_secs_f64(),
        lat.last().unwrap().as_secs_f64(),
        verdict(median < Duration::from_secs(2))
    );
    let _ = child.kill();
    stop(d);
}

fn burst() {
    let env = Env::new();
    env.tg.fault(Some(Fault::TooMany(3, 1)));
    let st = env.script("st.sh", "echo '{\"running\":true,\"completed\":false,\"level\":\"alert\",\"message\":\"boom\"}'\n");
    let jobs: Vec<_> = (0..1000).map(|i| long_job(&format!("j{i:04}"), &st, json!({}))).collect();
    let chats = [ME, 222, GROUP];
    env.config(json!(jobs), json!({"tickSeconds": 3600, "telegram": {"allowedChatIds": chats}}));
    let t0 = Instant::now();
    let d = env.serve();
    let mut stamps: Vec<(i64, Instant)> = Vec::new();
    let mut seen = 0;
    let complete = |s: &[support::fake_tg::Sent], chat: i64| s.iter().filter(|m| m.chat_id == chat).any(|m| m.text.contains("(j0999,"));
    let deadline = Instant::now() + Duration::from_secs(600);
    while !chats.iter().all(|c| complete(&env.tg.sent(), *c)) && Instant::now() < deadline {
        let sent = env.tg.sent();
        for m in &sent[seen..] {
            stamps.push((m.chat_id, Instant::now()));
        }
        seen = sent.len();
        std::thread::sleep(Duration::from_millis(50));
    }
    let took = t0.elapsed();
    let sent = env.tg.sent();
    let mut all_once = true;
    for c in chats {
        let text: String = sent.iter().filter(|m| m.chat_id == c).map(|m| m.text.clone()).collect::<Vec<_>>().join("\n");
        all_once &= (0..1000).all(|i| text.matches(&format!("({}, ", format!("j{i:04}"))).count() == 1);
    }
    let max_in = |chat: i64, win: Duration| {
        let ts: Vec<Instant> = stamps.iter().filter(|(c, _)| *c == chat).map(|(_, t)| *t).collect();
        ts.iter().map(|a| ts.iter().filter(|b| **b >= *a && **b < *a + win).count()).max().unwrap_or(0)
    };
    let private = max_in(ME, Duration::from_millis(950)).max(max_in(222, Duration::from_millis(950)));
    let group = max_in(GROUP, Duration::from_millis(59_900));
    println!(
        "| burst: 1000 alerts in one tick to 3 chats (three 429s injected) | all delivered in {:.1} s; each alert once: {all_once}; max {private}/s per private chat, {group}/min in the group; {} messages | all once, ≤ 1/s private, ≤ 20/min group | {} |",
        took.as_secs_f64(),
        sent.len(),
        verdict(all_once && private <= 1 && group <= 20 && env.tg.throttled() == 3)
    );
    stop(d);
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "FAIL"
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    println!("| figure | measured | target | verdict |\n|---|---|---|---|");
    idle_200_jobs();
    crash_latency();
    burst();
}
