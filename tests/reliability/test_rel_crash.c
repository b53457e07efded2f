/* kill -9 during appends: a child appends events and reports each
 * acknowledged id; the parent kills it at a random moment, in each phase
 * in turn (child.h), and reopens the store. After every kill: PRAGMA
 * integrity_check is ok, the chain verifies link by link, every
 * acknowledged event is there, and the library opens the store and counts
 * the same events. 200 rounds; EAUDIT_LONG_TESTS=1 runs 1,000. */
#include "child.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char path[512];

START_TEST(acknowledged_events_survive_kill_9_in_every_phase) {
  tu_temp_path(path, sizeof path, "crash");
  long rounds = rel_rounds(200, 1000);
  uint64_t r = 0x2545F4914F6CDD1Dull ^ (uint64_t)getpid();
  uint8_t *acked = NULL;
  size_t n_acked = 0, cap = 0;
  long kills = 0, per_phase[REL_PHASE_COUNT] = {0};
  int64_t checked = 0;
  for (long round = 0; round < rounds; round++) {
    if (round % 40 == 0) { /* a fresh store now and then keeps rounds quick */
      tu_remove_store(path);
      n_acked = 0;
    }
    int phase = (int)(round % REL_PHASE_COUNT);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    r ^= r << 13;
    r ^= r >> 7;
    r ^= r << 17;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      rel_child_writer(path, phase, EAUDIT_SYNC_FULL, fds[1], 1000000, r,
                       NULL);
    }
    close(fds[1]);
    /* 0..30 ms: opening, mid-call and between calls all get hit. */
    struct timespec d = {0, (long)(r % 30000) * 1000};
    nanosleep(&d, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    int err = rel_read_acks(fds[0], &acked, &n_acked, &cap);
    close(fds[0]);
    ck_assert_msg(!err, "round %ld (%s): the writer failed before the kill",
                  round, rel_phase_name(phase));
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      kills++;
      per_phase[phase]++;
    }
    if (access(path, F_OK) != 0) {
      ck_assert_int_eq(n_acked, 0); /* killed before the file existed */
      continue;
    }
    /* The library reopens it first (a kill during creation leaves a file
     * with no schema yet, which the next open completes). */
    eaudit_store *s;
    EA_OK(eaudit_store_open(&s, path, NULL));
    int64_t count;
    EA_OK(eaudit_store_event_count(s, &count));
    eaudit_store_free(s);
    rel_check c;
    rel_check_store(path, &c);
    ck_assert_int_eq(count, c.events);
    ck_assert_msg(c.ok, "round %ld (%s): %s", round, rel_phase_name(phase),
                  c.why);
    int64_t found = rel_count_ids(path, acked, n_acked);
    ck_assert_msg(found == (int64_t)n_acked,
                  "round %ld (%s): %lld of %zu acknowledged events missing",
                  round, rel_phase_name(phase), (long long)n_acked - found,
                  n_acked);
    ck_assert_int_ge(c.events, (int64_t)n_acked);
    checked += (int64_t)n_acked;
  }
  free(acked);
  rel_figure("crash", "rounds=%ld kills=%ld append=%ld batch=%ld "
             "wal_checkpoint=%ld time_zone=%ld acked_events_checked=%lld "
             "findings=0",
             rounds, kills, per_phase[0], per_phase[1], per_phase[2],
             per_phase[3], (long long)checked);
  ck_assert_int_gt(kills, 0);
  tu_remove_store(path);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rel_crash");
  TCase *tc = tcase_create("crash");
  tcase_set_timeout(tc, 3600);
  tcase_add_test(tc, acknowledged_events_survive_kill_9_in_every_phase);
  suite_add_tcase(s, tc);
  return tu_run(s);
}
