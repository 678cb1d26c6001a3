//! A write job's approval request and its outcomes in words, one renderer for the chat
//! (`chat/approval_chat.rs`, `chat/settle.rs`) and the host (`cli/approve_cmd.rs`): a request
//! reads the same on a phone and in a terminal, in the reader's language.

use crate::config::Job;
use crate::i18n::{self, Lang};
use crate::policy::approval::Refusal;
use crate::policy::outcome::Outcome;
use crate::store::approval_rows::ApprovalRow;
use crate::store::runs::RunRecord;
use crate::t;
use chrono_tz::Tz;

/// Characters of an approved run's output its report shows (stdout and stderr together).
const OUTPUT_CHARS: usize = 1500;

/// Request `r` for `job` (None: gone from the config) on `host`: what approvers decide on.
pub fn request(r: &ApprovalRow, job: Option<&Job>, host: &str, tz: Tz, lang: Lang) -> String {
    let verify: Vec<String> = job
        .map(|j| {
            j.after
                .iter()
                .map(|a| t!(lang, "approval-then-item", job = &a.job_id, when = a.when.as_str(), delay = i18n::duration(lang, a.delay_seconds)))
                .collect()
        })
        .unwrap_or_default();
    let exp = chrono::DateTime::from_timestamp(r.expires_at, 0).map(|t| t.with_timezone(&tz).format("%H:%M:%S %Z").to_string()).unwrap_or_default();
    [
        t!(lang, "approval-request", id = r.id, host = host),
        t!(lang, "approval-job", name = job.map_or(r.job_id.as_str(), |j| j.name.as_str()), job = &r.job_id),
        t!(lang, "approval-risk", risk = job.map_or("?", |j| j.risk.as_str())),
        t!(lang, "approval-argv", argv = format!("{:?}", r.argv)),
        t!(lang, "approval-cwd", cwd = &r.cwd),
        t!(lang, "approval-then", then = if verify.is_empty() { "-".into() } else { verify.join(", ") }),
        t!(lang, "approval-asked-by", who = &r.requested_via),
        t!(lang, "approval-expires", when = exp),
    ]
    .join("\n")
}

/// Why a decision was refused, in the reader's language.
pub fn refusal(r: &Refusal, lang: Lang) -> String {
    match r {
        Refusal::NotPending(state) => t!(lang, "refuse-not-pending", state = *state),
        Refusal::Expired => t!(lang, "refuse-expired"),
        Refusal::NotApprover => t!(lang, "refuse-not-approver"),
        Refusal::OwnRequest => t!(lang, "refuse-own"),
        Refusal::JobChanged => t!(lang, "refuse-changed"),
        Refusal::JobGone => t!(lang, "refuse-gone"),
        Refusal::JobDisabled => t!(lang, "refuse-disabled"),
    }
}

/// What the approved run of request `r` on `host` came to: its exit and duration, the tail of
/// its output, the verification it queued.
pub fn ran(r: &ApprovalRow, host: &str, outcome: &Outcome, queued: &[String], lang: Lang) -> String {
    let summary = super::outcome_summary(outcome, lang);
    let duration = i18n::millis(lang, outcome.duration_ms);
    let mut t = if outcome.success() {
        t!(lang, "approval-result-ran", id = r.id, host = host, job = &r.job_id, summary = summary, duration = duration)
    } else {
        t!(lang, "approval-result-failed", id = r.id, host = host, job = &r.job_id, summary = summary, duration = duration)
    };
    t.push_str(&super::output_block(&outcome.stdout, &outcome.stderr, OUTPUT_CHARS, lang));
    if !queued.is_empty() {
        t.push_str(&format!("\n{}", t!(lang, "approval-verification-queued", jobs = queued.join(", "))));
    }
    t
}

/// How the run an approval made ended, as its request copies say it under "Approved by …":
/// "▶ ran once: exit 0 in 12 ms" or "❌ ran once and failed: exit 1 in 3 ms".
pub fn run_line(run: &RunRecord, failed: bool, lang: Lang) -> String {
    let summary = super::stored_summary(run.summary.as_deref().unwrap_or("?"), lang);
    let duration = i18n::millis(lang, run.duration_ms.unwrap_or(0).max(0) as u64);
    if failed {
        t!(lang, "approval-decided-failed", summary = summary, duration = duration)
    } else {
        t!(lang, "approval-decided-ran", summary = summary, duration = duration)
    }
}
