#!/usr/bin/env bash
# Packs a GPU build's engine for the GPU machine that the device tool lends some sessions (docs/gpu.md): that
# machine has CUDA 13 and cuDNN 9 but no .NET and no network, and each call takes at most 64 MiB, the checkout's
# tracked files included. The engine (out/native/stylefilter.so, stylefilter.h) and ONNX Runtime's GPU natives
# (libonnxruntime*.so, 310 MB, the CUDA provider 271 MB of it) go into one xz-compressed tar (xz because the
# machine's Python reads it without any tool), cut into parts that each fit in one call beside the checkout:
#
#   .carry/gpu/pack.sha256          the parts' and the whole archive's SHA-256 (carried with every part)
#   .carry/gpu/part-NN              the parts, one per call
#
# Then, back to back (the machine goes back after 30 s idle, and with it the parts it holds), call the device's
# run with carry [".carry/gpu/pack.sha256", ".carry/gpu/part-NN"] and the command build/gpu_device_unpack.sh; the
# call that brings the last part unpacks, and build/gpu_device_unpack.sh --bench measures in the same call. This
# script prints the calls. .carry/ is git-ignored.
#   --part-mib N   size of a part (default: what fits beside the checkout, at most 60 MiB)
#   --level N      xz preset, 0..9 (default 6; the CUDA provider's kernels hardly compress: -9 -e took 12 minutes
#                  on two cores to make 186 MB of its 284 MB, -6 makes 198 MB of all 323 MB in 4)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO"

part_mib=""
level=6
while [ $# -gt 0 ]; do
    case "$1" in
        --part-mib) part_mib="$2"; shift 2 ;;
        --level) level="$2"; shift 2 ;;
        -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1" ;;
    esac
done

files=(stylefilter.so stylefilter.h libonnxruntime.so libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so
    libonnxruntime_providers_tensorrt.so)
for f in "${files[@]}"; do
    [ -f "$OUT/native/$f" ] || die "out/native/$f is missing: build the GPU engine first (STYLEFILTER_GPU=1 ./build/build.sh)"
done
command -v xz >/dev/null || die "xz is missing (apt-get install xz-utils)"

# What travels with every call anyway: tracked files and untracked ones that are not ignored (docs: 64 MiB in all).
tree_bytes="$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 -r stat -c %s 2>/dev/null \
    | awk '{s += $1} END {print s + 0}')"
limit=$((64 * 1024 * 1024))
margin=$((1024 * 1024))  # the manifest, and files that change before the call
if [ -z "$part_mib" ]; then
    part_bytes=$((limit - tree_bytes - margin))
    [ "$part_bytes" -gt $((60 * 1024 * 1024)) ] && part_bytes=$((60 * 1024 * 1024))
    if [ "$part_bytes" -lt $((4 * 1024 * 1024)) ]; then
        die "the checkout's files take $((tree_bytes / 1024 / 1024)) MiB of the 64 MiB a device call carries, leaving" \
            "$((part_bytes / 1024)) KiB for a part: make the checkout smaller (docs/gpu.md), or force --part-mib"
    fi
else
    part_bytes=$((part_mib * 1024 * 1024))
fi

dest="$REPO/.carry/gpu"
rm -rf "$dest"
mkdir -p "$dest"
log "packing out/native (${files[*]}) with xz -$level"
tar -C "$OUT/native" --owner=0 --group=0 -cf - "${files[@]}" | nice -n 15 xz "-$level" -T2 -c > "$dest/pack.tar.xz"
split -b "$part_bytes" -d -a 2 "$dest/pack.tar.xz" "$dest/part-"
(cd "$dest" && sha256sum part-* pack.tar.xz > pack.sha256)
rm "$dest/pack.tar.xz"

parts=("$dest"/part-*)
total="$(cat "${parts[@]}" | wc -c)"
log "$(du -cb "${files[@]/#/$OUT/native/}" | tail -n 1 | awk '{printf "%.0f MB", $1 / 1e6}') -> $(awk -v b="$total" 'BEGIN {printf "%.0f MB", b / 1e6}')" \
    "in ${#parts[@]} parts of at most $((part_bytes / 1024 / 1024)) MiB (checkout $((tree_bytes / 1024 / 1024)) MiB)"
echo "device calls, back to back:"
for p in "${parts[@]}"; do
    name="$(basename "$p")"
    command="build/gpu_device_unpack.sh"
    [ "$p" = "${parts[-1]}" ] && command="build/gpu_device_unpack.sh --bench"
    printf '  carry [".carry/gpu/pack.sha256", ".carry/gpu/%s"]  command: %s\n' "$name" "$command"
done
