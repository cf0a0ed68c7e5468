/*-------------------------------------------------------------------------
 * graph.h
 *	  The revision DAG in memory: revisions, their edges, heads and bases,
 *	  inherited branch labels, and the traversals the planner needs.
 *
 * IDENTIFICATION
 *	  src/graph.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_GRAPH_H
#define MIGR_GRAPH_H

#include "postgres.h"
#include "datatype/timestamp.h"
#include "utils/hsearch.h"

#define MIGR_MAX_ID_LEN		128

/*
 * Pseudo revision indexes.  MIGR_NONE is "no revision" (the base side of the
 * graph, Alembic's None); MIGR_BASE is the symbol a downward walk returns
 * when it steps off a base revision (Alembic's "base" string).
 */
#define MIGR_NONE	(-1)
#define MIGR_BASE	(-2)

/* One revision as the catalog hands it over, before the graph is built. */
typedef struct MigrRevInput
{
	char	   *id;
	TimestampTz create_date;
	int			nparents;
	char	  **parents;		/* declared order */
	int			ndeps;
	char	  **deps;			/* ids or branch labels, declared order */
	int			nlabels;
	char	  **labels;
	bool		applied;
	int64		head_seq;		/* position of its row among current heads */
	bool		irreversible;	/* no downgrade SQL */
	int			checkmask;		/* bit k: check k (revcheck.h) present */
	int			nontxn;			/* MIGR_NONTXN_UPGRADE | MIGR_NONTXN_DOWNGRADE */
} MigrRevInput;

typedef struct MigrRev
{
	char	   *id;
	TimestampTz create_date;
	int			nparents;		/* versioned down revisions */
	int		   *parents;
	int			ndeps;			/* dependencies resolved to revisions */
	int		   *deps;
	int			nalldown;		/* parents, then deps that are not parents */
	int		   *alldown;
	int			nnormdeps;		/* deps not already deps of an ancestor */
	int		   *normdeps;
	int			ndown;			/* parents ++ normdeps, deduplicated */
	int		   *down;
	int			nnext;			/* children through a parent edge */
	int		   *next;
	int			nallnext;		/* children through a parent or dependency */
	int		   *allnext;
	int			nup;			/* children through a "down" edge */
	int		   *up;
	int			nlabels;		/* labels declared on this revision */
	char	  **labels;
	int			nalllabels;		/* declared and inherited, sorted; only */
	char	  **alllabels;		/* after migr_graph_inherit_labels() */
	bool		applied;
	int64		head_seq;
	bool		irreversible;
	int			checkmask;
	int			nontxn;
} MigrRev;

/*
 * The graph.  Revisions sit in (create_date, id) order, which stands in for
 * Alembic's file load order wherever Alembic breaks ties by it.
 */
typedef struct MigrGraph
{
	int			nrevs;
	MigrRev    *revs;
	HTAB	   *names;			/* revision id or branch label -> index */
	int			nheads;			/* no child through a parent edge */
	int		   *heads;
	int			nrealheads;		/* no child through any edge */
	int		   *realheads;
	int			nbases;			/* no parent */
	int		   *bases;
	bool		labels_inherited;	/* alllabels computed */
	Oid			caller;			/* role that loaded it (catalog.c records it) */
	/* scratch space for traversals */
	uint32	   *mark;
	uint32		epoch;
	int		   *stack;
} MigrGraph;

/* Start a new traversal: a fresh epoch makes every mark stale at once. */
static inline uint32
migr_graph_next_epoch(MigrGraph *g)
{
	if (++g->epoch == 0)
	{
		memset(g->mark, 0, sizeof(uint32) * g->nrevs);
		g->epoch = 1;
	}
	return g->epoch;
}

extern MigrGraph *migr_graph_build(MigrRevInput *in, int n);
extern int *migr_order_or_cycle(int n, int nedges, const int *first,
								const int *then,
								const char *(*name) (int node, void *arg),
								void *arg);
extern int	migr_graph_lookup(MigrGraph *g, const char *name, bool *is_label);
extern void migr_graph_inherit_labels(MigrGraph *g);

/* traversals: results are palloc'd bool arrays of length g->nrevs */
extern bool *migr_graph_ancestors(MigrGraph *g, const int *targets, int n,
								  bool include_deps, bool check);
extern bool *migr_graph_descendants(MigrGraph *g, const int *targets, int n,
									bool include_deps);
extern bool migr_graph_shares_lineage(MigrGraph *g, int target,
									  const int *against, int n,
									  bool include_deps);
/* order.c */
extern int *migr_graph_toposort(MigrGraph *g, const bool *remaining,
								const int *heads, int nheads, int *nout);
extern int *migr_graph_current_heads(MigrGraph *g, int *nout);

/* MigrRev.nontxn: the direction runs statement by statement (CALL mode only) */
#define MIGR_NONTXN_UPGRADE		1
#define MIGR_NONTXN_DOWNGRADE	2

#endif							/* MIGR_GRAPH_H */
