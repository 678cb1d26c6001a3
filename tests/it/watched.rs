//! Keeping the daemon watched, through the binary: heartbeat pings per tick (and `/fail` on a
//! broken config) against a local HTTP server, and the systemd notify protocol on a local
//! datagram socket (READY, WATCHDOG while idle, STATUS, STOPPING on SIGTERM); liveness from the
//! loops that do the work (READY after the first status poll, no WATCHDOG and `/fail` while a
//! job's loop is wedged); a clean stop ends the commands in flight (what KillMode=process in the
//! example unit relies on).

use crate::support;

use serde_json::json;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{eventually, ping_server, wait_exit, Daemon};

fn serve(dir: &Path, envs: &[(&str, &Path)]) -> Daemon {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ops-monitor"));
    c.arg("--config-file").arg(dir.join("c.json")).arg("--state-file").arg(dir.join("s.db")).arg("serve");
    c.env_remove("TELEGRAM_BOT_TOKEN").env_remove("NOTIFY_SOCKET").env_remove("WATCHDOG_USEC").env_remove("WATCHDOG_PID").env("OPENCLAW_HOME", dir);
    for (k, v) in envs {
        c.env(k, v);
    }
    Daemon(c.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap())
}

fn sigterm(child: &mut Child) -> std::process::ExitStatus {
    rustix::process::kill_process(rustix::process::Pid::from_raw(child.id() as i32).unwrap(), rustix::process::Signal::TERM).unwrap();
    wait_exit(child, Duration::from_secs(10)).expect("serve exits after SIGTERM")
}

#[test]
fn heartbeat_pings_after_each_tick_and_pings_fail_when_the_config_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let (base, seen) = ping_server();
    let cfg = json!({"version": 1, "tickSeconds": 1, "jobs": [], "heartbeat": {"url": format!("{base}/ping/abc")}});
    std::fs::write(dir.path().join("c.json"), cfg.to_string()).unwrap();
    let mut child = serve(dir.path(), &[]);
    let count = |p: &str| seen.lock().unwrap().iter().filter(|s| *s == p).count();
    assert!(eventually(Duration::from_secs(15), || count("GET /ping/abc") >= 3), "pings: {:?}", seen.lock().unwrap());
    assert_eq!(count("GET /ping/abc/fail"), 0);
    std::fs::write(dir.path().join("c.json"), "{ \"version\": 1, broken").unwrap();
    assert!(eventually(Duration::from_secs(15), || count("GET /ping/abc/fail") >= 1), "pings: {:?}", seen.lock().unwrap());
    assert!(sigterm(&mut child).success());
}

#[test]
fn systemd_hears_ready_status_watchdog_while_idle_and_stopping_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let cfg = json!({"version": 1, "tickSeconds": 3600, "jobs": []});
    std::fs::write(dir.path().join("c.json"), cfg.to_string()).unwrap();
    let mut child = serve(dir.path(), &[("NOTIFY_SOCKET", &sock_path), ("WATCHDOG_USEC", Path::new("400000"))]);
    let mut got: Vec<String> = Vec::new();
    let recv_until = |got: &mut Vec<String>, done: &dyn Fn(&[String]) -> bool, within: Duration| {
        let deadline = Instant::now() + within;
        let mut buf = [0u8; 4096];
        while !done(got) && Instant::now() < deadline {
            if let Ok(n) = sock.recv(&mut buf) {
                got.extend(String::from_utf8_lossy(&buf[..n]).lines().map(str::to_string));
            }
        }
        done(got)
    };
    let watchdogs = |g: &[String]| g.iter().filter(|l| *l == "WATCHDOG=1").count();
    // The tick is an hour away, so every WATCHDOG=1 after READY comes from the idle wait.
    assert!(recv_until(&mut got, &|g| g.iter().any(|l| l == "READY=1") && watchdogs(g) >= 4, Duration::from_secs(15)), "{got:?}");
    assert!(got.iter().any(|l| l.starts_with("STATUS=watching 0 enabled jobs; last tick")), "{got:?}");
    assert_eq!(got.iter().filter(|l| *l == "READY=1").count(), 1, "{got:?}");
    let status = sigterm(&mut child);
    assert!(recv_until(&mut got, &|g| g.iter().any(|l| l == "STOPPING=1"), Duration::from_secs(5)), "{got:?}");
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_heartbeat_without_an_http_url_is_a_config_error_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = json!({"version": 1, "jobs": [], "heartbeat": {"url": "hc-ping.com/abc", "everySeconds": 0}});
    std::fs::write(dir.path().join("c.json"), cfg.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ops-monitor")).arg("--config-file").arg(dir.path().join("c.json")).arg("validate-config").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("heartbeat.url: must be an http:// or https:// URL"), "{err}");
    assert!(err.contains("heartbeat.everySeconds: must be at least 1"), "{err}");
}

#[test]
fn heartbeat_pings_fail_when_the_store_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    let (base, seen) = ping_server();
    let cfg = json!({"version": 1, "tickSeconds": 1, "jobs": [], "heartbeat": {"url": format!("{base}/hb/")}});
    std::fs::write(dir.path().join("c.json"), cfg.to_string()).unwrap();
    let mut child = serve(dir.path(), &[]);
    let count = |p: &str| seen.lock().unwrap().iter().filter(|s| *s == p).count();
    assert!(eventually(Duration::from_secs(15), || count("GET /hb/") >= 1), "pings: {:?}", seen.lock().unwrap());
    // The state file is replaced by a folder: every tick now fails to open the store.
    std::fs::rename(dir.path().join("s.db"), dir.path().join("s.db.away")).unwrap();
    std::fs::create_dir(dir.path().join("s.db")).unwrap();
    assert!(eventually(Duration::from_secs(15), || count("GET /hb/fail") >= 1), "pings: {:?}", seen.lock().unwrap());
    assert!(sigterm(&mut child).success());
}

/// The notify socket's side of the protocol: a thread receives all the time (as systemd does: a
/// full socket would block the sender), `got` is every line so far.
struct Notify {
    got: Arc<Mutex<Vec<String>>>,
}

impl Notify {
    fn bind(path: &Path) -> Notify {
        let sock = UnixDatagram::bind(path).unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let log = got.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = sock.recv(&mut buf) {
                log.lock().unwrap().extend(String::from_utf8_lossy(&buf[..n]).lines().map(str::to_string));
            }
        });
        Notify { got }
    }
    fn lines(&self) -> Vec<String> {
        self.got.lock().unwrap().clone()
    }
    /// Waits until `done` holds for what was received or `within` passed.
    fn until(&self, within: Duration, done: impl Fn(&[String]) -> bool) -> bool {
        eventually(within, || done(&self.lines()))
    }
    fn watchdogs(&self) -> usize {
        self.lines().iter().filter(|l| *l == "WATCHDOG=1").count()
    }
}

#[test]
fn ready_waits_for_the_first_status_poll_of_each_long_job() {
    let dir = tempfile::tempdir().unwrap();
    let notify = Notify::bind(&dir.path().join("notify.sock"));
    // The first poll answers after 2 s; the marker is written just before the answer.
    std::fs::write(dir.path().join("status.sh"), "sleep 2\ntouch answered\necho '{\"running\": true, \"completed\": false}'\n").unwrap();
    let job = json!({"id": "scan", "kind": "long_running_read", "risk": "read_only", "enabled": true, "cwd": dir.path(),
        "commands": {"start": ["true"], "status": ["sh", "status.sh"]}});
    let cfg = json!({"version": 1, "tickSeconds": 3600, "jobs": [job]});
    std::fs::write(dir.path().join("c.json"), cfg.to_string()).unwrap();
    let sock = dir.path().join("notify.sock");
    let mut child = serve(dir.path(), &[("NOTIFY_SOCKET", &sock)]);
    assert!(notify.until(Duration::from_secs(20), |g| g.iter().any(|l| l == "READY=1")), "{:?}", notify.lines());
    assert!(dir.path().join("answered").exists(), "READY=1 came before the job's first status poll answered: {:?}", notify.lines());
    assert!(sigterm(&mut child).success());
}

/// What used to wedge a job loop for good: the job's status names a `logFile` that is a FIFO
/// nobody writes to (as a log on a hung network mount would), and the crash alert's log tail
/// blocked reading it, so only the loop's own deadline could tell (the watchdog and the
/// heartbeat stopped). The tail read is bounded now (a FIFO is refused at once, any read is given
/// up after 3 s): the loop keeps passing, systemd keeps being fed and the heartbeat stays good.
/// (The deadline logic itself is unit-tested in policy/liveness.rs.)
#[test]
fn a_log_fifo_no_longer_wedges_the_job_loop_the_watchdog_and_the_heartbeat_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let (base, seen) = ping_server();
    let sock = dir.path().join("notify.sock");
    let notify = Notify::bind(&sock);
    let fifo = dir.path().join("job.log");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let status = format!(
        "if [ -e seen ]; then echo '{{\"running\": false, \"completed\": false, \"logFile\": \"{}\"}}'; else touch seen; echo '{{\"running\": true, \"completed\": false}}'; fi\n",
        fifo.display()
    );
    std::fs::write(dir.path().join("status.sh"), status).unwrap();
    let job = json!({"id": "scan", "kind": "long_running_read", "risk": "read_only", "enabled": true, "cwd": dir.path(),
        "commands": {"start": ["true"], "status": ["sh", "status.sh"]}, "policy": {"statusTimeoutSeconds": 1, "timeoutSeconds": 1, "killGraceSeconds": 1}});
    let cfg = json!({"version": 1, "tickSeconds": 1, "jobs": [job], "heartbeat": {"url": format!("{base}/hb")}});
    std::fs::write(dir.path().join("c.json"), cfg.to_string()).unwrap();
    let mut child = serve(dir.path(), &[("NOTIFY_SOCKET", &sock), ("WATCHDOG_USEC", Path::new("1000000"))]);
    let count = |p: &str| seen.lock().unwrap().iter().filter(|s| *s == p).count();
    assert!(notify.until(Duration::from_secs(15), |g| g.iter().any(|l| l == "READY=1")), "{:?}", notify.lines());
    assert!(eventually(Duration::from_secs(15), || count("GET /hb") >= 1), "pings: {:?}", seen.lock().unwrap());
    // The second poll sees the crash and tries the FIFO's tail: the loop goes on all the same.
    let (oks, fed) = (count("GET /hb"), notify.watchdogs());
    assert!(eventually(Duration::from_secs(20), || count("GET /hb") >= oks + 3), "pings: {:?}", seen.lock().unwrap());
    assert!(notify.until(Duration::from_secs(5), |_| notify.watchdogs() > fed + 2), "{:?}", notify.lines());
    assert_eq!(count("GET /hb/fail"), 0, "the heartbeat failed: {:?}", seen.lock().unwrap());
    assert!(sigterm(&mut child).success());
}

/// True while `pid` exists and is not a zombie (an orphan init has not reaped yet is gone).
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with(['Z', 'X'])))
}

#[test]
fn a_clean_stop_ends_a_check_in_flight_even_one_that_ignores_sigterm_within_its_kill_grace() {
    let dir = tempfile::tempdir().unwrap();
    // The shell and its sleep ignore SIGTERM: only the SIGKILL after the grace ends them.
    std::fs::write(dir.path().join("check.sh"), "trap '' TERM\nsleep 300 &\necho \"$$ $!\" > pids.tmp && mv pids.tmp pids\nwait\n").unwrap();
    let job = json!({"id": "slow", "kind": "one_shot_read", "risk": "read_only", "enabled": true, "cwd": dir.path(),
        "commands": {"run": ["sh", "check.sh"]}, "policy": {"runEverySeconds": 3600, "timeoutSeconds": 600, "killGraceSeconds": 1}});
    std::fs::write(dir.path().join("c.json"), json!({"version": 1, "tickSeconds": 3600, "jobs": [job]}).to_string()).unwrap();
    let mut child = serve(dir.path(), &[]);
    assert!(eventually(Duration::from_secs(15), || dir.path().join("pids").exists()), "the check started");
    let pids: Vec<i32> = std::fs::read_to_string(dir.path().join("pids")).unwrap().split_whitespace().map(|p| p.parse().unwrap()).collect();
    assert!(pids.iter().all(|p| running(*p)), "{pids:?}");
    assert!(sigterm(&mut child).success());
    // Grace 1 s, plus slack.
    assert!(eventually(Duration::from_secs(4), || pids.iter().all(|p| !running(*p))), "the check outlived serve's clean stop: {pids:?}");
}

/// systemd is fed every half WatchdogSec, as its documentation advises, not at every check.
#[test]
fn watchdog_is_fed_every_half_watchdogsec_not_every_second() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("notify.sock");
    let notify = Notify::bind(&sock);
    std::fs::write(dir.path().join("c.json"), json!({"version": 1, "tickSeconds": 1, "jobs": []}).to_string()).unwrap();
    let mut child = serve(dir.path(), &[("NOTIFY_SOCKET", &sock), ("WATCHDOG_USEC", Path::new("4000000"))]);
    assert!(notify.until(Duration::from_secs(15), |g| g.iter().any(|l| l == "READY=1")), "{:?}", notify.lines());
    let first = notify.watchdogs();
    assert!(notify.until(Duration::from_secs(10), |_| notify.watchdogs() >= first + 3), "fed: {:?}", notify.lines());
    let t0 = std::time::Instant::now();
    let at = notify.watchdogs();
    assert!(notify.until(Duration::from_secs(20), |_| notify.watchdogs() >= at + 4), "fed: {:?}", notify.lines());
    // 4 feeds at one per 2 s take about 8 s (at one a second they took 4).
    assert!(t0.elapsed() >= Duration::from_secs(6), "4 WATCHDOG=1 in {:?}", t0.elapsed());
    assert!(sigterm(&mut child).success());
}
