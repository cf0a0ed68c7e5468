/*-------------------------------------------------------------------------
 * regbatch.h
 *	  Registration of many new revisions in a few statements
 *	  (migr.load_all()).
 *
 * IDENTIFICATION
 *	  src/regbatch.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_REGBATCH_H
#define MIGR_REGBATCH_H

#include "catalog.h"

typedef struct MigrRegBatch MigrRegBatch;

extern MigrRegBatch *migr_regbatch_begin(MemoryContext cxt);
extern void migr_regbatch_prefetch(MigrRegBatch *b, char **names, int n);
extern bool migr_regbatch_takes(MigrRegBatch *b, const MigrNewRevision *rev);
extern void migr_regbatch_lookup(MigrRegBatch *b, char **names, int n,
								 bool *is_id, char **label_owner,
								 MemoryContext into);
extern void migr_regbatch_add(MigrRegBatch *b, const MigrNewRevision *rev);
extern int	migr_regbatch_size(const MigrRegBatch *b);
extern void migr_regbatch_flush(MigrRegBatch *b);

#endif							/* MIGR_REGBATCH_H */
