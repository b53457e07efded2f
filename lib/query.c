/* Queries: filters compiled to SQL with bound parameters, keyset cursors,
 * the tail cursor and subscriber filters. */
#include "pg_store.h"
#include "query_internal.h"
#include "timeexpr.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const int entity_fields[EAUDIT__N_ENTITY] = {
    EAUDIT_FIELD_DOOR, EAUDIT_FIELD_GROUP, EAUDIT_FIELD_DEVICE,
    EAUDIT_FIELD_SITE};
static const char *const entity_columns[EAUDIT__N_ENTITY] = {"door", "grp",
                                                             "device", "site"};

int eaudit__entity_index(int field) {
  for (int i = 0; i < EAUDIT__N_ENTITY; i++)
    if (entity_fields[i] == field)
      return i;
  return -1;
}

int eaudit_query_new(eaudit_query **out) {
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  eaudit_query *q = eaudit__calloc(1, sizeof *q);
  if (q == NULL)
    return eaudit__enomem();
  q->since = q->until = EAUDIT_TIME_NONE;
  eaudit__object_born();
  *out = q;
  return EAUDIT_OK;
}

void eaudit_query_free(eaudit_query *q) {
  if (q == NULL)
    return;
  eaudit__free(q->types);
  eaudit__free(q->text);
  eaudit__free(q);
  eaudit__object_died();
}

int eaudit_query_dup(eaudit_query **out, const eaudit_query *q) {
  if (out == NULL || q == NULL)
    return eaudit__einval("out and query must not be NULL");
  int rc = eaudit_query_new(out);
  if (rc)
    return rc;
  eaudit_query *c = *out;
  *c = *q;
  c->types = NULL;
  c->text = NULL;
  c->n_types = c->cap_types = 0;
  if (q->n_types) {
    c->types = eaudit__malloc(q->n_types * sizeof *c->types);
    if (c->types == NULL)
      goto nomem;
    memcpy(c->types, q->types, q->n_types * sizeof *c->types);
    c->n_types = c->cap_types = q->n_types;
  }
  if (q->text && (c->text = eaudit__strdup(q->text)) == NULL)
    goto nomem;
  return EAUDIT_OK;
nomem:
  eaudit_query_free(c);
  *out = NULL;
  return eaudit__enomem();
}

int eaudit_query_set_user(eaudit_query *q, int64_t user, int role) {
  if (q == NULL)
    return eaudit__einval("query must not be NULL");
  if (role != EAUDIT_ROLE_ANY && role != EAUDIT_ROLE_SUBJECT &&
      role != EAUDIT_ROLE_ACTOR)
    return eaudit__einval("unknown role %d (any, subject or actor)", role);
  q->has_user = 1;
  q->user = user;
  q->role = role;
  return EAUDIT_OK;
}

void eaudit_query_clear_user(eaudit_query *q) {
  if (q)
    q->has_user = 0;
}

int eaudit_query_set_interval(eaudit_query *q, eaudit_time since,
                              eaudit_time until) {
  if (q == NULL)
    return eaudit__einval("query must not be NULL");
  if (since != EAUDIT_TIME_NONE && until != EAUDIT_TIME_NONE && since >= until)
    return eaudit__error(EAUDIT_ETIME, EAUDIT_ECLASS_INVALID, 0,
                         "interval is empty: since must be before until");
  q->since = since;
  q->until = until;
  return EAUDIT_OK;
}

int eaudit_query_add_type(eaudit_query *q, int type) {
  if (q == NULL)
    return eaudit__einval("query must not be NULL");
  if (type <= 0 || type > EAUDIT_TYPE_VENDOR_MAX)
    return eaudit__error(EAUDIT_ETYPE, EAUDIT_ECLASS_INVALID, 0,
                         "invalid event type %d", type);
  for (size_t i = 0; i < q->n_types; i++)
    if (q->types[i] == type)
      return EAUDIT_OK;
  if (q->n_types == 256)
    return eaudit__error(EAUDIT_ETOOBIG, EAUDIT_ECLASS_INVALID, 0,
                         "at most 256 types in one filter");
  if (q->n_types == q->cap_types) {
    size_t cap = q->cap_types ? q->cap_types * 2 : 8;
    int *t = eaudit__realloc(q->types, cap * sizeof *t);
    if (t == NULL)
      return eaudit__enomem();
    q->types = t;
    q->cap_types = cap;
  }
  q->types[q->n_types++] = type;
  return EAUDIT_OK;
}

void eaudit_query_clear_types(eaudit_query *q) {
  if (q)
    q->n_types = 0;
}

int eaudit_query_set_entity(eaudit_query *q, int field, int64_t id) {
  int i = eaudit__entity_index(field);
  if (q == NULL || i < 0)
    return eaudit__error(EAUDIT_EFIELD, EAUDIT_ECLASS_INVALID, 0,
                         "entity filters take door, group, device or site");
  q->has_entity[i] = 1;
  q->entity[i] = id;
  return EAUDIT_OK;
}

int eaudit_query_clear_entity(eaudit_query *q, int field) {
  int i = eaudit__entity_index(field);
  if (q == NULL || i < 0)
    return eaudit__error(EAUDIT_EFIELD, EAUDIT_ECLASS_INVALID, 0,
                         "entity filters take door, group, device or site");
  q->has_entity[i] = 0;
  return EAUDIT_OK;
}

int eaudit_query_set_text(eaudit_query *q, const char *text) {
  if (q == NULL)
    return eaudit__einval("query must not be NULL");
  if (text == NULL || text[0] == '\0') {
    eaudit__free(q->text);
    q->text = NULL;
    return EAUDIT_OK;
  }
  size_t n = strlen(text);
  if (n > 1024)
    return eaudit__error(EAUDIT_ETOOBIG, EAUDIT_ECLASS_INVALID, 0,
                         "search text of %zu bytes exceeds 1024", n);
  if (!eaudit__utf8_valid(text, n))
    return eaudit__error(EAUDIT_EUTF8, EAUDIT_ECLASS_INVALID, 0,
                         "search text is not valid UTF-8");
  char *c = eaudit__strdup(text);
  if (c == NULL)
    return eaudit__enomem();
  eaudit__free(q->text);
  q->text = c;
  return EAUDIT_OK;
}

int eaudit_query_set_order(eaudit_query *q, int order) {
  if (q == NULL)
    return eaudit__einval("query must not be NULL");
  if (order != EAUDIT_ORDER_NEWEST_FIRST && order != EAUDIT_ORDER_OLDEST_FIRST)
    return eaudit__einval("unknown order %d", order);
  q->order = order;
  return EAUDIT_OK;
}

int eaudit_query_set_limit(eaudit_query *q, size_t limit) {
  if (q == NULL)
    return eaudit__einval("query must not be NULL");
  q->limit = limit;
  return EAUDIT_OK;
}

/* Position tokens: "p1:<occurred_at>:<seq>" on SQLite; "p2:" and the
 * base64url of (occurred_at, origin, seq) on PostgreSQL (pg_query.c). */
int eaudit_query_set_after(eaudit_query *q, const char *token) {
  if (q == NULL)
    return eaudit__einval("query must not be NULL");
  if (token == NULL || token[0] == '\0') {
    q->has_after = 0;
    return EAUDIT_OK;
  }
  if (strncmp(token, "p2:", 3) == 0)
    return eaudit__pg_position_parse(q, token);
  long long t, seq;
  int used = 0;
  if (sscanf(token, "p1:%lld:%lld%n", &t, &seq, &used) != 2 ||
      token[used] != '\0' || seq < 0)
    return eaudit__error(EAUDIT_ECURSOR, EAUDIT_ECLASS_INVALID, 0,
                         "'%.64s' is not a cursor position", token);
  q->has_after = 1;
  q->after_t = t;
  q->after_seq = seq;
  return EAUDIT_OK;
}

int eaudit_store_default_query(eaudit_store *s, eaudit_query **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  eaudit_time since, until;
  int rc = eaudit__past_month(s->tz, eaudit_store_now(s), &since, &until);
  if (rc)
    return rc;
  if ((rc = eaudit_query_new(out)))
    return rc;
  eaudit_query_set_user(*out, 1, EAUDIT_ROLE_ANY);
  (*out)->since = since;
  (*out)->until = until;
  return EAUDIT_OK;
}

/* --- compiling --- */

typedef struct param {
  int is_text;
  int64_t i;
  const char *t; /* borrowed from the query or the search terms */
} param;

typedef struct compiler {
  eaudit__buf where; /* conditions shared by every arm, each " AND ..." */
  param params[512];
  int n_params;
  char *owned[EAUDIT__SEARCH_MAX_PARTS]; /* FTS expressions */
  int n_owned;
  int rc;
} compiler;

static int add_int(compiler *c, int64_t v) {
  if (c->n_params == (int)(sizeof c->params / sizeof c->params[0])) {
    c->rc = eaudit__error(EAUDIT_ETOOBIG, EAUDIT_ECLASS_INVALID, 0,
                          "query has too many parameters");
    return 1;
  }
  c->params[c->n_params].is_text = 0;
  c->params[c->n_params].i = v;
  return ++c->n_params;
}

static int add_text(compiler *c, const char *t) {
  int n = add_int(c, 0);
  c->params[n - 1].is_text = 1;
  c->params[n - 1].t = t;
  return n;
}

static void cond(compiler *c, const char *fmt, ...) EAUDIT__PRINTF(2, 3);
static void cond(compiler *c, const char *fmt, ...) {
  if (c->rc)
    return;
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (eaudit__buf_puts(&c->where, " AND ") || eaudit__buf_puts(&c->where, tmp))
    c->rc = EAUDIT_ENOMEM;
}

/* FTS5 prefix expression for one word: "word"* with quotes doubled. */
static char *fts_prefix(const char *word) {
  eaudit__buf b = {0};
  int rc = eaudit__buf_puts(&b, "\"");
  for (const char *p = word; rc == 0 && *p; p++)
    rc = *p == '"' ? eaudit__buf_puts(&b, "\"\"") : eaudit__buf_put(&b, p, 1);
  if (rc == 0)
    rc = eaudit__buf_puts(&b, "\"*");
  if (rc) {
    eaudit__buf_free(&b);
    return NULL;
  }
  return b.data;
}

#define NAME_SUB                                                               \
  "(SELECT entity FROM names_fts WHERE names_fts MATCH ?%d AND kind = %d)"

/* An event mentions a word when one of its entities has (or had) a name
 * starting with it. */
static void word_cond(compiler *c, int p) {
  cond(c,
       "(subject IN " NAME_SUB " OR actor IN " NAME_SUB " OR door IN " NAME_SUB
       " OR grp IN " NAME_SUB " OR device IN " NAME_SUB ")",
       p, EAUDIT_KIND_USER, p, EAUDIT_KIND_USER, p, EAUDIT_KIND_DOOR, p,
       EAUDIT_KIND_GROUP, p, EAUDIT_KIND_DEVICE);
}

static int type_in(compiler *c, const int *types, size_t n) {
  eaudit__buf b = {0};
  int rc = eaudit__buf_puts(&b, "type IN (");
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = eaudit__buf_printf(&b, "%s?%d", i ? ", " : "", add_int(c, types[i]));
  if (rc == 0)
    rc = eaudit__buf_puts(&b, ")");
  if (rc == 0)
    cond(c, "%s", b.data);
  else
    c->rc = rc;
  eaudit__buf_free(&b);
  return c->rc;
}

static eaudit_time max_t(eaudit_time a, eaudit_time b) {
  return a == EAUDIT_TIME_NONE ? b : b == EAUDIT_TIME_NONE ? a : a > b ? a : b;
}

static eaudit_time min_t(eaudit_time a, eaudit_time b) {
  return a == EAUDIT_TIME_NONE ? b : b == EAUDIT_TIME_NONE ? a : a < b ? a : b;
}

int eaudit__query_prepare(eaudit_store *s, const eaudit_query *q,
                          const char *columns, int with_limit,
                          sqlite3_stmt **out) {
  compiler c;
  memset(&c, 0, sizeof c);
  eaudit__search terms;
  memset(&terms, 0, sizeof terms);
  eaudit__buf sql = {0};
  *out = NULL;
  if (columns == NULL)
    columns = EAUDIT__EVENT_COLUMNS;
  if (q->has_after == 2)
    return eaudit__error(EAUDIT_ECURSOR, EAUDIT_ECLASS_INVALID, 0,
                         "the position comes from a PostgreSQL store; this "
                         "store is SQLite");
  if (q->text) {
    c.rc = eaudit__search_parse(s->tz, q->text, eaudit_store_now(s),
                                eaudit__type_label_at, s, &terms);
    if (c.rc)
      return c.rc;
  }
  eaudit_time since = q->since, until = q->until;
  if (terms.has_interval) {
    since = max_t(since, terms.since);
    until = min_t(until, terms.until);
  }
  if (since != EAUDIT_TIME_NONE && until != EAUDIT_TIME_NONE && since >= until)
    cond(&c, "0");
  if (since != EAUDIT_TIME_NONE)
    cond(&c, "occurred_at >= ?%d", add_int(&c, since));
  if (until != EAUDIT_TIME_NONE)
    cond(&c, "occurred_at < ?%d", add_int(&c, until));
  const char *dir = q->order == EAUDIT_ORDER_OLDEST_FIRST ? "ASC" : "DESC";
  if (q->has_after) {
    int pt = add_int(&c, q->after_t);
    cond(&c, "(occurred_at, seq) %s (?%d, ?%d)",
         q->order == EAUDIT_ORDER_OLDEST_FIRST ? ">" : "<", pt,
         add_int(&c, q->after_seq));
  }
  if (q->n_types)
    type_in(&c, q->types, q->n_types);
  for (int i = 0; i < terms.n_type_sets; i++)
    type_in(&c, terms.type_sets[i], (size_t)terms.type_set_len[i]);
  for (int i = 0; i < EAUDIT__N_ENTITY; i++)
    if (q->has_entity[i])
      cond(&c, "%s = ?%d", entity_columns[i], add_int(&c, q->entity[i]));
  for (int i = 0; i < terms.n_tod; i++) {
    int pf = add_int(&c, terms.tod_from[i]);
    cond(&c, "eaudit_local_minute(occurred_at) BETWEEN ?%d AND ?%d", pf,
         add_int(&c, terms.tod_to[i] - 1));
  }
  /* Words: the first one drives the query through the name indexes when
   * there is no user filter; the others filter. */
  int first_word_param = 0;
  for (int i = 0; c.rc == 0 && i < terms.n_words; i++) {
    char *expr = fts_prefix(terms.words[i]);
    if (expr == NULL) {
      c.rc = eaudit__enomem();
      break;
    }
    c.owned[c.n_owned++] = expr;
    int p = add_text(&c, expr);
    if (i == 0 && !q->has_user)
      first_word_param = p;
    else
      word_cond(&c, p);
  }

  /* Arms: each is driven by one index; together they cover the result
   * exactly once (the word arms may overlap, so they are UNIONed). */
  char arms[6][256];
  int n_arms = 0, distinct = 0;
  if (q->has_user) {
    int pu = add_int(&c, q->user);
    if (q->role != EAUDIT_ROLE_ACTOR)
      snprintf(arms[n_arms++], sizeof arms[0], "subject = ?%d", pu);
    else
      snprintf(arms[n_arms++], sizeof arms[0],
               "subject = ?%d AND actor = ?%d", pu, pu);
    if (q->role != EAUDIT_ROLE_SUBJECT)
      snprintf(arms[n_arms++], sizeof arms[0],
               "actor = ?%d AND actor IS NOT subject", pu);
  } else if (first_word_param) {
    int p = first_word_param;
    snprintf(arms[n_arms++], sizeof arms[0], "subject IN " NAME_SUB, p,
             EAUDIT_KIND_USER);
    snprintf(arms[n_arms++], sizeof arms[0],
             "actor IN " NAME_SUB " AND actor IS NOT subject", p,
             EAUDIT_KIND_USER);
    snprintf(arms[n_arms++], sizeof arms[0], "door IN " NAME_SUB, p,
             EAUDIT_KIND_DOOR);
    snprintf(arms[n_arms++], sizeof arms[0], "grp IN " NAME_SUB, p,
             EAUDIT_KIND_GROUP);
    snprintf(arms[n_arms++], sizeof arms[0], "device IN " NAME_SUB, p,
             EAUDIT_KIND_DEVICE);
    distinct = 1;
  } else {
    snprintf(arms[n_arms++], sizeof arms[0], "1");
  }
  int plimit = 0;
  if (with_limit && q->limit)
    plimit = add_int(&c, (int64_t)q->limit);
  if (c.rc)
    goto done;

  const char *where = c.where.data ? c.where.data : "";
  int rc = 0;
  if (n_arms == 1) {
    rc = eaudit__buf_printf(&sql,
                            "SELECT %s FROM events WHERE %s%s ORDER BY "
                            "occurred_at %s, seq %s",
                            columns, arms[0], where, dir, dir);
  } else {
    for (int i = 0; rc == 0 && i < n_arms; i++) {
      rc = eaudit__buf_printf(
          &sql, "%sSELECT * FROM (SELECT %s FROM events WHERE %s%s ORDER BY "
                "occurred_at %s, seq %s",
          i ? (distinct ? " UNION " : " UNION ALL ") : "", columns, arms[i],
          where, dir, dir);
      if (rc == 0 && plimit)
        rc = eaudit__buf_printf(&sql, " LIMIT ?%d", plimit);
      if (rc == 0)
        rc = eaudit__buf_puts(&sql, ")");
    }
    if (rc == 0)
      rc = eaudit__buf_printf(&sql, " ORDER BY occurred_at %s, seq %s", dir,
                              dir);
  }
  if (rc == 0 && plimit)
    rc = eaudit__buf_printf(&sql, " LIMIT ?%d", plimit);
  if (rc) {
    c.rc = rc;
    goto done;
  }
  sqlite3_stmt *st = NULL;
  if ((c.rc = eaudit__stmt_acquire(s, sql.data, &st)) != 0)
    goto done;
  for (int i = 0; i < c.n_params; i++) {
    if (c.params[i].is_text)
      sqlite3_bind_text(st, i + 1, c.params[i].t, -1, SQLITE_TRANSIENT);
    else
      sqlite3_bind_int64(st, i + 1, c.params[i].i);
  }
  *out = st;
done:
  if (c.rc == EAUDIT_ENOMEM)
    eaudit__enomem();
  for (int i = 0; i < c.n_owned; i++)
    eaudit__free(c.owned[i]);
  eaudit__buf_free(&c.where);
  eaudit__buf_free(&sql);
  eaudit__search_clear(&terms);
  return c.rc;
}

/* --- cursors --- */

#define N_NAME_FIELDS 6

struct eaudit_cursor {
  eaudit_store *s;
  sqlite3_stmt *st;   /* SQLite */
  eaudit__pgcur *pg;  /* PostgreSQL (then st is NULL) */
  eaudit_event ev;
  int has_last;
  eaudit_time last_t;
  int64_t last_seq;
  int done;
  char *names[N_NAME_FIELDS];
  int names_loaded[N_NAME_FIELDS];
};

static int cursor_new(eaudit_store *s, sqlite3_stmt *st, eaudit_cursor **out) {
  eaudit_cursor *c = eaudit__calloc(1, sizeof *c);
  if (c == NULL) {
    eaudit__stmt_release(s, st);
    return eaudit__enomem();
  }
  eaudit__object_born();
  c->s = s;
  c->st = st;
  *out = c;
  return EAUDIT_OK;
}

static int cursor_new_pg(eaudit_store *s, eaudit__pgcur *pg,
                         eaudit_cursor **out) {
  eaudit_cursor *c = eaudit__calloc(1, sizeof *c);
  if (c == NULL) {
    eaudit__pg_cursor_free(pg);
    return eaudit__enomem();
  }
  eaudit__object_born();
  c->s = s;
  c->pg = pg;
  *out = c;
  return EAUDIT_OK;
}

int eaudit_store_query(eaudit_store *s, const eaudit_query *q,
                       eaudit_cursor **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (q == NULL || out == NULL)
    return eaudit__einval("query and out must not be NULL");
  *out = NULL;
  if (s->pg) {
    eaudit__pgcur *pg = NULL;
    int rc = eaudit__pg_query_open(s, q, &pg);
    return rc ? rc : cursor_new_pg(s, pg, out);
  }
  sqlite3_stmt *st;
  int rc = eaudit__query_prepare(s, q, NULL, 1, &st);
  return rc ? rc : cursor_new(s, st, out);
}

int eaudit_store_tail(eaudit_store *s, int64_t after_seq, size_t limit,
                      eaudit_cursor **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  *out = NULL;
  if (s->pg) {
    eaudit__pgcur *pg = NULL;
    int rc = eaudit__pg_tail_open(s, after_seq, limit, &pg);
    return rc ? rc : cursor_new_pg(s, pg, out);
  }
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db,
                              "SELECT " EAUDIT__EVENT_COLUMNS
                              " FROM events WHERE seq > ?1 ORDER BY seq "
                              "LIMIT ?2",
                              -1, &st, NULL);
  if (rc != SQLITE_OK)
    return eaudit__sqlite_error(s, rc, "preparing the tail cursor");
  sqlite3_bind_int64(st, 1, after_seq);
  sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
  return cursor_new(s, st, out);
}

int eaudit__event_from_row(sqlite3_stmt *st, int col, eaudit_event *ev) {
  ev->present = 0;
  ev->has_id = ev->has_hash = 0;
  static const int order[] = {
      EAUDIT_FIELD_SEQ,    -1 /* id */,       EAUDIT_FIELD_OCCURRED_AT,
      EAUDIT_FIELD_RECORDED_AT, EAUDIT_FIELD_TYPE,  EAUDIT_FIELD_SUBJECT,
      EAUDIT_FIELD_ACTOR,  EAUDIT_FIELD_DOOR, EAUDIT_FIELD_GROUP,
      EAUDIT_FIELD_DEVICE, EAUDIT_FIELD_SITE, EAUDIT_FIELD_CREDENTIAL,
      EAUDIT_FIELD_REASON};
  for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++) {
    if (order[i] < 0) {
      if (sqlite3_column_bytes(st, col + i) == 16) {
        memcpy(ev->id, sqlite3_column_blob(st, col + i), 16);
        ev->has_id = 1;
      }
      continue;
    }
    /* NULL reads as 0: ask for the type only then (half the calls on the
     * report's hot path). */
    int64_t v = sqlite3_column_int64(st, col + i);
    if (v == 0 && sqlite3_column_type(st, col + i) == SQLITE_NULL) {
      ev->v[order[i]] = 0;
      continue;
    }
    eaudit__event_put(ev, order[i], v);
  }
  /* Credential and reason 0 mean "none": present only when set. */
  if (ev->v[EAUDIT_FIELD_CREDENTIAL] == 0)
    ev->present &= ~(1u << EAUDIT_FIELD_CREDENTIAL);
  if (ev->v[EAUDIT_FIELD_REASON] == 0)
    ev->present &= ~(1u << EAUDIT_FIELD_REASON);
  int dcol = col + 13;
  int n = sqlite3_column_bytes(st, dcol);
  const void *d = sqlite3_column_blob(st, dcol);
  ev->details_len = 0;
  if (n > 0 && eaudit__event_put_details(ev, d, (size_t)n))
    return EAUDIT_ENOMEM;
  if (sqlite3_column_bytes(st, col + 14) == 32) {
    memcpy(ev->hash, sqlite3_column_blob(st, col + 14), 32);
    ev->has_hash = 1;
  }
  return EAUDIT_OK;
}

static void names_reset(eaudit_cursor *c) {
  for (int i = 0; i < N_NAME_FIELDS; i++) {
    eaudit__free(c->names[i]);
    c->names[i] = NULL;
    c->names_loaded[i] = 0;
  }
}

int eaudit_cursor_next(eaudit_cursor *c, const eaudit_event **out) {
  if (c == NULL || out == NULL)
    return eaudit__einval("cursor and out must not be NULL");
  EAUDIT__CHECK_STORE_ANY(c->s);
  *out = NULL;
  if (c->done)
    return EAUDIT_DONE;
  names_reset(c);
  if (c->pg) {
    int rc = eaudit__pg_cursor_next(c->pg, &c->ev);
    if (rc == EAUDIT_DONE)
      c->done = 1;
    if (rc)
      return rc;
    c->has_last = 1;
    *out = &c->ev;
    return EAUDIT_OK;
  }
  int rc = sqlite3_step(c->st);
  if (rc == SQLITE_DONE) {
    c->done = 1;
    return EAUDIT_DONE;
  }
  if (rc != SQLITE_ROW)
    return eaudit__sqlite_error(c->s, rc, "reading events");
  if (eaudit__event_from_row(c->st, 0, &c->ev))
    return eaudit__enomem();
  c->has_last = 1;
  c->last_t = c->ev.v[EAUDIT_FIELD_OCCURRED_AT];
  c->last_seq = c->ev.v[EAUDIT_FIELD_SEQ];
  *out = &c->ev;
  return EAUDIT_OK;
}

int eaudit__name_at(eaudit_store *s, int kind, int64_t id, eaudit_time at,
                    const char **borrowed, sqlite3_stmt **st_out);

const char *eaudit_cursor_name(eaudit_cursor *c, int field) {
  static const int fields[N_NAME_FIELDS] = {
      EAUDIT_FIELD_SUBJECT, EAUDIT_FIELD_ACTOR,  EAUDIT_FIELD_DOOR,
      EAUDIT_FIELD_GROUP,   EAUDIT_FIELD_DEVICE, EAUDIT_FIELD_SITE};
  static const int kinds[N_NAME_FIELDS] = {
      EAUDIT_KIND_USER,  EAUDIT_KIND_USER,   EAUDIT_KIND_DOOR,
      EAUDIT_KIND_GROUP, EAUDIT_KIND_DEVICE, EAUDIT_KIND_SITE};
  if (c == NULL || !c->has_last || c->done)
    return NULL;
  for (int i = 0; i < N_NAME_FIELDS; i++) {
    if (fields[i] != field)
      continue;
    if (!EAUDIT__HAS(&c->ev, field))
      return NULL;
    if (!c->names_loaded[i] && c->pg) {
      eaudit_time at = c->ev.v[EAUDIT_FIELD_OCCURRED_AT];
      int rc = eaudit__pg_name_at(c->s, kinds[i], c->ev.v[field], at,
                                  &c->names[i]);
      if (rc == EAUDIT_ENOTFOUND) /* named only after the event */
        rc = eaudit__pg_name_at(c->s, kinds[i], c->ev.v[field],
                                EAUDIT_TIME_NONE, &c->names[i]);
      if (rc && rc != EAUDIT_ENOTFOUND)
        return NULL; /* the error is set; a later call tries again */
      c->names_loaded[i] = 1;
    }
    if (!c->names_loaded[i]) {
      const char *name = NULL;
      sqlite3_stmt *st = NULL;
      int rc = eaudit__name_at(c->s, kinds[i], c->ev.v[field],
                               c->ev.v[EAUDIT_FIELD_OCCURRED_AT], &name, &st);
      /* Named only after the event: the first name known is the best. A
       * failure is not "no name": only ENOTFOUND falls back. */
      if (rc == EAUDIT_ENOTFOUND)
        rc = eaudit__name_at(c->s, kinds[i], c->ev.v[field], EAUDIT_TIME_NONE,
                             &name, &st);
      if (rc == EAUDIT_ENOTFOUND) {
        c->names_loaded[i] = 1;
        return NULL;
      }
      if (rc)
        return NULL; /* the error is set; a later call tries again */
      c->names[i] = eaudit__strdup(name ? name : "");
      sqlite3_reset(st);
      if (c->names[i] == NULL) {
        eaudit__enomem();
        return NULL;
      }
      c->names_loaded[i] = 1;
    }
    return c->names[i];
  }
  return NULL;
}

int eaudit_cursor_position(const eaudit_cursor *c, char *buf, size_t size) {
  if (c == NULL || buf == NULL)
    return eaudit__einval("cursor and buf must not be NULL");
  if (!c->has_last)
    return eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_INVALID, 0,
                         "the cursor has returned no event yet");
  if (c->pg)
    return eaudit__pg_cursor_position(c->pg, buf, size);
  int n = snprintf(buf, size, "p1:%" PRId64 ":%" PRId64, c->last_t,
                   c->last_seq);
  if (n < 0 || (size_t)n >= size)
    return eaudit__error(EAUDIT_ETOOBIG, EAUDIT_ECLASS_INVALID, 0,
                         "buffer of %zu bytes is too small", size);
  return EAUDIT_OK;
}

void eaudit_cursor_free(eaudit_cursor *c) {
  if (c == NULL)
    return;
  names_reset(c);
  if (c->pg)
    eaudit__pg_cursor_free(c->pg);
  else if (c->s && eaudit__store_same_process(c->s))
    eaudit__stmt_release(c->s, c->st);
  eaudit__event_release(&c->ev);
  eaudit__free(c);
  eaudit__object_died();
}

int eaudit__cursor_fullscan_steps(const eaudit_cursor *c) {
  if (c->st == NULL)
    return 0;
  return sqlite3_stmt_status(c->st, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0);
}

/* --- subscriber filters --- */

int eaudit__query_matches(const eaudit_query *q, const eaudit_event *ev) {
  if (q->has_user) {
    int subj = EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT) &&
               ev->v[EAUDIT_FIELD_SUBJECT] == q->user;
    int act = EAUDIT__HAS(ev, EAUDIT_FIELD_ACTOR) &&
              ev->v[EAUDIT_FIELD_ACTOR] == q->user;
    if ((q->role == EAUDIT_ROLE_SUBJECT && !subj) ||
        (q->role == EAUDIT_ROLE_ACTOR && !act) || (!subj && !act))
      return 0;
  }
  if (q->n_types) {
    int found = 0;
    for (size_t i = 0; i < q->n_types && !found; i++)
      found = q->types[i] == ev->v[EAUDIT_FIELD_TYPE];
    if (!found)
      return 0;
  }
  for (int i = 0; i < EAUDIT__N_ENTITY; i++)
    if (q->has_entity[i] && (!EAUDIT__HAS(ev, entity_fields[i]) ||
                             ev->v[entity_fields[i]] != q->entity[i]))
      return 0;
  return 1;
}

/* --- time expressions --- */

int eaudit_store_parse_time(eaudit_store *s, const char *expr, eaudit_time now,
                            eaudit_time *begin, eaudit_time *end) {
  EAUDIT__CHECK_STORE_ANY(s); /* the zone only */
  if (expr == NULL || begin == NULL || end == NULL)
    return eaudit__einval("expr, begin and end must not be NULL");
  return eaudit__time_parse(s->tz, expr,
                            now == EAUDIT_TIME_NONE ? eaudit_store_now(s) : now,
                            begin, end);
}

int eaudit_store_format_time(eaudit_store *s, eaudit_time t, int format,
                             char *buf, size_t size) {
  EAUDIT__CHECK_STORE_ANY(s); /* the zone only */
  if (buf == NULL || size == 0)
    return eaudit__einval("buf must not be NULL");
  return eaudit__time_format(s->tz, t, format, buf, size);
}
