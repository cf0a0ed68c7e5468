/*-------------------------------------------------------------------------
 * strlist.h
 *	  Arrays of C strings: joining for messages, conversion to and from
 *	  text[] datums.
 *
 * IDENTIFICATION
 *	  src/strlist.h
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_STRLIST_H
#define MIGR_STRLIST_H

#include "postgres.h"
#include "nodes/pg_list.h"

extern char *migr_join_list(char **v, int n);
extern char *migr_join_names(List *names, const char *sep);
extern bool migr_same_names(List *a, List *b);
extern Datum migr_text_array(char **v, int n);
extern char **migr_cstrings(Datum text_array, int *n);

#endif							/* MIGR_STRLIST_H */
