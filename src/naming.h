/*-------------------------------------------------------------------------
 * naming.h
 *	  SQLAlchemy/Alembic's naming convention for indexes and constraints.
 *
 * IDENTIFICATION
 *	  src/naming.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_NAMING_H
#define MIGR_NAMING_H

#include "postgres.h"
#include "nodes/pg_list.h"

extern char *migr_make_name(const char *kind, const char *table,
							List *columns, const char *ref_table);
extern char *migr_bare_table_name(const char *tbl);

#endif							/* MIGR_NAMING_H */
