/*-------------------------------------------------------------------------
 * activity.h
 *	  What pg_stat_activity.query shows while migr runs.
 *
 * IDENTIFICATION
 *	  src/activity.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_ACTIVITY_H
#define MIGR_ACTIVITY_H

extern void migr_activity_report(const char *fmt,...) pg_attribute_printf(1, 2);
extern void migr_activity_restore(void);

#endif							/* MIGR_ACTIVITY_H */
