/* The rules engine's cost on the append path: append throughput with every
 * built-in rule on versus every rule off, and raw SQLite inserting the same
 * rows into a table shaped like the store's events table, with its indexes.
 *
 * One scenario, three sides interleaved (events/s):
 *   rules_on_vs_off  lib         the library, built-ins on (with areas, so
 *                                door events move people too)
 *                    raw         the library, {"builtins": false}
 *                    raw_sqlite  plain sqlite3, one prepared insert
 * The ratio on the lib line is on/off (goal >= 0.9: at most 10% overhead);
 * lib against raw_sqlite is read off the table. Each repetition appends
 * the same fixed number of batches of 500 events on every side (10, or 1
 * with --quick; synchronous=NORMAL on every side, so the disk's flush
 * speed does not drown the CPU cost being measured) to a store that keeps
 * growing through the run: repetition i of every side appends the same
 * rows, so every side does the same work.
 *
 * rules_on_vs_off_cpu gives the same appends per second of process CPU
 * time, totalled over every call (warm-up included; the same rows on
 * every side): on a loaded machine the wall clock also counts the time
 * other processes held the CPU.
 *
 * Then each store is closed and reopened and the first batch of the new
 * handle is timed once (rules_first_batch_after_reopen, ms): with the
 * built-ins on it includes loading the rules' per-key windows from the
 * stored events (docs/rules.md, Evaluation), a cost paid once per handle
 * (and again after another process's commit) that the steady-state
 * figure leaves out.
 *
 * The stream is the mix of tests/test_rules.c rather than the shared data
 * set, because it is what makes the rules work: mostly door events, with
 * failure bursts, unrecognized logins, group changes, expiries and 1%
 * events up to 30 h out of order; 500 users, 40 doors. Event i is a pure
 * function of i, so every side appends the same rows. The admin login-hour
 * histogram comes from a fixed function instead of learned devices.
 * BENCH_RULES='<json>' replaces the "on" rule set. Flags: see bench.h. */
#include "bench.h"
#include "rules_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 500
/* Batches per timed repetition (1 with --quick). */
#define REP_BATCHES 10
/* A year before the bench's now; event i is ~15 s after event i-1. */
#define STREAM_T0 (BENCH_NOW - 365 * BENCH_DAY_US)

typedef struct row {
  int64_t at, subject, door, grp, reason;
  int type;
} row;

static uint64_t mix64(uint64_t x) {
  x += UINT64_C(0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

static void make_row(int64_t i, row *r) {
  uint64_t h = mix64((uint64_t)i), g = mix64(h);
  r->at = STREAM_T0 + i * 15000000 + (int64_t)(h % 30) * 1000000;
  if (g % 100 == 0) /* late */
    r->at -= (int64_t)((g >> 8) % (30 * 3600)) * 1000000;
  int p = (int)((h >> 8) % 100);
  r->type = p < 62   ? EAUDIT_TYPE_DOOR_OPENED
            : p < 75 ? EAUDIT_TYPE_DOOR_OPEN_FAILED
            : p < 78 ? EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE
            : p < 81 ? EAUDIT_TYPE_KEYCARD_ADD_FAILED
            : p < 85 ? EAUDIT_TYPE_USER_UPDATED
            : p < 89 ? EAUDIT_TYPE_GROUP_ADDED
            : p < 93 ? EAUDIT_TYPE_GROUP_REMOVED
            : p < 95 ? EAUDIT_TYPE_PERMISSIONS_EXPIRED
            : p < 97 ? EAUDIT_TYPE_PERMISSIONS_PROLONGED
            : p < 99 ? EAUDIT_TYPE_ADMIN_AREA_LOGIN
                     : EAUDIT_TYPE_KEYCARD_ADDED;
  r->subject = 1 + (int64_t)((h >> 16) % 500);
  r->door = r->grp = -1;
  if (r->type == EAUDIT_TYPE_DOOR_OPENED ||
      r->type == EAUDIT_TYPE_DOOR_OPEN_FAILED)
    r->door = 1 + (int64_t)((h >> 32) % 40);
  r->reason = r->type == EAUDIT_TYPE_DOOR_OPEN_FAILED
                  ? 1 + (int64_t)((g >> 16) % 5)
                  : 0;
  if (r->type == EAUDIT_TYPE_GROUP_ADDED ||
      r->type == EAUDIT_TYPE_GROUP_REMOVED)
    r->grp = 1 + (int64_t)((h >> 40) % 10);
}

static int hours(eaudit_store *s, int64_t user, int64_t counts[24],
                 void *payload) {
  (void)s;
  (void)payload;
  for (int h = 0; h < 24; h++)
    counts[h] = h >= 7 && h < 19 ? 3 + user % 4 : 0;
  return 0;
}

static const char rules_off[] = "{\"builtins\": false}";
/* Every built-in, with areas so that door events move people too. */
static const char rules_on[] =
    "{\"rules\": [{\"id\": \"expired_while_inside\", \"areas\": ["
    "{\"id\": 1, \"entry_doors\": [1, 2, 3], \"exit_doors\": [4, 5]},"
    "{\"id\": 2, \"entry_doors\": [6], \"exit_doors\": [7, 8]}]}]}";

typedef struct lib_side {
  bench *b;
  eaudit_store *s;
  eaudit_batch *batch;
  eaudit_event *ev;
  int64_t next;
  int batches; /* per call of lib_append */
  double cpu_ms; /* process CPU time spent in lib_append */
  int64_t cpu_events;
} lib_side;

static int lib_open(bench *b, lib_side *l, const char *path,
                    const char *rules) {
  memset(l, 0, sizeof *l);
  l->b = b;
  bench_remove(path);
  int rc = bench_lib_open(path, EAUDIT_SYNC_NORMAL, &l->s);
  if (rc == 0)
    rc = eaudit_store_set_rules(l->s, rules, strlen(rules), 1);
  if (rc == 0)
    rc = eaudit_batch_new(&l->batch);
  if (rc == 0)
    rc = eaudit_event_new(&l->ev);
  if (rc) {
    bench_fail(b, "%s: %s", path, eaudit_error_last()->message);
    return -1;
  }
  eaudit__rules_set_login_hours_fn(l->s, hours, NULL);
  return 0;
}

static void lib_close(lib_side *l) {
  eaudit_event_free(l->ev);
  eaudit_batch_free(l->batch);
  eaudit_store_free(l->s);
}

static int64_t lib_append_one(lib_side *l) {
  eaudit_batch_clear(l->batch);
  for (int k = 0; k < BATCH; k++) {
    row r;
    make_row(l->next++, &r);
    eaudit_event *ev = l->ev;
    eaudit_event_reset(ev);
    int rc = eaudit_event_set(ev, EAUDIT_FIELD_TYPE, r.type);
    if (rc == 0)
      rc = eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, r.at);
    if (rc == 0)
      rc = eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, r.subject);
    if (rc == 0 && r.door >= 0)
      rc = eaudit_event_set(ev, EAUDIT_FIELD_DOOR, r.door);
    if (rc == 0 && r.grp >= 0)
      rc = eaudit_event_set(ev, EAUDIT_FIELD_GROUP, r.grp);
    if (rc == 0)
      rc = eaudit_event_set(ev, EAUDIT_FIELD_REASON, r.reason);
    if (rc == 0)
      rc = eaudit_batch_add(l->batch, ev);
    if (rc) {
      bench_fail(l->b, "event: %s", eaudit_error_last()->message);
      return -1;
    }
  }
  if (eaudit_store_append_batch(l->s, l->batch, NULL)) {
    bench_fail(l->b, "append: %s", eaudit_error_last()->message);
    return -1;
  }
  return BATCH;
}

/* Process CPU time in ms: on a loaded machine the wall clock also counts
 * the time other processes held the CPU. */
static double cpu_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int64_t lib_append(void *arg) {
  lib_side *l = arg;
  int64_t n = 0;
  double t0 = cpu_now_ms();
  for (int i = 0; i < l->batches; i++) {
    int64_t k = lib_append_one(l);
    if (k < 0)
      return -1;
    n += k;
  }
  l->cpu_ms += cpu_now_ms() - t0;
  l->cpu_events += n;
  return n;
}

/* The same rows into a table shaped like the store's events table, with
 * its indexes, through one prepared statement. */
typedef struct raw_side {
  bench *b;
  sqlite3 *db;
  sqlite3_stmt *ins;
  int64_t next;
  int batches;
  double cpu_ms;
  int64_t cpu_events;
} raw_side;

static int raw_open(bench *b, raw_side *r, const char *path) {
  memset(r, 0, sizeof *r);
  r->b = b;
  bench_remove(path);
  if (sqlite3_open(path, &r->db) != SQLITE_OK ||
      sqlite3_exec(
          r->db,
          "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
          "CREATE TABLE events(seq INTEGER PRIMARY KEY, id BLOB NOT NULL,"
          " occurred_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL,"
          " type INTEGER NOT NULL, subject INTEGER, actor INTEGER,"
          " door INTEGER, grp INTEGER, device INTEGER, site INTEGER,"
          " credential INTEGER NOT NULL, reason INTEGER NOT NULL,"
          " details BLOB, hash BLOB NOT NULL);"
          "CREATE UNIQUE INDEX events_id ON events(id);"
          "CREATE INDEX events_time ON events(occurred_at);"
          "CREATE INDEX events_subject ON events(subject, occurred_at);"
          "CREATE INDEX events_actor ON events(actor, occurred_at)"
          " WHERE actor IS NOT subject;"
          "CREATE INDEX events_type ON events(type, occurred_at);"
          "CREATE INDEX events_door ON events(door, occurred_at)"
          " WHERE door IS NOT NULL;"
          "CREATE INDEX events_grp ON events(grp, occurred_at)"
          " WHERE grp IS NOT NULL;",
          NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(r->db,
                         "INSERT INTO events(seq, id, occurred_at,"
                         " recorded_at, type, subject, actor, door, grp,"
                         " credential, reason, hash) VALUES (?1, ?2, ?3, ?4,"
                         " ?5, ?6, ?6, ?7, ?8, 0, ?9, ?10)",
                         -1, &r->ins, NULL) != SQLITE_OK) {
    bench_fail(b, "raw open %s: %s", path, sqlite3_errmsg(r->db));
    return -1;
  }
  return 0;
}

static int64_t raw_append_one(raw_side *r) {
  sqlite3_stmt *st = r->ins;
  uint8_t id[16], hash[32] = {0};
  if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return -1;
  int ok = 1;
  for (int k = 0; ok && k < BATCH; k++) {
    row w;
    int64_t i = r->next++;
    make_row(i, &w);
    bench_uuid_v7(w.at, id);
    sqlite3_bind_int64(st, 1, i + 1);
    sqlite3_bind_blob(st, 2, id, 16, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, w.at);
    sqlite3_bind_int64(st, 4, w.at);
    sqlite3_bind_int(st, 5, w.type);
    sqlite3_bind_int64(st, 6, w.subject);
    if (w.door >= 0)
      sqlite3_bind_int64(st, 7, w.door);
    else
      sqlite3_bind_null(st, 7);
    if (w.grp >= 0)
      sqlite3_bind_int64(st, 8, w.grp);
    else
      sqlite3_bind_null(st, 8);
    sqlite3_bind_int64(st, 9, w.reason);
    sqlite3_bind_blob(st, 10, hash, 32, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_reset(st);
  }
  if (sqlite3_exec(r->db, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) !=
          SQLITE_OK ||
      !ok) {
    bench_fail(r->b, "raw insert: %s", sqlite3_errmsg(r->db));
    return -1;
  }
  return BATCH;
}

static int64_t raw_append(void *arg) {
  raw_side *r = arg;
  int64_t n = 0;
  double t0 = cpu_now_ms();
  for (int i = 0; i < r->batches; i++) {
    int64_t k = raw_append_one(r);
    if (k < 0)
      return -1;
    n += k;
  }
  r->cpu_ms += cpu_now_ms() - t0;
  r->cpu_events += n;
  return n;
}

/* One batch, timed on its own: the first after reopening. */
static int64_t first_lib(void *arg) { return lib_append_one(arg); }
static int64_t first_raw(void *arg) { return raw_append_one(arg); }

static int64_t count_findings(eaudit_store *s) {
  eaudit_findings *l = NULL;
  if (eaudit_store_findings(s, NULL, &l))
    return -1;
  int64_t n = (int64_t)eaudit_findings_size(l);
  eaudit_findings_free(l);
  return n;
}

int main(int argc, char **argv) {
  bench b;
  int rc = bench_init(&b, argc, argv);
  if (rc)
    return rc;
  if (!bench_want(&b, "rules_on_vs_off"))
    return bench_finish(&b);
  char on_path[600], off_path[600], raw_path[600];
  snprintf(on_path, sizeof on_path, "%s/rules-on.db", b.dir);
  snprintf(off_path, sizeof off_path, "%s/rules-off.db", b.dir);
  snprintf(raw_path, sizeof raw_path, "%s/rules-raw.db", b.dir);
  const char *on = getenv("BENCH_RULES") ? getenv("BENCH_RULES") : rules_on;
  lib_side lon = {0}, loff = {0};
  raw_side raw = {0};
  if (lib_open(&b, &lon, on_path, on) == 0 &&
      lib_open(&b, &loff, off_path, rules_off) == 0 &&
      raw_open(&b, &raw, raw_path) == 0) {
    const char *const sides[3] = {"lib", "raw", "raw_sqlite"};
    void *const args[3] = {&lon, &loff, &raw};
    /* Fixed work per repetition, the same rows on every side. */
    lon.batches = loff.batches = raw.batches = b.quick ? 1 : REP_BATCHES;
    b.min_rep_ms = 0;
    bench_fn const fns[3] = {lib_append, lib_append, raw_append};
    bench_multi(&b, "rules_on_vs_off", "events/s", 3, sides, fns, args);
    /* The same appends (warm-up included) per second of process CPU time:
     * steadier than the wall clock on a loaded machine. */
    double cpu_rate[3] = {
        lon.cpu_ms > 0 ? (double)lon.cpu_events / (lon.cpu_ms / 1e3) : 0,
        loff.cpu_ms > 0 ? (double)loff.cpu_events / (loff.cpu_ms / 1e3) : 0,
        raw.cpu_ms > 0 ? (double)raw.cpu_events / (raw.cpu_ms / 1e3) : 0};
    for (int k = 0; k < 3; k++)
      bench_value(&b, "rules_on_vs_off_cpu", sides[k], "events/cpu-s",
                  cpu_rate[k],
                  k != 1 && cpu_rate[1] > 0 ? cpu_rate[k] / cpu_rate[1] : -1);
    /* Then every store is closed and reopened, and the first batch of the
     * new handle is timed once: with the built-ins on it loads the
     * windows of the keys it meets. */
    eaudit_store_free(lon.s);
    eaudit_store_free(loff.s);
    sqlite3_finalize(raw.ins);
    sqlite3_close(raw.db);
    lon.s = loff.s = NULL;
    raw.ins = NULL;
    raw.db = NULL;
    if (bench_lib_open(on_path, EAUDIT_SYNC_NORMAL, &lon.s) ||
        bench_lib_open(off_path, EAUDIT_SYNC_NORMAL, &loff.s) ||
        sqlite3_open(raw_path, &raw.db) != SQLITE_OK ||
        sqlite3_exec(raw.db, "PRAGMA synchronous = NORMAL", NULL, NULL,
                     NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(raw.db,
                           "INSERT INTO events(seq, id, occurred_at,"
                           " recorded_at, type, subject, actor, door, grp,"
                           " credential, reason, hash) VALUES (?1, ?2, ?3,"
                           " ?4, ?5, ?6, ?6, ?7, ?8, 0, ?9, ?10)",
                           -1, &raw.ins, NULL) != SQLITE_OK) {
      bench_fail(&b, "reopening the rules stores");
    } else {
      eaudit__rules_set_login_hours_fn(lon.s, hours, NULL);
      eaudit__rules_set_login_hours_fn(loff.s, hours, NULL);
      bench_fn const firsts[3] = {first_lib, first_lib, first_raw};
      double ms[3];
      for (int k = 0; k < 3; k++) {
        double t0 = bench_now_ms();
        firsts[k](args[k]);
        ms[k] = bench_now_ms() - t0;
      }
      for (int k = 0; k < 3; k++)
        bench_value(&b, "rules_first_batch_after_reopen", sides[k], "ms",
                    ms[k], k == 0 ? ms[0] / ms[1] : -1);
    }
    printf("# rules: %lld events per side; findings: %lld with the built-ins "
           "on, %lld with rules off\n",
           (long long)lon.next, (long long)count_findings(lon.s),
           (long long)count_findings(loff.s));
  }
  lib_close(&lon);
  lib_close(&loff);
  sqlite3_finalize(raw.ins);
  sqlite3_close(raw.db);
  bench_remove(on_path);
  bench_remove(off_path);
  bench_remove(raw_path);
  return bench_finish(&b);
}
