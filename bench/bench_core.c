/* Core scenarios: appends, queries, counts, search and bytes on disk, each
 * against raw SQLite doing the same work (docs/performance.md). */
#include "bench.h"
#include "query_internal.h"

#include <inttypes.h>
#include <json-c/json_object.h>
#include <json-c/json_tokener.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MONTH_US (31 * BENCH_DAY_US) /* 2026-05-01T12:00 .. 06-01T12:00 */
#define DAYS30_US (30 * BENCH_DAY_US)

/* ------------------------------------------------------------------ */
/* Scenario 1: batched append, 10k events per transaction.            */

typedef struct appender {
  bench *b;
  eaudit_store *s;
  eaudit_batch *batch;
  eaudit_event *ev;
  sqlite3 *db;
  sqlite3_stmt *ins;
  int64_t next;    /* next row index of the generated stream */
  int64_t stream;  /* the stream's nominal size (spaces the times) */
  int64_t per_txn; /* events per transaction */
  int64_t per_rep; /* events per call */
  /* Variants of the raw side that add the library's work step by step. */
  int variant;
  sqlite3_stmt *rollup, *user;
  uint8_t prev[32];
} appender;

static int64_t lib_append(void *arg) {
  appender *a = arg;
  bench_row r;
  for (int64_t done = 0; done < a->per_rep;) {
    for (int64_t k = 0; k < a->per_txn; k++) {
      bench_row_make(a->stream, a->next++, &r);
      if (bench_row_event(a->ev, &r) || eaudit_batch_add(a->batch, a->ev))
        return -1;
    }
    int rc = a->per_txn == 1
                 ? eaudit_store_append(a->s, a->ev)
                 : eaudit_store_append_batch(a->s, a->batch, NULL);
    eaudit_batch_clear(a->batch);
    if (rc) {
      bench_fail(a->b, "append: %s", eaudit_error_last()->message);
      return -1;
    }
    done += a->per_txn;
  }
  return a->per_rep;
}

enum {
  V_RAW3 = 0,      /* the typical table with its three indexes */
  V_NOINDEX,       /* the same table without indexes */
  V_LIBSCHEMA,     /* the library's events table and indexes */
  V_ROLLUP,        /* + a rollup upsert per event */
  V_USERS,         /* + a users upsert per event */
  V_CHAIN,         /* + BLAKE2b chain link */
  V_JSON           /* + json-c validation of the details */
};

static const char lib_like_schema[] =
    "CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY, id BLOB NOT "
    "NULL, occurred_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL, type "
    "INTEGER NOT NULL, subject INTEGER, actor INTEGER, door INTEGER, grp "
    "INTEGER, device INTEGER, site INTEGER, credential INTEGER NOT NULL, "
    "reason INTEGER NOT NULL, details BLOB, hash BLOB NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS events_id ON events(id);"
    "CREATE INDEX IF NOT EXISTS events_time ON events(occurred_at);"
    "CREATE INDEX IF NOT EXISTS events_subject ON events(subject, "
    "occurred_at);"
    "CREATE INDEX IF NOT EXISTS events_actor ON events(actor, occurred_at) "
    "WHERE actor IS NOT subject;"
    "CREATE INDEX IF NOT EXISTS events_type ON events(type, occurred_at);"
    "CREATE INDEX IF NOT EXISTS events_door ON events(door, occurred_at) "
    "WHERE door IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS events_grp ON events(grp, occurred_at) "
    "WHERE grp IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS events_device ON events(device, occurred_at) "
    "WHERE device IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS rollup(day INTEGER NOT NULL, type INTEGER NOT "
    "NULL, subject INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(day, "
    "type, subject)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY, last_at "
    "INTEGER);";

static void bind_opt(sqlite3_stmt *st, int col, int64_t v) {
  if (v)
    sqlite3_bind_int64(st, col, v);
  else
    sqlite3_bind_null(st, col);
}

static int step_reset(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

/* One event the way the library writes it, with the parts the variant
 * asks for. */
static int variant_insert(appender *a, const bench_row *r, int64_t seq) {
  if (a->variant >= V_JSON) {
    struct json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, r->details, r->details_len);
    int ok = o != NULL && json_object_is_type(o, json_type_object);
    json_object_put(o);
    json_tokener_free(tok);
    if (!ok)
      return -1;
  }
  uint8_t id[16], hash[32];
  bench_uuid_v7(BENCH_NOW, id);
  if (a->variant >= V_CHAIN) {
    /* Canonical bytes are ~70 bytes of fixed fields plus the details. */
    crypto_generichash_state h;
    uint8_t fixed[72] = {0};
    memcpy(fixed, &seq, 8);
    memcpy(fixed + 8, &r->ts, 8);
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, fixed, sizeof fixed);
    crypto_generichash_update(&h, (const uint8_t *)r->details,
                              (size_t)r->details_len);
    crypto_generichash_update(&h, a->prev, 32);
    crypto_generichash_final(&h, hash, 32);
    memcpy(a->prev, hash, 32);
  } else {
    randombytes_buf(hash, 32);
  }
  sqlite3_stmt *st = a->ins;
  sqlite3_bind_int64(st, 1, seq);
  sqlite3_bind_blob(st, 2, id, 16, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 3, r->ts);
  sqlite3_bind_int64(st, 4, BENCH_NOW);
  sqlite3_bind_int(st, 5, r->type);
  sqlite3_bind_int64(st, 6, r->subject);
  sqlite3_bind_int64(st, 7, r->actor);
  bind_opt(st, 8, r->door);
  bind_opt(st, 9, r->grp);
  bind_opt(st, 10, r->device);
  bind_opt(st, 11, r->site);
  sqlite3_bind_int(st, 12, r->credential);
  sqlite3_bind_int(st, 13, r->reason);
  sqlite3_bind_blob(st, 14, r->details, r->details_len, SQLITE_TRANSIENT);
  sqlite3_bind_blob(st, 15, hash, 32, SQLITE_TRANSIENT);
  if (step_reset(st))
    return -1;
  if (a->variant >= V_ROLLUP) {
    sqlite3_bind_int64(a->rollup, 1, r->ts - r->ts % BENCH_DAY_US);
    sqlite3_bind_int(a->rollup, 2, r->type);
    sqlite3_bind_int64(a->rollup, 3, r->subject);
    if (step_reset(a->rollup))
      return -1;
  }
  if (a->variant >= V_USERS) {
    sqlite3_bind_int64(a->user, 1, r->subject);
    sqlite3_bind_int64(a->user, 2, r->ts);
    if (step_reset(a->user))
      return -1;
    if (r->actor != r->subject) {
      sqlite3_bind_int64(a->user, 1, r->actor);
      sqlite3_bind_int64(a->user, 2, r->ts);
      if (step_reset(a->user))
        return -1;
    }
  }
  return 0;
}

static int64_t raw_append(void *arg) {
  appender *a = arg;
  bench_row r;
  for (int64_t done = 0; done < a->per_rep; done += a->per_txn) {
    if (sqlite3_exec(a->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
      return -1;
    for (int64_t k = 0; k < a->per_txn; k++) {
      int64_t i = a->next++;
      bench_row_make(a->stream, i, &r);
      int rc = a->variant == V_RAW3 || a->variant == V_NOINDEX
                   ? bench_raw_insert(a->ins, &r, BENCH_NOW)
                   : variant_insert(a, &r, i + 1);
      if (rc) {
        bench_fail(a->b, "raw insert: %s", sqlite3_errmsg(a->db));
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
      }
    }
    if (sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
      bench_fail(a->b, "raw commit: %s", sqlite3_errmsg(a->db));
      return -1;
    }
  }
  return a->per_rep;
}

static int lib_appender(bench *b, appender *a, const char *name, int sync) {
  char path[700];
  a->b = b;
  snprintf(path, sizeof path, "%s/core-%s-lib.db", b->dir, name);
  bench_remove(path);
  /* No names: each would be its own durable transaction, and appends do
   * not read them. */
  if (bench_lib_open(path, sync, &a->s) || eaudit_batch_new(&a->batch) || eaudit_event_new(&a->ev)) {
    bench_fail(b, "%s: %s", path, eaudit_error_last()->message);
    return -1;
  }
  return 0;
}

static int raw_appender(bench *b, appender *a, const char *name,
                        const char *sync, int variant) {
  char path[700];
  a->b = b;
  a->variant = variant;
  snprintf(path, sizeof path, "%s/core-%s-raw.db", b->dir, name);
  bench_remove(path);
  if (variant <= V_NOINDEX) {
    if (bench_raw_open(path, sync, variant == V_RAW3, &a->db) ||
        sqlite3_prepare_v2(a->db, BENCH_RAW_INSERT_SQL, -1, &a->ins, NULL))
      goto fail;
    return 0;
  }
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s",
           sync);
  if (sqlite3_open(path, &a->db) ||
      sqlite3_exec(a->db, sql, NULL, NULL, NULL) ||
      sqlite3_exec(a->db, lib_like_schema, NULL, NULL, NULL) ||
      sqlite3_prepare_v2(
          a->db,
          "INSERT INTO events(seq, id, occurred_at, recorded_at, type, "
          "subject, actor, door, grp, device, site, credential, reason, "
          "details, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
          "?11, ?12, ?13, ?14, ?15)",
          -1, &a->ins, NULL) ||
      sqlite3_prepare_v2(a->db,
                         "INSERT INTO rollup(day, type, subject, n) VALUES "
                         "(?1, ?2, ?3, 1) ON CONFLICT(day, type, subject) DO "
                         "UPDATE SET n = n + 1",
                         -1, &a->rollup, NULL) ||
      sqlite3_prepare_v2(a->db,
                         "INSERT INTO users(id, last_at) VALUES (?1, ?2) ON "
                         "CONFLICT(id) DO UPDATE SET last_at = "
                         "max(coalesce(last_at, excluded.last_at), "
                         "excluded.last_at)",
                         -1, &a->user, NULL))
    goto fail;
  return 0;
fail:
  bench_fail(b, "%s: %s", path, a->db ? sqlite3_errmsg(a->db) : "open");
  return -1;
}

static void appender_free(appender *a) {
  eaudit_batch_free(a->batch);
  eaudit_event_free(a->ev);
  eaudit_store_free(a->s);
  sqlite3_finalize(a->ins);
  sqlite3_finalize(a->rollup);
  sqlite3_finalize(a->user);
  sqlite3_close(a->db);
  memset(a, 0, sizeof *a);
}

static void scenario_batched_append(bench *b) {
  if (!bench_want(b, "append_batch_10k"))
    return;
  /* The library, the raw 3-index table, and where the difference goes:
   * the raw side doing more of the library's work one step at a time
   * (each variant includes the ones before it). All interleaved. */
  static const struct {
    int v;
    const char *name;
  } vs[] = {{V_RAW3, "raw"},
            {V_NOINDEX, "raw_no_index"},
            {V_LIBSCHEMA, "raw_lib_indexes"},
            {V_ROLLUP, "raw_+rollup"},
            {V_USERS, "raw_+users"},
            {V_CHAIN, "raw_+chain"},
            {V_JSON, "raw_+json"}};
  enum { NV = sizeof vs / sizeof vs[0] };
  appender ap[NV + 1];
  memset(ap, 0, sizeof ap);
  const char *sides[NV + 1];
  bench_fn fns[NV + 1];
  void *args[NV + 1];
  int64_t per_txn = b->quick ? 500 : 10000;
  int64_t per_rep = b->quick ? 1000 : 20000;
  /* Spread the stream over the year like the fixture. */
  int64_t stream = per_rep * (b->reps + 1) * 2;
  int ok = lib_appender(b, &ap[0], "append", EAUDIT_SYNC_FULL) == 0;
  sides[0] = "lib";
  fns[0] = lib_append;
  for (int k = 1; k <= NV; k++) {
    ok = ok && raw_appender(b, &ap[k], vs[k - 1].name, "FULL",
                            vs[k - 1].v) == 0;
    sides[k] = vs[k - 1].name;
    fns[k] = raw_append;
  }
  for (int k = 0; ok && k <= NV; k++) {
    ap[k].per_txn = per_txn;
    ap[k].per_rep = per_rep;
    ap[k].stream = stream;
    args[k] = &ap[k];
  }
  if (ok)
    bench_multi(b, "append_batch_10k", "events/s", NV + 1, sides, fns, args);
  for (int k = 0; k <= NV; k++)
    appender_free(&ap[k]);
}

/* Scenario 2: one transaction per event, synchronous=FULL. */
static void scenario_durable_append(bench *b) {
  appender l, r;
  memset(&l, 0, sizeof l);
  memset(&r, 0, sizeof r);
  int64_t per_rep = b->quick ? 5 : 100;
  if (lib_appender(b, &l, "durable", EAUDIT_SYNC_FULL) == 0 &&
      raw_appender(b, &r, "durable", "FULL", V_RAW3) == 0) {
    l.per_txn = r.per_txn = 1;
    l.per_rep = r.per_rep = per_rep;
    l.stream = r.stream = 1000000;
    bench_ab(b, "append_durable_1", "events/s", lib_append, &l, raw_append,
             &r);
  }
  appender_free(&l);
  appender_free(&r);
  bench_na(b, "append_durable_threads",
           "no group commit in the library: each handle commits alone");
}

/* ------------------------------------------------------------------ */
/* Scenarios 3-5: queries on the fixture.                             */

typedef struct reader {
  bench *b;
  eaudit_store *s;
  sqlite3 *db;
  /* What to run. */
  int kind;
  const char *text;
  int compile_only; /* lib: build and compile the query, run nothing */
  sqlite3_stmt *st;
  int64_t rows; /* rows of the last call */
} reader;

enum {
  Q_DEFAULT_PAGE,
  Q_FILTERED_PAGE,
  Q_USER_MONTH,
  Q_COUNT_TYPE,
  Q_COUNT_DAY,
  Q_SEARCH
};

static int64_t lib_read(void *arg) {
  reader *r = arg;
  eaudit_query *q = NULL;
  int rc;
  if (r->kind == Q_DEFAULT_PAGE) {
    rc = eaudit_store_default_query(r->s, &q);
    if (rc == 0)
      rc = eaudit_query_set_limit(q, 50);
  } else {
    rc = eaudit_query_new(&q);
    if (rc == 0 && r->kind != Q_SEARCH)
      rc = eaudit_query_set_interval(
          q, BENCH_NOW - (r->kind == Q_USER_MONTH ? MONTH_US : DAYS30_US),
          BENCH_NOW);
    if (rc == 0 && r->kind == Q_FILTERED_PAGE)
      rc = eaudit_query_add_type(q, EAUDIT_TYPE_DOOR_OPEN_FAILED);
    if (rc == 0 && r->kind == Q_USER_MONTH)
      rc = eaudit_query_set_user(q, 1, EAUDIT_ROLE_ANY);
    if (rc == 0 && r->kind == Q_SEARCH)
      rc = eaudit_query_set_text(q, r->text);
    if (rc == 0 && r->kind != Q_USER_MONTH)
      rc = eaudit_query_set_limit(q, 50);
  }
  int64_t rows = 0;
  if (rc == 0 && r->compile_only) {
    sqlite3_stmt *st = NULL;
    rc = eaudit__query_prepare(r->s, q, NULL, 1, &st);
    eaudit__stmt_release(r->s, st);
  } else if (rc == 0 && (r->kind == Q_COUNT_TYPE || r->kind == Q_COUNT_DAY)) {
    eaudit_counts *c = NULL;
    rc = eaudit_store_counts(r->s, q,
                             r->kind == Q_COUNT_TYPE ? EAUDIT_COUNT_BY_TYPE
                                                     : EAUDIT_COUNT_BY_DAY,
                             &c);
    for (size_t i = 0; rc == 0 && i < eaudit_counts_size(c); i++) {
      int64_t k, n;
      eaudit_counts_get(c, i, &k, &n);
      rows += n;
    }
    eaudit_counts_free(c);
  } else if (rc == 0) {
    eaudit_cursor *cur = NULL;
    const eaudit_event *ev;
    rc = eaudit_store_query(r->s, q, &cur);
    while (rc == 0 && (rc = eaudit_cursor_next(cur, &ev)) == 0)
      rows++;
    if (rc == EAUDIT_DONE)
      rc = 0;
    eaudit_cursor_free(cur);
  }
  eaudit_query_free(q);
  if (rc) {
    bench_fail(r->b, "query: %s", eaudit_error_last()->message);
    return -1;
  }
  r->rows = rows;
  return 1;
}

static int64_t raw_read(void *arg) {
  reader *r = arg;
  sqlite3_stmt *st = r->st;
  int64_t rows = 0;
  int rc;
  sqlite3_reset(st);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    /* Touch every column, as a caller building rows would. */
    int n = sqlite3_column_count(st);
    for (int c = 0; c < n; c++)
      if (sqlite3_column_type(st, c) == SQLITE_BLOB ||
          sqlite3_column_type(st, c) == SQLITE_TEXT)
        (void)sqlite3_column_blob(st, c);
      else
        (void)sqlite3_column_int64(st, c);
    rows += r->kind == Q_COUNT_TYPE || r->kind == Q_COUNT_DAY
                ? sqlite3_column_int64(st, 1)
                : 1;
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    bench_fail(r->b, "raw query: %s", sqlite3_errmsg(r->db));
    return -1;
  }
  r->rows = rows;
  return 1;
}

#define RAW_COLS "id, ts, recorded, type, subject, actor, door, details"

static int raw_prepare(reader *r, const char *sql) {
  sqlite3_finalize(r->st);
  r->st = NULL;
  if (sqlite3_prepare_v2(r->db, sql, -1, &r->st, NULL) != SQLITE_OK) {
    bench_fail(r->b, "prepare %s: %s", sql, sqlite3_errmsg(r->db));
    return -1;
  }
  return 0;
}

static void ab_rows(bench *b, const char *scenario, const char *unit,
                    reader *l, reader *r) {
  /* A third side shows what compiling the query to SQL costs alone. */
  reader c = *l;
  c.compile_only = 1;
  const char *const sides[3] = {"lib", "raw", "lib_compile_only"};
  bench_fn const fns[3] = {lib_read, raw_read, lib_read};
  void *const args[3] = {l, r, &c};
  int n = l->kind == Q_COUNT_TYPE || l->kind == Q_COUNT_DAY ? 2 : 3;
  if (bench_multi(b, scenario, unit, n, sides, fns, args) == 0)
    printf("# %s: lib %" PRId64 " rows, raw %" PRId64 " rows\n", scenario,
           l->rows, r->rows);
  fflush(stdout);
}

static void scenario_queries(bench *b, const bench_fixture *fx) {
  reader l = {.b = b}, r = {.b = b};
  if (bench_lib_open(fx->lib_path, EAUDIT_SYNC_FULL, &l.s)) {
    bench_fail(b, "%s: %s", fx->lib_path, eaudit_error_last()->message);
    return;
  }
  if (sqlite3_open_v2(fx->raw_path, &r.db, SQLITE_OPEN_READWRITE, NULL)) {
    bench_fail(b, "%s: cannot open", fx->raw_path);
    eaudit_store_free(l.s);
    return;
  }
  char sql[512];

  /* 3. Pages. */
  l.kind = r.kind = Q_DEFAULT_PAGE;
  snprintf(sql, sizeof sql,
           "SELECT " RAW_COLS " FROM ev WHERE actor = 1 AND ts >= %" PRId64
           " AND ts < %" PRId64 " ORDER BY ts DESC LIMIT 50",
           BENCH_NOW - MONTH_US, BENCH_NOW);
  if (raw_prepare(&r, sql) == 0)
    ab_rows(b, "default_view_page", "ms", &l, &r);

  l.kind = r.kind = Q_FILTERED_PAGE;
  snprintf(sql, sizeof sql,
           "SELECT " RAW_COLS " FROM ev WHERE type = %d AND ts >= %" PRId64
           " AND ts < %" PRId64 " ORDER BY ts DESC LIMIT 50",
           EAUDIT_TYPE_DOOR_OPEN_FAILED, BENCH_NOW - DAYS30_US, BENCH_NOW);
  if (raw_prepare(&r, sql) == 0)
    ab_rows(b, "filtered_page_type", "ms", &l, &r);

  l.kind = r.kind = Q_USER_MONTH;
  snprintf(sql, sizeof sql,
           "SELECT " RAW_COLS " FROM ev WHERE actor = 1 AND ts >= %" PRId64
           " AND ts < %" PRId64 " ORDER BY ts DESC",
           BENCH_NOW - MONTH_US, BENCH_NOW);
  if (raw_prepare(&r, sql) == 0)
    ab_rows(b, "user_month_all", "ms", &l, &r);

  /* 4. Counts over 30 days (UTC days on both sides). */
  l.kind = r.kind = Q_COUNT_TYPE;
  snprintf(sql, sizeof sql,
           "SELECT type, count(*) FROM ev WHERE ts >= %" PRId64
           " AND ts < %" PRId64 " GROUP BY type",
           BENCH_NOW - DAYS30_US, BENCH_NOW);
  if (raw_prepare(&r, sql) == 0)
    ab_rows(b, "counts_per_type_30d", "ms", &l, &r);

  l.kind = r.kind = Q_COUNT_DAY;
  snprintf(sql, sizeof sql,
           "SELECT ts / %" PRId64 " AS d, count(*) FROM ev WHERE ts >= %" PRId64
           " AND ts < %" PRId64 " GROUP BY d",
           BENCH_DAY_US, BENCH_NOW - DAYS30_US, BENCH_NOW);
  if (raw_prepare(&r, sql) == 0)
    ab_rows(b, "counts_per_day_30d", "ms", &l, &r);

  /* 5. Free-text search, first page of 50. The raw side does what an
   * application on the plain table would: names through a LIKE on its
   * names table (users only), dates as a ts range, a time of day as
   * arithmetic on ts, a label as the type codes it names. */
  static const struct {
    const char *scen, *text, *raw;
  } searches[] = {
      {"search_rare_name", "zeb",
       "SELECT " RAW_COLS " FROM ev WHERE actor IN (SELECT id FROM names "
       "WHERE kind = 1 AND (name LIKE 'zeb%' OR name LIKE '% zeb%')) "
       "ORDER BY ts DESC LIMIT 50"},
      {"search_common_name", "ann",
       "SELECT " RAW_COLS " FROM ev WHERE actor IN (SELECT id FROM names "
       "WHERE kind = 1 AND (name LIKE 'ann%' OR name LIKE '% ann%')) "
       "ORDER BY ts DESC LIMIT 50"},
      {"search_date", "2026-05-20", NULL},
      {"search_time_of_day", "14:05",
       "SELECT " RAW_COLS " FROM ev WHERE (ts / 60000000) % 1440 = 845 "
       "ORDER BY ts DESC LIMIT 50"},
      {"search_type_label", "keycard",
       "SELECT " RAW_COLS " FROM ev WHERE type IN (7, 8) "
       "ORDER BY ts DESC LIMIT 50"},
  };
  for (size_t i = 0; i < sizeof searches / sizeof searches[0]; i++) {
    l.kind = r.kind = Q_SEARCH;
    l.text = searches[i].text;
    const char *q = searches[i].raw;
    if (q == NULL) {
      int64_t day = BENCH_NOW - 12 * BENCH_DAY_US - BENCH_DAY_US / 2;
      snprintf(sql, sizeof sql,
               "SELECT " RAW_COLS " FROM ev WHERE ts >= %" PRId64
               " AND ts < %" PRId64 " ORDER BY ts DESC LIMIT 50",
               day, day + BENCH_DAY_US);
      q = sql;
    }
    if (raw_prepare(&r, q) == 0)
      ab_rows(b, searches[i].scen, "ms", &l, &r);
  }

  /* The sanity figure: a substring scan of the details, 30 days. */
  snprintf(sql, sizeof sql,
           "SELECT count(*), 0 FROM ev WHERE ts >= %" PRId64 " AND ts < %" PRId64
           " AND details LIKE '%%Pixel 9%%'",
           BENCH_NOW - DAYS30_US, BENCH_NOW);
  r.kind = Q_COUNT_TYPE;
  if (raw_prepare(&r, sql) == 0)
    bench_one(b, "raw_like_details_30d", "raw", "ms", raw_read, &r);

  sqlite3_finalize(r.st);
  sqlite3_close(r.db);
  eaudit_store_free(l.s);
}

/* Scenario 8: bytes per event on disk, everything included (the event
 * rows, every index, rollups, names and their search index, the WAL). */
static void scenario_bytes(bench *b, const bench_fixture *fx) {
  double lib = (double)bench_file_bytes(fx->lib_path) / (double)fx->n;
  double raw = (double)bench_file_bytes(fx->raw_path) / (double)fx->n;
  bench_value(b, "bytes_per_event", "lib", "B/event", lib, lib / raw);
  bench_value(b, "bytes_per_event", "raw", "B/event", raw, -1);
  /* Where the library's bytes go (SQLite's dbstat). */
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  if (!bench_want(b, "bytes_per_event") ||
      sqlite3_open_v2(fx->lib_path, &db, SQLITE_OPEN_READONLY, NULL) ||
      sqlite3_prepare_v2(db,
                         "SELECT name, sum(pgsize) FROM dbstat GROUP BY name "
                         "ORDER BY 2 DESC",
                         -1, &st, NULL)) {
    sqlite3_close(db);
    return;
  }
  char side[96];
  while (sqlite3_step(st) == SQLITE_ROW) {
    double per = (double)sqlite3_column_int64(st, 1) / (double)fx->n;
    if (per < 2)
      continue;
    snprintf(side, sizeof side, "lib:%s", (const char *)sqlite3_column_text(st, 0));
    bench_value(b, "bytes_per_event", side, "B/event", per, -1);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
}

int main(int argc, char **argv) {
  bench b;
  int rc = bench_init(&b, argc, argv);
  if (rc)
    return rc;
  scenario_batched_append(&b);
  scenario_durable_append(&b);
  bench_fixture fx;
  if (bench_fixture_get(&b, b.scale, &fx) == 0) {
    scenario_queries(&b, &fx);
    scenario_bytes(&b, &fx);
  }
  return bench_finish(&b);
}
