/*-------------------------------------------------------------------------
 * catsig.c
 *	  The catalog signature: what tells migr.check() that the system
 *	  catalogs the schema description reads have not changed since the
 *	  description was recorded, so that it need not describe the schema
 *	  again.
 *
 *	  The description (fingerprint.c) deparses the catalogs, which is slow on
 *	  a large schema (about 150 ms for 1,000 tables), and migr.check() needs
 *	  it on every call, even when nothing changed.
 *
 *	  Rows.  Every change to a catalog row writes a new row version, with
 *	  the writing transaction's id as its xmin and a new position (ctid), and
 *	  a deleted row disappears from an MVCC scan; so while the set of
 *	  (xmin, ctid) of the visible row versions is what it was when the
 *	  description was recorded, the catalogs hold the same rows and the
 *	  description is the same.  The converse does not hold: VACUUM FULL of a
 *	  catalog moves rows, and then the set differs with the description
 *	  unchanged, which only costs the slow path.  The exception is
 *	  PostgreSQL's in-place updates, which overwrite a row without a new
 *	  version.  In PostgreSQL 15's current minor release they write only
 *	  pg_class columns the description does not read (sizes, relhasindex,
 *	  reltoastrelid, frozen xids) and pg_database.  Earlier minor releases
 *	  also set pg_index's indisvalid, indisready and indislive in place
 *	  (index_set_state_flags, for CREATE INDEX CONCURRENTLY), and indisvalid
 *	  decides whether an index is described: those three are hashed with
 *	  the row.  The xmin hashed is the raw one, which freezing keeps.
 *
 *	  Pages.  Hashing every row means touching all of them (about 50,000
 *	  for 1,000 tables), which costs more than the rest of migr.check().  So
 *	  the rows are hashed page by page, and each page's hash is recorded with
 *	  the page's LSN.  Every change to a page of a catalog is WAL-logged and
 *	  sets the page's LSN to the end of its WAL record, which lies beyond
 *	  every LSN any page had when the signature was recorded; in-place
 *	  updates are WAL-logged too.  What changes a page without a new LSN
 *	  does not change which rows are visible: hint bits and the
 *	  all-visible flag only cache what the commit log says.  A relation
 *	  rewritten without WAL (wal_level = minimal) starts from pages whose
 *	  LSN is zero, and a zero LSN is never trusted.  So a page whose LSN is
 *	  the recorded one holds the same row versions as when it was recorded.
 *
 *	  The same row versions are not enough: which of them are visible could
 *	  still change, when a transaction that wrote them ends.  So a page's
 *	  LSN is recorded only when every row version on it is settled: its
 *	  xmin and xmax (when it is not a mere row lock) are frozen, invalid,
 *	  ended before the recording snapshot was taken (committed or aborted,
 *	  for good), or the recording transaction's own, written by an earlier
 *	  command.  Any snapshot taken later, once the recording transaction has
 *	  committed (migr.check() only sees the recorded signature then, or from
 *	  within that transaction), sees the same rows of such a page.  A page
 *	  with a row of a transaction still running (another session's
 *	  uncommitted DDL) is recorded with LSN zero: its rows are hashed again
 *	  at every check.
 *
 *	  Pruning.  The first reader of a nearly full page with row versions
 *	  dead to every transaction removes them (heap_page_prune_opt, called
 *	  by heap and index scans), and that is WAL-logged: the page gets a new
 *	  LSN though its visible rows stay the same (pruning removes only
 *	  versions no snapshot sees, and a visible version keeps its xmin and
 *	  offset: a dead chain head becomes a redirect to it).  DDL leaves such
 *	  versions (CREATE TABLE updates the pg_class row it inserted when it
 *	  adds a TOAST table), and the recording reads the pages with a bare
 *	  ReadBuffer, which prunes nothing.  So in CALL mode, where each
 *	  revision commits on its own, the description read right after the
 *	  signature, in the same transaction, pruned the pages the earlier
 *	  revisions left dead versions on, and every later check hashed those
 *	  pages again (119 of 987 pages after 1,000 revisions of CREATE TABLE
 *	  and CREATE INDEX).  So the recording prunes each page as a reader
 *	  would, before locking it, and records the LSN the pruning leaves; a
 *	  later reader then finds nothing to prune.  What it cannot prune are
 *	  the versions the recording transaction itself made dead (the last
 *	  revision's in CALL mode, every revision's in migr.upgrade(), one
 *	  transaction): once it commits, the first reader of such a page prunes
 *	  it, and migr.check() hashes that page again, at a cost only.  So does
 *	  a vacuum of a catalog, which frees the line pointers pruning left dead.
 *
 *	  migr.check() then compares page by page: a page with its recorded,
 *	  non-zero LSN is taken as unchanged without reading its rows; any other
 *	  page (its LSN moved: a vacuum pruned it, a hint bit was WAL-logged
 *	  with data checksums on, a row changed) has its visible rows hashed
 *	  again and compared with the recorded hash.  A change anywhere means the
 *	  full comparison runs, which then decides.
 *
 *	  Two facts of the recorded catalogs travel with the signature: whether
 *	  some index was invalid, and whether some foreign key had no valid index
 *	  whose leading columns are its columns (whatever its schema).  While
 *	  the signature matches, the catalogs are the ones these were computed
 *	  from, and migr.check() need not run its invalid-index and
 *	  unindexed-foreign-key queries when they say no.
 *
 * IDENTIFICATION
 *	  src/catsig.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_partitioned_table.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "catsig.h"
#include "checksum.h"
#include "common/sha2.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/array.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/*
 * Every catalog the description's query or the deparsing functions it calls
 * (format_type, pg_get_expr, pg_get_*def) read, and the extension
 * membership that filters it.  Changing the list changes the format: bump
 * the magic.
 */
static const Oid signed_catalogs[] = {
	NamespaceRelationId,
	RelationRelationId,
	AttributeRelationId,
	AttrDefaultRelationId,
	ConstraintRelationId,
	IndexRelationId,
	TypeRelationId,
	ProcedureRelationId,
	TriggerRelationId,
	DependRelationId,
	EnumRelationId,
	SequenceRelationId,
	CollationRelationId,
	OperatorClassRelationId,
	OperatorFamilyRelationId,
	OperatorRelationId,
	AccessMethodRelationId,
	RewriteRelationId,
	PartitionedRelationId,
	InheritsRelationId,
	LanguageRelationId,
	ExtensionRelationId,
};

#define NCATALOGS lengthof(signed_catalogs)
#define PAGE_HASH_LEN 16

/*
 * The recorded signature, a bytea: a header, then per catalog a CatalogPart
 * followed by one PagePart per block.  Native byte order: a signature is
 * only ever compared in the cluster that recorded it (or a physical copy
 * of it); one from elsewhere does not match, which costs the slow path.
 */
typedef struct SigHeader
{
	char		magic[4];		/* "mcs2" */
	uint32		facts;			/* MIGR_CATSIG_* */
	uint32		ncatalogs;
} SigHeader;

typedef struct CatalogPart
{
	Oid			relid;
	Oid			relfilenode;
	BlockNumber nblocks;
} CatalogPart;

typedef struct PagePart
{
	XLogRecPtr	lsn;			/* 0: not settled, always hash again */
	uint8		hash[PAGE_HASH_LEN];	/* of its visible rows */
} PagePart;

/* What is hashed for one visible row version. */
typedef struct SignedRow
{
	TransactionId xmin;
	OffsetNumber offset;
	bool		flags[3];		/* pg_index only: valid, ready, live */
} SignedRow;

/* A foreign key, or a valid index, for the unindexed-foreign-key fact */
typedef struct KeyCols
{
	Oid			relid;
	int			ncols;
	int16	   *cols;
} KeyCols;

/* While recording: what the rows tell */
typedef struct Facts
{
	bool		invalid_index;
	List	   *fkey_rows;		/* copies of visible foreign key rows */
	List	   *indexes;		/* KeyCols of visible valid indexes */
} Facts;

static const char sig_magic[4] = {'m', 'c', 's', '2'};

/*
 * Whether a transaction id that wrote or deleted a row version has its
 * final say for every snapshot taken after snap: not a normal xid (frozen,
 * bootstrap, invalid), or ended before snap was taken.  The current
 * transaction's own ids are the caller's to judge (by command id).
 */
static bool
xid_ended_before(TransactionId xid, Snapshot snap)
{
	if (!TransactionIdIsNormal(xid))
		return true;
	return !XidInMVCCSnapshot(xid, snap);
}

/*
 * Whether a normal xid precedes every transaction running when snap was
 * taken, the current one included: then it ended before, and is not ours.
 * Most row versions are settled by this test alone.
 */
static inline bool
xid_old(TransactionId xid, Snapshot snap)
{
	return !TransactionIdIsNormal(xid) || TransactionIdPrecedes(xid, snap->xmin);
}

/*
 * Whether a row version is settled (see the file header): its visibility
 * will be the same for every later snapshot as for snap.  Conservative:
 * anything unusual (pre-9.0 moved rows, an updating multixact) is not.
 */
static bool
row_settled(HeapTupleHeader t, Snapshot snap)
{
	TransactionId xmin = HeapTupleHeaderGetRawXmin(t);
	TransactionId xmax;

	if (t->t_infomask & HEAP_MOVED)
		return false;
	if (!HeapTupleHeaderXminFrozen(t) && !HeapTupleHeaderXminInvalid(t) &&
		!xid_old(xmin, snap))
	{
		if (TransactionIdIsCurrentTransactionId(xmin))
		{
			if (HeapTupleHeaderGetCmin(t) >= snap->curcid)
				return false;
		}
		else if (!xid_ended_before(xmin, snap))
			return false;
	}
	if ((t->t_infomask & HEAP_XMAX_INVALID) || HEAP_XMAX_IS_LOCKED_ONLY(t->t_infomask))
		return true;
	if (t->t_infomask & HEAP_XMAX_IS_MULTI)
		return false;
	xmax = HeapTupleHeaderGetRawXmax(t);
	if (xid_old(xmax, snap))
		return true;
	if (TransactionIdIsCurrentTransactionId(xmax))
		return HeapTupleHeaderGetCmax(t) < snap->curcid;
	return xid_ended_before(xmax, snap);
}

/* A copy of an int2 array's elements (conkey) */
static int16 *
int2_array_copy(Datum d, int *n)
{
	ArrayType  *a = DatumGetArrayTypeP(d);
	int16	   *out;

	*n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	out = palloc(sizeof(int16) * (*n + 1));
	if (*n > 0)
		memcpy(out, ARR_DATA_PTR(a), sizeof(int16) * *n);
	return out;
}

/* What a visible row tells the facts (recording only) */
static void
note_row(Relation rel, HeapTuple tup, Facts *facts)
{
	Oid			relid = RelationGetRelid(rel);

	if (relid == IndexRelationId)
	{
		Form_pg_index idx = (Form_pg_index) GETSTRUCT(tup);

		if (!idx->indisvalid)
			facts->invalid_index = true;
		else
		{
			KeyCols    *k = palloc(sizeof(KeyCols));

			k->relid = idx->indrelid;
			k->ncols = idx->indkey.dim1;
			k->cols = palloc(sizeof(int16) * (k->ncols + 1));
			memcpy(k->cols, idx->indkey.values, sizeof(int16) * k->ncols);
			facts->indexes = lappend(facts->indexes, k);
		}
	}
	else if (relid == ConstraintRelationId &&
			 ((Form_pg_constraint) GETSTRUCT(tup))->contype == CONSTRAINT_FOREIGN)
	{
		/* decoded once the page is unlocked: conkey may need detoasting */
		facts->fkey_rows = lappend(facts->fkey_rows, heap_copytuple(tup));
	}
}

/*
 * Whether some foreign key has no valid index on its table whose first
 * columns are its columns in order: the condition of migr.check()'s
 * unindexed-foreign-key query without its schema filter, so never false
 * when that query finds something.
 */
static int
cmp_keycols_relid(const void *a, const void *b)
{
	Oid			x = (*(KeyCols *const *) a)->relid;
	Oid			y = (*(KeyCols *const *) b)->relid;

	return x < y ? -1 : x > y ? 1 : 0;
}

static bool
unindexed_fkey(Facts *facts, TupleDesc desc)
{
	int			nix = list_length(facts->indexes);
	KeyCols   **ix = palloc(sizeof(KeyCols *) * (nix + 1));
	ListCell   *lc;
	int			k = 0;

	/* the valid indexes by table, so that each key finds its own */
	foreach(lc, facts->indexes)
		ix[k++] = lfirst(lc);
	qsort(ix, nix, sizeof(KeyCols *), cmp_keycols_relid);
	foreach(lc, facts->fkey_rows)
	{
		HeapTuple	tup = lfirst(lc);
		Oid			relid = ((Form_pg_constraint) GETSTRUCT(tup))->conrelid;
		KeyCols		fk;
		bool		covered = false;
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_constraint_conkey, desc, &isnull);
		int			lo = 0,
					hi = nix;

		CHECK_FOR_INTERRUPTS();
		/* a foreign key always has columns; without, count it unindexed */
		if (isnull)
			return true;
		fk.cols = int2_array_copy(d, &fk.ncols);
		if (fk.ncols == 0)
			return true;
		/* the first index of the table, then each of its indexes */
		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (ix[mid]->relid < relid)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (int i = lo; i < nix && ix[i]->relid == relid && !covered; i++)
			covered = ix[i]->ncols >= fk.ncols &&
				memcmp(ix[i]->cols, fk.cols, sizeof(int16) * fk.ncols) == 0;
		if (!covered)
			return true;
	}
	return false;
}

/*
 * The hash of the rows of one page visible to snap, the buffer locked by
 * the caller.  When recording (facts not NULL), also whether every row
 * version on the page is settled, and what the visible rows tell.
 */
static void
hash_page(Relation rel, Buffer buf, BlockNumber blkno, Snapshot snap,
		  pg_cryptohash_ctx *ctx, uint8 *hash, bool *settled, Facts *facts)
{
	Page		page = BufferGetPage(buf);
	bool		all_visible = PageIsAllVisible(page) && !snap->takenDuringRecovery;
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	bool		is_index = RelationGetRelid(rel) == IndexRelationId;
	SignedRow	rows[MaxHeapTuplesPerPage];
	int			n = 0;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	if (settled)
		*settled = true;
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		lp = PageGetItemId(page, off);
		HeapTupleData tup;

		if (!ItemIdIsNormal(lp))
			continue;
		tup.t_data = (HeapTupleHeader) PageGetItem(page, lp);
		tup.t_len = ItemIdGetLength(lp);
		tup.t_tableOid = RelationGetRelid(rel);
		ItemPointerSet(&tup.t_self, blkno, off);
		if (settled && *settled && !row_settled(tup.t_data, snap))
			*settled = false;
		if (!all_visible && !HeapTupleSatisfiesVisibility(&tup, snap, buf))
			continue;
		/* padding included: zero it, so equal rows hash equally */
		memset(&rows[n], 0, sizeof(SignedRow));
		rows[n].xmin = HeapTupleHeaderGetRawXmin(tup.t_data);
		rows[n].offset = off;
		if (is_index)
		{
			Form_pg_index idx = (Form_pg_index) GETSTRUCT(&tup);

			rows[n].flags[0] = idx->indisvalid;
			rows[n].flags[1] = idx->indisready;
			rows[n].flags[2] = idx->indislive;
		}
		if (facts)
			note_row(rel, &tup, facts);
		n++;
	}
	migr_sha256_restart(ctx);
	migr_sha256_add(ctx, &n, sizeof(n));
	migr_sha256_add(ctx, rows, sizeof(SignedRow) * n);
	migr_sha256_final(ctx, digest);
	memcpy(hash, digest, PAGE_HASH_LEN);
}

/* The hash hash_page gives a page without visible rows (or past the end) */
static void
empty_page_hash(uint8 *hash)
{
	pg_cryptohash_ctx *ctx = migr_sha256_begin();
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	int			n = 0;

	migr_sha256_add(ctx, &n, sizeof(n));
	migr_sha256_end(ctx, digest);
	memcpy(hash, digest, PAGE_HASH_LEN);
}

/*
 * The snapshot the catalogs are read with: the catalog snapshot, as for
 * any catalog scan, registered so that it lasts across the scans.
 */
static Snapshot
catalog_snapshot(void)
{
	return RegisterSnapshot(GetCatalogSnapshot(RelationRelationId));
}

/*
 * migr_catalog_signature
 *		The signature of the catalogs as the catalog snapshot sees them now
 *		(the caller's own changes included), to record with a description
 *		read after it.  Returns a bytea, palloc'd in the current memory
 *		context, as uint8 * (callers only pass it on to
 *		migr_catalog_save_snapshot).
 */
uint8 *
migr_catalog_signature(void)
{
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "migr catalog signature",
											  ALLOCSET_DEFAULT_SIZES);
	Snapshot	snap = catalog_snapshot();
	StringInfoData buf;
	SigHeader	head;
	Facts		facts = {0};
	bytea	   *result;
	pg_cryptohash_ctx *ctx;

	MemoryContextSwitchTo(cxt);
	ctx = migr_sha256_begin();
	initStringInfo(&buf);
	memcpy(head.magic, sig_magic, sizeof(head.magic));
	head.facts = 0;
	head.ncatalogs = NCATALOGS;
	appendBinaryStringInfo(&buf, (char *) &head, sizeof(head));
	for (int c = 0; c < NCATALOGS; c++)
	{
		Relation	rel = table_open(signed_catalogs[c], AccessShareLock);
		CatalogPart part;

		part.relid = signed_catalogs[c];
		part.relfilenode = rel->rd_node.relNode;
		part.nblocks = RelationGetNumberOfBlocks(rel);
		appendBinaryStringInfo(&buf, (char *) &part, sizeof(part));
		for (BlockNumber b = 0; b < part.nblocks; b++)
		{
			Buffer		pbuf;
			PagePart	pp;
			bool		settled;

			CHECK_FOR_INTERRUPTS();
			pbuf = ReadBufferExtended(rel, MAIN_FORKNUM, b, RBM_NORMAL, NULL);
			/* what a later reader would prune, pruned now (file header) */
			heap_page_prune_opt(rel, pbuf);
			LockBuffer(pbuf, BUFFER_LOCK_SHARE);
			memset(&pp, 0, sizeof(pp));
			hash_page(rel, pbuf, b, snap, ctx, pp.hash, &settled, &facts);
			/* read last: setting hint bits above may have moved it */
			pp.lsn = settled ? BufferGetLSNAtomic(pbuf) : InvalidXLogRecPtr;
			UnlockReleaseBuffer(pbuf);
			appendBinaryStringInfo(&buf, (char *) &pp, sizeof(pp));
		}
		table_close(rel, AccessShareLock);
	}
	UnregisterSnapshot(snap);
	pg_cryptohash_free(ctx);
	if (facts.invalid_index)
		head.facts |= MIGR_CATSIG_INVALID_INDEX;
	{
		Relation	con = table_open(ConstraintRelationId, AccessShareLock);

		if (unindexed_fkey(&facts, RelationGetDescr(con)))
			head.facts |= MIGR_CATSIG_UNINDEXED_FKEY;
		table_close(con, AccessShareLock);
	}
	memcpy(buf.data, &head, sizeof(head));

	MemoryContextSwitchTo(outer);
	result = palloc(VARHDRSZ + buf.len);
	SET_VARSIZE(result, VARHDRSZ + buf.len);
	memcpy(VARDATA(result), buf.data, buf.len);
	MemoryContextDelete(cxt);
	return (uint8 *) result;
}

/*
 * migr_catalog_signature_matches
 *		Whether the catalogs are as the recorded signature says (see the
 *		file header): false when anything differs, or the signature is not
 *		one this code wrote.  When they are, *facts receives the facts
 *		recorded with it (MIGR_CATSIG_*).  *rehashed and *pages receive the
 *		number of pages whose rows had to be hashed again and of pages
 *		compared (for DEBUG1; the comparison stops at the first
 *		difference).
 */
bool
migr_catalog_signature_matches(bytea *recorded, uint32 *facts, int *rehashed,
							   int *pages)
{
	const char *p = VARDATA_ANY(recorded);
	const char *end = p + VARSIZE_ANY_EXHDR(recorded);
	SigHeader	head;
	uint8		empty[PAGE_HASH_LEN];
	Snapshot	snap;
	bool		match = true;
	pg_cryptohash_ctx *ctx = NULL;

	*rehashed = *pages = 0;
	if (end - p < sizeof(SigHeader))
		return false;
	memcpy(&head, p, sizeof(head));
	p += sizeof(head);
	if (memcmp(head.magic, sig_magic, sizeof(sig_magic)) != 0 ||
		head.ncatalogs != NCATALOGS)
		return false;
	empty_page_hash(empty);
	/* before any page is read: the answer is as of this snapshot */
	snap = catalog_snapshot();
	for (int c = 0; c < NCATALOGS && match; c++)
	{
		CatalogPart part;
		Relation	rel;
		BlockNumber nblocks;
		bool		same_file;

		if (end - p < sizeof(CatalogPart))
		{
			match = false;
			break;
		}
		memcpy(&part, p, sizeof(part));
		p += sizeof(part);
		if (part.relid != signed_catalogs[c] ||
			end - p < (Size) part.nblocks * sizeof(PagePart))
		{
			match = false;
			break;
		}
		rel = table_open(signed_catalogs[c], AccessShareLock);
		nblocks = RelationGetNumberOfBlocks(rel);
		same_file = part.relfilenode == rel->rd_node.relNode;
		for (BlockNumber b = 0; b < Max(nblocks, part.nblocks) && match; b++)
		{
			PagePart	pp;
			uint8		now[PAGE_HASH_LEN];

			CHECK_FOR_INTERRUPTS();
			(*pages)++;
			if (b < part.nblocks)
				memcpy(&pp, p + (Size) b * sizeof(PagePart), sizeof(pp));
			else
			{
				pp.lsn = InvalidXLogRecPtr;
				memcpy(pp.hash, empty, PAGE_HASH_LEN);
			}
			if (b < nblocks)
			{
				Buffer		pbuf = ReadBufferExtended(rel, MAIN_FORKNUM, b,
													  RBM_NORMAL, NULL);

				LockBuffer(pbuf, BUFFER_LOCK_SHARE);
				if (same_file && pp.lsn != InvalidXLogRecPtr &&
					BufferGetLSNAtomic(pbuf) == pp.lsn)
					memcpy(now, pp.hash, PAGE_HASH_LEN);
				else
				{
					if (ctx == NULL)
						ctx = migr_sha256_begin();
					hash_page(rel, pbuf, b, snap, ctx, now, NULL, NULL);
					(*rehashed)++;
				}
				UnlockReleaseBuffer(pbuf);
			}
			else
				memcpy(now, empty, PAGE_HASH_LEN);
			if (memcmp(now, pp.hash, PAGE_HASH_LEN) != 0)
				match = false;
		}
		p += (Size) part.nblocks * sizeof(PagePart);
		table_close(rel, AccessShareLock);
	}
	UnregisterSnapshot(snap);
	if (ctx)
		pg_cryptohash_free(ctx);
	if (match && p != end)
		match = false;
	*facts = head.facts;
	return match;
}
