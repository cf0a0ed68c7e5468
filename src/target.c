/*-------------------------------------------------------------------------
 * target.c
 *	  Target parsing and resolution, with Alembic 1.8's semantics
 *	  (alembic/script/revision.py): get_revisions, _walk, _resolve_branch,
 *	  filter_for_lineage and the upgrade and downgrade target parsers
 *	  (_parse_upgrade_target, _parse_downgrade_target).  Planning on top of
 *	  them is in plan.c.
 *	  The functions below keep Alembic's names in their comments so the two
 *	  can be read side by side.  Alembic's errors become ereports with
 *	  migr's SQLSTATEs.
 *
 *	  Deliberate differences, all documented in docs/graph.md:
 *	  - a target equal to a registered revision id is that revision, even
 *	    when it looks like a relative step (ids may contain '-');
 *	  - a relative target must match the whole string ("abc+1x" is an
 *	    error, where Alembic silently ignores the "x");
 *	  - the branch of a "branch@..." target must exist.
 *
 *	  No SPI here.
 *
 * IDENTIFICATION
 *	  src/target.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>

#include "lib/stringinfo.h"
#include "migr_errcodes.h"
#include "miscadmin.h"
#include "target.h"

typedef struct NameList
{
	int			n;
	const char **v;
} NameList;

/* the target being resolved, for error messages */
static const char *cur_target = "";

/*
 * migr_target_begin
 *		Start resolving a target: remember it for error messages and reject
 *		what cannot name anything.
 */
void
migr_target_begin(const char *target)
{
	cur_target = target;
	migr_check_target_syntax(target);
}


static int	revision_for_ident(MigrGraph *g, const char *rid,
							   const char *check_branch, bool *failed);

static const char *
rev_name(MigrGraph *g, int idx)
{
	if (idx == MIGR_NONE)
		return "base";
	if (idx == MIGR_BASE)
		return "base";
	return g->revs[idx].id;
}

/* "a", "b", "c" for messages */
char *
migr_rl_names(MigrGraph *g, MigrRevList *l)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < l->n; i++)
		appendStringInfo(&buf, "%s\"%s\"", i ? ", " : "", rev_name(g, l->v[i]));
	return buf.data;
}

static void
err_multiple_heads(MigrGraph *g, MigrRevList *heads, const char *arg)
{
	ereport(ERROR,
			(errcode(ERRCODE_MIGR_AMBIGUOUS_TARGET),
			 errmsg("target \"%s\" is ambiguous: the revision graph has %d heads",
					arg, heads->n),
			 errdetail("The heads are %s.", migr_rl_names(g, heads)),
			 errhint("Name one head, use \"heads\" for all of them, or use \"<branch>@head\"; or register a merge revision.")));
}

/* Python's int() on a revision string, for the "label@-2" form */
static bool
parse_int(const char *s, int *out)
{
	const char *p = s;
	long		v;
	char	   *end;

	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char) *p))
		return false;
	while (isdigit((unsigned char) *p))
		p++;
	if (*p != '\0')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || v > INT_MAX || v < -INT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relative step in target \"%s\" is out of range", cur_target)));
	*out = (int) v;
	return true;
}

/*
 * Alembic's _relative_destination, r"(?:(.+?)@)?(\w+)?((?:\+|-)\d+)", but
 * matched against the whole string.  Returns false when target is not of
 * that form; label and symbol come back NULL when absent.
 */
bool
migr_match_relative(const char *target, char **label, char **symbol, int *relative)
{
	int			len = strlen(target);

	for (int at = -1; at < len; at++)
	{
		const char *rest;
		int			w = 0;
		int			d;

		/* lazy (.+?)@ first, then no label at all */
		if (at >= 0 && (at == 0 || target[at] != '@'))
			continue;
		rest = target + at + 1;
		while (isalnum((unsigned char) rest[w]) || rest[w] == '_')
			w++;
		if (rest[w] != '+' && rest[w] != '-')
			continue;
		if (!isdigit((unsigned char) rest[w + 1]))
			continue;
		d = w + 1;
		while (isdigit((unsigned char) rest[d]))
			d++;
		if (rest[d] != '\0')
			continue;
		*label = at > 0 ? pnstrdup(target, at) : NULL;
		*symbol = w > 0 ? pnstrdup(rest, w) : NULL;
		if (!parse_int(rest + w, relative))
			return false;
		return true;
	}
	return false;
}

/*
 * migr_check_target_syntax
 *		Reject targets that cannot name anything, before any lookup.
 */
void
migr_check_target_syntax(const char *target)
{
	int			len = strlen(target);

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target must not be empty"),
				 errhint("Use \"head\", \"heads\", \"base\", a revision id, \"<branch>@head\" or a relative step such as \"-1\".")));
	if (len > 2 * MIGR_MAX_ID_LEN + 16)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target \"%.40s...\" is too long", target)));
	for (int i = 0; i < len; i++)
	{
		unsigned char c = target[i];

		if (!(isalnum(c) || c == '_' || c == '.' || c == '-' || c == '+' || c == '@'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("target \"%s\" contains an invalid character", target),
					 errdetail("Targets consist of revision ids, branch labels, \"@\" and relative steps such as \"+2\".")));
	}
	{
		const char *at = strrchr(target, '@');
		const char *step = at ? at + 1 : target;

		if (*step == '+' || *step == '-')
		{
			const char *d = step + 1;

			while (isdigit((unsigned char) *d))
				d++;
			if (d == step + 1 || *d != '\0')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("relative target \"%s\" is malformed", target),
						 errhint("A relative step is a sign and digits, such as \"+2\", \"-1\", \"<revision>+1\" or \"<branch>@-1\".")));
		}
	}
	if (target[len - 1] == '@' || target[0] == '@')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target \"%s\" is malformed", target),
				 errhint("Write \"<branch>@head\", \"<branch>@base\" or \"<branch>@<revision>\".")));
}

/*
 * _resolve_revision_number: split "label@id" and expand heads/head/base.
 * Returns the resolved identifiers (strings) and the branch label (NULL
 * when absent or empty, as Alembic's truthiness tests treat it).
 */
static NameList
resolve_number(MigrGraph *g, const char *id, char **branch_label)
{
	NameList	res = {0, NULL};
	const char *at;

	*branch_label = NULL;
	if (id != NULL && (at = strchr(id, '@')) != NULL)
	{
		if (at > id)
			*branch_label = pnstrdup(id, at - id);
		id = at + 1;
	}
	if (id == NULL || strcmp(id, "base") == 0)
		return res;
	if (strcmp(id, "heads") == 0)
	{
		MigrRevList    *l;

		if (*branch_label)
			l = migr_filter_for_lineage(g, migr_rl_from(g->heads, g->nheads), *branch_label, false);
		else
			l = migr_rl_from(g->realheads, g->nrealheads);
		res.n = l->n;
		res.v = palloc(sizeof(char *) * (l->n + 1));
		for (int i = 0; i < l->n; i++)
			res.v[i] = g->revs[l->v[i]].id;
		return res;
	}
	if (strcmp(id, "head") == 0)
	{
		/* get_current_head: versioned heads, optionally on one branch */
		MigrRevList    *l = migr_rl_from(g->heads, g->nheads);

		if (*branch_label)
			l = migr_filter_for_lineage(g, l, *branch_label, false);
		if (l->n > 1)
			err_multiple_heads(g, l, *branch_label ? psprintf("%s@head", *branch_label) : "head");
		res.v = palloc(sizeof(char *));
		if (l->n == 1)
			res.v[res.n++] = g->revs[l->v[0]].id;
		return res;
	}
	res.v = palloc(sizeof(char *));
	res.v[res.n++] = id;
	return res;
}

/*
 * The revisions that share lineage with check_against: Alembic's
 * _shares_lineage(target, against) turned around, since "one of against is
 * above or below target" is "target is below or above one of against".
 * Computing the set once makes filtering a list, or every step of a walk,
 * linear instead of a graph walk per candidate.  Returns NULL when there is
 * nothing to test against (everything shares lineage then).
 */
static bool *
lineage_set(MigrGraph *g, const char *check_against, bool include_deps)
{
	char	   *bl;
	NameList	ids = resolve_number(g, check_against, &bl);
	int		   *idx = palloc(sizeof(int) * (ids.n + 2));
	int			n = 0,
				nvalid = 0;
	bool	   *up,
			   *down;

	if (bl)
		idx[n++] = revision_for_ident(g, bl, NULL, NULL);
	for (int i = 0; i < ids.n; i++)
		idx[n++] = revision_for_ident(g, ids.v[i], NULL, NULL);
	if (n == 0)
		return NULL;
	for (int i = 0; i < n; i++)
		if (idx[i] >= 0)
			idx[nvalid++] = idx[i];
	up = migr_graph_descendants(g, idx, nvalid, include_deps);
	down = migr_graph_ancestors(g, idx, nvalid, include_deps, false);
	for (int i = 0; i < g->nrevs; i++)
		up[i] = up[i] || down[i];
	pfree(down);
	return up;
}

/* The members of targets that are in lineage (NULL: all of them). */
static MigrRevList *
filter_by_set(MigrRevList *targets, const bool *lineage)
{
	MigrRevList *out = migr_rl_new();

	for (int i = 0; i < targets->n; i++)
		if (lineage == NULL || (targets->v[i] >= 0 && lineage[targets->v[i]]))
			migr_rl_push(out, targets->v[i]);
	return out;
}

/* Alembic's filter_for_lineage */
MigrRevList *
migr_filter_for_lineage(MigrGraph *g, MigrRevList *targets, const char *check_against,
						bool include_deps)
{
	bool	   *lineage;
	MigrRevList *out;

	/* as in Alembic, check_against is resolved only if there is a target */
	if (targets->n == 0)
		return migr_rl_new();
	lineage = lineage_set(g, check_against, include_deps);
	out = filter_by_set(targets, lineage);
	if (lineage)
		pfree(lineage);
	return out;
}

/* _resolve_branch: a label, a revision id, or an id prefix */
int
migr_resolve_branch(MigrGraph *g, const char *label)
{
	int			idx = migr_graph_lookup(g, label, NULL);
	bool		failed = false;

	if (idx >= 0)
		return idx;
	idx = revision_for_ident(g, label, NULL, &failed);
	/* cannot happen: migr_check_branch_exists() refuses such a branch first */
	if (failed)
		elog(ERROR, "branch \"%s\" does not exist", label);
	return idx;
}

/*
 * _revision_for_ident: exact id or label, else a unique prefix of an id or
 * label longer than three characters; then, with check_branch, the
 * revision must share lineage with the branch.  rid NULL means Python's
 * empty tuple and yields MIGR_NONE.  With failed non-NULL, "no such" sets
 * it instead of raising; "several match" always raises MG001.
 */
static int
revision_for_ident(MigrGraph *g, const char *rid, const char *check_branch,
				   bool *failed)
{
	int			branch_rev = MIGR_NONE;
	int			revision;

	if (check_branch)
		branch_rev = migr_resolve_branch(g, check_branch);

	if (rid == NULL)
		revision = MIGR_NONE;
	else if ((revision = migr_graph_lookup(g, rid, NULL)) < 0)
	{
		MigrRevList    *cands = migr_rl_new();
		size_t		plen = strlen(rid);

		/* cannot happen: target syntax refuses empty names first */
		if (plen == 0)
			elog(ERROR, "empty revision name in target \"%s\"", cur_target);
		for (int i = 0; i < g->nrevs; i++)
		{
			MigrRev    *r = &g->revs[i];

			CHECK_FOR_INTERRUPTS();
			if (strlen(r->id) > 3 && strncmp(r->id, rid, plen) == 0)
				migr_rl_push(cands, i);
			for (int j = 0; j < r->nlabels; j++)
				if (strlen(r->labels[j]) > 3 && strncmp(r->labels[j], rid, plen) == 0)
					migr_rl_push(cands, i);
		}
		if (branch_rev != MIGR_NONE && cands->n > 0)
			cands = migr_filter_for_lineage(g, cands, check_branch, false);
		if (cands->n != 1)
		{
			/* "no such" is the caller's to word; "several" is MG001 */
			if (failed && cands->n == 0)
			{
				*failed = true;
				return MIGR_NONE;
			}
			if (cands->n == 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_OBJECT),
						 errmsg("revision or branch \"%s\" does not exist", rid),
						 plen < 4 ? errhint("Revision ids of three characters or fewer must be given in full.") : 0));
			ereport(ERROR,
					(errcode(ERRCODE_MIGR_AMBIGUOUS_TARGET),
					 errmsg("revision prefix \"%s\" is ambiguous", rid),
					 errdetail("It matches %s.", migr_rl_names(g, cands)),
					 errhint("Give more characters of the revision id.")));
		}
		revision = cands->v[0];
	}

	if (check_branch && revision >= 0)
	{
		if (!migr_graph_shares_lineage(g, revision, &branch_rev, 1, false))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("revision \"%s\" is not a member of branch \"%s\"",
							g->revs[revision].id, check_branch)));
	}
	return revision;
}

/*
 * _walk: steps up (> 0) or down (< 0) from start, one child or parent at a
 * time; more than one way to go is an "ambiguous walk".  Returns MIGR_NONE
 * when the walk goes past either end (no_overwalk is always true here) and
 * MIGR_BASE when it steps down off a base.
 */
int
migr_walk(MigrGraph *g, int start, int steps, const char *branch_label)
{
	int			initial = start;
	bool	   *lineage = NULL;
	bool		have_lineage = false;

	for (int s = 0; s < abs(steps); s++)
	{
		MigrRevList    *children;

		CHECK_FOR_INTERRUPTS();

		if (steps > 0)
		{
			/* cannot happen: no upward walk starts below a base */
			if (initial == MIGR_BASE)
				elog(ERROR, "relative target \"%s\" steps up from below a base", cur_target);
			if (initial == MIGR_NONE)
				children = migr_rl_from(g->bases, g->nbases);
			else
				children = migr_rl_from(g->revs[initial].next, g->revs[initial].nnext);
			/* the branch's lineage is the same at every step: compute it once */
			if (branch_label && children->n > 0)
			{
				if (!have_lineage)
					lineage = lineage_set(g, branch_label, false);
				have_lineage = true;
				children = filter_by_set(children, lineage);
			}
			else if (branch_label)
				children = migr_rl_new();
		}
		else
		{
			children = migr_rl_new();
			if (initial != MIGR_BASE)
			{
				if (initial == MIGR_NONE)
					children = migr_rl_from(g->heads, g->nheads);
				else
					children = migr_rl_from(g->revs[initial].parents, g->revs[initial].nparents);
				if (children->n == 0)
					migr_rl_push(children, MIGR_BASE);
			}
		}
		if (children->n == 0)
			return MIGR_NONE;
		if (children->n > 1)
			ereport(ERROR,
					(errcode(ERRCODE_MIGR_AMBIGUOUS_TARGET),
					 errmsg("relative target \"%s\" is ambiguous", cur_target),
					 errdetail("Stepping %s from revision \"%s\" reaches %s.",
							   steps > 0 ? "up" : "down", rev_name(g, initial),
							   migr_rl_names(g, children)),
					 errhint("Step from a revision on one branch, such as \"<revision>%s%d\", or name the target.",
							 steps > 0 ? "+" : "-", abs(steps))));
		initial = children->v[0];
	}
	return initial;
}

/* relative is the step count, or +-1 when only the direction is known */
void
migr_err_walked_too_far(int relative)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("relative target \"%s\" goes past the %s of the revision graph",
					cur_target, relative > 0 ? "head" : "base"),
			 abs(relative) > 1 ?
			 errdetail("There are fewer than %d revisions in that direction.", abs(relative)) : 0));
}

/* Alembic's get_revisions for one identifier (None when id is NULL) */
MigrRevList *
migr_get_revisions(MigrGraph *g, const char *id)
{
	char	   *bl;
	NameList	ids = resolve_number(g, id, &bl);
	MigrRevList    *out = migr_rl_new();
	int			rint;

	if (ids.n == 1 && parse_int(ids.v[0], &rint) && rint < 0)
	{
		/*
		 * branch@-n: walk down from the heads carrying that label.  A head
		 * (no child at all) carries a label exactly when it descends, through
		 * parent edges, from the revision that declares it: the rest of
		 * Alembic's label spreading only reaches revisions below that one.
		 */
		bool	   *carries = NULL;

		if (bl)
		{
			bool		is_label;
			int			decl = migr_graph_lookup(g, bl, &is_label);

			if (decl < 0 || !is_label)
				return out;
			carries = migr_graph_descendants(g, &decl, 1, false);
		}
		for (int i = 0; i < g->nrealheads; i++)
		{
			int			h = g->realheads[i];

			if (carries && !carries[h])
				continue;
			migr_rl_push(out, migr_walk(g, h, rint, NULL));
		}
		return out;
	}
	for (int i = 0; i < ids.n; i++)
		migr_rl_push(out, revision_for_ident(g, ids.v[i], bl, NULL));
	return out;
}

/* Alembic's get_revision: one revision (or MIGR_NONE for base) */
int
migr_get_revision(MigrGraph *g, const char *id)
{
	char	   *bl;
	NameList	ids = resolve_number(g, id, &bl);

	if (ids.n > 1)
	{
		MigrRevList    *l = migr_rl_new();

		for (int i = 0; i < ids.n; i++)
			migr_rl_push(l, migr_graph_lookup(g, ids.v[i], NULL));
		err_multiple_heads(g, l, id);
	}
	return revision_for_ident(g, ids.n ? ids.v[0] : NULL, bl, NULL);
}

/* get_revision for "label@symbol" (or plain symbol when label is NULL) */
int
migr_get_revision_on(MigrGraph *g, const char *label, const char *symbol)
{
	return migr_get_revision(g, label ? psprintf("%s@%s", label, symbol) : symbol);
}

MigrRevList *
migr_current_heads_list(MigrGraph *g)
{
	int			n;
	int		   *h = migr_graph_current_heads(g, &n);

	return migr_rl_from(h, n);
}

/*
 * The branch of a "branch@..." target must exist, whatever the rest says:
 * Alembic ignores an unknown branch in some forms ("typo@base", or
 * "typo@head" with a single head), which would turn a typo into a silent
 * move of every branch.  A branch is named by a label or a revision id, or
 * by a prefix of four or more characters of one (as in _resolve_branch);
 * an ambiguous prefix is left to the resolution that reports it.
 */
void
migr_check_branch_exists(MigrGraph *g, const char *target)
{
	const char *at = strrchr(target, '@');
	char	   *label;
	size_t		len;

	if (at == NULL || at == target)
		return;
	label = pnstrdup(target, at - target);
	if (migr_graph_lookup(g, label, NULL) >= 0)
		return;
	len = strlen(label);
	for (int i = 0; i < g->nrevs; i++)
	{
		MigrRev    *r = &g->revs[i];

		CHECK_FOR_INTERRUPTS();
		if (strlen(r->id) > 3 && strncmp(r->id, label, len) == 0)
			return;
		for (int j = 0; j < r->nlabels; j++)
			if (strlen(r->labels[j]) > 3 && strncmp(r->labels[j], label, len) == 0)
				return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("revision or branch \"%s\" does not exist", label)));
}

/* _parse_upgrade_target */
MigrRevList *
migr_parse_upgrade_target(MigrGraph *g, MigrRevList *current, const char *target)
{
	char	   *label,
			   *symbol;
	int			relative;
	MigrRevList    *out = migr_rl_new();

	if (migr_graph_lookup(g, target, NULL) >= 0 ||
		!migr_match_relative(target, &label, &symbol, &relative))
		return migr_get_revisions(g, target);

	if (relative > 0)
	{
		if (symbol == NULL)
		{
			MigrRevList    *start = current->n ? current : migr_rl_from((int[]) {MIGR_NONE}, 1);
			int			rev;

			if (label)
			{
				MigrRevList    *cur_revs = migr_rl_new();

				for (int i = 0; i < current->n; i++)
					migr_rl_push(cur_revs, current->v[i]);
				start = migr_filter_for_lineage(g, cur_revs, label, false);
				if (start->n == 0)
				{
					/* backtrack to the tips of the active part of the branch */
					bool	   *act = migr_graph_ancestors(g, cur_revs->v, cur_revs->n, true, false);
					MigrRevList    *active = migr_rl_new();
					bool	   *below = palloc0(sizeof(bool) * (g->nrevs + 1));

					for (int i = 0; i < g->nrevs; i++)
					{
						CHECK_FOR_INTERRUPTS();
						if (act[i])
							migr_rl_push(active, i);
					}
					active = migr_filter_for_lineage(g, active, label, false);
					for (int i = 0; i < active->n; i++)
					{
						CHECK_FOR_INTERRUPTS();
						for (int j = 0; j < g->revs[active->v[i]].ndown; j++)
							below[g->revs[active->v[i]].down[j]] = true;
					}
					start = migr_rl_new();
					for (int i = 0; i < active->n; i++)
						if (!below[active->v[i]])
							migr_rl_push(start, active->v[i]);
					if (start->n == 0)
						migr_rl_push(start, MIGR_NONE);
				}
			}
			if (start->n > 1)
				ereport(ERROR,
						(errcode(ERRCODE_MIGR_AMBIGUOUS_TARGET),
						 errmsg("relative target \"%s\" is ambiguous: the database is at several heads", target),
						 errdetail("The current heads are %s.", migr_rl_names(g, start)),
						 errhint("Use \"<branch>@+N\" or \"<revision>+N\" to say which branch to move.")));
			rev = migr_walk(g, start->v[0], relative, label);
			if (rev == MIGR_NONE)
				migr_err_walked_too_far(relative);
			migr_rl_push(out, rev);
			return out;
		}
		migr_rl_push(out, migr_walk(g, migr_get_revision(g, symbol), relative, label));
		return out;
	}
	if (symbol == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relative target \"%s\" cannot be an upgrade target", target),
				 errhint("Use migr.downgrade() to move down, or step from a named revision such as \"<revision>-1\".")));
	migr_rl_push(out, migr_walk(g, migr_get_revision_on(g, label, symbol), relative, NULL));
	return out;
}

/* _get_all_current: branch heads of everything applied below the heads */
static MigrRevList *
get_all_current(MigrGraph *g, MigrRevList *cur)
{
	bool	   *all = migr_graph_ancestors(g, cur->v, cur->n, true, false);
	MigrRevList    *out = migr_rl_new();

	/* _filter_into_branch_heads: drop members with a member above them */
	for (int i = 0; i < g->nrevs; i++)
	{
		MigrRev    *r = &g->revs[i];
		bool		top = all[i];

		CHECK_FOR_INTERRUPTS();
		for (int j = 0; top && j < r->nnext; j++)
			if (all[r->next[j]])
				top = false;
		if (top)
			migr_rl_push(out, i);
	}
	return out;
}

/*
 * _parse_downgrade_target: returns the target revision (MIGR_NONE for
 * base) and sets *branch_label.
 */
int
migr_parse_downgrade_target(MigrGraph *g, MigrRevList *current, const char *target,
					   char **branch_label)
{
	char	   *label,
			   *symbol;
	int			relative;
	const char *at;

	*branch_label = NULL;
	if (migr_graph_lookup(g, target, NULL) < 0 &&
		migr_match_relative(target, &label, &symbol, &relative))
	{
		int			rev;

		if (relative >= 0)
		{
			if (symbol == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("relative target \"%s\" cannot be a downgrade target", target),
						 errhint("Use migr.upgrade() to move up, or step down with \"-N\".")));
			rev = migr_walk(g, migr_get_revision(g, symbol), relative, label);
			if (rev == MIGR_NONE)
				migr_err_walked_too_far(relative);
			*branch_label = label;
			return rev;
		}
		if (symbol == NULL)
		{
			if (label)
			{
				MigrRevList    *sl = migr_filter_for_lineage(g, current, label, false);

				if (sl->n == 0)
					sl = migr_filter_for_lineage(g, get_all_current(g, current), label, false);
				if (sl->n != 1)
					ereport(ERROR,
							(errcode(sl->n ? ERRCODE_MIGR_AMBIGUOUS_TARGET : ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
							 errmsg("branch \"%s\" has %s applied head", label, sl->n ? "more than one" : "no"),
							 errdetail("Relative target \"%s\" steps down from the applied head of that branch.", target)));
				symbol = g->revs[sl->v[0]].id;
			}
			else
			{
				if (current->n == 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("relative target \"%s\" goes past the base of the revision graph", target),
							 errdetail("No revision is applied.")));
				/* Alembic walks the branch of the first version row */
				symbol = g->revs[current->v[0]].id;
				label = symbol;
			}
			rev = migr_walk(g, migr_get_revision_on(g, label, symbol), relative, NULL);
		}
		else
			rev = migr_walk(g, migr_get_revision_on(g, label, symbol), relative, NULL);
		if (rev == MIGR_NONE)
			migr_err_walked_too_far(relative);
		*branch_label = label;
		return rev;
	}

	/* absolute: "label@symbol" splits at the last "@" */
	at = strrchr(target, '@');
	if (at != NULL)
	{
		if (at > target)
			*branch_label = pnstrdup(target, at - target);
		return migr_get_revision(g, at + 1);
	}
	return migr_get_revision(g, target);
}
