/* The rule-set parser (eaudit_store_check_rules, eaudit_store_set_rules):
 * any bytes are a valid rule set or refused with EAUDIT_ERULES and a
 * message, never a crash. A set that checks also installs; the effective
 * set the store gives back checks and installs again and is then given
 * back byte-identical (a fixed point), and the store still takes events. */
#include "fuzz.h"
#include "eaudit.h"

#include <stdlib.h>
#include <string.h>

static int64_t now_us = INT64_C(1793000000000000);
static eaudit_time clock_fn(void *p) {
  (void)p;
  return now_us += 1000;
}

static void append_some(eaudit_store *s) {
  for (int i = 0; i < 4; i++) {
    eaudit_event *ev = NULL;
    if (eaudit_event_new(&ev) ||
        eaudit_event_set(ev, EAUDIT_FIELD_TYPE,
                         i & 1 ? EAUDIT_TYPE_DOOR_OPEN_FAILED
                               : EAUDIT_TYPE_DOOR_OPENED) ||
        eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, now_us - 60000000 + i) ||
        eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, 42) ||
        eaudit_event_set(ev, EAUDIT_FIELD_DOOR, 7) ||
        (i & 1 && eaudit_event_set(ev, EAUDIT_FIELD_REASON,
                                   EAUDIT_REASON_NO_PERMISSION)) ||
        eaudit_store_append(s, ev))
      abort();
    eaudit_event_free(ev);
  }
}

/* For speed one in-memory store serves REUSE inputs: each input's checks
 * compare with the state just before it (the rule set in force, its
 * version), which the previous input may have set. */
#define REUSE 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static eaudit_store *s;
  static int uses;
  if (uses++ % REUSE == 0) {
    eaudit_store_free(s);
    eaudit_options *o = NULL;
    if (eaudit_options_new(&o) ||
        eaudit_options_set_clock(o, clock_fn, NULL) ||
        eaudit_store_open(&s, ":memory:", o))
      abort();
    eaudit_options_free(o);
  }
  const char *json = size ? (const char *)data : "";
  eaudit_error_clear();
  int checked = eaudit_store_check_rules(s, json, size);
  FUZZ_CHECK(checked == 0 || (checked == EAUDIT_ERULES &&
                               eaudit_error_last()->message[0] != '\0'),
             "a bad rule set refused without ERULES and a message");
  int64_t v0 = -1, v1 = -1;
  if (eaudit_store_rules_version(s, &v0))
    abort();
  int set = eaudit_store_set_rules(s, json, size, 1);
  FUZZ_CHECK(set == checked, "check and set disagree");
  FUZZ_CHECK(eaudit_store_rules_version(s, &v1) == 0 && v1 == v0 + (set == 0),
             "the rules version did not move by one exactly on success");
  if (set == 0) {
    char *eff = NULL, *again = NULL;
    FUZZ_CHECK(eaudit_store_rules(s, &eff) == 0 &&
                   eaudit_store_check_rules(s, eff, strlen(eff)) == 0 &&
                   eaudit_store_set_rules(s, eff, strlen(eff), 1) == 0 &&
                   eaudit_store_rules(s, &again) == 0 &&
                   strcmp(eff, again) == 0,
               "the effective rule set is not a fixed point");
    eaudit_free(eff);
    eaudit_free(again);
    append_some(s);
  }
  return 0;
}
