//! The chart's geometry as pure functions, so what a reader must be able to read is tested without
//! looking at pixels: time ticks whose labels are all different, marks that sit on the progress
//! line, and mark labels that stay inside the plot without covering each other.

use crate::policy::rate::Sample;
use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;

/// Tick steps in seconds, smallest first: each is a round figure on a clock.
const STEPS: &[i64] = &[1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400];

/// The time axis' ticks: at most `max` round local times in `x0..=x1`, and the `strftime` format
/// that tells every one of them apart (seconds for sub-minute steps, the date once the span
/// reaches a day).
pub fn time_ticks(x0: i64, x1: i64, tz: Tz, max: usize) -> (Vec<i64>, &'static str) {
    let offset = i64::from(tz.offset_from_utc_datetime(&DateTime::from_timestamp(x0, 0).unwrap_or_default().naive_utc()).fix().local_minus_utc());
    let ticks_for = |step: i64| -> Vec<i64> {
        let first = (x0 + offset).div_euclid(step) * step - offset;
        let first = if first < x0 { first + step } else { first };
        (0..).map(|i| first + i * step).take_while(|t| *t <= x1).collect()
    };
    let step = STEPS.iter().copied().find(|s| ticks_for(*s).len() <= max.max(1)).unwrap_or(86_400 * ((x1 - x0) / 86_400 / max.max(1) as i64 + 1));
    let format = match step {
        _ if x1 - x0 >= 86_400 - step => "%m-%d %H:%M",
        s if s < 60 => "%H:%M:%S",
        _ => "%H:%M",
    };
    (ticks_for(step), format)
}

/// Where a mark at `at` sits on the progress line: interpolated between the samples around it (the
/// line is drawn straight between them), the first or last sample's figure outside them.
pub fn mark_y(samples: &[Sample], at: i64) -> f64 {
    let after = samples.partition_point(|s| s.at <= at);
    match (after.checked_sub(1).map(|i| &samples[i]), samples.get(after)) {
        (Some(a), Some(b)) if b.at > a.at => a.done + (b.done - a.done) * (at - a.at) as f64 / (b.at - a.at) as f64,
        (Some(a), _) => a.done,
        (None, Some(b)) => b.done,
        (None, None) => 0.0,
    }
}

/// A rectangle in pixels: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width.
    pub w: i32,
    /// Height.
    pub h: i32,
}

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }

    /// True when `self` lies wholly inside `o`.
    pub fn inside(&self, o: &Rect) -> bool {
        self.x >= o.x && self.y >= o.y && self.x + self.w <= o.x + o.w && self.y + self.h <= o.y + o.h
    }
}

/// Pixels between a mark and its label, and between stacked labels.
const GAP: i32 = 4;

/// The top-left corner of each mark's label (`sizes` in pixels) near its mark at `anchors`, inside
/// `plot`: to the right of the mark, or to its left where the plot's edge would cut it; above it,
/// or stacked further up (then below) where it would cover a label placed before.
pub fn place_labels(anchors: &[(i32, i32)], sizes: &[(i32, i32)], plot: Rect) -> Vec<(i32, i32)> {
    let mut placed: Vec<Rect> = Vec::new();
    for (&(ax, ay), &(w, h)) in anchors.iter().zip(sizes) {
        let x = if ax + GAP + w <= plot.x + plot.w { ax + GAP } else { ax - GAP - w };
        let x = x.clamp(plot.x, (plot.x + plot.w - w).max(plot.x));
        let above = (0..).map(|k| ay - GAP - h - k * (h + GAP)).take_while(|y| *y >= plot.y);
        let below = (0..).map(|k| ay + GAP + k * (h + GAP)).take_while(|y| y + h <= plot.y + plot.h);
        let fits = |y: i32| !placed.iter().any(|r| r.overlaps(&Rect { x, y, w, h }));
        let y = above.chain(below).find(|y| fits(*y)).unwrap_or_else(|| (ay - GAP - h).clamp(plot.y, (plot.y + plot.h - h).max(plot.y)));
        placed.push(Rect { x, y, w, h });
    }
    placed.iter().map(|r| (r.x, r.y)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(x0: i64, x1: i64, tz: Tz) -> Vec<String> {
        let (ticks, fmt) = time_ticks(x0, x1, tz, 8);
        ticks.iter().map(|t| DateTime::from_timestamp(*t, 0).unwrap().with_timezone(&tz).format(fmt).to_string()).collect()
    }

    #[test]
    fn time_labels_are_all_different_from_a_minute_to_two_days() {
        let t0 = 1_764_101_280; // 2025-11-25 20:08 UTC
        for tz in [chrono_tz::UTC, chrono_tz::Europe::Berlin, chrono_tz::Asia::Kolkata] {
            for span in [60, 90, 150, 400, 1000, 3600, 5 * 3600, 86_399, 86_400, 2 * 86_400] {
                let l = labels(t0 + 7, t0 + 7 + span, tz);
                let mut unique = l.clone();
                unique.dedup();
                assert!(l.len() >= 2 && l.len() <= 8, "{span} s in {tz}: {l:?}");
                assert_eq!(unique, l, "{span} s in {tz}: a label repeats");
            }
        }
        assert_eq!(labels(t0, t0 + 90, chrono_tz::Europe::Berlin)[..2], ["21:08:00".to_string(), "21:08:15".to_string()], "round local times");
        assert_eq!(labels(t0, t0 + 6 * 3600, chrono_tz::Asia::Kolkata)[0], "02:00", "a half-hour zone ticks on its own whole hours");
    }

    #[test]
    fn a_mark_sits_on_the_line_between_two_samples() {
        let s = |at: i64, done: f64| Sample { at, done, total: Some(60.0), percent: false };
        let samples = [s(100, 9.0), s(140, 17.0), s(200, 17.0)];
        assert_eq!(mark_y(&samples, 130), 15.0, "interpolated: the line passes there");
        assert_eq!(mark_y(&samples, 140), 17.0);
        assert_eq!(mark_y(&samples, 170), 17.0);
        assert_eq!(mark_y(&samples, 50), 9.0, "before the history: its first figure");
        assert_eq!(mark_y(&samples, 300), 17.0, "after it: the last");
        assert_eq!(mark_y(&[], 1), 0.0);
    }

    #[test]
    fn labels_stay_inside_the_plot_and_never_cover_each_other() {
        let plot = Rect { x: 90, y: 40, w: 900, h: 320 };
        // Two starts a pixel apart, a stop, and a resume at the right edge.
        let anchors = [(100, 350), (101, 350), (500, 200), (989, 120)];
        let sizes = [(34, 16), (34, 16), (30, 16), (52, 16)];
        let at = place_labels(&anchors, &sizes, plot);
        let rects: Vec<Rect> = at.iter().zip(sizes).map(|(&(x, y), (w, h))| Rect { x, y, w, h }).collect();
        for (i, r) in rects.iter().enumerate() {
            assert!(r.inside(&plot), "label {i} leaves the plot: {r:?}");
            for o in &rects[i + 1..] {
                assert!(!r.overlaps(o), "{r:?} covers {o:?}");
            }
        }
        assert_eq!(at[2], (504, 180), "a label with room sits just right of and above its mark");
        assert!(rects[3].x + rects[3].w < 989, "at the right edge the label goes left of its mark");
    }
}
