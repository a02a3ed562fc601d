# obs_env.sh - runs the real OBS Studio headless for the scripts in this folder (sourced, not run).
#
#   source obs_env.sh
#   obs_env_init                      temporary XDG_CONFIG_HOME with the plugin installed, software OpenGL
#   obs_write_config NAME BASE OUTPUT [SIMPLE_OUTPUT_INI]   global.ini and profile NAME (canvas BASE, output OUTPUT, "WxH")
#   obs_write_scene NAME IMAGE WxH FILTER_JSON [LUA]        scene collection NAME: one image source with
#                                                           FILTER_JSON ("" for none), optional Lua script
#   obs_start                         Xvfb + obs (OBS_PID, DISPLAY); obs_log prints OBS's log so far;
#                                     OBS_ARGS adds arguments (e.g. --verbose: debug lines in the log)
#   wait_for PATTERN DESCRIPTION      waits for a log line (STYLEFILTER_OBS_TIMEOUT seconds, default 120)
#   obs_quit                          closes OBS's main window like a user (x_win), kills it if it stays
#   obs_env_cleanup                   stops what obs_start started and removes the temporary folder
#
# The scripts pass settings to the Lua driver (obs_drive.lua) through SF_DRIVE_* environment variables.
OBS_ENV_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OBS_ENV_REPO="$(cd "$OBS_ENV_HERE/../.." && pwd)"
OBS_TIMEOUT="${STYLEFILTER_OBS_TIMEOUT:-120}"
TMP=""
XVFB_PID=""
OBS_PID=""
RUNNER=""

die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

obs_env_init() {
    for tool in obs Xvfb ffmpeg cc; do command -v "$tool" >/dev/null || die "$tool is missing"; done
    TMP="$(mktemp -d)"
    export XDG_CONFIG_HOME="$TMP/config"
    export LIBGL_ALWAYS_SOFTWARE=1
    unset WAYLAND_DISPLAY
    CFG="$XDG_CONFIG_HOME/obs-studio"
    "$OBS_ENV_REPO/obs-plugin/install.sh" >/dev/null
    [ -f "$CFG/plugins/stylefilter-obs/bin/64bit/stylefilter-obs.so" ] || die "install.sh did not install the plugin"
    cc -O1 -o "$TMP/x_win" "$OBS_ENV_HERE/x_win.c" -lX11 || die "could not build x_win"
}

obs_env_cleanup() {
    [ -n "$OBS_PID" ] && kill -KILL "$OBS_PID" 2>/dev/null || true
    [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true
    [ -n "$TMP" ] && rm -rf "$TMP"
    TMP=""
}

obs_write_config() {  # NAME BASE OUTPUT [extra profile ini]
    local name="$1" base="$2" output="$3" extra="${4:-}"
    mkdir -p "$CFG/basic/scenes" "$CFG/basic/profiles/$name"
    cat > "$CFG/global.ini" <<INI
[General]
FirstRun=false
LastVersion=486539266
Pre19Defaults=false
Pre21Defaults=false
Pre23Defaults=false
Pre24.1Defaults=false

[Basic]
Profile=$name
ProfileDir=$name
SceneCollection=$name
SceneCollectionFile=$name
INI
    cat > "$CFG/basic/profiles/$name/basic.ini" <<INI
[General]
Name=$name

[Video]
BaseCX=${base%x*}
BaseCY=${base#*x}
OutputCX=${output%x*}
OutputCY=${output#*x}
FPSType=1
FPSInt=30
$extra
INI
}

obs_write_scene() {  # NAME IMAGE WxH FILTER_JSON [LUA_SCRIPT]
    local name="$1" image="$2" size="$3" filter="$4" lua="${5:-}" filters="[]" modules="{}"
    [ -n "$filter" ] && filters="[$filter]"
    [ -n "$lua" ] && modules="{\"scripts-tool\": [{\"path\": \"$lua\", \"settings\": {}}]}"
    cat > "$CFG/basic/scenes/$name.json" <<JSON
{
  "name": "$name",
  "current_scene": "Scene",
  "current_program_scene": "Scene",
  "scene_order": [{"name": "Scene"}],
  "sources": [
    {"id": "scene", "versioned_id": "scene", "name": "Scene",
     "settings": {"id_counter": 1, "custom_size": false,
                  "items": [{"name": "Photo", "id": 1, "visible": true, "locked": false,
                             "pos": {"x": 0.0, "y": 0.0}, "scale": {"x": 1.0, "y": 1.0}, "rot": 0.0,
                             "align": 5, "bounds_type": 0, "bounds_align": 0,
                             "bounds": {"x": 0.0, "y": 0.0}}]}},
    {"id": "image_source", "versioned_id": "image_source", "name": "Photo",
     "settings": {"file": "$image"},
     "filters": $filters}
  ],
  "transitions": [],
  "groups": [],
  "modules": $modules
}
JSON
    : "$size"  # the image file already has this size; kept in the call for readability
}

obs_start() {
    # A private X server; -displayfd picks a free display number.
    exec 3>"$TMP/display"
    Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp >"$TMP/xvfb.log" 2>&1 &
    XVFB_PID=$!
    exec 3>&-
    for _ in $(seq 100); do [ -s "$TMP/display" ] && break; sleep 0.1; done
    [ -s "$TMP/display" ] || die "Xvfb did not start"
    export DISPLAY=":$(cat "$TMP/display")"
    rm -f "$TMP/obs.pid"
    if command -v dbus-run-session >/dev/null; then
        dbus-run-session -- sh -c 'obs --multi --disable-shutdown-check $3 >"$1" 2>&1 & echo $! >"$2"; wait' sh \
            "$TMP/obs.out" "$TMP/obs.pid" "${OBS_ARGS:-}" &
    else
        sh -c 'obs --multi --disable-shutdown-check $3 >"$1" 2>&1 & echo $! >"$2"; wait' sh "$TMP/obs.out" "$TMP/obs.pid" \
            "${OBS_ARGS:-}" &
    fi
    RUNNER=$!
    for _ in $(seq 100); do [ -s "$TMP/obs.pid" ] && break; sleep 0.1; done
    OBS_PID="$(cat "$TMP/obs.pid")"
}

obs_log() { cat "$CFG"/logs/*.txt 2>/dev/null || true; }

wait_for() {  # wait_for PATTERN DESCRIPTION
    local end=$((SECONDS + OBS_TIMEOUT))
    while [ $SECONDS -lt $end ]; do
        if obs_log | grep -q -- "$1"; then echo "PASS: $2"; return 0; fi
        kill -0 "$OBS_PID" 2>/dev/null || { obs_log | tail -30 >&2; die "obs exited early ($2 not seen)"; }
        sleep 0.5
    done
    obs_log | grep -E 'stylefilter|sf-drive' >&2 || true
    die "$2: no log line matching '$1' within ${OBS_TIMEOUT}s"
}

# Returns 0 when OBS quit through its window (OBS_PID cleared), 1 when it had to be killed.
obs_quit() {
    "$TMP/x_win" close "$OBS_PID" >/dev/null || true
    for _ in $(seq 300); do kill -0 "$OBS_PID" 2>/dev/null || break; sleep 0.1; done
    local rc=0
    if kill -0 "$OBS_PID" 2>/dev/null; then
        kill -TERM "$OBS_PID" 2>/dev/null || true
        sleep 2
        kill -KILL "$OBS_PID" 2>/dev/null || true
        rc=1
    fi
    OBS_PID=""
    wait "$RUNNER" 2>/dev/null || true
    kill "$XVFB_PID" 2>/dev/null || true
    XVFB_PID=""
    return $rc
}
