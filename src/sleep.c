/*-------------------------------------------------------------------------
 * sleep.c
 *	  Interruptible waits: the back-off before a retry and the pause
 *	  between batches.  A cancel or a termination ends the wait at once.
 *
 * IDENTIFICATION
 *	  src/sleep.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "sleep.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

/*
 * migr_sleep
 *		Wait ms milliseconds, answering interrupts.  Callers hold no
 *		snapshot and, where they can, no lock: they have just committed.
 */
void
migr_sleep(int64 ms)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);

		CHECK_FOR_INTERRUPTS();
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * migr_retry_delay
 *		The wait before retry number attempt + 1 after a lock was not
 *		available: migr.lock_retry_delay, doubled for each retry before it,
 *		at most a minute.
 */
int
migr_retry_delay(int attempt, int base_ms)
{
	int			delay = base_ms;

	for (int k = 0; k < attempt && delay < 60000; k++)
		delay *= 2;
	return Min(delay, 60000);
}
