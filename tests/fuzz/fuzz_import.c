/* JSON Lines import (eaudit_store_import): any bytes are imported without
 * a crash. Bad lines are rejected and listed, never a failure of the call;
 * the counts add up and match the events stored; importing the same bytes
 * again adds nothing; what was imported exports and imports into another
 * store in full. Small batches (3 events) so that batch edges are hit.
 *
 * For speed the two in-memory stores live for REUSE inputs (the checks use
 * differences, so they hold whatever earlier inputs stored); the chain is
 * verified with eaudit_store_verify() every 4th input and before a store
 * is dropped. A finding that needs that history reproduces by replaying the
 * inputs before it as well; most need only the one input. */
#include "fuzz.h"
#include "eaudit.h"

#include <stdlib.h>
#include <string.h>

static int64_t now_us = INT64_C(1793000000000000); /* 2026-10-26 */
static eaudit_time clock_fn(void *p) {
  (void)p;
  return now_us += 1000;
}
static uint64_t seed;
static int random_fn(uint8_t *b, size_t n, void *p) {
  (void)p;
  for (size_t i = 0; i < n; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    b[i] = (uint8_t)(seed >> 56);
  }
  return 0;
}

static eaudit_store *open_mem(void) {
  eaudit_options *o = NULL;
  eaudit_store *s = NULL;
  if (eaudit_options_new(&o) || eaudit_options_set_clock(o, clock_fn, NULL) ||
      eaudit_options_set_random(o, random_fn, NULL) ||
      eaudit_options_set_str(o, EAUDIT_OPT_TIME_ZONE, "Europe/Berlin") ||
      eaudit_store_open(&s, ":memory:", o))
    abort();
  eaudit_options_free(o);
  return s;
}

typedef struct counts {
  uint64_t lines, appended, skipped, rejected, unknown;
} counts;

static void import(eaudit_store *s, const void *data, size_t size,
                   eaudit_report_options *o, counts *k) {
  eaudit_source *src = NULL;
  eaudit_import_result *r = NULL;
  if (eaudit_source_from_buffer(&src, data ? data : "", size))
    abort();
  int rc = eaudit_store_import(s, src, o, &r);
  /* Bad lines are not failures; a buffer source cannot fail. */
  FUZZ_CHECK(rc == 0, "import failed");
  if (eaudit_import_result_counts(r, &k->lines, &k->appended, &k->skipped,
                                  &k->rejected, &k->unknown))
    abort();
  FUZZ_CHECK(k->appended + k->skipped + k->rejected <= k->lines &&
                 eaudit_import_result_bad_count(r) == k->rejected,
             "import counts do not add up");
  uint64_t prev = 0;
  for (size_t i = 0; i < eaudit_import_result_bad_count(r); i++) {
    uint64_t line = 0;
    int code = 0;
    const char *reason = NULL;
    FUZZ_CHECK(eaudit_import_result_bad_at(r, i, &line, &code, &reason) == 0 &&
                   line > prev && line <= k->lines && code < 0 &&
                   reason != NULL && reason[0] != '\0',
               "a rejected line without its number, code or reason");
    prev = line;
  }
  eaudit_import_result_free(r);
  eaudit_source_free(src);
}

static int64_t event_count(eaudit_store *s) {
  int64_t n = -1;
  if (eaudit_store_event_count(s, &n))
    abort();
  return n;
}

static void verify(eaudit_store *s) {
  eaudit_verify_result *v = NULL;
  FUZZ_CHECK(eaudit_store_verify(s, 0, NULL, NULL, 0, EAUDIT_VERIFY_NO_RECORD,
                                 &v) == 0 &&
                 eaudit_verify_result_ok(v),
             "the store does not verify after import");
  eaudit_verify_result_free(v);
}

typedef struct membuf {
  char *data;
  size_t len;
} membuf;
static int mem_write(const void *buf, size_t len, void *p) {
  membuf *m = p;
  char *d = realloc(m->data, m->len + len + 1);
  if (d == NULL)
    return -1;
  memcpy(d + m->len, buf, len);
  m->data = d;
  m->len += len;
  return 0;
}

#define REUSE 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static eaudit_store *s, *t;
  static int uses;
  if (uses++ % REUSE == 0) {
    if (s) {
      verify(s);
      verify(t);
      eaudit_store_free(s);
      eaudit_store_free(t);
    }
    s = open_mem();
    t = open_mem();
  }
  eaudit_report_options *o = NULL;
  if (eaudit_report_options_new(&o) ||
      eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_IMPORT_BATCH, 3))
    abort();
  counts a, b;
  int64_t n0 = event_count(s); /* = the head seq: nothing is purged */
  import(s, data, size, o, &a);
  FUZZ_CHECK(event_count(s) == n0 + (int64_t)a.appended,
             "events stored differ from events appended");
  if (uses % 4 == 1)
    verify(s);
  /* Again: every line is already stored or rejected as before. */
  import(s, data, size, o, &b);
  FUZZ_CHECK(b.appended == 0 && b.skipped == a.appended + a.skipped &&
                 b.rejected == a.rejected && b.lines == a.lines &&
                 event_count(s) == n0 + (int64_t)a.appended,
             "importing the same bytes again changed something");
  /* What was stored exports and imports elsewhere, all of it. */
  if (a.appended > 0) {
    membuf m = {NULL, 0};
    eaudit_sink *k = NULL;
    eaudit_report_options *eo = NULL;
    int64_t last = 0;
    if (eaudit_sink_from_callback(&k, mem_write, &m) ||
        eaudit_report_options_new(&eo) ||
        eaudit_report_options_set_int(eo, EAUDIT_REPORT_OPT_FORMAT,
                                      EAUDIT_FORMAT_JSONL) ||
        eaudit_report_options_set_int(eo, EAUDIT_REPORT_OPT_RECORD, 0) ||
        eaudit_store_export(s, n0, eo, k, &last) ||
        eaudit_sink_flush(k))
      abort();
    eaudit_sink_free(k);
    eaudit_report_options_free(eo);
    int64_t t0 = event_count(t);
    counts c;
    import(t, m.data, m.len, o, &c);
    FUZZ_CHECK(c.lines == a.appended && c.appended + c.skipped == a.appended &&
                   c.rejected == 0 && event_count(t) == t0 + (int64_t)c.appended &&
                   last == n0 + (int64_t)a.appended,
               "exported events do not import elsewhere in full");
    free(m.data);
  }
  eaudit_report_options_free(o);
  return 0;
}
