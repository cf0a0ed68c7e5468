/*-------------------------------------------------------------------------
 * checkread.c
 *	  migr.check()'s reads of the migr tables by a scan of each table under
 *	  the statement's snapshot instead of through SPI: migr.migration and
 *	  migr.applied (the rows and values of catalog.c's revision query with
 *	  content), the recorded catalog signature, the summary row, and whether
 *	  a revision is part way or a batch job unfinished; and for
 *	  migr.load_all(), the files revisions were loaded from.  On a long
 *	  history the query's planning, join and copying of every row cost more
 *	  than the rest of a check that finds nothing, and in a new session
 *	  planning the small queries costs more than running them.
 *
 *	  It reads only what a query would show the caller: when the caller may
 *	  not select from a table, the table has row-level security in force,
 *	  or it is not what migr created (a column missing or of another type, a
 *	  revision applied twice), it reads nothing and says so, and the caller
 *	  runs the query, which then raises or decides as it always did.
 *
 * IDENTIFICATION
 *	  src/checkread.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "strlist.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

/* A row of migr.applied */
typedef struct AppliedRow
{
	char	   *revision;
	int64		head_seq;
	bytea	   *checksum;
} AppliedRow;

/* Columns of migr.migration read, in this order */
enum
{
	M_ID, M_CREATE_DATE, M_REVISES, M_DEPENDS_ON, M_BRANCH_LABELS,
	M_UPGRADE_SQL, M_DOWNGRADE_SQL, M_SKIP_IF, M_REQUIRES, M_VERIFY,
	M_VERIFY_DOWN, M_CHECKSUM, M_TRANSACTIONAL, M_UPGRADE_TXN,
	M_DOWNGRADE_TXN, M_NCOLS
};

static const struct
{
	const char *name;
	Oid			type;
	bool		v2;				/* added in 0.2.0 */
}			mcols[M_NCOLS] = {
	{"id", TEXTOID, false},
	{"create_date", TIMESTAMPTZOID, false},
	{"revises", TEXTARRAYOID, false},
	{"depends_on", TEXTARRAYOID, false},
	{"branch_labels", TEXTARRAYOID, false},
	{"upgrade_sql", TEXTOID, false},
	{"downgrade_sql", TEXTOID, false},
	{"skip_if", TEXTOID, false},
	{"requires", TEXTOID, false},
	{"verify", TEXTOID, false},
	{"verify_down", TEXTOID, false},
	{"checksum", BYTEAOID, false},
	{"transactional", BOOLOID, true},
	{"upgrade_transactional", BOOLOID, true},
	{"downgrade_transactional", BOOLOID, true},
};

/*
 * The column's attribute number when it is there with that type, else 0.
 * Text is compared here byte by byte, as "=" does in a deterministic
 * collation: a text column with another collation is left to the query.
 */
static AttrNumber
column(Relation rel, const char *name, Oid type)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0)
		{
			if (a->atttypid != type)
				return InvalidAttrNumber;
			if (OidIsValid(a->attcollation) &&
				!get_collation_isdeterministic(a->attcollation))
				return InvalidAttrNumber;
			return a->attnum;
		}
	}
	return InvalidAttrNumber;
}

/*
 * migr.<name> opened for reading, or NULL when a query would not read it
 * as a plain scan: not there, not a table, the caller may not select from
 * it, or row-level security applies.
 */
static Relation
open_readable(Oid nsp, const char *name)
{
	Oid			relid;
	Relation	rel;

	if (!OidIsValid(nsp))
		return NULL;
	relid = get_relname_relid(name, nsp);
	if (!OidIsValid(relid))
		return NULL;
	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
	{
		table_close(rel, AccessShareLock);
		return NULL;
	}
	return rel;
}

static int
cmp_applied(const void *a, const void *b)
{
	return strcmp(((const AppliedRow *) a)->revision,
				  ((const AppliedRow *) b)->revision);
}

/*
 * pg_catalog.array_to_string(a, ','): the non-null elements joined.  Most
 * lists are empty or have one element, which are returned without a
 * buffer: this runs three times per revision.  The empty string returned
 * for an empty list is a constant (migr_split_ids() does not write it).
 */
static char *
array_join(Datum d, bool dnull)
{
	struct varlena *v;
	ArrayType  *a;
	ArrayIterator it;
	Datum		e;
	bool		isnull;
	bool		first = true;
	StringInfoData buf;
	int			nitems;
	int32		ndim;

	if (dnull)
		return "";
	/* an inline array with no dimensions is empty: no copy to find out */
	v = (struct varlena *) DatumGetPointer(d);
	if (!VARATT_IS_EXTENDED(v) || VARATT_IS_SHORT(v))
	{
		memcpy(&ndim, VARDATA_ANY(v), sizeof(ndim));
		if (ndim == 0)
			return "";
	}
	a = DatumGetArrayTypeP(d);
	nitems = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	if (nitems == 0)
		return "";
	if (nitems == 1 && !ARR_HASNULL(a))
		return text_to_cstring((text *) ARR_DATA_PTR(a));
	initStringInfo(&buf);
	it = array_create_iterator(a, 0, NULL);
	while (array_iterate(it, &e, &isnull))
	{
		if (isnull)
			continue;
		if (!first)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, TextDatumGetCString(e));
		first = false;
	}
	array_free_iterator(it);
	return buf.data;
}

/*
 * The rows of migr.applied visible to snap with a revision, sorted by
 * revision, in the current memory context, and the number of all rows;
 * false when one revision has two rows (the query would give its revision
 * twice: the caller runs it).
 */
static bool
read_applied(Relation rel, Snapshot snap, AppliedRow **rows, int64 *n,
			 int64 *nrows)
{
	AttrNumber	c_rev = column(rel, "revision", TEXTOID);
	AttrNumber	c_seq = column(rel, "head_seq", INT8OID);
	AttrNumber	c_sum = column(rel, "checksum", BYTEAOID);
	TupleTableSlot *slot;
	TableScanDesc scan;
	int64		cap = 64;

	if (!c_rev || !c_seq || !c_sum)
		return false;
	*rows = palloc(sizeof(AppliedRow) * cap);
	*n = 0;
	*nrows = 0;
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, snap, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		AppliedRow *r;
		bool		null_rev,
					null_seq,
					null_sum;
		Datum		rev = slot_getattr(slot, c_rev, &null_rev);
		Datum		seq = slot_getattr(slot, c_seq, &null_seq);
		Datum		sum = slot_getattr(slot, c_sum, &null_sum);

		CHECK_FOR_INTERRUPTS();
		(*nrows)++;
		if (*n == cap)
		{
			cap *= 2;
			*rows = repalloc(*rows, sizeof(AppliedRow) * cap);
		}
		r = &(*rows)[(*n)++];
		/* NULL never equals an id: such a row is counted, never matched */
		r->revision = null_rev ? NULL : TextDatumGetCString(rev);
		r->head_seq = null_seq ? 0 : DatumGetInt64(seq);
		r->checksum = null_sum ? NULL : DatumGetByteaPCopy(sum);
		if (r->revision == NULL)
			(*n)--;
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	qsort(*rows, *n, sizeof(AppliedRow), cmp_applied);
	for (int64 i = 1; i < *n; i++)
		if (strcmp((*rows)[i - 1].revision, (*rows)[i].revision) == 0)
			return false;
	return true;
}

/*
 * migr_graph_read_direct
 *		What catalog.c's revision query with content returns, for the
 *		statement's snapshot: *in (allocated in "into", unsorted) and *n
 *		get the revisions, fn is called with each one's content as
 *		migr_catalog_load_graph_contents() describes, and *applied_rows and
 *		*applied_matched get the number of rows of migr.applied and of
 *		those naming a registered revision (-1 each when no revision is
 *		registered, as from the query).  Returns false, having read and
 *		called nothing, when the query must decide (see the file header).
 */
bool
migr_graph_read_direct(MemoryContext into, MigrRevInput **in, int *n,
					   MigrContentFn fn, void *arg, int64 *applied_rows,
					   int64 *applied_matched)
{
	Oid			nsp = get_namespace_oid("migr", true);
	bool		v2 = migr_catalog_v2();
	Relation	mrel,
				arel;
	AttrNumber	att[M_NCOLS];
	Snapshot	snap = GetActiveSnapshot();
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext rowcxt;
	AppliedRow *applied;
	int64		napplied = 0;
	int64		all_applied_rows = 0;
	int			cap = 64;
	TupleTableSlot *slot;
	TableScanDesc scan;

	if (snap == NULL)
		return false;
	if ((mrel = open_readable(nsp, "migration")) == NULL)
		return false;
	if ((arel = open_readable(nsp, "applied")) == NULL)
	{
		table_close(mrel, AccessShareLock);
		return false;
	}
	for (int c = 0; c < M_NCOLS; c++)
	{
		att[c] = (mcols[c].v2 && !v2) ? InvalidAttrNumber
			: column(mrel, mcols[c].name, mcols[c].type);
		if (att[c] == InvalidAttrNumber && (v2 || !mcols[c].v2))
		{
			table_close(arel, AccessShareLock);
			table_close(mrel, AccessShareLock);
			return false;
		}
	}

	rowcxt = AllocSetContextCreate(outer, "migr revision read",
								   ALLOCSET_DEFAULT_SIZES);
	if (!read_applied(arel, snap, &applied, &napplied, &all_applied_rows))
	{
		MemoryContextDelete(rowcxt);
		table_close(arel, AccessShareLock);
		table_close(mrel, AccessShareLock);
		return false;
	}

	*n = 0;
	*in = MemoryContextAllocZero(into, sizeof(MigrRevInput) * cap);
	*applied_matched = 0;
	slot = table_slot_create(mrel, NULL);
	scan = table_beginscan(mrel, snap, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		MigrRevInput *r;
		Datum		v[M_NCOLS];
		bool		isnull[M_NCOLS];
		AppliedRow	key;
		AppliedRow *a;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (*n == cap)
		{
			cap *= 2;
			*in = repalloc(*in, sizeof(MigrRevInput) * cap);
		}
		r = &(*in)[*n];
		memset(r, 0, sizeof(MigrRevInput));
		for (int c = 0; c < M_NCOLS; c++)
		{
			if (att[c] == InvalidAttrNumber)
			{
				v[c] = (Datum) 0;
				isnull[c] = true;
			}
			else
				v[c] = slot_getattr(slot, att[c], &isnull[c]);
		}
		/*
		 * The columns are NOT NULL; were a constraint dropped, a NULL is
		 * taken as the query's value would be (a NULL date as 0, a NULL
		 * list as empty: the query would have crashed on it instead).
		 */
		old = MemoryContextSwitchTo(into);
		r->id = TextDatumGetCString(v[M_ID]);	/* the primary key */
		r->create_date = isnull[M_CREATE_DATE] ? 0 : DatumGetTimestampTz(v[M_CREATE_DATE]);
		r->parents = migr_split_ids(array_join(v[M_REVISES], isnull[M_REVISES]),
									&r->nparents);
		r->deps = migr_split_ids(array_join(v[M_DEPENDS_ON], isnull[M_DEPENDS_ON]),
								 &r->ndeps);
		r->labels = migr_split_ids(array_join(v[M_BRANCH_LABELS], isnull[M_BRANCH_LABELS]),
								   &r->nlabels);
		MemoryContextSwitchTo(old);
		r->irreversible = isnull[M_DOWNGRADE_SQL];
		r->checkmask = (!isnull[M_SKIP_IF]) | ((!isnull[M_REQUIRES]) << 1) |
			((!isnull[M_VERIFY]) << 2) | ((!isnull[M_VERIFY_DOWN]) << 3);
		/* (NOT (t AND ut))::int | (NOT (t AND dt))::int << 1, NULL as 0 */
		if (v2)
		{
			bool		t = !isnull[M_TRANSACTIONAL] && DatumGetBool(v[M_TRANSACTIONAL]);
			bool		tnull = isnull[M_TRANSACTIONAL];
			bool		un = isnull[M_UPGRADE_TXN],
						dn = isnull[M_DOWNGRADE_TXN];
			bool		u = !un && DatumGetBool(v[M_UPGRADE_TXN]);
			bool		d = !dn && DatumGetBool(v[M_DOWNGRADE_TXN]);
			/* a AND b is false when either is false, else NULL when either is */
			int			up = (!tnull && !t) || (!un && !u) ? 1 : (tnull || un) ? -1 : 0;
			int			down = (!tnull && !t) || (!dn && !d) ? 1 : (tnull || dn) ? -1 : 0;

			r->nontxn = (up < 0 || down < 0) ? 0 : up | (down << 1);
		}

		key.revision = r->id;
		a = bsearch(&key, applied, napplied, sizeof(AppliedRow), cmp_applied);
		r->applied = a != NULL;
		r->head_seq = a ? a->head_seq : 0;
		if (a)
			(*applied_matched)++;

		if (fn)
		{
			char	   *str[6];

			old = MemoryContextSwitchTo(rowcxt);
			for (int c = 0; c < 6; c++)
				str[c] = isnull[M_UPGRADE_SQL + c] ? NULL
					: TextDatumGetCString(v[M_UPGRADE_SQL + c]);
			{
				bytea	   *sum = isnull[M_CHECKSUM] ? NULL : DatumGetByteaPP(v[M_CHECKSUM]);

				MemoryContextSwitchTo(old);
				fn(r->id, str[0], str[1], &str[2], sum, a ? a->checksum : NULL, arg);
			}
			MemoryContextReset(rowcxt);
		}
		(*n)++;
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextDelete(rowcxt);
	table_close(arel, AccessShareLock);
	table_close(mrel, AccessShareLock);
	*applied_rows = *n == 0 ? -1 : all_applied_rows;
	if (*n == 0)
		*applied_matched = -1;
	return true;
}

/*
 * migr_read_snapshot_signature
 *		What catalog.c's "SELECT s.catalog_signature FROM migr.snapshot s
 *		ORDER BY s.event_id DESC LIMIT 1" returns, for the statement's
 *		snapshot: 1 with *signature (a copy in "into", NULL for a NULL
 *		column) when there is a row, 0 when there is none, -1 when the query
 *		must decide.  Only the signature is detoasted, never the recorded
 *		description.
 */
int
migr_read_snapshot_signature(MemoryContext into, bytea **signature)
{
	Snapshot	snap = GetActiveSnapshot();
	Relation	rel;
	AttrNumber	c_event,
				c_sig;
	TupleTableSlot *slot;
	TableScanDesc scan;
	bool		found = false;
	int64		best = 0;
	Datum		best_sig = (Datum) 0;
	bool		best_null = true;
	MemoryContext cxt;
	MemoryContext old;

	*signature = NULL;
	if (snap == NULL ||
		(rel = open_readable(get_namespace_oid("migr", true), "snapshot")) == NULL)
		return -1;
	c_event = column(rel, "event_id", INT8OID);
	c_sig = column(rel, "catalog_signature", BYTEAOID);
	if (!c_event || !c_sig)
	{
		table_close(rel, AccessShareLock);
		return -1;
	}
	/* the values of the best row so far are copied here */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "migr snapshot read",
								ALLOCSET_SMALL_SIZES);
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, snap, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		ev = slot_getattr(slot, c_event, &isnull);
		int64		e = isnull ? 0 : DatumGetInt64(ev);

		CHECK_FOR_INTERRUPTS();
		/* event_id is the primary key: never NULL, never twice */
		if (isnull || (found && e <= best))
			continue;
		found = true;
		best = e;
		MemoryContextReset(cxt);
		best_sig = slot_getattr(slot, c_sig, &best_null);
		if (!best_null)
		{
			old = MemoryContextSwitchTo(cxt);
			best_sig = PointerGetDatum(PG_DETOAST_DATUM_COPY(best_sig));
			MemoryContextSwitchTo(old);
		}
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);
	if (found && !best_null)
	{
		old = MemoryContextSwitchTo(into);
		*signature = DatumGetByteaPCopy(best_sig);
		MemoryContextSwitchTo(old);
	}
	MemoryContextDelete(cxt);
	return found ? 1 : 0;
}

/*
 * migr_read_summary_direct
 *		What migr_summary_read()'s query, "SELECT s.pending, s.graph_heads,
 *		s.current_heads FROM migr.summary s WHERE s.fresh", returns for the
 *		statement's snapshot: 1 with the first fresh row's values
 *		(*current in "into"), 0 when no row is fresh, or -1 when the query
 *		must decide.  The row is read at the first call of a check or a
 *		migr.current() in a session, where planning that query costs more
 *		than the scan of the one row.
 */
int
migr_read_summary_direct(MemoryContext into, int64 *pending, int *graph_heads,
						 char ***current, int *ncurrent)
{
	Snapshot	snap = GetActiveSnapshot();
	Relation	rel;
	AttrNumber	c_fresh,
				c_pending,
				c_heads,
				c_current;
	TupleTableSlot *slot;
	TableScanDesc scan;
	int			found = 0;

	if (snap == NULL ||
		(rel = open_readable(get_namespace_oid("migr", true), "summary")) == NULL)
		return -1;
	if (!(c_fresh = column(rel, "fresh", BOOLOID)) ||
		!(c_pending = column(rel, "pending", INT8OID)) ||
		!(c_heads = column(rel, "graph_heads", INT4OID)) ||
		!(c_current = column(rel, "current_heads", TEXTARRAYOID)))
	{
		table_close(rel, AccessShareLock);
		return -1;
	}
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, snap, 0, NULL);
	while (!found && table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		fresh = slot_getattr(slot, c_fresh, &isnull);
		Datum		v;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (isnull || !DatumGetBool(fresh))
			continue;
		/* NOT NULL columns: a NULL (a dropped constraint) reads as the query's 0 */
		v = slot_getattr(slot, c_pending, &isnull);
		*pending = isnull ? 0 : DatumGetInt64(v);
		v = slot_getattr(slot, c_heads, &isnull);
		*graph_heads = isnull ? 0 : DatumGetInt32(v);
		v = slot_getattr(slot, c_current, &isnull);
		old = MemoryContextSwitchTo(into);
		if (isnull)
		{
			*current = palloc(sizeof(char *));
			*ncurrent = 0;
		}
		else
			*current = migr_cstrings(v, ncurrent);
		MemoryContextSwitchTo(old);
		found = 1;
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * migr_read_any_row
 *		Whether migr.<name> has a row the caller sees, for the statement's
 *		snapshot: 1 or 0, or -1 when a query must decide.  With column
 *		not NULL, only rows where that text column is not NULL and not
 *		equal to except count (as "WHERE column <> except" would).
 */
int
migr_read_any_row(const char *name, const char *column_name, const char *except)
{
	Snapshot	snap = GetActiveSnapshot();
	Relation	rel;
	AttrNumber	c = InvalidAttrNumber;
	TupleTableSlot *slot;
	TableScanDesc scan;
	int			found = 0;

	if (snap == NULL ||
		(rel = open_readable(get_namespace_oid("migr", true), name)) == NULL)
		return -1;
	if (column_name && !(c = column(rel, column_name, TEXTOID)))
	{
		table_close(rel, AccessShareLock);
		return -1;
	}
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, snap, 0, NULL);
	while (!found && table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		CHECK_FOR_INTERRUPTS();
		if (column_name)
		{
			bool		isnull;
			Datum		v = slot_getattr(slot, c, &isnull);
			text	   *t;

			if (isnull)
				continue;
			t = DatumGetTextPP(v);
			/* text equality in a deterministic collation is byte equality */
			if (VARSIZE_ANY_EXHDR(t) == strlen(except) &&
				memcmp(VARDATA_ANY(t), except, strlen(except)) == 0)
				continue;
		}
		found = 1;
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * migr_read_sources_direct
 *		Every row of migr.migration with a source_file and a source_sha256,
 *		for the statement's snapshot: fn(file, id, sha256, arg) each, the
 *		values valid during the call.  False, having called fn for no row,
 *		when a query must read them (as for migr_graph_read_direct).
 */
bool
migr_read_sources_direct(MigrSourceFn fn, void *arg)
{
	Snapshot	snap = GetActiveSnapshot();
	Relation	rel;
	AttrNumber	c_file,
				c_id,
				c_sha;
	TupleTableSlot *slot;
	TableScanDesc scan;

	if (snap == NULL ||
		(rel = open_readable(get_namespace_oid("migr", true), "migration")) == NULL)
		return false;
	if (!(c_file = column(rel, "source_file", TEXTOID)) ||
		!(c_id = column(rel, "id", TEXTOID)) ||
		!(c_sha = column(rel, "source_sha256", BYTEAOID)))
	{
		table_close(rel, AccessShareLock);
		return false;
	}
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, snap, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		file_null,
					id_null,
					sha_null;
		Datum		file,
					id,
					sha;

		CHECK_FOR_INTERRUPTS();
		file = slot_getattr(slot, c_file, &file_null);
		sha = slot_getattr(slot, c_sha, &sha_null);
		id = slot_getattr(slot, c_id, &id_null);
		if (file_null || sha_null || id_null)
			continue;
		fn(DatumGetTextPP(file), DatumGetTextPP(id), DatumGetByteaPP(sha), arg);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);
	return true;
}
