/*-------------------------------------------------------------------------
 * migr.c
 *	  Module magic and initialisation: the settings (guc.c).
 *
 * IDENTIFICATION
 *	  src/migr.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	migr_define_settings();
}
