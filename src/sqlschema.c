/*-------------------------------------------------------------------------
 * sqlschema.c
 *	  SQL entry points of the check functions (migr.has_table() and
 *	  friends), the idempotent operations (migr.add_column() and friends)
 *	  and migr.name().  Argument checks and result conversion only; the work
 *	  is in checks.c, ops.c and naming.c.  Split from sqlfuncs.c, which holds
 *	  the revision and history entry points.
 *
 *	  Every name argument is truncated here, once, as the parser truncates
 *	  identifiers (NAMEDATALEN - 1 bytes at a character boundary, with its
 *	  NOTICE): literal names through migr_identifier, table and function
 *	  names part by part through migr_name_string.  Type names are parsed
 *	  by PostgreSQL's parser, which does the same.
 *
 * IDENTIFICATION
 *	  src/sqlschema.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "checks.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "naming.h"
#include "ops.h"
#include "strlist.h"
#include "utils/array.h"
#include "sqlcall.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(migr_has_table);
PG_FUNCTION_INFO_V1(migr_has_column);
PG_FUNCTION_INFO_V1(migr_column_type_is);
PG_FUNCTION_INFO_V1(migr_column_is_nullable);
PG_FUNCTION_INFO_V1(migr_column_default_sql);
PG_FUNCTION_INFO_V1(migr_has_index);
PG_FUNCTION_INFO_V1(migr_has_index_on);
PG_FUNCTION_INFO_V1(migr_index_columns_sql);
PG_FUNCTION_INFO_V1(migr_has_constraint);
PG_FUNCTION_INFO_V1(migr_has_schema_sql);
PG_FUNCTION_INFO_V1(migr_has_function_sql);
PG_FUNCTION_INFO_V1(migr_has_extension_sql);
PG_FUNCTION_INFO_V1(migr_name);
PG_FUNCTION_INFO_V1(migr_add_column);
PG_FUNCTION_INFO_V1(migr_drop_column);
PG_FUNCTION_INFO_V1(migr_alter_column);
PG_FUNCTION_INFO_V1(migr_create_index);
PG_FUNCTION_INFO_V1(migr_drop_index);
PG_FUNCTION_INFO_V1(migr_create_check_constraint);
PG_FUNCTION_INFO_V1(migr_create_unique_constraint);
PG_FUNCTION_INFO_V1(migr_create_foreign_key);
PG_FUNCTION_INFO_V1(migr_drop_constraint);
PG_FUNCTION_INFO_V1(migr_rename_table);
PG_FUNCTION_INFO_V1(migr_rename_column);

/* A required name argument: NULL is 22004, empty 22023. */
static char *
name_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	char	   *v = migr_text_arg(fcinfo, n);

	migr_require_name(what, v);
	return v;
}

/* A required literal name (column, index, constraint, schema ...). */
static char *
ident_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	return migr_identifier(name_arg(fcinfo, n, what));
}

/* A required, possibly qualified table or function name. */
static char *
table_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	return migr_name_string(name_arg(fcinfo, n, what));
}

/* An optional argument: NULL stays NULL, empty is 22023. */
static char *
opt_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	char	   *v;

	if (PG_ARGISNULL(n))
		return NULL;
	v = text_to_cstring(PG_GETARG_TEXT_PP(n));
	migr_require_name(what, v);
	return v;
}

/* An optional literal name. */
static char *
opt_ident_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	char	   *v = opt_arg(fcinfo, n, what);

	return v ? migr_identifier(v) : NULL;
}

/*
 * A text[] argument as a List of non-empty C strings; with ident, each is a
 * literal name and truncated as one.
 */
static List *
names_arg(FunctionCallInfo fcinfo, int n, const char *what, bool required,
		  bool ident)
{
	char	  **v;
	int			count;
	List	   *out = NIL;

	if (PG_ARGISNULL(n))
	{
		if (required)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be null", what)));
		return NIL;
	}
	v = migr_cstrings(PG_GETARG_DATUM(n), &count);
	if (required && count == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what)));
	for (int i = 0; i < count; i++)
	{
		CHECK_FOR_INTERRUPTS();
		migr_require_name(what, v[i]);
		out = lappend(out, ident ? migr_identifier(v[i]) : v[i]);
	}
	return out;
}

static bool
bool_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
	return PG_GETARG_BOOL(n);
}

/* A valid index named idx on the table, or InvalidOid. */
static Oid
valid_index(Oid relid, const char *idx)
{
	Oid			indexid = migr_lookup_index(relid, idx);

	return OidIsValid(indexid) && migr_index_is_valid(indexid) ? indexid : InvalidOid;
}

/* Resolve tbl and col for a column check; 0 when either is missing. */
static int
column_of(FunctionCallInfo fcinfo, Oid *relid)
{
	char	   *tbl = table_arg(fcinfo, 0, "table name");
	char	   *col = ident_arg(fcinfo, 1, "column name");

	*relid = migr_lookup_table(tbl, true);
	return OidIsValid(*relid) ? migr_lookup_column(*relid, col, true) : 0;
}

/* migr.has_table(tbl text) RETURNS boolean */
Datum
migr_has_table(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(OidIsValid(migr_lookup_table(table_arg(fcinfo, 0, "table name"), true)));
}

/* migr.has_column(tbl text, col text) RETURNS boolean */
Datum
migr_has_column(PG_FUNCTION_ARGS)
{
	Oid			relid;

	PG_RETURN_BOOL(column_of(fcinfo, &relid) > 0);
}

/* migr.column_type_is(tbl text, col text, type text) RETURNS boolean */
Datum
migr_column_type_is(PG_FUNCTION_ARGS)
{
	char	   *want = migr_canonical_type(name_arg(fcinfo, 2, "type name"));
	Oid			relid;
	int			attnum = column_of(fcinfo, &relid);

	PG_RETURN_BOOL(attnum > 0 && strcmp(migr_column_type(relid, attnum), want) == 0);
}

/* migr.column_is_nullable(tbl text, col text) RETURNS boolean */
Datum
migr_column_is_nullable(PG_FUNCTION_ARGS)
{
	Oid			relid;
	int			attnum = column_of(fcinfo, &relid);

	PG_RETURN_BOOL(attnum > 0 && migr_column_nullable(relid, attnum));
}

/* migr.column_default(tbl text, col text) RETURNS text */
Datum
migr_column_default_sql(PG_FUNCTION_ARGS)
{
	Oid			relid;
	int			attnum = column_of(fcinfo, &relid);
	char	   *def = attnum > 0 ? migr_column_default(relid, attnum) : NULL;

	if (def == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(def));
}

/* migr.has_index(tbl text, idx text) RETURNS boolean */
Datum
migr_has_index(PG_FUNCTION_ARGS)
{
	Oid			relid = migr_lookup_table(table_arg(fcinfo, 0, "table name"), true);
	char	   *idx = ident_arg(fcinfo, 1, "index name");

	PG_RETURN_BOOL(OidIsValid(relid) && OidIsValid(valid_index(relid, idx)));
}

/* migr.has_index_on(tbl text, cols text[]) RETURNS boolean */
Datum
migr_has_index_on(PG_FUNCTION_ARGS)
{
	Oid			relid = migr_lookup_table(table_arg(fcinfo, 0, "table name"), true);
	List	   *cols = names_arg(fcinfo, 1, "column names", true, true);

	PG_RETURN_BOOL(OidIsValid(relid) && OidIsValid(migr_find_index_on(relid, cols)));
}

/* migr.index_columns(tbl text, idx text) RETURNS text[] */
Datum
migr_index_columns_sql(PG_FUNCTION_ARGS)
{
	Oid			relid = migr_lookup_table(table_arg(fcinfo, 0, "table name"), true);
	char	   *idx = ident_arg(fcinfo, 1, "index name");
	Oid			indexid = OidIsValid(relid) ? valid_index(relid, idx) : InvalidOid;
	List	   *cols;
	char	  **v;
	ListCell   *lc;

	if (!OidIsValid(indexid))
		PG_RETURN_NULL();
	cols = migr_index_columns(indexid);
	v = palloc(sizeof(char *) * (list_length(cols) + 1));
	foreach(lc, cols)
	{
		CHECK_FOR_INTERRUPTS();
		v[foreach_current_index(lc)] = lfirst(lc);
	}
	PG_RETURN_DATUM(migr_text_array(v, list_length(cols)));
}

/* migr.has_constraint(tbl text, con text) RETURNS boolean */
Datum
migr_has_constraint(PG_FUNCTION_ARGS)
{
	Oid			relid = migr_lookup_table(table_arg(fcinfo, 0, "table name"), true);
	char	   *con = ident_arg(fcinfo, 1, "constraint name");

	PG_RETURN_BOOL(OidIsValid(relid) && OidIsValid(migr_lookup_constraint(relid, con, true)));
}

/* migr.has_schema(name text) RETURNS boolean */
Datum
migr_has_schema_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(migr_has_schema(ident_arg(fcinfo, 0, "schema name")));
}

/*
 * migr.has_function(name text, args text[] DEFAULT NULL) RETURNS boolean
 * args NULL: any signature; '{}': no arguments; otherwise exactly these.
 */
Datum
migr_has_function_sql(PG_FUNCTION_ARGS)
{
	char	   *name = table_arg(fcinfo, 0, "function name");
	List	   *args = names_arg(fcinfo, 1, "argument type", false, false);

	PG_RETURN_BOOL(migr_has_function(name, PG_ARGISNULL(1), args));
}

/* migr.has_extension(name text) RETURNS boolean */
Datum
migr_has_extension_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(migr_has_extension(ident_arg(fcinfo, 0, "extension name")));
}

/*
 * migr.name(kind text, tbl text, columns text[] DEFAULT NULL,
 *			 ref_tbl text DEFAULT NULL) RETURNS text
 */
Datum
migr_name(PG_FUNCTION_ARGS)
{
	char	   *kind = name_arg(fcinfo, 0, "name kind");
	char	   *tbl = migr_bare_table_name(table_arg(fcinfo, 1, "table name"));
	List	   *cols = names_arg(fcinfo, 2, "column names", false, true);
	char	   *ref = opt_arg(fcinfo, 3, "referenced table name");

	if (ref)
		ref = migr_name_string(ref);

	PG_RETURN_TEXT_P(cstring_to_text(migr_make_name(kind, tbl, cols,
													ref ? migr_bare_table_name(ref) : NULL)));
}

/* Run an operation inside its own SPI connection; NULL result is SQL NULL. */
#define RUN_OP(call) \
	do { \
		char	   *ddl_; \
		migr_spi_connect(); \
		ddl_ = (call); \
		if (ddl_ != NULL) \
			ddl_ = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, ddl_); \
		migr_spi_finish(); \
		if (ddl_ == NULL) \
			PG_RETURN_NULL(); \
		PG_RETURN_TEXT_P(cstring_to_text(ddl_)); \
	} while (0)

/*
 * migr.add_column(tbl text, col text, type text, nullable boolean DEFAULT
 *				   true, server_default text DEFAULT NULL) RETURNS text
 */
Datum
migr_add_column(PG_FUNCTION_ARGS)
{
	char	   *tbl = table_arg(fcinfo, 0, "table name");
	char	   *col = ident_arg(fcinfo, 1, "column name");
	char	   *type = name_arg(fcinfo, 2, "type name");
	bool		nullable = bool_arg(fcinfo, 3, "nullable");
	char	   *def = opt_arg(fcinfo, 4, "server_default");

	RUN_OP(migr_op_add_column(tbl, col, type, nullable, def));
}

/* migr.drop_column(tbl text, col text) RETURNS text */
Datum
migr_drop_column(PG_FUNCTION_ARGS)
{
	char	   *tbl = table_arg(fcinfo, 0, "table name");
	char	   *col = ident_arg(fcinfo, 1, "column name");

	RUN_OP(migr_op_drop_column(tbl, col));
}

/*
 * migr.alter_column(tbl text, col text, type text DEFAULT NULL, nullable
 *	 boolean DEFAULT NULL, server_default text DEFAULT NULL, drop_default
 *	 boolean DEFAULT false, new_name text DEFAULT NULL) RETURNS text
 */
Datum
migr_alter_column(PG_FUNCTION_ARGS)
{
	char	   *tbl = table_arg(fcinfo, 0, "table name");
	char	   *col = ident_arg(fcinfo, 1, "column name");
	char	   *type = opt_arg(fcinfo, 2, "type name");
	int			nullable = PG_ARGISNULL(3) ? -1 : PG_GETARG_BOOL(3);
	char	   *def = opt_arg(fcinfo, 4, "server_default");
	bool		drop_default = bool_arg(fcinfo, 5, "drop_default");
	char	   *new_name = opt_ident_arg(fcinfo, 6, "new column name");

	RUN_OP(migr_op_alter_column(tbl, col, type, nullable, def, drop_default, new_name));
}

/*
 * migr.create_index(tbl text, columns text[], name text DEFAULT NULL, unique
 *	 boolean DEFAULT false, where_clause text DEFAULT NULL) RETURNS text
 */
Datum
migr_create_index(PG_FUNCTION_ARGS)
{
	char	   *tbl = table_arg(fcinfo, 0, "table name");
	List	   *cols = names_arg(fcinfo, 1, "column names", true, true);
	char	   *name = opt_ident_arg(fcinfo, 2, "index name");
	bool		unique = bool_arg(fcinfo, 3, "unique");
	char	   *where = opt_arg(fcinfo, 4, "where_clause");

	RUN_OP(migr_op_create_index(tbl, cols, name, unique, where));
}

/* migr.drop_index(tbl text, name text) RETURNS text */
Datum
migr_drop_index(PG_FUNCTION_ARGS)
{
	char	   *tbl = table_arg(fcinfo, 0, "table name");
	char	   *name = ident_arg(fcinfo, 1, "index name");

	RUN_OP(migr_op_drop_index(tbl, name));
}

/*
 * migr.create_check_constraint(tbl text, condition text, name text DEFAULT
 *	 NULL) RETURNS text
 */
Datum
migr_create_check_constraint(PG_FUNCTION_ARGS)
{
	char	   *tbl = table_arg(fcinfo, 0, "table name");
	char	   *cond = name_arg(fcinfo, 1, "condition");
	char	   *name = opt_ident_arg(fcinfo, 2, "constraint name");

	RUN_OP(migr_op_create_check_constraint(tbl, cond, name));
}

/*
 * migr.create_unique_constraint(tbl text, columns text[], name text DEFAULT
 *	 NULL) RETURNS text
 */
Datum
migr_create_unique_constraint(PG_FUNCTION_ARGS)
{
	char	   *tbl = table_arg(fcinfo, 0, "table name");
	List	   *cols = names_arg(fcinfo, 1, "column names", true, true);
	char	   *name = opt_ident_arg(fcinfo, 2, "constraint name");

	RUN_OP(migr_op_create_unique_constraint(tbl, cols, name));
}

/*
 * migr.create_foreign_key(tbl text, columns text[], ref_tbl text,
 *	 ref_columns text[], name text DEFAULT NULL, on_delete text DEFAULT NULL,
 *	 index boolean DEFAULT true) RETURNS text
 */
Datum
migr_create_foreign_key(PG_FUNCTION_ARGS)
{
	char	   *tbl = table_arg(fcinfo, 0, "table name");
	List	   *cols = names_arg(fcinfo, 1, "column names", true, true);
	char	   *ref = table_arg(fcinfo, 2, "referenced table name");
	List	   *refcols = names_arg(fcinfo, 3, "referenced column names", true, true);
	char	   *name = opt_ident_arg(fcinfo, 4, "constraint name");
	char	   *on_delete = opt_arg(fcinfo, 5, "on_delete");
	bool		index = bool_arg(fcinfo, 6, "index");

	RUN_OP(migr_op_create_foreign_key(tbl, cols, ref, refcols, name, on_delete, index));
}

/* migr.drop_constraint(tbl text, name text) RETURNS text */
Datum
migr_drop_constraint(PG_FUNCTION_ARGS)
{
	char	   *tbl = table_arg(fcinfo, 0, "table name");
	char	   *name = ident_arg(fcinfo, 1, "constraint name");

	RUN_OP(migr_op_drop_constraint(tbl, name));
}

/* migr.rename_table(tbl text, new_name text) RETURNS text */
Datum
migr_rename_table(PG_FUNCTION_ARGS)
{
	char	   *tbl = table_arg(fcinfo, 0, "table name");
	char	   *new_name = ident_arg(fcinfo, 1, "new table name");

	RUN_OP(migr_op_rename_table(tbl, new_name));
}

/* migr.rename_column(tbl text, col text, new_name text) RETURNS text */
Datum
migr_rename_column(PG_FUNCTION_ARGS)
{
	char	   *tbl = table_arg(fcinfo, 0, "table name");
	char	   *col = ident_arg(fcinfo, 1, "column name");
	char	   *new_name = ident_arg(fcinfo, 2, "new column name");

	RUN_OP(migr_op_rename_column(tbl, col, new_name));
}
