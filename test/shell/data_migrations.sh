#!/usr/bin/env bash
# The guide docs/data-migrations.md runs as written: its ```sql blocks,
# extracted from the document, run in order with ON_ERROR_STOP in a fresh
# database, and what they claim holds: the backfill revision fills every
# row, the one-off job's NOTICE is the one the guide shows, the composite
# key and the throttled job work, migr.batch copies every row, and the
# catalog and view queries run.
set -euo pipefail
cd "$(dirname "$0")/../.."
doc=${MIGR_DATA_MIGRATIONS_DOC:-docs/data-migrations.md}
work=$(mktemp -d)
db=migr_data_migrations
cleanup() {
    rm -rf "$work"
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
awk -v dir="$work" '/^```sql$/ { n++; b = 1; next }
                    b && /^```$/ { b = 0; next }
                    b { print > (dir "/" n ".sql") }' "$doc"
nblocks=$(find "$work" -name '*.sql' | wc -l)
if [ "$nblocks" != 9 ]; then fail "expected 9 \`\`\`sql blocks in $doc, found $nblocks"; fi
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
psql -Xq -d $db -c "SET client_min_messages = warning" -c "CREATE EXTENSION migr"
q() { psql -XAtq -d $db -v ON_ERROR_STOP=1 "$@"; }
# block N: run block N as written; its output in out
block() {
    out=$(psql -X -d $db -v ON_ERROR_STOP=1 -f "$work/$1.sql" 2>&1) || fail "block $1 of $doc failed: $out"
}

block 1
block 2
r=$(q -c "SELECT count(*) FILTER (WHERE total_cents = round(total * 100)) || ' ' || count(*) FROM orders")
if [ "$r" != "50000 50000" ]; then fail "after the backfill revision: $r"; fi
if [ "$(q -c "SELECT migr.current()")" != 0003_total_cents_not_null ]; then fail "current after block 2"; fi

block 3
# the NOTICE the guide shows is the one the block prints, but for the
# number of batches (the size adapts to the machine's speed)
shown=$(grep -m1 '^NOTICE:  batch job ".*" finished' "$doc") || fail "the guide shows no finishing NOTICE"
nobatches() { sed 's/^psql:[^ ]* //; s/ in [0-9]* batch\(es\)\{0,1\}$/ in N batches/'; }
if ! grep -qxF "$(nobatches <<<"$shown")" <<<"$(nobatches <<<"$out")"; then
    fail "block 3 printed: $out; the guide shows: $shown"
fi
if [ "$(q -c "SELECT count(*) FROM orders WHERE status <> lower(status)")" != 0 ]; then fail "statuses after block 3"; fi

block 4
if [ "$(q -c "SELECT key_columns FROM migr.batch_job WHERE key_columns = '{customer,id}'")" != "{customer,id}" ]; then
    fail "no job on the key (customer, id)"
fi
if [ "$(q -c "SELECT count(*) FROM orders WHERE status = 'NEW'")" != 16666 ]; then fail "block 4 did not update"; fi

block 5
if [ "$(q -c "SELECT count(*) FROM orders WHERE status <> lower(status)")" != 0 ]; then fail "statuses after block 5"; fi

block 6
if ! grep -q "state" <<<"$out" || ! grep -q "done" <<<"$out"; then fail "block 6: $out"; fi
block 7
block 8
if [ "$(q -c "SELECT count(*) FROM order_totals")" != 50000 ]; then fail "order_totals after block 8"; fi
q -c "UPDATE orders SET status = 'cancelled' WHERE id % 10 = 0" >/dev/null
block 9
if [ "$(q -c "SELECT count(*) FROM orders")" != 45000 ]; then fail "orders after block 9: $(q -c "SELECT count(*) FROM orders")"; fi
echo "data_migrations: ok"
