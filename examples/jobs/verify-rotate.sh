#!/bin/sh
# Verification of rotate.sh (read-only): the marker must exist.
marker="${OPS_STATE_DIR:?}/../rotate-demo/rotated-at"
if [ -f "$marker" ]; then echo "ok: rotated at $(cat "$marker")"; else echo "ACTION REQUIRED: no rotation marker"; exit 1; fi
