/*-------------------------------------------------------------------------
 * checks.h
 *	  Schema state lookups (tables, columns, indexes, constraints, schemas,
 *	  functions, extensions) answering as information_schema would.
 *
 * IDENTIFICATION
 *	  src/checks.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_CHECKS_H
#define MIGR_CHECKS_H

#include "postgres.h"
#include "nodes/pg_list.h"

extern void migr_require_name(const char *what, const char *value);
extern char *migr_identifier(const char *name);
extern char *migr_name_string(const char *str);
extern Oid	migr_lookup_table(const char *tbl, bool visible_only);
extern Oid	migr_require_table(const char *tbl);
extern char *migr_qualified_table(Oid relid);
extern int	migr_lookup_column(Oid relid, const char *col, bool visible_only);
extern char *migr_column_type(Oid relid, int attnum);
extern char *migr_canonical_type(const char *type);
extern bool migr_column_nullable(Oid relid, int attnum);
extern char *migr_column_default(Oid relid, int attnum);
extern Oid	migr_lookup_index(Oid relid, const char *idx);
extern bool migr_index_is_valid(Oid indexrelid);
extern List *migr_index_columns(Oid indexrelid);
extern Oid	migr_find_index_on(Oid relid, List *columns);
extern bool migr_index_leads_with(Oid relid, List *columns);
extern Oid	migr_lookup_constraint(Oid relid, const char *con, bool visible_only);
extern bool migr_has_schema(const char *name);
extern bool migr_has_function(const char *name, bool any_args, List *argtypes);
extern bool migr_has_extension(const char *name);
extern List *migr_raw_parse(const char *sql, const char *context);
extern void migr_check_expression(const char *what, const char *expr);

#endif							/* MIGR_CHECKS_H */
