#!/usr/bin/env bash
# Builds the StyleFilter OBS plugin and lays out the installable package:
#   out/obs/build/                          CMake build tree
#   out/obs/package/stylefilter-obs/        the plugin folder, as OBS wants it:
#       bin/64bit/stylefilter-obs.so        the OBS module
#       bin/64bit/stylefilter.so            the engine (from out/native)
#       bin/64bit/libonnxruntime.so(.1), libonnxruntime_providers_*.so   ONNX Runtime
#       bin/64bit/models/                   bundled styles (the engine's catalog looks beside itself)
#       data/locale/en-US.ini
#   out/obs/stylefilter-obs-linux-x64.zip   that folder zipped (unpack into ~/.config/obs-studio/plugins/)
# Needs out/native from build/build.sh and libobs-dev. Safe to run again.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
NATIVE="${STYLEFILTER_NATIVE_DIR:-$REPO/out/native}"
OUT="$REPO/out/obs"
PLUGIN=stylefilter-obs
PKG="$OUT/package/$PLUGIN"
ZIP="$OUT/$PLUGIN-linux-x64.zip"

log() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

pkg-config --exists libobs || die "libobs development files not found (apt-get install libobs-dev)"
for f in stylefilter.so libonnxruntime.so libonnxruntime_providers_shared.so; do
    [ -f "$NATIVE/$f" ] || die "$NATIVE/$f is missing: run build/build.sh first"
done

log "cmake build obs-plugin -> ${OUT#"$REPO"/}/build"
quiet() {  # run a command, show its output only when it fails
    local output
    if ! output="$("$@" 2>&1)"; then printf '%s\n' "$output" >&2; die "failed: $*"; fi
}
quiet cmake -S "$HERE" -B "$OUT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
quiet cmake --build "$OUT/build" -j "$(nproc)"

log "packaging ${PKG#"$REPO"/}"
rm -rf "$PKG"
mkdir -p "$PKG/bin/64bit" "$PKG/data"
cp "$OUT/build/$PLUGIN.so" "$PKG/bin/64bit/"
cp "$NATIVE/stylefilter.so" "$PKG/bin/64bit/"
# ONNX Runtime and any execution-provider libraries beside it (symlinks kept as symlinks).
cp -a "$NATIVE"/libonnxruntime*.so* "$PKG/bin/64bit/"
[ -e "$PKG/bin/64bit/libonnxruntime.so.1" ] || ln -s libonnxruntime.so "$PKG/bin/64bit/libonnxruntime.so.1"
if [ -d "$NATIVE/models" ]; then
    cp -r "$NATIVE/models" "$PKG/bin/64bit/models"
    find "$PKG/bin/64bit/models" -name '.*' -type f -delete   # build stamps
else
    mkdir -p "$PKG/bin/64bit/models"
fi
cp -r "$HERE/data/." "$PKG/data/"
cp "$HERE/README.md" "$PKG/README.md" 2>/dev/null || true

rm -f "$ZIP"
(cd "$OUT/package" && zip -q -r -y "$ZIP" "$PLUGIN")
log "OBS plugin ready: ${ZIP#"$REPO"/}"
