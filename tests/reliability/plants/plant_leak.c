/* Planted defect "leak": every SQLite error path leaks a small
 * allocation. The out-of-memory harness must fail. */
#include "store_internal.h"

int __real_eaudit__sqlite_error(eaudit_store *s, int rc, const char *what);
int __wrap_eaudit__sqlite_error(eaudit_store *s, int rc, const char *what);

int __wrap_eaudit__sqlite_error(eaudit_store *s, int rc, const char *what) {
  void *lost = eaudit__malloc(24);
  (void)lost;
  return __real_eaudit__sqlite_error(s, rc, what);
}
