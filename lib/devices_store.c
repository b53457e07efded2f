/* Device recognition's storage (devices_store.h): the statements of both
 * backends behind one small interface, so that the decision logic in
 * devices.c is shared. See docs/devices.md, "Storage". */
#include "devices_store.h"

#ifdef EAUDIT_HAVE_LIBPQ
#include "pg_internal.h"
#endif

#include <stdlib.h>
#include <string.h>

#define DEV_COLS                                                               \
  "id, dkey, platform, os_family, os_version, browser_family, "               \
  "browser_version, model, screen, time_zone, language, ip, last_seen"
#define LIST_COLS                                                              \
  "id, kind, label, first_seen, last_seen, times_seen, platform, "            \
  "os_family, os_version, browser_family, browser_version, model, "           \
  "screen, time_zone, language, ip"

/* The probes read at most ?4 rows in index order (no sort). */
#define RECENT_FIRST " ORDER BY seen_day DESC, id DESC LIMIT ?4"

static const char *const sqlite_sql[EAUDIT__DQ_COUNT] = {
    [EAUDIT__DQ_ANY] =
        "SELECT 1 FROM devices WHERE user_id = ?1 AND kind = ?2 LIMIT 1",
    [EAUDIT__DQ_BY_KEY] = "SELECT " DEV_COLS " FROM devices WHERE user_id = "
                          "?1 AND kind = ?2 AND dkey = ?3 ORDER BY id",
    [EAUDIT__DQ_BY_CLS] = "SELECT " DEV_COLS " FROM devices INDEXED BY "
                          "devices_cls WHERE user_id = ?1 AND kind = ?2 AND "
                          "cls = ?3" RECENT_FIRST,
    [EAUDIT__DQ_CLS_NULL] = "SELECT " DEV_COLS " FROM devices INDEXED BY "
                            "devices_cls WHERE user_id = ?1 AND kind = ?2 "
                            "AND cls IS NULL" RECENT_FIRST,
    [EAUDIT__DQ_RECENT] = "SELECT " DEV_COLS " FROM devices INDEXED BY "
                          "devices_recent WHERE user_id = ?1 AND kind = ?2"
                          RECENT_FIRST,
    [EAUDIT__DQ_HAS_OS] = "SELECT 1 FROM devices WHERE user_id = ?1 AND "
                          "kind = ?2 AND os_key = ?3 LIMIT 1",
    [EAUDIT__DQ_BY_OS] = "SELECT " DEV_COLS " FROM devices INDEXED BY "
                         "devices_os WHERE user_id = ?1 AND kind = ?2 AND "
                         "os_key = ?3" RECENT_FIRST,
    [EAUDIT__DQ_INSERT] =
        "INSERT INTO devices(user_id, kind, dkey, platform, os_family, "
        "os_version, browser_family, browser_version, model, screen, "
        "time_zone, language, ip, os_key, cls, label, first_seen, last_seen, "
        "times_seen, seen_day) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
        "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, 1, ?18)",
    [EAUDIT__DQ_UPDATE] =
        "UPDATE devices SET dkey = ?3, platform = ?4, os_family = ?5, "
        "os_version = ?6, browser_family = ?7, browser_version = ?8, "
        "model = ?9, screen = ?10, time_zone = ?11, language = ?12, "
        "ip = ?13, os_key = ?14, cls = ?15, "
        "last_seen = max(last_seen, ?17), "
        "times_seen = times_seen + 1, seen_day = ?18 WHERE id = ?1",
    /* Seen again, nothing learned, same day: no indexed column changes. */
    [EAUDIT__DQ_SEEN] = "UPDATE devices SET last_seen = max(last_seen, ?2), "
                        "times_seen = times_seen + 1 WHERE id = ?1",
    [EAUDIT__DQ_HOUR] = "INSERT INTO device_login_hours(user_id, hour, n) "
                        "VALUES (?1, ?2, 1) ON CONFLICT(user_id, hour) DO "
                        "UPDATE SET n = n + 1",
    [EAUDIT__DQ_HOURS] =
        "SELECT hour, n FROM device_login_hours WHERE user_id = ?1",
    [EAUDIT__DQ_LIST] = "SELECT " LIST_COLS " FROM devices INDEXED BY "
                        "devices_recent WHERE user_id = ?1 AND kind IN (?2, "
                        "?3) ORDER BY id",
    [EAUDIT__DQ_RENAME] = "UPDATE devices SET label = ?2 WHERE id = ?1",
    [EAUDIT__DQ_FORGET] = "DELETE FROM devices WHERE id = ?1",
    [EAUDIT__DQ_FORGET_UNSEEN] = "DELETE FROM devices WHERE last_seen < ?1",
};

static int is_write(int id) {
  return id >= EAUDIT__DQ_INSERT && id != EAUDIT__DQ_HOURS &&
         id != EAUDIT__DQ_LIST;
}

eaudit__devstate *eaudit__devstate_get(eaudit_store *s) {
  if (s->devices == NULL && (s->devices = eaudit__calloc(
                                 1, sizeof(eaudit__devstate))) == NULL)
    eaudit__enomem();
  return s->devices;
}

void eaudit__devices_free(eaudit_store *s) {
  eaudit__devstate *d = s->devices;
  if (d == NULL)
    return;
  /* After fork() the child must not touch the parent's SQLite state. */
  if (eaudit__store_same_process(s))
    for (int i = 0; i < EAUDIT__DQ_COUNT; i++)
      sqlite3_finalize(d->st[i]);
  eaudit__free(d);
  s->devices = NULL;
}

void eaudit__dq_start(eaudit__dq *q, eaudit_store *s, int id) {
  memset(q, 0, sizeof *q);
  q->s = s;
  q->id = id;
}

void eaudit__dq_int(eaudit__dq *q, int i, int64_t v) {
  q->kind[i] = 'i';
  q->i[i] = v;
}

void eaudit__dq_text(eaudit__dq *q, int i, const char *v) {
  q->kind[i] = 't';
  q->t[i] = v;
}

/* ---- SQLite ---- */

static int sqlite_run(eaudit__dq *q) {
  eaudit_store *s = q->s;
  eaudit__devstate *d = eaudit__devstate_get(s);
  if (d == NULL)
    return eaudit_error_last()->code;
  sqlite3_stmt *st = d->st[q->id];
  if (st == NULL) {
    int rc = sqlite3_prepare_v3(s->db, sqlite_sql[q->id], -1,
                                SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK)
      return eaudit__sqlite_error(s, rc, "preparing a device statement");
    d->st[q->id] = st;
  } else {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
  q->st = st;
  int np = sqlite3_bind_parameter_count(st);
  for (int i = 1; i <= EAUDIT__DQ_MAXP && i <= np; i++) {
    if (q->kind[i] == 'i')
      sqlite3_bind_int64(st, i, q->i[i]);
    else if (q->kind[i] == 't' && q->t[i])
      sqlite3_bind_text(st, i, q->t[i], -1, SQLITE_STATIC);
  }
  if (!is_write(q->id))
    return EAUDIT_OK;
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return eaudit__sqlite_error(s, rc, q->what);
  q->changed = sqlite3_changes(s->db);
  q->insert_id = sqlite3_last_insert_rowid(s->db);
  return EAUDIT_OK;
}

/* ---- PostgreSQL ---- */

#ifdef EAUDIT_HAVE_LIBPQ

#define PG_DEV_COLS DEV_COLS " FROM eaudit.devices WHERE origin = $19 AND "
#define PG_RECENT_FIRST " ORDER BY seen_day DESC, id DESC LIMIT $4"

static const char *const pg_sql[EAUDIT__DQ_COUNT] = {
    [EAUDIT__DQ_ANY] = "SELECT 1 FROM eaudit.devices WHERE origin = $19 AND "
                       "user_id = $1 AND kind = $2 LIMIT 1",
    [EAUDIT__DQ_BY_KEY] = "SELECT " PG_DEV_COLS
                          "user_id = $1 AND kind = $2 AND dkey = $3 ORDER BY "
                          "id",
    [EAUDIT__DQ_BY_CLS] = "SELECT " PG_DEV_COLS
                          "user_id = $1 AND kind = $2 AND cls = $3"
                          PG_RECENT_FIRST,
    [EAUDIT__DQ_CLS_NULL] = "SELECT " PG_DEV_COLS
                            "user_id = $1 AND kind = $2 AND cls IS NULL"
                            PG_RECENT_FIRST,
    [EAUDIT__DQ_RECENT] = "SELECT " PG_DEV_COLS
                          "user_id = $1 AND kind = $2" PG_RECENT_FIRST,
    [EAUDIT__DQ_HAS_OS] = "SELECT 1 FROM eaudit.devices WHERE origin = $19 "
                          "AND user_id = $1 AND kind = $2 AND os_key = $3 "
                          "LIMIT 1",
    [EAUDIT__DQ_BY_OS] = "SELECT " PG_DEV_COLS
                         "user_id = $1 AND kind = $2 AND os_key = $3"
                         PG_RECENT_FIRST,
    [EAUDIT__DQ_INSERT] =
        "INSERT INTO eaudit.devices(origin, user_id, kind, dkey, platform, "
        "os_family, os_version, browser_family, browser_version, model, "
        "screen, time_zone, language, ip, os_key, cls, label, first_seen, "
        "last_seen, times_seen, seen_day) VALUES ($19, $1, $2, $3, $4, $5, "
        "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, 1, "
        "$18) RETURNING id",
    [EAUDIT__DQ_UPDATE] =
        "UPDATE eaudit.devices SET dkey = $3, platform = $4, os_family = $5, "
        "os_version = $6, browser_family = $7, browser_version = $8, "
        "model = $9, screen = $10, time_zone = $11, language = $12, "
        "ip = $13, os_key = $14, cls = $15, "
        "last_seen = greatest(last_seen, $17), "
        "times_seen = times_seen + 1, seen_day = $18 WHERE id = $1 AND "
        "origin = $19",
    [EAUDIT__DQ_SEEN] = "UPDATE eaudit.devices SET last_seen = "
                        "greatest(last_seen, $2), times_seen = times_seen + "
                        "1 WHERE id = $1 AND origin = $19",
    [EAUDIT__DQ_HOUR] =
        "INSERT INTO eaudit.device_login_hours(origin, user_id, hour, n) "
        "VALUES ($19, $1, $2, 1) ON CONFLICT (origin, user_id, hour) DO "
        "UPDATE SET n = eaudit.device_login_hours.n + 1",
    [EAUDIT__DQ_HOURS] = "SELECT hour, n FROM eaudit.device_login_hours "
                         "WHERE origin = $19 AND user_id = $1",
    [EAUDIT__DQ_LIST] = "SELECT " LIST_COLS " FROM eaudit.devices WHERE "
                        "origin = $19 AND user_id = $1 AND kind IN ($2, $3) "
                        "ORDER BY id",
    [EAUDIT__DQ_RENAME] = "UPDATE eaudit.devices SET label = $2 WHERE id = "
                          "$1 AND origin = $19",
    [EAUDIT__DQ_FORGET] =
        "DELETE FROM eaudit.devices WHERE id = $1 AND origin = $19",
    [EAUDIT__DQ_FORGET_UNSEEN] = "DELETE FROM eaudit.devices WHERE origin = "
                                 "$19 AND last_seen < $1",
};

static int pg_run(eaudit__dq *q) {
  eaudit__pgstore *p = q->s->pg;
  eaudit__pgp pp = {0};
  /* Every slot, typed, so that one shape serves each statement. */
  for (int i = 1; i <= EAUDIT__DQ_MAXP; i++) {
    if (q->kind[i] == 'i')
      eaudit__pgp_i64(&pp, q->i[i]);
    else if (q->kind[i] == 't' && q->t[i])
      eaudit__pgp_text(&pp, q->t[i]);
    else
      eaudit__pgp_null(&pp, q->kind[i] == 't' ? EAUDIT__OID_TEXT
                                              : EAUDIT__OID_INT8);
  }
  eaudit__pgp_bytes(&pp, p->origin, 16);
  PGresult *r = eaudit__pg_exec(p->conn, pg_sql[q->id], &pp, q->what);
  if (r == NULL)
    return eaudit_error_last()->code;
  q->res = r;
  q->row = -1;
  if (is_write(q->id)) {
    q->changed = strtoll(PQcmdTuples(r), NULL, 10);
    if (q->id == EAUDIT__DQ_INSERT && PQntuples(r) == 1)
      q->insert_id = eaudit__pg_i64(r, 0, 0);
  }
  return EAUDIT_OK;
}

int eaudit__dq_lock_user(eaudit_store *s, int64_t user) {
  if (s->pg == NULL)
    return EAUDIT_OK;
  eaudit__pgstore *p = s->pg;
  eaudit__pgp pp = {0};
  /* 'EADV', and a fold of the origin and the user. */
  eaudit__pgp_i32(&pp, 1161905238);
  eaudit__pgp_i32(&pp, eaudit__pg_site_key(p->origin) ^
                           (int32_t)(uint32_t)((uint64_t)user ^
                                               ((uint64_t)user >> 32)));
  PGresult *r = eaudit__pg_exec(p->conn, "SELECT pg_advisory_xact_lock($1, $2)",
                                &pp, "locking the user's devices");
  if (r == NULL)
    return eaudit_error_last()->code;
  PQclear(r);
  return EAUDIT_OK;
}

#else

static int pg_run(eaudit__dq *q) { return eaudit__pg_unsupported(q->what); }

int eaudit__dq_lock_user(eaudit_store *s, int64_t user) {
  (void)user;
  return s->pg ? eaudit__pg_unsupported(__func__) : EAUDIT_OK;
}

#endif

/* ---- both ---- */

int eaudit__dq_run(eaudit__dq *q, const char *what) {
  q->what = what;
  return q->s->pg ? pg_run(q) : sqlite_run(q);
}

int eaudit__dq_next(eaudit__dq *q) {
#ifdef EAUDIT_HAVE_LIBPQ
  if (q->s->pg) {
    if (q->res == NULL || ++q->row >= PQntuples(q->res))
      return EAUDIT_DONE;
    return EAUDIT_OK;
  }
#endif
  if (q->st == NULL)
    return EAUDIT_DONE;
  int rc = sqlite3_step(q->st);
  if (rc == SQLITE_ROW)
    return EAUDIT_OK;
  if (rc == SQLITE_DONE)
    return EAUDIT_DONE;
  return eaudit__sqlite_error(q->s, rc, q->what);
}

int64_t eaudit__dq_col_int(const eaudit__dq *q, int col) {
#ifdef EAUDIT_HAVE_LIBPQ
  if (q->s->pg) {
    const PGresult *r = q->res;
    return PQgetlength(r, q->row, col) == 4 ? eaudit__pg_i32(r, q->row, col)
                                            : eaudit__pg_i64(r, q->row, col);
  }
#endif
  return sqlite3_column_int64(q->st, col);
}

const char *eaudit__dq_col_text(const eaudit__dq *q, int col) {
#ifdef EAUDIT_HAVE_LIBPQ
  if (q->s->pg)
    return PQgetisnull(q->res, q->row, col) ? NULL
                                            : PQgetvalue(q->res, q->row, col);
#endif
  return (const char *)sqlite3_column_text(q->st, col);
}

void eaudit__dq_end(eaudit__dq *q) {
#ifdef EAUDIT_HAVE_LIBPQ
  PQclear(q->res);
#endif
  q->res = NULL;
  if (q->st)
    sqlite3_reset(q->st);
  q->st = NULL;
}
