#!/usr/bin/env bash
# Builds everything (build.sh) and runs the test suites: the managed xunit tests and, when
# present, the C ABI tests. Exits non-zero when anything fails.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO"

"$REPO/build/build.sh"

failed=()

log "dotnet test tests/StyleFilter.Tests"
if ! dotnet test tests/StyleFilter.Tests -c Release --no-build -nologo; then
    failed+=("managed tests (tests/StyleFilter.Tests)")
fi

if [ -f tests/abi/run.sh ]; then
    log "C ABI tests (tests/abi/run.sh)"
    if ! bash tests/abi/run.sh; then
        failed+=("ABI tests (tests/abi/run.sh)")
    fi
fi

if [ "${#failed[@]}" -gt 0 ]; then
    printf 'FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "ALL TESTS PASSED"
