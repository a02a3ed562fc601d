#!/usr/bin/env bash
# Does the filter make OBS itself lag? Records the same scene twice in the real OBS Studio (headless,
# Xvfb, software OpenGL): a 1280x720 canvas holding one 1280x720 photo, recorded with x264 at
# 640x360, 30 fps, for SECONDS; once with the Neural Style filter at its defaults on the photo, once
# without it. Prints OBS's own "Number of lagged frames due to rendering lag/stalls" (and the
# encoder's skipped frames) for both runs, the machine load before each, and the difference.
#   tests/obs/obs_lag.sh [SECONDS (default 60)] [RUNS (default 1)]
#   STYLEFILTER_LAG_MAX_DIFF=5   exit 1 when the filter adds more than this many percentage points
#   KEEP_LOG=PREFIX              keep each run's OBS log as PREFIX.<run>.txt
# RUNS > 1 alternates the two recordings and compares the means (a busy machine varies a lot from run
# to run).
# Needs build/build.sh to have run. Takes about 2 x (SECONDS + 20) seconds. Run it on an idle machine:
# other work on the CPUs shows up as lag in both runs.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=obs_env.sh
source "$HERE/obs_env.sh"
SECONDS_REC="${1:-60}"
RUNS="${2:-1}"
MAX_DIFF="${STYLEFILTER_LAG_MAX_DIFF:-5}"

FILTER='{"id": "stylefilter_filter", "versioned_id": "stylefilter_filter", "name": "Neural Style", "enabled": true, "settings": {}}'
SIMPLE_OUTPUT="
[Output]
Mode=Simple

[SimpleOutput]
RecQuality=Stream
StreamEncoder=x264
RecEncoder=x264
Preset=veryfast
VBitrate=2500
ABitrate=160
RecFormat=mkv
RecFormat2=mkv
FileNameWithoutSpace=true"

# record NAME FILTER_JSON -> sets LAGGED / LAGGED_PCT / SKIPPED_PCT / LOAD
record() {
    local name="$1" filter="$2"
    obs_env_init
    mkdir -p "$TMP/recordings"
    ffmpeg -v error -y -i "$OBS_ENV_REPO/assets/content/chicago.jpg" -vf scale=1280:720 -frames:v 1 "$TMP/photo.png"
    obs_write_config Lag 1280x720 640x360 "${SIMPLE_OUTPUT}
FilePath=$TMP/recordings"
    obs_write_scene Lag "$TMP/photo.png" 1280x720 "$filter" "$HERE/obs_drive.lua"
    LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "==> $name: recording ${SECONDS_REC} s (load average before: $LOAD)"
    SF_DRIVE_RECORD_AT=3 SF_DRIVE_RECORD_FOR="$SECONDS_REC" obs_start
    OBS_TIMEOUT=$((SECONDS_REC + 120))
    wait_for "Output 'simple_file_output': Number of lagged frames" "$name: recording stopped"
    local line
    line="$(obs_log | grep "Output 'simple_file_output': Number of lagged frames" | tail -1)"
    LAGGED="$(sed -n 's/.*rendering lag\/stalls: \([0-9]*\) (\([0-9.]*\)%).*/\1/p' <<<"$line")"
    LAGGED_PCT="$(sed -n 's/.*rendering lag\/stalls: \([0-9]*\) (\([0-9.]*\)%).*/\2/p' <<<"$line")"
    SKIPPED_PCT="$(obs_log | sed -n 's/.*skipped frames due to encoding lag: [0-9]*\/[0-9]* (\([0-9.]*\)%).*/\1/p' | tail -1)"
    [ -n "$LAGGED_PCT" ] || die "$name: no lagged-frames figure in OBS's log"
    echo "    $line"
    obs_log | grep -E "\[stylefilter\] 'Neural Style': (created|inference runs|auto resolution|frames are)" | cut -c1-200 | head -8 || true
    local stats
    stats="$(obs_log | grep "\[stylefilter\] 'Neural Style': destroyed" | tail -1 || true)"
    obs_quit || true
    [ -z "$stats" ] || echo "    ${stats:0:220}"
    [ -n "$stats" ] || obs_log | grep "\[stylefilter\] 'Neural Style': destroyed" | cut -c1-220 || true
    # OBS's own profiler, printed when it quits: time its graphics thread spent per frame
    obs_log | grep -E "^[0-9:.]*: +(┣|┃|┗|-)* *(obs_graphics_thread|render_video|tick_sources|output_frame)\(" | head -4 | sed 's/^/    /' || true
    if [ -n "${KEEP_LOG:-}" ]; then cp "$CFG"/logs/*.txt "$KEEP_LOG.${name// /_}.txt"; fi
    obs_env_cleanup
}

trap obs_env_cleanup EXIT
with_all=() without_all=()
for run in $(seq "$RUNS"); do
    record "with the filter $run" "$FILTER"
    with_all+=("$LAGGED_PCT") with_skip="${SKIPPED_PCT:-?}" with_load="$LOAD"
    record "without the filter $run" ""
    without_all+=("$LAGGED_PCT") without_skip="${SKIPPED_PCT:-?}" without_load="$LOAD"
done
mean() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.1f", s / NR }'; }
with_pct="$(mean "${with_all[@]}")" without_pct="$(mean "${without_all[@]}")"

diff="$(awk -v a="$with_pct" -v b="$without_pct" 'BEGIN { printf "%.1f", a - b }')"
echo
echo "lagged frames (rendering lag/stalls), ${SECONDS_REC} s x264 recording at 640x360 of a 1280x720 canvas, $RUNS run(s) each:"
printf '  with the filter at its defaults: %5s%%  (runs: %s; encoder skipped %s%%; load average before the last: %s)\n' "$with_pct" "${with_all[*]}" "$with_skip" "$with_load"
printf '  without the filter:              %5s%%  (runs: %s; encoder skipped %s%%; load average before the last: %s)\n' "$without_pct" "${without_all[*]}" "$without_skip" "$without_load"
printf '  difference:                      %5s percentage points (limit %s)\n' "$diff" "$MAX_DIFF"
awk -v d="$diff" -v m="$MAX_DIFF" 'BEGIN { exit !(d <= m) }' || { echo "FAIL: the filter adds more lag than allowed"; exit 1; }
echo "PASS"
