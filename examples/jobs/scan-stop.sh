#!/bin/sh
# Stops the demo scan: SIGTERM to the worker, then waits (at most 10 s) until it has exited, so
# the next status already says it is not running. The checkpoint stays: a start resumes there.
dir="${OPS_STATE_DIR:?}"
pid=$(cat "$dir/pid" 2>/dev/null || true)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
  echo "not running"
  exit 0
fi
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
  sleep 0.1
  i=$((i + 1))
done
if kill -0 "$pid" 2>/dev/null; then
  echo "still running 10 s after SIGTERM (pid $pid)"
  exit 1
fi
echo "stopped at item $(cat "$dir/checkpoint" 2>/dev/null || echo 0)"
