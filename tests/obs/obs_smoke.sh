#!/usr/bin/env bash
# Smoke test in the real OBS Studio: installs the plugin into an isolated config folder, starts `obs`
# on a private Xvfb display (software OpenGL) with a scene whose image source carries the "Neural
# Style" filter at its defaults, and checks OBS's own log and threads: module loaded, filter
# registered, style loaded, a first stylised frame at an Auto-picked size, the filter's threads at a
# lower priority than OBS's with the default thread count; the Filters window open while a script
# switches the style, and the panel rebuilding itself with the new style; a stall of the whole
# process (SIGSTOP) keeping the stylised frame on screen. Then it asks OBS to quit and checks the
# filter was destroyed cleanly and OBS reports no leaks.
# Exit status non-zero on failure. Needs obs-studio, xvfb, a C compiler with libx11-dev, ffmpeg.
#   STYLEFILTER_OBS_TIMEOUT=120   seconds to wait for each log line
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=obs_env.sh
source "$HERE/obs_env.sh"

log() { printf '==> %s\n' "$*"; }
obs_env_init
trap obs_env_cleanup EXIT

# A scene collection: one image source (640x360) with the filter at its defaults but the style, and
# the Lua driver: the Filters window at 1 s, a style switch at 12 s.
ffmpeg -v error -y -i "$OBS_ENV_REPO/assets/content/chicago.jpg" -vf scale=640:360 -frames:v 1 "$TMP/photo.png"
obs_write_config Smoke 640x360 640x360
obs_write_scene Smoke "$TMP/photo.png" 640x360 \
    '{"id": "stylefilter_filter", "versioned_id": "stylefilter_filter", "name": "Neural Style", "enabled": true, "settings": {"style": "starry_night"}}' \
    "$HERE/obs_drive.lua"
export SF_DRIVE_FILTERS_AT=1 SF_DRIVE_STYLE_AT=12 SF_DRIVE_STYLE=the_scream

log "starting obs (config $CFG)"
OBS_ARGS=--verbose obs_start
wait_for "\[stylefilter\] engine loaded: $CFG/plugins/stylefilter-obs/bin/64bit/stylefilter.so" \
    "OBS loaded the module from the per-user plugin folder and it loaded the engine beside it"
wait_for "\[stylefilter\] registered filter 'stylefilter_filter' (Neural Style)" "filter registered"
wait_for "^[0-9:.]*:     stylefilter-obs.so" "listed under Loaded Modules"
wait_for "'Neural Style': style 'The Starry Night[^']*' loaded" \
    "the scene's Neural Style filter loaded the bundled style saved by its id (starry_night; on a CPU its fast network)"
wait_for "'Neural Style': inference runs on execution provider" "frames from the real render loop reach the engine"
wait_for "'Neural Style': first stylised frame on screen" "a stylised frame is on screen"
obs_log | grep -o "first stylised frame on screen .*" | head -1 | sed 's/^/      /'

# Auto resolution and the CPU budget, as OBS runs them.
size="$(obs_log | sed -n "s/.*'Neural Style': frames are 640x360.*, inference runs at about \([0-9]*x[0-9]*\).*/\1/p" | head -1)"
[ -n "$size" ] || die "no inference size logged"
obs_log | grep -q "'Neural Style': created: .*inference resolution Auto" || die "the filter did not start on Auto"
echo "PASS: inference resolution Auto picked ${size} for the 640x360 source"
cores="$(nproc)"
want=$((cores / 2)); [ "$want" -ge 1 ] || want=1; [ "$want" -le 8 ] || want=8
obs_log | grep -q "'Neural Style': engine created (device preference: Auto, $want CPU thread" \
    || die "the engine was not created with $want CPU thread(s) (half of $cores cores)"
echo "PASS: the engine uses $want CPU thread(s) of $cores by default"
nice_of() { awk '{ sub(/.*\) /, ""); print $17 }' "$1"; }   # field 19 of /proc/.../stat
main_nice="$(nice_of "/proc/$OBS_PID/stat")"
low=$((main_nice + 10)); [ "$low" -le 19 ] || low=19
found=0
for task in /proc/"$OBS_PID"/task/*; do
    comm="$(cat "$task/comm" 2>/dev/null || true)"
    case "$comm" in
    stylefilter-inf*|stylefilter-loa*)
        n="$(nice_of "$task/stat")"
        [ "$n" = "$low" ] || die "thread '$comm' runs at nice $n, not $low (OBS's threads: $main_nice)"
        found=$((found + 1)) ;;
    esac
done
[ "$found" -ge 2 ] || die "the filter's inference and loader threads were not found in OBS ($found)"
echo "PASS: the filter's $found threads run at nice $low, below OBS's $main_nice"

# The Filters window was open when the style changed: the panel rebuilt itself with the new style.
wait_for "\[sf-drive\] filters window opened" "the Filters window of the photo source opened"
wait_for "\[sf-drive\] style set to the_scream" "a script switched the filter to The Scream"
wait_for "'Neural Style': style 'The Scream[^']*' loaded" "The Scream loaded"
switched_at="$(obs_log | grep -n "\[sf-drive\] style set to the_scream" | head -1 | cut -d: -f1)"
panel_after() { obs_log | tail -n +"$switched_at" | grep -c "'Neural Style': panel built: Style: $1" || true; }
end=$((SECONDS + OBS_TIMEOUT))
while [ "$(panel_after "The Scream")" -lt 1 ] && [ $SECONDS -lt $end ]; do sleep 0.5; done
[ "$(panel_after "The Scream")" -ge 1 ] || die "the open panel was not rebuilt after The Scream loaded"
echo "PASS: the open panel rebuilt itself when The Scream loaded (no Refresh click)"

# A stall of the whole process: the stylised frame stays on screen afterwards.
log "stopping OBS for 1.5 s (SIGSTOP), then letting it go on"
kill -STOP "$OBS_PID"; sleep 1.5; kill -CONT "$OBS_PID"; sleep 3

# Quit the way a user does when closing the main window (WM_DELETE_WINDOW, sent by a tiny Xlib helper
# since there is no window manager); if that does not work, stop the process.
log "asking OBS to quit (closing its windows)"
if obs_quit; then
    wait_for "'Neural Style': destroyed" "filter destroyed cleanly when OBS quit"
    leaks="$(obs_log | sed -n 's/.*Number of memory leaks: \([0-9]*\).*/\1/p' | tail -1)"
    [ "$leaks" = "0" ] && echo "PASS: OBS reports 0 memory leaks" || die "OBS reports memory leaks: ${leaks:-?}"
    line="$(obs_log | grep "'Neural Style': destroyed" | tail -1)"
    stalls="$(sed -n 's/.* \([0-9]*\) stalls.*/\1/p' <<<"$line")"
    unstyled="$(sed -n 's/.* \([0-9]*\) unstyled after the first stylised frame.*/\1/p' <<<"$line")"
    [ "${stalls:-0}" -ge 1 ] || die "the stall was not seen by the filter: $line"
    [ "$unstyled" = "0" ] || die "the source was drawn unstyled after the first stylised frame: $line"
    echo "PASS: after $stalls stall(s) the stylised frame stayed on screen (0 frames unstyled after the first result)"
else
    die "OBS did not quit when its windows were closed"
fi
echo "--- stylefilter lines of the OBS log:"
obs_log | grep "\[stylefilter\] '" | grep -v "panel built" | cut -c1-220
echo "OBS smoke test passed"
