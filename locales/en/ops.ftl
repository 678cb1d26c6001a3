# ops-monitor user-facing text, English (the fallback language).
# Every key here must exist in every other locale; tests/locales.rs checks keys and placeholders.

## Durations and counts
duration-ms = { $ms } ms
duration-s = { $s } s
duration-m = { $m } min
duration-m-s = { $m } min { $s } s
duration-h-m = { $h } h { $m } min
jobs-count = { $count ->
    [one] 1 job
   *[other] { $count } jobs
}

## Reports (tick, console, Telegram)
report-header = Ops report · { $host } · { $time }
section-heading = • { $name } ({ $id }, { $kind })
section-heading-plain = • { $name }
kind-long-running-read = long_running_read
kind-one-shot-read = one_shot_read
kind-one-shot-write = one_shot_write
fact-status = - status: { $state }
fact-message = - message: { $text }
fact-progress = - progress: { $text }
rate-per-s = { $value } { $unit }/s
rate-per-min = { $value } { $unit }/min
rate-per-h = { $value } { $unit }/h
eta-at = ETA { $time } (≈ { $duration })
progress-not-moving = no progress lately
eta-unknown = ETA unknown
digest-title = 🌅 Quiet hours are over · { $host }
digest-intro = From { $since } to { $until } { $rang ->
    [0] no alert rang
    [one] only one alert rang
   *[other] only alerts rang ({ $rang })
}; { $held ->
    [0] no message was held.
    [one] 1 held message is summed up here.
   *[other] { $held } held messages are summed up here.
}
digest-progress = progress: { $then } → { $now }
digest-more = … { $count } earlier { $count ->
    [one] event
   *[other] events
} not listed
digest-alert = { $what } (rang { $times }×) — { $now }
digest-open = still open
digest-acked = acknowledged, still open
digest-over = over now
digest-completed = completed ✅
digest-running = running
digest-decide = Needs a decision:
digest-pending = approval request #{ $id }: { $job } (asked by { $who }), expires { $expires }
state-completed = completed ✅
state-running = running
state-running-pid = running (pid { $pid })
state-not-running = not running
state-not-started = not started
state-stopped = stopped
state-crashed = crashed
state-with-reason = { $state } (stopReason: { $reason })
standing-running-for = running { $duration }
standing-stalled = stalled { $duration }
standing-completed-at = completed { $time }
standing-crashed-at = crashed { $time }
standing-stopped-at = stopped { $time }
standing-failing = failing
standing-failing-since = failing since { $time }
anomaly-stalled = ALERT: stalled for { $duration } (no progress)
anomaly-crashed = ALERT: crashed: the job is gone without completing
anomaly-crashed-after = ALERT: crashed after { $duration }: the job is gone without completing
anomaly-crashed-how = ALERT: crashed ({ $how }): the job is gone without completing
anomaly-crashed-after-how = ALERT: crashed after { $duration } ({ $how }): the job is gone without completing
anomaly-invalid-status = ALERT: status unavailable: { $reason }
anomaly-job-alert = ALERT: job reports alert
anomaly-job-alert-message = ALERT: job reports alert: { $message }
anomaly-check-says = { $line }
anomaly-check-failed = ALERT: check failed: { $reason }
note-action-required = ACTION REQUIRED: { $text }
hint-crashed = ACTION REQUIRED: start it again (/start { $id }) or enable autoResume
hint-stalled = ACTION REQUIRED: no progress: check the job, or stop it (/stop { $id })
hint-check = ACTION REQUIRED: check the job
resume-start = auto-resume: starting
resume-started = auto-resume: started
resume-failed = auto-resume: start failed ({ $reason }) — ACTION REQUIRED
resume-would-start = auto-resume: would start (dry run)
resume-backoff = auto-resume: waiting (backoff)
resume-blocked = auto-resume: blocked: the job is not read_only — ACTION REQUIRED
note-reminder = ⏰ reminder { $count }: still so after { $duration }
note-resumed = ▶️ { $job }: crashed { $crashed } → resumed { $resumed }
note-resumed-at = ▶️ { $job }: crashed { $crashed } → resumed { $resumed } at { $progress }
note-recovered = recovered: the check passes again
note-late = missed { $missed } while stopped; ran at { $ran }
note-log-unreadable = its log { $path } could not be read: { $reason }
note-state-reset = ⚠️ its saved state could not be read ({ $error }); it starts fresh: a stall, crash or failing check is judged anew from now. The unreadable row is kept in the state file (table job_state_unreadable).
note-log-tail = last lines of its log:
note-output = output:
note-result = result: { $text }
note-queued = queued { $job } (in { $delay })
note-verification = verification of write request #{ $id }: { $verdict }
note-verification-after-failure = after the failed write request #{ $id }: { $verdict }
verdict-ok = ok
verdict-failed = FAILED
note-interrupted = write request #{ $id } was running when ops-monitor stopped: interrupted — outcome unknown; it is not re-run. ACTION REQUIRED: verify ({ $jobs })
note-expired = approval request #{ $id } expired; nothing ran

## Run outcomes
outcome-exit = exit { $code }
outcome-signal = killed by signal { $signal }
outcome-timeout = timed out after { $duration } (process group killed)
outcome-spawn = could not start: { $error }
outcome-pending = not started yet
outcome-running = still running (pid { $pid })
outcome-line = { $action } { $name } ({ $id }): { $summary } in { $duration }
outcome-line-not-started = { $action } { $name } ({ $id }): { $summary }
outcome-output = output:
action-start = start
action-stop = stop
action-run = run
action-logs = see the logs of
action-chart = draw the chart of
action-failed = { $action } { $id } failed: { $error }
run-check-failing = the check is failing: { $line }
start-just-started = { $id } was started { $seconds } s ago: not started again
start-already-running = { $id } is already running (pid { $pid }): not started again
start-already-running-no-pid = { $id } is already running: not started again
cli-force-hint = --force starts it anyway
stop-signalled = stop { $id }: SIGTERM sent to process group { $pgid } (pid { $pid })
start-not-done = { $id } was not started: its start command failed
stop-not-done = { $id } was not stopped: its stop command failed
start-unsure = { $id } may not have started: its start command did not finish
stop-unsure = { $id } may still be running: its stop command did not finish

## /status overview
overview-header = { $host } · { jobs-count } ({ $time })
overview-line = • { $name } ({ $id }): { $summary }
overview-last = last { $action }: { $summary } at { $when }
overview-next = next { $when }
overview-refused = 🚫 { $count ->
    [one] 1 update
   *[other] { $count } updates
} from outside the allowlist refused (latest: chat { $chat }, user { $user }, { $when })
overview-status-unavailable = status unavailable: { $reason }
failure-empty = status printed nothing (expected one JSON object)
failure-not-object = status output is not a JSON object
failure-missing-fields = status JSON must include boolean fields running and completed
failure-command = status command { $outcome }{ $detail }
overview-last-run = last run: { $summary }
overview-never = never ran
in-flight = in flight

## Buttons
btn-start = ▶ Start { $job }
btn-stop = ⏹ Stop { $job }
btn-run = ▶ Run { $job }
btn-run-again = 🔁 Run again { $job }
btn-request = 📝 Request { $job }
btn-logs = 📄 Logs { $job }
btn-chart = 📈 Chart { $job }
btn-refresh = 🔄 Refresh
btn-ack = ✅ Ack { $job }
btn-snooze = 😴 Snooze 1h { $job }
btn-verify = 🔁 Verify { $job }
btn-approve = ✅ Approve
btn-reject = ❌ Reject
btn-approve-id = ✅ Approve #{ $id } { $job }
btn-reject-id = ❌ Reject #{ $id } { $job }

## Commands (menu descriptions and /help)
cmd-status = overview of the jobs (or /status <job>)
cmd-start = start a long job
cmd-stop = stop a long job
cmd-run = run a check now, or request a write job
cmd-logs = output of a job's last run
cmd-chart = chart of a long job's progress (PNG)
cmd-pending = open approval requests of write jobs
cmd-lang = choose the language of this chat
cmd-help = this help
cmd-menu = { $host }: { $text }
help-header = Commands of { $host }:

## Replies
held-heading = ⏳ { $count ->
    [one] 1 message was
   *[other] { $count } messages were
} held while this chat had not opened the bot:
reply-greeting = Hello! I watch the jobs of { $host }. Pick a job to start, or send /status or /help.
reply-unknown-command = Unknown command.
reply-from = { $host }: { $text }
reply-config-invalid = The config is invalid and no good config is known; see the host.
reply-pick = Pick a job to { $action }:
reply-no-job = No job here allows { $action }.
reply-none-running = No job is running now: nothing to stop.
reply-all-running = Every job that can be started is running now.
reply-refused = Refused: { $reason }
reply-unknown-job = Unknown job "{ $id }". Known: { $known }
reply-no-run = { $id } has no recorded run.
reply-no-chart = { $id } has no progress history to draw yet (long jobs that report progress only).
chart-caption = { $name } ({ $id }): progress since { $since } (estimates marked ≈)
reply-logs = last { $action } of { $id }: { $summary }
reply-no-pending = No open approval requests.
reply-lang-pick = Choose the language for this chat:
reply-lang-set = This chat now gets English.
reply-lang-unknown = Unknown language "{ $code }". Available: { $available }

## Button answers
answer-not-allowed = Not allowed.
answer-used = This button was already used. Send /status for fresh buttons.
answer-unknown = Unknown or expired button.
answer-config-invalid = The config is invalid.
answer-refreshed = Refreshed.
answer-gone = This job is no longer in the config.
answer-acting = { $action } { $id }…
alert-acked-by = ✅ Acknowledged by { $who } at { $at }
alert-snoozed-by = 😴 Snoozed by { $who } until { $until }
answer-acked = { $id }: acknowledged; not repeated until it changes.
answer-snoozed = { $id }: snoozed for 1 h in every chat (new anomalies still come).
answer-snoozed-here = { $id }: snoozed for 1 h in this chat (new anomalies still come; an approver can snooze it for every chat).
answer-unknown-request = Unknown request.
answer-approve-refused = Refused: { $reason }.
answer-approved = Approved: running { $id } once.
answer-rejected = Rejected: nothing runs.
answer-run-restarted = This alert is about the run of { $run }; the job was restarted since. Nothing was done.
answer-run-ended = This alert is about the run of { $run }; that run has ended since. Nothing was done.
did-start = ▶️ { $id } started by { $who } at { $at }, { $place }
did-stop = ⏹ { $id } stopped by { $who } at { $at }, { $place }
did-run = 🔁 { $id } run by { $who } at { $at }, { $place }: { $summary }
did-in-group = from the group “{ $title }”
did-in-private = from a private chat
did-approve = ✅ request #{ $id } ({ $job }) approved by { $who } at { $at }, { $place }; result: { $summary }
did-reject = ❌ request #{ $id } ({ $job }) rejected by { $who } at { $at }, { $place }: nothing ran
refuse-not-operator = Not allowed: only the operators (telegram.operatorUserIds) and the approvers may start, stop or run jobs from a chat; you are user { $user }.

## Write-job approvals
approval-request = 🔐 Approval request #{ $id } · { $host }
approval-already-open = This job already has an open request (shown again; nobody else was asked):
approval-job = • { $name } ({ $job })
approval-risk = - risk: { $risk }
approval-argv = - argv: { $argv }
approval-cwd = - cwd: { $cwd }
approval-then = - then: { $then }
approval-then-item = { $job } ({ $when }, after { $delay })
approval-asked-by = - asked by: { $who }
approval-expires = - expires: { $when }
approval-decided-approved = ✅ Approved by { $who } at { $when }
approval-decided-rejected = ❌ Rejected by { $who } at { $when }
approval-decided-expired = ⌛ Expired: nothing ran
approval-decided-void = ⚠️ Void: the job's definition changed since the request; nothing ran
approval-decided-ran = ▶ ran once: { $summary } in { $duration }
approval-decided-failed = ❌ ran once and failed: { $summary } in { $duration }
approval-decided-interrupted = ⚠️ interrupted: ops-monitor stopped during the run; outcome unknown, not run again
approval-result-refused = Request #{ $id } · { $host } ({ $job }): { $who } pressed, refused: { $reason }. Nothing ran now.
approval-result-rejected = Request #{ $id } · { $host } ({ $job }): rejected. Nothing ran.
approval-result-ran = Request #{ $id } · { $host } ({ $job }): ran once: { $summary } in { $duration }
approval-result-failed = Request #{ $id } · { $host } ({ $job }): ❌ ran once and failed: { $summary } in { $duration }
approval-verification-queued = verification queued: { $jobs }
cli-request-disabled = job { $id } is disabled (enabled: false in the config): nothing was requested; enable it to run it
cli-approval-not-required = approval.required is false: running { $id } now (explicit request)
cli-approval-created = approval request created:
cli-approval-how = approve with `ops-monitor approve { $id }` or the Approve button in Telegram
cli-no-pending = no open requests
cli-approval-unknown = no approval request #{ $id } (see `ops-monitor pending` or `audit`)
cli-approval-refused = request #{ $id } ({ $job }): refused: { $reason }
cli-no-audit = no audit entries
cli-no-audit-for = no audit entries for { $job }

## Warnings to the owner
warn-conflict = ⚠️ { $host }: Another program is polling this bot's updates (Telegram 409: terminated by other getUpdates request). Only one ops-monitor serve may use a token.
warn-migrated = ⚠️ Group chat { $old } moved to chat id { $new } (it became a supergroup). Messages for it are re-sent to the new id once. Add { $new } to telegram.allowedChatIds to keep commands and reports working there; the allowlist was not changed.

## Why an approval is refused
refuse-not-pending = { $state ->
    [running] this request is running now
    [succeeded] this request already ran (succeeded)
    [failed] this request already ran (failed)
    [rejected] this request was rejected
    [expired] this request has expired
    [void] this request is void (its job changed or was turned off)
    [interrupted] this request was interrupted
   *[other] this request is already { $state }
}
refuse-expired = this request has expired
refuse-not-approver = you are not an approver of write jobs
refuse-own = the job requires a different person to approve than the one who asked
refuse-changed = the job's definition changed since the request; ask again
refuse-disabled = the job is disabled (enabled: false in the config)
refuse-gone = the job is no longer in the config

## Config errors, chain queue, dry run
config-invalid = ALERT: the config is invalid: { $file }
config-keeps-last-good = fix the file; the last good config stays in use
config-none-good = fix the file; no good config is known, so nothing is monitored
chain-blocked = queued job blocked: only one_shot_read read_only jobs run from a chain ({ $kind }, { $risk })
chain-unknown = queued job "{ $job }" is not in the config
chain-queued-because = queued because: { $reason }
chain-after-success = after { $job } (success)
chain-after-failure = after { $job } (failure)
dry-would-run-queued = would run (queued: { $reason })
dry-would-run-schedule = would run (schedule due)
dry-would-ask-schedule = would ask for approval (schedule due)

## Keeping it watched (doctor, back online)
doctor-test = ops-monitor doctor on { $host }: test message. This chat receives the reports of { $config }.
setup-greeting = ✅ ops-monitor on { $host } is connected to this chat: reports, alerts and approval requests come here once ops-monitor serve runs. Then send /status.
back-online = { $host }: ops-monitor is back — down { $duration } (since { $since }, { $why })
back-why-unclean = unclean stop
back-why-clean = stopped cleanly

## A chat's backlog sent merged (after an outage)
backlog-header = While Telegram was unreachable · { $host } · { $from }–{ $to }: { $alerts ->
    [one] 1 alert
   *[other] { $alerts } alerts
}{ $updates ->
    [0] {""}
    [one] , 1 update
   *[other] , { $updates } updates
}
backlog-recovered = { $heading } — { $what } (since recovered)
backlog-changed = { $heading } — { $what } (since changed)

## The live progress message (one per chat, edited in place)
live-more = { $count ->
    [one] … and 1 more running job: /status
   *[other] … and { $count } more running jobs: /status
}
live-idle = No job running now
live-idle-after = No job running now · last: { $jobs }
reply-write-disabled = { $id } is disabled (enabled: false in the config): nothing was requested. Enable it in the config to run it.
reply-dropped-note = ({ $count } older { $count ->
        [one] reply
       *[other] replies
    } dropped: this chat asked faster than Telegram lets a bot answer)
reply-in-flight = { $action } { $id } is already under way from this chat; its result follows
chart-failed = the chart of { $id } could not be sent (Telegram refused it or could not be reached; the details are in the daemon's log). Try again in a minute.
