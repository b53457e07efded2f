/* The writer child of the crash and power-loss harnesses: it appends
 * events in a given phase and reports each acknowledged id to the parent
 * through a pipe (16 bytes per id, one write per call, so the parent never
 * sees half an acknowledgement). */
#ifndef EAUDIT_REL_CHILD_H
#define EAUDIT_REL_CHILD_H

#include "rel.h"

/* What the child does between acknowledgements. */
enum rel_phase {
  REL_PHASE_APPEND = 0,    /* one event per call */
  REL_PHASE_BATCH = 1,     /* batches of 2..64 events */
  REL_PHASE_WAL_CKPT = 2,  /* appends with WAL checkpoints in between */
  REL_PHASE_REZONE = 3,    /* appends and time-zone changes (day rollups
                              rebuilt in one long transaction) */
  REL_PHASE_CHECKPOINT = 4, /* signing key set: signed checkpoints inside
                               appends (every 8 events) and on demand */
  REL_PHASE_PURGE = 5,     /* batches of 16 events 12 h apart, continuing
                              after the newest, and a purge in batches of 8
                              every 2nd call */
  REL_PHASE_COUNT = 6
};
const char *rel_phase_name(int phase);

/* Run in the child: open @p path (sync FULL or NORMAL), then append in
 * @p phase for at most @p max_calls calls, writing ids to @p fd. Exits
 * with status 0 when done, 2 on any error (after writing "E" to fd). */
void rel_child_writer(const char *path, int phase, int sync, int fd,
                      long max_calls, uint64_t seed,
                      void (*after_open)(eaudit_store *s));

/* Read every acknowledged id from fd until EOF, appending to *ids (grown
 * with realloc); returns 1 when the child reported an error. */
int rel_read_acks(int fd, uint8_t **ids, size_t *n, size_t *cap);

#endif
