#!/usr/bin/env bash
# Install what migr needs to build and test (Debian 12, as root), then build
# and install the extension into the local PostgreSQL 15.
set -euo pipefail
cd "$(dirname "$0")/.."

# clang and its runtime (libFuzzer, the sanitizers) for test/fuzz
pkgs="postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap
      libtap-parser-sourcehandler-pgtap-perl postgresql-common
      python3-alembic python3-psycopg2 make gcc
      clang libclang-rt-14-dev"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq $missing >/dev/null
fi

# -Werror for the tests and CI only (see the Makefile)
make -s COPT=-Werror PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
make -s install PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >/dev/null
# the migr command: PGXS installs it into the server's bindir, which is not
# on PATH on Debian (docs/cli.md)
ln -sf /usr/lib/postgresql/15/bin/migr /usr/local/bin/migr
echo "setup: migr built and installed"
