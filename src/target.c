/*-------------------------------------------------------------------------
 * target.c
 *	  Target resolution and planning, with Alembic 1.8's semantics
 *	  (alembic/script/revision.py): get_revisions, _walk, the upgrade and
 *	  downgrade target parsers and _collect_{upgrade,downgrade}_revisions.
 *	  The functions below keep Alembic's names in their comments so the two
 *	  can be read side by side.  Alembic's errors become ereports with
 *	  migr's SQLSTATEs.
 *
 *	  Deliberate differences, all documented in docs/graph.md:
 *	  - a target equal to a registered revision id is that revision, even
 *	    when it looks like a relative step (ids may contain '-');
 *	  - a relative target must match the whole string ("abc+1x" is an
 *	    error, where Alembic silently ignores the "x").
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
#include "target.h"

typedef struct RevList
{
	int			n;
	int			cap;
	int		   *v;
} RevList;

typedef struct NameList
{
	int			n;
	const char **v;
} NameList;

/* the target being resolved, for error messages */
static const char *cur_target = "";

static RevList *get_revisions(MigrGraph *g, const char *id);
static int	get_revision(MigrGraph *g, const char *id);
static int	revision_for_ident(MigrGraph *g, const char *rid,
							   const char *check_branch, bool *failed);
static RevList *filter_for_lineage(MigrGraph *g, RevList *targets,
								   const char *check_against, bool include_deps);

static RevList *
rl_new(void)
{
	return palloc0(sizeof(RevList));
}

static void
rl_push(RevList *l, int v)
{
	if (l->n >= l->cap)
	{
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = l->v ? repalloc(l->v, sizeof(int) * l->cap) : palloc(sizeof(int) * l->cap);
	}
	l->v[l->n++] = v;
}

static RevList *
rl_from(const int *v, int n)
{
	RevList    *l = rl_new();

	for (int i = 0; i < n; i++)
		rl_push(l, v[i]);
	return l;
}

static bool
rl_has(RevList *l, int v)
{
	for (int i = 0; i < l->n; i++)
		if (l->v[i] == v)
			return true;
	return false;
}

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
static char *
rl_names(MigrGraph *g, RevList *l)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < l->n; i++)
		appendStringInfo(&buf, "%s\"%s\"", i ? ", " : "", rev_name(g, l->v[i]));
	return buf.data;
}

static void
err_multiple_heads(MigrGraph *g, RevList *heads, const char *arg)
{
	ereport(ERROR,
			(errcode(ERRCODE_MIGR_AMBIGUOUS_TARGET),
			 errmsg("target \"%s\" is ambiguous: the revision graph has %d heads",
					arg, heads->n),
			 errdetail("The heads are %s.", rl_names(g, heads)),
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
static bool
match_relative(const char *target, char **label, char **symbol, int *relative)
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
		RevList    *l;

		if (*branch_label)
			l = filter_for_lineage(g, rl_from(g->heads, g->nheads), *branch_label, false);
		else
			l = rl_from(g->realheads, g->nrealheads);
		res.n = l->n;
		res.v = palloc(sizeof(char *) * (l->n + 1));
		for (int i = 0; i < l->n; i++)
			res.v[i] = g->revs[l->v[i]].id;
		return res;
	}
	if (strcmp(id, "head") == 0)
	{
		/* get_current_head: versioned heads, optionally on one branch */
		RevList    *l = rl_from(g->heads, g->nheads);

		if (*branch_label)
			l = filter_for_lineage(g, l, *branch_label, false);
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
 * _shares_lineage with identifiers to test against (resolved through
 * _revision_for_ident without a branch).
 */
static bool
shares_lineage(MigrGraph *g, int target, NameList against, bool include_deps)
{
	int		   *idx;

	if (against.n == 0)
		return true;
	idx = palloc(sizeof(int) * against.n);
	for (int i = 0; i < against.n; i++)
		idx[i] = revision_for_ident(g, against.v[i], NULL, NULL);
	return migr_graph_shares_lineage(g, target, idx, against.n, include_deps);
}

/* filter_for_lineage */
static RevList *
filter_for_lineage(MigrGraph *g, RevList *targets, const char *check_against,
				   bool include_deps)
{
	char	   *bl;
	NameList	ids = resolve_number(g, check_against, &bl);
	NameList	shares;
	RevList    *out = rl_new();

	shares.n = 0;
	shares.v = palloc(sizeof(char *) * (ids.n + 1));
	if (bl)
		shares.v[shares.n++] = bl;
	for (int i = 0; i < ids.n; i++)
		shares.v[shares.n++] = ids.v[i];
	for (int i = 0; i < targets->n; i++)
		if (shares_lineage(g, targets->v[i], shares, include_deps))
			rl_push(out, targets->v[i]);
	return out;
}

/* _resolve_branch: a label, a revision id, or an id prefix */
static int
resolve_branch(MigrGraph *g, const char *label)
{
	int			idx = migr_graph_lookup(g, label, NULL);
	bool		failed = false;

	if (idx >= 0)
		return idx;
	idx = revision_for_ident(g, label, NULL, &failed);
	if (failed)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("branch \"%s\" does not exist", label),
				 errhint("A branch is named by a branch label or by a revision id.")));
	return idx;
}

/*
 * _revision_for_ident: exact id or label, else a unique prefix of an id or
 * label longer than three characters; then, with check_branch, the
 * revision must share lineage with the branch.  rid NULL means Python's
 * empty tuple and yields MIGR_NONE.  With failed non-NULL, "no such" and
 * "several match" set it instead of raising.
 */
static int
revision_for_ident(MigrGraph *g, const char *rid, const char *check_branch,
				   bool *failed)
{
	int			branch_rev = MIGR_NONE;
	int			revision;

	if (check_branch)
		branch_rev = resolve_branch(g, check_branch);

	if (rid == NULL)
		revision = MIGR_NONE;
	else if ((revision = migr_graph_lookup(g, rid, NULL)) < 0)
	{
		RevList    *cands = rl_new();
		size_t		plen = strlen(rid);

		if (plen == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("target \"%s\" is malformed", cur_target)));
		for (int i = 0; i < g->nrevs; i++)
		{
			MigrRev    *r = &g->revs[i];

			if (strlen(r->id) > 3 && strncmp(r->id, rid, plen) == 0)
				rl_push(cands, i);
			for (int j = 0; j < r->nlabels; j++)
				if (strlen(r->labels[j]) > 3 && strncmp(r->labels[j], rid, plen) == 0)
					rl_push(cands, i);
		}
		if (branch_rev != MIGR_NONE && cands->n > 0)
			cands = filter_for_lineage(g, cands, check_branch, false);
		if (cands->n != 1)
		{
			if (failed)
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
					 errdetail("It matches %s.", rl_names(g, cands)),
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
static int
walk(MigrGraph *g, int start, int steps, const char *branch_label)
{
	int			initial = start;

	for (int s = 0; s < abs(steps); s++)
	{
		RevList    *children;

		if (steps > 0)
		{
			if (initial == MIGR_BASE)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("relative target \"%s\" cannot step up from base", cur_target)));
			if (initial == MIGR_NONE)
				children = rl_from(g->bases, g->nbases);
			else
				children = rl_from(g->revs[initial].next, g->revs[initial].nnext);
			if (branch_label)
				children = filter_for_lineage(g, children, branch_label, false);
		}
		else
		{
			children = rl_new();
			if (initial != MIGR_BASE)
			{
				if (initial == MIGR_NONE)
					children = rl_from(g->heads, g->nheads);
				else
					children = rl_from(g->revs[initial].parents, g->revs[initial].nparents);
				if (children->n == 0)
					rl_push(children, MIGR_BASE);
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
							   rl_names(g, children)),
					 errhint("Step from a revision on one branch, such as \"<revision>%s%d\", or name the target.",
							 steps > 0 ? "+" : "-", abs(steps))));
		initial = children->v[0];
	}
	return initial;
}

/* relative is the step count, or +-1 when only the direction is known */
static void
err_walked_too_far(int relative)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("relative target \"%s\" goes past the %s of the revision graph",
					cur_target, relative > 0 ? "head" : "base"),
			 abs(relative) > 1 ?
			 errdetail("There are fewer than %d revisions in that direction.", abs(relative)) : 0));
}

/* get_revisions for one identifier (None when id is NULL) */
static RevList *
get_revisions(MigrGraph *g, const char *id)
{
	char	   *bl;
	NameList	ids = resolve_number(g, id, &bl);
	RevList    *out = rl_new();
	int			rint;

	if (ids.n == 1 && parse_int(ids.v[0], &rint) && rint < 0)
	{
		/* branch@-n: walk down from the heads carrying that label */
		for (int i = 0; i < g->nrealheads; i++)
		{
			int			h = g->realheads[i];

			if (bl && !migr_graph_has_label(&g->revs[h], bl))
				continue;
			rl_push(out, walk(g, h, rint, NULL));
		}
		return out;
	}
	for (int i = 0; i < ids.n; i++)
		rl_push(out, revision_for_ident(g, ids.v[i], bl, NULL));
	return out;
}

/* get_revision: one revision (or MIGR_NONE for base) */
static int
get_revision(MigrGraph *g, const char *id)
{
	char	   *bl;
	NameList	ids = resolve_number(g, id, &bl);

	if (ids.n > 1)
	{
		RevList    *l = rl_new();

		for (int i = 0; i < ids.n; i++)
			rl_push(l, migr_graph_lookup(g, ids.v[i], NULL));
		err_multiple_heads(g, l, id);
	}
	return revision_for_ident(g, ids.n ? ids.v[0] : NULL, bl, NULL);
}

/* get_revision for "label@symbol" (or plain symbol when label is NULL) */
static int
get_revision_on(MigrGraph *g, const char *label, const char *symbol)
{
	return get_revision(g, label ? psprintf("%s@%s", label, symbol) : symbol);
}

static RevList *
current_heads(MigrGraph *g)
{
	int			n;
	int		   *h = migr_graph_current_heads(g, &n);

	return rl_from(h, n);
}

/* _parse_upgrade_target */
static RevList *
parse_upgrade_target(MigrGraph *g, RevList *current, const char *target)
{
	char	   *label,
			   *symbol;
	int			relative;
	RevList    *out = rl_new();

	if (migr_graph_lookup(g, target, NULL) >= 0 ||
		!match_relative(target, &label, &symbol, &relative))
		return get_revisions(g, target);

	if (relative > 0)
	{
		if (symbol == NULL)
		{
			RevList    *start = current->n ? current : rl_from((int[]) {MIGR_NONE}, 1);
			int			rev;

			if (label)
			{
				RevList    *cur_revs = rl_new();

				for (int i = 0; i < current->n; i++)
					rl_push(cur_revs, current->v[i]);
				start = filter_for_lineage(g, cur_revs, label, false);
				if (start->n == 0)
				{
					/* backtrack to the tips of the active part of the branch */
					bool	   *act = migr_graph_ancestors(g, cur_revs->v, cur_revs->n, true, false);
					RevList    *active = rl_new();
					bool	   *below = palloc0(sizeof(bool) * (g->nrevs + 1));

					for (int i = 0; i < g->nrevs; i++)
						if (act[i])
							rl_push(active, i);
					active = filter_for_lineage(g, active, label, false);
					for (int i = 0; i < active->n; i++)
						for (int j = 0; j < g->revs[active->v[i]].ndown; j++)
							below[g->revs[active->v[i]].down[j]] = true;
					start = rl_new();
					for (int i = 0; i < active->n; i++)
						if (!below[active->v[i]])
							rl_push(start, active->v[i]);
					if (start->n == 0)
						rl_push(start, MIGR_NONE);
				}
			}
			if (start->n > 1)
				ereport(ERROR,
						(errcode(ERRCODE_MIGR_AMBIGUOUS_TARGET),
						 errmsg("relative target \"%s\" is ambiguous: the database is at several heads", target),
						 errdetail("The current heads are %s.", rl_names(g, start)),
						 errhint("Use \"<branch>@+N\" or \"<revision>+N\" to say which branch to move.")));
			rev = walk(g, start->v[0], relative, label);
			if (rev == MIGR_NONE)
				err_walked_too_far(relative);
			rl_push(out, rev);
			return out;
		}
		rl_push(out, walk(g, get_revision(g, symbol), relative, label));
		return out;
	}
	if (symbol == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relative target \"%s\" cannot be an upgrade target", target),
				 errhint("Use migr.downgrade() to move down, or step from a named revision such as \"<revision>-1\".")));
	rl_push(out, walk(g, get_revision_on(g, label, symbol), relative, NULL));
	return out;
}

/* _get_all_current: branch heads of everything applied below the heads */
static RevList *
get_all_current(MigrGraph *g, RevList *cur)
{
	bool	   *all = migr_graph_ancestors(g, cur->v, cur->n, true, false);
	RevList    *out = rl_new();

	/* _filter_into_branch_heads: drop members with a member above them */
	for (int i = 0; i < g->nrevs; i++)
	{
		MigrRev    *r = &g->revs[i];
		bool		top = all[i];

		for (int j = 0; top && j < r->nnext; j++)
			if (all[r->next[j]])
				top = false;
		if (top)
			rl_push(out, i);
	}
	return out;
}

/*
 * _parse_downgrade_target: returns the target revision (MIGR_NONE for
 * base) and sets *branch_label.
 */
static int
parse_downgrade_target(MigrGraph *g, RevList *current, const char *target,
					   char **branch_label)
{
	char	   *label,
			   *symbol;
	int			relative;
	const char *at;

	*branch_label = NULL;
	if (migr_graph_lookup(g, target, NULL) < 0 &&
		match_relative(target, &label, &symbol, &relative))
	{
		int			rev;

		if (relative >= 0)
		{
			if (symbol == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("relative target \"%s\" cannot be a downgrade target", target),
						 errhint("Use migr.upgrade() to move up, or step down with \"-N\".")));
			rev = walk(g, get_revision(g, symbol), relative, label);
			if (rev == MIGR_NONE)
				err_walked_too_far(relative);
			*branch_label = label;
			return rev;
		}
		if (symbol == NULL)
		{
			if (label)
			{
				RevList    *sl = filter_for_lineage(g, current, label, false);

				if (sl->n == 0)
					sl = filter_for_lineage(g, get_all_current(g, current), label, false);
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
			rev = walk(g, get_revision_on(g, label, symbol), relative, NULL);
		}
		else
			rev = walk(g, get_revision_on(g, label, symbol), relative, NULL);
		if (rev == MIGR_NONE)
			err_walked_too_far(relative);
		*branch_label = label;
		return rev;
	}

	/* absolute: "label@symbol" splits at the last "@" */
	at = strrchr(target, '@');
	if (at != NULL)
	{
		if (at > target)
			*branch_label = pnstrdup(target, at - target);
		return get_revision(g, at + 1);
	}
	return get_revision(g, target);
}

static MigrPlan *
make_plan(MigrGraph *g, bool *todo, RevList *heads, bool upgrade)
{
	MigrPlan   *plan = palloc0(sizeof(MigrPlan));
	int			n;
	int		   *order = migr_graph_toposort(g, todo, heads->v, heads->n, &n);

	plan->upgrade = upgrade;
	plan->nsteps = n;
	plan->steps = order;
	if (upgrade)
		for (int i = 0; i < n / 2; i++)
		{
			int			t = order[i];

			order[i] = order[n - 1 - i];
			order[n - 1 - i] = t;
		}
	return plan;
}

/*
 * migr_plan_upgrade
 *		_collect_upgrade_revisions with implicit_base, as "alembic upgrade"
 *		calls it: everything the targets need that is not below the current
 *		heads, in upgrade order.
 */
MigrPlan *
migr_plan_upgrade(MigrGraph *g, const char *target)
{
	RevList    *cur;
	RevList    *targets;
	bool	   *required,
			   *have;

	cur_target = target;
	migr_check_target_syntax(target);
	cur = current_heads(g);
	targets = parse_upgrade_target(g, cur, target);
	for (int i = 0; i < targets->n; i++)
		if (targets->v[i] < 0)
			err_walked_too_far(targets->v[i] == MIGR_BASE ? -1 : 1);

	required = migr_graph_ancestors(g, targets->v, targets->n, true, true);
	have = migr_graph_ancestors(g, cur->v, cur->n, true, true);
	for (int i = 0; i < g->nrevs; i++)
		required[i] = required[i] && !have[i];
	return make_plan(g, required, targets, true);
}

/*
 * migr_plan_downgrade
 *		_collect_downgrade_revisions: the applied revisions that descend
 *		(through parents or dependencies) from the target's children, newest
 *		first.
 */
MigrPlan *
migr_plan_downgrade(MigrGraph *g, const char *target)
{
	RevList    *cur;
	RevList    *roots = rl_new();
	char	   *branch_label;
	int			trev;
	int			nroots_alembic;
	bool	   *drop,
			   *active;
	bool		any = false;

	cur_target = target;
	migr_check_target_syntax(target);
	cur = current_heads(g);
	trev = parse_downgrade_target(g, cur, target, &branch_label);
	if (trev == MIGR_BASE)
		trev = MIGR_NONE;

	if (trev == MIGR_NONE)
	{
		/* every base; Alembic's map lists a labelled base once per name */
		nroots_alembic = 0;
		for (int i = 0; i < g->nbases; i++)
		{
			rl_push(roots, g->bases[i]);
			nroots_alembic += 1 + g->revs[g->bases[i]].nlabels;
		}
	}
	else
	{
		for (int i = 0; i < g->revs[trev].nnext; i++)
			rl_push(roots, g->revs[trev].next[i]);
		nroots_alembic = roots->n;
	}

	if (branch_label && nroots_alembic > 1)
	{
		int			b = resolve_branch(g, branch_label);
		bool	   *anc = migr_graph_ancestors(g, &b, 1, false, false);
		RevList    *kept = rl_new();

		for (int i = 0; i < roots->n; i++)
			if (anc[roots->v[i]])
				rl_push(kept, roots->v[i]);
		roots = kept;
		if (roots->n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("target \"%s\" is not a valid downgrade target from the current heads", target)));
	}

	drop = migr_graph_descendants(g, roots->v, roots->n, true);
	active = migr_graph_ancestors(g, cur->v, cur->n, true, false);
	for (int i = 0; i < g->nrevs; i++)
	{
		drop[i] = drop[i] && active[i];
		any |= drop[i];
	}
	if (trev >= 0 && !any && !rl_has(cur, trev))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("revision \"%s\" is not a valid downgrade target from the current heads",
						g->revs[trev].id),
				 errdetail("It is not applied, and nothing applied descends from it."),
				 errhint("Use migr.upgrade() to move to a revision that is not applied yet.")));
	return make_plan(g, drop, cur, false);
}

/*
 * migr_stamp_applied_set
 *		The applied set after "stamp target", as Alembic's _stamp_revs moves
 *		the version table: for each destination, a current head on the
 *		target's lineage that is below or above it is replaced by it (all of
 *		them at once); a destination unrelated to them starts a new branch
 *		and they stay; "base" (or a walk past it) removes them.  Everything
 *		below the resulting heads counts as applied.
 */
bool *
migr_stamp_applied_set(MigrGraph *g, const char *target)
{
	RevList    *cur;
	RevList    *filtered;
	RevList    *dests;
	bool	   *is_head = palloc0(sizeof(bool) * (g->nrevs + 1));
	RevList    *heads = rl_new();

	cur_target = target;
	migr_check_target_syntax(target);
	cur = current_heads(g);
	filtered = filter_for_lineage(g, cur, target, true);
	dests = get_revisions(g, target);
	if (dests->n == 0)
		rl_push(dests, MIGR_NONE);
	for (int i = 0; i < cur->n; i++)
		is_head[cur->v[i]] = true;

	for (int i = 0; i < dests->n; i++)
	{
		int			d = dests->v[i];
		bool		related = false;

		/* a walk that lands exactly below a base: Alembic asserts */
		if (d == MIGR_BASE)
			err_walked_too_far(-1);
		/* "-1" from two heads can reach one revision twice (Alembic asserts) */
		for (int j = 0; j < i; j++)
			if (d >= 0 && dests->v[j] == d)
				ereport(ERROR,
						(errcode(ERRCODE_MIGR_AMBIGUOUS_TARGET),
						 errmsg("stamp target \"%s\" reaches revision \"%s\" more than once", target,
								g->revs[d].id),
						 errhint("Stamp the revision by its id.")));
		if (d == MIGR_NONE)
		{
			for (int j = 0; j < filtered->n; j++)
				is_head[filtered->v[j]] = false;
			continue;
		}
		if (rl_has(filtered, d))
			continue;
		{
			bool	   *up = migr_graph_descendants(g, &d, 1, true);
			bool	   *down = migr_graph_ancestors(g, &d, 1, true, false);

			for (int j = 0; j < filtered->n && !related; j++)
				related = up[filtered->v[j]] || down[filtered->v[j]];
		}
		if (related)
			for (int j = 0; j < filtered->n; j++)
				is_head[filtered->v[j]] = false;
		is_head[d] = true;
	}
	for (int i = 0; i < g->nrevs; i++)
		if (is_head[i])
			rl_push(heads, i);
	return migr_graph_ancestors(g, heads->v, heads->n, true, false);
}
