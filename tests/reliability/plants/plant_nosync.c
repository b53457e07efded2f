/* Planted defect "nosync": the store is opened with synchronous=NORMAL
 * whatever the option says, so a commit is acknowledged before its WAL
 * frames are synced. The power-loss harness must fail (FULL loses
 * acknowledged events). */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

int __real_sqlite3_exec(sqlite3 *db, const char *sql,
                        int (*cb)(void *, int, char **, char **), void *arg,
                        char **err);
int __wrap_sqlite3_exec(sqlite3 *db, const char *sql,
                        int (*cb)(void *, int, char **, char **), void *arg,
                        char **err);

int __wrap_sqlite3_exec(sqlite3 *db, const char *sql,
                        int (*cb)(void *, int, char **, char **), void *arg,
                        char **err) {
  const char *p = sql ? strstr(sql, "synchronous = FULL") : NULL;
  if (p == NULL)
    return __real_sqlite3_exec(db, sql, cb, arg, err);
  char *copy = malloc(strlen(sql) + 8);
  memcpy(copy, sql, (size_t)(p - sql));
  strcpy(copy + (p - sql) + 20, p + 18);
  memcpy(copy + (p - sql), "synchronous = NORMAL", 20);
  int rc = __real_sqlite3_exec(db, copy, cb, arg, err);
  free(copy);
  return rc;
}
