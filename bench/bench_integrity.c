/* Integrity benchmark: verification of a large store against raw SQLite
 * reading the same rows, and a purge of the old events while another
 * thread keeps appending one durable event every ~2 ms (its longest stall
 * is the figure that matters; the same thread appending alone for 5 s
 * first gives the stalls the machine causes without a purge).
 *
 *   bench_integrity [--quick] [--events N] [--dir DIR] [--batch N]
 *                   [--keep-store]
 *
 * The default is 1,000,000 old events; --quick uses 20,000. --batch is the
 * purge's batch_size argument (default 0: the library's time-bounded
 * default). --keep-store keeps a copy of the filled store in DIR and
 * reuses it on the next run of the same size (the fill is the slow part
 * and measures nothing here). */
#include <eaudit.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const uint8_t SEED[32] = {42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
#define DAY INT64_C(86400000000)

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc) {
  fprintf(stderr, "%s: %d %s\n", what, rc, eaudit_error_last()->message);
  exit(1);
}

static eaudit_event *event_at(eaudit_time at, int64_t i) {
  eaudit_event *ev = NULL;
  int rc = eaudit_event_new(&ev);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_TYPE,
                          i % 5 ? EAUDIT_TYPE_DOOR_OPENED
                                : EAUDIT_TYPE_DOOR_OPEN_FAILED);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, at);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, 1000 + i % 997);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_DOOR, 1 + i % 40);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_CREDENTIAL, 1);
  if (rc == 0 && i % 5 == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_REASON, 2);
  if (rc)
    die("building an event", rc);
  return ev;
}

typedef struct appender {
  const char *path;
  atomic_int stop;
  eaudit_time at;
  long appends, over[3]; /* stalls above 20, 50, 100 ms */
  long long wal_max;      /* the largest WAL file seen after an append */
  double max_stall, max_at, total, t0;
  int rc;
} appender;

static void *append_loop(void *p) {
  appender *a = p;
  eaudit_store *s = NULL;
  char wal[1100];
  snprintf(wal, sizeof wal, "%s-wal", a->path);
  a->rc = eaudit_store_open(&s, a->path, NULL);
  if (a->rc == 0)
    a->rc = eaudit_store_set_signing_key(s, SEED, 32);
  if (a->rc == 0)
    a->rc = eaudit_store_set_checkpoint_policy(s, 1000, 0);
  for (int64_t i = 0; a->rc == 0 && !atomic_load(&a->stop); i++) {
    eaudit_event *ev = event_at(a->at + i, i);
    double t0 = now_s();
    a->rc = eaudit_store_append(s, ev);
    double dt = now_s() - t0;
    eaudit_event_free(ev);
    if (dt > a->max_stall) {
      a->max_stall = dt;
      a->max_at = t0 - a->t0;
    }
    a->over[0] += dt > 0.020;
    a->over[1] += dt > 0.050;
    a->over[2] += dt > 0.100;
    a->total += dt;
    a->appends++;
    struct stat st;
    if (stat(wal, &st) == 0 && (long long)st.st_size > a->wal_max)
      a->wal_max = (long long)st.st_size;
    usleep(2000); /* a busy door controller, not a flood */
  }
  if (a->rc)
    fprintf(stderr, "appender: %s\n", eaudit_error_last()->message);
  eaudit_store_free(s);
  return NULL;
}

/* Copy a file; 0 on success. */
static int copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
  int rc = in && out ? 0 : -1;
  char buf[1 << 16];
  size_t n;
  while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) != n)
      rc = -1;
  if (in && ferror(in))
    rc = -1;
  if (out && fclose(out) != 0)
    rc = -1;
  if (in)
    fclose(in);
  return rc;
}

/* The oldest occurred_at of a store (the fill's first event). */
static eaudit_time oldest_at(const char *path) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  eaudit_time t = 0;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT min(occurred_at) FROM events", -1, &st,
                         NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    t = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return t;
}

/* Raw SQLite reading the same rows and columns verification reads. */
static double raw_read(const char *path, long *rows) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "SELECT seq, id, occurred_at, recorded_at, type, "
                         "subject, actor, door, grp, device, site, "
                         "credential, reason, details, hash FROM events "
                         "ORDER BY seq",
                         -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "raw: %s\n", sqlite3_errmsg(db));
    exit(1);
  }
  double t0 = now_s();
  uint64_t sum = 0; /* wraps by design: it only keeps the reads alive */
  *rows = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    for (int c = 0; c < 15; c++)
      sum += c == 1 || c == 13 || c == 14
                 ? (uint64_t)sqlite3_column_bytes(st, c)
                 : (uint64_t)sqlite3_column_int64(st, c);
    (*rows)++;
  }
  double t = now_s() - t0;
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (sum == 42)
    printf(" ");
  return t;
}

static double verify(eaudit_store *s, const uint8_t pk[32], unsigned flags,
                     int64_t *events) {
  eaudit_verify_result *r = NULL;
  double t0 = now_s();
  int rc = eaudit_store_verify(s, 1, pk, NULL, 0, flags, &r);
  double t = now_s() - t0;
  if (rc)
    die(eaudit_verify_result_message(r), rc);
  *events = eaudit_verify_result_events(r);
  eaudit_verify_result_free(r);
  return t;
}

int main(int argc, char **argv) {
  long n = 1000000;
  long batch_size = 0;
  int keep = 0, alone_s = 5;
  const char *dir = "/tmp";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      n = 20000;
      alone_s = 1;
    }
    else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
      n = atol(argv[++i]);
    else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
      dir = argv[++i];
    else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
      batch_size = atol(argv[++i]);
    else if (strcmp(argv[i], "--keep-store") == 0)
      keep = 1;
    else {
      fprintf(stderr,
              "usage: %s [--quick] [--events N] [--dir DIR] [--batch N] "
              "[--keep-store]\n",
              argv[0]);
      return 2;
    }
  }
  char path[1024], b[1100];
  snprintf(path, sizeof path, "%s/bench-integrity-%ld.db", dir, (long)getpid());
  const char *sfx[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    snprintf(b, sizeof b, "%s%s", path, sfx[i]);
    unlink(b);
  }
  char tmpl[1100];
  snprintf(tmpl, sizeof tmpl, "%s/bench-integrity-%ld.template", dir, n);
  int reused = keep && copy_file(tmpl, path) == 0;
  if (keep && !reused)
    unlink(path);
  uint8_t pk[32];
  eaudit_signing_public_key(SEED, 32, pk);
  /* The fill does not need to survive a power cut: synchronous NORMAL.
   * Everything timed runs on a handle with the defaults (FULL). */
  eaudit_options *fill_opts = NULL;
  eaudit_store *s = NULL;
  int rc = eaudit_options_new(&fill_opts);
  if (rc == 0)
    rc = eaudit_options_set_int(fill_opts, EAUDIT_OPT_SYNCHRONOUS,
                                EAUDIT_SYNC_NORMAL);
  if (rc == 0)
    rc = eaudit_store_open(&s, path, reused ? NULL : fill_opts);
  eaudit_options_free(fill_opts);
  if (rc || (rc = eaudit_store_set_signing_key(s, SEED, 32)) ||
      (rc = eaudit_store_set_checkpoint_policy(s, 10000, 0)))
    die("open", rc);
  /* Old events, one per 50 ms over the past, then a day of recent ones. */
  eaudit_time nowt = eaudit_store_now(s);
  eaudit_time old0 = reused ? oldest_at(path) : nowt - 400 * DAY;
  eaudit_time limit = old0 + (eaudit_time)n * 50000 + 1;
  long recent = n / 100 > 1000 ? n / 100 : 1000;
  double t0 = now_s();
  if (reused) {
    printf("store: %ld old + %ld recent events copied from %s\n", n, recent,
           tmpl);
    goto filled;
  }
  eaudit_batch *batch = NULL;
  eaudit_batch_new(&batch);
  for (long i = 0; i < n + recent; i++) {
    eaudit_time at = i < n ? old0 + (eaudit_time)i * 50000
                           : nowt - DAY + (i - n) * 1000;
    eaudit_event *ev = event_at(at, i);
    eaudit_batch_add(batch, ev);
    eaudit_event_free(ev);
    if (eaudit_batch_size(batch) == 10000 || i == n + recent - 1) {
      if ((rc = eaudit_store_append_batch(s, batch, NULL)))
        die("append", rc);
      eaudit_batch_clear(batch);
    }
  }
  eaudit_batch_free(batch);
  double t_fill = now_s() - t0;
  printf("store: %ld old + %ld recent events appended in %.1f s (%.0f/s)\n",
         n, recent, t_fill, (double)(n + recent) / t_fill);
  /* Closing the last handle folds the WAL into the file. */
  eaudit_store_free(s);
  s = NULL;
  if (keep && copy_file(path, tmpl) != 0)
    fprintf(stderr, "could not keep the store as %s\n", tmpl);
  if ((rc = eaudit_store_open(&s, path, NULL)) ||
      (rc = eaudit_store_set_signing_key(s, SEED, 32)) ||
      (rc = eaudit_store_set_checkpoint_policy(s, 10000, 0)))
    die("reopen", rc);
filled:;

  int64_t ev_n = 0;
  long rows = 0;
  double t_raw = raw_read(path, &rows);
  verify(s, pk, EAUDIT_VERIFY_SKIP_DERIVED, &ev_n); /* warm the cache */
  double t_chain = verify(s, pk, EAUDIT_VERIFY_SKIP_DERIVED, &ev_n);
  double t_full = verify(s, pk, 0, &ev_n);
  t_raw = (t_raw + raw_read(path, &rows)) / 2;
  printf("verify %lld events: chain+signatures %.2f s, with derived data "
         "%.2f s; raw SQLite read of the same %ld rows %.2f s; ratio %.1fx "
         "(chain) %.1fx (full)\n",
         (long long)ev_n, t_chain, t_full, rows, t_raw, t_chain / t_raw,
         t_full / t_raw);

  /* The same appender alone for 5 s (1 s with --quick): the stalls the
   * disk and the machine's load cause without any purge, to compare
   * with. */
  appender base = {.path = path, .at = nowt, .t0 = now_s()};
  pthread_t th;
  pthread_create(&th, NULL, append_loop, &base);
  usleep((useconds_t)alone_s * 1000000);
  atomic_store(&base.stop, 1);
  pthread_join(th, NULL);
  if (base.rc)
    die("appender alone", base.rc);
  printf("appender alone for %d s: %ld appends, longest stall %.1f ms, mean "
         "%.2f ms; stalls over 20/50/100 ms: %ld/%ld/%ld\n",
         alone_s, base.appends, base.max_stall * 1e3,
         base.total / (double)base.appends * 1e3, base.over[0], base.over[1],
         base.over[2]);

  appender a = {.path = path, .at = nowt, .t0 = now_s() + 0.2};
  pthread_create(&th, NULL, append_loop, &a);
  usleep(200000);
  int64_t purged = 0;
  t0 = now_s();
  rc = eaudit_store_purge(s, limit, 7, (size_t)batch_size, &purged);
  double t_purge = now_s() - t0;
  usleep(200000);
  atomic_store(&a.stop, 1);
  pthread_join(th, NULL);
  if (rc)
    die("purge", rc);
  if (a.rc)
    die("appender", a.rc);
  printf("purge %lld events in %.1f s (%.0f/s) while appending: %ld appends, "
         "longest stall %.1f ms (%.1f s into the purge), mean %.2f ms; stalls over "
         "20/50/100 ms: %ld/%ld/%ld; largest WAL %.1f MiB\n",
         (long long)purged, t_purge, (double)purged / t_purge, a.appends,
         a.max_stall * 1e3, a.max_at, a.total / (double)a.appends * 1e3,
         a.over[0], a.over[1], a.over[2], (double)a.wal_max / 1048576.0);
  double t_after = verify(s, pk, 0, &ev_n);
  printf("verify after purge: %lld events in %.2f s: ok\n", (long long)ev_n,
         t_after);
  eaudit_store_free(s);
  for (int i = 0; i < 3; i++) {
    snprintf(b, sizeof b, "%s%s", path, sfx[i]);
    unlink(b);
  }
  return purged == n ? 0 : 1;
}
