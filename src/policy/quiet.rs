//! Quiet hours in the configured timezone (DST-correct: local wall-clock time decides).

use super::report::{Note, Section};
use crate::config::{Config, QuietHours};
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

/// True when a section must ring even in quiet hours: an anomaly, or something a person must act
/// on (a config error, a blocked chain item, an interrupted or failed write verification).
pub fn is_alert(s: &Section) -> bool {
    s.anomaly.is_some()
        || s.notes.iter().any(|n| {
            matches!(
                n,
                Note::Hint(_)
                    | Note::ConfigInvalid { .. }
                    | Note::ChainBlocked { .. }
                    | Note::ChainUnknown { .. }
                    | Note::Interrupted { .. }
                    | Note::Verification { ok: false, .. }
                    | Note::Verification { after_failure: true, .. }
            )
        })
}

/// The quiet window that applies to a section: its job's policy, else the defaults.
pub fn window_for(cfg: &Config, job_id: &str) -> Option<QuietHours> {
    cfg.job(job_id).map_or(cfg.defaults.quiet_hours, |j| j.policy.quiet_hours)
}

/// True when `s` is held for the digest at `now`: not an alert, nor the silent edit of one
/// ([`Section::amends`]), inside its quiet hours. Routine progress is never held: it updates the
/// chat's live message, which makes no sound.
pub fn holds(cfg: &Config, s: &Section, now: DateTime<Utc>) -> bool {
    !is_alert(s) && s.amends.is_none() && !super::live::is_progress(s) && is_quiet(now, cfg.timezone, window_for(cfg, &s.job_id))
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
    fn only_alerts_ring_in_quiet_hours() {
        use crate::policy::report::{Anomaly, Hint};
        let mut s = Section::system("j", "j");
        assert!(!is_alert(&s), "a plain section (a completion, a status change) is held");
        s.notes.push(Note::Recovered);
        assert!(!is_alert(&s));
        s.notes.push(Note::Hint(Hint::Check));
        assert!(is_alert(&s));
        let mut a = Section::system("j", "j");
        a.anomaly = Some(Anomaly::Stalled { seconds: 60 });
        assert!(is_alert(&a));
        let mut v = Section::system("j", "j");
        v.notes.push(Note::Verification { approval_id: 1, ok: true, after_failure: false });
        assert!(!is_alert(&v));
        v.notes.push(Note::Verification { approval_id: 1, ok: false, after_failure: false });
        assert!(is_alert(&v));
        let mut after = Section::system("j", "j");
        after.notes.push(Note::Verification { approval_id: 1, ok: true, after_failure: true });
        assert!(is_alert(&after), "what follows a failed write is no all-clear: it rings in quiet hours too");
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
