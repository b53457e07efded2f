/* The rules engine's cost on the append path: append throughput with every
 * built-in rule on versus every rule off, and raw SQLite inserting the same
 * rows into a table shaped like the store's events table, with its indexes.
 *
 * Three sides, interleaved (events/s):
 *   lib         the library, built-ins on (with areas, so door events move
 *               people too)
 *   raw         the library, {"builtins": false}
 *   raw_sqlite  plain sqlite3, one prepared insert
 * The ratio on the lib line is on/off (goal >= 0.9: at most 10% overhead);
 * lib against raw_sqlite is read off the table. Each repetition appends
 * the same fixed number of batches of 500 events on every side (10, or 1
 * with --quick; synchronous=NORMAL on every side, so the disk's flush
 * speed does not drown the CPU cost being measured): repetition i of every
 * side appends the same rows, so every side does the same work.
 *
 * Two streams. The stress stream is the mix of tests/test_rules.c, built
 * to make the rules work: mostly door events, with failure bursts,
 * unrecognized logins, group changes, expiries and 1% events up to 30 h
 * out of order; 500 users, 40 doors, an event every ~15 s; about one event
 * in 40 opens a finding. The shared stream is the data set of every other
 * bench program (bench_row_make: 1,000 users, 200 doors, a year), about one
 * finding in 70-80 events. Event i is a pure function of i. The admin
 * login-hour histogram comes from a fixed function instead of learned
 * devices.
 *
 * Scenarios:
 *   rules_on_vs_off_empty   the stress stream into empty stores (scale
 *                           column "empty"), then each store is closed and
 *                           reopened and the first batch of the new handle
 *                           is timed once (rules_first_batch_after_reopen,
 *                           ms): with the built-ins on it includes loading
 *                           the rules' per-key windows and replaying the
 *                           events since the rules checkpoint (docs/rules.md,
 *                           Evaluation), paid once per handle
 *   rules_on_vs_off         the stress stream into stores that first receive
 *                           --scale events of it, untimed: a store in
 *                           service rather than a new one
 *   rules_on_vs_off_shared  the shared stream, the same way
 * Each has a _cpu line: the same appends per second of process CPU time,
 * totalled over every call (warm-up included): on a loaded machine the
 * wall clock also counts the time other processes held the CPU.
 *
 * Filling the stores takes most of the run (about 6 minutes at 1m).
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
/* Event i of the stress stream is ~15 s after event i-1. */
#define STRESS_STEP_US INT64_C(15000000)

/* A stream of events: event i, for the library (ev) and for raw SQLite
 * (row); both functions of i alone, so every side appends the same rows. */
typedef struct stream {
  const char *name;
  int64_t t0;   /* stress: the time of event 0 */
  int64_t span; /* shared: the events the data set spreads over its year */
  void (*row)(const struct stream *st, int64_t i, bench_row *r);
  int (*event)(const struct stream *st, int64_t i, eaudit_event *ev);
} stream;

static uint64_t mix64(uint64_t x) {
  x += UINT64_C(0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

/* The stress stream (the mix of tests/test_rules.c). Absent fields are 0,
 * as in bench_row; the actor is the subject. */
static void stress_row(const stream *st, int64_t i, bench_row *r) {
  uint64_t h = mix64((uint64_t)i), g = mix64(h);
  memset(r, 0, sizeof *r);
  r->ts = st->t0 + i * STRESS_STEP_US + (int64_t)(h % 30) * 1000000;
  if (g % 100 == 0) /* late */
    r->ts -= (int64_t)((g >> 8) % (30 * 3600)) * 1000000;
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
  r->subject = r->actor = 1 + (int64_t)((h >> 16) % 500);
  if (r->type == EAUDIT_TYPE_DOOR_OPENED ||
      r->type == EAUDIT_TYPE_DOOR_OPEN_FAILED)
    r->door = 1 + (int64_t)((h >> 32) % 40);
  if (r->type == EAUDIT_TYPE_DOOR_OPEN_FAILED)
    r->reason = 1 + (int)((g >> 16) % 5);
  if (r->type == EAUDIT_TYPE_GROUP_ADDED ||
      r->type == EAUDIT_TYPE_GROUP_REMOVED)
    r->grp = 1 + (int64_t)((h >> 40) % 10);
}

static int stress_event(const stream *st, int64_t i, eaudit_event *ev) {
  bench_row r;
  stress_row(st, i, &r);
  eaudit_event_reset(ev);
  int rc = eaudit_event_set(ev, EAUDIT_FIELD_TYPE, r.type);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, r.ts);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, r.subject);
  if (rc == 0 && r.door)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_DOOR, r.door);
  if (rc == 0 && r.grp)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_GROUP, r.grp);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_REASON, r.reason);
  return rc;
}

/* The shared data set (bench_row_make), spread over span events. */
static void shared_row(const stream *st, int64_t i, bench_row *r) {
  bench_row_make(st->span, i, r);
}

static int shared_event(const stream *st, int64_t i, eaudit_event *ev) {
  bench_row r;
  bench_row_make(st->span, i, &r);
  return bench_row_event(ev, &r);
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
  const stream *st;
  eaudit_store *s;
  eaudit_batch *batch;
  eaudit_event *ev;
  int64_t next;
  int batches;   /* per call of lib_append */
  double cpu_ms; /* process CPU time spent in lib_append */
  int64_t cpu_events;
} lib_side;

static int lib_open(bench *b, lib_side *l, const stream *st, const char *path,
                    const char *rules) {
  memset(l, 0, sizeof *l);
  l->b = b;
  l->st = st;
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
  l->ev = NULL;
  l->batch = NULL;
  l->s = NULL;
}

static int64_t lib_append_one(lib_side *l) {
  eaudit_batch_clear(l->batch);
  for (int k = 0; k < BATCH; k++) {
    int rc = l->st->event(l->st, l->next++, l->ev);
    if (rc == 0)
      rc = eaudit_batch_add(l->batch, l->ev);
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
  const stream *st;
  sqlite3 *db;
  sqlite3_stmt *ins;
  int64_t next;
  int batches;
  double cpu_ms;
  int64_t cpu_events;
} raw_side;

static const char raw_insert_sql[] =
    "INSERT INTO events(seq, id, occurred_at, recorded_at, type, subject,"
    " actor, door, grp, device, site, credential, reason, details, hash)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
    " ?15)";

static int raw_prepare(raw_side *r) {
  return sqlite3_prepare_v2(r->db, raw_insert_sql, -1, &r->ins, NULL);
}

static int raw_open(bench *b, raw_side *r, const stream *st, const char *path) {
  memset(r, 0, sizeof *r);
  r->b = b;
  r->st = st;
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
          " WHERE grp IS NOT NULL;"
          "CREATE INDEX events_device ON events(device, occurred_at)"
          " WHERE device IS NOT NULL;",
          NULL, NULL, NULL) != SQLITE_OK ||
      raw_prepare(r) != SQLITE_OK) {
    bench_fail(b, "raw open %s: %s", path, sqlite3_errmsg(r->db));
    return -1;
  }
  return 0;
}

static void raw_close(raw_side *r) {
  sqlite3_finalize(r->ins);
  sqlite3_close(r->db);
  r->ins = NULL;
  r->db = NULL;
}

static void bind_or_null(sqlite3_stmt *st, int col, int64_t v) {
  if (v)
    sqlite3_bind_int64(st, col, v);
  else
    sqlite3_bind_null(st, col);
}

static int64_t raw_append_one(raw_side *r) {
  sqlite3_stmt *st = r->ins;
  uint8_t id[16], hash[32] = {0};
  if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return -1;
  int ok = 1;
  for (int k = 0; ok && k < BATCH; k++) {
    bench_row w;
    int64_t i = r->next++;
    r->st->row(r->st, i, &w);
    bench_uuid_v7(w.ts, id);
    sqlite3_bind_int64(st, 1, i + 1);
    sqlite3_bind_blob(st, 2, id, 16, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, w.ts);
    sqlite3_bind_int64(st, 4, w.ts);
    sqlite3_bind_int(st, 5, w.type);
    sqlite3_bind_int64(st, 6, w.subject);
    sqlite3_bind_int64(st, 7, w.actor);
    bind_or_null(st, 8, w.door);
    bind_or_null(st, 9, w.grp);
    bind_or_null(st, 10, w.device);
    bind_or_null(st, 11, w.site);
    sqlite3_bind_int(st, 12, w.credential);
    sqlite3_bind_int(st, 13, w.reason);
    if (w.details_len > 0)
      sqlite3_bind_blob(st, 14, w.details, w.details_len, SQLITE_TRANSIENT);
    else
      sqlite3_bind_null(st, 14);
    sqlite3_bind_blob(st, 15, hash, 32, SQLITE_STATIC);
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

/* The sides of one scenario: the library with the built-ins on and off,
 * raw SQLite. */
typedef struct sides3 {
  lib_side on, off;
  raw_side raw;
  char on_path[600], off_path[600], raw_path[600];
} sides3;

/* Untimed: the first `events` events of the stream on every side, in
 * batches of 500, so the timed appends go to stores already that big. */
static int prefill(bench *b, sides3 *x, int64_t events) {
  int64_t batches = events / BATCH;
  for (int64_t i = 0; i < batches; i++) {
    if (lib_append_one(&x->on) < 0 || lib_append_one(&x->off) < 0 ||
        raw_append_one(&x->raw) < 0)
      return -1;
    if ((i + 1) % 200 == 0)
      bench_progress(b, "%s: %lld of %lld events in the stores", x->on.st->name,
                     (long long)((i + 1) * BATCH),
                     (long long)(batches * BATCH));
  }
  return 0;
}

/* Close every store and reopen it; the first batch of each new handle is
 * timed once. */
static void first_after_reopen(bench *b, sides3 *x, const char *scen) {
  eaudit_store_free(x->on.s);
  eaudit_store_free(x->off.s);
  x->on.s = x->off.s = NULL;
  raw_close(&x->raw);
  if (bench_lib_open(x->on_path, EAUDIT_SYNC_NORMAL, &x->on.s) ||
      bench_lib_open(x->off_path, EAUDIT_SYNC_NORMAL, &x->off.s) ||
      sqlite3_open(x->raw_path, &x->raw.db) != SQLITE_OK ||
      sqlite3_exec(x->raw.db, "PRAGMA synchronous = NORMAL", NULL, NULL,
                   NULL) != SQLITE_OK ||
      raw_prepare(&x->raw) != SQLITE_OK) {
    bench_fail(b, "reopening the rules stores");
    return;
  }
  eaudit__rules_set_login_hours_fn(x->on.s, hours, NULL);
  eaudit__rules_set_login_hours_fn(x->off.s, hours, NULL);
  const char *const sides[3] = {"lib", "raw", "raw_sqlite"};
  void *const args[3] = {&x->on, &x->off, &x->raw};
  bench_fn const firsts[3] = {first_lib, first_lib, first_raw};
  double ms[3];
  for (int k = 0; k < 3; k++) {
    double t0 = bench_now_ms();
    firsts[k](args[k]);
    ms[k] = bench_now_ms() - t0;
  }
  for (int k = 0; k < 3; k++)
    bench_value(b, scen, sides[k], "ms", ms[k], k == 0 ? ms[0] / ms[1] : -1);
}

/* One scenario: the stores hold `base` events of the stream first (0: they
 * start empty), then b.reps repetitions of REP_BATCHES batches per side,
 * interleaved. The scale column says "empty" or the base. */
static void scenario(bench *b, const char *scen, const stream *st, int64_t base,
                     const char *on_rules, int reopen) {
  if (!bench_want(b, scen))
    return;
  char saved[sizeof b->scale_name];
  memcpy(saved, b->scale_name, sizeof saved);
  if (base == 0)
    snprintf(b->scale_name, sizeof b->scale_name, "empty");
  sides3 *x = calloc(1, sizeof *x);
  if (x == NULL) {
    bench_fail(b, "%s: out of memory", scen);
    return;
  }
  snprintf(x->on_path, sizeof x->on_path, "%s/rules-on.db", b->dir);
  snprintf(x->off_path, sizeof x->off_path, "%s/rules-off.db", b->dir);
  snprintf(x->raw_path, sizeof x->raw_path, "%s/rules-raw.db", b->dir);
  if (lib_open(b, &x->on, st, x->on_path, on_rules) == 0 &&
      lib_open(b, &x->off, st, x->off_path, rules_off) == 0 &&
      raw_open(b, &x->raw, st, x->raw_path) == 0 && prefill(b, x, base) == 0) {
    const char *const sides[3] = {"lib", "raw", "raw_sqlite"};
    void *const args[3] = {&x->on, &x->off, &x->raw};
    /* Fixed work per repetition, the same rows on every side. */
    x->on.batches = x->off.batches = x->raw.batches =
        b->quick ? 1 : REP_BATCHES;
    b->min_rep_ms = 0;
    bench_fn const fns[3] = {lib_append, lib_append, raw_append};
    bench_multi(b, scen, "events/s", 3, sides, fns, args);
    /* The same appends (warm-up included) per second of process CPU time:
     * steadier than the wall clock on a loaded machine. */
    const lib_side *ls[2] = {&x->on, &x->off};
    double cpu_rate[3];
    for (int k = 0; k < 2; k++)
      cpu_rate[k] = ls[k]->cpu_ms > 0
                        ? (double)ls[k]->cpu_events / (ls[k]->cpu_ms / 1e3)
                        : 0;
    cpu_rate[2] = x->raw.cpu_ms > 0
                      ? (double)x->raw.cpu_events / (x->raw.cpu_ms / 1e3)
                      : 0;
    char cpu_scen[96];
    snprintf(cpu_scen, sizeof cpu_scen, "%s_cpu", scen);
    for (int k = 0; k < 3; k++)
      bench_value(b, cpu_scen, sides[k], "events/cpu-s", cpu_rate[k],
                  k != 1 && cpu_rate[1] > 0 ? cpu_rate[k] / cpu_rate[1] : -1);
    if (reopen)
      first_after_reopen(b, x, "rules_first_batch_after_reopen");
    if (x->on.s && x->off.s)
      printf("# %s: %lld events per side (%lld before the timed appends);"
             " findings: %lld with the built-ins on, %lld with rules off\n",
             scen, (long long)x->on.next, (long long)base,
             (long long)count_findings(x->on.s),
             (long long)count_findings(x->off.s));
  }
  lib_close(&x->on);
  lib_close(&x->off);
  raw_close(&x->raw);
  bench_remove(x->on_path);
  bench_remove(x->off_path);
  bench_remove(x->raw_path);
  free(x);
  memcpy(b->scale_name, saved, sizeof saved);
}

int main(int argc, char **argv) {
  bench b;
  int rc = bench_init(&b, argc, argv);
  if (rc)
    return rc;
  const char *on = getenv("BENCH_RULES") ? getenv("BENCH_RULES") : rules_on;
  /* Events every side appends after the base: warm-up and repetitions. */
  int64_t timed = (int64_t)(b.reps + 1) * (b.quick ? 1 : REP_BATCHES) * BATCH;
  int64_t base = b.scale / BATCH * BATCH;
  /* The stress stream ends before the bench's now: a year back, or as far
   * back as its events need. */
  int64_t need_days = (base + timed) * STRESS_STEP_US / BENCH_DAY_US + 2;
  stream stress = {"stress", 0, 0, stress_row, stress_event};
  stress.t0 = BENCH_NOW - (need_days > 365 ? need_days : 365) * BENCH_DAY_US;
  stream shared = {"shared", 0, base + timed, shared_row, shared_event};
  scenario(&b, "rules_on_vs_off_empty", &stress, 0, on, 1);
  scenario(&b, "rules_on_vs_off", &stress, base, on, 0);
  scenario(&b, "rules_on_vs_off_shared", &shared, base, on, 0);
  return bench_finish(&b);
}
