#!/usr/bin/env bash
# Tests of the training pipeline (unit tests + a smoke run through export and the engine CLI).
# Assumes build/build.sh has run (out/cli exists). Exits non-zero on failure. ~1-3 minutes on 2 cores.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY="${PY:-/usr/bin/python3}"
cd "$REPO"
if [ ! -f out/cli/stylefilter.dll ]; then
    echo "training/tests/run.sh: out/cli/stylefilter.dll is missing: run build/build.sh first" >&2
    exit 1
fi
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
exec "$PY" -m pytest -q -p no:cacheprovider -W ignore::UserWarning training/tests "$@"
