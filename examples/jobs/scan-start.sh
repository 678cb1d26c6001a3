#!/bin/sh
# Starts the demo scan in the background (its own process group is ops-monitor's run group).
# Resumes from the checkpoint in $OPS_STATE_DIR; a completed scan starts over from item 0, so the
# demo can be run again. Exits at once.
set -eu
dir="${OPS_STATE_DIR:?OPS_STATE_DIR is set by ops-monitor}"
. "$(dirname "$0")/alive.sh"
pid=$(cat "$dir/pid" 2>/dev/null || true)
if alive "$pid"; then
  echo "already running (pid $pid)"
  exit 0
fi
if [ -f "$dir/completed" ]; then
  rm -f "$dir/completed" "$dir/checkpoint"
  echo "the last scan completed: starting over"
fi
rm -f "$dir/stopped"
nohup sh "$(dirname "$0")/scan-worker.sh" "$dir" >/dev/null 2>&1 &
echo $! > "$dir/pid"
echo "started (pid $!), resuming at item $(cat "$dir/checkpoint" 2>/dev/null || echo 0)"
