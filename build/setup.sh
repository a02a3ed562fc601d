#!/usr/bin/env bash
# Installs everything StyleFilter needs on a fresh Debian 12 machine.
# Idempotent: a second run checks, finds everything in place and prints nothing.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ORT_NPM_PACKAGE="com.github.asus4.onnxruntime"
ORT_NPM_VERSION="0.4.9"            # holds ONNX Runtime $ORT_VERSION (set in common.sh)
ORT_NPM_SHA256="e59788788818fdde1b2e522e766a21ba0f7d8391de55737abf81e32cc801785d"

DOWNLOADS="$STYLEFILTER_CACHE/downloads"
ORT_TGZ="$DOWNLOADS/$ORT_NPM_PACKAGE-$ORT_NPM_VERSION.tgz"
ORT_STAMP="$ORT_DIR/.stamp"
ORT_STAMP_CONTENT="$ORT_NPM_PACKAGE@$ORT_NPM_VERSION $ORT_NPM_SHA256"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# ---- Debian packages -------------------------------------------------------
APT_PACKAGES=(ffmpeg python3-onnx python3-numpy gcc cmake pkg-config ca-certificates libobs-dev obs-studio libx11-dev xvfb xauth dbus libgl1-mesa-dri libegl-mesa0 libglx-mesa0 zip unzip python3-torch python3-torchvision python3-pil python3-pytest python3-matplotlib libopenblas0-openmp mate-backgrounds plasma-workspace-wallpapers lomiri-wallpapers python3-skimage opencv-doc python3-opencv)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
    if [ "$status" != "install ok installed" ]; then
        missing+=("$p")
    fi
done
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- .NET SDK --------------------------------------------------------------
if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --version >/dev/null 2>&1; then
    die "the .NET SDK is missing: install .NET SDK 10 (https://dot.net) so that 'dotnet --version' works"
fi

# ---- training: the ResNet18 loss network (NuGet) and the stills of people from the sample videos ----
"$REPO/training/resnet18/fetch.sh" >/dev/null
(cd "$REPO" && "$PY" -c "from training.data import video_frames; video_frames()")

# ---- ONNX Runtime (from npm) ----------------------------------------------
if [ -f "$ORT_STAMP" ] && [ "$(cat "$ORT_STAMP")" = "$ORT_STAMP_CONTENT" ] \
   && [ -f "$ORT_DIR/lib/libonnxruntime.so" ] && [ -f "$ORT_DIR/include/onnxruntime_c_api.h" ]; then
    exit 0
fi

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$DOWNLOADS"
if [ ! -f "$ORT_TGZ" ] || [ "$(sha_of "$ORT_TGZ")" != "$ORT_NPM_SHA256" ]; then
    log "downloading ONNX Runtime $ORT_VERSION ($ORT_NPM_PACKAGE@$ORT_NPM_VERSION from npm)"
    rm -f "$ORT_TGZ"
    (cd "$DOWNLOADS" && npm pack --silent "$ORT_NPM_PACKAGE@$ORT_NPM_VERSION" >/dev/null)
    [ -f "$ORT_TGZ" ] || die "npm pack did not produce $ORT_TGZ"
fi
actual="$(sha_of "$ORT_TGZ")"
if [ "$actual" != "$ORT_NPM_SHA256" ]; then
    mv -f "$ORT_TGZ" "$ORT_TGZ.bad"
    die "checksum mismatch for $ORT_NPM_PACKAGE@$ORT_NPM_VERSION: expected $ORT_NPM_SHA256, got $actual (kept as $ORT_TGZ.bad)"
fi

log "unpacking ONNX Runtime $ORT_VERSION into $ORT_DIR"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
LIBS="package/Plugins/Linux/x64"
HDRS="package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64_x86_64-simulator/onnxruntime.framework/Headers"
tar -xzf "$ORT_TGZ" -C "$tmp" "$LIBS" "$HDRS"
for f in libonnxruntime.so libonnxruntime_providers_shared.so; do
    [ -f "$tmp/$LIBS/$f" ] || die "$f is missing from $ORT_TGZ"
done
[ -f "$tmp/$HDRS/onnxruntime_c_api.h" ] || die "onnxruntime_c_api.h is missing from $ORT_TGZ"

rm -rf "$ORT_DIR"
mkdir -p "$ORT_DIR/lib" "$ORT_DIR/include"
cp "$tmp/$LIBS/libonnxruntime.so" "$tmp/$LIBS/libonnxruntime_providers_shared.so" "$ORT_DIR/lib/"
cp "$tmp/$HDRS/"*.h "$ORT_DIR/include/"
ln -sf libonnxruntime.so "$ORT_DIR/lib/libonnxruntime.so.1"
printf '%s\n' "$ORT_STAMP_CONTENT" > "$ORT_STAMP"
log "ONNX Runtime $ORT_VERSION ready"
