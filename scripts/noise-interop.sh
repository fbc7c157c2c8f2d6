#!/bin/sh
# Runs scripts/noise-peer.py (the independent Noise implementation, `noiseprotocol` from PyPI)
# in a throwaway virtualenv under .build/, created on first use.
# usage: scripts/noise-interop.sh HOST PORT NETWORK_KEY_HEX
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
venv="$here/.build/interop-venv"
# Tests run in parallel: the first to get the lock makes the virtualenv, the others wait for it.
mkdir -p "$here/.build"
exec 9>"$here/.build/interop-venv.lock"
flock 9
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import noise, cryptography" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "noiseprotocol==0.3.1" "cryptography>=41" >&2
fi
flock -u 9
exec "$venv/bin/python" "$here/scripts/noise-peer.py" "$@"
