/*-------------------------------------------------------------------------
 * catalog.c
 *	  Reads and writes of the migr.* tables for registration, planning and
 *	  the step records.  The summary row (summary.c), the cycle check
 *	  (cycle.c), the commit-time edge check (register.c) and check()'s
 *	  queries (health.c) keep their SQL next to their logic.
 *
 *	  Callers have connected to SPI.  Values travel as parameters; every
 *	  name, operator and function is schema-qualified so that nothing on the
 *	  caller's search_path can stand in for them.  Step records are written
 *	  in a few set-based statements per call rather than several statements
 *	  per step, which keeps migr's own cost per revision small.
 *
 *	  Reads run as the caller (PUBLIC may read the catalog).  Writes run as
 *	  the extension owner (owner.c), so deploy roles need no rights on the
 *	  tables; the roles recorded in them (registered_by, applied_by, role)
 *	  are the caller's, read before the switch.
 *
 * IDENTIFICATION
 *	  src/catalog.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/sha2.h"
#include "cycle.h"
#include "lib/stringinfo.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "migr_errcodes.h"
#include "owner.h"
#include "sqlcall.h"
#include "strlist.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

/* Run a query with parameters; elog on an unexpected SPI result. */
static void
run(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
	bool read_only, int expected)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls,
										   read_only, 0);

	if (rc != expected)
		elog(ERROR, "migr catalog query failed: %s", SPI_result_code_string(rc));
}

/*
 * migr_catalog_version
 *		The minor version of the catalog: 1 to 4 (for 0.1.0 to 0.4.0).  A
 *		library newer than the extension's SQL objects (installed, ALTER
 *		EXTENSION UPDATE not run yet) still serves an older catalog: readers
 *		and writers leave out what it does not have.  Each version is told by
 *		a relation or column it added: migr.progress (a table in 0.2.0, a
 *		view since), migr.batch_job and migr.migration.source_file.
 */
int
migr_catalog_version(void)
{
	Oid			nsp = get_namespace_oid("migr", true);
	Oid			migration;

	if (!OidIsValid(nsp))
		return 1;
	migration = get_relname_relid("migration", nsp);
	if (OidIsValid(migration) && get_attnum(migration, "source_file") != InvalidAttrNumber)
		return 4;
	if (OidIsValid(get_relname_relid("batch_job", nsp)))
		return 3;
	if (OidIsValid(get_relname_relid("progress", nsp)))
		return 2;
	return 1;
}

/* migr_catalog_v2: whether the catalog is at 0.2.0 or later */
bool
migr_catalog_v2(void)
{
	return migr_catalog_version() >= 2;
}

/*
 * migr_split_ids
 *		Split a "a,b,c" list in place; the empty string is the empty list.
 */
char	  **
migr_split_ids(char *s, int *n)
{
	char	  **out;
	int			count = (*s != '\0');

	for (char *p = s; *p; p++)
		if (*p == ',')
			count++;
	out = palloc(sizeof(char *) * (count + 1));
	*n = 0;
	if (*s == '\0')
		return out;
	out[(*n)++] = s;
	for (char *p = s; *p; p++)
		if (*p == ',')
		{
			*p = '\0';
			out[(*n)++] = p + 1;
		}
	return out;
}

/* (create_date, id) order, the id bytewise: the order the graph is built in */
static int
cmp_rev_input(const void *a, const void *b)
{
	const MigrRevInput *x = a;
	const MigrRevInput *y = b;

	if (x->create_date != y->create_date)
		return x->create_date < y->create_date ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The graph columns of the revision query; GRAPH_SQL_CONTENT adds the content */
#define GRAPH_SQL_HEAD \
	"SELECT m.id, m.create_date," \
	"       pg_catalog.array_to_string(m.revises, ',')," \
	"       pg_catalog.array_to_string(m.depends_on, ',')," \
	"       pg_catalog.array_to_string(m.branch_labels, ',')," \
	"       a.revision IS NOT NULL, COALESCE(a.head_seq, 0)," \
	"       m.downgrade_sql IS NULL," \
	"       (m.skip_if IS NOT NULL)::pg_catalog.int4" \
	"       OPERATOR(pg_catalog.|) ((m.requires IS NOT NULL)::pg_catalog.int4 OPERATOR(pg_catalog.<<) 1)" \
	"       OPERATOR(pg_catalog.|) ((m.verify IS NOT NULL)::pg_catalog.int4 OPERATOR(pg_catalog.<<) 2)" \
	"       OPERATOR(pg_catalog.|) ((m.verify_down IS NOT NULL)::pg_catalog.int4 OPERATOR(pg_catalog.<<) 3)," \
	"       (SELECT pg_catalog.count(*) FROM migr.applied),"
#define GRAPH_SQL_NONTXN_V1 " 0"
#define GRAPH_SQL_NONTXN_V2 \
	" (NOT (m.transactional AND m.upgrade_transactional))::pg_catalog.int4" \
	"  OPERATOR(pg_catalog.|) ((NOT (m.transactional AND m.downgrade_transactional))::pg_catalog.int4" \
	"                          OPERATOR(pg_catalog.<<) 1)"
#define GRAPH_SQL_CONTENT \
	", m.upgrade_sql, m.downgrade_sql, m.skip_if, m.requires, m.verify, m.verify_down," \
	"  m.checksum, a.checksum"
#define GRAPH_SQL_TAIL \
	"  FROM migr.migration m" \
	"  LEFT JOIN migr.applied a ON a.revision OPERATOR(pg_catalog.=) m.id"
#define GRAPH_NCOLS 11
#define GRAPH_NCOLS_CONTENT 19

/*
 * Read every registered revision with its applied state (and, with fn, its
 * content, passed to fn row by row) and build the graph in "into".
 * *applied_rows and *applied_matched receive the number of rows of
 * migr.applied and how many of them name a registered revision, read in
 * the same statement (-1, -1 when no revision is registered: the count
 * column never came back).
 *
 * Lists come back joined with "," (ids cannot contain one): splitting a
 * string is much cheaper than decoding three arrays per revision, which
 * matters for a no-op upgrade on a long history.  The rows are sorted
 * here rather than by the query, which would sort whole rows; the plans
 * are kept for the life of the backend.
 */
static MigrGraph *
load_graph(MemoryContext into, bool read_only, int64 *max_seq,
		   MigrContentFn fn, void *arg, int64 *applied_rows,
		   int64 *applied_matched)
{
	/* [with content][catalog at 0.2.0 or later] */
	static SPIPlanPtr plans[2][2];
	static const char *const sql[2][2] = {
		{GRAPH_SQL_HEAD GRAPH_SQL_NONTXN_V1 GRAPH_SQL_TAIL,
		GRAPH_SQL_HEAD GRAPH_SQL_NONTXN_V2 GRAPH_SQL_TAIL},
		{GRAPH_SQL_HEAD GRAPH_SQL_NONTXN_V1 GRAPH_SQL_CONTENT GRAPH_SQL_TAIL,
		GRAPH_SQL_HEAD GRAPH_SQL_NONTXN_V2 GRAPH_SQL_CONTENT GRAPH_SQL_TAIL},
	};
	int			with_content = fn != NULL;
	int			v2 = migr_catalog_v2();
	MigrRevInput *in;
	MemoryContext old;
	MemoryContext rowcxt = NULL;
	uint64		n;
	MigrGraph  *g;

	migr_run_kept(&plans[with_content][v2], sql[with_content][v2],
				  0, NULL, NULL, NULL, read_only, 0, SPI_OK_SELECT);
	n = SPI_processed;
	if (fn)
		rowcxt = AllocSetContextCreate(CurrentMemoryContext, "migr content check",
									   ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(into);
	in = palloc0(sizeof(MigrRevInput) * (n + 1));
	*max_seq = 0;
	*applied_rows = *applied_matched = n == 0 ? -1 : 0;
	for (uint64 i = 0; i < n; i++)
	{
		Datum		v[GRAPH_NCOLS_CONTENT];
		bool		isnull[GRAPH_NCOLS_CONTENT];

		CHECK_FOR_INTERRUPTS();
		/* one deform per row: SPI_getbinval per column is quadratic in columns */
		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, v, isnull);
		in[i].id = TextDatumGetCString(v[0]);
		in[i].create_date = DatumGetTimestampTz(v[1]);
		in[i].parents = migr_split_ids(TextDatumGetCString(v[2]), &in[i].nparents);
		in[i].deps = migr_split_ids(TextDatumGetCString(v[3]), &in[i].ndeps);
		in[i].labels = migr_split_ids(TextDatumGetCString(v[4]), &in[i].nlabels);
		in[i].applied = DatumGetBool(v[5]);
		in[i].head_seq = DatumGetInt64(v[6]);
		in[i].irreversible = DatumGetBool(v[7]);
		in[i].checkmask = DatumGetInt32(v[8]);
		*applied_rows = DatumGetInt64(v[9]);
		in[i].nontxn = DatumGetInt32(v[10]);
		if (in[i].applied)
			(*applied_matched)++;
		if (in[i].head_seq > *max_seq)
			*max_seq = in[i].head_seq;
		if (fn)
		{
			char	   *str[6];
			bytea	   *sums[2];

			MemoryContextSwitchTo(rowcxt);
			for (int c = 0; c < 6; c++)
				str[c] = isnull[GRAPH_NCOLS + c] ? NULL
					: TextDatumGetCString(v[GRAPH_NCOLS + c]);
			for (int c = 0; c < 2; c++)
				sums[c] = isnull[GRAPH_NCOLS + 6 + c] ? NULL
					: DatumGetByteaPP(v[GRAPH_NCOLS + 6 + c]);
			MemoryContextSwitchTo(old);
			fn(in[i].id, str[0], str[1], &str[2], sums[0], sums[1], arg);
			MemoryContextReset(rowcxt);
			MemoryContextSwitchTo(into);
		}
	}
	MemoryContextSwitchTo(old);
	if (rowcxt)
		MemoryContextDelete(rowcxt);
	SPI_freetuptable(SPI_tuptable);
	qsort(in, n, sizeof(MigrRevInput), cmp_rev_input);

	old = MemoryContextSwitchTo(into);
	g = migr_graph_build(in, (int) n);
	MemoryContextSwitchTo(old);
	/* before any revision body can SET ROLE: the caller to record */
	g->caller = GetUserId();
	return g;
}

/*
 * migr_catalog_load_graph
 *		Build the graph of every registered revision with its applied state.
 *		With strict, raises 55000 when migr.applied names a revision that is not
 *		registered: upgrading or downgrading such a database would act on a
 *		history migr cannot see.  *max_seq receives the largest head_seq.
 *		g->caller is the current user: writers load the graph before any
 *		revision body runs, so it is the role that called them.
 */
MigrGraph *
migr_catalog_load_graph(MemoryContext into, bool strict, int64 *max_seq)
{
	int64		applied_rows;
	int64		applied_matched;
	MigrGraph  *g = load_graph(into, !strict, max_seq, NULL, NULL,
							   &applied_rows, &applied_matched);

	if (strict && (applied_rows < 0 || applied_rows != applied_matched))
	{
		/* some applied revision may not be registered: name one */
		run("SELECT a.revision FROM migr.applied a"
			" WHERE NOT EXISTS (SELECT 1 FROM migr.migration m"
			"                    WHERE m.id OPERATOR(pg_catalog.=) a.revision)"
			" ORDER BY a.revision COLLATE pg_catalog.\"C\" LIMIT 1",
			0, NULL, NULL, NULL, false, SPI_OK_SELECT);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("applied revision \"%s\" is not registered",
							SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
					 errdetail("migr.applied records it, but migr.migration has no revision with that id."),
					 errhint("Register the revision again with the content that was applied.")));
	}
	return g;
}

/*
 * migr_catalog_load_graph_contents
 *		What migr_catalog_load_graph(into, false, max_seq) returns, and in
 *		the same read of migr.migration (checkread.c's scan, else the
 *		query), fn called once per registered
 *		revision with its stored content, its recorded checksum and, when it
 *		is applied, the checksum it was applied with (NULL otherwise), in no
 *		particular order; what fn is passed is freed after it returns.
 *		*all_registered receives whether every row of migr.applied names a
 *		registered revision (counted in the same statement; false when no
 *		revision is registered, which the caller must then find out).
 */
MigrGraph *
migr_catalog_load_graph_contents(MemoryContext into, int64 *max_seq,
								 MigrContentFn fn, void *arg,
								 bool *all_registered)
{
	int64		applied_rows;
	int64		applied_matched;
	MigrRevInput *in;
	int			n;
	MigrGraph  *g;

	if (migr_graph_read_direct(into, &in, &n, fn, arg, &applied_rows,
							   &applied_matched))
	{
		MemoryContext old;

		*max_seq = 0;
		for (int i = 0; i < n; i++)
			if (in[i].head_seq > *max_seq)
				*max_seq = in[i].head_seq;
		qsort(in, n, sizeof(MigrRevInput), cmp_rev_input);
		old = MemoryContextSwitchTo(into);
		g = migr_graph_build(in, n);
		MemoryContextSwitchTo(old);
		g->caller = GetUserId();
	}
	else
		g = load_graph(into, true, max_seq, fn, arg,
					   &applied_rows, &applied_matched);
	*all_registered = applied_rows >= 0 && applied_rows == applied_matched;
	return g;
}

/*
 * migr_catalog_get_revision
 *		The stored row of one revision with its applied state, or NULL.
 */
MigrStoredRevision *
migr_catalog_get_revision(MemoryContext into, const char *id)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(id)};
	MigrStoredRevision *r;
	MemoryContext old;
	HeapTuple	tup;
	TupleDesc	td;
	bool		isnull;
	int			n;
	char	  **v;
	Datum		d;

	migr_run_kept(&plan,
		"SELECT m.revises, m.depends_on, m.branch_labels, m.message,"
		"       m.create_date, m.upgrade_sql, m.downgrade_sql, m.checksum,"
		"       a.revision IS NOT NULL, a.checksum,"
		"       m.skip_if, m.requires, m.verify, m.verify_down"
		"  FROM migr.migration m"
		"  LEFT JOIN migr.applied a ON a.revision OPERATOR(pg_catalog.=) m.id"
		" WHERE m.id OPERATOR(pg_catalog.=) $1",
		1, types, values, NULL, false, 0, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return NULL;

	tup = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(into);
	r = palloc0(sizeof(MigrStoredRevision));
	r->id = pstrdup(id);
	v = migr_cstrings(SPI_getbinval(tup, td, 1, &isnull), &n);
	r->revises = migr_join_list(v, n);
	v = migr_cstrings(SPI_getbinval(tup, td, 2, &isnull), &n);
	r->depends_on = migr_join_list(v, n);
	v = migr_cstrings(SPI_getbinval(tup, td, 3, &isnull), &n);
	r->branch_labels = migr_join_list(v, n);
	r->message = TextDatumGetCString(SPI_getbinval(tup, td, 4, &isnull));
	r->create_date = DatumGetTimestampTz(SPI_getbinval(tup, td, 5, &isnull));
	r->upgrade_sql = TextDatumGetCString(SPI_getbinval(tup, td, 6, &isnull));
	d = SPI_getbinval(tup, td, 7, &isnull);
	r->downgrade_sql = isnull ? NULL : TextDatumGetCString(d);
	r->checksum = DatumGetByteaPCopy(SPI_getbinval(tup, td, 8, &isnull));
	r->applied = DatumGetBool(SPI_getbinval(tup, td, 9, &isnull));
	d = SPI_getbinval(tup, td, 10, &isnull);
	r->applied_checksum = isnull ? NULL : DatumGetByteaPCopy(d);
	for (int i = 0; i < MIGR_NCHECKS; i++)
	{
		d = SPI_getbinval(tup, td, 11 + i, &isnull);
		r->checks[i] = isnull ? NULL : TextDatumGetCString(d);
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
	r->transactional = true;
	if (migr_catalog_v2())
	{
		static SPIPlanPtr tplan = NULL;

		migr_run_kept(&tplan,
					  "SELECT m.transactional FROM migr.migration m"
					  " WHERE m.id OPERATOR(pg_catalog.=) $1",
					  1, types, values, NULL, false, 0, SPI_OK_SELECT);
		if (SPI_processed > 0)
			r->transactional = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
														  SPI_tuptable->tupdesc, 1, &isnull));
		SPI_freetuptable(SPI_tuptable);
	}
	return r;
}

/*
 * migr_catalog_lookup_names
 *		For each name, in one query: whether a revision has that id, and the
 *		revision declaring it as a branch label (NULL if none).  Results go
 *		into caller-provided arrays of length n, strings into "into".
 */
void
migr_catalog_lookup_names(MemoryContext into, char **names, int n,
						  bool *is_id, char **label_owner)
{
	/* registration runs this once per revision: plan it once per backend */
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1];

	if (n == 0)
		return;
	values[0] = migr_text_array(names, n);
	migr_run_kept(&plan,
			 "SELECT u.o,"
			 "       EXISTS (SELECT 1 FROM migr.migration m"
			 "                WHERE m.id OPERATOR(pg_catalog.=) u.n),"
			 "       (SELECT l.revision FROM migr.branch_label l"
			 "         WHERE l.label OPERATOR(pg_catalog.=) u.n)"
			 "  FROM pg_catalog.unnest($1) WITH ORDINALITY AS u(n, o)",
			 1, types, values, NULL, false, 0, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		bool		no_owner;
		int			k = (int) DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull)) - 1;
		Datum		owner = SPI_getbinval(tup, td, 3, &no_owner);

		is_id[k] = DatumGetBool(SPI_getbinval(tup, td, 2, &isnull));
		label_owner[k] = no_owner ? NULL
			: MemoryContextStrdup(into, TextDatumGetCString(owner));
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * migr_catalog_history_details
 *		message and applied_at of every revision, by graph index.
 */
void
migr_catalog_history_details(MigrGraph *g, char **message, TimestampTz *applied_at,
							 bool *applied_at_null, MemoryContext into)
{
	MemoryContext old;

	run("SELECT m.id, m.message, a.applied_at FROM migr.migration m"
		"  LEFT JOIN migr.applied a ON a.revision OPERATOR(pg_catalog.=) m.id",
		0, NULL, NULL, NULL, true, SPI_OK_SELECT);
	old = MemoryContextSwitchTo(into);
	for (int i = 0; i < g->nrevs; i++)
	{
		message[i] = "";
		applied_at_null[i] = true;
	}
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		nul;
		int			idx = migr_graph_lookup(g, TextDatumGetCString(SPI_getbinval(tup, td, 1, &nul)), NULL);
		Datum		d;

		if (idx < 0)
			continue;
		message[idx] = TextDatumGetCString(SPI_getbinval(tup, td, 2, &nul));
		d = SPI_getbinval(tup, td, 3, &nul);
		applied_at_null[idx] = nul;
		if (!nul)
			applied_at[idx] = DatumGetTimestampTz(d);
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Insert a revision's edges ($1 the revision, $2 its parents, $3 its
 * dependencies), which the caller has checked for cycles: the cycle trigger
 * is told to skip them for this statement only, also when it fails.
 */
static void
insert_checked_edges(Oid *types, Datum *values, const char *nulls)
{
	static SPIPlanPtr plan = NULL;

	migr_cycle_trigger_skip(true);
	PG_TRY();
	{
		migr_run_kept(&plan,
				 "INSERT INTO migr.migration_edge (revision, kind, ord, target)"
				 " SELECT $1, 'p', u.o, u.t FROM pg_catalog.unnest($2) WITH ORDINALITY AS u(t, o)"
				 " UNION ALL"
				 " SELECT $1, 'd', u.o, u.t FROM pg_catalog.unnest($3) WITH ORDINALITY AS u(t, o)",
				 3, types, values, nulls, false, 0, SPI_OK_INSERT);
	}
	PG_FINALLY();
	{
		migr_cycle_trigger_skip(false);
	}
	PG_END_TRY();
}

/*
 * The row of a revision, in one statement, on a 0.4.0 catalog: with how it
 * runs and the file it was loaded from (NULLs when migr.revision() wrote
 * it), so a registration writes one row version.  The first 14 of types,
 * values and nulls are those of migr_catalog_store_revision().
 */
static void
store_row_v4(MigrNewRevision *rev, bool replace, const Oid *types14,
			 const Datum *values14, const char *nulls14)
{
	static SPIPlanPtr upd_rev = NULL;
	static SPIPlanPtr ins_rev = NULL;
	Oid			types[19];
	Datum		values[19];
	char		nulls[19];

	memcpy(types, types14, sizeof(Oid) * 14);
	memcpy(values, values14, sizeof(Datum) * 14);
	memcpy(nulls, nulls14, 14);
	types[14] = types[15] = types[16] = BOOLOID;
	values[14] = BoolGetDatum(rev->transactional);
	values[15] = BoolGetDatum(rev->upgrade_toplevel == NULL);
	values[16] = BoolGetDatum(rev->downgrade_toplevel == NULL);
	nulls[14] = nulls[15] = nulls[16] = ' ';
	types[17] = TEXTOID;
	types[18] = BYTEAOID;
	values[17] = rev->source_file ? CStringGetTextDatum(rev->source_file) : (Datum) 0;
	values[18] = PointerGetDatum(rev->source_sha256);
	nulls[17] = rev->source_file ? ' ' : 'n';
	nulls[18] = rev->source_sha256 ? ' ' : 'n';

	if (replace)
		migr_run_kept(&upd_rev,
					  "UPDATE migr.migration SET revises = $2, depends_on = $3,"
					  "       branch_labels = $4, message = $5, create_date = $6,"
					  "       upgrade_sql = $7, downgrade_sql = $8, checksum = $9,"
					  "       checksum_algorithm = 'sha256', skip_if = $10, requires = $11,"
					  "       verify = $12, verify_down = $13,"
					  "       registered_at = pg_catalog.now(), registered_by = $14,"
					  "       transactional = $15, upgrade_transactional = $16,"
					  "       downgrade_transactional = $17, source_file = $18,"
					  "       source_sha256 = $19"
					  " WHERE id OPERATOR(pg_catalog.=) $1",
					  19, types, values, nulls, false, 0, SPI_OK_UPDATE);
	else
		migr_run_kept(&ins_rev,
					  "INSERT INTO migr.migration (id, revises, depends_on, branch_labels,"
					  "       message, create_date, upgrade_sql, downgrade_sql, checksum,"
					  "       skip_if, requires, verify, verify_down, registered_by,"
					  "       transactional, upgrade_transactional, downgrade_transactional,"
					  "       source_file, source_sha256)"
					  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
					  "         $15, $16, $17, $18, $19)",
					  19, types, values, nulls, false, 0, SPI_OK_INSERT);
}

/*
 * migr_catalog_store_revision
 *		Insert a revision (or, with replace, overwrite an unapplied one) with
 *		its edges and labels, recording the current user as registered_by.
 *		A replaced revision forgets the file it was loaded from (0.4.0):
 *		migr.load() records it again afterwards, migr.revision() does not.
 *		The caller has validated everything.  Runs as the extension owner.
 */
void
migr_catalog_store_revision(MigrNewRevision *rev, bool replace)
{
	Oid			types[14] = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, BYTEAOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID, NAMEOID};
	Datum		values[14];
	char		nulls[14] = "              ";
	MigrOwnerSwitch sw;
	static SPIPlanPtr del_edges = NULL;
	static SPIPlanPtr del_labels = NULL;
	static SPIPlanPtr upd_rev = NULL;
	static SPIPlanPtr ins_rev = NULL;
	static SPIPlanPtr ins_labels = NULL;

	values[0] = CStringGetTextDatum(rev->id);
	values[1] = migr_text_array(rev->revises, rev->nrevises);
	values[2] = migr_text_array(rev->deps, rev->ndeps);
	values[3] = migr_text_array(rev->labels, rev->nlabels);
	values[4] = CStringGetTextDatum(rev->message);
	values[5] = TimestampTzGetDatum(rev->create_date);
	values[6] = CStringGetTextDatum(rev->upgrade_sql);
	if (rev->downgrade_sql)
		values[7] = CStringGetTextDatum(rev->downgrade_sql);
	else
	{
		values[7] = (Datum) 0;
		nulls[7] = 'n';
	}
	values[8] = PointerGetDatum(rev->checksum);
	for (int i = 0; i < MIGR_NCHECKS; i++)
	{
		values[9 + i] = rev->checks[i] ? CStringGetTextDatum(rev->checks[i]) : (Datum) 0;
		nulls[9 + i] = rev->checks[i] ? ' ' : 'n';
	}
	values[13] = DirectFunctionCall1(namein,
									 CStringGetDatum(GetUserNameFromId(GetUserId(), false)));

	migr_owner_begin(&sw);
	if (replace)
	{
		migr_run_kept(&del_edges,
				 "DELETE FROM migr.migration_edge WHERE revision OPERATOR(pg_catalog.=) $1",
				 1, types, values, nulls, false, 0, SPI_OK_DELETE);
		migr_run_kept(&del_labels,
				 "DELETE FROM migr.branch_label WHERE revision OPERATOR(pg_catalog.=) $1",
				 1, types, values, nulls, false, 0, SPI_OK_DELETE);
	}
	if (migr_catalog_version() >= 4)
		store_row_v4(rev, replace, types, values, nulls);
	else if (replace)
		migr_run_kept(&upd_rev,
				 "UPDATE migr.migration SET revises = $2, depends_on = $3,"
				 "       branch_labels = $4, message = $5, create_date = $6,"
				 "       upgrade_sql = $7, downgrade_sql = $8, checksum = $9,"
				 "       checksum_algorithm = 'sha256', skip_if = $10, requires = $11,"
				 "       verify = $12, verify_down = $13,"
				 "       registered_at = pg_catalog.now(), registered_by = $14"
				 " WHERE id OPERATOR(pg_catalog.=) $1",
				 14, types, values, nulls, false, 0, SPI_OK_UPDATE);
	else
		migr_run_kept(&ins_rev,
				 "INSERT INTO migr.migration (id, revises, depends_on, branch_labels,"
				 "       message, create_date, upgrade_sql, downgrade_sql, checksum,"
				 "       skip_if, requires, verify, verify_down, registered_by)"
				 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
				 14, types, values, nulls, false, 0, SPI_OK_INSERT);

	if (rev->nrevises + rev->ndeps > 0)
	{
		/*
		 * The new edges start at this revision, so only a path through edges
		 * already stored can close a cycle: check them here, and spare the
		 * trigger reading them back from its transition table.
		 */
		for (int i = 0; i < rev->nrevises + rev->ndeps; i++)
		{
			bool		parent = i < rev->nrevises;

			migr_refuse_cycle(rev->id, parent ? rev->revises[i] : rev->deps[i - rev->nrevises],
							  parent);
		}
		insert_checked_edges(types, values, nulls);
	}
	if (rev->nlabels > 0)
		migr_run_kept(&ins_labels,
				 "INSERT INTO migr.branch_label (label, revision)"
				 " SELECT u.l, $1 FROM pg_catalog.unnest($4) AS u(l)",
				 4, types, values, nulls, false, 0, SPI_OK_INSERT);
	/* how it runs: 0.1.0 has no such columns, and the defaults say "in one transaction" */
	if ((replace || !rev->transactional || rev->upgrade_toplevel || rev->downgrade_toplevel) &&
		migr_catalog_v2() && migr_catalog_version() < 4)
	{
		static SPIPlanPtr set_txn = NULL;
		Oid			ttypes[4] = {TEXTOID, BOOLOID, BOOLOID, BOOLOID};
		Datum		tvalues[4];

		tvalues[0] = values[0];
		tvalues[1] = BoolGetDatum(rev->transactional);
		tvalues[2] = BoolGetDatum(rev->upgrade_toplevel == NULL);
		tvalues[3] = BoolGetDatum(rev->downgrade_toplevel == NULL);
		migr_run_kept(&set_txn,
					  "UPDATE migr.migration SET transactional = $2,"
					  "       upgrade_transactional = $3, downgrade_transactional = $4"
					  " WHERE id OPERATOR(pg_catalog.=) $1",
					  4, ttypes, tvalues, NULL, false, 0, SPI_OK_UPDATE);
	}
	migr_owner_end(&sw);
}

/*
 * migr_catalog_load_bodies
 *		The upgrade (or downgrade) SQL, checksum, checks and registering role
 *		of each revision in revs, in one query, copied into "into"; out[i]
 *		belongs to revs[i].
 */
MigrBody *
migr_catalog_load_bodies(MigrGraph *g, const int *revs, int n, bool upgrade,
						 MemoryContext into)
{
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1];
	char	  **ids = palloc(sizeof(char *) * (n + 1));
	int		   *pos;
	MemoryContext old;
	MigrBody   *out = MemoryContextAllocZero(into, sizeof(MigrBody) * (n + 1));

	for (int i = 0; i < n; i++)
		ids[i] = g->revs[revs[i]].id;
	values[0] = migr_text_array(ids, n);
	/* a join with the unnested ids: "= ANY" over a long array is slow */
	run(upgrade
		? "SELECT m.id, m.upgrade_sql, m.checksum, m.skip_if, m.requires,"
		"       m.verify, m.verify_down, m.registered_by"
		"  FROM pg_catalog.unnest($1) AS u(id)"
		"  JOIN migr.migration m ON m.id OPERATOR(pg_catalog.=) u.id"
		: "SELECT m.id, m.downgrade_sql, m.checksum, m.skip_if, m.requires,"
		"       m.verify, m.verify_down, m.registered_by"
		"  FROM pg_catalog.unnest($1) AS u(id)"
		"  JOIN migr.migration m ON m.id OPERATOR(pg_catalog.=) u.id",
		1, types, values, NULL, false, SPI_OK_SELECT);

	/* graph index -> position in revs */
	pos = palloc(sizeof(int) * (g->nrevs + 1));
	for (int i = 0; i < g->nrevs; i++)
		pos[i] = -1;
	for (int i = 0; i < n; i++)
		pos[revs[i]] = i;
	old = MemoryContextSwitchTo(into);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		nul;
		char	   *id = TextDatumGetCString(SPI_getbinval(tup, td, 1, &nul));
		int			idx = migr_graph_lookup(g, id, NULL);
		MigrBody   *b;
		Datum		d;

		CHECK_FOR_INTERRUPTS();
		if (idx < 0 || pos[idx] < 0)
			continue;
		b = &out[pos[idx]];
		d = SPI_getbinval(tup, td, 2, &nul);
		b->sql = nul ? NULL : TextDatumGetCString(d);
		b->checksum = DatumGetByteaPCopy(SPI_getbinval(tup, td, 3, &nul));
		for (int k = 0; k < MIGR_NCHECKS; k++)
		{
			d = SPI_getbinval(tup, td, 4 + k, &nul);
			b->checks[k] = nul ? NULL : TextDatumGetCString(d);
		}
		b->registered_by = pstrdup(NameStr(*DatumGetName(SPI_getbinval(tup, td, 8, &nul))));
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
	for (int i = 0; i < n; i++)
		if (out[i].checksum == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("revision \"%s\" disappeared while migr was running",
							g->revs[revs[i]].id)));
	return out;
}

/*
 * One step that applied a revision, with no head moved (what CALL mode
 * records after each revision of an upgrade): its migr.applied row and its
 * event in one statement, the same rows record_steps() writes in two.
 */
static void
record_one_applied(MigrGraph *g, MigrStepRecord *s, Datum role, const char *fingerprint)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[12] = {TEXTOID, TIMESTAMPTZOID, NAMEOID, BYTEAOID, INTERVALOID,
		INT8OID, TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, INT4OID};
	Datum		values[12];
	char		nulls[12] = "            ";
	Interval	dur;
	MigrOwnerSwitch sw;

	dur.time = s->duration_us;
	dur.day = 0;
	dur.month = 0;
	values[0] = CStringGetTextDatum(g->revs[s->rev].id);
	values[1] = TimestampTzGetDatum(s->started_at);
	values[2] = role;
	values[3] = PointerGetDatum(s->checksum);
	values[4] = IntervalPGetDatum(&dur);
	values[5] = Int64GetDatum(s->head_seq);
	values[6] = CStringGetTextDatum(s->operation);
	values[7] = Int32GetDatum(MyProcPid);
	values[8] = CStringGetTextDatum(s->heads_before);
	values[9] = CStringGetTextDatum(s->heads_after);
	values[10] = fingerprint ? CStringGetTextDatum(fingerprint) : (Datum) 0;
	nulls[10] = fingerprint ? ' ' : 'n';
	values[11] = Int32GetDatum(s->statements);
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "WITH a AS (INSERT INTO migr.applied (revision, applied_at, applied_by, checksum,"
				  "                                     duration, head_seq)"
				  "           VALUES ($1, $2, $3, $4, $5, $6))"
				  " INSERT INTO migr.event (revision, operation, started_at, duration,"
				  "       role, backend_pid, heads_before, heads_after, fingerprint,"
				  "       outcome, statement_no)"
				  " VALUES ($1, $7, $2, $5, $3, $8, pg_catalog.string_to_array($9, ','),"
				  "         pg_catalog.string_to_array($10, ','), $11,"
				  "         CASE WHEN $7 OPERATOR(pg_catalog.=) 'skip' THEN 'skipped' ELSE 'ok' END,"
				  "         NULLIF($12, 0))",
				  12, types, values, nulls, false, 0, SPI_OK_INSERT);
	migr_owner_end(&sw);
}

/* migr_catalog_record_steps() below, allocating in cxt */
static void
record_steps(MemoryContext cxt, MigrGraph *g, MigrStepRecord *steps, int n,
			 int nseq, const int *seq_revs, const int64 *seqs,
			 const char *fingerprint)
{
	Datum	   *ins_rev = palloc(sizeof(Datum) * (n + 1));
	Datum	   *ins_at = palloc(sizeof(Datum) * (n + 1));
	Datum	   *ins_sum = palloc(sizeof(Datum) * (n + 1));
	Datum	   *ins_dur = palloc(sizeof(Datum) * (n + 1));
	Datum	   *ins_seq = palloc(sizeof(Datum) * (n + 1));
	Datum	   *del_rev = palloc(sizeof(Datum) * (n + 1));
	Datum	   *ev_op = palloc(sizeof(Datum) * (n + 1));
	Datum	   *ev_hb = palloc(sizeof(Datum) * (n + 1));
	Datum	   *ev_ha = palloc(sizeof(Datum) * (n + 1));
	Datum	   *ev_rev = palloc(sizeof(Datum) * (n + 1));
	Interval   *durs = palloc(sizeof(Interval) * (n + 1));
	int			nins = 0,
				ndel = 0;
	Datum		role = DirectFunctionCall1(namein,
										   CStringGetDatum(GetUserNameFromId(g->caller, false)));
	MigrOwnerSwitch sw;

	/* kept plans: in CALL mode this runs once per revision */
	static SPIPlanPtr del_plan = NULL;
	static SPIPlanPtr ins_plan = NULL;
	static SPIPlanPtr seq_plan = NULL;
	static SPIPlanPtr ev_plan = NULL;
	static SPIPlanPtr ev_plan_v1 = NULL;

	if (n == 0)
		return;
	if (n == 1 && steps[0].now_applied && nseq == 0 && migr_catalog_v2())
	{
		record_one_applied(g, &steps[0], role, fingerprint);
		return;
	}
	for (int i = 0; i < n; i++)
	{
		MigrStepRecord *s = &steps[i];
		Datum		rev = CStringGetTextDatum(g->revs[s->rev].id);

		durs[i].time = s->duration_us;
		durs[i].day = 0;
		durs[i].month = 0;
		ev_rev[i] = rev;
		ev_op[i] = CStringGetTextDatum(s->operation);
		ev_hb[i] = CStringGetTextDatum(s->heads_before);
		ev_ha[i] = CStringGetTextDatum(s->heads_after);
		if (s->now_applied)
		{
			ins_rev[nins] = rev;
			ins_sum[nins] = PointerGetDatum(s->checksum);
			ins_seq[nins] = Int64GetDatum(s->head_seq);
			ins_at[nins] = TimestampTzGetDatum(s->started_at);
			ins_dur[nins] = IntervalPGetDatum(&durs[i]);
			nins++;
		}
		else
			del_rev[ndel++] = rev;
	}

	migr_owner_begin(&sw);
	if (ndel > 0)
	{
		Oid			types[1] = {TEXTARRAYOID};
		Datum		values[1];

		values[0] = PointerGetDatum(construct_array(del_rev, ndel, TEXTOID, -1, false, TYPALIGN_INT));
		migr_run_kept(&del_plan,
					  "DELETE FROM migr.applied WHERE revision OPERATOR(pg_catalog.=) ANY ($1)",
					  1, types, values, NULL, false, 0, SPI_OK_DELETE);
		/* SPI leaves the procedure's context current */
		MemoryContextSwitchTo(cxt);
	}
	if (nins > 0)
	{
		Oid			types[6] = {TEXTARRAYOID, TIMESTAMPTZARRAYOID, BYTEAARRAYOID,
		INTERVALARRAYOID, INT8ARRAYOID, NAMEOID};
		Datum		values[6];

		values[0] = PointerGetDatum(construct_array(ins_rev, nins, TEXTOID, -1, false, TYPALIGN_INT));
		values[1] = PointerGetDatum(construct_array(ins_at, nins, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[2] = PointerGetDatum(construct_array(ins_sum, nins, BYTEAOID, -1, false, TYPALIGN_INT));
		values[3] = PointerGetDatum(construct_array(ins_dur, nins, INTERVALOID, sizeof(Interval), false, TYPALIGN_DOUBLE));
		values[4] = PointerGetDatum(construct_array(ins_seq, nins, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[5] = role;
		migr_run_kept(&ins_plan,
					  "INSERT INTO migr.applied (revision, applied_at, applied_by, checksum, duration, head_seq)"
					  " SELECT u.r, u.a, $6, u.c, u.d, u.s"
					  "   FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
					  "                   pg_catalog.unnest($3), pg_catalog.unnest($4),"
					  "                   pg_catalog.unnest($5)) AS u(r, a, c, d, s)",
					  6, types, values, NULL, false, 0, SPI_OK_INSERT);
		/* SPI leaves the procedure's context current */
		MemoryContextSwitchTo(cxt);
	}
	if (nseq > 0)
	{
		Oid			types[2] = {TEXTARRAYOID, INT8ARRAYOID};
		Datum		values[2];
		Datum	   *r = palloc(sizeof(Datum) * nseq);
		Datum	   *s = palloc(sizeof(Datum) * nseq);

		for (int i = 0; i < nseq; i++)
		{
			r[i] = CStringGetTextDatum(g->revs[seq_revs[i]].id);
			s[i] = Int64GetDatum(seqs[i]);
		}
		values[0] = PointerGetDatum(construct_array(r, nseq, TEXTOID, -1, false, TYPALIGN_INT));
		values[1] = PointerGetDatum(construct_array(s, nseq, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		migr_run_kept(&seq_plan,
					  "UPDATE migr.applied a SET head_seq = u.s"
					  "  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS u(r, s)"
					  " WHERE a.revision OPERATOR(pg_catalog.=) u.r",
					  2, types, values, NULL, false, 0, SPI_OK_UPDATE);
		/* SPI leaves the procedure's context current */
		MemoryContextSwitchTo(cxt);
	}

	/* the event log: every step, in order */
	{
		Oid			types[11] = {TEXTARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID,
			INTERVALARRAYOID, TEXTARRAYOID, TEXTARRAYOID, NAMEOID, INT4OID,
		TEXTOID, INT8OID, INT4ARRAYOID};
		Datum		values[11];
		char		nulls[11] = "           ";
		Datum	   *ev_no = palloc(sizeof(Datum) * n);
		Datum	   *at = palloc(sizeof(Datum) * n);
		Datum	   *du = palloc(sizeof(Datum) * n);

		for (int i = 0; i < n; i++)
		{
			at[i] = TimestampTzGetDatum(steps[i].started_at);
			du[i] = IntervalPGetDatum(&durs[i]);
		}
		values[0] = PointerGetDatum(construct_array(ev_rev, n, TEXTOID, -1, false, TYPALIGN_INT));
		values[1] = PointerGetDatum(construct_array(ev_op, n, TEXTOID, -1, false, TYPALIGN_INT));
		values[2] = PointerGetDatum(construct_array(at, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[3] = PointerGetDatum(construct_array(du, n, INTERVALOID, sizeof(Interval), false, TYPALIGN_DOUBLE));
		values[4] = PointerGetDatum(construct_array(ev_hb, n, TEXTOID, -1, false, TYPALIGN_INT));
		values[5] = PointerGetDatum(construct_array(ev_ha, n, TEXTOID, -1, false, TYPALIGN_INT));
		values[6] = role;
		values[7] = Int32GetDatum(MyProcPid);
		values[8] = fingerprint ? CStringGetTextDatum(fingerprint) : (Datum) 0;
		nulls[8] = fingerprint ? ' ' : 'n';
		values[9] = Int64GetDatum(n);
		for (int i = 0; i < n; i++)
			ev_no[i] = Int32GetDatum(steps[i].statements);
		values[10] = PointerGetDatum(construct_array(ev_no, n, INT4OID, 4, true, TYPALIGN_INT));
		/* 0.1.0 has neither outcome nor statement_no: skip reads from operation there */
		if (migr_catalog_v2())
			migr_run_kept(&ev_plan,
						  "INSERT INTO migr.event (revision, operation, started_at, duration,"
						  "       role, backend_pid, heads_before, heads_after, fingerprint,"
						  "       outcome, statement_no)"
						  " SELECT u.r, u.o, u.s, u.d, $7, $8,"
						  "        pg_catalog.string_to_array(u.hb, ','),"
						  "        pg_catalog.string_to_array(u.ha, ','),"
						  "        CASE WHEN u.n OPERATOR(pg_catalog.=) $10 THEN $9 END,"
						  "        CASE WHEN u.o OPERATOR(pg_catalog.=) 'skip' THEN 'skipped' ELSE 'ok' END,"
						  "        NULLIF(u.k, 0)"
						  "   FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
						  "                   pg_catalog.unnest($3), pg_catalog.unnest($4),"
						  "                   pg_catalog.unnest($5), pg_catalog.unnest($6),"
						  "                   pg_catalog.unnest($11))"
						  "        WITH ORDINALITY AS u(r, o, s, d, hb, ha, k, n)"
						  "  ORDER BY u.n",
						  11, types, values, nulls, false, 0, SPI_OK_INSERT);
		else
			migr_run_kept(&ev_plan_v1,
						  "INSERT INTO migr.event (revision, operation, started_at, duration,"
						  "       role, backend_pid, heads_before, heads_after, fingerprint)"
						  " SELECT u.r, u.o, u.s, u.d, $7, $8,"
						  "        pg_catalog.string_to_array(u.hb, ','),"
						  "        pg_catalog.string_to_array(u.ha, ','),"
						  "        CASE WHEN u.n OPERATOR(pg_catalog.=) $10 THEN $9 END"
						  "   FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
						  "                   pg_catalog.unnest($3), pg_catalog.unnest($4),"
						  "                   pg_catalog.unnest($5), pg_catalog.unnest($6),"
						  "                   pg_catalog.unnest($11))"
						  "        WITH ORDINALITY AS u(r, o, s, d, hb, ha, k, n)"
						  "  ORDER BY u.n",
						  11, types, values, nulls, false, 0, SPI_OK_INSERT);
	}
	migr_owner_end(&sw);
}

/*
 * migr_catalog_record_steps
 *		Write the steps of one call: migr.applied rows inserted or deleted,
 *		head_seq moved for revisions that became heads again, and one
 *		migr.event row per step.  applied_by and role are g->caller, the role
 *		that called the writer, even if a body changed the current user since.
 *		Runs as the extension owner.
 */
void
migr_catalog_record_steps(MigrGraph *g, MigrStepRecord *steps, int n,
						  int nseq, const int *seq_revs, const int64 *seqs,
						  const char *fingerprint)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext cxt = AllocSetContextCreate(caller, "migr step records",
											  ALLOCSET_DEFAULT_SIZES);

	/*
	 * In CALL mode this runs once per revision, and the caller's context
	 * lasts for the whole run: what it allocates goes when it returns.
	 */
	MemoryContextSwitchTo(cxt);
	record_steps(cxt, g, steps, n, nseq, seq_revs, seqs, fingerprint);
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(cxt);
}

/*
 * migr_catalog_record_failure
 *		One event for a step that failed or will be retried: its work has
 *		been rolled back, so only the event is written.  Runs as the
 *		extension owner; the caller commits it.
 */
void
migr_catalog_record_failure(MigrGraph *g, const MigrFailure *f)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[15] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, INTERVALOID, NAMEOID,
		INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID,
	TEXTOID, INT4ARRAYOID};
	Datum		values[15];
	char		nulls[15] = "               ";
	Interval	dur;
	MigrOwnerSwitch sw;
	const char *opt[4] = {f->error->detail, f->error->hint, NULL, f->statement};

	dur.time = f->duration_us;
	dur.day = 0;
	dur.month = 0;
	values[0] = CStringGetTextDatum(g->revs[f->rev].id);
	values[1] = CStringGetTextDatum(f->operation);
	values[2] = TimestampTzGetDatum(f->started_at);
	values[3] = IntervalPGetDatum(&dur);
	values[4] = DirectFunctionCall1(namein,
									CStringGetDatum(GetUserNameFromId(g->caller, false)));
	values[5] = Int32GetDatum(MyProcPid);
	values[6] = CStringGetTextDatum(f->heads);
	values[7] = CStringGetTextDatum(f->outcome);
	values[8] = CStringGetTextDatum(unpack_sql_state(f->error->sqlerrcode));
	values[9] = CStringGetTextDatum(f->error->message ? f->error->message : "");
	/* detail, hint, (statement_no), statement: NULL when absent */
	for (int k = 0; k < 4; k++)
		if (k != 2)
		{
			values[10 + k] = opt[k] ? CStringGetTextDatum(opt[k]) : (Datum) 0;
			nulls[10 + k] = opt[k] ? ' ' : 'n';
		}
	values[12] = Int32GetDatum(f->statement_no);
	nulls[12] = f->statement_no > 0 ? ' ' : 'n';
	values[14] = (Datum) 0;
	nulls[14] = 'n';
	if (f->nblocking > 0)
	{
		Datum	   *pids = palloc(sizeof(Datum) * f->nblocking);

		for (int i = 0; i < f->nblocking; i++)
			pids[i] = Int32GetDatum(f->blocking_pids[i]);
		values[14] = PointerGetDatum(construct_array(pids, f->nblocking, INT4OID, 4, true, TYPALIGN_INT));
		nulls[14] = ' ';
	}
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "INSERT INTO migr.event (revision, operation, started_at, duration,"
				  "       role, backend_pid, heads_before, heads_after, outcome,"
				  "       sqlstate, error, error_detail, error_hint, statement_no,"
				  "       statement, blocking_pids)"
				  " VALUES ($1, $2, $3, $4, $5, $6, pg_catalog.string_to_array($7, ','),"
				  "         pg_catalog.string_to_array($7, ','), $8, $9, $10, $11, $12,"
				  "         $13, $14, $15)",
				  15, types, values, nulls, false, 0, SPI_OK_INSERT);
	migr_owner_end(&sw);
}

/* migr.snapshot has the column catalog_signature from 0.4.0 on */
static bool
snapshot_has_signature(void)
{
	return migr_catalog_version() >= 4;
}

/*
 * migr_catalog_save_snapshot
 *		Replace the recorded schema description with this one, tied to the
 *		latest event, with the catalog signature taken before the
 *		description was read (a bytea from migr_catalog_signature(), see
 *		catsig.c; NULL for none).  Runs as the extension owner.
 */
void
migr_catalog_save_snapshot(const MigrDescRow *rows, int n, const char *fingerprint,
						   const uint8 *signature)
{
	Oid			types[5] = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, BYTEAOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', signature ? ' ' : 'n'};
	char	  **k = palloc(sizeof(char *) * (n + 1));
	char	  **o = palloc(sizeof(char *) * (n + 1));
	char	  **d = palloc(sizeof(char *) * (n + 1));
	MigrOwnerSwitch sw;

	for (int i = 0; i < n; i++)
	{
		k[i] = rows[i].kind;
		o[i] = rows[i].object;
		d[i] = rows[i].definition;
	}
	values[0] = CStringGetTextDatum(fingerprint);
	values[1] = migr_text_array(k, n);
	values[2] = migr_text_array(o, n);
	values[3] = migr_text_array(d, n);
	values[4] = PointerGetDatum(signature);
	migr_owner_begin(&sw);
	run("DELETE FROM migr.snapshot", 0, NULL, NULL, NULL, false, SPI_OK_DELETE);
	if (snapshot_has_signature())
		run("INSERT INTO migr.snapshot (event_id, taken_at, fingerprint, kinds, objects,"
			"       definitions, catalog_signature)"
			" SELECT pg_catalog.max(e.id), pg_catalog.now(), $1, $2, $3, $4, $5 FROM migr.event e",
			5, types, values, nulls, false, SPI_OK_INSERT);
	else
		run("INSERT INTO migr.snapshot (event_id, taken_at, fingerprint, kinds, objects, definitions)"
			" SELECT pg_catalog.max(e.id), pg_catalog.now(), $1, $2, $3, $4 FROM migr.event e",
			4, types, values, NULL, false, SPI_OK_INSERT);
	migr_owner_end(&sw);
}

/*
 * migr_catalog_snapshot_signature
 *		Whether a description is recorded, and if so the catalog signature
 *		recorded with it, a bytea copied into "into" (NULL when it has
 *		none), without reading the description itself.  Whatever the bytes,
 *		migr_catalog_signature_matches() judges them: a hand edit is at
 *		worst no match, and the slow path decides.
 */
bool
migr_catalog_snapshot_signature(MemoryContext into, bytea **signature)
{
	static SPIPlanPtr plans[2];
	HeapTuple	tup;
	bool		isnull;
	Datum		d;

	*signature = NULL;
	/* a scan of its own when it can (checkread.c), else the queries */
	if (!snapshot_has_signature())
	{
		int			any = migr_read_any_row("snapshot", NULL, NULL);

		if (any >= 0)
			return any == 1;
		migr_run_kept(&plans[0], "SELECT 1 FROM migr.snapshot s LIMIT 1",
					  0, NULL, NULL, NULL, true, 0, SPI_OK_SELECT);
		return SPI_processed > 0;
	}
	switch (migr_read_snapshot_signature(into, signature))
	{
		case 1:
			return true;
		case 0:
			return false;
	}
	migr_run_kept(&plans[1],
				  "SELECT s.catalog_signature FROM migr.snapshot s ORDER BY s.event_id DESC LIMIT 1",
				  0, NULL, NULL, NULL, true, 0, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	d = SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		MemoryContext old = MemoryContextSwitchTo(into);

		*signature = DatumGetByteaPCopy(d);
		MemoryContextSwitchTo(old);
	}
	SPI_freetuptable(SPI_tuptable);
	return true;
}

/*
 * migr_catalog_load_snapshot
 *		The recorded description and fingerprint, or false when migr has not
 *		recorded one yet.
 */
bool
migr_catalog_load_snapshot(MemoryContext into, MigrDescRow **rows, int *n,
						   char **fingerprint)
{
	MemoryContext old;
	HeapTuple	tup;
	TupleDesc	td;
	bool		isnull;
	char	  **k,
			  **o,
			  **d;
	int			nk,
				no,
				nd;

	run("SELECT s.fingerprint, s.kinds, s.objects, s.definitions FROM migr.snapshot s"
		" ORDER BY s.event_id DESC LIMIT 1",
		0, NULL, NULL, NULL, true, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(into);
	*fingerprint = TextDatumGetCString(SPI_getbinval(tup, td, 1, &isnull));
	k = migr_cstrings(SPI_getbinval(tup, td, 2, &isnull), &nk);
	o = migr_cstrings(SPI_getbinval(tup, td, 3, &isnull), &no);
	d = migr_cstrings(SPI_getbinval(tup, td, 4, &isnull), &nd);
	if (nk != no || nk != nd)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migr.snapshot is inconsistent"),
				 errdetail("Its kinds, objects and definitions arrays differ in length."),
				 errhint("It was written by hand; the next upgrade, downgrade or stamp that changes something rewrites it.")));
	*rows = palloc(sizeof(MigrDescRow) * (nk + 1));
	for (int i = 0; i < nk; i++)
	{
		(*rows)[i].kind = k[i];
		(*rows)[i].object = o[i];
		(*rows)[i].definition = d[i];
	}
	*n = nk;
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
	return true;
}
