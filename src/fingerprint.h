/*-------------------------------------------------------------------------
 * fingerprint.h
 *	  Canonical schema description and fingerprint.
 *
 * IDENTIFICATION
 *	  src/fingerprint.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_FINGERPRINT_H
#define MIGR_FINGERPRINT_H

#include "postgres.h"

#include "executor/spi.h"

typedef struct MigrDescRow
{
	char	   *kind;
	char	   *object;
	char	   *definition;
} MigrDescRow;

extern void migr_catalog_path_query(const char *sql, int nargs, Oid *types,
									Datum *values, const char *nulls);
extern void migr_catalog_path_query_kept(SPIPlanPtr *slot, const char *sql);
extern MigrDescRow *migr_describe(Datum schemas, bool schemas_null, int *nrows);
extern char *migr_fingerprint_of(const MigrDescRow *rows, int n);
extern char *migr_describe_diff(const MigrDescRow *before, int nb,
								const MigrDescRow *after, int na, int max);

#endif							/* MIGR_FINGERPRINT_H */
