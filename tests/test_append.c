/* Appending: validation, atomicity, seq, ids, the chain and subscribers. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

static tu_clock clk;
static uint64_t seed;
static char path[512];
static eaudit_store *store;

static void setup(void) {
  clk.now = tu_utc(2026, 11, 3, 12, 0, 0);
  clk.step = 1000;
  seed = 42;
  tu_store_target(path, sizeof path, "append");
  eaudit_options *o = tu_options(&clk, &seed);
  EA_OK(eaudit_store_open(&store, path, o));
  eaudit_options_free(o);
}

static void teardown(void) {
  eaudit_store_free(store);
  store = NULL;
  tu_remove_store(path);
}

/* One bad input: a way to spoil a valid event and the code it must get. */
typedef struct bad_case {
  const char *what;
  int code;
  void (*spoil)(eaudit_event *ev);
} bad_case;

static void no_type(eaudit_event *ev) { eaudit_event_unset(ev, EAUDIT_FIELD_TYPE); }
static void type_zero(eaudit_event *ev) { eaudit_event_set(ev, EAUDIT_FIELD_TYPE, 0); }
static void type_unknown(eaudit_event *ev) { eaudit_event_set(ev, EAUDIT_FIELD_TYPE, 16); }
static void type_negative(eaudit_event *ev) { eaudit_event_set(ev, EAUDIT_FIELD_TYPE, -3); }
static void type_vendor_unregistered(eaudit_event *ev) {
  eaudit_event_set(ev, EAUDIT_FIELD_TYPE, 1500);
}
static void type_huge(eaudit_event *ev) { eaudit_event_set(ev, EAUDIT_FIELD_TYPE, 1LL << 40); }
static void no_subject(eaudit_event *ev) {
  eaudit_event_unset(ev, EAUDIT_FIELD_SUBJECT);
}
static void expiry_without_subject_or_group(eaudit_event *ev) {
  eaudit_event_set(ev, EAUDIT_FIELD_TYPE, EAUDIT_TYPE_PERMISSIONS_EXPIRED);
  eaudit_event_unset(ev, EAUDIT_FIELD_SUBJECT);
}
static void no_time(eaudit_event *ev) { eaudit_event_unset(ev, EAUDIT_FIELD_OCCURRED_AT); }
static void time_too_late(eaudit_event *ev) {
  eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, INT64_MAX);
}
static void credential_out_of_range(eaudit_event *ev) {
  eaudit_event_set(ev, EAUDIT_FIELD_CREDENTIAL, 6);
}
static void credential_negative(eaudit_event *ev) {
  eaudit_event_set(ev, EAUDIT_FIELD_CREDENTIAL, -1);
}
static void reason_gap(eaudit_event *ev) { eaudit_event_set(ev, EAUDIT_FIELD_REASON, 6); }
static void reason_far(eaudit_event *ev) { eaudit_event_set(ev, EAUDIT_FIELD_REASON, 99999); }
static void details_not_json(eaudit_event *ev) {
  eaudit_event_set_details(ev, "{reader: north}", 15);
}
static void details_array(eaudit_event *ev) { eaudit_event_set_details(ev, "[1,2]", 5); }
static void details_string(eaudit_event *ev) { eaudit_event_set_details(ev, "\"x\"", 3); }
static void details_trailing(eaudit_event *ev) {
  eaudit_event_set_details(ev, "{\"a\":1} {}", 10);
}
static void details_truncated(eaudit_event *ev) {
  eaudit_event_set_details(ev, "{\"a\":", 5);
}
static void details_bad_utf8(eaudit_event *ev) {
  eaudit_event_set_details(ev, "{\"a\":\"\xc3\x28\"}", 10);
}
static void details_nul(eaudit_event *ev) {
  eaudit_event_set_details(ev, "{\"a\":\"\0\"}", 9);
}
static void details_oversized(eaudit_event *ev) {
  static char big[EAUDIT_DETAILS_MAX_DEFAULT + 64];
  memset(big, ' ', sizeof big);
  big[0] = '{';
  big[sizeof big - 1] = '}';
  eaudit_event_set_details(ev, big, sizeof big);
}
static void details_overlong_utf8(eaudit_event *ev) {
  eaudit_event_set_details(ev, "{\"a\":\"\xc0\xaf\"}", 10);
}
static void details_surrogate(eaudit_event *ev) {
  eaudit_event_set_details(ev, "{\"a\":\"\xed\xa0\x80\"}", 11);
}

static const bad_case bad_cases[] = {
    {"no type", EAUDIT_ETYPE, no_type},
    {"type 0", EAUDIT_ETYPE, type_zero},
    {"type 16 (not built in)", EAUDIT_ETYPE, type_unknown},
    {"negative type", EAUDIT_ETYPE, type_negative},
    {"unregistered vendor type", EAUDIT_ETYPE, type_vendor_unregistered},
    {"type beyond vendor range", EAUDIT_ETYPE, type_huge},
    {"missing subject", EAUDIT_ESUBJECT, no_subject},
    {"expiry with neither subject nor group", EAUDIT_ESUBJECT,
     expiry_without_subject_or_group},
    {"no occurred_at", EAUDIT_ETIME, no_time},
    {"occurred_at past year 9999", EAUDIT_ETIME, time_too_late},
    {"credential 6", EAUDIT_ERANGE, credential_out_of_range},
    {"credential -1", EAUDIT_ERANGE, credential_negative},
    {"reason 6 (inside a range's gap)", EAUDIT_ERANGE, reason_gap},
    {"reason 99999", EAUDIT_ERANGE, reason_far},
    {"details not JSON", EAUDIT_EDETAILS, details_not_json},
    {"details an array", EAUDIT_EDETAILS, details_array},
    {"details a string", EAUDIT_EDETAILS, details_string},
    {"details with trailing data", EAUDIT_EDETAILS, details_trailing},
    {"details truncated", EAUDIT_EDETAILS, details_truncated},
    {"details invalid UTF-8", EAUDIT_EUTF8, details_bad_utf8},
    {"details with NUL", EAUDIT_EUTF8, details_nul},
    {"details oversized", EAUDIT_ETOOBIG, details_oversized},
    {"details overlong UTF-8", EAUDIT_EUTF8, details_overlong_utf8},
    {"details UTF-16 surrogate", EAUDIT_EUTF8, details_surrogate},
};

static eaudit_event *good_event(int i) {
  eaudit_event *ev =
      tu_event(EAUDIT_TYPE_DOOR_OPENED, tu_utc(2026, 11, 2, 9, 0, i), 7);
  eaudit_event_set(ev, EAUDIT_FIELD_DOOR, 3);
  eaudit_event_set(ev, EAUDIT_FIELD_CREDENTIAL, EAUDIT_CREDENTIAL_KEYCARD);
  eaudit_event_set_details(ev, "{\"reader\":\"north\"}", 18);
  return ev;
}

/* Every bad case against one store (a database each would make the
 * PostgreSQL run slow): each must leave it exactly as it was. */
START_TEST(bad_event_rejected_with_code_and_store_unchanged) {
  eaudit_event *ok = good_event(0);
  EA_OK(eaudit_store_append(store, ok));
  eaudit_event_free(ok);
  for (size_t k = 0; k < sizeof bad_cases / sizeof bad_cases[0]; k++) {
    const bad_case *bc = &bad_cases[k];
    char before[65], after[65];
    tu_store_digest(path, before);
    int64_t seq_before, seq_after;
    EA_OK(eaudit_store_last_seq(store, &seq_before));

    eaudit_event *ev = good_event(1);
    bc->spoil(ev);
    int rc = eaudit_store_append(store, ev);
    ck_assert_msg(rc == bc->code, "%s: got %d (%s), want %d", bc->what, rc,
                  eaudit_error_last()->message, bc->code);
    ck_assert_int_eq(eaudit_error_last()->code, bc->code);
    ck_assert_msg(strlen(eaudit_error_last()->message) > 10, "%s: no message",
                  bc->what);
    ck_assert(!eaudit_event_has(ev, EAUDIT_FIELD_SEQ));

    /* The same event in the middle of a batch fails the whole batch. */
    eaudit_batch *b;
    EA_OK(eaudit_batch_new(&b));
    for (int i = 0; i < 5; i++) {
      eaudit_event *g = good_event(10 + i);
      EA_OK(eaudit_batch_add(b, i == 3 ? ev : g));
      eaudit_event_free(g);
    }
    size_t failed = 99;
    ck_assert_int_eq(eaudit_store_append_batch(store, b, &failed), bc->code);
    ck_assert_msg(failed == 3, "%s: failed index %zu", bc->what, failed);
    ck_assert_msg(strstr(eaudit_error_last()->message, "event 3") != NULL,
                  "%s: %s", bc->what, eaudit_error_last()->message);
    eaudit_batch_free(b);
    eaudit_event_free(ev);

    EA_OK(eaudit_store_last_seq(store, &seq_after));
    ck_assert_int_eq(seq_before, seq_after);
    tu_store_digest(path, after);
    ck_assert_msg(strcmp(before, after) == 0, "%s: the store changed",
                  bc->what);
  }
}
END_TEST

START_TEST(group_expiry_may_omit_subject) {
  eaudit_event *ev = tu_event(EAUDIT_TYPE_PERMISSIONS_EXPIRED,
                              tu_utc(2026, 11, 1, 0, 0, 0), -1);
  eaudit_event_set(ev, EAUDIT_FIELD_GROUP, 12);
  EA_OK(eaudit_store_append(store, ev));
  int64_t v;
  ck_assert_int_eq(eaudit_event_get(ev, EAUDIT_FIELD_SUBJECT, &v),
                   EAUDIT_ENOTFOUND);
  ck_assert_int_eq(eaudit_event_get(ev, EAUDIT_FIELD_ACTOR, &v),
                   EAUDIT_ENOTFOUND);
  eaudit_event_free(ev);
}
END_TEST

START_TEST(append_assigns_seq_time_id_and_hash) {
  eaudit_event *ev = good_event(0);
  eaudit_time before = clk.now;
  EA_OK(eaudit_store_append(store, ev));
  int64_t seq, rec, actor;
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &seq));
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_RECORDED_AT, &rec));
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_ACTOR, &actor));
  ck_assert_int_eq(seq, 1);
  ck_assert_int_ge(rec, before);
  ck_assert_int_eq(actor, 7); /* defaults to the subject */
  uint8_t id[16];
  EA_OK(eaudit_event_id(ev, id));
  ck_assert_int_eq(id[6] >> 4, 7);        /* version 7 */
  ck_assert_int_eq(id[8] >> 6, 2);        /* RFC 9562 variant */
  uint64_t ms = 0;
  for (int i = 0; i < 6; i++)
    ms = ms << 8 | id[i];
  ck_assert_int_eq((int64_t)ms, rec / 1000);
  ck_assert_ptr_nonnull(eaudit_event_hash(ev));
  /* The caller may not set what the store assigns. */
  ck_assert_int_eq(eaudit_event_set(ev, EAUDIT_FIELD_SEQ, 5), EAUDIT_EFIELD);
  ck_assert_int_eq(eaudit_event_set(ev, EAUDIT_FIELD_RECORDED_AT, 5),
                   EAUDIT_EFIELD);
  ck_assert_int_eq(eaudit_event_set(ev, 99, 5), EAUDIT_EFIELD);
  eaudit_event_free(ev);
}
END_TEST

START_TEST(duplicate_id_is_eexists_and_batch_rolls_back) {
  eaudit_event *ev = good_event(0);
  EA_OK(eaudit_store_append(store, ev));
  uint8_t id[16];
  EA_OK(eaudit_event_id(ev, id));
  eaudit_event *dup = good_event(1);
  EA_OK(eaudit_event_set_id(dup, id));
  char before[65], after[65];
  tu_store_digest(path, before);
  ck_assert_int_eq(eaudit_store_append(store, dup), EAUDIT_EEXISTS);
  eaudit_batch *b;
  EA_OK(eaudit_batch_new(&b));
  eaudit_event *g = good_event(2);
  EA_OK(eaudit_batch_add(b, g));
  EA_OK(eaudit_batch_add(b, dup));
  size_t failed;
  ck_assert_int_eq(eaudit_store_append_batch(store, b, &failed),
                   EAUDIT_EEXISTS);
  ck_assert_uint_eq(failed, 1);
  /* The batch's first event got no seq back. */
  ck_assert(!eaudit_event_has(eaudit_batch_get(b, 0), EAUDIT_FIELD_SEQ));
  tu_store_digest(path, after);
  ck_assert_str_eq(before, after);
  eaudit_batch_free(b);
  eaudit_event_free(g);
  eaudit_event_free(dup);
  eaudit_event_free(ev);
}
END_TEST

START_TEST(an_id_repeated_within_a_batch_is_eexists_at_its_second_use) {
  eaudit_event *ev = good_event(0);
  EA_OK(eaudit_store_append(store, ev));
  char before[65], after[65];
  tu_store_digest(path, before);
  uint8_t id[16];
  memset(id, 0, sizeof id);
  id[6] = 0x70;
  id[8] = 0x80;
  id[15] = 9;
  eaudit_batch *b;
  EA_OK(eaudit_batch_new(&b));
  for (int i = 0; i < 4; i++) {
    eaudit_event *g = good_event(10 + i);
    if (i == 1 || i == 3)
      EA_OK(eaudit_event_set_id(g, id));
    EA_OK(eaudit_batch_add(b, g));
    eaudit_event_free(g);
  }
  size_t failed = 0;
  ck_assert_int_eq(eaudit_store_append_batch(store, b, &failed),
                   EAUDIT_EEXISTS);
  ck_assert_uint_eq(failed, 3);
  for (size_t i = 0; i < 4; i++)
    ck_assert(!eaudit_event_has(eaudit_batch_get(b, i), EAUDIT_FIELD_SEQ));
  tu_store_digest(path, after);
  ck_assert_str_eq(before, after);
  eaudit_batch_free(b);
  eaudit_event_free(ev);
}
END_TEST

START_TEST(a_large_batch_keeps_the_chain_whole) {
  enum { N = 700 }; /* several of the PostgreSQL backend's send chunks */
  tu_append_doors(store, N, 5, 6, tu_utc(2026, 10, 31, 23, 0, 0), 10000000);
  int64_t seq, n;
  EA_OK(eaudit_store_last_seq(store, &seq));
  EA_OK(eaudit_store_event_count(store, &n));
  ck_assert_int_eq(seq, N);
  ck_assert_int_eq(n, N);
  eaudit_verify_result *r = NULL;
  EA_OK(eaudit_store_verify(store, 0, NULL, NULL, 0,
                            EAUDIT_VERIFY_NO_RECORD, &r));
  ck_assert_int_eq(eaudit_verify_result_events(r), N);
  eaudit_verify_result_free(r);
}
END_TEST

START_TEST(ids_from_the_system_source_are_distinct_and_random) {
  /* No random function: ids come from the system, drawn ahead in a pool
   * (eaudit__random). A frozen clock puts every id in one millisecond, so
   * only the random bits tell them apart; 100 ids span several pools. */
  enum { N = 100 };
  tu_clock frozen = {.now = tu_utc(2026, 11, 3, 12, 0, 0), .step = 0};
  char p2[512];
  tu_store_target(p2, sizeof p2, "append-sysrand");
  eaudit_options *o = tu_options(&frozen, NULL);
  eaudit_store *s2 = NULL;
  EA_OK(eaudit_store_open(&s2, p2, o));
  eaudit_options_free(o);
  eaudit_batch *b = NULL;
  EA_OK(eaudit_batch_new(&b));
  for (int i = 0; i < N; i++) {
    eaudit_event *ev = good_event(i);
    EA_OK(eaudit_batch_add(b, ev));
    eaudit_event_free(ev);
  }
  EA_OK(eaudit_store_append_batch(s2, b, NULL));
  uint8_t ids[N][16];
  for (int i = 0; i < N; i++) {
    EA_OK(eaudit_event_id(eaudit_batch_get(b, (size_t)i), ids[i]));
    ck_assert_int_eq(ids[i][6] >> 4, 7);
    /* The 74 random bits: bytes 6-15 less the version and variant. */
    int random_bits = (ids[i][6] & 0x0F) | (ids[i][8] & 0x3F);
    for (int k = 7; k < 16; k++)
      random_bits |= k == 8 ? 0 : ids[i][k];
    ck_assert_msg(random_bits != 0, "id %d has no random bits", i);
    for (int j = 0; j < i; j++)
      ck_assert_msg(memcmp(ids[i] + 6, ids[j] + 6, 10) != 0,
                    "ids %d and %d share their random bits", j, i);
  }
  eaudit_batch_free(b);
  eaudit_store_free(s2);
  tu_remove_store(p2);
}
END_TEST

START_TEST(seq_is_never_reused_after_the_highest_is_deleted) {
  tu_append_doors(store, 5, 1, 2, tu_utc(2026, 11, 1, 8, 0, 0), 60000000);
  tu_store_sql(path, "DELETE FROM events WHERE seq = 5",
               "DELETE FROM eaudit.events WHERE seq = 5");
  eaudit_event *ev = good_event(0);
  EA_OK(eaudit_store_append(store, ev));
  int64_t seq;
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &seq));
  ck_assert_int_eq(seq, 6);
  eaudit_event_free(ev);
}
END_TEST

START_TEST(details_are_stored_byte_exact) {
  const char *d = "{ \"b\" : 2,\n  \"a\":\"\xc3\xa9t\xc3\xa9\" , \"n\": 1.50 }";
  eaudit_event *ev = good_event(0);
  EA_OK(eaudit_event_set_details(ev, d, strlen(d)));
  EA_OK(eaudit_store_append(store, ev));
  /* The bytes as stored, read around the library. */
  char hex[256], want[256];
  for (size_t i = 0; i < strlen(d); i++)
    snprintf(want + 2 * i, 3, "%02X", (unsigned char)d[i]);
  tu_store_value(path, "SELECT hex(details) FROM events WHERE seq = 1",
                 "SELECT upper(encode(details, 'hex')) FROM eaudit.events"
                 " WHERE seq = 1",
                 hex, sizeof hex);
  ck_assert_str_eq(hex, want);
  eaudit_cursor *c;
  int rc = eaudit_store_tail(store, 0, 0, &c);
  if (tu_backend_pg() && rc == EAUDIT_EUNSUPPORTED) {
    /* Reading back through a cursor arrives with query support. */
    eaudit_event_free(ev);
    return;
  }
  EA_OK(rc);
  const eaudit_event *got;
  EA_OK(eaudit_cursor_next(c, &got));
  size_t len;
  const char *back = eaudit_event_details(got, &len);
  ck_assert_uint_eq(len, strlen(d));
  ck_assert(memcmp(back, d, len) == 0);
  eaudit_cursor_free(c);
  eaudit_event_free(ev);
}
END_TEST

START_TEST(details_limit_is_an_option) {
  eaudit_store_free(store);
  eaudit_options *o = tu_options(&clk, &seed);
  EA_OK(eaudit_options_set_int(o, EAUDIT_OPT_DETAILS_MAX_BYTES, 16));
  EA_OK(eaudit_store_open(&store, path, o));
  eaudit_options_free(o);
  eaudit_event *ev = good_event(0);
  ck_assert_int_eq(eaudit_store_append(store, ev), EAUDIT_ETOOBIG);
  EA_OK(eaudit_event_set_details(ev, "{\"a\":1}", 7));
  EA_OK(eaudit_store_append(store, ev));
  eaudit_event_free(ev);
}
END_TEST

typedef struct seen {
  int64_t seqs[64];
  int n;
  int in_txn_failures; /* a write attempted from the callback */
  eaudit_store *store;
} seen;

static int on_event(const eaudit_event *ev, void *payload) {
  seen *s = payload;
  int64_t seq;
  eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &seq);
  s->seqs[s->n++] = seq;
  /* Committed already: a fresh reader sees the event. */
  int64_t last;
  eaudit_store_last_seq(s->store, &last);
  ck_assert_int_ge(last, seq);
  return s->n == 2 ? -1 : 0; /* a failing callback changes nothing */
}

START_TEST(subscribers_hear_each_committed_event_once_after_commit) {
  seen s = {.n = 0, .store = store};
  eaudit_query *only_door_3;
  EA_OK(eaudit_query_new(&only_door_3));
  EA_OK(eaudit_query_set_entity(only_door_3, EAUDIT_FIELD_DOOR, 3));
  int id;
  EA_OK(eaudit_store_subscribe(store, only_door_3, on_event, &s, &id));
  eaudit_query_free(only_door_3);
  eaudit_batch *b;
  EA_OK(eaudit_batch_new(&b));
  for (int i = 0; i < 4; i++) {
    eaudit_event *ev = good_event(i);
    if (i == 1)
      eaudit_event_set(ev, EAUDIT_FIELD_DOOR, 4); /* filtered out */
    EA_OK(eaudit_batch_add(b, ev));
    eaudit_event_free(ev);
  }
  EA_OK(eaudit_store_append_batch(store, b, NULL));
  ck_assert_int_eq(s.n, 3);
  ck_assert_int_eq(s.seqs[0], 1);
  ck_assert_int_eq(s.seqs[1], 3);
  ck_assert_int_eq(s.seqs[2], 4);
  /* A failed batch delivers nothing. */
  eaudit_event *bad = good_event(9);
  eaudit_event_set(bad, EAUDIT_FIELD_REASON, 777);
  EA_OK(eaudit_batch_add(b, bad));
  ck_assert_int_eq(eaudit_store_append_batch(store, b, NULL), EAUDIT_ERANGE);
  ck_assert_int_eq(s.n, 3);
  eaudit_event_free(bad);
  eaudit_batch_free(b);
  EA_OK(eaudit_store_unsubscribe(store, id));
  ck_assert_int_eq(eaudit_store_unsubscribe(store, id), EAUDIT_ENOTFOUND);
  eaudit_event *ev = good_event(20);
  EA_OK(eaudit_store_append(store, ev));
  ck_assert_int_eq(s.n, 3);
  eaudit_event_free(ev);
}
END_TEST

START_TEST(vendor_types_register_and_validate) {
  ck_assert_int_eq(eaudit_store_register_type(store, 999, "x", "X"),
                   EAUDIT_ERANGE);
  ck_assert_int_eq(eaudit_store_register_type(store, 1000, "Bad Name", "X"),
                   EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_register_type(store, 1000, "door_opened", "X"),
                   EAUDIT_EEXISTS);
  EA_OK(eaudit_store_register_type(store, 1000, "lift_called", "Lift called"));
  EA_OK(eaudit_store_register_type(store, 1000, "lift_called", "Lift called"));
  ck_assert_int_eq(
      eaudit_store_register_type(store, 1000, "lift_sent", "Lift sent"),
      EAUDIT_EEXISTS);
  ck_assert_int_eq(
      eaudit_store_register_type(store, 1001, "lift_called", "Other"),
      EAUDIT_EEXISTS);
  ck_assert_str_eq(eaudit_store_type_name(store, 1000), "lift_called");
  ck_assert_str_eq(eaudit_store_type_label(store, 1000), "Lift called");
  int code;
  EA_OK(eaudit_store_type_from_name(store, "lift_called", &code));
  ck_assert_int_eq(code, 1000);
  eaudit_event *ev = tu_event(1000, tu_utc(2026, 11, 1, 0, 0, 0), 3);
  EA_OK(eaudit_store_append(store, ev));
  eaudit_event_free(ev);
  /* A translated label replaces the English one, and can be removed. */
  EA_OK(eaudit_store_set_type_label(store, EAUDIT_TYPE_DOOR_OPENED,
                                    "T\xc3\xbcr ge\xc3\xb6" "ffnet"));
  ck_assert_str_eq(eaudit_store_type_label(store, 3),
                   "T\xc3\xbcr ge\xc3\xb6" "ffnet");
  EA_OK(eaudit_store_set_type_label(store, EAUDIT_TYPE_DOOR_OPENED, NULL));
  ck_assert_str_eq(eaudit_store_type_label(store, 3), "Door opened");
  ck_assert_int_eq(eaudit_store_set_type_label(store, 4242, "x"), EAUDIT_ETYPE);
  /* Another handle learns the registration at its next write. */
  eaudit_store *other;
  EA_OK(eaudit_store_open(&other, path, NULL));
  ck_assert_str_eq(eaudit_store_type_name(other, 1000), "lift_called");
  /* ... and a label or type the other handle sets. */
  EA_OK(eaudit_store_register_type(other, 1001, "lift_arrived",
                                   "Lift arrived"));
  EA_OK(eaudit_store_set_type_label(other, 1000, "Aufzug gerufen"));
  ev = tu_event(1001, tu_utc(2026, 11, 1, 0, 0, 1), 3);
  EA_OK(eaudit_store_append(store, ev));
  eaudit_event_free(ev);
  ck_assert_str_eq(eaudit_store_type_name(store, 1001), "lift_arrived");
  ck_assert_str_eq(eaudit_store_type_label(store, 1000), "Aufzug gerufen");
  /* Unchanged registrations are still refused on the other handle. */
  ck_assert_int_eq(
      eaudit_store_register_type(other, 1002, "lift_called", "Other"),
      EAUDIT_EEXISTS);
  eaudit_store_free(other);
  int64_t n = 0;
  EA_OK(eaudit_store_event_count(store, &n));
  ck_assert_int_eq(n, 2);
}
END_TEST

Suite *append_suite(void) {
  Suite *s = suite_create("append");
  TCase *tc = tcase_create("append");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, bad_event_rejected_with_code_and_store_unchanged);
  tcase_add_test(tc, group_expiry_may_omit_subject);
  tcase_add_test(tc, append_assigns_seq_time_id_and_hash);
  tcase_add_test(tc, duplicate_id_is_eexists_and_batch_rolls_back);
  tcase_add_test(tc, seq_is_never_reused_after_the_highest_is_deleted);
  tcase_add_test(tc, an_id_repeated_within_a_batch_is_eexists_at_its_second_use);
  tcase_add_test(tc, a_large_batch_keeps_the_chain_whole);
  tcase_add_test(tc, ids_from_the_system_source_are_distinct_and_random);
  tcase_add_test(tc, details_are_stored_byte_exact);
  tcase_add_test(tc, details_limit_is_an_option);
  tcase_add_test(tc, subscribers_hear_each_committed_event_once_after_commit);
  tcase_add_test(tc, vendor_types_register_and_validate);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tu_run(append_suite()); }
