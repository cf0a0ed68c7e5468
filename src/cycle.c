/*-------------------------------------------------------------------------
 * cycle.c
 *	  The trigger that keeps migr.migration_edge acyclic, whoever writes it.
 *
 *	  A statement that writes a few edges (migr.revision() writes one
 *	  revision's) checks each new edge R -> T with a search that grows from
 *	  both ends at once: down from T through what T revises or depends on,
 *	  and up from R through what revises or depends on R.  The edge closes a
 *	  cycle exactly when the two searches meet.  Expanding whichever side has
 *	  less left to explore makes registration cheap in either order: when
 *	  revisions come oldest first nothing is above R yet, and when they come
 *	  newest first nothing is below T yet, so one side runs dry at once.
 *	  Each step is one index probe through a saved plan.  migr.revision()
 *	  checks its edges the same way before it inserts them, and tells the
 *	  trigger so, which spares reading them back from the transition table.
 *
 *	  A statement that writes many edges (a restore's COPY) is checked once,
 *	  over the whole table, with Kahn's algorithm (migr_order_or_cycle()).
 *
 * IDENTIFICATION
 *	  src/cycle.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "cycle.h"
#include "executor/spi.h"
#include "sqlcall.h"
#include "graph.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(migr_edge_no_cycle);

/* Above this many new edges, one pass over the whole table is cheaper. */
#define MANY_EDGES	32

typedef struct SeenEntry
{
	char		key[MIGR_MAX_ID_LEN + 1];
	int8		side;			/* 0: reached going down, 1: going up */
} SeenEntry;

/* One side of the search: a queue of ids still to expand. */
typedef struct Side
{
	char	  **queue;
	int			head;
	int			tail;
	int			cap;
} Side;

static SPIPlanPtr below_plan = NULL;	/* what an id revises or depends on */
static SPIPlanPtr above_plan = NULL;	/* what revises or depends on an id */

/* set while migr inserts edges it has checked already */
static bool skip_trigger = false;


static void
push(Side *s, const char *id)
{
	if (s->tail >= s->cap)
	{
		s->cap = s->cap ? s->cap * 2 : 16;
		s->queue = s->queue ? repalloc(s->queue, sizeof(char *) * s->cap)
			: palloc(sizeof(char *) * s->cap);
	}
	s->queue[s->tail++] = pstrdup(id);
}


/*
 * Whether the down-path target ~> revision exists, i.e. whether the edge
 * revision -> target closes a cycle.
 */
static bool
closes_cycle(const char *revision, const char *target)
{
	HASHCTL		ctl;
	HTAB	   *seen;
	Side		sides[2] = {{0}, {0}};
	bool		found;
	SeenEntry  *e;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = MIGR_MAX_ID_LEN + 1;
	ctl.entrysize = sizeof(SeenEntry);
	ctl.hcxt = CurrentMemoryContext;
	seen = hash_create("migr cycle search", 64, &ctl,
					   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	e = hash_search(seen, target, HASH_ENTER, &found);
	e->side = 0;
	push(&sides[0], target);
	e = hash_search(seen, revision, HASH_ENTER, &found);
	e->side = 1;
	push(&sides[1], revision);

	for (;;)
	{
		int			left0 = sides[0].tail - sides[0].head;
		int			left1 = sides[1].tail - sides[1].head;
		int			k;
		Datum		arg;
		Oid			text_type[1] = {TEXTOID};

		if (left0 == 0 || left1 == 0)
			return false;		/* one side ran dry: they cannot meet */
		/* the side with less to explore; on a tie, the one probed less */
		if (left0 != left1)
			k = left1 < left0 ? 1 : 0;
		else
			k = sides[1].head <= sides[0].head ? 1 : 0;

		CHECK_FOR_INTERRUPTS();
		arg = CStringGetTextDatum(sides[k].queue[sides[k].head++]);
		if (k == 0)
			migr_run_kept(&below_plan,
						  "SELECT e.target FROM migr.migration_edge e"
						  " WHERE e.revision OPERATOR(pg_catalog.=) $1",
						  1, text_type, &arg, NULL, false, 0, SPI_OK_SELECT);
		else
			migr_run_kept(&above_plan,
						  "SELECT e.revision FROM migr.migration_edge e"
						  " WHERE e.target OPERATOR(pg_catalog.=) $1",
						  1, text_type, &arg, NULL, false, 0, SPI_OK_SELECT);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *next = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			e = hash_search(seen, next, HASH_ENTER, &found);
			if (found)
			{
				if (e->side != k)
				{
					SPI_freetuptable(SPI_tuptable);
					return true;
				}
				continue;
			}
			e->side = k;
			push(&sides[k], next);
		}
		SPI_freetuptable(SPI_tuptable);
	}
}

static void
cycle_error(const char *revision, const char *target, bool parent)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_RECURSION),
			 errmsg("revision \"%s\" would create a cycle in the revision graph",
					revision),
			 errdetail("Revision \"%s\", which it would %s, already descends from it.",
					   target, parent ? "revise" : "depend on")));
}

/*
 * migr_refuse_cycle
 *		Before migr stores the edge revision -> target (revision revises
 *		target, or depends on it when parent is false): raise 42P19 if the
 *		edges already stored lead from target down to revision.  The caller
 *		is connected to SPI.
 */
void
migr_refuse_cycle(const char *revision, const char *target, bool parent)
{
	if (closes_cycle(revision, target))
		cycle_error(revision, target, parent);
}

/*
 * migr_cycle_trigger_skip
 *		Tell the trigger that the edges the next statement inserts were
 *		checked with migr_refuse_cycle().  The caller resets it when the
 *		statement ends, also on error.
 */
void
migr_cycle_trigger_skip(bool skip)
{
	skip_trigger = skip;
}

typedef struct NameNode
{
	char		key[MIGR_MAX_ID_LEN + 1];
	int			idx;
} NameNode;

static const char *
node_name(int node, void *arg)
{
	return ((char **) arg)[node];
}

/*
 * Raise 42P19 if the stored edges contain a cycle: one linear pass over the
 * whole table, for statements that write many edges (a restore).
 */
static void
check_whole_table(void)
{
	HASHCTL		ctl;
	HTAB	   *names;
	uint64		n;
	int			nnodes = 0;
	int		   *first,
			   *then;
	char	  **label;
	int			rc;

	rc = SPI_execute("SELECT e.revision, e.target FROM migr.migration_edge e", false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read migr.migration_edge: %s", SPI_result_code_string(rc));
	n = SPI_processed;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = MIGR_MAX_ID_LEN + 1;
	ctl.entrysize = sizeof(NameNode);
	ctl.hcxt = CurrentMemoryContext;
	names = hash_create("migr edge names", Max(n, 16), &ctl,
						HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	first = palloc(sizeof(int) * (n + 1));
	then = palloc(sizeof(int) * (n + 1));
	label = palloc(sizeof(char *) * (2 * n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		for (int k = 0; k < 2; k++)
		{
			char	   *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, k + 1);
			bool		found;
			NameNode   *node = hash_search(names, v, HASH_ENTER, &found);

			if (!found)
			{
				node->idx = nnodes;
				label[nnodes++] = v;
			}
			/* an edge revision -> target: the target comes first */
			if (k == 0)
				then[i] = node->idx;
			else
				first[i] = node->idx;
		}
	}
	SPI_freetuptable(SPI_tuptable);
	(void) migr_order_or_cycle(nnodes, (int) n, first, then, node_name, label);
}

/*
 * migr.edge_no_cycle() RETURNS trigger
 *
 * AFTER INSERT or UPDATE ... FOR EACH STATEMENT, with the new rows as
 * transition table "new_edges".  Raises 42P19 naming the edge that would
 * close a cycle.
 */
Datum
migr_edge_no_cycle(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	int			rc;
	uint64		n;
	char	  **rev,
			  **kind,
			  **target;

	/* only the triggers the extension script creates make sense */
	if (!CALLED_AS_TRIGGER(fcinfo) || trigdata->tg_newtable == NULL ||
		strcmp(RelationGetRelationName(trigdata->tg_relation), "migration_edge") != 0 ||
		strcmp(get_namespace_name(RelationGetNamespace(trigdata->tg_relation)), "migr") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("migr.edge_no_cycle() must be fired by a statement trigger with a transition table on migr.migration_edge")));
	if (skip_trigger)
		return PointerGetDatum(NULL);

	migr_spi_connect();
	if ((rc = SPI_register_trigger_data(trigdata)) != SPI_OK_TD_REGISTER)
		elog(ERROR, "SPI_register_trigger_data failed: %s", SPI_result_code_string(rc));
	rc = SPI_execute("SELECT revision, kind, target FROM new_edges", false, MANY_EDGES + 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the new edges: %s", SPI_result_code_string(rc));
	n = SPI_processed;
	if (n > MANY_EDGES)
	{
		SPI_freetuptable(SPI_tuptable);
		check_whole_table();
	}
	else
	{
		rev = palloc(sizeof(char *) * (n + 1));
		kind = palloc(sizeof(char *) * (n + 1));
		target = palloc(sizeof(char *) * (n + 1));
		for (uint64 i = 0; i < n; i++)
		{
			rev[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
			kind[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
			target[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
		}
		SPI_freetuptable(SPI_tuptable);
		for (uint64 i = 0; i < n; i++)
			if (closes_cycle(rev[i], target[i]))
				cycle_error(rev[i], target[i], kind[i][0] == 'p');
	}
	migr_spi_finish();
	return PointerGetDatum(NULL);
}
