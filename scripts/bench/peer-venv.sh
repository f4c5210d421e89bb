#!/usr/bin/env bash
# Creates the Python virtual environment holding a peer library that the benchmarks compare
# alsrec against: `implicit` (ALS; implicit_quality.py and peers.py) by default, or with
# --lenskit, LensKit (BiasedMF and ImplicitMF; peers.py), in a venv of its own because it needs
# numpy 1.x while the implicit venv's pins are numpy 2.
#
#   scripts/bench/peer-venv.sh [--lenskit] [VENV_DIR]
#       (default VENV_DIR: build/peer-venv, or build/peer-venv-lenskit with --lenskit)
#
# Does nothing if VENV_DIR already has the library importable. On success prints the venv's
# python path on stdout and exits 0. If the venv cannot be made or pip cannot install the
# packages, prints one line "peer venv unavailable: <reason>" on stderr and exits 3, so that
# callers can skip the comparison.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
lib=implicit
if [ "${1:-}" = --lenskit ]; then lib=lenskit; shift; fi
if [ $lib = lenskit ]; then venv=${1:-$repo/build/peer-venv-lenskit}; else venv=${1:-$repo/build/peer-venv}; fi
case $venv in /*) ;; *) venv=$repo/$venv ;; esac

# The versions the benchmarks were checked with (Python 3.11, linux x86_64 wheels).
# LensKit 0.14.4 is the last release of the numba-based API (lenskit.algorithms.als); the
# 2025.x releases rebuilt the library on PyTorch, whose registry wheels pull several GB of CUDA
# packages even for CPU use. 0.14.4 declares no upper bounds, so the pins hold it to what it was
# made for: numpy 1.26 (numba 0.58 needs numpy < 1.27) and pandas 2.2 (pandas 3 postdates it).
if [ $lib = lenskit ]; then
  pins=(lenskit==0.14.4 numba==0.58.1 llvmlite==0.41.1 numpy==1.26.4 pandas==2.2.3 scipy==1.17.1
    csr==0.5.2 binpickle==0.3.4 seedbank==0.1.3)
  module=lenskit.algorithms.als
else
  pins=(implicit==0.7.3 numpy==2.4.6 scipy==1.17.1 threadpoolctl==3.8.0 tqdm==4.70.1)
  module=implicit.als
fi

unavailable() { echo "peer venv unavailable: $*" >&2; exit 3; }
has_lib() { [ -x "$venv/bin/python" ] && OPENBLAS_NUM_THREADS=1 "$venv/bin/python" -c "import $module" >/dev/null 2>&1; }

if has_lib; then echo "$venv/bin/python"; exit 0; fi

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
has_lib || unavailable "$lib installed but $module not importable"
echo "$venv/bin/python"
