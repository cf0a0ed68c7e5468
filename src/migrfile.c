/*-------------------------------------------------------------------------
 * migrfile.c
 *	  The migration file parser (docs/files.md): the header's message and
 *	  fields, the sections between markers, Create Date and the file-name
 *	  rule.  It finds markers with a small SQL lexer (quotes, E'' strings,
 *	  quoted identifiers, dollar quotes, nested block comments, line
 *	  comments), so a marker inside quoted text or a comment is SQL.
 *
 *	  Plain C99 and libc only: no server headers, no palloc, no ereport.
 *	  The caller owns the buffer; results are spans into it, errors a kind,
 *	  a line and texts in fixed buffers, which load.c raises with the
 *	  SQLSTATE of the kind.  test/fuzz compiles this file on its own.
 *
 * IDENTIFICATION
 *	  src/migrfile.c
 *-------------------------------------------------------------------------
 */
#include "migrfile.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const migr_file_field_names[MIGR_NFIELDS] = {
	"Revision ID", "Revises", "Create Date", "Branch Labels", "Depends On",
	"Transactional"
};

const char *const migr_file_section_names[MIGR_NSECTIONS] = {
	"upgrade", "downgrade", "skip_if", "requires", "verify", "verify_down"
};

/* Where the lexer is, inside a section's SQL */
typedef enum LexState
{
	LEX_NORMAL,
	LEX_QUOTE,					/* '...' (standard_conforming_strings on) */
	LEX_ESTRING,				/* E'...': backslash escapes */
	LEX_IDENT,					/* "..." */
	LEX_DOLLAR,					/* $tag$...$tag$ */
	LEX_BLOCK,					/* / * ... * / , nested */
	LEX_LINE					/* -- to the end of the line */
} LexState;

typedef struct Parser
{
	const char *buf;
	size_t		len;
	MigrFile   *f;
	MigrFileError *err;
	/* lexer */
	LexState	state;
	int			open_line;		/* where the current quote or comment opened */
	int			depth;			/* block comment nesting */
	bool		in_ident;		/* last byte continued an identifier */
	bool		escape;			/* E'' string: the next byte is escaped */
	size_t		tag_off;		/* dollar quote tag, with both $ */
	size_t		tag_len;
} Parser;

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* PostgreSQL's ident_start and dolq_start: letters, _, bytes >= 0x80 */
static bool
is_ident_start(char c)
{
	return is_alpha(c) || c == '_' || (unsigned char) c >= 0x80;
}

/* ident_cont adds digits and $; dolq_cont adds digits only */
static bool
is_ident_cont(char c)
{
	return is_ident_start(c) || is_digit(c) || c == '$';
}

static bool
is_dolq_cont(char c)
{
	return is_ident_start(c) || is_digit(c);
}

/*
 * Copy s[0..n) into dst (room for max + 4 bytes), cut to at most max bytes
 * with "..." when longer.  The cut is made only before an ASCII byte, which
 * in every server encoding ends the character before it, so the copy never
 * ends in part of a multibyte character.
 */
static void
clip(char *dst, const char *s, size_t n, size_t max)
{
	size_t		k = n;

	if (n > max)
	{
		k = max;
		while (k > 0 && (unsigned char) s[k] >= 0x80)
			k--;
	}
	memcpy(dst, s, k);
	if (k < n)
		memcpy(dst + k, "...", 4);
	else
		dst[k] = '\0';
}

/* Record an error; returns false so that callers can "return fail(...)". */
static bool
fail(Parser *p, MigrFileErrorKind kind, int line, const char *hint,
	 const char *detail, const char *msg_fmt,...)
	__attribute__((format(printf, 6, 7)));

static bool
fail(Parser *p, MigrFileErrorKind kind, int line, const char *hint,
	 const char *detail, const char *msg_fmt,...)
{
	va_list		ap;

	p->err->kind = kind;
	p->err->line = line;
	va_start(ap, msg_fmt);
	vsnprintf(p->err->message, sizeof(p->err->message), msg_fmt, ap);
	va_end(ap);
	snprintf(p->err->detail, sizeof(p->err->detail), "%s", detail ? detail : "");
	snprintf(p->err->hint, sizeof(p->err->hint), "%s", hint ? hint : "");
	return false;
}

/*
 * migr_file_normalize_newlines
 *		Copy len bytes from in to out (which may be in itself, and has room
 *		for len bytes), dropping the CRs that end a line: every CR directly
 *		before an LF, or before other CRs before an LF.  Returns the new
 *		length.  A file with CRLF line endings thus reads exactly as the
 *		file with LF endings, and converting twice changes nothing.
 */
size_t
migr_file_normalize_newlines(const char *in, size_t len, char *out)
{
	size_t		n = 0;

	for (size_t i = 0; i < len; i++)
	{
		if (in[i] == '\n')
			while (n > 0 && out[n - 1] == '\r')
				n--;
		out[n++] = in[i];
	}
	return n;
}

/* The last component of a path: what follows its last "/". */
const char *
migr_file_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The end of the line starting at pos: the index of its LF, or len. */
static size_t
line_end(const Parser *p, size_t pos)
{
	const char *nl = memchr(p->buf + pos, '\n', p->len - pos);

	return nl ? (size_t) (nl - p->buf) : p->len;
}

static bool
is_blank(const char *s, const char *e)
{
	for (; s < e; s++)
		if (!is_ws(*s))
			return false;
	return true;
}

/* s..e without leading and trailing white space */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && is_ws(**s))
		(*s)++;
	while (*e > *s && is_ws((*e)[-1]))
		(*e)--;
}

/* Whether the line starts like a marker: blanks, "--", blanks, "migr:" */
static bool
is_marker_like(const char *s, const char *e, const char **after)
{
	while (s < e && is_ws(*s))
		s++;
	if (e - s < 2 || s[0] != '-' || s[1] != '-')
		return false;
	s += 2;
	while (s < e && is_ws(*s))
		s++;
	if (e - s < 5 || memcmp(s, "migr:", 5) != 0)
		return false;
	*after = s + 5;
	return true;
}

/* Whether the line is a comment: blanks, then "--" */
static bool
is_comment(const char *s, const char *e)
{
	while (s < e && is_ws(*s))
		s++;
	return e - s >= 2 && s[0] == '-' && s[1] == '-';
}

static void
set_span(Parser *p, MigrSpan *span, const char *s, const char *e, int line)
{
	span->off = (size_t) (s - p->buf);
	span->len = (size_t) (e - s);
	span->line = line;
}

/* Number of days in a month of the proleptic Gregorian calendar */
static int
days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
		return 29;
	return days[month - 1];
}

static int
digits(const char *s, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/*
 * Create Date: "YYYY-MM-DD HH:MM:SS" and an optional fraction of 1 to 6
 * digits, a real date and time.
 */
static bool
parse_create_date(Parser *p)
{
	const MigrSpan *span = &p->f->fields[MIGR_FIELD_CREATE_DATE];
	const char *s = p->buf + span->off;
	size_t		n = span->len;
	static const char form[] = "dddd-dd-dd dd:dd:dd";
	MigrFileDate *d = &p->f->create_date;
	char		value[80];
	char		detail[160];

	clip(value, s, n, 64);
	for (size_t i = 0; i < n || i < sizeof(form) - 1; i++)
	{
		bool		ok;

		if (i < sizeof(form) - 1)
			ok = i < n && (form[i] == 'd' ? is_digit(s[i]) : s[i] == form[i]);
		else if (i == sizeof(form) - 1)
			ok = s[i] == '.' && n > i + 1 && n <= i + 7;
		else
			ok = is_digit(s[i]);
		if (!ok)
			return fail(p, MIGR_FILE_BAD_DATE, span->line,
						"Alembic writes it so: \"2023-12-31 12:10:00.000000\".",
						"Create Date is written YYYY-MM-DD HH:MM:SS, with an optional fraction of 1 to 6 digits, in UTC.",
						"invalid value \"%s\" for header field \"Create Date\"", value);
	}
	d->year = digits(s, 4);
	d->month = digits(s + 5, 2);
	d->day = digits(s + 8, 2);
	d->hour = digits(s + 11, 2);
	d->minute = digits(s + 14, 2);
	d->second = digits(s + 17, 2);
	d->usec = 0;
	for (size_t i = 20; i < 26; i++)
		d->usec = d->usec * 10 + (i < n ? s[i] - '0' : 0);

	detail[0] = '\0';
	if (d->year < 1)
		snprintf(detail, sizeof(detail), "The year must be between 0001 and 9999.");
	else if (d->month < 1 || d->month > 12)
		snprintf(detail, sizeof(detail), "The month must be between 01 and 12.");
	else if (d->day < 1 || d->day > days_in_month(d->year, d->month))
		snprintf(detail, sizeof(detail), "%04d-%02d has %d days.",
				 d->year, d->month, days_in_month(d->year, d->month));
	else if (d->hour > 23)
		snprintf(detail, sizeof(detail), "The hour must be between 00 and 23.");
	else if (d->minute > 59)
		snprintf(detail, sizeof(detail), "The minute must be between 00 and 59.");
	else if (d->second > 59)
		snprintf(detail, sizeof(detail), "The second must be between 00 and 59.");
	if (detail[0])
		return fail(p, MIGR_FILE_BAD_DATE, span->line, NULL, detail,
					"value \"%s\" of header field \"Create Date\" is not a valid date and time", value);
	return true;
}

/*
 * The header: line 1 is "-- message"; then fields and empty comment lines,
 * up to the first line that is not a comment or that starts like a marker.
 * *pos and *line move past it.
 */
static bool
parse_header(Parser *p, size_t *pos, int *line)
{
	MigrFile   *f = p->f;
	size_t		le;
	const char *s;
	const char *e;
	const char *after;
	char		value[80];

	le = line_end(p, *pos);
	s = p->buf + *pos;
	e = p->buf + le;
	if (*pos >= p->len || is_marker_like(s, e, &after) ||
		e - s < 2 || s[0] != '-' || s[1] != '-')
		return fail(p, MIGR_FILE_SYNTAX, *line,
					"Start the file with the header, its first line a comment with the message, such as \"-- add security fields\".",
					"The first line must be a comment holding the revision's message.",
					"migration file has no message");
	s += 2;
	trim(&s, &e);
	if (s == e)
		return fail(p, MIGR_FILE_SYNTAX, *line,
					"Write the message after \"-- \", such as \"-- add security fields\".",
					"The first line of the header is the revision's message; it is empty.",
					"migration file has no message");
	set_span(p, &f->message, s, e, *line);

	for (;;)
	{
		const char *colon;
		const char *name_end;
		int			k;

		*pos = le < p->len ? le + 1 : p->len;
		(*line)++;
		if (*pos >= p->len)
			break;
		le = line_end(p, *pos);
		s = p->buf + *pos;
		e = p->buf + le;
		if (e - s < 2 || s[0] != '-' || s[1] != '-' || is_marker_like(s, e, &after))
			break;
		s += 2;
		trim(&s, &e);
		if (s == e)
			continue;			/* "--": an empty comment line */
		colon = memchr(s, ':', (size_t) (e - s));
		if (colon == NULL)
		{
			clip(value, s, (size_t) (e - s), 64);
			return fail(p, MIGR_FILE_SYNTAX, *line,
						"End the header with a blank line; comments after it are free.",
						"Header lines are fields such as \"-- Revises: abc\" or empty comment lines; the header ends at the first line that is not a comment.",
						"header line \"%s\" is not a field", value);
		}
		name_end = colon;
		while (name_end > s && is_ws(name_end[-1]))
			name_end--;
		for (k = 0; k < MIGR_NFIELDS; k++)
			if (strlen(migr_file_field_names[k]) == (size_t) (name_end - s) &&
				memcmp(migr_file_field_names[k], s, (size_t) (name_end - s)) == 0)
				break;
		if (k == MIGR_NFIELDS)
		{
			clip(value, s, (size_t) (name_end - s), 64);
			return fail(p, MIGR_FILE_SYNTAX, *line,
						"End the header with a blank line; comments after it are free.",
						"The fields are Revision ID, Revises, Create Date, Branch Labels, Depends On and Transactional, written so (names are case-sensitive).",
						"unrecognized header field \"%s\"", value);
		}
		if (f->fields[k].line)
		{
			char		detail[80];

			snprintf(detail, sizeof(detail), "The field was first given on line %d.",
					 f->fields[k].line);
			return fail(p, MIGR_FILE_SYNTAX, *line, NULL, detail,
						"duplicate header field \"%s\"", migr_file_field_names[k]);
		}
		s = colon + 1;
		trim(&s, &e);
		set_span(p, &f->fields[k], s, e, *line);
	}

	for (int k = 0; k <= MIGR_FIELD_CREATE_DATE; k++)
		if (f->fields[k].line == 0)
		{
			char		hint[120];

			snprintf(hint, sizeof(hint), "Add a line such as \"-- %s: %s\" to the header.",
					 migr_file_field_names[k],
					 k == MIGR_FIELD_REVISION_ID ? "add_security_fields" :
					 k == MIGR_FIELD_REVISES ? "rename_username_to_name" :
					 "2023-12-31 12:10:00.000000");
			return fail(p, MIGR_FILE_SYNTAX, 1, hint,
						k == MIGR_FIELD_REVISES
						? "Every revision names its parents; a base revision leaves the field empty."
						: NULL,
						"missing header field \"%s\"", migr_file_field_names[k]);
		}
	if (!parse_create_date(p))
		return false;
	f->transactional = true;
	if (f->fields[MIGR_FIELD_TRANSACTIONAL].line)
	{
		const MigrSpan *t = &f->fields[MIGR_FIELD_TRANSACTIONAL];

		if (t->len == 5 && memcmp(p->buf + t->off, "false", 5) == 0)
			f->transactional = false;
		else if (!(t->len == 4 && memcmp(p->buf + t->off, "true", 4) == 0))
		{
			clip(value, p->buf + t->off, t->len, 64);
			return fail(p, MIGR_FILE_BAD_VALUE, t->line, NULL,
						"Transactional is true (the default) or false.",
						"invalid value \"%s\" for header field \"Transactional\"", value);
		}
	}
	return true;
}

/*
 * Lex one line of a section, from pos up to and including its LF: follow
 * quotes and comments across lines.  Tokens of more than one byte never hold
 * an LF, except an escaped LF in an E'' string, which p->escape carries.
 */
static void
lex_line(Parser *p, size_t pos, size_t le, int line)
{
	const char *b = p->buf;
	size_t		end = le < p->len ? le + 1 : p->len;

	for (size_t i = pos; i < end; i++)
	{
		char		c = b[i];
		char		next = i + 1 < p->len ? b[i + 1] : '\0';

		switch (p->state)
		{
			case LEX_NORMAL:
				if (c == '\'')
				{
					p->state = LEX_QUOTE;
					p->open_line = line;
					p->in_ident = false;
				}
				else if ((c == 'E' || c == 'e') && !p->in_ident && next == '\'')
				{
					p->state = LEX_ESTRING;
					p->open_line = line;
					p->escape = false;
					p->in_ident = false;
					i++;
				}
				else if (c == '"')
				{
					p->state = LEX_IDENT;
					p->open_line = line;
					p->in_ident = false;
				}
				else if (c == '$' && !p->in_ident)
				{
					size_t		j = i + 1;

					if (j < p->len && is_ident_start(b[j]))
						while (j < p->len && is_dolq_cont(b[j]))
							j++;
					if (j < p->len && b[j] == '$')
					{
						p->state = LEX_DOLLAR;
						p->open_line = line;
						p->tag_off = i;
						p->tag_len = j - i + 1;
						i = j;
					}
					p->in_ident = false;
				}
				else if (c == '-' && next == '-')
				{
					p->state = LEX_LINE;
					i++;
				}
				else if (c == '/' && next == '*')
				{
					p->state = LEX_BLOCK;
					p->open_line = line;
					p->depth = 1;
					i++;
				}
				else
					p->in_ident = p->in_ident ? is_ident_cont(c) : is_ident_start(c);
				break;
			case LEX_QUOTE:
				if (c == '\'')
				{
					if (next == '\'')
						i++;
					else
						p->state = LEX_NORMAL;
				}
				break;
			case LEX_ESTRING:
				if (p->escape)
					p->escape = false;
				else if (c == '\\')
					p->escape = true;
				else if (c == '\'')
				{
					if (next == '\'')
						i++;
					else
						p->state = LEX_NORMAL;
				}
				break;
			case LEX_IDENT:
				if (c == '"')
				{
					if (next == '"')
						i++;
					else
						p->state = LEX_NORMAL;
				}
				break;
			case LEX_DOLLAR:
				if (c == '$' && p->len - i >= p->tag_len &&
					memcmp(b + i, b + p->tag_off, p->tag_len) == 0)
				{
					i += p->tag_len - 1;
					p->state = LEX_NORMAL;
				}
				break;
			case LEX_BLOCK:
				if (c == '/' && next == '*')
				{
					p->depth++;
					i++;
				}
				else if (c == '*' && next == '/')
				{
					i++;
					if (--p->depth == 0)
						p->state = LEX_NORMAL;
				}
				break;
			case LEX_LINE:
				if (c == '\n')
					p->state = LEX_NORMAL;
				break;
		}
	}
	p->in_ident = false;		/* a line ends with its LF, or the file */
}

/*
 * A section ends: its text is the bytes from start to end (the start of the
 * next marker line, or the end of the file) without the blank lines at
 * either end and without the LF of its last line.
 */
static bool
close_section(Parser *p, int sec, size_t start, size_t end)
{
	MigrFile   *f = p->f;
	const char *b = p->buf;
	size_t		s = start;
	size_t		e = end;
	int			line = f->marker_line[sec] + 1;

	/* blank lines at the start */
	while (s < end)
	{
		size_t		le = line_end(p, s);

		if (le > end)
			le = end;
		if (!is_blank(b + s, b + le))
			break;
		s = le < end ? le + 1 : end;
		line++;
	}
	/* blank lines at the end, and the LF of the last line */
	while (e > s)
	{
		size_t		ls = e;

		if (b[e - 1] == '\n')
			e--;
		ls = e;
		while (ls > s && b[ls - 1] != '\n')
			ls--;
		if (!is_blank(b + ls, b + e))
			break;
		e = ls;
	}
	if (s >= e)
	{
		char		hint[200];

		if (sec == MIGR_SECTION_UPGRADE)
			snprintf(hint, sizeof(hint), "A revision that runs nothing says so with a comment, such as \"-- nothing to run: merge\".");
		else
			snprintf(hint, sizeof(hint), "Write the %s, or remove its marker.",
					 sec == MIGR_SECTION_DOWNGRADE ? "SQL" : "check");
		return fail(p, MIGR_FILE_SYNTAX, f->marker_line[sec], hint,
					sec == MIGR_SECTION_DOWNGRADE
					? "A revision without a downgrade section is irreversible; an empty one is an error."
					: NULL,
					"section \"%s\" is empty", migr_file_section_names[sec]);
	}
	f->sections[sec].off = s;
	f->sections[sec].len = e - s;
	f->sections[sec].line = line;
	return true;
}

/* A marker line: the section it opens, or -1 after setting the error. */
static int
parse_marker(Parser *p, const char *name, const char *e, int line)
{
	const char *ne = name;
	char		value[80];

	while (ne < e && !is_ws(*ne))
		ne++;
	if (ne == name || !is_blank(ne, e))
	{
		const char *s = p->buf;
		const char *ls = name;

		while (ls > s && ls[-1] != '\n')
			ls--;
		clip(value, ls, (size_t) (e - ls), 64);
		fail(p, MIGR_FILE_SYNTAX, line,
			 "A line that starts with \"-- migr:\" must be a marker; rewrite a comment that starts so.",
			 "A marker is \"-- migr:\" and a section name alone on its line, such as \"-- migr:upgrade\".",
			 "malformed section marker \"%s\"", value);
		return -1;
	}
	for (int k = 0; k < MIGR_NSECTIONS; k++)
		if (strlen(migr_file_section_names[k]) == (size_t) (ne - name) &&
			memcmp(migr_file_section_names[k], name, (size_t) (ne - name)) == 0)
			return k;
	clip(value, name, (size_t) (ne - name), 64);
	fail(p, MIGR_FILE_SYNTAX, line, NULL,
		 "The sections are upgrade, downgrade, skip_if, requires, verify and verify_down.",
		 "unrecognized section \"%s\"", value);
	return -1;
}

/* The error for a section that ends inside quoted text or a comment */
static bool
unterminated(Parser *p, int sec)
{
	const char *what;
	char		detail[200];

	switch (p->state)
	{
		case LEX_QUOTE:
		case LEX_ESTRING:
			what = "quoted string";
			break;
		case LEX_IDENT:
			what = "quoted identifier";
			break;
		case LEX_DOLLAR:
			what = "dollar-quoted string";
			break;
		default:
			what = "/* comment";
			break;
	}
	snprintf(detail, sizeof(detail),
			 "It opens on line %d and runs to the end of the file: a marker inside it is part of it.",
			 p->open_line);
	return fail(p, MIGR_FILE_SYNTAX, p->open_line,
				"Close it before the next marker.", detail,
				"unterminated %s in section \"%s\"", what, migr_file_section_names[sec]);
}

/*
 * The file-name rule: YYYY_MM_DD_HHMMSS_<id>.sql, id the Revision ID,
 * the stamp the Create Date to the second.
 */
static bool
check_name(Parser *p, const char *name)
{
	MigrFile   *f = p->f;
	size_t		n = strlen(name);
	static const char form[] = "dddd_dd_dd_dddddd_";
	const size_t flen = sizeof(form) - 1;
	const MigrFileDate *d = &f->create_date;
	const MigrSpan *id = &f->fields[MIGR_FIELD_REVISION_ID];
	char		shown[140];
	char		want[200];
	char		idv[140];
	char		hint[300];
	char		detail[300];
	bool		ok = n > flen + 4 && memcmp(name + n - 4, ".sql", 4) == 0;

	for (size_t i = 0; ok && i < flen; i++)
		ok = form[i] == 'd' ? is_digit(name[i]) : name[i] == form[i];
	clip(shown, name, n, 128);
	if (!ok)
		return fail(p, MIGR_FILE_BAD_VALUE, 1,
					"Name it after the Create Date and the Revision ID, as in \"2023_12_31_121000_add_security_fields.sql\".",
					"A migration file is named YYYY_MM_DD_HHMMSS_<revision id>.sql.",
					"file name \"%s\" does not follow the naming convention", shown);
	clip(idv, p->buf + id->off, id->len, 128);
	snprintf(want, sizeof(want), "%04d_%02d_%02d_%02d%02d%02d_%s.sql",
			 d->year, d->month, d->day, d->hour, d->minute, d->second, idv);
	snprintf(hint, sizeof(hint), "Rename the file to \"%s\".", want);
	if (n - flen - 4 != id->len || memcmp(name + flen, p->buf + id->off, id->len) != 0)
	{
		snprintf(detail, sizeof(detail),
				 "The part of the name after the time stamp must be the Revision ID, \"%s\" (line %d).",
				 idv, id->line);
		return fail(p, MIGR_FILE_BAD_VALUE, id->line, hint, detail,
					"file name \"%s\" does not match the revision id", shown);
	}
	if (strncmp(want, name, flen) != 0)
	{
		snprintf(detail, sizeof(detail),
				 "The name's time stamp must be the Create Date to the second, %04d-%02d-%02d %02d:%02d:%02d (line %d).",
				 d->year, d->month, d->day, d->hour, d->minute, d->second,
				 f->fields[MIGR_FIELD_CREATE_DATE].line);
		return fail(p, MIGR_FILE_BAD_VALUE, f->fields[MIGR_FIELD_CREATE_DATE].line,
					hint, detail,
					"file name \"%s\" does not match the create date", shown);
	}
	return true;
}

/*
 * migr_file_parse
 *		Parse len bytes of buf, a file whose line endings
 *		migr_file_normalize_newlines() has converted, into *out: spans into
 *		buf for the message, the field values and the section texts.  With a
 *		basename, the file-name rule is checked too.  Returns true, or false
 *		with *err set (kind, line, message, detail, hint).  Never reads
 *		outside buf; NUL bytes are ordinary bytes.
 */
bool
migr_file_parse(const char *buf, size_t len, const char *basename,
				MigrFile *out, MigrFileError *err)
{
	Parser		p;
	size_t		pos = 0;
	int			line = 1;
	int			sec = -1;		/* the open section */
	size_t		sec_start = 0;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	memset(&p, 0, sizeof(p));
	p.buf = buf;
	p.len = len;
	p.f = out;
	p.err = err;
	p.state = LEX_NORMAL;

	/* nlines: the LFs, and a last line without one */
	for (size_t i = 0; i < len; i++)
		out->nlines += buf[i] == '\n';
	if (len > 0 && buf[len - 1] != '\n')
		out->nlines++;

	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	if (!parse_header(&p, &pos, &line))
		return false;

	for (; pos < len; line++)
	{
		size_t		le = line_end(&p, pos);
		const char *s = buf + pos;
		const char *e = buf + le;
		const char *after;

		if (p.state == LEX_NORMAL && is_marker_like(s, e, &after))
		{
			int			k = parse_marker(&p, after, e, line);

			if (k < 0)
				return false;
			if (out->marker_line[k])
			{
				char		detail[80];

				snprintf(detail, sizeof(detail), "The section was first opened on line %d.",
						 out->marker_line[k]);
				return fail(&p, MIGR_FILE_SYNTAX, line, NULL, detail,
							"duplicate section \"%s\"", migr_file_section_names[k]);
			}
			if (sec >= 0 && !close_section(&p, sec, sec_start, pos))
				return false;
			sec = k;
			out->marker_line[k] = line;
			sec_start = le < len ? le + 1 : len;
		}
		else if (sec < 0)
		{
			if (!is_blank(s, e) && !is_comment(s, e))
				return fail(&p, MIGR_FILE_SYNTAX, line,
							"Put the SQL under a marker such as \"-- migr:upgrade\".",
							"Only blank lines and comments may come between the header and the first section marker.",
							"SQL before the first section marker");
		}
		else
			lex_line(&p, pos, le, line);
		pos = le < len ? le + 1 : len;
	}
	if (sec >= 0)
	{
		if (p.state != LEX_NORMAL && p.state != LEX_LINE)
			return unterminated(&p, sec);
		if (!close_section(&p, sec, sec_start, len))
			return false;
	}
	if (out->marker_line[MIGR_SECTION_UPGRADE] == 0)
		return fail(&p, MIGR_FILE_SYNTAX, 1,
					"Add a line \"-- migr:upgrade\" followed by the SQL that upgrades.",
					NULL, "migration file has no upgrade section");
	if (basename && !check_name(&p, basename))
		return false;
	return true;
}
