//! The scripted trial of one truth in every chat, through the binary and the fake Bot API with
//! two chats (the owner's private chat, who approves, and a group with a member): real job
//! scripts (a background worker started, stopped, killed and frozen; a check broken and fixed; a
//! write job requested in the group and approved in private), quiet hours and a language switch.
//! After each pass every living view in both chats must agree with `ops-monitor status --json`,
//! no action rang twice in the chat it was taken in, and the zh-CN chat shows no English heading.
//! The short form is one pass; the long form (`#[ignore]`) loops for `OPS_TRIAL_SECS` (3600).

#[path = "trial/invariants.rs"]
mod invariants;

use crate::support;

use invariants::Trial;
use serde_json::json;
use std::time::{Duration, Instant};
use support::*;

/// How long one step may take to show (a loaded 2-core machine, one-second ticks).
pub const T: Duration = Duration::from_secs(40);
/// A member of the group (not an approver: the approver is the private chat's user).
pub const MEMBER: i64 = 222;

/// The jobs: `scan` (a real background worker: start, stop, status by its pid, progress by its
/// checkpoint; it completes once `finish` exists), `health` (a check failing while `broken`
/// exists), `w` (a write job needing approval) verified by `v`.
fn jobs(env: &Env) -> serde_json::Value {
    let d = env.path().display().to_string();
    let alive = "alive() { [ -n \"$1\" ] && [ -r /proc/$1/stat ] && [ \"$(sed 's/.*) //' /proc/$1/stat | cut -c1)\" != Z ]; }\n";
    env.script(
        "worker.sh",
        &format!(
            "trap 'touch {d}/stopped; exit 143' TERM\nk=0\nwhile [ ! -f {d}/finish ]; do sleep 0.3; k=$((k+1)); echo $k > {d}/ck.tmp; mv {d}/ck.tmp {d}/checkpoint; done\ntouch {d}/completed\n"
        ),
    );
    let start = env.script(
        "start.sh",
        &format!("{alive}if alive \"$(cat {d}/pid 2>/dev/null)\"; then echo already running; exit 0; fi\nrm -f {d}/completed {d}/stopped {d}/finish {d}/checkpoint\nnohup sh {d}/worker.sh >/dev/null 2>&1 &\necho $! > {d}/pid\necho started $!\n"),
    );
    let status = env.script(
        "status.sh",
        &format!(
            "{alive}r=false; p=null; c=false; pid=$(cat {d}/pid 2>/dev/null)\nif alive \"$pid\"; then r=true; p=$pid; fi\n[ -f {d}/completed ] && c=true\n\
             printf '{{\"running\":%s,\"completed\":%s,\"pid\":%s,\"progress\":{{\"done\":%s,\"total\":100000,\"unit\":\"files\"}}}}\\n' $r $c $p $(cat {d}/checkpoint 2>/dev/null || echo 0)\n"
        ),
    );
    let stop = env.script(
        "stop.sh",
        &format!("{alive}pid=$(cat {d}/pid 2>/dev/null)\nalive \"$pid\" || {{ echo not running; exit 0; }}\nkill -TERM $pid; kill -CONT $pid\nwhile alive $pid; do sleep 0.1; done\necho stopped\n"),
    );
    let health = env.script("health.sh", &format!("if [ -f {d}/broken ]; then echo 'disk full'; exit 3; fi\necho ok\n"));
    let w = env.script("w.sh", &format!("date > {d}/rotated\necho rotated\n"));
    let v = env.script("v.sh", &format!("[ -f {d}/rotated ] && echo 'marker rotated'\n"));
    json!([
        {"id": "scan", "name": "Scan disk", "kind": "long_running_read", "risk": "read_only", "enabled": true,
         "commands": {"start": ["sh", start], "status": ["sh", status], "stop": ["sh", stop]},
         "policy": {"stallSeconds": 3, "reportEverySeconds": 1}},
        {"id": "health", "name": "Disk health", "kind": "one_shot_read", "risk": "read_only", "enabled": true,
         "commands": {"run": ["sh", health]}, "policy": {"runEverySeconds": 2}},
        {"id": "w", "name": "Rotate marker", "kind": "one_shot_write", "risk": "write_local", "enabled": true,
         "commands": {"run": ["sh", w]}, "approval": {"required": true}, "after": [{"jobId": "v"}]},
        {"id": "v", "name": "Verify rotation", "kind": "one_shot_read", "risk": "read_only", "commands": {"run": ["sh", v]}}
    ])
}

/// Writes the config, with quiet hours around now or none.
fn configure(env: &Env, quiet: bool) {
    let hhmm = |m: i64| (chrono::Utc::now() + chrono::Duration::minutes(m)).format("%H:%M").to_string();
    let window = if quiet { json!({"start": hhmm(-60), "end": hhmm(60)}) } else { json!(null) };
    env.config(jobs(env), json!({"tickSeconds": 1, "timezone": "UTC", "defaults": {"quietHours": window}, "telegram": {"approverUserIds": [ME]}}));
}

/// One pass of the script; `n` counts passes (the group switches to zh-CN on even ones).
fn pass(t: &mut Trial, n: u32) {
    let d = t.env.path().to_path_buf();
    let lang = if n.is_multiple_of(2) { "zh-CN" } else { "en" };
    t.say(GROUP, MEMBER, &format!("/lang {lang}"));
    t.wait("the group's language", |t| t.lang_of(GROUP) == lang);
    if !t.running("scan") {
        t.say(GROUP, MEMBER, "/start scan");
        t.wait("scan running after the group's /start", |t| t.running("scan"));
    }
    t.say(ME, ME, "/stop scan");
    t.wait_left("scan stopped after the owner's /stop", |t| !t.running("scan"));
    t.say(ME, ME, "/status");
    t.press_on_reply(ME, ME, "start", "scan");
    t.wait("scan running after Start in /status", |t| t.running("scan"));
    let crash = t.alert_mark("scan");
    t.host("kill -9 the worker", |_| invariants::signal(&d, "KILL"));
    t.wait_left("a crash alert in both chats", |t| t.alerts_since("scan", crash) >= 2);
    t.press_alert(GROUP, MEMBER, "scan", "start");
    t.wait("scan running after Start on the crash alert", |t| t.running("scan"));
    t.views_agree("after Start on the crash alert");
    let stall = t.alert_mark("scan");
    t.host("freeze the worker (SIGSTOP)", |_| invariants::signal(&d, "STOP"));
    t.wait("a stall alert in both chats", |t| t.alerts_since("scan", stall) >= 2);
    t.press_alert(ME, ME, "scan", "ack");
    t.wait("the stall acknowledged", |t| t.acked("scan"));
    t.press_alert(ME, ME, "scan", "stop");
    t.wait_left("scan stopped from its stall alert", |t| !t.running("scan"));
    let failing = t.alert_mark("health");
    t.host("break the check", |_| std::fs::write(d.join("broken"), "").unwrap());
    t.wait("a failing check alert in both chats", |t| t.alerts_since("health", failing) >= 2);
    std::fs::remove_file(d.join("broken")).unwrap();
    t.press_alert(ME, ME, "health", "run");
    t.wait("the check passes after Run again", |t| t.check_passes("health"));
    let runs = t.approvals_done();
    t.say(GROUP, MEMBER, "/run w");
    t.wait("the request reaches the approver", |t| t.pending_request().is_some());
    t.press_request(ME, ME, "approve");
    t.wait("the write job ran and was verified", |t| t.approvals_done() > runs && t.check_ran("v"));
    t.host("quiet hours begin", |env| configure(env, true));
    t.say(GROUP, MEMBER, "/start scan");
    t.wait("scan running inside quiet hours", |t| t.running("scan"));
    t.host("the scan finishes", |_| std::fs::write(d.join("finish"), "").unwrap());
    t.wait_left("scan completed inside quiet hours", |t| !t.running("scan"));
    t.host("quiet hours end", |env| configure(env, false));
    t.wait("the digest of the quiet hours", |t| t.held() == 0);
    t.settle();
}

/// Runs passes until `secs` have passed (at least one).
fn trial(secs: u64) {
    let env = Env::new();
    configure(&env, false);
    env.tg.name(ME, "Owner", Some("owner"));
    env.tg.name(MEMBER, "Mia", Some("mia"));
    let _d = env.serve();
    let mut t = Trial::new(env);
    let until = Instant::now() + Duration::from_secs(secs);
    let mut n = 0;
    loop {
        pass(&mut t, n);
        n += 1;
        if Instant::now() >= until {
            break;
        }
    }
}

#[test]
fn one_pass_of_the_trial_leaves_every_view_true_and_rings_only_direct_replies() {
    trial(0);
}

#[test]
#[ignore = "an hour: OPS_TRIAL_SECS=3600 cargo test --test it chat_trial:: -- --ignored"]
fn the_hour_long_trial_leaves_every_view_true_after_each_pass() {
    trial(env_num("OPS_TRIAL_SECS", 3600));
}
