#!/bin/sh
# Starts the demo scan in the background (its own process group is ops-monitor's run group).
# Resumes from the checkpoint in $OPS_STATE_DIR. Exits at once.
set -eu
dir="${OPS_STATE_DIR:?OPS_STATE_DIR is set by ops-monitor}"
if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
  echo "already running (pid $(cat "$dir/pid"))"
  exit 0
fi
rm -f "$dir/stopped"
nohup sh "$(dirname "$0")/scan-worker.sh" "$dir" >/dev/null 2>&1 &
echo $! > "$dir/pid"
echo "started (pid $!), resuming at item $(cat "$dir/checkpoint" 2>/dev/null || echo 0)"
