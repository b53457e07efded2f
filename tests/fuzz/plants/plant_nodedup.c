/* Planted defect "nodedup": import no longer sees that an event is already
 * stored (its lookup finds nothing), so importing a file again (resuming an
 * interrupted import) tries to add every event a second time. The import
 * harness must fail its "import again adds nothing" check. */
#include <sqlite3.h>
#include <string.h>

int __real_sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n,
                              sqlite3_stmt **st, const char **tail);
int __wrap_sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n,
                              sqlite3_stmt **st, const char **tail);

int __wrap_sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n,
                              sqlite3_stmt **st, const char **tail) {
  if (sql && strcmp(sql, "SELECT 1 FROM events WHERE id = ?1") == 0)
    sql = "SELECT 1 WHERE ?1 IS NULL AND 0";
  return __real_sqlite3_prepare_v2(db, sql, n, st, tail);
}
