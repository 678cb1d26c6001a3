//! Where reports go: the console or the Telegram outbox. The daemon wires a sink; transports
//! implement it, so the bot never reaches back into the daemon.

use crate::config::Config;
use crate::render::Report;
use anyhow::Result;

/// Delivers (or durably queues) one report.
pub trait Sink: Send + Sync {
    /// Delivers (or durably queues) `report`, rendered with `cfg`'s locale and timezone.
    fn report(&self, report: &Report, cfg: Option<&Config>) -> Result<()>;
}

/// Prints reports to stdout (no Telegram token).
pub struct ConsoleSink;

impl Sink for ConsoleSink {
    fn report(&self, report: &Report, cfg: Option<&Config>) -> Result<()> {
        use std::io::Write;
        let tz = cfg.map_or(chrono_tz::UTC, |c| c.timezone);
        let lang = cfg.map_or(Default::default(), |c| c.locale);
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}\n", crate::render::report_text(report, &crate::config::host::of(cfg), tz, lang))?;
        out.flush()?;
        Ok(())
    }
}
