/* Shipping a site store into a central PostgreSQL store with the central
 * store's rules on and off (docs/performance.md, "Shipping with the
 * central store's rules"): the same site events shipped into a new
 * database per repetition, sides alternating,
 *   no_rules:  the central store has no rule set of its own (shipping
 *              does not evaluate; one EXISTS query per call decides);
 *   disabled:  a rule set with every rule disabled (a handle of the
 *              central store is opened, nothing is evaluated);
 *   builtins:  the built-in rules chosen as the central store's set.
 * The median rate of each side is printed, builtins with its ratio to
 * no_rules. The server is EAUDIT_BENCH_PG, else EAUDIT_TEST_PG; without
 * one the scenario prints "n/a". */
#include "bench.h"

#ifdef EAUDIT_HAVE_LIBPQ

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char scen[] = "pg_ship_rules";

/* A new empty database db. */
static int fresh_db(bench *b, const char *db) {
  PGconn *c = PQconnectdb(bench_pg_server());
  int rc = PQstatus(c) == CONNECTION_OK ? 0 : -1;
  PQsetNoticeProcessor(c, bench_pg_quiet, NULL);
  char sql[256];
  for (int i = 0; rc == 0 && i < 2; i++) {
    snprintf(sql, sizeof sql,
             i ? "CREATE DATABASE %s" : "DROP DATABASE IF EXISTS %s WITH (FORCE)",
             db);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      rc = -1;
    PQclear(r);
  }
  if (rc)
    bench_fail(b, "database %s: %s", db, PQerrorMessage(c));
  PQfinish(c);
  return rc;
}

static void drop_db(const char *db) {
  PGconn *c = PQconnectdb(bench_pg_server());
  char sql[256];
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
  PQclear(PQexec(c, sql));
  PQfinish(c);
}

static const char disabled[] =
    "{\"builtins\": true, \"rules\": ["
    "{\"id\": \"unrecognized_device_abuse\", \"enabled\": false},"
    "{\"id\": \"door_failure_burst\", \"enabled\": false},"
    "{\"id\": \"keycard_add_failures\", \"enabled\": false},"
    "{\"id\": \"admin_new_device_off_hours\", \"enabled\": false},"
    "{\"id\": \"expired_while_inside\", \"enabled\": false},"
    "{\"id\": \"temporary_privilege\", \"enabled\": false},"
    "{\"id\": \"credential_churn\", \"enabled\": false}]}";

/* Prepare the central store of a side (untimed), ship into it (timed):
 * the rate in events/s, or -1. */
static double one_ship(bench *b, const char *site_path, int side,
                       int64_t *findings) {
  char db[64], uri[600];
  snprintf(db, sizeof db, "eaudit_bench_pgship_%ld", (long)getpid());
  if (bench_pg_uri_for(uri, sizeof uri, db) || fresh_db(b, db))
    return -1;
  int rc = eaudit_central_init(uri);
  if (rc == 0 && side > 0) {
    eaudit_store *c = NULL;
    rc = bench_lib_open(uri, EAUDIT_SYNC_FULL, &c);
    if (rc == 0)
      rc = side == 1 ? eaudit_store_set_rules(c, disabled, strlen(disabled), 1)
                     : eaudit_store_set_rules(c, "{}", 2, 1);
    eaudit_store_free(c);
  }
  eaudit_store *site = NULL;
  if (rc == 0)
    rc = bench_lib_open(site_path, EAUDIT_SYNC_FULL, &site);
  int64_t n = 0;
  double t0 = bench_now_ms();
  if (rc == 0)
    rc = eaudit_store_ship(site, uri, 0, &n);
  double ms = bench_now_ms() - t0;
  eaudit_store_free(site);
  *findings = 0;
  if (rc == 0) {
    PGconn *c = PQconnectdb(uri);
    PGresult *r = PQexec(c, "SELECT count(*) FROM eaudit.findings");
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
      *findings = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
  }
  drop_db(db);
  if (rc) {
    bench_fail(b, "ship: %s", eaudit_error_last()->message);
    return -1;
  }
  return ms > 0 ? (double)n * 1000.0 / ms : -1;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  bench b;
  int rc = bench_init(&b, argc, argv);
  if (rc)
    return rc;
  if (bench_pg_server() == NULL) {
    bench_na(&b, scen, "no PostgreSQL server (EAUDIT_BENCH_PG or "
                       "EAUDIT_TEST_PG; scripts/pg-cluster.sh)");
    return bench_finish(&b);
  }
  if (!bench_want(&b, scen))
    return bench_finish(&b);
  /* The site: n events of the shared data set. */
  int64_t n = b.quick ? 2000 : 20000;
  char site_path[700];
  snprintf(site_path, sizeof site_path, "%s/pgship-site-%lld.db", b.dir,
           (long long)n);
  bench_remove(site_path);
  eaudit_store *site = NULL;
  eaudit_batch *batch = NULL;
  eaudit_event *ev = NULL;
  rc = bench_lib_open(site_path, EAUDIT_SYNC_NORMAL, &site);
  if (rc == 0)
    rc = eaudit_batch_new(&batch);
  for (int64_t i = 0; rc == 0 && i < n; i++) {
    bench_row r;
    bench_row_make(n, i, &r);
    if ((rc = eaudit_event_new(&ev)) == 0 && (rc = bench_row_event(ev, &r)) == 0)
      rc = eaudit_batch_add(batch, ev);
    eaudit_event_free(ev);
    ev = NULL;
    if (rc == 0 && (eaudit_batch_size(batch) == 1000 || i == n - 1)) {
      rc = eaudit_store_append_batch(site, batch, NULL);
      eaudit_batch_clear(batch);
    }
  }
  eaudit_batch_free(batch);
  eaudit_store_free(site);
  if (rc) {
    bench_fail(&b, "site: %s", eaudit_error_last()->message);
    return bench_finish(&b);
  }
  static const char *const sides[3] = {"no_rules", "disabled", "builtins"};
  double rate[3][16];
  int64_t found[3] = {0, 0, 0};
  int reps = b.reps < 16 ? b.reps : 16;
  for (int k = 0; k < reps; k++)
    for (int i = 0; i < 3; i++) {
      int side = (i + k) % 3; /* alternate the order */
      rate[side][k] = one_ship(&b, site_path, side, &found[side]);
      if (rate[side][k] < 0)
        return bench_finish(&b);
      bench_progress(&b, "%s rep %d: %.0f events/s", sides[side], k,
                     rate[side][k]);
    }
  double med[3];
  for (int i = 0; i < 3; i++) {
    qsort(rate[i], (size_t)reps, sizeof rate[i][0], cmp_double);
    med[i] = rate[i][reps / 2];
  }
  for (int i = 0; i < 3; i++)
    bench_value(&b, scen, sides[i], "events/s", med[i],
                i ? med[i] / med[0] : -1);
  printf("# %lld events shipped per repetition; findings opened: "
         "no_rules %lld, disabled %lld, builtins %lld\n",
         (long long)n, (long long)found[0], (long long)found[1],
         (long long)found[2]);
  bench_remove(site_path);
  return bench_finish(&b);
}

#else

int main(int argc, char **argv) {
  return bench_main_na(argc, argv, "pg_ship_rules",
                       "built without PostgreSQL");
}

#endif
