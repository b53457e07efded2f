#include "ops.h"

#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

/* A digest of what a successful call returned, compared with a run without
 * faults: a call that reports success must also be right. */
int64_t rel_op_result;

static tu_clock op_clock;
static uint64_t op_seed;

#define T0 INT64_C(1767225600000000) /* 2026-01-01T00:00:00Z */

static int open_seeded(eaudit_store **out, const char *path, uint64_t seed) {
  *out = NULL;
  op_clock.now = T0 + INT64_C(40) * 86400 * 1000000; /* 2026-02-10 */
  op_clock.step = 1000;
  op_seed = seed;
  eaudit_options *o = NULL;
  int rc = eaudit_options_new(&o);
  if (rc == 0)
    rc = eaudit_options_set_clock(o, tu_clock_fn, &op_clock);
  if (rc == 0)
    rc = eaudit_options_set_random(o, tu_random_fn, &op_seed);
  if (rc == 0)
    rc = eaudit_store_open(out, path, o);
  eaudit_options_free(o);
  return rc;
}

int rel_ops_open(eaudit_store **out, const char *path) {
  return open_seeded(out, path, 0x1234567);
}

const uint8_t rel_ops_key[32] = {
    0x5e, 0xed, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
    0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14,
    0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e};
uint8_t rel_ops_public[32];

/* Just after the 10th template event (T0 + 9 h). */
#define PURGE_BEFORE (T0 + INT64_C(9) * 3600 * 1000000 + 1)

static const uint8_t ID_A[16] = {0x01, 0x93, 1, 2, 3, 4, 0x70, 5,
                                 0x80, 6,    7, 8, 9, 10, 11, 0xA1};
static uint8_t batch_id(int i, uint8_t out[16]) {
  memcpy(out, ID_A, 16);
  out[15] = (uint8_t)(0xB0 + i);
  return out[15];
}

void rel_ops_template(const char *path) {
  eaudit_store *s;
  /* Another random sequence than the calls', so that the ids the library
   * draws for them never repeat the template's. */
  EA_OK(open_seeded(&s, path, 0x7654321));
  for (int i = 0; i < 20; i++) {
    eaudit_event *ev = rel_event(i % 3 == 0 ? 1 : 42,
                                 T0 + (int64_t)i * 3600 * 1000000, i % 2);
    EA_OK(eaudit_store_append(s, ev));
    eaudit_event_free(ev);
  }
  /* Seq 21, five weeks later: the newest event sets how far a purge may
   * go (its time minus the rules' longest window and the lateness). */
  eaudit_event *late = rel_event(1, T0 + INT64_C(35) * 86400 * 1000000, 0);
  EA_OK(eaudit_store_append(s, late));
  eaudit_event_free(late);
  EA_OK(eaudit_store_set_user(s, 42, "Alice", EAUDIT_USER_ROLE_USER, T0));
  EA_OK(eaudit_store_set_user(s, 42, "Alicia", EAUDIT_USER_ROLE_USER, T0 + 86400000000));
  EA_OK(eaudit_store_register_type(s, 1001, "badge_scanned", "Badge scanned"));
  /* Signed: one checkpoint over the 21 events, so that checkpoint extends
   * a signed sequence and purge moves a signed anchor. */
  EA_OK(eaudit_signing_public_key(rel_ops_key, 32, rel_ops_public));
  EA_OK(eaudit_store_set_signing_key(s, rel_ops_key, 32));
  int64_t cseq = 0;
  EA_OK(eaudit_store_checkpoint(s, &cseq));
  ck_assert_int_eq(cseq, 1);
  /* The purge removes the first 10 events, in batches of 4. */
  int64_t through = 0, n = 0;
  EA_OK(eaudit_store_purge_plan(s, PURGE_BEFORE, NULL, &through, &n));
  ck_assert_int_eq(through, 10);
  ck_assert_int_eq(n, 10);
  eaudit_store_free(s);
  rel_trusted_key = rel_ops_public;
}

/* --- helpers reading the file through raw SQLite --- */

static int64_t sql_int(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, "unix"),
                   SQLITE_OK);
  sqlite3_stmt *st = NULL;
  ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
                "%s: %s", sql, sqlite3_errmsg(db));
  int rc = sqlite3_step(st);
  ck_assert_msg(rc == SQLITE_ROW, "%s: %s", sql, sqlite3_errmsg(db));
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

static int both(int64_t a, int64_t b) {
  if (a && b)
    return REL_PRESENT;
  if (!a && !b)
    return REL_ABSENT;
  return REL_PARTIAL;
}

/* --- the calls --- */

static int run_open_create(eaudit_store *unused, const char *path) {
  (void)unused;
  tu_remove_store(path);
  eaudit_store *s = NULL;
  int rc = rel_ops_open(&s, path);
  eaudit_store_free(s);
  rel_op_result = 0;
  return rc;
}
static int outcome_open_create(const char *path) {
  if (access(path, F_OK) != 0)
    return REL_ABSENT;
  eaudit_store *s = NULL;
  int rc = rel_ops_open(&s, path);
  int64_t n = -1;
  if (rc == 0)
    rc = eaudit_store_event_count(s, &n);
  eaudit_store_free(s);
  return rc == 0 && n == 0 ? REL_PRESENT : REL_PARTIAL;
}

static int run_open_existing(eaudit_store *unused, const char *path) {
  (void)unused;
  eaudit_store *s = NULL;
  int rc = rel_ops_open(&s, path);
  int64_t n = 0;
  if (rc == 0)
    rc = eaudit_store_event_count(s, &n);
  eaudit_store_free(s);
  rel_op_result = n;
  return rc;
}

static int run_append(eaudit_store *s, const char *path) {
  (void)path;
  eaudit_event *ev = NULL;
  int rc = eaudit_event_new(&ev);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_TYPE, EAUDIT_TYPE_DOOR_OPENED);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, T0 + 99);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, 42);
  if (rc == 0)
    rc = eaudit_event_set_id(ev, ID_A);
  if (rc == 0)
    rc = eaudit_event_set_details(ev, "{\"a\":1}", 7);
  if (rc == 0)
    rc = eaudit_store_append(s, ev);
  int64_t seq = 0;
  if (rc == 0)
    eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &seq);
  rel_op_result = seq;
  eaudit_event_free(ev);
  return rc;
}
static int outcome_append(const char *path) {
  return rel_has_id(path, ID_A) ? REL_PRESENT : REL_ABSENT;
}

static int run_batch(eaudit_store *s, const char *path) {
  (void)path;
  eaudit_batch *b = NULL;
  eaudit_event *ev = NULL;
  int rc = eaudit_batch_new(&b);
  if (rc == 0)
    rc = eaudit_event_new(&ev);
  for (int i = 0; rc == 0 && i < 5; i++) {
    uint8_t id[16];
    batch_id(i, id);
    eaudit_event_reset(ev);
    rc = eaudit_event_set(ev, EAUDIT_FIELD_TYPE, EAUDIT_TYPE_DOOR_OPEN_FAILED);
    if (rc == 0)
      rc = eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, T0 + 1000 + i);
    if (rc == 0)
      rc = eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, 7 + i);
    if (rc == 0)
      rc = eaudit_event_set(ev, EAUDIT_FIELD_REASON, EAUDIT_REASON_NO_PERMISSION);
    if (rc == 0)
      rc = eaudit_event_set_id(ev, id);
    if (rc == 0)
      rc = eaudit_batch_add(b, ev);
  }
  size_t failed = 99;
  if (rc == 0)
    rc = eaudit_store_append_batch(s, b, &failed);
  int64_t seq = 0;
  if (rc == 0)
    eaudit_event_get(eaudit_batch_get(b, 4), EAUDIT_FIELD_SEQ, &seq);
  rel_op_result = seq;
  eaudit_event_free(ev);
  eaudit_batch_free(b);
  return rc;
}
static int outcome_batch(const char *path) {
  uint8_t ids[5 * 16];
  for (int i = 0; i < 5; i++)
    batch_id(i, ids + 16 * i);
  int64_t n = rel_count_ids(path, ids, 5);
  return n == 5 ? REL_PRESENT : n == 0 ? REL_ABSENT : REL_PARTIAL;
}

static int run_set_user(eaudit_store *s, const char *path) {
  (void)path;
  rel_op_result = 0;
  return eaudit_store_set_user(s, 42, "Zo\xc3\xab Newname", EAUDIT_USER_ROLE_ADMIN,
                               T0 + 2 * INT64_C(86400000000));
}
static int outcome_set_user(const char *path) {
  return both(sql_int(path, "SELECT count(*) FROM names WHERE entity = 42 AND "
                            "name LIKE 'Zo%Newname'"),
              sql_int(path, "SELECT count(*) FROM names_fts WHERE names_fts "
                            "MATCH 'newname'"));
}

static int run_register_type(eaudit_store *s, const char *path) {
  (void)path;
  rel_op_result = 0;
  return eaudit_store_register_type(s, 1002, "badge_printed", "Badge printed");
}
static int outcome_register_type(const char *path) {
  return both(sql_int(path, "SELECT count(*) FROM types WHERE code = 1002"),
              sql_int(path, "SELECT value = 2 FROM meta WHERE key = "
                            "'types_version'"));
}

static int run_type_label(eaudit_store *s, const char *path) {
  (void)path;
  rel_op_result = 0;
  return eaudit_store_set_type_label(s, EAUDIT_TYPE_DOOR_OPENED,
                                     "T\xc3\xbcr ge\xc3\xb6" "ffnet");
}
static int outcome_type_label(const char *path) {
  return both(sql_int(path, "SELECT count(*) FROM labels WHERE code = 3"),
              sql_int(path, "SELECT value >= 2 FROM meta WHERE key = "
                            "'types_version'"));
}

static int run_time_zone(eaudit_store *s, const char *path) {
  (void)path;
  rel_op_result = 0;
  return eaudit_store_set_time_zone(s, "Europe/Berlin");
}
/* Day keys start at local midnight: 00:00 UTC before, 23:00 UTC after (in
 * January, Berlin is UTC+1). */
static int outcome_time_zone(const char *path) {
  int64_t berlin = sql_int(path, "SELECT value = 'Europe/Berlin' FROM meta "
                                 "WHERE key = 'time_zone'");
  int64_t keys_local =
      sql_int(path, "SELECT count(*) FROM rollup WHERE day % 86400000000 = "
                    "82800000000");
  int64_t keys_utc =
      sql_int(path, "SELECT count(*) FROM rollup WHERE day % 86400000000 = 0");
  int64_t total = sql_int(path, "SELECT count(*) FROM rollup");
  int64_t sum = sql_int(path, "SELECT coalesce(sum(n), 0) FROM rollup");
  int64_t events = sql_int(path, "SELECT count(*) FROM events");
  if (sum != events)
    return REL_PARTIAL;
  if (berlin && keys_local == total)
    return REL_PRESENT;
  if (!berlin && keys_utc == total)
    return REL_ABSENT;
  return REL_PARTIAL;
}

static int run_erase(eaudit_store *s, const char *path) {
  (void)path;
  rel_op_result = 0;
  return eaudit_store_erase_names(s, EAUDIT_KIND_USER, 42);
}
static int outcome_erase(const char *path) {
  int64_t names = sql_int(path, "SELECT count(*) FROM names WHERE entity = 42");
  int64_t fts = sql_int(path, "SELECT count(*) FROM names_fts WHERE entity = 42");
  if (names == 0 && fts == 0)
    return REL_PRESENT;
  if (names == 2 && fts == 2)
    return REL_ABSENT;
  return REL_PARTIAL;
}

static int sub_calls;
static int on_event(const eaudit_event *ev, void *payload) {
  (void)ev;
  (void)payload;
  sub_calls++;
  return 0;
}
static int run_subscribe_append(eaudit_store *s, const char *path) {
  sub_calls = 0;
  int rc = eaudit_store_subscribe(s, NULL, on_event, NULL, NULL);
  if (rc == 0)
    rc = run_append(s, path);
  rel_op_result = rc == 0 ? sub_calls : 0;
  return rc;
}

/* Reads: the digest is the number of rows and the sum of their seqs. */
static int drain(eaudit_cursor *c, int rc) {
  const eaudit_event *ev;
  int64_t n = 0, sum = 0;
  while (rc == 0 && (rc = eaudit_cursor_next(c, &ev)) == 0) {
    int64_t seq = 0;
    eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &seq);
    eaudit_error_clear();
    const char *name = eaudit_cursor_name(c, EAUDIT_FIELD_SUBJECT);
    if (name == NULL && eaudit_error_last()->code != 0) {
      rc = eaudit_error_last()->code;
      break;
    }
    n++;
    sum += seq + (name ? (int64_t)strlen(name) * 1000 : 0);
  }
  eaudit_cursor_free(c);
  rel_op_result = n * 100000 + sum;
  return rc == EAUDIT_DONE ? 0 : rc;
}

static int run_default_query(eaudit_store *s, const char *path) {
  (void)path;
  eaudit_query *q = NULL;
  eaudit_cursor *c = NULL;
  int rc = eaudit_store_default_query(s, &q);
  if (rc == 0)
    rc = eaudit_store_query(s, q, &c);
  eaudit_query_free(q);
  return drain(c, rc);
}

static int run_search(eaudit_store *s, const char *path) {
  (void)path;
  eaudit_query *q = NULL;
  eaudit_cursor *c = NULL;
  int rc = eaudit_query_new(&q);
  if (rc == 0)
    rc = eaudit_query_set_text(q, "door opened alic Jan 1 01:");
  if (rc == 0)
    rc = eaudit_store_query(s, q, &c);
  eaudit_query_free(q);
  return drain(c, rc);
}

static int run_tail(eaudit_store *s, const char *path) {
  (void)path;
  eaudit_cursor *c = NULL;
  int rc = eaudit_store_tail(s, 5, 0, &c);
  return drain(c, rc);
}

static int run_counts(eaudit_store *s, const char *path) {
  (void)path;
  eaudit_query *q = NULL;
  eaudit_counts *k = NULL;
  int64_t digest = 0;
  int rc = eaudit_query_new(&q);
  for (int by = EAUDIT_COUNT_BY_TYPE; rc == 0 && by <= EAUDIT_COUNT_BY_USER;
       by++) {
    rc = eaudit_store_counts(s, q, by, &k);
    for (size_t i = 0; rc == 0 && i < eaudit_counts_size(k); i++) {
      int64_t key, n;
      eaudit_counts_get(k, i, &key, &n);
      digest = digest * 31 + key % 1000003 + n;
    }
    eaudit_counts_free(k);
    k = NULL;
  }
  eaudit_query_free(q);
  rel_op_result = digest;
  return rc;
}

static int run_users(eaudit_store *s, const char *path) {
  (void)path;
  eaudit_users *u = NULL;
  int rc = eaudit_store_users(s, "ali", 0, &u);
  int64_t digest = 0;
  for (size_t i = 0; rc == 0 && i < eaudit_users_size(u); i++) {
    int64_t id;
    const char *name = NULL;
    eaudit_users_get(u, i, &id, &name, NULL, NULL, NULL);
    digest = digest * 31 + id + (name ? (int64_t)strlen(name) : 0);
  }
  eaudit_users_free(u);
  rel_op_result = digest;
  return rc;
}

static int run_parse_time(eaudit_store *s, const char *path) {
  (void)path;
  eaudit_time b = 0, e = 0;
  int rc = eaudit_store_parse_time(s, "last-month", EAUDIT_TIME_NONE, &b, &e);
  char buf[EAUDIT_TIME_STRMAX];
  if (rc == 0)
    rc = eaudit_store_format_time(s, b, EAUDIT_TIME_LOCAL_OFFSET, buf,
                                  sizeof buf);
  rel_op_result = rc == 0 ? b ^ e : 0;
  return rc;
}

static int run_name_at(eaudit_store *s, const char *path) {
  (void)path;
  char *name = NULL;
  int rc = eaudit_store_name_at(s, EAUDIT_KIND_USER, 42, T0 + 1, &name);
  rel_op_result = name ? (int64_t)strlen(name) : -1;
  eaudit_free(name);
  return rc;
}

/* --- integrity, rules, import --- */

/* Checkpoint: one more signed checkpoint covering the head, or none. */
static int run_checkpoint(eaudit_store *s, const char *path) {
  (void)path;
  int64_t cseq = 0;
  int rc = eaudit_store_set_signing_key(s, rel_ops_key, 32);
  if (rc == 0)
    rc = eaudit_store_checkpoint(s, &cseq);
  rel_op_result = cseq;
  return rc;
}
static int outcome_checkpoint(const char *path) {
  int64_t n = sql_int(path, "SELECT count(*) FROM checkpoints");
  int64_t top = sql_int(path, "SELECT max(cseq) FROM checkpoints");
  int64_t covers = sql_int(
      path, "SELECT (SELECT last_seq FROM checkpoints ORDER BY cseq DESC "
            "LIMIT 1) = (SELECT seq FROM head)");
  if (n == 1 && top == 1)
    return REL_ABSENT;
  if (n == 2 && top == 2 && covers)
    return REL_PRESENT;
  return REL_PARTIAL;
}

/* Purge of the 10 oldest events in batches of 4 (each batch its own
 * transaction, by design): after a failure a prefix of whole batches may
 * be gone, with the anchor on its last event; the call is complete only
 * with all 10 gone and the retention_purged record appended. */
static int run_purge(eaudit_store *s, const char *path) {
  (void)path;
  int64_t n = -1;
  int rc = eaudit_store_set_signing_key(s, rel_ops_key, 32);
  if (rc == 0)
    rc = eaudit_store_purge(s, PURGE_BEFORE, 1, 4, &n);
  rel_op_result = n;
  return rc;
}
static int outcome_purge(const char *path) {
  int64_t a = sql_int(path, "SELECT coalesce((SELECT seq FROM anchor), 0)");
  int64_t below = sql_int(
      path, "SELECT count(*) FROM events WHERE seq <= "
            "coalesce((SELECT seq FROM anchor), 0)");
  int64_t kept = sql_int(
      path, "SELECT count(*) FROM events WHERE seq <= 21 AND seq > "
            "coalesce((SELECT seq FROM anchor), 0)");
  int64_t records = sql_int(
      path, "SELECT count(*) FROM events WHERE type = 13"); /* purged */
  int64_t events = sql_int(path, "SELECT count(*) FROM events");
  int64_t sum = sql_int(path, "SELECT coalesce(sum(n), 0) FROM rollup");
  if (below != 0 || kept != 21 - a || sum != events || records > 1)
    return REL_PARTIAL;
  if (a == 10 && records == 1)
    return REL_PRESENT;
  if (a == 0 && records == 0)
    return REL_ABSENT;
  /* Whole batches committed before the failure (the record may follow). */
  return a == 4 || a == 8 || a == 10 ? REL_ABSENT : REL_PARTIAL;
}

/* Rule load: the new set, its version and its rules_changed event in one
 * transaction, or the built-ins and no event. */
static const char rules_doc[] =
    "{\"rules\": [{\"id\": \"keycard_add_failures\", \"threshold\": 5},"
    " {\"id\": \"acme.tailgating\", \"severity\": \"critical\","
    " \"types\": [\"door_opened\"], \"key\": \"door\", \"window\": \"5m\","
    " \"threshold\": 2}]}";
static int run_set_rules(eaudit_store *s, const char *path) {
  (void)path;
  int rc = eaudit_store_set_rules(s, rules_doc, sizeof rules_doc - 1, 7);
  int64_t v = -1;
  if (rc == 0)
    rc = eaudit_store_rules_version(s, &v);
  rel_op_result = v;
  return rc;
}
static int outcome_set_rules(const char *path) {
  int64_t v = sql_int(path, "SELECT coalesce((SELECT value FROM meta WHERE "
                            "key = 'rules_version'), 0)");
  int64_t ev = sql_int(path, "SELECT count(*) FROM events WHERE type = 14");
  int64_t text = sql_int(path, "SELECT count(*) FROM meta WHERE key = 'rules' "
                               "AND instr(value, 'acme.tailgating') > 0");
  if (v == 1 && ev == 1 && text == 1)
    return REL_PRESENT;
  if (v == 0 && ev == 0 && text == 0)
    return REL_ABSENT;
  return REL_PARTIAL;
}

/* Import: 7 lines, the 4th bad, in transactions of 3 events: the stored
 * ids are a prefix of whole batches (0, 3 or all 6), never a torn one. */
static void import_id(int i, uint8_t out[16]) {
  memcpy(out, ID_A, 16);
  out[15] = (uint8_t)(0xC0 + i);
}
static int run_import(eaudit_store *s, const char *path) {
  (void)path;
  char doc[4096];
  size_t len = 0;
  for (int line = 0, i = 0; line < 7; line++) {
    if (line == 3) {
      len += (size_t)snprintf(doc + len, sizeof doc - len,
                              "{\"type\": \"no_such_type\"}\n");
      continue;
    }
    uint8_t id[16];
    import_id(i, id);
    char hex[33];
    for (int b = 0; b < 16; b++)
      snprintf(hex + 2 * b, 3, "%02x", id[b]);
    len += (size_t)snprintf(
        doc + len, sizeof doc - len,
        "{\"id\":\"%.8s-%.4s-%.4s-%.4s-%.12s\",\"type\":\"door_opened\","
        "\"occurred_at\":\"2026-01-05T10:%02d:00.000001Z\",\"subject\":%d,"
        "\"door\":7,\"details\":{\"reader\":\"north\"}}\n",
        hex, hex + 8, hex + 12, hex + 16, hex + 20, i, 42 + i);
    i++;
  }
  eaudit_source *src = NULL;
  eaudit_report_options *o = NULL;
  eaudit_import_result *r = NULL;
  int rc = eaudit_source_from_buffer(&src, doc, len);
  if (rc == 0)
    rc = eaudit_report_options_new(&o);
  if (rc == 0)
    rc = eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_IMPORT_BATCH, 3);
  if (rc == 0)
    rc = eaudit_store_import(s, src, o, &r);
  uint64_t app = 0, rej = 0;
  if (rc == 0)
    rc = eaudit_import_result_counts(r, NULL, &app, NULL, &rej, NULL);
  rel_op_result = (int64_t)(app * 100 + rej);
  eaudit_import_result_free(r);
  eaudit_report_options_free(o);
  eaudit_source_free(src);
  return rc;
}
static int outcome_import(const char *path) {
  uint8_t ids[6 * 16];
  for (int i = 0; i < 6; i++)
    import_id(i, ids + 16 * i);
  int64_t n = rel_count_ids(path, ids, 6);
  size_t prefix = rel_present_prefix(path, ids, 6);
  if ((size_t)n != prefix)
    return REL_PARTIAL;
  if (n == 6)
    return REL_PRESENT;
  return n == 0 || n == 3 ? REL_ABSENT : REL_PARTIAL;
}

const rel_op rel_ops[] = {
    {"open_create", 1, 1, run_open_create, outcome_open_create},
    {"open_existing", 0, 1, run_open_existing, NULL},
    {"append", 1, 0, run_append, outcome_append},
    {"append_batch", 1, 0, run_batch, outcome_batch},
    {"subscribe_append", 1, 0, run_subscribe_append, outcome_append},
    {"set_user", 1, 0, run_set_user, outcome_set_user},
    {"register_type", 1, 0, run_register_type, outcome_register_type},
    {"set_type_label", 1, 0, run_type_label, outcome_type_label},
    {"set_time_zone", 1, 0, run_time_zone, outcome_time_zone},
    {"erase_names", 1, 0, run_erase, outcome_erase},
    {"checkpoint", 1, 0, run_checkpoint, outcome_checkpoint},
    {"purge", 1, 0, run_purge, outcome_purge},
    {"set_rules", 1, 0, run_set_rules, outcome_set_rules},
    {"import", 1, 0, run_import, outcome_import},
    {"default_query", 0, 0, run_default_query, NULL},
    {"search", 0, 0, run_search, NULL},
    {"tail", 0, 0, run_tail, NULL},
    {"counts", 0, 0, run_counts, NULL},
    {"users", 0, 0, run_users, NULL},
    {"parse_time", 0, 0, run_parse_time, NULL},
    {"name_at", 0, 0, run_name_at, NULL},
};
const size_t rel_n_ops = sizeof rel_ops / sizeof rel_ops[0];
