/*-------------------------------------------------------------------------
 * revlist.c
 *	  MigrRevList: a short, ordered list of revision indexes (which may hold
 *	  MIGR_NONE and MIGR_BASE), the shape Alembic's tuples of revisions
 *	  take in target resolution and planning.  Membership is a linear scan:
 *	  these lists hold heads and targets, never the whole graph.
 *
 * IDENTIFICATION
 *	  src/revlist.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "target.h"

MigrRevList *
migr_rl_new(void)
{
	return palloc0(sizeof(MigrRevList));
}

void
migr_rl_push(MigrRevList *l, int v)
{
	if (l->n >= l->cap)
	{
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = l->v ? repalloc(l->v, sizeof(int) * l->cap) : palloc(sizeof(int) * l->cap);
	}
	l->v[l->n++] = v;
}

MigrRevList *
migr_rl_from(const int *v, int n)
{
	MigrRevList    *l = migr_rl_new();

	for (int i = 0; i < n; i++)
		migr_rl_push(l, v[i]);
	return l;
}

bool
migr_rl_has(MigrRevList *l, int v)
{
	for (int i = 0; i < l->n; i++)
		if (l->v[i] == v)
			return true;
	return false;
}
