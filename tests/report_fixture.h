/* The fixed fixture behind the report golden files and the Python format
 * tests: a store in Europe/Berlin with a fixed clock and random source,
 * and names that need every kind of escaping. Header-only so that both
 * the Check suite and tests/report_tool.c build it. */
#ifndef EAUDIT_REPORT_FIXTURE_H
#define EAUDIT_REPORT_FIXTURE_H

#include <eaudit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Days from civil (Howard Hinnant's algorithm), UTC. */
static inline eaudit_time rf_utc(int y, int mo, int d, int h, int mi, int s) {
  y -= mo <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  long days = era * 146097 + doe - 719468;
  return ((eaudit_time)days * 86400 + h * 3600 + mi * 60 + s) * 1000000;
}

typedef struct rf_state {
  eaudit_time now;
  uint64_t seed;
} rf_state;

static inline eaudit_time rf_clock(void *payload) {
  return ((rf_state *)payload)->now;
}

static inline int rf_random(uint8_t *buf, size_t len, void *payload) {
  rf_state *st = payload;
  for (size_t i = 0; i < len; i++) {
    st->seed ^= st->seed << 13;
    st->seed ^= st->seed >> 7;
    st->seed ^= st->seed << 17;
    buf[i] = (uint8_t)(st->seed >> 24);
  }
  return 0;
}

#define RF_CHECK(expr)                                                         \
  do {                                                                         \
    int rc_ = (expr);                                                          \
    if (rc_ != 0) {                                                            \
      fprintf(stderr, "%s:%d: %s -> %d (%s)\n", __FILE__, __LINE__, #expr,     \
              rc_, eaudit_error_last()->message);                              \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* Names the fixture uses (the Python test knows them too). */
#define RF_USER1 "Ada, \"The\" Admin"
#define RF_USER42_OLD "=cmd|' /C calc'!A0"
#define RF_USER42_NEW "Zo\xc3\xab \xc3\x9cn\xc3\xaf" "code \xe5\x90\x8d\xe5\x89\x8d"
#define RF_USER7 "Line\nbreak <script>alert(1)</script>"
#define RF_DOOR7 "North ]]> door & \"hall\""
#define RF_GROUP3 "@group+plus"
#define RF_DEVICE5 "-minus device"
#define RF_SITE1 "HQ, Main"
#define RF_LONG_LEN 1000
#define RF_LONG_DETAILS 12000

static inline void rf_long_name(char *buf) {
  for (int i = 0; i < RF_LONG_LEN; i++)
    buf[i] = (char)('a' + i % 26);
  buf[RF_LONG_LEN] = '\0';
}

static inline void rf_add(eaudit_store *s, int type, eaudit_time at,
                          int64_t subject, int64_t actor, int door, int group,
                          int device, int site, int credential, int reason,
                          const char *details) {
  eaudit_event *ev = NULL;
  RF_CHECK(eaudit_event_new(&ev));
  RF_CHECK(eaudit_event_set(ev, EAUDIT_FIELD_TYPE, type));
  RF_CHECK(eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, at));
  if (subject >= 0)
    RF_CHECK(eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, subject));
  if (actor >= 0)
    RF_CHECK(eaudit_event_set(ev, EAUDIT_FIELD_ACTOR, actor));
  if (door)
    RF_CHECK(eaudit_event_set(ev, EAUDIT_FIELD_DOOR, door));
  if (group)
    RF_CHECK(eaudit_event_set(ev, EAUDIT_FIELD_GROUP, group));
  if (device)
    RF_CHECK(eaudit_event_set(ev, EAUDIT_FIELD_DEVICE, device));
  if (site)
    RF_CHECK(eaudit_event_set(ev, EAUDIT_FIELD_SITE, site));
  if (credential)
    RF_CHECK(eaudit_event_set(ev, EAUDIT_FIELD_CREDENTIAL, credential));
  if (reason)
    RF_CHECK(eaudit_event_set(ev, EAUDIT_FIELD_REASON, reason));
  if (details)
    RF_CHECK(eaudit_event_set_details(ev, details, strlen(details)));
  RF_CHECK(eaudit_store_append(s, ev));
  eaudit_event_free(ev);
}

/* Open the fixture store at path (":memory:" is fine). st must outlive it. */
static inline eaudit_store *rf_open(const char *path, rf_state *st) {
  st->now = rf_utc(2026, 11, 10, 12, 0, 0);
  st->seed = 0x9E3779B97F4A7C15ull;
  eaudit_options *o = NULL;
  RF_CHECK(eaudit_options_new(&o));
  RF_CHECK(eaudit_options_set_clock(o, rf_clock, st));
  RF_CHECK(eaudit_options_set_random(o, rf_random, st));
  RF_CHECK(eaudit_options_set_str(o, EAUDIT_OPT_TIME_ZONE, "Europe/Berlin"));
  eaudit_store *s = NULL;
  RF_CHECK(eaudit_store_open(&s, path, o));
  eaudit_options_free(o);
  char long_name[RF_LONG_LEN + 1];
  rf_long_name(long_name);
  eaudit_time t0 = EAUDIT_TIME_NONE;
  RF_CHECK(eaudit_store_set_user(s, 1, RF_USER1, EAUDIT_USER_ROLE_ADMIN, t0));
  RF_CHECK(eaudit_store_set_user(s, 42, RF_USER42_OLD, 0, t0));
  RF_CHECK(eaudit_store_set_user(s, 42, RF_USER42_NEW, 0,
                                 rf_utc(2026, 11, 5, 0, 0, 0)));
  RF_CHECK(eaudit_store_set_user(s, 7, RF_USER7, 0, t0));
  RF_CHECK(eaudit_store_set_name(s, EAUDIT_KIND_DOOR, 7, RF_DOOR7, t0));
  RF_CHECK(eaudit_store_set_name(s, EAUDIT_KIND_DOOR, 8, long_name, t0));
  RF_CHECK(eaudit_store_set_name(s, EAUDIT_KIND_GROUP, 3, RF_GROUP3, t0));
  RF_CHECK(eaudit_store_set_name(s, EAUDIT_KIND_DEVICE, 5, RF_DEVICE5, t0));
  RF_CHECK(eaudit_store_set_name(s, EAUDIT_KIND_SITE, 1, RF_SITE1, t0));

  rf_add(s, EAUDIT_TYPE_DOOR_OPENED, rf_utc(2026, 10, 20, 8, 0, 0), 42, -1, 7,
         0, 0, 1, EAUDIT_CREDENTIAL_KEYCARD, 0, NULL);
  rf_add(s, EAUDIT_TYPE_ADMIN_AREA_LOGIN, rf_utc(2026, 11, 1, 9, 0, 0), 1, -1,
         0, 0, 5, 0, 0, EAUDIT_REASON_NEW_BROWSER,
         "{\"browser\": \"Firefox 133\", \"ip\": \"192.0.2.7\"}");
  rf_add(s, EAUDIT_TYPE_DOOR_OPENED, rf_utc(2026, 11, 2, 7, 30, 15) + 123456,
         42, -1, 7, 0, 0, 1, EAUDIT_CREDENTIAL_KEYCARD, 0,
         "{\"reader\": \"north, \\\"main\\\"\\n<b>]]>\"}");
  rf_add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, rf_utc(2026, 11, 2, 22, 59, 59), 42,
         -1, 8, 0, 0, 1, EAUDIT_CREDENTIAL_QR, EAUDIT_REASON_OUTSIDE_SCHEDULE,
         NULL);
  rf_add(s, EAUDIT_TYPE_GROUP_ADDED, rf_utc(2026, 11, 3, 14, 5, 9), 42, 1, 0,
         3, 0, 0, 0, 0, NULL);
  rf_add(s, EAUDIT_TYPE_PERMISSIONS_EXPIRED, rf_utc(2026, 11, 4, 0, 0, 0), 7,
         -1, 0, 0, 0, 0, 0, 0, NULL);
  rf_add(s, EAUDIT_TYPE_PERMISSIONS_EXPIRED, rf_utc(2026, 11, 4, 0, 0, 0), -1,
         -1, 0, 3, 0, 0, 0, 0, NULL);
  rf_add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, rf_utc(2026, 11, 4, 10, 0, 0), 7,
         -1, 0, 0, 0, 0, EAUDIT_CREDENTIAL_KEYCARD,
         EAUDIT_REASON_CARD_READ_ERROR,
         "{\"msg\": \"=SUM(A1)\", \"note\": \"caf\xc3\xa9" " \\u00e9\"}");
  rf_add(s, EAUDIT_TYPE_DOOR_OPENED, rf_utc(2026, 11, 6, 16, 45, 0), 42, -1,
         7, 0, 0, 1, EAUDIT_CREDENTIAL_MOBILE, 0, NULL);
  /* A very long details value: {"note": "abc...xyz..."}. */
  char *long_details = malloc(RF_LONG_DETAILS + 32);
  if (long_details == NULL)
    abort();
  strcpy(long_details, "{\"note\": \"");
  size_t n = strlen(long_details);
  for (int i = 0; i < RF_LONG_DETAILS; i++)
    long_details[n++] = (char)('a' + i % 26);
  strcpy(long_details + n, "\"}");
  rf_add(s, EAUDIT_TYPE_USER_UPDATED, rf_utc(2026, 11, 7, 11, 0, 0), 1, -1, 0,
         0, 0, 0, EAUDIT_CREDENTIAL_PIN, EAUDIT_REASON_PIN_CHANGED,
         long_details);
  free(long_details);
  return s;
}

/* The fixture's report query: all users, 1-8 November, Berlin time. */
static inline eaudit_query *rf_query(eaudit_store *s) {
  eaudit_query *q = NULL;
  eaudit_time a, b, c, d;
  RF_CHECK(eaudit_query_new(&q));
  RF_CHECK(eaudit_store_parse_time(s, "2026-11-01", EAUDIT_TIME_NONE, &a, &b));
  RF_CHECK(eaudit_store_parse_time(s, "2026-11-08", EAUDIT_TIME_NONE, &c, &d));
  RF_CHECK(eaudit_query_set_interval(q, a, c));
  return q;
}

/* Write the fixture's report in a format into fp. */
static inline int rf_report(eaudit_store *s, int format, int neutralize,
                            FILE *fp) {
  eaudit_query *q = rf_query(s);
  eaudit_report_options *o = NULL;
  RF_CHECK(eaudit_report_options_new(&o));
  RF_CHECK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_FORMAT, format));
  RF_CHECK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_CSV_NEUTRALIZE,
                                         neutralize));
  RF_CHECK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_ACTOR, 1));
  RF_CHECK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_RECORD, 0));
  RF_CHECK(eaudit_report_options_set_str(o, EAUDIT_REPORT_OPT_SYSLOG_HOSTNAME,
                                         "door-ctl-1"));
  eaudit_sink *k = NULL;
  RF_CHECK(eaudit_sink_from_file(&k, fp));
  int rc = eaudit_store_report(s, q, o, k);
  eaudit_sink_free(k);
  eaudit_report_options_free(o);
  eaudit_query_free(q);
  return rc;
}

#endif
