//! The machine's own name, the default `host` of the config: every message of a fleet's bots
//! says which host it comes from.

/// The hostname (`uname` nodename, what `hostname` prints), or "localhost" when it is empty.
pub fn machine_name() -> String {
    let uname = rustix::system::uname();
    let name = uname.nodename().to_string_lossy().trim().to_string();
    if name.is_empty() {
        "localhost".to_string()
    } else {
        name
    }
}

/// The host named by `cfg`, else the machine's (no good config is known).
pub fn of(cfg: Option<&super::Config>) -> String {
    cfg.map_or_else(machine_name, |c| c.host.clone())
}
