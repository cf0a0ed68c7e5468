/*-------------------------------------------------------------------------
 * worker.h
 *	  Running one SQL statement at top level in a dynamic background worker,
 *	  for the statements PostgreSQL refuses inside a transaction block or a
 *	  function (CREATE INDEX CONCURRENTLY, VACUUM, ALTER SYSTEM, ...).
 *
 * IDENTIFICATION
 *	  src/worker.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_WORKER_H
#define MIGR_WORKER_H

typedef struct MigrWorkerSettings
{
	const char *search_path;	/* the caller's search_path setting string */
	int			lock_timeout_ms;	/* lock_timeout to set in the worker; 0 = none */
	int			statement_timeout_ms;	/* statement_timeout in the worker; 0 = none */
} MigrWorkerSettings;

/*
 * Run sql (exactly one statement) at top level, outside any transaction block,
 * in a dynamic background worker connected to MyDatabaseId as GetUserId()
 * (the current user, not the session user), and wait until it has finished.
 * The caller must be in a transaction state where it holds no snapshot
 * (e.g. right after SPI_commit) and must not be in a transaction block.
 */
extern void migr_worker_run(const char *sql, const MigrWorkerSettings *settings);

#endif							/* MIGR_WORKER_H */
