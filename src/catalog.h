/*-------------------------------------------------------------------------
 * catalog.h
 *	  Reads and writes of the migr.* tables.  Callers hold an SPI
 *	  connection; results are allocated in the memory context that was
 *	  current when the caller connected (passed in as "into").
 *
 * IDENTIFICATION
 *	  src/catalog.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_CATALOG_H
#define MIGR_CATALOG_H

#include "fingerprint.h"
#include "graph.h"
#include "revcheck.h"
#include "utils/palloc.h"

/* A registered revision's stored row */
typedef struct MigrStoredRevision
{
	char	   *id;
	char	   *revises;		/* canonical "a, b" */
	char	   *depends_on;
	char	   *branch_labels;
	char	   *message;
	TimestampTz create_date;
	char	   *upgrade_sql;
	char	   *downgrade_sql;	/* NULL when irreversible */
	bytea	   *checksum;
	char	   *checks[MIGR_NCHECKS];	/* NULL where absent */
	bool		transactional;	/* as registered (transactional => ...) */
	bool		applied;
	bytea	   *applied_checksum;
} MigrStoredRevision;

/* A revision to store: lists already parsed and validated */
typedef struct MigrNewRevision
{
	char	   *id;
	int			nrevises;
	char	  **revises;
	int			ndeps;
	char	  **deps;
	int			nlabels;
	char	  **labels;
	char	   *message;
	TimestampTz create_date;
	char	   *upgrade_sql;
	char	   *downgrade_sql;
	char	   *checks[MIGR_NCHECKS];
	bytea	   *checksum;
	bool		transactional;	/* as declared */
	char	   *upgrade_toplevel;	/* NULL, or its first top-level-only statement */
	char	   *downgrade_toplevel;
	char	   *source_file;	/* loaded from a file: its name, else NULL */
	bytea	   *source_sha256;	/* and the sha256 of its bytes */
} MigrNewRevision;

/* What a step needs to run: body, checksum and checks */
typedef struct MigrBody
{
	char	   *sql;			/* NULL: no downgrade SQL (irreversible) */
	bytea	   *checksum;
	char	   *checks[MIGR_NCHECKS];
	char	   *registered_by;	/* role the readers evaluate checks as */
} MigrBody;

/* One step to record */
typedef struct MigrStepRecord
{
	int			rev;			/* graph index */
	const char *operation;		/* upgrade, downgrade, stamp */
	bool		now_applied;	/* true: insert into migr.applied, else delete */
	TimestampTz started_at;
	int64		duration_us;
	bytea	   *checksum;		/* for inserts */
	int64		head_seq;		/* for inserts */
	char	   *heads_before;	/* comma-separated */
	char	   *heads_after;
	int			statements;		/* statements of the body run */
} MigrStepRecord;

/* A step that failed (outcome "failed") or will be run again ("retry") */
typedef struct MigrFailure
{
	int			rev;			/* graph index */
	const char *operation;		/* upgrade or downgrade */
	const char *outcome;		/* failed or retry */
	TimestampTz started_at;
	int64		duration_us;
	char	   *heads;			/* comma-separated: unchanged by the step */
	ErrorData  *error;
	int			statement_no;	/* 0: not in a statement (a check, say) */
	const char *statement;
	int		   *blocking_pids;
	int			nblocking;
} MigrFailure;

/*
 * Called per revision by migr_catalog_load_graph_contents: checks has MIGR_NCHECKS
 * entries; applied_checksum is NULL when the revision is not applied.
 * Everything passed is freed after the call returns.
 */
typedef void (*MigrContentFn) (const char *id, const char *upgrade_sql,
							   const char *downgrade_sql, char *const *checks,
							   bytea *checksum, bytea *applied_checksum,
							   void *arg);

extern int	migr_catalog_version(void);
extern char **migr_split_ids(char *s, int *n);
extern bool migr_graph_read_direct(MemoryContext into, MigrRevInput **in,
								   int *n, MigrContentFn fn, void *arg,
								   int64 *applied_rows, int64 *applied_matched);
extern int	migr_read_snapshot_signature(MemoryContext into, bytea **signature);

/* Called per recorded source file by migr_read_sources_direct */
typedef void (*MigrSourceFn) (text *file, text *id, bytea *sha256, void *arg);
extern bool migr_read_sources_direct(MigrSourceFn fn, void *arg);
extern int	migr_read_any_row(const char *name, const char *column_name,
							  const char *except);
extern int	migr_read_summary_direct(MemoryContext into, int64 *pending,
									 int *graph_heads, char ***current,
									 int *ncurrent);
extern bool migr_catalog_v2(void);
extern MigrGraph *migr_catalog_load_graph(MemoryContext into, bool strict,
										  int64 *max_seq);
extern MigrGraph *migr_catalog_load_graph_contents(MemoryContext into,
												   int64 *max_seq,
												   MigrContentFn fn, void *arg,
												   bool *all_registered);
extern void migr_catalog_history_details(MigrGraph *g, char **message,
										 TimestampTz *applied_at,
										 bool *applied_at_null,
										 MemoryContext into);
extern MigrStoredRevision *migr_catalog_get_revision(MemoryContext into, const char *id);
extern void migr_catalog_store_revision(MigrNewRevision *rev, bool replace);
extern void migr_catalog_lookup_names(MemoryContext into, char **names, int n,
									  bool *is_id, char **label_owner);
extern MigrBody *migr_catalog_load_bodies(MigrGraph *g, const int *revs, int n,
										  bool upgrade, MemoryContext into);
extern void migr_catalog_record_steps(MigrGraph *g, MigrStepRecord *steps, int n,
									  int nseq, const int *seq_revs,
									  const int64 *seqs, const char *fingerprint);
extern void migr_catalog_record_failure(MigrGraph *g, const MigrFailure *f);
extern void migr_catalog_save_snapshot(const MigrDescRow *rows, int n,
									   const char *fingerprint,
									   const uint8 *signature);
extern bool migr_catalog_snapshot_signature(MemoryContext into, bytea **signature);
extern bool migr_catalog_load_snapshot(MemoryContext into, MigrDescRow **rows,
									   int *n, char **fingerprint);

#endif							/* MIGR_CATALOG_H */
