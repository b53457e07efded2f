#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

eaudit_time tu_clock_fn(void *payload) {
  tu_clock *c = payload;
  eaudit_time t = c->now;
  c->now += c->step;
  return t;
}

int tu_random_fn(uint8_t *buf, size_t len, void *payload) {
  uint64_t *s = payload;
  for (size_t i = 0; i < len; i++) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    buf[i] = (uint8_t)(*s >> 24);
  }
  return 0;
}

void tu_remove_store(const char *path) {
  char b[4096];
  unlink(path);
  snprintf(b, sizeof b, "%s-wal", path);
  unlink(b);
  snprintf(b, sizeof b, "%s-shm", path);
  unlink(b);
  snprintf(b, sizeof b, "%s-journal", path);
  unlink(b);
}

void tu_temp_path(char *buf, size_t size, const char *name) {
  const char *dir = getenv("EAUDIT_TEST_TMP");
  if (!dir)
    dir = "/tmp";
  snprintf(buf, size, "%s/%s-%ld.db", dir, name, (long)getpid());
  tu_remove_store(buf);
}

eaudit_options *tu_options(tu_clock *clock, uint64_t *seed) {
  eaudit_options *o = NULL;
  ck_assert_int_eq(eaudit_options_new(&o), 0);
  if (clock)
    ck_assert_int_eq(eaudit_options_set_clock(o, tu_clock_fn, clock), 0);
  if (seed)
    ck_assert_int_eq(eaudit_options_set_random(o, tu_random_fn, seed), 0);
  return o;
}

eaudit_event *tu_event(int type, eaudit_time at, int64_t subject) {
  eaudit_event *ev = NULL;
  ck_assert_int_eq(eaudit_event_new(&ev), 0);
  ck_assert_int_eq(eaudit_event_set(ev, EAUDIT_FIELD_TYPE, type), 0);
  ck_assert_int_eq(eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, at), 0);
  if (subject >= 0) {
    ck_assert_int_eq(eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, subject), 0);
    ck_assert_int_eq(eaudit_event_set(ev, EAUDIT_FIELD_ACTOR, subject), 0);
  }
  return ev;
}

eaudit_time tu_utc(int y, int mo, int d, int h, int mi, int s) {
  /* Days from civil (Howard Hinnant's algorithm). */
  y -= mo <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  long days = era * 146097 + doe - 719468;
  return ((eaudit_time)days * 86400 + h * 3600 + mi * 60 + s) * 1000000;
}

int tu_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#include <sodium.h>
#include <sqlite3.h>

void tu_store_digest(const char *path, char out[65]) {
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
                   SQLITE_OK);
  crypto_generichash_state h;
  crypto_generichash_init(&h, NULL, 0, 32);
  sqlite3_stmt *tables = NULL;
  ck_assert_int_eq(
      sqlite3_prepare_v2(db,
                         "SELECT name FROM sqlite_schema WHERE type = 'table' "
                         "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE "
                         "'names_fts_%' ORDER BY name",
                         -1, &tables, NULL),
      SQLITE_OK);
  while (sqlite3_step(tables) == SQLITE_ROW) {
    char sql[256];
    const char *name = (const char *)sqlite3_column_text(tables, 0);
    crypto_generichash_update(&h, (const unsigned char *)name, strlen(name));
    snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY 1", name);
    sqlite3_stmt *rows = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &rows, NULL), SQLITE_OK);
    while (sqlite3_step(rows) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(rows); c++) {
        unsigned char type = (unsigned char)sqlite3_column_type(rows, c);
        crypto_generichash_update(&h, &type, 1);
        const void *b = sqlite3_column_blob(rows, c);
        int n = sqlite3_column_bytes(rows, c);
        if (b && n)
          crypto_generichash_update(&h, b, (unsigned long long)n);
      }
    }
    sqlite3_finalize(rows);
  }
  sqlite3_finalize(tables);
  sqlite3_close(db);
  unsigned char d[32];
  crypto_generichash_final(&h, d, 32);
  sodium_bin2hex(out, 65, d, 32);
}

void tu_append_doors(eaudit_store *s, int n, int64_t subject, int64_t door,
                     eaudit_time t0, eaudit_time step) {
  eaudit_batch *b = NULL;
  ck_assert_int_eq(eaudit_batch_new(&b), 0);
  for (int i = 0; i < n; i++) {
    eaudit_event *ev = tu_event(EAUDIT_TYPE_DOOR_OPENED, t0 + i * step, subject);
    eaudit_event_set(ev, EAUDIT_FIELD_DOOR, door);
    ck_assert_int_eq(eaudit_batch_add(b, ev), 0);
    eaudit_event_free(ev);
  }
  EA_OK(eaudit_store_append_batch(s, b, NULL));
  eaudit_batch_free(b);
}

int64_t tu_count(eaudit_store *s, const eaudit_query *q) {
  eaudit_cursor *c = NULL;
  EA_OK(eaudit_store_query(s, q, &c));
  const eaudit_event *ev;
  int64_t n = 0;
  int rc;
  while ((rc = eaudit_cursor_next(c, &ev)) == 0)
    n++;
  ck_assert_int_eq(rc, EAUDIT_DONE);
  eaudit_cursor_free(c);
  return n;
}
