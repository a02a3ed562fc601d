#!/usr/bin/env bash
# Sets up the training pipeline on a Debian 12 machine (CPU: PyTorch 1.13 from Debian) and writes the photo
# list. Idempotent. The Debian packages are the ones in build/setup.sh's APT_PACKAGES; this script installs only
# what is missing, then gathers the photographs (python3 -m training.data).
#   On a GPU machine with its own PyTorch 2.x (CUDA), run with PY=python3 (that interpreter) and
#   SKIP_APT_TORCH=1: the pipeline needs only torch, numpy, Pillow and onnx from it.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PY:-/usr/bin/python3}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(python3-torch python3-torchvision python3-pil python3-numpy python3-onnx python3-pytest python3-matplotlib libopenblas0-openmp
          mate-backgrounds plasma-workspace-wallpapers lomiri-wallpapers python3-skimage opencv-doc python3-opencv ffmpeg)
if [ "${SKIP_APT_TORCH:-0}" = "1" ]; then
    PACKAGES=(mate-backgrounds plasma-workspace-wallpapers lomiri-wallpapers python3-skimage opencv-doc python3-opencv ffmpeg)
fi
missing=()
for p in "${PACKAGES[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then missing+=("$p"); fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "training/setup.sh: installing ${missing[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cd "$REPO"
"$PY" -c "import torch, numpy, PIL, onnx" || { echo "training/setup.sh: $PY lacks torch/numpy/PIL/onnx" >&2; exit 1; }
"$REPO/training/resnet18/fetch.sh" >/dev/null    # the loss network (a NuGet restore into the cache)
"$PY" -c "from training.data import video_frames; video_frames()"
if [ ! -s training/data/photos.txt ]; then
    "$PY" -m training.data --list training/data/photos.txt
fi
