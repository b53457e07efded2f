#include "rel.h"

#include "chain.h"
#include "store_internal.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rel_long(void) {
  const char *v = getenv("EAUDIT_LONG_TESTS");
  return v && strcmp(v, "1") == 0;
}

long rel_rounds(long n, long long_n) {
  const char *v = getenv("EAUDIT_REL_ROUNDS");
  if (v && atol(v) > 0)
    return atol(v);
  return rel_long() ? long_n : n;
}

static void rel_fail(rel_check *c, const char *fmt, ...) {
  if (!c->ok)
    return;
  c->ok = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->why, sizeof c->why, fmt, ap);
  va_end(ap);
}

const uint8_t *rel_trusted_key;

/* The library's own verifier on a read-only handle: chain, checkpoints
 * (signatures with the trusted key), search index and rollups. */
static void rel_verify(const char *path, const uint8_t *key, rel_check *c) {
  eaudit_options *o = NULL;
  eaudit_store *s = NULL;
  eaudit_verify_result *r = NULL;
  int rc = eaudit_options_new(&o);
  if (rc == 0)
    rc = eaudit_options_set_int(o, EAUDIT_OPT_READ_ONLY, 1);
  if (rc == 0)
    rc = eaudit_store_open(&s, path, o);
  eaudit_options_free(o);
  if (rc != 0) {
    rel_fail(c, "the library cannot open it: %d %s", rc,
             eaudit_error_last()->message);
    return;
  }
  rc = eaudit_store_verify(s, 0, key, NULL, 0, EAUDIT_VERIFY_NO_RECORD, &r);
  if (rc != 0)
    rel_fail(c, "eaudit_store_verify: %d %s", rc,
             r ? eaudit_verify_result_message(r)
               : eaudit_error_last()->message);
  else if (eaudit_verify_result_events(r) != c->events)
    rel_fail(c, "eaudit_store_verify checked %lld events, not %lld",
             (long long)eaudit_verify_result_events(r), (long long)c->events);
  else
    c->verified = 1;
  eaudit_verify_result_free(r);
  eaudit_store_free(s);
}

void rel_check_store(const char *path, rel_check *c) {
  memset(c, 0, sizeof *c);
  c->ok = 1;
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, "unix") != SQLITE_OK) {
    rel_fail(c, "cannot open: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
    return;
  }
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt *st = NULL;
  /* integrity_check */
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) ==
          SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    const char *r = (const char *)sqlite3_column_text(st, 0);
    if (r == NULL || strcmp(r, "ok") != 0)
      rel_fail(c, "integrity_check: %s", r ? r : "(null)");
  } else {
    rel_fail(c, "integrity_check failed to run: %s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  st = NULL;
  /* The genesis link comes from the store id. */
  uint8_t prev[32];
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'store_id'",
                         -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 16) {
    uint8_t id[16];
    memcpy(id, sqlite3_column_blob(st, 0), 16);
    eaudit__chain_genesis(id, prev);
  } else {
    rel_fail(c, "store id missing: %s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  st = NULL;
  /* After a purge the chain continues from the retention anchor. */
  int64_t expect = 1;
  if (sqlite3_prepare_v2(db, "SELECT seq, hash FROM anchor", -1, &st, NULL) ==
      SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW) {
      if (sqlite3_column_bytes(st, 1) != 32)
        rel_fail(c, "anchor hash is not 32 bytes");
      else {
        expect = sqlite3_column_int64(st, 0) + 1;
        memcpy(prev, sqlite3_column_blob(st, 1), 32);
      }
    }
  } else {
    rel_fail(c, "anchor unreadable: %s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  st = NULL;
  int64_t checkpoints = 0;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM checkpoints", -1, &st,
                         NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    checkpoints = sqlite3_column_int64(st, 0);
  else
    rel_fail(c, "checkpoints unreadable: %s", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  st = NULL;
  /* Every link, in seq order. */
  eaudit_event ev;
  memset(&ev, 0, sizeof ev);
  int src = sqlite3_prepare_v2(
      db, "SELECT " EAUDIT__EVENT_COLUMNS " FROM events ORDER BY seq", -1, &st,
      NULL);
  while (src == SQLITE_OK && c->ok && (src = sqlite3_step(st)) == SQLITE_ROW) {
    eaudit__event_from_row(st, 0, &ev);
    int64_t seq = ev.v[EAUDIT_FIELD_SEQ];
    if (seq != expect) {
      rel_fail(c, "seq %lld where %lld was expected (gap)", (long long)seq,
           (long long)expect);
      break;
    }
    uint8_t link[32];
    eaudit__chain_link(&ev, prev, link);
    if (!ev.has_hash || memcmp(link, ev.hash, 32) != 0) {
      rel_fail(c, "chain breaks at seq %lld", (long long)seq);
      break;
    }
    memcpy(prev, link, 32);
    c->events++;
    expect++;
    src = SQLITE_OK;
  }
  if (c->ok && src != SQLITE_DONE)
    rel_fail(c, "reading events: %s", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  eaudit__event_release(&ev);
  st = NULL;
  if (c->ok && sqlite3_prepare_v2(db, "SELECT seq, hash FROM head", -1, &st,
                                  NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    c->last_seq = sqlite3_column_int64(st, 0);
    if (c->last_seq != expect - 1)
      rel_fail(c, "head seq %lld but the last event is %lld",
           (long long)c->last_seq, (long long)(expect - 1));
    else if (sqlite3_column_bytes(st, 1) != 32 ||
             memcmp(sqlite3_column_blob(st, 1), prev, 32) != 0)
      rel_fail(c, "head hash does not match the last link");
  } else if (c->ok) {
    rel_fail(c, "head missing: %s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (c->ok)
    rel_verify(path, checkpoints > 0 ? rel_trusted_key : NULL, c);
}

/* Look up ids[0..n) in the store at path, in order. STOP_AT_ABSENT and
 * STOP_AT_PRESENT stop at the first id that is missing or found and return
 * its index; COUNT_ALL returns how many are present. */
enum id_scan { COUNT_ALL, STOP_AT_ABSENT, STOP_AT_PRESENT };

static size_t scan_ids(const char *path, const uint8_t *ids, size_t n,
                       enum id_scan how) {
  sqlite3 *db = NULL;
  ck_assert_int_eq(
      sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, "unix"), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT 1 FROM events WHERE id = ?1",
                                      -1, &st, NULL),
                   SQLITE_OK);
  size_t i = 0, found = 0;
  for (; i < n; i++) {
    sqlite3_bind_blob(st, 1, ids + 16 * i, 16, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    ck_assert_msg(rc == SQLITE_ROW || rc == SQLITE_DONE, "lookup: %s",
                  sqlite3_errmsg(db));
    sqlite3_reset(st);
    if ((how == STOP_AT_ABSENT && rc != SQLITE_ROW) ||
        (how == STOP_AT_PRESENT && rc == SQLITE_ROW))
      break;
    found += rc == SQLITE_ROW;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return how == COUNT_ALL ? found : i;
}

int64_t rel_count_ids(const char *path, const uint8_t *ids, size_t n) {
  return (int64_t)scan_ids(path, ids, n, COUNT_ALL);
}

size_t rel_present_prefix(const char *path, const uint8_t *ids, size_t n) {
  return scan_ids(path, ids, n, STOP_AT_ABSENT);
}

size_t rel_absent_prefix(const char *path, const uint8_t *ids, size_t n) {
  return scan_ids(path, ids, n, STOP_AT_PRESENT);
}

int64_t rel_sql_int(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  ck_assert_int_eq(
      sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, "unix"), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt *st = NULL;
  ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
                "%s: %s", sql, sqlite3_errmsg(db));
  ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "%s: %s", sql,
                sqlite3_errmsg(db));
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

int rel_has_id(const char *path, const uint8_t id[16]) {
  return rel_count_ids(path, id, 1) == 1;
}

void rel_figure(const char *harness, const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  printf("RELIABILITY %s %s\n", harness, line);
  fflush(stdout);
  const char *f = getenv("EAUDIT_REL_FIGURES");
  if (f && *f) {
    FILE *fp = fopen(f, "a");
    if (fp) {
      fprintf(fp, "%s %s\n", harness, line);
      fclose(fp);
    }
  }
}

eaudit_event *rel_event(int64_t subject, eaudit_time t, int with_details) {
  /* No ck_assert here: writer children call it, and each Check assertion
   * (even a passing one) writes to the test runner's message channel,
   * which a forked child would corrupt. */
  eaudit_event *ev = NULL;
  if (eaudit_event_new(&ev) != 0)
    abort();
  eaudit_event_set(ev, EAUDIT_FIELD_TYPE, EAUDIT_TYPE_DOOR_OPENED);
  eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, t);
  eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, subject);
  eaudit_event_set(ev, EAUDIT_FIELD_ACTOR, subject);
  eaudit_event_set(ev, EAUDIT_FIELD_DOOR, 7);
  if (with_details) {
    static const char d[] = "{\"reader\":\"north\",\"n\":[1,2,3]}";
    eaudit_event_set_details(ev, d, sizeof d - 1);
  }
  return ev;
}

void rel_copy_file(const char *src, const char *dst) {
  tu_remove_store(dst);
  int in = open(src, O_RDONLY);
  ck_assert_int_ge(in, 0);
  int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_ge(out, 0);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    ck_assert_int_eq(write(out, buf, (size_t)n), n);
  close(in);
  close(out);
}

void rel_remove_shm(const char *path) {
  char b[4096];
  snprintf(b, sizeof b, "%s-shm", path);
  unlink(b);
}
