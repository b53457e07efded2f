/* Planted defect "commit": an append is acknowledged without being
 * committed (its transaction is rolled back and success returned). Only
 * transactions that inserted events are affected, so stores still get
 * created. The kill -9 and power-loss harnesses must fail. */
#include "store_internal.h"

int __real_eaudit__commit(eaudit_store *s);
int __wrap_eaudit__commit(eaudit_store *s);

int __wrap_eaudit__commit(eaudit_store *s) {
  sqlite3_stmt *ins = s->stmts[EAUDIT__ST_INSERT_EVENT];
  if (ins && sqlite3_stmt_status(ins, SQLITE_STMTSTATUS_RUN, 1) > 0) {
    eaudit__rollback(s);
    return EAUDIT_OK;
  }
  return __real_eaudit__commit(s);
}
