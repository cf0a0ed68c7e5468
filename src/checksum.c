/*-------------------------------------------------------------------------
 * checksum.c
 *	  sha256 of a revision's executable content, through PostgreSQL's own
 *	  cryptohash.  The content is encoded unambiguously: each field is
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

static void
add_field(pg_cryptohash_ctx *ctx, char tag, const char *value)
{
	char		head[1 + 20];
	int			hlen;

	if (value == NULL)
	{
		head[0] = tag;
		hlen = 1 + snprintf(head + 1, sizeof(head) - 1, "-;");
	}
	else
	{
		head[0] = tag;
		hlen = 1 + snprintf(head + 1, sizeof(head) - 1, "%zu:", strlen(value));
	}
	if (pg_cryptohash_update(ctx, (const uint8 *) head, hlen) < 0 ||
		(value && pg_cryptohash_update(ctx, (const uint8 *) value, strlen(value)) < 0))
		elog(ERROR, "could not update sha256 context: %s", pg_cryptohash_error(ctx));
}

/*
 * migr_checksum
 *		sha256 over the tagged upgrade SQL, downgrade SQL and checks (an
 *		array of MIGR_NCHECKS strings or NULLs, or NULL); returns a palloc'd
 *		bytea of 32 bytes.
 */
bytea *
migr_checksum(const char *upgrade_sql, const char *downgrade_sql,
			  char *const *checks)
{
	static const char check_tags[MIGR_NCHECKS] = {'S', 'R', 'V', 'W'};

	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	bytea	   *result = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

	if (pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not initialize sha256 context: %s", pg_cryptohash_error(ctx));
	add_field(ctx, 'U', upgrade_sql);
	add_field(ctx, 'D', downgrade_sql);
	/* checks only when present, so revisions without them keep their sums */
	for (int i = 0; i < MIGR_NCHECKS; i++)
		if (checks && checks[i])
			add_field(ctx, check_tags[i], checks[i]);
	if (pg_cryptohash_final(ctx, (uint8 *) VARDATA(result), PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not finalize sha256 context: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	SET_VARSIZE(result, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	return result;
}

/* Lowercase hex of a checksum, for messages. */
char *
migr_checksum_hex(bytea *sum)
{
	static const char hex[] = "0123456789abcdef";
	int			len = VARSIZE_ANY_EXHDR(sum);
	const uint8 *p = (const uint8 *) VARDATA_ANY(sum);
	char	   *out = palloc(len * 2 + 1);

	for (int i = 0; i < len; i++)
	{
		out[i * 2] = hex[p[i] >> 4];
		out[i * 2 + 1] = hex[p[i] & 0xf];
	}
	out[len * 2] = '\0';
	return out;
}
