#!/bin/sh
# Prints the status contract JSON of the demo scan.
# "running": the worker exists and is not a zombie (see alive.sh: `kill -0` alone would count a
# dead, unreaped worker as running, and ops-monitor would notice its death seconds late).
. "$(dirname "$0")/alive.sh"
dir="${OPS_STATE_DIR:?}"
done_items=$(cat "$dir/checkpoint" 2>/dev/null || echo 0)
running=false; pid=null; completed=false; reason=null
worker=$(cat "$dir/pid" 2>/dev/null || true)
if alive "$worker"; then running=true; pid=$worker; fi
[ -f "$dir/completed" ] && completed=true
[ -f "$dir/stopped" ] && reason='"stopped"'
printf '{"running":%s,"completed":%s,"pid":%s,"stopReason":%s,"progress":{"done":%s,"total":60},"level":"ok","message":"demo scan"}\n' \
  "$running" "$completed" "$pid" "$reason" "$done_items"
