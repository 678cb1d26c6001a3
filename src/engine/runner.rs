//! Runs one command: argv only, own process group, stdin closed, bounded output, timeout that
//! kills the whole group (SIGTERM, the job's kill grace, SIGKILL), scrubbed environment; a run
//! dropped before its command ended ends the group the same way.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

pub use crate::policy::outcome::{Life, Outcome};

/// Bytes of stdout and of stderr kept (the tail).
pub const CAPTURE_BYTES: usize = 64 * 1024;
/// How long pipes are drained after the leader exited (background children may hold them).
const DRAIN: Duration = Duration::from_millis(500);

/// What to run.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The argv (no shell).
    pub argv: Vec<String>,
    /// Working directory.
    pub cwd: PathBuf,
    /// Extra environment (OPS_JOB_ID and friends).
    pub env: Vec<(String, String)>,
    /// Kill the group after this long.
    pub timeout: Duration,
    /// Time between SIGTERM and SIGKILL of a timed-out group (`policy.killGraceSeconds`).
    pub kill_grace: Duration,
    /// End what the command left running in its group when it exits (a check or a status
    /// command; not a `start`, whose worker is meant to live on).
    pub reap: bool,
}

/// Keeps the last `cap` bytes written, counting all of them.
#[derive(Default)]
struct Tail {
    buf: Vec<u8>,
    total: u64,
}

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        self.total += chunk.len() as u64;
        self.buf.extend_from_slice(chunk);
        if self.buf.len() > 2 * CAPTURE_BYTES {
            let cut = self.buf.len() - CAPTURE_BYTES;
            self.buf.drain(..cut);
        }
    }
    /// The kept tail as text, the bot token masked (also a piece of it where the cut fell).
    fn text(&self) -> String {
        let start = self.buf.len().saturating_sub(CAPTURE_BYTES);
        super::secrets::mask_tail(&String::from_utf8_lossy(&self.buf[start..]))
    }
}

async fn pump<R: AsyncRead + Unpin>(mut r: R, tail: Arc<Mutex<Tail>>) {
    let mut chunk = vec![0u8; 16 * 1024];
    while let Ok(n) = r.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        tail.lock().expect("tail lock").push(&chunk[..n]);
    }
}

fn command(spec: &Spec) -> Command {
    let mut c = Command::new(&spec.argv[0]);
    c.args(&spec.argv[1..]).current_dir(&spec.cwd).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c.process_group(0).kill_on_drop(false);
    for (k, v) in std::env::vars_os() {
        let name = k.to_string_lossy();
        let value = v.to_string_lossy();
        if name.starts_with("TELEGRAM_") || super::secrets::held_in(&value) {
            c.env_remove(&k);
        }
    }
    c.envs(spec.env.iter().map(|(k, v)| (k, v)));
    c
}

/// Runs the command to completion or timeout; never panics on bad input.
pub async fn run(spec: &Spec) -> Outcome {
    let t0 = Instant::now();
    let mut out = Outcome::default();
    if spec.argv.is_empty() {
        return Outcome::not_started("empty argv");
    }
    if !spec.cwd.is_dir() {
        return Outcome::not_started(format!("working directory {} does not exist", spec.cwd.display()));
    }
    let mut child = match command(spec).spawn() {
        Ok(c) => c,
        Err(e) => return Outcome::not_started(format!("{}: {e}", spec.argv[0])),
    };
    let Some(pid) = child.id() else {
        return Outcome::not_started(format!("{}: exited before its pid was known", spec.argv[0]));
    };
    out.life = Life::Running { pid };
    let mut guard = DropGuard { pgid: pid as i32, grace: spec.kill_grace, armed: true };
    let (so, se) = (Arc::new(Mutex::new(Tail::default())), Arc::new(Mutex::new(Tail::default())));
    let pumps = [tokio::spawn(pump(child.stdout.take().expect("piped"), so.clone())), tokio::spawn(pump(child.stderr.take().expect("piped"), se.clone()))];
    out.life = tokio::select! {
        s = child.wait() => match s {
            Ok(s) => {
                if spec.reap && group_alive(pid as i32) {
                    // Left behind by a check or a status command: one orphan per run otherwise.
                    kill_group(pid as i32, &mut child, spec.kill_grace).await;
                }
                Life::ended(s)
            }
            // A wait on our own child fails only if the OS lost it; the group is then ended
            // the same way as on timeout, and SIGKILL is what ended it.
            Err(_) => {
                kill_group(pid as i32, &mut child, spec.kill_grace).await;
                Life::Signalled(Signal::KILL.as_raw())
            }
        },
        _ = tokio::time::sleep(spec.timeout) => {
            kill_group(pid as i32, &mut child, spec.kill_grace).await;
            Life::TimedOut
        }
    };
    // The leader ended (or its group was ended): what it left running on purpose (a started
    // job's worker) lives on.
    guard.armed = false;
    drain(pumps).await;
    out.duration_ms = t0.elapsed().as_millis() as u64;
    let (so, se) = (so.lock().expect("tail"), se.lock().expect("tail"));
    // Job output is masked here (Tail::text), before anything stores, sends or logs it.
    out.stdout = so.text();
    out.stdout_bytes = so.total;
    out.stderr = se.text();
    out
}

/// Ends the command's process group when `run` is dropped before the command ended (the
/// daemon shutting down, a job's schedule restarted by a config change): SIGTERM at once and
/// SIGKILL after the kill grace, from a plain thread since the runtime may be going away.
struct DropGuard {
    pgid: i32,
    grace: Duration,
    armed: bool,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if !self.armed || !signal_group(self.pgid, Signal::TERM) {
            return;
        }
        let (pgid, grace) = (self.pgid, self.grace);
        *ENDING.0.lock().expect("ending lock") += 1;
        std::thread::spawn(move || {
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline && group_alive(pgid) {
                std::thread::sleep(Duration::from_millis(25));
            }
            signal_group(pgid, Signal::KILL);
            *ENDING.0.lock().expect("ending lock") -= 1;
            ENDING.1.notify_all();
        });
    }
}

/// Groups whose run was dropped and that are being ended (SIGTERM sent, SIGKILL after the grace).
static ENDING: (Mutex<usize>, std::sync::Condvar) = (Mutex::new(0), std::sync::Condvar::new());

/// Waits (at most `within`) until every group being ended by a dropped run got its SIGKILL or
/// emptied: called when the process exits (after the runtime dropped its tasks), so a command in
/// flight at a clean stop does not outlive it for want of the SIGKILL after its grace.
pub fn await_ending_groups(within: Duration) -> bool {
    let n = ENDING.0.lock().expect("ending lock");
    let (n, _) = ENDING.1.wait_timeout_while(n, within, |n| *n > 0).expect("ending lock");
    *n == 0
}

async fn drain(pumps: [tokio::task::JoinHandle<()>; 2]) {
    let deadline = tokio::time::Instant::now() + DRAIN;
    for p in pumps {
        let abort = p.abort_handle();
        if tokio::time::timeout_at(deadline, p).await.is_err() {
            abort.abort();
        }
    }
}

/// SIGTERM to the group, wait up to `grace` for it to empty, then SIGKILL; reaps the leader.
async fn kill_group(pgid: i32, child: &mut tokio::process::Child, grace: Duration) {
    signal_group(pgid, Signal::TERM);
    let deadline = Instant::now() + grace;
    let mut reaped = false;
    while Instant::now() < deadline {
        reaped = reaped || child.try_wait().ok().flatten().is_some();
        if reaped && !group_alive(pgid) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    signal_group(pgid, Signal::KILL);
    if !reaped {
        let _ = child.wait().await;
    }
}

use rustix::process::Pid;
/// Signals for [`signal_group`] (rustix's safe wrapper of the kernel's numbers).
pub use rustix::process::Signal;

/// Sends `sig` to process group `pgid`; false when no such group (groups 0 and 1 are refused:
/// to the kernel they mean our own group and init's).
pub fn signal_group(pgid: i32, sig: Signal) -> bool {
    pgid > 1 && Pid::from_raw(pgid).is_some_and(|g| rustix::process::kill_process_group(g, sig).is_ok())
}

/// True while any live (not zombie) process of group `pgid` exists. Orphaned zombies count as
/// gone: where PID 1 does not reap (containers), they would otherwise hold every timeout for
/// the whole grace period.
pub fn group_alive(pgid: i32) -> bool {
    let Some(group) = Pid::from_raw(pgid).filter(|_| pgid > 1) else { return false };
    if rustix::process::test_kill_process_group(group).is_err() {
        return false;
    }
    let Ok(all) = procfs::process::all_processes() else { return true };
    all.flatten().filter_map(|p| p.stat().ok()).any(|s| s.pgrp == pgid && !matches!(s.state, 'Z' | 'X'))
}

/// True while process `pid` exists and is not a zombie: a killed job whose parent (often init,
/// for a daemonised worker) has not reaped it yet is gone for the person watching it.
pub fn pid_running(pid: i32) -> bool {
    pid_alive(pid) && procfs::process::Process::new(pid).and_then(|p| p.stat()).map_or(true, |s| !matches!(s.state, 'Z' | 'X'))
}

/// True while process `pid` exists (zombies included; EPERM means it exists under another user).
pub fn pid_alive(pid: i32) -> bool {
    Pid::from_raw(pid).is_some_and(|p| match rustix::process::test_kill_process(p) {
        Ok(()) => true,
        Err(e) => e == rustix::io::Errno::PERM,
    })
}

/// The process group of `pid`, if it exists.
pub fn pgid_of(pid: i32) -> Option<i32> {
    let g = rustix::process::getpgid(Some(Pid::from_raw(pid)?)).ok()?;
    Some(g.as_raw_nonzero().get())
}

/// The per-job checkpoint folder (`OPS_STATE_DIR`), created 0700.
pub fn job_state_dir(state_dir: &Path, job_id: &str) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let safe: String = job_id.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    let dir = state_dir.join("jobs").join(safe);
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_capture_buffer_stays_bounded_however_much_is_written() {
        let mut t = super::Tail::default();
        let chunk: Vec<u8> = (0..16 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
        for _ in 0..640 {
            t.push(&chunk); // 10 MiB in all
            assert!(t.buf.len() <= 2 * super::CAPTURE_BYTES + chunk.len(), "buffer grew to {}", t.buf.len());
        }
        t.push(b"END");
        assert_eq!(t.total, 640 * chunk.len() as u64 + 3);
        let text = t.text();
        assert_eq!(text.len(), super::CAPTURE_BYTES);
        assert!(text.ends_with("END"));
    }
}
