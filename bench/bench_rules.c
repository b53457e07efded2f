/* Append throughput with every built-in rule on versus every rule off,
 * against raw SQLite inserts of the same rows, in the same run.
 *
 *   bench_rules [events] [batch]     (defaults: 100000 events, batches of 500)
 *
 * Each configuration runs three times on a fresh file store (WAL,
 * synchronous=NORMAL, so the disk's flush speed does not drown the CPU
 * cost being measured); the best time counts. The stream is the mix of
 * tests/test_rules.c: mostly door events, with failures, logins, group
 * changes, expiries and out-of-order events. BENCH_RULES='<json>' replaces
 * the "on" rule set; TMPDIR chooses where the stores go (tmpfs measures
 * CPU cost without the disk). Times are process CPU time. */
#include "rules_internal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct row {
  int64_t at, subject, door, grp, reason;
  int type;
} row;

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static row *generate(size_t n) {
  row *v = calloc(n, sizeof *v);
  int64_t clock = INT64_C(1767225600000000); /* 2026-01-01 */
  for (size_t i = 0; i < n; i++) {
    clock += (int64_t)(rnd() % 30) * 1000000;
    row *r = &v[i];
    r->at = clock;
    if (rnd() % 100 == 0)
      r->at -= (int64_t)(rnd() % (30 * 3600)) * 1000000;
    int p = (int)(rnd() % 100);
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
    r->subject = 1 + (int64_t)(rnd() % 500);
    r->door = r->grp = -1;
    if (r->type == EAUDIT_TYPE_DOOR_OPENED ||
        r->type == EAUDIT_TYPE_DOOR_OPEN_FAILED)
      r->door = 1 + (int64_t)(rnd() % 40);
    r->reason = r->type == EAUDIT_TYPE_DOOR_OPEN_FAILED
                    ? 1 + (int64_t)(rnd() % 5)
                    : 0;
    if (r->type == EAUDIT_TYPE_GROUP_ADDED ||
        r->type == EAUDIT_TYPE_GROUP_REMOVED)
      r->grp = 1 + (int64_t)(rnd() % 10);
  }
  return v;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void remove_db(const char *path) {
  char b[600];
  unlink(path);
  snprintf(b, sizeof b, "%s-wal", path);
  unlink(b);
  snprintf(b, sizeof b, "%s-shm", path);
  unlink(b);
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

static double run_library(const char *path, const row *rows, size_t n,
                          size_t batch, const char *rules, int64_t *findings) {
  remove_db(path);
  eaudit_options *o;
  eaudit_store *s;
  if (eaudit_options_new(&o) ||
      eaudit_options_set_int(o, EAUDIT_OPT_SYNCHRONOUS, EAUDIT_SYNC_NORMAL) ||
      eaudit_store_open(&s, path, o) ||
      eaudit_store_set_rules(s, rules, strlen(rules), 1)) {
    fprintf(stderr, "setup: %s\n", eaudit_error_last()->message);
    exit(1);
  }
  eaudit_options_free(o);
  eaudit__rules_set_login_hours_fn(s, hours, NULL);
  eaudit_batch *b;
  eaudit_event *ev;
  eaudit_batch_new(&b);
  eaudit_event_new(&ev);
  double t = now_s();
  for (size_t i = 0; i < n; i += batch) {
    eaudit_batch_clear(b);
    for (size_t k = i; k < i + batch && k < n; k++) {
      const row *r = &rows[k];
      eaudit_event_reset(ev);
      eaudit_event_set(ev, EAUDIT_FIELD_TYPE, r->type);
      eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, r->at);
      eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, r->subject);
      if (r->door >= 0)
        eaudit_event_set(ev, EAUDIT_FIELD_DOOR, r->door);
      if (r->grp >= 0)
        eaudit_event_set(ev, EAUDIT_FIELD_GROUP, r->grp);
      eaudit_event_set(ev, EAUDIT_FIELD_REASON, r->reason);
      eaudit_batch_add(b, ev);
    }
    if (eaudit_store_append_batch(s, b, NULL)) {
      fprintf(stderr, "append: %s\n", eaudit_error_last()->message);
      exit(1);
    }
  }
  t = now_s() - t;
  eaudit_findings *l;
  eaudit_store_findings(s, NULL, &l);
  *findings = (int64_t)eaudit_findings_size(l);
  eaudit_findings_free(l);
  eaudit_event_free(ev);
  eaudit_batch_free(b);
  eaudit_store_free(s);
  remove_db(path);
  return t;
}

/* The same rows into a table shaped like the store's events table, with
 * its indexes, through one prepared statement. */
static double run_sqlite(const char *path, const row *rows, size_t n,
                         size_t batch) {
  remove_db(path);
  sqlite3 *db;
  sqlite3_open(path, &db);
  sqlite3_exec(db,
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
               NULL, NULL, NULL);
  sqlite3_stmt *st;
  sqlite3_prepare_v2(db,
                     "INSERT INTO events(seq, id, occurred_at, recorded_at,"
                     " type, subject, actor, door, grp, credential, reason,"
                     " hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, 0,"
                     " ?9, ?10)",
                     -1, &st, NULL);
  uint8_t id[16] = {0}, hash[32] = {0};
  double t = now_s();
  for (size_t i = 0; i < n; i += batch) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    for (size_t k = i; k < i + batch && k < n; k++) {
      const row *r = &rows[k];
      for (int j = 0; j < 8; j++)
        id[8 + j] = (uint8_t)(k >> (8 * j));
      id[0] = (uint8_t)rnd();
      sqlite3_bind_int64(st, 1, (int64_t)k + 1);
      sqlite3_bind_blob(st, 2, id, 16, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st, 3, r->at);
      sqlite3_bind_int64(st, 4, r->at);
      sqlite3_bind_int(st, 5, r->type);
      sqlite3_bind_int64(st, 6, r->subject);
      if (r->door >= 0)
        sqlite3_bind_int64(st, 7, r->door);
      else
        sqlite3_bind_null(st, 7);
      if (r->grp >= 0)
        sqlite3_bind_int64(st, 8, r->grp);
      else
        sqlite3_bind_null(st, 8);
      sqlite3_bind_int64(st, 9, r->reason);
      sqlite3_bind_blob(st, 10, hash, 32, SQLITE_STATIC);
      sqlite3_step(st);
      sqlite3_reset(st);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  }
  t = now_s() - t;
  sqlite3_finalize(st);
  sqlite3_close(db);
  remove_db(path);
  return t;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)atol(argv[1]) : 100000;
  size_t batch = argc > 2 ? (size_t)atol(argv[2]) : 500;
  if (n == 0 || batch == 0)
    return 2;
  char path[512];
  snprintf(path, sizeof path, "%s/bench-rules-%ld.db",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
  row *rows = generate(n);
  double best_off = 1e30, best_on = 1e30, best_raw = 1e30;
  int64_t f_off = 0, f_on = 0;
  for (int rep = 0; rep < 3; rep++) {
    double t = run_sqlite(path, rows, n, batch);
    best_raw = t < best_raw ? t : best_raw;
    t = run_library(path, rows, n, batch, rules_off, &f_off);
    best_off = t < best_off ? t : best_off;
    const char *on = getenv("BENCH_RULES") ? getenv("BENCH_RULES") : rules_on;
    t = run_library(path, rows, n, batch, on, &f_on);
    best_on = t < best_on ? t : best_on;
  }
  printf("bench_rules: %zu events, batches of %zu, best of 3\n", n, batch);
  printf("  raw sqlite inserts   %9.0f events/s\n", n / best_raw);
  printf("  library, rules off   %9.0f events/s  (%lld findings)\n",
         n / best_off, (long long)f_off);
  printf("  library, built-ins   %9.0f events/s  (%lld findings)\n",
         n / best_on, (long long)f_on);
  printf("  rules cost           %+8.1f %% time vs rules off (target <= 10)\n",
         (best_on / best_off - 1) * 100);
  printf("  library vs raw       %8.2fx the time of raw inserts (rules on)\n",
         best_on / best_raw);
  free(rows);
  return 0;
}
