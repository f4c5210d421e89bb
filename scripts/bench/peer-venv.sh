#!/usr/bin/env bash
# Creates the Python virtual environment holding the peer library (`implicit`, ALS) that the
# top-N quality benchmark compares alsrec against; see implicit_quality.py beside this file.
#
#   scripts/bench/peer-venv.sh [VENV_DIR]     (default: build/peer-venv under the repo root)
#
# Does nothing if VENV_DIR already has implicit importable. On success prints the venv's
# python path on stdout and exits 0. If the venv cannot be made or pip cannot install the
# packages, prints one line "peer venv unavailable: <reason>" on stderr and exits 3, so that
# callers can skip the comparison.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=${1:-$repo/build/peer-venv}
case $venv in /*) ;; *) venv=$repo/$venv ;; esac

# The versions this benchmark was checked with (Python 3.11, linux x86_64 wheels).
pins=(implicit==0.7.3 numpy==2.4.6 scipy==1.17.1 threadpoolctl==3.8.0 tqdm==4.70.1)

unavailable() { echo "peer venv unavailable: $*" >&2; exit 3; }
has_implicit() { [ -x "$venv/bin/python" ] && OPENBLAS_NUM_THREADS=1 "$venv/bin/python" -c 'import implicit.als' >/dev/null 2>&1; }

if has_implicit; then echo "$venv/bin/python"; exit 0; fi

py=${PYTHON:-python3}
command -v "$py" >/dev/null 2>&1 || unavailable "$py not found"
if [ ! -x "$venv/bin/python" ]; then
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")" || unavailable "cannot create $(dirname "$venv")"
  err=$("$py" -m venv "$venv" 2>&1) || { rm -rf "$venv"; unavailable "'$py -m venv' failed: $(echo "$err" | tail -n 1)"; }
fi
log=$(mktemp -t peer-venv-pip-XXXXXX)
trap 'rm -f "$log"' EXIT
if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q "${pins[@]}" >"$log" 2>&1; then
  unavailable "pip install ${pins[*]} failed: $(grep -m1 -E 'ERROR|error' "$log" || tail -n 1 "$log")"
fi
has_implicit || unavailable "implicit installed but not importable"
echo "$venv/bin/python"
