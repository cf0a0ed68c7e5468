/*-------------------------------------------------------------------------
 * batchint.h
 *	  Internals of the batch jobs shared by batch.c, batchkey.c,
 *	  batchsql.c and batchjob.c: the job as a call holds it, and what
 *	  each of those files lends the others.  Nothing else includes it;
 *	  batch.h is the batch jobs' face to the rest of migr.
 *
 * IDENTIFICATION
 *	  src/batchint.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_BATCHINT_H
#define MIGR_BATCHINT_H

#include "access/stratnum.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "storage/lock.h"
#include "utils/array.h"

typedef struct BatchJob
{
	/* what to do */
	bool		is_update;		/* batch_update (else batch) */
	const char *fn;				/* "migr.batch_update()", for messages */
	Oid			relid;
	char	   *relation;		/* qualified and quoted */
	char	   *sql;			/* the SET list, or the per-batch statement */
	List	   *set_columns;	/* the columns the SET list assigns */
	char	   *where;
	int			nkeys;
	char	  **keycols;
	Oid		   *keytypes;
	int16	   *keylens;
	bool	   *keybyval;
	char	  **keyexpr;		/* the column, with the index's COLLATE */
	char	 *(*keyops)[BTMaxStrategyNumber + 1];	/* "OPERATOR(s.<)" ... */
	int			size;			/* the size of the next batch */
	int			min_size;
	int			max_size;
	int64		pause_ms;
	int64		target_ms;		/* 0: the size does not adapt */
	char	   *name;
	bool		named;			/* the caller gave the name */
	char	   *revision;		/* the revision whose SQL runs the job */
	bool		restart;
	bool		atomic;			/* no commits between batches */

	/* its row in migr.batch_job */
	int64		job_id;
	int64		rows_done;
	int64		batches_done;
	int64		rows_total;		/* estimate; -1 when unknown */
	int64		estimate;		/* this call's estimate */
	Datum	   *last;			/* the last key done, or NULL */
	TimestampTz resumed_at;
	int64		rows_at_resume;
	LOCKTAG		locktag;
	bool		locked;
	Oid			ext;			/* the extension, share-locked for the session */

	/* plans kept for the job */
	SPIPlanPtr	first_plan;		/* the first batch's keys */
	SPIPlanPtr	next_plan;		/* the keys after the last one */
	SPIPlanPtr	work_plan;		/* the UPDATE, or the caller's statement */

	MemoryContext cxt;			/* the job's; survives the commits */
	MemoryContext batchcxt;		/* reset after each batch */
	TimestampTz last_notice;

	/* the batch running */
	int			batch_keys;		/* keys found: below size, the last batch */
	int64		batch_rows;		/* rows the work statement processed */
	Datum	   *next_last;		/* its last key, in batchcxt */
} BatchJob;

/* batchkey.c: the key and its text */
extern void migr_batch_resolve_key(BatchJob *j, const char *key);
extern char *migr_batch_default_name(BatchJob *j);
extern void migr_batch_append_keys(StringInfo buf, BatchJob *j);
extern Datum migr_batch_key_text_array(BatchJob *j, Datum *key);
extern char *migr_batch_key_text(BatchJob *j, Datum *key);
extern Datum *migr_batch_key_from_text(BatchJob *j, ArrayType *arr);
extern char *migr_batch_key_columns_text(BatchJob *j);
extern Datum migr_batch_key_types_array(BatchJob *j);
extern char *migr_batch_key_types_text(BatchJob *j);

/* batchsql.c: the clauses, the statements built from them, the estimate */
extern void migr_batch_check_set_clause(BatchJob *j);
extern void migr_batch_refuse_key_change(BatchJob *j);
extern void migr_batch_check_where_clause(BatchJob *j);
extern SPIPlanPtr migr_batch_prepare_keys(BatchJob *j, bool after);
extern SPIPlanPtr migr_batch_prepare_work(BatchJob *j);
extern void migr_batch_estimate_rows(BatchJob *j);

/* batchjob.c: the job's row in migr.batch_job and its advisory lock */
extern char *migr_batch_job_open(BatchJob *j);
extern void migr_batch_job_reset(BatchJob *j);
extern void migr_batch_job_resume(BatchJob *j);
extern void migr_batch_job_save_batch(BatchJob *j, Datum *last, int64 rows,
									  double ms, int next_size);
extern void migr_batch_job_end(BatchJob *j, ErrorData *err);
extern void migr_batch_lock_job(BatchJob *j);
extern void migr_batch_unlock_job(BatchJob *j);

#endif							/* MIGR_BATCHINT_H */
