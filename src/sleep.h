/*-------------------------------------------------------------------------
 * sleep.h
 *	  Interruptible waits.
 *
 * IDENTIFICATION
 *	  src/sleep.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_SLEEP_H
#define MIGR_SLEEP_H

extern void migr_sleep(int64 ms);
extern int	migr_retry_delay(int attempt, int base_ms);

#endif							/* MIGR_SLEEP_H */
