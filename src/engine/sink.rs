//! Where reports go: the console or the Telegram outbox. The daemon wires a sink; transports
//! implement it, so the bot never reaches back into the daemon.

use crate::config::Config;
use crate::render::Report;
use crate::store::{quiet_held, Store};
use anyhow::Result;
use std::path::PathBuf;

/// Delivers (or durably queues) one report.
pub trait Sink: Send + Sync {
    /// Delivers (or durably queues) `report`, rendered with `cfg`'s locale and timezone; its
    /// digest, if any, is delivered once and the rows it covers are then forgotten.
    fn report(&self, report: &Report, cfg: Option<&Config>) -> Result<()>;
}

/// Prints reports to stdout (no Telegram token).
pub struct ConsoleSink {
    /// The state store (the digest's rows are forgotten there once it is printed).
    pub state_db: PathBuf,
}

impl Sink for ConsoleSink {
    fn report(&self, report: &Report, cfg: Option<&Config>) -> Result<()> {
        use std::io::Write;
        let tz = cfg.map_or(chrono_tz::UTC, |c| c.timezone);
        let lang = cfg.map_or(Default::default(), |c| c.locale);
        let host = crate::config::host::of(cfg);
        if !report.sections.is_empty() {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}\n", crate::render::report_text(report, &host, tz, lang))?;
            out.flush()?;
        }
        if let Some(d) = &report.digest {
            quiet_held::deliver(&mut Store::open(&self.state_db)?, &d.rows, d.until, &d.job_ids(), |_| {
                if d.is_empty() {
                    return Ok(());
                }
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}\n", crate::render::digest_text::digest_text(d, &host, tz, lang))?;
                Ok(out.flush()?)
            })?;
        }
        Ok(())
    }
}
