/* Queries: filters, the default view, keyset pages, the tail cursor,
 * counts, the users list and free-text search, and that none of them scans
 * the whole table. The suite runs on SQLite and, as test_query_pg, on a
 * PostgreSQL store (EAUDIT_TEST_BACKEND=postgresql, tests/testutil.h). */
#include "testutil.h"

#include "query_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef EAUDIT_HAVE_LIBPQ
#include "pg_internal.h"
#endif

static tu_clock clk;
static uint64_t seed;
static char path[512];
static eaudit_store *store;

static void open_store(const char *zone) {
  seed = 7;
  tu_store_target(path, sizeof path, "query");
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

static void set_user_name(int64_t id, const char *name, int role) {
  EA_OK(eaudit_store_set_user(store, id, name, role, EAUDIT_TIME_NONE));
}

START_TEST(results_are_ordered_both_ways_and_borrowed_names_resolve) {
  set_user_name(1, "Ada Admin", EAUDIT_USER_ROLE_ADMIN);
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
  ck_assert_int_eq(eaudit_query_set_after(q, "p2:AAAA"), EAUDIT_ECURSOR);
  ck_assert_int_eq(
      eaudit_query_set_after(q, "p2:AAZfXyKzu0DDJBHGQ0r21moef8y9XMOJAAAAAAAAABE="),
      EAUDIT_ECURSOR);
  /* A position of the other backend is refused when the query runs. */
  EA_OK(eaudit_query_set_after(
      q, tu_backend_pg() ? "p1:1793712069000000:17"
                         : "p2:AAZfXyKzu0DDJBHGQ0r21moef8y9XMOJAAAAAAAAABE"));
  eaudit_cursor *c = NULL;
  ck_assert_int_eq(eaudit_store_query(store, q, &c), EAUDIT_ECURSOR);
  ck_assert_ptr_null(c);
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
  /* A user named before any event is listed, with the role set; a name
   * alone (set_name) lists the user with the default role and keeps a
   * role set before. */
  EA_OK(eaudit_store_set_user(store, 9, "Nina New", EAUDIT_USER_ROLE_ADMIN,
                              EAUDIT_TIME_NONE));
  EA_OK(eaudit_store_set_name(store, EAUDIT_KIND_USER, 8, "Otto Other",
                              EAUDIT_TIME_NONE));
  EA_OK(eaudit_store_set_name(store, EAUDIT_KIND_USER, 1, "Ada A. Admin",
                              tu_utc(2026, 11, 10, 0, 0, 0)));
  EA_OK(eaudit_store_users(store, NULL, 0, &u));
  ck_assert_uint_eq(eaudit_users_size(u), 5);
  EA_OK(eaudit_users_get(u, 0, &id, &name, &role, &last, &expired));
  ck_assert_str_eq(name, "Ada A. Admin");
  ck_assert_int_eq(role, EAUDIT_USER_ROLE_ADMIN);
  EA_OK(eaudit_users_get(u, 3, &id, &name, &role, &last, &expired));
  ck_assert_int_eq(id, 8);
  ck_assert_str_eq(name, "Otto Other");
  ck_assert_int_eq(role, EAUDIT_USER_ROLE_USER);
  ck_assert_int_eq(last, EAUDIT_TIME_NONE);
  ck_assert_int_eq(expired, 0);
  EA_OK(eaudit_users_get(u, 4, &id, &name, &role, &last, &expired));
  ck_assert_int_eq(id, 9);
  ck_assert_str_eq(name, "Nina New");
  ck_assert_int_eq(role, EAUDIT_USER_ROLE_ADMIN);
  ck_assert_int_eq(last, EAUDIT_TIME_NONE);
  eaudit_users_free(u);
  EA_OK(eaudit_store_users(store, "nina", 0, &u));
  ck_assert_uint_eq(eaudit_users_size(u), 1);
  eaudit_users_free(u);
}
END_TEST

/* Users seen in events, with no directory entry: the same list on both
 * backends (ids, no names, the default role, last activity as subject or
 * actor, expired unless prolonged after). */
START_TEST(users_seen_in_events_have_activity_and_expiry) {
  add(3, tu_utc(2026, 11, 1, 0, 0, 0), 2, 2, 7);
  add(9, tu_utc(2026, 11, 2, 0, 0, 0), 2, 1, -1);
  add(9, tu_utc(2026, 11, 3, 0, 0, 0), 3, 1, -1);
  add(11, tu_utc(2026, 11, 4, 0, 0, 0), 3, 1, -1);
  add(11, tu_utc(2026, 11, 5, 0, 0, 0), 4, 4, -1);
  add(9, tu_utc(2026, 11, 6, 0, 0, 0), 4, 4, -1);
  eaudit_users *u = NULL;
  EA_OK(eaudit_store_users(store, NULL, 0, &u));
  ck_assert_uint_eq(eaudit_users_size(u), 4);
  int64_t id;
  const char *name;
  int role, expired;
  eaudit_time last;
  eaudit_time lasts[] = {tu_utc(2026, 11, 4, 0, 0, 0),
                         tu_utc(2026, 11, 2, 0, 0, 0),
                         tu_utc(2026, 11, 4, 0, 0, 0),
                         tu_utc(2026, 11, 6, 0, 0, 0)};
  int expireds[] = {0, 1, 0, 1};
  for (size_t i = 0; i < 4; i++) {
    EA_OK(eaudit_users_get(u, i, &id, &name, &role, &last, &expired));
    ck_assert_int_eq(id, (int64_t)i + 1);
    ck_assert_ptr_null(name);
    ck_assert_int_eq(role, EAUDIT_USER_ROLE_USER);
    ck_assert_int_eq(last, lasts[i]); /* user 1 only as actor */
    ck_assert_int_eq(expired, expireds[i]);
  }
  eaudit_users_free(u);
  EA_OK(eaudit_store_users(store, NULL, 2, &u));
  ck_assert_uint_eq(eaudit_users_size(u), 2);
  eaudit_users_free(u);
  u = NULL;
  /* A name prefix matches the directory, past names too: none without
   * one. */
  EA_OK(eaudit_store_users(store, "bob", 0, &u));
  ck_assert_uint_eq(eaudit_users_size(u), 0);
  eaudit_users_free(u);
  set_user_name(2, "Bob Builder", EAUDIT_USER_ROLE_USER);
  EA_OK(eaudit_store_set_name(store, EAUDIT_KIND_USER, 2, "Robert Builder",
                              tu_utc(2026, 6, 1, 0, 0, 0)));
  set_user_name(4, "Bu\xc3\xb1uel", EAUDIT_USER_ROLE_USER);
  const char *prefixes[] = {"bob", "BU", "rob", "zed", "bunu"};
  size_t want[] = {1, 2, 1, 0, 1};
  for (size_t i = 0; i < 5; i++) {
    EA_OK(eaudit_store_users(store, prefixes[i], 0, &u));
    ck_assert_msg(eaudit_users_size(u) == want[i], "%s: %zu", prefixes[i],
                  eaudit_users_size(u));
    if (want[i]) {
      EA_OK(eaudit_users_get(u, 0, &id, &name, &role, &last, &expired));
      ck_assert_int_eq(id, i == 4 ? 4 : 2);
      ck_assert_str_eq(name, i == 4 ? "Bu\xc3\xb1uel" : "Robert Builder");
    }
    eaudit_users_free(u);
  }
}
END_TEST

/* Time expressions resolve in the store's zone on either backend. */
START_TEST(time_expressions_use_the_store_zone) {
  eaudit_time b, e;
  EA_OK(eaudit_store_parse_time(store, "2026-11-03", EAUDIT_TIME_NONE, &b, &e));
  ck_assert_int_eq(b, tu_utc(2026, 11, 2, 23, 0, 0));
  ck_assert_int_eq(e, tu_utc(2026, 11, 3, 23, 0, 0));
  EA_OK(eaudit_store_parse_time(store, "yesterday", EAUDIT_TIME_NONE, &b, &e));
  ck_assert_int_eq(b, tu_utc(2026, 11, 23, 23, 0, 0));
  char buf[EAUDIT_TIME_STRMAX];
  EA_OK(eaudit_store_format_time(store, tu_utc(2026, 11, 3, 13, 5, 9),
                                 EAUDIT_TIME_LOCAL, buf, sizeof buf));
  ck_assert_str_eq(buf, "2026-11-03 14:05:09");
  ck_assert_int_eq(eaudit_store_parse_time(store, "soon", EAUDIT_TIME_NONE,
                                           &b, &e),
                   EAUDIT_ETIME);
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

/* A search with name words: the same count on both backends. */
static int64_t search_names(const char *text) { return search(text); }

static void set_name(int kind, int64_t id, const char *name,
                     eaudit_time from) {
  EA_OK(eaudit_store_set_name(store, kind, id, name, from));
}

#define NAMES(n) (n)

START_TEST(search_dates_times_labels_and_names) {
  set_name(EAUDIT_KIND_DOOR, 7, "Loading Dock", EAUDIT_TIME_NONE);
  set_name(EAUDIT_KIND_DOOR, 7, "Warehouse Gate",
           tu_utc(2026, 11, 5, 0, 0, 0));
  set_user_name(5, "Zo\xc3\xab Quinn", EAUDIT_USER_ROLE_USER);
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
  ck_assert_int_eq(search_names("loading"), NAMES(3)); /* the old name */
  ck_assert_int_eq(search_names("warehouse"), NAMES(3)); /* the new name */
  ck_assert_int_eq(search_names("wareh dock"), NAMES(3));
  ck_assert_int_eq(search_names("zo\xc3\xab"), NAMES(3));
  ck_assert_int_eq(search_names("zoe"), NAMES(3));
  ck_assert_int_eq(search_names("QUINN"), NAMES(3));
  ck_assert_int_eq(search_names("quinn door opened nov 13"), NAMES(1));
  ck_assert_int_eq(search_names("nobody"), NAMES(0));
  /* Words folded as SQLite's unicode61: non-ASCII punctuation inside a
   * search word makes a phrase; a word of separators matches nothing. */
  set_name(EAUDIT_KIND_USER, 6, "Jean-Pierre O\xe2\x80\x99" "Brien",
           EAUDIT_TIME_NONE);
  ck_assert_int_eq(search_names("o\xe2\x80\x99" "bri"), 3);
  ck_assert_int_eq(search_names("jean\xe2\x80\x94pi"), 3);
  ck_assert_int_eq(search_names("pierre\xe2\x80\x94o"), 3);
  ck_assert_int_eq(search_names("jean\xe2\x80\x94o"), 0);
  ck_assert_int_eq(search_names("\xe2\x82\xac"), 0);
  ck_assert_int_eq(search_names("BRI\xc3\x89"), 3); /* brie: accents go */
  ck_assert_int_eq(search_names("BRI"), 3);
  ck_assert_int_eq(search("Nov 3 Nov 13"), 0);
  ck_assert_int_eq(search("Nov 3 door opened 14:"), 1);
  ck_assert_int_eq(search("keycard Nov 13 09:"), 1); /* 08:00 UTC */
  ck_assert_int_eq(search("Nov 3 23:"), 0);
  ck_assert_int_eq(search_names("\"zo\xc3\xab quinn\""), NAMES(3));
  /* Labels: a translated one and a vendor type's, set after the events
   * of built-in types were stored, are searched by their words. */
  EA_OK(eaudit_store_set_type_label(store, EAUDIT_TYPE_DOOR_OPENED,
                                    "T\xc3\xbcr ge\xc3\xb6" "ffnet"));
  EA_OK(eaudit_store_register_type(store, 1000, "lift_called",
                                   "Lift called"));
  add(1000, tu_utc(2026, 11, 3, 13, 40, 0), 5, 5, -1);
  ck_assert_int_eq(search("t\xc3\xbcr"), 3);
  ck_assert_int_eq(search("door opened"), 0);
  ck_assert_int_eq(search("lift"), 1);
  ck_assert_int_eq(search("lift Nov 3"), 1);
  EA_OK(eaudit_store_set_type_label(store, EAUDIT_TYPE_DOOR_OPENED, NULL));
  ck_assert_int_eq(search("door opened"), 3);
  eaudit_query *q = query();
  ck_assert_int_eq(eaudit_query_set_text(q, "bad \xff"), EAUDIT_EUTF8);
  eaudit_query_free(q);
}
END_TEST

/* A name word shared by many entities and one shared by few: the events
 * of the first word's entities, newest or oldest first, across batches
 * and pages, exactly the events an independent count expects. On
 * PostgreSQL the word of 40 users walks the time index and the words of
 * a few entities read each entity's index (docs/scale-out.md, Queries);
 * the results must not tell. */
#define WORD_EVENTS 900

static void word_event(int i, int64_t *subject, int64_t *actor,
                       int64_t *door) {
  *subject = 1 + i % 60; /* users 1-40 "Ann ..", 41-43 "Zed ..", rest none */
  *actor = i % 10 == 0 ? 1 + (i / 10) % 45 : *subject;
  if (i % 10 == 0)
    *subject = 100; /* the actor alone names the user */
  *door = i % 13 == 0 ? 7 : 1 + i % 5; /* door 7: "Annex" */
}

static int word_matches(int i, const char *word) {
  int64_t su, ac, dr;
  word_event(i, &su, &ac, &dr);
  if (strcmp(word, "ann") == 0)
    return (su >= 1 && su <= 40) || (ac >= 1 && ac <= 40) || dr == 7;
  return (su >= 41 && su <= 43) || (ac >= 41 && ac <= 43);
}

static void check_word(const char *word, eaudit_order order, int64_t limit) {
  eaudit_time t0 = tu_utc(2026, 6, 1, 0, 0, 0);
  int idx[WORD_EVENTS], n = 0;
  for (int k = 0; k < WORD_EVENTS; k++) {
    int i = order == EAUDIT_ORDER_NEWEST_FIRST ? WORD_EVENTS - 1 - k : k;
    if (word_matches(i, word))
      idx[n++] = i;
  }
  if (limit > 0 && limit < n)
    n = (int)limit;
  eaudit_query *q = query();
  EA_OK(eaudit_query_set_text(q, word));
  EA_OK(eaudit_query_set_order(q, order));
  if (limit > 0)
    EA_OK(eaudit_query_set_limit(q, limit));
  eaudit_cursor *c;
  EA_OK(eaudit_store_query(store, q, &c));
  const eaudit_event *ev;
  int got = 0, rc;
  while ((rc = eaudit_cursor_next(c, &ev)) == 0) {
    ck_assert_msg(got < n, "%s: more than %d results", word, n);
    int64_t at = 0;
    EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_OCCURRED_AT, &at));
    ck_assert_msg(at == t0 + (int64_t)idx[got] * 60000000,
                  "%s: result %d is event %lld, want %d", word, got,
                  (long long)((at - t0) / 60000000), idx[got]);
    got++;
  }
  ck_assert_int_eq(rc, EAUDIT_DONE);
  ck_assert_msg(got == n, "%s: %d results, want %d", word, got, n);
  eaudit_cursor_free(c);
  eaudit_query_free(q);
}

START_TEST(name_words_of_many_and_few_entities) {
  char name[32];
  for (int u = 1; u <= 43; u++) {
    snprintf(name, sizeof name, "%s %d", u <= 40 ? "Ann" : "Zed", u);
    set_name(EAUDIT_KIND_USER, u, name, EAUDIT_TIME_NONE);
  }
  set_name(EAUDIT_KIND_DOOR, 7, "Annex", EAUDIT_TIME_NONE);
  eaudit_batch *b;
  EA_OK(eaudit_batch_new(&b));
  eaudit_time t0 = tu_utc(2026, 6, 1, 0, 0, 0);
  for (int i = 0; i < WORD_EVENTS; i++) {
    int64_t su, ac, dr;
    word_event(i, &su, &ac, &dr);
    eaudit_event *ev = ev_at(3, t0 + (int64_t)i * 60000000, su, ac, dr);
    EA_OK(eaudit_batch_add(b, ev));
    eaudit_event_free(ev);
  }
  EA_OK(eaudit_store_append_batch(store, b, NULL));
  eaudit_batch_free(b);
  const char *words[] = {"ann", "zed"};
  for (size_t w = 0; w < 2; w++) {
    check_word(words[w], EAUDIT_ORDER_NEWEST_FIRST, 0);
    check_word(words[w], EAUDIT_ORDER_OLDEST_FIRST, 0);
    check_word(words[w], EAUDIT_ORDER_NEWEST_FIRST, 50);
    check_word(words[w], EAUDIT_ORDER_OLDEST_FIRST, 7);
  }
  /* A second word filters the first: Zed users at door 7 ("annex"). */
  eaudit_query *q = query();
  EA_OK(eaudit_query_set_text(q, "zed annex"));
  int64_t want = 0;
  for (int i = 0; i < WORD_EVENTS; i++) {
    int64_t su, ac, dr;
    word_event(i, &su, &ac, &dr);
    want += word_matches(i, "zed") && dr == 7;
  }
  ck_assert_int_gt(want, 0);
  ck_assert_int_eq(tu_count(store, q), want);
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

/* One year of n events, 200 users, 20 doors; every 17th a failure. */
static void append_year(int n) {
  eaudit_batch *b;
  EA_OK(eaudit_batch_new(&b));
  eaudit_time t0 = tu_utc(2025, 11, 25, 0, 0, 0);
  int64_t step = 31536000000000LL / n;
  for (int i = 0; i < n; i++) {
    eaudit_event *ev = ev_at(i % 17 == 0 ? 6 : 3, t0 + (int64_t)i * step,
                             1 + i % 200, -1, 1 + i % 20);
    EA_OK(eaudit_batch_add(b, ev));
    eaudit_event_free(ev);
    if (eaudit_batch_size(b) == 10000) {
      EA_OK(eaudit_store_append_batch(store, b, NULL));
      eaudit_batch_clear(b);
    }
  }
  if (eaudit_batch_size(b))
    EA_OK(eaudit_store_append_batch(store, b, NULL));
  eaudit_batch_free(b);
}

#ifdef EAUDIT_HAVE_LIBPQ
static int occurrences(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
    n++;
  return n;
}

/* The PostgreSQL counterpart of the full-scan count: with sequential
 * scans priced out (enable_seqscan = off), the planner still takes one
 * only when no index can answer, so a plan without "Seq Scan" whose every
 * index scan has an index condition shows that the query can run on
 * indexes alone, whatever the statistics. The count checks the results
 * as well. */
static void check_plan(eaudit_query *q, const char *what, int64_t want) {
  PGconn *conn = ((eaudit__pgstore *)store->pg)->conn;
  PQclear(PQexec(conn, "SET enable_seqscan = off"));
  char *plan = NULL;
  int rc = eaudit__pg_query_explain(store, q, &plan);
  PQclear(PQexec(conn, "RESET enable_seqscan"));
  EA_OK(rc);
  ck_assert_msg(strstr(plan, "Seq Scan") == NULL, "%s scans a table:\n%s",
                what, plan);
  int scans = occurrences(plan, "Index Scan using") +
              occurrences(plan, "Index Scan Backward using") +
              occurrences(plan, "Index Only Scan") +
              occurrences(plan, "Bitmap Index Scan on");
  ck_assert_msg(scans > 0 && occurrences(plan, "Index Cond:") == scans,
                "%s: an index scan without a condition:\n%s", what, plan);
  eaudit__free(plan);
  int64_t n = tu_count(store, q);
  if (want >= 0)
    ck_assert_msg(n == want, "%s: %lld results, want %lld", what,
                  (long long)n, (long long)want);
}

static void no_fullscan_pg(void) {
  /* Fewer events than on SQLite: the plan check does not depend on the
   * volume, and appends to a server cost more. */
  EA_OK(eaudit_store_set_name(store, EAUDIT_KIND_USER, 1, "Ada Admin",
                              EAUDIT_TIME_NONE));
  EA_OK(eaudit_store_set_name(store, EAUDIT_KIND_DOOR, 3, "Server Room",
                              EAUDIT_TIME_NONE));
  append_year(10000);
  PQclear(PQexec(((eaudit__pgstore *)store->pg)->conn,
                 "ANALYZE eaudit.events; ANALYZE eaudit.names; "
                 "ANALYZE eaudit.name_words"));
  eaudit_query *q;
  EA_OK(eaudit_store_default_query(store, &q));
  check_plan(q, "default view", -1);
  EA_OK(eaudit_query_set_limit(q, 3)); /* about 4 in the month */
  check_plan(q, "default view, first page", 3);
  eaudit_query_free(q);
  q = query();
  EA_OK(eaudit_query_set_interval(q, tu_utc(2026, 3, 1, 0, 0, 0),
                                  tu_utc(2026, 3, 8, 0, 0, 0)));
  EA_OK(eaudit_query_add_type(q, 6));
  EA_OK(eaudit_query_set_entity(q, EAUDIT_FIELD_DOOR, 3));
  check_plan(q, "filtered", -1);
  eaudit_query_free(q);
  const char *texts[] = {"door opened", "2026-03-03", "Mar 3 14:",
                         "door open failed 14:05", "keycard", "server",
                         "ada", "server room 14:05"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    EA_OK(eaudit_store_default_query(store, &q));
    eaudit_query_clear_user(q);
    if (i == 1 || i == 2)
      EA_OK(eaudit_query_set_interval(q, EAUDIT_TIME_NONE, EAUDIT_TIME_NONE));
    EA_OK(eaudit_query_set_text(q, texts[i]));
    check_plan(q, texts[i], -1);
    EA_OK(eaudit_query_set_limit(q, 50));
    check_plan(q, texts[i], -1);
    eaudit_query_free(q);
  }
  q = query();
  EA_OK(eaudit_query_set_user(q, 1, EAUDIT_ROLE_SUBJECT));
  check_plan(q, "user 1", 50);
  EA_OK(eaudit_query_set_user(q, 1, EAUDIT_ROLE_ANY));
  EA_OK(eaudit_query_set_order(q, EAUDIT_ORDER_OLDEST_FIRST));
  check_plan(q, "user 1, any role, oldest first", 50);
  eaudit_query_free(q);
}
#endif

START_TEST(queries_never_scan_the_whole_table) {
#ifdef EAUDIT_HAVE_LIBPQ
  if (tu_backend_pg()) {
    no_fullscan_pg();
    return;
  }
#endif
  EA_OK(eaudit_store_set_user(store, 1, "Ada Admin", 1, EAUDIT_TIME_NONE));
  EA_OK(eaudit_store_set_name(store, EAUDIT_KIND_DOOR, 3, "Server Room",
                              EAUDIT_TIME_NONE));
  append_year(100000);
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

/* Times of day are local wall-clock minutes across DST changes: on the
 * night clocks go back (Berlin, 25 Oct 2026, 03:00 CEST -> 02:00 CET at
 * 01:00 UTC) 02:30 happens twice; on the night they go forward (29 Mar
 * 2026, 02:00 CET -> 03:00 CEST at 01:00 UTC) no 02:xx exists. */
START_TEST(times_of_day_follow_dst_changes) {
  add(3, tu_utc(2026, 10, 25, 0, 30, 0), 1, 1, 7);  /* 02:30 CEST */
  add(3, tu_utc(2026, 10, 25, 1, 30, 0), 1, 1, 7);  /* 02:30 CET */
  add(3, tu_utc(2026, 10, 25, 1, 59, 59), 1, 1, 7); /* 02:59 CET */
  add(3, tu_utc(2026, 10, 25, 2, 0, 0), 1, 1, 7);   /* 03:00 CET */
  add(3, tu_utc(2026, 3, 29, 0, 59, 0), 1, 1, 7);   /* 01:59 CET */
  add(3, tu_utc(2026, 3, 29, 1, 0, 0), 1, 1, 7);    /* 03:00 CEST */
  ck_assert_int_eq(search("Oct 25 02:30"), 2);
  ck_assert_int_eq(search("2026-10-25 02:"), 3);
  ck_assert_int_eq(search("2026-10-25 03:"), 1);
  ck_assert_int_eq(search("02:30"), 2); /* no date: every day */
  ck_assert_int_eq(search("2026-03-29 02:"), 0);
  ck_assert_int_eq(search("2026-03-29 01:59"), 1);
  ck_assert_int_eq(search("2026-03-29 03:"), 1);
  ck_assert_int_eq(search("03:"), 2);
  /* Over an interval of some weeks, each day's minute counts. */
  eaudit_query *q = query();
  EA_OK(eaudit_query_set_interval(q, tu_utc(2026, 3, 1, 0, 0, 0),
                                  tu_utc(2026, 11, 1, 0, 0, 0)));
  EA_OK(eaudit_query_set_text(q, "02:"));
  ck_assert_int_eq(tu_count(store, q), 3);
  EA_OK(eaudit_query_set_interval(q, tu_utc(2026, 10, 20, 0, 0, 0),
                                  tu_utc(2026, 11, 1, 0, 0, 0)));
  ck_assert_int_eq(tu_count(store, q), 3);
  EA_OK(eaudit_query_set_text(q, "02:30 03:"));
  ck_assert_int_eq(tu_count(store, q), 0);
  /* Fifty years of DST changes: more stretches of one offset than a
   * PostgreSQL query lists, so the server computes every row. */
  EA_OK(eaudit_query_set_interval(q, tu_utc(1976, 1, 1, 0, 0, 0),
                                  tu_utc(2027, 1, 1, 0, 0, 0)));
  EA_OK(eaudit_query_set_text(q, "02:30"));
  ck_assert_int_eq(tu_count(store, q), 2);
  eaudit_query_free(q);
  /* An open interval reaches events appended after the query was
   * compiled, even years past the newest event: there PostgreSQL
   * computes the local time itself. */
  q = query();
  EA_OK(eaudit_query_set_text(q, "02:30"));
  eaudit_cursor *c = NULL;
  EA_OK(eaudit_store_query(store, q, &c));
  add(3, tu_utc(2031, 7, 1, 0, 30, 0), 1, 1, 7); /* 02:30 CEST */
  add(3, tu_utc(2031, 7, 1, 1, 30, 0), 1, 1, 7); /* 03:30 CEST */
  const eaudit_event *ev;
  int n = 0;
  while (eaudit_cursor_next(c, &ev) == 0)
    n++;
  ck_assert_int_eq(n, 3);
  eaudit_cursor_free(c);
  eaudit_query_free(q);
}
END_TEST

#ifdef EAUDIT_HAVE_LIBPQ
/* Results span every origin of the central store: events shipped from a
 * site store and the store's own appends, in the order (occurred_at,
 * origin, seq), pages resuming exactly where they stopped even through
 * ties on occurred_at. The tail follows the handle's own chain only. */
START_TEST(pg_results_span_every_origin_in_one_total_order) {
  if (!tu_backend_pg()) {
    fprintf(stderr, "%s: PostgreSQL only (cross-site search)\n", __func__);
    return;
  }
  eaudit_time t = tu_utc(2026, 11, 20, 8, 0, 0);
  char site_path[512];
  tu_temp_path(site_path, sizeof site_path, "query-site");
  eaudit_options *o = tu_options(&clk, &seed);
  eaudit_store *site;
  EA_OK(eaudit_store_open(&site, site_path, o));
  eaudit_options_free(o);
  for (int i = 0; i < 4; i++) {
    add(3, t + (i / 2) * 1000000, 1, 1, 7); /* own: two per second */
    eaudit_event *ev = ev_at(6, t + (i / 2) * 1000000, 1, 1, 8);
    EA_OK(eaudit_store_append(site, ev));
    eaudit_event_free(ev);
  }
  int64_t shipped = 0;
  EA_OK(eaudit_store_ship(site, tu_store_last_target(), 0, &shipped));
  ck_assert_int_eq(shipped, 4);
  eaudit_store_free(site);
  tu_remove_store(site_path);
  for (int order = 0; order < 2; order++) {
    eaudit_query *q = query();
    EA_OK(eaudit_query_set_user(q, 1, EAUDIT_ROLE_ANY));
    EA_OK(eaudit_query_set_order(q, order));
    /* All at once, then one per page: the same sequence. */
    int64_t all[8][3], paged[8][3];
    int n = 0, m = 0;
    eaudit_cursor *c;
    const eaudit_event *ev;
    EA_OK(eaudit_store_query(store, q, &c));
    while (eaudit_cursor_next(c, &ev) == 0) {
      ck_assert_int_lt(n, 8);
      EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_OCCURRED_AT, &all[n][0]));
      EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &all[n][1]));
      EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_TYPE, &all[n][2]));
      n++;
    }
    eaudit_cursor_free(c);
    ck_assert_int_eq(n, 8);
    EA_OK(eaudit_query_set_limit(q, 1));
    char pos[EAUDIT_POSITION_MAX] = "";
    for (;;) {
      EA_OK(eaudit_query_set_after(q, pos));
      EA_OK(eaudit_store_query(store, q, &c));
      if (eaudit_cursor_next(c, &ev) != 0) {
        eaudit_cursor_free(c);
        break;
      }
      ck_assert_int_lt(m, 8);
      EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_OCCURRED_AT, &paged[m][0]));
      EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &paged[m][1]));
      EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_TYPE, &paged[m][2]));
      m++;
      EA_OK(eaudit_cursor_position(c, pos, sizeof pos));
      ck_assert_uint_lt(strlen(pos), EAUDIT_POSITION_MAX);
      ck_assert_int_eq(strncmp(pos, "p2:", 3), 0);
      eaudit_cursor_free(c);
    }
    ck_assert_int_eq(m, 8);
    int own = 0;
    for (int i = 0; i < 8; i++) {
      for (int k = 0; k < 3; k++)
        ck_assert_int_eq(paged[i][k], all[i][k]);
      own += all[i][2] == 3;
      /* Time first; within one second, one origin's two events are
       * adjacent and in seq order. */
      if (i) {
        int64_t dt = all[i][0] - all[i - 1][0];
        ck_assert(order == EAUDIT_ORDER_OLDEST_FIRST ? dt >= 0 : dt <= 0);
        if (dt == 0 && all[i][2] == all[i - 1][2])
          ck_assert_int_eq(all[i][1] - all[i - 1][1],
                           order == EAUDIT_ORDER_OLDEST_FIRST ? 1 : -1);
      }
    }
    ck_assert_int_eq(own, 4);
    for (int g = 0; g < 8; g += 4) /* per second: one origin, then the other */
      ck_assert(all[g][2] == all[g + 1][2] && all[g + 2][2] == all[g + 3][2] &&
                all[g][2] != all[g + 2][2]);
    eaudit_query_free(q);
  }
  /* The tail: the own chain only. */
  eaudit_cursor *c;
  const eaudit_event *ev;
  EA_OK(eaudit_store_tail(store, 0, 0, &c));
  int n = 0;
  int64_t type;
  while (eaudit_cursor_next(c, &ev) == 0) {
    EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_TYPE, &type));
    ck_assert_int_eq(type, 3);
    n++;
  }
  ck_assert_int_eq(n, 4);
  eaudit_cursor_free(c);
}
END_TEST

static int64_t prepared_count(PGconn *conn) {
  PGresult *r = PQexec(conn, "SELECT count(*) FROM pg_prepared_statements"
                             " WHERE name LIKE 'eaudit\\_q\\_%'");
  ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
  int64_t n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return n;
}

/* Each query shape is prepared once per connection and found again by
 * name; time-of-day lists are padded so that intervals of 1 to 40 days
 * share a handful of shapes; and inside a transaction a new shape is
 * prepared without aborting it. */
START_TEST(pg_statements_are_prepared_once_per_shape) {
  if (!tu_backend_pg()) {
    fprintf(stderr, "%s: PostgreSQL only\n", __func__);
    return;
  }
  PGconn *conn = ((eaudit__pgstore *)store->pg)->conn;
  add(3, tu_utc(2026, 11, 20, 1, 30, 0), 1, 1, 7); /* 02:30 local */
  int64_t before = prepared_count(conn);
  eaudit_query *q = query();
  EA_OK(eaudit_query_set_user(q, 1, EAUDIT_ROLE_ANY));
  ck_assert_int_eq(tu_count(store, q), 1);
  ck_assert_int_eq(tu_count(store, q), 1);
  EA_OK(eaudit_query_set_user(q, 2, EAUDIT_ROLE_ANY));
  ck_assert_int_eq(tu_count(store, q), 0);
  ck_assert_int_eq(prepared_count(conn), before + 1);
  eaudit_query_free(q);
  before = prepared_count(conn);
  for (int days = 1; days <= 40; days++) {
    q = query();
    EA_OK(eaudit_query_set_interval(q, tu_utc(2026, 11, 21, 0, 0, 0) -
                                           (int64_t)days * 86400000000LL,
                                    tu_utc(2026, 11, 21, 0, 0, 0)));
    EA_OK(eaudit_query_set_text(q, "02:"));
    ck_assert_int_eq(tu_count(store, q), 1);
    eaudit_query_free(q);
  }
  ck_assert_int_le(prepared_count(conn), before + 7); /* 1, 2, 4, ... 64 */
  PQclear(PQexec(conn, "BEGIN"));
  q = query();
  EA_OK(eaudit_query_add_type(q, 3));
  EA_OK(eaudit_query_set_entity(q, EAUDIT_FIELD_DOOR, 7));
  ck_assert_int_eq(tu_count(store, q), 1);
  ck_assert_int_eq(PQtransactionStatus(conn), PQTRANS_INTRANS);
  PQclear(PQexec(conn, "ROLLBACK"));
  ck_assert_int_eq(tu_count(store, q), 1); /* prepared again after it */
  eaudit_query_free(q);
}
END_TEST
#endif


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
  tcase_add_test(tc, users_seen_in_events_have_activity_and_expiry);
  tcase_add_test(tc, time_expressions_use_the_store_zone);
  tcase_add_test(tc, search_dates_times_labels_and_names);
  tcase_add_test(tc, name_words_of_many_and_few_entities);
  tcase_add_test(tc, queries_never_scan_the_whole_table);
  tcase_add_test(tc, times_of_day_follow_dst_changes);
#ifdef EAUDIT_HAVE_LIBPQ
  tcase_add_test(tc, pg_results_span_every_origin_in_one_total_order);
  tcase_add_test(tc, pg_statements_are_prepared_once_per_shape);
#endif
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tu_run(query_suite()); }
