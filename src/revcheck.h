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

extern const char *const migr_check_names[MIGR_NCHECKS];

extern void migr_validate_check(MigrCheckKind kind, const char *expr);
extern bool migr_eval_check(const char *rev, MigrCheckKind kind, const char *expr);
extern int	migr_try_eval_check(const char *rev, MigrCheckKind kind,
								const char *expr, char **error);

#endif							/* MIGR_REVCHECK_H */
