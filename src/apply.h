/*-------------------------------------------------------------------------
 * apply.h
 *	  Running a plan: revision bodies through SPI, the bookkeeping of the
 *	  applied set and current heads, step records and result rows.
 *
 * IDENTIFICATION
 *	  src/apply.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_APPLY_H
#define MIGR_APPLY_H

#include "funcapi.h"
#include "target.h"

extern void migr_apply_plan(MigrGraph *g, int64 max_seq, MigrPlan *plan,
							ReturnSetInfo *rsinfo);
extern void migr_apply_run_body(const char *rev, const char *direction,
								const char *sql);
extern void migr_apply_check_body(const char *rev, const char *which,
								  const char *sql, List *stmts);
extern int	migr_apply_execute(const char *rev, const char *sql, bool read_only,
							   long tcount);
extern void migr_apply_refuse_reentry(const char *fn);
extern void migr_apply_stamp(MigrGraph *g, int64 max_seq, const bool *applied_after,
							 ReturnSetInfo *rsinfo);

#endif							/* MIGR_APPLY_H */
