//! `/chart`: a job's progress over time as a PNG readable on a phone (1000×600): the progress
//! line, the ETA projection (dashed), starts/resumes/stops as marks, and the rate below, with
//! axis times in the configured timezone. Drawn with `plotters` into memory with a bundled font
//! (DejaVu Sans), so it needs no system fonts and no external service.

pub mod layout;

use crate::policy::rate::{self, Estimate, Sample};
use anyhow::{anyhow, Result};
use chrono::DateTime;
use chrono_tz::Tz;
use layout::{mark_y, place_labels, time_ticks, Rect};
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Image size in pixels.
pub const SIZE: (u32, u32) = (1000, 600);
/// Buckets of the rate panel.
const RATE_BUCKETS: usize = 48;
/// Time labels on the x axis at most.
const X_TICKS: usize = 8;
/// Room right of the plot for half the widest time label ("11-25 20:00"), which is centred on
/// its tick: the last one is not cut off at the image's edge.
const RIGHT_MARGIN: u32 = 48;
const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Something that happened to the job, drawn as a mark on the progress line.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Unix seconds.
    pub at: i64,
    /// Short label ("start", "resume", "stop", "crash").
    pub label: String,
}

/// What a chart shows.
#[derive(Debug, Clone)]
pub struct ChartData {
    /// Title: the job's name, or its id when the bundled font cannot draw the name ([`title`]).
    pub title: String,
    /// Unit of `done` ("files"); "%" for percent-only jobs.
    pub unit: String,
    /// The history, oldest first.
    pub samples: Vec<Sample>,
    /// Rate and ETA now.
    pub estimate: Option<Estimate>,
    /// Marks.
    pub marks: Vec<Mark>,
    /// Timezone of the axis.
    pub tz: Tz,
}

fn font() -> Result<()> {
    static DONE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *DONE.get_or_init(|| plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the bundled chart font could not be loaded"))
    }
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("chart drawing failed: {e:?}")
}

/// Renders `d` as PNG bytes.
pub fn render_png(d: &ChartData) -> Result<Vec<u8>> {
    font()?;
    let (w, h) = SIZE;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    draw(d, &mut rgb)?;
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()?.write_image_data(&rgb)?;
    Ok(out)
}

/// The chart's title for job `name` (id `id`): the name people know it by, or the id when the
/// name has a character the bundled DejaVu Sans does not draw (it covers Latin, Greek, Cyrillic,
/// Armenian and Hebrew, not CJK: a name in Chinese would be a row of boxes).
pub fn title(name: &str, id: &str) -> String {
    let drawn = |c: char| c < '\u{0600}' || ('\u{2000}'..='\u{206f}').contains(&c);
    if !name.trim().is_empty() && name.chars().all(drawn) {
        name.to_string()
    } else {
        id.to_string()
    }
}

/// The x range: the history's span, extended to the ETA when one is estimated (the caption
/// shows it, so the axis reaches it).
fn x_range(d: &ChartData) -> (i64, i64) {
    let first = d.samples.first().map_or(0, |s| s.at);
    let last = d.samples.last().map_or(1, |s| s.at).max(first + 60);
    let eta = d.estimate.filter(|e| e.no_eta.is_none()).and_then(|e| e.eta_at).unwrap_or(last);
    (first, eta.max(last))
}

fn draw(d: &ChartData, rgb: &mut [u8]) -> Result<()> {
    let root = BitMapBackend::with_buffer(rgb, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (top, bottom) = root.split_vertically(400);
    let (x0, x1) = x_range(d);
    let tz = d.tz;
    let (ticks, format) = time_ticks(x0, x1, tz, X_TICKS);
    let fmt = move |x: &i64| DateTime::from_timestamp(*x, 0).map(|t| t.with_timezone(&tz).format(format).to_string()).unwrap_or_default();
    let total = d.samples.last().and_then(|s| s.total);
    let ymax = total.unwrap_or(0.0).max(d.samples.iter().map(|s| s.done).fold(1.0, f64::max)) * 1.05;
    let mut c = ChartBuilder::on(&top)
        .caption(format!("{} ({})", d.title, d.tz), ("sans-serif", 24))
        .margin(12)
        .margin_right(RIGHT_MARGIN)
        .x_label_area_size(28)
        .y_label_area_size(80)
        .build_cartesian_2d((x0..x1).with_key_points(ticks.clone()), 0f64..ymax)
        .map_err(err)?;
    c.configure_mesh()
        .x_label_formatter(&fmt)
        .y_label_formatter(&|y| rate::figure(*y))
        .y_desc(d.unit.as_str())
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    if let Some(t) = total {
        c.draw_series(DashedLineSeries::new([(x0, t), (x1, t)], 6, 6, BLACK.mix(0.4).stroke_width(1))).map_err(err)?;
    }
    c.draw_series(LineSeries::new(d.samples.iter().map(|s| (s.at, s.done)), BLUE.stroke_width(3))).map_err(err)?;
    if let (Some(last), Some(e), Some(t)) = (d.samples.last(), d.estimate, total) {
        if let (Some(r), None) = (e.per_second, e.no_eta) {
            let end = x1.min(e.eta_at.unwrap_or(x1));
            let y = (last.done + r * (end - last.at) as f64).min(t);
            c.draw_series(DashedLineSeries::new([(last.at, last.done), (end, y)], 10, 6, GREEN.stroke_width(2))).map_err(err)?;
        }
    }
    let mut marks: Vec<&Mark> = d.marks.iter().filter(|m| m.at >= x0 && m.at <= x1).collect();
    marks.sort_by_key(|m| m.at);
    let font = ("sans-serif", 14).into_font().color(&RED);
    let (mut anchors, mut sizes) = (Vec::new(), Vec::new());
    for m in &marks {
        let y = mark_y(&d.samples, m.at);
        c.draw_series([TriangleMarker::new((m.at, y), 8, RED.filled())]).map_err(err)?;
        anchors.push(c.backend_coord(&(m.at, y)));
        let (w, h) = top.estimate_text_size(&m.label, &font).map_err(err)?;
        sizes.push((w as i32, h as i32));
    }
    let (xs, ys) = c.plotting_area().get_pixel_range();
    let plot = Rect { x: xs.start, y: ys.start, w: xs.end - xs.start, h: ys.end - ys.start };
    for (m, at) in marks.iter().zip(place_labels(&anchors, &sizes, plot)) {
        top.draw(&Text::new(m.label.clone(), at, font.clone())).map_err(err)?;
    }
    draw_rate(d, &bottom, (x0, x1), ticks, &fmt)?;
    root.present().map_err(err)
}

fn draw_rate(
    d: &ChartData,
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    (x0, x1): (i64, i64),
    ticks: Vec<i64>,
    fmt: &dyn Fn(&i64) -> String,
) -> Result<()> {
    let percent = d.samples.last().is_some_and(|s| s.percent);
    let series = rate::rate_series(&d.samples, RATE_BUCKETS);
    let per = rate::rate_parts(series.iter().map(|p| p.1).fold(0.0, f64::max), percent).1;
    let scale = match per {
        "s" => 1.0,
        "min" => 60.0,
        _ => 3600.0,
    };
    let ymax = series.iter().map(|p| p.1 * scale).fold(1.0, f64::max) * 1.1;
    let mut c = ChartBuilder::on(area)
        .margin(12)
        .margin_right(RIGHT_MARGIN)
        .x_label_area_size(28)
        .y_label_area_size(80)
        .build_cartesian_2d((x0..x1).with_key_points(ticks), 0f64..ymax)
        .map_err(err)?;
    c.configure_mesh()
        .x_label_formatter(fmt)
        .y_label_formatter(&|y| rate::figure(*y))
        .y_desc(format!("{}/{per}", d.unit))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    c.draw_series(LineSeries::new(series.iter().map(|&(t, r)| (t, r * scale)), RGBColor(230, 120, 0).stroke_width(2))).map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(eta_at: Option<i64>) -> ChartData {
        let sample = |at: i64, done: f64| Sample { at, done, total: Some(100.0), percent: false };
        let estimate = eta_at.map(|at| Estimate { per_second: Some(0.01), percent: false, eta_at: Some(at), eta_seconds: Some(at - 1_600), no_eta: None });
        ChartData {
            title: "t".into(),
            unit: "files".into(),
            samples: vec![sample(1_000, 10.0), sample(1_600, 20.0)],
            estimate,
            marks: vec![],
            tz: chrono_tz::UTC,
        }
    }

    #[test]
    fn the_time_axis_reaches_the_eta_the_caption_shows() {
        assert_eq!(x_range(&data(None)), (1_000, 1_600));
        assert_eq!(x_range(&data(Some(1_900))), (1_000, 1_900));
        assert_eq!(x_range(&data(Some(9_000))), (1_000, 9_000), "an ETA further than the history's span again is still on the axis");
    }

    #[test]
    fn the_title_is_the_jobs_name_unless_the_font_cannot_draw_it() {
        assert_eq!(title("Scan disk — nas", "scan"), "Scan disk — nas");
        assert_eq!(title("Сканирование", "scan"), "Сканирование");
        assert_eq!(title("扫描磁盘", "scan"), "scan");
        assert_eq!(title("", "scan"), "scan");
    }
}
