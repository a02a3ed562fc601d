#!/usr/bin/env bash
# Fetches the ImageNet-trained ResNet18 of the training losses from NuGet (Microsoft.ML.DnnImageFeaturizer.ResNet18
# 0.23.1, MIT) into $STYLEFILTER_CACHE/nuget (default ~/.cache/stylefilter/nuget), never into the repository.
# Idempotent; prints the path of ResNet18.onnx. training/lossnet.py looks for it in the same place.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${STYLEFILTER_CACHE:-$HOME/.cache/stylefilter}/nuget"
MODEL="$CACHE/microsoft.ml.dnnimagefeaturizer.resnet18/0.23.1/tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx"
if [ ! -s "$MODEL" ]; then
    echo "training/resnet18/fetch.sh: restoring Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 from NuGet" >&2
    obj="$(mktemp -d)"
    trap 'rm -rf "$obj"' EXIT
    DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet restore "$HERE/fetch.csproj" --packages "$CACHE" \
        -p:BaseIntermediateOutputPath="$obj/" -p:MSBuildProjectExtensionsPath="$obj/" --nologo -v q >&2
fi
[ -s "$MODEL" ] || { echo "training/resnet18/fetch.sh: $MODEL is missing after the restore" >&2; exit 1; }
echo "$MODEL"
