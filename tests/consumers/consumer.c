/* A downstream program, built against an installed libentryfy-audit.
 *
 * What it checks: that the installed headers compile in a consumer with
 * warnings as errors, that the library it was linked with (shared or static)
 * resolves and answers, and that the run-time version matches the headers
 * it was compiled with. Each entry of `checks` is one call into the
 * installed library; add one line per public function worth proving. */
#include <eaudit.h>

#include <stdio.h>
#include <string.h>

static int version_matches(void) {
  return eaudit_version_number() == EAUDIT_VERSION_NUMBER &&
         strcmp(eaudit_version_string(), EAUDIT_VERSION_STRING) == 0;
}

static int strerror_knows_codes(void) {
  return strcmp(eaudit_strerror(EAUDIT_EINVAL), "unknown error") != 0 &&
         strcmp(eaudit_strerror(12345), "unknown error") == 0;
}

static int error_last_never_null(void) {
  const eaudit_error *e = eaudit_error_last();
  return e != NULL && e->message != NULL;
}

/* Count what a query returns. */
static long count(eaudit_store *s, const eaudit_query *q) {
  eaudit_cursor *c;
  if (eaudit_store_query(s, q, &c) != 0)
    return -1;
  const eaudit_event *ev;
  long n = 0;
  int rc;
  while ((rc = eaudit_cursor_next(c, &ev)) == EAUDIT_OK)
    n++;
  eaudit_cursor_free(c);
  return rc == EAUDIT_DONE ? n : -1;
}

/* 10,000 events across 10 users and 5 doors over the past 20 days, read
 * back through the default view, a filtered query and a search, with
 * exact counts. */
static int append_and_query_10000(void) {
  eaudit_store *s;
  if (eaudit_store_open(&s, ":memory:", NULL) != 0)
    return 0;
  int ok = eaudit_store_set_user(s, 1, "Ada Admin", EAUDIT_USER_ROLE_ADMIN,
                                 EAUDIT_TIME_NONE) == 0 &&
           eaudit_store_set_name(s, EAUDIT_KIND_DOOR, 3, "Server Room",
                                 EAUDIT_TIME_NONE) == 0;
  eaudit_time now = eaudit_store_now(s);
  eaudit_batch *b;
  eaudit_batch_new(&b);
  for (int i = 0; ok && i < 10000; i++) {
    eaudit_event *ev;
    eaudit_event_new(&ev);
    eaudit_event_set(ev, EAUDIT_FIELD_TYPE,
                     i % 4 ? EAUDIT_TYPE_DOOR_OPENED
                           : EAUDIT_TYPE_DOOR_OPEN_FAILED);
    eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT,
                     now - 1000000 - (eaudit_time)i * 172800000);
    eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, 1 + i % 10);
    eaudit_event_set(ev, EAUDIT_FIELD_DOOR, 1 + i % 5);
    ok = eaudit_batch_add(b, ev) == 0;
    eaudit_event_free(ev);
  }
  ok = ok && eaudit_store_append_batch(s, b, NULL) == 0;
  eaudit_batch_free(b);
  eaudit_query *q;
  /* User 1 is i = 0 mod 10: 1,000 events, all failures at door 1. */
  ok = ok && eaudit_store_default_query(s, &q) == 0 && count(s, q) == 1000;
  eaudit_query_free(q);
  eaudit_query_new(&q);
  eaudit_query_add_type(q, EAUDIT_TYPE_DOOR_OPENED);
  eaudit_query_set_entity(q, EAUDIT_FIELD_DOOR, 2); /* i = 1 mod 5 */
  ok = ok && count(s, q) == 1500; /* of 2,000 at door 2, i = 1,3 mod 4 */
  eaudit_query_free(q);
  eaudit_query_new(&q);
  eaudit_query_set_text(q, "server room door opened"); /* door 3 */
  ok = ok && count(s, q) == 1500; /* 2,000 at door 3, a quarter failed */
  eaudit_query_free(q);
  eaudit_store_free(s);
  return ok;
}

static const struct {
  const char *name;
  int (*run)(void);
} checks[] = {
    {"version_matches", version_matches},
    {"strerror_knows_codes", strerror_knows_codes},
    {"error_last_never_null", error_last_never_null},
    {"append_and_query_10000", append_and_query_10000},
};

int main(void) {
  int failed = 0;
  for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
    int ok = checks[i].run();
    printf("%s %s\n", ok ? "ok  " : "FAIL", checks[i].name);
    failed += !ok;
  }
  return failed != 0;
}
