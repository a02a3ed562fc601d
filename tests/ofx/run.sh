#!/usr/bin/env bash
# OpenFX plugin tests: builds the bundle and installs it into out/ofx/test/plugins with ofx-plugin/install.sh, builds
# the test host, then runs the host against the installed bundle with small frames (160x90) and the test models;
# then the history cache, through a copy of the bundle whose engine library counts the frames the plugin runs
# (tests/ofx/engine_shim.c in front of the real engine); a host without string parameters; and two damaged copies of
# the bundle: one without its engine library, and one whose engine lacks the style mix calls and sf_get_style_info
# (engine_shim.c built with -DSHIM_OLD_ENGINE, like an engine built before they existed, which also refuses the network
# size).
#
#   tests/ofx/run.sh           the checks (exit code non-zero on failure)
#   tests/ofx/run.sh --bench   time 1920x1080 renders of the untrained full-width network instead (the test models'
#                              placeholder/placeholder.onnx, loaded as a custom model: it is not a bundled style)
#
# Expects build/build.sh to have published out/native and generated out/test-models (install.sh runs build.sh when
# out/native/stylefilter.so is missing). Source frames come from assets/content/tubingen.jpg, decoded once with
# ffmpeg; without ffmpeg the host uses a synthetic picture.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
OUT="$REPO/out/ofx"
TEST_OUT="$OUT/test"
PLUGINS="$TEST_OUT/plugins"
BUNDLE="$PLUGINS/StyleFilter.ofx.bundle"
MODELS="${STYLEFILTER_TEST_MODELS:-$REPO/out/test-models}"
mkdir -p "$TEST_OUT"
source "$REPO/tests/ofx/common.sh"

bench=0
for arg in "$@"; do
    case "$arg" in
        --bench) bench=1 ;;
        *) echo "usage: $0 [--bench]" >&2; exit 2 ;;
    esac
done

echo "== building the bundle and installing it into ${PLUGINS#"$REPO"/}"
"$REPO/ofx-plugin/install.sh" "$PLUGINS"

echo "== building the test host"
build_test_host "$TEST_OUT/ofx_test_host"

if [ ! -f "$MODELS/zoo_dynamic.onnx" ] || [ ! -f "$MODELS/placeholder/placeholder.onnx" ] \
    || [ ! -f "$MODELS/pack_tiered_fast/manifest.json" ]; then
    echo "$MODELS is missing or old (no zoo_dynamic.onnx, placeholder/placeholder.onnx or pack_tiered_fast): run build/build.sh first" >&2
    exit 1
fi
# pack_tiered and its fast network alone, for the host to list as bundled styles (the Network parameter picks between
# them by the style's id); the other test models would join the Style list.
TIERS="$TEST_OUT/tier-models"
rm -rf "$TIERS"
mkdir -p "$TIERS"
cp -r "$MODELS/pack_tiered" "$MODELS/pack_tiered_fast" "$TIERS/"

if [ "$bench" = 1 ]; then
    frames="$(decode 1920 1080)"
    echo "== bench (1920x1080)"
    exec "$TEST_OUT/ofx_test_host" --bundle "$BUNDLE" --models "$MODELS" --bench "$frames" --width 1920 --height 1080
fi
frames="$(decode 160 90)"
status=0
# The untrained placeholder network is for tests and timings only: the bundle does not ship it.
shipped="$(find "$OUT/StyleFilter.ofx.bundle" "$BUNDLE" -iname '*placeholder*')"
if [ -z "$shipped" ]; then echo "PASS  the bundle ships no placeholder model"; else echo "FAIL  the bundle ships $shipped"; status=1; fi
echo "== OFX test host"
"$TEST_OUT/ofx_test_host" --bundle "$BUNDLE" --models "$MODELS" --tier-models "$TIERS" --frames "$frames" \
    --width 160 --height 90 || status=1

echo
echo "== OFX test host: the history cache (engine frames counted by engine_shim.c)"
COUNTING="$(shim_bundle "$BUNDLE" "$TEST_OUT/counting")"
"$TEST_OUT/ofx_test_host" --bundle "$COUNTING" --cache --models "$MODELS" --frames "$frames" --width 160 --height 90 \
    || status=1
rm -rf "$TEST_OUT/counting"

echo
echo "== OFX test host: a host without string parameters"
"$TEST_OUT/ofx_test_host" --bundle "$BUNDLE" --host-limits --width 160 --height 90 || status=1

echo
echo "== OFX test host: a bundle whose engine library is missing"
BROKEN="$TEST_OUT/broken/StyleFilter.ofx.bundle"
rm -rf "$TEST_OUT/broken"
mkdir -p "$TEST_OUT/broken"
cp -a "$BUNDLE" "$BROKEN"
rm -f "$BROKEN/Contents/Linux-x86-64/stylefilter.so"
"$TEST_OUT/ofx_test_host" --bundle "$BROKEN" --no-engine --width 160 --height 90 || status=1
rm -rf "$TEST_OUT/broken"

echo
echo "== OFX test host: an engine library without the style mix calls (older engine)"
OLD="$(shim_bundle "$BUNDLE" "$TEST_OUT/old-engine" -DSHIM_OLD_ENGINE)"
old_status=0
"$TEST_OUT/ofx_test_host" --bundle "$OLD" --old-engine --models "$MODELS" --width 160 --height 90 \
    2> "$TEST_OUT/old-engine/stderr.txt" || old_status=1
cat "$TEST_OUT/old-engine/stderr.txt" >&2
if grep -q "has no style mix calls" "$TEST_OUT/old-engine/stderr.txt"; then
    echo "PASS  the plugin logged that the engine has no style mix calls"
else
    echo "FAIL  no log line about the missing style mix calls"
    old_status=1
fi
refused="$(grep -c "does not take Network" "$TEST_OUT/old-engine/stderr.txt" || true)"
if [ "$refused" = 1 ]; then
    echo "PASS  the plugin logged once that the engine refuses the network size, and rendered anyway"
else
    echo "FAIL  $refused log lines about the refused network size (want 1)"
    old_status=1
fi
[ "$old_status" = 0 ] || status=1
rm -rf "$TEST_OUT/old-engine"

if [ "$status" != 0 ]; then echo "OFX TESTS FAILED" >&2; else echo "OFX TESTS PASSED"; fi
exit "$status"
