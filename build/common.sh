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

# Which ONNX Runtime natives the build carries: STYLEFILTER_GPU=1 picks the GPU package
# (Microsoft.ML.OnnxRuntime.Gpu.Linux: CUDA and TensorRT providers, docs/gpu.md), anything else the CPU one. MSBuild
# reads the variable itself (the engine's csproj turns it into OrtFlavour), so every dotnet command agrees.
ORT_FLAVOUR=Cpu
if [ "${STYLEFILTER_GPU:-0}" = "1" ]; then ORT_FLAVOUR=Gpu; fi

# The restored NuGet package's ONNX Runtime natives for linux-x64 (CPU or GPU package, versions pinned in
# src/StyleFilter.Managed/StyleFilter.Managed.csproj): read from the engine project's restore output.
ort_native_dir() {
    local assets="$REPO/src/StyleFilter.Managed/obj/project.assets.json"
    [ -f "$assets" ] || die "$assets is missing: run dotnet restore first"
    "$PY" - "$assets" <<'PYEOF'
import json, os, sys
assets = json.load(open(sys.argv[1]))
natives = ("microsoft.ml.onnxruntime/", "microsoft.ml.onnxruntime.gpu.linux/")
lib = next((k for k in assets["libraries"] if k.lower().startswith(natives)), None)
if lib is None:
    sys.exit("no ONNX Runtime natives package (" + ", ".join(n[:-1] for n in natives) + ") in " + sys.argv[1])
for folder in assets["packageFolders"]:
    d = os.path.join(folder, assets["libraries"][lib]["path"], "runtimes", "linux-x64", "native")
    if os.path.isfile(os.path.join(d, "libonnxruntime.so")):
        print(d)
        sys.exit(0)
sys.exit("libonnxruntime.so of " + lib + " not found in " + ", ".join(assets["packageFolders"]))
PYEOF
}
