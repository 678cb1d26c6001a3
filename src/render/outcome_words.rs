//! A command's result and a failed observation in the reader's language: what the run history
//! keeps in English ("exit 3", "timed out after …") and what a status command's failure says.

use crate::i18n::{self, Lang};
use crate::policy::outcome::{Life, Outcome};
use crate::t;

/// A run's stored one-line result ([`Outcome::summary`], kept in English in the run history)
/// in the reader's language: "exit 0" reads "退出码 0" in zh-CN. Any other stored text (a check's
/// own ALERT line) is shown as stored.
pub fn stored_summary(stored: &str, lang: Lang) -> String {
    let num = |rest: &str| rest.trim().parse::<i64>().ok();
    if let Some(code) = stored.strip_prefix("exit ").and_then(num) {
        return t!(lang, "outcome-exit", code = code);
    }
    if let Some(sig) = stored.strip_prefix("killed by signal ").and_then(num) {
        return t!(lang, "outcome-signal", signal = sig);
    }
    if let Some(ms) = stored.strip_prefix("timed out after ").and_then(|r| r.strip_suffix(" ms (process group killed)")).and_then(num) {
        return t!(lang, "outcome-timeout", duration = i18n::millis(lang, ms.max(0) as u64));
    }
    if let Some(e) = stored.strip_prefix("could not start: ") {
        return t!(lang, "outcome-spawn", error = e);
    }
    match stored {
        "not started yet" => t!(lang, "outcome-pending"),
        _ => stored.to_string(),
    }
}

/// Why a status could not be had, in `lang`: the kind in words, and the detail only the job
/// itself can give (its stderr's last line, the start of what it printed) as it came.
pub fn failure_words(f: &crate::policy::failure::Failure, lang: Lang) -> String {
    use crate::policy::failure::FailureKind as K;
    match f.kind {
        K::Empty => t!(lang, "failure-empty"),
        K::NotObject => t!(lang, "failure-not-object"),
        K::MissingFields => t!(lang, "failure-missing-fields"),
        // "status command exit 3: <its stderr's last line>": the outcome in words, the rest as is.
        K::Timeout | K::Exit(_) | K::Signal(_) | K::Spawn => match f.reason.strip_prefix("status command ") {
            Some(rest) => {
                let (outcome, detail) = rest.split_once(": ").map_or((rest, None), |(o, d)| (o, Some(d)));
                let said = stored_summary(outcome, lang);
                t!(lang, "failure-command", outcome = said, detail = detail.map(|d| format!(": {d}")).unwrap_or_default())
            }
            None => f.reason.clone(),
        },
        K::NotJson | K::BadLevel | K::TooBig | K::OutputAlert | K::Unwatched => f.reason.clone(),
    }
}

/// A run's result in words ("exit 0", "timed out after 30 s …").
pub fn outcome_summary(o: &Outcome, lang: Lang) -> String {
    match &o.life {
        Life::Pending => t!(lang, "outcome-pending"),
        Life::Running { pid } => t!(lang, "outcome-running", pid = *pid),
        Life::NotStarted(e) => t!(lang, "outcome-spawn", error = e.as_str()),
        Life::Exited(c) => t!(lang, "outcome-exit", code = *c),
        Life::Signalled(s) => t!(lang, "outcome-signal", signal = *s),
        Life::TimedOut => t!(lang, "outcome-timeout", duration = i18n::millis(lang, o.duration_ms)),
    }
}

/// What a command printed, for a message: "\noutput:\n" and the last `chars` characters of its
/// stdout then stderr, or nothing when it printed nothing. The one shape of a command's output in
/// a chat reply, a request's result and its edited copies.
pub fn output_block(stdout: &str, stderr: &str, chars: usize, lang: Lang) -> String {
    let o = format!("{}\n{}", stdout.trim(), stderr.trim());
    if o.trim().is_empty() {
        return String::new();
    }
    format!("\n{}\n{}", t!(lang, "outcome-output"), crate::policy::check::tail_chars(&o, chars))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::failure::{Failure, FailureKind};

    #[test]
    fn a_failed_status_reads_in_the_chats_language_with_the_jobs_own_words_as_they_came() {
        let f = Failure::new(FailureKind::Exit(3), "status command exit 3: boom");
        assert_eq!(failure_words(&f, Lang::En), "status command exit 3: boom");
        let zh = failure_words(&f, Lang::ZhCn);
        assert!(zh.starts_with("状态命令") && zh.ends_with(": boom") && !zh.contains("exit"), "{zh}");
        let empty = Failure::new(FailureKind::Empty, "status printed nothing (expected one JSON object)");
        assert!(!failure_words(&empty, Lang::ZhCn).contains("status"), "{}", failure_words(&empty, Lang::ZhCn));
    }
}
