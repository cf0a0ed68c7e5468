/*-------------------------------------------------------------------------
 * migrfile.h
 *	  The migration file parser (docs/files.md): header fields, sections,
 *	  the file-name rule.  Plain C99 and libc, no server headers, so that
 *	  the fuzz target (test/fuzz) compiles it on its own.
 *
 * IDENTIFICATION
 *	  src/migrfile.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_MIGRFILE_H
#define MIGR_MIGRFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Header fields, in the order of docs/files.md */
typedef enum MigrFileField
{
	MIGR_FIELD_REVISION_ID = 0,
	MIGR_FIELD_REVISES,
	MIGR_FIELD_CREATE_DATE,
	MIGR_FIELD_BRANCH_LABELS,
	MIGR_FIELD_DEPENDS_ON,
	MIGR_FIELD_TRANSACTIONAL,
	MIGR_NFIELDS
} MigrFileField;

/* Sections; the four checks follow the order of MigrCheckKind (revcheck.h) */
typedef enum MigrFileSection
{
	MIGR_SECTION_UPGRADE = 0,
	MIGR_SECTION_DOWNGRADE,
	MIGR_SECTION_SKIP_IF,
	MIGR_SECTION_REQUIRES,
	MIGR_SECTION_VERIFY,
	MIGR_SECTION_VERIFY_DOWN,
	MIGR_NSECTIONS
} MigrFileSection;

#define MIGR_SECTION_FIRST_CHECK	MIGR_SECTION_SKIP_IF

/*
 * A piece of the parsed buffer: off and len index the caller's buffer; line
 * is the 1-based line where it starts, 0 when the piece is absent.
 */
typedef struct MigrSpan
{
	size_t		off;
	size_t		len;
	int			line;
} MigrSpan;

/* Create Date, validated: a real date and time, in UTC */
typedef struct MigrFileDate
{
	int			year;
	int			month;
	int			day;
	int			hour;
	int			minute;
	int			second;
	int			usec;
} MigrFileDate;

typedef struct MigrFile
{
	MigrSpan	message;		/* line 1 after "-- ", trimmed */
	MigrSpan	fields[MIGR_NFIELDS];	/* values, trimmed; line = the field's */
	MigrSpan	sections[MIGR_NSECTIONS];	/* texts; line = their first line */
	int			marker_line[MIGR_NSECTIONS];	/* 0: no such section */
	MigrFileDate create_date;
	bool		transactional;
	int			nlines;			/* lines in the file (LF count, + 1 if the
								 * last line has no LF) */
} MigrFile;

/* What kind of error, which decides its SQLSTATE (docs/files.md) */
typedef enum MigrFileErrorKind
{
	MIGR_FILE_OK = 0,
	MIGR_FILE_SYNTAX,			/* 42601 syntax_error */
	MIGR_FILE_BAD_DATE,			/* 22007 invalid_datetime_format */
	MIGR_FILE_BAD_VALUE			/* 22023 invalid_parameter_value */
} MigrFileErrorKind;

typedef struct MigrFileError
{
	MigrFileErrorKind kind;
	int			line;			/* 1-based line the error is about */
	char		message[256];	/* PostgreSQL style: lowercase, no period */
	char		detail[512];	/* a full sentence, or "" */
	char		hint[512];		/* a full sentence, or "" */
} MigrFileError;

extern const char *const migr_file_field_names[MIGR_NFIELDS];
extern const char *const migr_file_section_names[MIGR_NSECTIONS];

extern size_t migr_file_normalize_newlines(const char *in, size_t len,
										   char *out);
extern const char *migr_file_basename(const char *path);
extern bool migr_file_parse(const char *buf, size_t len, const char *basename,
							MigrFile *out, MigrFileError *err);

#endif							/* MIGR_MIGRFILE_H */
