/*-------------------------------------------------------------------------
 * target.h
 *	  Resolve targets (head, heads, base, ids and prefixes, label@head,
 *	  relative steps) and compute which revisions an upgrade, downgrade or
 *	  stamp touches, in order.  No SPI.
 *
 * IDENTIFICATION
 *	  src/target.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_TARGET_H
#define MIGR_TARGET_H

#include "graph.h"

typedef struct MigrPlan
{
	bool		upgrade;
	int			nsteps;
	int		   *steps;			/* revision indexes in execution order */
} MigrPlan;

extern MigrPlan *migr_plan_upgrade(MigrGraph *g, const char *target);
extern MigrPlan *migr_plan_downgrade(MigrGraph *g, const char *target);
extern bool *migr_stamp_applied_set(MigrGraph *g, const char *target);
extern void migr_check_target_syntax(const char *target);

#endif							/* MIGR_TARGET_H */
