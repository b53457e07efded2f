/* Device recognition: one observation of a known device with 10,000
 * known devices for the user, against raw SQLite doing the equivalent work
 * (BEGIN IMMEDIATE, an existence probe, a key lookup through an index, an
 * update of last-seen and the counter, COMMIT) with prepared statements.
 * Target: under 50 us (docs/performance.md).
 *
 * Scenarios (unit us per observation, each against the same raw work):
 *   device_observe_10k         known by install id (the goal's scenario)
 *   device_observe_10k_nokey   no key, known by its attributes
 *   device_mobile_login_10k    mobile login of a known device (no event)
 *   device_new_login           mobile login of a new device (event appended)
 *   device_observe_fleet_10k   worst case: no key, 10,000 devices of one
 *                              class (identical phones) to score
 *   device_observe_10k_newday  known by install id, each observation on a
 *                              later UTC day than the device's last one (a
 *                              device's first observation of the day moves
 *                              its recency index entries)
 * Both sides are files in --dir, in WAL mode. The library's store is at its
 * default durability, synchronous=FULL (it learns the devices at NORMAL
 * first, then is reopened): there an observation that records nothing
 * commits without an fsync and one that records (a new device) with one
 * (docs/devices.md, "Durability"). Raw commits at the same level as the
 * library in each scenario: NORMAL for the known devices, FULL for
 * device_new_login. device_observe_10k has a third side, raw_full: the
 * raw work with an fsync per commit, what every observation would cost if
 * it waited for the disk. --quick uses 300 devices instead of 10,000.
 * Flags: see bench.h. */
#include "bench.h"
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPS_PER_CALL 50

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

/* Observation times: a second apart, in the month before the bench's
 * "now". */
static eaudit_time fake_now = BENCH_NOW - 30 * BENCH_DAY_US;

enum { M_OBSERVE, M_OBSERVE_NOKEY, M_LOGIN, M_NEW, M_FLEET, M_NEWDAY };

typedef struct lib_side {
  bench *b;
  eaudit_store *s;
  eaudit_device_info *info;
  int n_dev;
  int mode;
  int64_t k; /* observations so far */
} lib_side;

static int64_t lib_observe(void *arg) {
  lib_side *l = arg;
  for (int j = 0; j < OPS_PER_CALL; j++, l->k++) {
    int64_t user = 1;
    int expect = EAUDIT_DEVICE_KNOWN, rc;
    eaudit_device_result *r = NULL;
    fake_now += l->mode == M_NEWDAY ? BENCH_DAY_US : 1000000;
    switch (l->mode) {
    case M_NEWDAY:
    case M_OBSERVE:
    case M_OBSERVE_NOKEY:
    case M_LOGIN:
      fill(l->info, (int)((l->k * 7919) % l->n_dev),
           l->mode != M_OBSERVE_NOKEY);
      break;
    case M_NEW: {
      /* A fresh install on a model the user never had. */
      char key[32], model[32];
      fill(l->info, (int)(l->k % l->n_dev), 0);
      snprintf(key, sizeof key, "fresh-%lld", (long long)l->k);
      snprintf(model, sizeof model, "Emulator %lld", (long long)l->k);
      eaudit_device_info_set_str(l->info, EAUDIT_DEVATTR_KEY, key);
      eaudit_device_info_set_str(l->info, EAUDIT_DEVATTR_MODEL, model);
      expect = EAUDIT_DEVICE_NEW;
      break;
    }
    case M_FLEET:
      eaudit_device_info_clear(l->info);
      eaudit_device_info_set_str(l->info, EAUDIT_DEVATTR_PLATFORM, "Android");
      eaudit_device_info_set_str(l->info, EAUDIT_DEVATTR_OS_FAMILY, "Android");
      eaudit_device_info_set_str(l->info, EAUDIT_DEVATTR_OS_VERSION, "14");
      eaudit_device_info_set_str(l->info, EAUDIT_DEVATTR_BROWSER_FAMILY,
                                 "Entryfy");
      eaudit_device_info_set_str(l->info, EAUDIT_DEVATTR_MODEL, "SM-A546B");
      eaudit_device_info_set_str(l->info, EAUDIT_DEVATTR_SCREEN, "1440x3088");
      eaudit_device_info_set_str(l->info, EAUDIT_DEVATTR_TIME_ZONE,
                                 "Europe/Berlin");
      user = 2;
      expect = 0; /* whatever the scoring decides */
      break;
    }
    if (l->mode == M_LOGIN || l->mode == M_NEW)
      rc = eaudit_store_mobile_login(l->s, l->info, user, fake_now, &r);
    else
      rc = eaudit_store_observe_device(l->s, l->info, user,
                                       EAUDIT_DEVICE_MOBILE, fake_now, &r);
    if (rc) {
      bench_fail(l->b, "observe: %s", eaudit_error_last()->message);
      return -1;
    }
    int got = eaudit_device_result_decision(r);
    eaudit_device_result_free(r);
    if (expect && got != expect) {
      bench_fail(l->b, "observation %lld: decision %d, expected %d",
                 (long long)l->k, got, expect);
      return -1;
    }
  }
  return OPS_PER_CALL;
}

/* Learn n devices for user 1 through the library, each new. */
static int populate(bench *b, lib_side *l) {
  for (int i = 0; i < l->n_dev; i++) {
    fill(l->info, i, 1);
    eaudit_device_result *r = NULL;
    fake_now += 1000000;
    if (eaudit_store_observe_device(l->s, l->info, 1, EAUDIT_DEVICE_MOBILE,
                                    fake_now, &r)) {
      bench_fail(b, "populate: %s", eaudit_error_last()->message);
      return -1;
    }
    int d = eaudit_device_result_decision(r);
    eaudit_device_result_free(r);
    if (d != EAUDIT_DEVICE_NEW) {
      bench_fail(b, "device %d was not new (decision %d)", i, d);
      return -1;
    }
  }
  return 0;
}

/* User 2's fleet: n devices of one class (same OS, platform and model),
 * written directly since observing them would merge them. */
static int populate_fleet(bench *b, eaudit_store *s, int n) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(
        s->db,
        "INSERT INTO devices(user_id, kind, dkey, platform, os_family, "
        "os_version, browser_family, browser_version, model, screen, "
        "time_zone, language, ip, os_key, cls, first_seen, last_seen, "
        "times_seen, seen_day) VALUES (2, 2, ?1, 'Android', 'Android', '14', "
        "'Entryfy', '3.4.0', 'SM-A546B', '1080x2340', ?2, 'de-DE', ?3, "
        "'android', 'android\x1f' || 'android' || '\x1f' || 'sm-a546b', ?4, "
        "?4, 1, ?4 / 86400000000)",
        -1, &st, NULL);
  for (int i = 0; rc == SQLITE_OK && i < n; i++) {
    char key[32], ip[32];
    snprintf(key, sizeof key, "fleet-%d", i);
    snprintf(ip, sizeof ip, "10.%d.%d.1", i / 256, i % 256);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, i % 2 ? "Asia/Tokyo" : "America/Lima", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ip, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, fake_now - i);
    rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_OK)
    bench_fail(b, "fleet: %s", sqlite3_errmsg(s->db));
  sqlite3_exec(s->db, rc == SQLITE_OK ? "COMMIT" : "ROLLBACK", NULL, NULL,
               NULL);
  return rc == SQLITE_OK ? 0 : -1;
}

/* Raw SQLite: the same devices table and key index; per observation a
 * write transaction, an existence probe, a key lookup reading the row, an
 * update of last-seen and the counter, and a commit. */
typedef struct raw_side {
  bench *b;
  sqlite3 *db;
  sqlite3_stmt *any, *get, *upd;
  int n_dev;
  int64_t k;
  int full, full_now; /* synchronous wanted, and as set */
} raw_side;

static int raw_sync(raw_side *r) {
  if (r->full == r->full_now)
    return 0;
  r->full_now = r->full;
  return sqlite3_exec(r->db,
                      r->full ? "PRAGMA synchronous=FULL"
                              : "PRAGMA synchronous=NORMAL",
                      NULL, NULL, NULL) == SQLITE_OK
             ? 0
             : -1;
}

static void install_key(int i, char *key, size_t size) {
  snprintf(key, size, "install-%08x-%04d", 0x9e3779b9u * (unsigned)i,
           i % 10000);
}

static int raw_open(bench *b, raw_side *r, const char *path) {
  sqlite3_stmt *ins = NULL;
  bench_remove(path);
  if (sqlite3_open(path, &r->db) != SQLITE_OK ||
      sqlite3_exec(r->db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                   "CREATE TABLE devices(id INTEGER PRIMARY KEY "
                   "AUTOINCREMENT, user_id INTEGER NOT NULL, kind INTEGER "
                   "NOT NULL, dkey TEXT, platform TEXT, os_family TEXT, "
                   "os_version TEXT, browser_family TEXT, browser_version "
                   "TEXT, model TEXT, screen TEXT, time_zone TEXT, "
                   "language TEXT, ip TEXT, last_seen INTEGER, times_seen "
                   "INTEGER);"
                   "CREATE INDEX devices_key ON devices(user_id, kind, dkey);",
                   NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(r->db,
                         "INSERT INTO devices(user_id, kind, dkey, "
                         "platform, os_family, os_version, browser_family, "
                         "browser_version, model, screen, time_zone, "
                         "language, ip, last_seen, times_seen) VALUES (1, "
                         "2, ?1, 'Android', 'Android', '14', 'Entryfy', "
                         "'3.4.0', 'Pixel 8', '1080x2400', "
                         "'Europe/Berlin', 'de-DE', '100.64.0.1', 0, 1)",
                         -1, &ins, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(r->db,
                         "SELECT 1 FROM devices WHERE user_id = 1 AND "
                         "kind = 2 LIMIT 1",
                         -1, &r->any, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(r->db,
                         "SELECT id, dkey, platform, os_family, "
                         "os_version, browser_family, browser_version, "
                         "model, screen, time_zone, language, ip, "
                         "last_seen FROM devices WHERE user_id = 1 AND "
                         "kind = 2 AND dkey = ?1",
                         -1, &r->get, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(r->db,
                         "UPDATE devices SET ip = ?2, last_seen = "
                         "max(last_seen, ?3), times_seen = times_seen + 1 "
                         "WHERE id = ?1",
                         -1, &r->upd, NULL) != SQLITE_OK) {
    bench_fail(b, "raw open: %s", sqlite3_errmsg(r->db));
    sqlite3_finalize(ins);
    return -1;
  }
  char key[64];
  int rc = sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);
  for (int i = 0; rc == SQLITE_OK && i < r->n_dev; i++) {
    install_key(i, key, sizeof key);
    sqlite3_bind_text(ins, 1, key, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(ins) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK) {
    bench_fail(b, "raw populate: %s", sqlite3_errmsg(r->db));
    return -1;
  }
  return 0;
}

static int64_t raw_observe(void *arg) {
  raw_side *r = arg;
  char key[64];
  if (raw_sync(r))
    return -1;
  for (int j = 0; j < OPS_PER_CALL; j++, r->k++) {
    install_key((int)((r->k * 7919) % r->n_dev), key, sizeof key);
    if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
      return -1;
    sqlite3_step(r->any);
    sqlite3_reset(r->any);
    sqlite3_bind_text(r->get, 1, key, -1, SQLITE_STATIC);
    int64_t id = 0;
    if (sqlite3_step(r->get) == SQLITE_ROW)
      id = sqlite3_column_int64(r->get, 0);
    sqlite3_reset(r->get);
    if (id == 0)
      return -1; /* every key is known */
    sqlite3_bind_int64(r->upd, 1, id);
    sqlite3_bind_text(r->upd, 2, "100.64.0.2", -1, SQLITE_STATIC);
    sqlite3_bind_int64(r->upd, 3, r->k);
    int rc = sqlite3_step(r->upd);
    sqlite3_reset(r->upd);
    if (rc != SQLITE_DONE ||
        sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
      return -1;
  }
  return OPS_PER_CALL;
}

/* The same work with an fsync per commit. */
static int64_t raw_observe_full(void *arg) {
  raw_side *r = arg;
  r->full = 1;
  int64_t n = raw_observe(r);
  r->full = 0;
  return n;
}

static void raw_close(raw_side *r) {
  sqlite3_finalize(r->any);
  sqlite3_finalize(r->get);
  sqlite3_finalize(r->upd);
  sqlite3_close(r->db);
}

int main(int argc, char **argv) {
  bench b;
  int rc = bench_init(&b, argc, argv);
  if (rc)
    return rc;
  int n_dev = b.quick ? 300 : 10000;
  char lib_path[600], raw_path[600];
  snprintf(lib_path, sizeof lib_path, "%s/devices-lib.db", b.dir);
  snprintf(raw_path, sizeof raw_path, "%s/devices-raw.db", b.dir);
  bench_remove(lib_path);
  lib_side l = {&b, NULL, NULL, n_dev, M_OBSERVE, 0};
  raw_side r = {&b, NULL, NULL, NULL, NULL, n_dev, 0, 0, 0};
  if (bench_lib_open(lib_path, EAUDIT_SYNC_NORMAL, &l.s) ||
      eaudit_device_info_new(&l.info)) {
    bench_fail(&b, "open: %s", eaudit_error_last()->message);
    return bench_finish(&b);
  }
  bench_progress(&b, "learning %d devices", n_dev);
  double t0 = bench_now_ms();
  int ok = populate(&b, &l) == 0;
  double learn_us = (bench_now_ms() - t0) * 1e3 / n_dev;
  /* Measure at the default durability. */
  eaudit_store_free(l.s);
  l.s = NULL;
  if (ok && bench_lib_open(lib_path, EAUDIT_SYNC_FULL, &l.s)) {
    bench_fail(&b, "reopen: %s", eaudit_error_last()->message);
    ok = 0;
  }
  if (ok && raw_open(&b, &r, raw_path) == 0) {
    printf("# devices: %d known devices for user 1, learned at %.1f us per "
           "new-device observation (synchronous=NORMAL); measured at "
           "synchronous=FULL\n",
           n_dev, learn_us);
    static const struct {
      const char *name;
      int mode;
    } sc[] = {{"device_observe_10k", M_OBSERVE},
              {"device_observe_10k_nokey", M_OBSERVE_NOKEY},
              {"device_mobile_login_10k", M_LOGIN},
              {"device_new_login", M_NEW},
              {"device_observe_fleet_10k", M_FLEET},
              {"device_observe_10k_newday", M_NEWDAY}};
    for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
      if (!bench_want(&b, sc[i].name))
        continue;
      if (sc[i].mode == M_FLEET && populate_fleet(&b, l.s, n_dev) != 0)
        break;
      l.mode = sc[i].mode;
      r.full = sc[i].mode == M_NEW; /* the library's commit fsyncs there */
      if (sc[i].mode == M_OBSERVE) {
        static const char *const sides[] = {"lib", "raw", "raw_full"};
        const bench_fn fns[] = {lib_observe, raw_observe, raw_observe_full};
        void *const args[] = {&l, &r, &r};
        bench_multi(&b, sc[i].name, "us", 3, sides, fns, args);
      } else {
        bench_ab(&b, sc[i].name, "us", lib_observe, &l, raw_observe, &r);
      }
    }
  }
  raw_close(&r);
  eaudit_device_info_free(l.info);
  eaudit_store_free(l.s);
  bench_remove(lib_path);
  bench_remove(raw_path);
  return bench_finish(&b);
}
