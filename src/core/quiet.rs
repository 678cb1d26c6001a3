//! Quiet hours in the configured timezone (DST-correct: local wall-clock time decides).

use crate::config::QuietHours;
use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;

/// True when `now` falls in the quiet window `q` of timezone `tz`; the window may wrap midnight.
pub fn is_quiet(now: DateTime<Utc>, tz: Tz, q: Option<QuietHours>) -> bool {
    let Some(q) = q else { return false };
    let local = now.with_timezone(&tz);
    let cur = (local.hour() * 60 + local.minute()) as u16;
    if q.start == q.end {
        false
    } else if q.start < q.end {
        q.start <= cur && cur < q.end
    } else {
        cur >= q.start || cur < q.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap().with_timezone(&Utc)
    }

    const NIGHT: Option<QuietHours> = Some(QuietHours { start: 23 * 60, end: 8 * 60 });

    #[test]
    fn wrapping_window_table() {
        let tz = chrono_tz::Europe::Berlin;
        for (h, m, quiet) in [(23, 30, true), (7, 59, true), (8, 0, false), (22, 59, false), (0, 0, true), (12, 0, false)] {
            assert_eq!(is_quiet(at(tz, 2026, 2, 5, h, m), tz, NIGHT), quiet, "{h:02}:{m:02}");
        }
    }

    #[test]
    fn non_wrapping_and_empty_windows() {
        let tz = chrono_tz::UTC;
        let w = Some(QuietHours { start: 8 * 60, end: 10 * 60 });
        assert!(is_quiet(at(tz, 2026, 2, 5, 9, 0), tz, w));
        assert!(!is_quiet(at(tz, 2026, 2, 5, 10, 0), tz, w));
        assert!(!is_quiet(at(tz, 2026, 2, 5, 9, 0), tz, None));
    }

    #[test]
    fn dst_transition_in_berlin_uses_local_wall_clock() {
        let tz = chrono_tz::Europe::Berlin;
        // 2026-03-29 01:00 UTC is 03:00 CEST (clocks jumped from 02:00 to 03:00): quiet.
        let t = Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap();
        assert!(is_quiet(t, tz, NIGHT));
        // 06:00 UTC is 08:00 CEST (summer): no longer quiet, although in winter 06:00 UTC is 07:00.
        assert!(!is_quiet(Utc.with_ymd_and_hms(2026, 3, 29, 6, 0, 0).unwrap(), tz, NIGHT));
        assert!(is_quiet(Utc.with_ymd_and_hms(2026, 3, 28, 6, 0, 0).unwrap(), tz, NIGHT));
        // Autumn: 2026-10-25 06:59 UTC is 07:59 CET: quiet; 07:00 UTC is 08:00 CET: not.
        assert!(is_quiet(Utc.with_ymd_and_hms(2026, 10, 25, 6, 59, 0).unwrap(), tz, NIGHT));
        assert!(!is_quiet(Utc.with_ymd_and_hms(2026, 10, 25, 7, 0, 0).unwrap(), tz, NIGHT));
    }
}
