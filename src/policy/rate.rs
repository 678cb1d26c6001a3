//! Rate and ETA from a job's measured progress history: pure, so the policy is tested with tables.
//!
//! The rate is the least-squares slope over the recent window (smoothing out uneven polls and
//! bursty jobs); it is called unstable when the window's two halves disagree, and no ETA is
//! given then, nor when the rate is unknown or zero: the reader is told "ETA unknown" rather
//! than a guess.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Samples older than this (before the newest) do not count towards the rate.
pub const WINDOW_SECONDS: i64 = 900;
/// Fewest samples, and shortest span, a rate is computed from.
pub const MIN_SAMPLES: usize = 3;
/// Shortest span (seconds) a rate is computed from.
pub const MIN_SPAN_SECONDS: i64 = 2;
/// The window's halves may differ in rate by at most this factor before the rate is unstable.
pub const MAX_HALF_RATIO: f64 = 3.0;

/// One measured point of a job's progress.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Unix seconds of the poll.
    pub at: i64,
    /// Units done (or percent, for percent-only jobs).
    pub done: f64,
    /// Units in all, when known (100 for percent-only jobs).
    pub total: Option<f64>,
    /// True when the job reports only `percent`.
    pub percent: bool,
}

impl Sample {
    /// The sample a status's `progress` object gives at `at`: `done` (with `total`) or `percent`.
    pub fn from_progress(p: &Map<String, Value>, at: i64) -> Option<Sample> {
        let num = |k: &str| p.get(k).and_then(Value::as_f64).filter(|v| v.is_finite());
        match (num("done"), num("percent")) {
            (Some(done), _) => Some(Sample { at, done, total: num("total").filter(|t| *t > 0.0), percent: false }),
            (None, Some(pc)) => Some(Sample { at, done: pc, total: Some(100.0), percent: true }),
            _ => None,
        }
    }
}

/// Why no ETA is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoEta {
    /// Too few samples (or too short a span) since the job started or last went backwards.
    Unknown,
    /// Nothing moved in the window.
    Zero,
    /// The recent rate differs too much from the earlier one.
    Unstable,
    /// The job has no total to reach.
    NoTotal,
}

/// A job's smoothed rate and, when it can be trusted, its ETA.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    /// Units (or percent points) per second; None when unknown.
    pub per_second: Option<f64>,
    /// True when the figures are percent.
    pub percent: bool,
    /// Unix seconds when the job should be done.
    pub eta_at: Option<i64>,
    /// Seconds left from the newest sample.
    pub eta_seconds: Option<i64>,
    /// Why there is no ETA.
    pub no_eta: Option<NoEta>,
}

/// Least-squares slope of done over time (units per second); None without spread in time.
fn slope(s: &[Sample]) -> Option<f64> {
    let n = s.len() as f64;
    let t0 = s.first()?.at;
    let mx = s.iter().map(|x| (x.at - t0) as f64).sum::<f64>() / n;
    let my = s.iter().map(|x| x.done).sum::<f64>() / n;
    let sxx: f64 = s.iter().map(|x| ((x.at - t0) as f64 - mx).powi(2)).sum();
    let sxy: f64 = s.iter().map(|x| ((x.at - t0) as f64 - mx) * (x.done - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The samples the rate is computed from: the newest run of the same kind that never went
/// backwards (a restarted job starts a new run), within [`WINDOW_SECONDS`] of the newest.
fn recent(samples: &[Sample]) -> &[Sample] {
    let Some(last) = samples.last() else { return samples };
    let mut start = samples.len() - 1;
    while start > 0 {
        let (a, b) = (samples[start - 1], samples[start]);
        if a.percent != b.percent || a.done > b.done || last.at - a.at > WINDOW_SECONDS {
            break;
        }
        start -= 1;
    }
    &samples[start..]
}

/// Rate and ETA from samples in time order (oldest first).
pub fn estimate(samples: &[Sample]) -> Estimate {
    let percent = samples.last().is_some_and(|s| s.percent);
    let unknown = Estimate { per_second: None, percent, eta_at: None, eta_seconds: None, no_eta: Some(NoEta::Unknown) };
    let w = recent(samples);
    let (Some(first), Some(last)) = (w.first(), w.last()) else { return unknown };
    if w.len() < MIN_SAMPLES || last.at - first.at < MIN_SPAN_SECONDS {
        return unknown;
    }
    let Some(rate) = slope(w) else { return unknown };
    let rate = rate.max(0.0);
    let mut e = Estimate { per_second: Some(rate), ..unknown };
    if rate <= f64::EPSILON {
        e.no_eta = Some(NoEta::Zero);
        return e;
    }
    let mid = w.len() / 2;
    let halves = (slope(&w[..=mid]), slope(&w[mid..]));
    let stable = match halves {
        (Some(a), Some(b)) if a > 0.0 && b > 0.0 => a.max(b) / a.min(b) <= MAX_HALF_RATIO,
        (Some(_), Some(_)) => false,
        _ => true,
    };
    if !stable {
        e.no_eta = Some(NoEta::Unstable);
        return e;
    }
    let Some(total) = last.total else {
        e.no_eta = Some(NoEta::NoTotal);
        return e;
    };
    let left = ((total - last.done).max(0.0) / rate).round() as i64;
    e.no_eta = None;
    e.eta_seconds = Some(left);
    e.eta_at = Some(last.at + left);
    e
}

/// A rate as a number and its time unit ("s", "min", "h"): per minute for most jobs, per second
/// when fast, per hour when slow; percent-only jobs always per hour.
pub fn rate_parts(per_second: f64, percent: bool) -> (f64, &'static str) {
    if percent {
        (per_second * 3600.0, "h")
    } else if per_second >= 10.0 {
        (per_second, "s")
    } else if per_second * 60.0 >= 1.0 {
        (per_second * 60.0, "min")
    } else {
        (per_second * 3600.0, "h")
    }
}

/// The rate over time for a chart: the history cut into `buckets` equal spans, each span's rate
/// (per second) at its end; spans where the job went backwards (a restart) are left out.
pub fn rate_series(samples: &[Sample], buckets: usize) -> Vec<(i64, f64)> {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else { return Vec::new() };
    let span = ((last.at - first.at) as f64 / buckets.max(1) as f64).max(1.0);
    let mut out = Vec::new();
    let mut start = *first;
    for s in samples.iter().skip(1) {
        if s.done < start.done {
            start = *s;
            continue;
        }
        if (s.at - start.at) as f64 >= span || s.at == last.at {
            if s.at > start.at {
                out.push((s.at, (s.done - start.done) / (s.at - start.at) as f64));
            }
            start = *s;
        }
    }
    out
}

/// A figure for people: no decimals from 100 up, one below.
pub fn figure(x: f64) -> String {
    if x.abs() >= 100.0 || x.fract() == 0.0 {
        format!("{}", x.round() as i64)
    } else {
        format!("{x:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(points: &[(i64, f64)], total: f64) -> Vec<Sample> {
        points.iter().map(|&(at, done)| Sample { at, done, total: Some(total), percent: false }).collect()
    }

    #[test]
    fn table_of_histories() {
        let steady: Vec<(i64, f64)> = (0..10).map(|i| (1000 + i * 30, i as f64 * 6.0)).collect();
        type Case = (&'static str, Vec<Sample>, Option<f64>, Option<i64>, Option<NoEta>);
        let cases: Vec<Case> = vec![
            ("empty", vec![], None, None, Some(NoEta::Unknown)),
            ("two samples", units(&[(0, 0.0), (30, 5.0)], 100.0), None, None, Some(NoEta::Unknown)),
            ("one per second", units(&[(0, 0.0), (1, 1.0), (2, 2.0), (3, 3.0)], 3000.0), Some(1.0), Some(3 + 2997), None),
            ("steady, 0.2/s", units(&steady, 3000.0), Some(0.2), Some(16000), None),
            ("no movement", units(&[(0, 5.0), (30, 5.0), (60, 5.0)], 10.0), Some(0.0), None, Some(NoEta::Zero)),
            (
                "stalled then fast",
                units(&[(0, 0.0), (30, 0.0), (60, 0.0), (90, 50.0), (120, 100.0)], 1000.0),
                Some(7500.0 / 9000.0),
                None,
                Some(NoEta::Unstable),
            ),
            ("restart uses the new run", units(&[(0, 50.0), (30, 80.0), (60, 0.0), (61, 1.0), (62, 2.0)], 10.0), Some(1.0), Some(62 + 8), None),
            ("old samples leave the window", units(&[(0, 0.0), (10, 900.0), (1000, 900.0), (1001, 901.0), (1002, 902.0)], 1000.0), Some(1.0), Some(1100), None),
        ];
        for (name, s, rate, eta, why) in cases {
            let e = estimate(&s);
            match (rate, e.per_second) {
                (Some(want), Some(got)) => assert!((want - got).abs() < 1e-9, "{name}: rate {got}"),
                (None, None) => {}
                (want, got) => panic!("{name}: rate {got:?}, want {want:?}"),
            }
            assert_eq!(e.eta_at, eta, "{name}");
            assert_eq!(e.no_eta, why, "{name}");
        }
    }

    #[test]
    fn done_without_total_has_a_rate_but_no_eta() {
        let s: Vec<Sample> = (0..4).map(|i| Sample { at: i, done: i as f64 * 2.0, total: None, percent: false }).collect();
        let e = estimate(&s);
        assert_eq!((e.per_second, e.no_eta), (Some(2.0), Some(NoEta::NoTotal)));
    }

    #[test]
    fn percent_only_jobs_are_per_hour() {
        let p: Map<String, Value> = serde_json::from_str(r#"{"percent":40}"#).unwrap();
        let s = Sample::from_progress(&p, 7).unwrap();
        assert_eq!((s.done, s.total, s.percent), (40.0, Some(100.0), true));
        let (v, per) = rate_parts(0.001, true);
        assert_eq!((figure(v), per), ("3.6".to_string(), "h"));
    }

    #[test]
    fn rate_series_per_bucket_skips_restarts() {
        let s = units(&[(0, 0.0), (10, 10.0), (20, 30.0), (30, 0.0), (40, 5.0)], 100.0);
        assert_eq!(rate_series(&s, 4), vec![(10, 1.0), (20, 2.0), (40, 0.5)]);
        assert!(rate_series(&[], 4).is_empty());
    }

    #[test]
    fn rate_units_and_figures() {
        for (ps, want, per) in [(1.0, "60", "min"), (0.2066, "12.4", "min"), (25.0, "25", "s"), (0.001, "3.6", "h"), (5.0, "300", "min")] {
            let (v, p) = rate_parts(ps, false);
            assert_eq!((figure(v).as_str(), p), (want, per), "{ps}");
        }
    }
}
