/*-------------------------------------------------------------------------
 * load.c
 *	  migr.load() and migr.load_all(): migration files (docs/files.md),
 *	  parsed by migrfile.c and registered through the path of
 *	  migr.revision() (register.c), with an error context naming the file
 *	  and the line for every error raised while a file is processed.
 *
 *	  migr.load_all() is built for the deploy that finds nothing to do: one
 *	  query reads the file name and sha256 recorded for every revision, and
 *	  a file whose name and bytes are those recorded is not parsed again;
 *	  a client may even send such a file as its sha256 alone.
 *	  The SQL of the two statements on migr.migration.source_file and
 *	  source_sha256 lives here, next to that logic, as summary.c keeps its.
 *
 * IDENTIFICATION
 *	  src/load.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xact.h"
#include "body.h"
#include "catalog.h"
#include "catalog/pg_type.h"
#include "checksum.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lock.h"
#include "mb/pg_wchar.h"
#include "migrfile.h"
#include "miscadmin.h"
#include "owner.h"
#include "register.h"
#include "revcheck.h"
#include "sqlcall.h"
#include "strlist.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(migr_load);
PG_FUNCTION_INFO_V1(migr_load_all);

/* longer than any file name recorded: 18 + 128 + 4 bytes */
#define SOURCE_KEY_LEN	256

/* The file being processed, for the error context */
typedef struct LoadState
{
	const char *filename;		/* as given, or NULL */
	const char *buf;			/* its text, line endings converted */
	MigrFile	file;
	bool		parsed;			/* file is filled in */
	int			line;			/* for an error outside a registration */
} LoadState;

/* What loading one file did */
typedef struct LoadResult
{
	char	   *id;
	MigrRegisterResult result;
	int			revises_line;
	int			depends_line;
} LoadResult;

/* A revision recorded as loaded from a file (migr.load_all()) */
typedef struct SourceEntry
{
	char		file[SOURCE_KEY_LEN];	/* key */
	char	   *id;
	uint8		sha[PG_SHA256_DIGEST_LENGTH];
	bool		seen;			/* its file is among those loaded */
} SourceEntry;

/* A revision id loaded by this call, and by which file */
typedef struct IdEntry
{
	char		id[MIGR_MAX_ID_LEN + 1];	/* key */
	int			file;
} IdEntry;

/* One file of migr.load_all() */
typedef struct LoadFile
{
	char	   *name;			/* as given */
	const char *base;			/* its last path component */
	text	   *source;			/* NULL: claimed unchanged by its sha256 */
	bool		has_sha;		/* sha256s gave its sha256 */
	uint8		sha[PG_SHA256_DIGEST_LENGTH];	/* that one, then the bytes'
												 * (hash_sources()) */
	char	   *id;
	const char *status;
	int			revises_line;
	int			depends_line;
} LoadFile;

/*
 * The line of the file that the registration step running now is about:
 * the field or the section's marker, or for a syntax error in a section the
 * line of the error's position.
 */
static int
error_line(LoadState *st)
{
	MigrFile   *f = &st->file;
	int			part = migr_register_part;
	int			sec;
	int			skip = 0;
	int			pos;

	if (!st->parsed || part == MIGR_PART_NONE)
		return st->line;
	switch (part)
	{
		case MIGR_PART_ID:
			return f->fields[MIGR_FIELD_REVISION_ID].line;
		case MIGR_PART_REVISES:
			return f->fields[MIGR_FIELD_REVISES].line;
		case MIGR_PART_DEPENDS_ON:
			return f->fields[MIGR_FIELD_DEPENDS_ON].line ? f->fields[MIGR_FIELD_DEPENDS_ON].line
				: f->fields[MIGR_FIELD_REVISION_ID].line;
		case MIGR_PART_BRANCH_LABELS:
			return f->fields[MIGR_FIELD_BRANCH_LABELS].line ? f->fields[MIGR_FIELD_BRANCH_LABELS].line
				: f->fields[MIGR_FIELD_REVISION_ID].line;
		case MIGR_PART_UPGRADE:
			sec = MIGR_SECTION_UPGRADE;
			break;
		case MIGR_PART_DOWNGRADE:
			sec = MIGR_SECTION_DOWNGRADE;
			break;
		default:
			sec = MIGR_SECTION_FIRST_CHECK + (part - MIGR_PART_CHECK);
			skip = strlen("SELECT (");	/* migr_check_expression's wrapping */
			break;
	}
	if (sec < 0 || sec >= MIGR_NSECTIONS || f->marker_line[sec] == 0)
		return f->fields[MIGR_FIELD_REVISION_ID].line;

	/* a position (in characters) inside the parsed text: its line */
	pos = getinternalerrposition() - 1 - skip;
	if (getinternalerrposition() > 0 && pos >= 0)
	{
		const char *s = st->buf + f->sections[sec].off;
		size_t		len = f->sections[sec].len;
		size_t		i = 0;
		int			line = f->sections[sec].line;

		for (int c = 0; c < pos && i < len; c++)
		{
			if (s[i] == '\n')
				line++;
			i += pg_mblen(s + i);
		}
		return line;
	}
	return f->marker_line[sec];
}

static void
load_error_callback(void *arg)
{
	LoadState  *st = (LoadState *) arg;
	int			line = error_line(st);

	if (st->filename)
		errcontext("migration file \"%s\", line %d", st->filename, line);
	else
		errcontext("migration source, line %d", line);
}

/* The catalog must have the columns of 0.4.0 */
static void
require_catalog(const char *fn)
{
	if (migr_catalog_version() < 4)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s needs version 0.4.0 of the extension's SQL objects", fn),
				 errdetail("The library is newer than the catalog of this database."),
				 errhint("Run ALTER EXTENSION migr UPDATE.")));
}

static char *
span_str(const LoadState *st, const MigrSpan *span)
{
	return pnstrdup(st->buf + span->off, span->len);
}

/* A present field's value, or NULL */
static char *
field_str(const LoadState *st, MigrFileField k)
{
	return st->file.fields[k].line ? span_str(st, &st->file.fields[k]) : NULL;
}

static char *
section_str(const LoadState *st, MigrFileSection k)
{
	return st->file.marker_line[k] ? span_str(st, &st->file.sections[k]) : NULL;
}

/*
 * Parse a file's bytes into st (st->buf is a converted copy, palloc'd in
 * the current context), raising the parser's error with the SQLSTATE of its
 * kind.  st's callback must be on the error context stack.
 */
static void
parse_file(LoadState *st, const char *bytes, size_t len)
{
	/* a text value can be 1 GB, one byte more than palloc allows */
	char	   *buf = MemoryContextAllocHuge(CurrentMemoryContext, len + 1);
	size_t		n = migr_file_normalize_newlines(bytes, len, buf);
	MigrFileError err;

	buf[n] = '\0';
	st->buf = buf;
	st->line = 1;
	if (!migr_file_parse(buf, n, st->filename ? migr_file_basename(st->filename) : NULL,
						 &st->file, &err))
	{
		st->line = err.line;
		ereport(ERROR,
				(errcode(err.kind == MIGR_FILE_BAD_DATE ? ERRCODE_INVALID_DATETIME_FORMAT :
						 err.kind == MIGR_FILE_BAD_VALUE ? ERRCODE_INVALID_PARAMETER_VALUE :
						 ERRCODE_SYNTAX_ERROR),
				 errmsg_internal("%s", err.message),
				 err.detail[0] ? errdetail_internal("%s", err.detail) : 0,
				 err.hint[0] ? errhint("%s", err.hint) : 0));
	}
	st->parsed = true;
	st->line = st->file.fields[MIGR_FIELD_REVISION_ID].line;
}

/* The parsed file as migr.revision()'s arguments, validated */
static MigrNewRevision *
new_revision(LoadState *st)
{
	MigrFile   *f = &st->file;
	struct pg_tm tm;
	int			tz = 0;
	TimestampTz create_date;
	char	   *checks[MIGR_NCHECKS];

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = f->create_date.year;
	tm.tm_mon = f->create_date.month;
	tm.tm_mday = f->create_date.day;
	tm.tm_hour = f->create_date.hour;
	tm.tm_min = f->create_date.minute;
	tm.tm_sec = f->create_date.second;
	/* years 1 to 9999 are all in range */
	if (tm2timestamp(&tm, f->create_date.usec, &tz, &create_date) != 0)
		elog(ERROR, "create date of a migration file out of range");
	for (int i = 0; i < MIGR_NCHECKS; i++)
		checks[i] = section_str(st, MIGR_SECTION_FIRST_CHECK + i);

	migr_register_part = MIGR_PART_NONE;
	return migr_new_revision(field_str(st, MIGR_FIELD_REVISION_ID),
							 field_str(st, MIGR_FIELD_REVISES),
							 span_str(st, &f->message),
							 section_str(st, MIGR_SECTION_UPGRADE),
							 section_str(st, MIGR_SECTION_DOWNGRADE),
							 field_str(st, MIGR_FIELD_BRANCH_LABELS),
							 field_str(st, MIGR_FIELD_DEPENDS_ON),
							 create_date, checks, f->transactional);
}

/* The file a revision is registered from, stored with its row. */
static void
set_source(MigrNewRevision *rev, const char *base, const uint8 *sha)
{
	bytea	   *b = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

	SET_VARSIZE(b, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	memcpy(VARDATA(b), sha, PG_SHA256_DIGEST_LENGTH);
	rev->source_file = pstrdup(base);
	rev->source_sha256 = b;
}

/*
 * Record the file a revision was loaded from, unless it is recorded already
 * (a row version less, and no deferred trigger event).  Runs as the
 * extension owner.
 */
static void
record_source(const char *id, const char *base, const uint8 *sha)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[3] = {TEXTOID, TEXTOID, BYTEAOID};
	Datum		values[3];
	bytea	   *b = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	MigrOwnerSwitch sw;

	SET_VARSIZE(b, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	memcpy(VARDATA(b), sha, PG_SHA256_DIGEST_LENGTH);
	values[0] = CStringGetTextDatum(id);
	values[1] = CStringGetTextDatum(base);
	values[2] = PointerGetDatum(b);
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "UPDATE migr.migration SET source_file = $2, source_sha256 = $3"
				  " WHERE id OPERATOR(pg_catalog.=) $1"
				  "   AND (source_file OPERATOR(pg_catalog.=) $2"
				  "        AND source_sha256 OPERATOR(pg_catalog.=) $3) IS NOT TRUE",
				  3, types, values, NULL, false, 0, SPI_OK_UPDATE);
	migr_owner_end(&sw);
}

static void
sha256(const char *data, size_t len, uint8 *digest)
{
	pg_cryptohash_ctx *ctx = migr_sha256_begin();

	migr_sha256_add(ctx, data, len);
	migr_sha256_end(ctx, digest);
}

/*
 * Register a parsed file's revision, in *batch if there is one and it can
 * take the revision; if it cannot, what it holds is written first, and the
 * call goes on without it.
 */
static void
register_parsed(LoadState *st, MigrNewRevision *rev, bool defer, MigrRegBatch **batch,
				LoadResult *res)
{
	if (*batch && !migr_regbatch_takes(*batch, rev))
	{
		migr_regbatch_flush(*batch);
		*batch = NULL;
	}
	res->id = rev->id;
	res->result = migr_register(rev, true, defer, *batch);
	migr_register_part = MIGR_PART_NONE;
	res->revises_line = st->file.fields[MIGR_FIELD_REVISES].line;
	res->depends_line = st->file.fields[MIGR_FIELD_DEPENDS_ON].line
		? st->file.fields[MIGR_FIELD_DEPENDS_ON].line
		: st->file.fields[MIGR_FIELD_REVISION_ID].line;
}

/*
 * migr.load(source text, filename text DEFAULT NULL) RETURNS text
 *
 * Parses one file and registers its revision; with a file name, checks the
 * name rule and records the name and the sha256 of the bytes.
 */
Datum
migr_load(PG_FUNCTION_ARGS)
{
	text	   *source;
	char	   *filename = migr_text_arg(fcinfo, 1);
	LoadState	st;
	ErrorContextCallback cb;
	MigrNewRevision *rev;
	LoadResult	res;
	MemoryContext outer = CurrentMemoryContext;
	char	   *id;
	uint8		sha[PG_SHA256_DIGEST_LENGTH];
	MigrRegBatch *none = NULL;

	migr_body_refuse_reentry("migr.load()");
	migr_require_writable("migr.load()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source must not be null")));
	require_catalog("migr.load()");
	source = PG_GETARG_TEXT_PP(0);

	memset(&st, 0, sizeof(st));
	st.filename = filename;
	st.line = 1;
	cb.callback = load_error_callback;
	cb.arg = &st;
	cb.previous = error_context_stack;
	error_context_stack = &cb;

	parse_file(&st, VARDATA_ANY(source), VARSIZE_ANY_EXHDR(source));
	rev = new_revision(&st);
	if (filename)
	{
		sha256(VARDATA_ANY(source), VARSIZE_ANY_EXHDR(source), sha);
		set_source(rev, migr_file_basename(filename), sha);
	}
	migr_spi_connect();
	migr_lock_acquire();
	register_parsed(&st, rev, false, &none, &res);
	/* written with the row, unless the row was not written */
	if (filename && res.result == MIGR_IDENTICAL)
		record_source(res.id, migr_file_basename(filename), sha);
	id = MemoryContextStrdup(outer, res.id);
	migr_spi_finish();
	error_context_stack = cb.previous;
	PG_RETURN_TEXT_P(cstring_to_text(id));
}

/* file-name order: by last path component, bytewise */
static int
cmp_files(const void *a, const void *b)
{
	return strcmp(((const LoadFile *) a)->base, ((const LoadFile *) b)->base);
}

static int
cmp_sources(const void *a, const void *b)
{
	return strcmp((*(SourceEntry *const *) a)->file, (*(SourceEntry *const *) b)->file);
}

/* A sha256 given in hex (either case), into digest; false if it is not one */
static bool
parse_sha256_hex(const char *s, size_t len, uint8 *digest)
{
	if (len != 2 * PG_SHA256_DIGEST_LENGTH)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char) s[i]))
			return false;
	hex_decode(s, len, (char *) digest);
	return true;
}

/* A sha256 in lowercase hex, palloc'd */
static inline char *
sha256_hex(const uint8 *digest)
{
	return migr_hex(digest, PG_SHA256_DIGEST_LENGTH);
}

/*
 * The arrays as LoadFiles in file-name order, checked: one dimension, the
 * same length, no file name twice, no NULL file name, and a NULL source only
 * where sha256s gives the file's sha256 (22023).  sha256s is optional: a
 * NULL array gives no sha256 at all.
 */
static LoadFile *
read_arrays(FunctionCallInfo fcinfo, int *nfiles)
{
	ArrayType  *a[3];
	Datum	   *elems[3];
	bool	   *nulls[3];
	int			n[3];
	const char *argname[3] = {"sources", "filenames", "sha256s"};
	int			nargs = PG_NARGS() >= 3 && !PG_ARGISNULL(2) ? 3 : 2;
	LoadFile   *files;

	for (int k = 0; k < nargs; k++)
	{
		if (PG_ARGISNULL(k))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be null", argname[k])));
		a[k] = PG_GETARG_ARRAYTYPE_P(k);
		if (ARR_NDIM(a[k]) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must be a one-dimensional array", argname[k])));
		deconstruct_array(a[k], TEXTOID, -1, false, TYPALIGN_INT,
						  &elems[k], &nulls[k], &n[k]);
	}
	for (int k = 1; k < nargs; k++)
		if (n[0] != n[k])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sources and %s must have the same length", argname[k]),
					 errdetail("sources has %d elements and %s has %d.", n[0], argname[k], n[k])));
	files = palloc0(sizeof(LoadFile) * (n[0] + 1));
	for (int i = 0; i < n[0]; i++)
	{
		LoadFile   *f = &files[i];

		if (nulls[1][i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("filenames must not contain nulls"),
					 errdetail("Element %d is null.", i + 1)));
		f->name = TextDatumGetCString(elems[1][i]);
		f->base = migr_file_basename(f->name);
		if (nargs == 3 && !nulls[2][i])
		{
			text	   *t = DatumGetTextPP(elems[2][i]);

			if (!parse_sha256_hex(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), f->sha))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("element %d of sha256s is not a sha256", i + 1),
						 errdetail("A sha256 is 64 hexadecimal digits, as sha256sum prints it.")));
			f->has_sha = true;
		}
		if (nulls[0][i] && !f->has_sha)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sources must not contain nulls"),
					 errdetail("Element %d is null, and sha256s gives no sha256 for it.", i + 1),
					 errhint("A file may be sent without its content only with the sha256 of its bytes.")));
		f->source = nulls[0][i] ? NULL : DatumGetTextPP(elems[0][i]);
	}
	qsort(files, n[0], sizeof(LoadFile), cmp_files);
	for (int i = 1; i < n[0]; i++)
		if (strcmp(files[i - 1].base, files[i].base) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("file name \"%s\" appears twice in filenames", files[i].base),
					 errdetail("\"%s\" and \"%s\" name the same file: only the last path component counts.",
							   files[i - 1].name, files[i].name)));
	*nfiles = n[0];
	return files;
}

/* read_sources()' hash table and the context its entries live in */
typedef struct SourceTable
{
	HTAB	   *h;
	MemoryContext cxt;
} SourceTable;

/*
 * Whether a recorded file counts: a name migr.load() could have recorded
 * (none is that long) and a whole sha256.  The hash table and the manifest
 * take the same files.
 */
static bool
source_usable(text *file, bytea *sha)
{
	CHECK_FOR_INTERRUPTS();
	return VARSIZE_ANY_EXHDR(file) < SOURCE_KEY_LEN &&
		VARSIZE_ANY_EXHDR(sha) == PG_SHA256_DIGEST_LENGTH;
}

/* Enters one recorded file into the hash table of read_sources() */
static void
add_source(text *file, text *id, bytea *sha, void *arg)
{
	SourceTable *t = arg;
	SourceEntry *e;
	bool		found;
	char		key[SOURCE_KEY_LEN];

	if (!source_usable(file, sha))
		return;
	memcpy(key, VARDATA_ANY(file), VARSIZE_ANY_EXHDR(file));
	key[VARSIZE_ANY_EXHDR(file)] = '\0';
	e = hash_search(t->h, key, HASH_ENTER, &found);
	if (found)
		return;					/* two revisions claim it: parse the file */
	e->id = MemoryContextAlloc(t->cxt, VARSIZE_ANY_EXHDR(id) + 1);
	memcpy(e->id, VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id));
	e->id[VARSIZE_ANY_EXHDR(id)] = '\0';
	memcpy(e->sha, VARDATA_ANY(sha), PG_SHA256_DIGEST_LENGTH);
	e->seen = false;
}

/*
 * Calls fn for every revision recorded as loaded from a file: a scan of
 * migr.migration (checkread.c), else one query.
 */
static void
scan_sources(MigrSourceFn fn, void *arg)
{
	int			rc;

	if (migr_read_sources_direct(fn, arg))
		return;
	rc = SPI_execute("SELECT m.source_file, m.id, m.source_sha256 FROM migr.migration m"
					 " WHERE m.source_file IS NOT NULL AND m.source_sha256 IS NOT NULL",
					 true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "migr could not read the recorded source files: %s",
			 SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		fn(DatumGetTextPP(SPI_getbinval(tup, desc, 1, &isnull)),
		   DatumGetTextPP(SPI_getbinval(tup, desc, 2, &isnull)),
		   DatumGetByteaPP(SPI_getbinval(tup, desc, 3, &isnull)), arg);
	}
}

/*
 * Every revision recorded as loaded from a file, by file name, in a hash
 * table allocated in "into".
 */
static HTAB *
read_sources(MemoryContext into)
{
	HASHCTL		ctl;
	SourceTable t;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = SOURCE_KEY_LEN;
	ctl.entrysize = sizeof(SourceEntry);
	ctl.hcxt = into;
	t.h = hash_create("migr source files", 1024, &ctl,
					  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	t.cxt = into;
	scan_sources(add_source, &t);
	return t.h;
}

/* The revision recorded as loaded from f's file name, or NULL */
static SourceEntry *
source_of(HTAB *sources, const LoadFile *f)
{
	return strlen(f->base) < SOURCE_KEY_LEN
		? hash_search(sources, f->base, HASH_FIND, NULL) : NULL;
}

/*
 * The files sent as their sha256 alone that are not recorded with it, as
 * "needed" rows; false if there are none.
 */
static bool
put_needed(ReturnSetInfo *rsinfo, LoadFile *files, int n, HTAB *sources)
{
	bool		any = false;

	for (int i = 0; i < n; i++)
	{
		LoadFile   *f = &files[i];
		SourceEntry *se;
		Datum		values[4];
		bool		nulls[4] = {false, true, false, false};

		if (f->source != NULL)
			continue;
		se = source_of(sources, f);
		if (se && memcmp(se->sha, f->sha, sizeof(f->sha)) == 0)
			continue;
		values[0] = CStringGetTextDatum(f->name);
		values[2] = CStringGetTextDatum("needed");
		values[3] = CStringGetTextDatum(sha256_hex(f->sha));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		any = true;
	}
	return any;
}

/* Append the names of a comma-separated header field to *names */
static void
add_field_names(const char *buf, const MigrSpan *field, char ***names, int *n, int *cap)
{
	const char *p = buf + field->off;
	const char *end = p + field->len;

	if (field->line == 0)
		return;
	while (p < end)
	{
		const char *start = p;
		const char *stop;

		while (p < end && *p != ',')
			p++;
		stop = p;
		while (start < stop && isspace((unsigned char) *start))
			start++;
		while (stop > start && isspace((unsigned char) stop[-1]))
			stop--;
		if (stop > start && stop - start <= MIGR_MAX_ID_LEN)
		{
			if (*n >= *cap)
			{
				*cap *= 2;
				*names = repalloc(*names, sizeof(char *) * *cap);
			}
			(*names)[(*n)++] = pnstrdup(start, stop - start);
		}
		p++;
	}
}

/*
 * A registration batch (regbatch.c) for files from..n-1, which knows what
 * the catalog says about the names their headers give, read in one query;
 * NULL when fewer than two of them are to be registered, for which one by
 * one costs no more.  The headers are read without raising any error: the
 * files are parsed again, in order, to register them, and an error is
 * raised then, at its file.  The batch is allocated under cxt's parent.
 */
static MigrRegBatch *
begin_batch(LoadFile *files, int from, int n, HTAB *sources, MemoryContext cxt)
{
	MemoryContext scan = AllocSetContextCreate(CurrentMemoryContext, "migr load scan",
											   ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(scan);
	int			cap = 64;
	char	  **names = palloc(sizeof(char *) * cap);
	int			nnames = 0;
	int			nfiles = 0;
	MigrRegBatch *batch = NULL;

	for (int i = from; i < n; i++)
	{
		LoadFile   *f = &files[i];
		const char *bytes;
		size_t		len;
		SourceEntry *se;
		char	   *buf;
		MigrFile	mf;
		MigrFileError err;

		CHECK_FOR_INTERRUPTS();
		if (f->source == NULL)
			continue;			/* recorded with its sha256: unchanged */
		bytes = VARDATA_ANY(f->source);
		len = VARSIZE_ANY_EXHDR(f->source);
		se = source_of(sources, f);
		if (se && memcmp(se->sha, f->sha, sizeof(f->sha)) == 0)
			continue;			/* unchanged: not registered */
		nfiles++;
		buf = MemoryContextAllocHuge(scan, len + 1);
		buf[migr_file_normalize_newlines(bytes, len, buf)] = '\0';
		if (!migr_file_parse(buf, strlen(buf), migr_file_basename(f->name), &mf, &err))
			continue;
		add_field_names(buf, &mf.fields[MIGR_FIELD_REVISION_ID], &names, &nnames, &cap);
		add_field_names(buf, &mf.fields[MIGR_FIELD_REVISES], &names, &nnames, &cap);
		add_field_names(buf, &mf.fields[MIGR_FIELD_DEPENDS_ON], &names, &nnames, &cap);
		add_field_names(buf, &mf.fields[MIGR_FIELD_BRANCH_LABELS], &names, &nnames, &cap);
		pfree(buf);
	}
	if (nfiles >= 2)
	{
		batch = migr_regbatch_begin(MemoryContextGetParent(cxt));
		migr_regbatch_prefetch(batch, names, nnames);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(scan);
	return batch;
}

/*
 * After registering in any order: a parent or dependency that no
 * registration named is refused now, at the line of the file that names
 * it, rather than at commit without one.  Only outside a transaction
 * block; inside one, a later statement may still register it.
 */
static void
check_references(LoadFile *files, int n, LoadState *st)
{
	char	  **ids = palloc(sizeof(char *) * (n + 1));
	int		   *which = palloc(sizeof(int) * (n + 1));
	int			m = 0;
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1];
	int			rc;

	for (int i = 0; i < n; i++)
		if (strcmp(files[i].status, "registered") == 0 || strcmp(files[i].status, "replaced") == 0)
		{
			which[m] = i;
			ids[m++] = files[i].id;
		}
	if (m == 0)
		return;
	values[0] = migr_text_array(ids, m);
	/* not read-only: that would read with the statement's snapshot */
	rc = SPI_execute_with_args("SELECT u.o, x.kind OPERATOR(pg_catalog.=) 'p', x.target"
							   "  FROM pg_catalog.unnest($1) WITH ORDINALITY AS u(id, o)"
							   "  JOIN migr.migration_edge x ON x.revision OPERATOR(pg_catalog.=) u.id"
							   " WHERE NOT EXISTS (SELECT 1 FROM migr.migration m"
							   "                    WHERE m.id OPERATOR(pg_catalog.=) x.target)"
							   " ORDER BY u.o, x.kind DESC, x.ord LIMIT 1",
							   1, types, values, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "migr could not check the references of loaded files: %s",
			 SPI_result_code_string(rc));
	if (SPI_processed > 0)
	{
		bool		isnull;
		int64		o = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		bool		parent = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		char	   *target = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
		LoadFile   *f = &files[which[o - 1]];

		st->filename = f->name;
		st->parsed = false;
		st->line = parent ? f->revises_line : f->depends_line;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("revision \"%s\" %s \"%s\", which is not registered",
						f->id, parent ? "revises" : "depends on", target),
				 errdetail("No revision with that id was registered before, and no file of this call declares it."),
				 errhint("Add the file of that revision, or leave the reference out.")));
	}
}

/*
 * The sha256 of every file sent with its bytes, into its sha, once: the
 * batch's look-ahead and the registration both use it.  One given in
 * sha256s must be that of the bytes (22023).  st's callback names the file.
 */
static void
hash_sources(LoadFile *files, int n, LoadState *st)
{
	for (int i = 0; i < n; i++)
	{
		LoadFile   *f = &files[i];
		uint8		sha[PG_SHA256_DIGEST_LENGTH];

		CHECK_FOR_INTERRUPTS();
		if (f->source == NULL)
			continue;
		sha256(VARDATA_ANY(f->source), VARSIZE_ANY_EXHDR(f->source), sha);
		if (f->has_sha && memcmp(sha, f->sha, sizeof(sha)) != 0)
		{
			st->filename = f->name;
			st->line = 1;
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the sha256 sent for migration file \"%s\" is not that of its content", f->base),
					 errdetail("The content sent has sha256 %s; sha256s gives %s.",
							   sha256_hex(sha), sha256_hex(f->sha))));
		}
		memcpy(f->sha, sha, sizeof(sha));
	}
}

/* The revisions recorded as loaded from a file, in file-name order */
static SourceEntry **
sorted_sources(HTAB *sources, long *n)
{
	SourceEntry **all = palloc(sizeof(SourceEntry *) * (hash_get_num_entries(sources) + 1));
	HASH_SEQ_STATUS seq;
	SourceEntry *se;

	*n = 0;
	hash_seq_init(&seq, sources);
	while ((se = hash_seq_search(&seq)) != NULL)
		all[(*n)++] = se;
	qsort(all, *n, sizeof(SourceEntry *), cmp_sources);
	return all;
}

/*
 * The files recorded as loaded, for the manifest: in scan order (pos), so
 * that of two revisions claiming one file name the first counts, as in
 * read_sources()' hash table.  No hash table: a no-op deploy with a stat
 * cache asks for nothing else, and the rows mostly come in file-name order
 * (the order they were loaded in), which qsort finds sorted at once.
 */
typedef struct ManifestFile
{
	char	   *file;
	int			pos;
	uint8		sha[PG_SHA256_DIGEST_LENGTH];
} ManifestFile;

typedef struct ManifestFiles
{
	ManifestFile *f;
	int			n;
	int			cap;
} ManifestFiles;

/* Appends one recorded file */
static void
add_manifest_file(text *file, text *id, bytea *sha, void *arg)
{
	ManifestFiles *m = arg;
	ManifestFile *e;

	if (!source_usable(file, sha))
		return;
	if (m->n == m->cap)
	{
		m->cap *= 2;
		m->f = repalloc(m->f, sizeof(ManifestFile) * m->cap);
	}
	e = &m->f[m->n];
	e->file = text_to_cstring(file);
	e->pos = m->n++;
	memcpy(e->sha, VARDATA_ANY(sha), PG_SHA256_DIGEST_LENGTH);
}

static int
cmp_manifest_files(const void *a, const void *b)
{
	const ManifestFile *x = a;
	const ManifestFile *y = b;
	int			c = strcmp(x->file, y->file);

	return c != 0 ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/*
 * The manifest of the files recorded as loaded: the sha256 of one line
 * "name TAB sha256-in-hex LF" per file, in file-name order (bytewise).
 */
static void
recorded_manifest(uint8 *digest)
{
	ManifestFiles m;
	pg_cryptohash_ctx *ctx;
	char		line[SOURCE_KEY_LEN + 2 * PG_SHA256_DIGEST_LENGTH + 2];

	m.cap = 256;
	m.n = 0;
	m.f = palloc(sizeof(ManifestFile) * m.cap);
	scan_sources(add_manifest_file, &m);
	qsort(m.f, m.n, sizeof(ManifestFile), cmp_manifest_files);
	ctx = migr_sha256_begin();
	for (int i = 0; i < m.n; i++)
	{
		size_t		len = strlen(m.f[i].file);

		CHECK_FOR_INTERRUPTS();
		if (i > 0 && strcmp(m.f[i - 1].file, m.f[i].file) == 0)
			continue;			/* a later claim of the same file */
		memcpy(line, m.f[i].file, len);
		line[len++] = '\t';
		hex_encode((const char *) m.f[i].sha, PG_SHA256_DIGEST_LENGTH, line + len);
		len += 2 * PG_SHA256_DIGEST_LENGTH;
		line[len++] = '\n';
		migr_sha256_add(ctx, line, len);
	}
	migr_sha256_end(ctx, digest);
}

/*
 * migr.load_all() with a manifest: one row without a file name, "unchanged"
 * when the manifest is that of the files recorded as loaded (so the files
 * of the directory are exactly those, unchanged), else "needed"; its sha256
 * is the manifest's.
 */
static void
put_manifest(ReturnSetInfo *rsinfo, const uint8 *manifest)
{
	uint8		recorded[PG_SHA256_DIGEST_LENGTH];
	Datum		values[4];
	bool		nulls[4] = {true, true, false, false};

	recorded_manifest(recorded);
	values[2] = CStringGetTextDatum(memcmp(recorded, manifest, sizeof(recorded)) == 0
									? "unchanged" : "needed");
	values[3] = CStringGetTextDatum(sha256_hex(manifest));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * migr.load_all(sources text[], filenames text[], sha256s text[] DEFAULT NULL,
 *				 manifest text DEFAULT NULL)
 *	 RETURNS TABLE (filename text, revision text, status text, sha256 text)
 *
 * Loads many files in file-name order, in the caller's transaction: all
 * or nothing.  A file whose name and sha256 are those recorded for a
 * revision is "unchanged" without being parsed; the others are parsed and
 * registered, and their name and sha256 recorded.  Then one "missing" row
 * per revision recorded as loaded from a file that is not among these.
 *
 * A client that knows a file's sha256 without reading it (the migr
 * command's stat cache, docs/cli.md) sends NULL for its content and the
 * sha256 in sha256s.  If any file so sent is not recorded with that sha256,
 * nothing is loaded, and the only rows are one "needed" row for each such
 * file: the client sends their content.  A client that knows every file
 * unchanged may send only their manifest (recorded_manifest()), with empty
 * arrays; the answer is then one row without a file name, "unchanged" or
 * "needed" (put_manifest()).
 */
Datum
migr_load_all(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext per_file;
	LoadFile   *files;
	int			n;
	HTAB	   *sources;
	HTAB	   *ids;
	HASHCTL		ctl;
	LoadState	st;
	ErrorContextCallback cb;
	SourceEntry *se;
	SourceEntry **missing;
	long		nsources;
	int			nmissing = 0;
	bool		changed = false;
	bool		has_manifest = false;
	MigrRegBatch *batch = NULL;
	bool		batch_tried = false;
	uint8		manifest[PG_SHA256_DIGEST_LENGTH];

	migr_body_refuse_reentry("migr.load_all()");
	migr_require_writable("migr.load_all()");
	require_catalog("migr.load_all()");
	files = read_arrays(fcinfo, &n);
	if (PG_NARGS() >= 4 && !PG_ARGISNULL(3))
	{
		text	   *t = PG_GETARG_TEXT_PP(3);

		if (!parse_sha256_hex(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), manifest))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("manifest is not a sha256"),
					 errdetail("A sha256 is 64 hexadecimal digits, as sha256sum prints it.")));
		if (n > 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a manifest stands for every file: sources and filenames must be empty"),
					 errdetail("filenames has %d elements.", n)));
		has_manifest = true;
	}
	InitMaterializedSRF(fcinfo, 0);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = MIGR_MAX_ID_LEN + 1;
	ctl.entrysize = sizeof(IdEntry);
	ctl.hcxt = outer;
	ids = hash_create("migr loaded revisions", Max(n, 16), &ctl,
					  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	migr_spi_connect();
	migr_lock_acquire();
	if (has_manifest)
	{
		put_manifest(rsinfo, manifest);
		migr_spi_finish();
		return (Datum) 0;
	}
	sources = read_sources(outer);
	if (put_needed(rsinfo, files, n, sources))
	{
		/* nothing is loaded: the client sends those files' content */
		migr_spi_finish();
		return (Datum) 0;
	}
	per_file = AllocSetContextCreate(CurrentMemoryContext, "migr load file",
									 ALLOCSET_DEFAULT_SIZES);

	memset(&st, 0, sizeof(st));
	cb.callback = load_error_callback;
	cb.arg = &st;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	hash_sources(files, n, &st);

	for (int i = 0; i < n; i++)
	{
		LoadFile   *f = &files[i];
		MemoryContext old;
		IdEntry    *ie;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		memset(&st, 0, sizeof(st));
		st.filename = f->name;
		st.line = 1;
		old = MemoryContextSwitchTo(per_file);

		se = source_of(sources, f);
		/* a file sent as its sha256 alone is recorded with it (put_needed) */
		if (se && memcmp(se->sha, f->sha, sizeof(f->sha)) == 0)
		{
			f->id = se->id;
			f->status = "unchanged";
		}
		else
		{
			MigrNewRevision *rev;
			LoadResult	res;

			if (!batch_tried)
			{
				batch_tried = true;
				batch = begin_batch(files, i, n, sources, per_file);
			}
			parse_file(&st, VARDATA_ANY(f->source), VARSIZE_ANY_EXHDR(f->source));
			rev = new_revision(&st);
			ie = hash_search(ids, rev->id, HASH_FIND, NULL);
			if (ie)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("revision \"%s\" is declared by two files", rev->id),
						 errdetail("\"%s\" declares it too.", files[ie->file].name),
						 errhint("Every revision has its own file.")));
			set_source(rev, f->base, f->sha);
			register_parsed(&st, rev, true, &batch, &res);
			/* written with the row, unless the row was not written */
			if (res.result == MIGR_IDENTICAL)
				record_source(res.id, f->base, f->sha);
			f->id = MemoryContextStrdup(outer, res.id);
			f->status = res.result == MIGR_REGISTERED ? "registered" :
				res.result == MIGR_REPLACED ? "replaced" : "unchanged";
			f->revises_line = res.revises_line;
			f->depends_line = res.depends_line;
			changed |= res.result != MIGR_IDENTICAL;
		}
		ie = hash_search(ids, f->id, HASH_ENTER, &found);
		if (found)
		{
			/* an unchanged file names a revision a file before it declared */
			st.line = 1;
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("revision \"%s\" is declared by two files", f->id),
					 errdetail("\"%s\" declares it too.", files[ie->file].name),
					 errhint("Every revision has its own file.")));
		}
		ie->file = i;
		MemoryContextSwitchTo(old);
		MemoryContextReset(per_file);
	}

	if (batch)
	{
		/* an error here would be about no file in particular */
		error_context_stack = cb.previous;
		migr_regbatch_flush(batch);
		error_context_stack = &cb;
	}
	if (changed && !IsTransactionBlock())
		check_references(files, n, &st);
	error_context_stack = cb.previous;

	/* the rows: the files in name order, then what is missing */
	for (int i = 0; i < n; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(files[i].name);
		values[1] = CStringGetTextDatum(files[i].id);
		values[2] = CStringGetTextDatum(files[i].status);
		values[3] = CStringGetTextDatum(sha256_hex(files[i].sha));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	/* sorted, so the missing ones come in file-name order */
	missing = sorted_sources(sources, &nsources);
	for (long i = 0; i < nsources; i++)
		if (hash_search(ids, missing[i]->id, HASH_FIND, NULL) == NULL)
			missing[nmissing++] = missing[i];
	for (int i = 0; i < nmissing; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(missing[i]->file);
		values[1] = CStringGetTextDatum(missing[i]->id);
		values[2] = CStringGetTextDatum("missing");
		values[3] = CStringGetTextDatum(sha256_hex(missing[i]->sha));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	migr_spi_finish();
	return (Datum) 0;
}
