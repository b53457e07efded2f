/* Reports, export and import: golden files for every format on the fixed
 * fixture, the report_exported record, export/import round trips, derived
 * ids, bad lines, sinks, progress, and the findings and expired sections.
 * Set EAUDIT_UPDATE_GOLDEN=1 to rewrite the golden files. */
#include "testutil.h"

#include "report_fixture.h"
#include "store_internal.h"

#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <unistd.h>

/* --- helpers --- */

typedef struct membuf {
  char *data;
  size_t len;
} membuf;

static int mem_write(const void *p, size_t n, void *payload) {
  membuf *m = payload;
  m->data = realloc(m->data, m->len + n + 1);
  memcpy(m->data + m->len, p, n);
  m->len += n;
  m->data[m->len] = '\0';
  return 0;
}

static eaudit_report_options *ropts(int format, int record) {
  eaudit_report_options *o = NULL;
  EA_OK(eaudit_report_options_new(&o));
  EA_OK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_FORMAT, format));
  EA_OK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_RECORD, record));
  EA_OK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_ACTOR, 1));
  EA_OK(eaudit_report_options_set_str(o, EAUDIT_REPORT_OPT_SYSLOG_HOSTNAME,
                                      "door-ctl-1"));
  return o;
}

/* Run a report into memory. */
static int report_mem(eaudit_store *s, const eaudit_query *q,
                      eaudit_report_options *o, membuf *m) {
  eaudit_sink *k = NULL;
  EA_OK(eaudit_sink_from_callback(&k, mem_write, m));
  int rc = eaudit_store_report(s, q, o, k);
  eaudit_sink_free(k);
  return rc;
}

static int export_mem(eaudit_store *s, int64_t after, int format, membuf *m,
                      int64_t *last) {
  eaudit_report_options *o = ropts(format, 0);
  eaudit_sink *k = NULL;
  EA_OK(eaudit_sink_from_callback(&k, mem_write, m));
  int rc = eaudit_store_export(s, after, o, k, last);
  eaudit_sink_free(k);
  eaudit_report_options_free(o);
  return rc;
}

static eaudit_import_result *import_mem(eaudit_store *s, const char *data,
                                        size_t len, int batch) {
  eaudit_source *src = NULL;
  EA_OK(eaudit_source_from_buffer(&src, data, len));
  eaudit_report_options *o = NULL;
  EA_OK(eaudit_report_options_new(&o));
  if (batch)
    EA_OK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_IMPORT_BATCH,
                                        batch));
  eaudit_import_result *r = NULL;
  EA_OK(eaudit_store_import(s, src, o, &r));
  eaudit_report_options_free(o);
  eaudit_source_free(src);
  return r;
}

static void counts(const eaudit_import_result *r, uint64_t *appended,
                   uint64_t *skipped, uint64_t *rejected) {
  EA_OK(eaudit_import_result_counts(r, NULL, appended, skipped, rejected,
                                    NULL));
}

/* A store on the backend under test: on SQLite in memory (fast, no
 * fsync), unless another handle must open it too (shared = 1: a file). */
static void store_target(char *t, size_t size, int shared) {
  if (tu_backend_pg() || shared)
    tu_store_target(t, size, "report");
  else
    snprintf(t, size, ":memory:");
}

static eaudit_store *open_empty(tu_clock *c, uint64_t *seed, int shared) {
  eaudit_options *o = tu_options(c, seed);
  EA_OK(eaudit_options_set_str(o, EAUDIT_OPT_TIME_ZONE, "Europe/Berlin"));
  char t[1024];
  store_target(t, sizeof t, shared);
  eaudit_store *s = NULL;
  EA_OK(eaudit_store_open(&s, t, o));
  eaudit_options_free(o);
  return s;
}

static eaudit_store *empty_store(tu_clock *c, uint64_t *seed) {
  return open_empty(c, seed, 0);
}

/* The fixture on the backend under test. */
static eaudit_store *rf_fixture(rf_state *st) {
  char t[1024];
  store_target(t, sizeof t, 0);
  return rf_open(t, st);
}

static int64_t last_seq(eaudit_store *s) {
  int64_t n = -1;
  EA_OK(eaudit_store_last_seq(s, &n));
  return n;
}

/* --- golden files --- */

/* The hex hash the store holds for the event whose text id is uuid. */
static void stored_hash(eaudit_store *s, const char *uuid, char hex[65]) {
  eaudit_cursor *c = NULL;
  EA_OK(eaudit_store_tail(s, 0, 0, &c));
  const eaudit_event *ev;
  int rc, found = 0;
  while (!found && (rc = eaudit_cursor_next(c, &ev)) == EAUDIT_OK) {
    uint8_t id[16];
    char text[EAUDIT_UUID_STRLEN + 1];
    EA_OK(eaudit_event_id(ev, id));
    EA_OK(eaudit_uuid_format(id, text));
    if (strcmp(text, uuid) != 0)
      continue;
    const uint8_t *h = eaudit_event_hash(ev);
    ck_assert_ptr_nonnull(h);
    for (int i = 0; i < 32; i++)
      snprintf(hex + 2 * i, 3, "%02x", h[i]);
    found = 1;
  }
  ck_assert_msg(found, "event %s is not in the store", uuid);
  eaudit_cursor_free(c);
}

/* Compare m with a golden file (written from SQLite). The chain's hashes
 * start from a genesis link bound to the store id, which is random on
 * SQLite and a UUIDv7 of the central store's own chain on PostgreSQL: on
 * PostgreSQL every "hash" value must be the hash that store holds for the
 * event of the line ("id" opens each event object), and every other byte
 * must be the golden file's. */
static void golden(const char *name, const membuf *m, eaudit_store *s) {
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s", __FILE__);
  snprintf(path, sizeof path, "%s/golden/report/%s", dirname(dir), name);
  if (getenv("EAUDIT_UPDATE_GOLDEN") && !tu_backend_pg()) {
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(m->data, 1, m->len, fp), m->len);
    fclose(fp);
    return;
  }
  FILE *fp = fopen(path, "rb");
  ck_assert_msg(fp != NULL, "missing golden file %s", path);
  fseek(fp, 0, SEEK_END);
  long n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  char *want = malloc((size_t)n + 1);
  ck_assert_uint_eq(fread(want, 1, (size_t)n, fp), (size_t)n);
  want[n] = '\0';
  fclose(fp);
  char *got = malloc(m->len + 1);
  memcpy(got, m->data, m->len);
  got[m->len] = '\0';
  size_t hashes = 0;
  if (tu_backend_pg()) {
    static const char key[] = "\"hash\":\"";
    for (char *p = strstr(got, key); p; p = strstr(p + 1, key)) {
      size_t off = (size_t)(p - got) + sizeof key - 1;
      ck_assert_uint_le(off + 64, m->len);
      /* The event object this hash closes opens with its id. */
      char *open = p;
      while (open > got && strncmp(open, "{\"id\":\"", 7) != 0)
        open--;
      ck_assert_msg(strncmp(open, "{\"id\":\"", 7) == 0, "%s: a hash "
                    "outside an event", name);
      char uuid[EAUDIT_UUID_STRLEN + 1];
      memcpy(uuid, open + 7, EAUDIT_UUID_STRLEN);
      uuid[EAUDIT_UUID_STRLEN] = '\0';
      char hex[65];
      stored_hash(s, uuid, hex);
      ck_assert_msg(memcmp(got + off, hex, 64) == 0,
                    "%s: the hash of %s is not the stored one", name, uuid);
      /* The golden file has its SQLite hash at the same place. */
      if (off + 64 <= (size_t)n &&
          memcmp(want + off - (sizeof key - 1), key, sizeof key - 1) == 0)
        memcpy(got + off, want + off, 64);
      hashes++;
    }
  }
  size_t i = 0;
  while (i < m->len && i < (size_t)n && got[i] == want[i])
    i++;
  ck_assert_msg(m->len == (size_t)n && i == m->len,
                "%s differs from the golden file at byte %zu (got %zu bytes, "
                "want %ld; %zu hashes checked against the store)",
                name, i, m->len, n, hashes);
  free(got);
  free(want);
}

static void golden_format(int format, int neutralize, const char *name) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  eaudit_query *q = rf_query(s);
  eaudit_report_options *o = ropts(format, 0);
  EA_OK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_CSV_NEUTRALIZE,
                                      neutralize));
  membuf m = {0};
  EA_OK(report_mem(s, q, o, &m));
  golden(name, &m, s);
  free(m.data);
  eaudit_report_options_free(o);
  eaudit_query_free(q);
  eaudit_store_free(s);
}

START_TEST(csv_report_matches_golden_file) {
  golden_format(EAUDIT_FORMAT_CSV, 1, "fixture.csv");
}
END_TEST

START_TEST(csv_report_without_neutralising_matches_golden_file) {
  golden_format(EAUDIT_FORMAT_CSV, 0, "fixture-raw.csv");
}
END_TEST

START_TEST(json_report_matches_golden_file) {
  golden_format(EAUDIT_FORMAT_JSON, 1, "fixture.json");
}
END_TEST

START_TEST(jsonl_report_matches_golden_file) {
  golden_format(EAUDIT_FORMAT_JSONL, 1, "fixture.jsonl");
}
END_TEST

START_TEST(html_report_matches_golden_file) {
  golden_format(EAUDIT_FORMAT_HTML, 1, "fixture.html");
}
END_TEST

START_TEST(syslog_report_matches_golden_file) {
  golden_format(EAUDIT_FORMAT_SYSLOG, 1, "fixture.syslog");
}
END_TEST

START_TEST(cef_report_matches_golden_file) {
  golden_format(EAUDIT_FORMAT_CEF, 1, "fixture.cef");
}
END_TEST

START_TEST(export_matches_golden_file) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  membuf m = {0};
  int64_t last = 0;
  EA_OK(export_mem(s, 0, EAUDIT_FORMAT_JSONL, &m, &last));
  ck_assert_int_eq(last, 10);
  golden("export.jsonl", &m, s);
  free(m.data);
  eaudit_store_free(s);
}
END_TEST

/* --- escaping pinned down exactly --- */

START_TEST(writers_escape_hostile_names) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  eaudit_query *q = rf_query(s);
  int formats[] = {EAUDIT_FORMAT_HTML, EAUDIT_FORMAT_SYSLOG, EAUDIT_FORMAT_CEF};
  membuf m[3] = {{0}};
  for (int i = 0; i < 3; i++) {
    eaudit_report_options *o = ropts(formats[i], 0);
    EA_OK(report_mem(s, q, o, &m[i]));
    eaudit_report_options_free(o);
  }
  /* HTML: no raw markup from data, no "]]>". */
  ck_assert_ptr_null(strstr(m[0].data, "<script>"));
  ck_assert_ptr_null(strstr(m[0].data, "]]>"));
  ck_assert_ptr_nonnull(strstr(m[0].data, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  ck_assert_ptr_nonnull(strstr(m[0].data, "North ]]&gt; door &amp; &quot;hall&quot;"));
  /* Syslog: one line per event, '"', '\' and ']' escaped. */
  ck_assert_ptr_nonnull(
      strstr(m[1].data, "door_name=\"North \\]\\]> door & \\\"hall\\\"\""));
  ck_assert_ptr_nonnull(strstr(m[1].data, "subject_name=\"Line\\nbreak"));
  size_t lines = 0;
  for (size_t i = 0; i < m[1].len; i++)
    lines += m[1].data[i] == '\n';
  ck_assert_uint_eq(lines, 9);
  /* CEF: '=' and '\' escaped in values, newlines as \n, '|' in headers. */
  ck_assert_ptr_nonnull(strstr(m[2].data, "duser=\\=cmd|' /C calc'!A0"));
  ck_assert_ptr_nonnull(strstr(m[2].data, "duser=Line\\nbreak"));
  lines = 0;
  for (size_t i = 0; i < m[2].len; i++)
    lines += m[2].data[i] == '\n';
  ck_assert_uint_eq(lines, 9);
  for (int i = 0; i < 3; i++)
    free(m[i].data);
  eaudit_query_free(q);
  eaudit_store_free(s);
}
END_TEST

/* --- the report's own audit record --- */

START_TEST(report_appends_report_exported_naming_the_actor) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  eaudit_query *q = rf_query(s);
  EA_OK(eaudit_query_set_user(q, 42, EAUDIT_ROLE_ANY));
  eaudit_report_options *o = ropts(EAUDIT_FORMAT_CSV, 1);
  EA_OK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_ACTOR, 9));
  membuf m = {0};
  EA_OK(report_mem(s, q, o, &m));
  ck_assert_int_eq(last_seq(s), 11);
  eaudit_cursor *c = NULL;
  EA_OK(eaudit_store_tail(s, 10, 0, &c));
  const eaudit_event *ev;
  EA_OK(eaudit_cursor_next(c, &ev));
  int64_t v;
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_TYPE, &v));
  ck_assert_int_eq(v, EAUDIT_TYPE_REPORT_EXPORTED);
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_ACTOR, &v));
  ck_assert_int_eq(v, 9);
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_SUBJECT, &v));
  ck_assert_int_eq(v, 42);
  size_t n;
  const char *d = eaudit_event_details(ev, &n);
  ck_assert_str_eq(d, "{\"format\":\"csv\",\"events\":4,\"user\":42,\"role\":"
                      "\"any\",\"since\":\"2026-10-31T23:00:00.000000Z\","
                      "\"until\":\"2026-11-07T23:00:00.000000Z\","
                      "\"complete\":true}");
  eaudit_cursor_free(c);
  /* 4 events of user 42 in the interval, plus the header. */
  size_t lines = 0;
  for (size_t i = 0; i < m.len; i++)
    lines += m.data[i] == '\n';
  ck_assert_uint_eq(lines, 5);
  free(m.data);
  eaudit_report_options_free(o);
  eaudit_query_free(q);
  eaudit_store_free(s);
}
END_TEST

START_TEST(recorded_report_without_actor_is_refused_and_writes_nothing) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  eaudit_query *q = rf_query(s);
  eaudit_report_options *o = NULL;
  EA_OK(eaudit_report_options_new(&o));
  membuf m = {0};
  ck_assert_int_eq(report_mem(s, q, o, &m), EAUDIT_EINVAL);
  ck_assert_uint_eq(m.len, 0);
  ck_assert_int_eq(last_seq(s), 10);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "actor"));
  eaudit_report_options_free(o);
  eaudit_query_free(q);
  eaudit_store_free(s);
}
END_TEST

START_TEST(failed_write_is_recorded_as_incomplete) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  eaudit_query *q = rf_query(s);
  eaudit_report_options *o = ropts(EAUDIT_FORMAT_CSV, 1);
  eaudit_sink *k = NULL;
  int fd = open("/dev/full", O_WRONLY);
  ck_assert_int_ge(fd, 0);
  EA_OK(eaudit_sink_from_fd(&k, fd));
  ck_assert_int_eq(eaudit_store_report(s, q, o, k), EAUDIT_EIO);
  ck_assert_int_eq(eaudit_error_last()->klass, EAUDIT_ECLASS_OS);
  close(fd);
  ck_assert_int_eq(last_seq(s), 11);
  eaudit_cursor *c = NULL;
  EA_OK(eaudit_store_tail(s, 10, 0, &c));
  const eaudit_event *ev;
  EA_OK(eaudit_cursor_next(c, &ev));
  ck_assert_ptr_nonnull(
      strstr(eaudit_event_details(ev, NULL), "\"complete\":false"));
  eaudit_cursor_free(c);
  eaudit_sink_free(k);
  eaudit_report_options_free(o);
  eaudit_query_free(q);
  eaudit_store_free(s);
}
END_TEST

static int refuse(const void *p, size_t n, void *payload) {
  (void)p;
  (void)n;
  (void)payload;
  return 7;
}

START_TEST(callback_sink_failure_stops_the_report) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  eaudit_query *q = rf_query(s);
  eaudit_report_options *o = ropts(EAUDIT_FORMAT_HTML, 0);
  eaudit_sink *k = NULL;
  EA_OK(eaudit_sink_from_callback(&k, refuse, NULL));
  ck_assert_int_eq(eaudit_store_report(s, q, o, k), EAUDIT_EIO);
  ck_assert_int_eq(eaudit_error_last()->klass, EAUDIT_ECLASS_CALLBACK);
  ck_assert_int_eq(eaudit_error_last()->detail, 7);
  eaudit_sink_free(k);
  eaudit_report_options_free(o);
  eaudit_query_free(q);
  eaudit_store_free(s);
}
END_TEST

typedef struct prog {
  uint64_t calls, last_done, last_total, stop_at;
} prog;

static int on_progress(uint64_t done, uint64_t total, void *payload) {
  prog *p = payload;
  p->calls++;
  p->last_done = done;
  p->last_total = total;
  return p->stop_at && p->calls >= p->stop_at;
}

START_TEST(progress_reaches_total_and_can_cancel) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  eaudit_query *q = rf_query(s);
  eaudit_report_options *o = ropts(EAUDIT_FORMAT_JSON, 0);
  prog p = {0};
  EA_OK(eaudit_report_options_set_progress(o, on_progress, &p));
  membuf m = {0};
  EA_OK(report_mem(s, q, o, &m));
  ck_assert_uint_eq(p.last_done, 9);
  ck_assert_uint_eq(p.last_total, 9);
  free(m.data);
  m = (membuf){0};
  p = (prog){.stop_at = 1};
  ck_assert_int_eq(report_mem(s, q, o, &m), EAUDIT_ECANCELLED);
  free(m.data);
  eaudit_report_options_free(o);
  eaudit_query_free(q);
  eaudit_store_free(s);
}
END_TEST

START_TEST(report_options_reject_bad_values) {
  eaudit_report_options *o = NULL;
  EA_OK(eaudit_report_options_new(&o));
  ck_assert_int_eq(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_FORMAT, 7),
                   EAUDIT_ERANGE);
  ck_assert_int_eq(
      eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_CSV_NEUTRALIZE, 2),
      EAUDIT_ERANGE);
  ck_assert_int_eq(eaudit_report_options_set_int(o, 99, 1), EAUDIT_EOPTION);
  ck_assert_int_eq(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_TITLE, 1),
                   EAUDIT_EOPTION);
  ck_assert_int_eq(
      eaudit_report_options_set_str(o, EAUDIT_REPORT_OPT_SYSLOG_HOSTNAME,
                                    "two words"),
      EAUDIT_ERANGE);
  ck_assert_int_eq(
      eaudit_report_options_set_str(o, EAUDIT_REPORT_OPT_FORMAT, "csv"),
      EAUDIT_EOPTION);
  eaudit_report_options_free(o);
  eaudit_report_options_free(NULL);
  eaudit_sink_free(NULL);
  eaudit_source_free(NULL);
  eaudit_import_result_free(NULL);
}
END_TEST

/* --- findings --- */

/* The rules engine's findings, made by appending real events: 5 failed
 * door attempts by user 42 within 4 minutes (door_failure_burst) and two
 * logins of user 7 from an unrecognized device within 24 h
 * (unrecognized_device_abuse), and a burst before the report's interval. */
static void add_findings(eaudit_store *s) {
  for (int i = 0; i < 5; i++)
    rf_add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, rf_utc(2026, 11, 5, 9, i, 0), 42,
           -1, 7, 0, 0, 1, EAUDIT_CREDENTIAL_KEYCARD,
           EAUDIT_REASON_NO_PERMISSION, NULL);
  rf_add(s, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, rf_utc(2026, 11, 6, 8, 0, 0),
         7, -1, 0, 0, 5, 0, 0, 0, NULL);
  rf_add(s, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE,
         rf_utc(2026, 11, 6, 12, 0, 0), 7, -1, 0, 0, 5, 0, 0, 0, NULL);
  for (int i = 0; i < 5; i++)
    rf_add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, rf_utc(2026, 10, 15, 9, i, 0), 7,
           -1, 7, 0, 0, 1, EAUDIT_CREDENTIAL_KEYCARD,
           EAUDIT_REASON_NO_PERMISSION, NULL);
}

/* The text id of the only finding of a rule. */
static void finding_id(eaudit_store *s, const char *rule,
                       char out[EAUDIT_UUID_STRLEN + 1]) {
  eaudit_finding_query *fq = NULL;
  EA_OK(eaudit_finding_query_new(&fq));
  EA_OK(eaudit_finding_query_set_rule(fq, rule));
  eaudit_findings *l = NULL;
  EA_OK(eaudit_store_findings(s, fq, &l));
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  uint8_t id[16];
  EA_OK(eaudit_finding_id(eaudit_findings_get(l, 0), id));
  eaudit_uuid_format(id, out);
  eaudit_findings_free(l);
  eaudit_finding_query_free(fq);
}

static void report_format(eaudit_store *s, const eaudit_query *q, int format,
                          membuf *m) {
  eaudit_report_options *o = ropts(format, 0);
  *m = (membuf){0};
  EA_OK(report_mem(s, q, o, m));
  eaudit_report_options_free(o);
}

START_TEST(findings_section_shows_the_rules_engines_findings) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  add_findings(s);
  char burst[EAUDIT_UUID_STRLEN + 1], abuse[EAUDIT_UUID_STRLEN + 1];
  finding_id(s, "unrecognized_device_abuse", abuse);
  uint8_t abuse_id[16];
  EA_OK(eaudit_uuid_parse(abuse, abuse_id));
  EA_OK(eaudit_store_finding_set_state(s, abuse_id,
                                       EAUDIT_FINDING_ACKNOWLEDGED, 1));
  /* The burst of 15 October is outside the report's interval. */
  eaudit_finding_query *fq = NULL;
  EA_OK(eaudit_finding_query_new(&fq));
  EA_OK(eaudit_finding_query_set_user(fq, 42));
  EA_OK(eaudit_finding_query_set_rule(fq, "door_failure_burst"));
  eaudit_findings *l = NULL;
  EA_OK(eaudit_store_findings(s, fq, &l));
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  uint8_t bid[16];
  EA_OK(eaudit_finding_id(eaudit_findings_get(l, 0), bid));
  eaudit_uuid_format(bid, burst);
  eaudit_findings_free(l);
  eaudit_finding_query_free(fq);

  char want_burst[512], want_abuse[512];
  snprintf(want_burst, sizeof want_burst,
           "{\"id\":\"%s\",\"rule\":\"door_failure_burst\",\"severity\":"
           "\"warning\",\"subject\":42,\"key\":\"subject:42\",\"first_at\":"
           "\"2026-11-05T10:00:00.000000+01:00\",\"last_at\":\"2026-11-05T10:"
           "04:00.000000+01:00\",\"state\":\"open\",\"event_count\":5}",
           burst);
  snprintf(want_abuse, sizeof want_abuse,
           "{\"id\":\"%s\",\"rule\":\"unrecognized_device_abuse\","
           "\"severity\":\"warning\",\"subject\":7,\"key\":\"subject:7\","
           "\"first_at\":\"2026-11-06T09:00:00.000000+01:00\",\"last_at\":"
           "\"2026-11-06T13:00:00.000000+01:00\",\"state\":\"acknowledged\","
           "\"event_count\":2}",
           abuse);
  char want[1200];
  snprintf(want, sizeof want, "\"findings\":[\n%s,\n%s\n],\n", want_burst,
           want_abuse);

  /* JSON: both, oldest first; the October burst is left out. */
  eaudit_query *q = rf_query(s);
  membuf m;
  report_format(s, q, EAUDIT_FORMAT_JSON, &m);
  ck_assert_msg(strstr(m.data, want) != NULL, "findings section:\n%.900s",
                strstr(m.data, "\"findings\""));
  free(m.data);

  /* HTML: the same two, in the red table. */
  report_format(s, q, EAUDIT_FORMAT_HTML, &m);
  char row[1024];
  snprintf(row, sizeof row,
           "<h3>Findings</h3>\n<table class=\"findings red\"><thead><tr><th>"
           "Rule</th><th>Severity</th><th>Key</th><th>User</th><th>First</th>"
           "<th>Last</th><th>State</th><th>Events</th></tr></thead><tbody>\n"
           "<tr class=\"red\"><td>door_failure_burst</td><td>warning</td><td>"
           "subject:42</td><td>%s (42)</td><td>2026-11-05 10:00:00</td><td>"
           "2026-11-05 10:04:00</td><td>open</td><td class=\"num\">5</td></tr>\n"
           "<tr class=\"red\"><td>unrecognized_device_abuse</td><td>warning"
           "</td><td>subject:7</td><td>Line\nbreak &lt;script&gt;alert(1)&lt;"
           "/script&gt; (7)</td><td>2026-11-06 09:00:00</td><td>2026-11-06 "
           "13:00:00</td><td>acknowledged</td><td class=\"num\">2</td></tr>\n"
           "</tbody></table>\n<h3>Expired permissions</h3>",
           RF_USER42_NEW);
  ck_assert_msg(strstr(m.data, row) != NULL, "findings section:\n%.900s",
                strstr(m.data, "<h3>Findings"));
  free(m.data);

  /* The other formats have no summary, so no findings. */
  const int others[] = {EAUDIT_FORMAT_CSV, EAUDIT_FORMAT_JSONL,
                        EAUDIT_FORMAT_SYSLOG, EAUDIT_FORMAT_CEF};
  for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
    report_format(s, q, others[i], &m);
    ck_assert_ptr_null(strstr(m.data, "door_failure_burst"));
    ck_assert_ptr_null(strstr(m.data, "unrecognized_device_abuse"));
    free(m.data);
  }

  /* A report for user 42 has that user's finding only. */
  EA_OK(eaudit_query_set_user(q, 42, EAUDIT_ROLE_ANY));
  report_format(s, q, EAUDIT_FORMAT_JSON, &m);
  snprintf(want, sizeof want, "\"findings\":[\n%s\n],\n", want_burst);
  ck_assert_msg(strstr(m.data, want) != NULL, "findings section:\n%.900s",
                strstr(m.data, "\"findings\""));
  free(m.data);

  /* A report without the summary has no findings. */
  eaudit_report_options *o = ropts(EAUDIT_FORMAT_JSON, 0);
  EA_OK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_SUMMARY, 0));
  m = (membuf){0};
  EA_OK(report_mem(s, q, o, &m));
  ck_assert_ptr_null(strstr(m.data, "\"findings\""));
  free(m.data);
  eaudit_report_options_free(o);

  /* An interval that ends before the burst has neither. */
  eaudit_query_free(q);
  EA_OK(eaudit_query_new(&q));
  EA_OK(eaudit_query_set_interval(q, rf_utc(2026, 11, 1, 0, 0, 0),
                                  rf_utc(2026, 11, 5, 9, 0, 0)));
  report_format(s, q, EAUDIT_FORMAT_JSON, &m);
  ck_assert_ptr_nonnull(strstr(m.data, "\"findings\":[],\n"));
  free(m.data);
  report_format(s, q, EAUDIT_FORMAT_HTML, &m);
  ck_assert_ptr_nonnull(
      strstr(m.data, "<h3>Findings</h3>\n<p>No findings in this interval.</p>"));
  free(m.data);
  eaudit_query_free(q);
  eaudit_store_free(s);
}
END_TEST

/* The expired section is eaudit_store_expired(), narrowed to the report's
 * user. */
START_TEST(expired_section_follows_the_expired_now_list) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  eaudit_expired *l = NULL;
  EA_OK(eaudit_store_expired(s, &l));
  ck_assert_uint_eq(eaudit_expired_size(l), 2);
  eaudit_expired_free(l);
  eaudit_query *q = rf_query(s);
  membuf m;
  report_format(s, q, EAUDIT_FORMAT_JSON, &m);
  ck_assert_ptr_nonnull(strstr(
      m.data, "\"expired\":{\"users\":[\n{\"id\":7,\"name\":\"Line\\nbreak "
              "<script>alert(1)</script>\",\"expired_at\":\"2026-11-04T01:00:"
              "00.000000+01:00\"}\n],\"groups\":[\n{\"id\":3,\"name\":\"@group"
              "+plus\",\"expired_at\":\"2026-11-04T01:00:00.000000+01:00\"}\n"
              "]}},\n"));
  free(m.data);
  /* User 7's report has user 7's expiry and no groups. */
  EA_OK(eaudit_query_set_user(q, 7, EAUDIT_ROLE_ANY));
  report_format(s, q, EAUDIT_FORMAT_JSON, &m);
  ck_assert_ptr_nonnull(strstr(
      m.data, "\"expired\":{\"users\":[\n{\"id\":7,\"name\":\"Line\\nbreak "
              "<script>alert(1)</script>\",\"expired_at\":\"2026-11-04T01:00:"
              "00.000000+01:00\"}\n],\"groups\":[]}},\n"));
  free(m.data);
  /* User 42's has none. */
  EA_OK(eaudit_query_set_user(q, 42, EAUDIT_ROLE_ANY));
  report_format(s, q, EAUDIT_FORMAT_JSON, &m);
  ck_assert_ptr_nonnull(
      strstr(m.data, "\"expired\":{\"users\":[],\"groups\":[]}},\n"));
  free(m.data);
  /* A prolongation at the same instant ends user 7's expiry, in the list
   * and in the report alike. */
  rf_add(s, EAUDIT_TYPE_PERMISSIONS_PROLONGED, rf_utc(2026, 11, 4, 0, 0, 0), 7,
         1, 0, 0, 0, 0, 0, 0, NULL);
  EA_OK(eaudit_store_expired(s, &l));
  ck_assert_uint_eq(eaudit_expired_size(l), 1);
  eaudit_expired_free(l);
  EA_OK(eaudit_query_set_user(q, 7, EAUDIT_ROLE_ANY));
  report_format(s, q, EAUDIT_FORMAT_JSON, &m);
  ck_assert_ptr_nonnull(
      strstr(m.data, "\"expired\":{\"users\":[],\"groups\":[]}},\n"));
  free(m.data);
  eaudit_query_clear_user(q);
  report_format(s, q, EAUDIT_FORMAT_HTML, &m);
  ck_assert_ptr_nonnull(strstr(
      m.data, "<h3>Expired permissions</h3>\n<table class=\"expired red\">"));
  ck_assert_ptr_null(
      strstr(m.data, "<tr class=\"red\"><td>user</td><td class=\"num\">7<"));
  free(m.data);
  eaudit_query_free(q);
  eaudit_store_free(s);
}
END_TEST

/* --- export and import --- */

/* Every stored field of the events of two stores, compared in seq order. */
static void same_events(eaudit_store *a, eaudit_store *b, int64_t upto) {
  eaudit_cursor *ca = NULL, *cb = NULL;
  EA_OK(eaudit_store_tail(a, 0, (size_t)upto, &ca));
  EA_OK(eaudit_store_tail(b, 0, 0, &cb));
  const eaudit_event *ea, *eb;
  int64_t n = 0;
  while (eaudit_cursor_next(ca, &ea) == EAUDIT_OK) {
    ck_assert_int_eq(eaudit_cursor_next(cb, &eb), EAUDIT_OK);
    uint8_t ia[16], ib[16];
    EA_OK(eaudit_event_id(ea, ia));
    EA_OK(eaudit_event_id(eb, ib));
    ck_assert_mem_eq(ia, ib, 16);
    for (int f = EAUDIT_FIELD_SEQ; f <= EAUDIT_FIELD_REASON; f++) {
      if (f == EAUDIT_FIELD_RECORDED_AT)
        continue;
      ck_assert_int_eq(eaudit_event_has(ea, f), eaudit_event_has(eb, f));
      int64_t va = 0, vb = 0;
      eaudit_event_get(ea, f, &va);
      eaudit_event_get(eb, f, &vb);
      ck_assert_int_eq(va, vb);
    }
    size_t la, lb;
    const char *da = eaudit_event_details(ea, &la);
    const char *db = eaudit_event_details(eb, &lb);
    ck_assert_uint_eq(la, lb);
    if (la)
      ck_assert_mem_eq(da, db, la);
    n++;
  }
  ck_assert_int_eq(eaudit_cursor_next(cb, &eb), EAUDIT_DONE);
  ck_assert_int_eq(n, upto);
  eaudit_cursor_free(ca);
  eaudit_cursor_free(cb);
}

START_TEST(export_then_import_gives_the_same_events_and_twice_adds_nothing) {
  rf_state st;
  eaudit_store *a = rf_fixture(&st);
  membuf m = {0};
  EA_OK(export_mem(a, 0, EAUDIT_FORMAT_JSONL, &m, NULL));
  tu_clock c = {tu_utc(2027, 1, 1, 0, 0, 0), 0};
  uint64_t seed = 7;
  eaudit_store *b = empty_store(&c, &seed);
  eaudit_import_result *r = import_mem(b, m.data, m.len, 3);
  uint64_t app, skip, rej;
  counts(r, &app, &skip, &rej);
  ck_assert_uint_eq(app, 10);
  ck_assert_uint_eq(skip, 0);
  ck_assert_uint_eq(rej, 0);
  eaudit_import_result_free(r);
  same_events(a, b, 10);
  r = import_mem(b, m.data, m.len, 0);
  counts(r, &app, &skip, &rej);
  ck_assert_uint_eq(app, 0);
  ck_assert_uint_eq(skip, 10);
  ck_assert_uint_eq(rej, 0);
  eaudit_import_result_free(r);
  ck_assert_int_eq(last_seq(b), 10);
  /* Export of b is byte for byte the export of a, but for recorded_at and
   * hash, which the importing store assigns. */
  free(m.data);
  eaudit_store_free(a);
  eaudit_store_free(b);
}
END_TEST

START_TEST(lines_without_ids_get_derived_ids_and_import_twice_adds_nothing) {
  const char *text =
      "{\"type\": \"door_opened\", \"occurred_at\": "
      "\"2026-11-03T15:05:09.123456+01:00\", \"subject\": 42, \"door\": 7, "
      "\"credential\": \"keycard\", \"details\": {\"reader\":\"north\"}}\n"
      "{\"type\": 6, \"occurred_at\": \"2026-11-03T14:06:00Z\", \"subject\": "
      "42, \"actor\": 42, \"reason\": \"outside_schedule\", \"credential\": 1}"
      "\r\n"
      "\n"
      "{\"type\": \"group_added\", \"occurred_at\": \"2026-11-03T14:07:00Z\", "
      "\"subject\": 42, \"actor\": 1, \"group\": 3, \"extra\": true, "
      "\"seq\": 99, \"subject_name\": \"x\"}";
  tu_clock c = {tu_utc(2027, 1, 1, 0, 0, 0), 0};
  uint64_t seed = 7;
  eaudit_store *s = empty_store(&c, &seed);
  eaudit_import_result *r = import_mem(s, text, strlen(text), 0);
  uint64_t lines, app, skip, rej, unknown;
  EA_OK(eaudit_import_result_counts(r, &lines, &app, &skip, &rej, &unknown));
  ck_assert_uint_eq(lines, 4);
  ck_assert_uint_eq(app, 3);
  ck_assert_uint_eq(rej, 0);
  ck_assert_uint_eq(unknown, 1);
  eaudit_import_result_free(r);
  r = import_mem(s, text, strlen(text), 0);
  EA_OK(eaudit_import_result_counts(r, NULL, &app, &skip, &rej, NULL));
  ck_assert_uint_eq(app, 0);
  ck_assert_uint_eq(skip, 3);
  eaudit_import_result_free(r);
  ck_assert_int_eq(last_seq(s), 3);
  /* The derived id: occurred_at's milliseconds in front, version 7. */
  eaudit_cursor *cur = NULL;
  EA_OK(eaudit_store_tail(s, 0, 1, &cur));
  const eaudit_event *ev;
  EA_OK(eaudit_cursor_next(cur, &ev));
  uint8_t id[16], again[16];
  EA_OK(eaudit_event_id(ev, id));
  uint64_t ms = 0;
  for (int i = 0; i < 6; i++)
    ms = ms << 8 | id[i];
  ck_assert_uint_eq(ms, (uint64_t)(tu_utc(2026, 11, 3, 14, 5, 9) / 1000 + 123));
  ck_assert_uint_eq(id[6] >> 4, 7);
  ck_assert_uint_eq(id[8] >> 6, 2);
  /* Details kept as received. */
  size_t n;
  const char *d = eaudit_event_details(ev, &n);
  ck_assert_uint_eq(n, strlen("{\"reader\":\"north\"}"));
  ck_assert_mem_eq(d, "{\"reader\":\"north\"}", n);
  /* An absent actor derives the same id as an actor equal to the subject. */
  eaudit_event *e2 = NULL;
  EA_OK(eaudit_event_dup(&e2, ev));
  EA_OK(eaudit_event_unset(e2, EAUDIT_FIELD_ACTOR));
  EA_OK(eaudit_event_derive_id(e2, again));
  ck_assert_mem_eq(id, again, 16);
  EA_OK(eaudit_event_set(e2, EAUDIT_FIELD_DOOR, 8));
  EA_OK(eaudit_event_derive_id(e2, again));
  ck_assert_int_ne(memcmp(id, again, 16), 0);
  eaudit_event_free(e2);
  eaudit_cursor_free(cur);
  eaudit_store_free(s);
}
END_TEST

START_TEST(interrupted_import_resumes_without_duplicates) {
  /* 200 lines without ids; the first run stops after 70 of them. */
  membuf m = {0};
  for (int i = 0; i < 200; i++) {
    char line[256];
    snprintf(line, sizeof line,
             "{\"type\":\"door_opened\",\"occurred_at\":\"2026-11-0%dT10:%02d:"
             "%02dZ\",\"subject\":%d,\"door\":%d}\n",
             1 + i % 7, i % 60, i / 60, 100 + i % 13, i % 5);
    mem_write(line, strlen(line), &m);
  }
  size_t cut = 0;
  for (int nl = 0; nl < 70; cut++)
    nl += m.data[cut] == '\n';
  tu_clock c = {tu_utc(2027, 1, 1, 0, 0, 0), 0};
  uint64_t seed = 7;
  eaudit_store *s = empty_store(&c, &seed);
  eaudit_import_result *r = import_mem(s, m.data, cut, 16);
  uint64_t app, skip, rej;
  counts(r, &app, &skip, &rej);
  ck_assert_uint_eq(app, 70);
  eaudit_import_result_free(r);
  r = import_mem(s, m.data, m.len, 16);
  counts(r, &app, &skip, &rej);
  ck_assert_uint_eq(app, 130);
  ck_assert_uint_eq(skip, 70);
  ck_assert_uint_eq(rej, 0);
  eaudit_import_result_free(r);
  int64_t n;
  EA_OK(eaudit_store_event_count(s, &n));
  ck_assert_int_eq(n, 200);
  free(m.data);
  eaudit_store_free(s);
}
END_TEST

START_TEST(import_with_one_percent_bad_lines_keeps_every_good_line) {
  static const char *const bad[] = {
      "{\"type\":\"door_opened\",\"occurred_at\":\"2026-11-01T10:00:00Z\"}",
      "{\"type\":\"no_such_type\",\"occurred_at\":\"2026-11-01T10:00:00Z\","
      "\"subject\":1}",
      "{\"type\":\"door_opened\",\"occurred_at\":\"yesterday\",\"subject\":1}",
      "not json at all",
      "{\"type\":\"door_opened\",\"occurred_at\":\"2026-11-01T10:00:00Z\","
      "\"subject\":\"42\"}",
      "[1, 2, 3]",
      "{\"type\":\"door_opened\",\"occurred_at\":\"2026-11-01T10:00:00Z\","
      "\"subject\":1,\"details\":[1]}",
      "{\"type\":\"door_opened\",\"occurred_at\":\"2026-11-01T10:00:00Z\","
      "\"subject\":1,\"reason\":\"because\"}",
      "{\"type\":\"door_opened\",\"occurred_at\":\"2026-11-01T10:00:00Z\","
      "\"subject\":1,\"id\":\"not-an-id\"}",
      "{\"type\":\"door_opened\",\"occurred_at\":\"2026-11-01T10:00:00Z\","
      "\"subject\":1} trailing"};
  static const int codes[] = {EAUDIT_ESUBJECT, EAUDIT_ETYPE, EAUDIT_ETIME,
                              EAUDIT_EFORMAT,  EAUDIT_EFIELD, EAUDIT_EFORMAT,
                              EAUDIT_EFIELD,   EAUDIT_ERANGE, EAUDIT_EFORMAT,
                              EAUDIT_EFORMAT};
  membuf m = {0};
  uint64_t bad_lines[10];
  int nb = 0;
  for (int i = 1; i <= 1000; i++) {
    char line[256];
    if (i % 100 == 37) {
      bad_lines[nb] = (uint64_t)i;
      snprintf(line, sizeof line, "%s\n", bad[nb]);
      nb++;
    } else {
      snprintf(line, sizeof line,
               "{\"type\":\"door_opened\",\"occurred_at\":\"2026-11-01T%02d:%02d:"
               "%02dZ\",\"subject\":%d}\n",
               i / 3600, i / 60 % 60, i % 60, i);
    }
    mem_write(line, strlen(line), &m);
  }
  tu_clock c = {tu_utc(2027, 1, 1, 0, 0, 0), 0};
  uint64_t seed = 7;
  eaudit_store *s = empty_store(&c, &seed);
  eaudit_import_result *r = import_mem(s, m.data, m.len, 64);
  uint64_t app, skip, rej;
  counts(r, &app, &skip, &rej);
  ck_assert_uint_eq(app, 990);
  ck_assert_uint_eq(skip, 0);
  ck_assert_uint_eq(rej, 10);
  ck_assert_uint_eq(eaudit_import_result_bad_count(r), 10);
  for (size_t i = 0; i < 10; i++) {
    uint64_t line;
    int code;
    const char *reason;
    EA_OK(eaudit_import_result_bad_at(r, i, &line, &code, &reason));
    ck_assert_uint_eq(line, bad_lines[i]);
    ck_assert_msg(code == codes[i], "line %d: code %d, want %d (%s)",
                  (int)line, code, codes[i], reason);
    ck_assert_uint_gt(strlen(reason), 0);
  }
  ck_assert_int_eq(eaudit_import_result_bad_at(r, 10, NULL, NULL, NULL),
                   EAUDIT_EINVAL);
  eaudit_import_result_free(r);
  ck_assert_int_eq(last_seq(s), 990);
  free(m.data);
  eaudit_store_free(s);
}
END_TEST

START_TEST(import_reads_files_and_descriptors) {
  rf_state st;
  eaudit_store *a = rf_fixture(&st);
  char path[512];
  tu_temp_path(path, sizeof path, "report-export");
  FILE *fp = fopen(path, "w+b");
  ck_assert_ptr_nonnull(fp);
  eaudit_report_options *o = ropts(EAUDIT_FORMAT_JSONL, 0);
  eaudit_sink *k = NULL;
  EA_OK(eaudit_sink_from_file(&k, fp));
  EA_OK(eaudit_store_export(a, 4, o, k, NULL));
  eaudit_sink_free(k);
  rewind(fp);
  tu_clock c = {tu_utc(2027, 1, 1, 0, 0, 0), 0};
  uint64_t seed = 7;
  eaudit_store *b = empty_store(&c, &seed);
  eaudit_source *src = NULL;
  EA_OK(eaudit_source_from_file(&src, fp));
  prog p = {0};
  EA_OK(eaudit_report_options_set_progress(o, on_progress, &p));
  eaudit_import_result *r = NULL;
  EA_OK(eaudit_store_import(b, src, o, &r));
  uint64_t app;
  counts(r, &app, NULL, NULL);
  ck_assert_uint_eq(app, 6);
  ck_assert_uint_eq(p.last_done, p.last_total);
  ck_assert_uint_gt(p.last_total, 0);
  eaudit_import_result_free(r);
  eaudit_source_free(src);
  fclose(fp);
  int fd = open(path, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  EA_OK(eaudit_source_from_fd(&src, fd));
  EA_OK(eaudit_store_import(b, src, NULL, &r));
  uint64_t skip;
  counts(r, &app, &skip, NULL);
  ck_assert_uint_eq(app, 0);
  ck_assert_uint_eq(skip, 6);
  eaudit_import_result_free(r);
  eaudit_source_free(src);
  close(fd);
  unlink(path);
  eaudit_report_options_free(o);
  eaudit_store_free(a);
  eaudit_store_free(b);
}
END_TEST

START_TEST(event_json_round_trips) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  eaudit_cursor *c = NULL;
  EA_OK(eaudit_store_tail(s, 2, 1, &c));
  const eaudit_event *ev;
  EA_OK(eaudit_cursor_next(c, &ev));
  char *json = NULL;
  EA_OK(eaudit_event_to_json(s, ev, EAUDIT_JSON_NAMES, &json));
  ck_assert_str_eq(
      json, "{\"id\":\"01a1c554-5200-7a4e-bd2a-10306d86a02e\",\"type\":"
            "\"door_opened\",\"occurred_at\":\"2026-11-02T07:30:15.123456Z\","
            "\"subject\":42,\"actor\":42,\"door\":7,\"group\":null,\"device\":"
            "null,\"site\":1,\"credential\":\"keycard\",\"reason\":null,"
            "\"details\":{\"reader\": \"north, \\\"main\\\"\\n<b>]]>\"},"
            "\"subject_name\":\"=cmd|' /C calc'!A0\",\"actor_name\":\"=cmd|' "
            "/C calc'!A0\",\"door_name\":\"North ]]> door & \\\"hall\\\"\","
            "\"site_name\":\"HQ, Main\"}");
  eaudit_event *back = NULL;
  size_t unknown = 9;
  EA_OK(eaudit_event_from_json(s, json, strlen(json), &unknown, &back));
  ck_assert_uint_eq(unknown, 0);
  for (int f = EAUDIT_FIELD_OCCURRED_AT; f <= EAUDIT_FIELD_REASON; f++) {
    if (f == EAUDIT_FIELD_RECORDED_AT)
      continue;
    int64_t a = 0, b = 0;
    ck_assert_int_eq(eaudit_event_has(ev, f), eaudit_event_has(back, f));
    eaudit_event_get(ev, f, &a);
    eaudit_event_get(back, f, &b);
    ck_assert_int_eq(a, b);
  }
  eaudit_free(json);
  eaudit_event_free(back);
  eaudit_cursor_free(c);
  ck_assert_int_eq(eaudit_event_from_json(s, "{\"door\": 1.5}", 13, NULL, &back),
                   EAUDIT_EFIELD);
  ck_assert_ptr_null(back);
  eaudit_store_free(s);
}
END_TEST

START_TEST(export_resumes_from_the_last_seq) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  membuf m = {0};
  int64_t last = 0;
  EA_OK(export_mem(s, 8, EAUDIT_FORMAT_CEF, &m, &last));
  ck_assert_int_eq(last, 10);
  ck_assert_ptr_nonnull(strstr(m.data, "cn1=9 cn1Label=seq"));
  ck_assert_ptr_null(strstr(m.data, "cn1=8 "));
  free(m.data);
  m = (membuf){0};
  EA_OK(export_mem(s, 10, EAUDIT_FORMAT_JSONL, &m, &last));
  ck_assert_int_eq(last, 10);
  ck_assert_uint_eq(m.len, 0);
  free(m.data);
  m = (membuf){0};
  ck_assert_int_eq(export_mem(s, 0, EAUDIT_FORMAT_HTML, &m, NULL),
                   EAUDIT_EUNSUPPORTED);
  eaudit_store_free(s);
}
END_TEST

START_TEST(html_chart_has_one_group_per_day_of_the_interval) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  eaudit_query *q = NULL;
  EA_OK(eaudit_query_new(&q));
  eaudit_time a, b, c, d;
  /* Across the end of DST on 25 October 2026 in Berlin. */
  EA_OK(eaudit_store_parse_time(s, "2026-10-20", EAUDIT_TIME_NONE, &a, &b));
  EA_OK(eaudit_store_parse_time(s, "2026-11-10", EAUDIT_TIME_NONE, &c, &d));
  EA_OK(eaudit_query_set_interval(q, a, c));
  eaudit_report_options *o = ropts(EAUDIT_FORMAT_HTML, 0);
  membuf m = {0};
  EA_OK(report_mem(s, q, o, &m));
  int groups = 0;
  for (const char *p = m.data; (p = strstr(p, "<g class=\"day\"")); p++)
    groups++;
  ck_assert_int_eq(groups, 21);
  ck_assert_ptr_nonnull(strstr(m.data, "data-day=\"2026-10-25\""));
  ck_assert_ptr_nonnull(strstr(m.data, "data-day=\"2026-11-09\""));
  ck_assert_ptr_null(strstr(m.data, "data-day=\"2026-11-10\""));
  free(m.data);
  eaudit_report_options_free(o);
  eaudit_query_free(q);
  eaudit_store_free(s);
}
END_TEST

/* --- one snapshot, and reports from inside callbacks --- */

static size_t count_str(const membuf *m, const char *needle) {
  size_t n = 0;
  for (const char *p = m->data; p && (p = strstr(p, needle)) != NULL; p++)
    n++;
  return n;
}

typedef struct racer {
  const char *target;
  int appended;
  prog p;
} racer;

/* At the first progress call (after 1024 events), another handle appends
 * 5 events older than every other: without the snapshot, the later batches
 * of the newest first events would meet them. They fall in the month of the others: on
 * PostgreSQL a new month's partition would wait for the report's snapshot
 * to end (docs/scale-out.md), here inside it. */
static int race_progress(uint64_t done, uint64_t total, void *payload) {
  racer *x = payload;
  on_progress(done, total, &x->p);
  if (x->appended++ == 0) {
    eaudit_store *other = NULL;
    EA_OK(eaudit_store_open(&other, x->target, NULL));
    tu_append_doors(other, 5, 42, 7, tu_utc(2026, 1, 1, 0, 0, 0), 1000000);
    eaudit_store_free(other);
  }
  return 0;
}

START_TEST(report_reads_one_snapshot_while_another_handle_appends) {
  tu_clock c = {tu_utc(2026, 3, 1, 0, 0, 0), 0};
  uint64_t seed = 11;
  eaudit_store *s = open_empty(&c, &seed, 1);
  char target[1024];
  snprintf(target, sizeof target, "%s", tu_store_last_target());
  tu_append_doors(s, 1500, 42, 7, tu_utc(2026, 1, 2, 0, 0, 0), 60000000);
  eaudit_query *q = NULL;
  EA_OK(eaudit_query_new(&q));
  eaudit_report_options *o = ropts(EAUDIT_FORMAT_JSON, 0);
  racer x = {.target = target};
  EA_OK(eaudit_report_options_set_progress(o, race_progress, &x));
  membuf m = {0};
  EA_OK(report_mem(s, q, o, &m));
  ck_assert_int_eq(x.appended, 2); /* at 1024 events and at the end */
  ck_assert_uint_eq(x.p.last_total, 1500);
  ck_assert_uint_eq(x.p.last_done, 1500);
  ck_assert_ptr_nonnull(strstr(m.data, "\"summary\":{\"total\":1500,"));
  ck_assert_uint_eq(count_str(&m, "{\"id\":\""), 1500);
  free(m.data);
  /* The next report sees them. */
  m = (membuf){0};
  EA_OK(eaudit_report_options_set_progress(o, NULL, NULL));
  EA_OK(report_mem(s, q, o, &m));
  ck_assert_ptr_nonnull(strstr(m.data, "\"summary\":{\"total\":1505,"));
  ck_assert_uint_eq(count_str(&m, "{\"id\":\""), 1505);
  free(m.data);
  eaudit_report_options_free(o);
  eaudit_query_free(q);
  eaudit_store_free(s);
}
END_TEST

typedef struct nested {
  eaudit_store *s;
  const eaudit_query *q;
  int calls;
  int plain_rc, recorded_rc, append_rc;
  membuf out;
} nested;

/* A report and writes from inside a report's progress callback. */
static int nested_progress(uint64_t done, uint64_t total, void *payload) {
  (void)done;
  (void)total;
  nested *x = payload;
  if (x->calls++)
    return 0;
  eaudit_report_options *o = ropts(EAUDIT_FORMAT_CSV, 0);
  x->plain_rc = report_mem(x->s, x->q, o, &x->out);
  eaudit_report_options_free(o);
  o = ropts(EAUDIT_FORMAT_CSV, 1);
  membuf m = {0};
  x->recorded_rc = report_mem(x->s, x->q, o, &m);
  free(m.data);
  eaudit_report_options_free(o);
  eaudit_event *ev = tu_event(EAUDIT_TYPE_DOOR_OPENED,
                              tu_utc(2026, 11, 2, 0, 0, 0), 42);
  x->append_rc = eaudit_store_append(x->s, ev);
  eaudit_event_free(ev);
  return 0;
}

START_TEST(report_inside_a_report_reads_its_snapshot_and_cannot_write) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  eaudit_query *q = rf_query(s);
  eaudit_report_options *o = ropts(EAUDIT_FORMAT_CSV, 1);
  nested x = {.s = s, .q = q};
  EA_OK(eaudit_report_options_set_progress(o, nested_progress, &x));
  membuf m = {0};
  EA_OK(report_mem(s, q, o, &m));
  ck_assert_int_eq(x.plain_rc, 0);
  ck_assert_int_eq(x.recorded_rc, EAUDIT_EMISUSE);
  ck_assert_int_eq(x.append_rc, EAUDIT_EMISUSE);
  /* The inner report is the outer one, the outer one is recorded once. */
  ck_assert_uint_eq(x.out.len, m.len);
  ck_assert_int_eq(memcmp(x.out.data, m.data, m.len), 0);
  ck_assert_int_eq(last_seq(s), 11);
  free(x.out.data);
  free(m.data);
  eaudit_report_options_free(o);
  eaudit_query_free(q);
  eaudit_store_free(s);
}
END_TEST

typedef struct subscribed {
  eaudit_store *s;
  int calls, rc;
  membuf out;
} subscribed;

static int report_on_event(const eaudit_event *ev, void *payload) {
  (void)ev;
  subscribed *x = payload;
  x->calls++;
  eaudit_query *q = NULL;
  EA_OK(eaudit_query_new(&q));
  EA_OK(eaudit_query_set_user(q, 42, EAUDIT_ROLE_SUBJECT));
  eaudit_report_options *o = ropts(EAUDIT_FORMAT_CSV, 1);
  x->rc = report_mem(x->s, q, o, &x->out);
  eaudit_report_options_free(o);
  eaudit_query_free(q);
  return 0;
}

START_TEST(report_from_a_subscriber_is_recorded) {
  rf_state st;
  eaudit_store *s = rf_fixture(&st);
  subscribed x = {.s = s};
  eaudit_query *f = NULL;
  EA_OK(eaudit_query_new(&f));
  EA_OK(eaudit_query_add_type(f, EAUDIT_TYPE_DOOR_OPENED));
  EA_OK(eaudit_store_subscribe(s, f, report_on_event, &x, NULL));
  rf_add(s, EAUDIT_TYPE_DOOR_OPENED, rf_utc(2026, 11, 9, 8, 0, 0), 42, -1, 7,
         0, 0, 1, EAUDIT_CREDENTIAL_KEYCARD, 0, NULL);
  ck_assert_int_eq(x.calls, 1);
  ck_assert_int_eq(x.rc, 0);
  /* The header and user 42's 6 events, the new one first. */
  size_t lines = count_str(&x.out, "\n");
  ck_assert_uint_eq(lines, 7);
  ck_assert_ptr_nonnull(strstr(x.out.data, "\n11,"));
  ck_assert_int_eq(last_seq(s), 12);
  eaudit_query_clear_types(f);
  EA_OK(eaudit_query_add_type(f, EAUDIT_TYPE_REPORT_EXPORTED));
  ck_assert_int_eq(tu_count(s, f), 1);
  free(x.out.data);
  eaudit_query_free(f);
  eaudit_store_free(s);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("report");
  TCase *g = tcase_create("golden");
  tcase_add_test(g, csv_report_matches_golden_file);
  tcase_add_test(g, csv_report_without_neutralising_matches_golden_file);
  tcase_add_test(g, json_report_matches_golden_file);
  tcase_add_test(g, jsonl_report_matches_golden_file);
  tcase_add_test(g, html_report_matches_golden_file);
  tcase_add_test(g, syslog_report_matches_golden_file);
  tcase_add_test(g, cef_report_matches_golden_file);
  tcase_add_test(g, export_matches_golden_file);
  tcase_add_test(g, writers_escape_hostile_names);
  suite_add_tcase(s, g);
  TCase *r = tcase_create("report");
  tcase_add_test(r, report_appends_report_exported_naming_the_actor);
  tcase_add_test(r, recorded_report_without_actor_is_refused_and_writes_nothing);
  tcase_add_test(r, failed_write_is_recorded_as_incomplete);
  tcase_add_test(r, callback_sink_failure_stops_the_report);
  tcase_add_test(r, progress_reaches_total_and_can_cancel);
  tcase_add_test(r, report_options_reject_bad_values);
  tcase_add_test(r, findings_section_shows_the_rules_engines_findings);
  tcase_add_test(r, expired_section_follows_the_expired_now_list);
  tcase_add_test(r, html_chart_has_one_group_per_day_of_the_interval);
  tcase_add_test(r, report_reads_one_snapshot_while_another_handle_appends);
  tcase_add_test(r, report_inside_a_report_reads_its_snapshot_and_cannot_write);
  tcase_add_test(r, report_from_a_subscriber_is_recorded);
  suite_add_tcase(s, r);
  TCase *x = tcase_create("export_import");
  tcase_add_test(x, export_then_import_gives_the_same_events_and_twice_adds_nothing);
  tcase_add_test(x, lines_without_ids_get_derived_ids_and_import_twice_adds_nothing);
  tcase_add_test(x, interrupted_import_resumes_without_duplicates);
  tcase_add_test(x, import_with_one_percent_bad_lines_keeps_every_good_line);
  tcase_add_test(x, import_reads_files_and_descriptors);
  tcase_add_test(x, event_json_round_trips);
  tcase_add_test(x, export_resumes_from_the_last_seq);
  suite_add_tcase(s, x);
  return s;
}

int main(void) { return tu_run(suite()); }
