#!/usr/bin/env bash
# The CPU tier's table (issue 15, docs/benchmarks.md "Network tiers on the CPU"): The Starry Night's fast network in
# int8 and in float, its compact and its full-width network, each beside bare ONNX Runtime, at 640x360 and 1280x720
# with inference at the frame's size and at 1920x1080 with inference at 640x360; with each network's GFLOP per frame,
# the rate it achieved and the kernels ONNX Runtime ran. The int8 pack is made from the shipped fast checkpoint
# (training.quantize) into out/tiers/ when missing or older than the network's code. Assumes build/build.sh; run it
# on an otherwise idle machine.
#   build/bench_tiers.sh [--frames 20]        writes out/bench/tiers.md
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO"
[ -f "$OUT/cli/stylefilter.dll" ] || die "out/cli is missing: run build/build.sh first"

int8="$OUT/tiers/starry_night_fast_int8"
# Made again when the network's code or the checkpoint is newer than the pack (an older pack has an older graph).
if [ ! -f "$int8/manifest.json" ] || [ training/net.py -nt "$int8/manifest.json" ] \
    || [ training/checkpoints/starry_night_fast.pt -nt "$int8/manifest.json" ]; then
    log "quantizing the fast Starry Night to int8 -> $int8"
    "$PY" -m training.quantize --checkpoint training/checkpoints/starry_night_fast.pt --pack "$int8" \
        --name "The Starry Night (fast, int8)" --tier-of starry_night >/dev/null
fi

report="$OUT/bench/tiers.md"
mkdir -p "$(dirname "$report")"
: > "$report"
uptime | tee -a "$report"
dotnet "$OUT/cli/stylefilter.dll" bench --style "$int8,models/starry_night_fast,models/starry_night,models/starry_night_full" \
    --resolutions 640x360,1280x720,1920x1080@360 --frames 20 --warmup 3 --markdown "$report" "$@"
uptime | tee -a "$report"
log "table in $report"
