/* Retention on the central PostgreSQL store: dropping a month partition
 * against deleting the same rows in bounded batches (docs/scale-out.md,
 * "Retention on the central store").
 *
 *   bench_pgretention [--quick] [--reps N] [--dir DIR]
 *
 * Four site stores hold 200,000 events in January 2026 (2,000 with --quick)
 * and a few in February, so that each site's head lies in February. They
 * are shipped once into a template database; each repetition copies it
 * (CREATE DATABASE ... TEMPLATE) and purges everything before February 1:
 *   drop     the whole January partition goes (the library's choice);
 *   batches  the same events deleted in batches of 5,000 per site
 *            (EAUDIT__PG_PURGE_NO_DROP, the path of a month the cutoff
 *            falls in);
 *   walk     the part both share: reading the month's rows back and
 *            recomputing every chain link before removing them.
 * Each copy is read once, untimed, before its purge, so that both purges
 * start from the same warm cache.
 * Both purges check every link they remove. Needs a server: the URI of a
 * maintenance database in EAUDIT_TEST_PG (scripts/pg-cluster.sh env);
 * without it the scenario prints n/a. */
#include "bench.h"

#include "chain.h"
#include "pg_chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCEN "pg_purge_month"

#ifdef EAUDIT_HAVE_LIBPQ

#include <libpq-fe.h>

#define SITES 4

static char g_base[1024];

/* A URI for database db on the server of EAUDIT_TEST_PG. */
static void uri_for(char *out, size_t size, const char *db) {
  char *err = NULL;
  PQconninfoOption *o = PQconninfoParse(g_base, &err);
  const char *host = NULL, *port = NULL, *user = NULL;
  for (PQconninfoOption *p = o; p && p->keyword; p++) {
    if (p->val == NULL)
      continue;
    if (strcmp(p->keyword, "host") == 0)
      host = p->val;
    else if (strcmp(p->keyword, "port") == 0)
      port = p->val;
    else if (strcmp(p->keyword, "user") == 0)
      user = p->val;
  }
  int n = snprintf(out, size, "postgresql:///%s?connect_timeout=10", db);
  if (host)
    n += snprintf(out + n, size - (size_t)n, "&host=%s", host);
  if (port)
    n += snprintf(out + n, size - (size_t)n, "&port=%s", port);
  if (user)
    snprintf(out + n, size - (size_t)n, "&user=%s", user);
  PQconninfoFree(o);
  PQfreemem(err);
}

static int admin(bench *b, const char *sql) {
  PGconn *c = PQconnectdb(g_base);
  PGresult *r = PQexec(c, sql);
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok)
    bench_fail(b, "%s: %s", sql, PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
  return ok ? 0 : -1;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One result line: scenario side scale median min max ratio unit. */
static double line(const char *scale, const char *side, double *v, int n,
                   double ratio_to) {
  double m = median(v, n);
  printf("%s\t%s\t%s\t%.1f\t%.1f\t%.1f\t", SCEN, side, scale, m, v[0],
         v[n - 1]);
  if (ratio_to > 0)
    printf("%.3f\tms\n", m / ratio_to);
  else
    printf("-\tms\n");
  return m;
}

/* The sites, shipped into the template database. */
static int fill(bench *b, const char *uri, int64_t events) {
  eaudit_time jan1 = INT64_C(1767225600000000); /* 2026-01-01T00:00:00Z */
  eaudit_time feb1 = jan1 + 31 * BENCH_DAY_US;
  int64_t per = events / SITES;
  eaudit_time step = 31 * BENCH_DAY_US / per;
  for (int k = 0; k < SITES; k++) {
    char path[700];
    snprintf(path, sizeof path, "%s/pgretention-site%d.db", b->dir, k);
    bench_remove(path);
    eaudit_store *s = NULL;
    int rc = bench_lib_open(path, 1, &s);
    eaudit_batch *bt = NULL;
    if (rc == 0)
      rc = eaudit_batch_new(&bt);
    for (int64_t i = 0; rc == 0 && i < per + 5; i++) {
      bench_row r;
      bench_row_make(per, i % per, &r);
      r.ts = i < per ? jan1 + i * step + k : feb1 + i * 1000000;
      eaudit_event *ev = NULL;
      if ((rc = eaudit_event_new(&ev)) == 0 &&
          (rc = bench_row_event(ev, &r)) == 0)
        rc = eaudit_batch_add(bt, ev);
      eaudit_event_free(ev);
      if (rc == 0 && (eaudit_batch_size(bt) == 5000 || i == per + 4)) {
        rc = eaudit_store_append_batch(s, bt, NULL);
        eaudit_batch_clear(bt);
      }
    }
    eaudit_batch_free(bt);
    int64_t shipped = 0;
    double t0 = bench_now_ms();
    if (rc == 0)
      rc = eaudit_store_ship(s, uri, 5000, &shipped);
    bench_progress(b, "site %d: %lld events shipped in %.1f s", k,
                   (long long)shipped, (bench_now_ms() - t0) / 1000);
    if (rc)
      bench_fail(b, "site %d: %s", k, eaudit_error_last()->message);
    eaudit_store_free(s);
    bench_remove(path);
    if (rc)
      return -1;
  }
  return 0;
}

/* Read back and check every January link of every site (what a purge
 * does before it removes them). */
static void walk_all(bench *b, PGconn *c, int64_t events) {
  PGresult *r = PQexec(c, "SELECT site_id FROM eaudit.sites");
  for (int i = 0; i < PQntuples(r); i++) {
    size_t n = 0;
    unsigned char *raw =
        PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 0), &n);
    if (n == 16) {
      eaudit__pg_walk w;
      memset(&w, 0, sizeof w);
      eaudit__chain_genesis(raw, w.from_hash);
      w.to_seq = events / SITES;
      if (eaudit__pg_walk_chain(c, raw, &w) || w.n != events / SITES)
        bench_fail(b, "walk: %s", eaudit_error_last()->message);
    }
    PQfreemem(raw);
  }
  PQclear(r);
}

/* One purge of a fresh copy; returns its ms, or < 0. */
static double one(bench *b, const char *tpl, int flags, int64_t events,
                  double *walk_ms, double *remove_ms) {
  static int seq;
  char db[96], sql[256], uri[1200];
  snprintf(db, sizeof db, "pgretain_bench_%ld_%d", (long)getpid(), seq++);
  snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE %s", db, tpl);
  if (admin(b, sql))
    return -1;
  uri_for(uri, sizeof uri, db);
  PGconn *c = NULL;
  double ms = -1;
  eaudit_time feb1 = INT64_C(1767225600000000) + 31 * BENCH_DAY_US;
  if (eaudit__pg_connect(uri, &c) == 0) {
    /* Settle the copy first: statistics, and no autovacuum racing the
     * timed part. */
    PQclear(PQexec(c, "VACUUM ANALYZE"));
    /* The same warm cache for both purges: one untimed read of the
     * month's chains; then, for the drop, a timed second one. */
    walk_all(b, c, events);
    if (walk_ms) {
      double t0 = bench_now_ms();
      walk_all(b, c, events);
      *walk_ms = bench_now_ms() - t0;
    }
    eaudit__pg_purge_stats st;
    double t0 = bench_now_ms();
    int rc = eaudit__pg_purge(c, feb1, 1, 0, flags, &st);
    ms = bench_now_ms() - t0;
    *remove_ms = (double)st.remove_us / 1000;
    int want_parts = flags & EAUDIT__PG_PURGE_NO_DROP ? 0 : 1;
    /* Every January event goes (each site's head is in February). */
    if (rc || st.events != events || st.partitions != want_parts) {
      bench_fail(b, "purge: rc %d, %lld events, %d partitions: %s", rc,
                 (long long)st.events, st.partitions,
                 rc ? eaudit_error_last()->message : "unexpected counts");
      ms = -1;
    }
    PQfinish(c);
  } else
    bench_fail(b, "connect: %s", eaudit_error_last()->message);
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
  admin(b, sql);
  return ms;
}

int main(int argc, char **argv) {
  bench b;
  int rc = bench_init(&b, argc, argv);
  if (rc)
    return rc;
  const char *base = getenv("EAUDIT_TEST_PG");
  if (base == NULL || *base == '\0') {
    bench_na(&b, SCEN, "no PostgreSQL server (set EAUDIT_TEST_PG)");
    return bench_finish(&b);
  }
  if (!bench_want(&b, SCEN))
    return bench_finish(&b);
  snprintf(g_base, sizeof g_base, "%s", base);
  int64_t events = b.quick ? 2000 : 200000;
  int reps = b.quick ? 1 : (b.reps < 3 ? 3 : b.reps);
  char tpl[96], sql[256], uri[1200], scale[24];
  snprintf(scale, sizeof scale, "%lldk", (long long)(events / 1000));
  snprintf(b.scale_name, sizeof b.scale_name, "%s", scale);
  snprintf(tpl, sizeof tpl, "pgretain_bench_%ld_tpl", (long)getpid());
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", tpl);
  if (admin(&b, sql))
    return bench_finish(&b);
  uri_for(uri, sizeof uri, tpl);
  double drop[16], batches[16], walk[16], rm_drop[16], rm_batches[16];
  if (eaudit_central_init(uri) == 0 && fill(&b, uri, events) == 0) {
    for (int i = 0; i < reps && i < 16; i++) {
      drop[i] = one(&b, tpl, 0, events, &walk[i], &rm_drop[i]);
      batches[i] = one(&b, tpl, EAUDIT__PG_PURGE_NO_DROP, events, NULL,
                       &rm_batches[i]);
      bench_progress(&b,
                     "rep %d: drop %.0f ms (removal %.0f ms), batches %.0f ms "
                     "(removal %.0f ms), walk %.0f ms",
                     i, drop[i], rm_drop[i], batches[i], rm_batches[i],
                     walk[i]);
      if (drop[i] < 0 || batches[i] < 0)
        break;
    }
    if (!b.failed) {
      double d = median(drop, reps), bt = median(batches, reps);
      double rd = median(rm_drop, reps), rb = median(rm_batches, reps);
      line(scale, "drop", drop, reps, bt);
      line(scale, "batches", batches, reps, -1);
      line(scale, "drop-removal", rm_drop, reps, rb);
      line(scale, "batches-removal", rm_batches, reps, -1);
      double w = line(scale, "walk", walk, reps, -1);
      printf("# pg_purge_month %s: dropping the month %.0f ms, deleting it "
             "in batches %.0f ms: %.1f times faster. Removal alone (the "
             "DETACH and DROP against the DELETEs, with their commits) "
             "%.0f ms against %.0f ms: %.1f times; both also read back and "
             "check every link (%.0f ms alone)\n",
             scale, d, bt, bt / d, rd, rb, rb / rd, w);
    }
  } else if (!b.failed)
    bench_fail(&b, "central store: %s", eaudit_error_last()->message);
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", tpl);
  admin(&b, sql);
  return bench_finish(&b);
}

#else

int main(int argc, char **argv) {
  return bench_main_na(argc, argv, SCEN, "built without PostgreSQL");
}

#endif
