/*-------------------------------------------------------------------------
 * lock.c
 *	  The migration lock: a transaction-level advisory lock on one key per
 *	  database, the same lock as pg_advisory_xact_lock(1835624306), so a DBA
 *	  can see it in pg_locks and scripts can take it too.  Every call that
 *	  writes the catalog takes it before reading the catalog, so concurrent
 *	  runners serialise and the later ones see what the earlier ones did.
 *
 * IDENTIFICATION
 *	  src/lock.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "lock.h"
#include "miscadmin.h"
#include "storage/lock.h"

/*
 * migr_lock_acquire
 *		Take the migration lock for the rest of the transaction, waiting if
 *		another session holds it.  Under REPEATABLE READ or SERIALIZABLE the
 *		transaction's snapshot predates whatever the other session committed
 *		while we waited, so acting on it would apply revisions twice: report
 *		a serialization failure instead, which the caller can retry.
 */
void
migr_lock_acquire(void)
{
	LOCKTAG		tag;
	LockAcquireResult res;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId,
						 (uint32) (MIGR_LOCK_KEY >> 32),
						 (uint32) MIGR_LOCK_KEY, 1);
	res = LockAcquire(&tag, ExclusiveLock, false, true);
	if (res != LOCKACQUIRE_NOT_AVAIL)
		return;

	(void) LockAcquire(&tag, ExclusiveLock, false, false);
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent migr run"),
				 errdetail("Another session held the migration lock; this transaction's snapshot cannot see what it did."),
				 errhint("Retry the transaction.")));
}
