/*-------------------------------------------------------------------------
 * idxclean.h
 *	  Invalid indexes left by a failed concurrent index build (idxclean.c).
 *
 * IDENTIFICATION
 *	  src/idxclean.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_IDXCLEAN_H
#define MIGR_IDXCLEAN_H

#include "body.h"

typedef struct MigrIndexWatch MigrIndexWatch;

extern MigrIndexWatch *migr_index_watch(const char *rev, MigrStatement *st);
extern void migr_index_cleanup(const char *rev, MigrIndexWatch *w);

#endif							/* MIGR_IDXCLEAN_H */
