#!/usr/bin/env bash
# Build the libFuzzer target for the migration file parser and run it for
# SECONDS seconds (default 30) on the committed seed corpus.  The build and
# the inputs it finds go to $MIGR_FUZZ_DIR (default /tmp/migr-fuzz), outside
# the source tree; a finding (a crash or a broken invariant) is written
# there as crash-* and makes this script fail.
#   test/fuzz/run.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
dir=${MIGR_FUZZ_DIR:-/tmp/migr-fuzz}
mkdir -p "$dir/corpus"
CC=${CC:-clang}
"$CC" -g -O1 -std=c99 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Isrc test/fuzz/migrfile_fuzz.c src/migrfile.c -o "$dir/migrfile_fuzz"
# what earlier runs found stays in $dir/corpus; the seeds come first
"$dir/migrfile_fuzz" -max_total_time="$secs" -max_len=4096 -timeout=10 \
    -artifact_prefix="$dir/" -print_final_stats=1 \
    "$dir/corpus" test/fuzz/corpus
