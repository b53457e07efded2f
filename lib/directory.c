/* Vendor event types, translated labels and the directory of names. */
#include "pg_directory.h"
#include "pg_store.h"
#include "store_internal.h"
#include "types_internal.h"

#include <stdio.h>
#include <string.h>

static void types_clear(eaudit_store *s) {
  for (size_t i = 0; i < s->n_vtypes; i++) {
    eaudit__free(s->vtypes[i].name);
    eaudit__free(s->vtypes[i].label);
  }
  eaudit__free(s->vtypes);
  s->vtypes = NULL;
  s->n_vtypes = 0;
  for (size_t i = 0; i < s->n_labels; i++)
    eaudit__free(s->labels[i].label);
  eaudit__free(s->labels);
  s->labels = NULL;
  s->n_labels = 0;
}

/* Add one row of the types (is_label 0) or labels (is_label 1) table to
 * the handle's cache. */
static int type_row_add(eaudit_store *s, int code, const char *name,
                        const char *label, int is_label) {
  if (!is_label) {
    eaudit__vendor_type *v =
        eaudit__realloc(s->vtypes, (s->n_vtypes + 1) * sizeof *v);
    if (v == NULL)
      return eaudit__enomem();
    s->vtypes = v;
    v[s->n_vtypes].code = code;
    v[s->n_vtypes].name = eaudit__strdup(name ? name : "");
    v[s->n_vtypes].label = eaudit__strdup(label ? label : "");
    s->n_vtypes++;
    if (!v[s->n_vtypes - 1].name || !v[s->n_vtypes - 1].label)
      return eaudit__enomem();
  } else {
    eaudit__label *l =
        eaudit__realloc(s->labels, (s->n_labels + 1) * sizeof *l);
    if (l == NULL)
      return eaudit__enomem();
    s->labels = l;
    l[s->n_labels].code = code;
    l[s->n_labels].label = eaudit__strdup(label ? label : "");
    s->n_labels++;
    if (!l[s->n_labels - 1].label)
      return eaudit__enomem();
  }
  return EAUDIT_OK;
}

static int types_read_sqlite(eaudit_store *s) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db,
                              "SELECT code, name, label, 0 FROM types UNION ALL "
                              "SELECT code, NULL, label, 1 FROM labels",
                              -1, &st, NULL);
  if (rc != SQLITE_OK)
    return eaudit__sqlite_error(s, rc, "reading vendor types");
  int err = EAUDIT_OK;
  while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
    err = type_row_add(s, sqlite3_column_int(st, 0),
                       (const char *)sqlite3_column_text(st, 1),
                       (const char *)sqlite3_column_text(st, 2),
                       sqlite3_column_int(st, 3));
  sqlite3_finalize(st);
  if (err == 0 && rc != SQLITE_DONE)
    err = eaudit__sqlite_error(s, rc, "reading types");
  return err;
}

/* Reload vendor types and labels when another handle changed them (the
 * version moves with every change: SQLite's meta row, PostgreSQL's
 * settings row). */
int eaudit__types_reload(eaudit_store *s) {
  int64_t version;
  int rc = s->pg ? eaudit__pg_types_version(s, &version)
                 : eaudit__meta_get_int(s, "types_version", &version);
  if (rc)
    return rc;
  if (version == s->types_version && (s->vtypes || version == 0))
    return EAUDIT_OK;
  types_clear(s);
  rc = s->pg ? eaudit__pg_types_read(s, type_row_add) : types_read_sqlite(s);
  if (rc) {
    types_clear(s);
    return rc;
  }
  s->types_version = version;
  return EAUDIT_OK;
}

static const eaudit__vendor_type *vendor(const eaudit_store *s, int code) {
  for (size_t i = 0; i < s->n_vtypes; i++)
    if (s->vtypes[i].code == code)
      return &s->vtypes[i];
  return NULL;
}

int eaudit__type_known(eaudit_store *s, int code) {
  return eaudit__type_builtin(code) || vendor(s, code) != NULL;
}

static int name_ok(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 64)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return 0;
  }
  return 1;
}

static int bump_types_version(eaudit_store *s) {
  int64_t v;
  int rc = eaudit__meta_get_int(s, "types_version", &v);
  return rc ? rc : eaudit__meta_set_int(s, "types_version", v + 1);
}

/* The three changes of the types and labels tables. */
enum { TYPE_INSERT, LABEL_SET, LABEL_DELETE };

/* One change (a = name or label, b = label) in a write transaction that
 * also bumps types_version, then a reload of the handle's cache. */
static int types_write(eaudit_store *s, int op, int code, const char *a,
                       const char *b) {
  static const char *const sql[] = {
      [TYPE_INSERT] = "INSERT INTO types(code, name, label) VALUES (?1, ?2, ?3)",
      [LABEL_SET] = ("INSERT INTO labels(code, label) VALUES (?1, ?2) ON "
                     "CONFLICT(code) DO UPDATE SET label = excluded.label"),
      [LABEL_DELETE] = "DELETE FROM labels WHERE code = ?1"};
  int rc;
  if (s->pg && s->read_only) {
    return eaudit__error(EAUDIT_EREADONLY, EAUDIT_ECLASS_INVALID, 0,
                         "store was opened read-only");
  } else if (s->pg) {
    rc = op == TYPE_INSERT ? eaudit__pg_type_insert(s, code, a, b)
                           : eaudit__pg_label_write(s, code, a);
  } else if ((rc = eaudit__begin(s)) == 0) {
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(s->db, sql[op], -1, &st, NULL);
    if (src == SQLITE_OK) {
      sqlite3_bind_int(st, 1, code);
      if (a)
        sqlite3_bind_text(st, 2, a, -1, SQLITE_STATIC);
      if (b)
        sqlite3_bind_text(st, 3, b, -1, SQLITE_STATIC);
      src = sqlite3_step(st);
      src = src == SQLITE_DONE ? SQLITE_OK : src;
    }
    sqlite3_finalize(st);
    rc = src == SQLITE_OK ? bump_types_version(s)
                          : eaudit__sqlite_error(s, src, "writing types");
    if (rc == 0)
      rc = eaudit__commit(s);
    else
      eaudit__rollback(s);
  }
  if (rc == 0) {
    s->types_version = -1; /* force a reload */
    rc = eaudit__types_reload(s);
  }
  return rc;
}

int eaudit_store_register_type(eaudit_store *s, int code, const char *name,
                               const char *label) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (name == NULL || label == NULL)
    return eaudit__einval("name and label must be given");
  if (code < EAUDIT_TYPE_VENDOR_MIN || code > EAUDIT_TYPE_VENDOR_MAX)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "vendor type code %d is outside [%d, %d]", code,
                         EAUDIT_TYPE_VENDOR_MIN, EAUDIT_TYPE_VENDOR_MAX);
  if (!name_ok(name))
    return eaudit__einval("type name '%.80s' must be 1-64 characters of "
                          "[a-z0-9_]",
                          name);
  size_t ll = strlen(label);
  if (ll == 0 || ll > 200 || !eaudit__utf8_valid(label, ll))
    return eaudit__einval("type label must be 1-200 bytes of UTF-8");
  int rc = eaudit__types_reload(s);
  if (rc)
    return rc;
  int other;
  if (eaudit_type_from_name(name, &other) == 0)
    return eaudit__error(EAUDIT_EEXISTS, EAUDIT_ECLASS_INVALID, 0,
                         "'%s' is a built-in type name", name);
  const eaudit__vendor_type *v = vendor(s, code);
  if (v) {
    if (strcmp(v->name, name) == 0 && strcmp(v->label, label) == 0)
      return EAUDIT_OK;
    return eaudit__error(EAUDIT_EEXISTS, EAUDIT_ECLASS_INVALID, 0,
                         "type code %d is already registered as '%s'", code,
                         v->name);
  }
  for (size_t i = 0; i < s->n_vtypes; i++)
    if (strcmp(s->vtypes[i].name, name) == 0)
      return eaudit__error(EAUDIT_EEXISTS, EAUDIT_ECLASS_INVALID, 0,
                           "type name '%s' is already code %d", name,
                           s->vtypes[i].code);
  return types_write(s, TYPE_INSERT, code, name, label);
}

const char *eaudit_store_type_name(eaudit_store *s, int code) {
  if (s == NULL)
    return eaudit_type_name(code);
  const char *n = eaudit_type_name(code);
  if (n)
    return n;
  const eaudit__vendor_type *v = vendor(s, code);
  return v ? v->name : NULL;
}

const char *eaudit_store_type_label(eaudit_store *s, int code) {
  if (s == NULL)
    return eaudit_type_label(code);
  for (size_t i = 0; i < s->n_labels; i++)
    if (s->labels[i].code == code)
      return s->labels[i].label;
  const char *l = eaudit_type_label(code);
  if (l)
    return l;
  const eaudit__vendor_type *v = vendor(s, code);
  return v ? v->label : NULL;
}

int eaudit_store_type_from_name(eaudit_store *s, const char *name, int *out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (name == NULL || out == NULL)
    return eaudit__einval("name and out must not be NULL");
  if (eaudit_type_from_name(name, out) == 0)
    return EAUDIT_OK;
  for (size_t i = 0; i < s->n_vtypes; i++)
    if (strcmp(s->vtypes[i].name, name) == 0) {
      *out = s->vtypes[i].code;
      return EAUDIT_OK;
    }
  return eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_INVALID, 0,
                       "unknown event type '%.80s'", name);
}

int eaudit_store_set_type_label(eaudit_store *s, int code, const char *label) {
  EAUDIT__CHECK_STORE_ANY(s);
  int rc = eaudit__types_reload(s);
  if (rc)
    return rc;
  if (!eaudit__type_known(s, code))
    return eaudit__error(EAUDIT_ETYPE, EAUDIT_ECLASS_INVALID, 0,
                         "unknown event type %d", code);
  if (label == NULL)
    return types_write(s, LABEL_DELETE, code, NULL, NULL);
  size_t ll = strlen(label);
  if (ll == 0 || ll > 200 || !eaudit__utf8_valid(label, ll))
    return eaudit__einval("label must be 1-200 bytes of UTF-8");
  return types_write(s, LABEL_SET, code, label, NULL);
}

int eaudit__type_label_at(void *store, size_t i, int *code,
                          const char **label) {
  eaudit_store *s = store;
  size_t nb = eaudit__builtin_type_count();
  if (i < nb) {
    eaudit__builtin_type_at(i, code, NULL, NULL);
    *label = eaudit_store_type_label(s, *code);
    return EAUDIT_OK;
  }
  i -= nb;
  if (i < s->n_vtypes) {
    *code = s->vtypes[i].code;
    *label = eaudit_store_type_label(s, *code);
    return EAUDIT_OK;
  }
  return EAUDIT_DONE;
}

/* --- names --- */

static int kind_ok(int kind) {
  return kind >= EAUDIT_KIND_USER && kind <= EAUDIT_KIND_SITE;
}

static int put_name(eaudit_store *s, int kind, int64_t id, const char *name,
                    eaudit_time from) {
  sqlite3_stmt *st = eaudit__stmt(s, EAUDIT__ST_NAME_INSERT);
  if (st == NULL)
    return eaudit_error_last()->code;
  sqlite3_bind_int(st, 1, kind);
  sqlite3_bind_int64(st, 2, id);
  sqlite3_bind_int64(st, 3, from);
  sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(st);
    return eaudit__sqlite_error(s, rc, "writing a name");
  }
  int64_t rowid = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  st = eaudit__stmt(s, EAUDIT__ST_NAME_FTS_INSERT);
  if (st == NULL)
    return eaudit_error_last()->code;
  sqlite3_bind_int64(st, 1, rowid);
  sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, kind);
  sqlite3_bind_int64(st, 4, id);
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? EAUDIT_OK
                           : eaudit__sqlite_error(s, rc, "indexing a name");
}

/* The checks shared by both backends. */
static int name_args_ok(int kind, const char *name, int role) {
  if (!kind_ok(kind))
    return eaudit__einval("unknown directory kind %d", kind);
  if (name == NULL)
    return eaudit__einval("name must not be NULL");
  size_t n = strlen(name);
  if (n == 0 || n > 1024)
    return eaudit__error(n ? EAUDIT_ETOOBIG : EAUDIT_EINVAL,
                         EAUDIT_ECLASS_INVALID, 0,
                         "a name must be 1-1024 bytes, not %zu", n);
  if (!eaudit__utf8_valid(name, n))
    return eaudit__error(EAUDIT_EUTF8, EAUDIT_ECLASS_INVALID, 0,
                         "name is not valid UTF-8 (or contains NUL)");
  if (role != -1 && role != EAUDIT_USER_ROLE_USER &&
      role != EAUDIT_USER_ROLE_ADMIN)
    return eaudit__einval("unknown user role %d", role);
  return EAUDIT_OK;
}

static int set_name(eaudit_store *s, int kind, int64_t id, const char *name,
                    int role, eaudit_time from) {
  EAUDIT__CHECK_STORE(s);
  int rc = name_args_ok(kind, name, role);
  if (rc)
    return rc;
  if (from == EAUDIT_TIME_NONE)
    from = INT64_MIN;
  rc = eaudit__begin(s);
  if (rc)
    return rc;
  rc = put_name(s, kind, id, name, from);
  if (rc == 0 && kind == EAUDIT_KIND_USER) {
    /* A named user belongs in the users list even before any event. */
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(
        s->db,
        role == -1 ? "INSERT INTO users(id) VALUES (?1) ON CONFLICT(id) DO "
                     "NOTHING"
                   : "INSERT INTO users(id, role) VALUES (?1, ?2) ON "
                     "CONFLICT(id) DO UPDATE SET role = excluded.role",
        -1, &st, NULL);
    if (src == SQLITE_OK) {
      sqlite3_bind_int64(st, 1, id);
      if (role != -1)
        sqlite3_bind_int(st, 2, role);
      src = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE)
      rc = eaudit__sqlite_error(s, src, "writing a user");
  }
  if (rc) {
    eaudit__rollback(s);
    return rc;
  }
  return eaudit__commit(s);
}

int eaudit_store_set_name(eaudit_store *s, int kind, int64_t id,
                          const char *name, eaudit_time valid_from) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (s->pg) {
    int rc = name_args_ok(kind, name, -1);
    return rc ? rc
              : eaudit__pg_set_name(s, kind, id, name,
                                    valid_from == EAUDIT_TIME_NONE
                                        ? INT64_MIN
                                        : valid_from);
  }
  return set_name(s, kind, id, name, -1, valid_from);
}

int eaudit_store_set_user(eaudit_store *s, int64_t id, const char *name,
                          int role, eaudit_time valid_from) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (role == -1)
    return eaudit__einval("unknown user role %d", role);
  if (s->pg) {
    int rc = name_args_ok(EAUDIT_KIND_USER, name, role);
    if (rc == 0 && s->read_only)
      rc = eaudit__error(EAUDIT_EREADONLY, EAUDIT_ECLASS_INVALID, 0,
                         "store was opened read-only");
    return rc ? rc
              : eaudit__pg_set_user(s, id, name, role,
                                    valid_from == EAUDIT_TIME_NONE
                                        ? INT64_MIN
                                        : valid_from);
  }
  return set_name(s, EAUDIT_KIND_USER, id, name, role, valid_from);
}

int eaudit__name_at(eaudit_store *s, int kind, int64_t id, eaudit_time at,
                    const char **borrowed, sqlite3_stmt **st_out) {
  sqlite3_stmt *st = eaudit__stmt(s, EAUDIT__ST_NAME_AT);
  if (st == NULL)
    return eaudit_error_last()->code;
  sqlite3_bind_int(st, 1, kind);
  sqlite3_bind_int64(st, 2, id);
  sqlite3_bind_int64(st, 3, at == EAUDIT_TIME_NONE ? INT64_MAX : at);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *borrowed = (const char *)sqlite3_column_text(st, 0);
    *st_out = st;
    return EAUDIT_OK;
  }
  sqlite3_reset(st);
  if (rc == SQLITE_DONE) {
    /* Before its first name, an entity is known by its first name. */
    *borrowed = NULL;
    return EAUDIT_ENOTFOUND;
  }
  return eaudit__sqlite_error(s, rc, "reading a name");
}

int eaudit_store_name_at(eaudit_store *s, int kind, int64_t id, eaudit_time at,
                         char **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL || !kind_ok(kind))
    return eaudit__einval("out must be given and kind must be known");
  *out = NULL;
  const char *name;
  sqlite3_stmt *st = NULL;
  int rc = s->pg ? eaudit__pg_name_at(s, kind, id, at, out)
                 : eaudit__name_at(s, kind, id, at, &name, &st);
  if (rc == EAUDIT_ENOTFOUND)
    return eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_INVALID, 0,
                         "no name for %s %lld at that time",
                         kind == EAUDIT_KIND_USER ? "user" : "entity",
                         (long long)id);
  if (rc || s->pg)
    return rc;
  *out = eaudit__strdup(name ? name : "");
  sqlite3_reset(st);
  return *out ? EAUDIT_OK : eaudit__enomem();
}

int eaudit_store_erase_names(eaudit_store *s, int kind, int64_t id) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (!kind_ok(kind))
    return eaudit__einval("unknown directory kind %d", kind);
  if (s->pg)
    return eaudit__pg_erase_names(s, kind, id);
  int rc = eaudit__begin(s);
  if (rc)
    return rc;
  static const char *const sql[] = {
      ("DELETE FROM names_fts WHERE rowid IN (SELECT rowid FROM names "
       "WHERE kind = ?1 AND entity = ?2)"),
      "DELETE FROM names WHERE kind = ?1 AND entity = ?2"};
  for (size_t i = 0; rc == 0 && i < 2; i++) {
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL);
    if (src == SQLITE_OK) {
      sqlite3_bind_int(st, 1, kind);
      sqlite3_bind_int64(st, 2, id);
      src = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE)
      rc = eaudit__sqlite_error(s, src, "erasing names");
  }
  if (rc) {
    eaudit__rollback(s);
    return rc;
  }
  return eaudit__commit(s);
}
