#!/usr/bin/env bash
# examples/shop end to end, through the migr command and the example's own
# scripts, on a fresh database: db_upgrade.sh to head (twice: the second is a
# no-op), history, stamp base and upgrade again (every check skips, nothing
# changes), a downgrade to base, then one revision at a time up to head with
# each revision's skip_if, verify and verify_down evaluated before and
# after it, migr.test_reversibility() over the whole history, and
# migr.check() clean at the end.  Also create_migration.sh in a copy of the
# example.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
db=migr_example_shop
dir=examples/shop/migrations
export PGDATABASE=$db
unset DATABASE_URL MIGR_DIR
export PATH="$repo/bin:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db"' EXIT
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"

fail() { echo "FAIL: $*"; exit 1; }
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
m() { migr --dir "$dir" "$@"; }
# run a command that must succeed; its output in $out
ok() {
    local rc=0
    out=$("$@" 2>&1) || rc=$?
    [ "$rc" = 0 ] || { echo "$out"; fail "exit $rc from: $*"; }
}
# the value of a revision's check now: t, f, or - when it has none
check_value() {
    local expr
    expr=$(q "SELECT $2 FROM migr.migration WHERE id = '$1'")
    if [ -z "$expr" ]; then echo -; return; fi
    q "SELECT ($expr)" || fail "$2 of $1 raised an error: $expr"
}
expect_check() {
    local v
    v=$(check_value "$1" "$2")
    [ "$v" = - ] || [ "$v" = "$3" ] || fail "$2 of $1 is $v $4, expected $3"
}
fp() { q "SELECT migr.fingerprint()"; }
# up to one revision: the revisions above it stay pending, which step 5 of
# migr upgrade does not count against a target short of the heads
up() { ok m upgrade "$1"; }
last_op() { q "SELECT operation FROM migr.event WHERE revision = '$1' ORDER BY id DESC LIMIT 1"; }
orders_filled() { q "SELECT count(*) || '/' || count(total_cents) FROM public.orders"; }

# the revisions, in file-name order
mapfile -t files < <(cd "$dir" && ls -- *.sql)
revs=()
for f in "${files[@]}"; do revs+=("$(sed 's/^[0-9]\{4\}_[0-9]\{2\}_[0-9]\{2\}_[0-9]\{6\}_//; s/\.sql$//' <<<"$f")"); done
n=${#revs[@]}
[ "$n" = 13 ] || fail "expected 13 files in $dir, found $n"
head=${revs[n - 1]}

# 1. the standard's db_upgrade.sh on an empty database: installs migr, loads, applies
ok examples/shop/scripts/db_upgrade.sh
[ "$(q "SELECT count(*) FROM migr.applied")" = "$n" ] || { echo "$out"; fail "not every revision is applied"; }
[ "$(q "SELECT string_agg(c, ',') FROM migr.current() c")" = "$head" ] || fail "current is not $head"
# history order is file order: the merge lists its parents so that it is
[ "$(q "SELECT string_agg(revision, ' ' ORDER BY ordinal) FROM migr.history()")" = "${revs[*]}" ] ||
    fail "history order differs from the file order"
[ "$(q "SELECT string_agg(id || '=' || source_file, ' ' ORDER BY id) FROM migr.migration")" = \
  "$(for i in "${!revs[@]}"; do echo "${revs[i]}=${files[i]}"; done | sort | paste -sd ' ')" ] ||
    fail "source_file does not name each revision's file"
[ "$(orders_filled)" = 20000/20000 ] || fail "the backfill did not fill orders.total_cents: $(orders_filled)"
grep -q '^NOTICE:  batch job "public.orders [0-9a-f]*" finished: 20000 rows in [0-9]* batches$' <<<"$out" ||
    { echo "$out"; fail "db_upgrade.sh did not report the backfill's batch job"; }
[ "$(q "SELECT count(*) FROM migr.check()")" = 0 ] || fail "migr.check() at head: $(q "SELECT string_agg(code, ',') FROM migr.check()")"
ok m check
fp_head=$(fp)
events=$(q "SELECT count(*) FROM migr.event")

# 2. again: nothing to do, nothing recorded
ok examples/shop/scripts/db_upgrade.sh
[ "$(q "SELECT count(*) FROM migr.event")" = "$events" ] || fail "a second db_upgrade.sh recorded events"

# 3. history and current, as the command prints them
ok m history
for r in "${revs[@]}"; do grep -qw -- "$r" <<<"$out" || { echo "$out"; fail "migr history does not list $r"; }; done
ok m current
grep -qw -- "$head" <<<"$out" || { echo "$out"; fail "migr current does not show $head"; }

# 4. idempotent: on a database that has the schema, every revision but the
#    merge skips, and nothing changes
ok m stamp base
ok m upgrade
[ "$(q "SELECT string_agg(revision || ':' || operation, ' ' ORDER BY id) FROM migr.event
        WHERE id > (SELECT max(id) FROM migr.event WHERE operation = 'stamp')")" = \
  "$(for r in "${revs[@]}"; do if [ "$r" = merge_status_check_and_email_index ]; then echo "$r:upgrade"; else echo "$r:skip"; fi; done | paste -sd ' ')" ] ||
    fail "upgrade over the existing schema did not skip: $(q "SELECT string_agg(revision || ':' || operation, ' ' ORDER BY id) FROM migr.event")"
[ "$(fp)" = "$fp_head" ] || fail "the skipping upgrade changed the schema"
[ "$(q "SELECT count(*) FROM migr.check()")" = 0 ] || fail "migr.check() after the skipping upgrade"

# 5. everything down: the schema is empty again, check reports the pending
#    revisions and the command exits 1
ok m downgrade base
[ "$(q "SELECT string_agg(kind || ' ' || object, ',') FROM migr.describe()")" = "schema public" ] ||
    fail "downgrade to base left: $(q "SELECT string_agg(kind || ' ' || object, ',') FROM migr.describe()")"
[ "$(q "SELECT count(*) FROM migr.applied")" = 0 ] || fail "revisions still applied after downgrade to base"
[ "$(q "SELECT count(*) FROM migr.check() WHERE code = 'pending'")" = "$n" ] || fail "migr.check() at base"
rc=0; out=$(m check 2>&1) || rc=$?
[ "$rc" = 1 ] || { echo "$out"; fail "migr check at base exited $rc, expected 1 (findings)"; }

# 6. up one revision at a time: before it, its change is not in effect
#    (skip_if false) and the state is the one its downgrade leaves
#    (verify_down true); after it, skip_if and verify hold
for r in "${revs[@]}"; do
    expect_check "$r" skip_if f "before its upgrade"
    expect_check "$r" verify_down t "before its upgrade"
    up "$r"
    [ "$(last_op "$r")" = upgrade ] || fail "$r was not upgraded: $(last_op "$r")"
    expect_check "$r" skip_if t "after its upgrade"
    expect_check "$r" verify t "after its upgrade"
done
[ "$(fp)" = "$fp_head" ] || fail "the step-by-step upgrade made another schema than db_upgrade.sh"
[ "$(orders_filled)" = 20000/20000 ] || fail "orders after the step-by-step upgrade: $(orders_filled)"

# 7. reversibility: the stairway (upgrade, downgrade, upgrade; the schema
#    compared each time) for every revision.  migr.test_reversibility() runs
#    it in one rolled-back transaction, so it cannot run the CREATE INDEX
#    CONCURRENTLY revision, which goes through the command instead.  The
#    backfill goes both ways: the stairway in one transaction (its jobs in
#    the caller's transaction), and through the command, where each batch
#    commits, with the data checked.
stairway_by_hand() {
    local r=$1 before after
    before=$(fp)
    up "$r"
    after=$(fp)
    [ "$after" != "$before" ] || [ "$r" = backfill_orders_total_cents ] || fail "$r changed nothing"
    ok m downgrade -1
    [ "$(fp)" = "$before" ] || fail "the downgrade of $r does not restore the schema"
    up "$r"
    [ "$(fp)" = "$after" ] || fail "the second upgrade of $r made another schema"
}
reversibility() {
    local rows
    rows=$(q "SELECT string_agg(revision || ':' || status, ' ' ORDER BY step) FROM migr.test_reversibility('$1')")
    [ "$rows" = "$2" ] || fail "test_reversibility('$1'): $rows"
}
statuses() { local r; for r in "$@"; do echo "$r:pass"; done | paste -sd ' '; }
ok m downgrade base
reversibility add_users_updated_at_trigger "$(statuses "${revs[@]:0:9}")"
[ "$(q "SELECT count(*) FROM migr.applied")" = 0 ] || fail "test_reversibility() left revisions applied"
up add_users_updated_at_trigger
stairway_by_hand add_orders_created_at_index
reversibility add_orders_total_cents "add_orders_total_cents:pass"
up add_orders_total_cents
[ "$(orders_filled)" = 20000/0 ] || fail "orders before the backfill: $(orders_filled)"
reversibility backfill_orders_total_cents "backfill_orders_total_cents:pass"
[ "$(orders_filled)" = 20000/0 ] || fail "test_reversibility() left the backfill's rows: $(orders_filled)"
stairway_by_hand backfill_orders_total_cents
[ "$(orders_filled)" = 20000/20000 ] || fail "orders after the backfill's stairway: $(orders_filled)"
reversibility heads "require_orders_total_cents:pass"
ok m upgrade
[ "$(fp)" = "$fp_head" ] || fail "the schema at head differs after the reversibility runs"
[ "$(q "SELECT count(*) FROM migr.check()")" = 0 ] || fail "migr.check() at the end: $(q "SELECT string_agg(code, ',') FROM migr.check()")"
ok m check

# 8. the example's create_migration.sh, in a copy of the example: a new file
#    revising the head, named by the rule
cp -r examples/shop "$tmp/shop"
ok "$tmp/shop/scripts/create_migration.sh" "add orders note"
new=$(cd "$tmp/shop/migrations" && ls -- *_add_orders_note.sql)
[[ $new =~ ^[0-9]{4}_[0-9]{2}_[0-9]{2}_[0-9]{6}_add_orders_note\.sql$ ]] || fail "create_migration.sh made $new"
grep -qx -- "-- Revises: $head" "$tmp/shop/migrations/$new" || { cat "$tmp/shop/migrations/$new"; fail "the new file does not revise $head"; }
cmp -s <(cd examples/shop/migrations && printf '%s\n' *) <(cd "$tmp/shop/migrations" && printf '%s\n' * | grep -v add_orders_note) ||
    fail "create_migration.sh changed other files"

echo "examples/shop: $n revisions up, down, up one by one, reversible, idempotent, check clean"
