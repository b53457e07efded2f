/* Planted defect "errmap": SQLite errors lose their meaning (all become
 * EAUDIT_ERROR). The disk-full harness must fail (no distinct EFULL). */
#include "store_internal.h"

int __real_eaudit__sqlite_error(eaudit_store *s, int rc, const char *what);
int __wrap_eaudit__sqlite_error(eaudit_store *s, int rc, const char *what);

int __wrap_eaudit__sqlite_error(eaudit_store *s, int rc, const char *what) {
  (void)__real_eaudit__sqlite_error(s, rc, what);
  return eaudit__error(EAUDIT_ERROR, EAUDIT_ECLASS_SQLITE, rc, "%s failed",
                       what);
}
