/*-------------------------------------------------------------------------
 * sqlcall.c
 *	  What every SQL-callable function of migr does the same way: connect
 *	  to SPI and finish (checking the result codes), refuse a read-only
 *	  transaction before writing anything (25006), and read text arguments,
 *	  with NULL where a value is required refused (22004).
 *
 *	  Every SPI call returns in SPI's procedure context, which SPI_finish()
 *	  frees: what a function returns or raises after migr_spi_finish() must
 *	  be built in the context that was current before migr_spi_connect().
 *
 * IDENTIFICATION
 *	  src/sqlcall.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "sqlcall.h"
#include "utils/builtins.h"

void
migr_spi_connect(void)
{
	int			rc = SPI_connect();

	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));
}

void
migr_spi_finish(void)
{
	int			rc = SPI_finish();

	if (rc != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed: %s", SPI_result_code_string(rc));
}

/* Writers refuse read-only transactions (and standbys) up front. */
void
migr_require_writable(const char *fn)
{
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot execute %s in a read-only transaction", fn)));
}

/* A text argument as a C string; NULL for SQL NULL. */
char *
migr_text_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* A text argument that must not be NULL: "<what> must not be null". */
char *
migr_required_text_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/*
 * migr_run_kept
 *		Run sql with its parameters through a plan prepared on first use and
 *		kept for the life of the backend in *slot (a static of the caller),
 *		for statements run once per revision or per statement, where parsing
 *		and planning would cost more than the work; elog unless SPI returns
 *		"expected".  The caller is connected to SPI.
 */
void
migr_run_kept(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types,
			  Datum *values, const char *nulls, bool read_only, long count,
			  int expected)
{
	int			rc;

	if (*slot == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "could not prepare a migr query: %s",
				 SPI_result_code_string(SPI_result));
		*slot = p;
	}
	rc = SPI_execute_plan(*slot, values, nulls, read_only, count);
	if (rc != expected)
		elog(ERROR, "migr query failed: %s", SPI_result_code_string(rc));
}
