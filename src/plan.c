/*-------------------------------------------------------------------------
 * plan.c
 *	  Which revisions an upgrade, downgrade or stamp touches, and in which
 *	  order: Alembic 1.8's _parse_upgrade_target, _parse_downgrade_target,
 *	  _collect_upgrade_revisions, _collect_downgrade_revisions and
 *	  _stamp_revs, on top of the target resolution in target.c.  Deliberate
 *	  differences are listed in target.c and docs/graph.md.
 *
 *	  No SPI here.
 *
 * IDENTIFICATION
 *	  src/plan.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "migr_errcodes.h"
#include "target.h"

/* _parse_upgrade_target */
static MigrRevList *
parse_upgrade_target(MigrGraph *g, MigrRevList *current, const char *target)
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
						if (act[i])
							migr_rl_push(active, i);
					active = migr_filter_for_lineage(g, active, label, false);
					for (int i = 0; i < active->n; i++)
						for (int j = 0; j < g->revs[active->v[i]].ndown; j++)
							below[g->revs[active->v[i]].down[j]] = true;
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
static int
parse_downgrade_target(MigrGraph *g, MigrRevList *current, const char *target,
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

static MigrPlan *
make_plan(MigrGraph *g, bool *remaining, MigrRevList *heads, bool upgrade)
{
	MigrPlan   *plan = palloc0(sizeof(MigrPlan));
	int			n;
	int		   *order = migr_graph_toposort(g, remaining, heads->v, heads->n, &n);

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
	MigrRevList    *cur;
	MigrRevList    *targets;
	bool	   *required,
			   *have;

	migr_target_begin(target);
	cur = migr_current_heads_list(g);
	targets = parse_upgrade_target(g, cur, target);
	for (int i = 0; i < targets->n; i++)
		if (targets->v[i] < 0)
			migr_err_walked_too_far(targets->v[i] == MIGR_BASE ? -1 : 1);

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
	MigrRevList    *cur;
	MigrRevList    *roots = migr_rl_new();
	char	   *branch_label;
	int			trev;
	int			nroots_alembic;
	bool	   *drop,
			   *active;
	bool		any = false;

	migr_target_begin(target);
	cur = migr_current_heads_list(g);
	trev = parse_downgrade_target(g, cur, target, &branch_label);
	if (trev == MIGR_BASE)
		trev = MIGR_NONE;

	if (trev == MIGR_NONE)
	{
		/* every base; Alembic's map lists a labelled base once per name */
		nroots_alembic = 0;
		for (int i = 0; i < g->nbases; i++)
		{
			migr_rl_push(roots, g->bases[i]);
			nroots_alembic += 1 + g->revs[g->bases[i]].nlabels;
		}
	}
	else
	{
		for (int i = 0; i < g->revs[trev].nnext; i++)
			migr_rl_push(roots, g->revs[trev].next[i]);
		nroots_alembic = roots->n;
	}

	if (branch_label && nroots_alembic > 1)
	{
		int			b = migr_resolve_branch(g, branch_label);
		bool	   *anc = migr_graph_ancestors(g, &b, 1, false, false);
		MigrRevList    *kept = migr_rl_new();

		for (int i = 0; i < roots->n; i++)
			if (anc[roots->v[i]])
				migr_rl_push(kept, roots->v[i]);
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
	if (trev >= 0 && !any && !migr_rl_has(cur, trev))
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
 *		and they stay; "base" (or a migr_walk past it) removes them.  Everything
 *		below the resulting heads counts as applied.
 */
bool *
migr_stamp_applied_set(MigrGraph *g, const char *target)
{
	MigrRevList    *cur;
	MigrRevList    *filtered;
	MigrRevList    *dests;
	bool	   *is_head = palloc0(sizeof(bool) * (g->nrevs + 1));
	MigrRevList    *heads = migr_rl_new();

	migr_target_begin(target);
	cur = migr_current_heads_list(g);
	filtered = migr_filter_for_lineage(g, cur, target, true);
	dests = migr_get_revisions(g, target);
	if (dests->n == 0)
		migr_rl_push(dests, MIGR_NONE);
	for (int i = 0; i < cur->n; i++)
		is_head[cur->v[i]] = true;

	/*
	 * A walk that lands exactly below a base: Alembic asserts while it
	 * collects the steps, before it carries out any of them, so this error
	 * wins over the one below whatever the order of the destinations.
	 */
	for (int i = 0; i < dests->n; i++)
		if (dests->v[i] == MIGR_BASE)
			migr_err_walked_too_far(-1);

	for (int i = 0; i < dests->n; i++)
	{
		int			d = dests->v[i];
		bool		related = false;

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
		if (migr_rl_has(filtered, d))
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
			migr_rl_push(heads, i);
	return migr_graph_ancestors(g, heads->v, heads->n, true, false);
}
