#!/usr/bin/env bash
# Builds the StyleFilter OBS plugin (cmake) and the libobs test harness, makes the test inputs and
# runs the harness headless: real libobs with libobs-opengl on Xvfb (Mesa software rendering).
# Exit status non-zero when a check fails.
#   tests/obs/run.sh                        the tests (about 4 minutes on 2 cores)
#   tests/obs/run.sh --bench [SECONDS] [HEIGHT]
#                                           720p CPU figures: ms per frame, frames reused/skipped
#   STYLEFILTER_OBS_VERBOSE=1               echo the whole libobs log
# Needs build/build.sh to have run (out/native, out/test-models).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$REPO/out/obs/tests"
PKG="$REPO/out/obs/package/stylefilter-obs"
MODELS="$REPO/out/test-models"

log() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

for tool in cc pkg-config ffmpeg xvfb-run; do
    command -v "$tool" >/dev/null || die "$tool is missing (build/setup.sh installs it)"
done
[ -f "$MODELS/zoo_dynamic.onnx" ] && [ -f "$MODELS/placeholder/placeholder.onnx" ] \
    && [ -f "$MODELS/pack_tiered_fast/manifest.json" ] || die "$MODELS is missing or old: run build/build.sh first"

"$REPO/obs-plugin/build.sh"
# The untrained placeholder network is for tests and timings only: neither the folder nor the zip ships it.
shipped="$(find "$PKG" -iname '*placeholder*'; python3 -m zipfile -l "$REPO/out/obs/stylefilter-obs-linux-x64.zip" | grep -i placeholder || true)"
[ -z "$shipped" ] || die "the plugin package ships the placeholder model: $shipped"

mkdir -p "$OUT/work"
log "compiling the libobs test harness"
# shellcheck disable=SC2046
cc -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -o "$OUT/harness" "$HERE/harness.c" \
    -I"$REPO/src/StyleFilter.Native" $(pkg-config --cflags --libs libobs) -lX11 -ldl -lpthread -lm

# Test inputs, made once.
W="$OUT/work"
make_image() {  # make_image SRC WxH DEST
    [ -f "$3" ] || ffmpeg -v error -y -i "$1" -vf "scale=${2/x/:},format=rgb24" -frames:v 1 "$3"
}
# pack_tiered and its fast network alone, listed as bundled styles by the harness (the Network setting picks between
# them by the style's id); the other test models would join the Style list.
rm -rf "$W/tier-models"
mkdir -p "$W/tier-models"
cp -r "$MODELS/pack_tiered" "$MODELS/pack_tiered_fast" "$W/tier-models/"
make_image "$REPO/assets/content/chicago.jpg" 320x180 "$W/chicago_320.png"
make_image "$REPO/assets/content/golden_gate.jpg" 256x144 "$W/golden_256.png"
make_image "$REPO/assets/content/chicago.jpg" 1280x720 "$W/chicago_720.png"
make_image "$REPO/assets/content/chicago.jpg" 640x360 "$W/chicago_640.png"
make_image "$REPO/assets/content/golden_gate.jpg" 320x180 "$W/golden_320.png"
# chicago_320 with its right quarter (x >= 240) from golden_320: a change that is no scene cut
[ -f "$W/smooth_b_320.v2" ] || { rm -f "$W/smooth_b_320.png"; touch "$W/smooth_b_320.v2"; }
[ -f "$W/smooth_b_320.png" ] || ffmpeg -v error -y -i "$W/chicago_320.png" -i "$W/golden_320.png" \
    -filter_complex "[1:v]crop=80:180:240:0[r];[0:v][r]overlay=240:0:format=rgb,format=rgb24" -frames:v 1 "$W/smooth_b_320.png"
[ -f "$W/clip.mp4" ] || ffmpeg -v error -y -loop 1 -i "$W/chicago_320.png" -t 3 -r 30 \
    -c:v libx264 -preset ultrafast -qp 0 -pix_fmt yuv420p "$W/clip.mp4"

OBS_LIBDIR="$(pkg-config --variable=libdir libobs)"
OBS_PLUGINS="$OBS_LIBDIR/obs-plugins"
OBS_DATA="$(pkg-config --variable=prefix libobs)/share/obs/obs-plugins"
[ -f "$OBS_PLUGINS/image-source.so" ] || die "$OBS_PLUGINS/image-source.so not found (apt-get install obs-plugins)"

ARGS=(--plugin "$PKG" --obs-plugins "$OBS_PLUGINS" --obs-data "$OBS_DATA" --work "$W" --test-models "$MODELS"
    --tier-models "$W/tier-models")
LIMIT=900
if [ "${1:-}" = "--bench" ]; then
    ARGS+=(--bench "${2:-20}" --bench-height "${3:-720}")
    LIMIT=$(( ${2:-20} + 300 ))
fi
if [ "${STYLEFILTER_OBS_VERBOSE:-0}" != "0" ]; then ARGS+=(--verbose); fi

# Isolated, headless: its own config dir, software OpenGL, a private X server.
TMP_HOME="$(mktemp -d)"
trap 'rm -rf "$TMP_HOME"' EXIT
export XDG_CONFIG_HOME="$TMP_HOME/config"
export LIBGL_ALWAYS_SOFTWARE=1
unset WAYLAND_DISPLAY
log "running the harness in libobs (Xvfb, software OpenGL)"
rc=0
timeout -k 10 "$LIMIT" xvfb-run -a -s "-screen 0 1280x720x24" "$OUT/harness" "${ARGS[@]}" || rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "FAIL: the harness timed out after ${LIMIT}s" >&2
fi
if [ "$rc" -ne 0 ]; then
    echo "OBS plugin tests FAILED (exit $rc)" >&2
    exit 1
fi
echo "OBS plugin tests passed"
