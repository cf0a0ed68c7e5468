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

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies unless the server was configured with
# --enable-depend: rebuild every object when a header changes, or a struct
# that gained a field is read with two layouts.
$(OBJS): $(wildcard src/*.h)
