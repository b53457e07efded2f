/* Findings: reading them back, filters, the JSON interchange shape of
 * DESIGN §7, and the acknowledge / resolve workflow. */
#include "rules_internal.h"
#include "timeexpr.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* The rule is its rule_ids number (rule_names() maps it to the id); the
 * key is rebuilt from its field and value (see the schema in rules.c). */
#define FINDING_COLUMNS                                                        \
  "f.rowid, f.id, f.rule, f.severity, f.kf, f.kv, f.subject, f.first_at,"     \
  " f.last_at, f.quiet_until, f.late, f.state, f.state_by, f.state_at"
/* On PostgreSQL the findings of every origin (the own chain's and those of
 * shipped sites, each numbering its rules in rule_ids), so the rule comes
 * as its id. */
#define PG_FINDING_COLUMNS                                                     \
  "f.rowid, f.id, (SELECT r.rule FROM eaudit.rule_ids r WHERE r.origin ="     \
  " f.origin AND r.num = f.rule), f.severity, f.kf, f.kv, f.subject,"         \
  " f.first_at, f.last_at, f.quiet_until, f.late, f.state, f.state_by,"       \
  " f.state_at"

struct eaudit_findings {
  eaudit_finding **v;
  size_t n, cap;
};

/* rule_ids as read for one query: number -> rule id. */
typedef struct rule_names {
  int64_t *num;
  char (*id)[EAUDIT__RULE_ID_MAX + 1];
  size_t n, cap;
} rule_names;

static void rule_names_free(rule_names *m) {
  eaudit__free(m->num);
  eaudit__free(m->id);
  m->num = NULL;
  m->id = NULL;
  m->n = m->cap = 0;
}

/* Add the rule_ids row numbered num to m. */
static int rule_names_read(eaudit_store *s, rule_names *m, int64_t num) {
  eaudit__rq qq;
  int rc = eaudit__rq_open(s, "SELECT num, rule FROM rule_ids WHERE num = ?1",
                           "SELECT num, rule FROM eaudit.rule_ids"
                           " WHERE origin = $o AND num = $1::bigint",
                           &qq);
  if (rc)
    return rc;
  eaudit__rq *q = &qq;
  eaudit__rq_i64(q, 1, num);
  while ((rc = eaudit__rq_step(q)) == SQLITE_ROW) {
    if (m->n == m->cap) {
      size_t cap = m->cap ? m->cap * 2 : 16;
      int64_t *nums = eaudit__realloc(m->num, cap * sizeof *nums);
      if (nums)
        m->num = nums;
      char(*id)[EAUDIT__RULE_ID_MAX + 1] =
          nums ? eaudit__realloc(m->id, cap * sizeof *id) : NULL;
      if (id == NULL) {
        eaudit__rq_close(q);
        return eaudit__enomem();
      }
      m->id = id;
      m->cap = cap;
    }
    m->num[m->n] = eaudit__rq_col_i64(q, 0);
    const char *t = eaudit__rq_col_text(q, 1);
    snprintf(m->id[m->n], sizeof m->id[m->n], "%s", t ? t : "");
    m->n++;
  }
  eaudit__rq_close(q);
  if (rc != SQLITE_DONE)
    return eaudit__rq_fail(s, rc, "reading rule numbers");
  return EAUDIT_OK;
}

/* The rule id numbered num into f: read once per query and rule rather
 * than per row. */
static int rule_name(eaudit_store *s, rule_names *m, int64_t num,
                     eaudit_finding *f) {
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < m->n; i++)
      if (m->num[i] == num) {
        memcpy(f->rule, m->id[i], sizeof f->rule);
        return EAUDIT_OK;
      }
    int rc = pass == 0 ? rule_names_read(s, m, num) : EAUDIT_OK;
    if (rc)
      return rc;
  }
  f->rule[0] = '\0';
  return EAUDIT_OK;
}

/* --- the query --- */

int eaudit_finding_query_new(eaudit_finding_query **out) {
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  eaudit_finding_query *q = eaudit__calloc(1, sizeof *q);
  if (q == NULL)
    return eaudit__enomem();
  q->since = q->until = EAUDIT_TIME_NONE;
  q->state = -1;
  eaudit__object_born();
  *out = q;
  return EAUDIT_OK;
}

void eaudit_finding_query_free(eaudit_finding_query *q) {
  if (q == NULL)
    return;
  eaudit__free(q->rule);
  eaudit__free(q->key);
  eaudit__free(q);
  eaudit__object_died();
}

int eaudit__finding_query_dup(eaudit_finding_query **out,
                              const eaudit_finding_query *q) {
  int rc = eaudit_finding_query_new(out);
  if (rc)
    return rc;
  eaudit_finding_query *c = *out;
  char *rule = c->rule, *key = c->key;
  *c = *q;
  c->rule = rule;
  c->key = key;
  if ((q->rule && (c->rule = eaudit__strdup(q->rule)) == NULL) ||
      (q->key && (c->key = eaudit__strdup(q->key)) == NULL)) {
    eaudit_finding_query_free(c);
    *out = NULL;
    return eaudit__enomem();
  }
  return EAUDIT_OK;
}

int eaudit_finding_query_set_interval(eaudit_finding_query *q,
                                      eaudit_time since, eaudit_time until) {
  if (q == NULL)
    return eaudit__einval("query must not be NULL");
  if (since != EAUDIT_TIME_NONE && until != EAUDIT_TIME_NONE && since >= until)
    return eaudit__error(EAUDIT_ETIME, EAUDIT_ECLASS_INVALID, 0,
                         "interval start must be before its end");
  q->since = since;
  q->until = until;
  return EAUDIT_OK;
}

int eaudit_finding_query_set_min_severity(eaudit_finding_query *q,
                                          int severity) {
  if (q == NULL)
    return eaudit__einval("query must not be NULL");
  if (eaudit_severity_name(severity) == NULL)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "unknown severity %d", severity);
  q->min_severity = severity;
  return EAUDIT_OK;
}

static int set_text(char **slot, const char *v) {
  char *c = NULL;
  if (v && (c = eaudit__strdup(v)) == NULL)
    return eaudit__enomem();
  eaudit__free(*slot);
  *slot = c;
  return EAUDIT_OK;
}

int eaudit_finding_query_set_rule(eaudit_finding_query *q,
                                  const char *rule_id) {
  if (q == NULL)
    return eaudit__einval("query must not be NULL");
  return set_text(&q->rule, rule_id);
}

int eaudit_finding_query_set_key(eaudit_finding_query *q, const char *key) {
  if (q == NULL)
    return eaudit__einval("query must not be NULL");
  return set_text(&q->key, key);
}

int eaudit_finding_query_set_user(eaudit_finding_query *q, int64_t user) {
  if (q == NULL)
    return eaudit__einval("query must not be NULL");
  q->has_user = 1;
  q->user = user;
  return EAUDIT_OK;
}

int eaudit_finding_query_set_state(eaudit_finding_query *q, int state) {
  if (q == NULL)
    return eaudit__einval("query must not be NULL");
  if (state != -1 && eaudit_finding_state_name(state) == NULL)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "unknown finding state %d", state);
  q->state = state;
  return EAUDIT_OK;
}

int eaudit_finding_query_set_limit(eaudit_finding_query *q, size_t limit) {
  if (q == NULL)
    return eaudit__einval("query must not be NULL");
  q->limit = limit;
  return EAUDIT_OK;
}

int eaudit__finding_query_matches(const eaudit_finding_query *q,
                                  const eaudit_finding *f) {
  return f->severity >= q->min_severity &&
         (q->rule == NULL || strcmp(q->rule, f->rule) == 0) &&
         (q->key == NULL || strcmp(q->key, f->key) == 0) &&
         (!q->has_user || (f->has_subject && f->subject == q->user)) &&
         (q->state < 0 || q->state == f->state);
}

/* --- reading --- */

static int load_events(eaudit_store *s, eaudit_finding *f) {
  eaudit__rq qq;
  int rc = eaudit__rq_open(
      s, "SELECT seq, id FROM finding_events WHERE finding = ?1 ORDER BY seq",
      "SELECT seq, id FROM eaudit.finding_events WHERE finding = $1::bigint"
      " ORDER BY seq",
      &qq);
  if (rc)
    return rc;
  eaudit__rq *q = &qq;
  eaudit__rq_i64(q, 1, f->rowid);
  size_t cap = 0;
  while ((rc = eaudit__rq_step(q)) == SQLITE_ROW) {
    if (f->n_events == cap) {
      cap = cap ? cap * 2 : 8;
      int64_t *seqs = eaudit__realloc(f->seqs, cap * sizeof *seqs);
      if (seqs)
        f->seqs = seqs;
      uint8_t(*ids)[16] = seqs ? eaudit__realloc(f->ids, cap * 16) : NULL;
      if (ids == NULL) {
        eaudit__rq_close(q);
        return eaudit__enomem();
      }
      f->ids = ids;
    }
    f->seqs[f->n_events] = eaudit__rq_col_i64(q, 0);
    memset(f->ids[f->n_events], 0, 16);
    if (eaudit__rq_col_bytes(q, 1) == 16)
      memcpy(f->ids[f->n_events], eaudit__rq_col_blob(q, 1), 16);
    f->n_events++;
  }
  eaudit__rq_close(q);
  return rc == SQLITE_DONE ? EAUDIT_OK
                           : eaudit__rq_fail(s, rc, "reading events");
}

/* Count the events behind a finding without loading them. */
static int count_events(eaudit_store *s, eaudit_finding *f) {
  eaudit__rq qq;
  int rc = eaudit__rq_open(
      s, "SELECT count(*) FROM finding_events WHERE finding = ?1",
      "SELECT count(*) FROM eaudit.finding_events WHERE finding = $1::bigint",
      &qq);
  if (rc)
    return rc;
  eaudit__rq *q = &qq;
  eaudit__rq_i64(q, 1, f->rowid);
  rc = eaudit__rq_step(q);
  if (rc == SQLITE_ROW)
    f->n_events = (size_t)eaudit__rq_col_i64(q, 0);
  eaudit__rq_close(q);
  return rc == SQLITE_ROW ? EAUDIT_OK
                          : eaudit__rq_fail(s, rc, "counting events");
}

/* One finding from a FINDING_COLUMNS row; with events = 0 only the number
 * of its events is read (seqs and ids stay NULL). */
static int from_row(eaudit_store *s, eaudit__rq *q, int events,
                    rule_names *names, eaudit_finding **out) {
  eaudit_finding *f = eaudit__calloc(1, sizeof *f);
  if (f == NULL)
    return eaudit__enomem();
  eaudit__object_born();
  f->rowid = eaudit__rq_col_i64(q, 0);
  if (eaudit__rq_col_bytes(q, 1) == 16)
    memcpy(f->id, eaudit__rq_col_blob(q, 1), 16);
  int rc = EAUDIT_OK;
  if (s->pg) {
    const char *rule = eaudit__rq_col_text(q, 2);
    snprintf(f->rule, sizeof f->rule, "%s", rule ? rule : "");
  } else {
    rc = rule_name(s, names, eaudit__rq_col_i64(q, 2), f);
  }
  if (rc) {
    eaudit_finding_free(f);
    return rc;
  }
  f->severity = eaudit__rq_col_int(q, 3);
  eaudit__rules_key_text(f->key, sizeof f->key, eaudit__rq_col_int(q, 4),
                         eaudit__rq_col_i64(q, 5));
  f->has_subject = !eaudit__rq_col_null(q, 6);
  f->subject = eaudit__rq_col_i64(q, 6);
  f->first_at = eaudit__rq_col_i64(q, 7);
  f->last_at = eaudit__rq_col_i64(q, 8);
  f->quiet_until = eaudit__rq_col_i64(q, 9);
  f->late = eaudit__rq_col_int(q, 10);
  f->state = eaudit__rq_col_int(q, 11);
  f->has_state_by = !eaudit__rq_col_null(q, 12);
  f->state_by = eaudit__rq_col_i64(q, 12);
  f->state_at = eaudit__rq_col_i64(q, 13);
  rc = events ? load_events(s, f) : count_events(s, f);
  if (rc) {
    eaudit_finding_free(f);
    return rc;
  }
  *out = f;
  return EAUDIT_OK;
}

static int load_one(eaudit_store *s, const char *where, const char *pg_where,
                    int64_t rowid, const uint8_t *id, eaudit_finding **out) {
  rule_names names = {0};
  char sql[256], pg_sql[512];
  snprintf(sql, sizeof sql,
           "SELECT " FINDING_COLUMNS " FROM findings f WHERE %s", where);
  snprintf(pg_sql, sizeof pg_sql,
           "SELECT " PG_FINDING_COLUMNS " FROM eaudit.findings f WHERE %s",
           pg_where);
  eaudit__rq qq;
  int rc = eaudit__rq_open(s, sql, pg_sql, &qq);
  if (rc)
    return rc;
  eaudit__rq *q = &qq;
  if (id)
    eaudit__rq_blob(q, 1, id, 16);
  else
    eaudit__rq_i64(q, 1, rowid);
  rc = eaudit__rq_step(q);
  if (rc == SQLITE_ROW)
    rc = from_row(s, q, 1, &names, out);
  else if (rc == SQLITE_DONE)
    rc = eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_INVALID, 0,
                       "no such finding");
  else
    rc = eaudit__rq_fail(s, rc, "reading a finding");
  eaudit__rq_close(q);
  rule_names_free(&names);
  return rc;
}

int eaudit__finding_load(eaudit_store *s, int64_t rowid, eaudit_finding **out) {
  return load_one(s, "f.rowid = ?1", "f.rowid = $1::bigint", rowid, NULL,
                  out);
}

int eaudit_store_finding(eaudit_store *s, const uint8_t id[16],
                         eaudit_finding **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL || id == NULL)
    return eaudit__einval("out and id must not be NULL");
  *out = NULL;
  return load_one(s, "f.id = ?1", "f.id = $1::bytea", 0, id, out);
}

void eaudit_finding_free(eaudit_finding *f) {
  if (f == NULL)
    return;
  eaudit__free(f->seqs);
  eaudit__free(f->ids);
  eaudit__free(f);
  eaudit__object_died();
}

/* A key as eaudit__rules_key_text() writes it into its field and value:
 * 1 when `key` is exactly what it writes for them, else 0. */
static int key_parse(const char *key, int *kf, int64_t *kv) {
  const char *colon = strchr(key, ':');
  char name[32];
  size_t len = colon ? (size_t)(colon - key) : 0;
  if (colon == NULL || len == 0 || len >= sizeof name)
    return 0;
  memcpy(name, key, len);
  name[len] = '\0';
  int field = -1; /* by name, without setting the thread's error */
  for (int f = 0; f < 32 && field < 0; f++) {
    const char *n = eaudit_field_name(f);
    if (n && strcmp(n, name) == 0)
      field = f;
  }
  if (field < 0)
    return 0;
  const char *p = colon + 1;
  int neg = *p == '-';
  p += neg;
  if (*p < '0' || *p > '9')
    return 0;
  uint64_t u = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (u > (UINT64_MAX - 9) / 10)
      return 0;
    u = u * 10 + (uint64_t)(*p - '0');
  }
  if (*p || u > (uint64_t)INT64_MAX + neg)
    return 0;
  int64_t v = neg ? (int64_t)(0 - u) : (int64_t)u;
  char back[EAUDIT_FINDING_KEY_MAX];
  eaudit__rules_key_text(back, sizeof back, field, v);
  if (strcmp(back, key) != 0)
    return 0; /* "door:07", "subject:-0": not a form findings carry */
  *kf = field;
  *kv = v;
  return 1;
}

static void query_close(eaudit__rq *st) {
  eaudit__rq_close(st);
  eaudit__free(st);
}

/* Compile a finding query (NULL: every finding) to a statement, newest
 * first (the public order) or oldest first. Bound parameters only; the
 * filters pick which clauses appear. */
static int prepare(eaudit_store *s, const eaudit_finding_query *fq,
                   int oldest_first, eaudit__rq **out) {
  eaudit_finding_query dflt = {EAUDIT_TIME_NONE, EAUDIT_TIME_NONE, 0, NULL,
                               NULL, 0, 0, -1, 0};
  const eaudit_finding_query *q = fq ? fq : &dflt;
  eaudit__buf sql = {0};
  /* A key that key_text() cannot have written matches no finding; one it
   * can have is compared as its field and value. */
  int kf = -1;
  int64_t kv = 0;
  if (q->key && !key_parse(q->key, &kf, &kv))
    kf = -1;
  /* Each clause in SQLite's words and in PostgreSQL's. */
  const char *const clauses[][2] = {
      {"SELECT " FINDING_COLUMNS " FROM findings f WHERE f.severity >= ?1",
       "SELECT " PG_FINDING_COLUMNS " FROM eaudit.findings f"
       " WHERE f.severity >= $1::bigint"},
      {" AND f.first_at < ?2", " AND f.first_at < $2::bigint"},
      {" AND f.last_at >= ?3", " AND f.last_at >= $3::bigint"},
      {" AND f.rule = (SELECT num FROM rule_ids WHERE rule = ?4)",
       " AND f.rule = (SELECT num FROM eaudit.rule_ids r WHERE r.origin ="
       " f.origin AND r.rule = $4::text)"},
      {" AND f.kf = ?5 AND f.kv = ?9",
       " AND f.kf = $5::bigint AND f.kv = $9::bigint"},
      {" AND f.subject = ?6", " AND f.subject = $6::bigint"},
      {" AND f.state = ?7", " AND f.state = $7::bigint"},
      {" ORDER BY f.first_at, f.id", " ORDER BY f.first_at, f.id"},
      {" ORDER BY f.first_at DESC, f.id", " ORDER BY f.first_at DESC, f.id"},
      {" LIMIT ?8", " LIMIT $8::bigint"},
  };
  const int use[] = {1,
                     q->until != EAUDIT_TIME_NONE,
                     q->since != EAUDIT_TIME_NONE,
                     q->rule != NULL,
                     q->key != NULL,
                     q->has_user,
                     q->state >= 0,
                     oldest_first,
                     !oldest_first,
                     q->limit != 0};
  int pg = s->pg != NULL, rc = EAUDIT_OK;
  for (size_t i = 0; rc == 0 && i < sizeof use / sizeof use[0]; i++)
    if (use[i])
      rc = eaudit__buf_puts(&sql, clauses[i][pg]);
  if (rc) {
    eaudit__buf_free(&sql);
    return rc;
  }
  eaudit__rq *st = eaudit__calloc(1, sizeof *st);
  if (st == NULL) {
    eaudit__buf_free(&sql);
    return eaudit__enomem();
  }
  rc = eaudit__rq_open(s, sql.data, sql.data, st);
  eaudit__buf_free(&sql);
  if (rc) {
    eaudit__free(st);
    return rc;
  }
  eaudit__rq_int(st, 1, q->min_severity);
  eaudit__rq_i64(st, 2, q->until);
  eaudit__rq_i64(st, 3, q->since);
  if (q->rule)
    eaudit__rq_text(st, 4, q->rule);
  eaudit__rq_int(st, 5, kf);
  eaudit__rq_i64(st, 9, kv);
  eaudit__rq_i64(st, 6, q->user);
  eaudit__rq_int(st, 7, q->state);
  eaudit__rq_i64(st, 8, (int64_t)q->limit);
  *out = st;
  return EAUDIT_OK;
}

int eaudit_store_findings(eaudit_store *s, const eaudit_finding_query *fq,
                          eaudit_findings **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  *out = NULL;
  eaudit__rq *st = NULL;
  int rc = prepare(s, fq, 0, &st);
  if (rc)
    return rc;
  eaudit_findings *list = eaudit__calloc(1, sizeof *list);
  if (list == NULL) {
    query_close(st);
    return eaudit__enomem();
  }
  eaudit__object_born();
  rule_names names = {0};
  int src;
  while ((src = eaudit__rq_step(st)) == SQLITE_ROW) {
    if (list->n == list->cap) {
      size_t c = list->cap ? list->cap * 2 : 16;
      eaudit_finding **v = eaudit__realloc(list->v, c * sizeof *v);
      if (v == NULL) {
        rc = eaudit__enomem();
        break;
      }
      list->v = v;
      list->cap = c;
    }
    if ((rc = from_row(s, st, 1, &names, &list->v[list->n])))
      break;
    list->n++;
  }
  query_close(st);
  rule_names_free(&names);
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__rq_fail(s, src, "querying findings");
  if (rc) {
    eaudit_findings_free(list);
    return rc;
  }
  *out = list;
  return EAUDIT_OK;
}

int eaudit__findings_each(eaudit_store *s, const eaudit_finding_query *q,
                          eaudit__finding_each_fn fn, void *payload) {
  eaudit__rq *st = NULL;
  int rc = prepare(s, q, 1, &st);
  if (rc)
    return rc;
  int src = SQLITE_DONE;
  rule_names names = {0};
  while (rc == 0 && (src = eaudit__rq_step(st)) == SQLITE_ROW) {
    eaudit_finding *f = NULL;
    if ((rc = from_row(s, st, 0, &names, &f)) == 0)
      rc = fn(f, payload);
    eaudit_finding_free(f);
  }
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__rq_fail(s, src, "querying findings");
  query_close(st);
  rule_names_free(&names);
  return rc;
}

size_t eaudit_findings_size(const eaudit_findings *l) { return l ? l->n : 0; }

const eaudit_finding *eaudit_findings_get(const eaudit_findings *l,
                                          size_t index) {
  return l && index < l->n ? l->v[index] : NULL;
}

void eaudit_findings_free(eaudit_findings *l) {
  if (l == NULL)
    return;
  for (size_t i = 0; i < l->n; i++)
    eaudit_finding_free(l->v[i]);
  eaudit__free(l->v);
  eaudit__free(l);
  eaudit__object_died();
}

/* --- getters --- */

int eaudit_finding_id(const eaudit_finding *f, uint8_t out[16]) {
  if (f == NULL || out == NULL)
    return eaudit__einval("finding and out must not be NULL");
  memcpy(out, f->id, 16);
  return EAUDIT_OK;
}

const char *eaudit_finding_rule(const eaudit_finding *f) {
  return f ? f->rule : NULL;
}
int eaudit_finding_severity(const eaudit_finding *f) {
  return f ? f->severity : -1;
}
const char *eaudit_finding_key(const eaudit_finding *f) {
  return f ? f->key : NULL;
}

int eaudit_finding_subject(const eaudit_finding *f, int64_t *out) {
  if (f == NULL || out == NULL)
    return eaudit__einval("finding and out must not be NULL");
  if (!f->has_subject)
    return eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_INVALID, 0,
                         "finding %s has no subject", f->key);
  *out = f->subject;
  return EAUDIT_OK;
}

eaudit_time eaudit_finding_first_at(const eaudit_finding *f) {
  return f ? f->first_at : EAUDIT_TIME_NONE;
}
eaudit_time eaudit_finding_last_at(const eaudit_finding *f) {
  return f ? f->last_at : EAUDIT_TIME_NONE;
}
eaudit_time eaudit_finding_quiet_until(const eaudit_finding *f) {
  return f ? f->quiet_until : EAUDIT_TIME_NONE;
}
int eaudit_finding_late(const eaudit_finding *f) { return f ? f->late : 0; }
int eaudit_finding_state(const eaudit_finding *f) { return f ? f->state : -1; }

int eaudit_finding_state_change(const eaudit_finding *f, int64_t *by,
                                eaudit_time *at) {
  if (f == NULL)
    return eaudit__einval("finding must not be NULL");
  if (f->state == EAUDIT_FINDING_OPEN)
    return eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_INVALID, 0,
                         "finding is open");
  if (by)
    *by = f->state_by;
  if (at)
    *at = f->state_at;
  return EAUDIT_OK;
}

size_t eaudit_finding_event_count(const eaudit_finding *f) {
  return f ? f->n_events : 0;
}

int eaudit_finding_event(const eaudit_finding *f, size_t index,
                         uint8_t id_out[16], int64_t *seq_out) {
  if (f == NULL)
    return eaudit__einval("finding must not be NULL");
  if (index >= f->n_events)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "event index %zu out of range (%zu events)", index,
                         f->n_events);
  if (id_out)
    memcpy(id_out, f->ids[index], 16);
  if (seq_out)
    *seq_out = f->seqs[index];
  return EAUDIT_OK;
}

int eaudit_finding_to_json(const eaudit_finding *f, char **out) {
  if (f == NULL || out == NULL)
    return eaudit__einval("finding and out must not be NULL");
  *out = NULL;
  char id[EAUDIT_UUID_STRLEN + 1], first[32], last[32];
  eaudit_uuid_format(f->id, id);
  int rc = eaudit__rfc3339_format(f->first_at, first, sizeof first);
  if (rc == 0)
    rc = eaudit__rfc3339_format(f->last_at, last, sizeof last);
  if (rc)
    return rc;
  /* json-c writes the strings, so escaping is its business. */
  json_object *o = json_object_new_object();
  if (o == NULL)
    return eaudit__enomem();
  json_object_object_add(o, "id", json_object_new_string(id));
  json_object_object_add(o, "rule", json_object_new_string(f->rule));
  json_object_object_add(
      o, "severity", json_object_new_string(eaudit_severity_name(f->severity)
                                                ? eaudit_severity_name(f->severity)
                                                : "warning"));
  json_object_object_add(o, "subject", f->has_subject
                                           ? json_object_new_int64(f->subject)
                                           : NULL);
  json_object_object_add(o, "key", json_object_new_string(f->key));
  json_object_object_add(o, "first_at", json_object_new_string(first));
  json_object_object_add(o, "last_at", json_object_new_string(last));
  json_object *evs = json_object_new_array();
  for (size_t i = 0; i < f->n_events; i++) {
    char e[EAUDIT_UUID_STRLEN + 1];
    eaudit_uuid_format(f->ids[i], e);
    json_object_array_add(evs, json_object_new_string(e));
  }
  json_object_object_add(o, "events", evs);
  const char *st = eaudit_finding_state_name(f->state);
  json_object_object_add(o, "state", json_object_new_string(st ? st : "open"));
  const char *t = json_object_to_json_string_ext(
      o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  *out = t ? eaudit__strdup(t) : NULL;
  json_object_put(o);
  return *out ? EAUDIT_OK : eaudit__enomem();
}

/* --- the workflow --- */

/* A write transaction of its own, on either backend. */
static int begin(eaudit_store *s) {
  if (s->pg == NULL)
    return eaudit__begin(s);
  int rc = eaudit__write_guard(s);
  if (rc == 0)
    rc = eaudit__rq_exec(s, NULL, "BEGIN");
  if (rc == 0)
    s->in_txn = 1;
  return rc;
}

static int end(eaudit_store *s, int rc) {
  if (s->pg == NULL) {
    if (rc == 0)
      return eaudit__commit(s);
    eaudit__rollback(s);
    return rc;
  }
  s->in_txn = 0;
  if (rc == 0)
    return eaudit__rq_exec(s, NULL, "COMMIT");
  const eaudit_error *e = eaudit_error_last();
  int code = e->code, klass = e->klass, detail = e->detail;
  char msg[512];
  snprintf(msg, sizeof msg, "%s", e->message);
  eaudit__rq_exec(s, NULL, "ROLLBACK");
  return eaudit__error(code, klass, detail, "%s", msg);
}

int eaudit_store_finding_set_state(eaudit_store *s, const uint8_t id[16],
                                   int state, int64_t by) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (id == NULL)
    return eaudit__einval("id must not be NULL");
  if (state != EAUDIT_FINDING_ACKNOWLEDGED && state != EAUDIT_FINDING_RESOLVED)
    return eaudit__einval("a finding can be acknowledged (1) or resolved (2), "
                          "not moved to state %d", state);
  int rc = begin(s);
  if (rc)
    return rc;
  eaudit__rq qq, *q = &qq;
  int cur = -1, src = SQLITE_DONE;
  rc = eaudit__rq_open(s, "SELECT state FROM findings WHERE id = ?1",
                       "SELECT state FROM eaudit.findings WHERE"
                       " id = $1::bytea FOR UPDATE",
                       q);
  if (rc == 0) {
    eaudit__rq_blob(q, 1, id, 16);
    src = eaudit__rq_step(q);
    if (src == SQLITE_ROW)
      cur = eaudit__rq_col_int(q, 0);
    eaudit__rq_close(q);
    if (src != SQLITE_ROW && src != SQLITE_DONE)
      rc = eaudit__rq_fail(s, src, "reading a finding");
    else if (cur < 0)
      rc = eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_INVALID, 0,
                         "no such finding");
    else if (cur == EAUDIT_FINDING_RESOLVED &&
             state == EAUDIT_FINDING_ACKNOWLEDGED)
      rc = eaudit__einval("a resolved finding cannot be acknowledged again");
  }
  if (rc == 0)
    rc = eaudit__rq_open(s,
                         "UPDATE findings SET state = ?1, state_by = ?2,"
                         " state_at = ?3 WHERE id = ?4",
                         "UPDATE eaudit.findings SET state = $1::bigint,"
                         " state_by = $2::bigint, state_at = $3::bigint"
                         " WHERE id = $4::bytea",
                         q);
  if (rc == 0) {
    eaudit__rq_int(q, 1, state);
    eaudit__rq_i64(q, 2, by);
    eaudit__rq_i64(q, 3, eaudit_store_now(s));
    eaudit__rq_blob(q, 4, id, 16);
    src = eaudit__rq_step(q);
    eaudit__rq_close(q);
    if (src != SQLITE_DONE)
      rc = eaudit__rq_fail(s, src, "updating a finding");
  }
  return end(s, rc);
}

/* --- expired now --- */

typedef struct expired_entry {
  int kind;
  int64_t id;
  eaudit_time at;
} expired_entry;

struct eaudit_expired {
  expired_entry *v;
  size_t n, cap;
};

int eaudit_store_expired(eaudit_store *s, eaudit_expired **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  *out = NULL;
  /* A prolongation at the same instant as the expiry ends it. */
  static const char sql[] =
      "SELECT 1, id, expired_at FROM users WHERE expired_at IS NOT NULL AND"
      " (prolonged_at IS NULL OR prolonged_at < expired_at)"
      " UNION ALL "
      "SELECT 3, id, expired_at FROM groups WHERE expired_at IS NOT NULL AND"
      " (prolonged_at IS NULL OR prolonged_at < expired_at)"
      " ORDER BY 1, 2";
  /* The central store keeps no users or groups table: the same from the
   * events of every origin (the directory is global there). */
  static const char pg_sql[] =
      "SELECT kind, id, expired_at FROM ("
      " SELECT 1 AS kind, subject AS id,"
      "  max(occurred_at) FILTER (WHERE type = $1::bigint) AS expired_at,"
      "  max(occurred_at) FILTER (WHERE type = $2::bigint) AS prolonged_at"
      " FROM eaudit.events WHERE type IN ($1::bigint, $2::bigint)"
      " AND subject IS NOT NULL GROUP BY subject"
      " UNION ALL"
      " SELECT 3, grp, max(occurred_at) FILTER (WHERE type = $1::bigint),"
      "  max(occurred_at) FILTER (WHERE type = $2::bigint)"
      " FROM eaudit.events WHERE type IN ($1::bigint, $2::bigint)"
      " AND subject IS NULL AND grp IS NOT NULL GROUP BY grp) x"
      " WHERE expired_at IS NOT NULL"
      " AND (prolonged_at IS NULL OR prolonged_at < expired_at)"
      " ORDER BY 1, 2";
  eaudit__rq qq, *q = &qq;
  int src, rc = eaudit__rq_open(s, sql, pg_sql, q);
  if (rc)
    return rc;
  if (s->pg) {
    eaudit__rq_i64(q, 1, EAUDIT_TYPE_PERMISSIONS_EXPIRED);
    eaudit__rq_i64(q, 2, EAUDIT_TYPE_PERMISSIONS_PROLONGED);
  }
  eaudit_expired *l = eaudit__calloc(1, sizeof *l);
  if (l == NULL) {
    eaudit__rq_close(q);
    return eaudit__enomem();
  }
  eaudit__object_born();
  while ((src = eaudit__rq_step(q)) == SQLITE_ROW) {
    if (l->n == l->cap) {
      size_t c = l->cap ? l->cap * 2 : 16;
      expired_entry *v = eaudit__realloc(l->v, c * sizeof *v);
      if (v == NULL) {
        rc = eaudit__enomem();
        break;
      }
      l->v = v;
      l->cap = c;
    }
    l->v[l->n++] = (expired_entry){eaudit__rq_col_int(q, 0),
                                   eaudit__rq_col_i64(q, 1),
                                   eaudit__rq_col_i64(q, 2)};
  }
  eaudit__rq_close(q);
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__rq_fail(s, src, "listing expired users and groups");
  if (rc) {
    eaudit_expired_free(l);
    return rc;
  }
  *out = l;
  return EAUDIT_OK;
}

size_t eaudit_expired_size(const eaudit_expired *l) { return l ? l->n : 0; }

int eaudit_expired_get(const eaudit_expired *l, size_t index, int *kind,
                       int64_t *id, eaudit_time *expired_at) {
  if (l == NULL)
    return eaudit__einval("list must not be NULL");
  if (index >= l->n)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "index %zu out of range (%zu entries)", index, l->n);
  if (kind)
    *kind = l->v[index].kind == 1 ? EAUDIT_KIND_USER : EAUDIT_KIND_GROUP;
  if (id)
    *id = l->v[index].id;
  if (expired_at)
    *expired_at = l->v[index].at;
  return EAUDIT_OK;
}

void eaudit_expired_free(eaudit_expired *l) {
  if (l == NULL)
    return;
  eaudit__free(l->v);
  eaudit__free(l);
  eaudit__object_died();
}
