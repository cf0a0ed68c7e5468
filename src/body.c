/*-------------------------------------------------------------------------
 * body.c
 *	  Running revision SQL: a body statement by statement, split with
 *	  PostgreSQL's raw parser, with an error context naming the revision,
 *	  the direction and the statement; the checks made on a body at
 *	  registration; and the guard that refuses a migr writer called from
 *	  revision SQL of the same session.
 *
 *	  Everything runs as the calling role, through the caller's SPI
 *	  connection, in the caller's (sub)transaction, except a statement that
 *	  PostgreSQL runs only at top level (stmtclass.c), which a background
 *	  worker runs (worker.c) once CALL migr.apply() has committed, and a
 *	  CALL of a batch job in a non-transactional revision, which commits as
 *	  it goes (batch.c).  pg_stat_activity.query shows the statement.
 *
 * IDENTIFICATION
 *	  src/body.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xact.h"
#include "activity.h"
#include "body.h"
#include "catalog/namespace.h"
#include "guc.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "stmtclass.h"
#include "stmtguard.h"
#include "subxact.h"
#include "utils/builtins.h"
#include "worker.h"

typedef struct StepErrorContext
{
	const char *rev;
	const char *direction;
	int			stmtno;
	char	   *stmt;
	const char *body;
} StepErrorContext;

static void
step_error_callback(void *arg)
{
	StepErrorContext *c = (StepErrorContext *) arg;

	/* a syntax error from splitting the body points into the body */
	if (c->body && c->stmt == NULL)
	{
		int			pos = geterrposition();

		if (pos > 0)
		{
			errposition(0);
			internalerrposition(pos);
			internalerrquery(c->body);
		}
	}
	if (c->stmt)
		errcontext("migr revision \"%s\" (%s), statement %d: %s",
				   c->rev, c->direction, c->stmtno, c->stmt);
	else
		errcontext("migr revision \"%s\" (%s)", c->rev, c->direction);
}

/* One line of at most 200 bytes, for the error context. */
static char *
statement_excerpt(const char *sql, int len)
{
	StringInfoData buf;
	int			i = 0;

	while (i < len && isspace((unsigned char) sql[i]))
		i++;
	initStringInfo(&buf);
	for (; i < len && buf.len < 200; i++)
		appendStringInfoChar(&buf, (sql[i] == '\n' || sql[i] == '\t') ? ' ' : sql[i]);
	while (buf.len > 0 && (isspace((unsigned char) buf.data[buf.len - 1]) || buf.data[buf.len - 1] == ';'))
		buf.data[--buf.len] = '\0';
	if (i < len)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * The revision whose SQL (a body or a check) this backend is running, or
 * NULL.  migr_body_execute sets it around each statement and restores it
 * on the way out, error or not, so an error caught anywhere leaves it right.
 */
static const char *running_revision = NULL;

/*
 * migr_body_refuse_reentry
 *		Called first by every entry point that changes the catalog or the
 *		applied set (fn is its SQL name, for the message): refuse to start
 *		while revision SQL of this session is running, since the call
 *		running that SQL records its steps only at its end and would then
 *		record them over whatever the nested call did.
 */
void
migr_body_refuse_reentry(const char *fn)
{
	if (running_revision)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("cannot execute %s inside revision SQL", fn),
				 errdetail("It was called from the SQL of revision \"%s\", which a migr call of this session is running.",
						   running_revision),
				 errhint("Call %s on its own, not from a revision body or check.", fn)));
}

/*
 * migr_body_mark_running
 *		Mark revision rev's SQL as running (NULL: no longer), for SQL that
 *		runs outside this file: the offline script (script.c) runs a
 *		revision's statements in psql, between two calls into migr.  rev
 *		must stay allocated until it is cleared.
 */
void
migr_body_mark_running(const char *rev)
{
	running_revision = rev;
}

/*
 * migr_body_running_revision
 *		The revision whose SQL this session is running, or NULL: a batch job
 *		started from revision SQL belongs to that revision.
 */
const char *
migr_body_running_revision(void)
{
	return running_revision;
}

/*
 * A statement that commits as it goes (CALL migr.batch_update() in a
 * non-transactional revision): executed with SPI allowing it to, outside
 * migr_guard_run, whose GUC nest level cannot outlive a commit; the job
 * guards each of its batches itself.
 */
static int
execute_nonatomic(const char *rev, const char *sql)
{
	const char *save = running_revision;
	SPIExecuteOptions opts = {0};
	int			rc = 0;

	opts.allow_nonatomic = true;
	running_revision = rev;
	PG_TRY();
	{
		rc = SPI_execute_extended(sql, &opts);
	}
	PG_FINALLY();
	{
		running_revision = save;
	}
	PG_END_TRY();
	return rc;
}

/*
 * migr_body_execute
 *		SPI_execute one statement of revision rev's SQL (a body statement or
 *		a check), with rev marked as running for migr_body_refuse_reentry,
 *		under migr.lock_timeout and migr.statement_timeout (stmtguard.c).
 */
int
migr_body_execute(const char *rev, const char *sql, bool read_only, long tcount)
{
	const char *save = running_revision;
	int			rc = 0;

	running_revision = rev;
	PG_TRY();
	{
		rc = migr_guard_spi_execute(sql, read_only, tcount);
	}
	PG_FINALLY();
	{
		running_revision = save;
	}
	PG_END_TRY();
	return rc;
}

/*
 * migr_body_run_toplevel
 *		Have a background worker run one statement of revision rev's SQL at
 *		top level, as the current user with the caller's search_path and
 *		migr's timeouts, but no lock_timeout for a statement whose waits
 *		block nobody (stmtclass.c).  The caller has committed and holds no
 *		snapshot.
 */
void
migr_body_run_toplevel(const char *rev, const char *sql, bool no_lock_timeout)
{
	const char *save = running_revision;
	MigrWorkerSettings ws;

	ws.search_path = namespace_search_path;
	ws.lock_timeout_ms = no_lock_timeout ? 0 : migr_guard_lock_timeout();
	ws.statement_timeout_ms = migr_statement_timeout;
	running_revision = rev;
	PG_TRY();
	{
		migr_worker_run(sql, &ws);
	}
	PG_FINALLY();
	{
		running_revision = save;
	}
	PG_END_TRY();
}

/*
 * COPY to or from the client (STDIN, STDOUT) cannot run through SPI: refuse
 * it with the statement named.  COPY to or from a file or program runs.
 */
static void
refuse_client_copy(const char *rev, const char *which, int stmtno, Node *stmt,
				   const char *text)
{
	if (IsA(stmt, CopyStmt) && ((CopyStmt *) stmt)->filename == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s SQL of revision \"%s\" cannot copy to or from the client", which, rev),
				 errdetail("Statement %d is %s; revision SQL runs inside the server, where COPY has no client to read from or write to.",
						   stmtno, text),
				 errhint("COPY to or from a file on the server, or use INSERT and SELECT.")));
}

/*
 * migr_body_check
 *		At registration: refuse what a body could never run (COPY to or from
 *		the client, transaction control).  stmts is the body's raw parse
 *		tree.  Returns a description of its first statement that can only
 *		run at top level ("statement 2, CREATE INDEX CONCURRENTLY"), or NULL
 *		when the whole body can run in one transaction.
 */
char *
migr_body_check(const char *rev, const char *which, const char *sql,
				List *stmts)
{
	ListCell   *lc;
	int			stmtno = 0;
	int			sqllen = strlen(sql);
	char	   *toplevel = NULL;

	foreach(lc, stmts)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		int			len = rs->stmt_len ? rs->stmt_len : sqllen - rs->stmt_location;
		char	   *text = statement_excerpt(sql + rs->stmt_location, len);
		const char *what;

		CHECK_FOR_INTERRUPTS();
		stmtno++;
		refuse_client_copy(rev, which, stmtno, rs->stmt, text);
		if ((what = migr_stmt_transaction_control(rs->stmt)) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
					 errmsg("%s SQL of revision \"%s\" cannot contain %s", which, rev, what),
					 errdetail("Statement %d is %s; migr decides where transactions begin and end.",
							   stmtno, text),
					 errhint("Leave transaction control out. A revision that must commit as it goes is registered with transactional => false and run with CALL migr.apply().")));
		if (toplevel == NULL && (what = migr_stmt_toplevel_only(rs->stmt)) != NULL)
			toplevel = psprintf("statement %d, %s", stmtno, what);
	}
	return toplevel;
}

/* Whether a body holds a statement that runs only at top level */
typedef struct BodyScan
{
	const char *sql;
	bool		toplevel;
} BodyScan;

static void
scan_body(void *arg)
{
	BodyScan   *b = (BodyScan *) arg;
	ListCell   *lc;

	foreach(lc, raw_parser(b->sql, RAW_PARSE_DEFAULT))
		if (migr_stmt_toplevel_only(lfirst_node(RawStmt, lc)->stmt))
			b->toplevel = true;
}

/*
 * migr.body_transactional(sql text) RETURNS boolean
 *
 * Used by the update script from 0.1.0 only: whether a body registered
 * then can run in one transaction.  A body that does not parse (written
 * into the catalog by hand) counts as transactional: it fails when it
 * runs, naming its revision, rather than failing the update.
 */
PG_FUNCTION_INFO_V1(migr_body_transactional_sql);
Datum
migr_body_transactional_sql(PG_FUNCTION_ARGS)
{
	BodyScan	b = {text_to_cstring(PG_GETARG_TEXT_PP(0)), false};
	ErrorData  *err = migr_subxact_try(scan_body, &b, false, false);

	if (err)
		FreeErrorData(err);
	PG_RETURN_BOOL(err != NULL || !b.toplevel);
}

/*
 * migr_body_split
 *		A body's statements, split with PostgreSQL's own raw parser (so a
 *		syntax error is reported as it would be for the whole body), each
 *		with its text, an excerpt for messages, and what makes it top-level
 *		only, if anything.
 */
MigrStatement *
migr_body_split(const char *rev, const char *direction, const char *sql, int *n)
{
	StepErrorContext ctx = {rev, direction, 0, NULL, sql};
	ErrorContextCallback cb;
	List	   *stmts;
	ListCell   *lc;
	int			sqllen = strlen(sql);
	MigrStatement *out;
	int			k = 0;

	cb.callback = step_error_callback;
	cb.arg = &ctx;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	stmts = raw_parser(sql, RAW_PARSE_DEFAULT);
	error_context_stack = cb.previous;

	out = palloc0(sizeof(MigrStatement) * (list_length(stmts) + 1));
	foreach(lc, stmts)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		MigrStatement *st = &out[k++];
		int			start = rs->stmt_location;
		int			len = rs->stmt_len ? rs->stmt_len : sqllen - start;

		CHECK_FOR_INTERRUPTS();
		while (len > 0 && isspace((unsigned char) sql[start]))
		{
			start++;
			len--;
		}
		st->text = pnstrdup(sql + start, len);
		st->excerpt = statement_excerpt(st->text, len);
		st->parsetree = rs->stmt;
		st->toplevel = migr_stmt_toplevel_only(rs->stmt);
		st->no_lock_timeout = migr_stmt_waits_block_nobody(rs->stmt);
		st->commits = migr_stmt_commits(rs->stmt);
	}
	*n = k;
	return out;
}

/*
 * The statement of a body that was running when an error left
 * migr_body_run_statement, for the failure record: set before each
 * statement, cleared after it succeeds.
 */
static int	failed_stmtno = 0;
static const char *failed_stmt = NULL;

/*
 * migr_body_failed_statement
 *		The number (from 1) and text of the body statement an error stopped,
 *		or 0 when it did not stop in a body statement (a check, say).  The
 *		text lives as long as the statement list passed in.  Clears what it
 *		returns.
 */
int
migr_body_failed_statement(const char **text)
{
	int			no = failed_stmtno;

	*text = failed_stmt;
	failed_stmtno = 0;
	failed_stmt = NULL;
	return no;
}

/*
 * migr_body_run_statement
 *		Run statement stmtno (from 1) of a body, with the error context
 *		naming the revision, direction and statement.  A statement that can
 *		only run at top level goes to a background worker: the caller (CALL
 *		mode) has committed and holds no snapshot.  Anywhere else it is
 *		refused before it runs.
 */
void
migr_body_run_statement(const char *rev, const char *direction, int stmtno,
						MigrStatement *st, bool toplevel_ok)
{
	StepErrorContext ctx = {rev, direction, stmtno, st->excerpt, NULL};
	ErrorContextCallback cb;
	int			rc;

	/* cannot happen: every caller refuses re-entry first */
	if (running_revision)
		elog(ERROR, "%s SQL of revision \"%s\" started inside the SQL of revision \"%s\"",
			 direction, rev, running_revision);

	cb.callback = step_error_callback;
	cb.arg = &ctx;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	failed_stmtno = stmtno;
	failed_stmt = st->text;

	/* registration refuses these; a catalog written by hand may not */
	refuse_client_copy(rev, direction, stmtno, st->parsetree, st->excerpt);
	migr_activity_report("/* migr: %s of %s, statement %d */ %s", direction, rev,
						 stmtno, st->text);
	if (st->toplevel)
	{
		if (!toplevel_ok)
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("%s cannot run inside a transaction block", st->toplevel),
					 errdetail("Statement %d of the %s of revision \"%s\" can only run at top level.",
							   stmtno, direction, rev),
					 errhint("Run it with CALL migr.apply() or CALL migr.revert().")));
		migr_body_run_toplevel(rev, st->text, st->no_lock_timeout);
	}
	else
	{
		/*
		 * CALL mode runs a statement that commits outside any subtransaction
		 * (callrun.c); anywhere else it runs in the caller's transaction.
		 */
		if (st->commits && toplevel_ok && !IsSubTransaction())
			rc = execute_nonatomic(rev, st->text);
		else
			rc = migr_body_execute(rev, st->text, false, 0);
		if (rc == SPI_ERROR_TRANSACTION)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
					 errmsg("revision bodies cannot contain transaction control statements"),
					 errdetail("migr decides where transactions begin and end; COMMIT, ROLLBACK and SAVEPOINT would break that.")));
		if (rc < 0)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
		SPI_freetuptable(SPI_tuptable);
	}
	failed_stmtno = 0;
	failed_stmt = NULL;
	error_context_stack = cb.previous;
}

/*
 * migr_body_run
 *		Run one revision body statement by statement, in the current
 *		transaction, each statement with its own snapshot as in a psql
 *		script.  Returns the number of statements run.
 */
int
migr_body_run(const char *rev, const char *direction, const char *sql)
{
	int			n;
	MigrStatement *stmts = migr_body_split(rev, direction, sql, &n);

	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		migr_body_run_statement(rev, direction, i + 1, &stmts[i], false);
	}
	return n;
}
