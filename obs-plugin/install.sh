#!/usr/bin/env bash
# Installs the StyleFilter OBS plugin for the current user, or removes it.
#
#   obs-plugin/install.sh                 build the package if needed, then install it into
#                                         ${XDG_CONFIG_HOME:-~/.config}/obs-studio/plugins/stylefilter-obs/
#   obs-plugin/install.sh --zip FILE      install from a release zip instead of the build tree
#   obs-plugin/install.sh --uninstall     remove it again (your OBS scenes and settings are kept)
#
# The package (out/obs/package/stylefilter-obs) and the zip (out/obs/stylefilter-obs-linux-x64.zip)
# are made by obs-plugin/build.sh, which build/build.sh runs. Layout installed:
#   stylefilter-obs/bin/64bit/stylefilter-obs.so      the OBS module
#   stylefilter-obs/bin/64bit/stylefilter.so          the StyleFilter engine
#   stylefilter-obs/bin/64bit/libonnxruntime*.so*     ONNX Runtime
#   stylefilter-obs/bin/64bit/models/                 bundled styles
#   stylefilter-obs/data/locale/en-US.ini             UI strings
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
PLUGIN=stylefilter-obs
PKG="$REPO/out/obs/package/$PLUGIN"
ZIP="$REPO/out/obs/$PLUGIN-linux-x64.zip"
PLUGINS_DIR="${XDG_CONFIG_HOME:-$HOME/.config}/obs-studio/plugins"
DEST="$PLUGINS_DIR/$PLUGIN"

log() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

mode=install
from_zip=""
while [ $# -gt 0 ]; do
    case "$1" in
        --uninstall) mode=uninstall ;;
        --zip) [ $# -ge 2 ] || die "--zip needs a file"; from_zip="$2"; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done

if [ "$mode" = uninstall ]; then
    if [ -e "$DEST" ]; then
        rm -rf "$DEST"
        log "removed $DEST"
    else
        log "not installed ($DEST does not exist)"
    fi
    exit 0
fi

mkdir -p "$PLUGINS_DIR"
tmp="$(mktemp -d "$PLUGINS_DIR/.$PLUGIN.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
if [ -n "$from_zip" ]; then
    [ -f "$from_zip" ] || die "$from_zip not found"
    command -v unzip >/dev/null || die "unzip is missing"
    unzip -q "$from_zip" -d "$tmp"
else
    if [ ! -f "$PKG/bin/64bit/$PLUGIN.so" ] || [ ! -f "$ZIP" ]; then
        "$HERE/build.sh"
    fi
    cp -a "$PKG" "$tmp/"
fi
[ -f "$tmp/$PLUGIN/bin/64bit/$PLUGIN.so" ] || die "the package has no $PLUGIN/bin/64bit/$PLUGIN.so"

# Replace any previous installation in one step.
rm -rf "$DEST"
mv "$tmp/$PLUGIN" "$DEST"
log "installed the StyleFilter OBS plugin into $DEST"
log "restart OBS Studio, then add the filter: right-click a source > Filters > + > Neural Style"
