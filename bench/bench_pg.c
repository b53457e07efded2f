/* PostgreSQL scenarios: appends, the default view and search on a store
 * opened on a postgresql:// URI, each against raw libpq doing the same work
 * on the same table in the same run (docs/performance.md, "PostgreSQL").
 *
 * The server comes from EAUDIT_BENCH_PG, else EAUDIT_TEST_PG (the URI
 * scripts/pg-cluster.sh prints): a maintenance database on which the
 * program creates its own databases, eaudit_bench_append (new at each run)
 * and eaudit_bench_<scale> (the fixture: the shared SQLite fixture shipped
 * in, reused while it holds the same events). Without a server every
 * scenario prints "n/a" and the program exits 0. */
#include "bench.h"

#ifdef EAUDIT_HAVE_LIBPQ

#include "pg_internal.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MONTH_US (31 * BENCH_DAY_US) /* 2026-05-01T12:00 .. 06-01T12:00 */

static PGconn *connect_to(bench *b, const char *uri) {
  PGconn *c = PQconnectdb(uri);
  if (PQstatus(c) != CONNECTION_OK) {
    bench_fail(b, "connect: %s", PQerrorMessage(c));
    PQfinish(c);
    return NULL;
  }
  PQsetNoticeProcessor(c, bench_pg_quiet, NULL);
  return c;
}

static int command(bench *b, PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
           PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok)
    bench_fail(b, "%s: %s", sql, PQerrorMessage(c));
  PQclear(r);
  return ok ? 0 : -1;
}

/* A single bigint answer, or -1. */
static int64_t one_int(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  int64_t v = -1;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
      !PQgetisnull(r, 0, 0))
    v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return v;
}

/* Create database db when missing (fresh: drop it first). */
static int database(bench *b, const char *db, int fresh) {
  PGconn *c = connect_to(b, bench_pg_server());
  if (c == NULL)
    return -1;
  char sql[256];
  int rc = 0;
  if (fresh) {
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
    rc = command(b, c, sql);
  }
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM pg_database WHERE datname = '%s'", db);
  if (rc == 0 && one_int(c, sql) == 0) {
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    rc = command(b, c, sql);
  }
  PQfinish(c);
  return rc;
}

/* Partitions for every month of the bench's year and the next, created
 * before timing so that neither side pays for DDL in a repetition. */
static int months_ahead(bench *b, PGconn *c) {
  for (int64_t t = BENCH_NOW - (BENCH_SPAN_DAYS + 31) * BENCH_DAY_US;
       t <= BENCH_NOW + 62 * BENCH_DAY_US; t += 28 * BENCH_DAY_US)
    if (eaudit__pg_ensure_month(c, t)) {
      bench_fail(b, "partitions: %s", eaudit_error_last()->message);
      return -1;
    }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Append: 10k events per transaction.                                */

typedef struct appender {
  bench *b;
  eaudit_store *s;
  eaudit_batch *batch;
  eaudit_event *ev;
  PGconn *c;
  int64_t next, stream, per_txn, per_rep;
  int64_t seq;
  uint8_t origin[16];
} appender;

static int64_t lib_append(void *arg) {
  appender *a = arg;
  bench_row r;
  for (int64_t done = 0; done < a->per_rep; done += a->per_txn) {
    for (int64_t k = 0; k < a->per_txn; k++) {
      bench_row_make(a->stream, a->next++, &r);
      if (bench_row_event(a->ev, &r) || eaudit_batch_add(a->batch, a->ev))
        return -1;
    }
    int rc = eaudit_store_append_batch(a->s, a->batch, NULL);
    eaudit_batch_clear(a->batch);
    if (rc) {
      bench_fail(a->b, "append: %s", eaudit_error_last()->message);
      return -1;
    }
  }
  return a->per_rep;
}

/* The raw side: what a careful libpq application does to fill the same
 * partitioned table, its indexes and its search column: one transaction
 * per 10k rows, a prepared insert with binary parameters, pipelined. It
 * writes its own origin, a seq and a placeholder hash (no chain). */
#define RAW_INSERT                                                             \
  "INSERT INTO eaudit.events(origin, seq, id, occurred_at, recorded_at, "     \
  "type, subject, actor, door, grp, device, site, credential, reason, "       \
  "details, hash, search) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "  \
  "$11, $12, $13, $14, $15, $16, "                                             \
  "to_tsvector('simple'::regconfig, convert_from($15, 'UTF8')))"

static void opt_i64(eaudit__pgp *p, int64_t v) {
  if (v)
    eaudit__pgp_i64(p, v);
  else
    eaudit__pgp_null(p, EAUDIT__OID_INT8);
}

/* Read a pipeline's results up to its sync point. A NULL separates the
 * results of two queries; two in a row mean the connection has nothing
 * more to give. */
static int drain(appender *a) {
  int rc = 0, nulls = 0;
  for (;;) {
    PGresult *r = PQgetResult(a->c);
    if (r == NULL) {
      if (++nulls > 1) {
        bench_fail(a->b, "raw insert: %s", PQerrorMessage(a->c));
        return -1;
      }
      continue;
    }
    nulls = 0;
    ExecStatusType st = PQresultStatus(r);
    PQclear(r);
    if (st == PGRES_PIPELINE_SYNC)
      return rc;
    if (st != PGRES_COMMAND_OK && rc == 0) {
      bench_fail(a->b, "raw insert: %s", PQerrorMessage(a->c));
      rc = -1;
    }
  }
}

static int64_t raw_append(void *arg) {
  appender *a = arg;
  bench_row r;
  uint8_t id[16], hash[32] = {0};
  for (int64_t done = 0; done < a->per_rep; done += a->per_txn) {
    if (PQenterPipelineMode(a->c) != 1 ||
        PQsendQueryParams(a->c, "BEGIN", 0, NULL, NULL, NULL, NULL, 1) != 1)
      goto fail;
    for (int64_t k = 0; k < a->per_txn; k++) {
      bench_row_make(a->stream, a->next++, &r);
      bench_uuid_v7(r.ts, id);
      eaudit__pgp p = {0};
      eaudit__pgp_bytes(&p, a->origin, 16);
      eaudit__pgp_i64(&p, ++a->seq);
      eaudit__pgp_bytes(&p, id, 16);
      eaudit__pgp_i64(&p, r.ts);
      eaudit__pgp_i64(&p, BENCH_NOW);
      eaudit__pgp_i32(&p, r.type);
      opt_i64(&p, r.subject);
      opt_i64(&p, r.actor);
      opt_i64(&p, r.door);
      opt_i64(&p, r.grp);
      opt_i64(&p, r.device);
      opt_i64(&p, r.site);
      eaudit__pgp_i32(&p, r.credential);
      eaudit__pgp_i32(&p, r.reason);
      eaudit__pgp_bytes(&p, r.details, (size_t)r.details_len);
      eaudit__pgp_bytes(&p, hash, 32);
      if (PQsendQueryPrepared(a->c, "raw_insert", p.n, p.v, p.len, p.fmt,
                              1) != 1)
        goto fail;
    }
    if (PQsendQueryParams(a->c, "COMMIT", 0, NULL, NULL, NULL, NULL, 1) !=
            1 ||
        PQpipelineSync(a->c) != 1)
      goto fail;
    int rc = drain(a);
    if (PQexitPipelineMode(a->c) != 1 || rc)
      goto fail;
  }
  return a->per_rep;
fail:
  bench_fail(a->b, "raw append: %s", PQerrorMessage(a->c));
  return -1;
}

static void scenario_append(bench *b) {
  const char *scen = "pg_append_batch_10k";
  if (!bench_want(b, scen))
    return;
  char uri[600];
  appender l = {.b = b}, r = {.b = b};
  int ok = bench_pg_uri_for(uri, sizeof uri, "eaudit_bench_append") == 0 &&
           database(b, "eaudit_bench_append", 1) == 0;
  if (ok && bench_lib_open(uri, EAUDIT_SYNC_FULL, &l.s)) {
    bench_fail(b, "open %s: %s", "eaudit_bench_append",
               eaudit_error_last()->message);
    ok = 0;
  }
  ok = ok && eaudit_batch_new(&l.batch) == 0 && eaudit_event_new(&l.ev) == 0;
  ok = ok && (r.c = connect_to(b, uri)) != NULL && months_ahead(b, r.c) == 0;
  if (ok) {
    PGresult *p = PQprepare(r.c, "raw_insert", RAW_INSERT, 0, NULL);
    if (PQresultStatus(p) != PGRES_COMMAND_OK) {
      bench_fail(b, "prepare: %s", PQerrorMessage(r.c));
      ok = 0;
    }
    PQclear(p);
    randombytes_buf(r.origin, sizeof r.origin);
  }
  if (ok) {
    l.per_txn = r.per_txn = b->quick ? 500 : 10000;
    l.per_rep = r.per_rep = b->quick ? 1000 : 20000;
    l.stream = r.stream = l.per_rep * (b->reps + 1) * 2;
    bench_ab(b, scen, "events/s", lib_append, &l, raw_append, &r);
  }
  eaudit_batch_free(l.batch);
  eaudit_event_free(l.ev);
  eaudit_store_free(l.s);
  PQfinish(r.c);
}

/* ------------------------------------------------------------------ */
/* Reads on the fixture: the shared SQLite fixture shipped in.         */

static int fixture(bench *b, char *uri, size_t size) {
  bench_fixture fx;
  char db[64];
  snprintf(db, sizeof db, "eaudit_bench_%s", b->scale_name);
  if (bench_pg_uri_for(uri, size, db) || database(b, db, 0))
    return -1;
  PGconn *c = connect_to(b, uri);
  if (c == NULL)
    return -1;
  /* Two steps: a statement naming a missing table fails to parse. */
  int64_t have = one_int(c, "SELECT (to_regclass('eaudit.events') IS NOT "
                            "NULL)::int");
  /* A fixture shipped before names were shipped has none: ship again
   * (the events are up to date, the names follow); one made before the
   * names table existed starts again. */
  int64_t names = -1;
  if (have == 1 && one_int(c, "SELECT (to_regclass('eaudit.names') IS NOT "
                              "NULL)::int") == 1)
    names = one_int(c, "SELECT count(*) FROM eaudit.names");
  if (have == 1)
    have = names < 0 ? -1 : one_int(c, "SELECT count(*) FROM eaudit.events");
  int rc = 0;
  if (have != b->scale || names == 0) {
    eaudit_store *site = NULL;
    int64_t shipped = 0;
    double t0 = bench_now_ms();
    if (have != 0) { /* another scale or a broken fill: start again */
      PQfinish(c);
      c = NULL;
      rc = database(b, db, 1);
      if (rc == 0 && (c = connect_to(b, uri)) == NULL)
        rc = -1;
    }
    if (rc == 0)
      rc = bench_fixture_get(b, b->scale, &fx);
    if (rc == 0 && bench_lib_open(fx.lib_path, EAUDIT_SYNC_FULL, &site))
      rc = -1;
    if (rc == 0 && (eaudit_central_init(uri) ||
                    eaudit_store_ship(site, uri, 10000, &shipped)))
      rc = -1;
    if (rc)
      bench_fail(b, "PostgreSQL fixture: %s", eaudit_error_last()->message);
    eaudit_store_free(site);
    if (rc == 0)
      rc = command(b, c, "VACUUM ANALYZE eaudit.names");
    if (rc == 0)
      rc = command(b, c, "VACUUM ANALYZE eaudit.name_words");
    if (rc == 0) {
      rc = command(b, c, "VACUUM ANALYZE eaudit.events");
      printf("# pg fixture: %" PRId64 " events shipped in %.1f s\n", shipped,
             (bench_now_ms() - t0) / 1000);
    }
  }
  PQfinish(c);
  return rc;
}

typedef struct reader {
  bench *b;
  eaudit_store *s;
  PGconn *c;
  const char *text; /* NULL: the default view */
  const char *sql;  /* raw */
  int64_t rows;
} reader;

static int64_t lib_read(void *arg) {
  reader *r = arg;
  eaudit_query *q = NULL;
  int rc = r->text ? eaudit_query_new(&q) : eaudit_store_default_query(r->s, &q);
  if (rc == 0 && r->text)
    rc = eaudit_query_set_text(q, r->text);
  if (rc == 0)
    rc = eaudit_query_set_limit(q, 50);
  eaudit_cursor *cur = NULL;
  const eaudit_event *ev;
  int64_t rows = 0;
  if (rc == 0)
    rc = eaudit_store_query(r->s, q, &cur);
  while (rc == 0 && (rc = eaudit_cursor_next(cur, &ev)) == 0)
    rows++;
  if (rc == EAUDIT_DONE)
    rc = 0;
  eaudit_cursor_free(cur);
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
  PGresult *res = PQexecParams(r->c, r->sql, 0, NULL, NULL, NULL, NULL, 1);
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    bench_fail(r->b, "raw query: %s", PQerrorMessage(r->c));
    PQclear(res);
    return -1;
  }
  /* Touch every value, as a caller building rows would. */
  int n = PQntuples(res), m = PQnfields(res);
  volatile size_t sum = 0;
  for (int i = 0; i < n; i++)
    for (int k = 0; k < m; k++)
      sum += (size_t)PQgetlength(res, i, k) + (size_t)*PQgetvalue(res, i, k);
  (void)sum;
  PQclear(res);
  r->rows = n;
  return 1;
}

#define RAW_COLS                                                               \
  "origin, seq, id, occurred_at, recorded_at, type, subject, actor, door, "   \
  "grp, device, site, credential, reason, details, hash"

static void scenario_reads(bench *b) {
  char uri[600], sql[640];
  reader l = {.b = b}, r = {.b = b};
  if (fixture(b, uri, sizeof uri))
    return;
  if (bench_lib_open(uri, EAUDIT_SYNC_FULL, &l.s)) {
    bench_fail(b, "open the PostgreSQL fixture: %s",
               eaudit_error_last()->message);
    return;
  }
  if ((r.c = connect_to(b, uri)) == NULL) {
    eaudit_store_free(l.s);
    return;
  }
  /* The default view: user 1 over the past month, first page. */
  snprintf(sql, sizeof sql,
           "SELECT " RAW_COLS " FROM eaudit.events WHERE actor = 1 AND "
           "occurred_at >= %" PRId64 " AND occurred_at < %" PRId64
           " ORDER BY occurred_at DESC LIMIT 50",
           BENCH_NOW - MONTH_US, BENCH_NOW);
  r.sql = sql;
  if (bench_ab(b, "pg_default_view_page", "ms", lib_read, &l, raw_read, &r) ==
      0)
    printf("# pg_default_view_page: lib %" PRId64 " rows, raw %" PRId64
           " rows\n",
           l.rows, r.rows);
  /* Search, first page of 50. The raw side does what an application on
   * the same table would: a label as its type codes, a date as a range, a
   * time of day as arithmetic on occurred_at (all UTC). */
  int64_t day = BENCH_NOW - 12 * BENCH_DAY_US - BENCH_DAY_US / 2;
  char date_sql[512];
  snprintf(date_sql, sizeof date_sql,
           "SELECT " RAW_COLS " FROM eaudit.events WHERE occurred_at >= "
           "%" PRId64 " AND occurred_at < %" PRId64
           " ORDER BY occurred_at DESC LIMIT 50",
           day, day + BENCH_DAY_US);
  const struct {
    const char *scen, *text, *raw;
  } searches[] = {
      /* Names: what an application on the same central names table would
       * write, a LIKE on the user names (as bench_core's raw side). */
      {"pg_search_rare_name", "zeb",
       "SELECT " RAW_COLS " FROM eaudit.events WHERE actor IN (SELECT "
       "entity FROM eaudit.names WHERE kind = 1 AND (lower(name) LIKE "
       "'zeb%' OR lower(name) LIKE '% zeb%')) ORDER BY occurred_at DESC "
       "LIMIT 50"},
      {"pg_search_common_name", "ann",
       "SELECT " RAW_COLS " FROM eaudit.events WHERE actor IN (SELECT "
       "entity FROM eaudit.names WHERE kind = 1 AND (lower(name) LIKE "
       "'ann%' OR lower(name) LIKE '% ann%')) ORDER BY occurred_at DESC "
       "LIMIT 50"},
      {"pg_search_type_label", "keycard",
       "SELECT " RAW_COLS " FROM eaudit.events WHERE type IN (7, 8) "
       "ORDER BY occurred_at DESC LIMIT 50"},
      {"pg_search_date", "2026-05-20", date_sql},
      {"pg_search_time_of_day", "14:05",
       "SELECT " RAW_COLS " FROM eaudit.events WHERE "
       "(occurred_at / 60000000) % 1440 = 845 ORDER BY occurred_at DESC "
       "LIMIT 50"},
  };
  for (size_t i = 0; i < sizeof searches / sizeof searches[0]; i++) {
    l.text = searches[i].text;
    r.sql = searches[i].raw;
    if (bench_ab(b, searches[i].scen, "ms", lib_read, &l, raw_read, &r) == 0)
      printf("# %s: lib %" PRId64 " rows, raw %" PRId64 " rows\n",
             searches[i].scen, l.rows, r.rows);
  }
  fflush(stdout);
  PQfinish(r.c);
  eaudit_store_free(l.s);
}

int main(int argc, char **argv) {
  bench b;
  int rc = bench_init(&b, argc, argv);
  if (rc)
    return rc;
  if (bench_pg_server() == NULL) {
    const char *why = "no PostgreSQL server (EAUDIT_BENCH_PG or "
                      "EAUDIT_TEST_PG; scripts/pg-cluster.sh)";
    bench_na(&b, "pg_append_batch_10k", why);
    bench_na(&b, "pg_default_view_page", why);
    return bench_finish(&b);
  }
  scenario_append(&b);
  scenario_reads(&b);
  return bench_finish(&b);
}

#else

int main(int argc, char **argv) {
  return bench_main_na(argc, argv, "pg_append_batch_10k",
                       "built without PostgreSQL");
}

#endif
