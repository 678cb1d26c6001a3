#!/bin/sh
# Stops the demo scan: SIGTERM to the worker, then waits (at most 10 s) until it has exited, so
# the next status already says it is not running. The checkpoint stays: a start resumes there.
. "$(dirname "$0")/alive.sh"
dir="${OPS_STATE_DIR:?}"
pid=$(cat "$dir/pid" 2>/dev/null || true)
if [ -z "$pid" ] || ! alive "$pid"; then
  echo "not running"
  exit 0
fi
kill -TERM "$pid"
i=0
while alive "$pid" && [ "$i" -lt 100 ]; do
  sleep 0.1
  i=$((i + 1))
done
if alive "$pid"; then
  echo "still running 10 s after SIGTERM (pid $pid)"
  exit 1
fi
echo "stopped at item $(cat "$dir/checkpoint" 2>/dev/null || echo 0)"
