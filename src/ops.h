/*-------------------------------------------------------------------------
 * ops.h
 *	  Idempotent schema operations (Alembic's op.*).  Each returns the DDL it
 *	  ran, or NULL when the schema was already in the target state.  The
 *	  caller is connected to SPI.
 *
 * IDENTIFICATION
 *	  src/ops.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_OPS_H
#define MIGR_OPS_H

#include "postgres.h"
#include "nodes/pg_list.h"

extern char *migr_op_add_column(const char *tbl, const char *col, const char *type,
								bool nullable, const char *server_default);
extern char *migr_op_drop_column(const char *tbl, const char *col);
extern char *migr_op_alter_column(const char *tbl, const char *col,
								  const char *type, int nullable,
								  const char *server_default, bool drop_default,
								  const char *new_name);
extern char *migr_op_create_index(const char *tbl, List *columns,
								  const char *name, bool unique,
								  const char *where_clause);
extern char *migr_op_drop_index(const char *tbl, const char *name);
extern char *migr_op_create_check_constraint(const char *tbl,
											 const char *condition,
											 const char *name);
extern char *migr_op_create_unique_constraint(const char *tbl, List *columns,
											  const char *name);
extern char *migr_op_create_foreign_key(const char *tbl, List *columns,
										const char *ref_tbl, List *ref_columns,
										const char *name, const char *on_delete,
										bool index);
extern char *migr_op_drop_constraint(const char *tbl, const char *name);
extern char *migr_op_rename_table(const char *tbl, const char *new_name);
extern char *migr_op_rename_column(const char *tbl, const char *col,
								   const char *new_name);

#endif							/* MIGR_OPS_H */
