/*-------------------------------------------------------------------------
 * ops.c
 *	  Idempotent schema operations, after Alembic's op.*: each looks at the
 *	  current state first.  Already in the target state: NOTICE, nothing
 *	  runs, NULL is returned.  In a conflicting state (a column of that name
 *	  with another type, an index of that name on other columns): ERROR
 *	  MG004, never a silent skip.  Otherwise the DDL runs through SPI as the
 *	  calling role and is returned.
 *
 *	  Names are quoted with quote_identifier, types are spelled by
 *	  format_type after PostgreSQL parsed them, and expressions (defaults,
 *	  conditions, WHERE clauses) must parse as one scalar expression, so
 *	  nothing a caller passes can add a statement.  Names arrive truncated
 *	  as the parser truncates identifiers (sqlschema.c), so what the DDL
 *	  creates is what a second call looks up.  Messages quote raw names,
 *	  as PostgreSQL's do: relation "Order Items", never "\"Order Items\"".
 *
 * IDENTIFICATION
 *	  src/ops.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/catalog.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/namespace.h"
#include "checks.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "migr_errcodes.h"
#include "miscadmin.h"
#include "naming.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "ops.h"
#include "parser/parser.h"
#include "strlist.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

/*
 * An expression spliced into DDL, in parentheses.  A trailing "--" comment
 * would swallow the closing parenthesis, so such an expression gets a
 * newline before it (migr_check_expression validated it the same way).
 */
static char *
expr_sql(const char *expr)
{
	return psprintf(strstr(expr, "--") ? "(%s\n)" : "(%s)", expr);
}

/* Run one DDL statement through SPI; the caller is connected. */
static char *
run_ddl(char *sql)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	return sql;
}

static void
noop(const char *fmt, const char *a, const char *b)
{
	ereport(NOTICE, (errmsg(fmt, a, b), errdetail("Nothing to do.")));
}

static void
conflict(const char *msg, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_MIGR_PRECONDITION),
			 errmsg("%s", msg),
			 errdetail("%s", detail),
			 errhint("Resolve the conflict by hand or in an earlier revision; migr will not guess.")));
}

/* The table for an operation; *tbl becomes its bare name, for messages. */
static Oid
op_table(const char **tbl)
{
	Oid			relid = migr_require_table(*tbl);

	*tbl = get_rel_name(relid);
	return relid;
}

static int
require_column(Oid relid, const char *tbl, const char *col)
{
	int			attnum = migr_lookup_column(relid, col, false);

	if (attnum == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist", col, tbl)));
	return attnum;
}

/* "a", "b" -> "a", "b" quoted and comma-separated */
static char *
column_list(List *cols)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, cols)
	{
		CHECK_FOR_INTERRUPTS();
		appendStringInfo(&buf, "%s%s", foreach_current_index(lc) ? ", " : "",
						 quote_identifier(lfirst(lc)));
	}
	return buf.data;
}

static char *
names_string(List *cols)
{
	return migr_join_names(cols, ", ");
}

/* add_column(tbl, col, type, nullable, server_default) */
char *
migr_op_add_column(const char *tbl, const char *col, const char *type,
				   bool nullable, const char *server_default)
{
	Oid			relid = op_table(&tbl);
	char	   *canon = migr_canonical_type(type);
	int			attnum;
	StringInfoData sql;

	if (server_default)
		migr_check_expression("server_default", server_default);
	attnum = migr_lookup_column(relid, col, false);
	if (attnum > 0)
	{
		char	   *have = migr_column_type(relid, attnum);
		bool		have_null = migr_column_nullable(relid, attnum);

		if (strcmp(have, canon) != 0 || have_null != nullable)
			conflict(psprintf("column \"%s\" of relation \"%s\" already exists with another definition", col, tbl),
					 psprintf("It is %s%s; the operation asks for %s%s.",
							  have, have_null ? "" : " NOT NULL",
							  canon, nullable ? "" : " NOT NULL"));
		noop("column \"%s\" of relation \"%s\" already exists", col, tbl);
		return NULL;
	}
	initStringInfo(&sql);
	appendStringInfo(&sql, "ALTER TABLE %s ADD COLUMN %s %s",
					 migr_qualified_table(relid), quote_identifier(col), canon);
	if (server_default)
		appendStringInfo(&sql, " DEFAULT %s", expr_sql(server_default));
	if (!nullable)
		appendStringInfoString(&sql, " NOT NULL");
	return run_ddl(sql.data);
}

/* drop_column(tbl, col) */
char *
migr_op_drop_column(const char *tbl, const char *col)
{
	Oid			relid = op_table(&tbl);

	if (migr_lookup_column(relid, col, false) == 0)
	{
		noop("column \"%s\" of relation \"%s\" does not exist", col, tbl);
		return NULL;
	}
	return run_ddl(psprintf("ALTER TABLE %s DROP COLUMN %s",
							migr_qualified_table(relid), quote_identifier(col)));
}

/*
 * alter_column(tbl, col, type, nullable, server_default, drop_default,
 *				new_name): NULL arguments leave that aspect alone.  A column
 * already renamed to new_name is altered under its new name.
 */
char *
migr_op_alter_column(const char *tbl, const char *col, const char *type,
					 int nullable, const char *server_default,
					 bool drop_default, const char *new_name)
{
	Oid			relid = op_table(&tbl);
	int			attnum = migr_lookup_column(relid, col, false);
	const char *name = col;
	StringInfoData sql;
	char	   *qtable = migr_qualified_table(relid);
	char	   *canon = type ? migr_canonical_type(type) : NULL;
	int			n = 0;

	if (server_default)
		migr_check_expression("server_default", server_default);
	if (server_default && drop_default)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot both set and drop the default of column \"%s\"", col)));
	if (new_name)
	{
		int			newnum = migr_lookup_column(relid, new_name, false);

		if (attnum > 0 && newnum > 0 && strcmp(col, new_name) != 0)
			conflict(psprintf("cannot rename column \"%s\" of relation \"%s\" to \"%s\"", col, tbl, new_name),
					 "Both columns exist.");
		if (attnum == 0 && newnum > 0)
		{
			attnum = newnum;
			name = new_name;
		}
	}
	if (attnum == 0)
		require_column(relid, tbl, col);

	initStringInfo(&sql);
	appendStringInfo(&sql, "ALTER TABLE %s", qtable);
	if (canon && strcmp(canon, migr_column_type(relid, attnum)) != 0)
		appendStringInfo(&sql, "%s ALTER COLUMN %s TYPE %s", n++ ? "," : "",
						 quote_identifier(name), canon);
	if (nullable >= 0 && (bool) nullable != migr_column_nullable(relid, attnum))
		appendStringInfo(&sql, "%s ALTER COLUMN %s %s NOT NULL", n++ ? "," : "",
						 quote_identifier(name), nullable ? "DROP" : "SET");
	if (server_default)
	{
		char	   *have = migr_column_default(relid, attnum);

		if (have == NULL || strcmp(have, server_default) != 0)
			appendStringInfo(&sql, "%s ALTER COLUMN %s SET DEFAULT %s", n++ ? "," : "",
							 quote_identifier(name), expr_sql(server_default));
	}
	if (drop_default && migr_column_default(relid, attnum) != NULL)
		appendStringInfo(&sql, "%s ALTER COLUMN %s DROP DEFAULT", n++ ? "," : "",
						 quote_identifier(name));
	if (n > 0)
		run_ddl(sql.data);
	if (new_name && strcmp(name, new_name) != 0)
	{
		char	   *ren = psprintf("ALTER TABLE %s RENAME COLUMN %s TO %s", qtable,
								   quote_identifier(name), quote_identifier(new_name));

		run_ddl(ren);
		return n > 0 ? psprintf("%s;\n%s", sql.data, ren) : ren;
	}
	if (n == 0)
	{
		noop("column \"%s\" of relation \"%s\" is already as requested", name, tbl);
		return NULL;
	}
	return sql.data;
}

/* create_index(tbl, columns, name, unique, where_clause) */
char *
migr_op_create_index(const char *tbl, List *columns, const char *name,
					 bool unique, const char *where_clause)
{
	Oid			relid = op_table(&tbl);
	Oid			indexid;
	ListCell   *lc;
	StringInfoData sql;

	/* cannot happen: the argument check refuses an empty list first */
	if (columns == NIL)
		elog(ERROR, "an index needs at least one column");
	foreach(lc, columns)
	{
		CHECK_FOR_INTERRUPTS();
		require_column(relid, tbl, lfirst(lc));
	}
	if (where_clause)
		migr_check_expression("where_clause", where_clause);
	if (name == NULL)
		name = migr_make_name("ix", get_rel_name(relid), columns, NULL);

	indexid = migr_lookup_index(relid, name);
	if (OidIsValid(indexid) && !migr_index_is_valid(indexid))
	{
		char	   *qindex = migr_qualified_table(indexid);

		ereport(ERROR,
				(errcode(ERRCODE_MIGR_PRECONDITION),
				 errmsg("index \"%s\" on relation \"%s\" exists but is invalid", name, tbl),
				 errdetail("A CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY failed, was cancelled or is still running; queries do not use the index."),
				 errhint("Drop it with DROP INDEX %s, or rebuild it with REINDEX INDEX %s, then run the operation again.",
						 qindex, qindex)));
	}
	if (OidIsValid(indexid))
	{
		List	   *have = migr_index_columns(indexid);
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid));
		bool		have_unique = ((Form_pg_index) GETSTRUCT(tup))->indisunique;

		ReleaseSysCache(tup);
		if (!migr_same_names(have, columns) || have_unique != unique)
			conflict(psprintf("index \"%s\" already exists with another definition", name),
					 psprintf("It is a%s index on (%s); the operation asks for a%s index on (%s).",
							  have_unique ? " unique" : "n", names_string(have),
							  unique ? " unique" : "n", names_string(columns)));
		noop("index \"%s\" already exists%s", name, "");
		return NULL;
	}
	if (OidIsValid(get_relname_relid(name, get_rel_namespace(relid))))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", name),
				 errdetail("It is not an index on \"%s\".", tbl)));
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE %sINDEX %s ON %s (%s)", unique ? "UNIQUE " : "",
					 quote_identifier(name), migr_qualified_table(relid),
					 column_list(columns));
	if (where_clause)
		appendStringInfo(&sql, " WHERE %s", expr_sql(where_clause));
	return run_ddl(sql.data);
}

/* drop_index(tbl, name) */
char *
migr_op_drop_index(const char *tbl, const char *name)
{
	Oid			relid = op_table(&tbl);
	Oid			indexid = migr_lookup_index(relid, name);

	if (!OidIsValid(indexid))
	{
		noop("index \"%s\" does not exist on \"%s\"", name, tbl);
		return NULL;
	}
	return run_ddl(psprintf("DROP INDEX %s", migr_qualified_table(indexid)));
}

/* Constraint facts: type, key columns, referenced table and columns. */
static char
constraint_facts(Oid conid, Oid relid, List **cols, Oid *confrelid, List **refcols)
{
	HeapTuple	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conid));
	Form_pg_constraint con;
	char		type;
	bool		isnull;
	Datum		d;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for constraint %u", conid);
	con = (Form_pg_constraint) GETSTRUCT(tup);
	type = con->contype;
	*cols = NIL;
	*refcols = NIL;
	*confrelid = con->confrelid;
	d = SysCacheGetAttr(CONSTROID, tup, Anum_pg_constraint_conkey, &isnull);
	if (!isnull)
	{
		ArrayType  *arr = DatumGetArrayTypeP(d);
		int16	   *k = (int16 *) ARR_DATA_PTR(arr);

		for (int i = 0; i < ARR_DIMS(arr)[0]; i++)
		{
			CHECK_FOR_INTERRUPTS();
			*cols = lappend(*cols, get_attname(relid, k[i], false));
		}
	}
	d = SysCacheGetAttr(CONSTROID, tup, Anum_pg_constraint_confkey, &isnull);
	if (!isnull)
	{
		ArrayType  *arr = DatumGetArrayTypeP(d);
		int16	   *k = (int16 *) ARR_DATA_PTR(arr);

		for (int i = 0; i < ARR_DIMS(arr)[0]; i++)
		{
			CHECK_FOR_INTERRUPTS();
			*refcols = lappend(*refcols, get_attname(con->confrelid, k[i], false));
		}
	}
	ReleaseSysCache(tup);
	return type;
}

static const char *
contype_name(char t)
{
	switch (t)
	{
		case CONSTRAINT_CHECK:
			return "check";
		case CONSTRAINT_FOREIGN:
			return "foreign key";
		case CONSTRAINT_PRIMARY:
			return "primary key";
		case CONSTRAINT_UNIQUE:
			return "unique";
		case CONSTRAINT_EXCLUSION:
			return "exclusion";
		default:
			return "trigger";
	}
}

/* Column names referenced in an expression, in order of appearance. */
static bool
collect_columns(Node *node, List **cols)
{
	if (node == NULL)
		return false;
	CHECK_FOR_INTERRUPTS();
	if (IsA(node, ColumnRef))
	{
		Node	   *last = llast(((ColumnRef *) node)->fields);

		if (IsA(last, String))
		{
			ListCell   *lc;

			foreach(lc, *cols)
			{
				CHECK_FOR_INTERRUPTS();
				if (strcmp(lfirst(lc), strVal(last)) == 0)
					return false;
			}
			*cols = lappend(*cols, strVal(last));
		}
		return false;
	}
	return raw_expression_tree_walker(node, collect_columns, (void *) cols);
}

/*
 * create_check_constraint(tbl, condition, name): without a name, the
 * constraint is called ck_<table>_<columns the condition uses>.
 */
char *
migr_op_create_check_constraint(const char *tbl, const char *condition,
								const char *name)
{
	Oid			relid = op_table(&tbl);
	Oid			conid;

	migr_check_expression("condition", condition);
	if (name == NULL)
	{
		List	   *stmts = raw_parser(psprintf("SELECT (%s\n)", condition), RAW_PARSE_DEFAULT);
		SelectStmt *sel = (SelectStmt *) linitial_node(RawStmt, stmts)->stmt;
		List	   *cols = NIL;

		collect_columns(((ResTarget *) linitial(sel->targetList))->val, &cols);
		if (cols == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("check constraint needs a name"),
					 errdetail("The condition uses no column to name it after.")));
		name = migr_make_name("ck", get_rel_name(relid),
							  list_make1(migr_join_names(cols, "_")), NULL);
	}
	conid = migr_lookup_constraint(relid, name, false);
	if (OidIsValid(conid))
	{
		List	   *cols,
				   *refcols;
		Oid			ref;
		char		t = constraint_facts(conid, relid, &cols, &ref, &refcols);

		if (t != CONSTRAINT_CHECK)
			conflict(psprintf("constraint \"%s\" on relation \"%s\" already exists", name, tbl),
					 psprintf("It is a %s constraint, not a check constraint.", contype_name(t)));
		noop("check constraint \"%s\" on relation \"%s\" already exists", name, tbl);
		return NULL;
	}
	return run_ddl(psprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK %s",
							migr_qualified_table(relid), quote_identifier(name),
							expr_sql(condition)));
}

/* create_unique_constraint(tbl, columns, name) */
char *
migr_op_create_unique_constraint(const char *tbl, List *columns, const char *name)
{
	Oid			relid = op_table(&tbl);
	Oid			conid;
	ListCell   *lc;

	/* cannot happen: the argument check refuses an empty list first */
	if (columns == NIL)
		elog(ERROR, "a unique constraint needs at least one column");
	foreach(lc, columns)
	{
		CHECK_FOR_INTERRUPTS();
		require_column(relid, tbl, lfirst(lc));
	}
	if (name == NULL)
		name = migr_make_name("uq", get_rel_name(relid), columns, NULL);
	conid = migr_lookup_constraint(relid, name, false);
	if (OidIsValid(conid))
	{
		List	   *cols,
				   *refcols;
		Oid			ref;
		char		t = constraint_facts(conid, relid, &cols, &ref, &refcols);

		if (t != CONSTRAINT_UNIQUE || !migr_same_names(cols, columns))
			conflict(psprintf("constraint \"%s\" on relation \"%s\" already exists with another definition", name, tbl),
					 psprintf("It is a %s constraint on (%s); the operation asks for a unique constraint on (%s).",
							  contype_name(t), names_string(cols), names_string(columns)));
		noop("unique constraint \"%s\" on relation \"%s\" already exists", name, tbl);
		return NULL;
	}
	return run_ddl(psprintf("ALTER TABLE %s ADD CONSTRAINT %s UNIQUE (%s)",
							migr_qualified_table(relid), quote_identifier(name),
							column_list(columns)));
}

static const char *
fk_action(const char *on_delete)
{
	static const char *const actions[] = {"CASCADE", "SET NULL", "SET DEFAULT",
	"RESTRICT", "NO ACTION"};

	for (int i = 0; i < lengthof(actions); i++)
		if (pg_strcasecmp(on_delete, actions[i]) == 0)
			return actions[i];
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized on_delete action \"%s\"", on_delete),
			 errhint("Use CASCADE, SET NULL, SET DEFAULT, RESTRICT or NO ACTION.")));
	return NULL;				/* keep compiler quiet */
}

/*
 * create_foreign_key(tbl, columns, ref_tbl, ref_columns, name, on_delete,
 *					  index): with index, also an index on the referencing
 * columns unless one already leads with them.
 */
char *
migr_op_create_foreign_key(const char *tbl, List *columns, const char *ref_tbl,
						   List *ref_columns, const char *name,
						   const char *on_delete, bool index)
{
	Oid			relid = op_table(&tbl);
	Oid			refid = op_table(&ref_tbl);
	const char *action = on_delete ? fk_action(on_delete) : NULL;
	Oid			conid;
	ListCell   *lc;
	char	   *ddl = NULL;

	if (columns == NIL || list_length(columns) != list_length(ref_columns))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a foreign key needs as many referenced columns as referencing columns, and at least one")));
	foreach(lc, columns)
	{
		CHECK_FOR_INTERRUPTS();
		require_column(relid, tbl, lfirst(lc));
	}
	foreach(lc, ref_columns)
	{
		CHECK_FOR_INTERRUPTS();
		require_column(refid, ref_tbl, lfirst(lc));
	}
	if (name == NULL)
		name = migr_make_name("fk", get_rel_name(relid), columns, get_rel_name(refid));

	conid = migr_lookup_constraint(relid, name, false);
	if (OidIsValid(conid))
	{
		List	   *cols,
				   *refcols;
		Oid			ref;
		char		t = constraint_facts(conid, relid, &cols, &ref, &refcols);

		if (t != CONSTRAINT_FOREIGN || ref != refid || !migr_same_names(cols, columns) ||
			!migr_same_names(refcols, ref_columns))
			conflict(psprintf("constraint \"%s\" on relation \"%s\" already exists with another definition", name, tbl),
					 psprintf("It is a %s constraint on (%s); the operation asks for a foreign key on (%s) referencing %s (%s).",
							  contype_name(t), names_string(cols), names_string(columns),
							  ref_tbl, names_string(ref_columns)));
		noop("foreign key \"%s\" on relation \"%s\" already exists", name, tbl);
	}
	else
		ddl = run_ddl(psprintf("ALTER TABLE %s ADD CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s (%s)%s%s",
							   migr_qualified_table(relid), quote_identifier(name),
							   column_list(columns), migr_qualified_table(refid),
							   column_list(ref_columns),
							   action ? " ON DELETE " : "", action ? action : ""));

	if (index && !migr_index_leads_with(relid, columns))
	{
		char	   *ix = migr_op_create_index(migr_qualified_table(relid), columns,
											  NULL, false, NULL);

		if (ix)
			ddl = ddl ? psprintf("%s;\n%s", ddl, ix) : ix;
	}
	return ddl;
}

/* drop_constraint(tbl, name) */
char *
migr_op_drop_constraint(const char *tbl, const char *name)
{
	Oid			relid = op_table(&tbl);

	if (!OidIsValid(migr_lookup_constraint(relid, name, false)))
	{
		noop("constraint \"%s\" on relation \"%s\" does not exist", name, tbl);
		return NULL;
	}
	return run_ddl(psprintf("ALTER TABLE %s DROP CONSTRAINT %s",
							migr_qualified_table(relid), quote_identifier(name)));
}

/*
 * rename_table(tbl, new_name): new_name is a bare name in the table's
 * schema.  Already renamed is a no-op: tbl is gone and new_name is a table
 * in the schema tbl names, or, tbl unqualified, a table new_name finds on
 * the search_path outside pg_catalog (no user table was ever renamed into
 * it).  Anything else with tbl missing is 42P01.
 */
char *
migr_op_rename_table(const char *tbl, const char *new_name)
{
	List	   *names = stringToQualifiedNameList(tbl);
	char	   *shown = NameListToString(names);
	Oid			relid = migr_lookup_table(tbl, false);
	Oid			existing;

	if (OidIsValid(relid))
	{
		existing = get_relname_relid(new_name, get_rel_namespace(relid));
		if (existing == relid)
		{
			noop("relation \"%s\" is already named \"%s\"", shown, new_name);
			return NULL;
		}
		if (OidIsValid(existing))
			conflict(psprintf("cannot rename relation \"%s\" to \"%s\"", shown, new_name),
					 "Both relations exist.");
		return run_ddl(psprintf("ALTER TABLE %s RENAME TO %s",
								migr_qualified_table(relid), quote_identifier(new_name)));
	}
	if (list_length(names) > 1)
	{
		char	   *schema = strVal(list_nth(names, list_length(names) - 2));

		existing = migr_lookup_table(quote_qualified_identifier(schema, new_name), false);
	}
	else
	{
		existing = migr_lookup_table(quote_identifier(new_name), false);
		if (OidIsValid(existing) && IsCatalogNamespace(get_rel_namespace(existing)))
			existing = InvalidOid;
	}
	if (!OidIsValid(existing))
		migr_require_table(tbl);
	noop("relation \"%s\" is already named \"%s\"", shown, new_name);
	return NULL;
}

/* rename_column(tbl, col, new_name) */
char *
migr_op_rename_column(const char *tbl, const char *col, const char *new_name)
{
	return migr_op_alter_column(tbl, col, NULL, -1, NULL, false, new_name);
}
