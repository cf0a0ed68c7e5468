/*-------------------------------------------------------------------------
 * summary.h
 *	  migr.summary: the graph's verdicts kept for the common calls.
 *
 * IDENTIFICATION
 *	  src/summary.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_SUMMARY_H
#define MIGR_SUMMARY_H

#include "graph.h"

typedef struct MigrSummary
{
	int64		pending;		/* registered revisions not applied */
	int			graph_heads;	/* revisions with no child through a parent */
	int			ncurrent;
	char	  **current_heads;	/* migr.current()'s answer, in order */
} MigrSummary;

extern bool migr_summary_read(MemoryContext into, MigrSummary *sum);
extern void migr_summary_of(MigrGraph *g, MigrSummary *sum);
extern bool migr_summary_equal(const MigrSummary *a, const MigrSummary *b);
extern void migr_summary_write(MigrGraph *g);
extern bool migr_summary_noop_upgrade(const char *target);
extern void migr_summary_hold_stale(bool hold);

#endif							/* MIGR_SUMMARY_H */
