# migr: PGXS build.  `make && make install`, then `make installcheck`
# against a running server (see README.md for the one-command wrappers).
EXTENSION  = migr
MODULE_big = migr
OBJS       = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA       = $(wildcard migr--*.sql)
# the migr command (docs/cli.md), installed into $(pg_config --bindir)
SCRIPTS    = bin/migr
PGFILEDESC = "migr - schema migrations inside PostgreSQL"

REGRESS    = install revision graph target upgrade downgrade stamp history summary checks check_functions operations naming patterns fingerprint check reversibility privileges errors error_paths call call_edges batch batch_attack script load load_batch update lock_safety uninstall
REGRESS_OPTS = --inputdir=.
ISOLATION  = concurrent_upgrade call_runners lock_timeout
ISOLATION_OPTS = --inputdir=test --outputdir=output_iso

# No -Werror here: a newer compiler's new warning must not break a user's
# build.  The test scripts add it (scripts/setup.sh runs make COPT=-Werror;
# COPT is PGXS's variable for extra compiler flags).
PG_CFLAGS  = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare

# migr.so exports only what the server looks up by name: the SQL-callable
# functions with their pg_finfo_ records, _PG_init, the magic block and the
# background worker's entry (PostgreSQL 16 hides the rest by default).
# Every other call binds inside the library when it is linked, so loading it,
# once in every session that calls migr, resolves 345 symbols instead of 561
# (0.35 ms of the session's first call: docs/performance.md).  The list is
# made from the sources, so a new function cannot be left out of it.
SHLIB_EXPORTS = exports.txt
EXTRA_CLEAN = exports.txt exports.list

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

exports.txt: $(wildcard src/*.c) Makefile
	{ printf '%s\n' _PG_init Pg_magic_func migr_worker_main; \
	  sed -n 's/^PG_FUNCTION_INFO_V1(\([A-Za-z0-9_]*\));$$/\1 pg_finfo_\1/p' $(wildcard src/*.c) | tr ' ' '\n'; } >$@

# PGXS tracks no header dependencies unless the server was configured with
# --enable-depend: rebuild every object when a header changes, or a struct
# that gained a field is read with two layouts.
$(OBJS): $(wildcard src/*.h)
