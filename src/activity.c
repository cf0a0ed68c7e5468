/*-------------------------------------------------------------------------
 * activity.c
 *	  What pg_stat_activity.query shows while migr runs: the statement of a
 *	  revision, or the batch a batch job is on, instead of the CALL or
 *	  SELECT that started it, so that a DBA watching another session sees
 *	  where a long run is.  query_start stays the start of that statement
 *	  (pgstat_report_activity keeps it).  The entry point puts the client's
 *	  statement back when it ends.
 *
 * IDENTIFICATION
 *	  src/activity.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "activity.h"
#include "mb/pg_wchar.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"

/* whether the shown text is migr's, to be put back */
static bool reported = false;

/*
 * migr_activity_report
 *		Show the formatted text as this backend's query (pgstat truncates
 *		it to track_activity_query_size).  Text past 1 kB is cut at a
 *		character boundary: half a character would make pg_stat_activity
 *		(and migr.progress) unreadable to a client whose encoding differs
 *		from the server's.
 */
void
migr_activity_report(const char *fmt,...)
{
	char		buf[1024];
	va_list		args;
	int			len;

	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	len = strlen(buf);
	buf[pg_mbcliplen(buf, len, len)] = '\0';
	pgstat_report_activity(STATE_RUNNING, buf);
	reported = true;
}

/*
 * migr_activity_restore
 *		Show the client's statement again.  It runs no SQL and may be called
 *		on the way out of an error.
 */
void
migr_activity_restore(void)
{
	if (!reported)
		return;
	reported = false;
	if (debug_query_string)
		pgstat_report_activity(STATE_RUNNING, debug_query_string);
}
