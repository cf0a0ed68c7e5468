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

#include "nodes/nodes.h"
#include "nodes/pg_list.h"

/* One statement of a body */
typedef struct MigrStatement
{
	char	   *text;			/* the statement, leading space trimmed */
	char	   *excerpt;		/* one line of at most 200 bytes */
	Node	   *parsetree;		/* raw parse tree */
	const char *toplevel;		/* non-NULL: runs only at top level */
	bool		no_lock_timeout;	/* its lock waits block nobody */
	bool		commits;		/* CALL migr.batch_update() or migr.batch() */
} MigrStatement;

extern MigrStatement *migr_body_split(const char *rev, const char *direction,
									  const char *sql, int *n);
extern void migr_body_run_statement(const char *rev, const char *direction,
									int stmtno, MigrStatement *st,
									bool toplevel_ok);
extern int	migr_body_run(const char *rev, const char *direction,
						  const char *sql);
extern int	migr_body_failed_statement(const char **text);
extern void migr_body_run_toplevel(const char *rev, const char *sql,
								   bool no_lock_timeout);
extern char *migr_body_check(const char *rev, const char *which,
							 const char *sql, List *stmts);
extern int	migr_body_execute(const char *rev, const char *sql, bool read_only,
							  long tcount);
extern void migr_body_refuse_reentry(const char *fn);
extern void migr_body_mark_running(const char *rev);
extern const char *migr_body_running_revision(void);

#endif							/* MIGR_BODY_H */
