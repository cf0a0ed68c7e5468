/*-------------------------------------------------------------------------
 * order.c
 *	  The apply order: Alembic's _topological_sort, in linear time.
 *	  No SPI and no catalog access here; callers own the memory context.
 *
 * IDENTIFICATION
 *	  src/order.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "graph.h"
#include "miscadmin.h"

static int
int_cmp(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	return (x > y) - (x < y);
}

/*
 * migr_graph_toposort
 *		Alembic's _topological_sort (remaining_in is its set of revisions still
 *		to emit): the revisions to order, newest first
 *		(downgrade order; reverse it to upgrade).  The walk starts from the
 *		given heads in index order and keeps walking down one branch until the
 *		next revision is still needed by another branch, then switches to the
 *		first such branch in the list.
 *
 *		Alembic answers "is this revision still below another branch?" by
 *		keeping an ancestor set per branch, which costs O(n) per branch point.
 *		Here the same question is a counter: the number of revisions still to
 *		emit that list this one among their down revisions.  Only when the
 *		walk must switch branches do we search upwards, through revisions not
 *		yet emitted, for the first branch that needs it.  Each revision is
 *		emitted once, so planning is linear in the size of the graph for the
 *		shapes real histories have (long runs with occasional branches).
 *
 *		Every unemitted revision stays below some branch in the list, so the
 *		upward search always finds one (asserted).
 */
int *
migr_graph_toposort(MigrGraph *g, const bool *remaining_in, const int *heads,
					int nheads, int *nout)
{
	int			n = g->nrevs;
	bool	   *remaining = palloc(sizeof(bool) * (n + 1));
	bool	   *incur = palloc0(sizeof(bool) * (n + 1));
	int		   *pending = palloc0(sizeof(int) * (n + 1));
	int		   *cur = palloc(sizeof(int) * (n + 1));
	int		   *out;
	int		   *bfs = palloc(sizeof(int) * (n + 1));
	int			ncur = 0,
				nremaining = 0,
				nemit = 0,
				idx = 0;

	memcpy(remaining, remaining_in, sizeof(bool) * n);
	for (int i = 0; i < n; i++)
	{
		if (!remaining[i])
			continue;
		nremaining++;
		for (int j = 0; j < g->revs[i].ndown; j++)
			if (remaining[g->revs[i].down[j]])
				pending[g->revs[i].down[j]]++;
	}
	out = palloc(sizeof(int) * (nremaining + 1));

	for (int i = 0; i < nheads; i++)
		if (heads[i] >= 0 && remaining[heads[i]] && !incur[heads[i]])
		{
			incur[heads[i]] = true;
			cur[ncur++] = heads[i];
		}
	qsort(cur, ncur, sizeof(int), int_cmp);

	while (ncur > 0)
	{
		int			c = cur[idx];
		MigrRev    *r = &g->revs[c];
		int			nadd = 0;
		int			first_add = -1;

		CHECK_FOR_INTERRUPTS();
		if (pending[c] > 0)
		{
			uint32		ep = migr_graph_next_epoch(g);
			int			qh = 0,
						qt = 0;
			int			j;

			/* mark every unemitted revision above c */
			bfs[qt++] = c;
			g->mark[c] = ep;
			while (qh < qt)
			{
				MigrRev    *x = &g->revs[bfs[qh++]];

				CHECK_FOR_INTERRUPTS();
				for (int k = 0; k < x->nup; k++)
				{
					int			u = x->up[k];

					if (remaining[u] && g->mark[u] != ep)
					{
						g->mark[u] = ep;
						bfs[qt++] = u;
					}
				}
			}
			for (j = 0; j < ncur; j++)
				if (j != idx && g->mark[cur[j]] == ep)
					break;
			if (j == ncur)
				elog(ERROR, "revision \"%s\" is needed by no branch being walked", r->id);
			idx = j;
			continue;
		}

		/* emit c */
		out[nemit++] = c;
		remaining[c] = false;
		incur[c] = false;
		for (int j = 0; j < r->ndown; j++)
		{
			int			d = r->down[j];

			if (!remaining[d])
				continue;
			pending[d]--;
			if (incur[d])
				continue;
			incur[d] = true;
			if (nadd++ == 0)
				first_add = d;
			else
				cur[ncur++] = d;
		}
		if (nadd == 0)
		{
			memmove(&cur[idx], &cur[idx + 1], sizeof(int) * (ncur - idx - 1));
			ncur--;
			idx = Max(idx - 1, 0);
		}
		else
			cur[idx] = first_add;
	}
	Assert(nemit == nremaining);
	*nout = nemit;
	pfree(remaining);
	pfree(incur);
	pfree(pending);
	pfree(cur);
	pfree(bfs);
	return out;
}

