#!/usr/bin/env bash
# Hand mutations: each line of mutants.tsv breaks the code on purpose (a perl substitution in one file), runs the
# suite that must notice, and puts the file back. Reports caught/missed; exits 1 when a mutant is missed or a
# substitution no longer applies (the code moved: update the line). Not part of build/test.sh (it rebuilds per
# mutant); its last result is recorded in docs/testing.md.
#   tests/mutants/run.sh [NAME...]      all mutants, or those named
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
[ -z "$(git status --porcelain -- src obs-plugin ofx-plugin training)" ] || { echo "commit or stash your changes to src/, the plugins and training/ first" >&2; exit 2; }

caught=0; missed=0; stale=0
while IFS=$'\t' read -r name file perl suite description; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
    cp "$file" "$file.orig"
    perl -0pi -e "$perl" "$file"
    if cmp -s "$file" "$file.orig"; then
        echo "STALE   $name: the substitution no longer changes $file"; stale=$((stale + 1))
    elif bash -c "$suite" > "out/mutant-$name.log" 2>&1; then
        echo "MISSED  $name: $description (suite passed: $suite)"; missed=$((missed + 1))
    else
        echo "caught  $name: $description"; caught=$((caught + 1))
    fi
    mv "$file.orig" "$file"
    touch "$file"   # newer than the mutant's build, so the next build redoes it
done < tests/mutants/mutants.tsv
echo "mutants: $caught caught, $missed missed, $stale stale"
echo "(out/ may still hold the last mutant's build: run build/build.sh before other suites)"
[ "$missed" -eq 0 ] && [ "$stale" -eq 0 ]
