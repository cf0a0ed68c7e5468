/*-------------------------------------------------------------------------
 * script.h
 *	  What migr.script() (script.c) and the calls its scripts make
 *	  (scriptrun.c) must agree on.
 *
 * IDENTIFICATION
 *	  src/script.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_SCRIPT_H
#define MIGR_SCRIPT_H

#include "catalog.h"
#include "target.h"

extern bool migr_script_step_transactional(MigrGraph *g, MigrPlan *plan, int i,
										   int resume);
extern char *migr_script_digest(MigrGraph *g, MigrPlan *plan, MigrBody *bodies,
								const char *target, int resume);

#endif							/* MIGR_SCRIPT_H */
