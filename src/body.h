/*-------------------------------------------------------------------------
 * body.h
 *	  Running revision SQL, and the re-entry guard.
 *
 * IDENTIFICATION
 *	  src/body.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_BODY_H
#define MIGR_BODY_H

#include "nodes/pg_list.h"

extern void migr_body_run(const char *rev, const char *direction,
						  const char *sql);
extern void migr_body_check(const char *rev, const char *which,
							const char *sql, List *stmts);
extern int	migr_body_execute(const char *rev, const char *sql, bool read_only,
							  long tcount);
extern void migr_body_refuse_reentry(const char *fn);

#endif							/* MIGR_BODY_H */
