use super::*;
use crate::policy::check::FollowUp;
use crate::policy::failure::{Failure, FailureKind};
use crate::policy::outcome::Life;

fn job(kind: &str) -> Job {
    let cmds = if kind == "long_running_read" { r#"{"start":["true"],"status":["true"]}"# } else { r#"{"run":["true"]}"# };
    let text = format!(r#"{{"version":1,"jobs":[{{"id":"fan","name":"Fan check","kind":"{kind}","risk":"read_only","enabled":true,"commands":{cmds}}}]}}"#);
    crate::config::parse(&text, std::path::Path::new("/tmp/c.json"), std::path::Path::new("/tmp")).expect("valid").jobs.remove(0)
}

fn outcome(code: i32, stdout: &str, stderr: &str) -> Outcome {
    Outcome { life: Life::Exited(code), duration_ms: 1300, stdout: stdout.into(), stderr: stderr.into(), stdout_bytes: stdout.len() as u64 }
}

/// One of each kind of action result, on the job kind it happens to.
fn cases() -> Vec<(Acted, Job)> {
    let (long, check) = (job("long_running_read"), job("one_shot_read"));
    let alert = Failure { kind: FailureKind::OutputAlert, reason: "ALERT: fan broken".into() };
    let fix = FollowUp { job_id: "fix".into(), reason: "after fan (failure)".into(), delay_seconds: 99, not_before: 0 };
    vec![
        (Acted::Ran { outcome: outcome(0, "ALERT: fan broken", ""), failing: Some(alert), queued: vec![fix] }, check.clone()),
        (Acted::Ran { outcome: outcome(3, "", "disk gone"), failing: None, queued: vec![] }, check),
        (Acted::Started(outcome(0, "started-ok", "")), long.clone()),
        (Acted::Started(outcome(1, "", "no such dir")), long.clone()),
        (Acted::AlreadyRunning { pid: Some(4242) }, long.clone()),
        (Acted::AlreadyRunning { pid: None }, long.clone()),
        (Acted::JustStarted { seconds: 3 }, long.clone()),
        (Acted::StoppedByCommand(outcome(0, "bye", "")), long.clone()),
        (Acted::StoppedByCommand(outcome(1, "", "worker unreachable")), long.clone()),
        (Acted::StoppedByCommand(Outcome { life: Life::TimedOut, ..outcome(0, "", "") }), long.clone()),
        (Acted::Signalled { pgid: 77, pid: 78 }, long),
    ]
}

#[test]
fn the_chat_and_the_cli_tell_the_same_facts_of_every_action_in_every_language() {
    for lang in crate::i18n::ALL.iter().copied() {
        for (acted, job) in cases() {
            let told = told(&acted, &job, lang);
            let chat = chat_text(&acted, &job, lang);
            let cli = cli_text(&acted, &job, lang);
            let printed = [cli.out.join("\n"), cli.err.join("\n"), cli.error.clone().unwrap_or_default()].join("\n");
            let mut facts = vec![told.head.clone()];
            facts.extend(told.failing.clone());
            facts.extend(told.not_done.clone());
            // A start or stop whose command failed says what it left as it was.
            let undone = matches!(&acted, Acted::Started(o) | Acted::StoppedByCommand(o) if !o.success());
            assert_eq!(told.not_done.is_some(), undone, "{lang:?} {acted:?}");
            facts.extend(told.queued.clone());
            facts.extend(acted.outcome().into_iter().flat_map(|o| [o.stdout.clone(), o.stderr.clone()]).filter(|s| !s.is_empty()));
            for fact in &facts {
                assert!(chat.contains(fact.as_str()), "{lang:?} {acted:?}: the chat lacks {fact:?}:\n{chat}");
                assert!(printed.contains(fact.as_str()), "{lang:?} {acted:?}: the CLI lacks {fact:?}:\n{printed}");
            }
            // Whatever did not happen as asked ends the CLI with an error (exit 1).
            let bad = acted.refused() || told.failing.is_some() || acted.outcome().is_some_and(|o| !o.success());
            assert_eq!(cli.error.is_some(), bad, "{lang:?} {acted:?}: {cli:?}");
        }
    }
}

#[test]
fn the_words_are_the_same_the_chat_has_always_used() {
    let (acted, job) = cases().remove(0);
    let chat = chat_text(&acted, &job, Lang::En);
    assert_eq!(
        chat,
        "run Fan check (fan): exit 0 in 1.3 s\noutput:\nALERT: fan broken\n⚠️ the check is failing: ALERT: fan broken\nqueued fix (in 1 min 39 s)"
    );
    let cli = cli_text(&acted, &job, Lang::En);
    assert_eq!(cli.out, ["run Fan check (fan): exit 0 in 1.3 s", "ALERT: fan broken", "queued fix (in 1 min 39 s)"]);
    assert_eq!(cli.error.as_deref(), Some("run fan: the check is failing: ALERT: fan broken"));
    let none = cli_text(&Acted::AlreadyRunning { pid: None }, &job, Lang::En);
    assert_eq!(none.error.as_deref(), Some("fan is already running: not started again (--force starts it anyway)"));
}

#[test]
fn a_start_that_never_started_has_no_duration() {
    let o = Outcome {
        life: Life::NotStarted("working directory /x does not exist".into()),
        duration_ms: 0,
        stdout: String::new(),
        stderr: String::new(),
        stdout_bytes: 0,
    };
    let head = told(&Acted::Started(o), &job("long_running_read"), Lang::En).head;
    assert!(head.contains("working directory /x does not exist"), "{head}");
    assert!(!head.contains(" in 0 ms"), "no duration for what never ran: {head}");
}

#[test]
fn a_failed_stop_says_it_did_not_stop_and_one_that_timed_out_that_it_may_have() {
    let long = job("long_running_read");
    let failed = told(&Acted::StoppedByCommand(outcome(1, "", "")), &long, Lang::En);
    assert_eq!(failed.not_done.as_deref(), Some("fan was not stopped: its stop command failed"));
    let timed_out = told(&Acted::StoppedByCommand(Outcome { life: Life::TimedOut, ..outcome(0, "", "") }), &long, Lang::En);
    assert_eq!(timed_out.not_done.as_deref(), Some("fan may still be running: its stop command did not finish"));
}
