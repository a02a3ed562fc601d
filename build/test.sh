#!/usr/bin/env bash
# Builds everything (build.sh), checks the code's layout (format.sh --check) and runs every test suite: the
# managed xunit tests, the C ABI tests, and the OpenFX, OBS and training suites. Exits non-zero when anything fails.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO"

"$REPO/build/build.sh"

failed=()

# Layout first: a few seconds, and it says which file to run build/format.sh on.
log "build/format.sh --check"
if ! "$REPO/build/format.sh" --check; then
    failed+=("formatting (build/format.sh --check)")
fi

log "dotnet test tests/StyleFilter.Tests"
if ! dotnet test tests/StyleFilter.Tests -c Release --no-build -nologo; then
    failed+=("managed tests (tests/StyleFilter.Tests)")
fi

# The other suites, each a script that exits non-zero on failure.
for suite in tests/abi/run.sh tests/ofx/run.sh tests/obs/run.sh tests/obs/obs_smoke.sh training/tests/run.sh; do
    if [ ! -f "$suite" ]; then failed+=("$suite (missing)"); continue; fi
    log "$suite"
    if ! bash "$suite"; then
        failed+=("$suite")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    printf 'FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "ALL TESTS PASSED"
