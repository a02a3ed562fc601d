#!/usr/bin/env bash
# Checks a GPU build (STYLEFILTER_GPU=1 ./build/build.sh, docs/gpu.md) on whatever machine it runs on:
#   1. out/native, out/cli and both plugin bundles carry the GPU package's ONNX Runtime with its CUDA and TensorRT
#      provider libraries;
#   2. the CLI renders a photo with --device Cpu on the GPU natives, and again on the CPU package's natives
#      (STYLEFILTER_ORT_LIBRARY): the two images must be the same pixel for pixel;
#   3. --device Auto, Cuda and TensorRT each render: on a machine without NVIDIA's libraries or GPU every provider
#      that was passed over is named with its reason, in the log and in the stats line the CLI prints; where a
#      GPU provider runs, its image is compared with the CPU's (mean and largest difference, in 8-bit levels).
# Not part of build/test.sh or CI (they never restore the GPU package): prints SKIP and exits 0 when out/ holds
# a CPU build. Exits non-zero when a check fails.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO"

CLI="$OUT/cli/stylefilter"
WORK="$OUT/check-gpu"
PHOTO="$REPO/assets/content/chicago.jpg"
STYLE=starry_night

if [ ! -f "$OUT/native/libonnxruntime_providers_cuda.so" ] || [ ! -f "$OUT/cli/libonnxruntime_providers_cuda.so" ]; then
    echo "SKIP: out/ holds no GPU build (no libonnxruntime_providers_cuda.so in out/native and out/cli);" \
        "build one with STYLEFILTER_GPU=1 ./build/build.sh"
    exit 0
fi
rm -rf "$WORK"
mkdir -p "$WORK"
failures=0
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }
pass() { printf 'ok: %s\n' "$*"; }

# ---- 1. the GPU natives travel everywhere the engine does ---------------------------------------------------
providers=(libonnxruntime.so libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so libonnxruntime_providers_tensorrt.so)
for dir in out/native out/cli out/obs/package/stylefilter-obs/bin/64bit out/ofx/StyleFilter.ofx.bundle/Contents/Linux-x86-64; do
    missing=()
    for f in "${providers[@]}"; do [ -f "$dir/$f" ] || missing+=("$f"); done
    if [ "${#missing[@]}" -eq 0 ]; then pass "$dir has ${providers[*]}"; else fail "$dir lacks ${missing[*]}"; fi
done
printf '   sizes: %s\n' "$(cd out/native && du -h "${providers[@]}" | awk '{printf "%s %s, ", $2, $1}' | sed 's/, $//')"

# The CPU package's library, for the reference image: the same managed code over the other natives.
cpu_version="$(sed -n 's/.*Include="Microsoft.ML.OnnxRuntime" Version="\([^"]*\)".*/\1/p' src/StyleFilter.Managed/StyleFilter.Managed.csproj)"
packages="$(dotnet nuget locals global-packages -l | sed 's/^global-packages: //')"
cpu_library="$packages/microsoft.ml.onnxruntime/$cpu_version/runtimes/linux-x64/native/libonnxruntime.so"

render() {  # render NAME DEVICE [ENV=VALUE ...]: renders the photo, keeps the log and the CLI's line
    local name="$1" device="$2"
    shift 2
    if ! env "$@" nice -n 15 "$CLI" -v render -i "$PHOTO" -o "$WORK/$name.png" -s "$STYLE" --scale 0.5 --threads 2 \
        --device "$device" >"$WORK/$name.out" 2>"$WORK/$name.log"; then
        fail "render --device $device ($name) failed: $(tail -n 3 "$WORK/$name.log" "$WORK/$name.out")"
        return 1
    fi
}

compare() {  # compare A B: prints "mean max" of the absolute 8-bit differences
    "$PY" - "$WORK/$1.png" "$WORK/$2.png" <<'PYEOF'
import sys
import numpy as np
from PIL import Image
a, b = (np.asarray(Image.open(p).convert("RGBA"), dtype=np.int16) for p in sys.argv[1:3])
if a.shape != b.shape:
    sys.exit(f"sizes differ: {a.shape} and {b.shape}")
d = np.abs(a - b)
print(f"{d.mean():.4f} {d.max()}")
PYEOF
}

# ---- 2. the CPU provider on the GPU natives gives the CPU build's pixels --------------------------------------
render cpu-on-gpu-natives Cpu
if [ ! -f "$cpu_library" ]; then
    fail "the CPU package's $cpu_library is missing (a default ./build/build.sh restores it): no reference image"
elif render cpu-on-cpu-natives Cpu "STYLEFILTER_ORT_LIBRARY=$cpu_library"; then
    grep -q "ONNX Runtime $cpu_version from $cpu_library" "$WORK/cpu-on-cpu-natives.log" \
        || fail "the reference render did not run on $cpu_library: $(grep -m1 'engine created' "$WORK/cpu-on-cpu-natives.log")"
    gpu_version="$(sed -n 's/.*ONNX Runtime \([0-9.]*\) from.*/\1/p' "$WORK/cpu-on-gpu-natives.log" | head -n 1)"
    read -r mean max <<<"$(compare cpu-on-gpu-natives cpu-on-cpu-natives)"
    if [ "$max" = "0" ]; then
        pass "CPU provider: ONNX Runtime $gpu_version (GPU package) and $cpu_version (CPU package) give the same pixels"
    else
        fail "CPU provider: GPU package's ONNX Runtime $gpu_version differs from the CPU package's $cpu_version: mean $mean, max $max levels"
    fi
fi

# ---- 3. every GPU device either runs or says why not --------------------------------------------------------
declare -A expected=([Auto]="TensorRT Cuda DirectML" [Cuda]="Cuda" [TensorRT]="TensorRT")
for device in Auto Cuda TensorRT; do
    render "$device" "$device" || continue
    line="$(cat "$WORK/$device.out")"
    provider="$(sed -n 's/.* ms (\([A-Za-z]*\)[;)].*/\1/p' <<<"$line")"
    echo "   --device $device: $line"
    if [ "$provider" != "CPU" ]; then
        read -r mean max <<<"$(compare "$device" cpu-on-gpu-natives)"
        pass "--device $device runs on $provider: mean difference from the CPU $mean, max $max levels"
        continue
    fi
    chosen="$(grep -m1 'execution provider:' "$WORK/$device.log" || true)"
    for want in ${expected[$device]}; do
        # The reason is the text after "Want: " up to the next provider's "; Name: " or the end.
        reason="$(grep -o "$want: [^;]*" <<<"$chosen" | head -n 1)"
        if [ -z "$reason" ]; then
            fail "--device $device: the log does not say why $want was passed over: $chosen"
        elif ! grep -qF "passed over" <<<"$line" || ! grep -qF "$reason" <<<"$line"; then
            fail "--device $device: the stats line lacks \"$reason\""
        else
            pass "--device $device passed over $reason"
        fi
    done
    if [ "$device" != Auto ] && ! grep -q "^warn: .*$device is not available, using the CPU" "$WORK/$device.log"; then
        fail "--device $device: no warning that it fell back to the CPU"
    fi
    if ! "$PY" -c "import sys; from PIL import Image; sys.exit(Image.open('$WORK/$device.png').size[0] == 0)"; then
        fail "--device $device wrote no image"
    fi
done

echo
if [ "$failures" -gt 0 ]; then
    echo "GPU build check: $failures FAILED (logs in ${WORK#"$REPO"/})"
    exit 1
fi
echo "GPU build check: all passed (logs in ${WORK#"$REPO"/})"
