/* Time zones and civil time: the one module that talks to ICU. */
#ifndef EAUDIT_TZ_H
#define EAUDIT_TZ_H

#include "eaudit/common.h"

typedef struct eaudit__tz eaudit__tz;

/* A broken-down local time. */
typedef struct eaudit__civil {
  int year;
  int month;  /* 1-12 */
  int day;    /* 1-31 */
  int hour;   /* 0-23 */
  int minute; /* 0-59 */
  int second; /* 0-59 */
  int usec;   /* 0-999999 */
  int wday;   /* 1 = Monday ... 7 = Sunday (output only) */
  int offset; /* seconds east of UTC in force (output only) */
} eaudit__civil;

/* Open a zone by IANA name. EAUDIT_ETZ if ICU does not know it (ICU's
 * fallback to "Etc/Unknown" is treated as unknown). Not thread-safe per
 * object; one per store handle. */
int eaudit__tz_open(eaudit__tz **out, const char *zone);
void eaudit__tz_free(eaudit__tz *tz);
const char *eaudit__tz_name(const eaudit__tz *tz);
/* 1 when ICU knows the zone, 0 otherwise. */
int eaudit__tz_valid(const char *zone);

/* UTC instant -> local civil time. Instants beyond about +-285,000 years
 * (where ICU's double milliseconds lose precision) give EAUDIT_ERANGE. */
int eaudit__tz_to_civil(eaudit__tz *tz, eaudit_time t, eaudit__civil *out);
/* Local civil time -> UTC instant. Fields may be out of range and are
 * normalised (month 13 is January next year, day 0 the last of the previous
 * month). A time in a DST gap moves forward by the gap; an ambiguous time
 * takes the earlier instant. */
int eaudit__tz_from_civil(eaudit__tz *tz, const eaudit__civil *in,
                          eaudit_time *out);
/* Start of the local day containing t. */
int eaudit__tz_day_start(eaudit__tz *tz, eaudit_time t, eaudit_time *out);
/* The local day [start, end) containing an instant, remembered so that a
 * run of events on one day costs one comparison each. Zero-initialise. */
typedef struct eaudit__day_cache {
  eaudit_time start, end;
} eaudit__day_cache;

/* Start of the local day containing t, through the cache. */
int eaudit__tz_local_day(eaudit__tz *tz, eaudit__day_cache *c, eaudit_time t,
                         eaudit_time *out);

/* Local minute of the day (0..1439) of t. */
int eaudit__tz_minute_of_day(eaudit__tz *tz, eaudit_time t, int *out);

#endif
