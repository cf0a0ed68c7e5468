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

extern MigrNewRevision *migr_new_revision(const char *id, const char *revises,
										  const char *message,
										  const char *upgrade,
										  const char *downgrade,
										  const char *branch_labels,
										  const char *depends_on,
										  TimestampTz create_date,
										  char *const *checks,
										  bool transactional);
extern void migr_register(MigrNewRevision *rev, bool create_date_set);

#endif							/* MIGR_REGISTER_H */
