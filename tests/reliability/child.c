#include "child.h"

#include "ops.h"
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *rel_phase_name(int phase) {
  static const char *const names[] = {"append",    "batch",
                                      "wal-checkpoint", "time-zone",
                                      "checkpoint", "purge"};
  return phase >= 0 && phase < REL_PHASE_COUNT ? names[phase] : "?";
}

static uint64_t next(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void die(int fd) {
  fprintf(stderr, "writer: %d %s\n", eaudit_error_last()->code,
          eaudit_error_last()->message);
  (void)!write(fd, "E", 1);
  _exit(2);
}

void rel_child_writer(const char *path, int phase, int sync, int fd,
                      long max_calls, uint64_t seed,
                      void (*after_open)(eaudit_store *s)) {
  eaudit_options *o = NULL;
  eaudit_store *s = NULL;
  if (eaudit_options_new(&o) ||
      eaudit_options_set_int(o, EAUDIT_OPT_SYNCHRONOUS, sync) ||
      eaudit_store_open(&s, path, o))
    die(fd);
  eaudit_options_free(o);
  if (after_open)
    after_open(s);
  uint64_t r = seed | 1;
  eaudit_batch *b = NULL;
  eaudit_batch_new(&b);
  eaudit_time t = tu_utc(2026, 1, 10, 0, 0, 0) + (eaudit_time)(next(&r) % 1000000) * 1000;
  eaudit_time step = 1000000;
  int signing = phase == REL_PHASE_CHECKPOINT || phase == REL_PHASE_PURGE;
  /* A signed store is purged with its key; checkpoints need it. */
  if (signing && (eaudit_store_set_signing_key(s, rel_ops_key, 32) ||
                  eaudit_store_set_checkpoint_policy(s, 8, 0)))
    die(fd);
  if (phase == REL_PHASE_PURGE) {
    /* Time runs on from the newest event so that the oldest ones pass the
     * rules' horizon (8 days) and become purgeable. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT newest FROM head", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL &&
        sqlite3_column_int64(st, 0) >= t)
      t = sqlite3_column_int64(st, 0) + 1000000;
    sqlite3_finalize(st);
    step = INT64_C(12) * 3600 * 1000000;
  }
  uint8_t buf[64 * 16];
  for (long call = 0; call < max_calls; call++) {
    size_t n = phase == REL_PHASE_BATCH ? 2 + next(&r) % 63
               : phase == REL_PHASE_PURGE ? 16
                                          : 1;
    eaudit_batch_clear(b);
    for (size_t i = 0; i < n; i++) {
      eaudit_event *ev = rel_event((int64_t)(next(&r) % 50), t, (int)(i & 1));
      t += step;
      if (eaudit_batch_add(b, ev))
        die(fd);
      eaudit_event_free(ev);
    }
    if (eaudit_store_append_batch(s, b, NULL))
      die(fd);
    for (size_t i = 0; i < n; i++)
      eaudit_event_id(eaudit_batch_get(b, i), buf + 16 * i);
    if (write(fd, buf, 16 * n) != (ssize_t)(16 * n))
      _exit(3);
    if (phase == REL_PHASE_WAL_CKPT && next(&r) % 3 == 0)
      sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    if (phase == REL_PHASE_REZONE && next(&r) % 4 == 0 &&
        eaudit_store_set_time_zone(s, next(&r) & 1 ? "Europe/Berlin" : "UTC"))
      die(fd);
    if (phase == REL_PHASE_CHECKPOINT && next(&r) % 3 == 0 &&
        eaudit_store_checkpoint(s, NULL))
      die(fd);
    if (phase == REL_PHASE_PURGE && call % 2 == 1 &&
        eaudit_store_purge(s, t, 1, 8, NULL))
      die(fd);
  }
  eaudit_batch_free(b);
  eaudit_store_free(s);
  _exit(0);
}

int rel_read_acks(int fd, uint8_t **ids, size_t *n, size_t *cap) {
  uint8_t buf[4096];
  size_t have = 0;
  int err = 0;
  for (;;) {
    ssize_t k = read(fd, buf + have, sizeof buf - have);
    if (k <= 0)
      break;
    have += (size_t)k;
    size_t whole = have / 16 * 16;
    for (size_t off = 0; off < whole; off += 16) {
      if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *ids = realloc(*ids, *cap * 16);
      }
      memcpy(*ids + 16 * (*n)++, buf + off, 16);
    }
    memmove(buf, buf + whole, have - whole);
    have -= whole;
    if (have == 1 && buf[0] == 'E') {
      err = 1;
      have = 0;
    }
  }
  return err;
}
