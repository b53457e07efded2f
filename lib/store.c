/* Opening and closing stores, statements, transactions, meta data, the
 * clock and the random source. */
#include "pg_store.h"
#include "store_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const stmt_sql[EAUDIT__ST_COUNT] = {
    [EAUDIT__ST_HEAD] = "SELECT seq, hash, newest FROM head WHERE one = 1",
    [EAUDIT__ST_HEAD_UPDATE] =
        "UPDATE head SET seq = ?1, hash = ?2, newest = ?3 WHERE one = 1",
    [EAUDIT__ST_INSERT_EVENT] =
        "INSERT INTO events(" EAUDIT__EVENT_COLUMNS ") VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [EAUDIT__ST_ROLLUP] =
        "INSERT INTO rollup(day, type, subject, n) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT(day, type, subject) DO UPDATE SET n = n + excluded.n",
    [EAUDIT__ST_USER_SEEN] =
        "INSERT INTO users(id, last_at) VALUES (?1, ?2) ON CONFLICT(id) DO "
        "UPDATE SET last_at = max(coalesce(last_at, excluded.last_at), "
        "excluded.last_at)",
    [EAUDIT__ST_USER_EXPIRED] =
        "INSERT INTO users(id, expired_at, prolonged_at) VALUES (?1, ?2, ?3) "
        "ON CONFLICT(id) DO UPDATE SET "
        "expired_at = max(coalesce(expired_at, excluded.expired_at), "
        "coalesce(excluded.expired_at, expired_at)), "
        "prolonged_at = max(coalesce(prolonged_at, excluded.prolonged_at), "
        "coalesce(excluded.prolonged_at, prolonged_at))",
    [EAUDIT__ST_GROUP_EXPIRED] =
        "INSERT INTO groups(id, expired_at, prolonged_at) VALUES (?1, ?2, ?3) "
        "ON CONFLICT(id) DO UPDATE SET "
        "expired_at = max(coalesce(expired_at, excluded.expired_at), "
        "coalesce(excluded.expired_at, expired_at)), "
        "prolonged_at = max(coalesce(prolonged_at, excluded.prolonged_at), "
        "coalesce(excluded.prolonged_at, prolonged_at))",
    [EAUDIT__ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [EAUDIT__ST_META_SET] =
        "INSERT INTO meta(key, value) VALUES (?1, ?2) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [EAUDIT__ST_NAME_AT] =
        "SELECT name FROM names WHERE kind = ?1 AND entity = ?2 AND "
        "valid_from <= ?3 ORDER BY valid_from DESC LIMIT 1",
    [EAUDIT__ST_NAME_INSERT] =
        "INSERT INTO names(kind, entity, valid_from, name) VALUES "
        "(?1, ?2, ?3, ?4) ON CONFLICT(kind, entity, valid_from) DO UPDATE "
        "SET name = excluded.name RETURNING rowid",
    [EAUDIT__ST_NAME_FTS_INSERT] =
        "INSERT OR REPLACE INTO names_fts(rowid, name, kind, entity) VALUES "
        "(?1, ?2, ?3, ?4)",
    [EAUDIT__ST_EVENT_COUNT] = "SELECT count(*) FROM events",
};

/* fork() detection without a system call per check: a child handler bumps
 * the generation, and each handle remembers the one it was opened in. */
static atomic_uint fork_generation;
static pthread_once_t fork_hook_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void) { atomic_fetch_add(&fork_generation, 1); }

static void install_fork_hook(void) {
  pthread_atfork(NULL, NULL, on_fork_child);
}

int eaudit__store_same_process(const eaudit_store *s) {
  return s->fork_gen ==
         atomic_load_explicit(&fork_generation, memory_order_relaxed);
}

int eaudit__store_check(const eaudit_store *s) {
  if (!eaudit__store_same_process(s))
    return eaudit__error(EAUDIT_EFORK, EAUDIT_ECLASS_INVALID, 0,
                         "store handle opened in process %ld used in process "
                         "%ld after fork(); open a new handle",
                         (long)s->pid, (long)getpid());
  return EAUDIT_OK;
}

int eaudit__pg_is_uri(const char *path) {
  return path && (strncmp(path, "postgresql://", 13) == 0 ||
                  strncmp(path, "postgres://", 11) == 0);
}

int eaudit__pg_unsupported(const char *fn) {
  return eaudit__error(EAUDIT_EUNSUPPORTED, EAUDIT_ECLASS_INVALID, 0,
                       "%s is not available on a PostgreSQL store; see "
                       "docs/scale-out.md",
                       fn);
}

int eaudit__sqlite_error(eaudit_store *s, int rc, const char *what) {
  int code;
  switch (rc & 0xff) {
  case SQLITE_NOMEM:
    code = EAUDIT_ENOMEM;
    break;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    code = EAUDIT_EBUSY;
    break;
  case SQLITE_IOERR:
  case SQLITE_CANTOPEN:
    code = EAUDIT_EIO;
    break;
  case SQLITE_FULL:
    code = EAUDIT_EFULL;
    break;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    code = EAUDIT_ECORRUPT;
    break;
  case SQLITE_READONLY:
    code = EAUDIT_EREADONLY;
    break;
  case SQLITE_CONSTRAINT:
    code = EAUDIT_EEXISTS;
    break;
  case SQLITE_TOOBIG:
    code = EAUDIT_ETOOBIG;
    break;
  default:
    code = EAUDIT_ERROR;
  }
  const char *msg = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
  return eaudit__error(code, EAUDIT_ECLASS_SQLITE, rc, "%s: %s", what, msg);
}

sqlite3_stmt *eaudit__stmt(eaudit_store *s, eaudit__stmt_id id) {
  sqlite3_stmt *st = s->stmts[id];
  if (st == NULL) {
    int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1,
                                SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
      eaudit__sqlite_error(s, rc, "preparing a statement");
      return NULL;
    }
    s->stmts[id] = st;
  } else {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
  return st;
}

int eaudit__stmt_acquire(eaudit_store *s, const char *sql,
                         sqlite3_stmt **out) {
  eaudit__qcached *victim = NULL;
  for (int i = 0; i < EAUDIT__QCACHE; i++) {
    eaudit__qcached *c = &s->qcache[i];
    if (c->st && !c->busy && strcmp(c->sql, sql) == 0) {
      sqlite3_reset(c->st);
      sqlite3_clear_bindings(c->st);
      c->busy = 1;
      c->used = ++s->qclock;
      *out = c->st;
      return EAUDIT_OK;
    }
    if (!c->busy && (victim == NULL || c->used < victim->used))
      victim = c;
  }
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                              NULL);
  if (rc != SQLITE_OK)
    return eaudit__sqlite_error(s, rc, "preparing a query");
  char *copy = victim ? eaudit__strdup(sql) : NULL;
  if (copy) {
    /* Replace the least recently used idle entry. */
    sqlite3_finalize(victim->st);
    eaudit__free(victim->sql);
    victim->sql = copy;
    victim->st = st;
    victim->busy = 1;
    victim->used = ++s->qclock;
  }
  *out = st;
  return EAUDIT_OK;
}

void eaudit__stmt_release(eaudit_store *s, sqlite3_stmt *st) {
  if (st == NULL)
    return;
  for (int i = 0; i < EAUDIT__QCACHE; i++)
    if (s->qcache[i].st == st) {
      sqlite3_reset(st);
      s->qcache[i].busy = 0;
      return;
    }
  sqlite3_finalize(st); /* not cached: every entry was busy */
}

void eaudit__qcache_free(eaudit_store *s) {
  for (int i = 0; i < EAUDIT__QCACHE; i++) {
    if (eaudit__store_same_process(s))
      sqlite3_finalize(s->qcache[i].st);
    eaudit__free(s->qcache[i].sql);
    s->qcache[i].st = NULL;
    s->qcache[i].sql = NULL;
  }
}

int eaudit__exec(eaudit_store *s, const char *sql) {
  char *err = NULL;
  int rc = sqlite3_exec(s->db, sql, NULL, NULL, &err);
  sqlite3_free(err);
  return rc == SQLITE_OK ? EAUDIT_OK : eaudit__sqlite_error(s, rc, "executing");
}

int eaudit__write_guard(const eaudit_store *s) {
  if (s->read_only)
    return eaudit__error(EAUDIT_EREADONLY, EAUDIT_ECLASS_INVALID, 0,
                         "store was opened read-only");
  if (s->in_txn)
    return eaudit__error(EAUDIT_EMISUSE, EAUDIT_ECLASS_INVALID, 0,
                         "a write was started from inside a callback of the "
                         "same handle");
  return EAUDIT_OK;
}

int eaudit__begin(eaudit_store *s) {
  int rc = eaudit__write_guard(s);
  if (rc)
    return rc;
  rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return eaudit__sqlite_error(s, rc, "starting a write transaction");
  s->in_txn = 1;
  return EAUDIT_OK;
}

int eaudit__commit(eaudit_store *s) {
  int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK) {
    int err = eaudit__sqlite_error(s, rc, "committing");
    eaudit__rollback(s);
    return err;
  }
  s->in_txn = 0;
  return EAUDIT_OK;
}

void eaudit__rollback(eaudit_store *s) {
  if (!sqlite3_get_autocommit(s->db))
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  s->in_txn = 0;
}

static int meta_get(eaudit_store *s, const char *key, sqlite3_stmt **out) {
  sqlite3_stmt *st = eaudit__stmt(s, EAUDIT__ST_META_GET);
  if (st == NULL)
    return eaudit_error_last()->code;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE)
    return eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                         "store has no '%s' record", key);
  if (rc != SQLITE_ROW)
    return eaudit__sqlite_error(s, rc, "reading meta data");
  *out = st;
  return EAUDIT_OK;
}

int eaudit__meta_get_int(eaudit_store *s, const char *key, int64_t *out) {
  sqlite3_stmt *st = NULL;
  int rc = meta_get(s, key, &st);
  if (rc == 0) {
    *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
  }
  return rc;
}

int eaudit__meta_get_text(eaudit_store *s, const char *key, char **out) {
  sqlite3_stmt *st = NULL;
  int rc = meta_get(s, key, &st);
  if (rc)
    return rc;
  const char *t = (const char *)sqlite3_column_text(st, 0);
  *out = eaudit__strdup(t ? t : "");
  sqlite3_reset(st);
  return *out ? EAUDIT_OK : eaudit__enomem();
}

static int meta_set(eaudit_store *s, const char *key, const char *text,
                    int64_t value) {
  sqlite3_stmt *st = eaudit__stmt(s, EAUDIT__ST_META_SET);
  if (st == NULL)
    return eaudit_error_last()->code;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  if (text)
    sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_int64(st, 2, value);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? EAUDIT_OK
                           : eaudit__sqlite_error(s, rc, "writing meta data");
}

int eaudit__meta_set_int(eaudit_store *s, const char *key, int64_t value) {
  return meta_set(s, key, NULL, value);
}

int eaudit__meta_set_text(eaudit_store *s, const char *key, const char *v) {
  return meta_set(s, key, v, 0);
}

int eaudit__random(eaudit_store *s, uint8_t *buf, size_t n) {
  if (s->opts.random) {
    if (s->opts.random(buf, n, s->opts.random_payload) != 0)
      return eaudit__error(EAUDIT_ERROR, EAUDIT_ECLASS_CALLBACK, 0,
                           "the random source failed");
    return EAUDIT_OK;
  }
  if (n > EAUDIT__RANDOM_POOL / 8) {
    randombytes_buf(buf, n);
    return EAUDIT_OK;
  }
  if (s->rnd_used + n > sizeof s->rnd) {
    randombytes_buf(s->rnd, sizeof s->rnd);
    s->rnd_used = 0;
  }
  memcpy(buf, s->rnd + s->rnd_used, n);
  sodium_memzero(s->rnd + s->rnd_used, n);
  s->rnd_used += n;
  return EAUDIT_OK;
}

int eaudit__uuid_v7(eaudit_store *s, eaudit_time t, uint8_t out[16]) {
  int rc = eaudit__random(s, out, 16);
  if (rc)
    return rc;
  uint64_t ms = t < 0 ? 0 : (uint64_t)(t / 1000);
  for (int i = 0; i < 6; i++)
    out[i] = (uint8_t)(ms >> (8 * (5 - i)));
  out[6] = (uint8_t)(0x70 | (out[6] & 0x0F)); /* version 7 */
  out[8] = (uint8_t)(0x80 | (out[8] & 0x3F)); /* RFC 9562 variant */
  return EAUDIT_OK;
}

int eaudit__audit_event(eaudit_store *s, int type, int64_t actor,
                        const char *details, eaudit_event **out) {
  *out = NULL;
  eaudit_event *ev = NULL;
  int rc = eaudit_event_new(&ev);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_TYPE, type);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, eaudit_store_now(s));
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, actor);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_ACTOR, actor);
  if (rc == 0)
    rc = eaudit_event_set_details(ev, details, strlen(details));
  if (rc) {
    eaudit_event_free(ev);
    return rc;
  }
  *out = ev;
  return EAUDIT_OK;
}

eaudit_time eaudit_store_now(const eaudit_store *s) {
  if (s != NULL && s->opts.clock)
    return s->opts.clock(s->opts.clock_payload);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (eaudit_time)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Create the file ourselves so that it is 0600 whatever the umask; SQLite
 * gives -wal and -shm the database file's permissions. */
static int create_file(const char *path) {
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST)
      return EAUDIT_OK;
    return eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_OS, errno,
                         "cannot create '%s': %s", path, strerror(errno));
  }
  int rc = fchmod(fd, 0600);
  close(fd);
  if (rc != 0)
    return eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_OS, errno,
                         "cannot set the permissions of '%s': %s", path,
                         strerror(errno));
  return EAUDIT_OK;
}

static int local_minute_fn_install(eaudit_store *s);

/* Waiting for the write lock. SQLite's own busy timeout sleeps in steps
 * growing to 100 ms; with many writers the lock is taken and released many
 * times during one such sleep, so a waiter keeps losing and gets EBUSY
 * long before the others are done (tests/reliability, contention), and
 * misses the short gaps between a purge's batches. Short
 * randomised sleeps until the deadline let every waiter in. One handle per
 * thread, so the wait's start can live in thread-local storage. */
static _Thread_local struct timespec busy_start;
static _Thread_local unsigned busy_seed;

static int busy_wait(void *payload, int count) {
  eaudit_store *s = payload;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (count == 0) {
    busy_start = now;
    if (busy_seed == 0)
      busy_seed = (unsigned)now.tv_nsec ^ (unsigned)getpid();
  }
  int64_t waited_ms = (int64_t)(now.tv_sec - busy_start.tv_sec) * 1000 +
                      (now.tv_nsec - busy_start.tv_nsec) / 1000000;
  if (waited_ms >= s->opts.ints[EAUDIT_OPT_BUSY_TIMEOUT_MS])
    return 0;
  busy_seed = busy_seed * 1103515245u + 12345u;
  int cap = count < 20 ? 200 + 50 * count : 2000; /* microseconds */
  struct timespec d = {0, (long)(50 + (busy_seed >> 8) % (unsigned)cap) * 1000};
  nanosleep(&d, NULL);
  return 1;
}

/* eaudit__exec for the connection's set-up pragmas. Switching a new file
 * to WAL (and the first write of auto_vacuum) can meet another handle
 * doing the same at that moment; SQLite then answers SQLITE_BUSY without
 * calling the busy handler, so wait here, within the busy timeout. */
static int exec_setup(eaudit_store *s, const char *sql) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (unsigned n = 0;; n++) {
    int rc = eaudit__exec(s, sql);
    if (rc != EAUDIT_EBUSY)
      return rc;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t waited_ms = (int64_t)(now.tv_sec - start.tv_sec) * 1000 +
                        (now.tv_nsec - start.tv_nsec) / 1000000;
    if (waited_ms >= s->opts.ints[EAUDIT_OPT_BUSY_TIMEOUT_MS])
      return rc;
    struct timespec d = {0, (long)(n < 10 ? 200 + 100 * n : 2000) * 1000};
    nanosleep(&d, NULL);
  }
}

static int configure(eaudit_store *s) {
  char sql[256];
  int rc;
  if (s->opts.ints[EAUDIT_OPT_BUSY_TIMEOUT_MS] > 0)
    sqlite3_busy_handler(s->db, busy_wait, s);
  sqlite3_extended_result_codes(s->db, 1);
  /* auto_vacuum only matters when the file is created, and setting it is a
   * write that a read-only connection refuses. */
  if (!s->read_only &&
      (rc = exec_setup(s, "PRAGMA auto_vacuum = INCREMENTAL")))
    return rc;
  if (!s->memory && !s->read_only) {
    if ((rc = exec_setup(s, "PRAGMA journal_mode = WAL")))
      return rc;
  }
  snprintf(sql, sizeof sql,
           "PRAGMA synchronous = %s; PRAGMA journal_size_limit = %lld;"
           "PRAGMA foreign_keys = OFF; PRAGMA trusted_schema = OFF;"
           "PRAGMA cache_size = -%lld",
           s->opts.ints[EAUDIT_OPT_SYNCHRONOUS] == EAUDIT_SYNC_FULL ? "FULL"
                                                                   : "NORMAL",
           (long long)s->opts.ints[EAUDIT_OPT_JOURNAL_SIZE_LIMIT],
           (long long)s->opts.ints[EAUDIT_OPT_CACHE_SIZE_KIB]);
  if ((rc = exec_setup(s, sql)))
    return rc;
  return local_minute_fn_install(s);
}

static void local_minute_fn(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv) {
  (void)argc;
  eaudit_store *s = sqlite3_user_data(ctx);
  int minute;
  if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER ||
      eaudit__tz_minute_of_day(s->tz, sqlite3_value_int64(argv[0]),
                               &minute) != 0) {
    sqlite3_result_null(ctx);
    return;
  }
  sqlite3_result_int(ctx, minute);
}

static int local_minute_fn_install(eaudit_store *s) {
  int rc = sqlite3_create_function(s->db, "eaudit_local_minute", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC |
                                       SQLITE_DIRECTONLY,
                                   s, local_minute_fn, NULL, NULL);
  return rc == SQLITE_OK ? EAUDIT_OK
                         : eaudit__sqlite_error(s, rc, "registering functions");
}

/* Load what a store keeps about itself; reopen the zone if it changed. */
static int load_identity(eaudit_store *s) {
  sqlite3_stmt *st = NULL;
  int rc = meta_get(s, "store_id", &st);
  if (rc)
    return rc;
  if (sqlite3_column_bytes(st, 0) != 16) {
    sqlite3_reset(st);
    return eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                         "store id is damaged");
  }
  memcpy(s->store_id, sqlite3_column_blob(st, 0), 16);
  sqlite3_reset(st);
  char *zone = NULL;
  if ((rc = eaudit__meta_get_text(s, "time_zone", &zone)))
    return rc;
  if (s->tz_name == NULL || strcmp(zone, s->tz_name) != 0) {
    eaudit__tz *tz = NULL;
    rc = eaudit__tz_open(&tz, zone);
    if (rc) {
      eaudit__free(zone);
      return rc;
    }
    eaudit__tz_free(s->tz);
    eaudit__free(s->tz_name);
    s->tz = tz;
    s->tz_name = zone;
  } else {
    eaudit__free(zone);
  }
  return eaudit__types_reload(s);
}

int eaudit__store_revalidate(eaudit_store *s) { return load_identity(s); }

int eaudit_store_open(eaudit_store **out, const char *path,
                      const eaudit_options *opts) {
  if (out == NULL || path == NULL || path[0] == '\0')
    return eaudit__einval("out and path must be given");
  *out = NULL;
  if (sodium_init() < 0)
    return eaudit__error(EAUDIT_ERROR, EAUDIT_ECLASS_OS, 0,
                         "libsodium could not be initialised");
  eaudit_store *s = eaudit__calloc(1, sizeof *s);
  if (s == NULL)
    return eaudit__enomem();
  eaudit__object_born();
  pthread_once(&fork_hook_once, install_fork_hook);
  s->pid = getpid();
  s->fork_gen = atomic_load(&fork_generation);
  s->rnd_used = sizeof s->rnd; /* empty: drawn on first use */
  if (opts)
    s->opts = *opts;
  else
    eaudit__options_defaults(&s->opts);
  s->opts.time_zone = NULL;
  s->memory = strcmp(path, ":memory:") == 0;
  s->read_only = (int)s->opts.ints[EAUDIT_OPT_READ_ONLY];
  s->next_sub_id = 1;
  int rc = EAUDIT_OK;
  const char *zone = opts && opts->time_zone ? opts->time_zone : "UTC";
  if ((s->path = eaudit__strdup(path)) == NULL ||
      (s->tz_name = eaudit__strdup(zone)) == NULL)
    rc = eaudit__enomem();
  if (rc == 0)
    rc = eaudit__tz_open(&s->tz, zone);
  if (rc == 0 && eaudit__pg_is_uri(path)) {
    /* The central PostgreSQL store (pg_store.c). */
    rc = eaudit__pg_store_open(s, path, zone);
    if (rc == 0) /* vendor types and labels (pg_directory.c) */
      rc = eaudit__types_reload(s);
    goto opened;
  }
  if (rc == 0)
    rc = eaudit__random(s, s->store_id, 16);
  int exists = s->memory || access(path, F_OK) == 0;
  if (rc == 0 && !exists && (!s->opts.ints[EAUDIT_OPT_CREATE] || s->read_only))
    rc = eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_OS, ENOENT,
                       "store '%s' does not exist", path);
  if (rc == 0 && !exists)
    rc = create_file(path);
  if (rc == 0) {
    int flags = (s->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (s->memory)
      flags |= SQLITE_OPEN_CREATE;
    int src = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (src != SQLITE_OK)
      rc = eaudit__sqlite_error(s, src, "opening the store");
  }
  if (rc == 0)
    rc = configure(s);
  if (rc == 0)
    rc = eaudit__schema_open(s, (int)s->opts.ints[EAUDIT_OPT_CREATE]);
  if (rc == 0) {
    /* Forget the zone given for creation; the store's own one rules. */
    eaudit__free(s->tz_name);
    s->tz_name = NULL;
    eaudit__tz_free(s->tz);
    s->tz = NULL;
    rc = load_identity(s);
  }
opened:
  if (rc) {
    /* Keep the error of the failure, not of the clean-up. */
    eaudit_error saved = *eaudit_error_last();
    char msg[512];
    snprintf(msg, sizeof msg, "%s", saved.message);
    eaudit_store_free(s);
    return eaudit__error(saved.code, saved.klass, saved.detail, "%s", msg);
  }
  *out = s;
  return EAUDIT_OK;
}

void eaudit__subscribers_free(eaudit_store *s);

void eaudit_store_free(eaudit_store *s) {
  if (s == NULL)
    return;
  /* After fork() the child must not touch the parent's SQLite state. */
  eaudit__qcache_free(s);
  if (eaudit__store_same_process(s)) {
    for (int i = 0; i < EAUDIT__ST_COUNT; i++)
      sqlite3_finalize(s->stmts[i]);
    if (s->db)
      sqlite3_close_v2(s->db);
  }
  eaudit__pg_store_free(s);
  eaudit__subscribers_free(s);
  eaudit__rules_free(s);
  eaudit__devices_free(s);
  eaudit__integrity_free(s);
  for (size_t i = 0; i < s->n_vtypes; i++) {
    eaudit__free(s->vtypes[i].name);
    eaudit__free(s->vtypes[i].label);
  }
  eaudit__free(s->vtypes);
  for (size_t i = 0; i < s->n_labels; i++)
    eaudit__free(s->labels[i].label);
  eaudit__free(s->labels);
  eaudit__tz_free(s->tz);
  eaudit__free(s->tz_name);
  eaudit__free(s->path);
  sodium_memzero(s->rnd, sizeof s->rnd);
  eaudit__free(s);
  eaudit__object_died();
}

int eaudit_store_id(const eaudit_store *s, uint8_t out[16]) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  if (s->pg && memcmp(s->store_id, (const uint8_t[16]){0}, 16) == 0)
    return eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_STORE, 0,
                         "the central store has no own chain yet (open it "
                         "once writable)");
  memcpy(out, s->store_id, 16);
  return EAUDIT_OK;
}

int eaudit_store_last_seq(eaudit_store *s, int64_t *out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  if (s->pg)
    return eaudit__pg_store_last_seq(s, out);
  sqlite3_stmt *st = eaudit__stmt(s, EAUDIT__ST_HEAD);
  if (st == NULL)
    return eaudit_error_last()->code;
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? eaudit__error(EAUDIT_ECORRUPT,
                                             EAUDIT_ECLASS_STORE, 0,
                                             "the chain head is missing")
                             : eaudit__sqlite_error(s, rc, "reading the head");
  }
  *out = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  return EAUDIT_OK;
}

int eaudit_store_event_count(eaudit_store *s, int64_t *out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  if (s->pg)
    return eaudit__pg_store_event_count(s, out);
  sqlite3_stmt *st = eaudit__stmt(s, EAUDIT__ST_EVENT_COUNT);
  if (st == NULL)
    return eaudit_error_last()->code;
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW)
    return eaudit__sqlite_error(s, rc, "counting events");
  *out = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  return EAUDIT_OK;
}

const char *eaudit_store_time_zone(const eaudit_store *s) {
  return s ? s->tz_name : NULL;
}

int eaudit__rollup_rebuild(eaudit_store *s);

int eaudit_store_set_time_zone(eaudit_store *s, const char *zone) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (zone == NULL)
    return eaudit__einval("zone must not be NULL");
  if (s->pg)
    return eaudit__pg_store_set_time_zone(s, zone);
  eaudit__tz *tz = NULL;
  int rc = eaudit__tz_open(&tz, zone);
  if (rc)
    return rc;
  char *name = eaudit__strdup(zone);
  if (name == NULL) {
    eaudit__tz_free(tz);
    return eaudit__enomem();
  }
  rc = eaudit__begin(s);
  if (rc == 0)
    rc = eaudit__meta_set_text(s, "time_zone", zone);
  if (rc == 0) {
    /* Local days move with the zone: rebuild the day rollups under it. */
    eaudit__tz *old_tz = s->tz;
    s->tz = tz;
    rc = eaudit__rollup_rebuild(s);
    s->tz = old_tz;
  }
  if (rc == 0)
    rc = eaudit__commit(s);
  else
    eaudit__rollback(s);
  if (rc) {
    eaudit__tz_free(tz);
    eaudit__free(name);
    return rc;
  }
  eaudit__tz_free(s->tz);
  eaudit__free(s->tz_name);
  s->tz = tz;
  s->tz_name = name;
  return EAUDIT_OK;
}
