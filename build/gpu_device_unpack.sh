#!/usr/bin/env bash
# Runs on the lent GPU machine (docs/gpu.md), in the checkout's root: gathers the parts that
# build/gpu_device_pack.sh made, one or more per call, and when all are there unpacks the engine with ONNX
# Runtime's GPU natives into out/native (with the bundled styles from models/) and finds NVIDIA's libraries.
#   build/gpu_device_unpack.sh                 take the parts this call carried
#   build/gpu_device_unpack.sh --bench [STYLE WIDTH HEIGHT FRAMES DEVICE...]
#                                              the same, then, once everything is there, build
#                                              build/gpu_device_bench.c and measure (default: starry_night
#                                              1920 1080 60 auto cuda tensorrt cpu); the output also goes to
#                                              $OUT/gpu-bench.txt where $OUT is set
# Needs only bash, coreutils, Python 3 (for the xz archive) and gcc. The parts wait in out/gpu-stash between
# calls; the machine keeps it only while it stays warm (30 s after a call).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
CARRIED="$REPO/.carry/gpu"
STASH="$REPO/out/gpu-stash"
NATIVE="$REPO/out/native"
PY="$(command -v python3)"

bench=0
if [ "${1:-}" = "--bench" ]; then bench=1; shift; fi

mkdir -p "$STASH"
if [ -d "$CARRIED" ]; then
    [ -f "$CARRIED/pack.sha256" ] && cp -f "$CARRIED/pack.sha256" "$STASH/"
    for p in "$CARRIED"/part-*; do [ -f "$p" ] && mv -f "$p" "$STASH/"; done
fi
[ -f "$STASH/pack.sha256" ] || { echo "error: no .carry/gpu/pack.sha256 has come (carry it with every part)" >&2; exit 1; }

mapfile -t parts < <(awk '$2 ~ /^part-/ {print $2}' "$STASH/pack.sha256")
have=()
missing=()
for p in "${parts[@]}"; do
    if [ -f "$STASH/$p" ]; then have+=("$p"); else missing+=("$p"); fi
done
if [ "${#have[@]}" -gt 0 ]; then
    arrived="$(IFS='|'; echo "${have[*]}")"
    (cd "$STASH" && grep -E " ($arrived)\$" pack.sha256 | sha256sum -c --quiet -) \
        || { echo "error: a part arrived damaged; carry it again" >&2; exit 1; }
fi
echo "parts: ${#have[@]} of ${#parts[@]} here${missing[*]:+; still to carry: ${missing[*]}}"
[ "${#missing[@]}" -eq 0 ] || exit 0

if [ ! -f "$NATIVE/.unpacked" ] || ! cmp -s "$NATIVE/.unpacked" "$STASH/pack.sha256"; then
    whole="$(awk '$2 == "pack.tar.xz" {print $1}' "$STASH/pack.sha256")"
    got="$(cd "$STASH" && cat "${parts[@]}" | sha256sum | cut -d' ' -f1)"
    [ "$got" = "$whole" ] || { echo "error: the joined archive's SHA-256 is $got, not $whole" >&2; exit 1; }
    rm -rf "$NATIVE"
    mkdir -p "$NATIVE"
    (cd "$STASH" && cat "${parts[@]}") | "$PY" -c '
import sys, tarfile
with tarfile.open(fileobj=sys.stdin.buffer, mode="r|xz") as archive:
    archive.extractall(sys.argv[1], filter="data") if hasattr(tarfile, "data_filter") else archive.extractall(sys.argv[1])
' "$NATIVE"
    ln -sfn libonnxruntime.so "$NATIVE/libonnxruntime.so.1"
    cp -r models "$NATIVE/models"
    rm -f "$NATIVE/models/README.md"
    cp "$STASH/pack.sha256" "$NATIVE/.unpacked"
fi
echo "engine: $(cd "$NATIVE" && ls -- *.so | tr '\n' ' ')"

# NVIDIA's libraries that the CUDA and TensorRT providers load: from the CUDA toolkit or Python's nvidia-* wheels.
roots=(/usr/local/cuda*/lib64 /usr/local/cuda*/targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu)
while IFS= read -r site; do roots+=("$site/nvidia" "$site/tensorrt_libs"); done \
    < <("$PY" -c 'import site; print("\n".join(site.getsitepackages()))' 2>/dev/null || true)
dirs=()
for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcudnn.so.9 libnvinfer.so.10 libnvonnxparser.so.10; do
    found="$(find "${roots[@]}" -name "$lib" -print -quit 2>/dev/null || true)"
    if [ -n "$found" ]; then
        dirs+=("$(dirname "$found")")
        echo "found $lib: $found"
    else
        echo "not found: $lib"
    fi
done
library_path="$(printf '%s\n' "${dirs[@]}" | awk '!seen[$0]++' | paste -sd:)"
printf 'export LD_LIBRARY_PATH=%q\n' "$library_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" > "$REPO/out/gpu-device.env"
echo "wrote out/gpu-device.env (source it before running the engine)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

[ "$bench" -eq 1 ] || exit 0
# shellcheck source=/dev/null
source "$REPO/out/gpu-device.env"
gcc -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -Isrc/StyleFilter.Native build/gpu_device_bench.c -o out/gpu-device-bench -ldl
args=("$@")
[ "${#args[@]}" -gt 0 ] || args=(starry_night 1920 1080 60 auto cuda tensorrt cpu)
report="${OUT:-$REPO/out}/gpu-bench.txt"
mkdir -p "$(dirname "$report")"
set -o pipefail
out/gpu-device-bench "$NATIVE/stylefilter.so" "${args[@]}" 2>&1 | tee "$report"
