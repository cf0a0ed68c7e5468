/*-------------------------------------------------------------------------
 * batch.h
 *	  Batch jobs (CALL migr.batch_update() and migr.batch()).
 *
 * IDENTIFICATION
 *	  src/batch.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_BATCH_H
#define MIGR_BATCH_H

extern void migr_batch_forget_revision(const char *rev);

#endif							/* MIGR_BATCH_H */
