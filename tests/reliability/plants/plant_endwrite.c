/* Planted defect "endwrite": a write transaction that appends no event
 * (a purge batch, a checkpoint) reports success when its COMMIT fails. The
 * I/O-error harness must fail (a false success). */
#include "store_internal.h"

int __real_eaudit__txn_end_write(eaudit_store *s, int rc,
                                 eaudit_event *const *evs, size_t n);
int __wrap_eaudit__txn_end_write(eaudit_store *s, int rc,
                                 eaudit_event *const *evs, size_t n);

int __wrap_eaudit__txn_end_write(eaudit_store *s, int rc,
                                 eaudit_event *const *evs, size_t n) {
  int was_ok = rc == 0;
  rc = __real_eaudit__txn_end_write(s, rc, evs, n);
  return evs == NULL && was_ok ? EAUDIT_OK : rc;
}
