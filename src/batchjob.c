/*-------------------------------------------------------------------------
 * batchjob.c
 *	  A batch job's row in migr.batch_job, and its advisory lock.
 *
 *	  The row keeps where the job stands: the last key of the last batch
 *	  done (as text, see batchkey.c), the counts, the size the batches
 *	  adapted to.  It is written as the extension's owner.  Where batches
 *	  commit, each commits together with the row, so that a job stopped by
 *	  an error, a cancel or a crash resumes after the last committed batch.
 *	  The advisory lock lets one backend at a time run a job.  A revision's
 *	  jobs are forgotten once its step is recorded.
 *
 * IDENTIFICATION
 *	  src/batchjob.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "batch.h"
#include "batchint.h"
#include "catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lock.h"
#include "miscadmin.h"
#include "owner.h"
#include "sqlcall.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

/* A batch job's advisory lock: pg_advisory_lock(1835624307, job_id) */
#define MIGR_BATCH_LOCK_KEY 1835624307

/* The columns of a job's row this file reads */
#define JOB_COLUMNS \
	"job_id, kind, relid, sql, where_clause, key_columns, state," \
	" rows_done, batches_done, rows_total, last_key, batch_size, key_types"

/* Whether a stored text[] is the list of strings want */
static bool
text_array_is(Datum d, int n, const char *(*item) (BatchJob *, int), BatchJob *j)
{
	Datum	   *e;
	bool	   *nulls;
	int			ne;

	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &e, &nulls, &ne);
	if (ne != n)
		return false;
	for (int k = 0; k < ne; k++)
		if (nulls[k] || strcmp(TextDatumGetCString(e[k]), item(j, k)) != 0)
			return false;
	return true;
}

static const char *
key_column_item(BatchJob *j, int k)
{
	return j->keycols[k];
}

static const char *
key_type_item(BatchJob *j, int k)
{
	return format_type_be(j->keytypes[k]);
}

/*
 * Find or create the job's row.  Returns the state it was in ("new" when
 * created) and fills in what it holds.
 */
char *
migr_batch_job_open(BatchJob *j)
{
	static SPIPlanPtr find = NULL;
	static SPIPlanPtr insert = NULL;
	Oid			types[12] = {TEXTOID, TEXTOID, TEXTOID, OIDOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTARRAYOID, INT4OID, INT8OID, INT4OID, TEXTARRAYOID};
	Datum		values[12];
	char		nulls[12] = "            ";
	MigrOwnerSwitch sw;
	char	   *state = "new";
	Datum	   *cols = palloc(sizeof(Datum) * j->nkeys);

	for (int k = 0; k < j->nkeys; k++)
		cols[k] = CStringGetTextDatum(j->keycols[k]);
	values[0] = j->revision ? CStringGetTextDatum(j->revision) : (Datum) 0;
	nulls[0] = j->revision ? ' ' : 'n';
	values[1] = CStringGetTextDatum(j->name);
	values[2] = CStringGetTextDatum(j->is_update ? "update" : "sql");
	values[3] = ObjectIdGetDatum(j->relid);
	values[4] = CStringGetTextDatum(j->relation);
	values[5] = CStringGetTextDatum(j->sql);
	values[6] = CStringGetTextDatum(j->where);
	values[7] = PointerGetDatum(construct_array(cols, j->nkeys, TEXTOID, -1, false, TYPALIGN_INT));
	values[8] = Int32GetDatum(j->size);
	values[9] = Int64GetDatum(0);
	values[10] = Int32GetDatum(MyProcPid);
	values[11] = migr_batch_key_types_array(j);

	migr_owner_begin(&sw);
	migr_run_kept(&insert,
				  "INSERT INTO migr.batch_job (revision, name, kind, relid, relation, sql,"
				  "       where_clause, key_columns, batch_size, state, started_at, resumed_at,"
				  "       updated_at, pid, key_types)"
				  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'running', pg_catalog.now(),"
				  "         pg_catalog.now(), pg_catalog.now(), $11, $12)"
				  " ON CONFLICT ON CONSTRAINT batch_job_name_key DO NOTHING"
				  " RETURNING job_id",
				  12, types, values, nulls, false, 0, SPI_OK_INSERT_RETURNING);
	if (SPI_processed == 1)
	{
		bool		isnull;

		j->job_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 1, &isnull));
		j->rows_total = -1;
		SPI_freetuptable(SPI_tuptable);
		migr_owner_end(&sw);
		return state;
	}
	SPI_freetuptable(SPI_tuptable);
	migr_run_kept(&find,
				  "SELECT " JOB_COLUMNS " FROM migr.batch_job"
				  " WHERE revision IS NOT DISTINCT FROM $1 AND name OPERATOR(pg_catalog.=) $2",
				  2, types, values, nulls, false, 0, SPI_OK_SELECT);
	migr_owner_end(&sw);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("batch job \"%s\" disappeared while it was being opened", j->name),
				 errhint("Call %s again.", j->fn)));
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		bool		same;
		Datum		d;

		/* the same work?  An unnamed job's name says so already */
		same = strcmp(SPI_getvalue(t, td, 2), j->is_update ? "update" : "sql") == 0 &&
			DatumGetObjectId(SPI_getbinval(t, td, 3, &isnull)) == j->relid &&
			strcmp(SPI_getvalue(t, td, 4), j->sql) == 0 &&
			strcmp(SPI_getvalue(t, td, 5), j->where) == 0;
		if (same)
			same = text_array_is(SPI_getbinval(t, td, 6, &isnull), j->nkeys,
								 key_column_item, j);
		/* its last key, written for the key's types, cannot be read for others */
		if (same && !j->restart &&
			!text_array_is(SPI_getbinval(t, td, 13, &isnull), j->nkeys, key_type_item, j))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the key of batch job \"%s\" changed type since the job started", j->name),
					 errdetail("Its last key was written as %s; the key is now %s.",
							   SPI_getvalue(t, td, 13),
							   migr_batch_key_types_text(j)),
					 errhint("Pass restart => true to start it over, or restore the column's type to resume it.")));
		if (!same && !j->restart)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("batch job \"%s\" exists with other arguments", j->name),
					 errdetail("It was started on another table, or with another %s, where_clause or key (%s now).",
							   j->is_update ? "set_clause" : "sql",
							   migr_batch_key_columns_text(j)),
					 errhint("Give this job another name, or pass restart => true to start it over with these arguments.")));
		j->job_id = DatumGetInt64(SPI_getbinval(t, td, 1, &isnull));
		state = pstrdup(SPI_getvalue(t, td, 7));
		j->rows_done = DatumGetInt64(SPI_getbinval(t, td, 8, &isnull));
		j->batches_done = DatumGetInt64(SPI_getbinval(t, td, 9, &isnull));
		d = SPI_getbinval(t, td, 10, &isnull);
		j->rows_total = isnull ? -1 : DatumGetInt64(d);
		if (same)
		{
			d = SPI_getbinval(t, td, 11, &isnull);
			if (!isnull)
				j->last = migr_batch_key_from_text(j, DatumGetArrayTypeP(d));
		}
		/* a resumed job goes on at the size it had adapted to */
		if (!j->restart)
		{
			int			size = DatumGetInt32(SPI_getbinval(t, td, 12, &isnull));

			if (j->target_ms > 0)
				j->size = Max(j->min_size, Min(j->max_size, size));
		}
	}
	SPI_freetuptable(SPI_tuptable);
	return state;
}

/* Write the job's row: the arguments again (restart) and where it stands */
void
migr_batch_job_reset(BatchJob *j)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[9] = {INT8OID, TEXTOID, OIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID, INT4OID,
	TEXTARRAYOID};
	Datum		values[9];
	Datum	   *cols = palloc(sizeof(Datum) * j->nkeys);
	MigrOwnerSwitch sw;

	for (int k = 0; k < j->nkeys; k++)
		cols[k] = CStringGetTextDatum(j->keycols[k]);
	values[0] = Int64GetDatum(j->job_id);
	values[1] = CStringGetTextDatum(j->is_update ? "update" : "sql");
	values[2] = ObjectIdGetDatum(j->relid);
	values[3] = CStringGetTextDatum(j->relation);
	values[4] = CStringGetTextDatum(j->sql);
	values[5] = CStringGetTextDatum(j->where);
	values[6] = PointerGetDatum(construct_array(cols, j->nkeys, TEXTOID, -1, false, TYPALIGN_INT));
	values[7] = Int32GetDatum(j->size);
	values[8] = migr_batch_key_types_array(j);
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "UPDATE migr.batch_job SET kind = $2, relid = $3, relation = $4, sql = $5,"
				  "       where_clause = $6, key_columns = $7, batch_size = $8, key_types = $9,"
				  "       state = 'running', rows_done = 0, batches_done = 0, rows_total = NULL,"
				  "       last_key = NULL, started_at = pg_catalog.now(), resumed_at = pg_catalog.now(),"
				  "       rows_at_resume = 0, updated_at = pg_catalog.now(), finished_at = NULL,"
				  "       last_batch_ms = NULL, sqlstate = NULL, error = NULL"
				  " WHERE job_id OPERATOR(pg_catalog.=) $1",
				  9, types, values, NULL, false, 0, SPI_OK_UPDATE);
	migr_owner_end(&sw);
	j->rows_done = j->batches_done = 0;
	j->rows_total = -1;
	j->last = NULL;
}

/* The job (re)starts running in this backend */
void
migr_batch_job_resume(BatchJob *j)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {INT8OID, INT4OID, INT8OID, INT4OID};
	Datum		values[4];
	char		nulls[4] = "    ";
	MigrOwnerSwitch sw;

	values[0] = Int64GetDatum(j->job_id);
	values[1] = Int32GetDatum(MyProcPid);
	values[2] = Int64GetDatum(j->rows_total);
	nulls[2] = j->rows_total < 0 ? 'n' : ' ';
	values[3] = Int32GetDatum(j->size);
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "UPDATE migr.batch_job SET state = 'running', pid = $2,"
				  "       rows_total = $3, batch_size = $4,"
				  "       resumed_at = pg_catalog.clock_timestamp(), rows_at_resume = rows_done,"
				  "       sqlstate = NULL, error = NULL"
				  " WHERE job_id OPERATOR(pg_catalog.=) $1"
				  " RETURNING resumed_at",
				  4, types, values, nulls, false, 0, SPI_OK_UPDATE_RETURNING);
	if (SPI_processed == 1)
	{
		bool		isnull;

		j->resumed_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
														  SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);
	migr_owner_end(&sw);
	j->rows_at_resume = j->rows_done;
}

/* After a batch, in its transaction: where the job stands now */
void
migr_batch_job_save_batch(BatchJob *j, Datum *last, int64 rows, double ms, int next_size)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[5] = {INT8OID, INT8OID, TEXTARRAYOID, FLOAT8OID, INT4OID};
	Datum		values[5];
	MigrOwnerSwitch sw;

	values[0] = Int64GetDatum(j->job_id);
	values[1] = Int64GetDatum(rows);
	values[2] = migr_batch_key_text_array(j, last);
	values[3] = Float8GetDatum(ms);
	values[4] = Int32GetDatum(next_size);
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "UPDATE migr.batch_job SET rows_done = rows_done OPERATOR(pg_catalog.+) $2,"
				  "       batches_done = batches_done OPERATOR(pg_catalog.+) 1,"
				  "       last_key = $3, last_batch_ms = $4, batch_size = $5,"
				  "       updated_at = pg_catalog.clock_timestamp()"
				  " WHERE job_id OPERATOR(pg_catalog.=) $1",
				  5, types, values, NULL, false, 0, SPI_OK_UPDATE);
	migr_owner_end(&sw);
}

/* The job ended: done, or failed with err */
void
migr_batch_job_end(BatchJob *j, ErrorData *err)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = "    ";
	MigrOwnerSwitch sw;

	values[0] = Int64GetDatum(j->job_id);
	values[1] = CStringGetTextDatum(err ? "failed" : "done");
	if (err)
	{
		values[2] = CStringGetTextDatum(unpack_sql_state(err->sqlerrcode));
		values[3] = CStringGetTextDatum(err->message ? err->message : "");
	}
	else
		nulls[2] = nulls[3] = 'n';
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "UPDATE migr.batch_job SET state = $2, sqlstate = $3, error = $4,"
				  "       updated_at = pg_catalog.clock_timestamp(),"
				  "       finished_at = CASE WHEN $2 OPERATOR(pg_catalog.=) 'done'"
				  "                          THEN pg_catalog.clock_timestamp() END"
				  " WHERE job_id OPERATOR(pg_catalog.=) $1",
				  4, types, values, nulls, false, 0, SPI_OK_UPDATE);
	migr_owner_end(&sw);
}

/*
 * Whether migr.batch_job holds a job of revision rev, as the DELETE below
 * would see it: one probe of the index on (revision, name) with the
 * snapshot that statement would take, and no statement.  Most revisions
 * have no job, and CALL mode asks once per revision.
 */
static bool
revision_has_jobs(const char *rev)
{
	Oid			nsp = get_namespace_oid("migr", false);
	Oid			relid = get_relname_relid("batch_job", nsp);
	Oid			indexid = get_relname_relid("batch_job_name_key", nsp);
	AttrNumber	att;
	Relation	rel;
	Relation	index;
	ScanKeyData key;
	SysScanDesc scan;
	Snapshot	snap;
	bool		found;

	/* not as the extension script made it: the DELETE decides */
	if (!OidIsValid(relid) || !OidIsValid(indexid) ||
		(att = get_attnum(relid, "revision")) == InvalidAttrNumber ||
		get_atttype(relid, att) != TEXTOID)
		return true;
	rel = table_open(relid, AccessShareLock);
	index = index_open(indexid, AccessShareLock);
	if (index->rd_index->indrelid != relid || index->rd_index->indnatts < 1 ||
		index->rd_index->indkey.values[0] != att ||
		index->rd_rel->relam != BTREE_AM_OID)
	{
		index_close(index, AccessShareLock);
		table_close(rel, AccessShareLock);
		return true;
	}
	/* scan key attribute numbers are the table's: systable_beginscan maps them */
	ScanKeyEntryInitialize(&key, 0, att, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[0], F_TEXTEQ, CStringGetTextDatum(rev));
	index_close(index, AccessShareLock);
	snap = RegisterSnapshot(GetTransactionSnapshot());
	scan = systable_beginscan(rel, indexid, true, snap, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * migr_batch_forget_revision
 *		A revision's step was recorded: its batch jobs are over, and the
 *		next run of that revision starts them afresh.  The step's event is
 *		their record.
 */
void
migr_batch_forget_revision(const char *rev)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	MigrOwnerSwitch sw;

	if (migr_catalog_version() < 3 || !revision_has_jobs(rev))
		return;
	values[0] = CStringGetTextDatum(rev);
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "DELETE FROM migr.batch_job WHERE revision OPERATOR(pg_catalog.=) $1",
				  1, types, values, NULL, false, 0, SPI_OK_DELETE);
	migr_owner_end(&sw);
}

/* ----------------------------------------------------------------
 * The job's advisory lock
 * ----------------------------------------------------------------
 */

/*
 * The jobs this backend is running now, innermost last: a job whose SQL
 * calls the same job would run it from within itself.  The lock cannot
 * tell: a backend's locks never conflict with each other, and a job run in
 * the caller's transaction keeps its lock until the transaction ends, when
 * the same job may rightly run again (a stairway test upgrades twice).
 * Each call that takes the lock pops itself in end_call(), which runs on
 * error too.
 */
static int64 *running_jobs = NULL;
static int	nrunning = 0;
static int	running_cap = 0;

/*
 * Take the job's advisory lock, so that one backend at a time runs it:
 * for the session when batches commit, else for the transaction.
 */
void
migr_batch_lock_job(BatchJob *j)
{
	SET_LOCKTAG_ADVISORY(j->locktag, MyDatabaseId, MIGR_BATCH_LOCK_KEY,
						 (uint32) j->job_id, 2);

	for (int i = 0; i < nrunning; i++)
		if (running_jobs[i] == j->job_id)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("batch job \"%s\" is already running in this session", j->name),
					 errdetail("%s was called from the SQL of the job itself.", j->fn)));
	if (nrunning == running_cap)
	{
		running_cap = Max(4, running_cap * 2);
		running_jobs = running_jobs
			? repalloc(running_jobs, sizeof(int64) * running_cap)
			: MemoryContextAlloc(TopMemoryContext, sizeof(int64) * running_cap);
	}
	/* held already by an earlier call in this transaction: keep it */
	if (!LockHeldByMe(&j->locktag, ExclusiveLock) &&
		LockAcquire(&j->locktag, ExclusiveLock, !j->atomic, true) == LOCKACQUIRE_NOT_AVAIL)
	{
		int			holder = migr_lock_advisory_holder(MIGR_BATCH_LOCK_KEY,
													   (uint32) j->job_id, 2);

		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("batch job \"%s\" is running in another session", j->name),
				 holder ? errdetail("Process %d is running it.", holder)
				 : errdetail("Another process is running it."),
				 errhint("Wait for it to finish, or stop it with pg_cancel_backend(); a new call then goes on from its last batch.")));
	}
	running_jobs[nrunning++] = j->job_id;
	j->locked = true;
}

void
migr_batch_unlock_job(BatchJob *j)
{
	if (!j->locked)
		return;
	/* the innermost call ends first, also on error */
	Assert(nrunning > 0 && running_jobs[nrunning - 1] == j->job_id);
	nrunning--;
	if (!j->atomic)
		LockRelease(&j->locktag, ExclusiveLock, true);
	j->locked = false;
}
