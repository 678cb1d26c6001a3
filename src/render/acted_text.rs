//! A person's start, stop or run ([`Acted`]) in words: the one renderer of the chat's reply and
//! of `ops-monitor start|stop|run`, so both say the same facts in the same words (the chat in
//! its language, the CLI in the config's `locale`). Each surface only places the pieces: the
//! chat joins them into one message, the CLI prints them and keeps its exit codes.

use crate::config::Job;
use crate::i18n::{self, Lang};
use crate::policy::acted::Acted;
use crate::policy::outcome::{Life, Outcome};
use crate::policy::press::JobPress;
use crate::t;

/// An action's name in the reader's language.
pub fn action_word(action: JobPress, lang: Lang) -> String {
    match action {
        JobPress::Start => t!(lang, "action-start"),
        JobPress::Stop => t!(lang, "action-stop"),
        JobPress::Run => t!(lang, "action-run"),
        JobPress::Logs => t!(lang, "action-logs"),
        JobPress::Chart => t!(lang, "action-chart"),
    }
}

/// The name of a run's action as the run history stores it ("start", "stop", "run"); a name
/// this version does not know is shown as stored.
pub fn run_action_word(stored: &str, lang: Lang) -> String {
    stored.parse::<JobPress>().map_or_else(|_| stored.to_string(), |a| action_word(a, lang))
}

/// What an action is told as, in pieces the chat and the CLI place alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Told {
    /// What was done, and how it ended ("run Fan (fan): exit 0 in 5 ms"), or why nothing was
    /// ("scan is already running (pid 4242): not started again").
    pub head: String,
    /// Why a run that exited 0 still fails: "the check is failing: ALERT: fan broken".
    pub failing: Option<String>,
    /// A command that ran and failed, as one line: "run fan failed: exit 1".
    pub failed: Option<String>,
    /// What a failed start or stop left as it was: "scan was not stopped: its stop command
    /// failed" (an exit code alone does not say so to everyone).
    pub not_done: Option<String>,
    /// One line per `after` job queued: "queued fix (in 1 min 39 s)".
    pub queued: Vec<String>,
}

/// Which button (and word) an action is.
fn press(acted: &Acted) -> JobPress {
    match acted {
        Acted::Started(_) | Acted::AlreadyRunning { .. } | Acted::JustStarted { .. } => JobPress::Start,
        Acted::StoppedByCommand(_) | Acted::Signalled { .. } => JobPress::Stop,
        Acted::Ran { .. } => JobPress::Run,
    }
}

/// `acted` on `job` told in `lang`.
pub fn told(acted: &Acted, job: &Job, lang: Lang) -> Told {
    let id = &job.id;
    let word = action_word(press(acted), lang);
    let head = match acted {
        Acted::Started(o) | Acted::StoppedByCommand(o) | Acted::Ran { outcome: o, .. } => outcome_line(&word, job, o, lang),
        Acted::AlreadyRunning { pid: Some(pid) } => t!(lang, "start-already-running", id = id, pid = *pid),
        Acted::AlreadyRunning { pid: None } => t!(lang, "start-already-running-no-pid", id = id),
        Acted::JustStarted { seconds } => t!(lang, "start-just-started", id = id, seconds = *seconds),
        Acted::Signalled { pgid, pid } => t!(lang, "stop-signalled", id = id, pgid = *pgid, pid = *pid),
    };
    let failed = acted.outcome().filter(|o| !o.success()).map(|o| t!(lang, "action-failed", action = &word, id = id, error = super::outcome_summary(o, lang)));
    let (failing, queued) = match acted {
        Acted::Ran { failing, queued, .. } => (
            failing.as_ref().map(|f| t!(lang, "run-check-failing", line = &f.reason)),
            queued.iter().map(|f| t!(lang, "note-queued", job = &f.job_id, delay = i18n::duration(lang, f.delay_seconds))).collect(),
        ),
        Acted::Started(_) | Acted::AlreadyRunning { .. } | Acted::JustStarted { .. } | Acted::StoppedByCommand(_) | Acted::Signalled { .. } => {
            (None, Vec::new())
        }
    };
    // A command that exited non-zero (or never started) did not do it; one killed by its
    // timeout or a signal may have done part of it.
    let sure = |o: &Outcome| matches!(o.life, Life::Exited(_) | Life::NotStarted(_));
    let not_done = match acted {
        Acted::Started(o) if sure(o) => (!o.success()).then(|| t!(lang, "start-not-done", id = id)),
        Acted::Started(o) => (!o.success()).then(|| t!(lang, "start-unsure", id = id)),
        Acted::StoppedByCommand(o) if sure(o) => (!o.success()).then(|| t!(lang, "stop-not-done", id = id)),
        Acted::StoppedByCommand(o) => (!o.success()).then(|| t!(lang, "stop-unsure", id = id)),
        Acted::AlreadyRunning { .. } | Acted::JustStarted { .. } | Acted::Signalled { .. } | Acted::Ran { .. } => None,
    };
    Told { head, failing, failed, not_done, queued }
}

/// "start Disk scan (scan): exit 0 in 1.3 s"; a command that never started has no duration
/// ("could not start: working directory … does not exist", not "… in 0 ms").
fn outcome_line(word: &str, job: &Job, o: &Outcome, lang: Lang) -> String {
    let summary = super::outcome_summary(o, lang);
    match &o.life {
        crate::policy::outcome::Life::NotStarted(_) => t!(lang, "outcome-line-not-started", action = word, name = &job.name, id = &job.id, summary = summary),
        _ => t!(lang, "outcome-line", action = word, name = &job.name, id = &job.id, summary = summary, duration = i18n::millis(lang, o.duration_ms)),
    }
}

/// Characters of a command's output a chat reply shows (stdout and stderr together).
const CHAT_OUTPUT_CHARS: usize = 1500;

/// The chat's reply: the head, the command's output, why the check fails, what was queued. A
/// failed command's exit is in its head already, so [`Told::failed`] is the CLI's alone.
pub fn chat_text(acted: &Acted, job: &Job, lang: Lang) -> String {
    let told = told(acted, job, lang);
    let mut text = told.head;
    if let Some(o) = acted.outcome() {
        text.push_str(&super::output_block(&o.stdout, &o.stderr, CHAT_OUTPUT_CHARS, lang));
    }
    for f in told.not_done.iter().chain(&told.failing) {
        text.push_str(&format!("\n⚠️ {f}"));
    }
    for q in told.queued {
        text.push_str(&format!("\n{q}"));
    }
    text
}

/// Characters of each of a command's stdout and stderr the CLI prints.
const CLI_OUTPUT_CHARS: usize = 2000;

/// What `ops-monitor start|stop|run` prints: lines for stdout, the command's stderr for stderr,
/// and the error that ends it with exit 1, if any.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CliText {
    /// For stdout: the head, the command's stdout, what was queued.
    pub out: Vec<String>,
    /// For stderr: the command's own stderr.
    pub err: Vec<String>,
    /// The ERROR line (exit 1): a refused start (with the `--force` hint), a command that
    /// failed, a check that exited 0 but is failing.
    pub error: Option<String>,
}

/// The CLI's text: the same pieces as [`chat_text`], placed on stdout and stderr.
pub fn cli_text(acted: &Acted, job: &Job, lang: Lang) -> CliText {
    let told = told(acted, job, lang);
    if acted.refused() {
        return CliText { error: Some(format!("{} ({})", told.head, t!(lang, "cli-force-hint"))), ..CliText::default() };
    }
    let tail = |s: &str| (!s.trim().is_empty()).then(|| crate::policy::check::tail_chars(s, CLI_OUTPUT_CHARS));
    let mut out = vec![told.head];
    out.extend(acted.outcome().and_then(|o| tail(&o.stdout)));
    out.extend(told.not_done);
    out.extend(told.queued);
    let err = acted.outcome().and_then(|o| tail(&o.stderr)).into_iter().collect();
    let word = action_word(press(acted), lang);
    let error = told.failed.or_else(|| told.failing.map(|f| format!("{word} {}: {f}", job.id)));
    CliText { out, err, error }
}

#[cfg(test)]
#[path = "acted_text_tests.rs"]
mod tests;
