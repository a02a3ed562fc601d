#!/usr/bin/env bash
# Builds everything: dependencies (setup.sh), the solution, the NativeAOT engine library with
# ONNX Runtime beside it (out/native), the CLI (out/cli) and the test models (out/test-models, with the
# untrained placeholder network in out/test-models/placeholder/). Safe to run again; it redoes little.
#   STYLEFILTER_VERBOSE=1  show compiler warnings too
#   STYLEFILTER_GPU=1      ONNX Runtime's GPU natives (CUDA, TensorRT providers; 300 MB more) instead of the CPU
#                          ones, in out/native, out/cli and the plugins (docs/gpu.md); the next build without it
#                          goes back to the CPU natives
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO"

"$REPO/build/setup.sh"

DOTNET_QUIET=(-v q -nologo)
if [ "${STYLEFILTER_VERBOSE:-0}" = "0" ]; then DOTNET_QUIET+=("-clp:ErrorsOnly"); fi

# Generated models come first; the folder is regenerated only when make_models.py is newer than its stamp.
make_models() {  # make_models FLAG DIR
    local flag="$1" dir="$2" stamp="$2/.stamp"
    if [ ! -f "$stamp" ] || [ "$REPO/build/make_models.py" -nt "$stamp" ]; then
        log "generating models: make_models.py $flag ${dir#"$REPO"/}"
        rm -rf "$dir"
        "$PY" "$REPO/build/make_models.py" "$flag" "$dir" >/dev/null
        touch "$stamp"
    fi
}
make_models --out "$OUT/test-models"
# Older builds generated the placeholder into models/, from where it was bundled as a style: remove it
# and the copy in the CLI's build output.
rm -rf "$REPO/models/placeholder" "$REPO"/src/StyleFilter.Cli/bin/*/*/models/placeholder

# Switching between the CPU and GPU natives: MSBuild copies the new package's libraries but leaves the other's
# beside them in the bin folders (a CUDA provider of 1.31.0 beside the CPU library of 1.31.1), so remove them all once.
flavour_stamp="$OUT/.ort-flavour"
if [ "$(cat "$flavour_stamp" 2>/dev/null || true)" != "$ORT_FLAVOUR" ]; then
    find src tests -path '*/bin/*' -name 'libonnxruntime*.so*' -delete
    mkdir -p "$OUT"
    echo "$ORT_FLAVOUR" > "$flavour_stamp"
fi

log "dotnet build StyleFilter.sln (Release)"
dotnet build StyleFilter.sln -c Release "${DOTNET_QUIET[@]}"

log "dotnet publish src/StyleFilter.Native -> out/native (NativeAOT, ONNX Runtime $ORT_FLAVOUR)"
dotnet publish src/StyleFilter.Native -c Release -o "$OUT/native" "${DOTNET_QUIET[@]}"
# ONNX Runtime's native library comes from the restored NuGet package (Microsoft.ML.OnnxRuntime, CPU): the
# publish copies runtimes/linux-x64/native/* beside the engine; copy it again from the package, so out/native is
# self-contained even when the publish left it out, and check it.
ort_native="$(ort_native_dir)"
rm -f "$OUT/native"/libonnxruntime*.so*   # a GPU build's providers must not outlive it beside the CPU library, nor the reverse
cp -f "$ort_native"/*.so "$OUT/native/"
[ -f "$OUT/native/libonnxruntime.so" ] || die "libonnxruntime.so is missing from $OUT/native"
ln -sfn libonnxruntime.so "$OUT/native/libonnxruntime.so.1"
cp -f src/StyleFilter.Native/stylefilter.h "$OUT/native/"
# Bundled styles travel beside the engine library, where the style catalog looks for them.
rm -rf "$OUT/native/models"
mkdir -p "$OUT/native/models"
cp -r models/. "$OUT/native/models/"
rm -f "$OUT/native/models/README.md"

# The host plugins: OBS filter (-> out/obs) and OpenFX bundle (-> out/ofx), each with engine, ONNX Runtime and models.
"$REPO/obs-plugin/build.sh"
"$REPO/ofx-plugin/install.sh" --build-only

log "dotnet publish src/StyleFilter.Cli -> out/cli"
rm -rf "$OUT/cli"   # afresh: publish skips files whose copy looks newer (an older ONNX Runtime, old styles)
dotnet publish src/StyleFilter.Cli -c Release -o "$OUT/cli" "${DOTNET_QUIET[@]}"


log "build done"
