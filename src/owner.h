/*-------------------------------------------------------------------------
 * owner.h
 *	  Run migr's own catalog writes as the extension owner.
 *
 * IDENTIFICATION
 *	  src/owner.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_OWNER_H
#define MIGR_OWNER_H

#include "postgres.h"

/* What migr_owner_begin() changed, for migr_owner_end() to put back */
typedef struct MigrOwnerSwitch
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} MigrOwnerSwitch;

extern void migr_owner_begin(MigrOwnerSwitch *sw);
extern void migr_owner_end(MigrOwnerSwitch *sw);

#endif							/* MIGR_OWNER_H */
