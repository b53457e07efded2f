/* One device observation with 10,000 known devices for the user, against
 * raw SQLite doing the equivalent work (BEGIN IMMEDIATE, look the device
 * up through an index, update last-seen and the counter, COMMIT) with
 * prepared statements, in the same run. Target: under 50 us.
 *
 *   bench_devices [n_devices] [iterations] [path]
 *
 * path defaults to ":memory:"; a file is opened in WAL mode with
 * synchronous=NORMAL on both sides (FULL adds an fsync per commit, which
 * measures the disk, not the library). */
#include <eaudit.h>

#include "store_internal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct stats {
  double mean, p50, p99;
} stats;

static stats summarise(double *t, int n) {
  stats s = {0, 0, 0};
  for (int i = 0; i < n; i++)
    s.mean += t[i];
  s.mean /= n;
  qsort(t, (size_t)n, sizeof *t, cmp_d);
  s.p50 = t[n / 2];
  s.p99 = t[(int)(n * 0.99)];
  return s;
}

static void die(const char *what, int rc) {
  fprintf(stderr, "%s: %d %s\n", what, rc, eaudit_error_last()->message);
  exit(1);
}

/* Device i of the user: 40 models over two OS families, each with a
 * hardware revision so that every device is distinct hardware (devices
 * that differ only in install id are one device reset, which is what the
 * decision table says), realistic attributes, a unique install id. */
static void fill(eaudit_device_info *info, int i, int with_key) {
  static const char *const ios_models[] = {
      "iPhone12,1", "iPhone12,8", "iPhone13,2", "iPhone14,2", "iPhone14,5",
      "iPhone14,7", "iPhone15,2", "iPhone15,3", "iPhone15,4", "iPhone16,1",
      "iPhone16,2", "iPad13,4", "iPad13,16", "iPad14,1", "iPhone13,1",
      "iPhone13,3", "iPhone13,4", "iPhone14,3", "iPhone14,4", "iPhone14,6"};
  static const char *const android_models[] = {
      "Pixel 8",  "Pixel 8 Pro", "Pixel 7",  "Pixel 7a", "Pixel 6",
      "SM-S911B", "SM-S918B",    "SM-A546B", "SM-G991B", "SM-A135F",
      "CPH2451",  "2201116SG",   "M2101K6G", "RMX3363",  "XQ-DQ54",
      "moto g54", "Nokia G42",   "V2303",    "A063",     "NE2213"};
  char key[64], ip[32];
  int android = i % 2;
  int m = (i / 2) % 20;
  snprintf(key, sizeof key, "install-%08x-%04d", 0x9e3779b9u * (unsigned)i,
           i % 10000);
  snprintf(ip, sizeof ip, "100.%d.%d.%d", 64 + i % 64, (i / 64) % 256,
           1 + i % 250);
  eaudit_device_info_clear(info);
  if (with_key)
    eaudit_device_info_set_str(info, EAUDIT_DEVATTR_KEY, key);
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_PLATFORM,
                             android ? "Android" : "iPhone");
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_OS_FAMILY,
                             android ? "Android" : "iOS");
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_OS_VERSION,
                             android ? "14" : "17.2.1");
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_BROWSER_FAMILY, "Entryfy");
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_BROWSER_VERSION, "3.4.0");
  char model[64];
  snprintf(model, sizeof model, "%s rev %d",
           android ? android_models[m] : ios_models[m], i / 40);
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_MODEL, model);
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_SCREEN,
                             i % 3 ? "1179x2556" : "1080x2400");
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_TIME_ZONE, "Europe/Berlin");
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_LANGUAGE,
                             i % 5 ? "de-DE" : "en-GB");
  eaudit_device_info_set_str(info, EAUDIT_DEVATTR_IP, ip);
}

static eaudit_time fake_now = 1767225600000000; /* 2026-01-01 */
static eaudit_time clock_fn(void *p) {
  (void)p;
  return fake_now;
}

typedef int (*observe_fn)(eaudit_store *, const eaudit_device_info *, int64_t,
                          eaudit_time, eaudit_device_result **);
static int observe_mobile(eaudit_store *s, const eaudit_device_info *i,
                          int64_t u, eaudit_time at,
                          eaudit_device_result **out) {
  return eaudit_store_observe_device(s, i, u, EAUDIT_DEVICE_MOBILE, at, out);
}

static stats run_lib(eaudit_store *s, eaudit_device_info *info, int n_dev,
                     int iters, int with_key, observe_fn fn, int expect,
                     double *t) {
  for (int k = 0; k < iters; k++) {
    fill(info, (k * 7919) % n_dev, with_key);
    fake_now += 1000000;
    eaudit_device_result *r = NULL;
    double t0 = now_us();
    int rc = fn(s, info, 1, fake_now, &r);
    t[k] = now_us() - t0;
    if (rc)
      die("observe", rc);
    if (expect && eaudit_device_result_decision(r) != expect) {
      fprintf(stderr, "unexpected decision %d reason %d\n",
              eaudit_device_result_decision(r),
              eaudit_device_result_reason(r));
      exit(1);
    }
    eaudit_device_result_free(r);
  }
  return summarise(t, iters);
}

static void sql_ok(sqlite3 *db, int rc, const char *what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
  }
}

/* Raw SQLite: the same devices table and key index; per observation a
 * write transaction, an existence probe, a key lookup reading the row, an
 * update of last-seen and the counter, and a commit. */
static stats run_raw(const char *path, int n_dev, int iters, double *t) {
  sqlite3 *db;
  char file[512];
  int mem = strcmp(path, ":memory:") == 0;
  snprintf(file, sizeof file, "%s%s", path, mem ? "" : ".raw");
  if (!mem)
    unlink(file);
  sql_ok(NULL, sqlite3_open(file, &db), "open");
  sql_ok(db,
         sqlite3_exec(db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                      "CREATE TABLE devices(id INTEGER PRIMARY KEY "
                      "AUTOINCREMENT, user_id INTEGER NOT NULL, kind INTEGER "
                      "NOT NULL, dkey TEXT, platform TEXT, os_family TEXT, "
                      "os_version TEXT, browser_family TEXT, browser_version "
                      "TEXT, model TEXT, screen TEXT, time_zone TEXT, "
                      "language TEXT, ip TEXT, last_seen INTEGER, times_seen "
                      "INTEGER);"
                      "CREATE INDEX devices_key ON devices(user_id, kind, "
                      "dkey);",
                      NULL, NULL, NULL),
         "schema");
  sqlite3_stmt *ins, *any, *get, *upd;
  sql_ok(db,
         sqlite3_prepare_v2(db,
                            "INSERT INTO devices(user_id, kind, dkey, "
                            "platform, os_family, os_version, browser_family, "
                            "browser_version, model, screen, time_zone, "
                            "language, ip, last_seen, times_seen) VALUES (1, "
                            "2, ?1, 'Android', 'Android', '14', 'Entryfy', "
                            "'3.4.0', 'Pixel 8', '1080x2400', "
                            "'Europe/Berlin', 'de-DE', '100.64.0.1', 0, 1)",
                            -1, &ins, NULL),
         "prepare");
  sql_ok(db,
         sqlite3_prepare_v2(db,
                            "SELECT 1 FROM devices WHERE user_id = 1 AND "
                            "kind = 2 LIMIT 1",
                            -1, &any, NULL),
         "prepare");
  sql_ok(db,
         sqlite3_prepare_v2(db,
                            "SELECT id, dkey, platform, os_family, "
                            "os_version, browser_family, browser_version, "
                            "model, screen, time_zone, language, ip, "
                            "last_seen FROM devices WHERE user_id = 1 AND "
                            "kind = 2 AND dkey = ?1",
                            -1, &get, NULL),
         "prepare");
  sql_ok(db,
         sqlite3_prepare_v2(db,
                            "UPDATE devices SET ip = ?2, last_seen = "
                            "max(last_seen, ?3), times_seen = times_seen + 1 "
                            "WHERE id = ?1",
                            -1, &upd, NULL),
         "prepare");
  char key[64];
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  for (int i = 0; i < n_dev; i++) {
    snprintf(key, sizeof key, "install-%08x-%04d", 0x9e3779b9u * (unsigned)i,
             i % 10000);
    sqlite3_bind_text(ins, 1, key, -1, SQLITE_TRANSIENT);
    sql_ok(db, sqlite3_step(ins), "insert");
    sqlite3_reset(ins);
  }
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  for (int k = 0; k < iters; k++) {
    int i = (k * 7919) % n_dev;
    snprintf(key, sizeof key, "install-%08x-%04d", 0x9e3779b9u * (unsigned)i,
             i % 10000);
    double t0 = now_us();
    sql_ok(db, sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "begin");
    sql_ok(db, sqlite3_step(any), "any");
    sqlite3_reset(any);
    sqlite3_bind_text(get, 1, key, -1, SQLITE_STATIC);
    int64_t id = 0;
    if (sqlite3_step(get) == SQLITE_ROW)
      id = sqlite3_column_int64(get, 0);
    sqlite3_reset(get);
    sqlite3_bind_int64(upd, 1, id);
    sqlite3_bind_text(upd, 2, "100.64.0.2", -1, SQLITE_STATIC);
    sqlite3_bind_int64(upd, 3, k);
    sql_ok(db, sqlite3_step(upd), "update");
    sqlite3_reset(upd);
    sql_ok(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    t[k] = now_us() - t0;
  }
  sqlite3_finalize(ins);
  sqlite3_finalize(any);
  sqlite3_finalize(get);
  sqlite3_finalize(upd);
  sqlite3_close(db);
  if (!mem)
    unlink(file);
  return summarise(t, iters);
}

static void report(const char *what, stats s, stats raw) {
  printf("%-44s mean %7.2f us  p50 %7.2f  p99 %7.2f  (raw SQLite mean "
         "%6.2f us, ratio %.2fx)\n",
         what, s.mean, s.p50, s.p99, raw.mean, s.mean / raw.mean);
}

int main(int argc, char **argv) {
  int n_dev = argc > 1 ? atoi(argv[1]) : 10000;
  int iters = argc > 2 ? atoi(argv[2]) : 20000;
  const char *path = argc > 3 ? argv[3] : ":memory:";
  if (n_dev < 1 || iters < 100) {
    fprintf(stderr, "usage: bench_devices [n_devices] [iterations] [path]\n");
    return 2;
  }
  double *t = malloc(sizeof *t * (size_t)iters);
  eaudit_options *o;
  eaudit_options_new(&o);
  eaudit_options_set_clock(o, clock_fn, NULL);
  eaudit_options_set_int(o, EAUDIT_OPT_SYNCHRONOUS, EAUDIT_SYNC_NORMAL);
  if (strcmp(path, ":memory:") != 0) {
    unlink(path);
  }
  eaudit_store *s;
  int rc = eaudit_store_open(&s, path, o);
  if (rc)
    die("open", rc);
  eaudit_device_info *info;
  eaudit_device_info_new(&info);
  double t0 = now_us();
  for (int i = 0; i < n_dev; i++) {
    fill(info, i, 1);
    eaudit_device_result *r;
    fake_now += 1000000;
    if ((rc = observe_mobile(s, info, 1, fake_now, &r)))
      die("populate", rc);
    if (eaudit_device_result_decision(r) != EAUDIT_DEVICE_NEW) {
      fprintf(stderr, "device %d was not new\n", i);
      return 1;
    }
    eaudit_device_result_free(r);
  }
  double pop = (now_us() - t0) / n_dev;
  printf("store %s, %d known devices for user 1 (populated at %.2f us per "
         "new-device observation), %d iterations\n",
         path, n_dev, pop, iters);
  stats raw = run_raw(path, n_dev, iters, t);
  printf("%-44s mean %7.2f us  p50 %7.2f  p99 %7.2f\n",
         "raw SQLite: txn + key lookup + update", raw.mean, raw.p50, raw.p99);
  report("observe, known by install id",
         run_lib(s, info, n_dev, iters, 1, observe_mobile, EAUDIT_DEVICE_KNOWN,
                 t),
         raw);
  report("observe, no key, known by attributes",
         run_lib(s, info, n_dev, iters, 0, observe_mobile, EAUDIT_DEVICE_KNOWN,
                 t),
         raw);
  report("mobile login, known (no event)",
         run_lib(s, info, n_dev, iters, 1, eaudit_store_mobile_login,
                 EAUDIT_DEVICE_KNOWN, t),
         raw);
  /* New devices: a fresh install on a model the user never had. */
  for (int k = 0; k < iters / 10; k++) {
    fill(info, k, 0);
    char key[32], model[32];
    snprintf(key, sizeof key, "fresh-%d", k);
    snprintf(model, sizeof model, "Emulator %d", k);
    eaudit_device_info_set_str(info, EAUDIT_DEVATTR_KEY, key);
    eaudit_device_info_set_str(info, EAUDIT_DEVATTR_MODEL, model);
    fake_now += 1000000;
    eaudit_device_result *r;
    double t1 = now_us();
    if ((rc = eaudit_store_mobile_login(s, info, 1, fake_now, &r)))
      die("new", rc);
    t[k] = now_us() - t1;
    eaudit_device_result_free(r);
  }
  report("mobile login, new device (event appended)",
         summarise(t, iters / 10), raw);
  /* Worst case: user 2 has n_dev devices in one class (same OS, platform
   * and model, as a fleet of identical phones would be, written directly
   * since observing them would merge them), and an observation without a
   * key scores the CANDIDATES most recently seen of them. */
  {
    sqlite3_stmt *st;
    sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
    sqlite3_prepare_v2(
        s->db,
        "INSERT INTO devices(user_id, kind, dkey, platform, os_family, "
        "os_version, browser_family, browser_version, model, screen, "
        "time_zone, language, ip, os_key, cls, first_seen, last_seen, "
        "times_seen) VALUES (2, 2, ?1, 'Android', 'Android', '14', "
        "'Entryfy', '3.4.0', 'SM-A546B', '1080x2340', ?2, 'de-DE', ?3, "
        "'android', 'android\x1f' || 'android' || '\x1f' || 'sm-a546b', ?4, "
        "?4, 1)",
        -1, &st, NULL);
    for (int i = 0; i < n_dev; i++) {
      char key[32], ip[32];
      snprintf(key, sizeof key, "fleet-%d", i);
      snprintf(ip, sizeof ip, "10.%d.%d.1", i / 256, i % 256);
      sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 2, i % 2 ? "Asia/Tokyo" : "America/Lima", -1,
                        SQLITE_STATIC);
      sqlite3_bind_text(st, 3, ip, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st, 4, fake_now - i);
      sqlite3_step(st);
      sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    for (int k = 0; k < iters / 10; k++) {
      eaudit_device_info_clear(info);
      eaudit_device_info_set_str(info, EAUDIT_DEVATTR_PLATFORM, "Android");
      eaudit_device_info_set_str(info, EAUDIT_DEVATTR_OS_FAMILY, "Android");
      eaudit_device_info_set_str(info, EAUDIT_DEVATTR_OS_VERSION, "14");
      eaudit_device_info_set_str(info, EAUDIT_DEVATTR_BROWSER_FAMILY,
                                 "Entryfy");
      eaudit_device_info_set_str(info, EAUDIT_DEVATTR_MODEL, "SM-A546B");
      eaudit_device_info_set_str(info, EAUDIT_DEVATTR_SCREEN, "1440x3088");
      eaudit_device_info_set_str(info, EAUDIT_DEVATTR_TIME_ZONE,
                                 "Europe/Berlin");
      fake_now += 1000000;
      eaudit_device_result *r;
      double t1 = now_us();
      if ((rc = observe_mobile(s, info, 2, fake_now, &r)))
        die("fleet", rc);
      t[k] = now_us() - t1;
      eaudit_device_result_free(r);
    }
    report("observe, no key, 10,000 devices in one class",
           summarise(t, iters / 10), raw);
  }
  eaudit_device_info_free(info);
  eaudit_store_free(s);
  eaudit_options_free(o);
  if (strcmp(path, ":memory:") != 0) {
    char b[600];
    unlink(path);
    snprintf(b, sizeof b, "%s-wal", path);
    unlink(b);
    snprintf(b, sizeof b, "%s-shm", path);
    unlink(b);
    snprintf(b, sizeof b, "%s.raw-wal", path);
    unlink(b);
    snprintf(b, sizeof b, "%s.raw-shm", path);
    unlink(b);
  }
  free(t);
  return 0;
}
