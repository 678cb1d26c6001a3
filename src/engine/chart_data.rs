//! Gathers what `/chart` and `ops-monitor chart` draw: the job's stored progress history of the
//! last 24 h (or since it started), its runs as marks, its unit and rate from a fresh status.

use super::jobs;
use super::paths::Paths;
use crate::chart::{ChartData, Mark};
use crate::config::{Job, Kind};
use crate::i18n::Lang;
use crate::policy::rate::{self, Sample};
use crate::store::Store;
use crate::t;
use anyhow::Result;
use chrono_tz::Tz;
use serde_json::Value;

/// How far back a chart looks.
pub const CHART_SECONDS: i64 = 24 * 3600;

/// A chart ready to send: PNG bytes and a caption with the figures.
pub struct Chart {
    /// The image.
    pub png: Vec<u8>,
    /// Caption in the reader's language.
    pub caption: String,
}

/// The chart of `job` now, or None when it has no progress history (yet) — or is not a long job.
pub async fn for_job(paths: &Paths, job: &Job, tz: Tz, lang: Lang) -> Result<Option<Chart>> {
    if job.kind != Kind::LongRunningRead {
        return Ok(None);
    }
    let now = chrono::Utc::now().timestamp();
    let status = jobs::observe(job, paths).await.ok();
    let store = Store::open(&paths.state_db)?;
    let mut samples = crate::store::progress::history(&store, &job.id, now - CHART_SECONDS)?;
    if let Some(cur) = status.as_ref().and_then(|s| s.progress.as_ref()).and_then(|p| Sample::from_progress(p, now)) {
        samples.retain(|s| s.at < cur.at);
        samples.push(cur);
    }
    if samples.len() < 2 {
        return Ok(None);
    }
    let unit = status.as_ref().and_then(|s| s.progress.as_ref()).and_then(|p| p.get("unit")).and_then(Value::as_str).unwrap_or("").to_string();
    let percent = samples.last().is_some_and(|s| s.percent);
    let estimate = status.as_ref().filter(|s| s.running && !s.completed).map(|_| rate::estimate(&samples));
    let first = samples[0].at;
    let marks = store
        .runs(&job.id, crate::store::RUNS_KEPT_PER_JOB)?
        .into_iter()
        .filter(|r| r.started_at >= first)
        .filter_map(|r| {
            let label = match r.action.as_str() {
                "start" => "start",
                "autoresume" => "resume",
                "stop" => "stop",
                _ => return None,
            };
            Some(Mark { at: r.started_at, label: label.into() })
        })
        .collect();
    let last = *samples.last().expect("two samples");
    let data =
        ChartData { title: crate::chart::title(&job.name, &job.id), unit: if percent { "%".into() } else { unit.clone() }, samples, estimate, marks, tz };
    let png = tokio::task::spawn_blocking(move || crate::chart::render_png(&data)).await??;
    let since = chrono::DateTime::from_timestamp(first, 0).unwrap_or_default().with_timezone(&tz).format("%m-%d %H:%M %Z").to_string();
    let figures = crate::render::sample_line(&last, estimate.as_ref(), &unit, tz, lang);
    let caption = format!("{}\n{figures}", t!(lang, "chart-caption", name = &job.name, id = &job.id, since = since));
    Ok(Some(Chart { png, caption }))
}
