/*-------------------------------------------------------------------------
 * apply.h
 *	  Running a plan: revision bodies and checks, the bookkeeping of the
 *	  applied set and current heads, and the step records.
 *
 * IDENTIFICATION
 *	  src/apply.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_APPLY_H
#define MIGR_APPLY_H

#include "catalog.h"
#include "target.h"

extern MigrStepRecord *migr_apply_plan(MigrGraph *g, int64 max_seq,
									   MigrPlan *plan, int *nsteps);
extern MigrStepRecord *migr_apply_stamp(MigrGraph *g, int64 max_seq,
										MigrStampPlan *stamp, int *nsteps);

#endif							/* MIGR_APPLY_H */
