/*-------------------------------------------------------------------------
 * sqlcall.h
 *	  What every SQL-callable function of migr does the same way: its SPI
 *	  connection, its refusal of read-only transactions, its arguments.
 *
 * IDENTIFICATION
 *	  src/sqlcall.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_SQLCALL_H
#define MIGR_SQLCALL_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"

extern void migr_spi_connect(void);
extern void migr_spi_finish(void);
extern void migr_require_writable(const char *fn);
extern char *migr_text_arg(FunctionCallInfo fcinfo, int n);
extern char *migr_required_text_arg(FunctionCallInfo fcinfo, int n,
									const char *what);
extern void migr_run_kept(SPIPlanPtr *slot, const char *sql, int nargs,
						  Oid *types, Datum *values, const char *nulls,
						  bool read_only, long count, int expected);

#endif							/* MIGR_SQLCALL_H */
