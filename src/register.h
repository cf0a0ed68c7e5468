/*-------------------------------------------------------------------------
 * register.h
 *	  Validation and registration of revisions.
 *
 * IDENTIFICATION
 *	  src/register.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_REGISTER_H
#define MIGR_REGISTER_H

#include "catalog.h"
#include "regbatch.h"

/* What migr_register() did */
typedef enum MigrRegisterResult
{
	MIGR_REGISTERED,			/* a new revision */
	MIGR_REPLACED,				/* an unapplied revision with other content */
	MIGR_IDENTICAL				/* the same content was registered: nothing done */
} MigrRegisterResult;

/*
 * Which argument of a registration migr_new_revision() and migr_register()
 * are checking, so that load.c can point an error at the line of a file
 * that holds it.  MIGR_PART_CHECK + a MigrCheckKind for the checks.
 */
typedef enum MigrRegisterPart
{
	MIGR_PART_NONE = 0,
	MIGR_PART_ID,
	MIGR_PART_REVISES,
	MIGR_PART_DEPENDS_ON,
	MIGR_PART_BRANCH_LABELS,
	MIGR_PART_UPGRADE,
	MIGR_PART_DOWNGRADE,
	MIGR_PART_CHECK
} MigrRegisterPart;

extern int	migr_register_part;

extern MigrNewRevision *migr_new_revision(const char *id, const char *revises,
										  const char *message,
										  const char *upgrade,
										  const char *downgrade,
										  const char *branch_labels,
										  const char *depends_on,
										  TimestampTz create_date,
										  char *const *checks,
										  bool transactional);
extern MigrRegisterResult migr_register(MigrNewRevision *rev,
										bool create_date_set,
										bool defer_references,
										MigrRegBatch *batch);

#endif							/* MIGR_REGISTER_H */
