/*-------------------------------------------------------------------------
 * subxact.c
 *	  Run a piece of work in an internal subtransaction, the way PL/pgSQL
 *	  runs a block with an EXCEPTION clause: on error, copy the error, roll
 *	  the subtransaction back and return the copy; otherwise keep the work
 *	  (release the subtransaction into its parent) or undo it.
 *
 *	  Used where a failure is an answer rather than the end of the call: a
 *	  check that cannot be typed yet at registration, a check the readers
 *	  cannot evaluate, a stairway step whose SQL raises.  SPI connections
 *	  made by the caller stay usable afterwards.
 *
 * IDENTIFICATION
 *	  src/subxact.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "subxact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

/*
 * migr_subxact_try
 *		Call fn(arg) in a new subtransaction.  keep: release it into the
 *		parent on success (otherwise it is always rolled back).  Returns NULL
 *		on success, or the error, copied into the caller's memory context.
 *		A cancel (57014: pg_cancel_backend, statement_timeout,
 *		migr.statement_timeout) is raised again after the rollback unless
 *		catch_cancel: it stops the call rather than being an answer.
 *		Allocations fn makes in the current context survive either way.
 */
ErrorData *
migr_subxact_try(MigrSubxactFn fn, void *arg, bool keep, bool catch_cancel)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		fn(arg);
		if (keep)
			ReleaseCurrentSubTransaction();
		else
			RollbackAndReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	/* a cancel or a timeout is the caller's to see, not an answer */
	if (edata && !catch_cancel && edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		ReThrowError(edata);
	return edata;
}
