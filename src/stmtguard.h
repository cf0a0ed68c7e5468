/*-------------------------------------------------------------------------
 * stmtguard.h
 *	  Lock safety for each statement migr runs: migr.lock_timeout,
 *	  migr.statement_timeout, and the processes behind a lock timeout.
 *
 * IDENTIFICATION
 *	  src/stmtguard.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_STMTGUARD_H
#define MIGR_STMTGUARD_H

typedef void (*MigrGuardFn) (void *arg);

extern void migr_guard_run(MigrGuardFn fn, void *arg);
extern int	migr_guard_spi_execute(const char *sql, bool read_only,
								   long tcount);
extern int *migr_guard_last_blockers(int *n);
extern int	migr_guard_lock_timeout(void);

#endif							/* MIGR_STMTGUARD_H */
