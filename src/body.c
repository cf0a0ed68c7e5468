/*-------------------------------------------------------------------------
 * body.c
 *	  Running revision SQL: a body statement by statement, split with
 *	  PostgreSQL's raw parser, with an error context naming the revision,
 *	  the direction and the statement; the checks made on a body at
 *	  registration; and the guard that refuses a migr writer called from
 *	  revision SQL of the same session.
 *
 *	  Everything runs as the calling role, through the caller's SPI
 *	  connection, in the caller's (sub)transaction.
 *
 * IDENTIFICATION
 *	  src/body.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "body.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "stmtguard.h"

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
 *		the client).  stmts is the body's raw parse tree.
 */
void
migr_body_check(const char *rev, const char *which, const char *sql,
					  List *stmts)
{
	ListCell   *lc;
	int			stmtno = 0;
	int			sqllen = strlen(sql);

	foreach(lc, stmts)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		int			len = rs->stmt_len ? rs->stmt_len : sqllen - rs->stmt_location;

		CHECK_FOR_INTERRUPTS();
		stmtno++;
		refuse_client_copy(rev, which, stmtno, rs->stmt,
						   statement_excerpt(sql + rs->stmt_location, len));
	}
}

/*
 * migr_body_run
 *		Run one revision body statement by statement.  The body is split with
 * PostgreSQL's own raw parser, so a syntax error is reported as it would be
 * for the whole body, and each statement runs with its own snapshot as in a
 * psql script.
 */
void
migr_body_run(const char *rev, const char *direction, const char *sql)
{
	StepErrorContext ctx = {rev, direction, 0, NULL, sql};
	ErrorContextCallback cb;
	List	   *stmts;
	ListCell   *lc;
	int			sqllen = strlen(sql);

	/* cannot happen: every caller refuses re-entry first */
	if (running_revision)
		elog(ERROR, "%s SQL of revision \"%s\" started inside the SQL of revision \"%s\"",
			 direction, rev, running_revision);

	cb.callback = step_error_callback;
	cb.arg = &ctx;
	cb.previous = error_context_stack;
	error_context_stack = &cb;

	stmts = raw_parser(sql, RAW_PARSE_DEFAULT);
	foreach(lc, stmts)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		int			start = rs->stmt_location;
		int			len = rs->stmt_len ? rs->stmt_len : sqllen - start;
		char	   *text;
		int			rc;

		CHECK_FOR_INTERRUPTS();
		while (len > 0 && isspace((unsigned char) sql[start]))
		{
			start++;
			len--;
		}
		text = pnstrdup(sql + start, len);

		ctx.stmtno++;
		ctx.stmt = statement_excerpt(text, len);
		/* registration refuses these; a catalog written by hand may not */
		refuse_client_copy(rev, direction, ctx.stmtno, rs->stmt, ctx.stmt);
		rc = migr_body_execute(rev, text, false, 0);
		if (rc == SPI_ERROR_TRANSACTION)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
					 errmsg("revision bodies cannot contain transaction control statements"),
					 errdetail("migr runs each call in one transaction; COMMIT, ROLLBACK and SAVEPOINT would break its atomicity.")));
		if (rc < 0)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
		SPI_freetuptable(SPI_tuptable);
	}
	error_context_stack = cb.previous;
}
