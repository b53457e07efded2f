/* Planted defect "commitrc": a failed COMMIT of an append is reported as
 * success. The I/O-error harness must fail (a false success). */
#include "store_internal.h"

int __real_eaudit__commit(eaudit_store *s);
int __wrap_eaudit__commit(eaudit_store *s);

int __wrap_eaudit__commit(eaudit_store *s) {
  sqlite3_stmt *ins = s->stmts[EAUDIT__ST_INSERT_EVENT];
  int appending = ins && sqlite3_stmt_status(ins, SQLITE_STMTSTATUS_RUN, 1) > 0;
  int rc = __real_eaudit__commit(s);
  return appending ? EAUDIT_OK : rc;
}
