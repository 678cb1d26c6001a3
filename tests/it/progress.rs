//! Live progress through the binary: rate and ETA for a job advancing one unit per second.

use crate::support;

use serde_json::json;
use std::time::Duration;
use support::*;

/// A status script whose `done` is the seconds since its first call (one file per second).
fn one_per_second(env: &Env) -> serde_json::Value {
    let t0 = env.path().join("t0");
    let st = env.script(
        "status.sh",
        &format!(
            "[ -f {t0} ] || date +%s > {t0}\nn=$(( $(date +%s) - $(cat {t0}) ))\n\
             echo '{{\"running\":true,\"completed\":false,\"progress\":{{\"done\":'$n',\"total\":3000,\"unit\":\"files\"}}}}'\n",
            t0 = t0.display()
        ),
    );
    long_job("scan", &st, json!({"policy": {"reportEverySeconds": 1, "onlyOnChange": false}}))
}

/// A CLI tick (as the daemon would run before the poll), then the first job's `estimate` from
/// `status --json`: each call computes it afresh.
fn estimate_after_tick(env: &Env) -> serde_json::Value {
    assert!(env.cli().args(["tick", "--print-only"]).output().unwrap().status.success());
    let json: serde_json::Value = serde_json::from_slice(&env.cli().args(["status", "--json"]).output().unwrap().stdout).unwrap();
    json["jobs"][0]["estimate"].clone()
}

/// A rate of one unit per second (within 10%) with an ETA.
fn one_a_second(e: &serde_json::Value) -> bool {
    e["perSecond"].as_f64().is_some_and(|r| (r - 1.0).abs() < 0.1) && e["etaSeconds"].is_i64()
}

/// The rate figure before `suffix` ("60 files/min" → 60), if the text shows one with an ETA.
fn rate_with_eta(text: &str, suffix: &str, eta: &str) -> Option<f64> {
    let before = text.split(suffix).next().filter(|_| text.contains(suffix))?;
    let rate: f64 = before.rsplit(' ').next()?.parse().ok()?;
    text.split(suffix).nth(1)?.trim_start_matches(' ').trim_start_matches('·').trim_start().starts_with(eta).then_some(rate)
}

/// One file per second, measured by polls that start a moment before the status command reads
/// the clock: about 60 per minute.
fn about_one_per_second(per_min: f64) -> bool {
    (50.0..=70.0).contains(&per_min)
}

#[test]
fn routine_reports_show_rate_and_eta_for_a_job_advancing_one_file_per_second() {
    let env = Env::new();
    env.config(json!([one_per_second(&env)]), json!({"tickSeconds": 1}));
    let _d = env.serve();
    let m = env.tg.wait_for(Duration::from_secs(30), |m| m.chat_id == ME && rate_with_eta(&m.text, " files/min", "ETA ").is_some_and(about_one_per_second));
    let m = m.unwrap_or_else(|| panic!("no report with rate and ETA: {:#?}", env.tg.to_chat(ME).iter().map(|m| &m.text).collect::<Vec<_>>()));
    assert!(m.text.contains("/3000 files · ") && m.text.contains(" (≈ "), "{}", m.text);
    // The first reports, before three samples span two seconds, say so instead of guessing.
    assert!(env.tg.to_chat(ME).iter().any(|m| m.text.contains("ETA unknown")), "no early 'ETA unknown'");
    assert!(env.count("SELECT COUNT(*) FROM progress_samples WHERE job_id='scan'") >= 3);
}

#[test]
fn status_on_the_cli_shows_rate_and_eta_and_zh_cn_words() {
    let env = Env::new();
    env.config(json!([one_per_second(&env)]), json!({"locale": "zh-CN"}));
    let status = || String::from_utf8_lossy(&env.cli().arg("status").output().unwrap().stdout).into_owned();
    let ok = eventually(Duration::from_secs(30), || {
        let o = env.cli().args(["tick", "--print-only"]).output().unwrap();
        assert!(o.status.success(), "{o:?}");
        rate_with_eta(&status(), " files/分钟", "预计完成 ").is_some_and(about_one_per_second)
    });
    assert!(ok, "{}", status());
    // The JSON estimate is computed afresh by each call: under load one call can straddle a
    // second, so it is polled like the text above rather than read once, with a tick before
    // each poll as the daemon would run (the history stays as fresh as the observation).
    let estimate = || estimate_after_tick(&env);
    let sane = |e: &serde_json::Value| {
        // The ETA follows from the rate: what is left (3000 less the few seconds run so far) at
        // that rate, not a fixed band around 3000 s that a rate of 0.99/s (≈ 3030 s) falls out of.
        let (Some(rate), Some(eta)) = (e["perSecond"].as_f64(), e["etaSeconds"].as_i64()) else { return false };
        (rate - 1.0).abs() < 0.2 && (3000.0 / rate - eta as f64).abs() < 150.0
    };
    // Three samples of the run give its rate; with the idle polls kept it stayed below 0.9/s for
    // longer than this.
    assert!(eventually(Duration::from_secs(12), || sane(&estimate())), "{}", estimate());
}

/// Width and height of a PNG, decoded in full (so a truncated or corrupt image fails).
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let mut r = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().expect("a PNG header");
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).expect("PNG image data");
    (info.width, info.height)
}

#[test]
fn chart_sends_a_valid_png_with_the_figures_in_its_caption() {
    let env = Env::new();
    let check = env.script("check.sh", "echo ok\n");
    let checker = json!({"id": "fsck", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "commands": {"run": ["sh", check]}});
    env.config(json!([one_per_second(&env), checker]), json!({"tickSeconds": 1, "timezone": "America/New_York"}));
    let _d = env.serve();
    assert!(eventually(Duration::from_secs(20), || env.count("SELECT COUNT(*) FROM progress_samples WHERE job_id='scan'") >= 3));
    env.tg.message(ME, ME, "/chart scan");
    let m = env.tg.wait_for(Duration::from_secs(20), |m| m.method == "sendphoto").unwrap_or_else(|| panic!("no photo: {:?}\n{}", env.tg.requests(), env.log()));
    assert_eq!(m.chat_id, ME);
    assert!(m.text.contains("/3000 files") && m.text.contains("scan"), "caption: {}", m.text);
    // "since" names its zone, as the report heading does (EST or EDT by the season).
    let since = m.text.split("since ").nth(1).and_then(|s| s.split(" (").next()).unwrap_or_default();
    assert!(since.ends_with(" EST") || since.ends_with(" EDT"), "caption: {}", m.text);
    let photos = env.tg.photos(ME);
    assert_eq!(photos.len(), 1);
    assert_eq!(png_size(&photos[0]), (1000, 600));
    // A job without progress history gets words, not an empty picture; no argument: a picker.
    env.tg.message(ME, ME, "/chart fsck");
    assert!(env.tg.wait_for(Duration::from_secs(10), |m| m.text.contains("no progress history")).is_some());
    env.tg.message(ME, ME, "/chart");
    let picker = env.tg.wait_for(Duration::from_secs(10), |m| m.button("Chart scan").is_some()).expect("a chart picker");
    assert!(picker.button("Chart fsck").is_none(), "only long jobs are offered");
    // Progress reports carry a Chart button; pressing it sends the chart too.
    let report = env
        .tg
        .to_chat(ME)
        .into_iter()
        .find(|m| m.text.contains("/3000 files") && m.button("Chart scan").is_some())
        .expect("a Chart button on a progress report");
    env.tg.press(&report, ME, &report.button("Chart scan").unwrap());
    assert!(eventually(Duration::from_secs(20), || env.tg.photos(ME).len() == 2), "the Chart button sent no chart");
    assert_eq!(png_size(&env.tg.photos(ME)[1]), (1000, 600));
}

#[test]
fn chart_on_the_cli_writes_the_png() {
    let env = Env::new();
    env.config(json!([one_per_second(&env)]), json!({}));
    let out = env.path().join("scan.png");
    let ok = eventually(Duration::from_secs(20), || {
        env.cli().args(["tick", "--print-only"]).output().unwrap();
        env.cli().args(["chart", "scan", "--out"]).arg(&out).output().unwrap().status.success()
    });
    assert!(ok, "chart never drew");
    assert_eq!(png_size(&std::fs::read(&out).unwrap()), (1000, 600));
}

#[test]
fn a_job_whose_progress_stands_still_says_so_instead_of_a_zero_rate() {
    let env = Env::new();
    let st = env.script("status.sh", "echo '{\"running\":true,\"completed\":false,\"progress\":{\"done\":42,\"total\":3000,\"unit\":\"files\"}}'\n");
    env.config(json!([long_job("scan", &st, json!({}))]), json!({}));
    let status = || String::from_utf8_lossy(&env.cli().arg("status").output().unwrap().stdout).into_owned();
    let said = eventually(Duration::from_secs(20), || {
        assert!(env.cli().args(["tick", "--print-only"]).output().unwrap().status.success());
        status().contains("42/3000 files · no progress lately")
    });
    let out = status();
    assert!(said, "{out}");
    assert!(!out.contains("0 files/") && !out.contains("ETA unknown"), "{out}");
}

#[test]
fn status_on_the_cli_shows_the_jobs_own_message_like_the_chat() {
    let env = Env::new();
    let st = env.script("status.sh", "echo '{\"running\":true,\"completed\":false,\"message\":\"hashing /data/photos\"}'\n");
    env.config(json!([long_job("scan", &st, json!({}))]), json!({}));
    let out = String::from_utf8_lossy(&env.cli().arg("status").output().unwrap().stdout).into_owned();
    assert!(out.contains("\n  hashing /data/photos"), "{out}");
}

/// `serve` with a job that has progress history; `/chart scan` is asked while Telegram answers
/// sendPhoto with 502.
fn chart_asked_while_telegram_answers_502(env: &Env) -> Daemon {
    env.config(json!([one_per_second(env)]), json!({"tickSeconds": 1}));
    let d = env.serve();
    assert!(eventually(Duration::from_secs(20), || env.count("SELECT COUNT(*) FROM progress_samples WHERE job_id='scan'") >= 3));
    env.tg.quirk("sendphoto", Some(support::fake_tg::Quirk::ServerError(502)));
    env.tg.message(ME, ME, "/chart scan");
    d
}

#[test]
fn a_chart_meeting_a_telegram_5xx_is_retried_quickly_not_after_ten_seconds() {
    let env = Env::new();
    let _d = chart_asked_while_telegram_answers_502(&env);
    assert!(eventually(Duration::from_secs(20), || env.tg.requests().iter().any(|r| r == "sendphoto")), "no chart was tried");
    let healed = std::time::Instant::now();
    env.tg.quirk("sendphoto", None);
    assert!(eventually(Duration::from_secs(20), || env.tg.photos(ME).len() == 1), "the chart never arrived: {}", env.log());
    let took = healed.elapsed();
    println!("chart after a 502: delivered {took:?} after Telegram answered again");
    assert!(took < Duration::from_secs(3), "the chart waited {took:?} after the 502");
    assert!(!env.tg.to_chat(ME).iter().any(|m| m.text.contains("failed") || m.text.contains("could not be sent")), "no failure was told");
}

#[test]
fn a_chart_telegram_keeps_refusing_is_told_in_words_not_with_the_raw_error() {
    let env = Env::new();
    let _d = chart_asked_while_telegram_answers_502(&env);
    let told = env.tg.wait_for(Duration::from_secs(30), |m| m.chat_id == ME && m.text.contains("could not be sent"));
    let told = told.unwrap_or_else(|| panic!("no words: {:?}", env.tg.to_chat(ME).iter().map(|m| &m.text).collect::<Vec<_>>()));
    assert!(!told.text.contains("502") && !told.text.contains("Bad Gateway"), "{}", told.text);
}

/// A job that sat at 0 before it was started: those idle polls are no progress of its run.
/// They were kept as samples, so for the window's 15 minutes after the start its rate was far
/// too low and "unstable", without an ETA.
#[test]
fn polls_before_a_job_runs_do_not_drag_down_its_rate_after_the_start() {
    let env = Env::new();
    let go = env.path().join("go");
    let st = env.script(
        "status.sh",
        &format!(
            "if [ ! -f {go} ]; then echo '{{\"running\":false,\"completed\":false,\"progress\":{{\"done\":0,\"total\":3000}}}}'; exit 0; fi\n\
             n=$(( $(date +%s) - $(cat {go}) ))\n\
             echo '{{\"running\":true,\"completed\":false,\"progress\":{{\"done\":'$n',\"total\":3000}}}}'\n",
            go = go.display()
        ),
    );
    env.config(json!([long_job("scan", &st, json!({}))]), json!({}));
    let tick = || assert!(env.cli().args(["tick", "--print-only"]).output().unwrap().status.success());
    let idle = std::time::Instant::now();
    assert!(eventually(Duration::from_secs(20), || {
        tick();
        idle.elapsed() >= Duration::from_secs(8)
    }));
    let now = String::from_utf8(std::process::Command::new("date").arg("+%s").output().unwrap().stdout).unwrap();
    std::fs::write(&go, now.trim()).unwrap();
    let (estimate, sane) = (|| estimate_after_tick(&env), one_a_second);
    // Three samples of the run give its rate; with the idle polls kept it stayed below 0.9/s for
    // longer than this.
    assert!(eventually(Duration::from_secs(12), || sane(&estimate())), "{}", estimate());
}

/// A run that resumes from its checkpoint after a crash: its rate is the new run's, not one
/// stretched over the time it was down.
#[test]
fn a_run_resumed_after_a_crash_has_its_own_rate_not_one_across_the_downtime() {
    let env = Env::new();
    let (t0, down, off) = (env.path().join("t0"), env.path().join("down"), env.path().join("off"));
    let st = env.script(
        "status.sh",
        &format!(
            "[ -f {t0} ] || date +%s > {t0}\n\
             if [ -f {down} ]; then n=$(( $(cat {down}) - $(cat {t0}) )); echo '{{\"running\":false,\"completed\":false,\"progress\":{{\"done\":'$n',\"total\":3000}}}}'; exit 0; fi\n\
             n=$(( $(date +%s) - $(cat {t0}) - $(cat {off} 2>/dev/null || echo 0) ))\n\
             echo '{{\"running\":true,\"completed\":false,\"progress\":{{\"done\":'$n',\"total\":3000}}}}'\n",
            t0 = t0.display(),
            down = down.display(),
            off = off.display()
        ),
    );
    env.config(json!([long_job("scan", &st, json!({}))]), json!({}));
    let tick = || assert!(env.cli().args(["tick", "--print-only"]).output().unwrap().status.success());
    let clock = || String::from_utf8(std::process::Command::new("date").arg("+%s").output().unwrap().stdout).unwrap().trim().parse::<i64>().unwrap();
    let during = |secs: u64| {
        let from = std::time::Instant::now();
        assert!(eventually(Duration::from_secs(secs + 15), || {
            tick();
            from.elapsed() >= Duration::from_secs(secs)
        }));
    };
    during(6);
    // It crashes where it stands, is down for 10 s, and resumes from that point at the same pace.
    let crashed = clock();
    std::fs::write(&down, crashed.to_string()).unwrap();
    during(10);
    std::fs::write(&off, (clock() - crashed).to_string()).unwrap();
    std::fs::remove_file(&down).unwrap();
    let (estimate, sane) = (|| estimate_after_tick(&env), one_a_second);
    assert!(eventually(Duration::from_secs(10), || sane(&estimate())), "{}", estimate());
}
