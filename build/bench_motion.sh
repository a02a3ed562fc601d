#!/usr/bin/env bash
# What motion compensation costs (docs/benchmarks.md, "Motion compensation"): the engine with and without it, timed
# alternately frame by frame on a shaking camera (the photo and the photo moved 8 px across and 2 down, in turn, so
# the motion is estimated and the history warped at every frame), at 640x360 and 1920x1080, for The Starry Night
# (a compact network: the share of a real frame) and the identity test model (the engine's own cost, no network).
# Assumes build/build.sh has run; run it on an otherwise idle machine. Writes out/bench/motion.md.
#   build/bench_motion.sh [--frames 20]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO"
[ -f "$OUT/cli/stylefilter.dll" ] || die "out/cli is missing: run build/build.sh first"

report="$OUT/bench/motion.md"
mkdir -p "$(dirname "$report")"
: > "$report"
uptime | tee -a "$report"
dotnet "$OUT/cli/stylefilter.dll" bench --style "$OUT/test-models/identity.onnx" --resolutions 640x360,1920x1080 \
    --frames 30 --warmup 5 --shake 8 --motion-compensation both --markdown "$report" "$@"
dotnet "$OUT/cli/stylefilter.dll" bench --style starry_night --resolutions 640x360 \
    --frames 20 --warmup 3 --shake 8 --motion-compensation both --markdown "$report" "$@"
dotnet "$OUT/cli/stylefilter.dll" bench --style starry_night --resolutions 1920x1080 \
    --frames 6 --warmup 2 --shake 8 --motion-compensation both --markdown "$report" "$@"
uptime | tee -a "$report"
log "tables in $report"
