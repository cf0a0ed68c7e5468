/*-------------------------------------------------------------------------
 * stmtclass.h
 *	  Which statements cannot run inside a transaction block (see
 *	  stmtclass.c).
 *
 * IDENTIFICATION
 *	  src/stmtclass.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_STMTCLASS_H
#define MIGR_STMTCLASS_H

#include "nodes/nodes.h"

extern const char *migr_stmt_toplevel_only(Node *stmt);
extern const char *migr_stmt_transaction_control(Node *stmt);
extern bool migr_stmt_waits_block_nobody(Node *stmt);
extern bool migr_stmt_commits(Node *stmt);

#endif							/* MIGR_STMTCLASS_H */
