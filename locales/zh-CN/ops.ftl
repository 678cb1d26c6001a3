# ops-monitor 面向用户的文本，简体中文。
# 每个键都必须与 en/ops.ftl 一致；tests/locales.rs 检查键与占位符。

## 时长与计数
duration-ms = { $ms } 毫秒
duration-s = { $s } 秒
duration-m = { $m } 分钟
duration-m-s = { $m } 分 { $s } 秒
duration-h-m = { $h } 小时 { $m } 分
jobs-count = { $count } 个任务

## 报告
report-header = 🛠️ Ops 快报 · { $host } · { $time }
section-heading = • { $name }（{ $id }，{ $kind }）
section-heading-plain = • { $name }
kind-long-running-read = 长时任务
kind-one-shot-read = 检查
kind-one-shot-write = 写入任务
fact-status = - 状态：{ $state }
fact-message = - 信息：{ $text }
fact-progress = - 进度：{ $text }
rate-per-s = { $value } { $unit }/秒
rate-per-min = { $value } { $unit }/分钟
rate-per-h = { $value } { $unit }/小时
eta-at = 预计完成 { $time }（≈ { $duration }）
progress-not-moving = 近期没有进展
eta-unknown = 预计完成时间未知
digest-title = 🌅 静默时段已结束 · { $host }
digest-intro = { $since } 至 { $until } { $rang ->
    [0] 没有告警响铃
   *[other] 只有告警会响铃（共 { $rang } 条）
}；{ $held ->
    [0] 没有暂存的消息。
   *[other] 暂存了 { $held } 条消息，汇总如下。
}
digest-progress = 进度：{ $then } → { $now }
digest-more = … 另有 { $count } 条更早的事件未列出
digest-alert = { $what }（响铃 { $times } 次）— { $now }
digest-open = 仍未解决
digest-acked = 已确认，仍未解决
digest-over = 现已结束
digest-completed = 已完成 ✅
digest-running = 运行中
digest-decide = 待你决定：
digest-pending = 审批请求 #{ $id }：{ $job }（由 { $who } 发起），{ $expires } 过期
state-completed = 已完成 ✅
state-running = 运行中
state-running-pid = 运行中（pid { $pid }）
state-not-running = 未运行
state-not-started = 未启动
state-stopped = 已停止
state-crashed = 已崩溃
state-with-reason = { $state }（stopReason：{ $reason }）
standing-running-for = 运行中（已 { $duration }）
standing-stalled = 已停滞 { $duration }
standing-completed-at = { $time } 已完成
standing-crashed-at = { $time } 崩溃
standing-stopped-at = { $time } 已停止
standing-failing = 检查失败
standing-failing-since = 自 { $time } 起检查失败
anomaly-stalled = ALERT：已 { $duration } 没有进展（停滞）
anomaly-crashed = ALERT：已崩溃：任务未完成就已退出
anomaly-crashed-after = ALERT：运行 { $duration } 后崩溃：任务未完成就已退出
anomaly-crashed-how = ALERT：已崩溃（{ $how }）：任务未完成就已退出
anomaly-crashed-after-how = ALERT：运行 { $duration } 后崩溃（{ $how }）：任务未完成就已退出
anomaly-invalid-status = ALERT：无法获取状态：{ $reason }
anomaly-job-alert = ALERT：任务报告告警
anomaly-job-alert-message = ALERT：任务报告告警：{ $message }
anomaly-check-says = { $line }
anomaly-check-failed = ALERT：检查失败：{ $reason }
note-action-required = ACTION REQUIRED（需要处理）：{ $text }
hint-crashed = ACTION REQUIRED（需要处理）：请重新启动（/start { $id }）或开启 autoResume
hint-stalled = ACTION REQUIRED（需要处理）：没有进展：请检查任务，或停止它（/stop { $id }）
hint-check = ACTION REQUIRED（需要处理）：请检查任务
resume-start = 自动恢复：正在启动
resume-started = 自动恢复：已启动
resume-failed = 自动恢复：启动失败（{ $reason }）— ACTION REQUIRED（需要处理）
resume-would-start = 自动恢复：将会启动（演练）
resume-backoff = 自动恢复：等待中（退避）
resume-blocked = 自动恢复：已阻止：任务不是 read_only — ACTION REQUIRED（需要处理）
note-reminder = ⏰ 第 { $count } 次提醒：已持续 { $duration }
note-resumed = ▶️ { $job }：{ $crashed } 崩溃 → { $resumed } 已自动恢复
note-resumed-at = ▶️ { $job }：{ $crashed } 崩溃 → { $resumed } 已自动恢复，进度 { $progress }
note-recovered = 已恢复：检查再次通过
note-late = 停止期间错过了 { $missed }；已于 { $ran } 补跑
note-log-unreadable = 无法读取其日志 { $path }：{ $reason }
note-state-reset = ⚠️ 无法读取其保存的状态（{ $error }）；从头开始：停滞、崩溃或检查失败将从现在起重新判断。无法读取的记录保留在状态文件中（表 job_state_unreadable）。
note-log-tail = 日志最后几行：
note-output = 输出：
note-result = 结果：{ $text }
note-queued = 已排队 { $job }（{ $delay } 后）
note-verification = 写入请求 #{ $id } 的验证：{ $verdict }
note-verification-after-failure = 写入请求 #{ $id } 失败之后：{ $verdict }
verdict-ok = 通过
verdict-failed = 失败（FAILED）
note-interrupted = 写入请求 #{ $id } 在 ops-monitor 停止时正在运行：已中断 — 结果未知；不会自动重跑。ACTION REQUIRED（需要处理）：请验证（{ $jobs }）
note-expired = 审批请求 #{ $id } 已过期；没有运行任何内容

## 运行结果
outcome-exit = 退出码 { $code }
outcome-signal = 被信号 { $signal } 终止
outcome-timeout = { $duration } 后超时（已终止整个进程组）
outcome-spawn = 无法启动：{ $error }
outcome-pending = 尚未启动
outcome-running = 仍在运行（pid { $pid }）
outcome-line = { $action } { $name }（{ $id }）：{ $summary }，用时 { $duration }
outcome-line-not-started = { $action } { $name }（{ $id }）：{ $summary }
outcome-output = 输出：
action-start = 启动
action-stop = 停止
action-run = 运行
action-logs = 查看日志
action-chart = 绘制进度图
action-failed = { $action } { $id } 失败：{ $error }
run-check-failing = 检查未通过：{ $line }
start-just-started = { $id } 在 { $seconds } 秒前刚启动：不再重复启动
start-already-running = { $id } 已在运行（pid { $pid }）：不再重复启动
start-already-running-no-pid = { $id } 已在运行：不再重复启动
cli-force-hint = 加 --force 仍会启动
stop-signalled = 停止 { $id }：已向进程组 { $pgid }（pid { $pid }）发送 SIGTERM
start-not-done = { $id } 未启动：启动命令失败
stop-not-done = { $id } 未停止：停止命令失败
start-unsure = { $id } 可能未启动：启动命令未正常结束
stop-unsure = { $id } 可能仍在运行：停止命令未正常结束

## /status 概览
overview-header = { $host } · { jobs-count }（{ $time }）
overview-line = • { $name }（{ $id }）：{ $summary }
overview-last = 上次{ $action }：{ $summary }，于 { $when }
overview-next = 下次 { $when }
overview-refused = 🚫 已拒绝 { $count } 条来自允许列表之外的消息（最近一次：聊天 { $chat }，用户 { $user }，{ $when }）
failure-empty = 状态命令没有输出（应为一个 JSON 对象）
failure-not-object = 状态输出不是 JSON 对象
failure-missing-fields = 状态 JSON 必须包含布尔字段 running 和 completed
failure-command = 状态命令{ $outcome }{ $detail }
overview-status-unavailable = 无法获取状态：{ $reason }
overview-last-run = 上次运行：{ $summary }
overview-never = 从未运行
in-flight = 进行中

## 按钮
btn-start = ▶ 启动 { $job }
btn-stop = ⏹ 停止 { $job }
btn-run = ▶ 运行 { $job }
btn-run-again = 🔁 再次运行 { $job }
btn-request = 📝 申请 { $job }
btn-logs = 📄 日志 { $job }
btn-chart = 📈 进度图 { $job }
btn-refresh = 🔄 刷新
btn-ack = ✅ 确认 { $job }
btn-snooze = 😴 静音 1 小时 { $job }
btn-verify = 🔁 验证 { $job }
btn-approve = ✅ 批准
btn-reject = ❌ 拒绝
btn-approve-id = ✅ 批准 #{ $id } { $job }
btn-reject-id = ❌ 拒绝 #{ $id } { $job }

## 命令
cmd-status = 任务概览（或 /status <任务>）
cmd-start = 启动长任务
cmd-stop = 停止长任务
cmd-run = 立即运行检查，或申请运行写入任务
cmd-logs = 任务上次运行的输出
cmd-chart = 长任务进度图（PNG）
cmd-pending = 写入任务的待审批请求
cmd-lang = 选择本聊天的语言
cmd-help = 帮助
cmd-menu = { $host }：{ $text }
help-header = { $host } 的命令：

## 回复
held-heading = ⏳ 此聊天尚未打开机器人时暂存了 { $count } 条消息：
reply-greeting = 你好！我负责监视 { $host } 上的任务。选择一个任务启动，或发送 /status、/help。
reply-from = { $host }：{ $text }
reply-unknown-command = 未知命令。
reply-config-invalid = 配置无效，且没有已知的有效配置；请到主机上查看。
reply-pick = 选择要{ $action }的任务：
reply-no-job = 这里没有可以{ $action }的任务。
reply-none-running = 现在没有正在运行的任务：无可停止。
reply-all-running = 所有可启动的任务都在运行。
reply-refused = 已拒绝：{ $reason }
reply-unknown-job = 未知任务“{ $id }”。已知：{ $known }
reply-no-run = { $id } 没有运行记录。
reply-no-chart = { $id } 还没有可绘制的进度历史（仅限报告进度的长任务）。
chart-caption = { $name }（{ $id }）：自 { $since } 以来的进度（≈ 为估计值）
reply-logs = { $id } 上次{ $action }：{ $summary }
reply-no-pending = 没有待审批的请求。
reply-lang-pick = 选择本聊天使用的语言：
reply-lang-set = 本聊天现在使用简体中文。
reply-lang-unknown = 未知语言“{ $code }”。可选：{ $available }

## 按钮应答
answer-not-allowed = 不允许。
answer-used = 这个按钮已经用过了。发送 /status 获取新按钮。
answer-unknown = 未知或已过期的按钮。
answer-config-invalid = 配置无效。
answer-refreshed = 已刷新。
answer-gone = 该任务已不在配置中。
answer-acting = { $action } { $id }…
alert-acked-by = ✅ 已由 { $who } 于 { $at } 确认
alert-snoozed-by = 😴 已由 { $who } 静音至 { $until }
answer-acked = { $id }：已确认；在变化之前不再重复提醒。
answer-snoozed = { $id }：所有聊天静音 1 小时（新的异常仍会通知）。
answer-snoozed-here = { $id }：本聊天静音 1 小时（新的异常仍会通知；审批人可为所有聊天静音）。
answer-unknown-request = 未知请求。
answer-approve-refused = 已拒绝：{ $reason }。
answer-approved = 已批准：{ $id } 将运行一次。
answer-rejected = 已驳回：不会运行。
answer-run-restarted = 此提醒针对 { $run } 开始的那次运行；任务此后已重新启动。未执行任何操作。
answer-run-ended = 此提醒针对 { $run } 开始的那次运行；那次运行此后已结束。未执行任何操作。
did-start = ▶️ { $id } 已由 { $who } 于 { $at } 启动（{ $place }）
did-stop = ⏹ { $id } 已由 { $who } 于 { $at } 停止（{ $place }）
did-run = 🔁 { $id } 已由 { $who } 于 { $at } 运行（{ $place }）：{ $summary }
did-in-group = 来自群组“{ $title }”
did-in-private = 来自私聊
did-approve = ✅ 请求 #{ $id }（{ $job }）已由 { $who } 于 { $at } 批准（{ $place }）；结果：{ $summary }
did-reject = ❌ 请求 #{ $id }（{ $job }）已由 { $who } 于 { $at } 驳回（{ $place }）：未运行任何内容
refuse-not-operator = 不允许：只有操作员（telegram.operatorUserIds）和审批人可以在聊天中启动、停止或运行任务；你的用户 ID 是 { $user }。

## 写入任务审批
approval-request = 🔐 审批请求 #{ $id } · { $host }
approval-already-open = 该任务已有一个待审批的请求（再次显示，未通知其他人）：
approval-job = • { $name }（{ $job }）
approval-risk = - 风险：{ $risk }
approval-argv = - 命令：{ $argv }
approval-cwd = - 目录：{ $cwd }
approval-then = - 随后：{ $then }
approval-then-item = { $job }（{ $when }，{ $delay } 后）
approval-asked-by = - 请求人：{ $who }
approval-expires = - 过期时间：{ $when }
approval-decided-approved = ✅ 由 { $who } 于 { $when } 批准
approval-decided-rejected = ❌ 由 { $who } 于 { $when } 驳回
approval-decided-expired = ⌛ 已过期：没有运行任何内容
approval-decided-void = ⚠️ 已作废：请求之后任务定义已更改；没有运行任何内容
approval-decided-ran = ▶ 已运行一次：{ $summary }，用时 { $duration }
approval-decided-failed = ❌ 已运行一次，失败：{ $summary }，用时 { $duration }
approval-decided-interrupted = ⚠️ 已中断：运行期间 ops-monitor 停止；结果未知，不会再次运行
approval-result-refused = 请求 #{ $id } · { $host }（{ $job }）：{ $who } 的操作已被拒绝：{ $reason }。本次没有运行任何内容。
approval-result-rejected = 请求 #{ $id } · { $host }（{ $job }）：已驳回。没有运行任何内容。
approval-result-ran = 请求 #{ $id } · { $host }（{ $job }）：已运行一次：{ $summary }，用时 { $duration }
approval-result-failed = 请求 #{ $id } · { $host }（{ $job }）：❌ 已运行一次，失败：{ $summary }，用时 { $duration }
approval-verification-queued = 已排队验证：{ $jobs }
cli-request-disabled = 任务 { $id } 已停用（配置中 enabled: false）：未创建请求；启用后才能运行
cli-approval-not-required = approval.required 为 false：现在运行 { $id }（明确请求）
cli-approval-created = 已创建审批请求：
cli-approval-how = 用 `ops-monitor approve { $id }` 或 Telegram 中的批准按钮批准
cli-no-pending = 没有待审批的请求
cli-approval-unknown = 没有审批请求 #{ $id }（见 `ops-monitor pending` 或 `audit`）
cli-approval-refused = 请求 #{ $id }（{ $job }）：已拒绝：{ $reason }
cli-no-audit = 没有审计记录
cli-no-audit-for = { $job } 没有审计记录

## 给负责人的警告
warn-conflict = ⚠️ { $host }：另一个程序正在拉取这个机器人的更新（Telegram 409：terminated by other getUpdates request）。一个令牌只能由一个 ops-monitor serve 使用。
warn-migrated = ⚠️ 群聊 { $old } 已迁移到聊天 id { $new }（升级为超级群组）。发给它的消息会在新 id 重发一次。请把 { $new } 加入 telegram.allowedChatIds 以继续在那里使用命令和报告；允许列表没有被更改。

## 审批被拒绝的原因
refuse-not-pending = { $state ->
    [running] 该请求正在执行
    [succeeded] 该请求已执行（成功）
    [failed] 该请求已执行（失败）
    [rejected] 该请求已被拒绝
    [expired] 该请求已过期
    [void] 该请求已失效（任务已更改或已停用）
    [interrupted] 该请求已中断
   *[other] 该请求已是 { $state } 状态
}
refuse-expired = 该请求已过期（expired）
refuse-not-approver = 你不是写入任务的审批人
refuse-own = 该任务要求由请求人以外的人批准
refuse-changed = 自请求以来任务定义已更改（changed）；请重新请求
refuse-disabled = 该任务已停用（enabled: false）
refuse-gone = 该任务已不在配置中

## 配置错误、链式队列、演练
config-invalid = ALERT（告警）：配置无效：{ $file }
config-keeps-last-good = 请修正该文件；继续使用上一份有效配置
config-none-good = 请修正该文件；没有可用的有效配置，因此不会监控任何任务
chain-blocked = 队列任务被阻断：链式任务只能运行 one_shot_read 且 read_only 的任务（{ $kind }，{ $risk }）
chain-unknown = 队列任务 "{ $job }" 不在配置中
chain-queued-because = 排队原因：{ $reason }
chain-after-success = 在 { $job } 成功之后
chain-after-failure = 在 { $job } 失败之后
dry-would-run-queued = 将会运行（已排队：{ $reason }）
dry-would-run-schedule = 将会运行（计划时间已到）
dry-would-ask-schedule = 将会请求审批（计划时间已到）

## Keeping it watched (doctor, back online)
doctor-test = { $host } 上的 ops-monitor doctor：测试消息。此聊天会收到 { $config } 的报告。
setup-greeting = ✅ { $host } 上的 ops-monitor 已连接到此聊天：ops-monitor serve 运行后，报告、警报和审批请求会发到这里。然后发送 /status。
back-online = { $host }：ops-monitor 已恢复 — 停机 { $duration }（自 { $since } 起，{ $why }）
back-why-unclean = 非正常停止
back-why-clean = 正常停止

## 积压消息合并发送（Telegram 中断之后）
backlog-header = Telegram 无法连接期间 · { $host } · { $from }–{ $to }：{ $alerts } 条告警{ $updates ->
    [0] {""}
   *[other] ，{ $updates } 条更新
}
backlog-recovered = { $heading } — { $what }（已恢复）
backlog-changed = { $heading } — { $what }（已变化）

## 实时进度消息（每个聊天一条，原地更新）
live-more = ……还有 { $count } 个运行中的任务：/status
live-idle = 当前没有运行中的任务
live-idle-after = 当前没有运行中的任务 · 最近：{ $jobs }
reply-write-disabled = { $id } 已停用（配置中 enabled: false）：未创建请求。请在配置中启用后再运行。
reply-dropped-note = （已丢弃 { $count } 条较早的回复：本聊天的请求快于 Telegram 允许机器人回复的速度）
reply-in-flight = 本聊天的 { $action } { $id } 正在进行中；结果随后发送
chart-failed = 无法发送 { $id } 的图表（Telegram 拒绝或无法连接；详情见守护进程日志）。请稍后重试。
