//! "Back online": whether `serve` should say it is back, from what the last run left behind.

/// What the previous `serve` left in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastRun {
    /// Its last sign of life (Unix seconds): a tick, a pause between ticks, or its stop.
    pub alive_at: i64,
    /// It stopped on SIGTERM/SIGINT after finishing its loops.
    pub clean: bool,
}

/// What the "back online" message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Back {
    /// Last sign of life before the gap.
    pub since: i64,
    /// How long nobody watched.
    pub down_seconds: i64,
    /// The previous run died (kill -9, crash, power loss) instead of stopping.
    pub unclean: bool,
}

/// A clean stop followed by a restart within this many seconds says nothing.
pub const QUIET_GAP_SECONDS: i64 = 600;

/// Decides the message: after an unclean stop, or after any gap longer than 10 minutes.
/// The very first start (nothing left behind) says nothing.
pub fn assess(prev: Option<LastRun>, now: i64) -> Option<Back> {
    let p = prev?;
    let down_seconds = (now - p.alive_at).max(0);
    (!p.clean || down_seconds > QUIET_GAP_SECONDS).then_some(Back { since: p.alive_at, down_seconds, unclean: !p.clean })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let now = 100_000;
        let run = |ago: i64, clean: bool| Some(LastRun { alive_at: now - ago, clean });
        let cases = [
            (None, None),
            (run(30, true), None),
            (run(600, true), None),
            (run(601, true), Some(Back { since: now - 601, down_seconds: 601, unclean: false })),
            (run(5, false), Some(Back { since: now - 5, down_seconds: 5, unclean: true })),
            (run(7200, false), Some(Back { since: now - 7200, down_seconds: 7200, unclean: true })),
            (run(-30, false), Some(Back { since: now + 30, down_seconds: 0, unclean: true })),
        ];
        for (prev, want) in cases {
            assert_eq!(assess(prev, now), want, "{prev:?}");
        }
    }
}
