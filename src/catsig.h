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

extern uint8 *migr_catalog_signature(void);

#endif							/* MIGR_CATSIG_H */
