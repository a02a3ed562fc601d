#!/usr/bin/env bash
# The benchmark behind docs/benchmarks.md: frames per second and p50/p99 latency per resolution (360p, 576p,
# 720p, 1080p), per style width (the bundled compact network and an untrained full-width one, same graph shape),
# at full and half inference size, on the path the engine picks (or --device). Each row also times the model's
# graphs alone through ONNX Runtime in the same run, so the engine's overhead is measured, not guessed. The
# identity test model (a 1x1 convolution that returns its input) shows the engine's own cost without a network.
# Assumes build/build.sh has run. Writes out/bench/bench.md. Extra arguments go to every `stylefilter bench`.
#   build/bench.sh [--frames 10] [--device Cuda]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO"
[ -f "$OUT/cli/stylefilter.dll" ] || die "out/cli is missing: run build/build.sh first"

FULL="$OUT/bench-models/full_width"
if [ ! -f "$FULL/manifest.json" ]; then
    log "exporting an untrained full-width network (32/64/128) for timing"
    "$PY" -m training.export --untrained full --pack "$FULL" >/dev/null
fi

report="$OUT/bench/bench.md"
mkdir -p "$(dirname "$report")"
: > "$report"
for scale in 1 0.5; do
    log "inference scale $scale"
    dotnet "$OUT/cli/stylefilter.dll" bench --style "models/starry_night,$FULL,$OUT/test-models/identity.onnx" \
        --resolutions 640x360,1024x576,1280x720,1920x1080 --frames 10 --warmup 2 --scale "$scale" \
        --markdown "$report" "$@"
done
log "tables in $report"
