#!/usr/bin/env bash
# The README's first command, scripts/demo.sh, without its setup and
# throwaway cluster (--here: against this server): it runs the example
# project to the end and shows what it says it shows.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=migr_demo
trap 'psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db"' EXIT
fail() { echo "$out"; echo "FAIL: $*"; exit 1; }
rc=0
out=$(scripts/demo.sh --here 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "scripts/demo.sh --here exited $rc"
q() { psql -XAtq -d $db -v ON_ERROR_STOP=1 -c "$1"; }
# it ran every step, and the one check that must find something did
for step in '$ scripts/db_upgrade.sh' '$ migr history' '$ migr downgrade' '$ migr check' '$ migr upgrade' \
            '(exit status 1)' '### Done.'; do
    grep -qF -- "$step" <<<"$out" || fail "the demo's output lacks: $step"
done
grep -q 'require_orders_total_cents' <<<"$(sed -n '/^\$ migr check/,/^(exit status 1)/p' <<<"$out")" ||
    fail "the first migr check does not name the pending require_orders_total_cents"
# it ends at the head, everything applied, nothing to report
[ "$(q "SELECT string_agg(c, ',') FROM migr.current() c")" = require_orders_total_cents ] ||
    fail "the demo did not end at the head"
files=(examples/shop/migrations/*.sql)
[ "$(q "SELECT count(*) FROM migr.applied")" = "${#files[@]}" ] ||
    fail "the demo did not apply every revision"
[ "$(q "SELECT count(*) FROM migr.check()")" = 0 ] || fail "migr.check() is not clean after the demo"
[ "$(q "SELECT count(*) || '/' || count(total_cents) FROM orders")" = 20000/20000 ] ||
    fail "the demo's orders: $(q "SELECT count(*) || '/' || count(total_cents) FROM orders")"
echo "demo ran to the end"
