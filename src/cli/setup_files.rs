//! The files `setup` writes: the bot token (0600, in a 0700 folder of its own next to the config)
//! and a starter config (the person allowed and approving, this host, the machine's timezone,
//! example jobs disabled). Both are written atomically (a temporary file renamed into place), and
//! the config is validated by the real loader before it is written.

use super::setup_wait::Person;
use super::Exit;
use crate::chat::token::Token;
use crate::engine::paths::Paths;
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The token file, relative to the config's folder (as `telegram.tokenFile` names it).
pub const TOKEN_FILE: &str = "secrets/telegram-bot-token";

/// Where `setup` wrote.
#[derive(Debug)]
pub struct Written {
    /// The config file.
    pub config: PathBuf,
    /// The token file.
    pub token: PathBuf,
}

/// Writes the token file and the starter config (an existing config is kept as `.bak` when
/// `force` let setup replace it).
pub fn write(paths: &Paths, token: &Token, person: &Person, api_url: Option<&str>, force: bool) -> Result<Written> {
    let dir = paths.config.parent().context("the config path has no folder")?.to_path_buf();
    let text = serde_json::to_string_pretty(&starter(person, api_url))? + "\n";
    // The loader checks it as every command will: a starter that does not validate is a bug here.
    crate::config::parse(&text, &paths.config, &paths.home).map_err(|e| anyhow::anyhow!("the starter config does not validate (a bug): {e}"))?;
    std::fs::create_dir_all(&dir).map_err(|e| Exit::usage(format!("cannot create {}: {e} (choose another place with --config-file)", dir.display())))?;
    let token_path = dir.join(TOKEN_FILE);
    private_dir(token_path.parent().context("token folder")?)?;
    atomic_write(&token_path, format!("{}\n", token.expose()).as_bytes(), 0o600)?;
    if force && paths.config.exists() {
        let bak = paths.config.with_extension("json.bak");
        std::fs::copy(&paths.config, &bak).with_context(|| format!("keep the old config as {}", bak.display()))?;
        say!("Kept the old config as {}", bak.display());
    }
    atomic_write(&paths.config, text.as_bytes(), 0o644)?;
    Ok(Written { config: paths.config.clone(), token: token_path })
}

/// The starter config: everything a person would otherwise look up, spelled out.
fn starter(p: &Person, api_url: Option<&str>) -> Value {
    let mut telegram = json!({"allowedChatIds": [p.chat_id], "tokenFile": TOKEN_FILE});
    if p.chat_id > 0 {
        telegram["approverUserIds"] = json!([p.chat_id]);
    }
    if let Some(u) = api_url {
        telegram["apiUrl"] = json!(u);
    }
    json!({
        "version": 1,
        "host": crate::config::host::machine_name(),
        "timezone": machine_timezone(),
        "locale": p.lang.code(),
        "tickSeconds": 60,
        "telegram": telegram,
        "defaults": {"quietHours": {"start": "23:00", "end": "08:00"}, "reportEverySeconds": 1800, "stallSeconds": 3600},
        "jobs": [
            {"id": "disk-space", "name": "Disk space", "kind": "one_shot_read", "risk": "read_only", "enabled": false,
             "commands": {"run": ["df", "-P", "/"]}, "policy": {"runEverySeconds": 3600}},
            {"id": "my-scan", "name": "My long job", "kind": "long_running_read", "risk": "read_only", "enabled": false,
             "cwd": "~/ops-jobs", "commands": {"start": ["sh", "scan.sh", "start"], "status": ["sh", "scan.sh", "status"], "stop": ["sh", "scan.sh", "stop"]},
             "policy": {"autoResume": true}}
        ]
    })
}

/// The machine's IANA timezone: `TZ`, else /etc/timezone, else where /etc/localtime points;
/// UTC when none of them names a zone chrono-tz knows.
pub fn machine_timezone() -> String {
    let from_link = || std::fs::read_link("/etc/localtime").ok().and_then(|l| l.to_str().and_then(|s| s.split_once("zoneinfo/")).map(|(_, z)| z.to_string()));
    let candidates = [std::env::var("TZ").ok().map(|t| t.trim_start_matches(':').to_string()), std::fs::read_to_string("/etc/timezone").ok(), from_link()];
    candidates.into_iter().flatten().map(|z| z.trim().to_string()).find(|z| z.parse::<chrono_tz::Tz>().is_ok()).unwrap_or_else(|| "UTC".to_string())
}

/// Creates `dir` with mode 0700, or narrows an existing one to 0700.
fn private_dir(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).with_context(|| format!("create {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).with_context(|| format!("chmod 700 {}", dir.display()))
}

/// Writes `bytes` to a temporary file beside `path` (created 0600, so a secret is never readable
/// by others, not even for a moment), sets `mode`, syncs and renames it over `path`.
fn atomic_write(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().context("no folder")?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| anyhow::anyhow!("write {}: {}", path.display(), e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_machine_timezone_is_a_zone_chrono_tz_knows() {
        assert!(super::machine_timezone().parse::<chrono_tz::Tz>().is_ok());
    }
}
