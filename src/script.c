/*-------------------------------------------------------------------------
 * script.c
 *	  migr.script(): the plan of an upgrade or downgrade written out as a
 *	  psql script that a DBA reviews and then runs with
 *	  "psql -v ON_ERROR_STOP=1 -f"; it leaves what CALL migr.apply() or
 *	  migr.revert() would leave (the calls it makes into migr are in
 *	  scriptrun.c).  Only reads the catalog.
 *
 *	  The script runs each revision's statements itself, as written,
 *	  between those calls: CALL migr.script_begin() (the lock, and the plan
 *	  still the script's: its digest), then per step migr.script_step()
 *	  (requires, skip_if), the statements, migr.script_progress() after
 *	  each statement of a non-transactional revision, and
 *	  CALL migr.script_done() (verify, the records); CALL migr.script_end().
 *
 *	  Statement text is emitted so that psql runs it as the server split
 *	  it: psql interpolates ":name", ":'name'" and ":\"name\"" outside
 *	  quotes, so a colon token followed by such a character (an array
 *	  slice "a[1:n]") gets a space after it; a statement whose last line
 *	  holds a "--" gets its semicolon on a line of its own.  Outside quotes
 *	  and comments a statement the server parses holds no backslash, so
 *	  psql sees no meta-command in revision SQL.
 *
 * IDENTIFICATION
 *	  src/script.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "apply.h"
#include "body.h"
#include "catalog.h"
#include "checksum.h"
#include "common/keywords.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "guc.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/scanner.h"
#include "progress.h"
#include "script.h"
#include "sqlcall.h"
#include "stmtguard.h"
#include "target.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(migr_script);

/*
 * migr_script_step_transactional
 *		Whether step i of plan runs in one transaction: not when it is
 *		non-transactional in the plan's direction, nor when it is the
 *		revision part way through that the plan continues (resume >= 0).
 */
bool
migr_script_step_transactional(MigrGraph *g, MigrPlan *plan, int i, int resume)
{
	int			flag = plan->upgrade ? MIGR_NONTXN_UPGRADE : MIGR_NONTXN_DOWNGRADE;

	if (i == 0 && resume >= 0)
		return false;
	return !(g->revs[plan->steps[i]].nontxn & flag);
}

/*
 * migr_script_digest
 *		The plan's identity: direction, target, the statements already run
 *		of a revision part way through, and each step's revision and
 *		checksum.  Hex, palloc'd.
 */
char *
migr_script_digest(MigrGraph *g, MigrPlan *plan, MigrBody *bodies, const char *target,
			int resume)
{
	pg_cryptohash_ctx *ctx = migr_sha256_begin();
	uint8		d[PG_SHA256_DIGEST_LENGTH];
	char	   *head = psprintf("migr script 1|%s|%s|%d|%d",
								plan->upgrade ? "upgrade" : "downgrade",
								target, resume, plan->nsteps);

	migr_sha256_add(ctx, head, strlen(head) + 1);
	for (int i = 0; i < plan->nsteps; i++)
	{
		const char *id = g->revs[plan->steps[i]].id;

		CHECK_FOR_INTERRUPTS();
		migr_sha256_add(ctx, id, strlen(id) + 1);
		migr_sha256_add(ctx, VARDATA_ANY(bodies[i].checksum),
						VARSIZE_ANY_EXHDR(bodies[i].checksum));
	}
	migr_sha256_end(ctx, d);
	return migr_hex(d, PG_SHA256_DIGEST_LENGTH);
}

/*
 * Plan as migr.plan() does: direction NULL guesses ("base" and "-N" are
 * downgrades; anything else an upgrade, or a downgrade when the upgrade
 * would do nothing).
 */
static MigrPlan *
make_plan(MigrGraph *g, const char *target, const char *direction)
{
	MigrPlan   *plan;

	if (direction && strcmp(direction, "upgrade") != 0 && strcmp(direction, "downgrade") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized direction \"%s\"", direction),
				 errhint("Use \"upgrade\", \"downgrade\" or NULL.")));
	if (direction ? strcmp(direction, "downgrade") == 0
		: migr_target_looks_like_downgrade(target))
		return migr_plan_downgrade(g, target);
	plan = migr_plan_upgrade(g, target);
	if (direction == NULL && plan->nsteps == 0)
		plan = migr_plan_downgrade(g, target);
	return plan;
}

/* A character after ':' that makes psql read a variable reference */
static bool
psql_variable_follows(char c)
{
	return isalnum((unsigned char) c) || c == '_' || (unsigned char) c >= 0x80 ||
		c == '\'' || c == '"' || c == '{';
}

/*
 * Append one statement of revision SQL so that psql sends exactly it (see
 * the file header), with its terminating semicolon and a newline.
 */
static void
append_statement(StringInfo buf, const char *text)
{
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			len = strlen(text);
	int			from = 0;
	int			start = buf->len;
	const char *last;

	while (len > 0 && isspace((unsigned char) text[len - 1]))
		len--;
	scanner = scanner_init(text, &yyextra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		int			tok = core_yylex(&yylval, &yylloc, scanner);

		if (tok == 0)
			break;
		/* "::" and ":=" are tokens of their own, and psql leaves them be */
		if (tok == ':' && yylloc + 1 < len && psql_variable_follows(text[yylloc + 1]))
		{
			appendBinaryStringInfo(buf, text + from, yylloc + 1 - from);
			appendStringInfoChar(buf, ' ');
			from = yylloc + 1;
		}
	}
	scanner_finish(scanner);
	appendBinaryStringInfo(buf, text + from, len - from);

	/* a "--" on the last line may be a comment that would swallow the ";" */
	last = buf->data + buf->len;
	while (last > buf->data + start && last[-1] != '\n' && last[-1] != '\r')
		last--;
	appendStringInfoString(buf, strstr(last, "--") ? "\n;\n" : ";\n");
}

/*
 * Append text as comment lines: the first starts with label, the others
 * are indented under it.  psql ends a comment at \r as at \n.
 */
static void
append_comment(StringInfo buf, const char *label, const char *text)
{
	const char *p = text;

	appendStringInfo(buf, "--   %s", label);
	while (*p)
	{
		if (*p == '\r' || *p == '\n')
		{
			if (*p == '\r' && p[1] == '\n')
				p++;
			appendStringInfoString(buf, "\n--       ");
		}
		else
			appendStringInfoChar(buf, *p);
		p++;
	}
	appendStringInfoChar(buf, '\n');
}

/* "a, b" for a revision's parents (or "base") */
static char *
revises_string(MigrGraph *g, MigrRev *r)
{
	StringInfoData b;

	if (r->nparents == 0)
		return "base";
	initStringInfo(&b);
	for (int i = 0; i < r->nparents; i++)
		appendStringInfo(&b, "%s%s", i ? ", " : "", g->revs[r->parents[i]].id);
	return b.data;
}

/* the checks a step evaluates, in its direction, as a list */
static char *
checks_string(MigrBody *b, bool upgrade)
{
	StringInfoData s;
	static const MigrCheckKind up[] = {MIGR_CHECK_REQUIRES, MIGR_CHECK_SKIP_IF, MIGR_CHECK_VERIFY};

	initStringInfo(&s);
	if (upgrade)
	{
		for (int k = 0; k < lengthof(up); k++)
			if (b->checks[up[k]])
				appendStringInfo(&s, "%s%s", s.len ? ", " : "", migr_check_names[up[k]]);
	}
	else if (b->checks[MIGR_CHECK_VERIFY_DOWN])
		appendStringInfoString(&s, migr_check_names[MIGR_CHECK_VERIFY_DOWN]);
	return s.data;
}

static void
append_set_lock_timeout(StringInfo buf, int ms)
{
	appendStringInfo(buf, "SET lock_timeout = %s;\n",
					 ms > 0 ? quote_literal_cstr(psprintf("%dms", ms)) : "0");
}

/* One step of the script */
static void
append_step(StringInfo buf, MigrGraph *g, MigrPlan *plan, MigrBody *b,
			const char *message, int i, int resume, int lock_timeout)
{
	MigrRev    *r = &g->revs[plan->steps[i]];
	const char *dir = plan->upgrade ? "upgrade" : "downgrade";
	bool		txn = migr_script_step_transactional(g, plan, i, resume);
	char	   *id = quote_literal_cstr(r->id);
	MigrStatement *stmts;
	int			n;
	int			first = i == 0 && resume > 0 ? resume : 0;
	static const MigrCheckKind up[] = {MIGR_CHECK_REQUIRES, MIGR_CHECK_SKIP_IF, MIGR_CHECK_VERIFY};

	stmts = migr_body_split(r->id, dir, b->sql, &n);
	appendStringInfo(buf, "\n-- Step %d of %d: %s of %s (%s %s), %s\n",
					 i + 1, plan->nsteps, dir, r->id,
					 plan->upgrade ? "revises" : "back to", revises_string(g, r),
					 txn ? "transactional: one transaction"
					 : "non-transactional: each statement commits on its own");
	if (message[0])
		append_comment(buf, "message: ", message);
	if (i == 0 && resume >= 0)
		appendStringInfo(buf, "--   resumed: %d of its %d statements ran and were committed before\n",
						 resume, n);
	else if (plan->upgrade)
	{
		for (int k = 0; k < lengthof(up); k++)
			if (b->checks[up[k]])
				append_comment(buf, psprintf("%s: ", migr_check_names[up[k]]), b->checks[up[k]]);
	}
	else if (b->checks[MIGR_CHECK_VERIFY_DOWN])
		append_comment(buf, "verify_down: ", b->checks[MIGR_CHECK_VERIFY_DOWN]);

	if (txn)
		appendStringInfoString(buf, "BEGIN;\n");
	appendStringInfo(buf, "SELECT migr.script_step(%d, %s, '%s', '%s') AS migr_run \\gset\n",
					 i + 1, id, dir, migr_checksum_hex(b->checksum));
	appendStringInfoString(buf, "\\if :migr_run\n");
	for (int k = first; k < n; k++)
	{
		MigrStatement *st = &stmts[k];

		CHECK_FOR_INTERRUPTS();
		if (txn)
		{
			append_statement(buf, st->text);
			continue;
		}
		appendStringInfo(buf, "-- statement %d of %d%s\n", k + 1, n,
						 st->toplevel ? ", at top level"
						 : st->commits ? ", at top level: it commits as it goes" : "");
		/* a batch job commits its batches only where a CALL may commit */
		if (st->toplevel || st->commits)
		{
			if (st->no_lock_timeout && lock_timeout > 0)
				append_set_lock_timeout(buf, 0);
			append_statement(buf, st->text);
			if (st->no_lock_timeout && lock_timeout > 0)
				append_set_lock_timeout(buf, lock_timeout);
			appendStringInfo(buf, "CALL migr.script_progress(%d, %s, %d);\n", i + 1, id, k + 1);
		}
		else
		{
			appendStringInfoString(buf, "BEGIN;\n");
			append_statement(buf, st->text);
			appendStringInfo(buf, "CALL migr.script_progress(%d, %s, %d);\n", i + 1, id, k + 1);
			appendStringInfoString(buf, "COMMIT;\n");
		}
	}
	appendStringInfo(buf, "CALL migr.script_done(%d, %s);\n", i + 1, id);
	appendStringInfoString(buf, "\\endif\n");
	if (txn)
		appendStringInfoString(buf, "COMMIT;\n");
}

static char *
build_script(MigrGraph *g, MigrPlan *plan, MigrBody *bodies, char **messages,
			 const char *target, int resume)
{
	StringInfoData buf;
	const char *dir = plan->upgrade ? "upgrade" : "downgrade";
	char	   *call = psprintf("CALL %s(%s)", plan->upgrade ? "migr.apply" : "migr.revert",
								quote_literal_cstr(target));
	int			lt = migr_guard_lock_timeout();

	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "-- migr offline script: the %s to %s, %d step%s\n"
					 "--\n"
					 "-- It runs what %s would run in this database.  Review it,\n"
					 "-- then run it whole in a database where migr is installed:\n"
					 "--     psql -v ON_ERROR_STOP=1 -f <this file>\n"
					 "-- (not with -1 or --single-transaction).  Its first call takes the\n"
					 "-- migration lock and refuses to go on unless the plan there is still\n"
					 "-- these steps with these revision contents.  migr.script_step() and\n"
					 "-- migr.script_done() evaluate each revision's checks and record each\n"
					 "-- step as the CALL would.  The script stops at its first error; the\n"
					 "-- steps before it stay done, and a new script continues from there.\n",
					 dir, quote_literal_cstr(target), plan->nsteps, plan->nsteps == 1 ? "" : "s",
					 call);
	if (plan->nsteps == 0)
		appendStringInfo(&buf, "--\n-- Nothing to %s.\n", plan->upgrade ? "apply" : "revert");
	else
	{
		appendStringInfoString(&buf, "--\n");
		for (int i = 0; i < plan->nsteps; i++)
		{
			char	   *ck = checks_string(&bodies[i], plan->upgrade);

			CHECK_FOR_INTERRUPTS();
			appendStringInfo(&buf, "-- %4d  %s%s%s%s%s\n", i + 1, g->revs[plan->steps[i]].id,
							 migr_script_step_transactional(g, plan, i, resume) ? "" : "  non-transactional",
							 i == 0 && resume >= 0 ? ", resumed" : "",
							 ck[0] ? "  checks: " : "", ck);
		}
	}
	appendStringInfoString(&buf,
						   "\n\\set ON_ERROR_STOP on\n"
						   "\\set AUTOCOMMIT on\n"
						   "\\set ON_ERROR_ROLLBACK off\n");
	appendStringInfo(&buf, "CALL migr.script_begin('%s', %s, %d, '%s');\n",
					 dir, quote_literal_cstr(target), plan->nsteps,
					 migr_script_digest(g, plan, bodies, target, resume));
	appendStringInfoString(&buf,
						   "-- the timeouts of the revisions' statements: migr.lock_timeout and\n"
						   "-- migr.statement_timeout as they were when the script was generated\n");
	append_set_lock_timeout(&buf, lt);
	appendStringInfo(&buf, "SET statement_timeout = %s;\n",
					 migr_statement_timeout > 0
					 ? quote_literal_cstr(psprintf("%dms", migr_statement_timeout)) : "0");
	for (int i = 0; i < plan->nsteps; i++)
	{
		CHECK_FOR_INTERRUPTS();
		append_step(&buf, g, plan, &bodies[i], messages[plan->steps[i]], i, resume, lt);
	}
	appendStringInfoString(&buf,
						   "\nRESET lock_timeout;\n"
						   "RESET statement_timeout;\n"
						   "CALL migr.script_end();\n");
	return buf.data;
}

/*
 * migr.script(target text DEFAULT 'head', direction text DEFAULT NULL)
 *	 RETURNS text
 *
 * The psql script that runs the plan migr.plan(target, direction) shows,
 * as CALL migr.apply(target) or migr.revert(target) would.  Refused where
 * that CALL would refuse before running anything: an irreversible step
 * (MG002), a revision part way through that the plan does not continue
 * (55000), and the planner's errors.
 */
Datum
migr_script(PG_FUNCTION_ARGS)
{
	char	   *target = migr_required_text_arg(fcinfo, 0, "target");
	char	   *direction = migr_text_arg(fcinfo, 1);
	MemoryContext outer = CurrentMemoryContext;
	MigrGraph  *g;
	MigrPlan   *plan;
	MigrBody   *bodies = NULL;
	MigrProgress *p;
	int64		max_seq;
	char	  **messages;
	TimestampTz *at;
	bool	   *at_null;
	int			resume;
	char	   *out;
	MemoryContext old;

	migr_spi_connect();
	g = migr_catalog_load_graph(outer, true, &max_seq);
	old = MemoryContextSwitchTo(outer);
	plan = make_plan(g, target, direction);
	MemoryContextSwitchTo(old);
	p = migr_refuse_unfinished(g, plan, true);
	resume = p ? p->done : -1;
	if (plan->nsteps > 0)
		bodies = migr_catalog_load_bodies(g, plan->steps, plan->nsteps, plan->upgrade, outer);
	migr_run_refuse_irreversible(g, plan, bodies);
	messages = MemoryContextAlloc(outer, sizeof(char *) * (g->nrevs + 1));
	at = palloc(sizeof(TimestampTz) * (g->nrevs + 1));
	at_null = palloc(sizeof(bool) * (g->nrevs + 1));
	migr_catalog_history_details(g, messages, at, at_null, outer);
	migr_spi_finish();

	out = build_script(g, plan, bodies, messages, target, resume);
	PG_RETURN_TEXT_P(cstring_to_text(out));
}
