/*-------------------------------------------------------------------------
 * health.c
 *	  "Is this database where it should be?": migr.check(), the schema
 *	  description and fingerprint functions, and the built-in reversibility
 *	  ("stairway") test.  SQL entry points and their logic; the catalog and
 *	  graph work is in catalog.c, target.c and fingerprint.c.
 *
 * IDENTIFICATION
 *	  src/health.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "apply.h"
#include "batch.h"
#include "body.h"
#include "catalog.h"
#include "catalog/pg_type.h"
#include "catsig.h"
#include "checksum.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fingerprint.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "lock.h"
#include "migr_errcodes.h"
#include "miscadmin.h"
#include "progress.h"
#include "revcheck.h"
#include "sqlcall.h"
#include "strlist.h"
#include "subxact.h"
#include "summary.h"
#include "target.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

PG_FUNCTION_INFO_V1(migr_describe_sql);
PG_FUNCTION_INFO_V1(migr_fingerprint_sql);
PG_FUNCTION_INFO_V1(migr_check);
PG_FUNCTION_INFO_V1(migr_test_reversibility);

#define MAX_DIFF_LINES 20

typedef struct Finding
{
	int			severity;		/* 0 error, 1 warning, 2 info */
	const char *code;
	char	   *revision;
	char	   *message;
	char	   *detail;
} Finding;

static const char *const severity_names[] = {"error", "warning", "info"};

/* schemas argument: a text[] or NULL for the default set */
static Datum
schemas_arg(FunctionCallInfo fcinfo, bool *isnull)
{
	*isnull = PG_ARGISNULL(0);
	return *isnull ? (Datum) 0 : PG_GETARG_DATUM(0);
}

/*
 * migr.describe(schemas text[] DEFAULT NULL)
 *	 RETURNS TABLE (kind text, object text, definition text)
 */
Datum
migr_describe_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		isnull;
	Datum		schemas = schemas_arg(fcinfo, &isnull);
	MigrDescRow *rows;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	migr_spi_connect();
	rows = migr_describe(schemas, isnull, &n);
	for (int i = 0; i < n; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(rows[i].kind);
		values[1] = CStringGetTextDatum(rows[i].object);
		values[2] = CStringGetTextDatum(rows[i].definition);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	migr_spi_finish();
	return (Datum) 0;
}

/* migr.fingerprint(schemas text[] DEFAULT NULL) RETURNS text */
Datum
migr_fingerprint_sql(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		schemas = schemas_arg(fcinfo, &isnull);
	MemoryContext outer = CurrentMemoryContext;
	MigrDescRow *rows;
	int			n;
	text	   *fp;

	migr_spi_connect();
	rows = migr_describe(schemas, isnull, &n);
	MemoryContextSwitchTo(outer);
	fp = cstring_to_text(migr_fingerprint_of(rows, n));
	migr_spi_finish();
	PG_RETURN_TEXT_P(fp);
}

static void
add(List **findings, int severity, const char *code, const char *rev,
	char *message, char *detail)
{
	Finding    *f = palloc(sizeof(Finding));

	f->severity = severity;
	f->code = code;
	f->revision = rev ? pstrdup(rev) : NULL;
	f->message = message;
	f->detail = detail;
	*findings = lappend(*findings, f);
}

static int
cmp_findings(const ListCell *a, const ListCell *b)
{
	const Finding *x = lfirst(a);
	const Finding *y = lfirst(b);
	int			c = x->severity - y->severity;

	if (c == 0)
		c = strcmp(x->code, y->code);
	if (c == 0)
		c = strcmp(x->revision ? x->revision : "", y->revision ? y->revision : "");
	if (c == 0)
		c = strcmp(x->message, y->message);
	return c;
}

/*
 * A parameterless catalog query (see migr_catalog_path_query), its plan
 * kept in *slot for the life of the backend.
 */
static void
catalog_query(SPIPlanPtr *slot, const char *sql)
{
	migr_catalog_path_query_kept(slot, sql);
}

static char *
value(int row, int col)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);

	return v ? pstrdup(v) : NULL;
}

/* What check_content works with: the findings, and one sha256 context */
typedef struct ContentCheck
{
	List	  **findings;
	pg_cryptohash_ctx *ctx;
} ContentCheck;

/* Whether a recorded checksum is these sha256 bytes */
static bool
checksum_is(bytea *sum, const uint8 *digest)
{
	return VARSIZE_ANY_EXHDR(sum) == PG_SHA256_DIGEST_LENGTH &&
		memcmp(VARDATA_ANY(sum), digest, PG_SHA256_DIGEST_LENGTH) == 0;
}

/*
 * One revision's content against its checksums.  The sha256 is recomputed
 * from the stored SQL and checks, so an edit of migr.migration that leaves
 * the checksum column alone is still seen: as "tampered" when the content no
 * longer matches its own recorded checksum, and as "checksum_mismatch" when
 * an applied revision's content is not what was applied.
 */
static void
check_content(const char *id, const char *upgrade_sql, const char *downgrade_sql,
			  char *const *checks, bytea *checksum, bytea *applied_checksum,
			  void *arg)
{
	ContentCheck *cc = (ContentCheck *) arg;
	List	  **findings = cc->findings;
	uint8		actual[PG_SHA256_DIGEST_LENGTH];

	if (cc->ctx == NULL)
		cc->ctx = migr_sha256_begin();
	migr_checksum_into(cc->ctx, upgrade_sql, downgrade_sql, checks, actual);

	/* NOT NULL in migr.migration: only a dropped constraint lets one in */
	if (checksum == NULL)
		add(findings, 0, "tampered", id,
			psprintf("the stored content of revision \"%s\" does not match its checksum", id),
			psprintf("migr.migration records no sha256, but its SQL and checks hash to %s; the row was changed outside migr.revision().",
					 migr_hex(actual, PG_SHA256_DIGEST_LENGTH)));
	else if (!checksum_is(checksum, actual))
		add(findings, 0, "tampered", id,
			psprintf("the stored content of revision \"%s\" does not match its checksum", id),
			psprintf("migr.migration records sha256 %s, but its SQL and checks hash to %s; the row was changed outside migr.revision().",
					 migr_checksum_hex(checksum), migr_hex(actual, PG_SHA256_DIGEST_LENGTH)));
	if (applied_checksum && !checksum_is(applied_checksum, actual))
		add(findings, 0, "checksum_mismatch", id,
			psprintf("applied revision \"%s\" changed since it was applied", id),
			psprintf("It ran with sha256 %s; the registered content has sha256 %s.",
					 migr_checksum_hex(applied_checksum), migr_hex(actual, PG_SHA256_DIGEST_LENGTH)));
}

/*
 * Whether any batch job is not done: the view migr.progress, which reads
 * pg_locks, is only worth planning then.
 */
static bool
unfinished_jobs(void)
{
	static SPIPlanPtr plan = NULL;
	int			any = migr_read_any_row("batch_job", "state", "done");

	/* a scan of its own when it can (checkread.c), else the query */
	if (any >= 0)
		return any == 1;
	migr_run_kept(&plan, "SELECT 1 FROM migr.batch_job j WHERE j.state OPERATOR(pg_catalog.<>) 'done' LIMIT 1",
				  0, NULL, NULL, NULL, true, 0, SPI_OK_SELECT);
	return SPI_processed > 0;
}

/*
 * Gather every finding.  Allocations in the current (caller's) context; the
 * caller is connected to SPI.
 */
static List *
gather_findings(void)
{
	static SPIPlanPtr unregistered_plan = NULL;
	static SPIPlanPtr fkey_plan = NULL;
	static SPIPlanPtr invalid_plan = NULL;
	static SPIPlanPtr jobs_plan = NULL;
	List	   *findings = NIL;
	int64		max_seq;
	MigrGraph  *g;
	bool		all_registered;
	MigrPlan   *pending;
	MigrDescRow *snap,
			   *now;
	int			nsnap,
				nnow;
	char	   *fp_snap;
	int		   *applied_verify;
	int			nverify = 0;
	int			gaps = 0;
	bytea	   *sig_snap;
	bool		recorded = true;
	bool		sig_match = false;
	uint32		facts = 0;
	int			rehashed = 0;
	int			pages = 0;
	ContentCheck cc = {&findings, NULL};

	/*
	 * The graph, and in the same read, each revision's content against its
	 * checksums: recomputed from what is stored, never trusted.
	 */
	g = migr_catalog_load_graph_contents(CurrentMemoryContext, &max_seq,
										 check_content, &cc,
										 &all_registered);
	if (cc.ctx)
		pg_cryptohash_free(cc.ctx);

	/*
	 * History and registrations that disagree: only possible when the
	 * graph's read counted fewer registered applied revisions than rows
	 * of migr.applied (or read no revision at all).
	 */
	if (!all_registered)
	{
		migr_run_kept(&unregistered_plan,
					  "SELECT a.revision FROM migr.applied a"
					  " WHERE NOT EXISTS (SELECT 1 FROM migr.migration m"
					  "                    WHERE m.id OPERATOR(pg_catalog.=) a.revision)"
					  " ORDER BY a.revision COLLATE pg_catalog.\"C\"",
					  0, NULL, NULL, NULL, true, 0, SPI_OK_SELECT);
		for (uint64 i = 0; i < SPI_processed; i++)
			add(&findings, 0, "unregistered", value(i, 1),
				psprintf("applied revision \"%s\" is not registered", value(i, 1)),
				pstrdup("migr.applied records it, but migr.migration has no revision with that id."));
	}

	/*
	 * An applied set that is not closed downwards (written by hand, or by a
	 * stamp of a database that was not where it said): every applied
	 * revision whose parent or dependency is not applied.  Planning an
	 * upgrade over such a set raises, so pending revisions are only listed
	 * without one.
	 */
	for (int i = 0; i < g->nrevs; i++)
	{
		MigrRev    *r = &g->revs[i];

		CHECK_FOR_INTERRUPTS();
		if (!r->applied)
			continue;
		for (int j = 0; j < r->nalldown; j++)
		{
			bool		parent = j < r->nparents;
			MigrRev    *below = &g->revs[r->alldown[j]];

			if (below->applied)
				continue;
			gaps++;
			add(&findings, 0, "applied_gap", r->id,
				psprintf("applied revision \"%s\" %s \"%s\", which is not applied",
						 r->id, parent ? "revises" : "depends on", below->id),
				pstrdup("migr.applied is not closed downwards: it was written by hand, or a stamp recorded a state the schema was not in. Stamp the database to where it really is."));
		}
	}

	/* pending revisions and several heads */
	if (g->nrevs > 0 && gaps == 0)
	{
		pending = migr_plan_upgrade(g, "heads");
		for (int i = 0; i < pending->nsteps; i++)
			add(&findings, 0, "pending", g->revs[pending->steps[i]].id,
				psprintf("revision \"%s\" is not applied", g->revs[pending->steps[i]].id),
				(g->revs[pending->steps[i]].nontxn & MIGR_NONTXN_UPGRADE)
				? pstrdup("It is on the way to the heads; CALL migr.apply('heads') would apply it (it is non-transactional, so migr.upgrade() cannot).")
				: pstrdup("It is on the way to the heads; migr.upgrade('heads') would apply it."));
	}
	if (g->nheads > 1)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		for (int i = 0; i < g->nheads; i++)
			appendStringInfo(&buf, "%s\"%s\"", i ? ", " : "", g->revs[g->heads[i]].id);
		add(&findings, 1, "multiple_heads", NULL,
			psprintf("the revision graph has %d heads", g->nheads),
			psprintf("The heads are %s; register a merge revision that revises them.", buf.data));
	}

	/* applied revisions whose verify no longer holds */
	applied_verify = palloc(sizeof(int) * (g->nrevs + 1));
	for (int i = 0; i < g->nrevs; i++)
		if (g->revs[i].applied && (g->revs[i].checkmask & (1 << MIGR_CHECK_VERIFY)))
			applied_verify[nverify++] = i;
	if (nverify > 0)
	{
		MigrBody   *b = migr_catalog_load_bodies(g, applied_verify, nverify, true,
												 CurrentMemoryContext);

		for (int i = 0; i < nverify; i++)
		{
			MigrRev    *r = &g->revs[applied_verify[i]];

			char	   *why = NULL;
			MigrCheckOutcome ok = migr_read_check(r->id, MIGR_CHECK_VERIFY,
												  b[i].checks[MIGR_CHECK_VERIFY],
												  b[i].registered_by, &why);

			if (ok == MIGR_READ_NOT_RUN)
				add(&findings, 1, "verify_not_evaluated", r->id,
					psprintf("the verify condition of applied revision \"%s\" was not evaluated", r->id),
					psprintf("verify: %s\n%s", b[i].checks[MIGR_CHECK_VERIFY], why));
			else if (ok != MIGR_READ_TRUE)
				add(&findings, 0, "verify_failed", r->id,
					psprintf("the verify condition of applied revision \"%s\" no longer holds", r->id),
					ok == MIGR_READ_RAISED
					? psprintf("verify: %s\nIt raised an error: %s", b[i].checks[MIGR_CHECK_VERIFY], why)
					: psprintf("verify: %s", b[i].checks[MIGR_CHECK_VERIFY]));
		}
	}

	/*
	 * Schema drift since migr last changed the schema.  While the catalogs
	 * are as they were when the description was recorded, it cannot differ
	 * (catsig.c), and describing a large schema is the slow part of this
	 * function.
	 */
	if (!migr_catalog_snapshot_signature(CurrentMemoryContext, &sig_snap))
		recorded = false;
	else
	{
		sig_match = sig_snap != NULL &&
			migr_catalog_signature_matches(sig_snap, &facts, &rehashed, &pages);
		elog(DEBUG1, "migr.check(): catalog signature %s, %d of %d pages hashed again",
			 sig_snap == NULL ? "not recorded" : sig_match ? "matches" : "differs",
			 rehashed, pages);
		if (!sig_match &&
			migr_catalog_load_snapshot(CurrentMemoryContext, &snap, &nsnap, &fp_snap))
		{
			now = migr_describe((Datum) 0, true, &nnow);
			if (strcmp(migr_fingerprint_of(now, nnow), fp_snap) != 0)
				add(&findings, 0, "schema_drift", NULL,
					pstrdup("the schema differs from the one migr last recorded"),
					psprintf("Objects that differ (+ added, - removed, ~ changed):\n%s",
							 migr_describe_diff(snap, nsnap, now, nnow, MAX_DIFF_LINES)));
		}
	}
	if (!recorded && g->nrevs > 0)
		add(&findings, 2, "no_fingerprint", NULL,
			pstrdup("no schema fingerprint is recorded yet"),
			pstrdup("migr records one at the end of every upgrade, downgrade or stamp that changes something."));

	/*
	 * While the signature matches, the catalogs are the ones its facts were
	 * read from: a query below is needed only when they say it may find
	 * something.  Under REPEATABLE READ the queries read the transaction's
	 * snapshot, which may predate the catalog snapshot the signature was
	 * compared with: they always run then.
	 */
	if (IsolationUsesXactSnapshot())
		sig_match = false;

	/* foreign keys without an index on their referencing columns */
	/* the foreign keys first: few, and their joins then go by index */
	if (!sig_match || (facts & MIGR_CATSIG_UNINDEXED_FKEY))
	{
		catalog_query(&fkey_plan,
					  "WITH fk AS MATERIALIZED ("
					  "  SELECT co.oid, co.conrelid, co.conname, co.conkey FROM pg_constraint co"
					  "   WHERE co.contype = 'f')"
					  " SELECT n.nspname || '.' || c.relname, fk.conname, pg_get_constraintdef(fk.oid)"
					  "   FROM fk JOIN pg_class c ON c.oid = fk.conrelid"
					  "   JOIN pg_namespace n ON n.oid = c.relnamespace"
					  "  WHERE n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema', 'migr'])"
					  "    AND NOT EXISTS ("
					  "        SELECT 1 FROM pg_index i WHERE i.indrelid = fk.conrelid AND i.indisvalid"
					  "           AND array_to_string((i.indkey::int2[])[0:cardinality(fk.conkey) - 1], ',')"
					  "               = array_to_string(fk.conkey, ','))"
					  "  ORDER BY n.nspname COLLATE pg_catalog.\"C\", c.relname COLLATE pg_catalog.\"C\","
					  "           fk.conname COLLATE pg_catalog.\"C\"");
		for (uint64 i = 0; i < SPI_processed; i++)
			add(&findings, 1, "unindexed_foreign_key", NULL,
				psprintf("foreign key \"%s\" on \"%s\" has no index on its referencing columns",
						 value(i, 2), value(i, 1)),
				psprintf("%s. Deletes and updates on the referenced table scan \"%s\"; migr.create_foreign_key() adds the index.",
						 value(i, 3), value(i, 1)));
	}

	/* indexes a failed CREATE INDEX CONCURRENTLY or REINDEX left invalid */
	if (!sig_match || (facts & MIGR_CATSIG_INVALID_INDEX))
	{
		catalog_query(&invalid_plan,
					  "WITH bad AS MATERIALIZED ("
					  "  SELECT i.indexrelid, i.indrelid FROM pg_index i WHERE NOT i.indisvalid)"
					  " SELECT n.nspname || '.' || ci.relname, n.nspname || '.' || c.relname,"
					  "        quote_ident(n.nspname) || '.' || quote_ident(ci.relname)"
					  "   FROM bad JOIN pg_class ci ON ci.oid = bad.indexrelid"
					  "   JOIN pg_class c ON c.oid = bad.indrelid"
					  "   JOIN pg_namespace n ON n.oid = ci.relnamespace"
					  "  WHERE n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])"
					  "    AND n.nspname !~ '^pg_(toast_)?temp_'"
					  "  ORDER BY n.nspname COLLATE pg_catalog.\"C\", ci.relname COLLATE pg_catalog.\"C\"");
		for (uint64 i = 0; i < SPI_processed; i++)
			add(&findings, 0, "invalid_index", NULL,
				psprintf("index \"%s\" on \"%s\" is invalid", value(i, 1), value(i, 2)),
				psprintf("A CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY failed, was cancelled or is still running: queries do not use the index, but writes may still maintain it. Drop it (DROP INDEX %s) and create it again, or rebuild it (REINDEX INDEX %s).",
						 value(i, 3), value(i, 3)));
	}

	/*
	 * A non-transactional revision that a failure stopped part way: its
	 * row is only looked up when a scan of the table (checkread.c) did not
	 * show it empty.
	 */
	{
		int			any = !migr_catalog_v2() ? 0
			: migr_read_any_row(migr_catalog_version() >= 3 ? "revision_progress" : "progress",
								NULL, NULL);
		MigrProgress *p = any != 0 ? migr_progress_get(CurrentMemoryContext) : NULL;

		if (p)
			add(&findings, 0, "partially_applied", p->revision,
				psprintf("revision \"%s\" is part way through its %s", p->revision,
						 p->upgrade ? "upgrade" : "downgrade"),
				psprintf("%d of its %d statements ran and were committed; every other run is refused until it is finished. CALL migr.%s() resumes it at statement %d.",
						 p->done, p->total, p->upgrade ? "apply" : "revert", p->done + 1));
	}

	/*
	 * Batch jobs that stopped before the end (failed or interrupted; one
	 * running now is work in progress, not a finding): work still to do.
	 */
	if (migr_catalog_version() >= 3 && unfinished_jobs())
	{
		catalog_query(&jobs_plan,
					  "SELECT p.job, p.revision, p.state, p.rows_done, p.rows_total,"
					  "       p.last_key::pg_catalog.text, p.error, p.relation"
					  "  FROM migr.progress p"
					  " WHERE p.kind OPERATOR(pg_catalog.=) 'batch'"
					  "   AND p.state OPERATOR(pg_catalog.<>) 'running'"
					  " ORDER BY p.started_at, p.job");
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			char	   *job = value(r, 1);
			char	   *error = value(r, 7);

			add(&findings, 1, "unfinished_batch_job", value(r, 2),
				psprintf("batch job \"%s\" on %s %s before the end", job, value(r, 8),
						 strcmp(value(r, 3), "failed") == 0 ? "failed" : "stopped"),
				psprintf("%s of about %s rows are done, up to key %s.%s%s%s Calling it again with the same arguments goes on from there.",
						 value(r, 4), value(r, 5) ? value(r, 5) : "?",
						 value(r, 6) ? value(r, 6) : "(none)",
						 error ? " It failed with: " : "", error ? error : "",
						 error ? "." : ""));
		}
	}

	/*
	 * The summary no-op upgrades and current() trust: a fresh row that
	 * disagrees with the graph (only a hand edit of migr.summary itself
	 * can do that) would make a pending upgrade look done.
	 */
	{
		MigrSummary said,
					truth;

		if (migr_summary_read(CurrentMemoryContext, &said))
		{
			migr_summary_of(g, &truth);
			if (!migr_summary_equal(&said, &truth))
				add(&findings, 0, "summary_mismatch", NULL,
					pstrdup("migr.summary does not match the revision graph"),
					psprintf("It says %lld pending, %d graph heads, current heads {%s}; the graph has %lld, %d, {%s}. A no-op upgrade and migr.current() read it. Delete the row (DELETE FROM migr.summary, as the extension owner): the next upgrade, downgrade or stamp writes it again.",
							 (long long) said.pending, said.graph_heads,
							 migr_join_list(said.current_heads, said.ncurrent), (long long) truth.pending,
							 truth.graph_heads, migr_join_list(truth.current_heads, truth.ncurrent)));
		}
	}

	/* irreversible revisions */
	for (int i = 0; i < g->nrevs; i++)
		if (g->revs[i].irreversible)
			add(&findings, 2, "irreversible", g->revs[i].id,
				psprintf("revision \"%s\" is irreversible", g->revs[i].id),
				pstrdup("It has no downgrade SQL; migr.downgrade() cannot go below it."));

	list_sort(findings, cmp_findings);
	return findings;
}

/*
 * migr.check(strict boolean DEFAULT false)
 *	 RETURNS TABLE (severity text, code text, revision text, message text,
 *					detail text)
 *
 * With strict, any error-level finding raises MG006 instead.
 */
Datum
migr_check(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		strict = !PG_ARGISNULL(0) && PG_GETARG_BOOL(0);
	List	   *findings;
	ListCell   *lc;
	int			nerrors = 0;
	StringInfoData errs;
	MemoryContext outer = CurrentMemoryContext;

	InitMaterializedSRF(fcinfo, 0);
	migr_spi_connect();
	findings = gather_findings();
	/* the MG006 detail is raised after SPI_finish() */
	MemoryContextSwitchTo(outer);
	initStringInfo(&errs);
	foreach(lc, findings)
	{
		Finding    *f = lfirst(lc);
		Datum		values[5];
		bool		nulls[5] = {false, false, f->revision == NULL, false, f->detail == NULL};

		if (f->severity == 0)
		{
			if (nerrors < 5)
				appendStringInfo(&errs, "%s%s: %s", nerrors ? "; " : "", f->code, f->message);
			nerrors++;
		}
		values[0] = CStringGetTextDatum(severity_names[f->severity]);
		values[1] = CStringGetTextDatum(f->code);
		values[2] = f->revision ? CStringGetTextDatum(f->revision) : (Datum) 0;
		values[3] = CStringGetTextDatum(f->message);
		values[4] = f->detail ? CStringGetTextDatum(f->detail) : (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	migr_spi_finish();
	if (strict && nerrors > 0)
		ereport(ERROR,
				(errcode(ERRCODE_MIGR_CHECK_FAILED),
				 errmsg("migr.check() found %d error%s", nerrors, nerrors == 1 ? "" : "s"),
				 errdetail("%s%s", errs.data, nerrors > 5 ? "; ..." : ""),
				 errhint("Run SELECT * FROM migr.check() to see every finding.")));
	return (Datum) 0;
}

/* the function's own resource owner: result rows must not belong to a
 * subtransaction that is rolled back (a tuplestore may spill to a file) */
static ResourceOwner result_owner;

static void
put_result(ReturnSetInfo *rsinfo, int step, const char *rev, const char *status,
		   const char *detail)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, detail == NULL};
	ResourceOwner save = CurrentResourceOwner;

	values[0] = Int32GetDatum(step);
	values[1] = CStringGetTextDatum(rev);
	values[2] = CStringGetTextDatum(status);
	values[3] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	CurrentResourceOwner = result_owner;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	CurrentResourceOwner = save;
}

/*
 * One stairway step for revision r: fingerprint, upgrade, fingerprint,
 * downgrade, compare, upgrade again, compare.  Leaves r applied.  Returns
 * the failure detail, or NULL when it passed.
 */
typedef struct Stair
{
	MigrRev    *r;
	const char *up;
	const char *down;			/* NULL: irreversible, just upgrade */
	char	   *detail;			/* failure detail, or NULL */
} Stair;

static char *
stairway_step(MigrRev *r, const char *up, const char *down)
{
	int			n0,
				n1,
				n2,
				n3;
	MigrDescRow *d0 = migr_describe((Datum) 0, true, &n0);
	MigrDescRow *d1;
	MigrDescRow *d2;
	MigrDescRow *d3;
	char	   *diff;

	/*
	 * After each step, forget the revision's batch jobs, as recording a
	 * step does: else the second upgrade would find its jobs done.
	 */
	migr_body_run(r->id, "upgrade", up);
	migr_batch_forget_revision(r->id);
	d1 = migr_describe((Datum) 0, true, &n1);
	migr_body_run(r->id, "downgrade", down);
	migr_batch_forget_revision(r->id);
	d2 = migr_describe((Datum) 0, true, &n2);
	diff = migr_describe_diff(d0, n0, d2, n2, MAX_DIFF_LINES);
	if (diff)
		return psprintf("the downgrade does not restore the schema (+ left behind, - not restored, ~ changed):\n%s", diff);
	migr_body_run(r->id, "upgrade", up);
	migr_batch_forget_revision(r->id);
	d3 = migr_describe((Datum) 0, true, &n3);
	diff = migr_describe_diff(d1, n1, d3, n3, MAX_DIFF_LINES);
	if (diff)
		return psprintf("upgrading again gives another schema than the first upgrade:\n%s", diff);
	return NULL;
}

static void
stairway_in_subxact(void *arg)
{
	Stair	   *s = (Stair *) arg;

	if (s->down == NULL)
		migr_body_run(s->r->id, "upgrade", s->up);
	else
		s->detail = stairway_step(s->r, s->up, s->down);
}

/*
 * What in a revision's upgrade or downgrade can only run at top level
 * ("upgrade statement 2, CREATE INDEX CONCURRENTLY"), or NULL.
 */
static char *
toplevel_statement(MigrRev *r, const char *up, const char *down)
{
	const char *sql[2] = {up, down};
	const char *dir[2] = {"upgrade", "downgrade"};

	if (r->nontxn == 0)
		return NULL;
	for (int k = 0; k < 2; k++)
	{
		int			n;
		MigrStatement *st;

		if (sql[k] == NULL)
			continue;
		st = migr_body_split(r->id, dir[k], sql[k], &n);
		for (int j = 0; j < n; j++)
			if (st[j].toplevel)
				return psprintf("%s statement %d, %s,", dir[k], j + 1, st[j].toplevel);
	}
	return NULL;
}

/* Everything the stairway loop needs */
typedef struct StairwayArgs
{
	ReturnSetInfo *rsinfo;
	MigrGraph  *g;
	MigrPlan   *plan;
	MigrBody   *up;
	MigrBody   *down;
} StairwayArgs;

/* The stairway of every step, in order; the caller rolls it all back. */
static void
run_stairway(void *arg)
{
	StairwayArgs *a = (StairwayArgs *) arg;
	bool		stopped = false;
	const char *stopped_why = NULL;

	for (int i = 0; i < a->plan->nsteps; i++)
	{
		MigrRev    *r = &a->g->revs[a->plan->steps[i]];
		Stair		stair;
		ErrorData  *edata;
		char	   *why;

		CHECK_FOR_INTERRUPTS();
		if (stopped)
		{
			put_result(a->rsinfo, i + 1, r->id, "not run", stopped_why);
			continue;
		}
		if ((why = toplevel_statement(r, a->up[i].sql, a->down[i].sql)) != NULL)
		{
			put_result(a->rsinfo, i + 1, r->id, "not tested",
					   psprintf("Its %s cannot run inside the transaction this test rolls back. Later steps were not run.", why));
			stopped = true;
			stopped_why = "An earlier step could not be tested.";
			continue;
		}
		stair.r = r;
		stair.up = a->up[i].sql;
		stair.down = a->down[i].sql;
		stair.detail = NULL;
		edata = migr_subxact_try(stairway_in_subxact, &stair, true, false);
		if (edata)
		{
			put_result(a->rsinfo, i + 1, r->id, "error",
					   psprintf("%s (SQLSTATE %s)%s%s", edata->message,
								unpack_sql_state(edata->sqlerrcode),
								edata->context ? "\n" : "",
								edata->context ? edata->context : ""));
			FreeErrorData(edata);
			stopped = true;
			stopped_why = "An earlier step failed with an error.";
		}
		else if (stair.down == NULL)
			put_result(a->rsinfo, i + 1, r->id, "irreversible",
					   "It has no downgrade SQL; it was upgraded without a test.");
		else
			put_result(a->rsinfo, i + 1, r->id, stair.detail ? "fail" : "pass", stair.detail);
	}
}

/*
 * migr.test_reversibility(target text DEFAULT 'heads')
 *	 RETURNS TABLE (step int, revision text, status text, detail text)
 *
 * For each revision an upgrade to target would apply, in order: upgrade,
 * downgrade, upgrade again, comparing fingerprints.  status is pass, fail,
 * error (the SQL raised; later steps are "not run"), irreversible (no
 * downgrade SQL: upgraded without testing), or not tested (a statement
 * that runs only at top level; later steps are "not run").  Everything runs in a
 * subtransaction that is always rolled back, so the database, the catalog
 * and the event log are exactly as before.
 */
Datum
migr_test_reversibility(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *target;
	MemoryContext outer = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	MigrGraph  *g;
	MigrPlan   *plan;
	MigrBody   *up,
			   *down;
	int64		max_seq;
	StairwayArgs st;
	ErrorData  *edata;

	target = migr_required_text_arg(fcinfo, 0, "target");
	migr_require_writable("migr.test_reversibility()");
	result_owner = owner;
	InitMaterializedSRF(fcinfo, 0);
	migr_body_refuse_reentry("migr.test_reversibility()");
	migr_spi_connect();
	migr_lock_acquire();
	g = migr_catalog_load_graph(outer, true, &max_seq);
	plan = migr_plan_upgrade(g, target);
	up = migr_catalog_load_bodies(g, plan->steps, plan->nsteps, true, outer);
	down = migr_catalog_load_bodies(g, plan->steps, plan->nsteps, false, outer);

	/*
	 * The whole stairway in one subtransaction that is always rolled back;
	 * an error that escapes a step (a cancel) rolls it back too, rather
	 * than leaving the session in an aborted subtransaction.
	 */
	st.rsinfo = rsinfo;
	st.g = g;
	st.plan = plan;
	st.up = up;
	st.down = down;
	edata = migr_subxact_try(run_stairway, &st, false, false);
	if (edata)
		ReThrowError(edata);
	MemoryContextSwitchTo(outer);
	CurrentResourceOwner = owner;
	migr_spi_finish();
	return (Datum) 0;
}
