#!/usr/bin/env bash
# Stryker.NET on the engine's maths: mutates the pixel maths of src/StyleFilter.Managed/Pipeline/ (the files listed in
# tests/mutants/stryker-config.json) and runs tests/StyleFilter.Tests against each mutant. Not part of build/test.sh
# (about an hour on 2 busy cores); its last score is recorded in docs/testing.md.
#   build/mutate.sh                      the run; reports in out/stryker/ (reports/mutation-report.html, .json, .md)
#   build/mutate.sh -m '**/ColourOps.cs' extra arguments go to Stryker (here: one file only)
# Installs Stryker as the repository's local dotnet tool (.config/dotnet-tools.json, `dotnet tool restore`).
# Tests are picked per mutant from per-test coverage; the CLI end-to-end tests are left out (they run the published
# CLI, not the mutated assembly). One test process at a time, at low priority: the machine is shared.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO"

[ -f out/test-models/zoo_dynamic.onnx ] || die "out/test-models is missing: run build/build.sh first"
dotnet tool restore >/dev/null
status=0
# From the test project's folder: at the root Stryker would take StyleFilter.sln and mutate every project in it.
(cd tests/StyleFilter.Tests && nice -n 15 dotnet dotnet-stryker --config-file ../mutants/stryker-config.json \
    --output "$OUT/stryker" --skip-version-check "$@") || status=$?
# Stryker leaves its instrumented engine in the bin/ folders: build them back so that the next `dotnet test
# --no-build` (build/test.sh) runs the real one.
log "rebuilding StyleFilter.sln (Release)"
nice -n 15 dotnet build StyleFilter.sln -c Release -v q -nologo -clp:ErrorsOnly
exit "$status"
