/*-------------------------------------------------------------------------
 * lock.c
 *	  The migration lock: an advisory lock on one key per database, the
 *	  same lock as pg_advisory_lock(1835624306), so a DBA can see it in
 *	  pg_locks and scripts can take it too.  Every call that writes the
 *	  catalog takes it before reading the catalog, so concurrent runners
 *	  serialise and the later ones see what the earlier ones did.  The
 *	  functions hold it for their transaction; CALL migr.apply() and
 *	  migr.revert(), which commit as they go, hold it for the session until
 *	  they return, with a share lock on the extension itself, so that DROP
 *	  EXTENSION waits for them to finish.  With migr.lock_wait off, a runner that finds it taken
 *	  fails at once, naming the process that holds it.
 *
 * IDENTIFICATION
 *	  src/lock.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "guc.h"
#include "lock.h"
#include "miscadmin.h"
#include "sqlcall.h"
#include "storage/lock.h"

static void
set_tag(LOCKTAG *tag)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId,
						 (uint32) (MIGR_LOCK_KEY >> 32),
						 (uint32) MIGR_LOCK_KEY, 1);
}

/*
 * migr_lock_advisory_holder
 *		The process holding the advisory lock (key1, key2, objsubid) of this
 *		database, as pg_locks shows it: objsubid 1 for a lock taken with one
 *		bigint key (key1 its high half), 2 for one taken with two int4 keys.
 *		0 if it was let go meanwhile.  The caller holds an SPI connection.
 */
int
migr_lock_advisory_holder(uint32 key1, uint32 key2, int objsubid)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {OIDOID, OIDOID, OIDOID, INT2OID};
	Datum		values[4];
	bool		isnull;

	values[0] = ObjectIdGetDatum(MyDatabaseId);
	values[1] = ObjectIdGetDatum((Oid) key1);
	values[2] = ObjectIdGetDatum((Oid) key2);
	values[3] = Int16GetDatum((int16) objsubid);
	migr_run_kept(&plan,
				  "SELECT l.pid FROM pg_catalog.pg_locks l"
				  " WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'"
				  "   AND l.database OPERATOR(pg_catalog.=) $1"
				  "   AND l.classid OPERATOR(pg_catalog.=) $2"
				  "   AND l.objid OPERATOR(pg_catalog.=) $3"
				  "   AND l.objsubid OPERATOR(pg_catalog.=) $4 AND l.granted",
				  4, types, values, NULL, true, 1, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return 0;
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
}

/* The process holding the migration lock (0 if it was let go meanwhile) */
static int
holder_pid(void)
{
	return migr_lock_advisory_holder((uint32) (MIGR_LOCK_KEY >> 32),
									 (uint32) MIGR_LOCK_KEY, 1);
}

static void
acquire(bool session)
{
	LOCKTAG		tag;
	int			pid;

	set_tag(&tag);
	if (LockAcquire(&tag, ExclusiveLock, session, true) != LOCKACQUIRE_NOT_AVAIL)
		return;
	if (!migr_lock_wait)
	{
		pid = holder_pid();
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 pid > 0
				 ? errmsg("another migr runner holds the migration lock: process %d", pid)
				 : errmsg("another migr runner holds the migration lock"),
				 errdetail("migr.lock_wait is off, so this runner does not wait for it."),
				 errhint("Wait for that run to finish, or set migr.lock_wait to on to queue behind it.")));
	}
	(void) LockAcquire(&tag, ExclusiveLock, session, false);
	if (!session && IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent migr run"),
				 errdetail("Another session held the migration lock; this transaction's snapshot cannot see what it did."),
				 errhint("Retry the transaction.")));
}

/*
 * migr_lock_acquire
 *		Take the migration lock for the rest of the transaction, waiting if
 *		another session holds it (unless migr.lock_wait is off).  Under
 *		REPEATABLE READ or SERIALIZABLE the transaction's snapshot predates
 *		whatever the other session committed while we waited, so acting on
 *		it would apply revisions twice: report a serialization failure
 *		instead, which the caller can retry.  The caller holds SPI.
 */
void
migr_lock_acquire(void)
{
	acquire(false);
}

static void
set_extension_tag(LOCKTAG *tag, Oid ext)
{
	SET_LOCKTAG_OBJECT(*tag, MyDatabaseId, ExtensionRelationId, ext, 0);
}

/*
 * migr_lock_acquire_session
 *		Take the migration lock until migr_lock_release_session(), across
 *		commits, and a share lock on the extension that DROP EXTENSION
 *		waits for.  The caller commits before reading the catalog, so its
 *		snapshot is taken after the wait.  The caller holds SPI.  Returns
 *		the extension's OID, for the release.
 */
Oid
migr_lock_acquire_session(void)
{
	LOCKTAG		tag;
	Oid			ext = get_extension_oid("migr", false);

	acquire(true);
	set_extension_tag(&tag, ext);
	(void) LockAcquire(&tag, AccessShareLock, true, false);
	return ext;
}

/*
 * migr_lock_extension_session
 *		A share lock on the extension for the session, which DROP EXTENSION
 *		waits for: a batch job that commits as it goes keeps its catalog
 *		table from being dropped between two batches.  Returns the
 *		extension's OID, for migr_unlock_extension_session().
 */
Oid
migr_lock_extension_session(void)
{
	LOCKTAG		tag;
	Oid			ext = get_extension_oid("migr", false);

	set_extension_tag(&tag, ext);
	(void) LockAcquire(&tag, AccessShareLock, true, false);
	return ext;
}

void
migr_unlock_extension_session(Oid ext)
{
	LOCKTAG		tag;

	set_extension_tag(&tag, ext);
	LockRelease(&tag, AccessShareLock, true);
}

/*
 * migr_lock_held_session
 *		Whether this session still holds the migration lock: revision SQL
 *		can let go of it (pg_advisory_unlock_all()).
 */
bool
migr_lock_held_session(void)
{
	LOCKTAG		tag;

	set_tag(&tag);
	return LockHeldByMe(&tag, ExclusiveLock);
}

void
migr_lock_release_session(Oid ext)
{
	LOCKTAG		tag;

	set_tag(&tag);
	if (LockHeldByMe(&tag, ExclusiveLock))
		LockRelease(&tag, ExclusiveLock, true);
	set_extension_tag(&tag, ext);
	if (LockHeldByMe(&tag, AccessShareLock))
		LockRelease(&tag, AccessShareLock, true);
}
