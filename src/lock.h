/*-------------------------------------------------------------------------
 * lock.h
 *	  The migration lock.
 *
 * IDENTIFICATION
 *	  src/lock.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_LOCK_H
#define MIGR_LOCK_H

/* pg_advisory_xact_lock(MIGR_LOCK_KEY) is the same lock: 'migr' in ASCII */
#define MIGR_LOCK_KEY	INT64CONST(1835624306)

extern void migr_lock_acquire(void);
extern Oid	migr_lock_acquire_session(void);
extern bool migr_lock_held_session(void);
extern void migr_lock_release_session(Oid ext);
extern int	migr_lock_advisory_holder(uint32 key1, uint32 key2, int objsubid);
extern Oid	migr_lock_extension_session(void);
extern void migr_unlock_extension_session(Oid ext);

#endif							/* MIGR_LOCK_H */
