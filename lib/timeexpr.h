/* Time expressions, RFC 3339, the past month and the free-text parser. */
#ifndef EAUDIT_TIMEEXPR_H
#define EAUDIT_TIMEEXPR_H

#include "tz.h"

/* Resolve a time expression (see eaudit_store_parse_time() in query.h). */
int eaudit__time_parse(eaudit__tz *tz, const char *expr, eaudit_time now,
                       eaudit_time *begin, eaudit_time *end);

/* [since, until) of the past month ending at now, clamped at month ends. */
int eaudit__past_month(eaudit__tz *tz, eaudit_time now, eaudit_time *since,
                       eaudit_time *until);

/* RFC 3339 with any offset ("Z", "+01:00"), fraction up to microseconds. */
int eaudit__rfc3339_parse(const char *text, size_t len, eaudit_time *out);
/* Writes 2026-11-03T14:05:09.123456Z (27 chars + NUL; fraction always 6
 * digits). buf must hold 28 bytes. */
int eaudit__rfc3339_format(eaudit_time t, char *buf, size_t size);
/* Format per eaudit_time_format (query.h) in the zone. */
int eaudit__time_format(eaudit__tz *tz, eaudit_time t, int format, char *buf,
                        size_t size);

/* The free-text parser. */
#define EAUDIT__SEARCH_MAX_PARTS 16

typedef struct eaudit__search {
  /* Dates found: the intersection of their days; has_interval = 0 if none.
   * Two different days give an empty interval (since >= until). */
  int has_interval;
  eaudit_time since, until;
  /* Times of day: [minute_from, minute_to) in local minutes, AND-ed. */
  int n_tod;
  int tod_from[EAUDIT__SEARCH_MAX_PARTS], tod_to[EAUDIT__SEARCH_MAX_PARTS];
  /* Label phrases: each phrase gives a set of type codes; sets are AND-ed
   * (an event's type must be in every set). A phrase is the longest run of
   * words found in a label as consecutive words, the first from a word's
   * start; the last may be a word's beginning ("door open" finds "Door
   * opened" and "Door open attempt failed"). ASCII case is ignored. */
  int n_type_sets;
  int *type_sets[EAUDIT__SEARCH_MAX_PARTS];
  int type_set_len[EAUDIT__SEARCH_MAX_PARTS];
  /* Remaining words (lower-cased, NUL-terminated), name prefixes, AND-ed.
   * Only ASCII letters are lowered; other UTF-8 is kept as typed, for the
   * name index to fold. A quoted "phrase" is one word, never a date, time
   * or label. */
  int n_words;
  char *words[EAUDIT__SEARCH_MAX_PARTS];
} eaudit__search;

/* Enumerates the type labels visible to search: returns 0 and sets *code and
 * *label for index i, or EAUDIT_DONE past the end. */
typedef int (*eaudit__label_fn)(void *payload, size_t i, int *code,
                                const char **label);

/* Parse text. now picks the year of dates written without one (the most
 * recent such day at or before now). EAUDIT_ETOOBIG beyond
 * EAUDIT__SEARCH_MAX_PARTS parts of one kind, EAUDIT_EUTF8 for bad UTF-8. */
int eaudit__search_parse(eaudit__tz *tz, const char *text, eaudit_time now,
                         eaudit__label_fn labels, void *payload,
                         eaudit__search *out);
void eaudit__search_clear(eaudit__search *s);

#endif
