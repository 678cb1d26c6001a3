//! The cost of one `/chart` image and the progress history's size per job-day.
//! Run: `cargo bench --bench chart` (release). Prints one table row per figure.

use ops_framework::chart::{render_png, ChartData, Mark};
use ops_framework::policy::rate::{estimate, Sample};
use ops_framework::store::{progress, Store};
use std::time::Instant;

const DAY: i64 = 24 * 3600;

/// A job polled every `every` seconds for `seconds`, advancing unevenly (fast, slow, fast).
fn history(start: i64, seconds: i64, every: i64) -> Vec<Sample> {
    let mut done = 0.0;
    (0..seconds / every)
        .map(|i| {
            done += if (i / 200) % 2 == 0 { 3.0 } else { 1.0 };
            Sample { at: start + i * every, done, total: Some(1e6), percent: false }
        })
        .collect()
}

fn db_bytes(store: &Store) -> i64 {
    let c = store.conn();
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    let size: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    pages * size
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test` runs bench binaries without --bench: nothing to do.
    }
    let start = 1_700_000_400;
    let samples = history(start, DAY, 30);
    let data = ChartData {
        title: "inventory".into(),
        unit: "files".into(),
        estimate: Some(estimate(&samples)),
        marks: vec![Mark { at: start + 3600, label: "resume".into() }],
        samples,
        tz: chrono_tz::Europe::Berlin,
    };
    render_png(&data).unwrap(); // font registration, once per process
    let n = 20;
    let t = Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        bytes = render_png(&data).unwrap().len();
    }
    let per = t.elapsed() / n;
    println!(
        "| chart, 24 h at one sample per 30 s ({} samples), 1000x600 PNG | {:.1} ms per image, {} KiB |",
        data.samples.len(),
        per.as_secs_f64() * 1000.0,
        bytes / 1024
    );

    for every in [30, 60] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let empty = db_bytes(&store);
        let h = history(start, DAY, every);
        store.write(|tx| h.iter().try_for_each(|s| progress::record(tx, "job", s))).unwrap();
        let day = db_bytes(&store) - empty;
        // 30 days: the newest day in full, the rest thinned to one sample per 10 minutes.
        let h = history(start + DAY, 29 * DAY, every);
        store.write(|tx| h.iter().try_for_each(|s| progress::record(tx, "job", s))).unwrap();
        let rows = progress::count(&store, "job").unwrap();
        let month = db_bytes(&store) - empty;
        println!(
            "| history, one sample per {every} s poll | {} samples, {} KiB per job-day; after 30 days {rows} samples, {} KiB per job |",
            DAY / every,
            day / 1024,
            month / 1024
        );
    }
}
