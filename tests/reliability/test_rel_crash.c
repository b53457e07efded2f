/* kill -9 during appends: a child appends events and reports each
 * acknowledged id; the parent kills it at a random moment, in each phase
 * in turn (child.h: appends, batches, WAL checkpoints, time-zone changes,
 * signed checkpoints, purges), and reopens the store. After every kill:
 * PRAGMA integrity_check is ok, the chain verifies link by link and by
 * eaudit_store_verify() (checkpoint signatures included), every
 * acknowledged event is there except a prefix that a purge removed (up to
 * the retention anchor), and the library opens the store and counts the
 * same events. 200 rounds; EAUDIT_LONG_TESTS=1 runs 1,000. */
#include "child.h"
#include "ops.h"

#include <sqlite3.h>
#include <poll.h>
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
  int64_t checked = 0, purged = 0, checkpoints = 0, purged_acked = 0;
  int64_t anchor = 0, cps = 0;
  uint8_t pk[32];
  EA_OK(eaudit_signing_public_key(rel_ops_key, 32, pk));
  rel_trusted_key = pk;
  long extra = 0, round = 0;
  for (;; round++) {
    int phase = (int)(round % REL_PHASE_COUNT);
    if (round >= rounds) {
      /* On a loaded machine the writers get little done before the kill:
       * if no purge or no checkpoint happened yet, a few more rounds of
       * that phase (counted, at most 60). */
      int need_purge = purged + anchor == 0, need_cp = checkpoints + cps == 0;
      if ((!need_purge && !need_cp) || extra == 60)
        break;
      extra++;
      phase = need_purge ? REL_PHASE_PURGE : REL_PHASE_CHECKPOINT;
    }
    if (round % 40 == 0 && round < rounds) { /* a fresh store now and then
                                                keeps rounds quick */
      tu_remove_store(path);
      n_acked = 0;
      purged += anchor;
      checkpoints += cps;
      anchor = cps = 0;
    }
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
    /* Every other round the clock starts at the first acknowledgement
     * rather than at the fork, so that on a loaded machine the writers
     * still get past opening the store. */
    if (round % 2 == 1) {
      struct pollfd p = {fds[0], POLLIN, 0};
      (void)poll(&p, 1, 5000);
    }
    /* 0..30 ms: opening, mid-call and between calls all get hit; the
     * checkpoint and purge phases get 5..60 ms to reach their calls. */
    long us = phase >= REL_PHASE_CHECKPOINT ? 5000 + (long)(r % 55000)
                                            : (long)(r % 30000);
    struct timespec d = {0, us * 1000};
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
    ck_assert_msg(c.ok, "round %ld (%s): %s", round, rel_phase_name(phase),
                  c.why);
    ck_assert_int_eq(count, c.events);
    /* Acknowledged ids are in seq order (one store): a purge removes a
     * prefix of them, nothing else may be missing. */
    anchor = rel_sql_int(path, "SELECT coalesce((SELECT seq FROM anchor), 0)");
    cps = rel_sql_int(path, "SELECT coalesce(max(cseq), 0) FROM checkpoints");
    size_t gone = rel_absent_prefix(path, acked, n_acked);
    int64_t found = rel_count_ids(path, acked, n_acked);
    ck_assert_msg(found == (int64_t)(n_acked - gone),
                  "round %ld (%s): %lld of %zu acknowledged events missing",
                  round, rel_phase_name(phase),
                  (long long)(n_acked - gone) - found, n_acked);
    ck_assert_msg(gone == 0 || anchor >= (int64_t)gone,
                  "round %ld (%s): %zu acknowledged events gone but the "
                  "anchor is at seq %lld: acknowledged events missing",
                  round, rel_phase_name(phase), gone, (long long)anchor);
    ck_assert_int_ge(c.events, (int64_t)(n_acked - gone));
    checked += (int64_t)n_acked;
    if (phase == REL_PHASE_PURGE)
      purged_acked += (int64_t)gone;
  }
  purged += anchor;
  checkpoints += cps;
  free(acked);
  rel_figure("crash", "rounds=%ld extra_rounds=%ld kills=%ld append=%ld "
             "batch=%ld wal_checkpoint=%ld time_zone=%ld checkpoint=%ld "
             "purge=%ld acked_events_checked=%lld checkpoints_written=%lld "
             "events_purged=%lld findings=0",
             round, extra, kills, per_phase[0], per_phase[1], per_phase[2],
             per_phase[3], per_phase[4], per_phase[5], (long long)checked,
             (long long)checkpoints, (long long)purged);
  (void)purged_acked;
  ck_assert_int_gt(kills, 0);
  /* The checkpoint and purge phases did their work. */
  ck_assert_int_gt(checkpoints, 0);
  ck_assert_int_gt(purged, 0);
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
