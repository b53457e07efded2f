/* The directory of names on the PostgreSQL backend: eaudit.names keeps
 * each name with its history, global to every site; eaudit.name_words the
 * words of each name, folded exactly as SQLite's names_fts folds them (the
 * same unicode61 tokenizer with remove_diacritics 2, run by the library),
 * so that a word matches the same names on both backends. See
 * docs/scale-out.md, "Names on the central store". */
#include "pg_store.h"

#ifdef EAUDIT_HAVE_LIBPQ

#include "pg_directory.h"
#include "pg_internal.h"

#include <string.h>

#define PGS(s) ((eaudit__pgstore *)(s)->pg)

/* ---- folding: SQLite's own tokenizer, so that the rules are its rules ---- */

int eaudit__fold_open(eaudit__folder *f) {
  memset(f, 0, sizeof *f);
  int rc = sqlite3_open_v2(":memory:", &f->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  fts5_api *api = NULL;
  sqlite3_stmt *st = NULL;
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(f->db, "SELECT fts5(?1)", -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
  }
  sqlite3_finalize(st);
  void *ud = NULL;
  if (api == NULL || api->xFindTokenizer(api, "unicode61", &ud, &f->tok) ||
      f->tok.xCreate(ud, (const char *[]){"remove_diacritics", "2"}, 2,
                     &f->t) != SQLITE_OK) {
    sqlite3_close(f->db);
    memset(f, 0, sizeof *f);
    return eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_OS, 0,
                         "SQLite's unicode61 tokenizer is not available");
  }
  return EAUDIT_OK;
}

void eaudit__fold_close(eaudit__folder *f) {
  if (f->t)
    f->tok.xDelete(f->t);
  if (f->db)
    sqlite3_close(f->db);
  memset(f, 0, sizeof *f);
}

typedef struct {
  eaudit__buf *out;
  int n, rc;
} fold_ctx;

static int fold_token(void *arg, int flags, const char *tok, int n, int start,
                      int end) {
  (void)start;
  (void)end;
  fold_ctx *x = arg;
  if (flags & FTS5_TOKEN_COLOCATED)
    return SQLITE_OK;
  if ((x->n && eaudit__buf_puts(x->out, " ")) ||
      eaudit__buf_put(x->out, tok, (size_t)n)) {
    x->rc = EAUDIT_ENOMEM;
    return SQLITE_NOMEM;
  }
  x->n++;
  return SQLITE_OK;
}

int eaudit__fold_words(eaudit__folder *f, const char *text, eaudit__buf *out,
                       int *n_words) {
  out->len = 0;
  fold_ctx x = {out, 0, 0};
  int rc = f->tok.xTokenize(f->t, &x, FTS5_TOKENIZE_DOCUMENT, text,
                            (int)strlen(text), fold_token);
  if (x.rc || rc != SQLITE_OK || eaudit__buf_put(out, "", 1))
    return eaudit__enomem();
  out->len--; /* keep the NUL out of the length */
  if (n_words)
    *n_words = x.n;
  return EAUDIT_OK;
}

static int fold_one(const char *name, eaudit__buf *out) {
  eaudit__folder f;
  int rc = eaudit__fold_open(&f);
  if (rc)
    return rc;
  rc = eaudit__fold_words(&f, name, out, NULL);
  eaudit__fold_close(&f);
  return rc;
}

/* ---- the directory ---- */

/* One statement, so that a user's name and users row commit together: a
 * named user joins the users list (role -1 keeps a role already set), as
 * on SQLite (directory.c). */
static int put_name(eaudit_store *s, int kind, int64_t id, const char *name,
                    eaudit_time from, int role) {
  eaudit__buf words = {0};
  int rc = fold_one(name, &words);
  if (rc) {
    eaudit__buf_free(&words);
    return rc;
  }
  eaudit__pgp p = {0};
  eaudit__pgp_i32(&p, kind);
  eaudit__pgp_i64(&p, id);
  eaudit__pgp_i64(&p, from);
  eaudit__pgp_text(&p, name);
  eaudit__pgp_text(&p, words.data);
  if (kind == EAUDIT_KIND_USER && role != -1)
    eaudit__pgp_i32(&p, role);
#define NAME_UPSERT                                                            \
  "INSERT INTO eaudit.names(kind, entity, valid_from, name, words, "          \
  "origin) VALUES ($1, $2, $3, $4, $5, NULL) ON CONFLICT (kind, entity, "     \
  "valid_from) DO UPDATE SET name = excluded.name, words = "                  \
  "excluded.words, origin = NULL"
  const char *sql =
      kind != EAUDIT_KIND_USER ? NAME_UPSERT
      : role == -1
          ? "WITH n AS (" NAME_UPSERT " RETURNING 1) INSERT INTO "
            "eaudit.users(id) VALUES ($2) ON CONFLICT (id) DO NOTHING"
          : "WITH n AS (" NAME_UPSERT " RETURNING 1) INSERT INTO "
            "eaudit.users(id, role) VALUES ($2, $6) ON CONFLICT (id) DO "
            "UPDATE SET role = excluded.role";
#undef NAME_UPSERT
  PGresult *r = eaudit__pg_exec(PGS(s)->conn, sql, &p,
                                kind == EAUDIT_KIND_USER ? "writing a user"
                                                         : "writing a name");
  eaudit__buf_free(&words);
  if (r == NULL)
    return eaudit_error_last()->code;
  PQclear(r);
  return EAUDIT_OK;
}

int eaudit__pg_set_name(eaudit_store *s, int kind, int64_t id, const char *name,
                        eaudit_time from) {
  return put_name(s, kind, id, name, from, -1);
}

int eaudit__pg_set_user(eaudit_store *s, int64_t id, const char *name,
                        int role, eaudit_time from) {
  return put_name(s, EAUDIT_KIND_USER, id, name, from, role);
}

int eaudit__pg_name_at(eaudit_store *s, int kind, int64_t id, eaudit_time at,
                       char **out) {
  *out = NULL;
  eaudit__pgp p = {0};
  eaudit__pgp_i32(&p, kind);
  eaudit__pgp_i64(&p, id);
  eaudit__pgp_i64(&p, at == EAUDIT_TIME_NONE ? INT64_MAX : at);
  PGresult *r = eaudit__pg_exec(
      PGS(s)->conn,
      "SELECT name FROM eaudit.names WHERE kind = $1 AND entity = $2 AND "
      "valid_from <= $3 ORDER BY valid_from DESC LIMIT 1",
      &p, "reading a name");
  if (r == NULL)
    return eaudit_error_last()->code;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return EAUDIT_ENOTFOUND; /* no error set: the caller words it */
  }
  *out = eaudit__strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  return *out ? EAUDIT_OK : eaudit__enomem();
}

int eaudit__pg_erase_names(eaudit_store *s, int kind, int64_t id) {
  eaudit__pgp p = {0};
  eaudit__pgp_i32(&p, kind);
  eaudit__pgp_i64(&p, id);
  /* The words go with their names (ON DELETE CASCADE). */
  PGresult *r = eaudit__pg_exec(
      PGS(s)->conn, "DELETE FROM eaudit.names WHERE kind = $1 AND entity = $2",
      &p, "erasing names");
  if (r == NULL)
    return eaudit_error_last()->code;
  PQclear(r);
  return EAUDIT_OK;
}

#else /* without libpq no PostgreSQL handle exists: never reached */

int eaudit__pg_set_name(eaudit_store *s, int kind, int64_t id, const char *name,
                        eaudit_time from) {
  (void)s, (void)kind, (void)id, (void)name, (void)from;
  return eaudit__pg_unsupported(__func__);
}

int eaudit__pg_name_at(eaudit_store *s, int kind, int64_t id, eaudit_time at,
                       char **out) {
  (void)s, (void)kind, (void)id, (void)at;
  *out = NULL;
  return eaudit__pg_unsupported(__func__);
}

int eaudit__pg_erase_names(eaudit_store *s, int kind, int64_t id) {
  (void)s, (void)kind, (void)id;
  return eaudit__pg_unsupported(__func__);
}

int eaudit__pg_set_user(eaudit_store *s, int64_t id, const char *name,
                        int role, eaudit_time from) {
  (void)s, (void)id, (void)name, (void)role, (void)from;
  return eaudit__pg_unsupported(__func__);
}

#endif
