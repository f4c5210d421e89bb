#!/usr/bin/env bash
# Creates the Python virtual environment holding PySpark, the engine of `alsrec train --engine
# spark` when no spark-submit is given, and of the Spark interop tests (__test__/spark*.spec.ts).
#
#   scripts/spark/spark-venv.sh [VENV_DIR]     (default: build/spark-venv under the repo root)
#
# Does nothing if VENV_DIR already has pyspark importable at the pinned version (so CI and
# local runs reuse it). On success prints the venv's python path on stdout and exits 0. If the
# venv cannot be made or pip cannot install the packages, prints one line
# "spark venv unavailable: <reason>" on stderr and exits 3, so that callers can skip.
# PySpark needs Java 17 or later on PATH (or JAVA_HOME); that is checked too.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=${1:-$repo/build/spark-venv}
case $venv in /*) ;; *) venv=$repo/$venv ;; esac

# The versions the interop was checked with (Python 3.11, linux x86_64 wheels). pyspark 4.0
# bundles its jars; numpy is what pyspark.ml imports.
pyspark_version=4.0.5
pins=("pyspark==$pyspark_version" numpy==2.4.6)

unavailable() { echo "spark venv unavailable: $*" >&2; exit 3; }
has_pyspark() {
  [ -x "$venv/bin/python" ] &&
    [ "$("$venv/bin/python" -c 'import pyspark, pyspark.ml.recommendation, numpy; print(pyspark.__version__)' 2>/dev/null)" = "$pyspark_version" ]
}

java=${JAVA_HOME:+$JAVA_HOME/bin/}java
command -v "$java" >/dev/null 2>&1 || unavailable "java not found (PySpark needs Java 17 or later)"

if has_pyspark; then echo "$venv/bin/python"; exit 0; fi

py=${PYTHON:-python3}
command -v "$py" >/dev/null 2>&1 || unavailable "$py not found"
if [ ! -x "$venv/bin/python" ]; then
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")" || unavailable "cannot create $(dirname "$venv")"
  err=$("$py" -m venv "$venv" 2>&1) || { rm -rf "$venv"; unavailable "'$py -m venv' failed: $(echo "$err" | tail -n 1)"; }
fi
log=$(mktemp -t spark-venv-pip-XXXXXX)
trap 'rm -f "$log"' EXIT
if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q "${pins[@]}" >"$log" 2>&1; then
  unavailable "pip install ${pins[*]} failed: $(grep -m1 -E 'ERROR|error' "$log" || tail -n 1 "$log")"
fi
has_pyspark || unavailable "pyspark installed but not importable"
echo "$venv/bin/python"
