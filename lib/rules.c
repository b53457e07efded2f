/* The anomaly rules engine (docs/rules.md). */
#include "store_internal.h"

const char eaudit__rules_schema[] = "";

int eaudit__rules_on_event(eaudit_store *s, eaudit_event *ev) {
  (void)s;
  (void)ev;
  return EAUDIT_OK;
}

void eaudit__rules_after_txn(eaudit_store *s, int committed) {
  (void)s;
  (void)committed;
}

void eaudit__rules_free(eaudit_store *s) { (void)s; }
