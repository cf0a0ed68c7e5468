/*-------------------------------------------------------------------------
 * checks.c
 *	  Schema state lookups for check functions and idempotent operations.
 *
 *	  The answers are information_schema's, taken from the system caches
 *	  instead of its views: a table, column, constraint, schema or routine
 *	  counts only where information_schema would show it to the current
 *	  user (owner, or holding one of the privileges the view tests), and,
 *	  like the view, whether or not the user has USAGE on the schema.  Table
 *	  names are read as regclass input reads them (optionally
 *	  schema-qualified, quoted for mixed case, resolved on the search_path);
 *	  column, index and constraint names are literal names.  Names of 64
 *	  bytes or more are truncated as the parser truncates identifiers
 *	  (migr_identifier, split_name).  A missing object is a false
 *	  answer, never an error.
 *
 * IDENTIFICATION
 *	  src/checks.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "checks.h"
#include "strlist.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "parser/parse_type.h"
#include "parser/parser.h"
#include "parser/scansup.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

static void parse_type_string(const char *type, Oid *typid, int32 *typmod);

/*
 * migr_require_name
 *		NULL is 22004, the empty string 22023.
 */
void
migr_require_name(const char *what, const char *value)
{
	if (value == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
	if (value[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what)));
}

/*
 * migr_identifier
 *		A literal name as PostgreSQL stores it: a name of NAMEDATALEN bytes
 *		or more is cut to NAMEDATALEN - 1 bytes at a character boundary,
 *		with the parser's NOTICE "identifier ... will be truncated to ..."
 *		(truncate_identifier).  Returns a palloc'd copy.
 */
char *
migr_identifier(const char *name)
{
	char	   *res = pstrdup(name);

	truncate_identifier(res, strlen(res), true);
	return res;
}

static void
invalid_name(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_NAME),
			 errmsg("invalid name syntax")));
}

/*
 * split_name
 *		A possibly qualified name ("s.t", "\"Odd\".t") as a List of String
 *		nodes, read as regclass input reads it (SplitIdentifierString: quotes
 *		keep case and "" is a quote, unquoted parts fold to lower case,
 *		whitespace around the dots is ignored), except that each part of
 *		NAMEDATALEN bytes or more is truncated with the parser's NOTICE, not
 *		silently.  A malformed name is 42602, as for regclass input.
 */
static List *
split_name(const char *str)
{
	const char *p = str;
	List	   *names = NIL;

	while (scanner_isspace(*p))
		p++;
	if (*p == '\0')
		invalid_name();
	for (;;)
	{
		char	   *name;

		CHECK_FOR_INTERRUPTS();
		if (*p == '"')
		{
			StringInfoData buf;

			initStringInfo(&buf);
			for (p++;; p++)
			{
				if (*p == '\0')
					invalid_name();
				if (*p == '"')
				{
					if (p[1] != '"')
						break;
					p++;
				}
				appendStringInfoChar(&buf, *p);
			}
			p++;
			name = buf.data;
		}
		else
		{
			const char *start = p;

			while (*p && *p != '.' && !scanner_isspace(*p))
				p++;
			if (p == start)
				invalid_name();
			name = downcase_identifier(start, p - start, false, false);
		}
		truncate_identifier(name, strlen(name), true);
		names = lappend(names, makeString(name));
		while (scanner_isspace(*p))
			p++;
		if (*p == '\0')
			return names;
		if (*p != '.')
			invalid_name();
		p++;
		while (scanner_isspace(*p))
			p++;
	}
}

/*
 * migr_name_string
 *		A possibly qualified name, its parts truncated as split_name
 *		does, spelled so that regclass input reads back the same parts:
 *		"s.t" with each part quoted as needed.
 */
char *
migr_name_string(const char *str)
{
	return NameListToQuotedString(split_name(str));
}

/* information_schema.tables: owner, or any table or column privilege */
static bool
table_visible(Oid relid, Oid owner)
{
	Oid			role = GetUserId();

	if (has_privs_of_role(role, owner))
		return true;
	if (pg_class_aclmask(relid, role,
						 ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_DELETE |
						 ACL_TRUNCATE | ACL_REFERENCES | ACL_TRIGGER,
						 ACLMASK_ANY) != 0)
		return true;
	return pg_attribute_aclcheck_all(relid, role,
									 ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_REFERENCES,
									 ACLMASK_ANY) == ACLCHECK_OK;
}

static Oid
rel_owner(Oid relid, char *relkind)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	*relkind = ((Form_pg_class) GETSTRUCT(tup))->relkind;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * A schema named in a qualified name, looked up as information_schema sees
 * schemas: whether or not the current user has USAGE on it, where
 * LookupExplicitNamespace would raise 42501.  Returns false when the name
 * is better left to PostgreSQL's own lookup: "pg_temp" (the session's
 * temporary schema) and a name in another database (its error).
 */
static bool
schema_of_name(const char *catalog, const char *schema, Oid *nspid)
{
	if (schema == NULL || strcmp(schema, "pg_temp") == 0)
		return false;
	if (catalog != NULL && strcmp(catalog, get_database_name(MyDatabaseId)) != 0)
		return false;
	*nspid = get_namespace_oid(schema, true);
	return true;
}

/*
 * migr_lookup_table
 *		The table, view or foreign table named tbl, or InvalidOid.  With
 *		visible_only (the check functions), also InvalidOid when
 *		information_schema.tables would not show it to the current user, and
 *		a schema-qualified name is found whether or not the user has USAGE
 *		on the schema, as information_schema finds it.  Without it (the
 *		operations), the name is resolved as DDL resolves it, so a schema
 *		without USAGE is PostgreSQL's 42501.  A malformed name is
 *		PostgreSQL's own error (42601, 42602).
 */
Oid
migr_lookup_table(const char *tbl, bool visible_only)
{
	RangeVar   *rv = makeRangeVarFromNameList(stringToQualifiedNameList(tbl));
	Oid			relid;
	Oid			nspid;
	Oid			owner;
	char		relkind = 0;

	if (visible_only && schema_of_name(rv->catalogname, rv->schemaname, &nspid))
		relid = OidIsValid(nspid) ? get_relname_relid(rv->relname, nspid) : InvalidOid;
	else
		relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(relid))
		return InvalidOid;
	owner = rel_owner(relid, &relkind);
	if (!OidIsValid(owner) ||
		(relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		 relkind != RELKIND_VIEW && relkind != RELKIND_FOREIGN_TABLE))
		return InvalidOid;
	if (visible_only && !table_visible(relid, owner))
		return InvalidOid;
	return relid;
}

/* The table for an operation: it must exist (42P01). */
Oid
migr_require_table(const char *tbl)
{
	Oid			relid = migr_lookup_table(tbl, false);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s\" does not exist",
						NameListToString(stringToQualifiedNameList(tbl)))));
	return relid;
}

/* "schema"."table", quoted as needed */
char *
migr_qualified_table(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/*
 * migr_lookup_column
 *		attnum of a live user column named col, or 0.  With visible_only, 0
 *		also when information_schema.columns would hide it.
 */
int
migr_lookup_column(Oid relid, const char *col, bool visible_only)
{
	HeapTuple	tup = SearchSysCacheAttName(relid, col);
	int			attnum;
	char		relkind;
	Oid			role = GetUserId();

	if (!HeapTupleIsValid(tup))
		return 0;
	attnum = ((Form_pg_attribute) GETSTRUCT(tup))->attnum;
	ReleaseSysCache(tup);
	if (attnum <= 0)
		return 0;
	if (visible_only &&
		!has_privs_of_role(role, rel_owner(relid, &relkind)) &&
		pg_class_aclmask(relid, role, ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_REFERENCES,
						 ACLMASK_ANY) == 0 &&
		pg_attribute_aclmask(relid, attnum, role,
							 ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_REFERENCES,
							 ACLMASK_ANY) == 0)
		return 0;
	return attnum;
}

static Form_pg_attribute
attribute(Oid relid, int attnum, HeapTuple *tup)
{
	*tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
	if (!HeapTupleIsValid(*tup))
		elog(ERROR, "cache lookup failed for attribute %d of relation %u", attnum, relid);
	return (Form_pg_attribute) GETSTRUCT(*tup);
}

/* format_type of a column, with its typmod: "character varying(50)" */
char *
migr_column_type(Oid relid, int attnum)
{
	HeapTuple	tup;
	Form_pg_attribute att = attribute(relid, attnum, &tup);
	char	   *res = format_type_with_typemod(att->atttypid, att->atttypmod);

	ReleaseSysCache(tup);
	return res;
}

/*
 * migr_canonical_type
 *		A type name as format_type spells it, so "varchar(50)" and
 *		"character varying(50)", or "int" and "integer", compare equal.  An
 *		unknown type is PostgreSQL's error (42704).
 */
char *
migr_canonical_type(const char *type)
{
	Oid			typid;
	int32		typmod;

	parse_type_string(type, &typid, &typmod);
	return format_type_with_typemod(typid, typmod);
}

/*
 * parse_type_string
 *		parseTypeString, except that a type qualified with a schema the user
 *		has no USAGE on is still found (information_schema shows such
 *		types), where parseTypeString raises 42501.  An unknown type is
 *		42704, a malformed one 42601.
 */
static void
parse_type_string(const char *type, Oid *typid, int32 *typmod)
{
	TypeName   *tn = typeStringToTypeName(type);
	char	   *schema;
	char	   *name;
	Oid			nspid;

	if (tn->names != NIL && !tn->pct_type)
		DeconstructQualifiedName(tn->names, &schema, &name);
	else
		schema = name = NULL;
	if (schema == NULL ||
		!schema_of_name(NULL, schema, &nspid) || !OidIsValid(nspid) ||
		pg_namespace_aclcheck(nspid, GetUserId(), ACL_USAGE) == ACLCHECK_OK)
	{
		typenameTypeIdAndMod(NULL, tn, typid, typmod);
		return;
	}
	*typid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
							 PointerGetDatum(name), ObjectIdGetDatum(nspid));
	if (OidIsValid(*typid) && tn->arrayBounds != NIL)
		*typid = get_array_type(*typid);
	if (!OidIsValid(*typid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type \"%s\" does not exist", TypeNameToString(tn))));
	/* by OID from here: the typmod, and the shell-type error, as usual */
	tn->names = NIL;
	tn->typeOid = *typid;
	typenameTypeIdAndMod(NULL, tn, typid, typmod);
}

bool
migr_column_nullable(Oid relid, int attnum)
{
	HeapTuple	tup;
	bool		res = !attribute(relid, attnum, &tup)->attnotnull;

	ReleaseSysCache(tup);
	return res;
}

/*
 * migr_column_default
 *		The column's default as pg_get_expr prints it, or NULL (also for a
 *		generated column, as information_schema.columns.column_default).
 */
char *
migr_column_default(Oid relid, int attnum)
{
	HeapTuple	tup;
	char		generated = attribute(relid, attnum, &tup)->attgenerated;
	Relation	rel;
	ScanKeyData key[2];
	SysScanDesc scan;
	char	   *res = NULL;

	ReleaseSysCache(tup);
	if (generated != '\0')
		return NULL;
	rel = table_open(AttrDefaultRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_attrdef_adrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	ScanKeyInit(&key[1], Anum_pg_attrdef_adnum, BTEqualStrategyNumber,
				F_INT2EQ, Int16GetDatum(attnum));
	scan = systable_beginscan(rel, AttrDefaultIndexId, true, NULL, 2, key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		bin = heap_getattr(tup, Anum_pg_attrdef_adbin,
									   RelationGetDescr(rel), &isnull);

		if (!isnull)
			res = TextDatumGetCString(DirectFunctionCall2(pg_get_expr, bin,
														  ObjectIdGetDatum(relid)));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return res;
}

/*
 * migr_lookup_index
 *		The index named idx (in the table's schema) on the table, or
 *		InvalidOid.
 */
Oid
migr_lookup_index(Oid relid, const char *idx)
{
	Oid			indexid = get_relname_relid(idx, get_rel_namespace(relid));
	HeapTuple	tup;
	Oid			indrelid;

	if (!OidIsValid(indexid))
		return InvalidOid;
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid));
	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	indrelid = ((Form_pg_index) GETSTRUCT(tup))->indrelid;
	ReleaseSysCache(tup);
	return indrelid == relid ? indexid : InvalidOid;
}

/*
 * migr_index_is_valid
 *		Whether queries may use the index: false for an index a failed,
 *		cancelled or still running CREATE INDEX CONCURRENTLY or REINDEX
 *		CONCURRENTLY left behind (pg_index.indisvalid).  Such an index does
 *		not count as present for the check functions and operations.
 */
bool
migr_index_is_valid(Oid indexrelid)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexrelid));
	bool		valid;

	if (!HeapTupleIsValid(tup))
		return false;
	valid = ((Form_pg_index) GETSTRUCT(tup))->indisvalid;
	ReleaseSysCache(tup);
	return valid;
}

/*
 * migr_index_columns
 *		The key columns of an index, as column names, or as the expression
 *		text for expression columns.
 */
List *
migr_index_columns(Oid indexrelid)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexrelid));
	Form_pg_index ind;
	List	   *cols = NIL;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for index %u", indexrelid);
	ind = (Form_pg_index) GETSTRUCT(tup);
	for (int k = 0; k < ind->indnkeyatts; k++)
	{
		AttrNumber	att = ind->indkey.values[k];

		CHECK_FOR_INTERRUPTS();

		if (att > 0)
			cols = lappend(cols, get_attname(ind->indrelid, att, false));
		else
			cols = lappend(cols,
						   TextDatumGetCString(DirectFunctionCall3(pg_get_indexdef_ext,
																   ObjectIdGetDatum(indexrelid),
																   Int32GetDatum(k + 1),
																   BoolGetDatum(true))));
	}
	ReleaseSysCache(tup);
	return cols;
}

/*
 * migr_find_index_on
 *		A valid index whose key columns are exactly these, in this order;
 *		InvalidOid if none.  Lowest OID first, so the answer is stable.
 */
Oid
migr_find_index_on(Oid relid, List *columns)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	Oid			found = InvalidOid;

	relation_close(rel, AccessShareLock);
	foreach(lc, indexes)
	{
		Oid			indexid = lfirst_oid(lc);

		CHECK_FOR_INTERRUPTS();
		if (migr_index_is_valid(indexid) &&
			migr_same_names(migr_index_columns(indexid), columns) &&
			(!OidIsValid(found) || indexid < found))
			found = indexid;
	}
	return found;
}

/*
 * migr_index_leads_with
 *		Whether some valid index's first key columns are exactly these, in
 *		order: such an index serves lookups on them (a foreign key's, say).
 */
bool
migr_index_leads_with(Oid relid, List *columns)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;

	relation_close(rel, AccessShareLock);
	foreach(lc, indexes)
	{
		List	   *have;

		CHECK_FOR_INTERRUPTS();
		if (!migr_index_is_valid(lfirst_oid(lc)))
			continue;
		have = migr_index_columns(lfirst_oid(lc));
		if (list_length(have) >= list_length(columns) &&
			migr_same_names(list_truncate(have, list_length(columns)), columns))
			return true;
	}
	return false;
}

/*
 * migr_lookup_constraint
 *		The constraint named con on the table, or InvalidOid.  With
 *		visible_only, as information_schema.table_constraints: no trigger or
 *		exclusion constraints, and only for the owner or a holder of one of
 *		the privileges that view tests.
 */
Oid
migr_lookup_constraint(Oid relid, const char *con, bool visible_only)
{
	Oid			conid = get_relation_constraint_oid(relid, con, true);
	HeapTuple	tup;
	char		contype;
	char		relkind;
	Oid			role = GetUserId();

	if (!OidIsValid(conid) || !visible_only)
		return conid;
	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conid));
	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	contype = ((Form_pg_constraint) GETSTRUCT(tup))->contype;
	ReleaseSysCache(tup);
	if (contype == CONSTRAINT_TRIGGER || contype == CONSTRAINT_EXCLUSION)
		return InvalidOid;
	if (has_privs_of_role(role, rel_owner(relid, &relkind)) ||
		pg_class_aclmask(relid, role,
						 ACL_INSERT | ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE |
						 ACL_REFERENCES | ACL_TRIGGER, ACLMASK_ANY) != 0 ||
		pg_attribute_aclcheck_all(relid, role, ACL_INSERT | ACL_UPDATE | ACL_REFERENCES,
								  ACLMASK_ANY) == ACLCHECK_OK)
		return conid;
	return InvalidOid;
}

/* information_schema.schemata: owner, or CREATE or USAGE on it */
bool
migr_has_schema(const char *name)
{
	Oid			nspid = get_namespace_oid(name, true);
	HeapTuple	tup;
	Oid			owner;
	Oid			role = GetUserId();

	if (!OidIsValid(nspid))
		return false;
	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspid));
	if (!HeapTupleIsValid(tup))
		return false;
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return has_privs_of_role(role, owner) ||
		pg_namespace_aclmask(nspid, role, ACL_CREATE | ACL_USAGE, ACLMASK_ANY) != 0;
}

/* information_schema.routines: owner, or EXECUTE */
static bool
routine_visible(Oid procid)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(procid));
	Oid			owner;
	Oid			role = GetUserId();

	if (!HeapTupleIsValid(tup))
		return false;
	owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	ReleaseSysCache(tup);
	return has_privs_of_role(role, owner) ||
		pg_proc_aclmask(procid, role, ACL_EXECUTE, ACLMASK_ANY) != 0;
}

/*
 * A routine named fname in schema nspid, visible as information_schema
 * shows routines; unless any_args, with exactly the n argument types oids.
 * Reads pg_proc by name, so a schema without USAGE raises nothing.
 */
static bool
routine_in_schema(Oid nspid, const char *fname, bool any_args, int n, Oid *oids)
{
	CatCList   *list = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum(fname));
	bool		found = false;

	for (int i = 0; i < list->n_members && !found; i++)
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(&list->members[i]->tuple);

		CHECK_FOR_INTERRUPTS();
		if (proc->pronamespace != nspid)
			continue;
		if (!any_args &&
			(proc->pronargs != n ||
			 memcmp(proc->proargtypes.values, oids, n * sizeof(Oid)) != 0))
			continue;
		found = routine_visible(proc->oid);
	}
	ReleaseSysCacheList(list);
	return found;
}

/*
 * migr_has_function
 *		A function or procedure of that name: schema-qualified, in that
 *		schema (with or without USAGE on it, as information_schema); else
 *		visible on the search_path.  Unless any_args, exactly the signature
 *		argtypes (a List of type names, possibly empty).
 */
bool
migr_has_function(const char *name, bool any_args, List *argtypes)
{
	List	   *names = stringToQualifiedNameList(name);
	int			n = list_length(argtypes);
	Oid		   *oids = palloc(sizeof(Oid) * (n + 1));
	int			i = 0;
	ListCell   *lc;
	char	   *schema;
	char	   *fname;
	Oid			nspid;

	foreach(lc, argtypes)
	{
		int32		typmod;

		CHECK_FOR_INTERRUPTS();
		parse_type_string(lfirst(lc), &oids[i++], &typmod);
	}
	DeconstructQualifiedName(names, &schema, &fname);
	if (schema_of_name(NULL, schema, &nspid))
		return OidIsValid(nspid) && routine_in_schema(nspid, fname, any_args, n, oids);
	if (any_args)
	{
		FuncCandidateList c = FuncnameGetCandidates(names, -1, NIL, false, false,
													false, true);

		for (; c != NULL; c = c->next)
		{
			CHECK_FOR_INTERRUPTS();
			if (routine_visible(c->oid))
				return true;
		}
		return false;
	}
	else
	{
		Oid			procid = LookupFuncName(names, n, oids, true);

		return OidIsValid(procid) && routine_visible(procid);
	}
}

bool
migr_has_extension(const char *name)
{
	return OidIsValid(get_extension_oid(name, true));
}

typedef struct ParseContext
{
	const char *sql;
	const char *context;
} ParseContext;

/* A syntax error points into the parsed text, not into the caller's query. */
static void
parse_error_callback(void *arg)
{
	ParseContext *c = (ParseContext *) arg;
	int			pos = geterrposition();

	if (pos > 0)
	{
		errposition(0);
		internalerrposition(pos);
		internalerrquery(c->sql);
	}
	errcontext("%s", c->context);
}

/*
 * migr_raw_parse
 *		PostgreSQL's raw parser on text that is not the current query (a
 *		revision body, an expression): a syntax error (42601) shows its
 *		position in that text, with context as its context line.
 */
List *
migr_raw_parse(const char *sql, const char *context)
{
	ParseContext ctx = {sql, context};
	ErrorContextCallback cb;
	List	   *stmts;

	cb.callback = parse_error_callback;
	cb.arg = &ctx;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	stmts = raw_parser(sql, RAW_PARSE_DEFAULT);
	error_context_stack = cb.previous;
	return stmts;
}

/*
 * migr_check_expression
 *		expr must be one SQL scalar expression: "SELECT (expr)" must parse as
 *		a single plain SELECT with one target and nothing else.  This keeps a
 *		default, condition or check from smuggling in a second statement, a
 *		FROM clause or a comment that swallows the rest (42601).
 */
void
migr_check_expression(const char *what, const char *expr)
{
	List	   *stmts;
	SelectStmt *sel;

	migr_require_name(what, expr);
	stmts = migr_raw_parse(psprintf("SELECT (%s\n)", expr),
						   psprintf("%s expression", what));
	if (list_length(stmts) == 1 &&
		IsA(linitial_node(RawStmt, stmts)->stmt, SelectStmt))
	{
		sel = (SelectStmt *) linitial_node(RawStmt, stmts)->stmt;
		if (sel->op == SETOP_NONE && list_length(sel->targetList) == 1 &&
			sel->fromClause == NIL && sel->whereClause == NULL &&
			sel->groupClause == NIL && sel->havingClause == NULL &&
			sel->windowClause == NIL && sel->sortClause == NIL &&
			sel->limitCount == NULL && sel->limitOffset == NULL &&
			sel->lockingClause == NIL && sel->withClause == NULL &&
			sel->intoClause == NULL && sel->distinctClause == NIL &&
			sel->valuesLists == NIL &&
			((ResTarget *) linitial(sel->targetList))->name == NULL)
			return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_SYNTAX_ERROR),
			 errmsg("%s must be a single SQL expression", what),
			 errdetail("The text given was \"%s\".", expr)));
}
