#!/usr/bin/env bash
# A local network of buildings for the discovery tests: one network namespace per building,
# all joined to a bridge in a "switch" namespace, each with its own D-Bus and avahi-daemon
# (allow-interfaces=lan0, so nothing is ever sent outside the namespaces). Needs root and
# `ip netns`; recipe: ../shared/notes/avahi-netns.md.
#
#   avahi-lab.sh check                 exit 0 when a lab can be made here, else say why (exit 2)
#   avahi-lab.sh up DIR SPEC...        make a lab in the new directory DIR; SPEC is NAME (D-Bus and
#                                      avahi-daemon), NAME:nodaemon (D-Bus only) or NAME:bare
#   avahi-lab.sh exec DIR NAME CMD...  run CMD in NAME's namespace, on NAME's D-Bus
#   avahi-lab.sh avahi-stop DIR NAME   stop NAME's avahi-daemon (SIGTERM: it says goodbye)
#   avahi-lab.sh avahi-start DIR NAME  start it again and wait until it is on the bus
#   avahi-lab.sh down DIR              stop every process the lab started (by pid), delete its
#                                      namespaces and DIR
#   avahi-lab.sh reap                  take down labs whose owner process has died
#
# Building NAME gets the address 10.77.0.N/24 (N: its position, from 1) on interface lan0.
# The owner of a lab is $LAB_OWNER (default: the parent of this script); `up` reaps first.
set -euo pipefail
# shellcheck source=lab-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lab-lib.sh"

labs_root=/tmp/palier-labs

die() { echo "avahi-lab: $*" >&2; exit 2; }

check() {
  [ "$(id -u)" -eq 0 ] || die "needs root (network namespaces); run the tests as root, as CI does"
  command -v ip >/dev/null || die "needs ip (iproute2)"
  for tool in avahi-daemon avahi-browse dbus-daemon dbus-send unshare; do
    command -v "$tool" >/dev/null || die "needs $tool (scripts/setup.sh --tests installs it)"
  done
  local probe="plprobe$$"
  ip netns add "$probe" 2>/dev/null || die "cannot make a network namespace here (ip netns add failed)"
  ip netns del "$probe"
}

ns_of() { echo "$(cat "$1/id")-$2"; }

bus_address() { echo "unix:path=$1/$2/bus"; }

wait_for_avahi() {
  local dir=$1 name=$2
  for _ in $(seq 1 100); do
    if ip netns exec "$(ns_of "$dir" "$name")" env DBUS_SYSTEM_BUS_ADDRESS="$(bus_address "$dir" "$name")" \
        dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
        string:org.freedesktop.Avahi 2>/dev/null | grep -q "boolean true"; then
      return 0
    fi
    sleep 0.1
  done
  die "avahi-daemon of $name did not come up; see $dir/$name/avahi.log"
}

avahi_start() {
  local dir=$1 name=$2 ns
  ns=$(ns_of "$dir" "$name")
  # Its own mount namespace, so that its pid file under /run/avahi-daemon is private; each exec
  # keeps the pid, so $! is the daemon's.
  (close_inherited_fds; exec ip netns exec "$ns" unshare -m sh -c "mount -t tmpfs none /run/avahi-daemon 2>/dev/null || { mkdir -p /run/avahi-daemon && mount -t tmpfs none /run/avahi-daemon; }
    exec env DBUS_SYSTEM_BUS_ADDRESS=$(bus_address "$dir" "$name") avahi-daemon -f '$dir/$name/avahi.conf' --no-drop-root --no-chroot") \
    </dev/null >>"$dir/$name/avahi.log" 2>&1 &
  echo $! >"$dir/$name/avahi.pid"
  wait_for_avahi "$dir" "$name"
}

avahi_stop() {
  local dir=$1 name=$2
  [ -f "$dir/$name/avahi.pid" ] || return 0
  stop_pid "$(cat "$dir/$name/avahi.pid")"
  rm -f "$dir/$name/avahi.pid"
}

up() {
  local dir=$1; shift
  [ $# -ge 1 ] || die "up needs at least one building"
  reap
  mkdir -p "$labs_root"
  [ ! -e "$dir" ] || die "$dir exists already"
  mkdir -p "$dir"
  echo "${LAB_OWNER:-$PPID}" >"$dir/owner"
  local id="pl$(printf '%05d' $((RANDOM % 100000)))"
  echo "$id" >"$dir/id"
  ln -s "$dir" "$labs_root/$id"
  trap 'down "$dir"' ERR
  ip netns add "$id-sw"
  echo "$id-sw" >>"$dir/namespaces"
  ip netns exec "$id-sw" sh -c 'ip link set lo up; ip link add br0 type bridge; ip link set br0 up'
  local n=0 spec name mode ns
  for spec in "$@"; do
    n=$((n + 1))
    name=${spec%%:*}
    mode=full
    [ "$spec" = "$name" ] || mode=${spec#*:}
    ns="$id-$name"
    mkdir -p "$dir/$name"
    echo "$name" >>"$dir/buildings"
    ip netns add "$ns"
    echo "$ns" >>"$dir/namespaces"
    ip link add "$id$n" type veth peer name lan0 netns "$ns"
    ip link set "$id$n" netns "$id-sw"
    ip netns exec "$id-sw" sh -c "ip link set $id$n master br0; ip link set $id$n up"
    ip netns exec "$ns" sh -c "ip link set lo up; ip addr add 10.77.0.$n/24 dev lan0; ip link set lan0 up"
    [ "$mode" = bare ] && continue
    # A system-style bus of its own: the Debian config with a private socket and pid file, no
    # user switch, absolute includedirs (so that Avahi's bus policy is found), and no service
    # activation (nothing starts an avahi-daemon the lab did not start itself).
    sed -e "s|<listen>.*</listen>|<listen>unix:path=$dir/$name/bus</listen>|" \
        -e "/<standard_system_servicedirs/d" -e "/<servicehelper>/d" \
        -e "s|<pidfile>.*</pidfile>|<pidfile>$dir/$name/dbus.pidfile</pidfile>|" \
        -e "/<user>/d" \
        -e "s|<includedir>system.d</includedir>|<includedir>/usr/share/dbus-1/system.d</includedir>|" \
        /usr/share/dbus-1/system.conf >"$dir/$name/dbus.conf"
    (close_inherited_fds; exec ip netns exec "$ns" dbus-daemon --config-file="$dir/$name/dbus.conf" --fork --print-pid) \
      </dev/null >"$dir/$name/dbus.pid" 2>>"$dir/$name/dbus.log"
    [ "$mode" = nodaemon ] && continue
    cat >"$dir/$name/avahi.conf" <<CONF
[server]
host-name=$name
use-ipv4=yes
use-ipv6=no
allow-interfaces=lan0
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
CONF
    avahi_start "$dir" "$name"
  done
  trap - ERR
}

down() {
  local dir=$1 name pidfile
  [ -d "$dir" ] || return 0
  if [ -f "$dir/buildings" ]; then
    while read -r name; do
      avahi_stop "$dir" "$name"
      for pidfile in "$dir/$name"/*.pid; do
        [ -f "$pidfile" ] || continue
        stop_pid "$(head -n1 "$pidfile")"
      done
    done <"$dir/buildings"
  fi
  if [ -f "$dir/namespaces" ]; then
    while read -r ns; do ip netns del "$ns" 2>/dev/null || true; done <"$dir/namespaces"
  fi
  [ -f "$dir/id" ] && rm -f "$labs_root/$(cat "$dir/id")"
  rm -rf "$dir"
}

reap() {
  [ -d "$labs_root" ] || return 0
  local link dir
  for link in "$labs_root"/*; do
    [ -L "$link" ] || continue
    dir=$(readlink "$link")
    if [ ! -d "$dir" ]; then rm -f "$link"; continue; fi
    if ! kill -0 "$(cat "$dir/owner" 2>/dev/null || echo 0)" 2>/dev/null; then
      echo "avahi-lab: taking down $dir, whose owner has gone" >&2
      down "$dir"
    fi
  done
}

command=${1:-}
shift || true
case "$command" in
  check) check ;;
  up) check; up "$@" ;;
  exec)
    dir=$1 name=$2; shift 2
    exec ip netns exec "$(ns_of "$dir" "$name")" env DBUS_SYSTEM_BUS_ADDRESS="$(bus_address "$dir" "$name")" "$@" ;;
  avahi-stop) avahi_stop "$1" "$2" ;;
  avahi-start) avahi_start "$1" "$2" ;;
  down) down "$1" ;;
  reap) reap ;;
  *) die "usage: avahi-lab.sh check | up DIR SPEC... | exec DIR NAME CMD... | avahi-stop DIR NAME | avahi-start DIR NAME | down DIR | reap" ;;
esac
