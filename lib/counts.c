/* Aggregate counts (from the rollups kept on append) and the users list. */
#include "query_internal.h"

#include <stdio.h>
#include <string.h>

struct eaudit_counts {
  int64_t *keys, *counts;
  size_t n, cap;
};

struct eaudit_users {
  size_t n;
  struct user_row {
    int64_t id;
    char *name;
    int role;
    eaudit_time last;
    int expired;
  } * rows;
};

/* Add n to key, keeping keys sorted. */
static int counts_add(eaudit_counts *c, int64_t key, int64_t n) {
  size_t lo = 0, hi = c->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (c->keys[mid] < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < c->n && c->keys[lo] == key) {
    c->counts[lo] += n;
    return EAUDIT_OK;
  }
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 32;
    int64_t *k = eaudit__realloc(c->keys, cap * sizeof *k);
    if (k == NULL)
      return eaudit__enomem();
    c->keys = k;
    int64_t *v = eaudit__realloc(c->counts, cap * sizeof *v);
    if (v == NULL)
      return eaudit__enomem();
    c->counts = v;
    c->cap = cap;
  }
  memmove(&c->keys[lo + 1], &c->keys[lo], (c->n - lo) * sizeof *c->keys);
  memmove(&c->counts[lo + 1], &c->counts[lo], (c->n - lo) * sizeof *c->counts);
  c->keys[lo] = key;
  c->counts[lo] = n;
  c->n++;
  return EAUDIT_OK;
}

/* Only interval, types and a subject filter can be answered by rollups. */
static int rollup_answerable(const eaudit_query *q) {
  if (q->text || q->has_after)
    return 0;
  if (q->has_user && q->role != EAUDIT_ROLE_SUBJECT)
    return 0;
  for (int i = 0; i < EAUDIT__N_ENTITY; i++)
    if (q->has_entity[i])
      return 0;
  return 1;
}

/* Count matching events of q one by one (through its indexes). */
static int count_events(eaudit_store *s, const eaudit_query *q, int by,
                        eaudit_counts *c) {
  eaudit_query qq = *q;
  qq.limit = 0;
  sqlite3_stmt *st;
  int rc =
      eaudit__query_prepare(s, &qq, "occurred_at, seq, type, subject", 0, &st);
  if (rc)
    return rc;
  eaudit__day_cache d = {0, 0};
  int src;
  while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
    int64_t key;
    if (by == EAUDIT_COUNT_BY_TYPE)
      key = sqlite3_column_int64(st, 2);
    else if (by == EAUDIT_COUNT_BY_USER) {
      if (sqlite3_column_type(st, 3) == SQLITE_NULL)
        continue;
      key = sqlite3_column_int64(st, 3);
    } else if ((rc = eaudit__tz_local_day(s->tz, &d,
                                          sqlite3_column_int64(st, 0), &key)))
      break;
    rc = counts_add(c, key, 1);
  }
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__sqlite_error(s, src, "counting events");
  eaudit__stmt_release(s, st);
  return rc;
}

static int count_rollups(eaudit_store *s, const eaudit_query *q, int by,
                         eaudit_time day_from, eaudit_time day_to,
                         eaudit_counts *c) {
  eaudit__buf sql = {0};
  static const char *const keys[] = {"", "type", "day", "subject"};
  int rc = eaudit__buf_printf(&sql,
                              "SELECT %s, sum(n) FROM rollup WHERE day >= ?1 "
                              "AND day < ?2",
                              keys[by]);
  if (rc == 0 && q->has_user)
    rc = eaudit__buf_puts(&sql, " AND subject = ?3");
  if (rc == 0 && by == EAUDIT_COUNT_BY_USER)
    rc = eaudit__buf_puts(&sql, " AND subject <> -1");
  for (size_t i = 0; rc == 0 && i < q->n_types; i++)
    rc = eaudit__buf_printf(&sql, "%s%d", i ? ", " : " AND type IN (",
                            q->types[i]);
  if (rc == 0 && q->n_types)
    rc = eaudit__buf_puts(&sql, ")");
  if (rc == 0)
    rc = eaudit__buf_printf(&sql, " GROUP BY %s", keys[by]);
  if (rc) {
    eaudit__buf_free(&sql);
    return rc;
  }
  sqlite3_stmt *st = NULL;
  int src = sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL);
  eaudit__buf_free(&sql);
  if (src != SQLITE_OK)
    return eaudit__sqlite_error(s, src, "preparing counts");
  sqlite3_bind_int64(st, 1, day_from);
  sqlite3_bind_int64(st, 2, day_to);
  if (q->has_user)
    sqlite3_bind_int64(st, 3, q->user);
  while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW)
    rc =
        counts_add(c, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__sqlite_error(s, src, "reading counts");
  sqlite3_finalize(st);
  return rc;
}

static int counts_add_cb(void *payload, int64_t key, int64_t n) {
  return counts_add(payload, key, n);
}

int eaudit_store_counts(eaudit_store *s, const eaudit_query *q, int by,
                        eaudit_counts **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (q == NULL || out == NULL)
    return eaudit__einval("query and out must not be NULL");
  if (by < EAUDIT_COUNT_BY_TYPE || by > EAUDIT_COUNT_BY_USER)
    return eaudit__einval("unknown grouping %d", by);
  *out = NULL;
  eaudit_counts *c = eaudit__calloc(1, sizeof *c);
  if (c == NULL)
    return eaudit__enomem();
  eaudit__object_born();
  int rc;
  if (s->pg) {
    /* No rollups on the central store: the server groups the matching
     * events (pg_query.c). */
    rc = eaudit__pg_counts(s, q, by, counts_add_cb, c);
  } else if (!rollup_answerable(q)) {
    rc = count_events(s, q, by, c);
  } else {
    /* Whole local days come from the rollups, the partial days at either
     * end from the events themselves. */
    eaudit_time from = INT64_MIN, to = INT64_MAX;
    rc = 0;
    if (q->since != EAUDIT_TIME_NONE) {
      rc = eaudit__tz_day_start(s->tz, q->since, &from);
      if (rc == 0 && from < q->since) {
        eaudit__day_cache d = {0, 0};
        eaudit_time ignored;
        rc = eaudit__tz_local_day(s->tz, &d, q->since, &ignored);
        from = d.end;
      }
    }
    if (rc == 0 && q->until != EAUDIT_TIME_NONE)
      rc = eaudit__tz_day_start(s->tz, q->until, &to);
    if (rc == 0 && from < to) {
      rc = count_rollups(s, q, by, from, to, c);
      eaudit_query edge = *q;
      if (rc == 0 && q->since != EAUDIT_TIME_NONE && q->since < from) {
        edge.since = q->since;
        edge.until = from;
        rc = count_events(s, &edge, by, c);
      }
      if (rc == 0 && q->until != EAUDIT_TIME_NONE && to < q->until) {
        edge.since = to;
        edge.until = q->until;
        rc = count_events(s, &edge, by, c);
      }
    } else if (rc == 0) {
      rc = count_events(s, q, by, c); /* within one day */
    }
  }
  if (rc) {
    eaudit_counts_free(c);
    return rc;
  }
  *out = c;
  return EAUDIT_OK;
}

size_t eaudit_counts_size(const eaudit_counts *c) { return c ? c->n : 0; }

int eaudit_counts_get(const eaudit_counts *c, size_t index, int64_t *key,
                      int64_t *count) {
  if (c == NULL || index >= c->n)
    return eaudit__einval("index out of range");
  if (key)
    *key = c->keys[index];
  if (count)
    *count = c->counts[index];
  return EAUDIT_OK;
}

void eaudit_counts_free(eaudit_counts *c) {
  if (c == NULL)
    return;
  eaudit__free(c->keys);
  eaudit__free(c->counts);
  eaudit__free(c);
  eaudit__object_died();
}

static int users_add_pg(void *payload, int64_t id, const char *name,
                        eaudit_time last, int expired, int role) {
  eaudit_users *u = payload;
  struct user_row *r = eaudit__realloc(u->rows, (u->n + 1) * sizeof *r);
  if (r == NULL)
    return eaudit__enomem();
  u->rows = r;
  r = &u->rows[u->n++];
  memset(r, 0, sizeof *r);
  r->id = id;
  if (name && (r->name = eaudit__strdup(name)) == NULL)
    return eaudit__enomem();
  r->role = role;
  r->last = last;
  r->expired = expired;
  return EAUDIT_OK;
}

/* The central store: the users seen in its events and those set with a
 * name or a role (eaudit.users), named from eaudit.names, a prefix matching
 * their names as on SQLite (pg_query.c). */
static int users_pg(eaudit_store *s, const char *prefix, size_t limit,
                    eaudit_users **out) {
  if (prefix && prefix[0]) {
    size_t n = strlen(prefix);
    if (n > 256 || !eaudit__utf8_valid(prefix, n))
      return eaudit__einval("prefix must be at most 256 bytes of UTF-8");
  }
  eaudit_users *u = eaudit__calloc(1, sizeof *u);
  if (u == NULL)
    return eaudit__enomem();
  eaudit__object_born();
  int rc = eaudit__pg_users(s, prefix, limit, users_add_pg, u);
  if (rc) {
    eaudit_users_free(u);
    return rc;
  }
  *out = u;
  return EAUDIT_OK;
}

int eaudit_store_users(eaudit_store *s, const char *prefix, size_t limit,
                       eaudit_users **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  *out = NULL;
  if (s->pg)
    return users_pg(s, prefix, limit, out);
  char *expr = NULL;
  if (prefix && prefix[0]) {
    size_t n = strlen(prefix);
    if (n > 256 || !eaudit__utf8_valid(prefix, n))
      return eaudit__einval("prefix must be at most 256 bytes of UTF-8");
    eaudit__buf b = {0};
    int rc = eaudit__buf_puts(&b, "\"");
    for (const char *p = prefix; rc == 0 && *p; p++)
      rc = *p == '"' ? eaudit__buf_puts(&b, "\"\"") : eaudit__buf_put(&b, p, 1);
    if (rc == 0)
      rc = eaudit__buf_puts(&b, "\"*");
    if (rc) {
      eaudit__buf_free(&b);
      return rc;
    }
    expr = b.data;
  }
  char sql[768];
  snprintf(sql, sizeof sql,
           "SELECT u.id, (SELECT name FROM names WHERE kind = %d AND entity = "
           "u.id ORDER BY valid_from DESC LIMIT 1), u.role, u.last_at, "
           "u.expired_at IS NOT NULL AND (u.prolonged_at IS NULL OR "
           "u.prolonged_at < u.expired_at) FROM users u %s ORDER BY u.id "
           "LIMIT ?2",
           EAUDIT_KIND_USER,
           expr ? "WHERE u.id IN (SELECT entity FROM names_fts WHERE "
                  "names_fts MATCH ?1 AND kind = 1)"
                : "");
  sqlite3_stmt *st = NULL;
  int src = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
  if (src != SQLITE_OK) {
    eaudit__free(expr);
    return eaudit__sqlite_error(s, src, "preparing the users list");
  }
  if (expr)
    sqlite3_bind_text(st, 1, expr, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
  eaudit__free(expr);
  eaudit_users *u = eaudit__calloc(1, sizeof *u);
  int rc = u ? 0 : eaudit__enomem();
  size_t cap = 0;
  if (u)
    eaudit__object_born();
  while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
    if (u->n == cap) {
      cap = cap ? cap * 2 : 32;
      struct user_row *r = eaudit__realloc(u->rows, cap * sizeof *r);
      if (r == NULL) {
        rc = eaudit__enomem();
        break;
      }
      u->rows = r;
    }
    struct user_row *r = &u->rows[u->n];
    memset(r, 0, sizeof *r);
    u->n++;
    r->id = sqlite3_column_int64(st, 0);
    const char *name = (const char *)sqlite3_column_text(st, 1);
    if (name && (r->name = eaudit__strdup(name)) == NULL)
      rc = eaudit__enomem();
    r->role = sqlite3_column_int(st, 2);
    r->last = sqlite3_column_type(st, 3) == SQLITE_NULL
                  ? EAUDIT_TIME_NONE
                  : sqlite3_column_int64(st, 3);
    r->expired = sqlite3_column_int(st, 4);
  }
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__sqlite_error(s, src, "reading the users list");
  sqlite3_finalize(st);
  if (rc) {
    eaudit_users_free(u);
    return rc;
  }
  *out = u;
  return EAUDIT_OK;
}

size_t eaudit_users_size(const eaudit_users *u) { return u ? u->n : 0; }

int eaudit_users_get(const eaudit_users *u, size_t index, int64_t *id,
                     const char **name, int *role, eaudit_time *last_activity,
                     int *expired) {
  if (u == NULL || index >= u->n)
    return eaudit__einval("index out of range");
  const struct user_row *r = &u->rows[index];
  if (id)
    *id = r->id;
  if (name)
    *name = r->name;
  if (role)
    *role = r->role;
  if (last_activity)
    *last_activity = r->last;
  if (expired)
    *expired = r->expired;
  return EAUDIT_OK;
}

void eaudit_users_free(eaudit_users *u) {
  if (u == NULL)
    return;
  for (size_t i = 0; i < u->n; i++)
    eaudit__free(u->rows[i].name);
  eaudit__free(u->rows);
  eaudit__free(u);
  eaudit__object_died();
}
