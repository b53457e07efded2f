/* Helpers shared by the Check suites. */
#ifndef EAUDIT_TESTUTIL_H
#define EAUDIT_TESTUTIL_H

#include <check.h>
#include <eaudit.h>

/* Fails the test with the library's message when rc != 0. */
#define EA_OK(expr)                                                            \
  do {                                                                         \
    int rc_ = (expr);                                                          \
    ck_assert_msg(rc_ == 0, "%s -> %d (%s)", #expr, rc_,                       \
                  eaudit_error_last()->message);                               \
  } while (0)

/* A deterministic clock the tests move by hand. */
typedef struct tu_clock {
  eaudit_time now;
  eaudit_time step; /* added after each reading */
} tu_clock;
eaudit_time tu_clock_fn(void *payload);

/* A deterministic random source (xorshift seeded with *payload). */
int tu_random_fn(uint8_t *buf, size_t len, void *payload);

/* A fresh path under the build's test directory (removed first, with its
 * -wal and -shm). Returns a static buffer of the caller's. */
void tu_temp_path(char *buf, size_t size, const char *name);
void tu_remove_store(const char *path);

/* Options with the clock and random source set; the caller frees them. */
eaudit_options *tu_options(tu_clock *clock, uint64_t *seed);

/* Build an event. subject < 0 means no subject. */
eaudit_event *tu_event(int type, eaudit_time at, int64_t subject);

/* 2026-11-03T14:05:09Z and friends. */
eaudit_time tu_utc(int y, int mo, int d, int h, int mi, int s);

/* Run a suite and return the process exit status. */
int tu_run(Suite *s);


/* A digest of every row of every table of the store file at @p path,
 * read through raw SQLite: equal digests mean equal content. */
void tu_store_digest(const char *path, char out[65]);

/* Append n door_opened events for subject at t0 + i * step. */
void tu_append_doors(eaudit_store *s, int n, int64_t subject, int64_t door,
                     eaudit_time t0, eaudit_time step);

/* Count the events a query returns (stepping the whole cursor). */
int64_t tu_count(eaudit_store *s, const eaudit_query *q);

#endif
