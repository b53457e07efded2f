/* Retention on the central PostgreSQL store (lib/pg_retention.c) and
 * verification from a chain's anchored base (lib/pg_ship.c).
 *
 * Like test_ship, the suite needs a server: EAUDIT_TEST_PG holds the URI of
 * a throwaway cluster (scripts/pg-cluster.sh). Without it only the argument
 * checks run and the suite exits 77 (skipped), unless EAUDIT_REQUIRE_PG=1,
 * when it fails. Each test works in a database of its own. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg_chain.h"

#ifdef EAUDIT_HAVE_LIBPQ

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
  /* The sites' clock is past every event of the scenario. */
  g_clock = (tu_clock){tu_utc(2026, 8, 1, 0, 0, 0), 1000};
  g_seed = 11;
  if (!tu_pg_base())
    return;
  tu_pg_create_db("pgretain", g_db, sizeof g_db, g_uri, sizeof g_uri);
}

static void db_teardown(void) {
  if (!tu_pg_base() || !g_db[0])
    return;
  tu_pg_drop_db(g_db);
}

/* ---- the scenario: three sites over six months of 2026 ----
 *
 * A: every 12 h from Jan 1 to Jun 30.
 * B: every 8 h from Jan 1 for 40 days, then silent: its head is in
 *    February.
 * C: every 12 h in January and February, then one late event that
 *    occurred on Jan 15, then every 12 h from Mar 1 to Jun 30.
 *
 * The cutoff is Apr 15: January and March go whole, February stays for
 * B's head (its other events there are trimmed), April is trimmed. */

#define HOUR INT64_C(3600000000)
#define CUTOFF tu_utc(2026, 4, 15, 0, 0, 0)
#define ACTOR 42

typedef struct site {
  char path[512];
  uint8_t id[16];
  char hex[33];
  int64_t head;
  int64_t target; /* the expected new base for CUTOFF */
} site;

static site g_sites[3];

static int64_t site_int(eaudit_store *s, const char *sql, eaudit_time t) {
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), SQLITE_OK);
  if (sqlite3_bind_parameter_count(st) >= 1)
    sqlite3_bind_int64(st, 1, t);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* The site's head and the expected target for the cutoff. */
static void site_expect(site *x, eaudit_store *s, eaudit_time cutoff) {
  x->head = site_int(s, "SELECT max(seq) FROM events", 0);
  int64_t first = site_int(
      s, "SELECT ifnull(min(seq), 0) FROM events WHERE occurred_at >= ?1",
      cutoff);
  x->target = first ? first - 1 : x->head - 1;
  if (x->target > x->head - 1)
    x->target = x->head - 1;
}

static void build_scenario(void) {
  static const char *const names[3] = {"pgret-a", "pgret-b", "pgret-c"};
  eaudit_time jan1 = tu_utc(2026, 1, 1, 0, 0, 0);
  eaudit_time mar1 = tu_utc(2026, 3, 1, 0, 0, 0);
  for (int i = 0; i < 3; i++) {
    site *x = &g_sites[i];
    tu_temp_path(x->path, sizeof x->path, names[i]);
    eaudit_store *s = tu_open_at(x->path, &g_clock, &g_seed);
    EA_OK(eaudit_store_id(s, x->id));
    sodium_bin2hex(x->hex, sizeof x->hex, x->id, 16);
    if (i == 0)
      tu_append_doors(s, 362, 100, 1, jan1, 12 * HOUR);
    else if (i == 1)
      tu_append_doors(s, 120, 200, 2, jan1, 8 * HOUR);
    else {
      tu_append_doors(s, 118, 300, 3, jan1, 12 * HOUR);
      eaudit_event *ev = tu_event(EAUDIT_TYPE_DOOR_OPENED,
                                  tu_utc(2026, 1, 15, 12, 34, 0), 301);
      EA_OK(eaudit_store_append(s, ev));
      eaudit_event_free(ev);
      tu_append_doors(s, 244, 300, 3, mar1, 12 * HOUR);
    }
    site_expect(x, s, CUTOFF);
    int64_t n = 0;
    EA_OK(eaudit_store_ship(s, g_uri, 0, &n));
    ck_assert_int_eq(n, x->head);
    eaudit_store_free(s);
  }
  ck_assert_int_eq(g_sites[0].head, 362);
  ck_assert_int_eq(g_sites[0].target, 208);
  ck_assert_int_eq(g_sites[1].target, 119);
  ck_assert_int_eq(g_sites[2].head, 363);
}

static const char parts_sql[] =
    "SELECT coalesce(string_agg(c.relname, ',' ORDER BY c.relname), '')"
    " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
    " WHERE i.inhparent = 'eaudit.events'::regclass";

static void verify_all(void) {
  for (int i = 0; i < 3; i++) {
    const site *x = &g_sites[i];
    int64_t n = -1;
    EA_OK(eaudit_central_verify_site(g_uri, x->id, &n));
    ck_assert_int_eq(n, x->head - x->target);
  }
}

/* The central row of site x: base, events, and its anchors (one per run
 * that moved its base; the newest is the base). */
static void assert_site_after(PGconn *c, const site *x, eaudit_time cutoff,
                              int anchors) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT base_seq || ',' || events || ',' || head_seq FROM"
           " eaudit.sites WHERE site_id = '\\x%s'",
           x->hex);
  char want[128];
  snprintf(want, sizeof want, "%lld,%lld,%lld", (long long)x->target,
           (long long)(x->head - x->target), (long long)x->head);
  ck_assert_str_eq(tu_pg_one(c, sql), want);
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM eaudit.anchors WHERE origin = '\\x%s'",
           x->hex);
  ck_assert_int_eq(tu_pg_int(c, sql), anchors);
  snprintf(sql, sizeof sql,
           "SELECT a.seq || ',' || a.actor || ',' || a.through_at || ',' ||"
           " (a.hash = s.base_hash) FROM eaudit.anchors a JOIN eaudit.sites s"
           " ON s.site_id = a.origin WHERE a.origin = '\\x%s'"
           " ORDER BY a.seq DESC LIMIT 1",
           x->hex);
  snprintf(want, sizeof want, "%lld,%d,%lld,true", (long long)x->target,
           ACTOR, (long long)cutoff);
  ck_assert_str_eq(tu_pg_one(c, sql), want);
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM eaudit.events WHERE origin = '\\x%s'",
           x->hex);
  ck_assert_int_eq(tu_pg_int(c, sql), x->head - x->target);
}

/* The anchor's hash is the site's own link at the new base. */
static void assert_anchor_is_site_link(PGconn *c, const site *x) {
  eaudit_store *s = tu_open_at(x->path, &g_clock, &g_seed);
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_prepare_v2(s->db,
                                      "SELECT lower(hex(hash)) FROM events"
                                      " WHERE seq = ?1",
                                      -1, &st, NULL),
                   SQLITE_OK);
  sqlite3_bind_int64(st, 1, x->target);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  char want[65];
  snprintf(want, sizeof want, "%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  eaudit_store_free(s);
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT encode(base_hash, 'hex') FROM eaudit.sites WHERE site_id"
           " = '\\x%s'",
           x->hex);
  ck_assert_str_eq(tu_pg_one(c, sql), want);
}

static PGconn *lib_conn(void) {
  PGconn *c = NULL;
  EA_OK(eaudit__pg_connect(g_uri, &c));
  return c;
}

/* ---- tests ---- */

START_TEST(purge_drops_whole_months_trims_the_rest_and_keeps_chains) {
  EA_OK(eaudit_central_init(g_uri));
  build_scenario();
  PGconn *c = tu_pg_open(g_uri);
  ck_assert_str_eq(tu_pg_one(c, parts_sql),
                   "events_2026_01,events_2026_02,events_2026_03,"
                   "events_2026_04,events_2026_05,events_2026_06,"
                   "events_2026_07");
  int64_t all = tu_pg_int(c, "SELECT count(*) FROM eaudit.events");
  ck_assert_int_eq(all, 362 + 120 + 363);
  int64_t want = 0;
  for (int i = 0; i < 3; i++)
    want += g_sites[i].target;
  /* Every January and March event is in a prefix that goes whole. */
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM eaudit.events WHERE occurred_at >= %lld AND"
           " (occurred_at < %lld OR occurred_at >= %lld) AND occurred_at <"
           " %lld",
           (long long)tu_utc(2026, 1, 1, 0, 0, 0),
           (long long)tu_utc(2026, 2, 1, 0, 0, 0),
           (long long)tu_utc(2026, 3, 1, 0, 0, 0),
           (long long)tu_utc(2026, 4, 1, 0, 0, 0));
  int64_t want_dropped = tu_pg_int(c, sql);
  ck_assert_int_eq(want_dropped, 62 + 62 + 93 + 62 + 1 + 62);

  /* The plan says what the purge will do and writes nothing. */
  PGconn *lc = lib_conn();
  eaudit__pg_purge_stats st;
  EA_OK(eaudit__pg_purge_plan(lc, CUTOFF, 0, &st));
  ck_assert_int_eq(st.events, want);
  ck_assert_int_eq(st.partitions, 2);
  ck_assert_int_eq(st.origins, 3);
  ck_assert_int_eq(st.own_through, 0); /* no own chain */
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.events"), all);

  EA_OK(eaudit__pg_purge(lc, CUTOFF, ACTOR, 0, 0, &st));
  ck_assert_int_eq(st.events, want);
  ck_assert_int_eq(st.partitions, 2);
  ck_assert_int_eq(st.dropped, want_dropped);
  ck_assert_int_eq(st.origins, 3);
  ck_assert_int_gt(st.batches, 0);
  /* January and March are gone; February stays for B's head. */
  ck_assert_str_eq(tu_pg_one(c, parts_sql),
                   "events_2026_02,events_2026_04,events_2026_05,"
                   "events_2026_06,events_2026_07");
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.events"),
                   all - want);
  /* Of the events before the cutoff only B's head is left. */
  snprintf(sql, sizeof sql,
           "SELECT count(*) || ',' || min(seq) FROM eaudit.events WHERE"
           " occurred_at < %lld",
           (long long)CUTOFF);
  ck_assert_str_eq(tu_pg_one(c, sql), "1,120");
  for (int i = 0; i < 3; i++) {
    assert_site_after(c, &g_sites[i], CUTOFF, 1);
    assert_anchor_is_site_link(c, &g_sites[i]);
  }
  verify_all();

  /* The same purge again finds nothing. */
  EA_OK(eaudit__pg_purge(lc, CUTOFF, ACTOR, 0, 0, &st));
  ck_assert_int_eq(st.events, 0);
  ck_assert_int_eq(st.partitions, 0);
  ck_assert_int_eq(st.batches, 0);
  EA_OK(eaudit__pg_purge_plan(lc, CUTOFF, 0, &st));
  ck_assert_int_eq(st.events, 0);
  ck_assert_int_eq(st.partitions, 0);
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.anchors"), 3);

  /* Shipping goes on from the heads: twenty July events per site. */
  for (int i = 0; i < 3; i++) {
    site *x = &g_sites[i];
    eaudit_store *s = tu_open_at(x->path, &g_clock, &g_seed);
    tu_append_doors(s, 20, 400 + i, 9, tu_utc(2026, 7, 2, 0, 0, 0), HOUR);
    int64_t n = 0;
    EA_OK(eaudit_store_ship(s, g_uri, 7, &n));
    ck_assert_int_eq(n, 20);
    eaudit_store_free(s);
    x->head += 20;
    n = -1;
    EA_OK(eaudit_central_verify_site(g_uri, x->id, &n));
    ck_assert_int_eq(n, x->head - x->target);
  }
  /* B's old head may go now: February is dropped, with B's one event. */
  EA_OK(eaudit__pg_purge(lc, CUTOFF, ACTOR, 0, 0, &st));
  ck_assert_int_eq(st.events, 1);
  ck_assert_int_eq(st.dropped, 1);
  ck_assert_int_eq(st.partitions, 1);
  ck_assert_int_eq(st.origins, 1);
  ck_assert_str_eq(tu_pg_one(c, parts_sql),
                   "events_2026_04,events_2026_05,events_2026_06,"
                   "events_2026_07,events_2026_08");
  g_sites[1].target = 120;
  for (int i = 0; i < 3; i++) {
    int64_t n = -1;
    EA_OK(eaudit_central_verify_site(g_uri, g_sites[i].id, &n));
    ck_assert_int_eq(n, g_sites[i].head - g_sites[i].target);
  }
  /* B's anchors: one per run that moved its base. */
  snprintf(sql, sizeof sql,
           "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM"
           " eaudit.anchors WHERE origin = '\\x%s'",
           g_sites[1].hex);
  ck_assert_str_eq(tu_pg_one(c, sql), "119,120");
  PQfinish(lc);
  PQfinish(c);
}
END_TEST

/* With batches smaller than the late events of C that lie outside
 * January, C is trimmed through its January events first, and January is
 * then dropped with A's and B's events. */
START_TEST(an_origin_scattered_by_late_events_is_trimmed_before_the_drop) {
  EA_OK(eaudit_central_init(g_uri));
  build_scenario();
  PGconn *lc = lib_conn();
  eaudit__pg_purge_stats st;
  EA_OK(eaudit__pg_purge(lc, CUTOFF, ACTOR, 50, 0, &st));
  PQfinish(lc);
  ck_assert_int_eq(st.events, 208 + 119 + 209);
  ck_assert_int_eq(st.partitions, 2);
  /* January and March of A and B, March of C. */
  ck_assert_int_eq(st.dropped, 62 + 62 + 93 + 62);
  PGconn *c = tu_pg_open(g_uri);
  ck_assert_str_eq(tu_pg_one(c, parts_sql),
                   "events_2026_02,events_2026_04,events_2026_05,"
                   "events_2026_06,events_2026_07");
  g_sites[2].target = 209;
  for (int i = 0; i < 3; i++)
    assert_site_after(c, &g_sites[i], CUTOFF, 1);
  verify_all();
  PQfinish(c);
}
END_TEST

/* eaudit_store_purge() and eaudit_store_purge_plan() on a store opened on
 * the database: every chain is purged, the store's own included, and the
 * purge is recorded on the own chain with its actor. */
START_TEST(purge_through_a_postgresql_handle_is_audited) {
  EA_OK(eaudit_central_init(g_uri));
  build_scenario();
  eaudit_store *cs = tu_open_at(g_uri, &g_clock, &g_seed);
  /* The own chain: 29 events a day apart from Jan 10, and its head on
   * Apr 30, past the cutoff by more than the rules' reach (the 7-day
   * window and the 24 h lateness bound), so the cutoff stands. */
  tu_append_doors(cs, 29, 500, 7, tu_utc(2026, 1, 10, 9, 0, 0), 24 * HOUR);
  tu_append_doors(cs, 1, 500, 7, tu_utc(2026, 4, 30, 9, 0, 0), 24 * HOUR);
  eaudit_time eff = 0;
  int64_t through = -1, events = -1, n = -1;
  EA_OK(eaudit_store_purge_plan(cs, CUTOFF, &eff, &through, &events));
  ck_assert_int_eq(eff, CUTOFF);
  ck_assert_int_eq(through, 29);
  ck_assert_int_eq(events, 208 + 119 + 209 + 29);
  /* Asked for more, the own chain stops at its head's time less the
   * rules' reach: May 1 09:00 would take everything before it. */
  EA_OK(eaudit_store_purge_plan(cs, tu_utc(2026, 5, 1, 9, 0, 0), &eff, NULL,
                                NULL));
  ck_assert_int_eq(eff, tu_utc(2026, 4, 22, 9, 0, 0));
  ck_assert_int_eq(eaudit_store_purge(cs, CUTOFF, 77, 2000000, &n),
                   EAUDIT_ERANGE);
  ck_assert_int_eq(n, 0);
  EA_OK(eaudit_store_purge(cs, CUTOFF, 77, 0, &n));
  ck_assert_int_eq(n, 208 + 119 + 209 + 29);
  PGconn *c = tu_pg_open(g_uri);
  ck_assert_str_eq(tu_pg_one(c, parts_sql),
                   "events_2026_02,events_2026_04,events_2026_05,"
                   "events_2026_06,events_2026_07,events_2026_08,"
                   "events_2026_09");
  ck_assert_str_eq(
      tu_pg_one(c, "SELECT e.seq || ',' || e.type || ',' || e.actor || ',' ||"
                " convert_from(e.details, 'UTF8') FROM eaudit.events e JOIN"
                " eaudit.sites s ON s.site_id = e.origin AND s.own"
                " ORDER BY e.seq DESC LIMIT 1"),
      "31,13,77,{\"purged\":565,\"before\":1776211200000000,"
      "\"partitions\":2,\"sites\":4,\"dropped\":364}");
  ck_assert_int_eq(tu_pg_int(c, "SELECT count(*) FROM eaudit.anchors a JOIN"
                             " eaudit.sites s ON s.site_id = a.origin AND"
                             " s.own AND a.seq = 29 AND a.actor = 77"),
                   1);
  PQfinish(c);
  eaudit_verify_result *vr = NULL;
  EA_OK(eaudit_store_verify(cs, 77, NULL, NULL, 0, 0, &vr));
  ck_assert_msg(eaudit_verify_result_ok(vr), "%s",
                eaudit_verify_result_message(vr));
  ck_assert_int_eq(eaudit_verify_result_events(vr),
                   (362 - 208) + (120 - 119) + (363 - 209) + 2);
  eaudit_verify_result_free(vr);
  /* Nothing left to purge: no second audit event. */
  EA_OK(eaudit_store_purge(cs, CUTOFF, 77, 0, &n));
  ck_assert_int_eq(n, 0);
  int64_t last = 0;
  EA_OK(eaudit_store_last_seq(cs, &last));
  ck_assert_int_eq(last, 31);
  eaudit_store_free(cs);
}
END_TEST

/* Once the central store's rules evaluate shipped events (a rule set of
 * its own), each site's cutoff is held back as the own chain's is: at
 * most its newest event time less the rules' reach. Site B's newest event
 * is Feb 9 16:00, so it keeps what follows Feb 1 16:00; A and C shipped
 * until July, past the cutoff by more than the reach. */
START_TEST(central_rules_hold_each_sites_cutoff_back) {
  EA_OK(eaudit_central_init(g_uri));
  build_scenario();
  eaudit_store *cs = tu_open_at(g_uri, &g_clock, &g_seed);
  int64_t events = -1;
  EA_OK(eaudit_store_purge_plan(cs, CUTOFF, NULL, NULL, &events));
  ck_assert_int_eq(events, 208 + 119 + 209);
  static const char rules[] = "{\"builtins\": true}";
  EA_OK(eaudit_store_set_rules(cs, rules, sizeof rules - 1, ACTOR));
  EA_OK(eaudit_store_purge_plan(cs, CUTOFF, NULL, NULL, &events));
  ck_assert_int_eq(events, 208 + 95 + 209);
  int64_t n = -1;
  EA_OK(eaudit_store_purge(cs, CUTOFF, ACTOR, 0, &n));
  ck_assert_int_eq(n, 208 + 95 + 209);
  PGconn *c = tu_pg_open(g_uri);
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT base_seq FROM eaudit.sites WHERE site_id = '\\x%s'",
           g_sites[1].hex);
  ck_assert_str_eq(tu_pg_one(c, sql), "95");
  PQfinish(c);
  eaudit_store_free(cs);
}
END_TEST

/* A base or an anchor changed by hand is named by the verifier. */
START_TEST(a_tampered_anchor_or_base_is_detected) {
  EA_OK(eaudit_central_init(g_uri));
  build_scenario();
  PGconn *lc = lib_conn();
  eaudit__pg_purge_stats st;
  EA_OK(eaudit__pg_purge(lc, CUTOFF, ACTOR, 0, 0, &st));
  PQfinish(lc);
  PGconn *c = tu_pg_open(g_uri);
  const site *a = &g_sites[0];
  char sql[512], anchor[65], base[65];
  int64_t n = -1;
  EA_OK(eaudit_central_verify_site(g_uri, a->id, &n));
  snprintf(sql, sizeof sql,
           "SELECT encode(hash, 'hex') FROM eaudit.anchors WHERE origin ="
           " '\\x%s'",
           a->hex);
  snprintf(anchor, sizeof anchor, "%s", tu_pg_one(c, sql));
  snprintf(base, sizeof base, "%s", anchor);

  static const struct {
    const char *damage, *repair, *words;
  } cases[] = {
      {"UPDATE eaudit.anchors SET hash = sha256(hash) WHERE origin = '\\x%s'",
       "UPDATE eaudit.anchors SET hash = '\\x%s' WHERE origin = '\\x%s'",
       "newest retention anchor"},
      {"UPDATE eaudit.sites SET base_hash = sha256(base_hash) WHERE site_id"
       " = '\\x%s'",
       "UPDATE eaudit.sites SET base_hash = '\\x%s' WHERE site_id = '\\x%s'",
       "newest retention anchor"},
      /* Base and anchor moved together past a deleted first event: the
       * next event no longer links to the claimed base. */
      {"UPDATE eaudit.sites SET base_hash = sha256(base_hash), base_seq ="
       " base_seq + 1, events = events - 1 WHERE site_id = '\\x%1$s';"
       " UPDATE eaudit.anchors SET hash = sha256(hash), seq = seq + 1 WHERE"
       " origin = '\\x%1$s'",
       NULL, "does not match its chain link"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(sql, sizeof sql, cases[i].damage, a->hex);
    tu_pg_do(c, "BEGIN");
    tu_pg_do(c, sql);
    if (i == 2) {
      /* Delete the first event too, so that the count agrees. */
      snprintf(sql, sizeof sql,
               "DELETE FROM eaudit.events WHERE origin = '\\x%s' AND seq ="
               " %lld",
               a->hex, (long long)a->target + 1);
      tu_pg_do(c, sql);
    }
    tu_pg_do(c, "COMMIT");
    ck_assert_int_eq(eaudit_central_verify_site(g_uri, a->id, &n),
                     EAUDIT_ETAMPER);
    ck_assert_msg(strstr(eaudit_error_last()->message, cases[i].words),
                  "case %zu: %s", i, eaudit_error_last()->message);
    ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, a->hex));
    if (cases[i].repair) {
      snprintf(sql, sizeof sql, cases[i].repair, anchor, a->hex);
      tu_pg_do(c, sql);
      EA_OK(eaudit_central_verify_site(g_uri, a->id, &n));
      ck_assert_int_eq(n, a->head - a->target);
    }
  }
  /* A base with no anchor at all: site B's anchor deleted. */
  const site *b = &g_sites[1];
  snprintf(sql, sizeof sql,
           "DELETE FROM eaudit.anchors WHERE origin = '\\x%s'", b->hex);
  tu_pg_do(c, sql);
  ck_assert_int_eq(eaudit_central_verify_site(g_uri, b->id, &n),
                   EAUDIT_ETAMPER);
  ck_assert_ptr_nonnull(
      strstr(eaudit_error_last()->message, "has no retention anchor"));
  /* A purge refuses to erase damaged evidence: site C's next event is
   * modified, and the purge that would remove it stops there. */
  const site *x = &g_sites[2];
  snprintf(sql, sizeof sql,
           "UPDATE eaudit.events SET subject = 999 WHERE origin = '\\x%s'"
           " AND seq = %lld",
           x->hex, (long long)x->target + 3);
  tu_pg_do(c, sql);
  lc = lib_conn();
  ck_assert_int_eq(eaudit__pg_purge(lc, tu_utc(2026, 6, 1, 0, 0, 0), ACTOR,
                                    0, 0, &st),
                   EAUDIT_ETAMPER);
  ck_assert_ptr_nonnull(strstr(eaudit_error_last()->message, x->hex));
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM eaudit.events WHERE origin = '\\x%s' AND"
           " seq = %lld",
           x->hex, (long long)x->target + 3);
  ck_assert_int_eq(tu_pg_int(c, sql), 1);
  PQfinish(lc);
  PQfinish(c);
}
END_TEST

/* A purge cut off mid-way (the server ends its session) leaves every chain
 * verifying; the next purge finishes the work. */
START_TEST(an_interrupted_purge_leaves_a_verifying_store) {
  EA_OK(eaudit_central_init(g_uri));
  build_scenario();
  PGconn *c = tu_pg_open(g_uri);
  PGconn *reader = tu_pg_open(g_uri);
  tu_pg_do(reader, "BEGIN");
  tu_pg_one(reader, "SELECT count(*) FROM eaudit.events_2026_03");
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    PGconn *pc = NULL;
    eaudit__pg_purge_stats st;
    int rc = eaudit__pg_connect(g_uri, &pc);
    if (rc == 0)
      rc = eaudit__pg_purge(pc, CUTOFF, ACTOR, 2, 0, &st);
    int io = rc == EAUDIT_EIO;
    if (!io)
      fprintf(stderr, "cut purge: %d %s\n", rc, eaudit_error_last()->message);
    PQfinish(pc);
    _exit(io ? 0 : 1);
  }
  /* A reader of March holds the purge at the March drop, after January
   * is dropped and February trimmed; the purge is cut there. */
  const char *waiting_sql = "SELECT count(*) FROM pg_locks l JOIN pg_class c"
                            " ON c.oid = l.relation WHERE NOT l.granted AND"
                            " c.relname = 'events_2026_03'";
  int64_t waiting = 0;
  for (int spin = 0; spin < 100000 && !waiting; spin++) {
    waiting = tu_pg_int(c, waiting_sql);
    if (!waiting)
      usleep(200);
  }
  ck_assert_int_eq(waiting, 1);
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
           " WHERE datname = '%s' AND application_name = 'entryfy-audit'",
           g_db);
  ck_assert_int_eq(tu_pg_int(c, sql), 1);
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "the cut purge did not fail with EIO");
  tu_pg_do(reader, "COMMIT");
  PQfinish(reader);
  /* Part done: every chain verifies from where its base now is. January
   * went whole (C, scattered by its late event, trimmed first), and
   * February was trimmed: A to its last February event, B and C to
   * theirs. */
  static const int64_t bases[3] = {118, 119, 119};
  for (int i = 0; i < 3; i++) {
    const site *x = &g_sites[i];
    int64_t n = -1;
    EA_OK(eaudit_central_verify_site(g_uri, x->id, &n));
    ck_assert_int_eq(n, x->head - bases[i]);
  }
  ck_assert_str_eq(tu_pg_one(c, parts_sql),
                   "events_2026_02,events_2026_03,events_2026_04,"
                   "events_2026_05,events_2026_06,events_2026_07");
  PGconn *lc = lib_conn();
  eaudit__pg_purge_stats st;
  EA_OK(eaudit__pg_purge(lc, CUTOFF, ACTOR, 0, 0, &st));
  ck_assert_int_gt(st.events, 0);
  PQfinish(lc);
  ck_assert_str_eq(tu_pg_one(c, parts_sql),
                   "events_2026_02,events_2026_04,events_2026_05,"
                   "events_2026_06,events_2026_07");
  for (int i = 0; i < 3; i++) {
    int64_t n = -1;
    EA_OK(eaudit_central_verify_site(g_uri, g_sites[i].id, &n));
    ck_assert_int_eq(n, g_sites[i].head - g_sites[i].target);
    /* B's base did not move in the second run. */
    assert_site_after(c, &g_sites[i], CUTOFF, i == 1 ? 1 : 2);
  }
  PQfinish(c);
}
END_TEST

/* Bad arguments are refused and write nothing. */
START_TEST(bad_purge_arguments_are_refused_on_the_central_store) {
  EA_OK(eaudit_central_init(g_uri));
  eaudit__pg_purge_stats st;
  st.events = -1;
  ck_assert_int_eq(eaudit__pg_purge(NULL, CUTOFF, ACTOR, 0, 0, &st),
                   EAUDIT_EINVAL);
  ck_assert_int_eq(st.events, 0);
  ck_assert_int_eq(eaudit__pg_purge_plan(NULL, CUTOFF, 0, &st),
                   EAUDIT_EINVAL);
  PGconn *lc = lib_conn();
  ck_assert_int_eq(eaudit__pg_purge(lc, CUTOFF, ACTOR, 2000000, 0, &st),
                   EAUDIT_ERANGE);
  PQclear(PQexec(lc, "BEGIN"));
  ck_assert_int_eq(eaudit__pg_purge(lc, CUTOFF, ACTOR, 0, 0, &st),
                   EAUDIT_EMISUSE);
  ck_assert_int_eq(eaudit__pg_purge_plan(lc, CUTOFF, 0, &st),
                   EAUDIT_EMISUSE);
  PQclear(PQexec(lc, "ROLLBACK"));
  /* An empty central store: nothing to do. */
  EA_OK(eaudit__pg_purge(lc, CUTOFF, ACTOR, 0, 0, &st));
  ck_assert_int_eq(st.events, 0);
  PQfinish(lc);
}
END_TEST

#endif /* EAUDIT_HAVE_LIBPQ */

/* ---- the public entry points: no server needed ---- */

START_TEST(public_purge_arguments_are_checked) {
  int64_t n = -1, through = -1, events = -1;
  eaudit_time eff = -1;
  ck_assert_int_eq(eaudit_store_purge(NULL, 0, 1, 0, &n), EAUDIT_EINVAL);
  ck_assert_int_eq(eaudit_store_purge_plan(NULL, 0, &eff, &through, &events),
                   EAUDIT_EINVAL);
  char path[512];
  tu_temp_path(path, sizeof path, "pgret-args");
  eaudit_store *s = NULL;
  EA_OK(eaudit_store_open(&s, path, NULL));
  ck_assert_int_eq(eaudit_store_purge(s, 0, 1, 2000000, &n), EAUDIT_ERANGE);
  ck_assert_int_eq(n, 0);
  eaudit_store_free(s);
  tu_remove_store(path);
}
END_TEST

int main(void) {
  Suite *su = suite_create("pg_retention");
  TCase *args = tcase_create("args");
  tcase_add_test(args, public_purge_arguments_are_checked);
  suite_add_tcase(su, args);
  int have_pg = 0;
#ifdef EAUDIT_HAVE_LIBPQ
  have_pg = tu_pg_base() != NULL;
  if (have_pg) {
    TCase *tc = tcase_create("central");
    tcase_add_checked_fixture(tc, db_setup, db_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, purge_drops_whole_months_trims_the_rest_and_keeps_chains);
    tcase_add_test(tc, an_origin_scattered_by_late_events_is_trimmed_before_the_drop);
    tcase_add_test(tc, purge_through_a_postgresql_handle_is_audited);
    tcase_add_test(tc, central_rules_hold_each_sites_cutoff_back);
    tcase_add_test(tc, a_tampered_anchor_or_base_is_detected);
    tcase_add_test(tc, an_interrupted_purge_leaves_a_verifying_store);
    tcase_add_test(tc, bad_purge_arguments_are_refused_on_the_central_store);
    suite_add_tcase(su, tc);
  }
#endif
  int rc = tu_run(su);
  if (rc != 0 || have_pg)
    return rc;
#ifdef EAUDIT_HAVE_LIBPQ
  const char *req = getenv("EAUDIT_REQUIRE_PG");
  if (req && strcmp(req, "1") == 0) {
    fprintf(stderr, "test_pg_retention: EAUDIT_REQUIRE_PG=1 but "
                    "EAUDIT_TEST_PG is not set\n");
    return EXIT_FAILURE;
  }
  fprintf(stderr, "test_pg_retention: central store tests skipped: "
                  "EAUDIT_TEST_PG is not set\n");
  return 77;
#else
  return rc; /* built without PostgreSQL: the argument checks are all */
#endif
}
