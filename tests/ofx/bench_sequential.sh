#!/usr/bin/env bash
# Times the OpenFX effect's renders at its defaults (the default style, smoothing 0.5, 8-bit), before and after: the
# plugin built from another revision (default main) and from this working tree, on the same engine (out/native), each
# with tests/ofx/engine_shim.c in front of the engine to count the frames it runs. Rounds alternate before / after, one
# process each; each process renders N frames in order (from frame 16, the first of a group) and then 8 frames in a
# scattered order (a seek before each), and the table gives the median of the rounds.
#
#   tests/ofx/bench_sequential.sh [--rounds R] [--frames N] [--size WxH] [--before REV]
#                                 defaults: 3 rounds, 16 frames, 720x576, main
#
# Needs build/build.sh to have published out/native. Run it on an idle machine for figures to compare: it says the
# load before and after.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
TEST_OUT="$REPO/out/ofx/bench-sequential"
NATIVE="${STYLEFILTER_NATIVE_DIR:-$REPO/out/native}"
rounds=3 frames=16 size=720x576 before=main
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --frames) frames="$2"; shift 2 ;;
        --size) size="$2"; shift 2 ;;
        --before) before="$2"; shift 2 ;;
        *) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
width="${size%x*}" height="${size#*x}"
[ -f "$NATIVE/stylefilter.so" ] || { echo "$NATIVE/stylefilter.so is missing: run build/build.sh" >&2; exit 1; }
mkdir -p "$TEST_OUT"
source "$REPO/tests/ofx/common.sh"

# The plugin of both revisions, built against the same engine, models and headers.
build_bundle() {  # build_bundle SOURCE_DIR NAME -> prints the bundle with the counting shim
    local src="$1" name="$2"
    cmake -S "$src/ofx-plugin" -B "$TEST_OUT/$name-build" -DCMAKE_BUILD_TYPE=Release \
        -DSTYLEFILTER_NATIVE_DIR="$NATIVE" -DSTYLEFILTER_INCLUDE_DIR="$REPO/src/StyleFilter.Native" \
        -DSTYLEFILTER_BUNDLE_DIR="$TEST_OUT/$name-plain/StyleFilter.ofx.bundle" > "$TEST_OUT/$name-cmake.log"
    cmake --build "$TEST_OUT/$name-build" --parallel "$(nproc)" >> "$TEST_OUT/$name-cmake.log"
    shim_bundle "$TEST_OUT/$name-plain/StyleFilter.ofx.bundle" "$TEST_OUT/$name"
}
echo "== building the plugin of $before and of this working tree" >&2
rm -rf "$TEST_OUT/before-src"
mkdir -p "$TEST_OUT/before-src"
git -C "$REPO" archive "$before" ofx-plugin | tar -x -C "$TEST_OUT/before-src"
before_rev="$(git -C "$REPO" rev-parse --short "$before")"
after_rev="$(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD -- ofx-plugin || echo '+changes')"
BEFORE="$(build_bundle "$TEST_OUT/before-src" before)"
AFTER="$(build_bundle "$REPO" after)"
build_test_host "$TEST_OUT/ofx_test_host"
picture="$(decode "$width" "$height")"
rm -f "$TEST_OUT"/before-*.txt "$TEST_OUT"/after-*.txt

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "== load average before: $(load) ($(nproc) CPUs)"
for ((r = 1; r <= rounds; r++)); do
    for side in before after; do
        bundle="$BEFORE"
        [ "$side" = after ] && bundle="$AFTER"
        echo "== round $r: $side"
        "$TEST_OUT/ofx_test_host" --bundle "$bundle" --bench-sequential "$picture" --width "$width" --height "$height" \
            --bench-frames "$frames" 2> "$TEST_OUT/$side-$r.stderr" | tee "$TEST_OUT/$side-$r.txt"
    done
done
echo "== load average after: $(load)"

# The table: medians over the rounds.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { grep -h '^RESULT' "$TEST_OUT"/$1-*.txt | tr ' ' '\n' | sed -n "s/^$2=//p" | median; }
echo
echo "| ${width}x${height}, $rounds rounds (median) | in order: ms/frame | engine frames/frame | scattered: ms/frame | engine frames/frame |"
echo "|---|---|---|---|---|"
for side in before after; do
    rev="$before $before_rev"
    [ "$side" = after ] && rev="this tree $after_rev"
    printf '| %s (%s) | %.0f | %.2f | %.0f | %.2f |\n' "$side" "$rev" "$(field "$side" in_order_ms)" \
        "$(field "$side" in_order_engine)" "$(field "$side" scattered_ms)" "$(field "$side" scattered_engine)"
done
failures="$(grep -h '^RESULT' "$TEST_OUT"/*-*.txt | sed -n 's/.*failures=//p' | awk '{ s += $1 } END { print s + 0 }')"
[ "$failures" = 0 ] || { echo "$failures render(s) failed" >&2; exit 1; }
