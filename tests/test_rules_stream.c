/* Incremental evaluation and batch re-evaluation agree: a generated
 * stream of 50,000 events (5,000 on PostgreSQL, whose round trips make
 * each append slower) with every built-in on, a close and reopen in the
 * middle, late and out-of-order events. Its own suite, so that the ASan
 * build of each suite stays short. */
#include "testutil.h"

#include "rules_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- incremental == batch on a generated stream --- */

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* doors: how many doors the door events spread over; devices: whether
 * logins from unrecognized devices name one of five devices. */
static void gen_event_at(eaudit_event *ev, eaudit_time *clock, int doors,
                         int devices) {
  eaudit_event_reset(ev);
  *clock += (eaudit_time)(rnd() % 30) * 1000000;
  eaudit_time at = *clock;
  if (rnd() % 100 == 0) /* out of order; a few beyond the lateness bound */
    at -= (eaudit_time)(rnd() % (30 * 3600)) * 1000000;
  int p = (int)(rnd() % 100);
  int type = p < 62   ? EAUDIT_TYPE_DOOR_OPENED
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
  int64_t user = 1 + (int64_t)(rnd() % 60);
  eaudit_event_set(ev, EAUDIT_FIELD_TYPE, type);
  eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, at);
  eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, user);
  if (type == EAUDIT_TYPE_DOOR_OPENED || type == EAUDIT_TYPE_DOOR_OPEN_FAILED)
    eaudit_event_set(ev, EAUDIT_FIELD_DOOR, 1 + (int64_t)(rnd() % (uint64_t)doors));
  if (type == EAUDIT_TYPE_DOOR_OPEN_FAILED)
    eaudit_event_set(ev, EAUDIT_FIELD_REASON, 1 + (int64_t)(rnd() % 5));
  if (type == EAUDIT_TYPE_GROUP_ADDED || type == EAUDIT_TYPE_GROUP_REMOVED)
    eaudit_event_set(ev, EAUDIT_FIELD_GROUP, 1 + (int64_t)(rnd() % 3));
  if (devices && type == EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE)
    eaudit_event_set(ev, EAUDIT_FIELD_DEVICE, 1 + (int64_t)(rnd() % 5));
}

static void gen_event(eaudit_event *ev, eaudit_time *clock) {
  gen_event_at(ev, clock, 12, 0);
}

static int hours_all(eaudit_store *s, int64_t user, int64_t counts[24],
                     void *payload) {
  (void)s;
  (void)payload;
  for (int h = 0; h < 24; h++) /* users differ; nights are rare */
    counts[h] = h >= 7 && h < 19 ? 3 + user % 4 : (h == user % 24);
  return 0;
}

static char **all_findings(eaudit_store *s, size_t *n) {
  eaudit_findings *l;
  EA_OK(eaudit_store_findings(s, NULL, &l));
  *n = eaudit_findings_size(l);
  char **v = calloc(*n + 1, sizeof *v);
  for (size_t i = 0; i < *n; i++) {
    const eaudit_finding *f = eaudit_findings_get(l, i);
    char *json;
    EA_OK(eaudit_finding_to_json(f, &json));
    size_t len = strlen(json) + 64;
    v[i] = malloc(len);
    snprintf(v[i], len, "%s late=%d quiet=%lld", json, eaudit_finding_late(f),
             (long long)eaudit_finding_quiet_until(f));
    eaudit_free(json);
  }
  eaudit_findings_free(l);
  return v;
}

static void free_strings(char **v, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static const char stream_rules[] =
    "{\"rules\": [{\"id\": \"expired_while_inside\", \"areas\": ["
    "{\"id\": 1, \"entry_doors\": [1, 2], \"exit_doors\": [3]},"
    "{\"id\": 2, \"entry_doors\": [4], \"exit_doors\": [5, 6]}]}]}";

START_TEST(incremental_equals_batch_on_50000_events) {
  char path[512];
  tu_store_target(path, sizeof path, "rules-stream");
  eaudit_options *o = tu_options(NULL, NULL);
  EA_OK(eaudit_options_set_int(o, EAUDIT_OPT_SYNCHRONOUS, EAUDIT_SYNC_NORMAL));
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, o));
  EA_OK(eaudit_store_set_rules(s, stream_rules, strlen(stream_rules), 1));
  eaudit__rules_set_login_hours_fn(s, hours_all, NULL);
  eaudit_batch *b;
  EA_OK(eaudit_batch_new(&b));
  eaudit_event *ev;
  EA_OK(eaudit_event_new(&ev));
  eaudit_time clock = tu_utc(2026, 1, 1, 0, 0, 0);
  const int total = tu_backend_pg() ? 5000 : 50000, per_batch = 250;
  for (int i = 0; i < total; i += per_batch) {
    if (i == total / 2) { /* close and reopen in the middle */
      eaudit_store_free(s);
      EA_OK(eaudit_store_open(&s, path, o));
      eaudit__rules_set_login_hours_fn(s, hours_all, NULL);
    }
    eaudit_batch_clear(b);
    for (int k = 0; k < per_batch; k++) {
      gen_event(ev, &clock);
      EA_OK(eaudit_batch_add(b, ev));
    }
    EA_OK(eaudit_store_append_batch(s, b, NULL));
  }
  size_t n1, n2;
  char **inc = all_findings(s, &n1);
  /* Every built-in fired at least once, so the comparison covers them. */
  const char *rules[] = {"unrecognized_device_abuse", "door_failure_burst",
                         "keycard_add_failures", "admin_new_device_off_hours",
                         "expired_while_inside", "temporary_privilege",
                         "credential_churn"};
  for (size_t r = 0; r < 7; r++)
    ck_assert_msg(tu_nfind(s, rules[r]) > 0, "%s never fired", rules[r]);
  int late = 0;
  for (size_t i = 0; i < n1; i++)
    late += strstr(inc[i], "late=1") != NULL;
  ck_assert_int_gt(late, 0);
  int64_t count;
  EA_OK(eaudit_store_reevaluate(s, 0, &count));
  ck_assert_int_eq(count, (int64_t)n1);
  char **bat = all_findings(s, &n2);
  ck_assert_uint_eq(n1, n2);
  for (size_t i = 0; i < n1; i++)
    ck_assert_str_eq(inc[i], bat[i]);
  free_strings(inc, n1);
  free_strings(bat, n2);
  eaudit_event_free(ev);
  eaudit_batch_free(b);
  eaudit_store_free(s);
  eaudit_options_free(o);
  tu_remove_store(path);
}
END_TEST

/* Threshold windows that are not cached are rebuilt from the events
 * index. Two handles append in turn, so every transaction starts with an
 * empty cache and rebuilds each key it touches; the re-evaluation runs in
 * one transaction on a warm cache. Both must find the same. Vendor rules
 * add a device key (rebuilt), an actor key (persisted) and a door window
 * holding more than the 1024 items a key keeps. In batches of 40 a
 * transaction meets few keys per rule and rebuilds them one by one; in
 * batches of 400 it meets enough subjects to preload the subject windows
 * of a rule at once, late events included. */
static const int rebuild_batch[] = {40, 400};

static const char rebuild_rules[] =
    "{\"rules\": [{\"id\": \"expired_while_inside\", \"areas\": ["
    "{\"id\": 1, \"entry_doors\": [1], \"exit_doors\": [2]}]},"
    "{\"id\": \"x.shared_device\", \"types\": [\"login_unrecognized_device\"],"
    " \"key\": \"device\", \"window\": \"2h\", \"threshold\": 2,"
    " \"distinct\": \"subject\"},"
    "{\"id\": \"x.actor_churn\", \"types\": [\"user_updated\"],"
    " \"key\": \"actor\", \"window\": \"1h\", \"threshold\": 2},"
    "{\"id\": \"x.busy_door\", \"types\": [\"door_opened\","
    " \"door_open_failed\"], \"key\": \"door\", \"window\": \"30m\","
    " \"threshold\": 25}]}";

START_TEST(rebuilt_windows_equal_cached_ones) {
  const int per_batch = rebuild_batch[_i];
  char path[512];
  tu_store_target(path, sizeof path, "rules-rebuild");
  /* The rule change happens before the stream, so lateness is judged
   * within the stream. */
  tu_clock clk = {tu_utc(2026, 2, 28, 0, 0, 0), 1};
  eaudit_options *o = tu_options(&clk, NULL);
  EA_OK(eaudit_options_set_int(o, EAUDIT_OPT_SYNCHRONOUS, EAUDIT_SYNC_NORMAL));
  eaudit_store *h[2];
  EA_OK(eaudit_store_open(&h[0], path, o));
  EA_OK(eaudit_store_set_rules(h[0], rebuild_rules, strlen(rebuild_rules), 1));
  EA_OK(eaudit_store_open(&h[1], path, o));
  for (int k = 0; k < 2; k++)
    eaudit__rules_set_login_hours_fn(h[k], hours_all, NULL);
  eaudit_batch *b;
  EA_OK(eaudit_batch_new(&b));
  eaudit_event *ev;
  EA_OK(eaudit_event_new(&ev));
  rng = 0x2545F4914F6CDD1Du;
  eaudit_time clock = tu_utc(2026, 3, 1, 0, 0, 0);
  const int total = 8000;
  for (int i = 0; i < total; i += per_batch) {
    eaudit_batch_clear(b);
    for (int k = 0; k < per_batch; k++) {
      gen_event_at(ev, &clock, 3, 1);
      EA_OK(eaudit_batch_add(b, ev));
    }
    EA_OK(eaudit_store_append_batch(h[(i / per_batch) % 2], b, NULL));
  }
  eaudit_store *s = h[0];
  size_t n1, n2;
  char **inc = all_findings(s, &n1);
  const char *rules[] = {"unrecognized_device_abuse", "door_failure_burst",
                         "keycard_add_failures", "credential_churn",
                         "x.shared_device", "x.actor_churn", "x.busy_door"};
  for (size_t r = 0; r < sizeof rules / sizeof *rules; r++)
    ck_assert_msg(tu_nfind(s, rules[r]) > 0, "%s never fired", rules[r]);
  /* More than the kept 1024 items of a door within window + lateness. */
  char v[32];
  tu_store_value(path,
                 "SELECT count(*) FROM events WHERE door = 1 AND"
                 " occurred_at >= (SELECT max(occurred_at) FROM events"
                 " WHERE door = 1) - 90000000000",
                 "SELECT count(*) FROM eaudit.events WHERE door = 1 AND"
                 " occurred_at >= (SELECT max(occurred_at) FROM eaudit.events"
                 " WHERE door = 1) - 90000000000",
                 v, sizeof v);
  ck_assert_int_gt(strtoll(v, NULL, 10), 1024);
  int64_t count;
  EA_OK(eaudit_store_reevaluate(s, 0, &count));
  ck_assert_int_eq(count, (int64_t)n1);
  char **bat = all_findings(s, &n2);
  ck_assert_uint_eq(n1, n2);
  for (size_t i = 0; i < n1; i++)
    ck_assert_str_eq(inc[i], bat[i]);
  free_strings(inc, n1);
  free_strings(bat, n2);
  eaudit_event_free(ev);
  eaudit_batch_free(b);
  eaudit_store_free(h[1]);
  eaudit_store_free(h[0]);
  eaudit_options_free(o);
  tu_remove_store(path);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rules_stream");
  TCase *t = tcase_create("stream");
  tcase_add_test(t, incremental_equals_batch_on_50000_events);
  tcase_add_loop_test(t, rebuilt_windows_equal_cached_ones, 0, 2);
  suite_add_tcase(s, t);
  return tu_run(s);
}
