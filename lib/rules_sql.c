/* The rules engine's storage seam (rules_sql.h): SQLite statements, and
 * the PostgreSQL statements that stand in for them on a store opened on a
 * postgresql:// URI. */
#include "rules_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef EAUDIT_HAVE_LIBPQ
#include "pg_internal.h"

struct eaudit__rqpg {
  eaudit__pgstore *ps;
  char name[32]; /* "" for a one-off statement */
  char *sql;     /* $o replaced by the origin's parameter */
  int nparams;
  int origin_at; /* 1-based; 0: none */
  /* Parameters the text does not name (a filter left out) are sent as
   * bytea, which the server need not infer; the others it infers. */
  Oid types[EAUDIT__PG_MAXP];
  int pid; /* the server process it was prepared in */
  const char *v[EAUDIT__PG_MAXP];
  int len[EAUDIT__PG_MAXP];
  int fmt[EAUDIT__PG_MAXP];
  uint8_t num[EAUDIT__PG_MAXP][8];
  PGresult *res;
  int row, nrows;
};

/* The text with "$o" replaced by "$<n + 1>", n the highest $N it uses. */
static int pg_text(eaudit__rqpg *p, const char *sql) {
  int max = 0, has_o = 0;
  char named[EAUDIT__PG_MAXP + 1] = {0};
  for (const char *c = sql; *c; c++)
    if (*c == '$' && c[1] >= '0' && c[1] <= '9') {
      int n = (int)strtol(c + 1, NULL, 10);
      max = n > max ? n : max;
      if (n <= EAUDIT__PG_MAXP)
        named[n] = 1;
    } else if (*c == '$' && c[1] == 'o') {
      has_o = 1;
    }
  if (max + has_o > EAUDIT__PG_MAXP)
    return eaudit__error(EAUDIT_ERROR, EAUDIT_ECLASS_STORE, 0,
                         "a rules statement has too many parameters");
  eaudit__buf b = {0};
  char num[16];
  snprintf(num, sizeof num, "$%d", max + 1);
  int rc = EAUDIT_OK;
  for (const char *c = sql; *c && rc == 0; c++) {
    if (*c == '$' && c[1] == 'o') {
      rc = eaudit__buf_puts(&b, num);
      c++;
    } else {
      rc = eaudit__buf_put(&b, c, 1);
    }
  }
  if (rc == 0)
    rc = eaudit__buf_put(&b, "", 1); /* the terminator */
  if (rc) {
    eaudit__buf_free(&b);
    return rc;
  }
  p->sql = b.data;
  p->nparams = max + has_o;
  p->origin_at = has_o ? max + 1 : 0;
  for (int i = 1; i <= max; i++)
    p->types[i - 1] = named[i] ? 0 : EAUDIT__OID_BYTEA;
  return EAUDIT_OK;
}

static int pg_new(eaudit_store *s, const char *sql, const char *name,
                  eaudit__rqpg **out) {
  eaudit__rqpg *p = eaudit__calloc(1, sizeof *p);
  if (p == NULL)
    return eaudit__enomem();
  p->ps = s->pg;
  p->pid = -1;
  if (name)
    snprintf(p->name, sizeof p->name, "%s", name);
  int rc = pg_text(p, sql);
  if (rc) {
    eaudit__free(p);
    return rc;
  }
  *out = p;
  return EAUDIT_OK;
}

static void pg_free(eaudit__rqpg *p) {
  if (p == NULL)
    return;
  PQclear(p->res);
  eaudit__free(p->sql);
  eaudit__free(p);
}

void eaudit__rqpg_i64(eaudit__rqpg *p, int i, int64_t v) {
  uint64_t u = (uint64_t)v;
  for (int k = 0; k < 8; k++)
    p->num[i - 1][k] = (uint8_t)(u >> (56 - 8 * k));
  p->v[i - 1] = (const char *)p->num[i - 1];
  p->len[i - 1] = 8;
  p->fmt[i - 1] = 1;
}

void eaudit__rqpg_blob(eaudit__rqpg *p, int i, const void *b, size_t n) {
  p->v[i - 1] = b ? (const char *)b : "";
  p->len[i - 1] = (int)n;
  p->fmt[i - 1] = 1;
}

void eaudit__rqpg_text(eaudit__rqpg *p, int i, const char *t) {
  p->v[i - 1] = t;
  p->len[i - 1] = t ? (int)strlen(t) : 0;
  p->fmt[i - 1] = 1;
}

void eaudit__rqpg_null(eaudit__rqpg *p, int i) { p->v[i - 1] = NULL; }

int eaudit__rqpg_step(eaudit__rqpg *p) {
  if (p->res) {
    p->row++;
    return p->row < p->nrows ? SQLITE_ROW : SQLITE_DONE;
  }
  PGconn *c = p->ps->conn;
  if (p->origin_at)
    eaudit__rqpg_blob(p, p->origin_at,
                      p->ps->rules_shipped ? p->ps->rules_origin
                                           : p->ps->origin,
                      16);
  PGresult *r;
  if (p->name[0]) {
    int pid = PQbackendPID(c);
    if (pid != p->pid) {
      /* First use on this connection (a reset connection lost it). */
      r = PQprepare(c, p->name, p->sql, p->nparams, p->types);
      if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
        eaudit__pg_error(c, r, "preparing a rules statement");
        PQclear(r);
        return SQLITE_ERROR;
      }
      PQclear(r);
      p->pid = pid;
    }
    r = PQexecPrepared(c, p->name, p->nparams, p->v, p->len, p->fmt, 1);
  } else {
    r = PQexecParams(c, p->sql, p->nparams, p->types, p->v, p->len, p->fmt, 1);
  }
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    eaudit__pg_error(c, r, "running a rules statement");
    PQclear(r);
    return SQLITE_ERROR;
  }
  p->res = r;
  p->row = 0;
  p->nrows = st == PGRES_TUPLES_OK ? PQntuples(r) : 0;
  return p->nrows > 0 ? SQLITE_ROW : SQLITE_DONE;
}

void eaudit__rqpg_reset(eaudit__rqpg *p, int clear) {
  PQclear(p->res);
  p->res = NULL;
  p->row = p->nrows = 0;
  if (clear)
    for (int i = 0; i < EAUDIT__PG_MAXP; i++)
      p->v[i] = NULL;
}

static int pg_has(const eaudit__rqpg *p, int col) {
  return p->res && p->row < p->nrows && col < PQnfields(p->res) &&
         !PQgetisnull(p->res, p->row, col);
}

int64_t eaudit__rqpg_col_i64(const eaudit__rqpg *p, int col) {
  if (!pg_has(p, col))
    return 0;
  const uint8_t *v = (const uint8_t *)PQgetvalue(p->res, p->row, col);
  int len = PQgetlength(p->res, p->row, col);
  switch (PQftype(p->res, col)) {
  case 20: /* int8 */
  case 23: /* int4 */
  case 21: /* int2 */
  case 16: /* bool */ {
    uint64_t u = 0;
    for (int k = 0; k < len; k++)
      u = u << 8 | v[k];
    if (len > 0 && len < 8 && (v[0] & 0x80))
      u |= ~UINT64_C(0) << (8 * len); /* sign-extend */
    return (int64_t)u;
  }
  default: /* decimal text */
    return strtoll((const char *)v, NULL, 10);
  }
}

int eaudit__rqpg_col_null(const eaudit__rqpg *p, int col) {
  return !pg_has(p, col);
}

const void *eaudit__rqpg_col_blob(const eaudit__rqpg *p, int col) {
  return pg_has(p, col) ? PQgetvalue(p->res, p->row, col) : NULL;
}

int eaudit__rqpg_col_bytes(const eaudit__rqpg *p, int col) {
  return pg_has(p, col) ? PQgetlength(p->res, p->row, col) : 0;
}

int eaudit__rqpg_event(const eaudit__rqpg *p, eaudit_event *ev) {
  return eaudit__pg_row_event(p->res, p->row, ev);
}

#else /* !EAUDIT_HAVE_LIBPQ: a PostgreSQL handle never exists. */

struct eaudit__rqpg {
  int unused;
};

static int pg_new(eaudit_store *s, const char *sql, const char *name,
                  eaudit__rqpg **out) {
  (void)s;
  (void)sql;
  (void)name;
  *out = NULL;
  return eaudit__error(EAUDIT_EUNSUPPORTED, EAUDIT_ECLASS_INVALID, 0,
                       "this build of the library has no PostgreSQL support");
}
static void pg_free(eaudit__rqpg *p) { (void)p; }
void eaudit__rqpg_i64(eaudit__rqpg *p, int i, int64_t v) {
  (void)p;
  (void)i;
  (void)v;
}
void eaudit__rqpg_blob(eaudit__rqpg *p, int i, const void *b, size_t n) {
  (void)p;
  (void)i;
  (void)b;
  (void)n;
}
void eaudit__rqpg_text(eaudit__rqpg *p, int i, const char *t) {
  (void)p;
  (void)i;
  (void)t;
}
void eaudit__rqpg_null(eaudit__rqpg *p, int i) {
  (void)p;
  (void)i;
}
int eaudit__rqpg_step(eaudit__rqpg *p) {
  (void)p;
  return SQLITE_MISUSE;
}
void eaudit__rqpg_reset(eaudit__rqpg *p, int clear) {
  (void)p;
  (void)clear;
}
int64_t eaudit__rqpg_col_i64(const eaudit__rqpg *p, int col) {
  (void)p;
  (void)col;
  return 0;
}
int eaudit__rqpg_col_null(const eaudit__rqpg *p, int col) {
  (void)p;
  (void)col;
  return 1;
}
const void *eaudit__rqpg_col_blob(const eaudit__rqpg *p, int col) {
  (void)p;
  (void)col;
  return NULL;
}
int eaudit__rqpg_col_bytes(const eaudit__rqpg *p, int col) {
  (void)p;
  (void)col;
  return 0;
}
int eaudit__rqpg_event(const eaudit__rqpg *p, eaudit_event *ev) {
  (void)p;
  (void)ev;
  return EAUDIT_EUNSUPPORTED;
}

#endif

int eaudit__rq_open(eaudit_store *s, const char *sqlite_sql, const char *pg_sql,
                    eaudit__rq *out) {
  out->st = NULL;
  out->pg = NULL;
  if (s->pg)
    return pg_new(s, pg_sql, NULL, &out->pg);
  int rc = sqlite3_prepare_v2(s->db, sqlite_sql, -1, &out->st, NULL);
  return rc == SQLITE_OK ? EAUDIT_OK
                         : eaudit__sqlite_error(s, rc, "preparing a statement");
}

void eaudit__rq_close(eaudit__rq *q) {
  sqlite3_finalize(q->st);
  pg_free(q->pg);
  q->st = NULL;
  q->pg = NULL;
}

int eaudit__rq_prepare_cached(eaudit_store *s, eaudit__rq *q, int id,
                              const char *sqlite_sql, const char *pg_sql) {
  if (q->pg) {
    eaudit__rqpg_reset(q->pg, 1);
    return EAUDIT_OK;
  }
  if (s->pg) {
    char name[32];
    snprintf(name, sizeof name, "eaudit_rules_%d", id);
    return pg_new(s, pg_sql, name, &q->pg);
  }
  int rc = sqlite3_prepare_v3(s->db, sqlite_sql, -1, SQLITE_PREPARE_PERSISTENT,
                              &q->st, NULL);
  if (rc != SQLITE_OK) {
    q->st = NULL;
    return eaudit__sqlite_error(s, rc, "preparing a rules statement");
  }
  return EAUDIT_OK;
}

void eaudit__rq_free(eaudit_store *s, eaudit__rq *q) {
  if (eaudit__store_same_process(s))
    sqlite3_finalize(q->st);
  pg_free(q->pg);
  q->st = NULL;
  q->pg = NULL;
}

int eaudit__rq_fail(eaudit_store *s, int rc, const char *what) {
  if (s->pg == NULL)
    return eaudit__sqlite_error(s, rc, what);
  if (rc == SQLITE_ERROR && eaudit_error_last()->code != EAUDIT_OK)
    return eaudit_error_last()->code; /* set by the step */
  return eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_STORE, 0,
                       "central store: %s: unexpected result", what);
}

int eaudit__rq_exec(eaudit_store *s, const char *sqlite_sql,
                    const char *pg_sql) {
  if (s->pg == NULL)
    return eaudit__exec(s, sqlite_sql);
  eaudit__rq q;
  int rc = eaudit__rq_open(s, sqlite_sql, pg_sql, &q);
  if (rc)
    return rc;
  int src = eaudit__rq_step(&q);
  if (src != SQLITE_DONE && src != SQLITE_ROW)
    rc = eaudit__rq_fail(s, src, "executing");
  eaudit__rq_close(&q);
  return rc;
}
