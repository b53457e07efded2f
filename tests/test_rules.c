/* The anomaly rules engine: each built-in rule with its near misses,
 * episodes, lateness, overrides, malformed rule sets, findings and their
 * workflow, subscribers, restarts, and incremental == batch. */
#include "testutil.h"

#include "rules_internal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN (INT64_C(60) * 1000000)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static tu_clock clk;
static uint64_t seed;

static eaudit_store *open_mem(void) {
  clk.now = tu_utc(2026, 11, 3, 12, 0, 0);
  clk.step = 1;
  seed = 42;
  eaudit_options *o = tu_options(&clk, &seed);
  eaudit_store *s = NULL;
  /* A fresh database on PostgreSQL (EAUDIT_TEST_BACKEND), else memory. */
  if (tu_backend_pg())
    EA_OK(tu_store_open(&s, "rules", o));
  else
    EA_OK(eaudit_store_open(&s, ":memory:", o));
  eaudit_options_free(o);
  return s;
}

typedef struct evspec {
  int type;
  eaudit_time at;
  int64_t subject, door, group;
  int reason;
} evspec;

static int64_t add(eaudit_store *s, int type, eaudit_time at, int64_t subject,
                   int64_t door, int64_t group) {
  eaudit_event *ev = tu_event(type, at, subject);
  if (door >= 0)
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_DOOR, door));
  if (group >= 0)
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_GROUP, group));
  if (type == EAUDIT_TYPE_DOOR_OPEN_FAILED)
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_REASON, EAUDIT_REASON_NO_PERMISSION));
  EA_OK(eaudit_store_append(s, ev));
  int64_t seq;
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &seq));
  eaudit_event_free(ev);
  return seq;
}

/* --- unrecognized_device_abuse --- */

START_TEST(unrecognized_twice_in_a_day_fires) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 8, 0, 0);
  int64_t a = add(s, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, t0, 42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "unrecognized_device_abuse"), 0);
  int64_t b = add(s, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, t0 + 23 * HOUR, 42,
                  -1, -1);
  eaudit_findings *l = tu_findings(s, "unrecognized_device_abuse");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  const eaudit_finding *f = eaudit_findings_get(l, 0);
  ck_assert_str_eq(eaudit_finding_key(f), "subject:42");
  ck_assert_int_eq(eaudit_finding_severity(f), EAUDIT_SEVERITY_WARNING);
  int64_t subj, seq;
  EA_OK(eaudit_finding_subject(f, &subj));
  ck_assert_int_eq(subj, 42);
  ck_assert_int_eq(eaudit_finding_first_at(f), t0);
  ck_assert_int_eq(eaudit_finding_last_at(f), t0 + 23 * HOUR);
  ck_assert_uint_eq(eaudit_finding_event_count(f), 2);
  EA_OK(eaudit_finding_event(f, 0, NULL, &seq));
  ck_assert_int_eq(seq, a);
  EA_OK(eaudit_finding_event(f, 1, NULL, &seq));
  ck_assert_int_eq(seq, b);
  ck_assert_int_eq(eaudit_finding_state(f), EAUDIT_FINDING_OPEN);
  eaudit_findings_free(l);
  eaudit_store_free(s);
}
END_TEST

START_TEST(unrecognized_25h_apart_does_not_fire) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 8, 0, 0);
  add(s, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, t0, 42, -1, -1);
  add(s, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, t0 + 25 * HOUR, 42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "unrecognized_device_abuse"), 0);
  /* Another user's login does not count for 42. */
  add(s, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, t0 + 26 * HOUR, 43, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "unrecognized_device_abuse"), 0);
  eaudit_store_free(s);
}
END_TEST

START_TEST(unrecognized_weekly_for_a_year_does_not_fire) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2025, 11, 3, 7, 30, 0);
  for (int w = 0; w < 53; w++) /* OS updates, one a week */
    add(s, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, t0 + w * 7 * DAY + w * MIN,
        42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "unrecognized_device_abuse"), 0);
  eaudit_store_free(s);
}
END_TEST

START_TEST(unrecognized_three_days_in_a_week_fires) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 2, 9, 0, 0);
  add(s, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, t0, 42, -1, -1);
  add(s, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, t0 + 2 * DAY, 42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "unrecognized_device_abuse"), 0);
  add(s, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, t0 + 5 * DAY, 42, -1, -1);
  eaudit_findings *l = tu_findings(s, "unrecognized_device_abuse");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  ck_assert_uint_eq(eaudit_finding_event_count(eaudit_findings_get(l, 0)), 3);
  eaudit_findings_free(l);
  eaudit_store_free(s);
}
END_TEST

/* --- door_failure_burst --- */

START_TEST(door_five_failures_in_ten_minutes_fire) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  for (int i = 0; i < 5; i++)
    add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + i * 2 * MIN, 42, 7, -1);
  eaudit_findings *l = tu_findings(s, "door_failure_burst");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  ck_assert_str_eq(eaudit_finding_key(eaudit_findings_get(l, 0)), "subject:42");
  ck_assert_uint_eq(eaudit_finding_event_count(eaudit_findings_get(l, 0)), 5);
  eaudit_findings_free(l);
  eaudit_store_free(s);
}
END_TEST

/* Without a rule set of its own (the built-in default) the central store
 * evaluates its own chain only: five failures shipped in from a site
 * (where they fired) open nothing there, while the same five appended to
 * it do. With one, shipped events are evaluated (test_central_rules). */
START_TEST(shipped_events_are_not_evaluated_centrally) {
  TU_PG_ONLY("shipping needs a central store");
  eaudit_store *c = open_mem();
  char central[1024];
  snprintf(central, sizeof central, "%s", tu_store_last_target());
  char site_path[512];
  tu_temp_path(site_path, sizeof site_path, "rules-site");
  eaudit_store *site;
  EA_OK(eaudit_store_open(&site, site_path, NULL));
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  for (int i = 0; i < 5; i++)
    add(site, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + i * 2 * MIN, 42, 7, -1);
  ck_assert_uint_eq(tu_nfind(site, "door_failure_burst"), 1);
  int64_t n;
  EA_OK(eaudit_store_ship(site, central, 0, &n));
  ck_assert_int_eq(n, 5);
  ck_assert_uint_eq(tu_nfind(c, "door_failure_burst"), 0);
  for (int i = 0; i < 5; i++)
    add(c, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + i * 2 * MIN, 42, 7, -1);
  eaudit_findings *l = tu_findings(c, "door_failure_burst");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  /* Its own five events only, by their seqs on the own chain. */
  const eaudit_finding *f = eaudit_findings_get(l, 0);
  ck_assert_uint_eq(eaudit_finding_event_count(f), 5);
  int64_t seq;
  EA_OK(eaudit_finding_event(f, 0, NULL, &seq));
  ck_assert_int_eq(seq, 1);
  eaudit_findings_free(l);
  eaudit_store_free(site);
  tu_remove_store(site_path);
  eaudit_store_free(c);
}
END_TEST

START_TEST(door_four_failures_do_not_fire) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  for (int i = 0; i < 4; i++)
    add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + i * MIN, 42, 7, -1);
  ck_assert_uint_eq(tu_nfind(s, "door_failure_burst"), 0);
  eaudit_store_free(s);
}
END_TEST

START_TEST(door_failures_seven_minutes_apart_do_not_fire) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  for (int i = 0; i < 5; i++)
    add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + i * 7 * MIN, 42, 7, -1);
  ck_assert_uint_eq(tu_nfind(s, "door_failure_burst"), 0);
  eaudit_store_free(s);
}
END_TEST

START_TEST(door_three_users_at_one_door_fire) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0, 1, 7, -1);
  add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + MIN, 1, 7, -1);
  add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + 2 * MIN, 2, 7, -1);
  add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + 3 * MIN, 3, 8, -1); /* other door */
  ck_assert_uint_eq(tu_nfind(s, "door_failure_burst"), 0);
  add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + 9 * MIN, 3, 7, -1);
  eaudit_findings *l = tu_findings(s, "door_failure_burst");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  const eaudit_finding *f = eaudit_findings_get(l, 0);
  ck_assert_str_eq(eaudit_finding_key(f), "door:7");
  int64_t subj;
  ck_assert_int_eq(eaudit_finding_subject(f, &subj), EAUDIT_ENOTFOUND);
  ck_assert_uint_eq(eaudit_finding_event_count(f), 4);
  eaudit_findings_free(l);
  eaudit_store_free(s);
}
END_TEST

/* --- keycard_add_failures and credential_churn --- */

START_TEST(keycard_three_failures_in_an_hour_fire) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  for (int i = 0; i < 3; i++)
    add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + i * 29 * MIN, 42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "keycard_add_failures"), 1);
  eaudit_findings *l = tu_findings(s, "keycard_add_failures");
  ck_assert_int_eq(eaudit_finding_severity(eaudit_findings_get(l, 0)),
                   EAUDIT_SEVERITY_INFO);
  eaudit_findings_free(l);
  eaudit_store_free(s);
}
END_TEST

START_TEST(keycard_failures_over_an_hour_apart_do_not_fire) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  for (int i = 0; i < 3; i++)
    add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + i * 61 * MIN, 42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "keycard_add_failures"), 0);
  /* Exactly an hour from the first: the window is [t, t + 1h). */
  eaudit_store_free(s);
  s = open_mem();
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0, 42, -1, -1);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 30 * MIN, 42, -1, -1);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + HOUR, 42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "keycard_add_failures"), 0);
  eaudit_store_free(s);
}
END_TEST

START_TEST(credential_churn_fires_at_five_a_day) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 1, 0, 0);
  for (int i = 0; i < 4; i++)
    add(s, EAUDIT_TYPE_USER_UPDATED, t0 + i * 5 * HOUR, 42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "credential_churn"), 0);
  add(s, EAUDIT_TYPE_USER_UPDATED, t0 + 23 * HOUR, 42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "credential_churn"), 1);
  eaudit_store_free(s);
  s = open_mem();
  for (int i = 0; i < 5; i++) /* five over five days */
    add(s, EAUDIT_TYPE_USER_UPDATED, t0 + i * DAY, 42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "credential_churn"), 0);
  eaudit_store_free(s);
}
END_TEST

/* --- temporary_privilege --- */

START_TEST(temporary_privilege_fires_within_an_hour) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  int64_t a = add(s, EAUDIT_TYPE_GROUP_ADDED, t0, 42, -1, 5);
  add(s, EAUDIT_TYPE_DOOR_OPENED, t0 + 5 * MIN, 43, 7, -1); /* someone else */
  int64_t b = add(s, EAUDIT_TYPE_DOOR_OPENED, t0 + 10 * MIN, 42, 7, -1);
  add(s, EAUDIT_TYPE_GROUP_REMOVED, t0 + 20 * MIN, 42, -1, 6); /* other group */
  ck_assert_uint_eq(tu_nfind(s, "temporary_privilege"), 0);
  int64_t c = add(s, EAUDIT_TYPE_GROUP_REMOVED, t0 + 50 * MIN, 42, -1, 5);
  eaudit_findings *l = tu_findings(s, "temporary_privilege");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  const eaudit_finding *f = eaudit_findings_get(l, 0);
  ck_assert_uint_eq(eaudit_finding_event_count(f), 3);
  int64_t seq;
  EA_OK(eaudit_finding_event(f, 0, NULL, &seq));
  ck_assert_int_eq(seq, a);
  EA_OK(eaudit_finding_event(f, 1, NULL, &seq));
  ck_assert_int_eq(seq, b);
  EA_OK(eaudit_finding_event(f, 2, NULL, &seq));
  ck_assert_int_eq(seq, c);
  eaudit_findings_free(l);
  eaudit_store_free(s);
}
END_TEST

START_TEST(temporary_privilege_removal_two_hours_later_does_not_fire) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  add(s, EAUDIT_TYPE_GROUP_ADDED, t0, 42, -1, 5);
  add(s, EAUDIT_TYPE_DOOR_OPENED, t0 + 10 * MIN, 42, 7, -1);
  add(s, EAUDIT_TYPE_GROUP_REMOVED, t0 + 2 * HOUR, 42, -1, 5);
  ck_assert_uint_eq(tu_nfind(s, "temporary_privilege"), 0);
  /* Added and removed within the hour without opening a door: no. */
  add(s, EAUDIT_TYPE_GROUP_ADDED, t0 + 3 * HOUR, 42, -1, 5);
  add(s, EAUDIT_TYPE_GROUP_REMOVED, t0 + 3 * HOUR + 10 * MIN, 42, -1, 5);
  ck_assert_uint_eq(tu_nfind(s, "temporary_privilege"), 0);
  eaudit_store_free(s);
}
END_TEST

/* --- expired_while_inside --- */

static const char areas_rules[] =
    "{\"rules\": [{\"id\": \"expired_while_inside\", \"areas\": ["
    "{\"id\": 1, \"entry_doors\": [10], \"exit_doors\": [11]},"
    "{\"id\": 2, \"entry_doors\": [20], \"exit_doors\": [21],"
    " \"checkin_to_exit\": false}]}]}";

START_TEST(expired_while_inside_fires_critical) {
  eaudit_store *s = open_mem();
  EA_OK(eaudit_store_set_rules(s, areas_rules, strlen(areas_rules), 1));
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  int64_t in = add(s, EAUDIT_TYPE_DOOR_OPENED, t0, 42, 10, -1);
  add(s, EAUDIT_TYPE_DOOR_OPENED, t0 + MIN, 42, 99, -1); /* inner door */
  int64_t ex = add(s, EAUDIT_TYPE_PERMISSIONS_EXPIRED, t0 + HOUR, 42, -1, -1);
  eaudit_findings *l = tu_findings(s, "expired_while_inside");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  const eaudit_finding *f = eaudit_findings_get(l, 0);
  ck_assert_int_eq(eaudit_finding_severity(f), EAUDIT_SEVERITY_CRITICAL);
  int64_t seq;
  EA_OK(eaudit_finding_event(f, 0, NULL, &seq));
  ck_assert_int_eq(seq, in);
  EA_OK(eaudit_finding_event(f, 1, NULL, &seq));
  ck_assert_int_eq(seq, ex);
  eaudit_findings_free(l);
  eaudit_store_free(s);
}
END_TEST

START_TEST(expired_after_leaving_or_in_open_area_does_not_fire) {
  eaudit_store *s = open_mem();
  EA_OK(eaudit_store_set_rules(s, areas_rules, strlen(areas_rules), 1));
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  add(s, EAUDIT_TYPE_DOOR_OPENED, t0, 42, 10, -1);
  add(s, EAUDIT_TYPE_DOOR_OPENED, t0 + MIN, 42, 11, -1); /* left */
  add(s, EAUDIT_TYPE_PERMISSIONS_EXPIRED, t0 + HOUR, 42, -1, -1);
  add(s, EAUDIT_TYPE_DOOR_OPENED, t0, 43, 20, -1); /* free exit */
  add(s, EAUDIT_TYPE_PERMISSIONS_EXPIRED, t0 + HOUR, 43, -1, -1);
  add(s, EAUDIT_TYPE_PERMISSIONS_EXPIRED, t0 + HOUR, 44, -1, -1); /* never in */
  ck_assert_uint_eq(tu_nfind(s, "expired_while_inside"), 0);
  eaudit_store_free(s);
}
END_TEST

/* --- admin_new_device_off_hours, with a histogram double --- */

static int64_t hist[24];
static int hours_double(eaudit_store *s, int64_t user, int64_t counts[24],
                        void *payload) {
  (void)s;
  (void)payload;
  if (user != 42)
    return EAUDIT_ENOTFOUND;
  memcpy(counts, hist, sizeof hist);
  return 0;
}

START_TEST(admin_login_at_a_rare_hour_fires) {
  eaudit_store *s = open_mem();
  eaudit__rules_set_login_hours_fn(s, hours_double, NULL);
  memset(hist, 0, sizeof hist);
  for (int h = 8; h < 18; h++)
    hist[h] = 10; /* 100 logins in office hours */
  hist[3] = 1;    /* this login */
  add(s, EAUDIT_TYPE_ADMIN_AREA_LOGIN, tu_utc(2026, 11, 3, 3, 15, 0), 42, -1,
      -1);
  ck_assert_uint_eq(tu_nfind(s, "admin_new_device_off_hours"), 1);
  /* Office hours: no. An hour next to office hours is not rare either. */
  add(s, EAUDIT_TYPE_ADMIN_AREA_LOGIN, tu_utc(2026, 11, 4, 10, 0, 0), 42, -1,
      -1);
  add(s, EAUDIT_TYPE_ADMIN_AREA_LOGIN, tu_utc(2026, 11, 5, 18, 30, 0), 42, -1,
      -1);
  ck_assert_uint_eq(tu_nfind(s, "admin_new_device_off_hours"), 1);
  /* No history at all (user 43): no. */
  add(s, EAUDIT_TYPE_ADMIN_AREA_LOGIN, tu_utc(2026, 11, 5, 3, 0, 0), 43, -1,
      -1);
  ck_assert_uint_eq(tu_nfind(s, "admin_new_device_off_hours"), 1);
  eaudit_store_free(s);
}
END_TEST

START_TEST(admin_login_with_short_history_does_not_fire) {
  eaudit_store *s = open_mem();
  eaudit__rules_set_login_hours_fn(s, hours_double, NULL);
  memset(hist, 0, sizeof hist);
  for (int h = 8; h < 18; h++)
    hist[h] = 1; /* 10 logins: below min_history 20 */
  hist[3] = 1;
  add(s, EAUDIT_TYPE_ADMIN_AREA_LOGIN, tu_utc(2026, 11, 3, 3, 15, 0), 42, -1,
      -1);
  ck_assert_uint_eq(tu_nfind(s, "admin_new_device_off_hours"), 0);
  eaudit_store_free(s);
}
END_TEST

/* --- episodes --- */

START_TEST(episode_opens_extends_closes_and_reopens) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  for (int i = 0; i < 5; i++)
    add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + i * MIN, 42, 7, -1);
  eaudit_findings *l = tu_findings(s, "door_failure_burst");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  const eaudit_finding *f = eaudit_findings_get(l, 0);
  uint8_t id1[16];
  EA_OK(eaudit_finding_id(f, id1));
  ck_assert_int_eq(eaudit_finding_quiet_until(f), t0 + 4 * MIN + 10 * MIN);
  eaudit_findings_free(l);
  /* Still holding 6 min later: the same finding grows. */
  add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + 6 * MIN, 42, 7, -1);
  l = tu_findings(s, "door_failure_burst");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  f = eaudit_findings_get(l, 0);
  ck_assert_uint_eq(eaudit_finding_event_count(f), 6);
  ck_assert_int_eq(eaudit_finding_last_at(f), t0 + 6 * MIN);
  ck_assert_int_eq(eaudit_finding_quiet_until(f), t0 + 16 * MIN);
  eaudit_findings_free(l);
  /* A failure that does not make the condition hold extends nothing. */
  add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + 15 * MIN + 30000000, 42, 7, -1);
  l = tu_findings(s, "door_failure_burst");
  ck_assert_uint_eq(eaudit_finding_event_count(eaudit_findings_get(l, 0)), 6);
  eaudit_findings_free(l);
  /* After a full quiet window, a new burst opens a new finding. */
  for (int i = 0; i < 5; i++)
    add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + HOUR + i * MIN, 42, 7, -1);
  l = tu_findings(s, "door_failure_burst");
  ck_assert_uint_eq(eaudit_findings_size(l), 2);
  uint8_t id2[16], idold[16];
  EA_OK(eaudit_finding_id(eaudit_findings_get(l, 0), id2)); /* newest first */
  EA_OK(eaudit_finding_id(eaudit_findings_get(l, 1), idold));
  ck_assert_mem_eq(idold, id1, 16);
  ck_assert_mem_ne(id2, id1, 16);
  ck_assert_int_eq(eaudit_finding_first_at(eaudit_findings_get(l, 0)),
                   t0 + HOUR);
  eaudit_findings_free(l);
  eaudit_store_free(s);
}
END_TEST

START_TEST(late_events_are_evaluated_and_flagged) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  add(s, EAUDIT_TYPE_DOOR_OPENED, t0 + 3 * DAY, 1, 1, -1); /* newest */
  for (int i = 0; i < 3; i++) /* two days behind: late */
    add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + i * MIN, 42, -1, -1);
  eaudit_findings *l = tu_findings(s, "keycard_add_failures");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  ck_assert_int_eq(eaudit_finding_late(eaudit_findings_get(l, 0)), 1);
  eaudit_findings_free(l);
  /* In time (out of order but within the bound): not flagged. */
  for (int i = 0; i < 3; i++)
    add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 3 * DAY - (10 - i) * MIN, 43,
        -1, -1);
  eaudit_finding_query *q;
  EA_OK(eaudit_finding_query_new(&q));
  EA_OK(eaudit_finding_query_set_user(q, 43));
  EA_OK(eaudit_store_findings(s, q, &l));
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  ck_assert_int_eq(eaudit_finding_late(eaudit_findings_get(l, 0)), 0);
  eaudit_findings_free(l);
  eaudit_finding_query_free(q);
  eaudit_store_free(s);
}
END_TEST

START_TEST(out_of_order_event_completes_a_window) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0, 42, -1, -1);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 50 * MIN, 42, -1, -1);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 3 * HOUR, 42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "keycard_add_failures"), 0);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 20 * MIN, 42, -1, -1);
  eaudit_findings *l = tu_findings(s, "keycard_add_failures");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  ck_assert_int_eq(eaudit_finding_first_at(eaudit_findings_get(l, 0)), t0);
  ck_assert_int_eq(eaudit_finding_last_at(eaudit_findings_get(l, 0)),
                   t0 + 50 * MIN);
  eaudit_findings_free(l);
  eaudit_store_free(s);
}
END_TEST

/* --- the rule set --- */

START_TEST(overrides_disable_and_rules_changed_event) {
  eaudit_store *s = open_mem();
  int64_t v;
  EA_OK(eaudit_store_rules_version(s, &v));
  ck_assert_int_eq(v, 0);
  const char *set = "{\"rules\": [{\"id\": \"keycard_add_failures\","
                    " \"threshold\": 2, \"severity\": \"critical\"},"
                    " {\"id\": \"credential_churn\", \"enabled\": false}]}";
  EA_OK(eaudit_store_set_rules(s, set, strlen(set), 7));
  EA_OK(eaudit_store_rules_version(s, &v));
  ck_assert_int_eq(v, 1);
  /* The change is itself an event, with the actor. */
  eaudit_cursor *c;
  EA_OK(eaudit_store_tail(s, 0, 0, &c));
  const eaudit_event *ev;
  ck_assert_int_eq(eaudit_cursor_next(c, &ev), 0);
  int64_t x;
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_TYPE, &x));
  ck_assert_int_eq(x, EAUDIT_TYPE_RULES_CHANGED);
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_ACTOR, &x));
  ck_assert_int_eq(x, 7);
  size_t dl;
  const char *d = eaudit_event_details(ev, &dl);
  ck_assert_int_eq((int)dl, (int)strlen("{\"rules_version\": 1}"));
  ck_assert_int_eq(memcmp(d, "{\"rules_version\": 1}", dl), 0);
  eaudit_cursor_free(c);
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0, 42, -1, -1);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + MIN, 42, -1, -1);
  eaudit_findings *l = tu_findings(s, "keycard_add_failures");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  ck_assert_int_eq(eaudit_finding_severity(eaudit_findings_get(l, 0)),
                   EAUDIT_SEVERITY_CRITICAL);
  eaudit_findings_free(l);
  for (int i = 0; i < 6; i++)
    add(s, EAUDIT_TYPE_USER_UPDATED, t0 + i * MIN, 42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "credential_churn"), 0);
  /* The effective set lists everything with defaults written out. */
  char *json;
  EA_OK(eaudit_store_rules(s, &json));
  ck_assert_ptr_nonnull(strstr(
      json, "{\"id\":\"credential_churn\",\"kind\":\"threshold\",\"severity\":"
            "\"warning\",\"enabled\":false,\"types\":[\"user_updated\"],"
            "\"key\":\"subject\",\"window\":\"1d\",\"threshold\":5}"));
  ck_assert_ptr_nonnull(strstr(json, "\"id\":\"keycard_add_failures\",\"kind\":"
                                     "\"threshold\",\"severity\":\"critical\""));
  eaudit_free(json);
  eaudit_store_free(s);
}
END_TEST

START_TEST(vendor_rule_on_a_vendor_type) {
  TU_SQLITE_ONLY("registering a type is SQLite's for now");
  eaudit_store *s = open_mem();
  EA_OK(eaudit_store_register_type(s, 1000, "tailgate", "Tailgating"));
  const char *set =
      "{\"builtins\": false, \"rules\": [{\"id\": \"acme.tailgating\","
      " \"severity\": \"critical\", \"types\": [\"tailgate\"],"
      " \"key\": \"door\", \"window\": \"5m\", \"threshold\": 2}]}";
  EA_OK(eaudit_store_set_rules(s, set, strlen(set), 1));
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  add(s, 1000, t0, 5, 3, -1);
  add(s, 1000, t0 + MIN, 6, 3, -1);
  ck_assert_uint_eq(tu_nfind(s, "acme.tailgating"), 1);
  /* Built-ins are off. */
  for (int i = 0; i < 3; i++)
    add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + i * MIN, 42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "keycard_add_failures"), 0);
  eaudit_store_free(s);
}
END_TEST

static const struct bad_case {
  const char *json;
  const char *message;
} bad_cases[] = {
    {"", "rule set: not valid JSON at byte 0: unexpected end"},
    {"{\"rules\": [}", "rule set: not valid JSON at byte 11: unexpected character"},
    {"[]", "rule set: must be a JSON object"},
    {"{\"version\": 2}", "version: 2 is out of range [1, 1]"},
    {"{\"rulez\": []}", "rulez: unknown field"},
    {"{\"rules\": {}}", "rules: must be an array"},
    {"{\"builtins\": 1}", "builtins: must be true or false"},
    {"{\"rules\": [3]}", "rules[0]: must be an object"},
    {"{\"rules\": [{\"severity\": \"info\"}]}", "rules[0].id: missing"},
    {"{\"rules\": [{\"id\": \"Bad Id\"}]}",
     "rules[0].id: 'Bad Id' is not a rule id (a lower-case letter, then a-z, "
     "0-9, '_', '.' or '-', at most 64 bytes)"},
    {"{\"rules\": [{\"id\": \"x\", \"types\": [\"door_opened\"], "
     "\"window\": \"1h\", \"threshold\": 1}, {\"id\": \"x\"}]}",
     "rules[1].id: rule 'x' is defined twice"},
    {"{\"rules\": [{\"id\": \"x\", \"kind\": \"fuzzy\"}]}",
     "rules[0].kind: 'fuzzy' is not one of threshold, sequence, presence, "
     "off_hours"},
    {"{\"rules\": [{\"id\": \"x\", \"severity\": \"high\"}]}",
     "rules[0].severity: 'high' is not one of info, warning, critical"},
    {"{\"rules\": [{\"id\": \"x\", \"window\": \"1h\", \"threshold\": 1}]}",
     "rules[0].types: missing"},
    {"{\"rules\": [{\"id\": \"x\", \"types\": [\"door_openned\"]}]}",
     "rules[0].types[0]: unknown event type 'door_openned'"},
    {"{\"rules\": [{\"id\": \"x\", \"types\": [3, 3]}]}",
     "rules[0].types[1]: listed twice"},
    {"{\"rules\": [{\"id\": \"x\", \"types\": [3], \"reasons\": [\"late\"]}]}",
     "rules[0].reasons[0]: unknown reason 'late'"},
    {"{\"rules\": [{\"id\": \"x\", \"types\": [3], \"window\": \"10y\", "
     "\"threshold\": 1}]}",
     "rules[0].window: '10y' is not a duration (use 90s, 10m, 24h, 7d or "
     "seconds)"},
    {"{\"rules\": [{\"id\": \"x\", \"types\": [3], \"window\": 0, "
     "\"threshold\": 1}]}",
     "rules[0].window: must be from 1 second to 366 days"},
    {"{\"rules\": [{\"id\": \"x\", \"types\": [3], \"window\": \"1h\", "
     "\"threshold\": 0}]}",
     "rules[0].threshold: 0 is out of range [1, 1024]"},
    {"{\"rules\": [{\"id\": \"x\", \"types\": [3], \"window\": \"1h\", "
     "\"threshold\": 2.5}]}",
     "rules[0].threshold: must be an integer"},
    {"{\"rules\": [{\"id\": \"x\", \"types\": [3], \"window\": \"1h\", "
     "\"threshold\": 2, \"key\": \"room\"}]}",
     "rules[0].key: 'room' is not one of subject, actor, door, device, site"},
    {"{\"rules\": [{\"id\": \"x\", \"types\": [3], \"window\": \"1h\", "
     "\"threshold\": 2, \"distinct\": \"subject\"}]}",
     "rules[0].distinct: must differ from the key"},
    {"{\"rules\": [{\"id\": \"x\", \"types\": [3], \"window\": \"1h\", "
     "\"threshold\": 2, \"steps\": []}]}",
     "rules[0].steps: not a field of a threshold rule"},
    {"{\"rules\": [{\"id\": \"x\", \"types\": [3], \"window\": \"1h\", "
     "\"threshold\": 2, \"colour\": \"red\"}]}",
     "rules[0].colour: unknown field"},
    {"{\"rules\": [{\"id\": \"door_failure_burst\", \"window\": \"5m\"}]}",
     "rules[0].any: give either 'any' or 'window' and the other condition "
     "fields, not both (an override of a built-in that uses 'any' replaces "
     "'any' as a whole)"},
    {"{\"rules\": [{\"id\": \"keycard_add_failures\", \"kind\": \"sequence\"}]}",
     "rules[0].kind: built-in rule 'keycard_add_failures' is a threshold rule; "
     "its kind cannot change"},
    {"{\"rules\": [{\"id\": \"s\", \"kind\": \"sequence\", \"window\": \"1h\","
     " \"steps\": [{\"type\": \"group_added\"}]}]}",
     "rules[0].steps: must have 2 to 8 steps"},
    {"{\"rules\": [{\"id\": \"s\", \"kind\": \"sequence\", \"window\": \"1h\","
     " \"steps\": [{\"type\": \"group_added\", \"same\": \"group\"},"
     " {\"type\": \"door_opened\", \"same\": \"door\"}]}]}",
     "rules[0].steps[1].same: all steps must name the same field"},
    {"{\"rules\": [{\"id\": \"expired_while_inside\", \"areas\": ["
     "{\"id\": 1, \"entry_doors\": [1]}, {\"id\": 2, \"entry_doors\": [1]}]}]}",
     "rules[0].areas[1].entry_doors[0]: door 1 already enters area 1"},
    {"{\"rules\": [{\"id\": \"expired_while_inside\", \"areas\": ["
     "{\"id\": 1, \"exit_doors\": [1]}]}]}",
     "rules[0].areas[0].entry_doors: missing"},
    {"{\"rules\": [{\"id\": \"admin_new_device_off_hours\","
     " \"rare_percent\": 101}]}",
     "rules[0].rare_percent: 101 is out of range [0, 100]"},
    {"{\"rules\": [{\"id\": \"x\", \"kind\": \"presence\", \"window\": \"1h\","
     " \"key\": \"door\"}]}",
     "rules[0].key: a presence rule is keyed by subject"},
};

START_TEST(malformed_rule_sets_are_rejected_with_the_path) {
  eaudit_store *s = open_mem();
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    const struct bad_case *c = &bad_cases[i];
    int rc = eaudit_store_set_rules(s, c->json, strlen(c->json), 1);
    ck_assert_msg(rc == EAUDIT_ERULES, "case %zu: %d", i, rc);
    ck_assert_msg(strcmp(eaudit_error_last()->message, c->message) == 0,
                  "case %zu: got \"%s\", want \"%s\"", i,
                  eaudit_error_last()->message, c->message);
    ck_assert_int_eq(eaudit_store_check_rules(s, c->json, strlen(c->json)),
                     EAUDIT_ERULES);
    ck_assert_str_eq(eaudit_error_last()->message, c->message);
  }
  /* Nothing was written: no event, version unchanged. */
  int64_t n, v;
  EA_OK(eaudit_store_event_count(s, &n));
  ck_assert_int_eq(n, 0);
  EA_OK(eaudit_store_rules_version(s, &v));
  ck_assert_int_eq(v, 0);
  ck_assert_uint_ge(sizeof bad_cases / sizeof bad_cases[0], 15);
  eaudit_store_free(s);
}
END_TEST

/* --- findings: JSON, workflow, filters, expired --- */

START_TEST(finding_json_has_the_interchange_shape) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  uint8_t ids[3][16];
  for (int i = 0; i < 3; i++) {
    eaudit_event *ev = tu_event(EAUDIT_TYPE_KEYCARD_ADD_FAILED,
                                t0 + i * MIN + 123456, 42);
    EA_OK(eaudit_store_append(s, ev));
    EA_OK(eaudit_event_id(ev, ids[i]));
    eaudit_event_free(ev);
  }
  eaudit_findings *l = tu_findings(s, "keycard_add_failures");
  const eaudit_finding *f = eaudit_findings_get(l, 0);
  uint8_t fid[16];
  EA_OK(eaudit_finding_id(f, fid));
  char fids[37], e[3][37], want[1024];
  eaudit_uuid_format(fid, fids);
  for (int i = 0; i < 3; i++)
    eaudit_uuid_format(ids[i], e[i]);
  snprintf(want, sizeof want,
           "{\"id\":\"%s\",\"rule\":\"keycard_add_failures\",\"severity\":"
           "\"info\",\"subject\":42,\"key\":\"subject:42\",\"first_at\":"
           "\"2026-11-03T09:00:00.123456Z\",\"last_at\":"
           "\"2026-11-03T09:02:00.123456Z\",\"events\":[\"%s\",\"%s\",\"%s\"],"
           "\"state\":\"open\"}",
           fids, e[0], e[1], e[2]);
  char *json;
  EA_OK(eaudit_finding_to_json(f, &json));
  ck_assert_str_eq(json, want);
  eaudit_free(json);
  /* The id is time-ordered on first_at (milliseconds, big-endian). */
  uint64_t ms = 0;
  for (int i = 0; i < 6; i++)
    ms = ms << 8 | fid[i];
  ck_assert_uint_eq(ms, (uint64_t)(t0 + 123456) / 1000);
  eaudit_findings_free(l);
  eaudit_store_free(s);
}
END_TEST

START_TEST(acknowledge_and_resolve_record_who_and_when) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  for (int i = 0; i < 3; i++)
    add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + i * MIN, 42, -1, -1);
  eaudit_findings *l = tu_findings(s, "keycard_add_failures");
  uint8_t id[16];
  EA_OK(eaudit_finding_id(eaudit_findings_get(l, 0), id));
  ck_assert_int_eq(eaudit_finding_state_change(eaudit_findings_get(l, 0), NULL,
                                               NULL),
                   EAUDIT_ENOTFOUND);
  eaudit_findings_free(l);
  clk.now = tu_utc(2026, 11, 4, 10, 0, 0);
  clk.step = 0;
  EA_OK(eaudit_store_finding_set_state(s, id, EAUDIT_FINDING_ACKNOWLEDGED, 7));
  eaudit_finding *f;
  EA_OK(eaudit_store_finding(s, id, &f));
  ck_assert_int_eq(eaudit_finding_state(f), EAUDIT_FINDING_ACKNOWLEDGED);
  int64_t by;
  eaudit_time at;
  EA_OK(eaudit_finding_state_change(f, &by, &at));
  ck_assert_int_eq(by, 7);
  ck_assert_int_eq(at, tu_utc(2026, 11, 4, 10, 0, 0));
  eaudit_finding_free(f);
  EA_OK(eaudit_store_finding_set_state(s, id, EAUDIT_FINDING_RESOLVED, 8));
  ck_assert_int_eq(
      eaudit_store_finding_set_state(s, id, EAUDIT_FINDING_ACKNOWLEDGED, 7),
      EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_finding_set_state(s, id, EAUDIT_FINDING_OPEN, 7),
                   EAUDIT_EINVAL);
  uint8_t none[16] = {1};
  ck_assert_int_eq(
      eaudit_store_finding_set_state(s, none, EAUDIT_FINDING_RESOLVED, 7),
      EAUDIT_ENOTFOUND);
  EA_OK(eaudit_store_finding(s, id, &f));
  char *json;
  EA_OK(eaudit_finding_to_json(f, &json));
  ck_assert_ptr_nonnull(strstr(json, "\"state\":\"resolved\"}"));
  eaudit_free(json);
  eaudit_finding_free(f);
  eaudit_finding_query *q;
  EA_OK(eaudit_finding_query_new(&q));
  EA_OK(eaudit_finding_query_set_state(q, EAUDIT_FINDING_OPEN));
  EA_OK(eaudit_store_findings(s, q, &l));
  ck_assert_uint_eq(eaudit_findings_size(l), 0);
  eaudit_findings_free(l);
  eaudit_finding_query_free(q);
  eaudit_store_free(s);
}
END_TEST

/* An extension that reaches earlier than the finding (a late event)
 * lowers first_at; one that does not leaves it. Both in the handle that
 * opened the finding and in a new one, which does not know first_at. */
START_TEST(late_extension_moves_first_at_back) {
  char path[512];
  tu_store_target(path, sizeof path, "rules-first-at");
  clk.now = tu_utc(2026, 11, 3, 12, 0, 0);
  clk.step = 1;
  seed = 42;
  eaudit_options *o = tu_options(&clk, &seed);
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, o));
  const char *set =
      "{\"builtins\": false, \"rules\": [{\"id\": \"t\", \"kind\":"
      " \"threshold\", \"types\": [\"keycard_add_failed\"], \"key\":"
      " \"subject\", \"window\": \"1h\", \"threshold\": 2}]}";
  EA_OK(eaudit_store_set_rules(s, set, strlen(set), 1));
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 10 * MIN, 42, -1, -1);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 11 * MIN, 42, -1, -1);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 5 * MIN, 42, -1, -1);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 20 * MIN, 42, -1, -1);
  eaudit_findings *l = tu_findings(s, "t");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  const eaudit_finding *f = eaudit_findings_get(l, 0);
  ck_assert_int_eq(eaudit_finding_first_at(f), t0 + 5 * MIN);
  ck_assert_int_eq(eaudit_finding_last_at(f), t0 + 20 * MIN);
  ck_assert_int_eq(eaudit_finding_quiet_until(f), t0 + 80 * MIN);
  ck_assert_uint_eq(eaudit_finding_event_count(f), 4);
  ck_assert_str_eq(eaudit_finding_key(f), "subject:42");
  eaudit_findings_free(l);
  eaudit_store_free(s);
  EA_OK(eaudit_store_open(&s, path, o));
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 25 * MIN, 42, -1, -1);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 2 * MIN, 42, -1, -1);
  l = tu_findings(s, "t");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  f = eaudit_findings_get(l, 0);
  ck_assert_int_eq(eaudit_finding_first_at(f), t0 + 2 * MIN);
  ck_assert_int_eq(eaudit_finding_last_at(f), t0 + 25 * MIN);
  ck_assert_uint_eq(eaudit_finding_event_count(f), 6);
  int64_t seq = 0, prev = 0;
  for (size_t i = 0; i < 6; i++) { /* linked in seq order, ids copied */
    uint8_t id[16], zero[16] = {0};
    EA_OK(eaudit_finding_event(f, i, id, &seq));
    ck_assert_int_gt(seq, prev);
    ck_assert_int_ne(memcmp(id, zero, 16), 0);
    prev = seq;
  }
  eaudit_findings_free(l);
  eaudit_store_free(s);
  eaudit_options_free(o);
  tu_remove_store(path);
}
END_TEST

START_TEST(findings_filter_by_interval_severity_rule_key_and_user) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  for (int i = 0; i < 3; i++) /* info, Nov 3, user 42 */
    add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + i * MIN, 42, -1, -1);
  for (int i = 0; i < 5; i++) /* warning, Nov 5, user 43 */
    add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + 2 * DAY + i * MIN, 43, 9, -1);
  eaudit_finding_query *q;
  eaudit_findings *l;
  EA_OK(eaudit_finding_query_new(&q));
  EA_OK(eaudit_store_findings(s, q, &l));
  ck_assert_uint_eq(eaudit_findings_size(l), 2);
  ck_assert_str_eq(eaudit_finding_rule(eaudit_findings_get(l, 0)),
                   "door_failure_burst"); /* newest first */
  eaudit_findings_free(l);
  EA_OK(eaudit_finding_query_set_min_severity(q, EAUDIT_SEVERITY_WARNING));
  EA_OK(eaudit_store_findings(s, q, &l));
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  eaudit_findings_free(l);
  EA_OK(eaudit_finding_query_set_min_severity(q, EAUDIT_SEVERITY_INFO));
  EA_OK(eaudit_finding_query_set_interval(q, t0 + MIN, t0 + DAY));
  EA_OK(eaudit_store_findings(s, q, &l));
  ck_assert_uint_eq(eaudit_findings_size(l), 1); /* overlaps [first, last] */
  ck_assert_str_eq(eaudit_finding_rule(eaudit_findings_get(l, 0)),
                   "keycard_add_failures");
  eaudit_findings_free(l);
  EA_OK(eaudit_finding_query_set_interval(q, t0 + 3 * MIN, t0 + DAY));
  EA_OK(eaudit_store_findings(s, q, &l));
  ck_assert_uint_eq(eaudit_findings_size(l), 0);
  eaudit_findings_free(l);
  EA_OK(eaudit_finding_query_set_interval(q, EAUDIT_TIME_NONE,
                                          EAUDIT_TIME_NONE));
  EA_OK(eaudit_finding_query_set_key(q, "subject:43"));
  EA_OK(eaudit_store_findings(s, q, &l));
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  ck_assert_str_eq(eaudit_finding_key(eaudit_findings_get(l, 0)), "subject:43");
  eaudit_findings_free(l);
  /* Keys are stored as field and value: a key only matches in the exact
   * text form findings carry. */
  static const char *const other_forms[] = {
      "subject:043", "Subject:43", "subject:+43", "subject:43 ", "subject:",
      "subject", ":43", "actor:43", "nosuchfield:43", "subject:-0",
      "subject:99999999999999999999"};
  for (size_t i = 0; i < sizeof other_forms / sizeof *other_forms; i++) {
    EA_OK(eaudit_finding_query_set_key(q, other_forms[i]));
    EA_OK(eaudit_store_findings(s, q, &l));
    ck_assert_msg(eaudit_findings_size(l) == 0, "%s", other_forms[i]);
    eaudit_findings_free(l);
  }
  EA_OK(eaudit_finding_query_set_rule(q, "keycard_add_failures"));
  EA_OK(eaudit_finding_query_set_key(q, "subject:42"));
  EA_OK(eaudit_store_findings(s, q, &l));
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  eaudit_findings_free(l);
  EA_OK(eaudit_finding_query_set_rule(q, "no_such_rule"));
  EA_OK(eaudit_store_findings(s, q, &l));
  ck_assert_uint_eq(eaudit_findings_size(l), 0);
  eaudit_findings_free(l);
  EA_OK(eaudit_finding_query_set_rule(q, NULL));
  EA_OK(eaudit_finding_query_set_key(q, NULL));
  EA_OK(eaudit_finding_query_set_user(q, 42));
  EA_OK(eaudit_finding_query_set_limit(q, 1));
  EA_OK(eaudit_store_findings(s, q, &l));
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  ck_assert_str_eq(eaudit_finding_rule(eaudit_findings_get(l, 0)),
                   "keycard_add_failures");
  eaudit_findings_free(l);
  ck_assert_int_eq(eaudit_finding_query_set_interval(q, t0, t0),
                   EAUDIT_ETIME);
  ck_assert_int_eq(eaudit_finding_query_set_min_severity(q, 3), EAUDIT_ERANGE);
  eaudit_finding_query_free(q);
  eaudit_store_free(s);
}
END_TEST

START_TEST(expired_now_lists_users_and_groups_not_prolonged) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  add(s, EAUDIT_TYPE_PERMISSIONS_EXPIRED, t0, 5, -1, -1);
  add(s, EAUDIT_TYPE_PERMISSIONS_EXPIRED, t0, 6, -1, -1);
  add(s, EAUDIT_TYPE_PERMISSIONS_PROLONGED, t0 + HOUR, 6, -1, -1);
  add(s, EAUDIT_TYPE_PERMISSIONS_EXPIRED, t0 + DAY, 6, -1, -1); /* again */
  add(s, EAUDIT_TYPE_PERMISSIONS_PROLONGED, t0, 7, -1, -1);
  add(s, EAUDIT_TYPE_PERMISSIONS_EXPIRED, t0 - HOUR, 7, -1, -1); /* before */
  add(s, EAUDIT_TYPE_PERMISSIONS_EXPIRED, t0, -1, -1, 9);  /* a group */
  eaudit_expired *x;
  EA_OK(eaudit_store_expired(s, &x));
  ck_assert_uint_eq(eaudit_expired_size(x), 3);
  int kind;
  int64_t id;
  eaudit_time at;
  EA_OK(eaudit_expired_get(x, 0, &kind, &id, &at));
  ck_assert_int_eq(kind, EAUDIT_KIND_USER);
  ck_assert_int_eq(id, 5);
  ck_assert_int_eq(at, t0);
  EA_OK(eaudit_expired_get(x, 1, &kind, &id, &at));
  ck_assert_int_eq(kind, EAUDIT_KIND_USER);
  ck_assert_int_eq(id, 6);
  ck_assert_int_eq(at, t0 + DAY);
  EA_OK(eaudit_expired_get(x, 2, &kind, &id, &at));
  ck_assert_int_eq(kind, EAUDIT_KIND_GROUP);
  ck_assert_int_eq(id, 9);
  ck_assert_int_eq(eaudit_expired_get(x, 3, &kind, &id, &at), EAUDIT_ERANGE);
  eaudit_expired_free(x);
  eaudit_store_free(s);
}
END_TEST

/* --- subscribers --- */

typedef struct sub_log {
  int findings, events;
  int visible_elsewhere; /* the finding was committed when we heard of it */
  const char *path;
  char rule[80];
} sub_log;

static int on_finding(const eaudit_finding *f, void *payload) {
  sub_log *log = payload;
  log->findings++;
  snprintf(log->rule, sizeof log->rule, "%s", eaudit_finding_rule(f));
  /* A second handle sees it only if it has been committed. */
  eaudit_store *other = NULL;
  ck_assert_int_eq(eaudit_store_open(&other, log->path, NULL), 0);
  uint8_t id[16];
  eaudit_finding_id(f, id);
  eaudit_finding *g = NULL;
  if (eaudit_store_finding(other, id, &g) == 0)
    log->visible_elsewhere++;
  eaudit_finding_free(g);
  eaudit_store_free(other);
  return 1; /* a failing callback changes nothing */
}

static int on_event(const eaudit_event *ev, void *payload) {
  (void)ev;
  ((sub_log *)payload)->events++;
  return 0;
}

START_TEST(subscribers_hear_after_commit_exactly_once) {
  char path[512];
  tu_store_target(path, sizeof path, "rules-subs");
  clk.now = tu_utc(2026, 11, 3, 12, 0, 0);
  clk.step = 1;
  seed = 7;
  eaudit_options *o = tu_options(&clk, &seed);
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, o));
  eaudit_options_free(o);
  sub_log log = {0, 0, 0, path, ""};
  sub_log filtered = {0, 0, 0, path, ""};
  EA_OK(eaudit_store_subscribe_findings(s, NULL, on_finding, &log, NULL));
  eaudit_finding_query *fq;
  EA_OK(eaudit_finding_query_new(&fq));
  EA_OK(eaudit_finding_query_set_min_severity(fq, EAUDIT_SEVERITY_WARNING));
  EA_OK(eaudit_store_subscribe_findings(s, fq, on_finding, &filtered, NULL));
  eaudit_finding_query_free(fq);
  EA_OK(eaudit_store_subscribe(s, NULL, on_event, &log, NULL));
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  /* A batch whose rules fire, then fails inside the transaction: the
   * fourth event repeats the id of one already stored. */
  eaudit_event *first = tu_event(EAUDIT_TYPE_DOOR_OPENED, t0, 1);
  EA_OK(eaudit_store_append(s, first));
  uint8_t dup[16];
  EA_OK(eaudit_event_id(first, dup));
  eaudit_event_free(first);
  ck_assert_int_eq(log.events, 1);
  eaudit_batch *b;
  EA_OK(eaudit_batch_new(&b));
  for (int i = 0; i < 3; i++) {
    eaudit_event *ev = tu_event(EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + i * MIN, 42);
    EA_OK(eaudit_batch_add(b, ev));
    eaudit_event_free(ev);
  }
  eaudit_event *bad = tu_event(EAUDIT_TYPE_DOOR_OPENED, t0 + 5 * MIN, 1);
  EA_OK(eaudit_event_set_id(bad, dup));
  EA_OK(eaudit_batch_add(b, bad));
  eaudit_event_free(bad);
  size_t failed = 99;
  ck_assert_int_eq(eaudit_store_append_batch(s, b, &failed), EAUDIT_EEXISTS);
  ck_assert_int_eq(log.findings, 0);
  ck_assert_int_eq(log.events, 1);
  ck_assert_uint_eq(tu_nfind(s, "keycard_add_failures"), 0);
  /* The same three without the bad one: one finding, heard once, after
   * commit; later extensions are not announced again. */
  eaudit_batch_clear(b);
  for (int i = 0; i < 4; i++) {
    eaudit_event *ev = tu_event(EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + i * MIN, 42);
    EA_OK(eaudit_batch_add(b, ev));
    eaudit_event_free(ev);
  }
  EA_OK(eaudit_store_append_batch(s, b, NULL));
  ck_assert_int_eq(log.events, 5);
  ck_assert_int_eq(log.findings, 1);
  ck_assert_int_eq(log.visible_elsewhere, 1);
  ck_assert_str_eq(log.rule, "keycard_add_failures");
  ck_assert_int_eq(filtered.findings, 0); /* info < warning */
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 5 * MIN, 42, -1, -1);
  ck_assert_int_eq(log.findings, 1);
  for (int i = 0; i < 5; i++)
    add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, t0 + i * MIN, 43, 3, -1);
  ck_assert_int_eq(log.findings, 2);
  ck_assert_int_eq(filtered.findings, 1);
  ck_assert_int_eq(filtered.visible_elsewhere, 1);
  eaudit_batch_free(b);
  eaudit_store_free(s);
  tu_remove_store(path);
}
END_TEST

START_TEST(restart_loses_nothing_and_never_double_fires) {
  char path[512];
  tu_store_target(path, sizeof path, "rules-restart");
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0, 42, -1, -1);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + MIN, 42, -1, -1);
  eaudit_store_free(s);
  EA_OK(eaudit_store_open(&s, path, NULL));
  sub_log log = {0, 0, 0, path, ""};
  EA_OK(eaudit_store_subscribe_findings(s, NULL, on_finding, &log, NULL));
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 2 * MIN, 42, -1, -1);
  ck_assert_int_eq(log.findings, 1);
  eaudit_store_free(s);
  EA_OK(eaudit_store_open(&s, path, NULL));
  log.findings = 0;
  EA_OK(eaudit_store_subscribe_findings(s, NULL, on_finding, &log, NULL));
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 3 * MIN, 42, -1, -1);
  ck_assert_int_eq(log.findings, 0);
  eaudit_findings *l = tu_findings(s, "keycard_add_failures");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  ck_assert_uint_eq(eaudit_finding_event_count(eaudit_findings_get(l, 0)), 4);
  eaudit_findings_free(l);
  /* Another handle's writes are seen: its cached state is revalidated. */
  eaudit_store *t;
  EA_OK(eaudit_store_open(&t, path, NULL));
  for (int i = 0; i < 2; i++)
    add(t, EAUDIT_TYPE_USER_UPDATED, t0 + i * MIN, 50, -1, -1);
  for (int i = 2; i < 4; i++)
    add(s, EAUDIT_TYPE_USER_UPDATED, t0 + i * MIN, 50, -1, -1);
  add(t, EAUDIT_TYPE_USER_UPDATED, t0 + 4 * MIN, 50, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "credential_churn"), 1);
  const char *set = "{\"rules\": [{\"id\": \"credential_churn\", "
                    "\"enabled\": false}]}";
  EA_OK(eaudit_store_set_rules(t, set, strlen(set), 1));
  for (int i = 0; i < 6; i++)
    add(s, EAUDIT_TYPE_USER_UPDATED, t0 + 2 * DAY + i * MIN, 51, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "credential_churn"), 1);
  eaudit_store_free(t);
  eaudit_store_free(s);
  tu_remove_store(path);
}
END_TEST

/* Presence and partial sequences are written at checkpoints and with
 * their episodes, not at every append: a handle that did not see a change
 * replays the events since the checkpoint, and a purge of those events
 * has the state written first. */
static const char *state_target; /* the store state_rows() reads */

static int64_t state_rows(eaudit_store *s, const char *rule, int64_t kv) {
  (void)s; /* read on the side, as another process would */
  char lite[256], pg[256], v[32];
  snprintf(lite, sizeof lite,
           "SELECT count(*) FROM rule_state WHERE rule = (SELECT num FROM"
           " rule_ids WHERE rule = '%s') AND kv = %lld",
           rule, (long long)kv);
  snprintf(pg, sizeof pg,
           "SELECT count(*) FROM eaudit.rule_state WHERE rule = (SELECT num"
           " FROM eaudit.rule_ids WHERE rule = '%s') AND kv = %lld",
           rule, (long long)kv);
  tu_store_value(state_target, lite, pg, v, sizeof v);
  return strtoll(v, NULL, 10);
}

START_TEST(deferred_presence_and_sequences_survive_handles_and_purges) {
  char path[512];
  tu_store_target(path, sizeof path, "rules-deferred");
  state_target = path;
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  tu_clock c = {t0 - HOUR, 1};
  eaudit_options *o = tu_options(&c, NULL);
  eaudit_store *s, *t, *u;
  EA_OK(eaudit_store_open(&s, path, o));
  EA_OK(eaudit_store_set_rules(s, areas_rules, strlen(areas_rules), 1));
  /* The first change is written: it sets the checkpoint. */
  add(s, EAUDIT_TYPE_DOOR_OPENED, t0, 41, 10, -1);
  ck_assert_int_eq(state_rows(s, "expired_while_inside", 41), 1);
  /* 42 enters, 43 starts a borrowed privilege: not written. */
  add(s, EAUDIT_TYPE_DOOR_OPENED, t0 + MIN, 42, 10, -1);
  add(s, EAUDIT_TYPE_GROUP_ADDED, t0 + MIN, 43, -1, 7);
  add(s, EAUDIT_TYPE_DOOR_OPENED, t0 + 2 * MIN, 43, 99, -1);
  ck_assert_int_eq(state_rows(s, "expired_while_inside", 42), 0);
  ck_assert_int_eq(state_rows(s, "temporary_privilege", 43), 0);
  /* Another handle completes the sequence from the events. */
  EA_OK(eaudit_store_open(&t, path, o));
  add(t, EAUDIT_TYPE_GROUP_REMOVED, t0 + 3 * MIN, 43, -1, 7);
  ck_assert_uint_eq(tu_nfind(t, "temporary_privilege"), 1);
  /* The episode is written with its state. */
  ck_assert_int_eq(state_rows(t, "temporary_privilege", 43), 1);
  eaudit_store_free(t);
  /* Ten days later a purge removes 42's entry (capped at the newest
   * event minus 7 days and the 24 h lateness bound). */
  for (int d = 1; d <= 10; d++)
    add(s, EAUDIT_TYPE_USER_UPDATED, t0 + d * DAY, 60, -1, -1);
  int64_t purged = 0;
  EA_OK(eaudit_store_purge(s, t0 + 9 * DAY, 1, 0, &purged));
  ck_assert_int_eq(purged, 7);
  ck_assert_int_eq(state_rows(s, "expired_while_inside", 42), 1);
  eaudit_store_free(s);
  /* A new handle still knows 42 is inside. */
  EA_OK(eaudit_store_open(&u, path, o));
  add(u, EAUDIT_TYPE_PERMISSIONS_EXPIRED, t0 + 10 * DAY + MIN, 42, -1, -1);
  eaudit_findings *l = tu_findings(u, "expired_while_inside");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  int64_t key_user;
  EA_OK(eaudit_finding_subject(eaudit_findings_get(l, 0), &key_user));
  ck_assert_int_eq(key_user, 42);
  eaudit_findings_free(l);
  eaudit_store_free(u);
  eaudit_options_free(o);
  tu_remove_store(path);
}
END_TEST

START_TEST(reevaluate_keeps_state_and_finds_new_rules) {
  eaudit_store *s = open_mem();
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  for (int i = 0; i < 3; i++)
    add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + i * MIN, 42, -1, -1);
  for (int i = 0; i < 2; i++)
    add(s, EAUDIT_TYPE_USER_UPDATED, t0 + i * MIN, 42, -1, -1);
  eaudit_findings *l = tu_findings(s, "keycard_add_failures");
  uint8_t id[16];
  EA_OK(eaudit_finding_id(eaudit_findings_get(l, 0), id));
  eaudit_findings_free(l);
  EA_OK(eaudit_store_finding_set_state(s, id, EAUDIT_FINDING_ACKNOWLEDGED, 9));
  const char *set = "{\"rules\": [{\"id\": \"credential_churn\","
                    " \"threshold\": 2}]}";
  EA_OK(eaudit_store_set_rules(s, set, strlen(set), 1));
  ck_assert_uint_eq(tu_nfind(s, "credential_churn"), 0); /* past not replayed */
  sub_log log = {0, 0, 0, ":memory:", ""};
  int64_t n;
  EA_OK(eaudit_store_reevaluate(s, 0, &n));
  ck_assert_int_eq(n, 2);
  ck_assert_uint_eq(tu_nfind(s, "credential_churn"), 1);
  eaudit_finding *f;
  EA_OK(eaudit_store_finding(s, id, &f)); /* same id, state kept */
  ck_assert_int_eq(eaudit_finding_state(f), EAUDIT_FINDING_ACKNOWLEDGED);
  eaudit_finding_free(f);
  (void)log;
  eaudit_store_free(s);
}
END_TEST

/* A threshold window not in the handle's cache is rebuilt from the events
 * index; it must start where the rule's state was last reset: at a change
 * of the rule, or at a re-evaluation's first seq. */
START_TEST(rebuilt_window_starts_at_the_rule_change) {
  char path[512];
  tu_store_target(path, sizeof path, "rules-since");
  eaudit_time t0 = tu_utc(2026, 11, 3, 9, 0, 0);
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0, 42, -1, -1);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + MIN, 42, -1, -1);
  const char *set = "{\"rules\": [{\"id\": \"keycard_add_failures\","
                    " \"severity\": \"warning\"}]}";
  EA_OK(eaudit_store_set_rules(s, set, strlen(set), 1));
  eaudit_store_free(s);
  EA_OK(eaudit_store_open(&s, path, NULL));
  /* The two failures before the change no longer count. */
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 2 * MIN, 42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "keycard_add_failures"), 0);
  eaudit_store_free(s);
  EA_OK(eaudit_store_open(&s, path, NULL));
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 3 * MIN, 42, -1, -1);
  ck_assert_uint_eq(tu_nfind(s, "keycard_add_failures"), 0);
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 4 * MIN, 42, -1, -1);
  eaudit_findings *l = tu_findings(s, "keycard_add_failures");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  ck_assert_uint_eq(eaudit_finding_event_count(eaudit_findings_get(l, 0)), 3);
  eaudit_findings_free(l);
  /* A re-evaluation from the start counts all five, and the handles after
   * it rebuild from its first seq on. */
  int64_t n;
  EA_OK(eaudit_store_reevaluate(s, 0, &n));
  ck_assert_int_eq(n, 1);
  l = tu_findings(s, "keycard_add_failures");
  ck_assert_uint_eq(eaudit_finding_event_count(eaudit_findings_get(l, 0)), 5);
  eaudit_findings_free(l);
  eaudit_store_free(s);
  EA_OK(eaudit_store_open(&s, path, NULL));
  add(s, EAUDIT_TYPE_KEYCARD_ADD_FAILED, t0 + 5 * MIN, 42, -1, -1);
  l = tu_findings(s, "keycard_add_failures");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  ck_assert_uint_eq(eaudit_finding_event_count(eaudit_findings_get(l, 0)), 6);
  eaudit_findings_free(l);
  /* Rule state on disk: the episode only, no window items. */
  char v[128];
  tu_store_value(path,
                 "SELECT length(state) || ' ' || hex(state) FROM rule_state"
                 " WHERE rule = (SELECT num FROM rule_ids WHERE rule ="
                 " 'keycard_add_failures') AND kf = 5 AND kv = 42",
                 "SELECT length(state) || ' ' || upper(encode(state, 'hex'))"
                 " FROM eaudit.rule_state WHERE rule = (SELECT num FROM"
                 " eaudit.rule_ids WHERE rule = 'keycard_add_failures')"
                 " AND kf = 5 AND kv = 42",
                 v, sizeof v);
  /* Format 2; finding and quiet_until present; finding 2 (zigzag 4);
   * quiet_until; no items: 2 + 1 + 8 + 1 bytes. */
  ck_assert_str_eq(v, "12 02030480ACB8D38CD7AF0600");
  eaudit_store_free(s);
  tu_remove_store(path);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("rules");
  TCase *t = tcase_create("builtins");
  tcase_add_test(t, unrecognized_twice_in_a_day_fires);
  tcase_add_test(t, unrecognized_25h_apart_does_not_fire);
  tcase_add_test(t, unrecognized_weekly_for_a_year_does_not_fire);
  tcase_add_test(t, unrecognized_three_days_in_a_week_fires);
  tcase_add_test(t, door_five_failures_in_ten_minutes_fire);
  tcase_add_test(t, shipped_events_are_not_evaluated_centrally);
  tcase_add_test(t, door_four_failures_do_not_fire);
  tcase_add_test(t, door_failures_seven_minutes_apart_do_not_fire);
  tcase_add_test(t, door_three_users_at_one_door_fire);
  tcase_add_test(t, keycard_three_failures_in_an_hour_fire);
  tcase_add_test(t, keycard_failures_over_an_hour_apart_do_not_fire);
  tcase_add_test(t, credential_churn_fires_at_five_a_day);
  tcase_add_test(t, temporary_privilege_fires_within_an_hour);
  tcase_add_test(t, temporary_privilege_removal_two_hours_later_does_not_fire);
  tcase_add_test(t, expired_while_inside_fires_critical);
  tcase_add_test(t, expired_after_leaving_or_in_open_area_does_not_fire);
  tcase_add_test(t, admin_login_at_a_rare_hour_fires);
  tcase_add_test(t, admin_login_with_short_history_does_not_fire);
  suite_add_tcase(s, t);
  t = tcase_create("episodes");
  tcase_add_test(t, episode_opens_extends_closes_and_reopens);
  tcase_add_test(t, late_events_are_evaluated_and_flagged);
  tcase_add_test(t, out_of_order_event_completes_a_window);
  suite_add_tcase(s, t);
  t = tcase_create("ruleset");
  tcase_add_test(t, overrides_disable_and_rules_changed_event);
  tcase_add_test(t, vendor_rule_on_a_vendor_type);
  tcase_add_test(t, malformed_rule_sets_are_rejected_with_the_path);
  suite_add_tcase(s, t);
  t = tcase_create("findings");
  tcase_add_test(t, finding_json_has_the_interchange_shape);
  tcase_add_test(t, acknowledge_and_resolve_record_who_and_when);
  tcase_add_test(t, findings_filter_by_interval_severity_rule_key_and_user);
  tcase_add_test(t, late_extension_moves_first_at_back);
  tcase_add_test(t, expired_now_lists_users_and_groups_not_prolonged);
  suite_add_tcase(s, t);
  t = tcase_create("delivery");
  tcase_add_test(t, subscribers_hear_after_commit_exactly_once);
  tcase_add_test(t, restart_loses_nothing_and_never_double_fires);
  tcase_add_test(t, deferred_presence_and_sequences_survive_handles_and_purges);
  tcase_add_test(t, rebuilt_window_starts_at_the_rule_change);
  suite_add_tcase(s, t);
  t = tcase_create("batch");
  tcase_add_test(t, reevaluate_keeps_state_and_finds_new_rules);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tu_run(suite()); }
