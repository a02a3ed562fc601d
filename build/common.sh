#!/usr/bin/env bash
# shellcheck shell=bash
# Sourced by the scripts in build/: shared settings and helpers.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO

export STYLEFILTER_CACHE="${STYLEFILTER_CACHE:-$HOME/.cache/stylefilter}"
OUT="$REPO/out"
PY=/usr/bin/python3

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The restored NuGet package's ONNX Runtime natives for linux-x64 (the version is pinned in
# src/StyleFilter.Managed/StyleFilter.Managed.csproj): read from the engine project's restore output.
ort_native_dir() {
    local assets="$REPO/src/StyleFilter.Managed/obj/project.assets.json"
    [ -f "$assets" ] || die "$assets is missing: run dotnet restore first"
    "$PY" - "$assets" <<'PYEOF'
import json, os, sys
assets = json.load(open(sys.argv[1]))
lib = next(k for k in assets["libraries"] if k.lower().startswith("microsoft.ml.onnxruntime/"))
for folder in assets["packageFolders"]:
    d = os.path.join(folder, assets["libraries"][lib]["path"], "runtimes", "linux-x64", "native")
    if os.path.isfile(os.path.join(d, "libonnxruntime.so")):
        print(d)
        sys.exit(0)
sys.exit("libonnxruntime.so of " + lib + " not found in " + ", ".join(assets["packageFolders"]))
PYEOF
}
