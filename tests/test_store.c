/* Opening stores: creation, reopening, schema versions, permissions,
 * options, time zones, fork(), concurrent writers, names and errors. */
#include "testutil.h"

#include "chain.h"
#include "store_internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[512];

static void setup(void) { tu_store_target(path, sizeof path, "store"); }
static void teardown(void) { tu_remove_store(path); }
/* Cases that need no store of the backend under test (SQLite files, or no
 * store at all) get a file path and no database. */
static void setup_local(void) { tu_temp_path(path, sizeof path, "store"); }

static int file_mode(const char *p) {
  struct stat st;
  if (stat(p, &st) != 0)
    return -1;
  return (int)(st.st_mode & 0777);
}

START_TEST(files_are_0600_whatever_the_umask) {
  TU_SQLITE_ONLY("file modes are SQLite's");
  mode_t masks[] = {0, 022, 077};
  for (int i = 0; i < 3; i++) {
    tu_remove_store(path);
    mode_t old = umask(masks[i]);
    eaudit_store *s;
    EA_OK(eaudit_store_open(&s, path, NULL));
    tu_append_doors(s, 3, 1, 1, tu_utc(2026, 1, 1, 0, 0, 0), 1000);
    char wal[600], shm[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    ck_assert_int_eq(file_mode(path), 0600);
    ck_assert_int_eq(file_mode(wal), 0600);
    ck_assert_int_eq(file_mode(shm), 0600);
    eaudit_store_free(s);
    umask(old);
  }
}
END_TEST

START_TEST(reopen_keeps_events_identity_and_zone) {
  eaudit_options *o;
  EA_OK(eaudit_options_new(&o));
  EA_OK(eaudit_options_set_str(o, EAUDIT_OPT_TIME_ZONE, "Europe/Berlin"));
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, o));
  uint8_t id1[16], id2[16];
  EA_OK(eaudit_store_id(s, id1));
  tu_append_doors(s, 10, 1, 1, tu_utc(2026, 1, 1, 0, 0, 0), 1000);
  eaudit_store_free(s);
  /* Reopening with another zone does not change the store's zone. */
  EA_OK(eaudit_options_set_str(o, EAUDIT_OPT_TIME_ZONE, "Asia/Tokyo"));
  EA_OK(eaudit_store_open(&s, path, o));
  eaudit_options_free(o);
  EA_OK(eaudit_store_id(s, id2));
  ck_assert(memcmp(id1, id2, 16) == 0);
  ck_assert_str_eq(eaudit_store_time_zone(s), "Europe/Berlin");
  int64_t n, seq;
  EA_OK(eaudit_store_event_count(s, &n));
  EA_OK(eaudit_store_last_seq(s, &seq));
  ck_assert_int_eq(n, 10);
  ck_assert_int_eq(seq, 10);
  eaudit_store_free(s);
}
END_TEST

/* A store whose schema version is set to `version` by hand (SQLite's
 * user_version, the central schema's meta row): opening it fails with
 * `code`, names the version, and leaves the store row for row. */
static void expect_version_refused(int version, int code) {
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  tu_append_doors(s, 3, 1, 1, tu_utc(2026, 1, 1, 0, 0, 0), 1000);
  eaudit_store_free(s);
  char sql[64], pg[128], shown[16];
  snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version);
  snprintf(pg, sizeof pg,
           "UPDATE eaudit.meta SET value = %d WHERE key = 'schema_version'",
           version);
  snprintf(shown, sizeof shown, "%d", version);
  tu_store_sql(path, sql, pg);
  char before[65], after[65];
  tu_store_digest(path, before);
  struct stat st1, st2;
  int file = !tu_backend_pg();
  if (file)
    stat(path, &st1);
  ck_assert_int_eq(eaudit_store_open(&s, path, NULL), code);
  ck_assert_ptr_null(s);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, shown));
  tu_store_digest(path, after);
  ck_assert_str_eq(before, after);
  if (file) {
    stat(path, &st2);
    ck_assert_int_eq(st1.st_size, st2.st_size);
  }
}

START_TEST(newer_schema_is_refused_and_left_unchanged) {
  expect_version_refused(99, EAUDIT_ESCHEMA);
}
END_TEST

START_TEST(negative_schema_version_is_ecorrupt_and_left_unchanged) {
  expect_version_refused(-7, EAUDIT_ECORRUPT);
}
END_TEST

START_TEST(files_that_are_not_stores_are_ecorrupt) {
  TU_SQLITE_ONLY("a file of junk or of another application is SQLite's "
                 "case");
  /* Random bytes. */
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  char junk[4096];
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (char)(i * 7 + 3);
  ck_assert_int_eq(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
  close(fd);
  eaudit_store *s = NULL;
  ck_assert_int_eq(eaudit_store_open(&s, path, NULL), EAUDIT_ECORRUPT);
  ck_assert_ptr_null(s);
  /* Another application's SQLite database. */
  tu_remove_store(path);
  sqlite3 *db;
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1)", NULL, NULL,
               NULL);
  sqlite3_close(db);
  char before[65], after[65];
  tu_store_digest(path, before);
  ck_assert_int_eq(eaudit_store_open(&s, path, NULL), EAUDIT_ECORRUPT);
  tu_store_digest(path, after);
  ck_assert_str_eq(before, after);
}
END_TEST

START_TEST(missing_store_without_create_is_enotfound) {
  eaudit_options *o;
  EA_OK(eaudit_options_new(&o));
  EA_OK(eaudit_options_set_int(o, EAUDIT_OPT_CREATE, 0));
  eaudit_store *s = NULL;
  ck_assert_int_eq(eaudit_store_open(&s, path, o), EAUDIT_ENOTFOUND);
  char n[32];
  if (tu_backend_pg()) { /* nothing created in the database */
    tu_store_value(path, NULL,
                   "SELECT count(*) FROM pg_namespace WHERE nspname = 'eaudit'",
                   n, sizeof n);
    ck_assert_str_eq(n, "0");
  } else {
    ck_assert_int_eq(access(path, F_OK), -1);
  }
  EA_OK(eaudit_options_set_int(o, EAUDIT_OPT_CREATE, 1));
  EA_OK(eaudit_options_set_int(o, EAUDIT_OPT_READ_ONLY, 1));
  ck_assert_int_eq(eaudit_store_open(&s, path, o), EAUDIT_ENOTFOUND);
  eaudit_options_free(o);
}
END_TEST

START_TEST(read_only_handle_reads_and_refuses_writes) {
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  tu_append_doors(s, 4, 1, 1, tu_utc(2026, 1, 1, 0, 0, 0), 1000);
  eaudit_store_free(s);
  eaudit_options *o;
  EA_OK(eaudit_options_new(&o));
  EA_OK(eaudit_options_set_int(o, EAUDIT_OPT_READ_ONLY, 1));
  EA_OK(eaudit_store_open(&s, path, o));
  eaudit_options_free(o);
  int64_t n;
  EA_OK(eaudit_store_event_count(s, &n));
  ck_assert_int_eq(n, 4);
  eaudit_event *ev = tu_event(3, tu_utc(2026, 1, 2, 0, 0, 0), 1);
  ck_assert_int_eq(eaudit_store_append(s, ev), EAUDIT_EREADONLY);
  ck_assert(!eaudit_event_has(ev, EAUDIT_FIELD_SEQ));
  ck_assert_int_eq(eaudit_store_set_time_zone(s, "Europe/Berlin"),
                   EAUDIT_EREADONLY);
  ck_assert_str_eq(eaudit_store_time_zone(s), "UTC");
  eaudit_event_free(ev);
  EA_OK(eaudit_store_event_count(s, &n));
  ck_assert_int_eq(n, 4);
  eaudit_store_free(s);
}
END_TEST

START_TEST(options_reject_unknown_keys_and_out_of_range_values) {
  eaudit_options *o;
  EA_OK(eaudit_options_new(&o));
  ck_assert_int_eq(eaudit_options_set_int(o, 999, 1), EAUDIT_EOPTION);
  ck_assert_int_eq(eaudit_options_set_int(o, EAUDIT_OPT_TIME_ZONE, 1),
                   EAUDIT_EOPTION);
  ck_assert_int_eq(eaudit_options_set_str(o, EAUDIT_OPT_BUSY_TIMEOUT_MS, "1"),
                   EAUDIT_EOPTION);
  ck_assert_int_eq(eaudit_options_set_int(o, EAUDIT_OPT_SYNCHRONOUS, 3),
                   EAUDIT_ERANGE);
  ck_assert_int_eq(eaudit_options_set_int(o, EAUDIT_OPT_BUSY_TIMEOUT_MS, -1),
                   EAUDIT_ERANGE);
  ck_assert_int_eq(
      eaudit_options_set_str(o, EAUDIT_OPT_TIME_ZONE, "Mars/Olympus_Mons"),
      EAUDIT_ETZ);
  int64_t v, lo, hi;
  EA_OK(eaudit_options_get_int(o, EAUDIT_OPT_SYNCHRONOUS, &v));
  ck_assert_int_eq(v, EAUDIT_SYNC_FULL);
  EA_OK(eaudit_options_get_int(o, EAUDIT_OPT_BUSY_TIMEOUT_MS, &v));
  ck_assert_int_eq(v, 5000);
  EA_OK(eaudit_option_bounds(EAUDIT_OPT_DETAILS_MAX_BYTES, &lo, &hi));
  ck_assert_int_eq(hi, EAUDIT_DETAILS_MAX_LIMIT);
  ck_assert_int_eq(eaudit_option_bounds(EAUDIT_OPT_TIME_ZONE, &lo, &hi),
                   EAUDIT_EOPTION);
  eaudit_options_free(o);
  eaudit_options_free(NULL);
  eaudit_store_free(NULL);
  eaudit_event_free(NULL);
  eaudit_query_free(NULL);
  eaudit_cursor_free(NULL);
  eaudit_batch_free(NULL);
}
END_TEST

/* The handle's own connection takes the page cache size from the
 * options: 8 MiB by default, bounded below by 64 KiB. */
static int64_t handle_cache_size(eaudit_store *s) {
  sqlite3_stmt *st;
  ck_assert_int_eq(
      sqlite3_prepare_v2(s->db, "PRAGMA cache_size", -1, &st, NULL),
      SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

START_TEST(page_cache_size_comes_from_the_options) {
  TU_SQLITE_ONLY("the page cache is SQLite's");
  eaudit_options *o;
  EA_OK(eaudit_options_new(&o));
  int64_t v, lo, hi;
  EA_OK(eaudit_options_get_int(o, EAUDIT_OPT_CACHE_SIZE_KIB, &v));
  ck_assert_int_eq(v, 8192);
  EA_OK(eaudit_option_bounds(EAUDIT_OPT_CACHE_SIZE_KIB, &lo, &hi));
  ck_assert_int_eq(lo, 64);
  ck_assert_int_eq(eaudit_options_set_int(o, EAUDIT_OPT_CACHE_SIZE_KIB, 63),
                   EAUDIT_ERANGE);
  EA_OK(eaudit_options_get_int(o, EAUDIT_OPT_CACHE_SIZE_KIB, &v));
  ck_assert_int_eq(v, 8192); /* a refused value changes nothing */
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  ck_assert_int_eq(handle_cache_size(s), -8192);
  eaudit_store_free(s);
  EA_OK(eaudit_options_set_int(o, EAUDIT_OPT_CACHE_SIZE_KIB, 256));
  EA_OK(eaudit_store_open(&s, path, o));
  ck_assert_int_eq(handle_cache_size(s), -256);
  eaudit_store_free(s);
  eaudit_options_free(o);
}
END_TEST

START_TEST(synchronous_full_is_the_default) {
  TU_SQLITE_ONLY("journal mode and auto_vacuum are SQLite's");
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  eaudit_store_free(s);
  /* The pragma is per connection; check the journal mode, which persists,
   * and the default option value. */
  sqlite3 *db;
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_stmt *st;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
  sqlite3_finalize(st);
  sqlite3_prepare_v2(db, "PRAGMA auto_vacuum", -1, &st, NULL);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  ck_assert_int_eq(sqlite3_column_int(st, 0), 2); /* incremental */
  sqlite3_finalize(st);
  sqlite3_close(db);
}
END_TEST

START_TEST(memory_store_works) {
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, ":memory:", NULL));
  tu_append_doors(s, 20, 1, 1, tu_utc(2026, 1, 1, 0, 0, 0), 1000);
  int64_t n;
  EA_OK(eaudit_store_event_count(s, &n));
  ck_assert_int_eq(n, 20);
  eaudit_store_free(s);
}
END_TEST

START_TEST(time_zone_changes_and_rebuilds_day_counts) {
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  ck_assert_str_eq(eaudit_store_time_zone(s), "UTC");
  /* 23:30 UTC is the next day in Berlin. */
  tu_append_doors(s, 1, 1, 1, tu_utc(2026, 1, 10, 23, 30, 0), 0);
  eaudit_query *q;
  EA_OK(eaudit_query_new(&q));
  eaudit_counts *c = NULL;
  int rc = eaudit_store_counts(s, q, EAUDIT_COUNT_BY_DAY, &c);
  /* Day counts on PostgreSQL arrive with its query support. */
  int counts = !(tu_backend_pg() && rc == EAUDIT_EUNSUPPORTED);
  int64_t key, cnt;
  if (counts) {
    EA_OK(rc);
    EA_OK(eaudit_counts_get(c, 0, &key, &cnt));
    ck_assert_int_eq(key, tu_utc(2026, 1, 10, 0, 0, 0));
    eaudit_counts_free(c);
  }
  ck_assert_int_eq(eaudit_store_set_time_zone(s, "Nowhere/Else"), EAUDIT_ETZ);
  ck_assert_str_eq(eaudit_store_time_zone(s), "UTC");
  EA_OK(eaudit_store_set_time_zone(s, "Europe/Berlin"));
  ck_assert_str_eq(eaudit_store_time_zone(s), "Europe/Berlin");
  if (counts) {
    EA_OK(eaudit_store_counts(s, q, EAUDIT_COUNT_BY_DAY, &c));
    EA_OK(eaudit_counts_get(c, 0, &key, &cnt));
    ck_assert_int_eq(key, tu_utc(2026, 1, 10, 23, 0, 0)); /* Jan 11, CET */
    ck_assert_int_eq(cnt, 1);
    eaudit_counts_free(c);
  }
  eaudit_query_free(q);
  eaudit_store_free(s);
  EA_OK(eaudit_store_open(&s, path, NULL));
  ck_assert_str_eq(eaudit_store_time_zone(s), "Europe/Berlin");
  eaudit_store_free(s);
}
END_TEST

START_TEST(a_handle_used_after_fork_fails_with_efork) {
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  pid_t pid = fork();
  ck_assert_int_ne(pid, -1);
  if (pid == 0) {
    eaudit_event *ev = tu_event(3, tu_utc(2026, 1, 1, 0, 0, 0), 1);
    int rc = eaudit_store_append(s, ev);
    int64_t n;
    int rc2 = eaudit_store_event_count(s, &n);
    _exit(rc == EAUDIT_EFORK && rc2 == EAUDIT_EFORK ? 0 : 1);
  }
  int status;
  waitpid(pid, &status, 0);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  /* The parent's handle still works. */
  tu_append_doors(s, 1, 1, 1, tu_utc(2026, 1, 1, 0, 0, 0), 0);
  eaudit_store_free(s);
}
END_TEST

START_TEST(two_processes_append_concurrently_without_errors) {
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  eaudit_store_free(s);
  enum { PROCS = 2, EACH = 300 };
  pid_t pids[PROCS];
  for (int p = 0; p < PROCS; p++) {
    pids[p] = fork();
    if (pids[p] == 0) {
      eaudit_store *c;
      eaudit_options *o;
      eaudit_options_new(&o);
      eaudit_options_set_int(o, EAUDIT_OPT_SYNCHRONOUS, EAUDIT_SYNC_NORMAL);
      if (eaudit_store_open(&c, path, o) != 0)
        _exit(2);
      eaudit_options_free(o);
      for (int i = 0; i < EACH; i++) {
        eaudit_event *ev;
        eaudit_event_new(&ev);
        eaudit_event_set(ev, EAUDIT_FIELD_TYPE, EAUDIT_TYPE_DOOR_OPENED);
        eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT,
                         tu_utc(2026, 1, 1, 0, 0, 0) + i);
        eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, p + 1);
        int rc = eaudit_store_append(c, ev);
        eaudit_event_free(ev);
        if (rc != 0)
          _exit(3);
      }
      eaudit_store_free(c);
      _exit(0);
    }
  }
  for (int p = 0; p < PROCS; p++) {
    int status;
    waitpid(pids[p], &status, 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "writer %d exited with %d", p, WEXITSTATUS(status));
  }
  EA_OK(eaudit_store_open(&s, path, NULL));
  int64_t n, seq;
  EA_OK(eaudit_store_event_count(s, &n));
  EA_OK(eaudit_store_last_seq(s, &seq));
  ck_assert_int_eq(n, PROCS * EACH);
  ck_assert_int_eq(seq, PROCS * EACH);
  /* Seq is dense and each writer's events are all there. */
  char v[32];
  tu_store_value(path, "SELECT count(DISTINCT seq) FROM events",
                 "SELECT count(DISTINCT seq) FROM eaudit.events", v, sizeof v);
  ck_assert_int_eq(atoi(v), PROCS * EACH);
  for (int p = 0; p < PROCS; p++) {
    char sql[96], pg[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE subject = %d",
             p + 1);
    snprintf(pg, sizeof pg,
             "SELECT count(*) FROM eaudit.events WHERE subject = %d", p + 1);
    tu_store_value(path, sql, pg, v, sizeof v);
    ck_assert_int_eq(atoi(v), EACH);
  }
  eaudit_store_free(s);
}
END_TEST

START_TEST(names_keep_history_and_can_be_erased) {
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  EA_OK(eaudit_store_set_name(s, EAUDIT_KIND_DOOR, 7, "Old lobby",
                              EAUDIT_TIME_NONE));
  EA_OK(eaudit_store_set_name(s, EAUDIT_KIND_DOOR, 7, "Main lobby",
                              tu_utc(2026, 6, 1, 0, 0, 0)));
  char *name;
  EA_OK(eaudit_store_name_at(s, EAUDIT_KIND_DOOR, 7,
                             tu_utc(2026, 5, 1, 0, 0, 0), &name));
  ck_assert_str_eq(name, "Old lobby");
  eaudit_free(name);
  EA_OK(eaudit_store_name_at(s, EAUDIT_KIND_DOOR, 7, EAUDIT_TIME_NONE, &name));
  ck_assert_str_eq(name, "Main lobby");
  eaudit_free(name);
  ck_assert_int_eq(eaudit_store_name_at(s, EAUDIT_KIND_DOOR, 8,
                                        EAUDIT_TIME_NONE, &name),
                   EAUDIT_ENOTFOUND);
  ck_assert_int_eq(eaudit_store_set_name(s, 99, 1, "x", 0), EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_set_name(s, EAUDIT_KIND_DOOR, 1, "", 0),
                   EAUDIT_EINVAL);
  ck_assert_int_eq(
      eaudit_store_set_name(s, EAUDIT_KIND_DOOR, 1, "bad \xff name", 0),
      EAUDIT_EUTF8);
  ck_assert_int_eq(eaudit_store_name_at(s, 99, 7, EAUDIT_TIME_NONE, &name),
                   EAUDIT_EINVAL);
  /* Erasing a person's names (GDPR) keeps their events. */
  ck_assert_int_eq(eaudit_store_set_user(s, 1, "x", 5, 0), EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_set_user(s, 1, "x", -1, 0), EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_set_user(s, 1, "", 0, 0), EAUDIT_EINVAL);
  EA_OK(eaudit_store_set_user(s, 42, "Erin Example", EAUDIT_USER_ROLE_USER,
                              EAUDIT_TIME_NONE));
  eaudit_query *q;
  EA_OK(eaudit_query_new(&q));
  EA_OK(eaudit_query_set_text(q, "erin"));
  ck_assert_int_eq(tu_count(s, q), 0);
  tu_append_doors(s, 2, 42, 7, tu_utc(2026, 7, 1, 0, 0, 0), 1000);
  ck_assert_int_eq(tu_count(s, q), 2); /* "erin" finds Erin Example's */
  EA_OK(eaudit_store_erase_names(s, EAUDIT_KIND_USER, 42));
  ck_assert_int_eq(eaudit_store_name_at(s, EAUDIT_KIND_USER, 42,
                                        EAUDIT_TIME_NONE, &name),
                   EAUDIT_ENOTFOUND);
  ck_assert_int_eq(tu_count(s, q), 0);
  EA_OK(eaudit_query_set_user(q, 42, EAUDIT_ROLE_ANY));
  EA_OK(eaudit_query_set_text(q, NULL));
  ck_assert_int_eq(tu_count(s, q), 2);
  eaudit_query_free(q);
  eaudit_store_free(s);
}
END_TEST

START_TEST(errors_have_codes_names_and_messages) {
  eaudit_error_clear();
  const eaudit_error *e = eaudit_error_last();
  ck_assert_ptr_nonnull(e);
  ck_assert_ptr_nonnull(e->message);
  ck_assert_int_eq(e->code, 0);
  eaudit_store *s = NULL;
  ck_assert_int_eq(eaudit_store_open(&s, NULL, NULL), EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_error_last()->code, EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_error_last()->klass, EAUDIT_ECLASS_INVALID);
  ck_assert_str_eq(eaudit_strerror(EAUDIT_ESCHEMA),
                   "store schema is newer than this library");
  ck_assert_str_eq(eaudit_strerror(12345), "unknown error");
  ck_assert_str_eq(eaudit_code_name(EAUDIT_EFORK), "EAUDIT_EFORK");
  ck_assert_ptr_null(eaudit_code_name(12345));
  ck_assert_str_eq(eaudit_version_string(), EAUDIT_VERSION_STRING);
  ck_assert_int_eq(eaudit_version_number(), EAUDIT_VERSION_NUMBER);
  /* The allocator can't be swapped while objects are alive. */
  eaudit_options *o;
  EA_OK(eaudit_options_new(&o));
  ck_assert_int_eq(eaudit_set_allocator(NULL, NULL, NULL, NULL),
                   EAUDIT_EMISUSE);
  eaudit_options_free(o);
}
END_TEST

START_TEST(code_tables_have_fixed_numbers_and_names) {
  ck_assert_str_eq(eaudit_type_name(1), "admin_area_login");
  ck_assert_str_eq(eaudit_type_label(2), "Login from unrecognized device");
  ck_assert_str_eq(eaudit_type_name(15), "verification_failed");
  ck_assert_ptr_null(eaudit_type_name(16));
  ck_assert_str_eq(eaudit_reason_name(36), "device_reset");
  ck_assert_str_eq(eaudit_reason_name(10), "card_unsupported");
  ck_assert_ptr_null(eaudit_reason_name(6));
  ck_assert_str_eq(eaudit_credential_name(5), "mobile");
  ck_assert_str_eq(eaudit_field_name(EAUDIT_FIELD_GROUP), "group");
  int code;
  EA_OK(eaudit_type_from_name("keycard_add_failed", &code));
  ck_assert_int_eq(code, 8);
  EA_OK(eaudit_reason_from_name("outside_schedule", &code));
  ck_assert_int_eq(code, 2);
  ck_assert_int_eq(eaudit_credential_from_name("retina", &code),
                   EAUDIT_ENOTFOUND);
  size_t n = 0;
  while (eaudit_code_at('t', n, &code) == 0)
    n++;
  ck_assert_uint_eq(n, 15);
  n = 0;
  while (eaudit_code_at('r', n, &code) == 0)
    n++;
  ck_assert_uint_eq(n, 20);
  ck_assert_int_eq(eaudit_code_at('z', 0, &code), EAUDIT_EINVAL);
}
END_TEST

/* ---- many handles on one store ---- */

typedef struct opener {
  pthread_t t;
  int idx;
  int rc;
  char msg[256];
  uint8_t id[16];
  int64_t appended;
} opener;

static void *open_and_read_id(void *arg) {
  opener *o = arg;
  eaudit_store *s = NULL;
  o->rc = eaudit_store_open(&s, path, NULL);
  if (o->rc == 0)
    o->rc = eaudit_store_id(s, o->id);
  snprintf(o->msg, sizeof o->msg, "%s", eaudit_error_last()->message);
  eaudit_store_free(s);
  return NULL;
}

START_TEST(handles_opening_a_new_store_at_once_agree_on_its_id) {
  enum { N = 4 };
  opener o[N];
  memset(o, 0, sizeof o);
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(pthread_create(&o[i].t, NULL, open_and_read_id, &o[i]),
                     0);
  for (int i = 0; i < N; i++)
    pthread_join(o[i].t, NULL);
  for (int i = 0; i < N; i++) {
    ck_assert_msg(o[i].rc == 0, "opener %d: %d %s", i, o[i].rc, o[i].msg);
    ck_assert(memcmp(o[i].id, o[0].id, 16) == 0);
  }
  if (tu_backend_pg()) {
    /* One own chain, starting at the genesis link of its id. */
    char v[128], want[65];
    uint8_t g[32];
    eaudit__chain_genesis(o[0].id, g);
    for (int i = 0; i < 32; i++)
      snprintf(want + 2 * i, 3, "%02x", g[i]);
    tu_store_value(path, NULL,
                   "SELECT count(*) || ' ' || min(base_seq) || ' ' ||"
                   " min(head_seq) || ' ' || min(encode(base_hash, 'hex'))"
                   " FROM eaudit.sites WHERE own",
                   v, sizeof v);
    char expect[128];
    snprintf(expect, sizeof expect, "1 0 0 %s", want);
    ck_assert_str_eq(v, expect);
  }
}
END_TEST

enum { APPENDERS = 4, ROUNDS = 20, PER = 5 };

static void *append_rounds(void *arg) {
  opener *o = arg;
  eaudit_store *s = NULL;
  o->rc = eaudit_store_open(&s, path, NULL);
  for (int r = 0; o->rc == 0 && r < ROUNDS; r++) {
    eaudit_batch *b = NULL;
    eaudit_batch_new(&b);
    for (int i = 0; i < PER; i++) {
      eaudit_event *ev = NULL;
      eaudit_event_new(&ev);
      eaudit_event_set(ev, EAUDIT_FIELD_TYPE, EAUDIT_TYPE_DOOR_OPENED);
      eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT,
                       tu_utc(2026, 1, 1, 0, 0, 0) + r * 1000 + i);
      eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, o->idx + 1);
      eaudit_batch_add(b, ev);
      eaudit_event_free(ev);
    }
    o->rc = r % 2 ? eaudit_store_append_batch(s, b, NULL)
                  : eaudit_store_append(s, (eaudit_event *)eaudit_batch_get(b, 0));
    o->appended += o->rc == 0 ? (r % 2 ? PER : 1) : 0;
    eaudit_batch_free(b);
  }
  eaudit_store_free(s);
  return NULL;
}

START_TEST(handles_append_at_once_and_the_chain_stays_whole) {
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  opener o[APPENDERS];
  memset(o, 0, sizeof o);
  for (int i = 0; i < APPENDERS; i++) {
    o[i].idx = i;
    ck_assert_int_eq(pthread_create(&o[i].t, NULL, append_rounds, &o[i]), 0);
  }
  int64_t total = 0;
  for (int i = 0; i < APPENDERS; i++) {
    pthread_join(o[i].t, NULL);
    ck_assert_msg(o[i].rc == 0, "appender %d: %d", i, o[i].rc);
    total += o[i].appended;
  }
  ck_assert_int_eq(total, APPENDERS * (ROUNDS / 2) * (PER + 1));
  int64_t n, seq;
  EA_OK(eaudit_store_event_count(s, &n));
  EA_OK(eaudit_store_last_seq(s, &seq));
  ck_assert_int_eq(n, total);
  ck_assert_int_eq(seq, total);
  eaudit_verify_result *r = NULL;
  EA_OK(eaudit_store_verify(s, 0, NULL, NULL, 0, EAUDIT_VERIFY_NO_RECORD, &r));
  ck_assert(eaudit_verify_result_ok(r));
  ck_assert_int_eq(eaudit_verify_result_events(r), total);
  eaudit_verify_result_free(r);
  eaudit_store_free(s);
}
END_TEST

/* ---- verification ---- */

static int verify(eaudit_store *s, eaudit_verify_result **r) {
  return eaudit_store_verify(s, 0, NULL, NULL, 0, EAUDIT_VERIFY_NO_RECORD, r);
}

START_TEST(verify_names_the_first_bad_seq_of_a_tampered_chain) {
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  tu_append_doors(s, 20, 1, 1, tu_utc(2026, 1, 1, 0, 0, 0), 1000000);
  eaudit_verify_result *r = NULL;
  EA_OK(verify(s, &r));
  ck_assert(eaudit_verify_result_ok(r));
  ck_assert_int_eq(eaudit_verify_result_events(r), 20);
  eaudit_verify_result_free(r);
  /* A door changed behind the library's back. */
  tu_store_sql(path, "UPDATE events SET door = 77 WHERE seq = 12",
               "UPDATE eaudit.events SET door = 77 WHERE seq = 12");
  ck_assert_int_eq(verify(s, &r), EAUDIT_ETAMPER);
  ck_assert(!eaudit_verify_result_ok(r));
  ck_assert_int_eq(eaudit_verify_result_damage(r), EAUDIT_DAMAGE_MODIFIED);
  ck_assert_int_eq(eaudit_verify_result_first_bad_seq(r), 12);
  ck_assert_ptr_nonnull(strstr(eaudit_verify_result_message(r), "12"));
  eaudit_verify_result_free(r);
  eaudit_store_free(s);
}
END_TEST

START_TEST(verify_names_a_deleted_event) {
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  tu_append_doors(s, 10, 1, 1, tu_utc(2026, 1, 1, 0, 0, 0), 1000000);
  tu_store_sql(path, "DELETE FROM events WHERE seq = 4",
               "DELETE FROM eaudit.events WHERE seq = 4");
  eaudit_verify_result *r = NULL;
  ck_assert_int_eq(verify(s, &r), EAUDIT_ETAMPER);
  ck_assert_int_eq(eaudit_verify_result_damage(r), EAUDIT_DAMAGE_DELETED);
  ck_assert_int_eq(eaudit_verify_result_first_bad_seq(r), 4);
  eaudit_verify_result_free(r);
  eaudit_store_free(s);
}
END_TEST

START_TEST(direct_appends_and_shipping_share_one_database) {
  TU_PG_ONLY("sites ship into a PostgreSQL store");
  eaudit_store *central;
  EA_OK(eaudit_store_open(&central, path, NULL));
  char site_path[512];
  tu_temp_path(site_path, sizeof site_path, "store_site");
  eaudit_store *site;
  EA_OK(eaudit_store_open(&site, site_path, NULL));
  tu_append_doors(site, 30, 5, 2, tu_utc(2026, 2, 1, 0, 0, 0), 1000000);
  /* Another handle appends to the own chain while the site ships in
   * small batches. */
  opener o;
  memset(&o, 0, sizeof o);
  ck_assert_int_eq(pthread_create(&o.t, NULL, append_rounds, &o), 0);
  int64_t shipped = 0;
  EA_OK(eaudit_store_ship(site, path, 7, &shipped));
  pthread_join(o.t, NULL);
  ck_assert_int_eq(o.rc, 0);
  ck_assert_int_eq(shipped, 30);
  int64_t own = (ROUNDS / 2) * (PER + 1), n;
  ck_assert_int_eq(o.appended, own);
  EA_OK(eaudit_store_event_count(central, &n));
  ck_assert_int_eq(n, 30 + own);
  EA_OK(eaudit_store_last_seq(central, &n));
  ck_assert_int_eq(n, own);
  /* The own chain is a chain like any site's. */
  uint8_t own_id[16], site_id[16];
  EA_OK(eaudit_store_id(central, own_id));
  EA_OK(eaudit_store_id(site, site_id));
  EA_OK(eaudit_central_verify_site(path, own_id, &n));
  ck_assert_int_eq(n, own);
  EA_OK(eaudit_central_verify_site(path, site_id, &n));
  ck_assert_int_eq(n, 30);
  eaudit_verify_result *r = NULL;
  EA_OK(verify(central, &r));
  ck_assert_int_eq(eaudit_verify_result_events(r), 30 + own);
  eaudit_verify_result_free(r);
  /* Damage in a shipped site's chain is found and named. */
  char hex[33], sql[200];
  for (int i = 0; i < 16; i++)
    snprintf(hex + 2 * i, 3, "%02x", site_id[i]);
  snprintf(sql, sizeof sql,
           "UPDATE eaudit.events SET subject = 6 WHERE seq = 9"
           " AND origin = '\\x%s'",
           hex);
  tu_store_sql(path, NULL, sql);
  ck_assert_int_eq(verify(central, &r), EAUDIT_ETAMPER);
  ck_assert_int_eq(eaudit_verify_result_damage(r), EAUDIT_DAMAGE_MODIFIED);
  ck_assert_int_eq(eaudit_verify_result_first_bad_seq(r), 9);
  ck_assert_ptr_nonnull(strstr(eaudit_verify_result_message(r), hex));
  eaudit_verify_result_free(r);
  eaudit_store_free(site);
  tu_remove_store(site_path);
  eaudit_store_free(central);
}
END_TEST

/* ---- what a PostgreSQL handle does not offer ----
 * Each entry point below answers EAUDIT_EUNSUPPORTED on a PostgreSQL
 * handle, before it looks at anything else. Query, counts and purges are
 * left out: their PostgreSQL support is built separately. Reports and
 * exports work on PostgreSQL (reports_and_exports_work_on_either_backend,
 * test_report_pg), as do the rules engine and findings (test_rules_pg). */

static int64_t u_i64;
static char *u_str;

#define U(fn, ...)                                                             \
  static int u_##fn(eaudit_store *s) { return fn(s, __VA_ARGS__); }
U(eaudit_store_backup, "/tmp/eaudit-unsupported-backup")
U(eaudit_store_ship, "postgresql:///nowhere", 10, &u_i64)
#undef U

static const struct {
  const char *name;
  int (*call)(eaudit_store *s);
} unsupported[] = {
#define E(fn) {#fn, u_##fn}
    E(eaudit_store_backup),
    E(eaudit_store_ship),
#undef E
};

START_TEST(calls_a_postgresql_store_lacks_are_eunsupported) {
  TU_PG_ONLY("every call works on SQLite");
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  size_t n_calls = sizeof unsupported / sizeof unsupported[0];
  for (size_t i = 0; i < n_calls; i++) {
    const char *fn = unsupported[i].name;
    u_str = NULL;
    int rc = unsupported[i].call(s);
    ck_assert_msg(rc == EAUDIT_EUNSUPPORTED, "%s -> %d (%s)", fn, rc,
                  eaudit_error_last()->message);
    ck_assert_msg(strstr(eaudit_error_last()->message, fn) != NULL &&
                      strstr(eaudit_error_last()->message, "PostgreSQL"),
                  "%s: %s", fn, eaudit_error_last()->message);
    ck_assert_ptr_null(u_str);
    /* The handle is unharmed. */
    tu_append_doors(s, 1, 1, 1, tu_utc(2026, 1, 1, 0, 0, 0), 1000);
    int64_t n;
    EA_OK(eaudit_store_last_seq(s, &n));
    ck_assert_int_eq(n, (int64_t)i + 1);
  }
  eaudit_store_free(s);
}
END_TEST

START_TEST(json_and_type_names_work_on_either_backend) {
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  int code;
  EA_OK(eaudit_store_type_from_name(s, "door_opened", &code));
  ck_assert_int_eq(code, EAUDIT_TYPE_DOOR_OPENED);
  ck_assert_str_eq(eaudit_store_type_name(s, 3), "door_opened");
  ck_assert_str_eq(eaudit_store_type_label(s, 3), "Door opened");
  const char *j = "{\"type\":\"door_opened\",\"occurred_at\":"
                  "\"2026-01-01T00:00:00Z\",\"subject\":4,\"door\":2}";
  eaudit_event *ev = NULL;
  size_t unknown = 9;
  EA_OK(eaudit_event_from_json(s, j, strlen(j), &unknown, &ev));
  ck_assert_uint_eq(unknown, 0);
  EA_OK(eaudit_store_append(s, ev));
  char *back = NULL;
  EA_OK(eaudit_event_to_json(s, ev, EAUDIT_JSON_STORED, &back));
  ck_assert_ptr_nonnull(strstr(back, "\"seq\":1"));
  eaudit_free(back);
  eaudit_event_free(ev);
  eaudit_store_free(s);
}
END_TEST

typedef struct rmem {
  char data[8192];
  size_t len;
} rmem;

static int rmem_write(const void *p, size_t n, void *payload) {
  rmem *m = payload;
  ck_assert_uint_lt(m->len + n, sizeof m->data);
  memcpy(m->data + m->len, p, n);
  m->len += n;
  m->data[m->len] = '\0';
  return 0;
}

static int64_t count_type(eaudit_store *s, int type) {
  eaudit_query *q = NULL;
  EA_OK(eaudit_query_new(&q));
  EA_OK(eaudit_query_add_type(q, type));
  int64_t n = tu_count(s, q);
  eaudit_query_free(q);
  return n;
}

/* The same calls, codes and record on both backends. */
START_TEST(reports_and_exports_work_on_either_backend) {
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  tu_append_doors(s, 3, 4, 2, tu_utc(2026, 1, 1, 0, 0, 0), 60000000);
  eaudit_query *q = NULL;
  EA_OK(eaudit_query_new(&q));
  eaudit_report_options *o = NULL;
  EA_OK(eaudit_report_options_new(&o));
  rmem m = {.len = 0};
  eaudit_sink *k = NULL;
  EA_OK(eaudit_sink_from_callback(&k, rmem_write, &m));
  int64_t last = -1;

  /* Bad input: the codes of SQLite, nothing written or recorded. */
  ck_assert_int_eq(eaudit_store_report(s, q, NULL, k), EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_report(s, NULL, o, k), EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_report(s, q, o, NULL), EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_export(s, 0, NULL, k, &last), EAUDIT_EINVAL);
  ck_assert_int_eq(last, 0);
  /* Recorded (the default) without an actor. */
  ck_assert_int_eq(eaudit_store_report(s, q, o, k), EAUDIT_EINVAL);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "actor"));
  ck_assert_int_eq(eaudit_store_export(s, 0, o, k, &last), EAUDIT_EINVAL);
  EA_OK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_ACTOR, 9));
  for (int f = EAUDIT_FORMAT_JSON; f <= EAUDIT_FORMAT_HTML; f++) {
    if (f == EAUDIT_FORMAT_JSONL)
      continue;
    EA_OK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_FORMAT, f));
    ck_assert_int_eq(eaudit_store_export(s, 0, o, k, &last),
                     EAUDIT_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "export"));
  }
  ck_assert_uint_eq(m.len, 0);
  int64_t seq = 0;
  EA_OK(eaudit_store_last_seq(s, &seq));
  ck_assert_int_eq(seq, 3);

  /* A recorded report: its events, then exactly one report_exported. */
  EA_OK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_FORMAT,
                                      EAUDIT_FORMAT_CSV));
  EA_OK(eaudit_store_report(s, q, o, k));
  EA_OK(eaudit_sink_flush(k));
  size_t lines = 0;
  for (size_t i = 0; i < m.len; i++)
    lines += m.data[i] == '\n';
  ck_assert_uint_eq(lines, 4); /* the header and 3 events */
  ck_assert_ptr_nonnull(strstr(m.data, "\n3,"));
  EA_OK(eaudit_store_last_seq(s, &seq));
  ck_assert_int_eq(seq, 4);
  ck_assert_int_eq(count_type(s, EAUDIT_TYPE_REPORT_EXPORTED), 1);

  /* An export of the chain after seq 1, recorded too. */
  m.len = 0;
  EA_OK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_FORMAT,
                                      EAUDIT_FORMAT_JSONL));
  EA_OK(eaudit_store_export(s, 1, o, k, &last));
  EA_OK(eaudit_sink_flush(k));
  ck_assert_int_eq(last, 4);
  ck_assert_ptr_null(strstr(m.data, "\"seq\":1,"));
  ck_assert_ptr_nonnull(strstr(m.data, "\"seq\":2,"));
  ck_assert_ptr_nonnull(strstr(m.data, "\"type\":\"report_exported\""));
  ck_assert_int_eq(count_type(s, EAUDIT_TYPE_REPORT_EXPORTED), 2);
  eaudit_cursor *c = NULL;
  EA_OK(eaudit_store_tail(s, 4, 0, &c));
  const eaudit_event *ev;
  EA_OK(eaudit_cursor_next(c, &ev));
  ck_assert_str_eq(eaudit_event_details(ev, NULL),
                   "{\"format\":\"jsonl\",\"export\":true,\"events\":3,"
                   "\"after_seq\":1,\"last_seq\":4,\"complete\":true}");
  int64_t actor = 0;
  EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_ACTOR, &actor));
  ck_assert_int_eq(actor, 9);
  eaudit_cursor_free(c);
  eaudit_sink_free(k);
  eaudit_report_options_free(o);
  eaudit_query_free(q);
  eaudit_store_free(s);
}
END_TEST

START_TEST(import_appends_new_lines_and_skips_stored_ones) {
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  const char *lines =
      "{\"type\":\"door_opened\",\"occurred_at\":\"2026-01-01T00:00:00Z\","
      "\"subject\":4,\"door\":2}\n"
      "{\"type\":\"door_opened\",\"occurred_at\":\"2026-01-01T00:01:00Z\","
      "\"subject\":4,\"door\":2}\n"
      "{\"type\":\"no_such_type\",\"occurred_at\":\"2026-01-01T00:02:00Z\","
      "\"subject\":4}\n"
      "{\"type\":\"door_opened\",\"occurred_at\":\"2026-01-01T00:00:00Z\","
      "\"subject\":4,\"door\":2}\n";
  uint64_t n_lines, appended, skipped, rejected;
  for (int round = 0; round < 2; round++) {
    eaudit_source *src;
    EA_OK(eaudit_source_from_buffer(&src, lines, strlen(lines)));
    eaudit_import_result *r = NULL;
    EA_OK(eaudit_store_import(s, src, NULL, &r));
    EA_OK(eaudit_import_result_counts(r, &n_lines, &appended, &skipped,
                                      &rejected, NULL));
    ck_assert_uint_eq(n_lines, 4);
    /* The repeated line has the same derived id: stored once. */
    ck_assert_uint_eq(appended, round == 0 ? 2 : 0);
    ck_assert_uint_eq(skipped, round == 0 ? 1 : 3);
    ck_assert_uint_eq(rejected, 1);
    eaudit_import_result_free(r);
    eaudit_source_free(src);
  }
  int64_t n;
  EA_OK(eaudit_store_event_count(s, &n));
  ck_assert_int_eq(n, 2);
  EA_OK(eaudit_store_last_seq(s, &n));
  ck_assert_int_eq(n, 2);
  eaudit_store_free(s);
}
END_TEST

START_TEST(a_version_1_central_database_migrates_on_open) {
  TU_PG_ONLY("the central schema is PostgreSQL's");
  /* A central store with a shipped site, taken back to version 1: the
   * additions of the later versions (docs/scale-out.md) removed. */
  char site_path[512];
  tu_temp_path(site_path, sizeof site_path, "store_v1site");
  eaudit_store *site;
  EA_OK(eaudit_store_open(&site, site_path, NULL));
  tu_append_doors(site, 5, 3, 1, tu_utc(2026, 3, 1, 0, 0, 0), 1000000);
  int64_t n;
  EA_OK(eaudit_store_ship(site, path, 0, &n));
  ck_assert_int_eq(n, 5);
  tu_store_sql(path, NULL,
               "DROP TABLE eaudit.users, eaudit.types, eaudit.labels,"
               " eaudit.devices, eaudit.device_login_hours;"
               " DROP TABLE eaudit.name_words; DROP TABLE eaudit.names;"
               " DROP FUNCTION eaudit.names_words();"
               " DROP TABLE eaudit.anchors; DROP TABLE eaudit.settings;"
               " DROP TABLE eaudit.checkpoints;"
               " DROP TABLE eaudit.finding_events, eaudit.findings,"
               " eaudit.rule_login_hours, eaudit.rule_since,"
               " eaudit.rule_state, eaudit.rule_ids, eaudit.rule_meta;"
               " DROP INDEX eaudit.sites_own;"
               " ALTER TABLE eaudit.sites DROP COLUMN own;"
               " UPDATE eaudit.meta SET value = 1"
               " WHERE key = 'schema_version'");
  char v[64];
  /* A read-only handle does not migrate. */
  eaudit_options *o;
  EA_OK(eaudit_options_new(&o));
  EA_OK(eaudit_options_set_int(o, EAUDIT_OPT_READ_ONLY, 1));
  eaudit_store *s = NULL;
  ck_assert_int_eq(eaudit_store_open(&s, path, o), EAUDIT_EREADONLY);
  ck_assert_ptr_null(s);
  tu_store_value(path, NULL,
                 "SELECT value FROM eaudit.meta WHERE key = 'schema_version'",
                 v, sizeof v);
  ck_assert_str_eq(v, "1");
  /* A writable one does, even without the create option. */
  EA_OK(eaudit_options_set_int(o, EAUDIT_OPT_READ_ONLY, 0));
  EA_OK(eaudit_options_set_int(o, EAUDIT_OPT_CREATE, 0));
  EA_OK(eaudit_store_open(&s, path, o));
  eaudit_options_free(o);
  tu_store_value(path, NULL,
                 "SELECT value || ' ' || (SELECT count(*) FROM eaudit.sites"
                 " WHERE own) || ' ' || (SELECT count(*) FROM eaudit.sites"
                 " WHERE NOT own) FROM eaudit.meta"
                 " WHERE key = 'schema_version'",
                 v, sizeof v);
  char want[64];
  snprintf(want, sizeof want, "%d 1 1", EAUDIT_CENTRAL_SCHEMA_VERSION);
  ck_assert_str_eq(v, want);
  EA_OK(eaudit_store_set_name(s, EAUDIT_KIND_DOOR, 1, "Lobby",
                              EAUDIT_TIME_NONE)); /* the names table */
  EA_OK(eaudit_store_set_user(s, 4, "Dora", EAUDIT_USER_ROLE_ADMIN,
                              EAUDIT_TIME_NONE)); /* users (version 3) */
  EA_OK(eaudit_store_register_type(s, 1000, "lift_called", "Lift called"));
  tu_append_doors(s, 2, 4, 1, tu_utc(2026, 3, 2, 0, 0, 0), 1000000);
  EA_OK(eaudit_store_event_count(s, &n));
  ck_assert_int_eq(n, 7);
  eaudit_verify_result *r = NULL;
  EA_OK(verify(s, &r));
  ck_assert_int_eq(eaudit_verify_result_events(r), 7);
  eaudit_verify_result_free(r);
  uint8_t id[16];
  EA_OK(eaudit_store_id(site, id));
  EA_OK(eaudit_central_verify_site(path, id, &n));
  ck_assert_int_eq(n, 5);
  eaudit_store_free(s);
  eaudit_store_free(site);
  tu_remove_store(site_path);
}
END_TEST

START_TEST(a_uri_opens_postgresql_or_says_why_not) {
  eaudit_store *s = NULL;
  const char *uri = "postgresql:///eaudit_none?host=/nonexistent-eaudit-dir";
  int rc = eaudit_store_open(&s, uri, NULL);
  ck_assert_ptr_null(s);
#ifdef EAUDIT_HAVE_LIBPQ
  /* No server there: the URI reached libpq, not SQLite. */
  ck_assert_int_eq(rc, EAUDIT_EIO);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "cannot connect"));
#else
  ck_assert_int_eq(rc, EAUDIT_EUNSUPPORTED);
  ck_assert_ptr_nonnull(
      strstr(eaudit_error_last()->message, "EAUDIT_WITH_POSTGRESQL=OFF"));
#endif
  ck_assert_int_eq(access("postgresql:", F_OK), -1); /* no file made */
}
END_TEST

static void *counting_malloc(size_t n, void *p) {
  ++*(long *)p;
  return malloc(n);
}
static void *counting_realloc(void *q, size_t n, void *p) {
  ++*(long *)p;
  return realloc(q, n);
}
static void counting_free(void *q, void *p) {
  (void)p;
  free(q);
}

START_TEST(allocations_go_through_the_hook) {
  long calls = 0;
  EA_OK(eaudit_set_allocator(counting_malloc, counting_realloc, counting_free,
                             &calls));
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, ":memory:", NULL));
  tu_append_doors(s, 3, 1, 1, tu_utc(2026, 1, 1, 0, 0, 0), 1000);
  eaudit_store_free(s);
  ck_assert_int_gt(calls, 5);
  EA_OK(eaudit_set_allocator(NULL, NULL, NULL, NULL));
  ck_assert_int_eq(eaudit_set_allocator(counting_malloc, NULL, NULL, NULL),
                   EAUDIT_EINVAL);
}
END_TEST

Suite *store_suite(void) {
  Suite *s = suite_create("store");
  TCase *tc = tcase_create("store");
  tcase_set_timeout(tc, 120);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, reopen_keeps_events_identity_and_zone);
  tcase_add_test(tc, newer_schema_is_refused_and_left_unchanged);
  tcase_add_test(tc, negative_schema_version_is_ecorrupt_and_left_unchanged);
  tcase_add_test(tc, missing_store_without_create_is_enotfound);
  tcase_add_test(tc, read_only_handle_reads_and_refuses_writes);
  tcase_add_test(tc, time_zone_changes_and_rebuilds_day_counts);
  tcase_add_test(tc, a_handle_used_after_fork_fails_with_efork);
  tcase_add_test(tc, two_processes_append_concurrently_without_errors);
  tcase_add_test(tc, handles_opening_a_new_store_at_once_agree_on_its_id);
  tcase_add_test(tc, handles_append_at_once_and_the_chain_stays_whole);
  tcase_add_test(tc, verify_names_the_first_bad_seq_of_a_tampered_chain);
  tcase_add_test(tc, verify_names_a_deleted_event);
  tcase_add_test(tc, direct_appends_and_shipping_share_one_database);
  tcase_add_test(tc, calls_a_postgresql_store_lacks_are_eunsupported);
  tcase_add_test(tc, json_and_type_names_work_on_either_backend);
  tcase_add_test(tc, reports_and_exports_work_on_either_backend);
  tcase_add_test(tc, import_appends_new_lines_and_skips_stored_ones);
  tcase_add_test(tc, a_version_1_central_database_migrates_on_open);
  suite_add_tcase(s, tc);
  TCase *local = tcase_create("local");
  tcase_set_timeout(local, 120);
  tcase_add_checked_fixture(local, setup_local, teardown);
  tcase_add_test(local, files_are_0600_whatever_the_umask);
  tcase_add_test(local, files_that_are_not_stores_are_ecorrupt);
  tcase_add_test(local, options_reject_unknown_keys_and_out_of_range_values);
  tcase_add_test(local, page_cache_size_comes_from_the_options);
  tcase_add_test(local, synchronous_full_is_the_default);
  tcase_add_test(local, memory_store_works);
  tcase_add_test(local, names_keep_history_and_can_be_erased);
  tcase_add_test(local, errors_have_codes_names_and_messages);
  tcase_add_test(local, code_tables_have_fixed_numbers_and_names);
  tcase_add_test(local, allocations_go_through_the_hook);
  tcase_add_test(local, a_uri_opens_postgresql_or_says_why_not);
  suite_add_tcase(s, local);
  return s;
}

int main(void) { return tu_run(store_suite()); }
