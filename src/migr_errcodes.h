/*-------------------------------------------------------------------------
 * migr_errcodes.h
 *	  migr's private SQLSTATEs (class MG).  Never renumber a released code;
 *	  docs/errors.md lists them for clients that trap them.
 *
 * IDENTIFICATION
 *	  src/migr_errcodes.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_ERRCODES_H
#define MIGR_ERRCODES_H

#include "utils/elog.h"

/* ambiguous target: several heads, ambiguous prefix or walk */
#define ERRCODE_MIGR_AMBIGUOUS_TARGET		MAKE_SQLSTATE('M','G','0','0','1')
/* downgrade through a revision marked irreversible */
#define ERRCODE_MIGR_IRREVERSIBLE			MAKE_SQLSTATE('M','G','0','0','2')
/* applied revision's content changed since it was applied */
#define ERRCODE_MIGR_CHECKSUM_MISMATCH		MAKE_SQLSTATE('M','G','0','0','3')
/* precondition not met */
#define ERRCODE_MIGR_PRECONDITION			MAKE_SQLSTATE('M','G','0','0','4')
/* postcondition failed after apply */
#define ERRCODE_MIGR_POSTCONDITION			MAKE_SQLSTATE('M','G','0','0','5')
/* migr.check(strict => true) found error-level findings */
#define ERRCODE_MIGR_CHECK_FAILED			MAKE_SQLSTATE('M','G','0','0','6')

#endif							/* MIGR_ERRCODES_H */
