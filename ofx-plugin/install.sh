#!/usr/bin/env bash
# Builds the StyleFilter OpenFX bundle into out/ofx/ and installs it.
#
#   ofx-plugin/install.sh [DEST]        build, then install into DEST (default /usr/OFX/Plugins)
#   ofx-plugin/install.sh --build-only  build out/ofx/StyleFilter.ofx.bundle only
#   ofx-plugin/install.sh --uninstall [DEST]
#
# Needs the engine published by build/build.sh (out/native: stylefilter.so, ONNX Runtime, models/); runs it when
# out/native/stylefilter.so is missing. Environment: STYLEFILTER_NATIVE_DIR (default out/native),
# CMAKE_BUILD_PARALLEL_LEVEL (default: number of CPUs).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NATIVE="${STYLEFILTER_NATIVE_DIR:-$REPO/out/native}"
OUT="$REPO/out/ofx"
BUNDLE_NAME="StyleFilter.ofx.bundle"
BUNDLE="$OUT/$BUNDLE_NAME"

mode=install
dest="/usr/OFX/Plugins"
for arg in "$@"; do
    case "$arg" in
        --build-only) mode=build ;;
        --uninstall) mode=uninstall ;;
        -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option: $arg" >&2; exit 2 ;;
        *) dest="$arg" ;;
    esac
done

if [ "$mode" = uninstall ]; then
    if [ -d "$dest/$BUNDLE_NAME" ]; then
        rm -rf "${dest:?}/$BUNDLE_NAME"
        echo "removed $dest/$BUNDLE_NAME"
    else
        echo "nothing to remove: $dest/$BUNDLE_NAME does not exist"
    fi
    exit 0
fi

if [ ! -f "$NATIVE/stylefilter.so" ]; then
    echo "==> $NATIVE/stylefilter.so missing: running build/build.sh"
    "$REPO/build/build.sh"
fi

echo "==> cmake: ofx-plugin -> $BUNDLE"
mkdir -p "$OUT"
cmake -S "$REPO/ofx-plugin" -B "$OUT/build" -DCMAKE_BUILD_TYPE=Release \
    -DSTYLEFILTER_NATIVE_DIR="$NATIVE" -DSTYLEFILTER_BUNDLE_DIR="$BUNDLE" > "$OUT/cmake-configure.log" \
    || { cat "$OUT/cmake-configure.log" >&2; exit 1; }
cmake --build "$OUT/build" --parallel "${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}"
# Build stamps of the model generator are not part of the styles.
find "$BUNDLE/Contents/Resources/models" -name '.stamp' -delete
echo "==> bundle: $BUNDLE"

if [ "$mode" = build ]; then exit 0; fi

mkdir -p "$dest"
rm -rf "${dest:?}/$BUNDLE_NAME"
cp -a "$BUNDLE" "$dest/"
echo "==> installed $dest/$BUNDLE_NAME"
