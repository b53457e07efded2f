/* Lost unsynced writes: the VFS shim (faultvfs.h) loses power at a chosen
 * sync in a writer child: every write not yet synced is undone, or
 * overwritten with garbage, and the child dies there. With
 * synchronous=FULL no acknowledged event is lost; with NORMAL only a tail
 * of them may be, and in both the store passes integrity_check and its
 * chain verifies. */
#include "child.h"
#include "faultvfs.h"
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define POWER_LOSS_EXIT 77

static char tmpl[512], path[512];

static void small_wal(eaudit_store *s) {
  /* Checkpoints (and so syncs) every few appends, also under NORMAL. */
  sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint = 16", NULL, NULL, NULL);
}

static void run(int sync, int garbage) {
  const char *mode = sync == EAUDIT_SYNC_FULL ? "full" : "normal";
  const char *how = garbage ? "garbage" : "discard";
  tu_temp_path(tmpl, sizeof tmpl, "pl-tmpl");
  tu_temp_path(path, sizeof path, "pl");
  {
    eaudit_store *s;
    EA_OK(eaudit_store_open(&s, tmpl, NULL));
    tu_append_doors(s, 10, 1, 1, tu_utc(2026, 1, 1, 0, 0, 0), 1000);
    eaudit_store_free(s);
  }
  long rounds = rel_rounds(60, 300), losses = 0, lost_acked = 0;
  int64_t checked = 0;
  uint64_t r = 0x9E3779B97F4A7C15ull;
  uint8_t *acked = NULL;
  size_t cap = 0;
  for (long round = 0; round < rounds; round++) {
    size_t n_acked = 0;
    rel_copy_file(tmpl, path);
    r ^= r << 13;
    r ^= r >> 7;
    r ^= r << 17;
    int phase = (int)(round % 2) ? REL_PHASE_BATCH : REL_PHASE_APPEND;
    long at = 1 + (long)(r % 40);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      fv_register();
      fv_power_loss_at_sync(at, garbage, POWER_LOSS_EXIT);
      rel_child_writer(path, phase, sync, fds[1], 5000, r, small_wal);
    }
    close(fds[1]);
    /* Read to EOF first: a writer blocked on a full pipe never exits. */
    int err = rel_read_acks(fds[0], &acked, &n_acked, &cap);
    close(fds[0]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(!err, "%s/%s round %ld: the writer failed", mode, how,
                  round);
    int lost_power = WIFEXITED(status) && WEXITSTATUS(status) == POWER_LOSS_EXIT;
    ck_assert_msg(lost_power || (WIFEXITED(status) && WEXITSTATUS(status) == 0),
                  "%s/%s round %ld: the writer died (status %d)", mode, how,
                  round, status);
    losses += lost_power;
    rel_remove_shm(path); /* shared memory does not survive power loss */
    rel_check c;
    rel_check_store(path, &c);
    ck_assert_msg(c.ok, "%s/%s round %ld (sync %ld): %s", mode, how, round, at,
                  c.why);
    /* Present acknowledged events must be a prefix: only a tail is lost. */
    size_t present = rel_present_prefix(path, acked, n_acked);
    int64_t after = rel_count_ids(path, acked + 16 * present, n_acked - present);
    ck_assert_msg(after == 0,
                  "%s/%s round %ld: acknowledged events lost out of order",
                  mode, how, round);
    if (sync == EAUDIT_SYNC_FULL || !lost_power)
      ck_assert_msg(present == n_acked,
                    "%s/%s round %ld (sync %ld): %zu of %zu acknowledged "
                    "events lost", mode, how, round, at, n_acked - present,
                    n_acked);
    ck_assert_int_ge(c.events, 10 + (int64_t)present);
    lost_acked += (long)(n_acked - present);
    checked += (int64_t)n_acked;
    eaudit_store *s;
    EA_OK(eaudit_store_open(&s, path, NULL));
    eaudit_store_free(s);
  }
  free(acked);
  rel_figure("powerloss", "sync=%s writes=%s rounds=%ld power_losses=%ld "
             "acked_events_checked=%lld acked_lost=%ld findings=0",
             mode, how, rounds, losses, (long long)checked, lost_acked);
  ck_assert_msg(losses == rounds, "%ld rounds ended before their sync",
                rounds - losses);
  tu_remove_store(tmpl);
  tu_remove_store(path);
}

START_TEST(full_sync_loses_no_acknowledged_event) { run(EAUDIT_SYNC_FULL, 0); }
END_TEST
START_TEST(full_sync_survives_garbage_in_unsynced_pages) {
  run(EAUDIT_SYNC_FULL, 1);
}
END_TEST
START_TEST(normal_sync_loses_at_most_an_unsynced_tail) {
  run(EAUDIT_SYNC_NORMAL, 0);
}
END_TEST
START_TEST(normal_sync_survives_garbage_in_unsynced_pages) {
  run(EAUDIT_SYNC_NORMAL, 1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rel_powerloss");
  TCase *tc = tcase_create("powerloss");
  tcase_set_timeout(tc, 3600);
  tcase_add_test(tc, full_sync_loses_no_acknowledged_event);
  tcase_add_test(tc, full_sync_survives_garbage_in_unsynced_pages);
  tcase_add_test(tc, normal_sync_loses_at_most_an_unsynced_tail);
  tcase_add_test(tc, normal_sync_survives_garbage_in_unsynced_pages);
  suite_add_tcase(s, tc);
  return tu_run(s);
}
