#!/usr/bin/env bash
# A short pass of the libFuzzer target of the migration file parser
# (test/fuzz/run.sh, 20 s by default, MIGR_FUZZ_SECONDS to change it): the
# committed inputs of test/fuzz/corpus run first, among them every input
# that once found a bug.  Fails on a crash, a sanitizer report or a broken
# invariant, printing the input that found it.  Needs no server.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v clang >/dev/null || { echo "FAIL: clang is missing (scripts/setup.sh installs it)"; exit 1; }
dir=$(mktemp -d /tmp/migr-fuzz-test.XXXXXX)
trap 'rm -rf "$dir"' EXIT
if ! MIGR_FUZZ_DIR="$dir" nice bash test/fuzz/run.sh "${MIGR_FUZZ_SECONDS:-20}" >"$dir/log" 2>&1; then
    grep -v '^#[0-9]' "$dir/log" | tail -40
    for f in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*; do
        [ -e "$f" ] || continue
        echo "input $(basename "$f") (base64; save it under test/fuzz/corpus/ with the fix):"
        base64 "$f"
    done
    echo "FAIL: the fuzzer found a problem in src/migrfile.c"
    exit 1
fi
grep -q "^Done [0-9]* runs" "$dir/log" || { tail -20 "$dir/log"; echo "FAIL: the fuzzer did not run"; exit 1; }
grep "^Done" "$dir/log"
