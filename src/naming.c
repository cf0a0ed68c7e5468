/*-------------------------------------------------------------------------
 * naming.c
 *	  Names for indexes and constraints, after SQLAlchemy's naming
 *	  convention as Alembic projects configure it:
 *	    ix_<table>_<col>[_<col>...]           index
 *	    uq_<table>_<col>[_<col>...]           unique constraint
 *	    ck_<table>_<name>                     check constraint
 *	    fk_<table>_<col>[_<col>...]_<reftable> foreign key
 *	    pk_<table>                            primary key
 *	  A name longer than 63 bytes (NAMEDATALEN - 1) is cut at a character
 *	  boundary and ends in "_" plus the first 8 hex digits of the sha256 of
 *	  the full name, so it stays deterministic and two long names that share
 *	  a prefix do not collide.  Pure functions of their arguments.
 *
 * IDENTIFICATION
 *	  src/naming.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "checksum.h"
#include "naming.h"
#include "nodes/value.h"
#include "utils/regproc.h"

#define HASH_HEX	8

/* The unqualified table name of a possibly qualified, quoted name. */
char *
migr_bare_table_name(const char *tbl)
{
	List	   *names = stringToQualifiedNameList(tbl);

	return pstrdup(strVal(llast(names)));
}

static char *
shorten(const char *name)
{
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	pg_cryptohash_ctx *ctx;
	int			keep;

	if (strlen(name) < NAMEDATALEN)
		return pstrdup(name);
	ctx = migr_sha256_begin();
	migr_sha256_add(ctx, name, strlen(name));
	migr_sha256_end(ctx, digest);
	keep = pg_mbcliplen(name, strlen(name), NAMEDATALEN - 1 - 1 - HASH_HEX);
	return psprintf("%.*s_%s", keep, name, migr_hex(digest, HASH_HEX / 2));
}

/*
 * migr_make_name
 *		kind is ix, uq, ck, fk or pk; table is a bare table name; columns a
 *		List of C strings (for ck: the constraint's own name).
 */
char *
migr_make_name(const char *kind, const char *table, List *columns,
			   const char *ref_table)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		need_cols = strcmp(kind, "pk") != 0;

	if (strcmp(kind, "ix") != 0 && strcmp(kind, "uq") != 0 &&
		strcmp(kind, "ck") != 0 && strcmp(kind, "fk") != 0 &&
		strcmp(kind, "pk") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized name kind \"%s\"", kind),
				 errhint("Use \"ix\", \"uq\", \"ck\", \"fk\" or \"pk\".")));
	if (need_cols && columns == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a name of kind \"%s\" needs %s", kind,
						strcmp(kind, "ck") == 0 ? "the constraint's name as its only column" : "at least one column")));
	if (strcmp(kind, "fk") == 0 && (ref_table == NULL || ref_table[0] == '\0'))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a name of kind \"fk\" needs the referenced table")));

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s_%s", kind, table);
	if (need_cols)
		foreach(lc, columns)
		{
			CHECK_FOR_INTERRUPTS();
			/* cannot happen: the argument check refuses empty names first */
			if (((char *) lfirst(lc))[0] == '\0')
				elog(ERROR, "column names must not be empty");
			appendStringInfo(&buf, "_%s", (char *) lfirst(lc));
		}
	if (strcmp(kind, "fk") == 0)
		appendStringInfo(&buf, "_%s", ref_table);
	return shorten(buf.data);
}
