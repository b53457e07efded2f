/* The rules engine's storage seam: one statement type that runs either a
 * SQLite statement or a PostgreSQL one, so that the engine (rules.c,
 * rules_eval.c, findings.c) is written once and only the SQL text differs
 * per backend. Calls mirror sqlite3_bind_* / step / column_* / reset, and
 * step returns SQLITE_ROW, SQLITE_DONE or an error code; on SQLite each is
 * the sqlite3 call behind one predictable branch.
 *
 * On PostgreSQL a statement is prepared once per connection (cached
 * statements) or sent with its parameters (one-off statements), all
 * parameters and results binary. Its SQL text uses $1..$n with explicit
 * casts, and "$o" for the store's own origin (bound by the seam, so the
 * engine's parameter numbers are the same on both backends). Integers are
 * always sent as int8; results of int2/int4/int8 and of decimal text read
 * as integers. A failed PostgreSQL step sets the error itself:
 * eaudit__rq_fail() then keeps it. */
#ifndef EAUDIT_RULES_SQL_H
#define EAUDIT_RULES_SQL_H

#include "store_internal.h"

typedef struct eaudit__rqpg eaudit__rqpg;

typedef struct eaudit__rq {
  sqlite3_stmt *st; /* SQLite */
  eaudit__rqpg *pg; /* PostgreSQL (NULL on SQLite) */
} eaudit__rq;

#define EAUDIT__RQ_SQLITE(q) __builtin_expect((q)->pg == NULL, 1)

/* The PostgreSQL halves (rules_sql.c). */
void eaudit__rqpg_i64(eaudit__rqpg *p, int i, int64_t v);
void eaudit__rqpg_blob(eaudit__rqpg *p, int i, const void *b, size_t n);
void eaudit__rqpg_text(eaudit__rqpg *p, int i, const char *t);
void eaudit__rqpg_null(eaudit__rqpg *p, int i);
int eaudit__rqpg_step(eaudit__rqpg *p);
void eaudit__rqpg_reset(eaudit__rqpg *p, int clear);
int64_t eaudit__rqpg_col_i64(const eaudit__rqpg *p, int col);
int eaudit__rqpg_col_null(const eaudit__rqpg *p, int col);
const void *eaudit__rqpg_col_blob(const eaudit__rqpg *p, int col);
int eaudit__rqpg_col_bytes(const eaudit__rqpg *p, int col);
int eaudit__rqpg_event(const eaudit__rqpg *p, eaudit_event *ev);

static inline void eaudit__rq_i64(eaudit__rq *q, int i, int64_t v) {
  if (EAUDIT__RQ_SQLITE(q))
    sqlite3_bind_int64(q->st, i, v);
  else
    eaudit__rqpg_i64(q->pg, i, v);
}
static inline void eaudit__rq_int(eaudit__rq *q, int i, int v) {
  if (EAUDIT__RQ_SQLITE(q))
    sqlite3_bind_int(q->st, i, v);
  else
    eaudit__rqpg_i64(q->pg, i, v);
}
/* The bytes must stay put until the statement is reset (SQLITE_STATIC). */
static inline void eaudit__rq_blob(eaudit__rq *q, int i, const void *b,
                                   size_t n) {
  if (EAUDIT__RQ_SQLITE(q))
    sqlite3_bind_blob(q->st, i, b, (int)n, SQLITE_STATIC);
  else
    eaudit__rqpg_blob(q->pg, i, b, n);
}
static inline void eaudit__rq_text(eaudit__rq *q, int i, const char *t) {
  if (EAUDIT__RQ_SQLITE(q))
    sqlite3_bind_text(q->st, i, t, -1, SQLITE_STATIC);
  else
    eaudit__rqpg_text(q->pg, i, t);
}
static inline void eaudit__rq_null(eaudit__rq *q, int i) {
  if (EAUDIT__RQ_SQLITE(q))
    sqlite3_bind_null(q->st, i);
  else
    eaudit__rqpg_null(q->pg, i);
}
static inline int eaudit__rq_step(eaudit__rq *q) {
  return EAUDIT__RQ_SQLITE(q) ? sqlite3_step(q->st) : eaudit__rqpg_step(q->pg);
}
/* Ready to run again, bindings kept. */
static inline void eaudit__rq_reset(eaudit__rq *q) {
  if (EAUDIT__RQ_SQLITE(q))
    sqlite3_reset(q->st);
  else
    eaudit__rqpg_reset(q->pg, 0);
}
static inline int64_t eaudit__rq_col_i64(eaudit__rq *q, int col) {
  return EAUDIT__RQ_SQLITE(q) ? sqlite3_column_int64(q->st, col)
                              : eaudit__rqpg_col_i64(q->pg, col);
}
static inline int eaudit__rq_col_int(eaudit__rq *q, int col) {
  return EAUDIT__RQ_SQLITE(q) ? sqlite3_column_int(q->st, col)
                              : (int)eaudit__rqpg_col_i64(q->pg, col);
}
static inline int eaudit__rq_col_null(eaudit__rq *q, int col) {
  return EAUDIT__RQ_SQLITE(q) ? sqlite3_column_type(q->st, col) == SQLITE_NULL
                              : eaudit__rqpg_col_null(q->pg, col);
}
static inline const void *eaudit__rq_col_blob(eaudit__rq *q, int col) {
  return EAUDIT__RQ_SQLITE(q) ? sqlite3_column_blob(q->st, col)
                              : eaudit__rqpg_col_blob(q->pg, col);
}
static inline int eaudit__rq_col_bytes(eaudit__rq *q, int col) {
  return EAUDIT__RQ_SQLITE(q) ? sqlite3_column_bytes(q->st, col)
                              : eaudit__rqpg_col_bytes(q->pg, col);
}
/* Text (NUL-terminated; NULL for SQL NULL). */
static inline const char *eaudit__rq_col_text(eaudit__rq *q, int col) {
  return EAUDIT__RQ_SQLITE(q) ? (const char *)sqlite3_column_text(q->st, col)
         : eaudit__rqpg_col_null(q->pg, col)
             ? NULL
             : (const char *)eaudit__rqpg_col_blob(q->pg, col);
}
/* The current row as an event, columns in EAUDIT__EVENT_COLUMNS order. */
static inline int eaudit__rq_event(eaudit__rq *q, eaudit_event *ev) {
  return EAUDIT__RQ_SQLITE(q) ? eaudit__event_from_row(q->st, 0, ev)
                              : eaudit__rqpg_event(q->pg, ev);
}

/* A one-off statement: sqlite_sql on SQLite, pg_sql on PostgreSQL. */
int eaudit__rq_open(eaudit_store *s, const char *sqlite_sql, const char *pg_sql,
                    eaudit__rq *out);
void eaudit__rq_close(eaudit__rq *q);
/* A cached statement (slot q, id a small number naming it per connection);
 * prepared on first use, reset and unbound on each later one. */
int eaudit__rq_prepare_cached(eaudit_store *s, eaudit__rq *q, int id,
                              const char *sqlite_sql, const char *pg_sql);
static inline int eaudit__rq_cached(eaudit_store *s, eaudit__rq *q, int id,
                                    const char *sqlite_sql,
                                    const char *pg_sql) {
  if (__builtin_expect(q->st != NULL, 1)) {
    sqlite3_reset(q->st);
    sqlite3_clear_bindings(q->st);
    return EAUDIT_OK;
  }
  return eaudit__rq_prepare_cached(s, q, id, sqlite_sql, pg_sql);
}
/* Free a cached statement (not after fork(): the child leaves the
 * parent's statements alone). */
void eaudit__rq_free(eaudit_store *s, eaudit__rq *q);
/* The error of a failed step, rc its result: SQLite's message with what,
 * or the PostgreSQL error the step set. */
int eaudit__rq_fail(eaudit_store *s, int rc, const char *what);
/* Run a one-off statement without results (several ;-separated
 * statements on SQLite; one on PostgreSQL, without parameters). */
int eaudit__rq_exec(eaudit_store *s, const char *sqlite_sql,
                    const char *pg_sql);

#endif
