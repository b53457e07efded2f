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
  int has_after; /* 1: a SQLite position (p1), 2: a PostgreSQL one (p2) */
  eaudit_time after_t;
  int64_t after_seq;
  uint8_t after_origin[16]; /* p2 only */
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

/* The PostgreSQL backend of queries (pg_query.c), behind the same cursor:
 * open a query or the tail into backend state, step it, write its
 * position, free it. Without libpq they return EAUDIT_EUNSUPPORTED. */
typedef struct eaudit__pgcur eaudit__pgcur;
int eaudit__pg_query_open(eaudit_store *s, const eaudit_query *q,
                          eaudit__pgcur **out);
int eaudit__pg_tail_open(eaudit_store *s, int64_t after_seq, size_t limit,
                         eaudit__pgcur **out);
/* EAUDIT_OK with ev filled, EAUDIT_DONE, or an error. */
int eaudit__pg_cursor_next(eaudit__pgcur *c, eaudit_event *ev);
int eaudit__pg_cursor_position(const eaudit__pgcur *c, char *buf,
                               size_t size);
void eaudit__pg_cursor_free(eaudit__pgcur *c);
/* Decode a "p2:" position into q (EAUDIT_ECURSOR when malformed). */
int eaudit__pg_position_parse(eaudit_query *q, const char *token);
/* Counts (eaudit_count_by) of the events q matches, each group handed to
 * add(payload, key, n) once. */
int eaudit__pg_counts(eaudit_store *s, const eaudit_query *q, int by,
                      int (*add)(void *payload, int64_t key, int64_t n),
                      void *payload);
/* The users seen in events or set with a name or role, by id, at most
 * limit (0: all): each handed to add(payload, id, name, last activity,
 * expired now, role). */
int eaudit__pg_users(eaudit_store *s, const char *prefix, size_t limit,
                     int (*add)(void *payload, int64_t id, const char *name,
                                eaudit_time last, int expired, int role),
                     void *payload);
/* EXPLAIN of the statement a query's first batch runs, as text lines
 * joined by newlines (caller frees with eaudit__free); for the tests. */
int eaudit__pg_query_explain(eaudit_store *s, const eaudit_query *q,
                             char **out);

#endif
