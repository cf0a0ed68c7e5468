/*-------------------------------------------------------------------------
 * graph.c
 *	  Revision graph: construction, validation, inherited branch labels,
 *	  ancestor/descendant traversals.  The apply order is in order.c.
 *
 *	  The semantics are Alembic's (alembic/script/revision.py, 1.8): the
 *	  normalisation of depends_on and the way branch labels spread.  Where Alembic
 *	  breaks a tie by file load order, the graph's index order -- which is
 *	  (create_date, id) -- is used instead; where Alembic iterates a Python
 *	  set (several depends_on on one revision), declared order is used.
 *
 *	  No SPI and no catalog access here; everything is allocated in the
 *	  caller's memory context.
 *
 * IDENTIFICATION
 *	  src/graph.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "graph.h"
#include "lib/stringinfo.h"
#include "migr_errcodes.h"
#include "miscadmin.h"

typedef struct NameEntry
{
	char		key[MIGR_MAX_ID_LEN + 1];
	int			idx;
	bool		is_label;
} NameEntry;

static int	str_cmp(const void *a, const void *b);

/* Append v to a palloc'd int array of *n elements, growing as needed. */
static int *
append_int(int *arr, int *n, int *cap, int v)
{
	if (*n >= *cap)
	{
		*cap = (*cap < 4) ? 4 : *cap * 2;
		arr = arr ? repalloc(arr, sizeof(int) * *cap) : palloc(sizeof(int) * *cap);
	}
	arr[(*n)++] = v;
	return arr;
}

static bool
int_in(const int *arr, int n, int v)
{
	for (int i = 0; i < n; i++)
		if (arr[i] == v)
			return true;
	return false;
}

/*
 * migr_graph_lookup
 *		Index of the revision with this id, or of the revision declaring this
 *		branch label; -1 when neither exists.
 */
int
migr_graph_lookup(MigrGraph *g, const char *name, bool *is_label)
{
	NameEntry  *e;

	if (is_label)
		*is_label = false;
	if (strlen(name) > MIGR_MAX_ID_LEN)
		return -1;
	e = hash_search(g->names, name, HASH_FIND, NULL);
	if (e == NULL)
		return -1;
	if (is_label)
		*is_label = e->is_label;
	return e->idx;
}

/*
 * migr_order_or_cycle
 *		Kahn's algorithm over nodes 0..n-1 and the edges first[e] -> then[e]
 *		(first[e] must come before then[e]).  Returns the nodes in an order
 *		that respects every edge, palloc'd.  When there is none, raises 42P19
 *		naming (up to ten of) the nodes left over, which lie on a cycle or
 *		above one; name(i, arg) gives node i's name.  Linear in nodes and
 *		edges: the one cycle finder, for the loaded graph and for the edge
 *		table a restore writes.
 */
int *
migr_order_or_cycle(int n, int nedges, const int *first, const int *then,
					const char *(*name) (int node, void *arg), void *arg)
{
	int		   *indeg = palloc0(sizeof(int) * (n + 1));
	int		   *start = palloc0(sizeof(int) * (n + 2));
	int		   *adj = palloc(sizeof(int) * (nedges + 1));
	int		   *order = palloc(sizeof(int) * (n + 1));
	int			head = 0,
				tail = 0;

	/* adjacency by first node, in CSR form */
	for (int e = 0; e < nedges; e++)
	{
		start[first[e] + 1]++;
		indeg[then[e]]++;
	}
	for (int i = 0; i < n; i++)
		start[i + 1] += start[i];
	{
		int		   *fill = palloc(sizeof(int) * (n + 1));

		memcpy(fill, start, sizeof(int) * (n + 1));
		for (int e = 0; e < nedges; e++)
			adj[fill[first[e]]++] = then[e];
		pfree(fill);
	}
	for (int i = 0; i < n; i++)
		if (indeg[i] == 0)
			order[tail++] = i;
	while (head < tail)
	{
		int			v = order[head++];

		CHECK_FOR_INTERRUPTS();
		for (int k = start[v]; k < start[v + 1]; k++)
			if (--indeg[adj[k]] == 0)
				order[tail++] = adj[k];
	}
	if (tail < n)
	{
		StringInfoData buf;
		int			shown = 0;

		initStringInfo(&buf);
		for (int i = 0; i < n; i++)
		{
			if (indeg[i] == 0)
				continue;
			if (shown == 10)
			{
				appendStringInfoString(&buf, ", ...");
				break;
			}
			appendStringInfo(&buf, "%s\"%s\"", shown ? ", " : "", name(i, arg));
			shown++;
		}
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_RECURSION),
				 errmsg("revision graph contains a cycle"),
				 errdetail("The cycle runs through or above revisions %s.", buf.data)));
	}
	pfree(indeg);
	pfree(start);
	pfree(adj);
	return order;
}

static const char *
rev_id(int node, void *arg)
{
	return ((MigrGraph *) arg)->revs[node].id;
}

/*
 * Order the revisions so that every revision comes after its parents and
 * dependencies, or raise 42P19 naming the revisions of a cycle.
 */
static int *
topo_order(MigrGraph *g)
{
	int			nedges = 0;
	int		   *first,
			   *then;
	int		   *order;

	for (int i = 0; i < g->nrevs; i++)
		nedges += g->revs[i].nallnext;
	first = palloc(sizeof(int) * (nedges + 1));
	then = palloc(sizeof(int) * (nedges + 1));
	nedges = 0;
	for (int i = 0; i < g->nrevs; i++)
		for (int j = 0; j < g->revs[i].nallnext; j++)
		{
			first[nedges] = i;
			then[nedges++] = g->revs[i].allnext[j];
		}
	order = migr_order_or_cycle(g->nrevs, nedges, first, then, rev_id, g);
	pfree(first);
	pfree(then);
	return order;
}

/*
 * Alembic's _normalize_depends_on: a dependency of x that is also a
 * dependency of one of x's proper ancestors (through parent edges) is
 * dropped from x's "down" revisions.
 *
 * The question is asked per dependency target d, of the revisions that
 * depend on d: one of them keeps d unless another of them is a proper
 * ancestor.  When only one revision depends on d (the common case) it keeps
 * it; otherwise one walk up the parent edges from all of them at once, which
 * never leaves the band of topological ranks between the lowest and the
 * highest of them, marks the ones that lie above another.  Nothing is sized
 * by revisions times dependencies.
 */
static void
normalize_deps(MigrGraph *g, const int *order)
{
	int			n = g->nrevs;
	int		   *rank = palloc(sizeof(int) * (n + 1));
	int		   *first = palloc(sizeof(int) * (n + 1));	/* CSR by target */
	int		   *dependents;
	int		   *fill;
	bool	  **dropped = palloc0(sizeof(bool *) * (n + 1));
	uint32	   *member = palloc0(sizeof(uint32) * (n + 1));
	int			ndeps = 0;

	for (int k = 0; k < n; k++)
		rank[order[k]] = k;

	/* the revisions depending on each target, grouped */
	memset(first, 0, sizeof(int) * (n + 1));
	for (int i = 0; i < n; i++)
		for (int j = 0; j < g->revs[i].ndeps; j++)
			first[g->revs[i].deps[j] + 1]++;
	for (int i = 0; i < n; i++)
		first[i + 1] += first[i];
	ndeps = first[n];
	dependents = palloc(sizeof(int) * (ndeps + 1));
	fill = palloc(sizeof(int) * (n + 1));
	memcpy(fill, first, sizeof(int) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		if (g->revs[i].ndeps > 0)
			dropped[i] = palloc0(sizeof(bool) * g->revs[i].ndeps);
		for (int j = 0; j < g->revs[i].ndeps; j++)
			dependents[fill[g->revs[i].deps[j]]++] = i;
	}

	for (int d = 0; d < n; d++)
	{
		int			lo = first[d],
					hi = first[d + 1];
		int			maxrank = -1;
		uint32		ep;
		int			qh = 0,
					qt = 0;

		if (hi - lo < 2)
			continue;
		CHECK_FOR_INTERRUPTS();
		ep = migr_graph_next_epoch(g);
		for (int k = lo; k < hi; k++)
		{
			int			x = dependents[k];

			member[x] = ep;
			maxrank = Max(maxrank, rank[x]);
			g->stack[qt++] = x;
			g->mark[x] = ep;
		}
		/* everything strictly above a member, up to the highest member */
		while (qh < qt)
		{
			MigrRev    *x = &g->revs[g->stack[qh++]];

			for (int j = 0; j < x->nnext; j++)
			{
				int			c = x->next[j];

				if (rank[c] > maxrank)
					continue;
				if (member[c] == ep)
				{
					/* c lies above another revision that depends on d */
					for (int t = 0; t < g->revs[c].ndeps; t++)
						if (g->revs[c].deps[t] == d)
							dropped[c][t] = true;
				}
				if (g->mark[c] != ep)
				{
					g->mark[c] = ep;
					g->stack[qt++] = c;
				}
			}
		}
	}

	for (int i = 0; i < n; i++)
	{
		MigrRev    *r = &g->revs[i];
		int			cap = 0;

		r->nnormdeps = 0;
		r->normdeps = NULL;
		for (int j = 0; j < r->ndeps; j++)
			if (!dropped[i][j])
				r->normdeps = append_int(r->normdeps, &r->nnormdeps, &cap, r->deps[j]);
		/* down = dedupe(parents ++ normdeps) */
		r->ndown = 0;
		r->down = palloc(sizeof(int) * (r->nparents + r->nnormdeps + 1));
		for (int j = 0; j < r->nparents; j++)
			r->down[r->ndown++] = r->parents[j];
		for (int j = 0; j < r->nnormdeps; j++)
			if (!int_in(r->down, r->ndown, r->normdeps[j]))
				r->down[r->ndown++] = r->normdeps[j];
	}

	/* reverse of "down" */
	{
		int		   *caps = palloc0(sizeof(int) * (n + 1));

		for (int i = 0; i < n; i++)
			for (int j = 0; j < g->revs[i].ndown; j++)
			{
				MigrRev    *d = &g->revs[g->revs[i].down[j]];

				d->up = append_int(d->up, &d->nup, &caps[g->revs[i].down[j]], i);
			}
		pfree(caps);
	}
	pfree(rank);
	pfree(first);
	pfree(fill);
	pfree(dependents);
	pfree(member);
}

/* Add labels to a revision's (unsorted, possibly duplicated) label list. */
static void
add_labels(MigrRev *r, int *cap, char **labels, int nlabels)
{
	for (int i = 0; i < nlabels; i++)
	{
		if (r->nalllabels >= *cap)
		{
			*cap = (*cap < 4) ? 4 : *cap * 2;
			r->alllabels = r->alllabels
				? repalloc(r->alllabels, sizeof(char *) * *cap)
				: palloc(sizeof(char *) * *cap);
		}
		r->alllabels[r->nalllabels++] = labels[i];
	}
}

/*
 * Alembic's _add_branches: a label reaches every descendant of the revision
 * that declares it (through parent edges).  Then Alembic walks down from the
 * last descendant its depth-first search yielded, labelling revisions until
 * it meets a branch point (counting dependents) or a merge point.  When the
 * descendants form a single chain that last node is its top, and the walk
 * goes on below the declaring revision; otherwise the walk stops at a branch
 * point among the descendants and adds nothing new.
 *
 * Computed only when asked for (migr.history() shows the inherited labels):
 * its output alone can be quadratic, a label on every revision of a chain
 * giving the top revision every label, so planning never depends on it.
 */
void
migr_graph_inherit_labels(MigrGraph *g)
{
	int			n = g->nrevs;
	int		   *caps;

	if (g->labels_inherited)
		return;
	g->labels_inherited = true;
	caps = palloc0(sizeof(int) * (n + 1));

	for (int i = 0; i < n; i++)
	{
		MigrRev    *r = &g->revs[i];
		uint32		ep;
		int			sp = 0;
		bool		chain = true;
		int			top = i;
		int			node;

		if (r->nlabels == 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		ep = migr_graph_next_epoch(g);
		g->stack[sp++] = i;
		g->mark[i] = ep;
		while (sp > 0)
		{
			MigrRev    *x = &g->revs[g->stack[--sp]];

			add_labels(x, &caps[x - g->revs], r->labels, r->nlabels);
			if (x->nnext > 1)
				chain = false;
			if (x->nnext == 0)
				top = x - g->revs;
			for (int j = 0; j < x->nnext; j++)
				if (g->mark[x->next[j]] != ep)
				{
					g->mark[x->next[j]] = ep;
					g->stack[sp++] = x->next[j];
				}
		}
		if (!chain)
			continue;
		node = top;
		for (;;)
		{
			MigrRev    *x = &g->revs[node];

			if (x->nallnext > 1 || x->nparents > 1)
				break;
			if (g->mark[node] != ep)
				add_labels(x, &caps[node], r->labels, r->nlabels);
			if (x->nparents == 0)
				break;
			node = x->parents[0];
		}
	}

	for (int i = 0; i < n; i++)
	{
		MigrRev    *r = &g->revs[i];
		int			k = 0;

		if (r->nalllabels < 2)
			continue;
		qsort(r->alllabels, r->nalllabels, sizeof(char *), str_cmp);
		for (int j = 0; j < r->nalllabels; j++)
			if (k == 0 || strcmp(r->alllabels[k - 1], r->alllabels[j]) != 0)
				r->alllabels[k++] = r->alllabels[j];
		r->nalllabels = k;
	}
	pfree(caps);
}

static int
resolve_name(MigrGraph *g, const char *owner, const char *name, bool allow_label,
			 const char *what)
{
	bool		is_label;
	int			idx = migr_graph_lookup(g, name, &is_label);

	if (idx < 0 || (is_label && !allow_label))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("revision \"%s\" %s \"%s\", which is not registered",
						owner, what, name),
				 errhint("Register the missing revision, or correct the list.")));
	return idx;
}

/*
 * migr_graph_build
 *		Build and validate the graph from revisions sorted by (create_date,
 *		id).  Errors: duplicate ids or labels (42710), a parent or dependency
 *		that is not registered (42704), a cycle (42P19).
 */
MigrGraph *
migr_graph_build(MigrRevInput *in, int n)
{
	MigrGraph  *g = palloc0(sizeof(MigrGraph));
	HASHCTL		ctl;
	int		   *order;
	int		   *nextcap,
			   *allcap;
	int			hcap = 0,
				rhcap = 0,
				bcap = 0;

	g->nrevs = n;
	g->revs = palloc0(sizeof(MigrRev) * (n + 1));
	g->mark = palloc0(sizeof(uint32) * (n + 1));
	g->stack = palloc(sizeof(int) * (n * 2 + 2));

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = MIGR_MAX_ID_LEN + 1;
	ctl.entrysize = sizeof(NameEntry);
	ctl.hcxt = CurrentMemoryContext;
	g->names = hash_create("migr revision names", Max(n, 16), &ctl,
						   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	for (int i = 0; i < n; i++)
	{
		NameEntry  *e;
		bool		found;

		g->revs[i].id = in[i].id;
		g->revs[i].create_date = in[i].create_date;
		g->revs[i].applied = in[i].applied;
		g->revs[i].head_seq = in[i].head_seq;
		g->revs[i].irreversible = in[i].irreversible;
		g->revs[i].checkmask = in[i].checkmask;
		g->revs[i].nontxn = in[i].nontxn;
		g->revs[i].nlabels = in[i].nlabels;
		g->revs[i].labels = in[i].labels;
		e = hash_search(g->names, in[i].id, HASH_ENTER, &found);
		/* cannot happen: migr.migration's primary key is the id */
		if (found)
			elog(ERROR, "revision \"%s\" was loaded twice", in[i].id);
		e->idx = i;
		e->is_label = false;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < in[i].nlabels; j++)
		{
			NameEntry  *e;
			bool		found;

			e = hash_search(g->names, in[i].labels[j], HASH_ENTER, &found);
			if (found)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("branch label \"%s\" of revision \"%s\" is already used by revision \"%s\"",
								in[i].labels[j], in[i].id, g->revs[e->idx].id)));
			e->idx = i;
			e->is_label = true;
		}

	nextcap = palloc0(sizeof(int) * n);
	allcap = palloc0(sizeof(int) * n);
	for (int i = 0; i < n; i++)
	{
		MigrRev    *r = &g->revs[i];

		CHECK_FOR_INTERRUPTS();
		r->parents = palloc(sizeof(int) * (in[i].nparents + 1));
		for (int j = 0; j < in[i].nparents; j++)
		{
			int			p = resolve_name(g, r->id, in[i].parents[j], false, "revises");

			if (p == i)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_RECURSION),
						 errmsg("revision \"%s\" cannot revise itself", r->id)));
			if (!int_in(r->parents, r->nparents, p))
				r->parents[r->nparents++] = p;
		}
		r->deps = palloc(sizeof(int) * (in[i].ndeps + 1));
		for (int j = 0; j < in[i].ndeps; j++)
		{
			int			d = resolve_name(g, r->id, in[i].deps[j], true, "depends on");

			if (d == i)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_RECURSION),
						 errmsg("revision \"%s\" cannot depend on itself", r->id)));
			if (!int_in(r->deps, r->ndeps, d))
				r->deps[r->ndeps++] = d;
		}
		/* everything directly below: parents, then deps that are not */
		r->alldown = palloc(sizeof(int) * (r->nparents + r->ndeps + 1));
		memcpy(r->alldown, r->parents, sizeof(int) * r->nparents);
		r->nalldown = r->nparents;
		for (int j = 0; j < r->ndeps; j++)
			if (!int_in(r->parents, r->nparents, r->deps[j]))
				r->alldown[r->nalldown++] = r->deps[j];
		/* children: through parents, and through parents or deps (deduped) */
		for (int j = 0; j < r->nparents; j++)
		{
			MigrRev    *p = &g->revs[r->parents[j]];

			p->next = append_int(p->next, &p->nnext, &nextcap[r->parents[j]], i);
			p->allnext = append_int(p->allnext, &p->nallnext, &allcap[r->parents[j]], i);
		}
		for (int j = 0; j < r->ndeps; j++)
		{
			MigrRev    *d = &g->revs[r->deps[j]];

			if (int_in(r->parents, r->nparents, r->deps[j]))
				continue;
			d->allnext = append_int(d->allnext, &d->nallnext, &allcap[r->deps[j]], i);
		}
	}
	pfree(nextcap);
	pfree(allcap);

	for (int i = 0; i < n; i++)
	{
		MigrRev    *r = &g->revs[i];

		if (r->nnext == 0)
			g->heads = append_int(g->heads, &g->nheads, &hcap, i);
		if (r->nallnext == 0)
			g->realheads = append_int(g->realheads, &g->nrealheads, &rhcap, i);
		if (r->nparents == 0)
			g->bases = append_int(g->bases, &g->nbases, &bcap, i);
	}

	order = topo_order(g);
	normalize_deps(g, order);
	pfree(order);
	return g;
}

/*
 * migr_graph_ancestors
 *		The targets and everything below them, through parent edges and (with
 *		include_deps) normalised dependencies.  With check, raise Alembic's
 *		"overlaps" error when a target's walk meets another target that was
 *		not already visited by an earlier target's walk; target order matters
 *		there exactly as it does in Alembic.
 */
bool *
migr_graph_ancestors(MigrGraph *g, const int *targets, int n,
					 bool include_deps, bool check)
{
	bool	   *seen = palloc0(sizeof(bool) * (g->nrevs + 1));
	bool	   *is_target = NULL;
	int			cap = g->nrevs * 2 + 2;
	int		   *stack = g->stack;

	if (check)
	{
		is_target = palloc0(sizeof(bool) * (g->nrevs + 1));
		for (int t = 0; t < n; t++)
			if (targets[t] >= 0)
				is_target[targets[t]] = true;
	}

	for (int t = 0; t < n; t++)
	{
		int			sp = 0;

		if (targets[t] < 0)
			continue;
		stack[sp++] = targets[t];
		while (sp > 0)
		{
			int			x = stack[--sp];
			MigrRev    *r = &g->revs[x];
			int			cnt = include_deps ? r->ndown : r->nparents;
			int		   *arr = include_deps ? r->down : r->parents;

			CHECK_FOR_INTERRUPTS();
			if (check && is_target[x] && x != targets[t])
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("requested revision \"%s\" overlaps with other requested revision \"%s\"",
								g->revs[targets[t]].id, r->id)));
			if (seen[x])
				continue;
			seen[x] = true;
			for (int j = 0; j < cnt; j++)
			{
				/* the stack can hold an id more than once; grow if needed */
				if (sp >= cap)
				{
					cap *= 2;
					stack = g->stack = repalloc(g->stack, sizeof(int) * cap);
				}
				stack[sp++] = arr[j];
			}
		}
	}
	return seen;
}

/*
 * migr_graph_descendants
 *		The targets and everything above them, through parent edges and (with
 *		include_deps) dependency edges.
 */
bool *
migr_graph_descendants(MigrGraph *g, const int *targets, int n,
					   bool include_deps)
{
	bool	   *seen = palloc0(sizeof(bool) * (g->nrevs + 1));
	int			sp = 0;

	for (int t = 0; t < n; t++)
		if (targets[t] >= 0 && !seen[targets[t]])
		{
			seen[targets[t]] = true;
			g->stack[sp++] = targets[t];
		}
	while (sp > 0)
	{
		MigrRev    *r = &g->revs[g->stack[--sp]];
		int			cnt = include_deps ? r->nallnext : r->nnext;
		int		   *arr = include_deps ? r->allnext : r->next;

		CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < cnt; j++)
			if (!seen[arr[j]])
			{
				seen[arr[j]] = true;
				g->stack[sp++] = arr[j];
			}
	}
	return seen;
}

/*
 * migr_graph_shares_lineage
 *		Whether any of "against" is an ancestor or descendant of target (or
 *		target itself).  Alembic's _shares_lineage.
 */
bool
migr_graph_shares_lineage(MigrGraph *g, int target, const int *against, int n,
						  bool include_deps)
{
	bool	   *up,
			   *down;
	bool		result = false;

	if (n == 0)
		return true;
	if (target < 0)
		return false;
	up = migr_graph_descendants(g, &target, 1, include_deps);
	down = migr_graph_ancestors(g, &target, 1, include_deps, false);
	for (int i = 0; i < n && !result; i++)
		if (against[i] >= 0 && (up[against[i]] || down[against[i]]))
			result = true;
	pfree(up);
	pfree(down);
	return result;
}

/*
 * migr_graph_current_heads
 *		The applied revisions that have no applied child through a parent or
 *		dependency edge, ordered by head_seq (the order Alembic's version
 *		table rows would have), then index.
 */
int *
migr_graph_current_heads(MigrGraph *g, int *nout)
{
	int		   *out = palloc(sizeof(int) * (g->nrevs + 1));
	int			k = 0;

	for (int i = 0; i < g->nrevs; i++)
	{
		MigrRev    *r = &g->revs[i];
		bool		head = r->applied;

		CHECK_FOR_INTERRUPTS();
		for (int j = 0; head && j < r->nallnext; j++)
			if (g->revs[r->allnext[j]].applied)
				head = false;
		if (head)
			out[k++] = i;
	}
	/* stable insertion sort by head_seq; few heads */
	for (int i = 1; i < k; i++)
	{
		int			v = out[i];
		int			j = i - 1;

		while (j >= 0 && g->revs[out[j]].head_seq > g->revs[v].head_seq)
		{
			out[j + 1] = out[j];
			j--;
		}
		out[j + 1] = v;
	}
	*nout = k;
	return out;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}
