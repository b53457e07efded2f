/* Helpers shared by the Check suites. */
#ifndef EAUDIT_TESTUTIL_H
#define EAUDIT_TESTUTIL_H

#include <check.h>
#include <eaudit.h>
#include <stdio.h>

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

/* Run a suite and return the process exit status. With
 * EAUDIT_TEST_BACKEND=postgresql and no server (EAUDIT_TEST_PG unset, or a
 * build without PostgreSQL) it runs nothing and returns 77 (skipped), or
 * fails when EAUDIT_REQUIRE_PG=1. Afterwards it drops the databases its
 * tests created. */
int tu_run(Suite *s);

/* ---- the store backend under test ----
 * Suites open their stores through these, so that one suite runs on
 * SQLite (the default) and, with EAUDIT_TEST_BACKEND=postgresql, on a
 * fresh PostgreSQL database per store on the server of EAUDIT_TEST_PG. */

/* 1 when the suite runs on PostgreSQL. */
int tu_backend_pg(void);
/* A fresh store target: a temporary SQLite path (as tu_temp_path) or the
 * URI of a new, empty database. */
void tu_store_target(char *buf, size_t size, const char *name);
/* Open the store at target (a path, ":memory:" or a URI) with the test's
 * clock and random source (tu_options). */
eaudit_store *tu_open_at(const char *target, tu_clock *clock, uint64_t *seed);
/* The findings of rule (NULL: every rule), and their number. */
eaudit_findings *tu_findings(eaudit_store *s, const char *rule);
size_t tu_nfind(eaudit_store *s, const char *rule);
/* Open a store on a fresh target; tu_store_last_target() names it. */
int tu_store_open(eaudit_store **out, const char *name,
                  const eaudit_options *o);
const char *tu_store_last_target(void);
/* Run raw SQL on a store target, bypassing the library: sqlite_sql on a
 * file, pg_sql on a database (NULL: the test is wrong for it). Every
 * statement of the text runs. */
void tu_store_sql(const char *target, const char *sqlite_sql,
                  const char *pg_sql);
/* The first column of the first row of raw SQL as text ("" for NULL). */
void tu_store_value(const char *target, const char *sqlite_sql,
                    const char *pg_sql, char *out, size_t size);
/* Leave the current test early, with a visible reason, on SQLite. */
#define TU_PG_ONLY(why)                                                        \
  do {                                                                         \
    if (!tu_backend_pg()) {                                                    \
      fprintf(stderr, "%s: skipped on SQLite: %s\n", __func__, why);          \
      return;                                                                  \
    }                                                                          \
  } while (0)
/* Leave the current test early, with a visible reason, on PostgreSQL. */
#define TU_SQLITE_ONLY(why)                                                    \
  do {                                                                         \
    if (tu_backend_pg()) {                                                     \
      fprintf(stderr, "%s: skipped on PostgreSQL: %s\n", __func__, why);      \
      return;                                                                  \
    }                                                                          \
  } while (0)


#ifdef EAUDIT_HAVE_LIBPQ
#include <libpq-fe.h>
#include <sys/types.h>
/* ---- raw libpq for the PostgreSQL suites (each asserts success) ---- */
/* The maintenance URI in EAUDIT_TEST_PG, or NULL. */
const char *tu_pg_base(void);
/* Connect, notices silenced. */
PGconn *tu_pg_open(const char *uri);
/* Run SQL without results. */
void tu_pg_do(PGconn *c, const char *sql);
/* The first column of the first row as text ("" for NULL), valid until
 * the next call. */
const char *tu_pg_one(PGconn *c, const char *sql);
int64_t tu_pg_int(PGconn *c, const char *sql);
/* The URI of database db on the server of EAUDIT_TEST_PG. */
void tu_pg_uri_for(char *out, size_t size, const char *db);
/* Create an empty database <prefix>_<pid>_<n>; give its name and URI. */
void tu_pg_create_db(const char *prefix, char *db, size_t db_size, char *uri,
                     size_t uri_size);
/* Drop database db, ending its sessions. */
void tu_pg_drop_db(const char *db);
/* ---- shippers in child processes ---- */
/* Fork a process that ships the site store at path to uri in batches of
 * batch and exits 0 on success (an error goes to stderr). */
pid_t tu_spawn_shipper(const char *path, const char *uri, size_t batch);
/* The central head_seq of the site (0 before its first batch). */
int64_t tu_pg_site_head(PGconn *c, const uint8_t site[16]);
/* Wait (up to about two minutes) until it reaches min; return it. */
int64_t tu_pg_wait_site_head(PGconn *c, const uint8_t site[16], int64_t min);
/* Stop shipper pid inside its next batch: hold the site's advisory lock,
 * read the head, SIGKILL the shipper and reap it, release the lock, and
 * check that nothing committed since. Returns the head. */
int64_t tu_kill_shipper_in_batch(PGconn *c, const uint8_t site[16],
                                 pid_t pid);
#endif

/* A digest of every row of every table of the store at @p path (a file,
 * read through raw SQLite, or a database URI, read through libpq): equal
 * digests mean equal content. */
void tu_store_digest(const char *path, char out[65]);

/* Append n door_opened events for subject at t0 + i * step. */
void tu_append_doors(eaudit_store *s, int n, int64_t subject, int64_t door,
                     eaudit_time t0, eaudit_time step);

/* Count the events a query returns (stepping the whole cursor). */
int64_t tu_count(eaudit_store *s, const eaudit_query *q);

#endif
