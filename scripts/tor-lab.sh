#!/usr/bin/env bash
# A private Tor network for the onion federation tests, offline, in network namespaces: an
# "internet" namespace with 3 directory authorities and 3 relays on 10.88.0.1, and buildings each
# behind a NAT router of its own, each with a tor client (SOCKS 127.0.0.1:9050, a control socket
# with cookie authentication, as Debian's tor service has). The buildings cannot reach each other
# nor be reached from the internet namespace: only onion services join them. Needs root, `ip
# netns`, tor and iptables; recipe: ../shared/notes/tor-netns.md. Everything it writes lies under
# the lab directory (the tests put it under .build/).
#
#   tor-lab.sh check                 exit 0 when a lab can be made here, else say why (exit 2)
#   tor-lab.sh up DIR N              make a lab of N buildings (b1…bN) in the new directory DIR and
#                                    wait until every building's tor has bootstrapped
#   tor-lab.sh exec DIR NAME CMD...  run CMD in building NAME's namespace
#   tor-lab.sh tor-stop DIR NAME     stop NAME's tor client
#   tor-lab.sh tor-start DIR NAME    start it again and wait until it has bootstrapped
#   tor-lab.sh down DIR              stop every process the lab started (by pid), delete its
#                                    namespaces and DIR
#   tor-lab.sh reap ROOT             take down the labs under ROOT whose owner process has died
#
# Building bI's control socket is DIR/bI/control, its cookie DIR/bI/control.authcookie.
# The owner of a lab is $LAB_OWNER (default: the parent of this script); `up` reaps DIR's parent.
set -euo pipefail
# shellcheck source=lab-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lab-lib.sh"

die() { echo "tor-lab: $*" >&2; exit 2; }

check() {
  [ "$(id -u)" -eq 0 ] || die "needs root (network namespaces); run the tests as root, as CI does"
  command -v ip >/dev/null || die "needs ip (iproute2)"
  for tool in tor tor-gencert iptables; do
    command -v "$tool" >/dev/null || die "needs $tool (scripts/setup.sh --tests installs it)"
  done
  local probe="ptprobe$$"
  ip netns add "$probe" 2>/dev/null || die "cannot make a network namespace here (ip netns add failed)"
  ip netns exec "$probe" iptables -t nat -L >/dev/null 2>&1 || { ip netns del "$probe"; die "iptables cannot make a NAT here"; }
  ip netns del "$probe"
}

# What every torrc of the lab has: a test network with fast votes, and its three authorities.
common_torrc() {
  local dir=$1 name=$2
  cat <<CONF
TestingTorNetwork 1
AssumeReachable 1
PathsNeededToBuildCircuits 0.25
TestingDirAuthVoteExit *
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
TestingMinExitFlagThreshold 0
V3AuthNIntervalsValid 2
RunAsDaemon 1
ShutdownWaitLength 0
DataDirectory $dir/$name/data
PidFile $dir/$name/tor.pid
Log notice file $dir/$name/tor.log
Nickname $name
CONF
  cat "$dir/dirauthorities"
}

tor_start() {
  local dir=$1 name=$2 ns
  ns=$(cat "$dir/$name/ns")
  rm -f "$dir/$name/tor.pid"
  (close_inherited_fds; exec ip netns exec "$ns" tor -f "$dir/$name/torrc" --quiet) </dev/null >>"$dir/$name/tor.out" 2>&1
  for _ in $(seq 1 50); do [ -s "$dir/$name/tor.pid" ] && return 0; sleep 0.1; done
  die "tor of $name did not start; see $dir/$name/tor.log"
}

tor_stop() {
  local dir=$1 name=$2
  [ -f "$dir/$name/tor.pid" ] || return 0
  stop_pid "$(cat "$dir/$name/tor.pid")"
  rm -f "$dir/$name/tor.pid"
}

# Waits until the building's tor has a consensus and circuits (up to 3 minutes: the first
# consensus of a fresh network takes one voting round of 20 s, often two).
wait_bootstrapped() {
  local dir=$1 name=$2 since=${3:-0}
  for _ in $(seq 1 1800); do
    tail -c +"$((since + 1))" "$dir/$name/tor.log" 2>/dev/null | grep -q "Bootstrapped 100%" && return 0
    sleep 0.1
  done
  die "tor of $name did not bootstrap within 3 minutes; see $dir/$name/tor.log"
}

up() {
  local dir=$1 count=$2
  [[ $count =~ ^[1-9]$ ]] || die "up needs a number of buildings from 1 to 9"
  reap "$(dirname "$dir")"
  [ ! -e "$dir" ] || die "$dir exists already"
  mkdir -p "$dir"
  echo "${LAB_OWNER:-$PPID}" >"$dir/owner"
  local id="pt$(printf '%05d' $((RANDOM % 100000)))"
  echo "$id" >"$dir/id"
  trap 'down "$dir"' ERR
  local inet="$id-inet"
  ip netns add "$inet"
  echo "$inet" >>"$dir/namespaces"
  ip netns exec "$inet" sh -c 'ip link set lo up; ip addr add 10.88.0.1/32 dev lo'

  # Directory authorities: identity and signing keys, their fingerprints for everyone's torrc.
  local i fp v3
  : >"$dir/dirauthorities"
  for i in 1 2 3; do
    mkdir -p "$dir/auth$i/data/keys"
    (cd "$dir/auth$i/data/keys" && echo pw | tor-gencert --create-identity-key -m 12 -a "10.88.0.1:700$i" --passphrase-fd 0 >/dev/null 2>&1) \
      || die "tor-gencert failed for auth$i"
    v3=$(awk '/^fingerprint/ {print $2}' "$dir/auth$i/data/keys/authority_certificate")
    fp=$(tor --ignore-missing-torrc -f /dev/null --quiet --list-fingerprint --DataDirectory "$dir/auth$i/data" \
           --ORPort "10.88.0.1:500$i" --Nickname "auth$i" | awk '{ $1 = ""; gsub(" ", ""); print }')
    [ -n "$v3" ] && [ -n "$fp" ] || die "no fingerprint for auth$i"
    echo "DirAuthority auth$i orport=500$i no-v2 v3ident=$v3 10.88.0.1:700$i $fp" >>"$dir/dirauthorities"
  done
  for i in 1 2 3; do
    echo "$inet" >"$dir/auth$i/ns"
    { common_torrc "$dir" "auth$i"
      cat <<CONF
Address 10.88.0.1
ORPort 10.88.0.1:500$i
DirPort 10.88.0.1:700$i
SocksPort 0
ExitRelay 0
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
ContactInfo palier tor lab
V3AuthVotingInterval 20
V3AuthVoteDelay 4
V3AuthDistDelay 4
TestingV3AuthInitialVotingInterval 20
TestingV3AuthInitialVoteDelay 4
TestingV3AuthInitialDistDelay 4
CONF
    } >"$dir/auth$i/torrc"
    mkdir -p "$dir/relay$i/data"
    echo "$inet" >"$dir/relay$i/ns"
    { common_torrc "$dir" "relay$i"
      cat <<CONF
Address 10.88.0.1
ORPort 10.88.0.1:510$i
SocksPort 0
ExitRelay 0
ExitPolicy reject *:*
CONF
    } >"$dir/relay$i/torrc"
    echo "auth$i" >>"$dir/daemons"
    echo "relay$i" >>"$dir/daemons"
  done

  # Buildings, each behind a NAT router of its own; the internet has no route back to them.
  local name router
  for i in $(seq 1 "$count"); do
    name="b$i"
    router="$id-r$i"
    mkdir -p "$dir/$name/data"
    chmod 700 "$dir/$name" "$dir/$name/data"
    ip netns add "$router"
    echo "$router" >>"$dir/namespaces"
    ip netns add "$id-$name"
    echo "$id-$name" >>"$dir/namespaces"
    echo "$id-$name" >"$dir/$name/ns"
    ip link add "${id}u$i" type veth peer name uplink netns "$router"
    ip link set "${id}u$i" netns "$inet"
    ip netns exec "$inet" sh -c "ip addr add 10.88.${i}0.1/30 dev ${id}u$i; ip link set ${id}u$i up"
    ip link add "${id}l$i" type veth peer name lan0 netns "$id-$name"
    ip link set "${id}l$i" netns "$router"
    ip netns exec "$router" sh -c "ip link set lo up; ip addr add 10.88.${i}0.2/30 dev uplink; ip link set uplink up
      ip link set ${id}l$i name lan; ip addr add 10.88.$i.1/24 dev lan; ip link set lan up
      ip route add default via 10.88.${i}0.1; sysctl -qw net.ipv4.ip_forward=1
      iptables -t nat -A POSTROUTING -o uplink -j MASQUERADE"
    ip netns exec "$id-$name" sh -c "ip link set lo up; ip addr add 10.88.$i.2/24 dev lan0; ip link set lan0 up
      ip route add default via 10.88.$i.1"
    { common_torrc "$dir" "$name"
      cat <<CONF
SocksPort 127.0.0.1:9050
ControlSocket $dir/$name/control
CookieAuthentication 1
CookieAuthFile $dir/$name/control.authcookie
CONF
    } >"$dir/$name/torrc"
    echo "$name" >>"$dir/buildings"
  done
  local daemon
  while read -r daemon; do tor_start "$dir" "$daemon"; done <"$dir/daemons"
  while read -r name; do tor_start "$dir" "$name"; done <"$dir/buildings"
  while read -r name; do wait_bootstrapped "$dir" "$name"; done <"$dir/buildings"
  trap - ERR
}

down() {
  local dir=$1 name
  [ -d "$dir" ] || return 0
  for list in buildings daemons; do
    [ -f "$dir/$list" ] || continue
    while read -r name; do
      tor_stop "$dir" "$name"
      for pidfile in "$dir/$name"/started-*.pid; do
        [ -f "$pidfile" ] || continue
        stop_pid "$(head -n1 "$pidfile")"
      done
    done <"$dir/$list"
  done
  if [ -f "$dir/namespaces" ]; then
    while read -r ns; do ip netns del "$ns" 2>/dev/null || true; done <"$dir/namespaces"
  fi
  rm -rf "$dir"
}

reap() {
  local root=$1 dir
  [ -d "$root" ] || return 0
  for dir in "$root"/*/; do
    dir=${dir%/}
    [ -f "$dir/owner" ] || continue
    if ! kill -0 "$(cat "$dir/owner")" 2>/dev/null; then
      echo "tor-lab: taking down $dir, whose owner has gone" >&2
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
    exec ip netns exec "$(cat "$dir/$name/ns")" "$@" ;;
  tor-stop) tor_stop "$1" "$2" ;;
  tor-start)
    since=$(stat -c %s "$1/$2/tor.log" 2>/dev/null || echo 0)
    tor_start "$1" "$2"; wait_bootstrapped "$1" "$2" "$since" ;;
  down) down "$1" ;;
  reap) reap "$1" ;;
  *) die "usage: tor-lab.sh check | up DIR N | exec DIR NAME CMD... | tor-stop DIR NAME | tor-start DIR NAME | down DIR | reap ROOT" ;;
esac
