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

#include "common/cryptohash.h"
#include "common/sha2.h"

#define MIGR_CHECKSUM_LEN	32

extern bytea *migr_checksum(const char *upgrade_sql, const char *downgrade_sql,
							 char *const *checks);
extern void migr_checksum_into(pg_cryptohash_ctx *ctx, const char *upgrade_sql,
							   const char *downgrade_sql, char *const *checks,
							   uint8 *digest);
extern char *migr_checksum_hex(bytea *sum);
extern bool migr_checksum_equal(bytea *a, bytea *b);
extern pg_cryptohash_ctx *migr_sha256_begin(void);
extern void migr_sha256_add(pg_cryptohash_ctx *ctx, const void *data, size_t len);
extern void migr_sha256_end(pg_cryptohash_ctx *ctx, uint8 *digest);
extern void migr_sha256_restart(pg_cryptohash_ctx *ctx);
extern void migr_sha256_final(pg_cryptohash_ctx *ctx, uint8 *digest);
extern char *migr_hex(const uint8 *bytes, size_t len);

#endif							/* MIGR_CHECKSUM_H */
