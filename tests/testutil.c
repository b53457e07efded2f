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
