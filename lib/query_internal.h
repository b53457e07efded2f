/* The query object and the cursor, shared with reports and subscribers. */
#ifndef EAUDIT_QUERY_INTERNAL_H
#define EAUDIT_QUERY_INTERNAL_H

#include "store_internal.h"

/* Entity filters, in this order: door, group, device, site. */
#define EAUDIT__N_ENTITY 4

struct eaudit_query {
  int has_user;
  int64_t user;
  int role;
  eaudit_time since, until; /* EAUDIT_TIME_NONE when open */
  int *types;
  size_t n_types, cap_types;
  int has_entity[EAUDIT__N_ENTITY];
  int64_t entity[EAUDIT__N_ENTITY];
  char *text;
  int order;
  size_t limit;
  int has_after;
  eaudit_time after_t;
  int64_t after_seq;
};

/* Index of an entity field in the arrays above, or -1. */
int eaudit__entity_index(int field);

/* Compile q into one SELECT of EAUDIT__EVENT_COLUMNS (or of @p columns when
 * not NULL), prepared and bound. */
int eaudit__query_prepare(eaudit_store *s, const eaudit_query *q,
                          const char *columns, int with_limit,
                          sqlite3_stmt **out);

/* Sum of SQLITE_STMTSTATUS_FULLSCAN_STEP over the cursor's statement. */
int eaudit__cursor_fullscan_steps(const eaudit_cursor *cur);

#endif
