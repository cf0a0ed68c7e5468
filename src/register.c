/*-------------------------------------------------------------------------
 * register.c
 *	  migr.revision(): validate a revision, compare it with what is already
 *	  registered, and store it.  Every check runs before the first write, and
 *	  any error aborts the statement, so bad input leaves the catalog as it
 *	  was.
 *
 * IDENTIFICATION
 *	  src/register.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "apply.h"
#include "body.h"
#include "catalog.h"
#include "catalog/pg_type.h"
#include "checks.h"
#include "checksum.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "sqlcall.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "migr_errcodes.h"
#include "progress.h"
#include "regbatch.h"
#include "register.h"
#include "revcheck.h"
#include "strlist.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(migr_edges_resolved);

/* see MigrRegisterPart; only load.c reads it, and resets it first */
int			migr_register_part = MIGR_PART_NONE;

static bool
is_reserved(const char *s)
{
	return strcmp(s, "head") == 0 || strcmp(s, "heads") == 0 ||
		strcmp(s, "base") == 0;
}

/*
 * validate_name
 *		A revision id or branch label: 1 to 128 characters from
 *		[A-Za-z0-9_.-], not head, heads or base.
 */
static void
validate_name(const char *what, const char *s)
{
	size_t		len = strlen(s);

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what)));
	if (len > MIGR_MAX_ID_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%.32s...\" is too long", what, s),
				 errdetail("It has %zu characters; the limit is %d.", len, MIGR_MAX_ID_LEN)));
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = s[i];

		if (!(isalnum(c) || c == '_' || c == '.' || c == '-') || c >= 0x80)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s \"%s\" contains an invalid character", what, s),
					 errdetail("Only letters A-Z and a-z, digits, \"_\", \".\" and \"-\" are allowed.")));
	}
	if (s[0] == '-' || s[0] == '+')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" must not start with \"%c\"", what, s, s[0]),
				 errdetail("A leading sign would read as a relative step such as \"-1\".")));
	if (is_reserved(s))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" is reserved", what, s),
				 errdetail("\"head\", \"heads\" and \"base\" name positions in the graph, not revisions.")));
}

/*
 * Split a comma-separated list ("a, b"), validating each element.  NULL and
 * the empty string are the empty list.
 */
static char **
parse_list(const char *what, const char *list, int *n)
{
	char	  **out;
	int			cap = 4;
	const char *p = list;

	*n = 0;
	out = palloc(sizeof(char *) * cap);
	if (list == NULL)
		return out;
	while (isspace((unsigned char) *p))
		p++;
	if (*p == '\0')
		return out;
	for (;;)
	{
		const char *start = p;
		const char *end;
		char	   *item;

		CHECK_FOR_INTERRUPTS();
		while (*p && *p != ',')
			p++;
		end = p;
		while (start < end && isspace((unsigned char) *start))
			start++;
		while (end > start && isspace((unsigned char) end[-1]))
			end--;
		item = pnstrdup(start, end - start);
		if (*item == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s list \"%s\" has an empty element", what, list)));
		validate_name(what, item);
		for (int i = 0; i < *n; i++)
			if (strcmp(out[i], item) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s \"%s\" is listed twice", what, item)));
		if (*n >= cap)
		{
			cap *= 2;
			out = repalloc(out, sizeof(char *) * cap);
		}
		out[(*n)++] = item;
		if (*p == '\0')
			break;
		p++;
	}
	return out;
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Which fields of a re-registration differ from the stored revision. */
static char *
differences(MigrStoredRevision *old, MigrNewRevision *rev)
{
	StringInfoData buf;

	initStringInfo(&buf);
#define DIFF(cond, name) \
	if (cond) appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", name)
	DIFF(!str_eq(old->revises, migr_join_list(rev->revises, rev->nrevises)), "revises");
	DIFF(!str_eq(old->depends_on, migr_join_list(rev->deps, rev->ndeps)), "depends_on");
	DIFF(!str_eq(old->branch_labels, migr_join_list(rev->labels, rev->nlabels)), "branch_labels");
	DIFF(!str_eq(old->message, rev->message), "message");
	DIFF(old->create_date != rev->create_date, "create_date");
	DIFF(!str_eq(old->upgrade_sql, rev->upgrade_sql), "upgrade");
	DIFF(!str_eq(old->downgrade_sql, rev->downgrade_sql), "downgrade");
	DIFF(old->transactional != rev->transactional, "transactional");
	for (int i = 0; i < MIGR_NCHECKS; i++)
		DIFF(!str_eq(old->checks[i], rev->checks[i]), migr_check_names[i]);
#undef DIFF
	return buf.data;
}

/*
 * Parse a body with PostgreSQL's grammar, so that a syntax error is
 * reported at registration (42601) rather than in the middle of an upgrade,
 * and so is a statement a body can never run (COPY to or from the client).
 * Only syntax: names are resolved when the body runs.
 */
static char *
check_body_syntax(const char *rev, const char *which, const char *sql)
{
	List	   *stmts = migr_raw_parse(sql, psprintf("%s SQL of revision \"%s\"", which, rev));

	return migr_body_check(rev, which, sql, stmts);
}

/*
 * migr_register
 *		Register (or replace, or confirm) a revision.  The caller holds SPI
 *		and the migration lock.  create_date_set is false when the caller
 *		passed NULL: a new revision then gets the transaction's start time
 *		and an existing one keeps its date.  With defer_references, a parent
 *		or dependency not registered yet is left to the check at commit even
 *		outside a transaction block (migr.load_all() registers many
 *		revisions in one statement, in any order).  With a batch (regbatch.c),
 *		for which the caller has made sure that migr_regbatch_takes(batch,
 *		rev), the checks read what is registered from the batch and the
 *		revision goes to the batch instead of the catalog: the same checks,
 *		the same errors and notices, written later.  Returns what it did.
 */
MigrRegisterResult
migr_register(MigrNewRevision *rev, bool create_date_set, bool defer_references,
			  MigrRegBatch *batch)
{
	MigrStoredRevision *old;
	char	  **names;
	bool	   *is_id;
	char	  **owners;
	int			nnames;
	char	   *diff;

	for (int i = 0; i < MIGR_NCHECKS; i++)
		if (rev->checks[i])
		{
			migr_register_part = MIGR_PART_CHECK + i;
			migr_validate_check((MigrCheckKind) i, rev->checks[i]);
		}
	migr_register_part = MIGR_PART_ID;

	/* the batch takes only revisions that are not registered */
	old = batch ? NULL : migr_catalog_get_revision(CurrentMemoryContext, rev->id);
	if (!create_date_set)
		rev->create_date = old ? old->create_date : GetCurrentTransactionStartTimestamp();

	/*
	 * Everything the checks below need to know about names, in one query:
	 * the id, the labels, the dependencies and the parents, in that order.
	 */
	nnames = 1 + rev->nlabels + rev->ndeps + rev->nrevises;
	names = palloc(sizeof(char *) * nnames);
	is_id = palloc0(sizeof(bool) * nnames);
	owners = palloc0(sizeof(char *) * nnames);
	names[0] = rev->id;
	memcpy(names + 1, rev->labels, sizeof(char *) * rev->nlabels);
	memcpy(names + 1 + rev->nlabels, rev->deps, sizeof(char *) * rev->ndeps);
	memcpy(names + 1 + rev->nlabels + rev->ndeps, rev->revises, sizeof(char *) * rev->nrevises);
	if (batch)
		migr_regbatch_lookup(batch, names, nnames, is_id, owners, CurrentMemoryContext);
	else
		migr_catalog_lookup_names(CurrentMemoryContext, names, nnames, is_id, owners);

	/* a revision id must not be taken by a branch label, nor vice versa */
	if (owners[0])
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("revision id \"%s\" is already used as a branch label by revision \"%s\"",
						rev->id, owners[0])));
	migr_register_part = MIGR_PART_BRANCH_LABELS;
	for (int i = 0; i < rev->nlabels; i++)
	{
		int			k = 1 + i;

		if (strcmp(rev->labels[i], rev->id) == 0 || is_id[k])
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("branch label \"%s\" is already used as a revision id", rev->labels[i])));
		if (owners[k] && strcmp(owners[k], rev->id) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("branch label \"%s\" is already used by revision \"%s\"",
							rev->labels[i], owners[k])));
	}

	/* its own label would make it depend on itself */
	migr_register_part = MIGR_PART_DEPENDS_ON;
	for (int i = 0; i < rev->ndeps; i++)
		for (int j = 0; j < rev->nlabels; j++)
			if (strcmp(rev->deps[i], rev->labels[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_RECURSION),
						 errmsg("revision \"%s\" cannot depend on itself", rev->id),
						 errdetail("Its dependency \"%s\" is one of its own branch labels.", rev->labels[j])));

	/*
	 * depends_on may name a branch label: store the revision declaring it.
	 * A label that a later registration of this transaction declares is
	 * stored as it is, and taken over then (migr.branch_label_take_over).
	 */
	for (int i = 0; i < rev->ndeps; i++)
	{
		int			k = 1 + rev->nlabels + i;

		if (owners[k])
		{
			rev->deps[i] = owners[k];
			is_id[k] = true;	/* the declaring revision is registered */
		}
		for (int j = 0; j < i; j++)
			if (strcmp(rev->deps[j], rev->deps[i]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("dependency \"%s\" is listed twice", rev->deps[i])));
	}

	/* self references */
	migr_register_part = MIGR_PART_REVISES;
	for (int i = 0; i < rev->nrevises; i++)
		if (strcmp(rev->revises[i], rev->id) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_RECURSION),
					 errmsg("revision \"%s\" cannot revise itself", rev->id)));
	migr_register_part = MIGR_PART_DEPENDS_ON;
	for (int i = 0; i < rev->ndeps; i++)
		if (strcmp(rev->deps[i], rev->id) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_RECURSION),
					 errmsg("revision \"%s\" cannot depend on itself", rev->id)));

	/* unknown parents are refused at once outside a transaction block */
	if (!IsTransactionBlock() && !defer_references)
		for (int k = 1 + rev->nlabels; k < nnames; k++)
			if (!is_id[k])
			{
				bool		dep = k < 1 + rev->nlabels + rev->ndeps;

				migr_register_part = dep ? MIGR_PART_DEPENDS_ON : MIGR_PART_REVISES;
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_OBJECT),
						 errmsg("revision \"%s\" %s \"%s\", which is not registered",
								rev->id, dep ? "depends on" : "revises", names[k]),
						 errhint("Register the revisions in order, or register them all inside one transaction, where references are checked at commit.")));
			}

	/* cycles: the triggers on migr.migration_edge refuse the closing edge */

	migr_register_part = MIGR_PART_ID;
	if (old)
	{
		diff = differences(old, rev);
		if (diff[0] == '\0')
			return MIGR_IDENTICAL;	/* nothing to do */
		if (old->applied)
		{
			if (old->applied_checksum &&
				!migr_checksum_equal(old->applied_checksum, rev->checksum))
				ereport(ERROR,
						(errcode(ERRCODE_MIGR_CHECKSUM_MISMATCH),
						 errmsg("revision \"%s\" is applied and its SQL or checks would change", rev->id),
						 errdetail("The applied content has sha256 %s; the new content has sha256 %s.",
								   migr_checksum_hex(old->applied_checksum),
								   migr_checksum_hex(rev->checksum)),
						 errhint("Register the change as a new revision that revises \"%s\".", rev->id)));
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("revision \"%s\" is applied and already registered with different content", rev->id),
					 errdetail("These fields differ: %s.", diff),
					 errhint("An applied revision cannot change; register a new revision instead.")));
		}
		else
		{
			MigrProgress *p = migr_progress_get(CurrentMemoryContext);

			/* its committed statements belong to the content they ran from */
			if (p && strcmp(p->revision, rev->id) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("revision \"%s\" is part way through its %s and cannot change",
								rev->id, p->upgrade ? "upgrade" : "downgrade"),
						 errdetail("%d of its %d statements ran and were committed. These fields differ: %s.",
								   p->done, p->total, diff),
						 p->upgrade
						 ? errhint("Finish it first with CALL migr.apply('%s'), or undo its statements by hand and have the extension owner delete its row from migr.revision_progress.",
								   rev->id)
						 : errhint("Finish it first with CALL migr.revert(), or redo its statements by hand and have the extension owner delete its row from migr.revision_progress.")));
		}
	}

	if (old)
		ereport(NOTICE,
				(errmsg("replacing revision \"%s\", which is not applied", rev->id),
				 errdetail("These fields changed: %s.", diff)));
	/* a cycle is refused at the edge that closes it */
	migr_register_part = rev->nrevises > 0 ? MIGR_PART_REVISES : MIGR_PART_DEPENDS_ON;
	if (batch)
		migr_regbatch_add(batch, rev);
	else
		migr_catalog_store_revision(rev, old != NULL);
	migr_register_part = MIGR_PART_ID;

	if (!rev->transactional || rev->upgrade_toplevel || rev->downgrade_toplevel)
		ereport(NOTICE,
				(errmsg("revision \"%s\" is non-transactional", rev->id),
				 !rev->transactional
				 ? errdetail("It was registered with transactional => false: CALL migr.apply() and migr.revert() run it statement by statement, committing each.")
				 : errdetail("Its %s has a statement that cannot run inside a transaction block (%s): CALL migr.apply() and migr.revert() run that %s statement by statement, committing each.",
							 rev->upgrade_toplevel ? "upgrade" : "downgrade",
							 rev->upgrade_toplevel ? rev->upgrade_toplevel : rev->downgrade_toplevel,
							 rev->upgrade_toplevel && rev->downgrade_toplevel ? "upgrade and downgrade" :
							 rev->upgrade_toplevel ? "upgrade" : "downgrade"),
				 errhint("migr.upgrade() and migr.downgrade() refuse it; they run in one transaction.")));
	if (rev->downgrade_sql == NULL)
		ereport(NOTICE,
				(errmsg("revision \"%s\" is irreversible", rev->id),
				 errdetail("It has no downgrade SQL; a downgrade past it stops with an error before reverting anything.")));
	return old ? MIGR_REPLACED : MIGR_REGISTERED;
}

/*
 * migr_new_revision
 *		Parse and validate the arguments of migr.revision() (NULL strings
 *		for SQL NULLs).  checks holds MIGR_NCHECKS expressions or NULLs;
 *		migr_register() analyses them, since that needs SPI.
 */
MigrNewRevision *
migr_new_revision(const char *id, const char *revises, const char *message,
				  const char *upgrade, const char *downgrade,
				  const char *branch_labels, const char *depends_on,
				  TimestampTz create_date, char *const *checks,
				  bool transactional)
{
	MigrNewRevision *rev = palloc0(sizeof(MigrNewRevision));

	migr_register_part = MIGR_PART_ID;
	if (id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("revision id must not be null")));
	validate_name("revision id", id);
	if (upgrade == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("upgrade SQL of revision \"%s\" must not be null", id),
				 errhint("A revision that changes nothing has an empty upgrade, such as ''.")));
	rev->id = pstrdup(id);
	migr_register_part = MIGR_PART_REVISES;
	rev->revises = parse_list("parent revision", revises, &rev->nrevises);
	migr_register_part = MIGR_PART_DEPENDS_ON;
	rev->deps = parse_list("dependency", depends_on, &rev->ndeps);
	migr_register_part = MIGR_PART_BRANCH_LABELS;
	rev->labels = parse_list("branch label", branch_labels, &rev->nlabels);
	rev->message = pstrdup(message ? message : "");
	rev->create_date = create_date;
	migr_register_part = MIGR_PART_UPGRADE;
	rev->upgrade_toplevel = check_body_syntax(id, "upgrade", upgrade);
	migr_register_part = MIGR_PART_DOWNGRADE;
	if (downgrade)
		rev->downgrade_toplevel = check_body_syntax(id, "downgrade", downgrade);
	rev->transactional = transactional;
	rev->upgrade_sql = pstrdup(upgrade);
	rev->downgrade_sql = downgrade ? pstrdup(downgrade) : NULL;
	for (int i = 0; i < MIGR_NCHECKS; i++)
	{
		migr_register_part = MIGR_PART_CHECK + i;
		if (checks[i] && checks[i][0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s of revision \"%s\" must not be empty", migr_check_names[i], id),
					 errhint("Pass NULL for no check.")));
		rev->checks[i] = checks[i] ? pstrdup(checks[i]) : NULL;
	}
	rev->checksum = migr_checksum(rev->upgrade_sql, rev->downgrade_sql, rev->checks);
	migr_register_part = MIGR_PART_NONE;
	return rev;
}

/*
 * migr.migration_edges_resolved() RETURNS trigger
 *
 * Deferred constraint trigger on migr.migration, row level: at commit,
 * refuse the revision if one of its edges names no registered revision (a
 * parent or dependency registered neither before nor later in the
 * transaction, or a branch label no revision declared).  Its event is
 * queued by the revision's row, before the foreign key checks of the
 * edges written after it, so this error is the one the client sees.
 */
Datum
migr_edges_resolved(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	TriggerData *td = (TriggerData *) fcinfo->context;
	HeapTuple	tup;
	TupleDesc	desc;
	Datum		id;
	bool		isnull;
	int			attnum = 0;
	Oid			types[1] = {TEXTOID};

	/* only the trigger the extension script creates makes sense */
	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(td->tg_event) ||
		(attnum = SPI_fnumber(RelationGetDescr(td->tg_relation), "id")) <= 0 ||
		SPI_gettypeid(RelationGetDescr(td->tg_relation), attnum) != TEXTOID)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("migr.migration_edges_resolved() must be fired by a row trigger on INSERT or UPDATE of migr.migration")));
	tup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);
	id = heap_getattr(tup, attnum, desc, &isnull);
	if (isnull)
		return PointerGetDatum(NULL);

	migr_spi_connect();
	migr_run_kept(&plan,
				  "SELECT x.kind OPERATOR(pg_catalog.=) 'p', x.target"
				  "  FROM migr.migration_edge x"
				  " WHERE x.revision OPERATOR(pg_catalog.=) $1"
				  "   AND NOT EXISTS (SELECT 1 FROM migr.migration m"
				  "                    WHERE m.id OPERATOR(pg_catalog.=) x.target)"
				  " ORDER BY x.kind DESC, x.ord LIMIT 1",
				  1, types, &id, NULL, true, 1, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		bool		parent = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 1, &isnull));
		char	   *target = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("revision \"%s\" %s \"%s\", which is not registered",
						TextDatumGetCString(id), parent ? "revises" : "depends on", target),
				 parent
				 ? errdetail("No revision with that id was registered by the end of the transaction.")
				 : errdetail("No revision with that id or branch label was registered by the end of the transaction."),
				 errhint("Register it in the same transaction, or leave the reference out.")));
	}
	migr_spi_finish();
	return PointerGetDatum(NULL);
}
