/* Time expressions, RFC 3339 and the past month. Civil arithmetic happens
 * on eaudit__civil and goes through tz.c, so DST rules come from ICU. */
#include "timeexpr.h"

#include "internal.h"

#include <stdio.h>
#include <string.h>

#define USEC_PER_SEC INT64_C(1000000)

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard
 * Hinnant's algorithms). RFC 3339 needs no zone, so it does not need ICU. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int etime(const char *text, size_t len, const char *why) {
  return eaudit__error(EAUDIT_ETIME, EAUDIT_ECLASS_INVALID, 0,
                       "\"%.*s\" is not a time expression: %s",
                       (int)(len > 200 ? 200 : len), text, why);
}

/* Reads exactly n digits at *p (bounded by end). */
static int digits(const char **p, const char *end, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (*p >= end || (unsigned)(**p - '0') > 9)
      return -1;
    v = v * 10 + (*(*p)++ - '0');
  }
  *out = v;
  return 0;
}

/* An ISO 8601 date, date-time or RFC 3339 timestamp. */
typedef struct iso {
  eaudit__civil c;
  int has_time, has_seconds, has_offset;
  int offset; /* seconds east of UTC */
} iso;

/* Parses YYYY-MM-DD[(T|t| )HH:MM[:SS[.frac]][Z|z|(+|-)HH:MM]]. Fraction
 * digits beyond microseconds are dropped (toward the earlier instant), as
 * other producers may send nanoseconds. Returns NULL on success or why the
 * text was refused. */
static const char *iso_parse(const char *s, size_t len, iso *out) {
  const char *p = s, *end = s + len;
  memset(out, 0, sizeof *out);
  eaudit__civil *c = &out->c;
  if (digits(&p, end, 4, &c->year) || p >= end || *p++ != '-' ||
      digits(&p, end, 2, &c->month) || p >= end || *p++ != '-' ||
      digits(&p, end, 2, &c->day))
    return "expected a date YYYY-MM-DD";
  if (c->month < 1 || c->month > 12 || c->day < 1 ||
      c->day > days_in_month(c->year, c->month))
    return "no such date";
  if (p == end)
    return NULL;
  if (*p != 'T' && *p != 't' && *p != ' ')
    return "unexpected text after the date";
  p++;
  out->has_time = 1;
  if (digits(&p, end, 2, &c->hour) || p >= end || *p++ != ':' ||
      digits(&p, end, 2, &c->minute))
    return "expected a time HH:MM";
  if (p < end && *p == ':') {
    p++;
    if (digits(&p, end, 2, &c->second))
      return "expected seconds";
    out->has_seconds = 1;
    if (p < end && *p == '.') {
      p++;
      int n = 0;
      for (; p < end && (unsigned)(*p - '0') <= 9; p++, n++)
        if (n < 6)
          c->usec = c->usec * 10 + (*p - '0');
      if (n == 0)
        return "expected digits after the decimal point";
      for (; n < 6; n++)
        c->usec *= 10;
    }
  }
  if (c->hour > 23 || c->minute > 59 || c->second > 59)
    return "no such time of day";
  if (p == end)
    return NULL;
  out->has_offset = 1;
  if ((*p == 'Z' || *p == 'z') && p + 1 == end)
    return NULL;
  int sign = *p == '+' ? 1 : *p == '-' ? -1 : 0;
  int oh, om;
  p++;
  if (!sign || digits(&p, end, 2, &oh) || p >= end || *p++ != ':' ||
      digits(&p, end, 2, &om) || p != end)
    return "expected an offset Z or +HH:MM";
  if (oh > 23 || om > 59)
    return "no such offset";
  out->offset = sign * (oh * 3600 + om * 60);
  return NULL;
}

static eaudit_time iso_utc(const iso *v) {
  const eaudit__civil *c = &v->c;
  int64_t s = days_from_civil(c->year, c->month, c->day) * 86400 +
              c->hour * 3600 + c->minute * 60 + c->second - v->offset;
  return s * USEC_PER_SEC + c->usec;
}

int eaudit__rfc3339_parse(const char *text, size_t len, eaudit_time *out) {
  iso v;
  const char *why = iso_parse(text, len, &v);
  if (!why && !(v.has_time && v.has_seconds && v.has_offset))
    why = "RFC 3339 needs a date, a time with seconds and an offset";
  if (why)
    return etime(text, len, why);
  *out = iso_utc(&v);
  return EAUDIT_OK;
}

static int too_small(size_t size) {
  return eaudit__einval("time buffer of %zu bytes is too small", size);
}

int eaudit__rfc3339_format(eaudit_time t, char *buf, size_t size) {
  /* Remainder first: days * 86400e6 may not fit near INT64_MIN. */
  int64_t us = t % (86400 * USEC_PER_SEC);
  if (us < 0)
    us += 86400 * USEC_PER_SEC;
  int64_t days = floor_div(t, 86400 * USEC_PER_SEC);
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  if (y < 0 || y > 9999)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "time %lld is outside the years 0000-9999 of RFC 3339",
                         (long long)t);
  int64_t s = us / USEC_PER_SEC;
  char tmp[40];
  int n = snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                   (int)y, m, d, (int)(s / 3600), (int)(s / 60 % 60),
                   (int)(s % 60), (int)(us % USEC_PER_SEC));
  if ((size_t)n >= size)
    return too_small(size);
  memcpy(buf, tmp, (size_t)n + 1);
  return EAUDIT_OK;
}

int eaudit__time_format(eaudit__tz *tz, eaudit_time t, int format, char *buf,
                        size_t size) {
  if (format == EAUDIT_TIME_RFC3339_UTC)
    return eaudit__rfc3339_format(t, buf, size);
  if (format != EAUDIT_TIME_LOCAL && format != EAUDIT_TIME_LOCAL_OFFSET)
    return eaudit__einval("unknown time format %d", format);
  eaudit__civil c;
  int rc = eaudit__tz_to_civil(tz, t, &c);
  if (rc)
    return rc;
  if (c.year < 0 || c.year > 9999)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "time %lld is outside the years 0000-9999",
                         (long long)t);
  char tmp[64];
  int n = snprintf(tmp, sizeof tmp, "%04d-%02d-%02d%c%02d:%02d:%02d", c.year,
                   c.month, c.day, format == EAUDIT_TIME_LOCAL ? ' ' : 'T',
                   c.hour, c.minute, c.second);
  if (format == EAUDIT_TIME_LOCAL_OFFSET) {
    int off = c.offset < 0 ? -c.offset : c.offset;
    n += snprintf(tmp + n, sizeof tmp - (size_t)n, "%c%02d:%02d",
                  c.offset < 0 ? '-' : '+', off / 3600, off / 60 % 60);
    /* Old local mean times have offsets in seconds (Berlin: +00:53:28);
     * print them rather than a rounded offset that names another instant. */
    if (off % 60)
      n += snprintf(tmp + n, sizeof tmp - (size_t)n, ":%02d", off % 60);
  }
  if ((size_t)n >= size)
    return too_small(size);
  memcpy(buf, tmp, (size_t)n + 1);
  return EAUDIT_OK;
}

/* Midnight starting the local day y-m-d; fields may be out of range. */
static int day_start(eaudit__tz *tz, int y, int m, int d, eaudit_time *out) {
  eaudit__civil c = {.year = y, .month = m, .day = d};
  return eaudit__tz_from_civil(tz, &c, out);
}

/* The same wall-clock time n months later (n < 0: earlier), with the day
 * clamped to the target month's length: 31 March - 1 month = 28/29 Feb. */
static int add_months(eaudit__tz *tz, eaudit_time now, int64_t n,
                      eaudit_time *out) {
  eaudit__civil c;
  int rc = eaudit__tz_to_civil(tz, now, &c);
  if (rc)
    return rc;
  int64_t m0 = c.month - 1 + n;
  int64_t y = c.year + floor_div(m0, 12);
  if (y > 300000 || y < -300000)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "%lld months from now is out of range", (long long)n);
  c.year = (int)y;
  c.month = (int)(m0 - floor_div(m0, 12) * 12) + 1;
  if (c.day > days_in_month(c.year, c.month))
    c.day = days_in_month(c.year, c.month);
  return eaudit__tz_from_civil(tz, &c, out);
}

int eaudit__past_month(eaudit__tz *tz, eaudit_time now, eaudit_time *since,
                       eaudit_time *until) {
  int rc = add_months(tz, now, -1, since);
  if (rc)
    return rc;
  *until = now;
  return EAUDIT_OK;
}

static int word_eq(const char *s, size_t len, const char *w) {
  size_t n = strlen(w);
  if (n != len)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (ch >= 'A' && ch <= 'Z')
      ch = (char)(ch - 'A' + 'a');
    if (ch != w[i])
      return 0;
  }
  return 1;
}

/* The period words. Weeks start on Monday. */
static int parse_word(eaudit__tz *tz, const char *s, size_t len,
                      eaudit_time now, eaudit_time *begin, eaudit_time *end) {
  static const char *const words[] = {"today",     "yesterday",  "this-week",
                                      "last-week", "this-month", "last-month"};
  int w = -1;
  for (int i = 0; i < 6; i++)
    if (word_eq(s, len, words[i]))
      w = i;
  if (w < 0)
    return 1;
  eaudit__civil c;
  int rc = eaudit__tz_to_civil(tz, now, &c);
  if (rc)
    return rc;
  int y = c.year, m = c.month, d = c.day;
  switch (w) {
  case 0: /* today */
    return (rc = day_start(tz, y, m, d, begin))
               ? rc
               : day_start(tz, y, m, d + 1, end);
  case 1: /* yesterday */
    return (rc = day_start(tz, y, m, d - 1, begin))
               ? rc
               : day_start(tz, y, m, d, end);
  case 2: /* this-week */
  case 3: /* last-week */
    d -= c.wday - 1;
    if (w == 3)
      d -= 7;
    return (rc = day_start(tz, y, m, d, begin))
               ? rc
               : day_start(tz, y, m, d + 7, end);
  case 4: /* this-month */
  case 5: /* last-month */
    if (w == 5)
      m--;
    return (rc = day_start(tz, y, m, 1, begin))
               ? rc
               : day_start(tz, y, m + 1, 1, end);
  }
  return 1;
}

/* [+-]N(h|m|d|w|mo|y). Hours and minutes are exact durations; days, weeks,
 * months and years are calendar steps in the zone, keeping the wall clock
 * across DST (and clamping the day for months and years). */
static int parse_relative(eaudit__tz *tz, const char *s, size_t len,
                          eaudit_time now, eaudit_time *out) {
  if (len < 3 || (s[0] != '-' && s[0] != '+'))
    return 1;
  int64_t sign = s[0] == '-' ? -1 : 1, n = 0;
  size_t i = 1;
  for (; i < len && (unsigned)(s[i] - '0') <= 9; i++) {
    n = n * 10 + (s[i] - '0');
    if (n > 100000000)
      return eaudit__error(EAUDIT_ETIME, EAUDIT_ECLASS_INVALID, 0,
                           "\"%.*s\" is too far from now", (int)len, s);
  }
  if (i == 1)
    return 1;
  const char *u = s + i;
  size_t ul = len - i;
  n *= sign;
  if (word_eq(u, ul, "h") || word_eq(u, ul, "m")) {
    int64_t d = n * (word_eq(u, ul, "h") ? 3600 : 60) * USEC_PER_SEC;
    if ((d > 0 && now > INT64_MAX - d) || (d < 0 && now < INT64_MIN + 1 - d))
      return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                           "\"%.*s\" is out of range", (int)len, s);
    *out = now + d;
    return EAUDIT_OK;
  }
  if (word_eq(u, ul, "mo"))
    return add_months(tz, now, n, out);
  if (word_eq(u, ul, "y"))
    return add_months(tz, now, n * 12, out);
  if (word_eq(u, ul, "d") || word_eq(u, ul, "w")) {
    eaudit__civil c;
    int rc = eaudit__tz_to_civil(tz, now, &c);
    if (rc)
      return rc;
    c.day += (int)(n * (word_eq(u, ul, "w") ? 7 : 1));
    return eaudit__tz_from_civil(tz, &c, out);
  }
  return 1;
}

static int time_parse(eaudit__tz *tz, const char *s, size_t len,
                      eaudit_time now, eaudit_time *begin, eaudit_time *end) {
  if (word_eq(s, len, "now")) {
    *begin = *end = now;
    return EAUDIT_OK;
  }
  int rc = parse_word(tz, s, len, now, begin, end);
  if (rc <= 0)
    return rc;
  rc = parse_relative(tz, s, len, now, begin);
  if (rc == 0)
    *end = *begin;
  if (rc <= 0)
    return rc;
  iso v;
  const char *why = iso_parse(s, len, &v);
  if (why && !(len >= 5 && s[4] == '-' && (unsigned)(s[0] - '0') <= 9))
    why = "expected now, today, yesterday, this-week, last-week, this-month, "
          "last-month, -2h, +7d, -1mo, a date or a date-time";
  if (why)
    return etime(s, len, why);
  if (v.has_offset) {
    *begin = *end = iso_utc(&v);
    return EAUDIT_OK;
  }
  if (v.has_time) {
    rc = eaudit__tz_from_civil(tz, &v.c, begin);
    *end = *begin;
    return rc;
  }
  return (rc = day_start(tz, v.c.year, v.c.month, v.c.day, begin))
             ? rc
             : day_start(tz, v.c.year, v.c.month, v.c.day + 1, end);
}

int eaudit__time_parse(eaudit__tz *tz, const char *expr, eaudit_time now,
                       eaudit_time *begin, eaudit_time *end) {
  if (!expr)
    return eaudit__error(EAUDIT_ETIME, EAUDIT_ECLASS_INVALID, 0,
                         "no time expression");
  const char *s = expr;
  size_t len = strlen(s);
  while (len && (*s == ' ' || *s == '\t'))
    s++, len--;
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
    len--;
  int rc = time_parse(tz, s, len, now, begin, end);
  /* To the caller an expression that lands outside the calendar is as bad
   * as one that does not parse. */
  if (rc == EAUDIT_ERANGE)
    return etime(s, len, "out of range");
  return rc;
}
