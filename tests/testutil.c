#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

eaudit_time tu_clock_fn(void *payload) {
  tu_clock *c = payload;
  eaudit_time t = c->now;
  c->now += c->step;
  return t;
}

int tu_random_fn(uint8_t *buf, size_t len, void *payload) {
  uint64_t *s = payload;
  for (size_t i = 0; i < len; i++) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    buf[i] = (uint8_t)(*s >> 24);
  }
  return 0;
}

void tu_remove_store(const char *path) {
  if (strncmp(path, "postgres", 8) == 0)
    return; /* a database: tu_run drops it */
  char b[4096];
  unlink(path);
  snprintf(b, sizeof b, "%s-wal", path);
  unlink(b);
  snprintf(b, sizeof b, "%s-shm", path);
  unlink(b);
  snprintf(b, sizeof b, "%s-journal", path);
  unlink(b);
}

void tu_temp_path(char *buf, size_t size, const char *name) {
  const char *dir = getenv("EAUDIT_TEST_TMP");
  if (!dir)
    dir = "/tmp";
  snprintf(buf, size, "%s/%s-%ld.db", dir, name, (long)getpid());
  tu_remove_store(buf);
}

eaudit_options *tu_options(tu_clock *clock, uint64_t *seed) {
  eaudit_options *o = NULL;
  ck_assert_int_eq(eaudit_options_new(&o), 0);
  if (clock)
    ck_assert_int_eq(eaudit_options_set_clock(o, tu_clock_fn, clock), 0);
  if (seed)
    ck_assert_int_eq(eaudit_options_set_random(o, tu_random_fn, seed), 0);
  return o;
}

eaudit_event *tu_event(int type, eaudit_time at, int64_t subject) {
  eaudit_event *ev = NULL;
  ck_assert_int_eq(eaudit_event_new(&ev), 0);
  ck_assert_int_eq(eaudit_event_set(ev, EAUDIT_FIELD_TYPE, type), 0);
  ck_assert_int_eq(eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, at), 0);
  if (subject >= 0) {
    ck_assert_int_eq(eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, subject), 0);
    ck_assert_int_eq(eaudit_event_set(ev, EAUDIT_FIELD_ACTOR, subject), 0);
  }
  return ev;
}

eaudit_time tu_utc(int y, int mo, int d, int h, int mi, int s) {
  /* Days from civil (Howard Hinnant's algorithm). */
  y -= mo <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  long days = era * 146097 + doe - 719468;
  return ((eaudit_time)days * 86400 + h * 3600 + mi * 60 + s) * 1000000;
}

static void pg_drop_created(void);
static int pg_available(const char **why);
static long run_pid; /* the suite's process: names its databases */

int tu_run(Suite *s) {
  run_pid = (long)getpid();
  if (tu_backend_pg()) {
    const char *why = NULL;
    if (!pg_available(&why)) {
      const char *req = getenv("EAUDIT_REQUIRE_PG");
      int have_libpq = 0;
#ifdef EAUDIT_HAVE_LIBPQ
      have_libpq = 1;
#endif
      /* As test_ship: a build without PostgreSQL cannot be required to
       * run on it. */
      if (req && strcmp(req, "1") == 0 && have_libpq) {
        fprintf(stderr, "EAUDIT_REQUIRE_PG=1 but %s\n", why);
        srunner_free(srunner_create(s));
        return EXIT_FAILURE;
      }
      fprintf(stderr, "PostgreSQL backend run skipped: %s\n", why);
      srunner_free(srunner_create(s));
      return 77;
    }
  }
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (tu_backend_pg())
    pg_drop_created();
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- the store backend under test ---- */

int tu_backend_pg(void) {
  const char *b = getenv("EAUDIT_TEST_BACKEND");
  return b && (strcmp(b, "postgresql") == 0 || strcmp(b, "postgres") == 0 ||
               strcmp(b, "pg") == 0);
}

static char last_target[1024];

const char *tu_store_last_target(void) { return last_target; }

static int is_uri(const char *t) { return strncmp(t, "postgres", 8) == 0; }

#ifdef EAUDIT_HAVE_LIBPQ
#include "pg_internal.h"

#include <libpq-fe.h>
#include <signal.h>
#include <sodium.h>
#include <sys/wait.h>

const char *tu_pg_base(void) {
  const char *b = getenv("EAUDIT_TEST_PG");
  return b && *b ? b : NULL;
}

static void quiet(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

PGconn *tu_pg_open(const char *uri) {
  PGconn *c = PQconnectdb(uri);
  ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect %s: %s", uri,
                PQerrorMessage(c));
  PQsetNoticeProcessor(c, quiet, NULL);
  return c;
}

static int pg_available(const char **why) {
  if (tu_pg_base() == NULL) {
    *why = "EAUDIT_TEST_PG is not set (scripts/pg-cluster.sh start; eval "
           "\"$(scripts/pg-cluster.sh env)\")";
    return 0;
  }
  PGconn *c = PQconnectdb(tu_pg_base());
  int ok = PQstatus(c) == CONNECTION_OK;
  PQfinish(c);
  if (!ok)
    *why = "the server of EAUDIT_TEST_PG does not answer";
  return ok;
}

void tu_pg_do(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK ||
                    PQresultStatus(r) == PGRES_TUPLES_OK,
                "%s: %s", sql, PQerrorMessage(c));
  PQclear(r);
}

static char pg_val[4096];
const char *tu_pg_one(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
                PQerrorMessage(c));
  ck_assert_msg(PQntuples(r) >= 1, "%s: no row", sql);
  snprintf(pg_val, sizeof pg_val, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  return pg_val;
}

int64_t tu_pg_int(PGconn *c, const char *sql) {
  return strtoll(tu_pg_one(c, sql), NULL, 10);
}

/* A URI for database db on the server of EAUDIT_TEST_PG. */
void tu_pg_uri_for(char *out, size_t size, const char *db) {
  char *err = NULL;
  PQconninfoOption *o = PQconninfoParse(tu_pg_base(), &err);
  ck_assert_msg(o != NULL, "EAUDIT_TEST_PG: %s", err ? err : "?");
  const char *host = NULL, *port = NULL, *user = NULL;
  for (PQconninfoOption *p = o; p->keyword; p++) {
    if (p->val == NULL)
      continue;
    if (strcmp(p->keyword, "host") == 0)
      host = p->val;
    else if (strcmp(p->keyword, "port") == 0)
      port = p->val;
    else if (strcmp(p->keyword, "user") == 0)
      user = p->val;
  }
  int n = snprintf(out, size, "postgresql:///%s?connect_timeout=10", db);
  if (host)
    n += snprintf(out + n, size - (size_t)n, "&host=%s", host);
  if (port)
    n += snprintf(out + n, size - (size_t)n, "&port=%s", port);
  if (user)
    snprintf(out + n, size - (size_t)n, "&user=%s", user);
  PQconninfoFree(o);
}

static int own_db_counter;

void tu_pg_create_db(const char *prefix, char *db, size_t db_size, char *uri,
                     size_t uri_size) {
  snprintf(db, db_size, "%s_%ld_%d", prefix, (long)getpid(), own_db_counter++);
  PGconn *c = tu_pg_open(tu_pg_base());
  char sql[256];
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", db);
  tu_pg_do(c, sql);
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
  tu_pg_do(c, sql);
  PQfinish(c);
  tu_pg_uri_for(uri, uri_size, db);
}

void tu_pg_drop_db(const char *db) {
  PGconn *c = tu_pg_open(tu_pg_base());
  char sql[256];
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
  tu_pg_do(c, sql);
  PQfinish(c);
}

pid_t tu_spawn_shipper(const char *path, const char *uri, size_t batch) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    eaudit_store *s = NULL;
    int rc = eaudit_store_open(&s, path, NULL);
    int64_t n = 0;
    if (rc == 0)
      rc = eaudit_store_ship(s, uri, batch, &n);
    if (rc)
      fprintf(stderr, "shipper %s: %s\n", path, eaudit_error_last()->message);
    eaudit_store_free(s);
    _exit(rc ? 1 : 0);
  }
  return pid;
}

int64_t tu_pg_site_head(PGconn *c, const uint8_t site[16]) {
  char hex[33], sql[256];
  sodium_bin2hex(hex, sizeof hex, site, 16);
  snprintf(sql, sizeof sql,
           "SELECT coalesce((SELECT head_seq FROM eaudit.sites WHERE site_id"
           " = '\\x%s'), 0)",
           hex);
  return tu_pg_int(c, sql);
}

int64_t tu_pg_wait_site_head(PGconn *c, const uint8_t site[16], int64_t min) {
  int64_t head = tu_pg_site_head(c, site);
  for (int spin = 0; spin < 600000 && head < min; spin++) {
    usleep(200);
    head = tu_pg_site_head(c, site);
  }
  ck_assert_int_ge(head, min);
  return head;
}

int64_t tu_kill_shipper_in_batch(PGconn *c, const uint8_t site[16],
                                 pid_t pid) {
  char lock[128];
  snprintf(lock, sizeof lock, "SELECT pg_advisory_lock(%d, %d)",
           EAUDIT__PG_SITE_LOCK, eaudit__pg_site_key(site));
  tu_pg_do(c, lock);
  int64_t head = tu_pg_site_head(c, site);
  ck_assert_int_eq(kill(pid, SIGKILL), 0);
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  snprintf(lock, sizeof lock, "SELECT pg_advisory_unlock(%d, %d)",
           EAUDIT__PG_SITE_LOCK, eaudit__pg_site_key(site));
  tu_pg_do(c, lock);
  /* Nothing committed after the head was read: the batch died. */
  ck_assert_int_eq(tu_pg_site_head(c, site), head);
  return head;
}

/* Databases are named tu_<name>_<suite pid>_<pid>_<n>: the suite's
 * process drops every one of its run at the end, including those of
 * forked tests that failed before their teardown. */
static int db_counter;

static void pg_target(char *buf, size_t size, const char *name) {
  char clean[21];
  size_t k = 0;
  for (const char *p = name; *p && k < sizeof clean - 1; p++) {
    char ch = *p;
    if (ch >= 'A' && ch <= 'Z')
      ch = (char)(ch - 'A' + 'a');
    clean[k++] = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ? ch
                                                                       : '_';
  }
  clean[k] = '\0';
  char db[64];
  snprintf(db, sizeof db, "tu_%s_%ld_%ld_%d", clean, run_pid ? run_pid : 0L,
           (long)getpid(), db_counter++);
  PGconn *c = tu_pg_open(tu_pg_base());
  char sql[160];
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", db);
  tu_pg_do(c, sql);
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
  tu_pg_do(c, sql);
  PQfinish(c);
  tu_pg_uri_for(buf, size, db);
}

static void pg_drop_created(void) {
  if (tu_pg_base() == NULL)
    return;
  PGconn *c = PQconnectdb(tu_pg_base());
  if (PQstatus(c) != CONNECTION_OK) {
    PQfinish(c);
    return;
  }
  PQsetNoticeProcessor(c, quiet, NULL);
  char pat[64];
  snprintf(pat, sizeof pat, "tu\\_%%\\_%ld\\_%%", run_pid);
  const char *vals[1] = {pat};
  PGresult *r = PQexecParams(
      c, "SELECT datname FROM pg_database WHERE datname LIKE $1", 1, NULL,
      vals, NULL, NULL, 0);
  for (int i = 0; r && PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r);
       i++) {
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)",
             PQgetvalue(r, i, 0));
    PQclear(PQexec(c, sql));
  }
  PQclear(r);
  PQfinish(c);
}

static void pg_sql(const char *target, const char *sql, char *out,
                   size_t size) {
  PGconn *c = tu_pg_open(target);
  PGresult *r = PQexec(c, sql);
  ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK ||
                    PQresultStatus(r) == PGRES_TUPLES_OK,
                "%s: %s", sql, PQerrorMessage(c));
  if (out) {
    ck_assert_msg(PQntuples(r) >= 1, "%s: no row", sql);
    snprintf(out, size, "%s", PQgetvalue(r, 0, 0));
  }
  PQclear(r);
  PQfinish(c);
}

/* Every row of the central tables, as text, in a fixed order. */
static void pg_digest(const char *target, char out[65]);

#else /* built without PostgreSQL */

static int pg_available(const char **why) {
  *why = "the library was built without PostgreSQL";
  return 0;
}
static void pg_drop_created(void) {}
static void pg_target(char *buf, size_t size, const char *name) {
  (void)buf;
  (void)size;
  (void)name;
  ck_abort_msg("no PostgreSQL in this build");
}
static void pg_sql(const char *target, const char *sql, char *out,
                   size_t size) {
  (void)target;
  (void)sql;
  (void)out;
  (void)size;
  ck_abort_msg("no PostgreSQL in this build");
}
#endif

void tu_store_target(char *buf, size_t size, const char *name) {
  if (tu_backend_pg())
    pg_target(buf, size, name);
  else
    tu_temp_path(buf, size, name);
  snprintf(last_target, sizeof last_target, "%s", buf);
}

eaudit_store *tu_open_at(const char *target, tu_clock *clock, uint64_t *seed) {
  eaudit_options *o = tu_options(clock, seed);
  eaudit_store *s = NULL;
  ck_assert_int_eq(eaudit_store_open(&s, target, o), 0);
  eaudit_options_free(o);
  return s;
}

eaudit_findings *tu_findings(eaudit_store *s, const char *rule) {
  eaudit_finding_query *q = NULL;
  ck_assert_int_eq(eaudit_finding_query_new(&q), 0);
  if (rule)
    ck_assert_int_eq(eaudit_finding_query_set_rule(q, rule), 0);
  eaudit_findings *l = NULL;
  ck_assert_int_eq(eaudit_store_findings(s, q, &l), 0);
  eaudit_finding_query_free(q);
  return l;
}

size_t tu_nfind(eaudit_store *s, const char *rule) {
  eaudit_findings *l = tu_findings(s, rule);
  size_t n = eaudit_findings_size(l);
  eaudit_findings_free(l);
  return n;
}

int tu_store_open(eaudit_store **out, const char *name,
                  const eaudit_options *o) {
  char t[1024];
  tu_store_target(t, sizeof t, name);
  return eaudit_store_open(out, t, o);
}

#include <sqlite3.h>

static void sqlite_sql(const char *path, const char *sql, char *out,
                       size_t size) {
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
                   SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  if (out == NULL) { /* every statement of the text */
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : "?");
    sqlite3_close(db);
    return;
  }
  sqlite3_stmt *st = NULL;
  ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
                "%s: %s", sql, sqlite3_errmsg(db));
  int rc = sqlite3_step(st);
  ck_assert_msg(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s: %s", sql,
                sqlite3_errmsg(db));
  if (out) {
    ck_assert_msg(rc == SQLITE_ROW, "%s: no row", sql);
    const char *t = (const char *)sqlite3_column_text(st, 0);
    snprintf(out, size, "%s", t ? t : "");
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
}

void tu_store_sql(const char *target, const char *sqlite_sql_text,
                  const char *pg_sql_text) {
  const char *sql = is_uri(target) ? pg_sql_text : sqlite_sql_text;
  ck_assert_msg(sql != NULL, "no SQL for this backend");
  if (is_uri(target))
    pg_sql(target, sql, NULL, 0);
  else
    sqlite_sql(target, sql, NULL, 0);
}

void tu_store_value(const char *target, const char *sqlite_sql_text,
                    const char *pg_sql_text, char *out, size_t size) {
  const char *sql = is_uri(target) ? pg_sql_text : sqlite_sql_text;
  ck_assert_msg(sql != NULL, "no SQL for this backend");
  if (is_uri(target))
    pg_sql(target, sql, out, size);
  else
    sqlite_sql(target, sql, out, size);
}

#include <sodium.h>
#include <sqlite3.h>

#ifdef EAUDIT_HAVE_LIBPQ
static void pg_digest(const char *target, char out[65]) {
  static const char *const queries[] = {
      "SELECT origin, seq, id, occurred_at, recorded_at, type, subject,"
      " actor, door, grp, device, site, credential, reason, details, hash,"
      " search FROM eaudit.events ORDER BY origin, seq",
      "SELECT site_id, base_seq, base_hash, head_seq, head_hash, events, own"
      " FROM eaudit.sites ORDER BY site_id",
      "SELECT key, value FROM eaudit.settings ORDER BY key",
      "SELECT origin, seq, hash, through_at, actor FROM eaudit.anchors"
      " ORDER BY origin, seq",
      "SELECT key, value FROM eaudit.meta ORDER BY key"};
  PGconn *c = tu_pg_open(target);
  crypto_generichash_state h;
  crypto_generichash_init(&h, NULL, 0, 32);
  for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
    PGresult *r = PQexec(c, queries[q]);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", queries[q],
                  PQerrorMessage(c));
    for (int i = 0; i < PQntuples(r); i++)
      for (int k = 0; k < PQnfields(r); k++) {
        unsigned char null = (unsigned char)PQgetisnull(r, i, k);
        crypto_generichash_update(&h, &null, 1);
        crypto_generichash_update(&h, (const unsigned char *)PQgetvalue(r, i, k),
                                  (unsigned long long)PQgetlength(r, i, k) + 1);
      }
    PQclear(r);
  }
  PQfinish(c);
  unsigned char d[32];
  crypto_generichash_final(&h, d, 32);
  sodium_bin2hex(out, 65, d, 32);
}
#endif

void tu_store_digest(const char *path, char out[65]) {
#ifdef EAUDIT_HAVE_LIBPQ
  if (is_uri(path)) {
    pg_digest(path, out);
    return;
  }
#endif
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
                   SQLITE_OK);
  crypto_generichash_state h;
  crypto_generichash_init(&h, NULL, 0, 32);
  sqlite3_stmt *tables = NULL;
  ck_assert_int_eq(
      sqlite3_prepare_v2(db,
                         "SELECT name FROM sqlite_schema WHERE type = 'table' "
                         "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE "
                         "'names_fts_%' ORDER BY name",
                         -1, &tables, NULL),
      SQLITE_OK);
  while (sqlite3_step(tables) == SQLITE_ROW) {
    char sql[256];
    const char *name = (const char *)sqlite3_column_text(tables, 0);
    crypto_generichash_update(&h, (const unsigned char *)name, strlen(name));
    snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY 1", name);
    sqlite3_stmt *rows = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &rows, NULL), SQLITE_OK);
    while (sqlite3_step(rows) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(rows); c++) {
        unsigned char type = (unsigned char)sqlite3_column_type(rows, c);
        crypto_generichash_update(&h, &type, 1);
        const void *b = sqlite3_column_blob(rows, c);
        int n = sqlite3_column_bytes(rows, c);
        if (b && n)
          crypto_generichash_update(&h, b, (unsigned long long)n);
      }
    }
    sqlite3_finalize(rows);
  }
  sqlite3_finalize(tables);
  sqlite3_close(db);
  unsigned char d[32];
  crypto_generichash_final(&h, d, 32);
  sodium_bin2hex(out, 65, d, 32);
}

void tu_append_doors(eaudit_store *s, int n, int64_t subject, int64_t door,
                     eaudit_time t0, eaudit_time step) {
  eaudit_batch *b = NULL;
  ck_assert_int_eq(eaudit_batch_new(&b), 0);
  for (int i = 0; i < n; i++) {
    eaudit_event *ev = tu_event(EAUDIT_TYPE_DOOR_OPENED, t0 + i * step, subject);
    eaudit_event_set(ev, EAUDIT_FIELD_DOOR, door);
    ck_assert_int_eq(eaudit_batch_add(b, ev), 0);
    eaudit_event_free(ev);
  }
  EA_OK(eaudit_store_append_batch(s, b, NULL));
  eaudit_batch_free(b);
}

int64_t tu_count(eaudit_store *s, const eaudit_query *q) {
  eaudit_cursor *c = NULL;
  EA_OK(eaudit_store_query(s, q, &c));
  const eaudit_event *ev;
  int64_t n = 0;
  int rc;
  while ((rc = eaudit_cursor_next(c, &ev)) == 0)
    n++;
  ck_assert_int_eq(rc, EAUDIT_DONE);
  eaudit_cursor_free(c);
  return n;
}
