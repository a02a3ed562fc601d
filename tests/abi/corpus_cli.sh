#!/usr/bin/env bash
# corpus_cli.sh - runs `stylefilter render` on a photo with every case of the broken-model corpus as the style.
#
#     tests/abi/corpus_cli.sh [CORPUS_DIR]        (default out/broken-models, from build/make_broken_models.py)
#
# Each case must end within the time limit with exit status 1 or 2, exactly one "error: ..." line on stderr that
# names the case (its file or folder name without extension, and the member or field cases.tsv names) and is not
# an unexpected .NET exception ("error: IOException: ..."), no output image, and no line from ONNX Runtime's own
# logger ("[E:onnxruntime:, ...]") on stdout or stderr. A case whose load is ANY (random damage) may instead
# succeed: exit 0 with an image written.
# Prints one PASS/FAIL/HANG line per case and `corpus_cli: N models, P pass, F wrong results, H hangs`; exits 1
# when any case fails or hangs.
# Environment: STYLEFILTER_CLI (default out/cli/stylefilter.dll), STYLEFILTER_CORPUS_INPUT (default
# assets/content/chicago.jpg), STYLEFILTER_CORPUS_TIMEOUT (seconds a case, default 60), STYLEFILTER_CORPUS_MEM_MB
# (address-space limit for each run, default 4096; 0 for none: a model read without bounds then fails quickly).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
CORPUS="${1:-$REPO/out/broken-models}"
CLI="${STYLEFILTER_CLI:-$REPO/out/cli/stylefilter.dll}"
INPUT="${STYLEFILTER_CORPUS_INPUT:-$REPO/assets/content/chicago.jpg}"
LIMIT="${STYLEFILTER_CORPUS_TIMEOUT:-60}"
MEM_MB="${STYLEFILTER_CORPUS_MEM_MB:-4096}"

for f in "$CORPUS/cases.tsv" "$CLI" "$INPUT"; do
    [ -f "$f" ] || { echo "corpus_cli: $f not found (build/build.sh; build/make_broken_models.py --out $CORPUS)"; exit 1; }
done
WORK="$(mktemp -d /tmp/corpus_cli.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
echo "corpus_cli: dotnet $CLI render, input $INPUT, corpus $CORPUS, ${LIMIT} s a case"

total=0 pass=0 wrong=0 hangs=0
while IFS=$'\t' read -r name rel load frame names desc; do
    case "$name" in ''|'#'*) continue ;; esac
    total=$((total + 1))
    base="${rel##*/}"
    stem="${base%.onnx}"; stem="${stem%.zip}"
    out="$WORK/$name.png"
    started=$SECONDS
    # --threads 1: the machine is shared, and a broken model needs no speed. The address-space limit is set in a
    # subshell so that it applies to this run only.
    (
        [ "$MEM_MB" -gt 0 ] && ulimit -v $((MEM_MB * 1024))
        exec timeout -k 5 "$LIMIT" dotnet "$CLI" render --input "$INPUT" --output "$out" --style "$CORPUS/$rel" --threads 1
    ) > "$WORK/stdout" 2> "$WORK/stderr" < /dev/null
    rc=$?
    took=$((SECONDS - started))
    errors="$(grep -c '^error: ' "$WORK/stderr")"
    error_line="$(grep -m1 '^error: ' "$WORK/stderr" | cut -c1-300)"
    why=()
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        hangs=$((hangs + 1))
        printf 'HANG  %-32s no exit after %d s  [%s]\n' "$name" "$LIMIT" "$desc"
        rm -f "$out"
        continue
    fi
    if [ "$rc" -eq 0 ] && [ "$load" = ANY ]; then
        [ -s "$out" ] || why+=("exit 0 but no image written")
    else
        [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] || why+=("exit status $rc, want 1 or 2")
        [ "$errors" -eq 1 ] || why+=("$errors 'error:' lines on stderr, want 1")
        [ "$errors" -eq 0 ] || [[ "$error_line" == *"$stem"* ]] || why+=("the error does not name '$stem'")
        # The member or field must be named outside the case's own name (manifest_version_string holds "version").
        besides="${error_line//"$stem"/#}"
        if [ "$load" != OK ] && [ "$names" != - ] && [ "$errors" -gt 0 ] && [[ "$besides" != *"$names"* ]]; then
            why+=("the error does not name '$names'")
        fi
        # The CLI prints "Type: message" for exceptions it did not expect: the CLI's SF_ERR_INTERNAL.
        if [[ "$error_line" =~ ^error:\ [A-Za-z.]*Exception: ]]; then why+=("an unexpected exception, not a model error"); fi
        [ ! -e "$out" ] || why+=("an output image was written")
    fi
    if grep -q ':onnxruntime:' "$WORK/stderr" "$WORK/stdout"; then
        why+=("ONNX Runtime printed: $(grep -h -m1 ':onnxruntime:' "$WORK/stderr" "$WORK/stdout" | head -1 | cut -c1-200)")
    fi
    said="exit $rc${error_line:+: $error_line}"
    if [ ${#why[@]} -eq 0 ]; then
        pass=$((pass + 1))
        printf 'PASS  %-32s %3ds  %s\n' "$name" "$took" "$said"
    else
        wrong=$((wrong + 1))
        printf 'FAIL  %-32s %3ds  %s\n' "$name" "$took" "$said"
        joined="$(printf '%s; ' "${why[@]}")"
        printf '      %s  [%s]\n' "${joined%; }" "$desc"
        other="$(grep -v '^error: ' "$WORK/stderr" | head -3 | cut -c1-200)"
        [ -z "$other" ] || printf '      stderr: %s\n' "$other"
    fi
    rm -f "$out"
done < "$CORPUS/cases.tsv"

echo
echo "corpus_cli: $total models, $pass pass, $wrong wrong results, $hangs hangs"
[ "$total" -gt 0 ] && [ $((wrong + hangs)) -eq 0 ]
