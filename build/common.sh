#!/usr/bin/env bash
# shellcheck shell=bash
# Sourced by the scripts in build/: shared settings and helpers.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO

ORT_VERSION="1.29.0"
export STYLEFILTER_CACHE="${STYLEFILTER_CACHE:-$HOME/.cache/stylefilter}"
export ORT_DIR="$STYLEFILTER_CACHE/onnxruntime-$ORT_VERSION"
OUT="$REPO/out"
PY=/usr/bin/python3

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
