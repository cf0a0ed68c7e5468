/*-------------------------------------------------------------------------
 * worker.c
 *	  Run one SQL statement at top level in a dynamic background worker.
 *
 *	  Some statements refuse to run inside a transaction block or a function
 *	  (CREATE INDEX CONCURRENTLY, VACUUM, ALTER SYSTEM, CREATE DATABASE, ...),
 *	  so a procedure cannot run them through SPI.  The caller commits, then
 *	  hands the statement to a background worker that runs it the way a
 *	  client's simple query runs, with isTopLevel = true, as the caller's
 *	  current user in the caller's database, and waits for the worker.
 *
 *	  The worker's notices reach the caller as if raised there; its error is
 *	  raised in the caller with the original SQLSTATE.  While waiting, the
 *	  caller holds no snapshot and touches no catalog: CREATE INDEX
 *	  CONCURRENTLY waits for every older snapshot, its caller's included.
 *	  Cancelling the caller cancels the worker; the caller's exit ends it.
 *	  Nothing here needs shared_preload_libraries.
 *
 *	  The caller's side never runs SQL; the worker's side never returns to
 *	  the caller except through the message queue.
 *
 * IDENTIFICATION
 *	  src/worker.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/dest.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/ps_status.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "worker.h"

/* The postmaster finds the worker's entry point by this name. */
PGDLLEXPORT void migr_worker_main(Datum main_arg);

#define MIGR_WORKER_MAGIC		UINT64CONST(0x6d696772776b7231)
#define MIGR_WORKER_KEY_SHARED	1
#define MIGR_WORKER_KEY_SQL		2
#define MIGR_WORKER_KEY_GUCS	3
#define MIGR_WORKER_KEY_QUEUE	4

/*
 * Room for the worker's messages.  A message larger than this still gets
 * through (the queue passes it in pieces while the caller reads), but a
 * typical error fits whole, so an exiting worker need not wait for reads.
 */
#define MIGR_WORKER_QUEUE_SIZE	16384

/* How long a cancelled caller waits for the worker after SIGINT, then SIGTERM */
#define MIGR_WORKER_CANCEL_WAIT_MS		5000
#define MIGR_WORKER_TERMINATE_WAIT_MS	5000

/* Context line added to every message relayed from the worker */
#define MIGR_WORKER_CONTEXT \
	"statement run at top level by a migr background worker"

/*
 * Settings copied from the caller to the worker as they stand, besides the
 * three in MigrWorkerSettings: what the client is shown, how values are
 * written, where new relations and sorts go, and the memory an index build
 * may use.  A worker is a fresh session otherwise: it starts from the
 * server's, the database's and the session user's defaults.
 */
static const char *const migr_worker_copied_settings[] = {
	"client_min_messages",
	"DateStyle",
	"IntervalStyle",
	"TimeZone",
	"default_tablespace",
	"temp_tablespaces",
	"maintenance_work_mem",
	"max_parallel_maintenance_workers",
	"work_mem",
};

#define MIGR_WORKER_NCOPIED lengthof(migr_worker_copied_settings)

/*
 * Fixed part of the shared segment.  The caller writes it before starting
 * the worker; afterwards only the worker writes, and only "started".
 */
typedef struct MigrWorkerShared
{
	Oid			database_id;
	Oid			authenticated_user_id;	/* the worker connects as this */
	Oid			session_user_id;
	Oid			current_user_id;	/* the statement runs as this role */
	pid_t		caller_pid;
	bool		has_search_path;
	int			lock_timeout_ms;
	int			statement_timeout_ms;
	bool		started;		/* the worker is about to run the statement */
} MigrWorkerShared;

/*
 * Caller-side record that lives until the segment is detached, in
 * TopMemoryContext, so that the detach callback can still use it when the
 * caller's transaction or process ends abruptly.  The callback frees it.
 */
typedef struct MigrWorkerGuard
{
	BackgroundWorkerHandle *handle;
	bool		stopped;		/* the postmaster reported the worker gone */
} MigrWorkerGuard;

/* Caller-side state of one run. */
typedef struct MigrWorkerWait
{
	MigrWorkerGuard *guard;
	shm_mq_handle *mqh;
	const char *sql;			/* for a cursor position in a message */
	MemoryContext errcxt;		/* holds the worker's error until raised */
	MemoryContext msgcxt;		/* reset after each relayed message */
	ErrorData  *error;			/* the worker's ERROR or FATAL, if any */
	bool		finished;		/* the worker reported the statement done */
} MigrWorkerWait;

static void migr_worker_guard_detach(dsm_segment *seg, Datum arg);
static void migr_worker_wait(MigrWorkerWait *w);
static void migr_worker_stop(MigrWorkerWait *w);
static void migr_worker_drain(MigrWorkerWait *w, bool discard);
static void migr_worker_relay(MigrWorkerWait *w, StringInfo msg);
static void migr_worker_apply_settings(MigrWorkerShared *shared,
									   const char *gucs,
									   const char *search_path);
static void migr_worker_execute(const char *sql);


/*
 * migr_worker_run
 *		Run sql in a new background worker and wait until the worker has
 *		exited, relaying its notices as they come.  Returns when the statement
 *		has been committed; otherwise raises the worker's error (its SQLSTATE,
 *		message, detail, hint and context, plus one context line naming the
 *		worker), or the caller's own error if the caller was cancelled, after
 *		the worker has stopped.
 *
 *		The caller must hold no snapshot and no lock the statement needs, and
 *		must not be in a transaction block.  Allocates in the current memory
 *		context and a dynamic shared memory segment owned by the current
 *		resource owner.
 */
void
migr_worker_run(const char *sql, const MigrWorkerSettings *settings)
{
	MemoryContext callercxt = CurrentMemoryContext;
	const char *search_path = settings ? settings->search_path : NULL;
	StringInfoData gucs;
	shm_toc_estimator e;
	Size		segsize;
	dsm_segment *seg;
	shm_toc    *toc;
	MigrWorkerShared *shared;
	char	   *space;
	shm_mq	   *mq;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	MigrWorkerGuard *guard;
	MigrWorkerWait w;
	MemoryContext oldcxt;
	bool		started;
	int			i;

	Assert(sql != NULL);

	if (IsTransactionBlock())
		elog(ERROR, "cannot run a statement in a background worker inside a transaction block");
	if (InSecurityRestrictedOperation())
		elog(ERROR, "cannot run a statement in a background worker within a security-restricted operation");

	/*
	 * CREATE INDEX CONCURRENTLY, and others, wait until every transaction
	 * whose snapshot is older than theirs has ended.  A snapshot we kept
	 * while waiting for the worker would make it wait for us forever.
	 */
	InvalidateCatalogSnapshot();
	if (HaveRegisteredOrActiveSnapshot())
		elog(ERROR, "cannot wait for a background worker while holding a snapshot");

	/* The copied settings, as name\0value\0 pairs; reading them is local. */
	initStringInfo(&gucs);
	for (i = 0; i < MIGR_WORKER_NCOPIED; i++)
	{
		const char *name = migr_worker_copied_settings[i];
		const char *value = GetConfigOption(name, false, false);

		if (value == NULL)
			value = "";
		appendBinaryStringInfo(&gucs, name, strlen(name) + 1);
		appendBinaryStringInfo(&gucs, value, strlen(value) + 1);
	}
	if (search_path != NULL)
		appendBinaryStringInfo(&gucs, search_path, strlen(search_path) + 1);

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, sizeof(MigrWorkerShared));
	shm_toc_estimate_chunk(&e, strlen(sql) + 1);
	shm_toc_estimate_chunk(&e, gucs.len);
	shm_toc_estimate_chunk(&e, MIGR_WORKER_QUEUE_SIZE);
	shm_toc_estimate_keys(&e, 4);
	segsize = shm_toc_estimate(&e);

	seg = dsm_create(segsize, 0);
	toc = shm_toc_create(MIGR_WORKER_MAGIC, dsm_segment_address(seg), segsize);

	shared = shm_toc_allocate(toc, sizeof(MigrWorkerShared));
	memset(shared, 0, sizeof(MigrWorkerShared));
	shared->database_id = MyDatabaseId;
	shared->authenticated_user_id = GetAuthenticatedUserId();
	shared->session_user_id = GetSessionUserId();
	shared->current_user_id = GetUserId();
	shared->caller_pid = MyProcPid;
	shared->has_search_path = (search_path != NULL);
	if (settings != NULL)
	{
		shared->lock_timeout_ms = Max(settings->lock_timeout_ms, 0);
		shared->statement_timeout_ms = Max(settings->statement_timeout_ms, 0);
	}
	shared->started = false;
	shm_toc_insert(toc, MIGR_WORKER_KEY_SHARED, shared);

	space = shm_toc_allocate(toc, strlen(sql) + 1);
	memcpy(space, sql, strlen(sql) + 1);
	shm_toc_insert(toc, MIGR_WORKER_KEY_SQL, space);

	space = shm_toc_allocate(toc, gucs.len);
	memcpy(space, gucs.data, gucs.len);
	shm_toc_insert(toc, MIGR_WORKER_KEY_GUCS, space);

	mq = shm_mq_create(shm_toc_allocate(toc, MIGR_WORKER_QUEUE_SIZE),
					   MIGR_WORKER_QUEUE_SIZE);
	shm_toc_insert(toc, MIGR_WORKER_KEY_QUEUE, mq);
	shm_mq_set_receiver(mq, MyProc);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;

	/*
	 * ConsistentState, not RecoveryFinished: on a hot standby the worker
	 * starts and the statement fails with its own read-only error, where a
	 * worker waiting for the end of recovery would leave the caller waiting.
	 */
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "migr", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "migr_worker_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "migr worker for PID %d", MyProcPid);
	strlcpy(worker.bgw_type, "migr worker", BGW_MAXLEN);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("out of background worker slots"),
				 errdetail("A statement that cannot run inside a transaction block runs in a background worker, and all %d background worker slots are in use.",
						   max_worker_processes),
				 errhint("You might need to increase max_worker_processes.")));
	guard = palloc0(sizeof(MigrWorkerGuard));
	guard->handle = handle;
	MemoryContextSwitchTo(oldcxt);

	/*
	 * From here on, however the segment goes away (our error, our exit), the
	 * worker is told to stop unless it already has.
	 */
	on_dsm_detach(seg, migr_worker_guard_detach, PointerGetDatum(guard));

	memset(&w, 0, sizeof(w));
	w.guard = guard;
	w.mqh = shm_mq_attach(mq, seg, handle);
	w.sql = sql;
	w.errcxt = callercxt;
	w.msgcxt = AllocSetContextCreate(callercxt, "migr worker message",
									 ALLOCSET_SMALL_SIZES);

	PG_TRY();
	{
		migr_worker_wait(&w);
	}
	PG_CATCH();
	{
		/* Cancelled or failed while waiting: stop the worker first. */
		MemoryContextSwitchTo(callercxt);
		migr_worker_stop(&w);
		if (w.finished)
		{
			ErrorData  *edata = CopyErrorData();

			/* The statement got through before the worker saw the cancel. */
			FlushErrorState();
			edata->context = psprintf("%s%s%s",
									  edata->context ? edata->context : "",
									  edata->context ? "\n" : "",
									  "the background worker had already committed the statement");
			ReThrowError(edata);
		}
		PG_RE_THROW();
	}
	PG_END_TRY();

	/* The worker has exited: the flag it set is final. */
	started = shared->started;
	shm_mq_detach(w.mqh);
	dsm_detach(seg);			/* frees guard */
	MemoryContextDelete(w.msgcxt);

	if (w.error != NULL)
		ThrowErrorData(w.error);
	if (!w.finished)
	{
		if (!started)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("background worker exited before running the statement"),
					 errhint("More details may be available in the server log.")));
		ereport(ERROR,
				(errcode(ERRCODE_T_R_STATEMENT_COMPLETION_UNKNOWN),
				 errmsg("background worker exited without reporting the outcome of the statement"),
				 errdetail("The statement may or may not have taken effect."),
				 errhint("More details may be available in the server log.")));
	}
}

/*
 * migr_worker_guard_detach
 *		on_dsm_detach callback of the caller's segment: runs on every way out,
 *		including an error thrown past migr_worker_run and the caller's exit
 *		(FATAL, pg_terminate_backend).  Asks the postmaster to stop a worker
 *		not yet seen to stop, then frees the guard.
 */
static void
migr_worker_guard_detach(dsm_segment *seg, Datum arg)
{
	MigrWorkerGuard *guard = (MigrWorkerGuard *) DatumGetPointer(arg);

	if (!guard->stopped)
		TerminateBackgroundWorker(guard->handle);
	pfree(guard->handle);
	pfree(guard);
}

/*
 * migr_worker_wait
 *		Wait on the latch until the postmaster reports the worker gone,
 *		relaying its messages meanwhile.  The latch is set by the queue when
 *		the worker writes or detaches, and by the postmaster's notice when the
 *		worker's state changes (bgw_notify_pid).  Interrupts are served:
 *		a cancel throws here, and the caller's PG_CATCH stops the worker.
 */
static void
migr_worker_wait(MigrWorkerWait *w)
{
	for (;;)
	{
		BgwHandleStatus status;
		pid_t		pid;

		/*
		 * The state first, then the queue: whatever the worker sent before
		 * exiting is in the queue by the time the exit is reported.
		 */
		status = GetBackgroundWorkerPid(w->guard->handle, &pid);
		migr_worker_drain(w, false);
		if (status == BGWH_STOPPED)
			break;

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	w->guard->stopped = true;
}

/*
 * migr_worker_stop
 *		Called while an error (usually a cancel) is propagating out of the
 *		wait: cancel the worker's statement with SIGINT, as pg_cancel_backend
 *		would, and wait for the worker to exit; after a few seconds terminate
 *		it, and after a few more give up and let the detach callback ask once
 *		more.  Messages still arriving are dropped, except that a report of
 *		success is noted.  Interrupts are held: the error being propagated
 *		already says why we stop, and a second cancel must not cut this short.
 */
static void
migr_worker_stop(MigrWorkerWait *w)
{
	TimestampTz start = GetCurrentTimestamp();
	bool		terminated = false;
	BgwHandleStatus status;
	pid_t		pid;

	HOLD_INTERRUPTS();

	status = GetBackgroundWorkerPid(w->guard->handle, &pid);
	if (status == BGWH_STARTED)
		(void) kill(pid, SIGINT);
	else if (status == BGWH_NOT_YET_STARTED)
	{
		/* Not forked yet: the postmaster will not start it at all. */
		TerminateBackgroundWorker(w->guard->handle);
		terminated = true;
	}

	for (;;)
	{
		long		elapsed;
		long		timeout;

		status = GetBackgroundWorkerPid(w->guard->handle, &pid);
		migr_worker_drain(w, true);
		if (status == BGWH_STOPPED)
		{
			w->guard->stopped = true;
			break;
		}

		elapsed = TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
		if (!terminated && elapsed >= MIGR_WORKER_CANCEL_WAIT_MS)
		{
			ereport(WARNING,
					(errmsg("background worker did not stop after a cancel request, terminating it")));
			TerminateBackgroundWorker(w->guard->handle);
			terminated = true;
		}
		else if (elapsed >= MIGR_WORKER_CANCEL_WAIT_MS +
				 MIGR_WORKER_TERMINATE_WAIT_MS)
			break;

		timeout = MIGR_WORKER_CANCEL_WAIT_MS - elapsed;
		if (terminated)
			timeout += MIGR_WORKER_TERMINATE_WAIT_MS;
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(timeout, 1), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}

	RESUME_INTERRUPTS();
}

/*
 * migr_worker_drain
 *		Read every message waiting in the queue without blocking.  discard:
 *		only note whether the worker reported success.
 */
static void
migr_worker_drain(MigrWorkerWait *w, bool discard)
{
	for (;;)
	{
		shm_mq_result res;
		Size		nbytes;
		void	   *data;
		StringInfoData msg;
		MemoryContext oldcxt;

		res = shm_mq_receive(w->mqh, &nbytes, &data, true);
		if (res != SHM_MQ_SUCCESS)
			break;				/* nothing more now, or the worker is gone */

		oldcxt = MemoryContextSwitchTo(w->msgcxt);
		initStringInfo(&msg);
		appendBinaryStringInfo(&msg, data, nbytes);
		if (!discard)
			migr_worker_relay(w, &msg);
		else if (msg.len > 0 && msg.data[0] == 'X')
			w->finished = true;
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(w->msgcxt);
	}

	/*
	 * An error context callback of the caller's may have looked at the
	 * catalog while a notice was relayed: drop that snapshot too.
	 */
	InvalidateCatalogSnapshot();
}

/*
 * migr_worker_relay
 *		Act on one message from the worker, in the protocol's format.
 *		A notice, warning or info is raised here as if the statement had run
 *		in this process, with a context line naming the worker; an error is
 *		kept, to be raised once the worker has gone.  The end-of-statement
 *		message records success; anything else (the worker runs with no
 *		client, so none is expected) is ignored.
 */
static void
migr_worker_relay(MigrWorkerWait *w, StringInfo msg)
{
	char		msgtype = pq_getmsgbyte(msg);

	if (msgtype == 'X')
		w->finished = true;
	else if (msgtype == 'E' || msgtype == 'N')
	{
		ErrorData	edata;
		ErrorData  *keep;

		if (msgtype == 'E' && w->error != NULL)
			return;				/* the first error is the one that counts */
		if (msgtype == 'E')
			MemoryContextSwitchTo(w->errcxt);
		pq_parse_errornotice(msg, &edata);

		/* The worker's FATAL ends the worker, not this session. */
		edata.elevel = Min(edata.elevel, ERROR);
		edata.context = psprintf("%s%s%s",
								 edata.context ? edata.context : "",
								 edata.context ? "\n" : "",
								 MIGR_WORKER_CONTEXT);

		/*
		 * A cursor position points into the worker's statement, not into the
		 * caller's query: show it against the statement, as SPI does.
		 */
		if (edata.cursorpos > 0 && edata.internalquery == NULL)
		{
			edata.internalpos = edata.cursorpos;
			edata.internalquery = pstrdup(w->sql);
			edata.cursorpos = 0;
		}

		if (edata.elevel >= ERROR)
		{
			keep = palloc(sizeof(ErrorData));
			*keep = edata;
			w->error = keep;
			MemoryContextSwitchTo(w->msgcxt);
		}
		else
			ThrowErrorData(&edata);
	}
}


/*
 * migr_worker_main
 *		Entry point of the background worker; main_arg is the handle of the
 *		caller's segment.  Attaches the message queue before anything can
 *		fail, so that even a failure to connect reaches the caller; connects
 *		as the caller's authenticated user and takes on its session and
 *		current user; applies the settings; runs the statement; reports
 *		success with a Terminate message.  An error is sent to the caller and
 *		the worker exits with status 1.
 */
void
migr_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	shm_toc    *toc;
	MigrWorkerShared *shared;
	shm_mq	   *mq;
	shm_mq_handle *mqh;
	const char *sql;
	const char *gucs;
	bool		session_super;
	bool		current_super;
	StringInfoData msg;

	/*
	 * SIGINT already cancels the running statement in a worker with a
	 * database connection (StatementCancelHandler); make SIGTERM end it at
	 * the next interrupt check, as in a backend, not from the handler.
	 */
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* No resource owner: the mapping lasts as long as the process. */
	/* the caller keeps the segment until this worker has exited */
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		elog(ERROR, "could not map dynamic shared memory segment");
	toc = shm_toc_attach(MIGR_WORKER_MAGIC, dsm_segment_address(seg));
	if (toc == NULL)
		elog(ERROR, "invalid magic number in dynamic shared memory segment");
	shared = shm_toc_lookup(toc, MIGR_WORKER_KEY_SHARED, false);
	sql = shm_toc_lookup(toc, MIGR_WORKER_KEY_SQL, false);
	gucs = shm_toc_lookup(toc, MIGR_WORKER_KEY_GUCS, false);
	mq = shm_toc_lookup(toc, MIGR_WORKER_KEY_QUEUE, false);

	shm_mq_set_sender(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);
	pq_redirect_to_shm_mq(seg, mqh);

	/*
	 * Connect as the role that logged in (it may log in; the current user,
	 * say a group role reached with SET ROLE, may not), then take on the
	 * caller's session and current user, as a parallel worker does.
	 */
	BackgroundWorkerInitializeConnectionByOid(shared->database_id,
											  shared->authenticated_user_id,
											  0);

	migr_worker_apply_settings(shared, gucs,
							   shared->has_search_path ? gucs : NULL);

	StartTransactionCommand();
	session_super = superuser_arg(shared->session_user_id);
	current_super = superuser_arg(shared->current_user_id);
	CommitTransactionCommand();
	if (shared->session_user_id != shared->authenticated_user_id)
		SetSessionAuthorization(shared->session_user_id, session_super);

	/*
	 * Always: connecting applied the role's and database's defaults, and a
	 * default "role" setting may have made another role current.
	 */
	SetCurrentRoleId(shared->current_user_id, current_super);

	shared->started = true;
	pg_write_barrier();

	PG_TRY();
	{
		migr_worker_execute(sql);
	}
	PG_CATCH();
	{
		/*
		 * Report the error as the ERROR it is (without a handler it would be
		 * promoted to FATAL) to the caller and the log, then exit; process
		 * exit aborts the transaction and releases its locks.
		 */
		HOLD_INTERRUPTS();
		EmitErrorReport();
		proc_exit(1);
	}
	PG_END_TRY();

	pq_beginmessage(&msg, 'X');
	pq_endmessage(&msg);
}

/*
 * migr_worker_apply_settings
 *		In the worker, outside any transaction (so tablespace names are not
 *		looked up here; the statement fails later if one has gone): the
 *		application name, the copied settings, then search_path and the two
 *		timeouts.  gucs holds the copied settings as name\0value\0 pairs, in
 *		the order of migr_worker_copied_settings, then search_path if set.
 */
static void
migr_worker_apply_settings(MigrWorkerShared *shared, const char *gucs,
						   const char *search_path)
{
	char		buf[64];
	const char *p = gucs;
	int			i;

	snprintf(buf, sizeof(buf), "migr worker for PID %d",
			 (int) shared->caller_pid);
	SetConfigOption("application_name", buf, PGC_USERSET, PGC_S_SESSION);

	for (i = 0; i < MIGR_WORKER_NCOPIED; i++)
	{
		const char *name = p;
		const char *value = name + strlen(name) + 1;

		SetConfigOption(name, value, PGC_USERSET, PGC_S_SESSION);
		p = value + strlen(value) + 1;
	}
	if (shared->has_search_path)
		SetConfigOption("search_path", p, PGC_USERSET, PGC_S_SESSION);

	snprintf(buf, sizeof(buf), "%d", shared->lock_timeout_ms);
	SetConfigOption("lock_timeout", buf, PGC_USERSET, PGC_S_SESSION);
	snprintf(buf, sizeof(buf), "%d", shared->statement_timeout_ms);
	SetConfigOption("statement_timeout", buf, PGC_USERSET, PGC_S_SESSION);
}

/*
 * migr_worker_execute
 *		Run sql as a client's simple query runs (exec_simple_query): its own
 *		transaction, parse, analyze and rewrite, plan, then a portal run with
 *		isTopLevel, so PreventInTransactionBlock passes and a command that
 *		commits as it goes (CREATE INDEX CONCURRENTLY, VACUUM) can.
 *		The trees live in a context of their own, which those commits leave
 *		alone.  statement_timeout is armed here, as the server's main loop
 *		does for a client, since a worker has no such loop.  Rows a query
 *		returns are discarded.
 */
static void
migr_worker_execute(const char *sql)
{
	MemoryContext stmtcxt;
	MemoryContext oldcxt;
	List	   *parsetrees;
	RawStmt    *parsetree;
	CommandTag	tag;
	bool		snapshot_set = false;
	List	   *querytrees;
	List	   *plantrees;
	Portal		portal;
	int16		format = 0;
	DestReceiver *receiver;
	QueryCompletion qc;

	stmtcxt = AllocSetContextCreate(TopMemoryContext, "migr worker statement",
									ALLOCSET_DEFAULT_SIZES);

	debug_query_string = sql;
	pgstat_report_activity(STATE_RUNNING, sql);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (StatementTimeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);

	oldcxt = MemoryContextSwitchTo(stmtcxt);

	/* migr hands over one statement its splitter (body.c) cut out */
	parsetrees = pg_parse_query(sql);
	if (list_length(parsetrees) != 1)
		elog(ERROR, "a statement run in a background worker must be exactly one SQL command, not %d",
			 list_length(parsetrees));
	parsetree = linitial_node(RawStmt, parsetrees);

	/*
	 * A worker has no client: COPY to or from it would write stray protocol
	 * messages into the queue, or read from a connection that is not there.
	 * Registration and body.c refuse such a COPY before it gets here.
	 */
	if (IsA(parsetree->stmt, CopyStmt) &&
		((CopyStmt *) parsetree->stmt)->filename == NULL)
		elog(ERROR, "cannot run COPY to or from the client in a background worker");

	tag = CreateCommandTag(parsetree->stmt);
	set_ps_display(GetCommandTagName(tag));

	if (analyze_requires_snapshot(parsetree))
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		snapshot_set = true;
	}
	querytrees = pg_analyze_and_rewrite_fixedparams(parsetree, sql,
													NULL, 0, NULL);
	plantrees = pg_plan_queries(querytrees, sql, CURSOR_OPT_PARALLEL_OK, NULL);
	if (snapshot_set)
		PopActiveSnapshot();

	CHECK_FOR_INTERRUPTS();

	portal = CreatePortal("", true, true);
	portal->visible = false;
	PortalDefineQuery(portal, NULL, sql, tag, plantrees, NULL);
	PortalStart(portal, NULL, 0, InvalidSnapshot);
	PortalSetResultFormat(portal, 1, &format);
	receiver = CreateDestReceiver(DestNone);

	MemoryContextSwitchTo(oldcxt);

	(void) PortalRun(portal, FETCH_ALL, true, true, receiver, receiver, &qc);
	receiver->rDestroy(receiver);
	PortalDrop(portal, false);

	if (StatementTimeout > 0)
		disable_timeout(STATEMENT_TIMEOUT, false);
	CommitTransactionCommand();

	pgstat_report_activity(STATE_IDLE, NULL);
	debug_query_string = NULL;
	MemoryContextDelete(stmtcxt);
}
