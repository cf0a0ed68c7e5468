/*-------------------------------------------------------------------------
 * stmtguard.c
 *	  Lock safety for each statement migr runs for a revision (a body
 *	  statement or a check), see docs/settings.md:
 *
 *	  - lock_timeout is migr.lock_timeout while the statement runs (a
 *	    GUC nest level of its own, popped afterwards, error or not), so an
 *	    ALTER that cannot get its lock gives up instead of queueing the
 *	    application's queries behind it;
 *	  - a lock timeout (55P03) gets an errdetail naming the lock and the
 *	    processes that held it or were queued ahead for it;
 *	  - migr.statement_timeout limits each statement, through a timer of
 *	    our own: the server's statement_timeout is armed once per
 *	    top-level statement, so setting it here would limit nothing.
 *
 *	  PostgreSQL's lock-timeout error does not say which lock timed out,
 *	  and by the time it is raised the backend has left the wait queue.  So
 *	  while a statement runs a periodic probe (a timeout handler, run in the
 *	  SIGALRM handler) copies MyProc's awaited lock tag, mode and wait start
 *	  into static variables; it only reads this backend's PGPROC, and a LOCK
 *	  that the backend waits for cannot be freed under it.  The probe runs at
 *	  a quarter of lock_timeout, so every wait long enough to time out is
 *	  seen at least three times.  After a lock timeout the wait the probe saw
 *	  is the one that timed out exactly when its start equals the start time
 *	  of the LOCK_TIMEOUT timer (ProcSleep arms both from one clock reading);
 *	  the holders are then read from the lock table, as pg_locks does.
 *
 *	  Nothing here runs SQL.  The error path reads the catalog only to name
 *	  a user relation, and only after a lock timeout: that error comes from
 *	  ProcessInterrupts with no LWLock held (interrupts were not held off)
 *	  and the transaction still in progress; a failed lookup falls back to
 *	  PostgreSQL's own OID-based description, as its deadlock report uses.
 *
 * IDENTIFICATION
 *	  src/stmtguard.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/transam.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "guc.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "stmtguard.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timeout.h"

/* the untranslated messages of ProcessInterrupts (ErrorData.message_id) */
#define LOCK_TIMEOUT_MSGID	"canceling statement due to lock timeout"
#define USER_CANCEL_MSGID	"canceling statement due to user request"
#define LIMIT_MSG			"canceling statement due to migr.statement_timeout"

/* shortest probe interval, in ms: below it the probe would cost too much */
#define MIN_PROBE_MS		5

/* registered on first use in this backend; MAX_TIMEOUTS: not yet */
static TimeoutId probe_timeout = MAX_TIMEOUTS;
static TimeoutId limit_timeout = MAX_TIMEOUTS;

/* > 0 while a guarded statement runs; nested statements run unguarded */
static int	guard_depth = 0;

/*
 * Written by the timeout handlers (signal context), read only with the
 * timers disabled.
 */
static volatile sig_atomic_t probe_seen = false;
static LOCKTAG probe_tag;
static LOCKMODE probe_mode;
static TimestampTz probe_wait_start;
static volatile sig_atomic_t limit_fired = false;

/* the processes behind the last lock timeout, in TopMemoryContext */
static int *last_blockers = NULL;
static int	n_last_blockers = 0;

/*
 * Timeout handler: note the lock this backend waits for, if any.  Signal
 * context: no allocation, no locks, only this backend's PGPROC is read.
 */
static void
probe_handler(void)
{
	volatile PGPROC *proc = MyProc;
	LOCK	   *lock;

	if (proc == NULL)
		return;
	lock = proc->waitLock;
	if (lock == NULL)
		return;
	probe_tag = lock->tag;
	probe_mode = proc->waitLockMode;
#ifndef PG_HAVE_ATOMIC_U64_SIMULATION
	probe_wait_start = (TimestampTz)
		pg_atomic_read_u64((pg_atomic_uint64 *) &proc->waitStart);
#else
	/* the emulated read takes a spinlock: not in a signal handler */
	probe_wait_start = 0;
#endif
	probe_seen = true;
}

/*
 * Timeout handler: migr.statement_timeout has passed.  Ask for a query
 * cancel, as the server's own statement_timeout does (also signalling the
 * process group, so a program that COPY runs stops too); migr_guard_run
 * turns the resulting 57014 into its own message.
 */
static void
limit_handler(void)
{
	limit_fired = true;
#ifdef HAVE_SETSID
	kill(-MyProcPid, SIGINT);
#endif
	InterruptPending = true;
	QueryCancelPending = true;
	SetLatch(MyLatch);
}

static void
register_timeouts(void)
{
	if (probe_timeout == MAX_TIMEOUTS)
		probe_timeout = RegisterTimeout(USER_TIMEOUT, probe_handler);
	if (limit_timeout == MAX_TIMEOUTS)
		limit_timeout = RegisterTimeout(USER_TIMEOUT, limit_handler);
}

static int
pid_order(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	/* prepared transactions (pid 0) last */
	if ((x == 0) != (y == 0))
		return x == 0 ? 1 : -1;
	return (x > y) - (x < y);
}

static bool
pid_in(const int *pids, int n, int pid)
{
	for (int i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/*
 * The processes that stood between this backend and the lock (tag, mode)
 * it waited for since my_start, as pg_blocking_pids sees them: those
 * holding a conflicting mode (*held), and those waiting for a conflicting
 * mode since before us (*queued, not repeating *held).  A process in a
 * parallel group is named by its leader; a prepared transaction is pid 0.
 * Arrays palloc'd in the current context, sorted.
 */
static void
find_blockers(const LOCKTAG *tag, LOCKMODE mode, TimestampTz my_start,
			  int **held, int *nheld, int **queued, int *nqueued)
{
	LockMethod	method = GetLockTagsMethodTable(tag);
	LOCKMASK	conflicts;
	LockData   *data;
	int		   *h,
			   *q;
	int			nh = 0,
				nq = 0;

	*held = *queued = NULL;
	*nheld = *nqueued = 0;
	if (mode <= NoLock || mode > method->numLockModes)
		return;
	conflicts = method->conflictTab[mode];
	data = GetLockStatusData();
	h = palloc(sizeof(int) * (data->nelements + 1));
	q = palloc(sizeof(int) * (data->nelements + 1));
	for (int i = 0; i < data->nelements; i++)
	{
		LockInstanceData *li = &data->locks[i];
		int			pid = li->leaderPid;

		if (memcmp(&li->locktag, tag, sizeof(LOCKTAG)) != 0)
			continue;
		if (li->pid == MyProcPid || li->leaderPid == MyProcPid)
			continue;
		if (li->holdMask & conflicts)
		{
			if (!pid_in(h, nh, pid))
				h[nh++] = pid;
		}
		else if (li->waitLockMode != NoLock &&
				 (conflicts & LOCKBIT_ON(li->waitLockMode)) &&
				 my_start != 0 && li->waitStart != 0 &&
				 li->waitStart < my_start)
		{
			if (!pid_in(q, nq, pid))
				q[nq++] = pid;
		}
	}
	/* a process holding one mode and queued for another is a holder */
	for (int i = 0; i < nq; i++)
		if (pid_in(h, nh, q[i]))
			q[i--] = q[--nq];
	qsort(h, nh, sizeof(int), pid_order);
	qsort(q, nq, sizeof(int), pid_order);
	pfree(data->locks);
	pfree(data);
	*held = h;
	*nheld = nh;
	*queued = q;
	*nqueued = nq;
}

/*
 * The locked object in words.  A user relation of this database is named
 * (see the file header for why the catalog may be read here); anything
 * else is described as PostgreSQL's deadlock report does, without catalog
 * access.
 */
static char *
describe_lock(const LOCKTAG *tag)
{
	StringInfoData buf;
	MemoryContext cxt = CurrentMemoryContext;

	initStringInfo(&buf);
	if (tag->locktag_type == LOCKTAG_RELATION &&
		tag->locktag_field1 == MyDatabaseId &&
		tag->locktag_field2 >= FirstNormalObjectId &&
		IsTransactionState())
	{
		Oid			relid = tag->locktag_field2;
		char	   *volatile rel = NULL;
		char	   *volatile nsp = NULL;

		PG_TRY();
		{
			rel = get_rel_name(relid);
			if (rel)
				nsp = get_namespace_name(get_rel_namespace(relid));
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(cxt);
			FlushErrorState();
			rel = nsp = NULL;
		}
		PG_END_TRY();
		if (rel && nsp)
		{
			appendStringInfo(&buf, "relation \"%s.%s\"", nsp, rel);
			return buf.data;
		}
	}
	DescribeLockTag(&buf, tag);
	return buf.data;
}

/* "process 1, process 2 and a prepared transaction" */
static void
append_pids(StringInfo buf, const int *pids, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, i == n - 1 ? " and " : ", ");
		if (pids[i] == 0)
			appendStringInfoString(buf, "a prepared transaction");
		else
			appendStringInfo(buf, "process %d", pids[i]);
	}
}

/* Append a sentence to buf, starting it with a capital letter. */
static void
append_sentence(StringInfo buf, const char *s)
{
	if (buf->len > 0)
		appendStringInfoChar(buf, ' ');
	appendStringInfoChar(buf, pg_toupper((unsigned char) s[0]));
	appendStringInfoString(buf, s + 1);
}

static void
set_last_blockers(const int *held, int nheld, const int *queued, int nqueued)
{
	if (last_blockers)
		pfree(last_blockers);
	last_blockers = NULL;
	n_last_blockers = 0;
	if (nheld + nqueued == 0)
		return;
	last_blockers = MemoryContextAlloc(TopMemoryContext,
									   sizeof(int) * (nheld + nqueued));
	memcpy(last_blockers, held, sizeof(int) * nheld);
	memcpy(last_blockers + nheld, queued, sizeof(int) * nqueued);
	n_last_blockers = nheld + nqueued;
}

/*
 * After a lock timeout: if the probe saw the wait that timed out, note its
 * blockers for migr_guard_last_blockers and explain them in edata's detail.
 * The error state has been flushed; edata is in the current context.
 */
static void
explain_lock_timeout(ErrorData *edata)
{
	LOCKTAG		tag = probe_tag;
	int		   *held,
			   *queued;
	int			nheld,
				nqueued;
	StringInfoData detail;
	StringInfoData s;

	set_last_blockers(NULL, 0, NULL, 0);
	if (!probe_seen ||
		(probe_wait_start != 0 &&
		 probe_wait_start != get_timeout_start_time(LOCK_TIMEOUT)))
		return;
	find_blockers(&tag, probe_mode, probe_wait_start,
				  &held, &nheld, &queued, &nqueued);
	set_last_blockers(held, nheld, queued, nqueued);

	initStringInfo(&detail);
	if (edata->detail)
		appendStringInfoString(&detail, edata->detail);
	initStringInfo(&s);
	appendStringInfo(&s, "the statement waited for %s on %s.",
					 GetLockmodeName(tag.locktag_lockmethodid, probe_mode),
					 describe_lock(&tag));
	append_sentence(&detail, s.data);
	if (nheld > 0)
	{
		resetStringInfo(&s);
		append_pids(&s, held, nheld);
		appendStringInfoString(&s, nheld == 1 ? " held a conflicting lock."
							   : " held conflicting locks.");
		append_sentence(&detail, s.data);
	}
	if (nqueued > 0)
	{
		resetStringInfo(&s);
		append_pids(&s, queued, nqueued);
		appendStringInfo(&s, " %s ahead of it in the lock queue.",
						 nqueued == 1 ? "was" : "were");
		append_sentence(&detail, s.data);
	}
	if (nheld + nqueued == 0)
		append_sentence(&detail, "no other process held or awaited a conflicting lock when the wait ended.");
	edata->detail = detail.data;
}

/*
 * migr_guard_run
 *		Run fn(arg), one statement migr runs for a revision, under
 *		migr.lock_timeout and migr.statement_timeout (see the file header).
 *		Errors from fn propagate; two are reworded on the way:
 *		  - 55P03 from lock_timeout gains a detail naming the lock and its
 *		    blockers, which migr_guard_last_blockers then returns;
 *		  - 57014 caused by migr.statement_timeout says so (a cancel by the
 *		    user or by the server's statement_timeout is left as it is).
 *		Both timers are off and lock_timeout is restored on every exit.  A
 *		statement run from within a guarded one (revision SQL calling
 *		migr.plan(), which evaluates checks) runs under the outer guard.
 *
 *		fn must not end the transaction: the GUC nest level is popped after
 *		it (SPI_execute refuses transaction control, SPI_ERROR_TRANSACTION).
 */
void
migr_guard_run(MigrGuardFn fn, void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile int nestlevel = 0;
	int			limit_ms = migr_statement_timeout;
	EnableTimeoutParams on[2];
	DisableTimeoutParams off[2];
	volatile int non = 0;

	if (guard_depth > 0)
	{
		fn(arg);
		return;
	}
	register_timeouts();

	if (migr_lock_timeout > 0)
	{
		char		value[32];

		nestlevel = NewGUCNestLevel();
		snprintf(value, sizeof(value), "%d", migr_lock_timeout);
		(void) set_config_option("lock_timeout", value,
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	}
	probe_seen = false;
	limit_fired = false;
	if (LockTimeout > 0)
	{
		on[non].id = probe_timeout;
		on[non].type = TMPARAM_EVERY;
		on[non].delay_ms = Max(LockTimeout / 4, MIN_PROBE_MS);
		on[non].fin_time = 0;
		non++;
	}
	if (limit_ms > 0)
	{
		on[non].id = limit_timeout;
		on[non].type = TMPARAM_AFTER;
		on[non].delay_ms = limit_ms;
		on[non].fin_time = 0;
		non++;
	}
	off[0].id = probe_timeout;
	off[0].keep_indicator = false;
	off[1].id = limit_timeout;
	off[1].keep_indicator = false;

	guard_depth++;
	PG_TRY();
	{
		if (non > 0)
			enable_timeouts(on, non);
		fn(arg);
		if (non > 0)
			disable_timeouts(off, 2);
		/* a cancel the limit asked for as the statement ended lands here */
		CHECK_FOR_INTERRUPTS();
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		bool		limit_cancel = false;
		bool		reworded = false;

		disable_timeouts(off, 2);
		guard_depth--;
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && limit_fired &&
			edata->message_id &&
			strcmp(edata->message_id, USER_CANCEL_MSGID) == 0)
		{
			FlushErrorState();
			edata->message = pstrdup(LIMIT_MSG);
			/* not copied by ReThrowError: a constant */
			edata->message_id = LIMIT_MSG;
			edata->detail = psprintf("The statement ran for more than %d ms, the limit migr.statement_timeout sets on each statement migr runs.",
									 limit_ms);
			limit_cancel = reworded = true;
		}
		else if (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
		{
			if (edata->message_id &&
				strcmp(edata->message_id, LOCK_TIMEOUT_MSGID) == 0)
			{
				FlushErrorState();
				explain_lock_timeout(edata);
				reworded = true;
			}
			else
				set_last_blockers(NULL, 0, NULL, 0);
		}
		/*
		 * The limit fired after the statement had failed otherwise: drop
		 * the cancel it asked for, or it would hit whatever runs next.
		 */
		if (limit_fired && !limit_cancel)
			QueryCancelPending = false;
		if (nestlevel > 0)
			AtEOXact_GUC(false, nestlevel);
		if (reworded)
			ReThrowError(edata);
		FreeErrorData(edata);
		PG_RE_THROW();
	}
	PG_END_TRY();
	guard_depth--;
	if (nestlevel > 0)
		AtEOXact_GUC(true, nestlevel);
}

typedef struct SpiArgs
{
	const char *sql;
	bool		read_only;
	long		tcount;
	int			rc;
} SpiArgs;

static void
spi_execute(void *arg)
{
	SpiArgs    *a = (SpiArgs *) arg;

	a->rc = SPI_execute(a->sql, a->read_only, a->tcount);
}

/*
 * migr_guard_spi_execute
 *		SPI_execute(sql, read_only, tcount) under migr_guard_run.
 */
int
migr_guard_spi_execute(const char *sql, bool read_only, long tcount)
{
	SpiArgs		a = {sql, read_only, tcount, 0};

	migr_guard_run(spi_execute, &a);
	return a.rc;
}

/*
 * migr_guard_last_blockers
 *		The processes behind the last lock timeout of a statement migr ran in
 *		this backend: holders of a conflicting lock, then those queued ahead
 *		(0 stands for a prepared transaction).  Empty (NULL, *n = 0) when the
 *		last lock_not_available error had none to name, as after NOWAIT.
 *		The array is palloc'd in the current memory context.
 */
int *
migr_guard_last_blockers(int *n)
{
	int		   *copy;

	*n = n_last_blockers;
	if (n_last_blockers == 0)
		return NULL;
	copy = palloc(sizeof(int) * n_last_blockers);
	memcpy(copy, last_blockers, sizeof(int) * n_last_blockers);
	return copy;
}

/*
 * migr_guard_lock_timeout
 *		The lock_timeout, in ms, migr's statements run with:
 *		migr.lock_timeout, or when that is 0 the session's lock_timeout
 *		(0 then means no limit).
 */
int
migr_guard_lock_timeout(void)
{
	return migr_lock_timeout > 0 ? migr_lock_timeout : LockTimeout;
}
