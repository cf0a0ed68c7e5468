/*-------------------------------------------------------------------------
 * target.h
 *	  Parse and resolve targets (head, heads, base, ids and prefixes,
 *	  label@head, relative steps; target.c, with the lists of revlist.c)
 *	  and compute which revisions an upgrade, downgrade or stamp touches,
 *	  in order (plan.c).  No SPI.
 *
 * IDENTIFICATION
 *	  src/target.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_TARGET_H
#define MIGR_TARGET_H

#include "graph.h"

typedef struct MigrPlan
{
	bool		upgrade;
	int			nsteps;
	int		   *steps;			/* revision indexes in execution order */
} MigrPlan;

/*
 * What a stamp moves: removals newest first, then additions oldest first;
 * and the version rows it leaves, in order (heads, and the head_seq each
 * keeps, or -1 for a new row).
 */
typedef struct MigrStampPlan
{
	MigrPlan   *remove;
	MigrPlan   *add;
	struct MigrRevList *heads;
	int64	   *head_seqs;
} MigrStampPlan;

/* A list of revision indexes (MIGR_NONE and MIGR_BASE allowed) */
typedef struct MigrRevList
{
	int			n;
	int			cap;
	int		   *v;
} MigrRevList;

/* revlist.c and target.c: lists, parsing and resolution */
extern void migr_target_begin(const char *target);
extern MigrRevList *migr_rl_new(void);
extern void migr_rl_push(MigrRevList *l, int v);
extern MigrRevList *migr_rl_from(const int *v, int n);
extern bool migr_rl_has(MigrRevList *l, int v);
extern char *migr_rl_names(MigrGraph *g, MigrRevList *l);
extern bool migr_match_relative(const char *target, char **label,
								char **symbol, int *relative);
extern MigrRevList *migr_get_revisions(MigrGraph *g, const char *id);
extern int	migr_get_revision(MigrGraph *g, const char *id);
extern int	migr_get_revision_on(MigrGraph *g, const char *label,
								 const char *symbol);
extern int	migr_walk(MigrGraph *g, int start, int steps,
					  const char *branch_label);
extern MigrRevList *migr_filter_for_lineage(MigrGraph *g, MigrRevList *targets,
											const char *check_against,
											bool include_deps);
extern int	migr_resolve_branch(MigrGraph *g, const char *label);
extern void migr_err_walked_too_far(int relative) pg_attribute_noreturn();
extern MigrRevList *migr_current_heads_list(MigrGraph *g);
extern void migr_check_branch_exists(MigrGraph *g, const char *target);
extern MigrRevList *migr_parse_upgrade_target(MigrGraph *g, MigrRevList *current,
											  const char *target);
extern int	migr_parse_downgrade_target(MigrGraph *g, MigrRevList *current,
										const char *target, char **branch_label);

/* plan.c: plans */
extern MigrPlan *migr_plan_upgrade(MigrGraph *g, const char *target);
extern MigrPlan *migr_plan_downgrade(MigrGraph *g, const char *target);
extern MigrStampPlan *migr_plan_stamp(MigrGraph *g, const char *target);
extern void migr_check_target_syntax(const char *target);

/* sqlfuncs.c: the direction migr.plan() guesses */
extern bool migr_target_looks_like_downgrade(const char *target);

#endif							/* MIGR_TARGET_H */
