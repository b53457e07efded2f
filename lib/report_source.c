/* Where reports and exports read from, per backend: the one snapshot, the
 * events (a query newest first, or the handle's own chain by seq), their
 * count for the progress callback, the per-user rollups, and names at a
 * time on PostgreSQL. report.c stays free of backend code; see
 * report_internal.h, "event sources".
 *
 * SQLite: BEGIN DEFERRED on the handle's connection, statements from the
 * query compiler or prepared here, stepped directly.
 *
 * PostgreSQL: BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY on the
 * handle's connection, so that every statement of the report (summary
 * counts, findings, expired permissions, names, event batches) sees one
 * snapshot; the events come through the keyset cursor of pg_query.c. */
#include "report_internal.h"

#ifdef EAUDIT_HAVE_LIBPQ
#include "pg_internal.h"
#define PGCONN(s) (((eaudit__pgstore *)(s)->pg)->conn)
#endif

/* ---- the snapshot ---- */

int eaudit__report_snapshot_begin(eaudit_store *s, int *began) {
  *began = 0;
  if (s->in_txn) /* inside a transaction of the handle: read in it */
    return EAUDIT_OK;
#ifdef EAUDIT_HAVE_LIBPQ
  if (s->pg) {
    PGconn *c = PGCONN(s);
    if (PQtransactionStatus(c) != PQTRANS_IDLE)
      return EAUDIT_OK;
    int rc = eaudit__pg_command(
        c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        "starting a read transaction");
    if (rc)
      return rc;
    *began = 1;
    s->in_txn = 1;
    return EAUDIT_OK;
  }
#endif
  if (s->pg)
    return eaudit__pg_unsupported(__func__);
  if (!sqlite3_get_autocommit(s->db))
    return EAUDIT_OK;
  int rc = sqlite3_exec(s->db, "BEGIN DEFERRED", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return eaudit__sqlite_error(s, rc, "starting a read transaction");
  *began = 1;
  s->in_txn = 1;
  return EAUDIT_OK;
}

void eaudit__report_snapshot_end(eaudit_store *s, int began) {
  if (!began)
    return;
  s->in_txn = 0;
#ifdef EAUDIT_HAVE_LIBPQ
  if (s->pg) {
    /* Read only: COMMIT and ROLLBACK are alike; after a failed statement
     * the server rolls back either way. The caller's error stays. */
    PGconn *c = PGCONN(s);
    if (PQtransactionStatus(c) != PQTRANS_IDLE)
      PQclear(PQexec(c, "ROLLBACK"));
    return;
  }
#endif
  if (s->pg == NULL && !sqlite3_get_autocommit(s->db))
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

/* ---- events ---- */

int eaudit__evsrc_open_query(eaudit_store *s, const eaudit_query *q,
                             eaudit__evsrc *src) {
  memset(src, 0, sizeof *src);
  src->s = s;
  if (s->pg)
    return eaudit__pg_query_open(s, q, &src->pg);
  return eaudit__query_prepare(s, q, NULL, 0, &src->st);
}

int eaudit__evsrc_open_chain(eaudit_store *s, int64_t after_seq,
                             eaudit__evsrc *src) {
  memset(src, 0, sizeof *src);
  src->s = s;
  if (s->pg)
    return eaudit__pg_tail_open(s, after_seq, 0, &src->pg);
  int rc = sqlite3_prepare_v2(s->db,
                              "SELECT " EAUDIT__EVENT_COLUMNS
                              " FROM events WHERE seq > ?1 ORDER BY seq",
                              -1, &src->st, NULL);
  if (rc != SQLITE_OK)
    return eaudit__sqlite_error(s, rc, "preparing the export");
  sqlite3_bind_int64(src->st, 1, after_seq);
  return EAUDIT_OK;
}

int eaudit__evsrc_next_slow(eaudit__evsrc *src, eaudit_event *ev) {
  if (src->pg)
    return eaudit__pg_cursor_next(src->pg, ev);
  return EAUDIT_DONE;
}

int eaudit__evsrc_step_error(eaudit__evsrc *src, int rc) {
  return eaudit__sqlite_error(src->s, rc, "reading events");
}

void eaudit__evsrc_close(eaudit__evsrc *src) {
  if (src->st)
    eaudit__stmt_release(src->s, src->st); /* finalizes an uncached one */
  eaudit__pg_cursor_free(src->pg);
  src->st = NULL;
  src->pg = NULL;
}

int eaudit__evsrc_count_chain(eaudit_store *s, int64_t after_seq,
                              uint64_t *out) {
  *out = 0;
#ifdef EAUDIT_HAVE_LIBPQ
  if (s->pg) {
    eaudit__pgp p = {0};
    eaudit__pgp_bytes(&p, ((eaudit__pgstore *)s->pg)->origin, 16);
    eaudit__pgp_i64(&p, after_seq);
    PGresult *r = eaudit__pg_exec(PGCONN(s),
                                  "SELECT count(*) FROM eaudit.events "
                                  "WHERE origin = $1 AND seq > $2",
                                  &p, "counting events to export");
    if (r == NULL)
      return eaudit_error_last()->code;
    *out = (uint64_t)eaudit__pg_i64(r, 0, 0);
    PQclear(r);
    return EAUDIT_OK;
  }
#endif
  if (s->pg)
    return eaudit__pg_unsupported(__func__);
  sqlite3_stmt *st = NULL;
  int src = sqlite3_prepare_v2(
      s->db, "SELECT count(*) FROM events WHERE seq > ?1", -1, &st, NULL);
  if (src == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, after_seq);
    if ((src = sqlite3_step(st)) == SQLITE_ROW)
      *out = (uint64_t)sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  if (src != SQLITE_ROW)
    return eaudit__sqlite_error(s, src, "counting events to export");
  return EAUDIT_OK;
}

/* ---- counts per user from the rollups (SQLite) ---- */

int eaudit__report_rollup_users(eaudit_store *s, const eaudit_query *q,
                                eaudit_time from, eaudit_time to,
                                int (*add)(void *payload, int64_t key,
                                           int64_t n),
                                void *payload) {
  if (s->pg)
    return eaudit__pg_unsupported(__func__);
  eaudit__buf sql = {0};
  int rc = eaudit__buf_puts(&sql, "SELECT subject, n FROM rollup WHERE day >= ?1 "
                                  "AND day < ?2 AND subject <> -1");
  if (rc == 0 && q->has_user)
    rc = eaudit__buf_puts(&sql, " AND subject = ?3");
  for (size_t i = 0; rc == 0 && i < q->n_types; i++)
    rc = eaudit__buf_printf(&sql, "%s?%zu", i ? ", " : " AND type IN (",
                            i + 4);
  if (rc == 0 && q->n_types)
    rc = eaudit__buf_puts(&sql, ")");
  if (rc) {
    eaudit__buf_free(&sql);
    return eaudit__enomem();
  }
  sqlite3_stmt *st = NULL;
  int src = sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL);
  eaudit__buf_free(&sql);
  if (src != SQLITE_OK)
    return eaudit__sqlite_error(s, src, "preparing counts per user");
  sqlite3_bind_int64(st, 1, from);
  sqlite3_bind_int64(st, 2, to);
  if (q->has_user)
    sqlite3_bind_int64(st, 3, q->user);
  for (size_t i = 0; i < q->n_types; i++)
    sqlite3_bind_int64(st, (int)i + 4, q->types[i]);
  while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW)
    rc = add(payload, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__sqlite_error(s, src, "reading counts per user");
  sqlite3_finalize(st);
  return rc;
}

/* ---- names at a time (PostgreSQL) ---- */

int eaudit__pg_name_span(eaudit_store *s, int kind, int64_t id, eaudit_time t,
                         eaudit_time *from, eaudit_time *until,
                         char **name) {
  *name = NULL;
  *from = INT64_MIN;
  *until = INT64_MAX;
#ifdef EAUDIT_HAVE_LIBPQ
  /* The name valid at t and the start of the next one; before the first
   * name, the first one (as eaudit__names_get_len on SQLite). */
  eaudit__pgp p = {0};
  eaudit__pgp_i32(&p, kind);
  eaudit__pgp_i64(&p, id);
  eaudit__pgp_i64(&p, t);
  PGresult *r = eaudit__pg_exec(
      PGCONN(s),
      "SELECT a.valid_from, a.name, b.valid_from, b.name FROM (SELECT 1) x"
      " LEFT JOIN LATERAL (SELECT valid_from, name FROM eaudit.names"
      "  WHERE kind = $1 AND entity = $2 AND valid_from <= $3"
      "  ORDER BY valid_from DESC LIMIT 1) a ON true"
      " LEFT JOIN LATERAL (SELECT valid_from, name FROM eaudit.names"
      "  WHERE kind = $1 AND entity = $2 AND valid_from > $3"
      "  ORDER BY valid_from LIMIT 1) b ON true",
      &p, "reading a name");
  if (r == NULL)
    return eaudit_error_last()->code;
  int col = -1;
  if (!PQgetisnull(r, 0, 0)) {
    *from = eaudit__pg_i64(r, 0, 0);
    col = 1;
  } else if (!PQgetisnull(r, 0, 3)) {
    col = 3;
  }
  if (!PQgetisnull(r, 0, 2))
    *until = eaudit__pg_i64(r, 0, 2);
  int rc = EAUDIT_OK;
  if (col > 0) {
    int len = PQgetlength(r, 0, col);
    *name = eaudit__malloc((size_t)len + 1);
    if (*name == NULL) {
      rc = eaudit__enomem();
    } else {
      memcpy(*name, PQgetvalue(r, 0, col), (size_t)len);
      (*name)[len] = '\0';
    }
  }
  PQclear(r);
  return rc;
#else
  (void)s, (void)kind, (void)id, (void)t;
  return eaudit__pg_unsupported(__func__);
#endif
}
