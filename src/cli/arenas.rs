//! `serve`'s heap under glibc: each thread that allocates while another does gets a malloc arena
//! of its own (up to 8 per core), and what is freed in an arena stays with it. With the runtime's
//! 20 threads the daemon's heap grew from 13 to 22 MB in its first 25 minutes (200 jobs) while
//! what it held was under 5 MB; with two arenas it stays at 8–10 MB. The arena limit can only be
//! set before the process starts (`MALLOC_ARENA_MAX`; `mallopt` would need `unsafe`), so `serve`
//! sets it and executes itself again, once, before anything else runs.

use std::os::unix::process::CommandExt;

/// The variable glibc reads at start, and the value `serve` runs with unless it is set already.
pub const VAR: &str = "MALLOC_ARENA_MAX";
/// Two arenas: the heap stays flat, and allocation is no bottleneck for a daemon that mostly waits.
pub const ARENAS: &str = "2";

/// Set beside [`VAR`] by the exec: the limit is serve's own, not to be passed on to jobs.
const MARK: &str = "OPS_MONITOR_SET_ARENAS";

/// Replaces this process by itself with [`VAR`] set, when it is not set yet (any value the user
/// set is kept, and passed on to jobs). Returns only when it is set already or the exec failed
/// (then serve runs as it is). Runs while the process has one thread.
pub fn limit() {
    if std::env::var_os(MARK).is_some() {
        // glibc read it at start; the jobs serve starts get the environment they would have had.
        std::env::remove_var(VAR);
        std::env::remove_var(MARK);
        return;
    }
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let err = std::process::Command::new(exe).args(std::env::args_os().skip(1)).env(VAR, ARENAS).env(MARK, "1").exec();
    eprintln!("WARNING: could not restart with {VAR}={ARENAS} ({err}); serving with glibc's default arenas");
}
