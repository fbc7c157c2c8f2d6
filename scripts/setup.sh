#!/usr/bin/env bash
# Installs what palier needs on a Debian machine, only what is missing: the C libraries it links
# (libsodium, SQLite, Avahi's client, libqrencode, libvips) and pkg-config; for the tests, Chromium (the
# kiosk page in a real browser), zbar-tools (zbarimg reads an enrolment QR code back), setpriv (a screen without permission) and the Python packages `cryptography`
# (independent test-vector check) and `websocket-client` (driving Chromium), and python3-venv
# (the sync interop test installs the independent Noise implementation `noiseprotocol` in a
# throwaway virtualenv under .build/), and for the discovery lab avahi-daemon, avahi-utils, D-Bus
# and iproute2, for the onion lab tor and iptables, for the Debian package binutils, dpkg-dev and
# debootstrap — installed without starting any daemon: the labs run their own avahi-daemons and
# tor instances in network namespaces, never one on this machine's network. Needs root (or sudo) only when
# something must be installed.
set -euo pipefail

packages=(libsodium-dev libsqlite3-dev libavahi-client-dev libqrencode-dev libvips-dev pkg-config python3 util-linux)
# The Debian package: strip, dpkg-shlibdeps; its test also needs debootstrap.
deb_packages=(binutils dpkg-dev gzip xz-utils)
[ "${1:-}" = "--deb" ] && packages+=("${deb_packages[@]}")
[ "${1:-}" = "--tests" ] && packages+=(chromium fonts-dejavu-core python3-venv python3-pip avahi-daemon avahi-utils dbus iproute2 tor iptables zbar-tools "${deb_packages[@]}" debootstrap)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # Packages must not start their daemons (avahi-daemon would announce on every interface):
  # a policy-rc.d that says no, for the time of the install, unless one exists already.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    trap '$sudo rm -f "$policy"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

if [ "${1:-}" = "--tests" ]; then
  for module in cryptography:cryptography websocket:websocket-client; do
    if ! python3 -c "import ${module%%:*}" 2>/dev/null; then
      echo "setup: installing the Python package ${module#*:}"
      python3 -m pip install --quiet "${module#*:}"
    fi
  done
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: swift is not on PATH (expected Swift 6.1 or later, e.g. /opt/swift/usr/bin)" >&2
  exit 1
fi
