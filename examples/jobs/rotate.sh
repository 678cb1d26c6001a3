#!/bin/sh
# Demo write job: "rotates" a marker file in its state folder.
set -eu
date -u +%Y-%m-%dT%H:%M:%SZ > "${OPS_STATE_DIR:?}/rotated-at"
echo "rotated at $(cat "$OPS_STATE_DIR/rotated-at")"
