/*-------------------------------------------------------------------------
 * summary.c
 *	  migr.summary: what the whole graph says, kept so that the common
 *	  calls need not load it.  The most common deploy is a no-op upgrade,
 *	  and the most common question is migr.current(); on a long history
 *	  loading the graph dominates both.
 *
 *	  The one row holds the number of registered revisions that are not
 *	  applied, the number of graph heads and the current heads in order.  It
 *	  is written by upgrade, downgrade and stamp, which load the whole graph
 *	  anyway, after their own catalog writes; any write to the tables it
 *	  summarises (by migr, by hand, by a restore) marks it stale through a
 *	  statement trigger, and a stale or missing row sends every caller back
 *	  to the graph.  Registering an identical revision writes nothing, so a
 *	  deploy that re-registers its files and upgrades stays on the fast path.
 *
 * IDENTIFICATION
 *	  src/summary.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "sqlcall.h"
#include "owner.h"
#include "strlist.h"
#include "summary.h"
#include "utils/array.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(migr_summary_stale);

static SPIPlanPtr stale_plan = NULL;

/* set by migr_summary_hold_stale(): the row is stale and stays so */
static bool stale_held = false;

/*
 * migr_summary_hold_stale
 *		CALL mode writes migr.applied once per revision, each time in a
 *		transaction of its own, so the trigger below would update the row
 *		once per revision.  Under the session-level migration lock no other
 *		runner can make it fresh: hold(true) marks it stale once and lets
 *		the trigger do nothing until hold(false); the run writes it fresh
 *		at its end.  The caller holds SPI.
 */
void
migr_summary_hold_stale(bool hold)
{
	if (hold && !stale_held)
	{
		MigrOwnerSwitch sw;

		migr_owner_begin(&sw);
		migr_run_kept(&stale_plan, "UPDATE migr.summary SET fresh = false WHERE fresh",
					  0, NULL, NULL, NULL, false, 0, SPI_OK_UPDATE);
		migr_owner_end(&sw);
	}
	stale_held = hold;
}

/*
 * migr.summary_stale() RETURNS trigger
 *
 * AFTER INSERT, UPDATE, DELETE or TRUNCATE ... FOR EACH STATEMENT on the
 * summarised tables.  Writes a new row version only the first time in a
 * transaction: later statements find the row stale already.
 */
Datum
migr_summary_stale(PG_FUNCTION_ARGS)
{
	/*
	 * PostgreSQL refuses to call a trigger function any other way; fired on
	 * some other table it only costs a needless re-read of the graph.
	 */
	Assert(CALLED_AS_TRIGGER(fcinfo));
	if (stale_held)
		return PointerGetDatum(NULL);
	migr_spi_connect();
	migr_run_kept(&stale_plan, "UPDATE migr.summary SET fresh = false WHERE fresh",
				  0, NULL, NULL, NULL, false, 0, SPI_OK_UPDATE);
	migr_spi_finish();
	return PointerGetDatum(NULL);
}

/*
 * migr_summary_read
 *		The summary, if it is there and fresh; false otherwise.  current_heads
 *		is allocated in "into".  The caller is connected to SPI.  A scan of
 *		the row (checkread.c), else the query.
 */
bool
migr_summary_read(MemoryContext into, MigrSummary *sum)
{
	static SPIPlanPtr plan = NULL;
	HeapTuple	tup;
	TupleDesc	td;
	bool		isnull;
	MemoryContext old;
	int			direct = migr_read_summary_direct(into, &sum->pending, &sum->graph_heads,
												  &sum->current_heads, &sum->ncurrent);

	if (direct >= 0)
		return direct == 1;
	migr_run_kept(&plan, "SELECT s.pending, s.graph_heads, s.current_heads"
				  "  FROM migr.summary s WHERE s.fresh",
				  0, NULL, NULL, NULL, true, 1, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	sum->pending = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
	sum->graph_heads = DatumGetInt32(SPI_getbinval(tup, td, 2, &isnull));
	old = MemoryContextSwitchTo(into);
	{
		Datum		heads = SPI_getbinval(tup, td, 3, &isnull);

		/* NOT NULL, unless dropped by hand: then no current heads */
		sum->ncurrent = 0;
		sum->current_heads = isnull ? palloc(sizeof(char *))
			: migr_cstrings(heads, &sum->ncurrent);
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
	return true;
}

/*
 * migr_summary_of
 *		What the summary row says of graph g, as it stands.
 */
void
migr_summary_of(MigrGraph *g, MigrSummary *sum)
{
	int		   *cur = migr_graph_current_heads(g, &sum->ncurrent);

	sum->pending = 0;
	for (int i = 0; i < g->nrevs; i++)
		if (!g->revs[i].applied)
			sum->pending++;
	sum->graph_heads = g->nheads;
	sum->current_heads = palloc(sizeof(char *) * (sum->ncurrent + 1));
	for (int i = 0; i < sum->ncurrent; i++)
		sum->current_heads[i] = g->revs[cur[i]].id;
}

/* Whether two summaries say the same, current heads in the same order. */
bool
migr_summary_equal(const MigrSummary *a, const MigrSummary *b)
{
	if (a->pending != b->pending || a->graph_heads != b->graph_heads ||
		a->ncurrent != b->ncurrent)
		return false;
	for (int i = 0; i < a->ncurrent; i++)
		if (strcmp(a->current_heads[i], b->current_heads[i]) != 0)
			return false;
	return true;
}

/*
 * migr_summary_write
 *		Record the summary of g, a graph loaded strictly (every applied
 *		revision registered) whose applied set is the one this transaction
 *		leaves.  Must come after the caller's last write to the summarised
 *		tables.
 */
void
migr_summary_write(MigrGraph *g)
{
	Oid			types[3] = {INT8OID, INT4OID, TEXTARRAYOID};
	Datum		values[3];
	MigrSummary sum;
	int			rc;
	MigrOwnerSwitch sw;

	migr_summary_of(g, &sum);
	values[0] = Int64GetDatum(sum.pending);
	values[1] = Int32GetDatum(sum.graph_heads);
	values[2] = migr_text_array(sum.current_heads, sum.ncurrent);
	/* a catalog write like the others: as the extension owner (owner.c) */
	migr_owner_begin(&sw);
	rc = SPI_execute_with_args("INSERT INTO migr.summary (singleton, fresh, pending, graph_heads, current_heads)"
							   " VALUES (true, true, $1, $2, $3)"
							   " ON CONFLICT (singleton) DO UPDATE"
							   "   SET fresh = true, pending = EXCLUDED.pending,"
							   "       graph_heads = EXCLUDED.graph_heads,"
							   "       current_heads = EXCLUDED.current_heads",
							   3, types, values, NULL, false, 0);
	migr_owner_end(&sw);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not write migr.summary: %s", SPI_result_code_string(rc));
}

/*
 * migr_summary_noop_upgrade
 *		Whether the summary alone shows that upgrading to target does
 *		nothing: every registered revision is applied and, for "head", there
 *		is one head (several must raise MG001, which needs the graph).  Only
 *		"head" and "heads" are answered; anything else needs the graph.
 */
bool
migr_summary_noop_upgrade(const char *target)
{
	MigrSummary sum;

	if (strcmp(target, "head") != 0 && strcmp(target, "heads") != 0)
		return false;
	if (!migr_summary_read(CurrentMemoryContext, &sum))
		return false;
	if (sum.pending != 0)
		return false;
	return strcmp(target, "heads") == 0 || sum.graph_heads <= 1;
}
