/*-------------------------------------------------------------------------
 * strlist.c
 *	  Arrays of C strings: joining for messages, conversion to and from
 *	  text[] datums.  Everything is allocated in the current memory context.
 *
 * IDENTIFICATION
 *	  src/strlist.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "strlist.h"
#include "utils/array.h"
#include "utils/builtins.h"

/* "a, b, c": the canonical form of a revises/depends_on/labels list */
char *
migr_join_list(char **v, int n)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", v[i]);
	return buf.data;
}

/* The C strings of a List joined by sep */
char *
migr_join_names(List *names, const char *sep)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", foreach_current_index(lc) ? sep : "",
						 (char *) lfirst(lc));
	return buf.data;
}

/* A text[] datum holding the strings, NULL where a string is NULL */
Datum
migr_text_array(char **v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));
	bool	   *isnull = palloc(sizeof(bool) * (n + 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};

	for (int i = 0; i < n; i++)
	{
		isnull[i] = v[i] == NULL;
		d[i] = isnull[i] ? (Datum) 0 : CStringGetTextDatum(v[i]);
	}
	return PointerGetDatum(construct_md_array(d, isnull, 1, dims, lbs, TEXTOID, -1,
											  false, TYPALIGN_INT));
}

/* The elements of a text[] datum; NULL elements become empty strings */
char **
migr_cstrings(Datum text_array, int *n)
{
	ArrayType  *arr = DatumGetArrayTypeP(text_array);
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	out = palloc(sizeof(char *) * (*n + 1));
	for (int i = 0; i < *n; i++)
		out[i] = nulls[i] ? pstrdup("") : TextDatumGetCString(elems[i]);
	return out;
}

/* Whether two Lists of C strings are equal, element by element */
bool
migr_same_names(List *a, List *b)
{
	ListCell   *la,
			   *lb;

	if (list_length(a) != list_length(b))
		return false;
	forboth(la, a, lb, b)
		if (strcmp(lfirst(la), lfirst(lb)) != 0)
		return false;
	return true;
}
