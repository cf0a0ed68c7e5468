/*-------------------------------------------------------------------------
 * guc.h
 *	  migr's settings (see guc.c and docs/settings.md).
 *
 * IDENTIFICATION
 *	  src/guc.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_GUC_H
#define MIGR_GUC_H

extern bool migr_lock_wait;
extern int	migr_lock_timeout;
extern int	migr_statement_timeout;
extern int	migr_lock_retries;
extern int	migr_lock_retry_delay;
extern int	migr_progress_interval;

extern void migr_define_settings(void);

#endif							/* MIGR_GUC_H */
