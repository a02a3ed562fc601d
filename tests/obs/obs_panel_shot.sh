#!/usr/bin/env bash
# Screenshot of the Neural Style panel in the real OBS Studio, as a user sees it: OBS starts headless
# (Xvfb) with a 1280x720 photo source carrying the filter at its defaults, the source's Filters
# window opens 2 s later (while the style is still loading), and the screen is captured SECONDS
# after that without touching anything, so the picture shows whether the panel updated by itself.
#   tests/obs/obs_panel_shot.sh OUT.png [SECONDS (default 20)]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=obs_env.sh
source "$HERE/obs_env.sh"
OUT_PNG="${1:?usage: obs_panel_shot.sh OUT.png [SECONDS]}"
AFTER="${2:-20}"
[ "$AFTER" -ge 2 ] || die "SECONDS must be 2 or more"
mkdir -p "$(dirname "$OUT_PNG")"
OUT_PNG="$(cd "$(dirname "$OUT_PNG")" && pwd)/$(basename "$OUT_PNG")"

obs_env_init
trap obs_env_cleanup EXIT
ffmpeg -v error -y -i "$OBS_ENV_REPO/assets/content/chicago.jpg" -vf scale=1280:720 -frames:v 1 "$TMP/photo.png"
obs_write_config Panel 1280x720 640x360
obs_write_scene Panel "$TMP/photo.png" 1280x720 \
    '{"id": "stylefilter_filter", "versioned_id": "stylefilter_filter", "name": "Neural Style", "enabled": true, "settings": {}}' \
    "$HERE/obs_drive.lua"
export SF_DRIVE_FILTERS_AT=2
obs_start
wait_for "\[sf-drive\] filters window opened" "the Filters window of the photo source opened"
# Tall enough to show every property and the status without scrolling (no window manager to do it).
sleep 1
"$TMP/x_win" resize "$OBS_PID" "Filters for" 960 1020 >/dev/null || die "the Filters window was not found"
sleep "$((AFTER - 1))"
ffmpeg -v error -y -f x11grab -video_size 1280x1024 -i "$DISPLAY" -frames:v 1 -vf crop=960:1020:0:0 "$TMP/screen.png"
cp "$TMP/screen.png" "$OUT_PNG"
echo "--- stylefilter lines of the OBS log:"
obs_log | grep -E 'stylefilter|sf-drive' | cut -c1-200
obs_quit || true
echo "screenshot: $OUT_PNG (${AFTER} s after the Filters window opened)"
