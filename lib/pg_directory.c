/* Vendor types, labels and user roles on the PostgreSQL backend: the
 * central tables eaudit.types, eaudit.labels and eaudit.users hold what
 * SQLite's types, labels and users tables hold (lib/schema.c), global to
 * the central store as its directory of names is. The checks and the
 * in-memory cache stay in directory.c, shared by both backends. See
 * docs/scale-out.md, "Users, vendor types and labels". */
#include "pg_directory.h"

#ifdef EAUDIT_HAVE_LIBPQ

#include "pg_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PGS(s) ((eaudit__pgstore *)(s)->pg)

static PGresult *exec(eaudit_store *s, const char *sql, const eaudit__pgp *p,
                      const char *what) {
  return eaudit__pg_exec(PGS(s)->conn, sql, p, what);
}

int eaudit__pg_types_version(eaudit_store *s, int64_t *out) {
  *out = 0;
  PGresult *r = exec(s,
                     "SELECT value::int8 FROM eaudit.settings"
                     " WHERE key = 'types_version'",
                     NULL, "reading the types version");
  if (r == NULL)
    return eaudit_error_last()->code;
  if (PQntuples(r) == 1)
    *out = eaudit__pg_i64(r, 0, 0);
  PQclear(r);
  return EAUDIT_OK;
}

int eaudit__pg_types_read(eaudit_store *s,
                          int (*add)(eaudit_store *s, int code,
                                     const char *name, const char *label,
                                     int is_label)) {
  PGresult *r = exec(s,
                     "SELECT code, name, label, 0 FROM eaudit.types UNION ALL"
                     " SELECT code, NULL, label, 1 FROM eaudit.labels",
                     NULL, "reading vendor types");
  if (r == NULL)
    return eaudit_error_last()->code;
  int rc = EAUDIT_OK;
  for (int i = 0; rc == 0 && i < PQntuples(r); i++)
    rc = add(s, eaudit__pg_i32(r, i, 0),
             PQgetisnull(r, i, 1) ? NULL : PQgetvalue(r, i, 1),
             PQgetvalue(r, i, 2), eaudit__pg_i32(r, i, 3));
  PQclear(r);
  return rc;
}

/* The statement and the version bump in one transaction. */
static const char bump_sql[] =
    "INSERT INTO eaudit.settings(key, value) VALUES ('types_version', '1')"
    " ON CONFLICT (key) DO UPDATE SET value ="
    " (eaudit.settings.value::int8 + 1)::text";

static int write_bumped(eaudit_store *s, const char *sql, const eaudit__pgp *p,
                        int code, const char *name) {
  PGconn *c = PGS(s)->conn;
  int rc = eaudit__pg_command(c, "BEGIN", "starting a types change");
  if (rc)
    return rc;
  PGresult *r = eaudit__pg_exec(c, sql, p, "writing types");
  if (r == NULL) {
    rc = eaudit_error_last()->code;
    const char *state = eaudit_error_last()->message;
    /* Another handle registered the code or the name meanwhile. */
    if (name && state && strstr(state, "SQLSTATE 23505"))
      rc = eaudit__error(EAUDIT_EEXISTS, EAUDIT_ECLASS_INVALID, 0,
                         "type code %d or name '%s' is already registered",
                         code, name);
  } else {
    PQclear(r);
    r = eaudit__pg_exec(c, bump_sql, NULL, "writing the types version");
    rc = r ? EAUDIT_OK : eaudit_error_last()->code;
    PQclear(r);
  }
  if (rc) {
    PQclear(PQexec(c, "ROLLBACK"));
    return rc;
  }
  return eaudit__pg_command(c, "COMMIT", "committing a types change");
}

int eaudit__pg_type_insert(eaudit_store *s, int code, const char *name,
                           const char *label) {
  eaudit__pgp p = {0};
  eaudit__pgp_i32(&p, code);
  eaudit__pgp_text(&p, name);
  eaudit__pgp_text(&p, label);
  return write_bumped(
      s, "INSERT INTO eaudit.types(code, name, label) VALUES ($1, $2, $3)", &p,
      code, name);
}

int eaudit__pg_label_write(eaudit_store *s, int code, const char *label) {
  eaudit__pgp p = {0};
  eaudit__pgp_i32(&p, code);
  if (label == NULL)
    return write_bumped(s, "DELETE FROM eaudit.labels WHERE code = $1", &p,
                        code, NULL);
  eaudit__pgp_text(&p, label);
  return write_bumped(s,
                      "INSERT INTO eaudit.labels(code, label) VALUES ($1, $2)"
                      " ON CONFLICT (code) DO UPDATE SET label ="
                      " excluded.label",
                      &p, code, NULL);
}

/* ---- shipping ---- */

/* What a central statement's result says of its site row: the central
 * rows it changed. */
typedef int64_t (*row_result_fn)(sqlite3_stmt *site_row, PGresult *r,
                                 void *arg);

/* Run one statement of the site store and, for each row, one central
 * statement whose parameters are the row's columns (kinds: 'i' int4,
 * 'l' int8, 't' text). Adds the central rows changed to *changed: those
 * the statement reports, or what fn (when not NULL) makes of its result. */
static int copy_rows(eaudit_store *site, PGconn *c, const char *site_sql,
                     const char *kinds, const char *central_sql,
                     row_result_fn fn, void *arg, int64_t *changed) {
  sqlite3_stmt *st = NULL;
  int src = sqlite3_prepare_v2(site->db, site_sql, -1, &st, NULL);
  int rc = EAUDIT_OK;
  while (src == SQLITE_OK && rc == 0) {
    if ((src = sqlite3_step(st)) != SQLITE_ROW)
      break;
    eaudit__pgp p = {0};
    for (int k = 0; kinds[k]; k++) {
      if (kinds[k] == 'i')
        eaudit__pgp_i32(&p, sqlite3_column_int(st, k));
      else if (kinds[k] == 'l')
        eaudit__pgp_i64(&p, sqlite3_column_int64(st, k));
      else {
        const char *t = (const char *)sqlite3_column_text(st, k);
        eaudit__pgp_text(&p, t ? t : "");
      }
    }
    PGresult *r = eaudit__pg_exec(c, central_sql, &p, "shipping the directory");
    if (r == NULL)
      rc = eaudit_error_last()->code;
    else
      *changed += fn ? fn(st, r, arg) : strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    src = SQLITE_OK;
  }
  sqlite3_finalize(st);
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__sqlite_error(site, src, "reading the directory to ship");
  return rc;
}

/* The result of shipping one vendor type (types_sql): a type is inserted
 * unless the central store holds its code or its name already. The
 * central row is kept; when it differs (the code under another name, or
 * the name under another code) a warning names the site and both rows, as
 * the site's events of that code will be read under the central name. */
static int64_t type_shipped(sqlite3_stmt *site_row, PGresult *r, void *arg) {
  const char *hex = arg;
  int code = sqlite3_column_int(site_row, 0);
  const char *name = (const char *)sqlite3_column_text(site_row, 1);
  if (name == NULL)
    name = "";
  if (!PQgetisnull(r, 0, 1))
    eaudit__log(EAUDIT_LOG_WARN,
                "site %s: vendor type %d \"%s\" not shipped: the central "
                "store has code %d as \"%.*s\"",
                hex, code, name, code, PQgetlength(r, 0, 1),
                PQgetvalue(r, 0, 1));
  if (!PQgetisnull(r, 0, 2))
    eaudit__log(EAUDIT_LOG_WARN,
                "site %s: vendor type %d \"%s\" not shipped: the central "
                "store has \"%s\" as code %d",
                hex, code, name, name, (int)eaudit__pg_i32(r, 0, 2));
  return eaudit__pg_i32(r, 0, 0);
}

/* The SELECTs see the table as before the INSERT: when it inserted, they
 * find no other row. */
static const char types_sql[] =
    "WITH ins AS (INSERT INTO eaudit.types(code, name, label)"
    " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1)"
    " SELECT (SELECT count(*)::int4 FROM ins),"
    " (SELECT name FROM eaudit.types WHERE code = $1 AND name <> $2),"
    " (SELECT code FROM eaudit.types WHERE name = $2 AND code <> $1)";

int eaudit__pg_ship_directory(eaudit_store *site, PGconn *c) {
  int64_t types = 0, users = 0;
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, site->store_id, 16);
  int rc = copy_rows(site, c, "SELECT code, name, label FROM types", "itt",
                     types_sql, type_shipped, hex, &types);
  if (rc == 0)
    rc = copy_rows(site, c, "SELECT code, label FROM labels", "it",
                   "INSERT INTO eaudit.labels(code, label) VALUES ($1, $2)"
                   " ON CONFLICT DO NOTHING",
                   NULL, NULL, &types);
  /* Users with a role or a name: the others are in the shipped events. */
  if (rc == 0)
    rc = copy_rows(site, c,
                   "SELECT id, role FROM users WHERE role <> 0 OR id IN"
                   " (SELECT entity FROM names WHERE kind = 1)",
                   "li",
                   "INSERT INTO eaudit.users(id, role) VALUES ($1, $2)"
                   " ON CONFLICT (id) DO UPDATE SET role = excluded.role"
                   " WHERE eaudit.users.role <> excluded.role",
                   NULL, NULL, &users);
  if (rc == 0 && types) {
    PGresult *r = eaudit__pg_exec(c, bump_sql, NULL, "writing the types version");
    rc = r ? EAUDIT_OK : eaudit_error_last()->code;
    PQclear(r);
  }
  return rc;
}

#else /* without libpq no PostgreSQL handle exists: never reached */

int eaudit__pg_types_version(eaudit_store *s, int64_t *out) {
  (void)s;
  *out = 0;
  return eaudit__pg_unsupported(__func__);
}

int eaudit__pg_types_read(eaudit_store *s,
                          int (*add)(eaudit_store *s, int code,
                                     const char *name, const char *label,
                                     int is_label)) {
  (void)s, (void)add;
  return eaudit__pg_unsupported(__func__);
}

int eaudit__pg_type_insert(eaudit_store *s, int code, const char *name,
                           const char *label) {
  (void)s, (void)code, (void)name, (void)label;
  return eaudit__pg_unsupported(__func__);
}

int eaudit__pg_label_write(eaudit_store *s, int code, const char *label) {
  (void)s, (void)code, (void)label;
  return eaudit__pg_unsupported(__func__);
}

#endif
