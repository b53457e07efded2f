/* Time zones through ICU's C API. Every other module goes through here, so
 * ICU types never leak and the library never touches the process's TZ. */
#include "tz.h"

#include "internal.h"

#include <float.h>
#include <string.h>
#include <unicode/ucal.h>

/* ICU keeps instants as double milliseconds: integers are exact only below
 * 2^53, which covers about +-285,000 years. Outside that we refuse rather
 * than round. */
#define EAUDIT__TZ_MAX_MS 9007199254740991.0
/* Bounds on normalised civil fields, well inside ICU's int32 arithmetic. */
#define EAUDIT__TZ_MAX_YEAR 300000
#define EAUDIT__TZ_MAX_DAYS 100000000

struct eaudit__tz {
  char *name;
  UCalendar *cal; /* owned: one per object, so objects never share state */
};

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int icu_error(UErrorCode st, const char *what) {
  if (st == U_MEMORY_ALLOCATION_ERROR)
    return eaudit__enomem();
  return eaudit__error(EAUDIT_ERROR, EAUDIT_ECLASS_INVALID, (int)st,
                       "ICU: %s: %s", what, u_errorName(st));
}

/* Zone IDs are ASCII; anything else cannot name a zone. */
static int to_uchars(const char *s, UChar *out, size_t cap) {
  size_t n = strlen(s);
  if (n == 0 || n >= cap)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if ((unsigned char)s[i] >= 0x80 || s[i] <= ' ')
      return -1;
    out[i] = (UChar)s[i];
  }
  out[n] = 0;
  return (int)n;
}

/* ICU opens any unknown ID as "Etc/Unknown" (GMT) without an error, so ask
 * for the canonical ID instead: unknown IDs fail, and Etc/Unknown and custom
 * "GMT+05:00" IDs are not system zones. Only IANA system zones count. */
static int zone_known(const UChar *id, int len) {
  UChar canon[128];
  UBool is_system = 0;
  UErrorCode st = U_ZERO_ERROR;
  ucal_getCanonicalTimeZoneID(id, len, canon, 128, &is_system, &st);
  return U_SUCCESS(st) && is_system;
}

int eaudit__tz_valid(const char *zone) {
  UChar id[128];
  int len = zone ? to_uchars(zone, id, 128) : -1;
  return len > 0 && zone_known(id, len);
}

int eaudit__tz_open(eaudit__tz **out, const char *zone) {
  *out = NULL;
  UChar id[128];
  int len = zone ? to_uchars(zone, id, 128) : -1;
  if (len <= 0 || !zone_known(id, len))
    return eaudit__error(EAUDIT_ETZ, EAUDIT_ECLASS_INVALID, 0,
                         "unknown time zone \"%.100s\"",
                         zone ? zone : "(null)");
  eaudit__tz *tz = eaudit__calloc(1, sizeof *tz);
  if (!tz || !(tz->name = eaudit__strdup(zone))) {
    eaudit__free(tz);
    return eaudit__enomem();
  }
  UErrorCode st = U_ZERO_ERROR;
  tz->cal = ucal_open(id, len, "en_US_POSIX", UCAL_GREGORIAN, &st);
  /* Proleptic Gregorian, so dates before 1582 agree with RFC 3339. */
  if (U_SUCCESS(st))
    ucal_setGregorianChange(tz->cal, -DBL_MAX, &st);
  if (U_FAILURE(st)) {
    int rc = icu_error(st, "opening a calendar");
    eaudit__tz_free(tz);
    return rc;
  }
  /* Out-of-range fields are normalised, not rejected. A wall time in a
   * gap is read with the offset before the gap, which moves it forward by
   * the gap's length (02:30 -> 03:30); a repeated wall time takes the first,
   * earlier, instant. */
  ucal_setAttribute(tz->cal, UCAL_LENIENT, 1);
  ucal_setAttribute(tz->cal, UCAL_SKIPPED_WALL_TIME, UCAL_WALLTIME_LAST);
  ucal_setAttribute(tz->cal, UCAL_REPEATED_WALL_TIME, UCAL_WALLTIME_FIRST);
  *out = tz;
  return EAUDIT_OK;
}

void eaudit__tz_free(eaudit__tz *tz) {
  if (!tz)
    return;
  if (tz->cal)
    ucal_close(tz->cal);
  eaudit__free(tz->name);
  eaudit__free(tz);
}

const char *eaudit__tz_name(const eaudit__tz *tz) { return tz->name; }

int eaudit__tz_to_civil(eaudit__tz *tz, eaudit_time t, eaudit__civil *out) {
  /* Split off the sub-millisecond part with floor division so that it is
   * never negative: -1 us is 1969-12-31T23:59:59.999999. */
  int64_t ms = floor_div(t, 1000);
  if (ms > EAUDIT__TZ_MAX_MS || ms < -EAUDIT__TZ_MAX_MS)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "time %lld is out of the supported range",
                         (long long)t);
  int rem = (int)(t - ms * 1000);
  UErrorCode st = U_ZERO_ERROR;
  ucal_setMillis(tz->cal, (UDate)ms, &st);
  eaudit__civil c = {0};
  c.year = ucal_get(tz->cal, UCAL_EXTENDED_YEAR, &st);
  c.month = ucal_get(tz->cal, UCAL_MONTH, &st) + 1;
  c.day = ucal_get(tz->cal, UCAL_DATE, &st);
  c.hour = ucal_get(tz->cal, UCAL_HOUR_OF_DAY, &st);
  c.minute = ucal_get(tz->cal, UCAL_MINUTE, &st);
  c.second = ucal_get(tz->cal, UCAL_SECOND, &st);
  c.usec = ucal_get(tz->cal, UCAL_MILLISECOND, &st) * 1000 + rem;
  /* ICU counts Sunday = 1; we count Monday = 1. */
  c.wday = (ucal_get(tz->cal, UCAL_DAY_OF_WEEK, &st) + 5) % 7 + 1;
  c.offset = (ucal_get(tz->cal, UCAL_ZONE_OFFSET, &st) +
              ucal_get(tz->cal, UCAL_DST_OFFSET, &st)) /
             1000;
  if (U_FAILURE(st))
    return icu_error(st, "reading local time");
  *out = c;
  return EAUDIT_OK;
}

int eaudit__tz_from_civil(eaudit__tz *tz, const eaudit__civil *in,
                          eaudit_time *out) {
  /* Fold months into years and microseconds into milliseconds ourselves:
   * ICU would do it too, but in int32 fields that could overflow. */
  int64_t m0 = (int64_t)in->month - 1;
  int64_t year = (int64_t)in->year + floor_div(m0, 12);
  int month = (int)(m0 - floor_div(m0, 12) * 12);
  int64_t ms_carry = floor_div(in->usec, 1000);
  int rem = (int)(in->usec - ms_carry * 1000);
  if (year > EAUDIT__TZ_MAX_YEAR || year < -EAUDIT__TZ_MAX_YEAR ||
      in->day > EAUDIT__TZ_MAX_DAYS || in->day < -EAUDIT__TZ_MAX_DAYS)
    goto range;
  ucal_clear(tz->cal);
  ucal_set(tz->cal, UCAL_EXTENDED_YEAR, (int32_t)year);
  ucal_set(tz->cal, UCAL_MONTH, month);
  ucal_set(tz->cal, UCAL_DATE, in->day);
  ucal_set(tz->cal, UCAL_HOUR_OF_DAY, in->hour);
  ucal_set(tz->cal, UCAL_MINUTE, in->minute);
  ucal_set(tz->cal, UCAL_SECOND, in->second);
  ucal_set(tz->cal, UCAL_MILLISECOND, (int32_t)ms_carry);
  UErrorCode st = U_ZERO_ERROR;
  UDate ms = ucal_getMillis(tz->cal, &st);
  if (U_FAILURE(st))
    return icu_error(st, "computing a local time");
  if (!(ms <= EAUDIT__TZ_MAX_MS && ms >= -EAUDIT__TZ_MAX_MS))
    goto range;
  *out = (eaudit_time)ms * 1000 + rem;
  return EAUDIT_OK;
range:
  return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                       "local time %d-%d-%d %d:%d:%d is out of range", in->year,
                       in->month, in->day, in->hour, in->minute, in->second);
}

int eaudit__tz_day_start(eaudit__tz *tz, eaudit_time t, eaudit_time *out) {
  eaudit__civil c = {0};
  int rc = eaudit__tz_to_civil(tz, t, &c);
  if (rc)
    return rc;
  /* Where midnight falls in a gap, 00:00 moves forward to the first
   * instant that exists, which is still the day's start. */
  c.hour = c.minute = c.second = c.usec = 0;
  return eaudit__tz_from_civil(tz, &c, out);
}

int eaudit__tz_local_day(eaudit__tz *tz, eaudit__day_cache *c, eaudit_time t,
                         eaudit_time *out) {
  if (!(c->end > c->start && t >= c->start && t < c->end)) {
    int rc = eaudit__tz_day_start(tz, t, &c->start);
    eaudit__civil cv = {0};
    if (rc == 0)
      rc = eaudit__tz_to_civil(tz, c->start, &cv);
    if (rc)
      return rc;
    /* The next day starts 23 to 25 hours later: ask the calendar. */
    cv.day += 1;
    cv.hour = cv.minute = cv.second = cv.usec = 0;
    if ((rc = eaudit__tz_from_civil(tz, &cv, &c->end)))
      return rc;
  }
  *out = c->start;
  return EAUDIT_OK;
}

int eaudit__tz_minute_of_day(eaudit__tz *tz, eaudit_time t, int *out) {
  eaudit__civil c = {0};
  int rc = eaudit__tz_to_civil(tz, t, &c);
  if (rc)
    return rc;
  *out = c.hour * 60 + c.minute;
  return EAUDIT_OK;
}
