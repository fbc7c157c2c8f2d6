# Shell helpers the test labs share (scripts/avahi-lab.sh, scripts/tor-lab.sh): sourced, not run.

# Closes every descriptor above 2 that this shell inherited. Daemons are started through it:
# a test runner may watch a descriptor it handed to the script (Foundation's Process does) to
# learn that the script ended, which a daemon holding it open would hide forever.
close_inherited_fds() {
  local fd
  for fd in $(ls /proc/$BASHPID/fd); do
    [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
  done
}

# A process that exists and is not a zombie (a killed daemon stays one until init reaps it).
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $state != Z* ]]
}

# SIGTERM, then SIGKILL after up to 5 s (dbus-daemon ignores SIGTERM).
stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do alive "$pid" || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
