/* Queries: filters, the default view, keyset pages, the tail cursor,
 * counts, the users list and free-text search, and that none of them scans
 * the whole table. */
#include "testutil.h"

#include "query_internal.h"

#include <stdio.h>
#include <string.h>

static tu_clock clk;
static uint64_t seed;
static char path[512];
static eaudit_store *store;

static void open_store(const char *zone) {
  seed = 7;
  tu_temp_path(path, sizeof path, "query");
  eaudit_options *o = tu_options(&clk, &seed);
  EA_OK(eaudit_options_set_str(o, EAUDIT_OPT_TIME_ZONE, zone));
  EA_OK(eaudit_store_open(&store, path, o));
  eaudit_options_free(o);
}

static void setup(void) {
  clk.now = tu_utc(2026, 11, 25, 12, 0, 0);
  clk.step = 0;
  open_store("Europe/Berlin");
}

static void teardown(void) {
  eaudit_store_free(store);
  store = NULL;
  tu_remove_store(path);
}

static eaudit_event *ev_at(int type, eaudit_time at, int64_t subject,
                           int64_t actor, int64_t door) {
  eaudit_event *ev = tu_event(type, at, subject);
  if (actor >= 0)
    eaudit_event_set(ev, EAUDIT_FIELD_ACTOR, actor);
  if (door >= 0)
    eaudit_event_set(ev, EAUDIT_FIELD_DOOR, door);
  return ev;
}

static void add(int type, eaudit_time at, int64_t subject, int64_t actor,
                int64_t door) {
  eaudit_event *ev = ev_at(type, at, subject, actor, door);
  EA_OK(eaudit_store_append(store, ev));
  eaudit_event_free(ev);
}

static eaudit_query *query(void) {
  eaudit_query *q;
  EA_OK(eaudit_query_new(&q));
  return q;
}

START_TEST(filters_combine) {
  eaudit_time t = tu_utc(2026, 11, 10, 8, 0, 0);
  add(3, t, 1, 1, 7);                       /* user 1 opens door 7 */
  add(6, t + 60000000, 1, 1, 7);            /* user 1 fails at door 7 */
  add(4, t + 120000000, 2, 1, -1);          /* admin 1 adds user 2 */
  add(3, t + 180000000, 2, 2, 8);           /* user 2 opens door 8 */
  add(3, tu_utc(2026, 10, 1, 8, 0, 0), 1, 1, 7); /* old */
  eaudit_query *q = query();
  EA_OK(eaudit_query_set_user(q, 1, EAUDIT_ROLE_ANY));
  ck_assert_int_eq(tu_count(store, q), 4);
  EA_OK(eaudit_query_set_user(q, 1, EAUDIT_ROLE_SUBJECT));
  ck_assert_int_eq(tu_count(store, q), 3);
  EA_OK(eaudit_query_set_user(q, 1, EAUDIT_ROLE_ACTOR));
  ck_assert_int_eq(tu_count(store, q), 4);
  EA_OK(eaudit_query_set_user(q, 2, EAUDIT_ROLE_ACTOR));
  ck_assert_int_eq(tu_count(store, q), 1);
  EA_OK(eaudit_query_set_user(q, 1, EAUDIT_ROLE_ANY));
  EA_OK(eaudit_query_set_interval(q, tu_utc(2026, 11, 1, 0, 0, 0),
                                  EAUDIT_TIME_NONE));
  ck_assert_int_eq(tu_count(store, q), 3);
  EA_OK(eaudit_query_add_type(q, 3));
  ck_assert_int_eq(tu_count(store, q), 1);
  EA_OK(eaudit_query_add_type(q, 6));
  ck_assert_int_eq(tu_count(store, q), 2);
  EA_OK(eaudit_query_set_entity(q, EAUDIT_FIELD_DOOR, 8));
  ck_assert_int_eq(tu_count(store, q), 0);
  eaudit_query_clear_user(q);
  ck_assert_int_eq(tu_count(store, q), 1);
  ck_assert_int_eq(eaudit_query_set_interval(q, 5, 5), EAUDIT_ETIME);
  ck_assert_int_eq(eaudit_query_set_entity(q, EAUDIT_FIELD_SUBJECT, 1),
                   EAUDIT_EFIELD);
  ck_assert_int_eq(eaudit_query_set_user(q, 1, 7), EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_query_add_type(q, 0), EAUDIT_ETYPE);
  eaudit_query_free(q);
}
END_TEST

START_TEST(results_are_ordered_both_ways_and_borrowed_names_resolve) {
  EA_OK(eaudit_store_set_user(store, 1, "Ada Admin", EAUDIT_USER_ROLE_ADMIN,
                              EAUDIT_TIME_NONE));
  eaudit_time t = tu_utc(2026, 11, 20, 8, 0, 0);
  for (int i = 0; i < 5; i++)
    add(3, t + (i % 2 ? -i : i) * 1000000, 1, 1, 7);
  add(3, t, 1, 1, 7); /* same time: seq breaks the tie */
  eaudit_query *q = query();
  EA_OK(eaudit_query_set_user(q, 1, EAUDIT_ROLE_ANY));
  for (int order = 0; order < 2; order++) {
    EA_OK(eaudit_query_set_order(q, order));
    eaudit_cursor *c;
    EA_OK(eaudit_store_query(store, q, &c));
    const eaudit_event *ev;
    int64_t pt = 0, ps = 0, t1, s1;
    int n = 0;
    while (eaudit_cursor_next(c, &ev) == 0) {
      EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_OCCURRED_AT, &t1));
      EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &s1));
      if (n++) {
        if (order == EAUDIT_ORDER_NEWEST_FIRST)
          ck_assert(t1 < pt || (t1 == pt && s1 < ps));
        else
          ck_assert(t1 > pt || (t1 == pt && s1 > ps));
      }
      pt = t1;
      ps = s1;
      ck_assert_str_eq(eaudit_cursor_name(c, EAUDIT_FIELD_SUBJECT),
                       "Ada Admin");
      ck_assert_ptr_null(eaudit_cursor_name(c, EAUDIT_FIELD_GROUP));
    }
    ck_assert_int_eq(n, 6);
    ck_assert_int_eq(eaudit_cursor_next(c, &ev), EAUDIT_DONE);
    eaudit_cursor_free(c);
  }
  ck_assert_int_eq(eaudit_query_set_order(q, 5), EAUDIT_EINVAL);
  eaudit_query_free(q);
}
END_TEST

START_TEST(pages_are_stable_while_events_arrive) {
  eaudit_time t = tu_utc(2026, 11, 20, 8, 0, 0);
  tu_append_doors(store, 25, 1, 7, t, 60000000);
  eaudit_query *q = query();
  EA_OK(eaudit_query_set_user(q, 1, EAUDIT_ROLE_ANY));
  EA_OK(eaudit_query_set_limit(q, 10));
  char pos[EAUDIT_POSITION_MAX] = "";
  int64_t seen[64];
  int n = 0, pages = 0;
  for (;;) {
    EA_OK(eaudit_query_set_after(q, pos));
    eaudit_cursor *c;
    EA_OK(eaudit_store_query(store, q, &c));
    const eaudit_event *ev;
    int got = 0;
    while (eaudit_cursor_next(c, &ev) == 0) {
      EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &seen[n++]));
      got++;
    }
    if (got)
      EA_OK(eaudit_cursor_position(c, pos, sizeof pos));
    eaudit_cursor_free(c);
    if (got == 0)
      break;
    pages++;
    /* Newer events arriving between pages do not shift the pages. */
    tu_append_doors(store, 2, 1, 7, t + 86400000000LL, 1000000);
  }
  ck_assert_int_eq(pages, 3);
  ck_assert_int_eq(n, 25);
  for (int i = 0; i < 25; i++)
    ck_assert_int_eq(seen[i], 25 - i);
  ck_assert_int_eq(eaudit_query_set_after(q, "p1:garbage"), EAUDIT_ECURSOR);
  ck_assert_int_eq(eaudit_query_set_after(q, "p1:1:2:3"), EAUDIT_ECURSOR);
  eaudit_query_free(q);
}
END_TEST

START_TEST(tail_cursor_follows_seq) {
  tu_append_doors(store, 7, 3, 7, tu_utc(2026, 11, 20, 8, 0, 0), -1000000);
  eaudit_cursor *c;
  EA_OK(eaudit_store_tail(store, 4, 0, &c));
  const eaudit_event *ev;
  int64_t want = 5, seq;
  while (eaudit_cursor_next(c, &ev) == 0) {
    EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &seq));
    ck_assert_int_eq(seq, want++);
  }
  ck_assert_int_eq(want, 8);
  eaudit_cursor_free(c);
  EA_OK(eaudit_store_tail(store, 0, 2, &c));
  ck_assert_int_eq(eaudit_cursor_next(c, &ev), 0);
  ck_assert_int_eq(eaudit_cursor_next(c, &ev), 0);
  ck_assert_int_eq(eaudit_cursor_next(c, &ev), EAUDIT_DONE);
  eaudit_cursor_free(c);
}
END_TEST

/* The default view is the past month in the store's zone, for user 1. */
START_TEST(default_view_is_user_1_over_the_past_month) {
  /* now = 2026-11-25 12:00 UTC = 13:00 CET; a month ago is Oct 25 13:00,
   * which is already CET (DST ended that morning at 01:00 UTC): 12:00 UTC. */
  add(3, tu_utc(2026, 10, 25, 11, 59, 59), 1, 1, 7); /* just outside */
  add(3, tu_utc(2026, 10, 25, 12, 0, 0), 1, 1, 7);   /* first inside */
  add(3, tu_utc(2026, 11, 25, 11, 59, 59), 1, 1, 7); /* last inside */
  add(3, tu_utc(2026, 11, 25, 12, 0, 0), 1, 1, 7);   /* now: excluded */
  add(3, tu_utc(2026, 11, 10, 0, 0, 0), 2, 1, 7);    /* 1 as actor */
  add(3, tu_utc(2026, 11, 10, 0, 0, 0), 2, 2, 7);    /* not user 1 */
  eaudit_query *q;
  EA_OK(eaudit_store_default_query(store, &q));
  ck_assert_int_eq(tu_count(store, q), 3);
  eaudit_query_free(q);
}
END_TEST

START_TEST(past_month_clamps_at_month_ends) {
  teardown();
  clk.now = tu_utc(2026, 3, 31, 10, 0, 0); /* 12:00 CEST */
  open_store("Europe/Berlin");
  add(3, tu_utc(2026, 2, 28, 10, 59, 59), 1, 1, 7); /* 11:59:59 CET */
  add(3, tu_utc(2026, 2, 28, 11, 0, 0), 1, 1, 7);   /* 12:00 CET: inside */
  eaudit_query *q;
  EA_OK(eaudit_store_default_query(store, &q));
  ck_assert_int_eq(tu_count(store, q), 1);
  eaudit_query_free(q);
}
END_TEST

START_TEST(counts_from_rollups_equal_counting_events) {
  /* Events over 40 days at odd hours, several users and types. */
  eaudit_batch *b;
  EA_OK(eaudit_batch_new(&b));
  eaudit_time t0 = tu_utc(2026, 10, 10, 0, 0, 0);
  for (int i = 0; i < 2000; i++) {
    eaudit_event *ev = ev_at(1 + i % 10, t0 + (int64_t)i * 1733000000LL,
                             1 + i % 7, -1, i % 3 ? 5 : -1);
    EA_OK(eaudit_batch_add(b, ev));
    eaudit_event_free(ev);
  }
  EA_OK(eaudit_store_append_batch(store, b, NULL));
  eaudit_batch_free(b);
  eaudit_time since[] = {EAUDIT_TIME_NONE, tu_utc(2026, 10, 12, 13, 17, 0),
                         tu_utc(2026, 10, 26, 23, 0, 0)};
  eaudit_time until[] = {EAUDIT_TIME_NONE, tu_utc(2026, 11, 2, 5, 0, 1),
                         tu_utc(2026, 10, 27, 1, 0, 0)};
  for (int i = 0; i < 3; i++)
    for (int by = EAUDIT_COUNT_BY_TYPE; by <= EAUDIT_COUNT_BY_USER; by++)
      for (int filt = 0; filt < 3; filt++) {
        eaudit_query *q = query();
        EA_OK(eaudit_query_set_interval(q, since[i], until[i]));
        if (filt == 1)
          EA_OK(eaudit_query_add_type(q, 3));
        if (filt == 2)
          EA_OK(eaudit_query_set_user(q, 4, EAUDIT_ROLE_SUBJECT));
        eaudit_counts *c;
        EA_OK(eaudit_store_counts(store, q, by, &c));
        /* The same through the event path: a door filter forces it; door 5
         * or no door covers all, so count both and add. */
        int64_t total = 0, brute = tu_count(store, q);
        for (size_t k = 0; k < eaudit_counts_size(c); k++) {
          int64_t key, n;
          EA_OK(eaudit_counts_get(c, k, &key, &n));
          total += n;
          if (by == EAUDIT_COUNT_BY_TYPE) {
            eaudit_query *qt;
            EA_OK(eaudit_query_dup(&qt, q));
            eaudit_query_clear_types(qt);
            EA_OK(eaudit_query_add_type(qt, (int)key));
            if (filt != 1 || key == 3)
              ck_assert_int_eq(n, tu_count(store, qt));
            eaudit_query_free(qt);
          }
        }
        ck_assert_int_eq(total, brute);
        eaudit_counts_free(c);
        eaudit_query_free(q);
      }
}
END_TEST

START_TEST(users_list_has_names_roles_activity_and_expiry) {
  EA_OK(eaudit_store_set_user(store, 1, "Ada Admin", EAUDIT_USER_ROLE_ADMIN,
                              EAUDIT_TIME_NONE));
  EA_OK(eaudit_store_set_user(store, 2, "Bob Builder", EAUDIT_USER_ROLE_USER,
                              EAUDIT_TIME_NONE));
  EA_OK(eaudit_store_set_user(store, 2, "Robert Builder",
                              EAUDIT_USER_ROLE_USER,
                              tu_utc(2026, 6, 1, 0, 0, 0)));
  add(3, tu_utc(2026, 11, 1, 0, 0, 0), 2, 2, 7);
  add(9, tu_utc(2026, 11, 2, 0, 0, 0), 2, 1, -1);
  add(9, tu_utc(2026, 11, 3, 0, 0, 0), 3, 1, -1);
  add(11, tu_utc(2026, 11, 4, 0, 0, 0), 3, 1, -1);
  eaudit_users *u;
  EA_OK(eaudit_store_users(store, NULL, 0, &u));
  ck_assert_uint_eq(eaudit_users_size(u), 3);
  int64_t id;
  const char *name;
  int role, expired;
  eaudit_time last;
  EA_OK(eaudit_users_get(u, 0, &id, &name, &role, &last, &expired));
  ck_assert_int_eq(id, 1);
  ck_assert_str_eq(name, "Ada Admin");
  ck_assert_int_eq(role, EAUDIT_USER_ROLE_ADMIN);
  ck_assert_int_eq(last, tu_utc(2026, 11, 4, 0, 0, 0)); /* as actor */
  EA_OK(eaudit_users_get(u, 1, &id, &name, &role, &last, &expired));
  ck_assert_str_eq(name, "Robert Builder");
  ck_assert_int_eq(expired, 1);
  EA_OK(eaudit_users_get(u, 2, &id, &name, &role, &last, &expired));
  ck_assert_ptr_null(name);
  ck_assert_int_eq(expired, 0); /* prolonged */
  eaudit_users_free(u);
  /* Prefixes match past names too. */
  EA_OK(eaudit_store_users(store, "bob", 0, &u));
  ck_assert_uint_eq(eaudit_users_size(u), 1);
  eaudit_users_free(u);
  EA_OK(eaudit_store_users(store, "bu", 0, &u));
  ck_assert_uint_eq(eaudit_users_size(u), 1);
  eaudit_users_free(u);
  EA_OK(eaudit_store_users(store, "zed", 0, &u));
  ck_assert_uint_eq(eaudit_users_size(u), 0);
  eaudit_users_free(u);
}
END_TEST

/* --- search --- */

static int64_t search(const char *text) {
  eaudit_query *q = query();
  EA_OK(eaudit_query_set_text(q, text));
  int64_t n = tu_count(store, q);
  eaudit_query_free(q);
  return n;
}

START_TEST(search_dates_times_labels_and_names) {
  EA_OK(eaudit_store_set_name(store, EAUDIT_KIND_DOOR, 7, "Loading Dock",
                              EAUDIT_TIME_NONE));
  EA_OK(eaudit_store_set_name(store, EAUDIT_KIND_DOOR, 7, "Warehouse Gate",
                              tu_utc(2026, 11, 5, 0, 0, 0)));
  EA_OK(eaudit_store_set_user(store, 5, "Zo\xc3\xab Quinn",
                              EAUDIT_USER_ROLE_USER, EAUDIT_TIME_NONE));
  /* Berlin is UTC+1 in November. */
  add(3, tu_utc(2026, 11, 3, 13, 5, 9), 5, 5, 7);  /* Nov 3 14:05 local */
  add(6, tu_utc(2026, 11, 3, 13, 30, 0), 5, 5, 7); /* Nov 3 14:30 */
  add(3, tu_utc(2026, 11, 13, 13, 5, 0), 5, 5, 7); /* Nov 13 14:05 */
  add(8, tu_utc(2026, 11, 13, 8, 0, 0), 6, 6, -1); /* keycard failed */
  add(7, tu_utc(2026, 11, 14, 8, 0, 0), 6, 6, -1); /* keycard added */
  add(3, tu_utc(2026, 11, 2, 23, 30, 0), 6, 6, 8); /* Nov 3 00:30 local */

  ck_assert_int_eq(search("2026-11-03"), 3);
  ck_assert_int_eq(search("Nov 3"), 3);
  ck_assert_int_eq(search("3 Nov"), 3);
  ck_assert_int_eq(search("nov 13"), 2);
  ck_assert_int_eq(search("14:05"), 2);
  ck_assert_int_eq(search("14:"), 3);
  ck_assert_int_eq(search("Nov 3 14:"), 2);
  ck_assert_int_eq(search("door opened"), 3);
  ck_assert_int_eq(search("keycard"), 2);
  ck_assert_int_eq(search("door open"), 4);
  ck_assert_int_eq(search("loading"), 3);   /* the old name */
  ck_assert_int_eq(search("warehouse"), 3); /* the new name */
  ck_assert_int_eq(search("wareh dock"), 3);
  ck_assert_int_eq(search("zo\xc3\xab"), 3);
  ck_assert_int_eq(search("zoe"), 3);
  ck_assert_int_eq(search("QUINN"), 3);
  ck_assert_int_eq(search("quinn door opened nov 13"), 1);
  ck_assert_int_eq(search("nobody"), 0);
  ck_assert_int_eq(search("Nov 3 Nov 13"), 0);
  ck_assert_int_eq(search("\"zo\xc3\xab quinn\""), 3);
  eaudit_query *q = query();
  ck_assert_int_eq(eaudit_query_set_text(q, "bad \xff"), EAUDIT_EUTF8);
  eaudit_query_free(q);
}
END_TEST

/* A store of 100,000 events: the default view, a filtered query and
 * searches run on indexes only. */
static void check_no_fullscan(eaudit_query *q, const char *what,
                              int64_t want) {
  eaudit_cursor *c;
  EA_OK(eaudit_store_query(store, q, &c));
  const eaudit_event *ev;
  int64_t n = 0;
  while (eaudit_cursor_next(c, &ev) == 0)
    n++;
  ck_assert_msg(eaudit__cursor_fullscan_steps(c) == 0,
                "%s: %d full-scan steps", what,
                eaudit__cursor_fullscan_steps(c));
  if (want >= 0)
    ck_assert_msg(n == want, "%s: %lld results, want %lld", what,
                  (long long)n, (long long)want);
  eaudit_cursor_free(c);
}

START_TEST(queries_never_scan_the_whole_table) {
  EA_OK(eaudit_store_set_user(store, 1, "Ada Admin", 1, EAUDIT_TIME_NONE));
  EA_OK(eaudit_store_set_name(store, EAUDIT_KIND_DOOR, 3, "Server Room",
                              EAUDIT_TIME_NONE));
  eaudit_batch *b;
  EA_OK(eaudit_batch_new(&b));
  eaudit_time t0 = tu_utc(2025, 11, 25, 0, 0, 0);
  /* One year, 100,000 events, 200 users, 20 doors. */
  for (int i = 0; i < 100000; i++) {
    eaudit_event *ev =
        ev_at(i % 17 == 0 ? 6 : 3, t0 + (int64_t)i * 315360000LL,
              1 + i % 200, -1, 1 + i % 20);
    EA_OK(eaudit_batch_add(b, ev));
    eaudit_event_free(ev);
    if (eaudit_batch_size(b) == 10000) {
      EA_OK(eaudit_store_append_batch(store, b, NULL));
      eaudit_batch_clear(b);
    }
  }
  eaudit_batch_free(b);
  eaudit_query *q;
  EA_OK(eaudit_store_default_query(store, &q));
  /* User 1's events in the last month: i = 1 mod 200, roughly 1/12. */
  check_no_fullscan(q, "default view", -1);
  EA_OK(eaudit_query_set_limit(q, 20));
  check_no_fullscan(q, "default view, first page", 20);
  eaudit_query_free(q);
  q = query();
  EA_OK(eaudit_query_set_interval(q, tu_utc(2026, 3, 1, 0, 0, 0),
                                  tu_utc(2026, 3, 8, 0, 0, 0)));
  EA_OK(eaudit_query_add_type(q, 6));
  EA_OK(eaudit_query_set_entity(q, EAUDIT_FIELD_DOOR, 3));
  check_no_fullscan(q, "filtered", -1);
  eaudit_query_free(q);
  const char *texts[] = {"server", "ada", "door opened", "2026-03-03",
                         "Mar 3 14:", "server room 14:05"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    EA_OK(eaudit_store_default_query(store, &q));
    eaudit_query_clear_user(q);
    if (i == 3 || i == 4)
      EA_OK(eaudit_query_set_interval(q, EAUDIT_TIME_NONE, EAUDIT_TIME_NONE));
    EA_OK(eaudit_query_set_text(q, texts[i]));
    check_no_fullscan(q, texts[i], -1);
    EA_OK(eaudit_query_set_limit(q, 50));
    check_no_fullscan(q, texts[i], -1);
    eaudit_query_free(q);
  }
  /* Exact counts on the big store: user 1 as subject, all time. */
  q = query();
  EA_OK(eaudit_query_set_user(q, 1, EAUDIT_ROLE_SUBJECT));
  check_no_fullscan(q, "user 1", 500);
  EA_OK(eaudit_query_set_text(q, "server"));
  /* i = 0 mod 200 has door 1; user 1 is i = 0 mod 200 -> door 1 only. */
  check_no_fullscan(q, "user 1 at the server room", 0);
  eaudit_query_free(q);
}
END_TEST

Suite *query_suite(void) {
  Suite *s = suite_create("query");
  TCase *tc = tcase_create("query");
  tcase_set_timeout(tc, 300);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, filters_combine);
  tcase_add_test(tc, results_are_ordered_both_ways_and_borrowed_names_resolve);
  tcase_add_test(tc, pages_are_stable_while_events_arrive);
  tcase_add_test(tc, tail_cursor_follows_seq);
  tcase_add_test(tc, default_view_is_user_1_over_the_past_month);
  tcase_add_test(tc, past_month_clamps_at_month_ends);
  tcase_add_test(tc, counts_from_rollups_equal_counting_events);
  tcase_add_test(tc, users_list_has_names_roles_activity_and_expiry);
  tcase_add_test(tc, search_dates_times_labels_and_names);
  tcase_add_test(tc, queries_never_scan_the_whole_table);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tu_run(query_suite()); }
