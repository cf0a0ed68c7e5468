/*-------------------------------------------------------------------------
 * fingerprint.c
 *	  A canonical description of the schemas migr manages, its sha256
 *	  fingerprint, and the difference between two descriptions.
 *
 *	  The description is one row per object: (kind, object, definition),
 *	  built only from deparsed catalog content (format_type, pg_get_expr,
 *	  pg_get_constraintdef, pg_get_indexdef, pg_get_viewdef,
 *	  pg_get_functiondef, pg_get_triggerdef) and never from OIDs, and sorted
 *	  bytewise, so the same schema gives the same rows in any database, after
 *	  a dump and restore, and whatever order its objects were created in.
 *	  Columns carry their position among the live columns, so dropped
 *	  columns leave no trace.  Objects that belong to an extension are left
 *	  out.  Deparsing runs with search_path = pg_catalog, pg_temp so every
 *	  name comes out schema-qualified whatever the caller's setting.
 *
 *	  The caller is connected to SPI.
 *
 * IDENTIFICATION
 *	  src/fingerprint.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "checksum.h"
#include "fingerprint.h"
#include "sqlcall.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#define DESCRIBE_SQL \
	"WITH ext AS (" \
	"  SELECT d.classid, d.objid FROM pg_catalog.pg_depend d WHERE d.deptype = 'e')," \
	" s AS (" \
	"  SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n" \
	"   WHERE CASE WHEN $1 IS NULL THEN" \
	"              n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema', 'migr', 'pg_toast'])" \
	"              AND n.nspname !~ '^pg_(toast_)?temp_'" \
	"         ELSE n.nspname = ANY ($1) END" \
	"     AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_namespace'::regclass" \
	"                                         AND ext.objid = n.oid))," \
	" rel AS (" \
	"  SELECT c.oid, c.relkind, c.relpersistence," \
	"         quote_ident(s.nspname) || '.' || quote_ident(c.relname) AS name" \
	"    FROM pg_class c JOIN s ON c.relnamespace = s.oid" \
	"   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_class'::regclass" \
	"                                         AND ext.objid = c.oid))," \
	" typ AS (" \
	"  SELECT t.oid, t.typtype, t.typbasetype, t.typtypmod, t.typnotnull, t.typdefault, t.typrelid," \
	"         quote_ident(s.nspname) || '.' || quote_ident(t.typname) AS name" \
	"    FROM pg_type t JOIN s ON t.typnamespace = s.oid" \
	"   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_type'::regclass" \
	"                                         AND ext.objid = t.oid))" \
	" SELECT 'schema', quote_ident(nspname), '' FROM s" \
	" UNION ALL" \
	" SELECT 'table', name," \
	"        concat_ws(' ', CASE relkind WHEN 'f' THEN 'foreign' END," \
	"                  CASE relpersistence WHEN 'u' THEN 'unlogged' END," \
	"                  CASE relkind WHEN 'p' THEN 'partitioned by ' || pg_get_partkeydef(oid) END)" \
	"   FROM rel WHERE relkind IN ('r', 'p', 'f')" \
	" UNION ALL" \
	" SELECT 'column', rel.name || '.' || quote_ident(a.attname)," \
	"        (row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum))::text || ': ' ||" \
	"        format_type(a.atttypid, a.atttypmod) ||" \
	"        CASE WHEN a.attcollation <> t.typcollation THEN ' COLLATE ' ||" \
	"             (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)" \
	"                FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace" \
	"               WHERE co.oid = a.attcollation) ELSE '' END ||" \
	"        CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END ||" \
	"        CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END ||" \
	"        CASE WHEN a.attgenerated <> '' THEN ' GENERATED ' || pg_get_expr(ad.adbin, ad.adrelid)" \
	"             WHEN ad.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid)" \
	"             ELSE '' END" \
	"   FROM pg_attribute a JOIN rel ON rel.oid = a.attrelid" \
	"   JOIN pg_type t ON t.oid = a.atttypid" \
	"   LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum" \
	"  WHERE a.attnum > 0 AND NOT a.attisdropped AND rel.relkind IN ('r', 'p', 'f')" \
	" UNION ALL" \
	" SELECT 'constraint', rel.name || '.' || quote_ident(co.conname), pg_get_constraintdef(co.oid)" \
	"   FROM pg_constraint co JOIN rel ON rel.oid = co.conrelid" \
	" UNION ALL" \
	" SELECT 'index', name, pg_get_indexdef(oid) FROM rel WHERE relkind IN ('i', 'I')" \
	"    AND (SELECT x.indisvalid FROM pg_index x WHERE x.indexrelid = rel.oid)" \
	" UNION ALL" \
	" SELECT 'sequence', rel.name," \
	"        format('%s start %s increment %s min %s max %s cache %s%s', format_type(q.seqtypid, NULL)," \
	"               q.seqstart, q.seqincrement, q.seqmin, q.seqmax, q.seqcache," \
	"               CASE WHEN q.seqcycle THEN ' cycle' ELSE '' END)" \
	"   FROM pg_sequence q JOIN rel ON rel.oid = q.seqrelid" \
	" UNION ALL" \
	" SELECT CASE relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, name," \
	"        pg_get_viewdef(oid)" \
	"   FROM rel WHERE relkind IN ('v', 'm')" \
	" UNION ALL" \
	" SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'p' THEN 'procedure' ELSE 'function' END," \
	"        quote_ident(s.nspname) || '.' || quote_ident(p.proname) ||" \
	"        '(' || pg_get_function_identity_arguments(p.oid) || ')'," \
	"        CASE WHEN p.prokind = 'a' THEN '' ELSE pg_get_functiondef(p.oid) END" \
	"   FROM pg_proc p JOIN s ON s.oid = p.pronamespace" \
	"  WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_proc'::regclass" \
	"                                         AND ext.objid = p.oid)" \
	" UNION ALL" \
	" SELECT 'trigger', rel.name || '.' || quote_ident(tg.tgname), pg_get_triggerdef(tg.oid)" \
	"   FROM pg_trigger tg JOIN rel ON rel.oid = tg.tgrelid WHERE NOT tg.tgisinternal" \
	" UNION ALL" \
	" SELECT 'enum', typ.name, string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)" \
	"   FROM typ JOIN pg_enum e ON e.enumtypid = typ.oid GROUP BY typ.name" \
	" UNION ALL" \
	" SELECT 'domain', typ.name, format_type(typ.typbasetype, typ.typtypmod) ||" \
	"        CASE WHEN typ.typnotnull THEN ' NOT NULL' ELSE '' END ||" \
	"        coalesce(' DEFAULT ' || typ.typdefault, '') ||" \
	"        coalesce((SELECT ' ' || string_agg(quote_ident(dc.conname) || ' ' ||" \
	"                                           pg_get_constraintdef(dc.oid), ' ' ORDER BY dc.conname)" \
	"                    FROM pg_constraint dc WHERE dc.contypid = typ.oid), '')" \
	"   FROM typ WHERE typ.typtype = 'd'" \
	" UNION ALL" \
	" SELECT 'type', typ.name, string_agg(quote_ident(a.attname) || ' ' ||" \
	"        format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)" \
	"   FROM typ JOIN pg_class c ON c.oid = typ.typrelid AND c.relkind = 'c'" \
	"   JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped" \
	"  GROUP BY typ.name"

/*
 * migr_catalog_path_query
 *		Run a SELECT over the system catalogs with search_path set to
 *		pg_catalog, pg_temp for its duration: unqualified names in it resolve
 *		to the catalogs, and deparsing functions qualify every other name.
 *		Not read-only, so it sees what the current call just changed.
 */
void
migr_catalog_path_query(const char *sql, int nargs, Oid *types, Datum *values,
						const char *nulls)
{
	int			nest = NewGUCNestLevel();
	int			rc;

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
	AtEOXact_GUC(true, nest);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "catalog query failed: %s", SPI_result_code_string(rc));
}

/*
 * migr_catalog_path_query_kept
 *		migr_catalog_path_query() for a fixed query without parameters run
 *		on every call, its plan kept in *slot (a static of the caller) for
 *		the life of the backend.  The plan is made, and used, under the same
 *		search_path; the plan cache plans again if it finds another one.
 */
void
migr_catalog_path_query_kept(SPIPlanPtr *slot, const char *sql)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	migr_run_kept(slot, sql, 0, NULL, NULL, NULL, false, 0, SPI_OK_SELECT);
	AtEOXact_GUC(true, nest);
}

static int
cmp_rows(const void *a, const void *b)
{
	const MigrDescRow *x = a;
	const MigrDescRow *y = b;
	int			c = strcmp(x->kind, y->kind);

	if (c == 0)
		c = strcmp(x->object, y->object);
	if (c == 0)
		c = strcmp(x->definition, y->definition);
	return c;
}

/*
 * migr_describe
 *		The canonical description of the schemas (a text[] datum, or 0 for
 *		all but the system schemas and migr), sorted bytewise by kind,
 *		object and definition.  Returns a palloc'd array in the current
 *		memory context.
 */
MigrDescRow *
migr_describe(Datum schemas, bool schemas_null, int *nrows)
{
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1] = {schemas};
	char		nulls[1] = {schemas_null ? 'n' : ' '};
	MigrDescRow *rows;
	MemoryContext callercxt = CurrentMemoryContext;

	migr_catalog_path_query(DESCRIBE_SQL, 1, types, values, nulls);

	rows = MemoryContextAlloc(callercxt, sizeof(MigrDescRow) * (SPI_processed + 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		char	   *def = SPI_getvalue(tup, td, 3);

		rows[i].kind = MemoryContextStrdup(callercxt, SPI_getvalue(tup, td, 1));
		rows[i].object = MemoryContextStrdup(callercxt, SPI_getvalue(tup, td, 2));
		rows[i].definition = MemoryContextStrdup(callercxt, def ? def : "");
	}
	*nrows = (int) SPI_processed;
	SPI_freetuptable(SPI_tuptable);
	qsort(rows, *nrows, sizeof(MigrDescRow), cmp_rows);
	return rows;
}

/*
 * migr_fingerprint_of
 *		sha256 (hex) over the rows, each field length-prefixed.
 */
char *
migr_fingerprint_of(const MigrDescRow *rows, int n)
{
	pg_cryptohash_ctx *ctx = migr_sha256_begin();
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	for (int i = 0; i < n; i++)
	{
		const char *f[3] = {rows[i].kind, rows[i].object, rows[i].definition};

		for (int k = 0; k < 3; k++)
		{
			char		len[24];
			int			l = snprintf(len, sizeof(len), "%zu:", strlen(f[k]));

			migr_sha256_add(ctx, len, l);
			migr_sha256_add(ctx, f[k], strlen(f[k]));
		}
	}
	migr_sha256_end(ctx, digest);
	return migr_hex(digest, sizeof(digest));
}

static int
cmp_key(const MigrDescRow *x, const MigrDescRow *y)
{
	int			c = strcmp(x->kind, y->kind);

	return c ? c : strcmp(x->object, y->object);
}

/*
 * migr_describe_diff
 *		What differs between two sorted descriptions, one line per object
 *		("+ kind object" added, "- kind object" removed, "~ kind object"
 *		changed), at most max lines followed by a count of the rest.  NULL
 *		when they are equal.
 */
char *
migr_describe_diff(const MigrDescRow *before, int nb, const MigrDescRow *after,
				   int na, int max)
{
	StringInfoData buf;
	int			i = 0,
				j = 0,
				shown = 0,
				total = 0;

	initStringInfo(&buf);
#define EMIT(sign, row) \
	do { \
		total++; \
		if (shown < max) \
		{ \
			appendStringInfo(&buf, "%s%c %s %s", shown ? "\n" : "", sign, \
							 (row)->kind, (row)->object); \
			shown++; \
		} \
	} while (0)
	while (i < nb || j < na)
	{
		int			c;

		if (i >= nb)
			c = 1;
		else if (j >= na)
			c = -1;
		else
			c = cmp_key(&before[i], &after[j]);
		if (c < 0)
		{
			EMIT('-', &before[i]);
			i++;
		}
		else if (c > 0)
		{
			EMIT('+', &after[j]);
			j++;
		}
		else
		{
			if (strcmp(before[i].definition, after[j].definition) != 0)
				EMIT('~', &after[j]);
			i++;
			j++;
		}
	}
#undef EMIT
	if (total == 0)
		return NULL;
	if (total > shown)
		appendStringInfo(&buf, "\n... and %d more", total - shown);
	return buf.data;
}
