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

/* Running steps one by one (CALL mode commits between them) */
typedef struct RunState MigrRun;

extern MigrRun *migr_run_begin(MigrGraph *g, int64 max_seq, int nsteps,
							   bool call_mode);
extern char *migr_run_heads(MigrRun *run);
extern MigrStepRecord *migr_run_steps(MigrRun *run, int *n);
extern void migr_run_flush(MigrRun *run, bool fingerprint);
extern void migr_run_snapshot(MigrRun *run);
extern void migr_run_refuse_irreversible(MigrGraph *g, MigrPlan *plan,
										 MigrBody *bodies);
extern bool migr_run_precheck(MigrRun *run, int x, MigrBody *b, bool upgrade);
extern void migr_run_verify(MigrRun *run, int x, MigrBody *b, bool upgrade);
extern void migr_run_record(MigrRun *run, int x, bool upgrade, bool skipped,
							bytea *checksum, TimestampTz start, int statements);
extern void migr_run_step(MigrRun *run, int x, MigrBody *b, bool upgrade,
						  MemoryContext stepcxt);

extern MigrStepRecord *migr_apply_plan(MigrGraph *g, int64 max_seq,
									   MigrPlan *plan, int *nsteps);
extern MigrStepRecord *migr_apply_stamp(MigrGraph *g, int64 max_seq,
										MigrStampPlan *stamp, int *nsteps);

#endif							/* MIGR_APPLY_H */
