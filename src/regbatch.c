/*-------------------------------------------------------------------------
 * regbatch.c
 *	  Registration of many new revisions in a few statements, for
 *	  migr.load_all(): a first deploy registers every file of a directory,
 *	  and one lookup, one row insert and one edge insert per revision (with
 *	  their triggers) would cost more than the rest of the call.
 *
 *	  migr_register() runs every check as it does for one revision, in file
 *	  order, but asks the batch instead of the catalog what is registered
 *	  (the catalog as it was when the batch began, read for many names in
 *	  one query, plus the revisions of the batch), and hands it the revision
 *	  instead of storing it.  migr_regbatch_flush() then writes the rows,
 *	  the edges and the branch labels of all of them in three statements.
 *	  Nothing is written before the flush, so the catalog the batch read
 *	  stays as it was.
 *
 *	  The batch takes only a revision whose id is not registered and that
 *	  no edge points at yet, by its id or by one of its branch labels
 *	  (migr_regbatch_takes()).  Such a revision's edges cannot close a
 *	  cycle, and that is the cycle check of the batch: in a cycle through
 *	  edges of the batch, the revision of the batch taken last would have
 *	  had an edge pointing at it when it was taken, from the catalog or
 *	  from a revision taken before it.  So the flush tells the cycle
 *	  trigger that its edges are checked, as migr_catalog_store_revision()
 *	  does for the edges it checked with migr_refuse_cycle().  Storing the
 *	  labels takes over no dependency either (migr.branch_label_take_over()
 *	  finds none): the flush can fail on nothing the checks did not see,
 *	  and writes what registering the revisions one by one would have
 *	  written.  For any other revision the caller flushes and goes on one
 *	  by one: a replaced revision, a parent whose file sorts after its
 *	  child's, a branch label some revision depended on before it was
 *	  declared.  The deferred checks at commit are those of the rows.
 *
 * IDENTIFICATION
 *	  src/regbatch.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "cycle.h"
#include "executor/spi.h"
#include "graph.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "owner.h"
#include "regbatch.h"
#include "sqlcall.h"
#include "strlist.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* What the batch knows about a name: an id, a branch label, an edge target */
typedef struct NameEntry
{
	char		name[MIGR_MAX_ID_LEN + 1];	/* key */
	bool		fetched;		/* the db_ fields are read */
	bool		db_id;			/* a registered revision has this id */
	char	   *db_owner;		/* the registered revision with this label */
	bool		db_target;		/* a stored edge points at it */
	bool		new_id;			/* a revision of the batch has this id */
	char	   *new_owner;		/* the revision of the batch with this label */
	bool		new_target;		/* an edge of the batch points at it */
} NameEntry;

/* A revision of the batch, copied */
typedef struct BatchRow
{
	char	   *id;
	char	  **revises;
	int			nrevises;
	char	  **deps;
	int			ndeps;
	char	  **labels;
	int			nlabels;
	char	   *message;
	TimestampTz create_date;
	char	   *upgrade_sql;
	char	   *downgrade_sql;
	char	   *checks[MIGR_NCHECKS];
	bytea	   *checksum;
	char	   *registered_by;
	bool		transactional;
	bool		upgrade_transactional;
	bool		downgrade_transactional;
	char	   *source_file;
	bytea	   *source_sha256;
} BatchRow;

struct MigrRegBatch
{
	MemoryContext cxt;			/* everything below */
	HTAB	   *names;
	BatchRow   *rows;
	int			nrows;
	int			cap;
	int			nedges;
	int			nlabels;
};

/*
 * migr_regbatch_begin
 *		An empty batch, allocated in a context of its own under cxt.
 */
MigrRegBatch *
migr_regbatch_begin(MemoryContext cxt)
{
	MemoryContext bcxt = AllocSetContextCreate(cxt, "migr registration batch",
											   ALLOCSET_DEFAULT_SIZES);
	MigrRegBatch *b = MemoryContextAllocZero(bcxt, sizeof(MigrRegBatch));
	HASHCTL		ctl;

	b->cxt = bcxt;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = MIGR_MAX_ID_LEN + 1;
	ctl.entrysize = sizeof(NameEntry);
	ctl.hcxt = bcxt;
	b->names = hash_create("migr batch names", 256, &ctl,
						   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	return b;
}

static NameEntry *
entry(MigrRegBatch *b, const char *name)
{
	bool		found;
	NameEntry  *e;

	/* registration validates names first: none is longer */
	if (strlen(name) > MIGR_MAX_ID_LEN)
		elog(ERROR, "migr batch name too long: %s", name);
	e = hash_search(b->names, name, HASH_ENTER, &found);
	if (!found)
	{
		e->fetched = false;
		e->db_id = false;
		e->db_owner = NULL;
		e->db_target = false;
		e->new_id = false;
		e->new_owner = NULL;
		e->new_target = false;
	}
	return e;
}

/*
 * migr_regbatch_prefetch
 *		Read what the catalog says about each of these names (an id, a
 *		branch label and whose, an edge target) that the batch has not read
 *		yet, in one query.  Names too long to be an id or a label are
 *		skipped: nothing is registered under them.  The caller is connected
 *		to SPI; reads run as the caller, as migr_catalog_lookup_names().
 */
void
migr_regbatch_prefetch(MigrRegBatch *b, char **names, int n)
{
	char	  **want = palloc(sizeof(char *) * (n + 1));
	int			m = 0;
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1];
	int			rc;

	for (int i = 0; i < n; i++)
	{
		NameEntry  *e;

		if (strlen(names[i]) > MIGR_MAX_ID_LEN)
			continue;
		e = entry(b, names[i]);
		if (!e->fetched)
		{
			e->fetched = true;	/* also marks a name listed twice */
			want[m++] = e->name;
		}
	}
	if (m == 0)
		return;
	values[0] = migr_text_array(want, m);
	/* not read-only: that would read with the statement's snapshot */
	rc = SPI_execute_with_args("SELECT u.n,"
							   "       EXISTS (SELECT 1 FROM migr.migration m"
							   "                WHERE m.id OPERATOR(pg_catalog.=) u.n),"
							   "       (SELECT l.revision FROM migr.branch_label l"
							   "         WHERE l.label OPERATOR(pg_catalog.=) u.n),"
							   "       EXISTS (SELECT 1 FROM migr.migration_edge e"
							   "                WHERE e.target OPERATOR(pg_catalog.=) u.n)"
							   "  FROM pg_catalog.unnest($1) AS u(n)",
							   1, types, values, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "migr could not look up names: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *name = TextDatumGetCString(SPI_getbinval(tup, td, 1, &isnull));
		NameEntry  *e = entry(b, name);
		Datum		owner;

		CHECK_FOR_INTERRUPTS();
		e->db_id = DatumGetBool(SPI_getbinval(tup, td, 2, &isnull));
		owner = SPI_getbinval(tup, td, 3, &isnull);
		e->db_owner = isnull ? NULL
			: MemoryContextStrdup(b->cxt, TextDatumGetCString(owner));
		e->db_target = DatumGetBool(SPI_getbinval(tup, td, 4, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);
}

/* The entry of a name, with what the catalog says about it */
static NameEntry *
known(MigrRegBatch *b, const char *name)
{
	NameEntry  *e = entry(b, name);

	if (!e->fetched)
	{
		char	   *one = e->name;

		migr_regbatch_prefetch(b, &one, 1);
	}
	return e;
}

/*
 * migr_regbatch_takes
 *		Whether the batch can register rev (validated by
 *		migr_new_revision()): its id is registered neither in the catalog
 *		nor by the batch, and no edge, stored or in the batch, points at its
 *		id or at one of its branch labels.  See the file's comment.
 */
bool
migr_regbatch_takes(MigrRegBatch *b, const MigrNewRevision *rev)
{
	NameEntry  *e = known(b, rev->id);

	if (e->db_id || e->new_id || e->db_target || e->new_target)
		return false;
	for (int i = 0; i < rev->nlabels; i++)
	{
		e = known(b, rev->labels[i]);
		if (e->db_target || e->new_target)
			return false;
	}
	return true;
}

/*
 * migr_regbatch_lookup
 *		migr_catalog_lookup_names() as if the revisions of the batch were
 *		stored: for each name whether a revision has that id, and the
 *		revision declaring it as a branch label (NULL if none), copied into
 *		"into".
 */
void
migr_regbatch_lookup(MigrRegBatch *b, char **names, int n, bool *is_id,
					 char **label_owner, MemoryContext into)
{
	migr_regbatch_prefetch(b, names, n);
	for (int i = 0; i < n; i++)
	{
		NameEntry  *e = known(b, names[i]);
		char	   *owner = e->new_owner ? e->new_owner : e->db_owner;

		is_id[i] = e->db_id || e->new_id;
		label_owner[i] = owner ? MemoryContextStrdup(into, owner) : NULL;
	}
}

static char **
copy_list(char **v, int n)
{
	char	  **out = palloc(sizeof(char *) * (n + 1));

	for (int i = 0; i < n; i++)
		out[i] = pstrdup(v[i]);
	return out;
}

static char *
copy_or_null(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

/*
 * migr_regbatch_add
 *		Take rev, which migr_register() has checked, as migr_catalog_
 *		store_revision() would store it: registered_by is the current user.
 *		The caller has made sure that migr_regbatch_takes(b, rev).
 */
void
migr_regbatch_add(MigrRegBatch *b, const MigrNewRevision *rev)
{
	MemoryContext old = MemoryContextSwitchTo(b->cxt);
	BatchRow   *r;

	if (b->nrows >= b->cap)
	{
		b->cap = b->cap ? b->cap * 2 : 64;
		b->rows = b->rows ? repalloc(b->rows, sizeof(BatchRow) * b->cap)
			: palloc(sizeof(BatchRow) * b->cap);
	}
	r = &b->rows[b->nrows++];
	r->id = pstrdup(rev->id);
	r->revises = copy_list(rev->revises, rev->nrevises);
	r->nrevises = rev->nrevises;
	r->deps = copy_list(rev->deps, rev->ndeps);
	r->ndeps = rev->ndeps;
	r->labels = copy_list(rev->labels, rev->nlabels);
	r->nlabels = rev->nlabels;
	r->message = pstrdup(rev->message);
	r->create_date = rev->create_date;
	r->upgrade_sql = pstrdup(rev->upgrade_sql);
	r->downgrade_sql = copy_or_null(rev->downgrade_sql);
	for (int i = 0; i < MIGR_NCHECKS; i++)
		r->checks[i] = copy_or_null(rev->checks[i]);
	r->checksum = DatumGetByteaPCopy(PointerGetDatum(rev->checksum));
	r->registered_by = pstrdup(GetUserNameFromId(GetUserId(), false));
	r->transactional = rev->transactional;
	r->upgrade_transactional = rev->upgrade_toplevel == NULL;
	r->downgrade_transactional = rev->downgrade_toplevel == NULL;
	r->source_file = copy_or_null(rev->source_file);
	r->source_sha256 = rev->source_sha256
		? DatumGetByteaPCopy(PointerGetDatum(rev->source_sha256)) : NULL;
	MemoryContextSwitchTo(old);

	entry(b, rev->id)->new_id = true;
	for (int i = 0; i < rev->nlabels; i++)
		entry(b, rev->labels[i])->new_owner = r->id;
	for (int i = 0; i < rev->nrevises; i++)
		entry(b, rev->revises[i])->new_target = true;
	for (int i = 0; i < rev->ndeps; i++)
		entry(b, rev->deps[i])->new_target = true;
	b->nedges += rev->nrevises + rev->ndeps;
	b->nlabels += rev->nlabels;
}

/* migr_regbatch_size: how many revisions wait for the flush */
int
migr_regbatch_size(const MigrRegBatch *b)
{
	return b->nrows;
}

/* A one-dimensional array of n values, NULL where isnull says */
static Datum
array_of(Datum *v, bool *isnull, int n, Oid type, int len, bool byval, char align)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	return PointerGetDatum(construct_md_array(v, isnull, 1, dims, lbs, type, len,
											  byval, align));
}

static Datum
bytea_array(bytea **v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));
	bool	   *isnull = palloc(sizeof(bool) * (n + 1));

	for (int i = 0; i < n; i++)
	{
		isnull[i] = v[i] == NULL;
		d[i] = PointerGetDatum(v[i]);
	}
	return array_of(d, isnull, n, BYTEAOID, -1, false, TYPALIGN_INT);
}

/* "a,b": a list for pg_catalog.string_to_array() (ids have no commas) */
static char *
joined(char **v, int n)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, v[i]);
	}
	return buf.data;
}

/* The rows of the batch, in the order they were added: one statement */
static void
flush_rows(MigrRegBatch *b)
{
	static SPIPlanPtr plan = NULL;
	int			n = b->nrows;
	Oid			types[19] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		TEXTARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID, TEXTARRAYOID, BYTEAARRAYOID,
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, NAMEARRAYOID,
		BOOLARRAYOID, BOOLARRAYOID, BOOLARRAYOID, TEXTARRAYOID, BYTEAARRAYOID};
	Datum		values[19];
	char	  **s[12];
	bytea	  **sums = palloc(sizeof(bytea *) * (n + 1));
	bytea	  **shas = palloc(sizeof(bytea *) * (n + 1));
	Datum	   *dates = palloc(sizeof(Datum) * (n + 1));
	Datum	   *roles = palloc(sizeof(Datum) * (n + 1));
	Datum	   *flags[3];

	for (int k = 0; k < 12; k++)
		s[k] = palloc(sizeof(char *) * (n + 1));
	for (int k = 0; k < 3; k++)
		flags[k] = palloc(sizeof(Datum) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		BatchRow   *r = &b->rows[i];

		CHECK_FOR_INTERRUPTS();
		s[0][i] = r->id;
		s[1][i] = joined(r->revises, r->nrevises);
		s[2][i] = joined(r->deps, r->ndeps);
		s[3][i] = joined(r->labels, r->nlabels);
		s[4][i] = r->message;
		s[5][i] = r->upgrade_sql;
		s[6][i] = r->downgrade_sql;
		for (int k = 0; k < MIGR_NCHECKS; k++)
			s[7 + k][i] = r->checks[k];
		dates[i] = TimestampTzGetDatum(r->create_date);
		sums[i] = r->checksum;
		roles[i] = DirectFunctionCall1(namein, CStringGetDatum(r->registered_by));
		flags[0][i] = BoolGetDatum(r->transactional);
		flags[1][i] = BoolGetDatum(r->upgrade_transactional);
		flags[2][i] = BoolGetDatum(r->downgrade_transactional);
		s[11][i] = r->source_file;
		shas[i] = r->source_sha256;
	}
	values[0] = migr_text_array(s[0], n);
	values[1] = migr_text_array(s[1], n);
	values[2] = migr_text_array(s[2], n);
	values[3] = migr_text_array(s[3], n);
	values[4] = migr_text_array(s[4], n);
	values[5] = array_of(dates, NULL, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	values[6] = migr_text_array(s[5], n);
	values[7] = migr_text_array(s[6], n);
	values[8] = bytea_array(sums, n);
	for (int k = 0; k < MIGR_NCHECKS; k++)
		values[9 + k] = migr_text_array(s[7 + k], n);
	values[13] = array_of(roles, NULL, n, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR);
	for (int k = 0; k < 3; k++)
		values[14 + k] = array_of(flags[k], NULL, n, BOOLOID, 1, true, TYPALIGN_CHAR);
	values[17] = migr_text_array(s[11], n);
	values[18] = bytea_array(shas, n);
	migr_run_kept(&plan,
				  "INSERT INTO migr.migration (id, revises, depends_on, branch_labels,"
				  "       message, create_date, upgrade_sql, downgrade_sql, checksum,"
				  "       skip_if, requires, verify, verify_down, registered_by,"
				  "       transactional, upgrade_transactional, downgrade_transactional,"
				  "       source_file, source_sha256)"
				  " SELECT u.id, pg_catalog.string_to_array(u.rv, ','),"
				  "        pg_catalog.string_to_array(u.dp, ','),"
				  "        pg_catalog.string_to_array(u.lb, ','),"
				  "        u.msg, u.cd, u.up, u.dn, u.sm, u.c1, u.c2, u.c3, u.c4, u.rb,"
				  "        u.t, u.ut, u.dt, u.sf, u.sh"
				  "   FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
				  "                   pg_catalog.unnest($3), pg_catalog.unnest($4),"
				  "                   pg_catalog.unnest($5), pg_catalog.unnest($6),"
				  "                   pg_catalog.unnest($7), pg_catalog.unnest($8),"
				  "                   pg_catalog.unnest($9), pg_catalog.unnest($10),"
				  "                   pg_catalog.unnest($11), pg_catalog.unnest($12),"
				  "                   pg_catalog.unnest($13), pg_catalog.unnest($14),"
				  "                   pg_catalog.unnest($15), pg_catalog.unnest($16),"
				  "                   pg_catalog.unnest($17), pg_catalog.unnest($18),"
				  "                   pg_catalog.unnest($19))"
				  "        WITH ORDINALITY AS u(id, rv, dp, lb, msg, cd, up, dn, sm, c1, c2,"
				  "                             c3, c4, rb, t, ut, dt, sf, sh, o)"
				  "  ORDER BY u.o",
				  19, types, values, NULL, false, 0, SPI_OK_INSERT);
}

/* The edges: parents then dependencies of each row, as stored one by one */
static void
flush_edges(MigrRegBatch *b)
{
	static SPIPlanPtr plan = NULL;
	int			n = b->nedges;
	Oid			types[4] = {TEXTARRAYOID, BOOLARRAYOID, INT4ARRAYOID, TEXTARRAYOID};
	Datum		values[4];
	char	  **rev = palloc(sizeof(char *) * (n + 1));
	char	  **target = palloc(sizeof(char *) * (n + 1));
	Datum	   *parent = palloc(sizeof(Datum) * (n + 1));
	Datum	   *ord = palloc(sizeof(Datum) * (n + 1));
	int			k = 0;

	for (int i = 0; i < b->nrows; i++)
	{
		BatchRow   *r = &b->rows[i];

		for (int j = 0; j < r->nrevises + r->ndeps; j++)
		{
			bool		p = j < r->nrevises;

			rev[k] = r->id;
			parent[k] = BoolGetDatum(p);
			ord[k] = Int32GetDatum(p ? j + 1 : j - r->nrevises + 1);
			target[k] = p ? r->revises[j] : r->deps[j - r->nrevises];
			k++;
		}
	}
	Assert(k == n);
	values[0] = migr_text_array(rev, n);
	values[1] = array_of(parent, NULL, n, BOOLOID, 1, true, TYPALIGN_CHAR);
	values[2] = array_of(ord, NULL, n, INT4OID, 4, true, TYPALIGN_INT);
	values[3] = migr_text_array(target, n);
	/*
	 * Checked for cycles already (see the file's comment): the trigger would
	 * read the whole graph back for a statement of more than a few edges.
	 */
	migr_cycle_trigger_skip(true);
	PG_TRY();
	{
		migr_run_kept(&plan,
					  "INSERT INTO migr.migration_edge (revision, kind, ord, target)"
					  " SELECT u.r, CASE WHEN u.p THEN 'p'::pg_catalog.\"char\""
					  "                  ELSE 'd'::pg_catalog.\"char\" END, u.k, u.t"
					  "   FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
					  "                   pg_catalog.unnest($3), pg_catalog.unnest($4))"
					  "        WITH ORDINALITY AS u(r, p, k, t, o)"
					  "  ORDER BY u.o",
					  4, types, values, NULL, false, 0, SPI_OK_INSERT);
	}
	PG_FINALLY();
	{
		migr_cycle_trigger_skip(false);
	}
	PG_END_TRY();
}

/* The branch labels, in declared order */
static void
flush_labels(MigrRegBatch *b)
{
	static SPIPlanPtr plan = NULL;
	int			n = b->nlabels;
	Oid			types[2] = {TEXTARRAYOID, TEXTARRAYOID};
	Datum		values[2];
	char	  **label = palloc(sizeof(char *) * (n + 1));
	char	  **rev = palloc(sizeof(char *) * (n + 1));
	int			k = 0;

	for (int i = 0; i < b->nrows; i++)
		for (int j = 0; j < b->rows[i].nlabels; j++)
		{
			label[k] = b->rows[i].labels[j];
			rev[k] = b->rows[i].id;
			k++;
		}
	Assert(k == n);
	values[0] = migr_text_array(label, n);
	values[1] = migr_text_array(rev, n);
	migr_run_kept(&plan,
				  "INSERT INTO migr.branch_label (label, revision)"
				  " SELECT u.l, u.r"
				  "   FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2))"
				  "        WITH ORDINALITY AS u(l, r, o)"
				  "  ORDER BY u.o",
				  2, types, values, NULL, false, 0, SPI_OK_INSERT);
}

/*
 * migr_regbatch_flush
 *		Write the revisions of the batch, their edges and their branch
 *		labels, in three statements, as the extension owner, and free the
 *		batch.  The caller is connected to SPI and holds the migration
 *		lock; it must not use the batch again.
 */
void
migr_regbatch_flush(MigrRegBatch *b)
{
	MemoryContext old = MemoryContextSwitchTo(b->cxt);
	MigrOwnerSwitch sw;

	if (b->nrows > 0)
	{
		migr_owner_begin(&sw);
		flush_rows(b);
		if (b->nedges > 0)
			flush_edges(b);
		if (b->nlabels > 0)
			flush_labels(b);
		migr_owner_end(&sw);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(b->cxt);
}
