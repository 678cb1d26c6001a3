#!/bin/sh
# The demo "disk scan": 60 items, one every SCAN_STEP_SECONDS (default 2), checkpointed. It ends
# by itself when its state folder is removed (`rm -rf /tmp/ops-demo` resets the demo).
dir="$1"
total=60
done_items=$(cat "$dir/checkpoint" 2>/dev/null || echo 0)
trap 'echo "stopped by signal" > "$dir/stopped"; exit 143' TERM INT
while [ "$done_items" -lt "$total" ]; do
  sleep "${SCAN_STEP_SECONDS:-2}"
  [ -d "$dir" ] || exit 0
  done_items=$((done_items + 1))
  echo "$done_items" > "$dir/checkpoint.tmp" && mv "$dir/checkpoint.tmp" "$dir/checkpoint"
done
touch "$dir/completed"
