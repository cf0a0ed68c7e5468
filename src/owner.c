/*-------------------------------------------------------------------------
 * owner.c
 *	  Switch to the owner of the migr extension around migr's own catalog
 *	  writes, so that deploy roles need EXECUTE on the writers and no
 *	  rights on the catalog tables: history cannot be written by hand.
 *
 *	  Inside the switch the session settings migr's writes rely on are
 *	  forced as well, whatever a revision body set earlier in the session:
 *	  session_replication_role = origin (so the catalog's triggers and
 *	  foreign keys fire) and search_path = pg_catalog, pg_temp.
 *
 *	  Only catalog SQL may run inside the switch.  Revision bodies and
 *	  checks never do: they run as the caller (apply.c) or, for the
 *	  readers, as the role that registered them (revcheck.c).  An error
 *	  inside the switch needs no cleanup here: the (sub)transaction abort
 *	  restores the user id and unwinds the settings.
 *
 * IDENTIFICATION
 *	  src/owner.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_extension.h"
#include "miscadmin.h"
#include "owner.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/rel.h"

/*
 * The owner of the migr extension (pg_extension.extowner), which owns the
 * catalog tables created by its script.  Read each time: REASSIGN OWNED can
 * change it, and a write per call makes the index look-up negligible.
 */
static Oid
extension_owner(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("migr"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	/* only a C function of migr's called without the extension gets here */
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "extension \"migr\" is not installed in this database");
	owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

/*
 * migr_owner_begin
 *		From here to migr_owner_end(), SQL runs as the extension owner with
 *		session_replication_role = origin and search_path = pg_catalog,
 *		pg_temp.  The caller's identity, if it is to be recorded, must be
 *		read before this.  sw lives in the caller's frame.
 */
void
migr_owner_begin(MigrOwnerSwitch *sw)
{
	Oid			owner = extension_owner();

	GetUserIdAndSecContext(&sw->save_userid, &sw->save_sec_context);
	sw->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("session_replication_role", "origin",
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	SetUserIdAndSecContext(owner,
						   sw->save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
}

/*
 * migr_owner_end
 *		Back to the user and settings migr_owner_begin() found.  Anything
 *		set inside the switch is discarded.
 */
void
migr_owner_end(MigrOwnerSwitch *sw)
{
	SetUserIdAndSecContext(sw->save_userid, sw->save_sec_context);
	AtEOXact_GUC(false, sw->save_nestlevel);
}
