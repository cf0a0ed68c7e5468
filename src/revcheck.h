/*-------------------------------------------------------------------------
 * revcheck.h
 *	  A revision's pre- and postconditions: skip_if, requires, verify,
 *	  verify_down.
 *
 * IDENTIFICATION
 *	  src/revcheck.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_REVCHECK_H
#define MIGR_REVCHECK_H

#include "postgres.h"

typedef enum MigrCheckKind
{
	MIGR_CHECK_SKIP_IF = 0,
	MIGR_CHECK_REQUIRES,
	MIGR_CHECK_VERIFY,
	MIGR_CHECK_VERIFY_DOWN,
	MIGR_NCHECKS
} MigrCheckKind;

/* What a reader learnt from a check (migr_read_check) */
typedef enum MigrCheckOutcome
{
	MIGR_READ_NOT_TRUE,		/* evaluated to false or NULL */
	MIGR_READ_TRUE,
	MIGR_READ_RAISED,			/* raised an error */
	MIGR_READ_NOT_RUN			/* not evaluated (see migr_read_check) */
} MigrCheckOutcome;

extern const char *const migr_check_names[MIGR_NCHECKS];

extern void migr_validate_check(MigrCheckKind kind, const char *expr);
extern bool migr_eval_check(const char *rev, MigrCheckKind kind, const char *expr);
extern MigrCheckOutcome migr_read_check(const char *rev, MigrCheckKind kind,
										const char *expr,
										const char *registered_by, char **why);

#endif							/* MIGR_REVCHECK_H */
