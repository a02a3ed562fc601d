#!/usr/bin/env bash
# The main job: build everything, make the sample clip (1024x576, known pan/zoom and a cut, with audio),
# stylise it with the default bundled style and print the frame rate.
#   STYLE=name|path   another style (see: dotnet out/cli/stylefilter.dll styles)
#   SCALE=0.5         inference size as a fraction of the frame (half size suits a CPU; 1 on a GPU)
#   TIER=Auto         the style's network: Auto (fast on a CPU, full on a GPU, where it has them), Fast, Compact, Full
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO"

# One of the project's own trained styles (models/README.md says how each was made).
DEFAULT_STYLE=starry_night

"$REPO/build/build.sh"

cli() { dotnet "$OUT/cli/stylefilter.dll" "$@"; }
sample="$OUT/samples/sample.mp4"
if [ ! -f "$sample" ]; then
    log "making the sample clip"
    cli sample-clip --output "$sample"
fi
log "stylising $(basename "$sample") with style '${STYLE:-$DEFAULT_STYLE}'"
cli render --input "$sample" --output "$OUT/samples/sample-stylised.mp4" --style "${STYLE:-$DEFAULT_STYLE}" \
    --scale "${SCALE:-0.5}" --tier "${TIER:-Auto}"
