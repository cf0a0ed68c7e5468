/*-------------------------------------------------------------------------
 * checksum.h
 *	  sha256 of a revision's executable content.
 *
 * IDENTIFICATION
 *	  src/checksum.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_CHECKSUM_H
#define MIGR_CHECKSUM_H

#include "postgres.h"

#define MIGR_CHECKSUM_LEN	32

extern bytea *migr_checksum(const char *upgrade_sql, const char *downgrade_sql,
							 char *const *checks);
extern char *migr_checksum_hex(bytea *sum);

#endif							/* MIGR_CHECKSUM_H */
