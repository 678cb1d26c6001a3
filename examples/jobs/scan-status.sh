#!/bin/sh
# Prints the status contract JSON of the demo scan.
dir="${OPS_STATE_DIR:?}"
done_items=$(cat "$dir/checkpoint" 2>/dev/null || echo 0)
running=false; pid=null; completed=false; reason=null
if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then running=true; pid=$(cat "$dir/pid"); fi
[ -f "$dir/completed" ] && completed=true
[ -f "$dir/stopped" ] && reason='"stopped"'
printf '{"running":%s,"completed":%s,"pid":%s,"stopReason":%s,"progress":{"done":%s,"total":60},"level":"ok","message":"demo scan"}\n' \
  "$running" "$completed" "$pid" "$reason" "$done_items"
