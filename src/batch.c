/*-------------------------------------------------------------------------
 * batch.c
 *	  CALL migr.batch_update() and CALL migr.batch(): a large data change
 *	  done in batches that walk a table in the order of a unique key
 *	  (keyset pagination: each batch starts after the last key of the one
 *	  before, so no batch re-reads the rows before it), for backfills that
 *	  must not hold locks on the whole table nor bloat it in one
 *	  transaction.  See docs/data-migrations.md.
 *
 *	  This file holds the procedures' entry points and arguments, and the
 *	  run of a job: its batches, their commits, retries and sizes, their
 *	  progress.  The key is chosen and written as text in batchkey.c, the
 *	  clauses are checked, the statements built and the rows estimated in
 *	  batchsql.c, the job's row and its advisory lock are kept in
 *	  batchjob.c (batchint.h declares what they share).
 *
 *	  Called with CALL at top level (or from a revision registered with
 *	  transactional => false, run by CALL migr.apply()), each batch
 *	  commits together with the job's row, so a job stopped by an error, a
 *	  cancel or a crash resumes after the last committed batch and never
 *	  runs one twice.  Anywhere else (inside migr.upgrade(), a transaction
 *	  block, a function) the batches run in the caller's transaction, with
 *	  no subtransaction of their own, and a NOTICE says so.
 *
 *	  Each batch runs under migr.lock_timeout (stmtguard.c) and, where
 *	  batches commit, is retried after a growing wait when a lock is not
 *	  available, as CALL migr.apply() retries a revision.  Its size adapts
 *	  so that a batch takes about target_time.  Progress goes to a NOTICE
 *	  every migr.progress_interval, to pg_stat_activity.query, and
 *	  (committed with each batch) to the view migr.progress.
 *
 * IDENTIFICATION
 *	  src/batch.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "activity.h"
#include "batchint.h"
#include "body.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "guc.h"
#include "lib/stringinfo.h"
#include "lock.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "sleep.h"
#include "sqlcall.h"
#include "stmtguard.h"
#include "subxact.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(migr_batch_update_proc);
PG_FUNCTION_INFO_V1(migr_batch_proc);

/* the keys of a batch are read this many at a time */
#define KEY_CHUNK	10000

/* a batch grows or shrinks by at most this factor from one to the next */
#define ADAPT_STEP	2.0

static void free_plans(BatchJob *j);

/* ----------------------------------------------------------------
 * Arguments
 * ----------------------------------------------------------------
 */

/*
 * interval argument n in ms, refusing a negative one and one whose length
 * in microseconds does not fit in 64 bits (it would wrap around, and a
 * huge pause could turn negative or a negative one positive)
 */
static int64
interval_ms_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	Interval   *iv;
	int64		us;
	int64		days_us;
	int64		months_us;

	if (PG_ARGISNULL(n))
		return 0;
	iv = PG_GETARG_INTERVAL_P(n);
	if (pg_mul_s64_overflow((int64) iv->day, USECS_PER_DAY, &days_us) ||
		pg_mul_s64_overflow((int64) iv->month, (int64) DAYS_PER_MONTH * USECS_PER_DAY,
							&months_us) ||
		pg_add_s64_overflow(iv->time, days_us, &us) ||
		pg_add_s64_overflow(us, months_us, &us))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", what),
				 errdetail("The %s is %s.", what,
						   DatumGetCString(DirectFunctionCall1(interval_out,
															   IntervalPGetDatum(iv))))));
	if (us < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot be negative", what)));
	return us / 1000;
}

/* ----------------------------------------------------------------
 * Running
 * ----------------------------------------------------------------
 */

/* One batch: its keys, then its work (under migr_guard_run) */
static void
batch_fn(void *arg)
{
	BatchJob   *j = (BatchJob *) arg;
	Datum		kv[INDEX_MAX_KEYS + 1];
	Datum		wv[INDEX_MAX_KEYS * 2];
	uint64		n;
	int			rc;
	Portal		portal;

	kv[0] = Int32GetDatum(j->size);
	if (j->last)
		memcpy(kv + 1, j->last, sizeof(Datum) * j->nkeys);

	/*
	 * Only the first and last key matter: read the keys through a cursor,
	 * KEY_CHUNK at a time, so that a batch of millions of keys does not
	 * hold them all.  The keys are copied out of SPI's tuple tables into
	 * the batch's context: SPI leaves its procedure context current, which
	 * lives as long as the call, and a batch's allocations there would add
	 * up over a job's batches.
	 */
	portal = SPI_cursor_open(NULL, j->last ? j->next_plan : j->first_plan, kv, NULL, false);
	j->next_last = NULL;
	j->batch_keys = 0;
	j->batch_rows = 0;
	for (;;)
	{
		SPI_cursor_fetch(portal, true, KEY_CHUNK);
		n = SPI_processed;
		MemoryContextSwitchTo(j->batchcxt);
		if (n > 0 && j->batch_keys == 0)
			for (int k = 0; k < j->nkeys; k++)
			{
				bool		isnull;

				wv[k] = datumCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
												k + 1, &isnull), j->keybyval[k], j->keylens[k]);
			}
		if (n > 0)
		{
			if (j->next_last == NULL)
				j->next_last = palloc(sizeof(Datum) * j->nkeys);
			for (int k = 0; k < j->nkeys; k++)
			{
				bool		isnull;

				j->next_last[k] = datumCopy(SPI_getbinval(SPI_tuptable->vals[n - 1],
														  SPI_tuptable->tupdesc, k + 1, &isnull),
											j->keybyval[k], j->keylens[k]);
			}
		}
		j->batch_keys += (int) n;
		SPI_freetuptable(SPI_tuptable);
		if (n < KEY_CHUNK)
			break;
	}
	SPI_cursor_close(portal);
	if (j->batch_keys == 0)
		return;
	for (int k = 0; k < j->nkeys; k++)
		wv[j->nkeys + k] = j->next_last[k];

	rc = SPI_execute_plan(j->work_plan, wv, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "the statement of %s failed: %s", j->fn, SPI_result_code_string(rc));
	j->batch_rows = (int64) SPI_processed;
	SPI_freetuptable(SPI_tuptable);
}

/* A batch and its record, in the transaction (or subtransaction) it runs in */
static void
batch_and_save_fn(void *arg)
{
	BatchJob   *j = (BatchJob *) arg;
	TimestampTz start = GetCurrentTimestamp();

	migr_guard_run(batch_fn, j);
	MemoryContextSwitchTo(j->batchcxt); /* not SPI's: see batch_fn */
	if (j->batch_keys > 0)
		migr_batch_job_save_batch(j, j->next_last, j->batch_rows,
								  (double) (GetCurrentTimestamp() - start) / 1000.0,
								  j->size);
}

/*
 * Non-atomic: the batch and its record in a subtransaction (which also
 * closes whatever SPI connections the caller's SQL left open when it
 * fails), then the commit.  Returns the error, copied, or NULL; either way
 * a transaction is open afterwards, and the job stands where the last
 * commit left it.
 */
static ErrorData *
batch_commit(BatchJob *j)
{
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *volatile err = migr_subxact_try(batch_and_save_fn, j, true, true);

	if (err)
		return err;
	PG_TRY();
	{
		SPI_commit();
	}
	PG_CATCH();
	{
		/* SPI_commit rolled back and began a new transaction */
		MemoryContextSwitchTo(cxt);
		err = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	return err;
}

/* The next batch's size: towards target_time, at most ADAPT_STEP times off */
static void
adapt(BatchJob *j, double ms)
{
	double		f;
	double		next;

	if (j->target_ms <= 0 || j->batch_keys < j->size)
		return;
	f = ms > 0 ? (double) j->target_ms / ms : ADAPT_STEP;
	f = Max(1.0 / ADAPT_STEP, Min(ADAPT_STEP, f));
	next = j->size * f;
	j->size = (int) Max((double) j->min_size, Min((double) j->max_size, next + 0.5));
}

/* "1 row", "12 rows" */
static char *
count_text(int64 n, const char *one, const char *many)
{
	return psprintf("%lld %s", (long long) n, n == 1 ? one : many);
}

/* "2 h 05 min", "3 min 07 s", "12 s" */
static char *
duration_text(double secs)
{
	int64		s = (int64) (secs + 0.5);

	if (s >= 3600)
		return psprintf("%lld h %02d min", (long long) (s / 3600), (int) ((s % 3600) / 60));
	if (s >= 60)
		return psprintf("%d min %02d s", (int) (s / 60), (int) (s % 60));
	return psprintf("%d s", (int) s);
}

static void
progress_notice(BatchJob *j)
{
	TimestampTz now = GetCurrentTimestamp();
	double		secs = (double) (now - j->resumed_at) / 1000000.0;
	double		rate = secs > 0 ? (j->rows_done - j->rows_at_resume) / secs : 0;
	int64		total = Max(j->rows_total, j->rows_done);

	if (migr_progress_interval <= 0 ||
		!TimestampDifferenceExceeds(j->last_notice, now, migr_progress_interval))
		return;
	j->last_notice = now;
	if (j->rows_total >= 0 && rate > 0)
		ereport(NOTICE,
				(errmsg("batch job \"%s\": %lld of about %lld rows (%.0f%%), %.0f rows/s, about %s left",
						j->name, (long long) j->rows_done, (long long) total,
						total > 0 ? 100.0 * j->rows_done / total : 100.0, rate,
						duration_text((total - j->rows_done) / rate))));
	else
		ereport(NOTICE,
				(errmsg("batch job \"%s\": %lld rows, %.0f rows/s",
						j->name, (long long) j->rows_done, rate)));
}

/*
 * Text to show inside a comment: a name or a key holding the end of a
 * comment would end migr's comment early, and what follows would read as
 * SQL in pg_stat_activity.query; one holding the start of a comment would
 * open a nested one, and hide the SQL after migr's.
 */
static const char *
comment_safe(const char *text)
{
	StringInfoData buf;

	if (strstr(text, "*/") == NULL && strstr(text, "/*") == NULL)
		return text;
	initStringInfo(&buf);
	for (const char *p = text; *p; p++)
	{
		appendStringInfoChar(&buf, *p);
		if ((p[0] == '*' && p[1] == '/') || (p[0] == '/' && p[1] == '*'))
			appendStringInfoChar(&buf, ' ');
	}
	return buf.data;
}

/* pg_stat_activity.query while a batch runs */
static void
report_batch(BatchJob *j)
{
	migr_activity_report("/* migr batch job %s: batch %lld, %d rows after key %s */ %s",
						 comment_safe(j->name), (long long) j->batches_done + 1, j->size,
						 j->last ? comment_safe(migr_batch_key_text(j, j->last))
						 : "(start)",
						 j->is_update ? "UPDATE" : j->sql);
}

/*
 * The batches, until one finds fewer keys than it asked for.  A batch
 * that could not get a lock is retried like a revision in CALL
 * migr.apply(); any other error (a cancel too) ends the job, recorded as
 * failed where the batches commit.
 */
static void
batch_error_callback(void *arg)
{
	BatchJob   *j = (BatchJob *) arg;

	errcontext("batch %lld of batch job \"%s\" (%s), after key %s",
			   (long long) j->batches_done + 1, j->name, j->fn,
			   j->last ? migr_batch_key_text(j, j->last) : "(none: the first batch)");
}

static void
run_batches(BatchJob *j)
{
	ErrorContextCallback cb;

	cb.callback = batch_error_callback;
	cb.arg = j;
	for (;;)
	{
		TimestampTz start;
		double		ms;
		ErrorData  *err;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		for (int attempt = 0;; attempt++)
		{
			/* all a batch allocates goes when batchcxt is reset */
			old = MemoryContextSwitchTo(j->batchcxt);
			report_batch(j);
			start = GetCurrentTimestamp();
			cb.previous = error_context_stack;
			error_context_stack = &cb;
			if (j->atomic)
			{
				/*
				 * In the caller's transaction: no subtransaction per batch
				 * (past 64 of them every other session's snapshots slow
				 * down), so no retry either; an error ends the job and the
				 * transaction, as any statement of migr.upgrade() does.
				 */
				batch_and_save_fn(j);
				err = NULL;
			}
			else
				err = batch_commit(j);
			error_context_stack = cb.previous;
			MemoryContextSwitchTo(old);
			if (err == NULL)
				break;
			if (err->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE && attempt < migr_lock_retries)
			{
				int			delay = migr_retry_delay(attempt, migr_lock_retry_delay);

				ereport(NOTICE,
						(errmsg("retrying batch %lld of batch job \"%s\" in %d ms: %s",
								(long long) j->batches_done + 1, j->name, delay, err->message),
						 errdetail("Retry %d of %d (migr.lock_retries).", attempt + 1,
								   migr_lock_retries)));
				MemoryContextReset(j->batchcxt);
				migr_sleep(delay);
				continue;
			}
			if (err->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE && attempt > 0)
				err->detail = psprintf("%s%smigr gave up after %d retries (migr.lock_retries).",
									   err->detail ? err->detail : "",
									   err->detail ? " " : "", attempt);
			if (!j->atomic)
			{
				migr_batch_job_end(j, err);
				SPI_commit();
			}
			ReThrowError(err);
		}
		ms = (double) (GetCurrentTimestamp() - start) / 1000.0;
		if (j->batch_keys == 0)
			break;
		/* the batch is done (committed, in non-atomic mode) */
		j->rows_done += j->batch_rows;
		j->batches_done++;
		{
			MemoryContext jold = MemoryContextSwitchTo(j->cxt);
			Datum	   *last = palloc(sizeof(Datum) * j->nkeys);

			for (int k = 0; k < j->nkeys; k++)
				last[k] = datumCopy(j->next_last[k], j->keybyval[k], j->keylens[k]);
			MemoryContextSwitchTo(jold);
			if (j->last)
				pfree(j->last);
			j->last = last;
		}
		MemoryContextReset(j->batchcxt);
		progress_notice(j);
		if (j->batch_keys < j->size)
			break;
		adapt(j, ms);
		if (j->pause_ms > 0)
			migr_sleep(j->pause_ms);
	}
}

/* Open the job, decide what to do, and run it */
static void
run_job(BatchJob *j)
{
	char	   *state;

	(void) migr_batch_job_open(j);
	if (!j->atomic)
		SPI_commit();			/* the row exists for every session */
	migr_batch_lock_job(j);
	/*
	 * What the last runner left, read again now that it cannot change: a
	 * runner that took the lock first may have finished the job since.
	 */
	state = migr_batch_job_open(j);
	if (strcmp(state, "done") == 0 && !j->restart)
	{
		ereport(NOTICE,
				(errmsg("batch job \"%s\" finished before: nothing to do", j->name),
				 errdetail("It processed %s in %s; migr.batch_job keeps its record.",
						   count_text(j->rows_done, "row", "rows"),
						   count_text(j->batches_done, "batch", "batches")),
				 errhint("Pass restart => true to run it again from the start.")));
		return;
	}
	if (j->restart)
		migr_batch_job_reset(j);
	if (j->rows_total < 0)
		j->rows_total = j->estimate;
	migr_batch_job_resume(j);
	if (j->last)
		ereport(NOTICE,
				(errmsg("resuming batch job \"%s\" after key %s: %s done in %s",
						j->name, migr_batch_key_text(j, j->last),
						count_text(j->rows_done, "row", "rows"),
						count_text(j->batches_done, "batch", "batches"))));
	if (j->atomic)
		ereport(NOTICE,
				(errmsg("batch job \"%s\" runs in the caller's transaction: its batches are not committed one by one",
						j->name),
				 errdetail("%s was called inside a transaction block, a function, or a transactional revision.",
						   j->fn),
				 errhint("CALL it on its own, or from a revision registered with transactional => false and run by CALL migr.apply(), to commit each batch.")));
	if (!j->atomic)
		SPI_commit();

	j->last_notice = GetCurrentTimestamp();

	run_batches(j);

	migr_batch_job_end(j, NULL);
	if (!j->atomic)
		SPI_commit();
	ereport(NOTICE,
			(errmsg("batch job \"%s\" finished: %s in %s", j->name,
					count_text(j->rows_done, "row", "rows"),
					count_text(j->batches_done, "batch", "batches"))));
}

/* What the call holds: the job's lock, its plans, pg_stat_activity */
static void
end_call(BatchJob *j)
{
	migr_batch_unlock_job(j);
	if (OidIsValid(j->ext))
		migr_unlock_extension_session(j->ext);
	j->ext = InvalidOid;
	free_plans(j);
	migr_activity_restore();
}

static void
free_plans(BatchJob *j)
{
	if (j->first_plan)
		SPI_freeplan(j->first_plan);
	if (j->next_plan)
		SPI_freeplan(j->next_plan);
	if (j->work_plan)
		SPI_freeplan(j->work_plan);
	j->first_plan = j->next_plan = j->work_plan = NULL;
}

/*
 * CALL migr.batch_update(tbl, set_clause, where_clause, batch_size, key,
 *                        pause, target_time, name, restart)
 * CALL migr.batch(tbl, sql, where_clause, batch_size, key, pause,
 *                 target_time, name, restart)
 */
static void
run_batch_call(FunctionCallInfo fcinfo, bool is_update)
{
	CallContext *cc = (CallContext *) fcinfo->context;
	MemoryContext outer;
	BatchJob   *j;
	int			rc;
	char	   *key;
	int			size;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tbl cannot be null")));
	migr_require_writable(is_update ? "migr.batch_update()" : "migr.batch()");
	if (PG_ARGISNULL(3) || (size = PG_GETARG_INT32(3)) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be at least 1")));

	outer = CurrentMemoryContext;
	if ((rc = SPI_connect_ext(cc && IsA(cc, CallContext) && !cc->atomic
							  ? SPI_OPT_NONATOMIC : 0)) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed: %s", SPI_result_code_string(rc));

	j = palloc0(sizeof(BatchJob));
	j->cxt = CurrentMemoryContext;
	j->atomic = !(cc && IsA(cc, CallContext) && !cc->atomic);
	j->is_update = is_update;
	j->fn = is_update ? "migr.batch_update()" : "migr.batch()";
	j->relid = PG_GETARG_OID(0);
	j->sql = pstrdup(migr_required_text_arg(fcinfo, 1, is_update ? "set_clause" : "sql"));
	j->where = pstrdup(migr_required_text_arg(fcinfo, 2, "where_clause"));
	j->size = size;
	j->min_size = Max(1, size / 100);
	j->max_size = (int) Min((int64) size * 100, (int64) 10000000);
	j->max_size = Max(j->max_size, size);
	key = migr_text_arg(fcinfo, 4);
	j->pause_ms = interval_ms_arg(fcinfo, 5, "pause");
	j->target_ms = interval_ms_arg(fcinfo, 6, "target_time");
	j->name = migr_text_arg(fcinfo, 7);
	j->restart = !PG_ARGISNULL(8) && PG_GETARG_BOOL(8);
	j->revision = (char *) migr_body_running_revision();
	if (j->revision)
		j->revision = pstrdup(j->revision);

	if (j->name != NULL && j->name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("name cannot be empty")));
	if (is_update)
		migr_batch_check_set_clause(j);
	migr_batch_check_where_clause(j);
	migr_batch_resolve_key(j, key);
	migr_batch_refuse_key_change(j);
	j->relation = quote_qualified_identifier(get_namespace_name(get_rel_namespace(j->relid)),
											 get_rel_name(j->relid));
	j->named = j->name != NULL;
	if (!j->named)
		j->name = migr_batch_default_name(j);
	else
		j->name = pstrdup(j->name);
	j->batchcxt = AllocSetContextCreate(j->cxt, "migr batch", ALLOCSET_DEFAULT_SIZES);

	/*
	 * On error, close this connection before the error leaves: a caller
	 * that goes on in this transaction's place (CALL migr.apply() records
	 * the failure and commits) must find its own connection current.  The
	 * caller's SQL runs in subtransactions, so nothing above this
	 * connection is left open.
	 */
	PG_TRY();
	{
		/* what can fail on the arguments fails before the catalog is written */
		j->first_plan = migr_batch_prepare_keys(j, false);
		j->next_plan = migr_batch_prepare_keys(j, true);
		j->work_plan = migr_batch_prepare_work(j);
		if (SPI_keepplan(j->first_plan) || SPI_keepplan(j->next_plan) ||
			SPI_keepplan(j->work_plan))
			elog(ERROR, "could not keep the plans of %s", j->fn);
		migr_batch_estimate_rows(j);
		/* DROP EXTENSION waits until the job ends, across its commits */
		if (!j->atomic)
			j->ext = migr_lock_extension_session();
		run_job(j);
	}
	PG_CATCH();
	{
		/*
		 * The error may be one re-thrown from a copy in this connection's
		 * memory (ReThrowError copies the strings but the file and function
		 * names): copy it out first, into the caller's context.
		 */
		ErrorData  *err;

		MemoryContextSwitchTo(outer);
		err = CopyErrorData();
		FlushErrorState();
		end_call(j);
		/*
		 * In the caller's transaction, its abort closes this connection and
		 * any the caller's SQL left open above it.
		 */
		if (!j->atomic)
			SPI_finish();
		MemoryContextSwitchTo(outer);
		ReThrowError(err);
	}
	PG_END_TRY();
	end_call(j);
	SPI_finish();
}

Datum
migr_batch_update_proc(PG_FUNCTION_ARGS)
{
	run_batch_call(fcinfo, true);
	PG_RETURN_VOID();
}

Datum
migr_batch_proc(PG_FUNCTION_ARGS)
{
	run_batch_call(fcinfo, false);
	PG_RETURN_VOID();
}
