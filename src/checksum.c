/*-------------------------------------------------------------------------
 * checksum.c
 *	  sha256 through PostgreSQL's own cryptohash, for everything migr
 *	  hashes, and the checksum of a revision's executable content.  The content is encoded unambiguously: each field is
 *	  prefixed with a tag and its length, and an absent downgrade (an
 *	  irreversible revision) differs from an empty one.  Later fields (the
 *	  checks of issue 4) append tagged fields the same way, so the checksums
 *	  of revisions without them stay the same.
 *
 * IDENTIFICATION
 *	  src/checksum.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "checksum.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "revcheck.h"
#include "utils/builtins.h"

/*
 * migr_sha256_begin, migr_sha256_add, migr_sha256_end
 *		PostgreSQL's cryptohash for sha256, with its errors raised: the
 *		one place migr hashes anything (revision checksums, the schema
 *		fingerprint, shortened names).
 */
pg_cryptohash_ctx *
migr_sha256_begin(void)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	migr_sha256_restart(ctx);
	return ctx;
}

/* Start a new sum in ctx, which may hold a finished one: one context for many */
void
migr_sha256_restart(pg_cryptohash_ctx *ctx)
{
	if (pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not initialize sha256 context: %s", pg_cryptohash_error(ctx));
}

void
migr_sha256_add(pg_cryptohash_ctx *ctx, const void *data, size_t len)
{
	if (pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0)
		elog(ERROR, "could not update sha256 context: %s", pg_cryptohash_error(ctx));
}

void
migr_sha256_end(pg_cryptohash_ctx *ctx, uint8 *digest)
{
	migr_sha256_final(ctx, digest);
	pg_cryptohash_free(ctx);
}

/* The sum into digest, keeping ctx for migr_sha256_restart() */
void
migr_sha256_final(pg_cryptohash_ctx *ctx, uint8 *digest)
{
	if (pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not finalize sha256 context: %s", pg_cryptohash_error(ctx));
}

/* Lowercase hex of len bytes, palloc'd. */
char *
migr_hex(const uint8 *bytes, size_t len)
{
	char	   *out = palloc(len * 2 + 1);

	hex_encode((const char *) bytes, len, out);
	out[len * 2] = '\0';
	return out;
}

/* A field of the checksum: its tag, then its length (or "-" when absent). */
static void
add_field(pg_cryptohash_ctx *ctx, char tag, const char *value)
{
	char		head[1 + 20];
	int			hlen;

	head[0] = tag;
	if (value == NULL)
	{
		head[1] = '-';
		head[2] = ';';
		hlen = 3;
	}
	else
	{
		/* the length in decimal, as "%zu:" would write it */
		hlen = 1 + pg_ulltoa_n((uint64) strlen(value), head + 1);
		head[hlen++] = ':';
	}
	migr_sha256_add(ctx, head, hlen);
	if (value)
		migr_sha256_add(ctx, value, strlen(value));
}

/*
 * migr_checksum
 *		sha256 over the tagged upgrade SQL, downgrade SQL and checks (an
 *		array of MIGR_NCHECKS strings or NULLs, or NULL); returns a palloc'd
 *		bytea of 32 bytes.
 */
static void
add_content(pg_cryptohash_ctx *ctx, const char *upgrade_sql,
			const char *downgrade_sql, char *const *checks)
{
	static const char check_tags[MIGR_NCHECKS] = {'S', 'R', 'V', 'W'};

	add_field(ctx, 'U', upgrade_sql);
	add_field(ctx, 'D', downgrade_sql);
	/* checks only when present, so revisions without them keep their sums */
	for (int i = 0; i < MIGR_NCHECKS; i++)
		if (checks && checks[i])
			add_field(ctx, check_tags[i], checks[i]);
}

bytea *
migr_checksum(const char *upgrade_sql, const char *downgrade_sql,
			  char *const *checks)
{
	pg_cryptohash_ctx *ctx = migr_sha256_begin();
	bytea	   *result = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

	add_content(ctx, upgrade_sql, downgrade_sql, checks);
	migr_sha256_end(ctx, (uint8 *) VARDATA(result));
	SET_VARSIZE(result, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	return result;
}

/*
 * migr_checksum_into
 *		migr_checksum() into digest (PG_SHA256_DIGEST_LENGTH bytes) through
 *		ctx, a context from migr_sha256_begin() that is initialised again
 *		here and left for the next call: for a caller that checksums every
 *		revision, where creating a context each time costs more than the
 *		hashing.  The caller frees it (pg_cryptohash_free).
 */
void
migr_checksum_into(pg_cryptohash_ctx *ctx, const char *upgrade_sql,
				   const char *downgrade_sql, char *const *checks,
				   uint8 *digest)
{
	migr_sha256_restart(ctx);
	add_content(ctx, upgrade_sql, downgrade_sql, checks);
	migr_sha256_final(ctx, digest);
}

/* Whether two checksums are the same bytes. */
bool
migr_checksum_equal(bytea *a, bytea *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* Lowercase hex of a checksum, for messages. */
char *
migr_checksum_hex(bytea *sum)
{
	return migr_hex((const uint8 *) VARDATA_ANY(sum), VARSIZE_ANY_EXHDR(sum));
}
