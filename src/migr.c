/*-------------------------------------------------------------------------
 * migr.c
 *	  Module magic and initialisation.  migr defines no GUCs yet; it reserves
 *	  the "migr." prefix so that a misspelt setting fails loudly once the
 *	  library is loaded.
 *
 * IDENTIFICATION
 *	  src/migr.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	MarkGUCPrefixReserved("migr");
}
