/* Planted defect "busy": no busy handler is installed, so a writer that
 * finds the lock taken fails at once. The contention harness must fail. */
#include <sqlite3.h>

int __wrap_sqlite3_busy_handler(sqlite3 *db, int (*fn)(void *, int), void *a);

int __wrap_sqlite3_busy_handler(sqlite3 *db, int (*fn)(void *, int), void *a) {
  (void)db;
  (void)fn;
  (void)a;
  return SQLITE_OK;
}
