//! What people decided about a job — an alert acknowledged, reports snoozed, the job stopped or
//! started on purpose — kept apart from what the ticks observed ([`super::state::JobState`]).
//! Only a person's action writes it (a press, a chat command, the CLI); every tick reads it and
//! none writes it, so a tick running while someone presses a button can never undo the press.

/// One job's decisions, as the store holds them (times are Unix seconds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decisions {
    /// The anomaly key a person acknowledged, and when: it holds for that anomaly while it lasts
    /// (an anomaly that comes back later is news again).
    pub acked: Option<(String, i64)>,
    /// Routine reports and reminders paused for every chat until then (an approver's snooze;
    /// anyone else's holds only in their own chat).
    pub snoozed_until: Option<i64>,
    /// Stopped on purpose at: no alert, no auto-resume until someone starts it again.
    pub stopped_at: Option<i64>,
    /// The last start a person asked for: from then the job counts as running, so one that dies
    /// before it is first seen is a crash too.
    pub started_at: Option<i64>,
}

impl Decisions {
    /// Whether the anomaly `key`, reported first at `since`, was acknowledged.
    pub fn acked(&self, key: &str, since: Option<i64>) -> bool {
        self.acked.as_ref().is_some_and(|(k, at)| k == key && since.is_none_or(|s| *at >= s))
    }

    /// Whether routine reports and reminders are paused for every chat at `now`.
    pub fn snoozed(&self, now: i64) -> bool {
        self.snoozed_until.is_some_and(|u| u > now)
    }

    /// Whether a person stopped the job (and nobody started it since).
    pub fn stopped(&self) -> bool {
        self.stopped_at.is_some()
    }

    /// A person asked for a start at `t`: a stop on purpose is over.
    pub fn start(&mut self, t: i64) {
        self.stopped_at = None;
        self.started_at = Some(t);
    }

    /// A person stopped the job on purpose at `t`.
    pub fn stop(&mut self, t: i64) {
        self.stopped_at = Some(t);
    }
}

/// Whether `s` still reaches a chat that snoozed its job: a new anomaly does, a reminder of one
/// already reported does not.
pub fn reaches_snoozed_chat(s: &super::report::Section) -> bool {
    !s.notes.iter().any(|n| matches!(n, super::report::Note::Reminder { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ack_holds_for_the_anomaly_it_was_given_for_not_for_one_that_comes_back() {
        let d = Decisions { acked: Some(("stalled:3".into(), 100)), ..Default::default() };
        assert!(d.acked("stalled:3", Some(90)));
        assert!(!d.acked("stalled:4", Some(90)), "another anomaly");
        assert!(!d.acked("stalled:3", Some(150)), "the same key, reported anew after the ack");
    }

    #[test]
    fn a_snoozed_chat_still_hears_a_new_anomaly_but_not_a_reminder() {
        use crate::policy::report::{Note, Section};
        let new = Section::system("disk", "disk");
        let mut reminder = new.clone();
        reminder.notes.push(Note::Reminder { count: 1, for_seconds: 900 });
        assert!(reaches_snoozed_chat(&new));
        assert!(!reaches_snoozed_chat(&reminder));
    }

    #[test]
    fn a_start_ends_a_stop() {
        let mut d = Decisions::default();
        d.stop(10);
        assert!(d.stopped());
        d.start(20);
        assert!(!d.stopped());
        assert_eq!(d.started_at, Some(20));
        assert!(!d.snoozed(0));
        assert!(Decisions { snoozed_until: Some(5), ..Default::default() }.snoozed(4));
    }
}
