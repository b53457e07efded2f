/* Planted defect "overpurge": the purge's DELETE is off by one and also
 * removes the first event after the new retention anchor. The kill -9
 * harness (purge phase) must fail: a gap in the chain, or the next purge
 * refusing to go on. */
#include <sqlite3.h>
#include <string.h>

int __real_sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n,
                              sqlite3_stmt **st, const char **tail);
int __wrap_sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n,
                              sqlite3_stmt **st, const char **tail);

int __wrap_sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n,
                              sqlite3_stmt **st, const char **tail) {
  if (sql && strcmp(sql, "DELETE FROM events WHERE seq > ?1 AND seq <= ?2") ==
                 0)
    sql = "DELETE FROM events WHERE seq > ?1 AND seq <= ?2 + 1";
  return __real_sqlite3_prepare_v2(db, sql, n, st, tail);
}
