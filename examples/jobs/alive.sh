# Sourced by the demo scripts: `alive PID` is true while the process exists and is not a zombie.
# `kill -0` also succeeds for a zombie (a process that has exited but was not reaped yet), so a
# dead worker would look alive until its parent reaps it, seconds later or never. The state letter
# in /proc/<pid>/stat (after the ")" that ends the name) is Z for a zombie; where /proc does not
# exist, `ps -o stat=` says the same.
alive() {
  [ -n "$1" ] || return 1
  if [ -r "/proc/$1/stat" ]; then
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
  else
    state=$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)
  fi
  [ -n "$state" ] && [ "$state" != Z ]
}
