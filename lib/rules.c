/* The anomaly rules engine (docs/rules.md): the hooks the append path
 * calls, the active rule set and its version, batch re-evaluation and
 * finding subscribers. Parsing lives in rules_parse.c, evaluation in
 * rules_eval.c, findings in findings.c. */
#include "pg_store.h"
#include "rules_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char eaudit__rules_schema[] =
    /* A small number per rule id, given the first time a rule writes
     * state, never reused for another id: rule_state rows name their rule
     * by it. */
    "CREATE TABLE rule_ids(rule TEXT PRIMARY KEY, num INTEGER NOT NULL"
    " UNIQUE) WITHOUT ROWID;"
    /* Per rule (rule_ids.num) and key (field number, value): the current
     * episode, and the partial sequences, presence, or the window items of
     * conditions whose key has no events index to rebuild them from
     * (rules_eval.c encodes it). Integers and a compact encoding keep the
     * rows small, so that the rows an append changes share few pages. */
    "CREATE TABLE rule_state(rule INTEGER NOT NULL, kf INTEGER NOT NULL,"
    " kv INTEGER NOT NULL, state BLOB NOT NULL, PRIMARY KEY(rule, kf, kv))"
    " WITHOUT ROWID;"
    /* Per rule: the first seq evaluated since its state was last reset (a
     * change of the rule, a re-evaluation); absent means 0. Window
     * rebuilds read events from here on only. */
    "CREATE TABLE rule_since(rule TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
    " WITHOUT ROWID;"
    /* A finding names its rule by rule_ids.num and its key by field
     * number and value (the text forms are rebuilt on reading), so that
     * the rows an append writes or extends share few pages. Only two
     * indexes, both growing at their right edge as findings are opened:
     * first_at for listing (filters by rule, key or user are checked on
     * the rows), first_seq for re-evaluation and retention. Indexes by
     * rule, key or subject would each take a leaf page per key an append
     * touches. */
    "CREATE TABLE findings(rowid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE,"
    " rule INTEGER NOT NULL, severity INTEGER NOT NULL, kf INTEGER NOT NULL,"
    " kv INTEGER NOT NULL, subject INTEGER, first_at INTEGER NOT NULL,"
    " last_at INTEGER NOT NULL, quiet_until INTEGER NOT NULL,"
    " first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,"
    " late INTEGER NOT NULL DEFAULT 0, state INTEGER NOT NULL DEFAULT 0,"
    " state_by INTEGER, state_at INTEGER, stale INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX findings_first ON findings(first_at);"
    "CREATE INDEX findings_seq ON findings(first_seq);"
    /* Event ids are copied so that a finding still names its events after
     * a retention purge. */
    "CREATE TABLE finding_events(finding INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, id BLOB NOT NULL,"
    " PRIMARY KEY(finding, seq)) WITHOUT ROWID;"
    /* The login-hour histogram each admin_area_login was judged by: 24
     * counts as varints (rules_eval.c). */
    "CREATE TABLE rule_login_hours(seq INTEGER PRIMARY KEY,"
    " counts BLOB NOT NULL);";

/* The engine's statements: SQLite's text, and PostgreSQL's for a store
 * opened on a postgresql:// URI (rules_sql.h: $o is the store's own
 * origin; the tables are those of the central schema's rules migration,
 * lib/pg_schema.c, keyed by origin). The parameters are the same. */
typedef struct rs_text {
  const char *sqlite, *pg;
} rs_text;

/* The event columns of eaudit.events in EAUDIT__EVENT_COLUMNS order. */
#define PG_EVENT_COLUMNS                                                       \
  "seq, id, occurred_at, recorded_at, type, subject, actor, door, grp,"       \
  " device, site, credential, reason, details, hash"

static const rs_text rs_sql[EAUDIT__RS_COUNT] = {
    [EAUDIT__RS_STATE_GET] =
        {"SELECT state FROM rule_state WHERE rule = ?1 AND kf = ?2 AND kv = ?3",
         "SELECT state FROM eaudit.rule_state WHERE origin = $o"
         " AND rule = $1::bigint AND kf = $2::bigint AND kv = $3::bigint"},
    [EAUDIT__RS_STATE_PUT] =
        {"INSERT OR REPLACE INTO rule_state(rule, kf, kv,"
         " state) VALUES (?1, ?2, ?3, ?4)",
         "INSERT INTO eaudit.rule_state(origin, rule, kf, kv, state) VALUES"
         " ($o, $1::bigint, $2::bigint, $3::bigint, $4::bytea)"
         " ON CONFLICT (origin, rule, kf, kv) DO UPDATE"
         " SET state = excluded.state"},
    [EAUDIT__RS_STATE_DEL] =
        {"DELETE FROM rule_state WHERE rule = ?1 AND kf = ?2 AND kv = ?3",
         "DELETE FROM eaudit.rule_state WHERE origin = $o"
         " AND rule = $1::bigint AND kf = $2::bigint AND kv = $3::bigint"},
    [EAUDIT__RS_REFS_DELETE] =
        {"DELETE FROM finding_events WHERE finding = ?1",
         "DELETE FROM eaudit.finding_events WHERE finding = $1::bigint"},
    [EAUDIT__RS_FINDING_INSERT] =
        {"INSERT INTO findings(id, rule, severity, kf, kv, subject, first_at,"
         " last_at, quiet_until, first_seq, last_seq, late) VALUES (?1, ?2, ?3,"
         " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT(id) DO UPDATE SET"
         " rule = excluded.rule, severity = excluded.severity,"
         " kf = excluded.kf, kv = excluded.kv, subject = excluded.subject,"
         " first_at = excluded.first_at, last_at = excluded.last_at,"
         " quiet_until = excluded.quiet_until, first_seq = excluded.first_seq,"
         " last_seq = excluded.last_seq, late = excluded.late, stale = 0",
         /* RETURNING: PostgreSQL has no last insert rowid. */
         "INSERT INTO eaudit.findings(origin, id, rule, severity, kf, kv,"
         " subject, first_at, last_at, quiet_until, first_seq, last_seq, late)"
         " VALUES ($o, $1::bytea, $2::bigint, $3::bigint, $4::bigint,"
         " $5::bigint, $6::bigint, $7::bigint, $8::bigint, $9::bigint,"
         " $10::bigint, $11::bigint, $12::bigint)"
         " ON CONFLICT (origin, id) DO UPDATE SET"
         " rule = excluded.rule, severity = excluded.severity,"
         " kf = excluded.kf, kv = excluded.kv, subject = excluded.subject,"
         " first_at = excluded.first_at, last_at = excluded.last_at,"
         " quiet_until = excluded.quiet_until, first_seq = excluded.first_seq,"
         " last_seq = excluded.last_seq, late = excluded.late, stale = 0"
         " RETURNING rowid"},
    /* first_at is indexed: set only when it moves (EXTEND_FIRST), so that
     * an extension leaves the index alone. */
    [EAUDIT__RS_FINDING_EXTEND] =
        {"UPDATE findings SET last_at = max(last_at, ?1),"
         " quiet_until = max(quiet_until, ?2), last_seq = max(last_seq, ?3),"
         " late = late | ?4 WHERE rowid = ?5",
         "UPDATE eaudit.findings SET last_at = greatest(last_at, $1::bigint),"
         " quiet_until = greatest(quiet_until, $2::bigint),"
         " last_seq = greatest(last_seq, $3::bigint), late = late | $4::bigint"
         " WHERE rowid = $5::bigint"},
    [EAUDIT__RS_FINDING_EXTEND_FIRST] =
        {"UPDATE findings SET first_at = ?1 WHERE rowid = ?2 AND first_at > ?1",
         "UPDATE eaudit.findings SET first_at = $1::bigint"
         " WHERE rowid = $2::bigint AND first_at > $1::bigint"},
    [EAUDIT__RS_REF_INSERT] =
        {"INSERT OR IGNORE INTO finding_events(finding, seq, id)"
         " SELECT ?1, seq, id FROM events WHERE seq = ?2",
         "INSERT INTO eaudit.finding_events(finding, seq, id)"
         " SELECT $1::bigint, seq, id FROM eaudit.events WHERE origin = $o"
         " AND seq = $2::bigint ON CONFLICT DO NOTHING"},
    [EAUDIT__RS_REF_INSERT_ID] =
        {"INSERT OR IGNORE INTO finding_events(finding, seq, id)"
         " VALUES (?1, ?2, ?3)",
         "INSERT INTO eaudit.finding_events(finding, seq, id)"
         " VALUES ($1::bigint, $2::bigint, $3::bytea) ON CONFLICT DO NOTHING"},
    [EAUDIT__RS_LIVE_FROM] =
        {"SELECT min(seq) FROM events",
         "SELECT min(seq) FROM eaudit.events WHERE origin = $o"},
    [EAUDIT__RS_CATCH_UP] =
        {"SELECT " EAUDIT__EVENT_COLUMNS " FROM events WHERE seq >= ?1"
         " AND seq < ?2 ORDER BY seq",
         "SELECT " PG_EVENT_COLUMNS " FROM eaudit.events WHERE origin = $o"
         " AND seq >= $1::bigint AND seq < $2::bigint ORDER BY seq"},
    [EAUDIT__RS_HOURS_GET] =
        {"SELECT counts FROM rule_login_hours WHERE seq = ?1",
         "SELECT counts FROM eaudit.rule_login_hours WHERE origin = $o"
         " AND seq = $1::bigint"},
    [EAUDIT__RS_HOURS_PUT] =
        {"INSERT OR REPLACE INTO rule_login_hours(seq, counts) VALUES (?1, ?2)",
         "INSERT INTO eaudit.rule_login_hours(origin, seq, counts)"
         " VALUES ($o, $1::bigint, $2::bytea) ON CONFLICT (origin, seq)"
         " DO UPDATE SET counts = excluded.counts"},
    [EAUDIT__RS_DATA_VERSION] =
        {"PRAGMA data_version",
         "SELECT coalesce((SELECT value::bigint FROM eaudit.rule_meta"
         " WHERE origin = $o AND key = 'generation'), 0)"},
    [EAUDIT__RS_META_GET] =
        {"SELECT value FROM meta WHERE key = ?1",
         "SELECT value FROM eaudit.rule_meta WHERE origin = $o"
         " AND key = $1::text"},
    [EAUDIT__RS_FINDING_EXISTS] =
        {"SELECT rowid FROM findings WHERE id = ?1",
         "SELECT rowid FROM eaudit.findings WHERE origin = $o"
         " AND id = $1::bytea"},
    [EAUDIT__RS_SINCE_GET] =
        {"SELECT seq FROM rule_since WHERE rule = ?1",
         "SELECT seq FROM eaudit.rule_since WHERE origin = $o"
         " AND rule = $1::text"},
    [EAUDIT__RS_SINCE_PUT] =
        {"INSERT OR REPLACE INTO rule_since(rule, seq) VALUES (?1, ?2)",
         "INSERT INTO eaudit.rule_since(origin, rule, seq) VALUES"
         " ($o, $1::text, $2::bigint) ON CONFLICT (origin, rule)"
         " DO UPDATE SET seq = excluded.seq"},
    [EAUDIT__RS_SINCE_DEL] =
        {"DELETE FROM rule_since WHERE rule = ?1",
         "DELETE FROM eaudit.rule_since WHERE origin = $o"
         " AND rule = $1::text"},
#define SCAN(col)                                                              \
  {"SELECT occurred_at, seq, type, reason, subject, actor, door, grp,"        \
   " device, site, id FROM events INDEXED BY events_" col " WHERE " col       \
   " = ?1 AND occurred_at >= ?2 AND seq >= ?3 AND seq < ?4"                   \
   " ORDER BY occurred_at DESC, seq DESC",                                    \
   "SELECT occurred_at, seq, type, reason, subject, actor, door, grp,"        \
   " device, site, id FROM eaudit.events WHERE origin = $o AND " col          \
   " = $1::bigint AND occurred_at >= $2::bigint AND seq >= $3::bigint"        \
   " AND seq < $4::bigint ORDER BY occurred_at DESC, seq DESC"}
    [EAUDIT__RS_SCAN_SUBJECT] = SCAN("subject"),
    [EAUDIT__RS_SCAN_DOOR] = SCAN("door"),
    [EAUDIT__RS_SCAN_DEVICE] = SCAN("device"),
#undef SCAN
    [EAUDIT__RS_SCAN_TYPE] =
        {"SELECT occurred_at, seq, type, reason, subject, actor, door, grp,"
         " device, site, id FROM events INDEXED BY events_type WHERE type = ?1"
         " AND occurred_at >= ?2 AND seq >= ?3 AND seq < ?4",
         "SELECT occurred_at, seq, type, reason, subject, actor, door, grp,"
         " device, site, id FROM eaudit.events WHERE origin = $o"
         " AND type = $1::bigint AND occurred_at >= $2::bigint"
         " AND seq >= $3::bigint AND seq < $4::bigint"},
    [EAUDIT__RS_STATE_RULE] =
        {"SELECT kf, kv, state FROM rule_state WHERE rule = ?1",
         "SELECT kf, kv, state FROM eaudit.rule_state WHERE origin = $o"
         " AND rule = $1::bigint"},
    [EAUDIT__RS_RULE_NUM_GET] =
        {"SELECT num FROM rule_ids WHERE rule = ?1",
         "SELECT num FROM eaudit.rule_ids WHERE origin = $o"
         " AND rule = $1::text"},
    [EAUDIT__RS_RULE_NUM_PUT] =
        {"INSERT INTO rule_ids(rule, num) SELECT ?1, coalesce(max(num), 0) + 1"
         " FROM rule_ids",
         "INSERT INTO eaudit.rule_ids(origin, rule, num) SELECT $o, $1::text,"
         " coalesce(max(num), 0) + 1 FROM eaudit.rule_ids WHERE origin = $o"},
    [EAUDIT__RS_REF_INSERT_MANY] =
        {NULL, "INSERT INTO eaudit.finding_events(finding, seq, id)"
               " SELECT $1::bigint, u.seq, u.id FROM"
               " unnest($2::bigint[], $3::bytea[]) AS u(seq, id)"
               " ON CONFLICT DO NOTHING"},
    [EAUDIT__RS_NEWEST] =
        {NULL, "SELECT max(occurred_at) FROM eaudit.events WHERE origin = $o"
               " AND seq < $1::bigint"},
    [EAUDIT__RS_META_PUT] =
        {NULL, "INSERT INTO eaudit.rule_meta(origin, key, value)"
               " VALUES ($o, $1::text, $2::text) ON CONFLICT (origin, key)"
               " DO UPDATE SET value = excluded.value"},
    [EAUDIT__RS_GEN_BUMP] =
        {NULL, "INSERT INTO eaudit.rule_meta(origin, key, value)"
               " VALUES ($o, 'generation', '1') ON CONFLICT (origin, key)"
               " DO UPDATE SET value = (eaudit.rule_meta.value::bigint + 1)"
               "::text RETURNING value::bigint"},
};

int eaudit__rules_get(eaudit_store *s, eaudit__rules **out) {
  if (s->rules == NULL) {
    eaudit__rules *r = eaudit__calloc(1, sizeof *r);
    if (r == NULL)
      return eaudit__enomem();
    r->version = -1;
    r->data_version = -1;
    r->next_sub_id = 1;
    s->rules = r;
  }
  *out = s->rules;
  return EAUDIT_OK;
}

eaudit__rq *eaudit__rules_stmt(eaudit_store *s, eaudit__rules *r, int id) {
  return eaudit__rq_cached(s, &r->st[id], id, rs_sql[id].sqlite,
                           rs_sql[id].pg)
             ? NULL
             : &r->st[id];
}

/* meta[key] as text (NULL when absent) or as an integer (0 when absent). */
static int meta_read(eaudit_store *s, eaudit__rules *r, const char *key,
                     char **text, int64_t *num) {
  eaudit__rq *q = eaudit__rules_stmt(s, r, EAUDIT__RS_META_GET);
  if (q == NULL)
    return eaudit_error_last()->code;
  eaudit__rq_text(q, 1, key);
  int rc = eaudit__rq_step(q);
  if (text)
    *text = NULL;
  if (num)
    *num = 0;
  if (rc == SQLITE_ROW) {
    if (text) {
      const char *t = eaudit__rq_col_text(q, 0);
      if (t && (*text = eaudit__strdup(t)) == NULL) {
        eaudit__rq_reset(q);
        return eaudit__enomem();
      }
    }
    if (num)
      *num = eaudit__rq_col_i64(q, 0);
    rc = SQLITE_DONE;
  }
  eaudit__rq_reset(q);
  return rc == SQLITE_DONE ? EAUDIT_OK
                           : eaudit__rq_fail(s, rc, "reading meta data");
}

static int load(eaudit_store *s, eaudit__rules *r, int64_t version) {
  char *text = NULL;
  int rc = meta_read(s, r, "rules", &text, NULL);
  if (rc)
    return rc;
  eaudit__ruleset *rs = NULL;
  rc = eaudit__ruleset_parse(s, text, text ? strlen(text) : 0, &rs);
  eaudit__free(text);
  if (rc)
    return rc;
  eaudit__rules_cache_clear(r);
  eaudit__ruleset_free(r->rs);
  r->rs = rs;
  r->version = version;
  return eaudit__rules_since_load(s, r);
}

int eaudit__rules_since_load(eaudit_store *s, eaudit__rules *r) {
  int64_t *since = eaudit__calloc(r->rs->n ? r->rs->n : 1, sizeof *since);
  struct eaudit__preload *pre =
      eaudit__calloc(r->rs->n ? r->rs->n : 1, sizeof *pre);
  int64_t *num = eaudit__calloc(r->rs->n ? r->rs->n : 1, sizeof *num);
  if (since == NULL || pre == NULL || num == NULL) {
    eaudit__free(since);
    eaudit__free(pre);
    eaudit__free(num);
    return eaudit__enomem();
  }
  eaudit__free(r->num);
  r->num = num;
  eaudit__free(r->since);
  r->since = since;
  eaudit__free(r->preload);
  r->preload = pre;
  r->n_preload = r->rs->n;
  for (size_t i = 0; i < r->rs->n; i++) {
    eaudit__rq *q = eaudit__rules_stmt(s, r, EAUDIT__RS_SINCE_GET);
    if (q == NULL)
      return eaudit_error_last()->code;
    eaudit__rq_text(q, 1, r->rs->rules[i].id);
    int rc = eaudit__rq_step(q);
    if (rc == SQLITE_ROW)
      since[i] = eaudit__rq_col_i64(q, 0);
    eaudit__rq_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      return eaudit__rq_fail(s, rc, "reading rule state");
  }
  return EAUDIT_OK;
}

/* Another process may have committed since this handle last looked:
 * SQLite's data_version tells, and then the cached per-key state is
 * dropped and the rule set reloaded if its version moved. */
static int refresh(eaudit_store *s, eaudit__rules *r) {
  eaudit__rq *q = eaudit__rules_stmt(s, r, EAUDIT__RS_DATA_VERSION);
  if (q == NULL)
    return eaudit_error_last()->code;
  int rc = eaudit__rq_step(q);
  int64_t dv = rc == SQLITE_ROW ? eaudit__rq_col_i64(q, 0) : -1;
  eaudit__rq_reset(q);
  if (rc != SQLITE_ROW)
    return eaudit__rq_fail(s, rc, "reading the data version");
  if (dv == r->data_version && r->rs)
    return EAUDIT_OK;
  if (dv != r->data_version)
    eaudit__rules_cache_clear(r);
  int64_t version;
  if ((rc = meta_read(s, r, "rules_version", NULL, &version)))
    return rc;
  if (r->rs == NULL || version != r->version) {
    if ((rc = load(s, r, version)))
      return rc;
  } else if ((rc = eaudit__rules_since_load(s, r))) {
    return rc; /* another process may have re-evaluated */
  }
  r->data_version = dv;
  return EAUDIT_OK;
}

int eaudit__rules_txn_ready(eaudit_store *s, eaudit__rules *r) {
  if (r->txn_ready)
    return EAUDIT_OK;
  r->live_known = 0;
  int rc = refresh(s, r);
  if (rc == 0)
    r->txn_ready = 1;
  return rc;
}

int eaudit__rules_pending_add(eaudit__rules *r, int64_t rowid) {
  if (r->n_pending == r->cap_pending) {
    size_t c = r->cap_pending ? r->cap_pending * 2 : 16;
    int64_t *p = eaudit__realloc(r->pending, c * sizeof *p);
    if (p == NULL)
      return eaudit__enomem();
    r->pending = p;
    r->cap_pending = c;
  }
  r->pending[r->n_pending++] = rowid;
  return EAUDIT_OK;
}

/* --- hooks of the append path --- */

int eaudit__rules_on_event(eaudit_store *s, eaudit_event *ev) {
  eaudit__rules *r = NULL;
  int rc = eaudit__rules_get(s, &r);
  if (rc == 0)
    rc = eaudit__rules_txn_ready(s, r);
  if (rc || !r->rs->any_enabled)
    return rc;
  return eaudit__rules_eval(s, r, ev);
}

int eaudit__rules_end_append(eaudit_store *s) {
  eaudit__rules *r = s->rules;
  /* With rules on, also when nothing changed: the checkpoint may be due. */
  return r && r->rs && (r->n_dirty || r->rs->any_enabled)
             ? eaudit__rules_flush(s, r)
             : EAUDIT_OK;
}

static int write_begin(eaudit_store *s, eaudit_event *const *evs, size_t n);

int eaudit__rules_pg_bump(eaudit_store *s, eaudit__rules *r) {
  eaudit__rq *q = eaudit__rules_stmt(s, r, EAUDIT__RS_GEN_BUMP);
  if (q == NULL)
    return eaudit_error_last()->code;
  int rc = eaudit__rq_step(q);
  if (rc == SQLITE_ROW)
    r->data_version = eaudit__rq_col_i64(q, 0);
  eaudit__rq_reset(q);
  return rc == SQLITE_ROW ? EAUDIT_OK
                          : eaudit__rq_fail(s, rc, "recording a rules change");
}

/* Evaluate ev after those before it in seq order: late when it occurred
 * more than the lateness bound before the newest event so far (*newest,
 * INT64_MIN for none), which it then moves. */
static int eval_in_order(eaudit_store *s, eaudit__rules *r, eaudit_event *ev,
                         eaudit_time *newest) {
  eaudit_time t = ev->v[EAUDIT_FIELD_OCCURRED_AT];
  ev->late = *newest != INT64_MIN &&
             t < *newest - s->opts.ints[EAUDIT_OPT_LATENESS_US];
  if (t > *newest)
    *newest = t;
  return eaudit__rules_eval(s, r, ev);
}

int eaudit__rules_pg_on_append(eaudit_store *s, eaudit_event *const *evs,
                               const size_t *idx, size_t n) {
  eaudit__rules *r = NULL;
  int rc = n ? eaudit__rules_get(s, &r) : EAUDIT_OK;
  if (rc == 0 && n)
    rc = eaudit__rules_txn_ready(s, r);
  if (rc || n == 0 || !r->rs->any_enabled)
    return rc;
  /* Lateness as on SQLite: against the newest occurred_at of the events
   * before, then of those before in this append. */
  eaudit__rq *q = eaudit__rules_stmt(s, r, EAUDIT__RS_NEWEST);
  if (q == NULL)
    return eaudit_error_last()->code;
  eaudit__rq_i64(q, 1, evs[idx[0]]->v[EAUDIT_FIELD_SEQ]);
  int src = eaudit__rq_step(q);
  eaudit_time newest = src == SQLITE_ROW && !eaudit__rq_col_null(q, 0)
                           ? eaudit__rq_col_i64(q, 0)
                           : INT64_MIN;
  eaudit__rq_reset(q);
  if (src != SQLITE_ROW)
    return eaudit__rq_fail(s, src, "reading the newest event");
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = eval_in_order(s, r, evs[idx[i]], &newest);
  if (rc == 0)
    rc = eaudit__rules_end_append(s);
  /* Other handles drop what they cached of the state. */
  return rc ? rc : eaudit__rules_pg_bump(s, r);
}

int eaudit__rules_pg_before_purge(eaudit_store *s) {
  eaudit__rules *r = NULL;
  int rc = eaudit__rules_get(s, &r);
  if (rc == 0)
    rc = write_begin(s, NULL, 0);
  if (rc)
    return rc;
  int64_t next = 1;
  rc = eaudit__rules_txn_ready(s, r);
  if (rc == 0 && eaudit__rules_catch_up_reads(s, r, INT64_MAX) &&
      (rc = eaudit__rules_next_seq(s, &next)) == 0 &&
      (rc = eaudit__rules_checkpoint(s, r, next)) == 0)
    rc = eaudit__rules_pg_bump(s, r);
  return eaudit__pg_store_write_end(s, rc, NULL, 0);
}

static void deliver(eaudit_store *s, eaudit__rules *r, int64_t *rowids,
                    size_t n) {
  for (size_t i = 0; i < n && r->n_subs; i++) {
    eaudit_finding *f = NULL;
    if (eaudit__finding_load(s, rowids[i], &f) != 0) {
      eaudit__log(EAUDIT_LOG_ERROR, "finding %lld could not be read for its "
                                    "subscribers: %s",
                  (long long)rowids[i], eaudit_error_last()->message);
      continue;
    }
    /* A callback may unsubscribe; walk a snapshot of the ids. */
    for (size_t k = 0; k < r->n_subs; k++) {
      eaudit__finding_sub sub = r->subs[k];
      if (sub.filter && !eaudit__finding_query_matches(sub.filter, f))
        continue;
      int rc = sub.fn(f, sub.payload);
      if (rc != 0)
        eaudit__log(EAUDIT_LOG_WARN,
                    "finding subscriber %d returned %d; ignored", sub.id, rc);
    }
    eaudit_finding_free(f);
  }
}

void eaudit__rules_after_txn(eaudit_store *s, int committed) {
  eaudit__rules *r = s->rules;
  if (r == NULL)
    return;
  r->txn_ready = 0;
  r->live_known = 0;
  if (!committed) {
    /* The rows went back; so must what the cache learned from them. */
    eaudit__rules_cache_clear(r);
    r->n_pending = 0;
    return;
  }
  if (r->n_pending == 0)
    return;
  /* Take the list first: a callback may append through this handle. */
  int64_t *p = r->pending;
  size_t n = r->n_pending;
  r->pending = NULL;
  r->n_pending = r->cap_pending = 0;
  deliver(s, r, p, n);
  eaudit__free(p);
}

void eaudit__rules_free(eaudit_store *s) {
  eaudit__rules *r = s->rules;
  if (r == NULL)
    return;
  for (int i = 0; i < EAUDIT__RS_COUNT; i++)
    eaudit__rq_free(s, &r->st[i]);
  eaudit__rules_cache_clear(r);
  eaudit__free(r->slots);
  eaudit__free(r->dirty);
  eaudit__free(r->deferred);
  eaudit__free(r->since);
  eaudit__free(r->preload);
  eaudit__free(r->num);
  eaudit__free(r->ref_ids);
  eaudit__ruleset_free(r->rs);
  eaudit__free(r->pending);
  for (size_t i = 0; i < r->n_subs; i++)
    eaudit_finding_query_free(r->subs[i].filter);
  eaudit__free(r->subs);
  eaudit__tz_free(r->origin_tz);
  eaudit__free(r->origin_tz_name);
  eaudit__free(r);
  s->rules = NULL;
}

void eaudit__rules_set_login_hours_fn(eaudit_store *s,
                                      eaudit__login_hours_fn fn,
                                      void *payload) {
  eaudit__rules *r = NULL;
  if (eaudit__rules_get(s, &r) == 0) {
    r->hours_fn = fn;
    r->hours_payload = payload;
  }
}

/* --- the rule set --- */

/* A write transaction around an append of evs (none for a re-evaluation):
 * on PostgreSQL it holds the own chain's lock, so that appends and rule
 * writes of other handles wait. */
static int write_begin(eaudit_store *s, eaudit_event *const *evs, size_t n) {
  return s->pg ? eaudit__pg_store_write_begin(s, evs, n)
               : eaudit__txn_begin_write(s);
}

int eaudit__rules_meta_set(eaudit_store *s, eaudit__rules *r, const char *key,
                           const char *text, int64_t num) {
  if (s->pg == NULL)
    return text ? eaudit__meta_set_text(s, key, text)
                : eaudit__meta_set_int(s, key, num);
  char digits[24];
  if (text == NULL) {
    snprintf(digits, sizeof digits, "%lld", (long long)num);
    text = digits;
  }
  eaudit__rq *q = eaudit__rules_stmt(s, r, EAUDIT__RS_META_PUT);
  if (q == NULL)
    return eaudit_error_last()->code;
  eaudit__rq_text(q, 1, key);
  eaudit__rq_text(q, 2, text);
  int rc = eaudit__rq_step(q);
  eaudit__rq_reset(q);
  return rc == SQLITE_DONE ? EAUDIT_OK
                           : eaudit__rq_fail(s, rc, "writing rule settings");
}

static int ready_outside_txn(eaudit_store *s, eaudit__rules **out) {
  int rc = eaudit__rules_get(s, out);
  return rc ? rc : refresh(s, *out);
}

int eaudit_store_check_rules(eaudit_store *s, const char *json, size_t len) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (json == NULL)
    return eaudit__einval("json must not be NULL");
  eaudit__ruleset *rs = NULL;
  int rc = eaudit__ruleset_parse(s, json, len, &rs);
  eaudit__ruleset_free(rs);
  return rc;
}

int eaudit_store_rules(eaudit_store *s, char **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  *out = NULL;
  eaudit__rules *r = NULL;
  int rc = ready_outside_txn(s, &r);
  return rc ? rc : eaudit__ruleset_write(s, r->rs, out);
}

int eaudit_store_rules_version(eaudit_store *s, int64_t *out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  eaudit__rules *r = NULL;
  int rc = ready_outside_txn(s, &r);
  if (rc == 0)
    *out = r->version;
  return rc;
}

static const eaudit__rule *rule_by_id(const eaudit__ruleset *rs,
                                      const char *id) {
  for (size_t i = 0; i < rs->n; i++)
    if (strcmp(rs->rules[i].id, id) == 0)
      return &rs->rules[i];
  return NULL;
}

/* The own chain's head seq (the store's on SQLite). */
static int head_seq(eaudit_store *s, int64_t *out) {
  eaudit__rq q;
  int rc = eaudit__rq_open(
      s, "SELECT seq FROM head",
      "SELECT head_seq FROM eaudit.sites WHERE site_id = $o", &q);
  if (rc)
    return rc;
  *out = 0;
  int src = eaudit__rq_step(&q);
  if (src == SQLITE_ROW) {
    *out = eaudit__rq_col_i64(&q, 0);
    src = SQLITE_DONE;
  }
  if (src != SQLITE_DONE)
    rc = eaudit__rq_fail(s, src, "reading the chain head");
  eaudit__rq_close(&q);
  return rc;
}

/* Discard the state of rules that changed or went away: their windows and
 * partial matches meant something else. A changed or new rule starts
 * counting at seq next (the change event, or a shipped origin's next
 * event). */
static int drop_changed_state(eaudit_store *s, eaudit__rules *r,
                              const eaudit__ruleset *old,
                              const eaudit__ruleset *neu, int64_t next) {
  eaudit__rq del;
  int rc = eaudit__rq_open(
      s,
      "DELETE FROM rule_state WHERE rule = (SELECT num FROM rule_ids"
      " WHERE rule = ?1)",
      "DELETE FROM eaudit.rule_state WHERE origin = $o AND rule = (SELECT num"
      " FROM eaudit.rule_ids WHERE origin = $o AND rule = $1::text)",
      &del);
  if (rc)
    return rc;
  eaudit__rq *q = &del;
  for (size_t i = 0; i < old->n; i++) {
    const eaudit__rule *n = rule_by_id(neu, old->rules[i].id);
    if (n && strcmp(n->canonical, old->rules[i].canonical) == 0)
      continue;
    eaudit__rq_text(q, 1, old->rules[i].id);
    rc = eaudit__rq_step(q);
    eaudit__rq_reset(q);
    if (rc == SQLITE_DONE && n == NULL) {
      eaudit__rq *d = eaudit__rules_stmt(s, r, EAUDIT__RS_SINCE_DEL);
      if (d == NULL) {
        eaudit__rq_close(&del);
        return eaudit_error_last()->code;
      }
      eaudit__rq_text(d, 1, old->rules[i].id);
      rc = eaudit__rq_step(d);
      eaudit__rq_reset(d);
    }
    if (rc != SQLITE_DONE) {
      eaudit__rq_close(&del);
      return eaudit__rq_fail(s, rc, "discarding rule state");
    }
  }
  eaudit__rq_close(&del);
  for (size_t i = 0; i < neu->n; i++) {
    const eaudit__rule *o = rule_by_id(old, neu->rules[i].id);
    if (o && strcmp(o->canonical, neu->rules[i].canonical) == 0)
      continue;
    if ((q = eaudit__rules_stmt(s, r, EAUDIT__RS_SINCE_PUT)) == NULL)
      return eaudit_error_last()->code;
    eaudit__rq_text(q, 1, neu->rules[i].id);
    eaudit__rq_i64(q, 2, next);
    rc = eaudit__rq_step(q);
    eaudit__rq_reset(q);
    if (rc != SQLITE_DONE)
      return eaudit__rq_fail(s, rc, "recording a rule change");
  }
  return EAUDIT_OK;
}

int eaudit_store_set_rules(eaudit_store *s, const char *json, size_t len,
                           int64_t actor) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (json == NULL)
    return eaudit__einval("json must not be NULL");
  eaudit__rules *r = NULL;
  int rc = eaudit__rules_get(s, &r);
  if (rc)
    return rc;
  eaudit__ruleset *neu = NULL;
  if ((rc = eaudit__ruleset_parse(s, json, len, &neu)))
    return rc;
  char *text = eaudit__strndup(json, len);
  eaudit_event *ev = NULL;
  if (text == NULL)
    rc = eaudit__enomem();
  if (rc == 0 && (rc = eaudit_event_new(&ev)) == 0) {
    eaudit__event_put(ev, EAUDIT_FIELD_TYPE, EAUDIT_TYPE_RULES_CHANGED);
    eaudit__event_put(ev, EAUDIT_FIELD_OCCURRED_AT, eaudit_store_now(s));
    eaudit__event_put(ev, EAUDIT_FIELD_SUBJECT, actor);
    eaudit__event_put(ev, EAUDIT_FIELD_ACTOR, actor);
    rc = eaudit__validate_events(s, &ev, 1, NULL);
  }
  if (rc == 0)
    rc = write_begin(s, &ev, 1);
  if (rc) {
    eaudit__ruleset_free(neu);
    eaudit__free(text);
    eaudit_event_free(ev);
    return rc;
  }
  eaudit__ruleset *old = NULL;
  int64_t old_version = -1, version = 0;
  int64_t *old_since = NULL;
  rc = eaudit__rules_txn_ready(s, r);
  if (rc == 0) {
    old = r->rs;
    old_version = r->version;
    version = old_version + 1;
    char details[64];
    snprintf(details, sizeof details, "{\"rules_version\": %lld}",
             (long long)version);
    rc = eaudit__event_put_details(ev, details, strlen(details));
  }
  if (rc == 0)
    rc = eaudit__rules_meta_set(s, r, "rules", text, 0);
  if (rc == 0)
    rc = eaudit__rules_meta_set(s, r, "rules_version", NULL, version);
  int64_t next = 0;
  if (rc == 0 && (rc = head_seq(s, &next)) == 0)
    rc = drop_changed_state(s, r, old, neu, next + 1);
  if (rc == 0) {
    /* The change event is itself evaluated under the new set. */
    eaudit__rules_cache_clear(r);
    r->rs = neu;
    r->version = version;
    old_since = r->since;
    r->since = NULL;
    rc = eaudit__rules_since_load(s, r);
    if (rc == 0)
      rc = s->pg ? eaudit__pg_store_append_locked(s, &ev, 1)
                 : eaudit__append_locked(s, &ev, 1, NULL);
  }
  int installed = r->rs == neu;
  rc = s->pg ? eaudit__pg_store_write_end(s, rc, &ev, 1)
             : eaudit__txn_end_write(s, rc, &ev, 1);
  if (rc && installed) {
    r->rs = old;
    r->version = old_version;
    eaudit__free(r->since);
    r->since = old_since;
    old_since = NULL;
    old = neu;
  } else if (!installed) {
    old = neu;
  }
  eaudit__free(old_since);
  eaudit__rules_cache_clear(r);
  eaudit__ruleset_free(old);
  eaudit__free(text);
  eaudit_event_free(ev);
  return rc;
}

/* --- batch re-evaluation --- */

/* A one-off statement with one integer parameter; its first column, when
 * out is not NULL, into *out (*null: it was NULL). */
static int one_i64(eaudit_store *s, const char *sqlite_sql, const char *pg_sql,
                   int64_t arg, int64_t *out, int *null, const char *what) {
  eaudit__rq q;
  int rc = eaudit__rq_open(s, sqlite_sql, pg_sql, &q);
  if (rc)
    return rc;
  eaudit__rq_i64(&q, 1, arg);
  int src = eaudit__rq_step(&q);
  if (out && src == SQLITE_ROW) {
    *out = eaudit__rq_col_i64(&q, 0);
    if (null)
      *null = eaudit__rq_col_null(&q, 0);
    src = SQLITE_DONE;
  }
  if (src != SQLITE_DONE)
    rc = eaudit__rq_fail(s, src, what);
  eaudit__rq_close(&q);
  return rc;
}

static int replay(eaudit_store *s, eaudit__rules *r, int64_t since_seq) {
  int rc = eaudit__rq_exec(s, "DELETE FROM rule_state; DELETE FROM rule_since",
                           "DELETE FROM eaudit.rule_state WHERE origin = $o");
  if (rc == 0 && s->pg)
    rc = eaudit__rq_exec(s, NULL,
                         "DELETE FROM eaudit.rule_since WHERE origin = $o");
  if (rc)
    return rc;
  eaudit__rules_cache_clear(r);
  /* Every state starts empty here: nothing to catch up on. */
  r->caught = 1;
  /* Every rule starts over at since_seq. */
  for (size_t i = 0; i < r->rs->n; i++) {
    eaudit__rq *p = eaudit__rules_stmt(s, r, EAUDIT__RS_SINCE_PUT);
    if (p == NULL)
      return eaudit_error_last()->code;
    eaudit__rq_text(p, 1, r->rs->rules[i].id);
    eaudit__rq_i64(p, 2, since_seq);
    int prc = eaudit__rq_step(p);
    eaudit__rq_reset(p);
    if (prc != SQLITE_DONE)
      return eaudit__rq_fail(s, prc, "recording a re-evaluation");
    r->since[i] = since_seq;
  }
  int64_t newest = 0;
  int none = 0;
  rc = one_i64(s, "UPDATE findings SET stale = 1 WHERE first_seq >= ?1",
               "UPDATE eaudit.findings SET stale = 1 WHERE origin = $o"
               " AND first_seq >= $1::bigint",
               since_seq, NULL, NULL, "marking findings for replacement");
  /* Lateness is judged against the newest occurred_at before the range,
   * as the append path judged it. */
  if (rc == 0)
    rc = one_i64(s, "SELECT max(occurred_at) FROM events WHERE seq < ?1",
                 "SELECT max(occurred_at) FROM eaudit.events"
                 " WHERE origin = $o AND seq < $1::bigint",
                 since_seq, &newest, &none, "reading events");
  if (rc)
    return rc;
  if (none)
    newest = INT64_MIN;
  eaudit__rq all;
  if ((rc = eaudit__rq_open(
           s,
           "SELECT " EAUDIT__EVENT_COLUMNS
           " FROM events WHERE seq >= ?1 ORDER BY seq",
           "SELECT " PG_EVENT_COLUMNS " FROM eaudit.events WHERE origin = $o"
           " AND seq >= $1::bigint ORDER BY seq",
           &all)))
    return rc;
  eaudit__rq *q = &all;
  int src = SQLITE_DONE;
  eaudit__rq_i64(q, 1, since_seq);
  eaudit_event ev;
  memset(&ev, 0, sizeof ev);
  while (rc == 0 && (src = eaudit__rq_step(q)) == SQLITE_ROW) {
    int type = eaudit__rq_col_int(q, 4);
    if (eaudit__ruleset_for_type(r->rs, type) == NULL) {
      eaudit_time t = eaudit__rq_col_i64(q, 2);
      newest = t > newest ? t : newest;
      continue;
    }
    if ((rc = eaudit__rq_event(q, &ev)))
      break;
    rc = eval_in_order(s, r, &ev, &newest);
  }
  eaudit__rq_close(&all);
  eaudit__event_release(&ev);
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__rq_fail(s, src, "reading events");
  /* Every state written, as of the end of the events. */
  int64_t next = 1;
  if (rc == 0 && (rc = eaudit__rules_next_seq(s, &next)) == 0)
    rc = eaudit__rules_checkpoint(s, r, next);
  if (rc == 0)
    rc = eaudit__rq_exec(s,
                         "DELETE FROM finding_events WHERE finding IN"
                         " (SELECT rowid FROM findings WHERE stale = 1);"
                         "DELETE FROM findings WHERE stale = 1",
                         "DELETE FROM eaudit.finding_events WHERE finding IN"
                         " (SELECT rowid FROM eaudit.findings WHERE"
                         " origin = $o AND stale = 1)");
  if (rc == 0 && s->pg)
    rc = eaudit__rq_exec(s, NULL,
                         "DELETE FROM eaudit.findings WHERE origin = $o"
                         " AND stale = 1");
  return rc;
}

/* --- shipped origins on a central store (docs/scale-out.md) --- */

/* What switching the engine to a shipped origin saved. */
typedef struct origin_save {
  eaudit__tz *tz;
  size_t n_pending;
} origin_save;

/* Switch the engine of central handle s to a shipped origin: its
 * statements bind it as $o, local days are those of zone (NULL: the
 * central store's), and the cached per-key state is dropped. */
static int origin_enter(eaudit_store *s, eaudit__rules *r,
                        const uint8_t origin[16], const char *zone,
                        origin_save *sv) {
  if (zone && (r->origin_tz_name == NULL ||
               strcmp(r->origin_tz_name, zone) != 0)) {
    eaudit__tz *tz = NULL;
    char *name = eaudit__strdup(zone);
    int rc = name ? eaudit__tz_open(&tz, zone) : eaudit__enomem();
    if (rc) {
      eaudit__free(name);
      return rc;
    }
    eaudit__tz_free(r->origin_tz);
    eaudit__free(r->origin_tz_name);
    r->origin_tz = tz;
    r->origin_tz_name = name;
  }
  sv->tz = s->tz;
  sv->n_pending = r->n_pending;
  if (zone)
    s->tz = r->origin_tz;
  eaudit__pg_store_rules_origin(s, origin);
  eaudit__rules_cache_clear(r);
  r->live_known = 0;
  r->hours_seq = 0;
  return EAUDIT_OK;
}

/* Back to the own chain. The origin's findings are not delivered to this
 * handle's subscribers (they hear of the own chain's). */
static void origin_leave(eaudit_store *s, eaudit__rules *r,
                         const origin_save *sv) {
  s->tz = sv->tz;
  eaudit__pg_store_rules_origin(s, NULL);
  eaudit__rules_cache_clear(r);
  r->live_known = 0;
  r->hours_seq = 0;
  if (r->n_pending > sv->n_pending)
    r->n_pending = sv->n_pending;
}

/* Record on the origin the rule set it is evaluated under. */
static int origin_mark(eaudit_store *s, eaudit__rules *r) {
  char *canon = NULL;
  int rc = eaudit__ruleset_write(s, r->rs, &canon);
  if (rc == 0)
    rc = eaudit__rules_meta_set(s, r, "rules", canon, 0);
  if (rc == 0)
    rc = eaudit__rules_meta_set(s, r, "rules_version", NULL, r->version);
  eaudit__free(canon);
  return rc;
}

/* Bring the current origin's rule state to the central rule set: rules
 * that changed since the origin was last evaluated (all of them when it
 * never was) start over at seq next, as eaudit_store_set_rules does on the
 * own chain; unchanged ones keep their state. Then read its rule_since. */
static int origin_sync(eaudit_store *s, eaudit__rules *r, int64_t next) {
  int64_t v = 0;
  int rc = meta_read(s, r, "rules_version", NULL, &v);
  if (rc == 0 && v != r->version) {
    char *text = NULL;
    eaudit__ruleset none, *old = NULL;
    memset(&none, 0, sizeof none);
    rc = meta_read(s, r, "rules", &text, NULL);
    if (rc == 0 && text &&
        eaudit__ruleset_parse(s, text, strlen(text), &old) != 0) {
      /* Unreadable: no state of it can be trusted. */
      old = NULL;
      rc = eaudit__rq_exec(s, NULL,
                           "DELETE FROM eaudit.rule_state WHERE origin = $o");
    }
    eaudit__free(text);
    if (rc == 0)
      rc = drop_changed_state(s, r, old ? old : &none, r->rs, next);
    eaudit__ruleset_free(old);
    if (rc == 0)
      rc = origin_mark(s, r);
  }
  return rc ? rc : eaudit__rules_since_load(s, r);
}

int eaudit__rules_ship_active(eaudit_store *s, int *out) {
  *out = 0;
  eaudit__rules *r = NULL;
  int rc = ready_outside_txn(s, &r);
  if (rc)
    return rc;
  /* Version 0: the built-in defaults, never chosen for this store. */
  *out = r->version > 0 && r->rs->any_enabled;
  return EAUDIT_OK;
}

int eaudit__rules_ship_ready(eaudit_store *s, int *out) {
  int rc = eaudit__rules_ship_active(s, out);
  if (rc)
    return rc;
  const eaudit__rules *r = s->rules;
  for (size_t i = 0; *out && i < r->rs->n; i++)
    if (r->rs->rules[i].enabled && r->rs->rules[i].kind == EAUDIT__KIND_OFF_HOURS &&
        r->hours_fn == NULL)
      eaudit__log(EAUDIT_LOG_WARN,
                  "rule %s is not evaluated on shipped events: the login-hour "
                  "history it needs stays on the sites",
                  r->rs->rules[i].id);
  return EAUDIT_OK;
}

int eaudit__rules_ship_eval(eaudit_store *s, const uint8_t origin[16],
                            const char *zone, eaudit_event *evs, size_t n,
                            const uint8_t *fresh) {
  eaudit__rules *r = s->rules;
  size_t first = 0;
  while (first < n && !fresh[first])
    first++;
  if (r == NULL || r->rs == NULL || !r->rs->any_enabled || first == n)
    return EAUDIT_OK;
  origin_save sv;
  int rc = origin_enter(s, r, origin, zone, &sv);
  if (rc)
    return rc;
  int64_t first_seq = evs[first].v[EAUDIT_FIELD_SEQ];
  rc = origin_sync(s, r, first_seq);
  if (rc == 0 && zone)
    rc = eaudit__rules_meta_set(s, r, "time_zone", zone, 0);
  r->txn_ready = 1;
  /* Lateness as on the own chain: against the newest occurred_at of the
   * origin's events before, then of those before in this batch. */
  eaudit_time newest = INT64_MIN;
  eaudit__rq *q = rc ? NULL : eaudit__rules_stmt(s, r, EAUDIT__RS_NEWEST);
  if (rc == 0 && q == NULL)
    rc = eaudit_error_last()->code;
  if (rc == 0) {
    eaudit__rq_i64(q, 1, first_seq);
    int src = eaudit__rq_step(q);
    if (src == SQLITE_ROW && !eaudit__rq_col_null(q, 0))
      newest = eaudit__rq_col_i64(q, 0);
    eaudit__rq_reset(q);
    if (src != SQLITE_ROW)
      rc = eaudit__rq_fail(s, src, "reading the newest event");
  }
  for (size_t i = first; rc == 0 && i < n; i++)
    if (fresh[i])
      rc = eval_in_order(s, r, &evs[i], &newest);
  if (rc == 0)
    rc = eaudit__rules_end_append(s);
  r->txn_ready = 0;
  origin_leave(s, r, &sv);
  return rc;
}

/* Re-evaluate every shipped origin from since_seq (of its own seqs), each
 * under its lock, in the caller's transaction. */
static int replay_shipped(eaudit_store *s, eaudit__rules *r,
                          int64_t since_seq) {
  eaudit__rq sites;
  int rc = eaudit__rq_open(
      s, NULL,
      "SELECT t.site_id, (SELECT convert_to(m.value, 'UTF8') FROM"
      " eaudit.rule_meta m WHERE m.origin = t.site_id AND m.key ="
      " 'time_zone') FROM eaudit.sites t WHERE NOT t.own ORDER BY t.site_id",
      &sites);
  if (rc)
    return rc;
  int src;
  while (rc == 0 && (src = eaudit__rq_step(&sites)) == SQLITE_ROW) {
    uint8_t id[16];
    char zone[128];
    if (eaudit__rq_col_bytes(&sites, 0) != 16)
      continue;
    memcpy(id, eaudit__rq_col_blob(&sites, 0), 16);
    int zn = eaudit__rq_col_bytes(&sites, 1);
    int has_zone = !eaudit__rq_col_null(&sites, 1) && zn > 0 &&
                   zn < (int)sizeof zone;
    if (has_zone) {
      memcpy(zone, eaudit__rq_col_blob(&sites, 1), (size_t)zn);
      zone[zn] = '\0';
    }
    origin_save sv;
    if ((rc = eaudit__pg_store_lock_origin(s, id)) ||
        (rc = origin_enter(s, r, id, has_zone ? zone : NULL, &sv)))
      break;
    rc = replay(s, r, since_seq);
    if (rc == 0)
      rc = origin_mark(s, r);
    origin_leave(s, r, &sv);
  }
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__rq_fail(s, src, "reading the shipped sites");
  eaudit__rq_close(&sites);
  /* The own chain's again. */
  return rc ? rc : eaudit__rules_since_load(s, r);
}

int eaudit_store_reevaluate(eaudit_store *s, int64_t since_seq,
                            int64_t *count_out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (count_out)
    *count_out = 0;
  eaudit__rules *r = NULL;
  int rc = eaudit__rules_get(s, &r);
  if (rc)
    return rc;
  if ((rc = write_begin(s, NULL, 0)))
    return rc;
  rc = eaudit__rules_txn_ready(s, r);
  int64_t after = 0;
  if (rc == 0) {
    r->replay = 1;
    rc = replay(s, r, since_seq);
    /* The central store's rule set covers the shipped origins too. */
    if (rc == 0 && s->pg && r->version > 0)
      rc = replay_shipped(s, r, since_seq);
    r->replay = 0;
  }
  if (rc == 0)
    rc = one_i64(s, "SELECT count(*) FROM findings WHERE first_seq >= ?1",
                 "SELECT count(*) FROM eaudit.findings"
                 " WHERE first_seq >= $1::bigint",
                 since_seq, &after, NULL, "counting findings");
  if (rc == 0 && s->pg)
    rc = eaudit__rules_pg_bump(s, r);
  if (s->pg) {
    rc = eaudit__pg_store_write_end(s, rc, NULL, 0);
  } else {
    if (rc == 0)
      rc = eaudit__commit(s);
    else
      eaudit__rollback(s);
    eaudit__rules_after_txn(s, rc == 0);
  }
  if (rc == 0 && count_out)
    *count_out = after;
  return rc;
}

/* --- finding subscribers --- */

int eaudit_store_subscribe_findings(eaudit_store *s,
                                    const eaudit_finding_query *filter,
                                    eaudit_finding_fn fn, void *payload,
                                    int *id_out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (fn == NULL)
    return eaudit__einval("callback must not be NULL");
  eaudit__rules *r = NULL;
  int rc = eaudit__rules_get(s, &r);
  if (rc)
    return rc;
  eaudit_finding_query *copy = NULL;
  if (filter && (rc = eaudit__finding_query_dup(&copy, filter)))
    return rc;
  eaudit__finding_sub *subs =
      eaudit__realloc(r->subs, (r->n_subs + 1) * sizeof *subs);
  if (subs == NULL) {
    eaudit_finding_query_free(copy);
    return eaudit__enomem();
  }
  r->subs = subs;
  subs[r->n_subs] =
      (eaudit__finding_sub){r->next_sub_id++, fn, payload, copy};
  if (id_out)
    *id_out = subs[r->n_subs].id;
  r->n_subs++;
  return EAUDIT_OK;
}

int eaudit_store_unsubscribe_findings(eaudit_store *s, int id) {
  EAUDIT__CHECK_STORE_ANY(s);
  eaudit__rules *r = s->rules;
  for (size_t i = 0; r && i < r->n_subs; i++)
    if (r->subs[i].id == id) {
      eaudit_finding_query_free(r->subs[i].filter);
      memmove(&r->subs[i], &r->subs[i + 1],
              (r->n_subs - i - 1) * sizeof r->subs[0]);
      r->n_subs--;
      return EAUDIT_OK;
    }
  return eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_INVALID, 0,
                       "no finding subscriber with id %d", id);
}

/* Retention: a finding goes when every event behind it is purged (it is
 * then history about purged history); one that reaches past the purge
 * keeps its copied event ids. The histograms judged with purged logins go
 * too. Called by each purge batch inside its transaction. */
int eaudit__rules_next_seq(eaudit_store *s, int64_t *out) {
  /* The own chain's head on PostgreSQL (shipped origins share the table). */
  *out = 0;
  int rc = one_i64(s, "SELECT coalesce(max(seq), 0) FROM events WHERE ?1",
                   "SELECT head_seq FROM eaudit.sites WHERE site_id = $o"
                   " AND $1::bigint = 1",
                   1, out, NULL, "reading the last seq");
  if (rc == 0)
    (*out)++;
  return rc;
}

int eaudit__rules_before_purge(eaudit_store *s, int64_t through_seq) {
  eaudit__rules *r = NULL;
  int rc = eaudit__rules_get(s, &r);
  if (rc == 0)
    rc = eaudit__rules_txn_ready(s, r);
  int64_t next = 1;
  if (rc == 0 && eaudit__rules_catch_up_reads(s, r, through_seq) &&
      (rc = eaudit__rules_next_seq(s, &next)) == 0)
    rc = eaudit__rules_checkpoint(s, r, next);
  return rc;
}

int eaudit__rules_on_purge(eaudit_store *s, int64_t through_seq) {
  if (s->rules)
    ((eaudit__rules *)s->rules)->live_known = 0; /* events went */
  static const char *const sql[] = {
      ("DELETE FROM finding_events WHERE finding IN (SELECT rowid FROM "
       "findings WHERE first_seq <= ?1 AND last_seq <= ?1)"),
      "DELETE FROM findings WHERE first_seq <= ?1 AND last_seq <= ?1",
      "DELETE FROM rule_login_hours WHERE seq <= ?1"};
  /* SQLite only: the central store's retention (pg_retention.c) leaves
   * findings alone. */
  for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
    int rc = one_i64(s, sql[i], NULL, through_seq, NULL, NULL,
                     "purging findings");
    if (rc)
      return rc;
  }
  return EAUDIT_OK;
}

int eaudit__rules_horizon(eaudit_store *s, int64_t *out) {
  eaudit__rules *r = NULL;
  int rc = eaudit__rules_get(s, &r);
  if (rc == 0)
    rc = refresh(s, r);
  if (rc)
    return rc;
  int64_t longest = 0;
  for (size_t i = 0; r->rs && i < r->rs->n; i++) {
    const eaudit__rule *rule = &r->rs->rules[i];
    if (!rule->enabled)
      continue;
    if (rule->window > longest)
      longest = rule->window;
    for (size_t k = 0; k < rule->n_conds; k++)
      if (rule->conds[k].window > longest)
        longest = rule->conds[k].window;
  }
  *out = longest + s->opts.ints[EAUDIT_OPT_LATENESS_US];
  return EAUDIT_OK;
}
