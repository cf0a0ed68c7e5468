/*-------------------------------------------------------------------------
 * subxact.h
 *	  Run a piece of work in an internal subtransaction and catch its error.
 *
 * IDENTIFICATION
 *	  src/subxact.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_SUBXACT_H
#define MIGR_SUBXACT_H

#include "postgres.h"

typedef void (*MigrSubxactFn) (void *arg);

extern ErrorData *migr_subxact_try(MigrSubxactFn fn, void *arg, bool keep,
								   bool catch_cancel);

#endif							/* MIGR_SUBXACT_H */
