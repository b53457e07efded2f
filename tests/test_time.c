/* Time zones, time words, relative forms, the past month and RFC 3339. */
#include "testutil.h"

#include "internal.h"
#include "timeexpr.h"

#include <pthread.h>
#include <string.h>

#define H(x) ((eaudit_time)(x)*3600 * 1000000)

static eaudit__tz *zone(const char *name) {
  eaudit__tz *tz = NULL;
  EA_OK(eaudit__tz_open(&tz, name));
  return tz;
}

static eaudit_time local(eaudit__tz *tz, int y, int mo, int d, int h, int mi,
                         int s) {
  eaudit__civil c = {
      .year = y, .month = mo, .day = d, .hour = h, .minute = mi, .second = s};
  eaudit_time t;
  EA_OK(eaudit__tz_from_civil(tz, &c, &t));
  return t;
}

/* Asserts that expr resolves to [b, e) at now. */
static void expect(eaudit__tz *tz, const char *expr, eaudit_time now,
                   eaudit_time b, eaudit_time e) {
  eaudit_time begin = 0, end = 0;
  int rc = eaudit__time_parse(tz, expr, now, &begin, &end);
  ck_assert_msg(rc == 0, "%s -> %d (%s)", expr, rc,
                eaudit_error_last()->message);
  ck_assert_msg(begin == b && end == e, "%s: [%lld, %lld) != [%lld, %lld)",
                expr, (long long)begin, (long long)end, (long long)b,
                (long long)e);
}

static void expect_bad(eaudit__tz *tz, const char *expr) {
  eaudit_time b, e;
  int rc = eaudit__time_parse(tz, expr, tu_utc(2026, 11, 4, 14, 0, 0), &b, &e);
  ck_assert_msg(rc == EAUDIT_ETIME, "%s -> %d", expr, rc);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, expr));
}

START_TEST(unknown_zones_are_refused_not_read_as_gmt) {
  const char *bad[] = {"Nowhere/Land",        "Etc/Unknown", "",
                       "europe/berlin",       "GMT+05:00",   "Europe/Berlin ",
                       "Europe/B\xc3\xa9rlin"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    eaudit__tz *tz = (eaudit__tz *)1;
    ck_assert_int_eq(eaudit__tz_open(&tz, bad[i]), EAUDIT_ETZ);
    ck_assert_ptr_null(tz);
    ck_assert_int_eq(eaudit__tz_valid(bad[i]), 0);
  }
  ck_assert_int_eq(eaudit__tz_open(&(eaudit__tz *){NULL}, NULL), EAUDIT_ETZ);
  ck_assert_int_eq(eaudit__tz_valid("America/New_York"), 1);
  ck_assert_int_eq(eaudit__tz_valid("UTC"), 1);
  eaudit__tz *tz = zone("Europe/Berlin");
  ck_assert_str_eq(eaudit__tz_name(tz), "Europe/Berlin");
  eaudit__tz_free(tz);
  eaudit__tz_free(NULL);
}
END_TEST

START_TEST(gap_moves_forward_and_overlap_takes_earlier) {
  eaudit__tz *be = zone("Europe/Berlin"), *ny = zone("America/New_York");
  /* Berlin springs forward at 02:00 CET on 29 March 2026. */
  ck_assert_int_eq(local(be, 2026, 3, 29, 2, 30, 0),
                   tu_utc(2026, 3, 29, 1, 30, 0));
  ck_assert_int_eq(local(be, 2026, 3, 29, 1, 59, 0),
                   tu_utc(2026, 3, 29, 0, 59, 0));
  ck_assert_int_eq(local(be, 2026, 3, 29, 3, 0, 0),
                   tu_utc(2026, 3, 29, 1, 0, 0));
  /* It falls back at 03:00 CEST on 25 October: 02:30 is first CEST. */
  ck_assert_int_eq(local(be, 2026, 10, 25, 2, 30, 0),
                   tu_utc(2026, 10, 25, 0, 30, 0));
  /* New York: 8 March 2026 and 1 November 2026. */
  ck_assert_int_eq(local(ny, 2026, 3, 8, 2, 30, 0),
                   tu_utc(2026, 3, 8, 7, 30, 0));
  ck_assert_int_eq(local(ny, 2026, 11, 1, 1, 30, 0),
                   tu_utc(2026, 11, 1, 5, 30, 0));
  /* Both instants of the repeated hour read back as 01:30. */
  eaudit__civil c;
  EA_OK(eaudit__tz_to_civil(ny, tu_utc(2026, 11, 1, 6, 30, 0), &c));
  ck_assert_int_eq(c.hour, 1);
  ck_assert_int_eq(c.offset, -5 * 3600);
  EA_OK(eaudit__tz_to_civil(ny, tu_utc(2026, 11, 1, 5, 30, 0), &c));
  ck_assert_int_eq(c.hour, 1);
  ck_assert_int_eq(c.offset, -4 * 3600);
  eaudit__tz_free(be);
  eaudit__tz_free(ny);
}
END_TEST

START_TEST(civil_time_keeps_microseconds_and_negative_times) {
  eaudit__tz *be = zone("Europe/Berlin");
  eaudit__civil c;
  EA_OK(eaudit__tz_to_civil(be, -1, &c));
  ck_assert_int_eq(c.year, 1970);
  ck_assert_int_eq(c.month, 1);
  ck_assert_int_eq(c.day, 1);
  ck_assert_int_eq(c.hour, 0);
  ck_assert_int_eq(c.minute, 59);
  ck_assert_int_eq(c.second, 59);
  ck_assert_int_eq(c.usec, 999999);
  ck_assert_int_eq(c.offset, 3600);
  ck_assert_int_eq(c.wday, 4); /* a Thursday */
  const eaudit_time ts[] = {0,
                            1,
                            -1,
                            -999,
                            -1001,
                            tu_utc(2026, 11, 3, 14, 5, 9) + 123456,
                            tu_utc(1, 1, 1, 0, 0, 0) - 7,
                            tu_utc(-44, 3, 15, 12, 0, 0) + 999999,
                            tu_utc(9999, 12, 31, 23, 59, 59) + 999999};
  for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
    eaudit_time back;
    EA_OK(eaudit__tz_to_civil(be, ts[i], &c));
    EA_OK(eaudit__tz_from_civil(be, &c, &back));
    ck_assert_msg(back == ts[i], "%lld -> %lld", (long long)ts[i],
                  (long long)back);
  }
  /* Proleptic Gregorian, as tu_utc: no Julian dates before 1582. */
  eaudit__tz *utc = zone("UTC");
  EA_OK(eaudit__tz_to_civil(utc, tu_utc(1000, 3, 1, 0, 0, 0), &c));
  ck_assert_int_eq(c.year * 10000 + c.month * 100 + c.day, 10000301);
  ck_assert_int_eq(eaudit__tz_to_civil(utc, EAUDIT_TIME_NONE, &c),
                   EAUDIT_ERANGE);
  eaudit__tz_free(utc);
  eaudit__tz_free(be);
}
END_TEST

START_TEST(out_of_range_fields_are_normalised) {
  eaudit__tz *be = zone("Europe/Berlin");
  eaudit__civil c = {.year = 2026, .month = 13, .day = 0, .hour = 25};
  ck_assert_int_eq(local(be, 2026, 13, 0, 0, 0, 0),
                   local(be, 2026, 12, 31, 0, 0, 0));
  ck_assert_int_eq(local(be, 2026, 0, 1, 0, 0, 0),
                   local(be, 2025, 12, 1, 0, 0, 0));
  ck_assert_int_eq(local(be, 2026, 3, 1, 0, 0, -1),
                   local(be, 2026, 2, 28, 23, 59, 59));
  c = (eaudit__civil){.year = 2026, .month = 1, .day = 1, .usec = -1};
  eaudit_time t;
  EA_OK(eaudit__tz_from_civil(be, &c, &t));
  ck_assert_int_eq(t, local(be, 2025, 12, 31, 23, 59, 59) + 999999);
  c = (eaudit__civil){.year = 2000000000, .month = 1, .day = 1};
  ck_assert_int_eq(eaudit__tz_from_civil(be, &c, &t), EAUDIT_ERANGE);
  eaudit__tz_free(be);
}
END_TEST

START_TEST(day_starts_follow_dst) {
  eaudit__tz *be = zone("Europe/Berlin");
  eaudit_time s;
  EA_OK(eaudit__tz_day_start(be, tu_utc(2026, 3, 29, 12, 0, 0), &s));
  ck_assert_int_eq(s, tu_utc(2026, 3, 28, 23, 0, 0));
  /* The spring day is 23 hours long, the autumn day 25. */
  expect(be, "today", tu_utc(2026, 3, 29, 12, 0, 0),
         tu_utc(2026, 3, 28, 23, 0, 0), tu_utc(2026, 3, 29, 22, 0, 0));
  expect(be, "today", tu_utc(2026, 10, 25, 12, 0, 0),
         tu_utc(2026, 10, 24, 22, 0, 0), tu_utc(2026, 10, 25, 23, 0, 0));
  int m;
  EA_OK(eaudit__tz_minute_of_day(be, tu_utc(2026, 3, 29, 1, 5, 0), &m));
  ck_assert_int_eq(m, 3 * 60 + 5);
  EA_OK(eaudit__tz_minute_of_day(be, tu_utc(2026, 1, 1, 22, 59, 59), &m));
  ck_assert_int_eq(m, 23 * 60 + 59);
  eaudit__tz_free(be);
  /* São Paulo started DST at midnight: 4 November 2018 began at 01:00. */
  eaudit__tz *sp = zone("America/Sao_Paulo");
  EA_OK(eaudit__tz_day_start(sp, tu_utc(2018, 11, 4, 15, 0, 0), &s));
  ck_assert_int_eq(s, tu_utc(2018, 11, 4, 3, 0, 0));
  eaudit__tz_free(sp);
}
END_TEST

START_TEST(past_month_clamps_month_ends) {
  eaudit__tz *be = zone("Europe/Berlin");
  eaudit_time since, until, now;
  now = local(be, 2026, 3, 31, 12, 0, 0);
  EA_OK(eaudit__past_month(be, now, &since, &until));
  ck_assert_int_eq(since, local(be, 2026, 2, 28, 12, 0, 0));
  ck_assert_int_eq(until, now);
  now = local(be, 2028, 3, 31, 12, 0, 0);
  EA_OK(eaudit__past_month(be, now, &since, &until));
  ck_assert_int_eq(since, local(be, 2028, 2, 29, 12, 0, 0));
  now = local(be, 2026, 5, 31, 8, 15, 0);
  EA_OK(eaudit__past_month(be, now, &since, &until));
  ck_assert_int_eq(since, local(be, 2026, 4, 30, 8, 15, 0));
  now = local(be, 2026, 1, 31, 8, 0, 0);
  EA_OK(eaudit__past_month(be, now, &since, &until));
  ck_assert_int_eq(since, local(be, 2025, 12, 31, 8, 0, 0));
  /* Across DST the wall clock holds: 12:00 CEST back to 12:00 CET. */
  now = tu_utc(2026, 4, 15, 10, 0, 0);
  EA_OK(eaudit__past_month(be, now, &since, &until));
  ck_assert_int_eq(since, tu_utc(2026, 3, 15, 11, 0, 0));
  /* One month before 02:30 is inside the gap: it moves to 03:30 CEST. */
  now = local(be, 2026, 4, 29, 2, 30, 0);
  EA_OK(eaudit__past_month(be, now, &since, &until));
  ck_assert_int_eq(since, tu_utc(2026, 3, 29, 1, 30, 0));
  eaudit__tz_free(be);
}
END_TEST

START_TEST(time_words_name_periods) {
  eaudit__tz *be = zone("Europe/Berlin");
  /* Wednesday 4 November 2026, 15:00 CET. */
  eaudit_time now = tu_utc(2026, 11, 4, 14, 0, 0);
  expect(be, "now", now, now, now);
  expect(be, "today", now, tu_utc(2026, 11, 3, 23, 0, 0),
         tu_utc(2026, 11, 4, 23, 0, 0));
  expect(be, " Today\t", now, tu_utc(2026, 11, 3, 23, 0, 0),
         tu_utc(2026, 11, 4, 23, 0, 0));
  expect(be, "yesterday", now, tu_utc(2026, 11, 2, 23, 0, 0),
         tu_utc(2026, 11, 3, 23, 0, 0));
  expect(be, "this-week", now, tu_utc(2026, 11, 1, 23, 0, 0),
         tu_utc(2026, 11, 8, 23, 0, 0));
  /* Last week began on Monday 26 October, the day after DST ended. */
  expect(be, "last-week", now, tu_utc(2026, 10, 25, 23, 0, 0),
         tu_utc(2026, 11, 1, 23, 0, 0));
  expect(be, "this-month", now, tu_utc(2026, 10, 31, 23, 0, 0),
         tu_utc(2026, 11, 30, 23, 0, 0));
  expect(be, "last-month", now, tu_utc(2026, 9, 30, 22, 0, 0),
         tu_utc(2026, 10, 31, 23, 0, 0));
  /* January's last month is the previous December. */
  expect(be, "last-month", tu_utc(2026, 1, 15, 12, 0, 0),
         tu_utc(2025, 11, 30, 23, 0, 0), tu_utc(2025, 12, 31, 23, 0, 0));
  eaudit__tz_free(be);
}
END_TEST

START_TEST(weeks_start_on_monday) {
  eaudit__tz *be = zone("Europe/Berlin");
  eaudit_time mon = tu_utc(2026, 11, 1, 23, 0, 0);
  eaudit_time next = tu_utc(2026, 11, 8, 23, 0, 0);
  expect(be, "this-week", mon, mon, next);      /* Monday 00:00 */
  expect(be, "this-week", next - 1, mon, next); /* Sunday 23:59:59.999999 */
  expect(be, "this-week", next, next, next + H(24 * 7));
  expect(be, "last-week", next, mon, next);
  eaudit__civil c;
  EA_OK(eaudit__tz_to_civil(be, mon, &c));
  ck_assert_int_eq(c.wday, 1);
  EA_OK(eaudit__tz_to_civil(be, next - 1, &c));
  ck_assert_int_eq(c.wday, 7);
  eaudit__tz_free(be);
}
END_TEST

START_TEST(relative_forms_use_calendar_arithmetic) {
  eaudit__tz *be = zone("Europe/Berlin");
  eaudit_time now = tu_utc(2026, 4, 1, 10, 0, 0); /* 12:00 CEST */
  expect(be, "-2h", now, now - H(2), now - H(2));
  expect(be, "+2h", now, now + H(2), now + H(2));
  expect(be, "-30m", now, now - H(1) / 2, now - H(1) / 2);
  expect(be, "+15M", now, now + H(1) / 4, now + H(1) / 4);
  /* Seven days back is 12:00 CET, 167 hours earlier. */
  expect(be, "-7d", now, now - H(167), now - H(167));
  expect(be, "-1w", now, now - H(167), now - H(167));
  expect(be, "-2w", now, now - H(335), now - H(335));
  expect(be, "+0d", now, now, now);
  eaudit_time t = local(be, 2026, 3, 31, 9, 0, 0);
  eaudit_time feb28 = local(be, 2026, 2, 28, 9, 0, 0);
  expect(be, "-1mo", t, feb28, feb28);
  eaudit_time jan31 = local(be, 2028, 1, 31, 9, 0, 0);
  eaudit_time feb29 = local(be, 2028, 2, 29, 9, 0, 0);
  expect(be, "+1mo", jan31, feb29, feb29);
  eaudit_time y27 = local(be, 2027, 2, 28, 9, 0, 0);
  expect(be, "-1y", feb29, y27, y27);
  eaudit_time y24 = local(be, 2024, 2, 29, 9, 0, 0);
  expect(be, "-4y", feb29, y24, y24);
  eaudit_time dec = local(be, 2025, 12, 31, 9, 0, 0);
  expect(be, "-3mo", t, dec, dec);
  eaudit__tz_free(be);
}
END_TEST

START_TEST(iso_dates_and_date_times) {
  eaudit__tz *be = zone("Europe/Berlin");
  eaudit_time now = tu_utc(2026, 11, 4, 14, 0, 0);
  expect(be, "2026-11-03", now, tu_utc(2026, 11, 2, 23, 0, 0),
         tu_utc(2026, 11, 3, 23, 0, 0));
  expect(be, "2026-03-29", now, tu_utc(2026, 3, 28, 23, 0, 0),
         tu_utc(2026, 3, 29, 22, 0, 0));
  eaudit_time t = tu_utc(2026, 11, 3, 13, 5, 0);
  expect(be, "2026-11-03T14:05", now, t, t);
  expect(be, "2026-11-03 14:05:09", now, t + 9000000, t + 9000000);
  expect(be, "2026-11-03t14:05:09.25", now, t + 9250000, t + 9250000);
  t = tu_utc(2026, 3, 29, 1, 30, 0);
  expect(be, "2026-03-29T02:30", now, t, t);
  t = tu_utc(2026, 11, 3, 8, 35, 9);
  expect(be, "2026-11-03T14:05:09+05:30", now, t, t);
  t = tu_utc(2026, 11, 3, 14, 5, 9) + 500000;
  expect(be, "2026-11-03T14:05:09.5Z", now, t, t);
  eaudit__tz_free(be);
}
END_TEST

START_TEST(garbage_is_refused_with_the_text) {
  eaudit__tz *be = zone("Europe/Berlin");
  const char *bad[] = {"tomorrow",
                       "-2x",
                       "-h",
                       "2h",
                       "--2h",
                       "-2hh",
                       "-1.5h",
                       "2026-13-01",
                       "2026-02-30",
                       "2026-2-3",
                       "2026-11-03T25:00",
                       "2026-11-03T14:60",
                       "2026-11-03T14",
                       "2026-11-03T14:05+5",
                       "2026-11-03T14:05:09.Z",
                       "2026-11-03x",
                       "-999999999d",
                       "-99999999y",
                       "this week",
                       "nowish"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    expect_bad(be, bad[i]);
  eaudit_time b, e;
  ck_assert_int_eq(eaudit__time_parse(be, "", 0, &b, &e), EAUDIT_ETIME);
  ck_assert_int_eq(eaudit__time_parse(be, NULL, 0, &b, &e), EAUDIT_ETIME);
  /* A now outside the calendar is refused, not wrapped. */
  ck_assert_int_eq(eaudit__time_parse(be, "today", INT64_MAX, &b, &e),
                   EAUDIT_ETIME);
  ck_assert_int_eq(eaudit__time_parse(be, "+1h", INT64_MAX - 5, &b, &e),
                   EAUDIT_ETIME);
  eaudit__tz_free(be);
}
END_TEST

START_TEST(rfc3339_round_trips) {
  const eaudit_time ts[] = {0,
                            1,
                            -1,
                            -1000001,
                            tu_utc(2026, 11, 3, 14, 5, 9) + 123456,
                            tu_utc(1969, 7, 20, 20, 17, 40) + 5,
                            tu_utc(0, 1, 1, 0, 0, 0),
                            tu_utc(9999, 12, 31, 23, 59, 59) + 999999};
  for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
    char buf[28];
    eaudit_time back;
    EA_OK(eaudit__rfc3339_format(ts[i], buf, sizeof buf));
    ck_assert_uint_eq(strlen(buf), 27);
    EA_OK(eaudit__rfc3339_parse(buf, strlen(buf), &back));
    ck_assert_int_eq(back, ts[i]);
  }
  char buf[28];
  EA_OK(eaudit__rfc3339_format(-1, buf, sizeof buf));
  ck_assert_str_eq(buf, "1969-12-31T23:59:59.999999Z");
  EA_OK(eaudit__rfc3339_format(tu_utc(2026, 11, 3, 14, 5, 9) + 123456, buf,
                               sizeof buf));
  ck_assert_str_eq(buf, "2026-11-03T14:05:09.123456Z");
  ck_assert_int_eq(eaudit__rfc3339_format(0, buf, 27), EAUDIT_EINVAL);
  ck_assert_int_eq(
      eaudit__rfc3339_format(tu_utc(10000, 1, 1, 0, 0, 0), buf, sizeof buf),
      EAUDIT_ERANGE);
  ck_assert_int_eq(eaudit__rfc3339_format(INT64_MIN, buf, sizeof buf),
                   EAUDIT_ERANGE);
  ck_assert_int_eq(eaudit__rfc3339_format(INT64_MAX, buf, sizeof buf),
                   EAUDIT_ERANGE);
  ck_assert_int_eq(
      eaudit__rfc3339_format(tu_utc(-1, 12, 31, 23, 59, 59), buf, sizeof buf),
      EAUDIT_ERANGE);
}
END_TEST

START_TEST(rfc3339_parse_reads_offsets_and_fractions) {
  eaudit_time t, base = tu_utc(2026, 11, 3, 14, 5, 9);
  const char *s = "2026-11-03T15:05:09+01:00";
  EA_OK(eaudit__rfc3339_parse(s, strlen(s), &t));
  ck_assert_int_eq(t, base);
  s = "2026-11-03t09:05:09-05:00";
  EA_OK(eaudit__rfc3339_parse(s, strlen(s), &t));
  ck_assert_int_eq(t, base);
  s = "2026-11-03T14:05:09-00:00";
  EA_OK(eaudit__rfc3339_parse(s, strlen(s), &t));
  ck_assert_int_eq(t, base);
  s = "2026-11-03T14:05:09.1z";
  EA_OK(eaudit__rfc3339_parse(s, strlen(s), &t));
  ck_assert_int_eq(t, base + 100000);
  /* Nanoseconds are cut to microseconds. */
  s = "2026-11-03T14:05:09.123456789Z";
  EA_OK(eaudit__rfc3339_parse(s, strlen(s), &t));
  ck_assert_int_eq(t, base + 123456);
  /* Only len bytes are read. */
  s = "2026-11-03T14:05:09ZGARBAGE";
  EA_OK(eaudit__rfc3339_parse(s, 20, &t));
  ck_assert_int_eq(t, base);
  const char *bad[] = {"2026-11-03T14:05:09",
                       "2026-11-03T14:05Z",
                       "2026-11-03",
                       "2026-11-03T14:05:09+0100",
                       "2026-11-03T14:05:60Z",
                       "2026-11-03T14:05:09+24:00",
                       "2026-11-03T14:05:09ZZ",
                       "",
                       "20261103T140509Z",
                       "2026-11-31T14:05:09Z"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ck_assert_msg(eaudit__rfc3339_parse(bad[i], strlen(bad[i]), &t) ==
                      EAUDIT_ETIME,
                  "%s", bad[i]);
    ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, bad[i]));
  }
  s = "2026-11-03T14:05:09Z";
  ck_assert_int_eq(eaudit__rfc3339_parse(s, 19, &t), EAUDIT_ETIME);
}
END_TEST

START_TEST(local_formats) {
  eaudit__tz *be = zone("Europe/Berlin"), *ny = zone("America/New_York");
  eaudit_time t = tu_utc(2026, 11, 3, 14, 5, 9) + 123456;
  char buf[EAUDIT_TIME_STRMAX];
  EA_OK(eaudit__time_format(be, t, EAUDIT_TIME_RFC3339_UTC, buf, sizeof buf));
  ck_assert_str_eq(buf, "2026-11-03T14:05:09.123456Z");
  EA_OK(eaudit__time_format(be, t, EAUDIT_TIME_LOCAL, buf, sizeof buf));
  ck_assert_str_eq(buf, "2026-11-03 15:05:09");
  EA_OK(eaudit__time_format(be, t, EAUDIT_TIME_LOCAL_OFFSET, buf, sizeof buf));
  ck_assert_str_eq(buf, "2026-11-03T15:05:09+01:00");
  EA_OK(eaudit__time_format(ny, t, EAUDIT_TIME_LOCAL_OFFSET, buf, sizeof buf));
  ck_assert_str_eq(buf, "2026-11-03T09:05:09-05:00");
  EA_OK(eaudit__time_format(be, -1, EAUDIT_TIME_LOCAL, buf, sizeof buf));
  ck_assert_str_eq(buf, "1970-01-01 00:59:59");
  /* Local mean time before 1893 is offset by seconds, and says so. */
  EA_OK(eaudit__time_format(be, tu_utc(1850, 6, 1, 12, 0, 0),
                            EAUDIT_TIME_LOCAL_OFFSET, buf, sizeof buf));
  ck_assert_str_eq(buf, "1850-06-01T12:53:28+00:53:28");
  ck_assert_int_eq(eaudit__time_format(be, EAUDIT_TIME_NONE, EAUDIT_TIME_LOCAL,
                                       buf, sizeof buf),
                   EAUDIT_ERANGE);
  ck_assert_int_eq(eaudit__time_format(be, t, 3, buf, sizeof buf),
                   EAUDIT_EINVAL);
  ck_assert_int_eq(
      eaudit__time_format(be, t, EAUDIT_TIME_LOCAL_OFFSET, buf, 25),
      EAUDIT_EINVAL);
  EA_OK(eaudit__time_format(be, t, EAUDIT_TIME_LOCAL_OFFSET, buf, 26));
  eaudit__tz_free(be);
  eaudit__tz_free(ny);
}
END_TEST

/* Each thread owns its zone object; results must not interfere. */
static void *convert_loop(void *arg) {
  const char *name = arg;
  eaudit__tz *tz = NULL;
  if (eaudit__tz_open(&tz, name))
    return (void *)1;
  eaudit_time base = tu_utc(2026, 1, 1, 0, 0, 0);
  int expect_off = strcmp(name, "Europe/Berlin") == 0 ? 3600 : -5 * 3600;
  for (int i = 0; i < 20000; i++) {
    eaudit__civil c;
    eaudit_time back;
    eaudit_time t = base + (eaudit_time)i * 7919;
    if (eaudit__tz_to_civil(tz, t, &c) || c.offset != expect_off ||
        eaudit__tz_from_civil(tz, &c, &back) || back != t) {
      eaudit__tz_free(tz);
      return (void *)1;
    }
  }
  eaudit__tz_free(tz);
  return NULL;
}

START_TEST(zones_work_in_parallel_threads) {
  pthread_t a, b;
  void *ra, *rb;
  ck_assert_int_eq(pthread_create(&a, NULL, convert_loop, "Europe/Berlin"), 0);
  ck_assert_int_eq(pthread_create(&b, NULL, convert_loop, "America/New_York"),
                   0);
  pthread_join(a, &ra);
  pthread_join(b, &rb);
  ck_assert_ptr_null(ra);
  ck_assert_ptr_null(rb);
}
END_TEST

int main(void) {
  Suite *s = suite_create("time");
  TCase *tc = tcase_create("time");
  tcase_add_test(tc, unknown_zones_are_refused_not_read_as_gmt);
  tcase_add_test(tc, gap_moves_forward_and_overlap_takes_earlier);
  tcase_add_test(tc, civil_time_keeps_microseconds_and_negative_times);
  tcase_add_test(tc, out_of_range_fields_are_normalised);
  tcase_add_test(tc, day_starts_follow_dst);
  tcase_add_test(tc, past_month_clamps_month_ends);
  tcase_add_test(tc, time_words_name_periods);
  tcase_add_test(tc, weeks_start_on_monday);
  tcase_add_test(tc, relative_forms_use_calendar_arithmetic);
  tcase_add_test(tc, iso_dates_and_date_times);
  tcase_add_test(tc, garbage_is_refused_with_the_text);
  tcase_add_test(tc, rfc3339_round_trips);
  tcase_add_test(tc, rfc3339_parse_reads_offsets_and_fractions);
  tcase_add_test(tc, local_formats);
  tcase_add_test(tc, zones_work_in_parallel_threads);
  suite_add_tcase(s, tc);
  return tu_run(s);
}
