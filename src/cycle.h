/*-------------------------------------------------------------------------
 * cycle.h
 *	  Keeping migr.migration_edge acyclic.
 *
 * IDENTIFICATION
 *	  src/cycle.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_CYCLE_H
#define MIGR_CYCLE_H

extern void migr_refuse_cycle(const char *revision, const char *target,
							  bool parent);
extern void migr_cycle_trigger_skip(bool skip);

#endif							/* MIGR_CYCLE_H */
