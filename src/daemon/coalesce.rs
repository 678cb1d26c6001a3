//! Events that happen close together reach a chat as one message: reports from the per-job
//! schedules are gathered for at most [`WINDOW`] after the first one and delivered together.

use crate::engine::config_watch::ConfigWatch;
use crate::engine::sink::Sink;
use crate::render::Report;
use crate::store::{spool, Store};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// The longest an alert waits for company.
pub const WINDOW: Duration = Duration::from_millis(800);

/// Merges `more` into `into` (sections in arrival order; the later time; the later digest, which
/// covers at least what an earlier one did).
pub fn merge(into: &mut Report, more: Report) {
    into.at = into.at.max(more.at);
    into.sections.extend(more.sections);
    if more.digest.is_some() {
        into.digest = more.digest;
    }
}

/// Delivers reports until every sender is gone, each batch rendered with the snapshot in force;
/// once the sink has queued a batch, its spool rows are forgotten (a batch that could not be
/// queued stays spooled and is delivered at the next start).
pub async fn run(mut rx: UnboundedReceiver<(Report, Option<i64>)>, sink: Arc<dyn Sink>, config: Arc<ConfigWatch>, state_db: PathBuf) {
    while let Some((mut batch, first)) = rx.recv().await {
        let mut spooled: Vec<i64> = first.into_iter().collect();
        let deadline = tokio::time::Instant::now() + WINDOW;
        loop {
            tokio::select! {
                more = rx.recv() => match more {
                    Some((r, id)) => {
                        merge(&mut batch, r);
                        spooled.extend(id);
                    }
                    None => break,
                },
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        if batch.is_empty() {
            continue;
        }
        let cfg = config.config();
        let (sink, db) = (sink.clone(), state_db.clone());
        let delivered = tokio::task::spawn_blocking(move || {
            sink.report(&batch, cfg.as_deref())?;
            spool::remove(&mut Store::open(&db)?, &spooled)
        })
        .await;
        match delivered {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), "could not deliver report (it stays spooled for the next start)"),
            Err(e) => tracing::error!(error = %e, "report delivery panicked"),
        }
    }
}
