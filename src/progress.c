/*-------------------------------------------------------------------------
 * progress.c
 *	  migr.revision_progress (migr.progress in 0.2.0): how far a
 *	  non-transactional revision has got; and migr.run, the revision a CALL
 *	  is running, for the view migr.progress.  CALL
 *	  migr.apply() and migr.revert() run such a revision statement by
 *	  statement, each committed together with its progress row (or right
 *	  after it, for a statement a background worker runs), so a run that
 *	  fails resumes after the statements that finished.  While a row
 *	  exists, every other run is refused: the schema is part way through
 *	  that revision.
 *
 * IDENTIFICATION
 *	  src/progress.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "owner.h"
#include "progress.h"
#include "sqlcall.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

/*
 * The table's name: 0.3.0 renamed it.  A library newer than the catalog
 * uses the old name, with plans of its own (a kept plan is re-analysed from
 * its text, and the old name is now a view).
 */
static const char *
progress_table(int *slot)
{
	bool		v3 = migr_catalog_version() >= 3;

	*slot = v3 ? 1 : 0;
	return v3 ? "migr.revision_progress" : "migr.progress";
}

/*
 * migr_progress_get
 *		The revision part way through, or NULL (always NULL on a 0.1.0
 *		catalog, which has no such table).  There is at most one: every run
 *		is refused while one exists, but the one continuing it.
 */
MigrProgress *
migr_progress_get(MemoryContext into)
{
	static SPIPlanPtr plans[2];
	MigrProgress *p;
	MemoryContext old;
	HeapTuple	tup;
	TupleDesc	td;
	bool		isnull;
	const char *tbl;
	int			slot;

	if (!migr_catalog_v2())
		return NULL;
	tbl = progress_table(&slot);
	migr_run_kept(&plans[slot],
				  psprintf("SELECT p.revision, p.direction OPERATOR(pg_catalog.=) 'upgrade',"
						   "       p.statements_done, p.statements_total, p.checksum"
						   "  FROM %s p ORDER BY p.updated_at LIMIT 1", tbl),
				  0, NULL, NULL, NULL, true, 0, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return NULL;
	tup = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(into);
	p = palloc0(sizeof(MigrProgress));
	p->revision = TextDatumGetCString(SPI_getbinval(tup, td, 1, &isnull));
	p->upgrade = DatumGetBool(SPI_getbinval(tup, td, 2, &isnull));
	p->done = DatumGetInt32(SPI_getbinval(tup, td, 3, &isnull));
	p->total = DatumGetInt32(SPI_getbinval(tup, td, 4, &isnull));
	p->checksum = DatumGetByteaPCopy(SPI_getbinval(tup, td, 5, &isnull));
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
	return p;
}

/*
 * migr_refuse_unfinished
 *		Refuse a plan while a non-transactional revision is part way
 *		through, unless (call_mode) the plan continues it: its first step is
 *		that revision in the same direction.  Returns that revision's row,
 *		or NULL, in CurrentMemoryContext.
 */
MigrProgress *
migr_refuse_unfinished(MigrGraph *g, MigrPlan *plan, bool call_mode)
{
	MigrProgress *p = migr_progress_get(CurrentMemoryContext);
	const char *dir;

	if (p == NULL)
		return NULL;
	dir = p->upgrade ? "upgrade" : "downgrade";
	if (call_mode && plan && plan->nsteps > 0 && plan->upgrade == p->upgrade &&
		strcmp(g->revs[plan->steps[0]].id, p->revision) == 0)
		return p;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("revision \"%s\" is part way through its %s", p->revision, dir),
			 errdetail("%d of its %d statements ran and were committed; a failure stopped it there.",
					   p->done, p->total),
			 p->upgrade
			 ? errhint("Finish it first with CALL migr.apply('%s'). If you undid its statements by hand, the extension owner can delete its row from migr.revision_progress.",
					   p->revision)
			 : errhint("Finish it first with CALL migr.revert(), to a target below \"%s\". If you redid its statements by hand, the extension owner can delete its row from migr.revision_progress.",
					   p->revision)));
}

/*
 * migr_progress_save
 *		Record that the first done statements of rev's body (of total) have
 *		run.  The caller commits it, with the statement where it can.
 */
void
migr_progress_save(const char *rev, bool upgrade, int done, int total,
				   bytea *checksum)
{
	static SPIPlanPtr plans[2];
	Oid			types[6] = {TEXTOID, TEXTOID, INT4OID, INT4OID, BYTEAOID, INT4OID};
	Datum		values[6];
	MigrOwnerSwitch sw;
	int			slot;
	const char *tbl = progress_table(&slot);

	values[0] = CStringGetTextDatum(rev);
	values[1] = CStringGetTextDatum(upgrade ? "upgrade" : "downgrade");
	values[2] = Int32GetDatum(done);
	values[3] = Int32GetDatum(total);
	values[4] = PointerGetDatum(checksum);
	values[5] = Int32GetDatum(MyProcPid);
	migr_owner_begin(&sw);
	migr_run_kept(&plans[slot],
				  psprintf("INSERT INTO %s AS p (revision, direction, statements_done,"
						   "       statements_total, checksum, started_at, updated_at, backend_pid)"
						   " VALUES ($1, $2, $3, $4, $5, pg_catalog.now(), pg_catalog.clock_timestamp(), $6)"
						   " ON CONFLICT (revision) DO UPDATE"
						   "   SET direction = EXCLUDED.direction,"
						   "       statements_done = EXCLUDED.statements_done,"
						   "       statements_total = EXCLUDED.statements_total,"
						   "       checksum = EXCLUDED.checksum,"
						   "       updated_at = EXCLUDED.updated_at,"
						   "       backend_pid = EXCLUDED.backend_pid", tbl),
				  6, types, values, NULL, false, 0, SPI_OK_INSERT);
	migr_owner_end(&sw);
}

/* migr_progress_clear: rev is no longer part way through. */
void
migr_progress_clear(const char *rev)
{
	static SPIPlanPtr plans[2];
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(rev)};
	MigrOwnerSwitch sw;
	int			slot;
	const char *tbl = progress_table(&slot);

	migr_owner_begin(&sw);
	migr_run_kept(&plans[slot],
				  psprintf("DELETE FROM %s WHERE revision OPERATOR(pg_catalog.=) $1", tbl),
				  1, types, values, NULL, false, 0, SPI_OK_DELETE);
	migr_owner_end(&sw);
}

/*
 * migr.run holds the CALL running now (0.3.0 on): one row, as CALL runs
 * under the migration lock.  It is written in the commits the CALL makes
 * anyway: the row naming revision i + 1 commits with revision i.  A row
 * left behind by a run that ended in an error or a crash is harmless: the
 * view shows it only while its backend holds the migration lock, and the
 * next CALL replaces it.
 */
void
migr_run_marker_start(bool upgrade, const char *target, int steps)
{
	static SPIPlanPtr del = NULL;
	static SPIPlanPtr ins = NULL;
	Oid			types[5] = {INT4OID, TIMESTAMPTZOID, TEXTOID, TEXTOID, INT4OID};
	Datum		values[5];
	MigrOwnerSwitch sw;

	if (migr_catalog_version() < 3)
		return;
	values[0] = Int32GetDatum(MyProcPid);
	values[1] = TimestampTzGetDatum(MyStartTimestamp);
	values[2] = CStringGetTextDatum(upgrade ? "apply" : "revert");
	values[3] = CStringGetTextDatum(target);
	values[4] = Int32GetDatum(steps);
	migr_owner_begin(&sw);
	migr_run_kept(&del, "DELETE FROM migr.run", 0, NULL, NULL, NULL, false, 0, SPI_OK_DELETE);
	migr_run_kept(&ins,
				  "INSERT INTO migr.run (pid, backend_start, operation, target, started_at,"
				  "       step, steps, revision, direction, revision_started_at)"
				  " VALUES ($1, $2, $3, $4, pg_catalog.statement_timestamp(), 0, $5, '',"
				  "         CASE $3 WHEN 'apply' THEN 'upgrade' ELSE 'downgrade' END,"
				  "         pg_catalog.clock_timestamp())",
				  5, types, values, NULL, false, 0, SPI_OK_INSERT);
	migr_owner_end(&sw);
}

/* The CALL goes on with step (from 1), revision rev */
void
migr_run_marker_step(int step, const char *rev, bool upgrade)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {INT4OID, INT4OID, TEXTOID, TEXTOID};
	Datum		values[4];
	MigrOwnerSwitch sw;

	if (migr_catalog_version() < 3)
		return;
	values[0] = Int32GetDatum(MyProcPid);
	values[1] = Int32GetDatum(step);
	values[2] = CStringGetTextDatum(rev);
	values[3] = CStringGetTextDatum(upgrade ? "upgrade" : "downgrade");
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "UPDATE migr.run SET step = $2, revision = $3, direction = $4,"
				  "       revision_started_at = pg_catalog.clock_timestamp()"
				  " WHERE pid OPERATOR(pg_catalog.=) $1",
				  4, types, values, NULL, false, 0, SPI_OK_UPDATE);
	migr_owner_end(&sw);
}

/* The CALL ends (its last revision committed, or it failed) */
void
migr_run_marker_end(void)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {INT4OID};
	Datum		values[1];
	MigrOwnerSwitch sw;

	if (migr_catalog_version() < 3)
		return;
	values[0] = Int32GetDatum(MyProcPid);
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "DELETE FROM migr.run WHERE pid OPERATOR(pg_catalog.=) $1",
				  1, types, values, NULL, false, 0, SPI_OK_DELETE);
	migr_owner_end(&sw);
}
