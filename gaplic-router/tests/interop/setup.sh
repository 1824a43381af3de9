#!/usr/bin/env bash
# Makes the Python virtual environment the interoperability tests run
# GinsFSM 0.7.3 in: target/ginsfsm-venv at the workspace root (or
# $GINSFSM_VENV). A second run finds it ready and returns at once.
#
# Usage: tests/interop/setup.sh            (from anywhere)
# Exit status: 0 when the environment is ready, non-zero otherwise, with
# the reason on standard error.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
venv="${GINSFSM_VENV:-$root/target/ginsfsm-venv}"
python="${PYTHON:-python3}"
version="0.7.3"
stamp="$venv/.ginsfsm-$version"

if [[ -f "$stamp" ]]; then
    exit 0
fi

mkdir -p "$(dirname "$venv")"
# One setup at a time: test binaries may ask for it together.
exec 9>"$venv.lock"
flock 9
if [[ -f "$stamp" ]]; then
    exit 0
fi

if ! command -v "$python" >/dev/null 2>&1; then
    echo "setup: $python not found" >&2
    exit 2
fi
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "ginsfsm==$version"
# The shims make it importable; check that the router is there.
"$venv/bin/python" "$here/ginsfsm_peer.py" --check
touch "$stamp"
