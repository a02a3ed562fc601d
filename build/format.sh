#!/usr/bin/env bash
# Formats the project's own C, C++ and C# code by .clang-format and .editorconfig, or checks that it is.
#   build/format.sh            rewrite the files in place
#   build/format.sh --check    change nothing; list what is not formatted and exit 1 (build/test.sh runs this)
# C and C++: clang-format 14 (Debian 12's, from setup.sh); another major version lays some lines out differently,
# so the check is skipped with a note there rather than failing on code that is formatted. C#: `dotnet format
# whitespace` (layout only: no naming or code-style fixes).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO"

check=0
[ "${1:-}" = "--check" ] && check=1

# Our own C and C++ (training/ has none; ofx-plugin/include/ofx_api.h is our own declaration of the OpenFX API).
mapfile -t c_files < <(git ls-files -- '*.c' '*.h' '*.cpp' '*.hpp')

failed=0
clang_format="$(command -v clang-format || command -v clang-format-14 || true)"
major="$([ -n "$clang_format" ] && "$clang_format" --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p')"
if [ -z "$clang_format" ]; then
    log "clang-format is missing (build/setup.sh installs it): C and C++ not checked"
    [ "$check" = 0 ] && failed=1
elif [ "$major" != 14 ] && [ "$check" = 1 ]; then
    log "clang-format $major is not 14: C and C++ layout not checked"
elif [ "$check" = 1 ]; then
    if ! "$clang_format" --dry-run --Werror "${c_files[@]}" 2>/tmp/format-check.$$; then
        grep -o '^[^:]*' /tmp/format-check.$$ | sort -u | sed 's/^/not formatted: /' >&2
        failed=1
    fi
    rm -f /tmp/format-check.$$
else
    "$clang_format" -i "${c_files[@]}"
fi

# --folder: reads the files without loading the projects (seconds, not a restore and a design-time build).
if [ "$check" = 1 ]; then
    dotnet format whitespace --folder --verify-no-changes -v q || { echo "C#: run build/format.sh" >&2; failed=1; }
else
    dotnet format whitespace --folder -v q
fi
exit "$failed"
