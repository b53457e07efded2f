/* Contention: 8 processes x 4 threads, each thread with its own handle,
 * x 1,000 appends (10,000 with EAUDIT_LONG_TESTS=1) on one store file.
 * Exact event counts per writer, one linear chain, and no EBUSY reaching
 * a caller within the configured busy timeout (the default, 5 s). */
#include "rel.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROCS 8
#define THREADS 4

static char path[512];
static long per_thread;

typedef struct writer {
  int proc, thread;
  int failures, busy;
  char why[256];
} writer;

static void *thread_main(void *arg) {
  writer *w = arg;
  eaudit_store *s = NULL;
  if (eaudit_store_open(&s, path, NULL)) {
    snprintf(w->why, sizeof w->why, "open: %s", eaudit_error_last()->message);
    w->failures++;
    return NULL;
  }
  int64_t subject = 1000 + w->proc * THREADS + w->thread;
  eaudit_event *ev = rel_event(subject, tu_utc(2026, 1, 1, 0, 0, 0), 1);
  for (long i = 0; i < per_thread; i++) {
    eaudit_event_reset(ev);
    eaudit_event_set(ev, EAUDIT_FIELD_TYPE, EAUDIT_TYPE_DOOR_OPENED);
    eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, subject);
    eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT,
                     tu_utc(2026, 1, 1, 0, 0, 0) + i * 1000);
    int rc = eaudit_store_append(s, ev);
    if (rc) {
      if (rc == EAUDIT_EBUSY)
        w->busy++;
      if (w->failures++ == 0)
        snprintf(w->why, sizeof w->why, "append %ld: %d %s", i, rc,
                 eaudit_error_last()->message);
    }
  }
  eaudit_event_free(ev);
  eaudit_store_free(s);
  return NULL;
}

static int proc_main(int proc) {
  pthread_t t[THREADS];
  writer w[THREADS] = {{0}};
  for (int i = 0; i < THREADS; i++) {
    w[i].proc = proc;
    w[i].thread = i;
    if (pthread_create(&t[i], NULL, thread_main, &w[i]))
      return 3;
  }
  int bad = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    if (w[i].failures) {
      fprintf(stderr, "process %d thread %d: %d failures (%d busy): %s\n",
              proc, i, w[i].failures, w[i].busy, w[i].why);
      bad = 1;
    }
  }
  return bad;
}

START_TEST(writers_in_processes_and_threads_share_one_linear_chain) {
  tu_temp_path(path, sizeof path, "contention");
  per_thread = rel_rounds(1000, 10000);
  /* Created first, so that the writers race on appends, not creation. */
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  eaudit_store_free(s);
  pid_t pids[PROCS];
  for (int p = 0; p < PROCS; p++) {
    pids[p] = fork();
    ck_assert_int_ge(pids[p], 0);
    if (pids[p] == 0)
      _exit(proc_main(p));
  }
  int failed = 0;
  for (int p = 0; p < PROCS; p++) {
    int status;
    ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
    failed |= !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  ck_assert_msg(!failed, "a writer failed (see stderr)");
  rel_check c;
  rel_check_store(path, &c);
  ck_assert_msg(c.ok, "%s", c.why);
  int64_t total = (int64_t)PROCS * THREADS * per_thread;
  ck_assert_int_eq(c.events, total);
  ck_assert_int_eq(c.last_seq, total);
  /* Exactly per_thread events for each writer. */
  sqlite3 *db;
  ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
                   SQLITE_OK);
  sqlite3_stmt *st;
  ck_assert_int_eq(
      sqlite3_prepare_v2(db, "SELECT subject, count(*) FROM events GROUP BY "
                             "subject ORDER BY subject", -1, &st, NULL),
      SQLITE_OK);
  int writers = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    ck_assert_int_eq(sqlite3_column_int64(st, 0), 1000 + writers);
    ck_assert_int_eq(sqlite3_column_int64(st, 1), per_thread);
    writers++;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  ck_assert_int_eq(writers, PROCS * THREADS);
  rel_figure("contention", "processes=%d threads=%d appends_per_thread=%ld "
             "events=%lld busy=0 findings=0", PROCS, THREADS, per_thread,
             (long long)total);
  tu_remove_store(path);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rel_contention");
  TCase *tc = tcase_create("contention");
  tcase_set_timeout(tc, 3600);
  tcase_add_test(tc, writers_in_processes_and_threads_share_one_linear_chain);
  suite_add_tcase(s, tc);
  return tu_run(s);
}
