#!/usr/bin/env bash
# ABI tests: builds the C programs in tests/abi/ with gcc and runs them.
#   1. stylefilter.h compiles on its own as C99 (pedantic) and as C++.
#   2. test_abi: drives out/native/stylefilter.so through stylefilter.h with the models in out/test-models.
#   3. the bundled styles beside the library (out/native/models) do not include the untrained placeholder.
#   4. fuzz_abi: randomised calls from several threads, each checked against the header and the issue-12
#      guarantees, after a guard-page check of the versioned structs (about FUZZ_SECONDS of wall time).
#   5. test_corpus: build/make_broken_models.py writes the broken-model corpus to out/broken-models; every case is
#      loaded through the ABI on an engine with a good style (the right error, never a hang, the old style kept).
#   6. corpus_cli.sh: the CLI renders a photo with every case of the corpus (a clean one-line error, no image).
# Expects build/build.sh to have published out/native/ and generated out/test-models/.
# Environment: STYLEFILTER_LIB (default out/native/stylefilter.so), STYLEFILTER_TEST_MODELS (default
# out/test-models), FUZZ_SECONDS (default 60) and FUZZ_SEED (default 1) for step 4, STYLEFILTER_CLI (default
# out/cli/stylefilter.dll) for step 6.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
OUT="$REPO/out/abi"
LIB="${STYLEFILTER_LIB:-$REPO/out/native/stylefilter.so}"
MODELS="${STYLEFILTER_TEST_MODELS:-$REPO/out/test-models}"
CFLAGS=(-std=c99 -O2 -g -Wall -Wextra -Werror)
mkdir -p "$OUT"

declare -a RESULTS=()
FAILED=0
step() { # name, status
    if [ "$2" -eq 0 ]; then RESULTS+=("PASS  $1"); else RESULTS+=("FAIL  $1"); FAILED=1; fi
}
summary() {
    echo
    echo "== ABI test summary"
    printf '  %s\n' "${RESULTS[@]}"
    exit "$FAILED"
}

# ---- 1. the header on its own ---------------------------------------------------------------------------
echo "== stylefilter.h compiles as C99 and C++"
printf '#include "stylefilter.h"\nint main(void) { return SF_ABI_VERSION == 1 ? 0 : 1; }\n' > "$OUT/header_only.c"
gcc "${CFLAGS[@]}" -pedantic -Isrc/StyleFilter.Native "$OUT/header_only.c" -o "$OUT/header_only_c" \
    && g++ -std=c++11 -Wall -Wextra -Werror -pedantic -x c++ -Isrc/StyleFilter.Native "$OUT/header_only.c" -o "$OUT/header_only_cxx" \
    && "$OUT/header_only_c" && "$OUT/header_only_cxx"
step "stylefilter.h compiles standalone (C99 pedantic, C++11)" $?

# ---- 2. the library through the header ----------------------------------------------------------------------
echo "== test_abi"
rm -f "$OUT/test_abi"
gcc "${CFLAGS[@]}" -Isrc/StyleFilter.Native tests/abi/test_abi.c -o "$OUT/test_abi" -ldl -lm -pthread
step "test_abi.c builds against stylefilter.h" $?
if [ ! -x "$OUT/test_abi" ]; then
    step "test_abi (not built)" 1
elif [ ! -f "$LIB" ]; then
    echo "$LIB not found: run build/build.sh first"
    step "test_abi ($LIB missing)" 1
elif [ ! -f "$MODELS/zoo_dynamic.onnx" ]; then
    echo "$MODELS/zoo_dynamic.onnx not found: run /usr/bin/python3 build/make_models.py --out $MODELS"
    step "test_abi (test models missing)" 1
else
    "$OUT/test_abi" "$LIB" "$MODELS"
    rc=$?
    step "test_abi against $(basename "$LIB") ($rc failed checks)" "$rc"
fi

# ---- 3. what the engine folder ships ------------------------------------------------------------------------
echo "== bundled styles beside the library"
BUNDLED="$(dirname "$LIB")/models"
shipped="$(find "$BUNDLED" -iname '*placeholder*' 2>/dev/null)"
rc=0
if [ ! -d "$BUNDLED" ] || [ -n "$shipped" ]; then echo "${shipped:-$BUNDLED is missing}"; rc=1; fi
step "${BUNDLED#"$REPO"/} holds no untrained placeholder (it lives in the test models)" $rc

# ---- 4. the ABI fuzzer --------------------------------------------------------------------------------------
echo "== fuzz_abi"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_SEED="${FUZZ_SEED:-1}"
rm -f "$OUT/fuzz_abi"
gcc "${CFLAGS[@]}" -Isrc/StyleFilter.Native tests/abi/fuzz_abi.c -o "$OUT/fuzz_abi" -ldl -lm -pthread
step "fuzz_abi.c builds against stylefilter.h" $?
if [ ! -x "$OUT/fuzz_abi" ] || [ ! -f "$LIB" ] || [ ! -f "$MODELS/zoo_dynamic.onnx" ]; then
    step "fuzz_abi (not built, or library or test models missing)" 1
else
    "$OUT/fuzz_abi" "$LIB" "$MODELS" --seed "$FUZZ_SEED" --seconds "$FUZZ_SECONDS"
    rc=$?
    case $rc in
        0) why="no wrong results" ;;
        1) why="wrong results, see the list above" ;;
        3) why="a call hung, see HANG above" ;;
        *) if [ $rc -gt 128 ]; then why="crashed: signal $((rc - 128))"; else why="exit $rc"; fi ;;
    esac
    step "fuzz_abi against $(basename "$LIB"), seed $FUZZ_SEED, ${FUZZ_SECONDS} s ($why)" "$rc"
fi

# ---- 5. the broken-model corpus through the ABI -------------------------------------------------------------
echo "== broken-model corpus (test_corpus)"
CORPUS="$REPO/out/broken-models"
/usr/bin/python3 build/make_broken_models.py --out "$CORPUS"
step "make_broken_models.py writes the corpus to ${CORPUS#"$REPO"/}" $?
rm -f "$OUT/test_corpus"
# C11: the watchdog shares its deadline with the main thread through an _Atomic.
gcc "${CFLAGS[@]}" -std=c11 -Isrc/StyleFilter.Native tests/abi/test_corpus.c -o "$OUT/test_corpus" -ldl -lm -pthread
step "test_corpus.c builds against stylefilter.h" $?
if [ ! -x "$OUT/test_corpus" ] || [ ! -f "$LIB" ] || [ ! -f "$MODELS/zoo_dynamic.onnx" ] || [ ! -f "$CORPUS/cases.tsv" ]; then
    step "test_corpus (not built, or library, test models or corpus missing)" 1
else
    "$OUT/test_corpus" "$LIB" "$MODELS" "$CORPUS" | tee "$OUT/test_corpus.log"
    rc=${PIPESTATUS[0]}
    step "test_corpus against $(basename "$LIB"): $(tail -1 "$OUT/test_corpus.log" | sed 's/^test_corpus: //')" "$rc"
fi

# ---- 6. the broken-model corpus through the CLI -------------------------------------------------------------
echo "== broken-model corpus (corpus_cli.sh)"
if [ ! -f "$CORPUS/cases.tsv" ]; then
    step "corpus_cli (corpus missing)" 1
else
    tests/abi/corpus_cli.sh "$CORPUS" | tee "$OUT/corpus_cli.log"
    rc=${PIPESTATUS[0]}
    step "corpus_cli with ${STYLEFILTER_CLI:-out/cli/stylefilter.dll}: $(tail -1 "$OUT/corpus_cli.log" | sed 's/^corpus_cli: //')" "$rc"
fi

summary
