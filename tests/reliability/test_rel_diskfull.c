/* Disk full: SQLITE_FULL reproduced with PRAGMA max_page_count, and with a
 * real ENOSPC on a 1 MiB tmpfs when this process may mount one (root). The
 * append fails with EAUDIT_EFULL (class SQLITE, detail SQLITE_FULL),
 * nothing of it is written (a batch neither), the chain is intact, and
 * appends resume once space returns. */
#include "rel.h"
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static long fulls;

/* Append until the store is full; check the failure; return the count of
 * events stored. */
static int64_t fill(eaudit_store *s, const char *path) {
  static char big[8000];
  memset(big, 'x', sizeof big);
  memcpy(big, "{\"pad\":\"", 8);
  memcpy(big + sizeof big - 2, "\"}", 2);
  int64_t before = 0;
  for (int i = 0;; i++) {
    EA_OK(eaudit_store_event_count(s, &before));
    eaudit_batch *b;
    EA_OK(eaudit_batch_new(&b));
    for (int k = 0; k < 1 + i % 3; k++) {
      eaudit_event *ev = rel_event(42, tu_utc(2026, 1, 1, 0, 0, 0) + i, 0);
      EA_OK(eaudit_event_set_details(ev, big, sizeof big));
      EA_OK(eaudit_batch_add(b, ev));
      eaudit_event_free(ev);
    }
    int rc = eaudit_store_append_batch(s, b, NULL);
    if (rc == 0) {
      eaudit_batch_free(b);
      ck_assert_msg(i < 100000, "never full");
      continue;
    }
    const eaudit_error *e = eaudit_error_last();
    ck_assert_msg(rc == EAUDIT_EFULL, "full store gave %d (%s)", rc, e->message);
    ck_assert_int_eq(e->klass, EAUDIT_ECLASS_SQLITE);
    ck_assert_int_eq(e->detail & 0xff, 13 /* SQLITE_FULL */);
    ck_assert_ptr_null(eaudit_event_hash(eaudit_batch_get(b, 0)));
    ck_assert(!eaudit_event_has(eaudit_batch_get(b, 0), EAUDIT_FIELD_SEQ));
    eaudit_batch_free(b);
    fulls++;
    break;
  }
  int64_t after;
  EA_OK(eaudit_store_event_count(s, &after));
  ck_assert_int_eq(after, before); /* nothing partial */
  rel_check c;
  rel_check_store(path, &c);
  ck_assert_msg(c.ok, "%s", c.why);
  ck_assert_int_eq(c.events, after);
  return after;
}

START_TEST(max_page_count_full_is_efull_and_appends_resume) {
  char path[512];
  tu_temp_path(path, sizeof path, "full");
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  tu_append_doors(s, 10, 1, 1, tu_utc(2026, 1, 1, 0, 0, 0), 1000);
  for (int round = 0; round < 3; round++) {
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(s->db, "PRAGMA page_count", -1, &st,
                                        NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t pages = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld",
             (long long)pages + 40);
    ck_assert_int_eq(sqlite3_exec(s->db, sql, NULL, NULL, NULL), SQLITE_OK);
    int64_t n = fill(s, path);
    /* Space returns: appends resume and the chain goes on. */
    ck_assert_int_eq(sqlite3_exec(s->db, "PRAGMA max_page_count = 1073741823",
                                  NULL, NULL, NULL), SQLITE_OK);
    tu_append_doors(s, 5, 2, 2, tu_utc(2026, 2, 1, 0, 0, 0), 1000);
    int64_t m;
    EA_OK(eaudit_store_event_count(s, &m));
    ck_assert_int_eq(m, n + 5);
  }
  eaudit_store_free(s);
  rel_check c;
  rel_check_store(path, &c);
  ck_assert_msg(c.ok, "%s", c.why);
  rel_figure("diskfull", "variant=max_page_count fills=3 efull=%ld findings=0",
             fulls);
  tu_remove_store(path);
}
END_TEST

START_TEST(a_full_file_system_is_efull_and_appends_resume) {
  char dir[512];
  snprintf(dir, sizeof dir, "/tmp/eaudit-full-%ld", (long)getpid());
  mkdir(dir, 0700);
  if (mount("tmpfs", dir, "tmpfs", 0, "size=1m") != 0) {
    rmdir(dir);
    rel_figure("diskfull", "variant=tmpfs skipped=not-permitted");
    return; /* not root, or no mount namespace: max_page_count covers it */
  }
  char path[600];
  snprintf(path, sizeof path, "%s/store.db", dir);
  long before = fulls;
  /* Ballast that is removed later, to give space back. */
  char ballast[600];
  snprintf(ballast, sizeof ballast, "%s/ballast", dir);
  FILE *f = fopen(ballast, "w");
  ck_assert_ptr_nonnull(f);
  static char zeros[256 * 1024];
  ck_assert_int_eq(fwrite(zeros, 1, sizeof zeros, f), sizeof zeros);
  fclose(f);
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  tu_append_doors(s, 10, 1, 1, tu_utc(2026, 1, 1, 0, 0, 0), 1000);
  int64_t n = fill(s, path);
  /* Space returns: the ballast is removed; appends resume. */
  ck_assert_int_eq(unlink(ballast), 0);
  tu_append_doors(s, 5, 2, 2, tu_utc(2026, 2, 1, 0, 0, 0), 1000);
  int64_t m;
  EA_OK(eaudit_store_event_count(s, &m));
  ck_assert_int_eq(m, n + 5);
  eaudit_store_free(s);
  rel_check c;
  rel_check_store(path, &c);
  ck_assert_msg(c.ok, "%s", c.why);
  ck_assert_int_eq(umount2(dir, MNT_DETACH), 0);
  rmdir(dir);
  rel_figure("diskfull", "variant=tmpfs-1MiB events_at_full=%lld efull=%ld "
             "findings=0", (long long)n, fulls - before);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rel_diskfull");
  TCase *tc = tcase_create("diskfull");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, max_page_count_full_is_efull_and_appends_resume);
  tcase_add_test(tc, a_full_file_system_is_efull_and_appends_resume);
  suite_add_tcase(s, tc);
  return tu_run(s);
}
