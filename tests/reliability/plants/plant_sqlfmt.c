/* Planted defect "sqlfmt": a text value is formatted into SQL text (as a
 * quoted literal) besides being bound. The hostile-input harness must
 * fail: its marker shows up in the traced SQL. */
#include <sqlite3.h>
#include <stddef.h>

int __real_sqlite3_bind_text(sqlite3_stmt *st, int i, const char *v, int n,
                             void (*d)(void *));
int __wrap_sqlite3_bind_text(sqlite3_stmt *st, int i, const char *v, int n,
                             void (*d)(void *));

int __wrap_sqlite3_bind_text(sqlite3_stmt *st, int i, const char *v, int n,
                             void (*d)(void *)) {
  if (v && n < 0) {
    char *sql = sqlite3_mprintf("SELECT length(%Q)", v);
    sqlite3_exec(sqlite3_db_handle(st), sql, NULL, NULL, NULL);
    sqlite3_free(sql);
  }
  return __real_sqlite3_bind_text(st, i, v, n, d);
}
