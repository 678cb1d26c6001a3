//! Which process owns an in-flight row (run, queue item, approval): "pid:starttime", so the
//! daemon's repair pass after a crash only touches work whose process is really gone, not a
//! `run` or `approve` the CLI is still executing, and pid reuse cannot fool it.

use std::sync::OnceLock;

/// This process's owner token.
pub fn token() -> &'static str {
    static T: OnceLock<String> = OnceLock::new();
    T.get_or_init(|| {
        let pid = std::process::id() as i32;
        format!("{pid}:{}", start_time(pid).unwrap_or(0))
    })
}

/// True while the process named by `token` still runs (same pid and same start time, not a zombie).
pub fn alive(token: Option<&str>) -> bool {
    let Some((pid, start)) = token.and_then(|t| t.split_once(':')) else { return false };
    let (Ok(pid), Ok(start)) = (pid.parse::<i32>(), start.parse::<u64>()) else { return false };
    start_time(pid) == Some(start)
}

/// The start time of `pid` (clock ticks after boot, procfs's `stat.starttime`); None when gone
/// or a zombie.
fn start_time(pid: i32) -> Option<u64> {
    let stat = procfs::process::Process::new(pid).ok()?.stat().ok()?;
    (!matches!(stat.state, 'Z' | 'X')).then_some(stat.starttime)
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_is_alive_and_a_dead_or_forged_owner_is_not() {
        assert!(super::alive(Some(super::token())));
        let (pid, start) = super::token().split_once(':').unwrap();
        assert!(!super::alive(Some(&format!("{pid}:{}", start.parse::<u64>().unwrap() + 1))), "pid reuse: other start time");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = format!("{}:{}", child.id(), 0);
        child.wait().unwrap();
        assert!(!super::alive(Some(&dead)));
        assert!(!super::alive(None));
        assert!(!super::alive(Some("garbage")));
    }
}
