/*-------------------------------------------------------------------------
 * guc.c
 *	  migr's settings, defined when the library loads; the "migr." prefix
 *	  is reserved, so a misspelt setting fails loudly.  docs/settings.md
 *	  explains each one and why its default is what it is.
 *
 * IDENTIFICATION
 *	  src/guc.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "guc.h"
#include "utils/guc.h"

/* wait for another runner's migration lock (off: fail at once, 55P03) */
bool		migr_lock_wait = true;

/* lock_timeout for every statement migr runs, in ms (0: the session's own) */
int			migr_lock_timeout = 5000;

/* migr's own limit on each statement it runs, in ms (0: none) */
int			migr_statement_timeout = 0;

/* CALL mode and committing batch jobs: retries after lock_not_available */
int			migr_lock_retries = 5;

/* CALL mode: the first back-off between such retries, in ms; it doubles */
int			migr_lock_retry_delay = 1000;

/* batch jobs: the interval between progress NOTICEs, in ms (0: none) */
int			migr_progress_interval = 5000;

void
migr_define_settings(void)
{
	DefineCustomBoolVariable("migr.lock_wait",
							 "Whether a migr runner waits for another runner's migration lock.",
							 "When off, a second runner fails at once with lock_not_available, naming the process that holds the lock.",
							 &migr_lock_wait, true,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("migr.lock_timeout",
							"Lock timeout for every statement migr runs.",
							"A statement that waits longer than this for a lock fails, so that it does not queue the application's queries behind it. Zero keeps the session's lock_timeout.",
							&migr_lock_timeout, 5000, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("migr.statement_timeout",
							"Time limit for each statement migr runs.",
							"Zero means no limit. Unlike statement_timeout, it applies to each statement of a revision, not to the whole call.",
							&migr_statement_timeout, 0, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("migr.lock_retries",
							"How often CALL migr.apply() and migr.revert() retry a revision, and a batch job a batch, that could not get a lock.",
							"Each retry rolls the revision back, waits, and runs it again; zero means no retries.",
							&migr_lock_retries, 5, 0, 1000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("migr.lock_retry_delay",
							"The wait before the first lock retry; each later wait doubles, up to a minute.",
							NULL,
							&migr_lock_retry_delay, 1000, 0, 60000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("migr.progress_interval",
							"How often a batch job reports its progress in a NOTICE.",
							"Rows done, the estimated total, rows per second and the time left. Zero turns the reports off; the view migr.progress shows the same at any time.",
							&migr_progress_interval, 5000, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	MarkGUCPrefixReserved("migr");
}
