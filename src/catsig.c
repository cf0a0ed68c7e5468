/*-------------------------------------------------------------------------
 * catsig.c
 *	  The catalog signature: a sha256 over the identity of every visible row
 *	  version of the system catalogs that the schema description reads.
 *
 *	  The description (fingerprint.c) deparses the catalogs, which is slow on
 *	  a large schema (about 150 ms for 1,000 tables), and migr.check() needs
 *	  it on every call, even when nothing changed.  The signature costs a
 *	  scan of those catalogs instead.  Every change to a catalog row writes a
 *	  new row version, with the writing transaction's id as its xmin and a
 *	  new position (ctid), and a deleted row disappears from the scan; so
 *	  while the signature is what it was when the description was recorded,
 *	  the catalogs hold the same rows and the description is the same.  The
 *	  converse does not hold: VACUUM FULL of a catalog moves rows, and then
 *	  the signature differs with the description unchanged, which only costs
 *	  the slow path.
 *
 *	  The exception is PostgreSQL's in-place updates, which overwrite a row
 *	  without a new version.  In PostgreSQL 15's current minor release they
 *	  write only pg_class columns the description does not read (sizes,
 *	  relhasindex, reltoastrelid, frozen xids) and pg_database.  Earlier
 *	  minor releases also set pg_index's indisvalid, indisready and
 *	  indislive in place (index_set_state_flags, for CREATE INDEX
 *	  CONCURRENTLY), and indisvalid decides whether an index is described:
 *	  those three are hashed with the row.  The xmin hashed is the raw one,
 *	  which freezing keeps.
 *
 * IDENTIFICATION
 *	  src/catsig.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
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
#include "miscadmin.h"

/*
 * Every catalog the description's query or the deparsing functions it calls
 * (format_type, pg_get_expr, pg_get_*def) read, and the extension
 * membership that filters it.
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

/* What is hashed for one row version. */
typedef struct SignedRow
{
	TransactionId xmin;
	BlockNumber block;
	OffsetNumber offset;
	bool		flags[3];		/* pg_index only: valid, ready, live */
} SignedRow;

/*
 * migr_catalog_signature
 *		The signature of the catalogs as the catalog snapshot sees them now
 *		(the caller's own changes included), palloc'd in the current memory
 *		context: PG_SHA256_DIGEST_LENGTH bytes.
 */
uint8 *
migr_catalog_signature(void)
{
	pg_cryptohash_ctx *ctx = migr_sha256_begin();
	uint8	   *digest = palloc(PG_SHA256_DIGEST_LENGTH);

	for (int c = 0; c < lengthof(signed_catalogs); c++)
	{
		Relation	rel = table_open(signed_catalogs[c], AccessShareLock);
		TableScanDesc scan = table_beginscan_catalog(rel, 0, NULL);
		HeapTuple	tup;
		uint64		n = 0;
		bool		is_index = signed_catalogs[c] == IndexRelationId;

		migr_sha256_add(ctx, &signed_catalogs[c], sizeof(Oid));
		while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
		{
			SignedRow	row;

			/* padding included: zero it, so equal rows hash equally */
			memset(&row, 0, sizeof(row));
			row.xmin = HeapTupleHeaderGetRawXmin(tup->t_data);
			row.block = ItemPointerGetBlockNumber(&tup->t_self);
			row.offset = ItemPointerGetOffsetNumber(&tup->t_self);
			if (is_index)
			{
				Form_pg_index idx = (Form_pg_index) GETSTRUCT(tup);

				row.flags[0] = idx->indisvalid;
				row.flags[1] = idx->indisready;
				row.flags[2] = idx->indislive;
			}
			migr_sha256_add(ctx, &row, sizeof(row));
			if ((++n & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		/* the count ends each catalog's part, so parts cannot run together */
		migr_sha256_add(ctx, &n, sizeof(n));
		table_endscan(scan);
		table_close(rel, AccessShareLock);
	}
	migr_sha256_end(ctx, digest);
	return digest;
}
