/*-------------------------------------------------------------------------
 * migrfile_fuzz.c
 *	  libFuzzer target for the migration file parser (src/migrfile.c).
 *	  Built and run by test/fuzz/run.sh; no server needed.
 *
 *	  The input is a file, or a file name, a NUL byte and a file.  Beyond
 *	  "no crash" (with ASan and UBSan) it checks what load.c relies on:
 *	  spans inside the buffer and on the lines they claim, section texts
 *	  without blank lines at either end, errors with a line in the file and
 *	  texts in PostgreSQL's style; the same result twice; the CRLF form of
 *	  the file converting back to the same bytes; a final newline changing
 *	  nothing; and a canonical file written from the result parsing to the
 *	  same content.  A broken invariant aborts, which libFuzzer reports.
 *
 * IDENTIFICATION
 *	  test/fuzz/migrfile_fuzz.c
 *-------------------------------------------------------------------------
 */
#include "migrfile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) \
	do { if (!(cond)) { fprintf(stderr, "invariant failed: %s (line %d)\n", #cond, __LINE__); abort(); } } while (0)

static int
lines_before(const char *buf, size_t start, size_t off)
{
	int			n = 1;

	for (size_t i = start; i < off; i++)
		n += buf[i] == '\n';
	return n;
}

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v'))
			return 0;
	return 1;
}

static void
check_span(const char *buf, size_t len, size_t start, const MigrFile *f,
		   const MigrSpan *s)
{
	CHECK(s->off <= len && s->len <= len - s->off);
	CHECK(s->line >= 1 && s->line <= f->nlines);
	CHECK(s->line == lines_before(buf, start, s->off));
	CHECK(memchr(buf + s->off, '\n', s->len) == NULL || s->len > 0);
}

static void
check_text(const char *t, size_t n)
{
	const char *nl;

	/* the ends of a text */
	CHECK(n > 0);
	nl = memchr(t, '\n', n);
	CHECK(!blank(t, nl ? (size_t) (nl - t) : n));
	CHECK(t[n - 1] != '\n');
	for (nl = t + n; nl > t && nl[-1] != '\n'; nl--)
		;
	CHECK(!blank(nl, (size_t) (t + n - nl)));
}

static void
check_style(const MigrFileError *e)
{
	size_t		n = strlen(e->message);

	CHECK(n > 0 && n < sizeof(e->message) - 1);
	CHECK(e->message[n - 1] != '.');
	CHECK(!(e->message[0] >= 'A' && e->message[0] <= 'Z') ||
		  strncmp(e->message, "SQL ", 4) == 0);
	n = strlen(e->detail);
	CHECK(n == 0 || (e->detail[n - 1] == '.' && n < sizeof(e->detail) - 1));
	n = strlen(e->hint);
	CHECK(n == 0 || (e->hint[n - 1] == '.' && n < sizeof(e->hint) - 1));
}

/* Whether two results hold the same content (spans compared by bytes) */
static int
same_content(const char *b1, const MigrFile *f1, const char *b2, const MigrFile *f2)
{
#define SAME_SPAN(a, b) ((a).line == 0 ? (b).line == 0 : \
	((b).line != 0 && (a).len == (b).len && memcmp(b1 + (a).off, b2 + (b).off, (a).len) == 0))
	if (!SAME_SPAN(f1->message, f2->message))
		return 0;
	for (int k = 0; k < MIGR_NFIELDS; k++)
		if (!SAME_SPAN(f1->fields[k], f2->fields[k]))
			return 0;
	for (int k = 0; k < MIGR_NSECTIONS; k++)
		if (!SAME_SPAN(f1->sections[k], f2->sections[k]))
			return 0;
#undef SAME_SPAN
	return memcmp(&f1->create_date, &f2->create_date, sizeof(MigrFileDate)) == 0 &&
		f1->transactional == f2->transactional;
}

static void
append(char **out, size_t *n, const char *s, size_t len)
{
	memcpy(*out + *n, s, len);
	*n += len;
}

/* The file written again from its parts, canonically */
static char *
canonical(const char *buf, const MigrFile *f, size_t *outlen)
{
	size_t		cap = 64;
	char	   *out;
	size_t		n = 0;

	cap += f->message.len;
	for (int k = 0; k < MIGR_NFIELDS; k++)
		cap += f->fields[k].len + 32;
	for (int k = 0; k < MIGR_NSECTIONS; k++)
		cap += f->sections[k].len + 32;
	out = malloc(cap);
	append(&out, &n, "-- ", 3);
	append(&out, &n, buf + f->message.off, f->message.len);
	append(&out, &n, "\n", 1);
	for (int k = MIGR_NFIELDS - 1; k >= 0; k--)	/* another order */
		if (f->fields[k].line)
		{
			append(&out, &n, "-- ", 3);
			append(&out, &n, migr_file_field_names[k], strlen(migr_file_field_names[k]));
			append(&out, &n, ": ", 2);
			append(&out, &n, buf + f->fields[k].off, f->fields[k].len);
			append(&out, &n, "\n", 1);
		}
	append(&out, &n, "\n-- just a comment\n", 19);
	for (int k = MIGR_NSECTIONS - 1; k >= 0; k--)
		if (f->marker_line[k])
		{
			append(&out, &n, "\n--  migr:", 10);
			append(&out, &n, migr_file_section_names[k], strlen(migr_file_section_names[k]));
			append(&out, &n, " \n\n", 3);
			append(&out, &n, buf + f->sections[k].off, f->sections[k].len);
			append(&out, &n, "\n", 1);
		}
	*outlen = n;
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	char	   *name = NULL;
	const char *file = (const char *) data;
	size_t		len = size;
	char	   *lf;
	char	   *crlf;
	size_t		n;
	size_t		n2;
	size_t		start;
	MigrFile	f,
				f2;
	MigrFileError e,
				e2;
	int			ok;

	if (nul)
	{
		size_t		nn = (size_t) (nul - (const char *) data);

		name = malloc(nn + 1);
		memcpy(name, data, nn + 1);
		file = nul + 1;
		len = size - (size_t) (nul - (const char *) data) - 1;
	}

	/* the LF form; converting it again changes nothing */
	lf = malloc(len + 2);
	memcpy(lf, file, len);
	n = migr_file_normalize_newlines(lf, len, lf);
	CHECK(n <= len);
	CHECK(migr_file_normalize_newlines(lf, n, lf) == n);

	/* the CRLF form converts back to the same bytes */
	crlf = malloc(2 * n + 1);
	n2 = 0;
	for (size_t i = 0; i < n; i++)
	{
		if (lf[i] == '\n')
			crlf[n2++] = '\r';
		crlf[n2++] = lf[i];
	}
	n2 = migr_file_normalize_newlines(crlf, n2, crlf);
	CHECK(n2 == n && memcmp(crlf, lf, n) == 0);

	ok = migr_file_parse(lf, n, name, &f, &e);
	start = n >= 3 && memcmp(lf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	if (ok)
	{
		CHECK(e.kind == MIGR_FILE_OK);
		check_span(lf, n, start, &f, &f.message);
		CHECK(f.message.len > 0);
		for (int k = 0; k < MIGR_NFIELDS; k++)
			if (f.fields[k].line)
				check_span(lf, n, start, &f, &f.fields[k]);
			else
				CHECK(f.fields[k].len == 0 && k > MIGR_FIELD_CREATE_DATE);
		for (int k = 0; k < MIGR_NSECTIONS; k++)
			if (f.marker_line[k])
			{
				check_span(lf, n, start, &f, &f.sections[k]);
				CHECK(f.sections[k].line > f.marker_line[k]);
				check_text(lf + f.sections[k].off, f.sections[k].len);
			}
			else
				CHECK(f.sections[k].line == 0 && f.sections[k].len == 0);
		CHECK(f.marker_line[MIGR_SECTION_UPGRADE] > 0);
		CHECK(f.create_date.month >= 1 && f.create_date.month <= 12);
		CHECK(f.create_date.day >= 1 && f.create_date.day <= 31);
		CHECK(f.create_date.hour <= 23 && f.create_date.minute <= 59 &&
			  f.create_date.second <= 59 && f.create_date.usec <= 999999);
	}
	else
	{
		CHECK(e.kind != MIGR_FILE_OK);
		CHECK(e.line >= 1 && e.line <= (f.nlines > 0 ? f.nlines : 1));
		check_style(&e);
	}

	/* the same again */
	CHECK(migr_file_parse(lf, n, name, &f2, &e2) == ok);
	CHECK(memcmp(&f, &f2, sizeof(f)) == 0 && memcmp(&e, &e2, sizeof(e)) == 0);

	/* a final newline changes nothing */
	if (n > 0 && lf[n - 1] != '\n')
	{
		lf[n] = '\n';
		CHECK(migr_file_parse(lf, n + 1, name, &f2, &e2) == ok);
		if (ok)
			CHECK(same_content(lf, &f, lf, &f2) && f2.nlines == f.nlines);
		else
			CHECK(e2.kind == e.kind && e2.line == e.line);
	}

	/* written again canonically, it reads the same */
	if (ok)
	{
		size_t		cn;
		char	   *c = canonical(lf, &f, &cn);

		CHECK(migr_file_parse(c, cn, name, &f2, &e2));
		CHECK(same_content(lf, &f, c, &f2));
		free(c);
	}

	free(lf);
	free(crlf);
	free(name);
	return 0;
}
