/*-------------------------------------------------------------------------
 * progress.h
 *	  Where non-transactional revisions stand, and which revision a CALL
 *	  runs (see progress.c).
 *
 * IDENTIFICATION
 *	  src/progress.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_PROGRESS_H
#define MIGR_PROGRESS_H

#include "graph.h"
#include "target.h"

/* A row of migr.revision_progress */
typedef struct MigrProgress
{
	char	   *revision;
	bool		upgrade;		/* direction */
	int			done;			/* statements run and committed */
	int			total;
	bytea	   *checksum;
} MigrProgress;

extern MigrProgress *migr_progress_get(MemoryContext into);
extern MigrProgress *migr_refuse_unfinished(MigrGraph *g, MigrPlan *plan,
											 bool call_mode);
extern void migr_progress_save(const char *rev, bool upgrade, int done,
							   int total, bytea *checksum);
extern void migr_progress_clear(const char *rev);

extern void migr_run_marker_start(bool upgrade, const char *target, int steps);
extern void migr_run_marker_step(int step, const char *rev, bool upgrade);
extern void migr_run_marker_end(void);

#endif							/* MIGR_PROGRESS_H */
