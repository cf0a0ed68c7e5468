/*-------------------------------------------------------------------------
 * plan.c
 *	  Which revisions an upgrade, downgrade or stamp touches, and in which
 *	  order: Alembic 1.8's _collect_upgrade_revisions,
 *	  _collect_downgrade_revisions and _stamp_revs, on top of the target
 *	  parsing and resolution in target.c.  Deliberate differences are listed
 *	  in target.c and docs/graph.md.
 *
 *	  No SPI here.
 *
 * IDENTIFICATION
 *	  src/plan.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "migr_errcodes.h"
#include "target.h"

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
	migr_check_branch_exists(g, target);
	cur = migr_current_heads_list(g);
	targets = migr_parse_upgrade_target(g, cur, target);
	for (int i = 0; i < targets->n; i++)
		if (targets->v[i] < 0)
			migr_err_walked_too_far(targets->v[i] == MIGR_BASE ? -1 : 1);

	required = migr_graph_ancestors(g, targets->v, targets->n, true, true);
	have = migr_graph_ancestors(g, cur->v, cur->n, true, true);
	for (int i = 0; i < g->nrevs; i++)
	{
		CHECK_FOR_INTERRUPTS();
		required[i] = required[i] && !have[i];
	}
	return make_plan(g, required, targets, true);
}

/*
 * A downgrade target that nothing would be reverted for, though it is not a
 * current head: say why.  Either it is not applied; or everything applied
 * above it is on other branches than the one named; or what is applied
 * above it only depends on it (depends_on), while a downgrade to a revision
 * reverts what descends from the revisions that revise it.
 */
static void
err_not_downgrade_target(MigrGraph *g, int trev, const char *branch_label)
{
	MigrRev    *t = &g->revs[trev];
	StringInfoData above,
				dependents;

	if (!t->applied)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("revision \"%s\" is not a valid downgrade target from the current heads", t->id),
				 errdetail("It is not applied, and nothing applied descends from it."),
				 errhint("Use migr.upgrade() to move to a revision that is not applied yet.")));

	initStringInfo(&above);
	initStringInfo(&dependents);
	for (int j = 0; j < t->nallnext; j++)
	{
		MigrRev    *x = &g->revs[t->allnext[j]];
		bool		child = false;

		CHECK_FOR_INTERRUPTS();
		if (!x->applied)
			continue;
		for (int k = 0; k < t->nnext; k++)
			if (t->next[k] == t->allnext[j])
				child = true;
		appendStringInfo(child ? &above : &dependents, "%s\"%s\"",
						 (child ? above.len : dependents.len) ? ", " : "", x->id);
	}
	if (above.len > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("revision \"%s\" is not a valid downgrade target from the current heads", t->id),
				 errdetail("The applied revisions directly above it, %s, are not on branch \"%s\".",
						   above.data, branch_label ? branch_label : "")));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("revision \"%s\" is not a valid downgrade target from the current heads", t->id),
			 errdetail("It is applied, and no applied revision revises it: the applied revisions above it depend on it through depends_on (%s).",
					   dependents.data),
			 errhint("Downgrade the revisions that depend on it along their own branches.")));
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
	migr_check_branch_exists(g, target);
	cur = migr_current_heads_list(g);
	trev = migr_parse_downgrade_target(g, cur, target, &branch_label);
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
					 errmsg("target \"%s\" is not a valid downgrade target from the current heads", target),
					 errdetail("None of the revisions directly above \"%s\" is on branch \"%s\".",
							   trev == MIGR_NONE ? "base" : g->revs[trev].id, branch_label)));
	}

	drop = migr_graph_descendants(g, roots->v, roots->n, true);
	active = migr_graph_ancestors(g, cur->v, cur->n, true, false);
	for (int i = 0; i < g->nrevs; i++)
	{
		CHECK_FOR_INTERRUPTS();
		drop[i] = drop[i] && active[i];
		any |= drop[i];
	}
	if (trev >= 0 && !any && !migr_rl_has(cur, trev))
		err_not_downgrade_target(g, trev, branch_label);
	return make_plan(g, drop, cur, false);
}

/*
 * stamp_rows
 *		The version rows "stamp target" leaves, in order, as Alembic's
 *		_stamp_revs and its StampSteps move them: starting from the current
 *		heads' rows, for each destination, "base" deletes the rows of the
 *		current heads on the target's lineage; a destination related to
 *		them (above or below) takes the row of the last of them still there
 *		and deletes the others, or gets a new row when an earlier
 *		destination already replaced them all; an unrelated one gets a new
 *		row.  Then a row below another row is dropped: only heads stay.
 *		rows->v are revisions; seqs[k] is the head_seq row k keeps, or -1
 *		for a new row.
 */
static void
stamp_rows(MigrGraph *g, const char *target, MigrRevList **rows_out,
		   int64 **seqs_out)
{
	MigrRevList *cur;
	MigrRevList *filtered;
	MigrRevList *dests;
	int			cap;
	int		   *row_rev;
	int64	   *row_seq;
	int			nrows = 0;
	bool	   *applied;
	MigrRevList *rows = migr_rl_new();
	int64	   *seqs;

	migr_target_begin(target);
	migr_check_branch_exists(g, target);
	cur = migr_current_heads_list(g);
	filtered = migr_filter_for_lineage(g, cur, target, true);
	dests = migr_get_revisions(g, target);
	if (dests->n == 0)
		migr_rl_push(dests, MIGR_NONE);

	/*
	 * A walk that lands exactly below a base: Alembic asserts while it
	 * collects the steps, before it carries out any of them, so this error
	 * wins over the one below whatever the order of the destinations.
	 */
	for (int i = 0; i < dests->n; i++)
		if (dests->v[i] == MIGR_BASE)
			migr_err_walked_too_far(-1);

	cap = cur->n + dests->n + 1;
	row_rev = palloc(sizeof(int) * cap);
	row_seq = palloc(sizeof(int64) * cap);
	for (int i = 0; i < cur->n; i++)
	{
		row_rev[nrows] = cur->v[i];
		row_seq[nrows++] = g->revs[cur->v[i]].head_seq;
	}

	for (int i = 0; i < dests->n; i++)
	{
		int			d = dests->v[i];
		bool		related = false;
		int			last = -1;

		CHECK_FOR_INTERRUPTS();
		/* "-1" from two heads can reach one revision twice (Alembic asserts) */
		for (int j = 0; j < i; j++)
			if (d >= 0 && dests->v[j] == d)
				ereport(ERROR,
						(errcode(ERRCODE_MIGR_AMBIGUOUS_TARGET),
						 errmsg("stamp target \"%s\" reaches revision \"%s\" more than once", target,
								g->revs[d].id),
						 errhint("Stamp the revision by its id.")));
		if (d != MIGR_NONE && migr_rl_has(filtered, d))
			continue;
		if (d != MIGR_NONE)
		{
			bool	   *up = migr_graph_descendants(g, &d, 1, true);
			bool	   *down = migr_graph_ancestors(g, &d, 1, true, false);

			for (int j = 0; j < filtered->n && !related; j++)
				related = up[filtered->v[j]] || down[filtered->v[j]];
		}
		if (d == MIGR_NONE || related)
		{
			int			keep = -1;
			int			w = 0;

			/* the lineage's heads lose their rows, but the last one's */
			for (int k = 0; k < nrows; k++)
				if (migr_rl_has(filtered, row_rev[k]))
					last = k;
			for (int k = 0; k < nrows; k++)
			{
				if (migr_rl_has(filtered, row_rev[k]) &&
					(d == MIGR_NONE || k != last))
					continue;
				if (k == last)
					keep = w;
				row_rev[w] = row_rev[k];
				row_seq[w++] = row_seq[k];
			}
			nrows = w;
			if (d == MIGR_NONE)
				continue;
			if (keep >= 0)
			{
				row_rev[keep] = d;
				continue;
			}
		}
		row_rev[nrows] = d;
		row_seq[nrows++] = -1;
	}

	/* only heads stay: drop a row below another */
	{
		int		   *revs = palloc(sizeof(int) * (nrows + 1));

		for (int k = 0; k < nrows; k++)
			revs[k] = row_rev[k];
		applied = migr_graph_ancestors(g, revs, nrows, true, false);
	}
	seqs = palloc(sizeof(int64) * (nrows + 1));
	for (int k = 0; k < nrows; k++)
	{
		MigrRev    *r = &g->revs[row_rev[k]];
		bool		head = !migr_rl_has(rows, row_rev[k]);

		for (int j = 0; head && j < r->nallnext; j++)
			if (applied[r->allnext[j]])
				head = false;
		if (!head)
			continue;
		seqs[rows->n] = row_seq[k];
		migr_rl_push(rows, row_rev[k]);
	}
	*rows_out = rows;
	*seqs_out = seqs;
}

/*
 * migr_plan_stamp
 *		What "stamp target" moves, in order: the applied revisions that leave
 *		the applied set, newest first from the current heads, then the ones
 *		that join it, oldest first.
 */
MigrStampPlan *
migr_plan_stamp(MigrGraph *g, const char *target)
{
	bool	   *after;
	bool	   *remove = palloc0(sizeof(bool) * (g->nrevs + 1));
	bool	   *add = palloc0(sizeof(bool) * (g->nrevs + 1));
	MigrRevList *tops = migr_rl_new();
	MigrStampPlan *stamp = palloc(sizeof(MigrStampPlan));

	stamp_rows(g, target, &stamp->heads, &stamp->head_seqs);
	after = migr_graph_ancestors(g, stamp->heads->v, stamp->heads->n, true, false);
	for (int i = 0; i < g->nrevs; i++)
	{
		remove[i] = g->revs[i].applied && !after[i];
		add[i] = !g->revs[i].applied && after[i];
	}
	stamp->remove = make_plan(g, remove, migr_current_heads_list(g), false);
	/* additions: walked down from their own tops, then reversed */
	for (int i = 0; i < g->nrevs; i++)
	{
		bool		top = add[i];

		CHECK_FOR_INTERRUPTS();
		for (int j = 0; top && j < g->revs[i].nallnext; j++)
			if (add[g->revs[i].allnext[j]])
				top = false;
		if (top)
			migr_rl_push(tops, i);
	}
	stamp->add = make_plan(g, add, tops, true);
	return stamp;
}
