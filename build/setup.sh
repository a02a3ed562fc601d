#!/usr/bin/env bash
# Installs everything StyleFilter needs on a fresh Debian 12 machine.
# Idempotent: a second run checks, finds everything in place and prints nothing. ONNX Runtime is not
# installed here: it comes from NuGet (Microsoft.ML.OnnxRuntime 1.31.1) with the build's dotnet restore.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# ---- Debian packages -------------------------------------------------------
APT_PACKAGES=(ffmpeg python3-onnx python3-numpy gcc clang-format cmake pkg-config ca-certificates libobs-dev obs-studio libx11-dev xvfb xauth dbus libgl1-mesa-dri libegl-mesa0 libglx-mesa0 zip unzip python3-torch python3-torchvision python3-pil python3-pytest python3-matplotlib libopenblas0-openmp mate-backgrounds plasma-workspace-wallpapers lomiri-wallpapers python3-skimage opencv-doc python3-opencv)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
    if [ "$status" != "install ok installed" ]; then
        missing+=("$p")
    fi
done
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
