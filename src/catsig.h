/*-------------------------------------------------------------------------
 * catsig.h
 *	  The catalog signature, which tells migr.check() that the schema
 *	  description cannot have changed (see catsig.c).
 *
 * IDENTIFICATION
 *	  src/catsig.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_CATSIG_H
#define MIGR_CATSIG_H

#include "postgres.h"

/* Facts of the signed catalogs, recorded with the signature */
#define MIGR_CATSIG_INVALID_INDEX	0x01	/* some index is not valid */
#define MIGR_CATSIG_UNINDEXED_FKEY	0x02	/* some foreign key may lack an index */

/* a bytea, as uint8 *: callers pass it on to migr_catalog_save_snapshot() */
extern uint8 *migr_catalog_signature(void);
extern bool migr_catalog_signature_matches(bytea *recorded, uint32 *facts,
										   int *rehashed, int *pages);

#endif							/* MIGR_CATSIG_H */
