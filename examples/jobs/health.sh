#!/bin/sh
# Demo health check: free space of the current folder; ALERT above HEALTH_MAX_USED (default 95%).
used=$(df -P . | awk 'NR==2 {gsub("%","",$5); print $5}')
max="${HEALTH_MAX_USED:-95}"
if [ "$used" -gt "$max" ]; then
  echo "ALERT: disk ${used}% used (limit ${max}%)"
else
  echo "ok: disk ${used}% used"
fi
