/*-------------------------------------------------------------------------
 * stmtclass.c
 *	  Classify a statement from its raw parse tree: does PostgreSQL 15
 *	  refuse it inside a transaction block or a function (it calls
 *	  PreventInTransactionBlock), and is it transaction control?
 *
 *	  A body holding a statement of the first kind is non-transactional:
 *	  CALL migr.apply() runs it statement by statement and has that
 *	  statement executed at top level by a background worker.  When in
 *	  doubt the answer is "top level only": running a statement that could
 *	  have run in a transaction at top level costs a commit, while the
 *	  opposite fails the run.
 *
 * IDENTIFICATION
 *	  src/stmtclass.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "stmtclass.h"

/* Whether a DefElem list holds name, switched on (REINDEX's options). */
static bool
option_on(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, name) == 0)
			return opt->arg == NULL || defGetBoolean(opt);
	}
	return false;
}

static bool
option_present(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
		if (strcmp(lfirst_node(DefElem, lc)->defname, name) == 0)
			return true;
	return false;
}

/*
 * migr_stmt_toplevel_only
 *		What PostgreSQL calls the statement when it refuses to run it inside
 *		a transaction block or a function ("CREATE INDEX CONCURRENTLY"), or
 *		NULL when it runs anywhere.
 */
const char *
migr_stmt_toplevel_only(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_IndexStmt:
			return ((IndexStmt *) stmt)->concurrent ? "CREATE INDEX CONCURRENTLY" : NULL;
		case T_DropStmt:
			return ((DropStmt *) stmt)->concurrent ? "DROP INDEX CONCURRENTLY" : NULL;
		case T_ReindexStmt:
			{
				ReindexStmt *r = (ReindexStmt *) stmt;

				if (option_on(r->params, "concurrently"))
					return "REINDEX CONCURRENTLY";
				if (r->kind == REINDEX_OBJECT_SCHEMA)
					return "REINDEX SCHEMA";
				if (r->kind == REINDEX_OBJECT_SYSTEM)
					return "REINDEX SYSTEM";
				if (r->kind == REINDEX_OBJECT_DATABASE)
					return "REINDEX DATABASE";
				return NULL;
			}
		case T_VacuumStmt:
			return ((VacuumStmt *) stmt)->is_vacuumcmd ? "VACUUM" : NULL;
		case T_ClusterStmt:
			return ((ClusterStmt *) stmt)->relation == NULL ? "CLUSTER" : NULL;
		case T_AlterTableStmt:
			{
				ListCell   *lc;

				foreach(lc, ((AlterTableStmt *) stmt)->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->subtype == AT_DetachPartition &&
						((PartitionCmd *) cmd->def)->concurrent)
						return "ALTER TABLE ... DETACH PARTITION CONCURRENTLY";
				}
				return NULL;
			}
		case T_CreatedbStmt:
			return "CREATE DATABASE";
		case T_DropdbStmt:
			return "DROP DATABASE";
		case T_AlterDatabaseStmt:
			return option_present(((AlterDatabaseStmt *) stmt)->options, "tablespace")
				? "ALTER DATABASE SET TABLESPACE" : NULL;
		case T_CreateTableSpaceStmt:
			return "CREATE TABLESPACE";
		case T_DropTableSpaceStmt:
			return "DROP TABLESPACE";
		case T_AlterSystemStmt:
			return "ALTER SYSTEM";
		case T_DiscardStmt:
			return ((DiscardStmt *) stmt)->target == DISCARD_ALL ? "DISCARD ALL" : NULL;
			/* these create, drop or refresh replication slots and tables */
		case T_CreateSubscriptionStmt:
			return "CREATE SUBSCRIPTION";
		case T_DropSubscriptionStmt:
			return "DROP SUBSCRIPTION";
		case T_AlterSubscriptionStmt:
			switch (((AlterSubscriptionStmt *) stmt)->kind)
			{
				case ALTER_SUBSCRIPTION_REFRESH:
				case ALTER_SUBSCRIPTION_SET_PUBLICATION:
				case ALTER_SUBSCRIPTION_ADD_PUBLICATION:
				case ALTER_SUBSCRIPTION_DROP_PUBLICATION:
					return "ALTER SUBSCRIPTION ... PUBLICATION";
				default:
					return NULL;
			}
		default:
			return NULL;
	}
}

/*
 * migr_stmt_waits_block_nobody
 *		Whether the statement's lock waits hold up nobody else's work: the
 *		CONCURRENTLY operations, which take SHARE UPDATE EXCLUSIVE (no
 *		conflict with reads and writes) and then wait for every older
 *		transaction, and VACUUM.  lock_timeout would only make them fail
 *		whenever some transaction runs long.
 */
bool
migr_stmt_waits_block_nobody(Node *stmt)
{
	const char *what = migr_stmt_toplevel_only(stmt);

	return what && (strstr(what, "CONCURRENTLY") != NULL || strcmp(what, "VACUUM") == 0);
}

/*
 * migr_stmt_commits
 *		Whether the statement is CALL migr.batch_update() or CALL
 *		migr.batch(), written with the schema: in a non-transactional
 *		revision run by CALL migr.apply() it commits after each batch.
 *		(Unqualified, the name could be any procedure on the search_path.)
 */
bool
migr_stmt_commits(Node *stmt)
{
	List	   *name;
	const char *proc;

	if (!IsA(stmt, CallStmt))
		return false;
	name = ((CallStmt *) stmt)->funccall->funcname;
	if (list_length(name) != 2 || strcmp(strVal(linitial(name)), "migr") != 0)
		return false;
	proc = strVal(lsecond(name));
	return strcmp(proc, "batch_update") == 0 || strcmp(proc, "batch") == 0;
}

/*
 * migr_stmt_transaction_control
 *		The statement's name when it is transaction control (BEGIN, COMMIT,
 *		SAVEPOINT, PREPARE TRANSACTION, ...), which no revision body may
 *		hold; NULL otherwise.
 */
const char *
migr_stmt_transaction_control(Node *stmt)
{
	if (!IsA(stmt, TransactionStmt))
		return NULL;
	switch (((TransactionStmt *) stmt)->kind)
	{
		case TRANS_STMT_BEGIN:
			return "BEGIN";
		case TRANS_STMT_START:
			return "START TRANSACTION";
		case TRANS_STMT_COMMIT:
			return "COMMIT";
		case TRANS_STMT_ROLLBACK:
			return "ROLLBACK";
		case TRANS_STMT_SAVEPOINT:
			return "SAVEPOINT";
		case TRANS_STMT_RELEASE:
			return "RELEASE";
		case TRANS_STMT_ROLLBACK_TO:
			return "ROLLBACK TO SAVEPOINT";
		case TRANS_STMT_PREPARE:
			return "PREPARE TRANSACTION";
		case TRANS_STMT_COMMIT_PREPARED:
			return "COMMIT PREPARED";
		case TRANS_STMT_ROLLBACK_PREPARED:
			return "ROLLBACK PREPARED";
	}
	return "transaction control";
}
