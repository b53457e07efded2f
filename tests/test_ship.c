/* Shipping site stores into the central PostgreSQL store (ship.h).
 *
 * The suite needs a server: EAUDIT_TEST_PG holds the conninfo URI of a
 * throwaway cluster (scripts/pg-cluster.sh; scripts/test.sh starts one).
 * Without it only the argument checks run and the suite exits 77 (skipped),
 * unless EAUDIT_REQUIRE_PG=1, when it fails. Each test works in a database
 * of its own, dropped at the end. */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef EAUDIT_HAVE_LIBPQ

#include "pg_internal.h"
#include "store_internal.h"

#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>

/* ---- a database per test ---- */

static char g_db[64];
static char g_uri[1024];

static tu_clock g_clock;
static uint64_t g_seed;

static void db_setup(void) {
  g_clock = (tu_clock){tu_utc(2026, 11, 1, 0, 0, 0), 1000};
  g_seed = 7;
  if (!tu_pg_base())
    return;
  tu_pg_create_db("eaudit_ship", g_db, sizeof g_db, g_uri, sizeof g_uri);
}

static void db_teardown(void) {
  if (!tu_pg_base() || !g_db[0])
    return;
  tu_pg_drop_db(g_db);
}

/* ---- site stores ---- */

static eaudit_store *site_new(const char *name, char *path, size_t size) {
  tu_temp_path(path, size, name);
  return tu_open_at(path, &g_clock, &g_seed);
}

/* n events from t0, step apart, with varied fields and details. */
static void site_fill(eaudit_store *s, int n, eaudit_time t0,
                      eaudit_time step) {
  eaudit_batch *b = NULL;
  EA_OK(eaudit_batch_new(&b));
  for (int i = 0; i < n; i++) {
    int type = i % 3 == 0 ? EAUDIT_TYPE_DOOR_OPEN_FAILED : EAUDIT_TYPE_DOOR_OPENED;
    eaudit_event *ev = tu_event(type, t0 + i * step, 100 + i % 7);
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_DOOR, 1 + i % 5));
    if (i % 4 == 0)
      EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_DEVICE, 40 + i % 3));
    if (type == EAUDIT_TYPE_DOOR_OPEN_FAILED) {
      EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_CREDENTIAL, EAUDIT_CREDENTIAL_KEYCARD));
      EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_REASON, EAUDIT_REASON_PERMISSIONS_EXPIRED));
    }
    if (i % 2 == 0) {
      char d[96];
      int dn = snprintf(d, sizeof d,
                        "{\"note\":\"Zürich tür %d\",\"n\":%d}", i, i);
      EA_OK(eaudit_event_set_details(ev, d, (size_t)dn));
    }
    EA_OK(eaudit_batch_add(b, ev));
    eaudit_event_free(ev);
    if (eaudit_batch_size(b) == 500 || i == n - 1) {
      EA_OK(eaudit_store_append_batch(s, b, NULL));
      eaudit_batch_clear(b);
    }
  }
  eaudit_batch_free(b);
}

static void site_hex(eaudit_store *s, uint8_t id[16], char hex[33]) {
  EA_OK(eaudit_store_id(s, id));
  sodium_bin2hex(hex, 33, id, 16);
}

static void site_sql(eaudit_store *s, const char *sql) {
  char *err = NULL;
  int rc = sqlite3_exec(s->db, sql, NULL, NULL, &err);
  ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : "?");
  sqlite3_free(err);
}

static int64_t central_count(PGconn *c, const char *hex) {
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM eaudit.events WHERE origin = '\\x%s'", hex);
  return tu_pg_int(c, sql);
}

/* Each event rendered as one text line, site side and central side. */
static const char site_rows_sql[] =
    "SELECT seq || '|' || lower(hex(id)) || '|' || occurred_at || '|' ||"
    " recorded_at || '|' || type || '|' || ifnull(subject, '') || '|' ||"
    " ifnull(actor, '') || '|' || ifnull(door, '') || '|' || ifnull(grp, '')"
    " || '|' || ifnull(device, '') || '|' || ifnull(site, '') || '|' ||"
    " credential || '|' || reason || '|' || lower(hex(ifnull(details, '')))"
    " || '|' || lower(hex(hash)) FROM events ORDER BY seq";
static const char central_rows_sql[] =
    "SELECT seq || '|' || encode(id, 'hex') || '|' || occurred_at || '|' ||"
    " recorded_at || '|' || type || '|' || coalesce(subject::text, '') || '|'"
    " || coalesce(actor::text, '') || '|' || coalesce(door::text, '') || '|'"
    " || coalesce(grp::text, '') || '|' || coalesce(device::text, '') || '|'"
    " || coalesce(site::text, '') || '|' || credential || '|' || reason ||"
    " '|' || encode(coalesce(details, ''), 'hex') || '|' || encode(hash,"
    " 'hex') FROM eaudit.events WHERE origin = decode($1, 'hex') ORDER BY seq";

static void assert_identical(eaudit_store *s, PGconn *c, const char *hex,
                             int64_t expect) {
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_prepare_v2(s->db, site_rows_sql, -1, &st, NULL),
                   SQLITE_OK);
  const char *params[1] = {hex};
  PGresult *r = PQexecParams(c, central_rows_sql, 1, NULL, params, NULL, NULL, 0);
  ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s",
                PQerrorMessage(c));
  int64_t n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    ck_assert_msg(n < PQntuples(r), "central lacks seq %lld", (long long)n + 1);
    const char *a = (const char *)sqlite3_column_text(st, 0);
    const char *b = PQgetvalue(r, (int)n, 0);
    ck_assert_msg(strcmp(a, b) == 0, "row %lld differs:\n site    %s\n central %s",
                  (long long)n, a, b);
    n++;
  }
  ck_assert_int_eq(n, PQntuples(r));
  ck_assert_int_eq(n, expect);
  sqlite3_finalize(st);
  PQclear(r);
}

#define T0 tu_utc(2026, 1, 20, 8, 0, 0)
#define HOUR INT64_C(3600000000)

/* ---- tests ---- */

START_TEST(schema_creation_is_idempotent_and_versioned) {
  EA_OK(eaudit_central_init(g_uri));
  EA_OK(eaudit_central_init(g_uri));
  PGconn *c = tu_pg_open(g_uri);
  ck_assert_int_eq(tu_pg_int(c, "SELECT value FROM eaudit.meta WHERE key = "
                             "'schema_version'"),
                   EAUDIT_CENTRAL_SCHEMA_VERSION);
  ck_assert_str_eq(tu_pg_one(c, "SELECT relkind FROM pg_class WHERE oid = "
                             "'eaudit.events'::regclass"),
                   "p");
  ck_assert_str_eq(tu_pg_one(c, "SELECT pg_get_partkeydef('eaudit.events'::regclass)"),
                   "RANGE (occurred_at)");
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM pg_indexes WHERE schemaname"
                             " = 'eaudit' AND tablename = 'events'"),
                   11);
  ck_assert_str_eq(tu_pg_one(c, "SELECT indexdef LIKE '%USING gin (search)%' FROM"
                             " pg_indexes WHERE indexname = 'events_search'"),
                   "t");
  /* A newer schema is refused and left alone. */
  tu_pg_do(c, "UPDATE eaudit.meta SET value = 99 WHERE key = 'schema_version'");
  ck_assert_int_eq(eaudit_central_init(g_uri), EAUDIT_ESCHEMA);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "99"));
  char path[512];
  eaudit_store *s = site_new("ship-schema", path, sizeof path);
  site_fill(s, 3, T0, HOUR);
  int64_t n = -1;
  ck_assert_int_eq(eaudit_store_ship(s, g_uri, 0, &n), EAUDIT_ESCHEMA);
  ck_assert_int_eq(n, 0);
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.events"), 0);
  ck_assert_int_eq(tu_pg_int(c, "SELECT value FROM eaudit.meta"), 99);
  eaudit_store_free(s);
  PQfinish(c);
}
END_TEST

START_TEST(ship_sends_every_event_once_and_identical) {
  char path[512], hex[33];
  uint8_t id[16];
  eaudit_store *s = site_new("ship-basic", path, sizeof path);
  /* 250 events 8 hours apart: 2026-01-20 .. 2026-04-12, four months. */
  site_fill(s, 250, T0, 8 * HOUR);
  site_hex(s, id, hex);
  int64_t n = -1;
  EA_OK(eaudit_store_ship(s, g_uri, 64, &n));
  ck_assert_int_eq(n, 250);
  EA_OK(eaudit_store_ship(s, g_uri, 64, &n));
  ck_assert_int_eq(n, 0);
  PGconn *c = tu_pg_open(g_uri);
  assert_identical(s, c, hex, 250);
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(DISTINCT id) FROM eaudit.events"),
                   250);
  /* The cursor is the site's head. */
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT head_seq || ' ' || encode(head_hash, 'hex') || ' ' ||"
           " events || ' ' || base_seq FROM eaudit.sites WHERE site_id ="
           " '\\x%s'",
           hex);
  char want[256];
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_prepare_v2(s->db,
                                      "SELECT seq || ' ' || lower(hex(hash)) "
                                      "FROM head",
                                      -1, &st, NULL),
                   SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  snprintf(want, sizeof want, "%s 250 0", sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  ck_assert_str_eq(tu_pg_one(c, sql), want);
  /* The months shipped and the next one have partitions, nothing else. */
  ck_assert_str_eq(
      tu_pg_one(c, "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM"
                " pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE"
                " i.inhparent = 'eaudit.events'::regclass"),
      "events_2026_01,events_2026_02,events_2026_03,events_2026_04,"
      "events_2026_05");
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.events_2026_02"),
                   3 * 28);
  /* Free text over the details. */
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.events WHERE search"
                             " @@ to_tsquery('simple', 'zürich')"),
                   125);
  int64_t checked = -1;
  EA_OK(eaudit_central_verify_site(g_uri, id, &checked));
  ck_assert_int_eq(checked, 250);
  PQfinish(c);
  eaudit_store_free(s);
}
END_TEST

START_TEST(ship_after_more_appends_continues_the_chain) {
  char path[512], hex[33];
  uint8_t id[16];
  eaudit_store *s = site_new("ship-more", path, sizeof path);
  site_hex(s, id, hex);
  int64_t n = -1;
  /* An empty site registers with its genesis link. */
  EA_OK(eaudit_store_ship(s, g_uri, 10, &n));
  ck_assert_int_eq(n, 0);
  EA_OK(eaudit_central_verify_site(g_uri, id, &n));
  ck_assert_int_eq(n, 0);
  site_fill(s, 50, T0, HOUR);
  EA_OK(eaudit_store_ship(s, g_uri, 10, &n));
  ck_assert_int_eq(n, 50);
  site_fill(s, 30, T0 + 60 * HOUR, HOUR);
  /* JSON that PostgreSQL's jsonb refuses still ships. */
  eaudit_event *ev = tu_event(EAUDIT_TYPE_DOOR_OPENED, T0 + 90 * HOUR, 5);
  static const char odd[] = "{\"x\":\"a\\u0000b\\ud800c\"}";
  EA_OK(eaudit_event_set_details(ev, odd, sizeof odd - 1));
  EA_OK(eaudit_store_append(s, ev));
  eaudit_event_free(ev);
  EA_OK(eaudit_store_ship(s, g_uri, 7, &n));
  ck_assert_int_eq(n, 31);
  EA_OK(eaudit_central_verify_site(g_uri, id, &n));
  ck_assert_int_eq(n, 81);
  PGconn *c = tu_pg_open(g_uri);
  assert_identical(s, c, hex, 81);
  PQfinish(c);
  eaudit_store_free(s);
}
END_TEST

START_TEST(a_broken_site_chain_is_refused_and_nothing_written) {
  char path[512], hex[33];
  uint8_t id[16];
  eaudit_store *s = site_new("ship-broken", path, sizeof path);
  site_fill(s, 20, T0, HOUR);
  site_hex(s, id, hex);
  site_sql(s, "UPDATE events SET subject = 999 WHERE seq = 5");
  int64_t n = -1;
  ck_assert_int_eq(eaudit_store_ship(s, g_uri, 0, &n), EAUDIT_ETAMPER);
  ck_assert_int_eq(n, 0);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "seq 5"));
  PGconn *c = tu_pg_open(g_uri);
  ck_assert_int_eq(central_count(c, hex), 0);
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.sites"), 0);
  /* Repaired, it ships; a later gap stops at the batch holding it. */
  site_sql(s, "UPDATE events SET subject = 104 WHERE seq = 5");
  site_sql(s, "DELETE FROM events WHERE seq = 17");
  ck_assert_int_eq(eaudit_store_ship(s, g_uri, 8, &n), EAUDIT_ETAMPER);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "seq 17"));
  ck_assert_int_eq(n, 16);
  ck_assert_int_eq(central_count(c, hex), 16);
  EA_OK(eaudit_central_verify_site(g_uri, id, &n));
  ck_assert_int_eq(n, 16);
  PQfinish(c);
  eaudit_store_free(s);
}
END_TEST

START_TEST(damage_in_the_central_store_is_named) {
  char path[512], hex[33];
  uint8_t id[16];
  eaudit_store *s = site_new("ship-central-damage", path, sizeof path);
  site_fill(s, 30, T0, HOUR);
  site_hex(s, id, hex);
  int64_t n;
  EA_OK(eaudit_store_ship(s, g_uri, 0, &n));
  PGconn *c = tu_pg_open(g_uri);
  char sql[256];
  snprintf(sql, sizeof sql,
           "UPDATE eaudit.events SET door = 77 WHERE seq = 12 AND origin = "
           "'\\x%s'",
           hex);
  tu_pg_do(c, sql);
  ck_assert_int_eq(eaudit_central_verify_site(g_uri, id, &n), EAUDIT_ETAMPER);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "seq 12"));
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "modified"));
  snprintf(sql, sizeof sql,
           "DELETE FROM eaudit.events WHERE seq = 12 AND origin = '\\x%s'", hex);
  tu_pg_do(c, sql);
  ck_assert_int_eq(eaudit_central_verify_site(g_uri, id, &n), EAUDIT_ETAMPER);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "deleted"));
  /* A site that never shipped here. */
  uint8_t other[16] = {1, 2, 3};
  ck_assert_int_eq(eaudit_central_verify_site(g_uri, other, &n),
                   EAUDIT_ENOTFOUND);
  PQfinish(c);
  eaudit_store_free(s);
}
END_TEST

START_TEST(retention_anchor_is_the_base_and_unshipped_purges_are_refused) {
  char path[512], hex[33];
  uint8_t id[16];
  g_clock.now = T0 + 100 * 24 * HOUR + 12 * HOUR;
  eaudit_store *s = site_new("ship-purged", path, sizeof path);
  site_fill(s, 100, T0, 24 * HOUR);
  site_hex(s, id, hex);
  int64_t n;
  /* Purged before its first shipping: the chain starts at the anchor. */
  EA_OK(eaudit_store_purge(s, T0 + 10 * 24 * HOUR, 1, 0, &n));
  ck_assert_int_eq(n, 10);
  EA_OK(eaudit_store_ship(s, g_uri, 0, &n));
  ck_assert_int_eq(n, 91); /* 90 left and the retention_purged event */
  EA_OK(eaudit_central_verify_site(g_uri, id, &n));
  ck_assert_int_eq(n, 91);
  PGconn *c = tu_pg_open(g_uri);
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT base_seq FROM eaudit.sites WHERE site_id = '\\x%s'", hex);
  ck_assert_int_eq(tu_pg_int(c, sql), 10);
  /* Events purged before they were shipped leave a hole it cannot fill. */
  g_clock.now = T0 + 171 * 24 * HOUR;
  site_fill(s, 20, T0 + 150 * 24 * HOUR, HOUR);
  site_fill(s, 1, T0 + 170 * 24 * HOUR, HOUR); /* past the lateness cap */
  EA_OK(eaudit_store_purge(s, T0 + 150 * 24 * HOUR + 5 * HOUR, 1, 0, &n));
  ck_assert_int_eq(n, 96); /* seq 11..106 */
  ck_assert_int_eq(eaudit_store_ship(s, g_uri, 0, &n), EAUDIT_ECURSOR);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "purged"));
  ck_assert_int_eq(central_count(c, hex), 91);
  PQfinish(c);
  eaudit_store_free(s);
}
END_TEST

/* The test: three sites ship into one central store at once; one
 * shipper is killed with SIGKILL midway and started again; in the end every
 * event is there exactly once and every site's chain verifies. */
#define SITES 3
#define KILLED 1
static const int site_events[SITES] = {900, 2000, 700};

START_TEST(concurrent_shippers_survive_a_kill) {
  char paths[SITES][512], hex[SITES][33];
  uint8_t ids[SITES][16];
  for (int i = 0; i < SITES; i++) {
    char name[32];
    snprintf(name, sizeof name, "ship-conc-%d", i);
    eaudit_store *s = site_new(name, paths[i], sizeof paths[i]);
    site_fill(s, site_events[i], T0 + i * HOUR, 2 * HOUR);
    site_hex(s, ids[i], hex[i]);
    eaudit_store_free(s);
  }
  EA_OK(eaudit_central_init(g_uri));
  PGconn *c = tu_pg_open(g_uri);
  pid_t pids[SITES];
  for (int i = 0; i < SITES; i++)
    pids[i] = tu_spawn_shipper(paths[i], g_uri, i == KILLED ? 10 : 50);
  /* Wait until the victim committed a few batches, then hold its lock so
   * that it stops inside its next batch, and kill it there. */
  tu_pg_wait_site_head(c, ids[KILLED], 30);
  int64_t head = tu_kill_shipper_in_batch(c, ids[KILLED], pids[KILLED]);
  ck_assert_int_lt(head, site_events[KILLED]); /* midway */
  /* Whole batches only: the cursor is a multiple of the batch size. */
  ck_assert_int_eq(head % 10, 0);
  ck_assert_int_eq(central_count(c, hex[KILLED]), head);
  /* Started again, it resumes after the cursor. */
  pids[KILLED] = tu_spawn_shipper(paths[KILLED], g_uri, 10);
  int status;
  for (int i = 0; i < SITES; i++) {
    ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "shipper %d failed", i);
  }
  int64_t total = 0;
  for (int i = 0; i < SITES; i++) {
    int64_t n = -1;
    EA_OK(eaudit_central_verify_site(g_uri, ids[i], &n));
    ck_assert_int_eq(n, site_events[i]);
    ck_assert_int_eq(central_count(c, hex[i]), site_events[i]);
    total += site_events[i];
  }
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.events"), total);
  ck_assert_int_eq(
      tu_pg_int(c, "SELECT count(*) FROM (SELECT DISTINCT origin, id FROM "
                "eaudit.events) d"),
      total);
  ck_assert_int_eq(
      tu_pg_int(c, "SELECT count(*) FROM (SELECT DISTINCT origin, seq FROM "
                "eaudit.events) d"),
      total);
  for (int i = 0; i < SITES; i++) {
    eaudit_store *s = tu_open_at(paths[i], &g_clock, &g_seed);
    assert_identical(s, c, hex[i], site_events[i]);
    eaudit_store_free(s);
  }
  PQfinish(c);
}
END_TEST

/* Set a site's central cursor back to one of its event seqs; the rows
 * after it stay. */
static void move_cursor(PGconn *c, const char *hex, int seq) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "UPDATE eaudit.sites SET head_seq = %d, head_hash = (SELECT hash"
           " FROM eaudit.events WHERE origin = '\\x%s' AND seq = %d)"
           " WHERE site_id = '\\x%s'",
           seq, hex, seq, hex);
  tu_pg_do(c, sql);
}

/* Rows already present past the cursor must be the same events; a failed
 * insert inside a batch rolls the whole batch back. */
START_TEST(rows_past_the_cursor_must_match_and_failed_inserts_roll_back) {
  char path[512], hex[33];
  uint8_t id[16];
  eaudit_store *s = site_new("ship-dup", path, sizeof path);
  site_fill(s, 600, T0, HOUR);
  site_hex(s, id, hex);
  int64_t n = -1;
  EA_OK(eaudit_store_ship(s, g_uri, 0, &n));
  ck_assert_int_eq(n, 600);
  PGconn *c = tu_pg_open(g_uri);
  char sql[512];
  /* Move the cursor back to seq 100: the rows after it are found again,
   * identical, and counted as nothing new. */
  move_cursor(c, hex, 100);
  EA_OK(eaudit_store_ship(s, g_uri, 0, &n));
  ck_assert_int_eq(n, 0);
  ck_assert_int_eq(central_count(c, hex), 600);
  EA_OK(eaudit_central_verify_site(g_uri, id, &n));
  ck_assert_int_eq(n, 600);
  /* A row there that is not the same event is refused. */
  move_cursor(c, hex, 100);
  snprintf(sql, sizeof sql,
           "UPDATE eaudit.events SET hash = sha256(hash) WHERE origin ="
           " '\\x%s' AND seq = 400",
           hex);
  tu_pg_do(c, sql);
  ck_assert_int_eq(eaudit_store_ship(s, g_uri, 0, &n), EAUDIT_ETAMPER);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "seq 400"));
  /* An insert the server refuses in the middle of a batch: nothing of it
   * stays, and the connection's next batch still works. */
  site_fill(s, 300, T0 + 700 * HOUR, HOUR);
  tu_pg_do(c, "ALTER TABLE eaudit.events ADD CONSTRAINT no_door_3"
           " CHECK (door <> 3) NOT VALID");
  move_cursor(c, hex, 600);
  ck_assert_int_eq(eaudit_store_ship(s, g_uri, 0, &n), EAUDIT_EIO);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "23514"));
  ck_assert_int_eq(n, 0);
  ck_assert_int_eq(central_count(c, hex), 600);
  tu_pg_do(c, "ALTER TABLE eaudit.events DROP CONSTRAINT no_door_3");
  EA_OK(eaudit_store_ship(s, g_uri, 0, &n));
  ck_assert_int_eq(n, 300);
  ck_assert_int_eq(central_count(c, hex), 900);
  PQfinish(c);
  eaudit_store_free(s);
}
END_TEST

/* A cut connection (the server ends the shipper's session mid-way) fails
 * the call with EIO; the next call resumes after the cursor. */
START_TEST(a_cut_connection_fails_with_eio_and_the_next_call_resumes) {
  char path[512], hex[33];
  uint8_t id[16];
  eaudit_store *s = site_new("ship-cut", path, sizeof path);
  site_fill(s, 1500, T0, HOUR);
  site_hex(s, id, hex);
  eaudit_store_free(s);
  EA_OK(eaudit_central_init(g_uri));
  PGconn *c = tu_pg_open(g_uri);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    eaudit_store *cs = NULL;
    int64_t n = 0;
    int rc = eaudit_store_open(&cs, path, NULL);
    if (rc == 0)
      rc = eaudit_store_ship(cs, g_uri, 10, &n);
    int io = rc == EAUDIT_EIO &&
             strstr(eaudit_error_last()->message, "terminat") != NULL;
    if (!io)
      fprintf(stderr, "cut shipper: %d %s\n", rc, eaudit_error_last()->message);
    eaudit_store_free(cs);
    _exit(io ? 0 : 1);
  }
  tu_pg_wait_site_head(c, id, 30);
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
           " WHERE datname = '%s' AND application_name = 'entryfy-audit'",
           g_db);
  ck_assert_int_eq(tu_pg_int(c, sql), 1);
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "the cut shipper did not fail with EIO");
  int64_t head = tu_pg_site_head(c, id);
  ck_assert_int_lt(head, 1500);
  ck_assert_int_eq(central_count(c, hex), head);
  s = tu_open_at(path, &g_clock, &g_seed);
  int64_t n = -1;
  EA_OK(eaudit_store_ship(s, g_uri, 100, &n));
  ck_assert_int_eq(n, 1500 - head);
  EA_OK(eaudit_central_verify_site(g_uri, id, &n));
  ck_assert_int_eq(n, 1500);
  assert_identical(s, c, hex, 1500);
  eaudit_store_free(s);
  PQfinish(c);
}
END_TEST

/* The site's names reach the central store on every ship: upserted on
 * (kind, entity, valid_from), idempotent, erasures removed; names set on
 * the central store itself stay. */
START_TEST(names_ship_with_their_history_and_erasures) {
  char path[512], hex[33];
  uint8_t id[16];
  eaudit_store *s = site_new("ship-names", path, sizeof path);
  site_hex(s, id, hex);
  static const char odd[] = "Main\tLobby \\ B\xc3\xa4" "ck\ndoor";
  EA_OK(eaudit_store_set_name(s, EAUDIT_KIND_DOOR, 7, "Old lobby",
                              EAUDIT_TIME_NONE));
  EA_OK(eaudit_store_set_name(s, EAUDIT_KIND_DOOR, 7, odd, T0));
  EA_OK(eaudit_store_set_user(s, 42, "Erin \xc3\x8bxample",
                              EAUDIT_USER_ROLE_USER, EAUDIT_TIME_NONE));
  tu_append_doors(s, 3, 42, 7, T0 + HOUR, 1000000);
  int64_t n;
  EA_OK(eaudit_store_ship(s, g_uri, 0, &n));
  ck_assert_int_eq(n, 3);
  eaudit_store *central;
  EA_OK(eaudit_store_open(&central, g_uri, NULL));
  EA_OK(eaudit_store_set_name(central, EAUDIT_KIND_DOOR, 9, "Vault",
                              EAUDIT_TIME_NONE));
  EA_OK(eaudit_store_ship(s, g_uri, 0, &n)); /* names again: no change */
  ck_assert_int_eq(n, 0);
  PGconn *c = tu_pg_open(g_uri);
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.names"), 4);
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.name_words"), 9);
  char *name;
  EA_OK(eaudit_store_name_at(central, EAUDIT_KIND_DOOR, 7, T0 - 1, &name));
  ck_assert_str_eq(name, "Old lobby");
  eaudit_free(name);
  EA_OK(eaudit_store_name_at(central, EAUDIT_KIND_DOOR, 7, EAUDIT_TIME_NONE,
                             &name));
  ck_assert_str_eq(name, odd);
  eaudit_free(name);
  eaudit_query *q;
  EA_OK(eaudit_query_new(&q));
  const char *words[] = {"exa", "ERIN", "back", "lobby", "vault", "nobody"};
  const int64_t want[] = {3, 3, 3, 3, 0, 0};
  for (size_t i = 0; i < 6; i++) {
    EA_OK(eaudit_query_set_text(q, words[i]));
    ck_assert_msg(tu_count(central, q) == want[i], "%s", words[i]);
    ck_assert_int_eq(tu_count(s, q), want[i]);
  }
  /* An erasure at the site reaches the central store on the next ship. */
  EA_OK(eaudit_store_erase_names(s, EAUDIT_KIND_USER, 42));
  EA_OK(eaudit_store_set_name(s, EAUDIT_KIND_DOOR, 7, "Side door", T0));
  EA_OK(eaudit_store_ship(s, g_uri, 0, &n));
  ck_assert_int_eq(eaudit_store_name_at(central, EAUDIT_KIND_USER, 42,
                                        EAUDIT_TIME_NONE, &name),
                   EAUDIT_ENOTFOUND);
  EA_OK(eaudit_query_set_text(q, "erin"));
  ck_assert_int_eq(tu_count(central, q), 0);
  EA_OK(eaudit_query_set_text(q, "side"));
  ck_assert_int_eq(tu_count(central, q), 3);
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.names"), 3);
  ck_assert_int_eq(
      tu_pg_int(c, "SELECT count(*) FROM eaudit.name_words WHERE kind = 1"), 0);
  EA_OK(eaudit_store_name_at(central, EAUDIT_KIND_DOOR, 9, EAUDIT_TIME_NONE,
                             &name));
  ck_assert_str_eq(name, "Vault"); /* the central store's own */
  eaudit_free(name);
  eaudit_query_free(q);
  PQfinish(c);
  eaudit_store_free(central);
  eaudit_store_free(s);
}
END_TEST

/* ---- signed checkpoints ---- */

static const uint8_t SITE_SEED[32] = {5, 4, 3, 2, 1};
static const uint8_t OTHER_SEED[32] = {6, 6, 6};

/* Verify the site against its key: the outcome, its damage and first bad
 * seq. */
typedef struct signed_outcome {
  int rc, damage;
  int64_t first_bad, events, checkpoints, signed_through;
} signed_outcome;

static signed_outcome verify_signed(const uint8_t id[16], const uint8_t *pk,
                                    unsigned flags) {
  eaudit_verify_result *r = NULL;
  signed_outcome o;
  o.rc = eaudit_central_verify_site_signed(g_uri, id, pk, NULL, 0, flags, &r);
  ck_assert_msg(r != NULL, "no result: %d %s", o.rc,
                eaudit_error_last()->message);
  o.damage = eaudit_verify_result_damage(r);
  o.first_bad = eaudit_verify_result_first_bad_seq(r);
  o.events = eaudit_verify_result_events(r);
  o.checkpoints = eaudit_verify_result_checkpoints(r);
  o.signed_through = eaudit_verify_result_signed_through(r);
  eaudit_verify_result_free(r);
  return o;
}

/* The site's checkpoint records and the central copies, as hex lines. */
static void assert_checkpoints_shipped(eaudit_store *s, PGconn *c,
                                       const char *hex, int64_t expect) {
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_prepare_v2(s->db,
                                      "SELECT cseq || ' ' || last_seq || ' ' "
                                      "|| lower(hex(record)) FROM checkpoints"
                                      " ORDER BY cseq",
                                      -1, &st, NULL),
                   SQLITE_OK);
  const char *params[1] = {hex};
  PGresult *r = PQexecParams(c,
                             "SELECT cseq || ' ' || last_seq || ' ' ||"
                             " encode(record, 'hex') FROM eaudit.checkpoints"
                             " WHERE origin = decode($1, 'hex') ORDER BY cseq",
                             1, NULL, params, NULL, NULL, 0);
  ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
  int64_t n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    ck_assert_int_lt(n, PQntuples(r));
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0),
                     PQgetvalue(r, (int)n, 0));
    n++;
  }
  ck_assert_int_eq(n, PQntuples(r));
  ck_assert_int_eq(n, expect);
  PQclear(r);
  sqlite3_finalize(st);
}

START_TEST(signed_checkpoints_ship_and_guard_the_base) {
  char path[512], hex[33], sql[512];
  uint8_t id[16], pk[32], other[32];
  EA_OK(eaudit_signing_public_key(SITE_SEED, 32, pk));
  EA_OK(eaudit_signing_public_key(OTHER_SEED, 32, other));
  eaudit_store *s = site_new("ship-signed", path, sizeof path);
  site_hex(s, id, hex);
  EA_OK(eaudit_store_set_signing_key(s, SITE_SEED, 32));
  EA_OK(eaudit_store_set_checkpoint_policy(s, 10, 0));
  /* Checkpoints at 10, 20, 30, 40 and 50 (one per append of 10); five
   * events after the last. Twenty in January, the rest in October. */
  for (int k = 0; k < 5; k++)
    site_fill(s, 10, k < 2 ? T0 + k * 10 * 60000000LL
                           : tu_utc(2026, 10, 1, 0, 0, 0) + k * HOUR,
              60000000);
  site_fill(s, 5, tu_utc(2026, 10, 2, 0, 0, 0), 60000000);
  int64_t n;
  EA_OK(eaudit_store_ship(s, g_uri, 0, &n));
  ck_assert_int_eq(n, 55);
  PGconn *c = tu_pg_open(g_uri);
  assert_checkpoints_shipped(s, c, hex, 5);
  /* Shipping again sends nothing twice. */
  EA_OK(eaudit_store_ship(s, g_uri, 0, &n));
  ck_assert_int_eq(n, 0);
  assert_checkpoints_shipped(s, c, hex, 5);
  signed_outcome o = verify_signed(id, pk, 0);
  ck_assert_int_eq(o.rc, 0);
  ck_assert_int_eq(o.events, 55);
  ck_assert_int_eq(o.checkpoints, 5);
  ck_assert_int_eq(o.signed_through, 50);
  o = verify_signed(id, pk, EAUDIT_VERIFY_REQUIRE_SIGNED_TAIL);
  ck_assert_int_eq(o.rc, EAUDIT_ETAMPER);
  ck_assert_int_eq(o.damage, EAUDIT_DAMAGE_UNSIGNED);
  ck_assert_int_eq(o.first_bad, 51);
  o = verify_signed(id, other, 0);
  ck_assert_int_eq(o.rc, EAUDIT_EKEY);
  ck_assert_int_eq(o.damage, EAUDIT_DAMAGE_WRONG_KEY);
  /* The site's own off-device checkpoint: the newest, cseq 5. */
  uint8_t rec[EAUDIT_CHECKPOINT_SIZE];
  size_t len;
  EA_OK(eaudit_store_checkpoint_get(s, 0, rec, sizeof rec, &len));
  EA_OK(eaudit_central_verify_site_signed(g_uri, id, pk, rec, len, 0, NULL));

  /* The site purges its January events (a signed ANCHOR checkpoint moves
   * its base to 20); the central copy keeps them and still verifies: the
   * site's signed base is a link of its chain. */
  EA_OK(eaudit_store_purge(s, tu_utc(2026, 2, 1, 0, 0, 0), 1, 0, &n));
  ck_assert_int_eq(n, 20);
  EA_OK(eaudit_store_ship(s, g_uri, 0, &n));
  ck_assert_int_eq(n, 1); /* the retention_purged event */
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM eaudit.checkpoints WHERE origin = '\\x%s'",
           hex);
  ck_assert_int_eq(tu_pg_int(c, sql), 6);
  o = verify_signed(id, pk, 0);
  ck_assert_int_eq(o.rc, 0);
  ck_assert_int_eq(o.events, 56);
  /* A central purge of everything stops at the site's signed base. */
  eaudit_store *central = NULL;
  eaudit_options *opts = tu_options(&g_clock, &g_seed);
  EA_OK(eaudit_store_open(&central, g_uri, opts));
  eaudit_options_free(opts);
  EA_OK(eaudit_store_purge(central, tu_utc(2026, 12, 1, 0, 0, 0), 1, 0, &n));
  ck_assert_int_eq(n, 20);
  o = verify_signed(id, pk, 0);
  ck_assert_int_eq(o.rc, 0);
  ck_assert_int_eq(o.events, 36);
  EA_OK(eaudit_central_verify_site(g_uri, id, &n));

  /* Someone with write access deletes the oldest events left and rewrites
   * the base and the anchor to match: the unsigned check cannot tell, the
   * site's signatures can, and so can the store's verification. */
  snprintf(sql, sizeof sql,
           "BEGIN;"
           "UPDATE eaudit.sites SET base_seq = 25, events = events - 5,"
           " base_hash = (SELECT hash FROM eaudit.events WHERE origin ="
           " site_id AND seq = 25) WHERE site_id = '\\x%s';"
           "INSERT INTO eaudit.anchors(origin, seq, hash, through_at)"
           " SELECT site_id, base_seq, base_hash, 1 FROM eaudit.sites"
           " WHERE site_id = '\\x%s';"
           "DELETE FROM eaudit.events WHERE origin = '\\x%s' AND seq <= 25;"
           "COMMIT",
           hex, hex, hex);
  tu_pg_do(c, sql);
  EA_OK(eaudit_central_verify_site(g_uri, id, &n));
  ck_assert_int_eq(n, 31);
  o = verify_signed(id, pk, 0);
  ck_assert_int_eq(o.rc, EAUDIT_ETAMPER);
  ck_assert_int_eq(o.damage, EAUDIT_DAMAGE_DELETED);
  ck_assert_int_eq(o.first_bad, 21);
  eaudit_verify_result *r = NULL;
  ck_assert_int_eq(eaudit_store_verify(central, 1, NULL, NULL, 0,
                                       EAUDIT_VERIFY_NO_RECORD, &r),
                   EAUDIT_ETAMPER);
  ck_assert_int_eq(eaudit_verify_result_damage(r), EAUDIT_DAMAGE_DELETED);
  ck_assert_int_eq(eaudit_verify_result_first_bad_seq(r), 21);
  ck_assert_ptr_nonnull(strstr(eaudit_verify_result_message(r), hex));
  eaudit_verify_result_free(r);
  /* Deleting the site's checkpoints too leaves it unsigned. */
  snprintf(sql, sizeof sql,
           "DELETE FROM eaudit.checkpoints WHERE origin = '\\x%s'", hex);
  tu_pg_do(c, sql);
  o = verify_signed(id, pk, 0);
  ck_assert_int_eq(o.rc, EAUDIT_ETAMPER);
  ck_assert_int_eq(o.damage, EAUDIT_DAMAGE_UNSIGNED);
  eaudit_store_free(central);
  PQfinish(c);
  eaudit_store_free(s);
  tu_remove_store(path);
}
END_TEST

/* The site's vendor types, labels and user roles reach the central store
 * with its names; what the central store holds for a code stays. */
START_TEST(types_labels_and_roles_ship_with_the_names) {
  char path[512], hex[33];
  uint8_t id[16];
  eaudit_store *s = site_new("ship-types", path, sizeof path);
  site_hex(s, id, hex);
  eaudit_store *central;
  EA_OK(eaudit_store_open(&central, g_uri, NULL));
  EA_OK(eaudit_store_set_type_label(central, EAUDIT_TYPE_DOOR_OPENED,
                                    "Porte ouverte"));
  EA_OK(eaudit_store_register_type(s, 1000, "lift_called", "Lift called"));
  EA_OK(eaudit_store_set_type_label(s, EAUDIT_TYPE_DOOR_OPENED, "T\xc3\xbcr"));
  EA_OK(eaudit_store_set_type_label(s, EAUDIT_TYPE_GROUP_ADDED, "Zu"));
  EA_OK(eaudit_store_set_user(s, 43, "Ada Admin", EAUDIT_USER_ROLE_ADMIN,
                              EAUDIT_TIME_NONE));
  eaudit_event *ev = tu_event(1000, T0, 43);
  EA_OK(eaudit_store_append(s, ev));
  eaudit_event_free(ev);
  int64_t n;
  EA_OK(eaudit_store_ship(s, g_uri, 0, &n));
  ck_assert_int_eq(n, 1);
  EA_OK(eaudit_store_ship(s, g_uri, 0, &n)); /* again: no change */
  /* The open handle sees them at its next search (or write). */
  eaudit_query *q;
  EA_OK(eaudit_query_new(&q));
  EA_OK(eaudit_query_set_text(q, "lift"));
  ck_assert_int_eq(tu_count(central, q), 1);
  eaudit_query_free(q);
  ck_assert_str_eq(eaudit_store_type_name(central, 1000), "lift_called");
  ck_assert_str_eq(eaudit_store_type_label(central, EAUDIT_TYPE_DOOR_OPENED),
                   "Porte ouverte");
  ck_assert_str_eq(eaudit_store_type_label(central, EAUDIT_TYPE_GROUP_ADDED),
                   "Zu");
  eaudit_users *u;
  EA_OK(eaudit_store_users(central, NULL, 0, &u));
  ck_assert_uint_eq(eaudit_users_size(u), 1);
  int64_t uid;
  int role;
  EA_OK(eaudit_users_get(u, 0, &uid, NULL, &role, NULL, NULL));
  ck_assert_int_eq(uid, 43);
  ck_assert_int_eq(role, EAUDIT_USER_ROLE_ADMIN);
  eaudit_users_free(u);
  /* A type the central store registered under the code is kept. */
  PGconn *c = tu_pg_open(g_uri);
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.types"), 1);
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.labels"), 2);
  PQfinish(c);
  eaudit_store_free(central);
  eaudit_store_free(s);
}
END_TEST

/* The warnings a clash of vendor types logs. */
typedef struct clash_log {
  int n;
  char msg[4][512];
} clash_log;

static void clash_log_fn(int level, const char *message, void *payload) {
  clash_log *l = payload;
  if (level == EAUDIT_LOG_WARN && strstr(message, "vendor type") &&
      l->n < 4)
    snprintf(l->msg[l->n++], sizeof l->msg[0], "%s", message);
}

START_TEST(a_vendor_type_clash_keeps_the_central_row_and_warns) {
  char pa[512], pb[512], hex[33];
  uint8_t id[16];
  eaudit_store *a = site_new("clash-a", pa, sizeof pa);
  eaudit_store *b = site_new("clash-b", pb, sizeof pb);
  site_hex(b, id, hex);
  EA_OK(eaudit_store_register_type(a, 1000, "lift_called", "Lift called"));
  /* Site b has the code under another name, and the name under another
   * code. */
  EA_OK(eaudit_store_register_type(b, 1000, "elevator_called", "Elevator"));
  EA_OK(eaudit_store_register_type(b, 1001, "lift_called", "Lift"));
  EA_OK(eaudit_store_register_type(b, 1002, "gate_opened", "Gate opened"));
  site_fill(a, 3, T0, 1000000);
  site_fill(b, 3, T0, 1000000);
  int64_t n;
  EA_OK(eaudit_store_ship(a, g_uri, 0, &n));
  clash_log log = {0};
  eaudit_set_log(clash_log_fn, EAUDIT_LOG_WARN, &log);
  int rc = eaudit_store_ship(b, g_uri, 0, &n);
  eaudit_set_log(NULL, 0, NULL);
  EA_OK(rc);
  ck_assert_int_eq(n, 3);
  ck_assert_int_eq(log.n, 2);
  for (int i = 0; i < 2; i++) {
    ck_assert_msg(strstr(log.msg[i], hex) != NULL, "%s", log.msg[i]);
    ck_assert_msg(strstr(log.msg[i], "lift_called") != NULL, "%s",
                  log.msg[i]);
  }
  ck_assert_msg(strstr(log.msg[0], "vendor type 1000 \"elevator_called\"") &&
                    strstr(log.msg[0], "code 1000 as \"lift_called\""),
                "%s", log.msg[0]);
  ck_assert_msg(strstr(log.msg[1], "vendor type 1001 \"lift_called\"") &&
                    strstr(log.msg[1], "as code 1000"),
                "%s", log.msg[1]);
  /* The central rows are kept; the new code went in. */
  PGconn *c = tu_pg_open(g_uri);
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.types"), 2);
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.types WHERE"
                                " code = 1000 AND name = 'lift_called'"),
                   1);
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.types WHERE"
                                " code = 1002 AND name = 'gate_opened'"),
                   1);
  PQfinish(c);
  /* Shipping again logs the clash again and changes nothing. */
  memset(&log, 0, sizeof log);
  eaudit_set_log(clash_log_fn, EAUDIT_LOG_WARN, &log);
  rc = eaudit_store_ship(b, g_uri, 0, &n);
  eaudit_set_log(NULL, 0, NULL);
  EA_OK(rc);
  ck_assert_int_eq(n, 0);
  ck_assert_int_eq(log.n, 2);
  eaudit_store_free(a);
  eaudit_store_free(b);
}
END_TEST

#endif /* EAUDIT_HAVE_LIBPQ */

/* ---- argument checks: no server needed ---- */

START_TEST(bad_arguments_are_refused) {
  char path[512];
  tu_temp_path(path, sizeof path, "ship-args");
  eaudit_store *s = NULL;
  EA_OK(eaudit_store_open(&s, path, NULL));
  int64_t n = -1;
  uint8_t id[16] = {0};
#ifdef EAUDIT_HAVE_LIBPQ
  ck_assert_int_eq(eaudit_store_ship(NULL, "postgresql:///x", 0, &n),
                   EAUDIT_EINVAL);
  ck_assert_int_eq(n, 0);
  ck_assert_int_eq(eaudit_store_ship(s, NULL, 0, &n), EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_ship(s, "mysql://localhost/x", 0, &n),
                   EAUDIT_EINVAL);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "postgresql://"));
  ck_assert_int_eq(eaudit_store_ship(s, "/tmp/central.db", 0, &n),
                   EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_ship(s, "postgresql://h/db?nosuchoption=1", 0,
                                     &n),
                   EAUDIT_EINVAL);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "malformed"));
  ck_assert_int_eq(eaudit_store_ship(s, "postgresql:///x", 1000000, &n),
                   EAUDIT_ERANGE);
  /* Nothing listens there: EIO with libpq's reason. */
  ck_assert_int_eq(
      eaudit_store_ship(s, "postgresql:///x?host=/nonexistent-eaudit-dir", 0,
                        &n),
      EAUDIT_EIO);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "cannot connect"));
  ck_assert_ptr_nonnull(
      strstr(eaudit_error_last()->message, "/nonexistent-eaudit-dir"));
  ck_assert_int_eq(eaudit_central_init(NULL), EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_central_init("postgresql:///x?host=/nonexistent-eaudit-dir"),
                   EAUDIT_EIO);
  ck_assert_int_eq(eaudit_central_verify_site("postgresql:///x", NULL, &n),
                   EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_central_verify_site(NULL, id, &n), EAUDIT_EINVAL);
  eaudit_verify_result *r = NULL;
  uint8_t rec[EAUDIT_CHECKPOINT_SIZE] = {0};
  ck_assert_int_eq(eaudit_central_verify_site_signed("postgresql:///x", NULL,
                                                     NULL, NULL, 0, 0, &r),
                   EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_central_verify_site_signed("postgresql:///x", id,
                                                     NULL, rec, sizeof rec, 0,
                                                     &r),
                   EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_central_verify_site_signed("postgresql:///x", id, id,
                                                     rec, sizeof rec, 0, &r),
                   EAUDIT_EFORMAT);
  ck_assert_int_eq(eaudit_central_verify_site_signed("postgresql:///x", id, id,
                                                     NULL, 0, 8, &r),
                   EAUDIT_ERANGE);
  ck_assert_ptr_null(r);
#else
  ck_assert_int_eq(eaudit_store_ship(s, "postgresql:///x", 0, &n),
                   EAUDIT_EUNSUPPORTED);
  ck_assert_int_eq(eaudit_central_init("postgresql:///x"), EAUDIT_EUNSUPPORTED);
  ck_assert_int_eq(eaudit_central_verify_site("postgresql:///x", id, &n),
                   EAUDIT_EUNSUPPORTED);
  ck_assert_int_eq(eaudit_central_verify_site_signed("postgresql:///x", id,
                                                     NULL, NULL, 0, 0, NULL),
                   EAUDIT_EUNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, "PostgreSQL"));
#endif
  ck_assert_int_eq(n, 0);
  eaudit_store_free(s);
}
END_TEST

int main(void) {
  Suite *su = suite_create("ship");
  TCase *args = tcase_create("args");
  tcase_add_test(args, bad_arguments_are_refused);
  suite_add_tcase(su, args);
  int have_pg = 0;
#ifdef EAUDIT_HAVE_LIBPQ
  have_pg = tu_pg_base() != NULL;
  if (have_pg) {
    TCase *tc = tcase_create("central");
    tcase_add_checked_fixture(tc, db_setup, db_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, schema_creation_is_idempotent_and_versioned);
    tcase_add_test(tc, ship_sends_every_event_once_and_identical);
    tcase_add_test(tc, ship_after_more_appends_continues_the_chain);
    tcase_add_test(tc, names_ship_with_their_history_and_erasures);
    tcase_add_test(tc, types_labels_and_roles_ship_with_the_names);
    tcase_add_test(tc, a_vendor_type_clash_keeps_the_central_row_and_warns);
    tcase_add_test(tc, a_broken_site_chain_is_refused_and_nothing_written);
    tcase_add_test(tc, damage_in_the_central_store_is_named);
    tcase_add_test(tc, retention_anchor_is_the_base_and_unshipped_purges_are_refused);
    tcase_add_test(tc, rows_past_the_cursor_must_match_and_failed_inserts_roll_back);
    tcase_add_test(tc, concurrent_shippers_survive_a_kill);
    tcase_add_test(tc, a_cut_connection_fails_with_eio_and_the_next_call_resumes);
    tcase_add_test(tc, signed_checkpoints_ship_and_guard_the_base);
    suite_add_tcase(su, tc);
  }
#endif
  int rc = tu_run(su);
  if (rc != 0 || have_pg)
    return rc;
  const char *req = getenv("EAUDIT_REQUIRE_PG");
#ifdef EAUDIT_HAVE_LIBPQ
  const char *why = "EAUDIT_TEST_PG is not set (scripts/pg-cluster.sh start; "
                    "eval \"$(scripts/pg-cluster.sh env)\")";
#else
  const char *why = "the library was built without PostgreSQL";
#endif
  if (req && strcmp(req, "1") == 0
#ifndef EAUDIT_HAVE_LIBPQ
      && 0
#endif
  ) {
    fprintf(stderr, "test_ship: EAUDIT_REQUIRE_PG=1 but %s\n", why);
    return EXIT_FAILURE;
  }
#ifdef EAUDIT_HAVE_LIBPQ
  fprintf(stderr, "test_ship: central store tests skipped: %s\n", why);
  return 77;
#else
  (void)why;
  return rc;
#endif
}
