/* I/O-error loop: the VFS shim fails the k-th file operation, once and
 * then persistently, for k = 1, 2, ... through every public write call
 * (ops.c), until the call runs without reaching k. Each faulted call must
 * return an error or have done all its work (never a false success), leave
 * its effect all there or all gone, and the handle must close and the store
 * reopen with a verifying chain. */
#include "faultvfs.h"
#include "ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmpl[512], path[512];

static void check_one(const rel_op *op, int persistent, long *faults,
                      long *calls, long *errors) {
  for (long k = 1;; k++) {
    eaudit_store *s = NULL;
    if (!op->opens) {
      rel_copy_file(tmpl, path);
      EA_OK(rel_ops_open(&s, path));
    }
    fv_arm(k, persistent);
    eaudit_error_clear();
    int rc = op->run(s, path);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", eaudit_error_last()->message);
    eaudit_store_free(s); /* still faulting when persistent */
    long injected = fv_faults();
    fv_disarm();
    (*calls)++;
    int out = op->outcome(path);
    if (injected == 0) {
      ck_assert_msg(rc == 0, "%s without a fault -> %d (%s)", op->name, rc, msg);
      ck_assert_msg(out == REL_PRESENT, "%s without a fault: outcome %d",
                    op->name, out);
      break;
    }
    *faults += injected;
    if (rc == 0)
      ck_assert_msg(out == REL_PRESENT,
                    "%s k=%ld%s: false success (outcome %d)", op->name, k,
                    persistent ? " persistent" : "", out);
    else {
      (*errors)++;
      ck_assert_msg(rc == EAUDIT_EIO || rc == EAUDIT_ECORRUPT,
                    "%s k=%ld%s: unexpected code %d (%s)", op->name, k,
                    persistent ? " persistent" : "", rc, msg);
      ck_assert_msg(msg[0] != '\0', "%s: empty message", op->name);
      ck_assert_msg(out != REL_PARTIAL, "%s k=%ld%s: partial effect (%s)",
                    op->name, k, persistent ? " persistent" : "", msg);
    }
    rel_check c;
    if (out != REL_ABSENT || !op->opens) {
      rel_check_store(path, &c);
      ck_assert_msg(c.ok, "%s k=%ld%s: store damaged after rc %d: %s",
                    op->name, k, persistent ? " persistent" : "", rc, c.why);
    }
    ck_assert_msg(k < 100000, "%s never ran without a fault", op->name);
  }
}

START_TEST(every_write_call_fails_cleanly_at_every_file_operation) {
  tu_temp_path(tmpl, sizeof tmpl, "ioerr-tmpl");
  tu_temp_path(path, sizeof path, "ioerr");
  rel_ops_template(tmpl);
  fv_register();
  long total_faults = 0, total_calls = 0, total_errors = 0, n_ops = 0;
  const char *only = getenv("EAUDIT_REL_OP"); /* one call (planted tests) */
  for (size_t i = 0; i < rel_n_ops; i++) {
    const rel_op *op = &rel_ops[i];
    if (!op->writes || (only && strcmp(only, op->name) != 0))
      continue;
    n_ops++;
    for (int persistent = 0; persistent <= 1; persistent++) {
      long faults = 0, calls = 0, errors = 0;
      check_one(op, persistent, &faults, &calls, &errors);
      rel_figure("ioerr", "call=%s mode=%s calls=%ld faults=%ld errors=%ld",
                 op->name, persistent ? "persistent" : "once", calls, faults,
                 errors);
      ck_assert_msg(faults > 0, "%s injected no fault", op->name);
      total_faults += faults;
      total_calls += calls;
      total_errors += errors;
    }
  }
  rel_figure("ioerr", "total write_calls=%ld calls=%ld faults=%ld errors=%ld "
             "findings=0", n_ops, total_calls, total_faults, total_errors);
  ck_assert_int_gt(total_faults, 0);
  tu_remove_store(tmpl);
  tu_remove_store(path);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rel_ioerr");
  TCase *tc = tcase_create("ioerr");
  tcase_set_timeout(tc, 1200);
  tcase_add_test(tc, every_write_call_fails_cleanly_at_every_file_operation);
  suite_add_tcase(s, tc);
  return tu_run(s);
}
