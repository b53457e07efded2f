/* The central store's rules over the events shipped in from sites: each
 * origin evaluated in its own seq order with its own state, inside the
 * ship batch's transaction; batches, a killed shipper and re-evaluation
 * give the findings of one clean ship; no rule set, no evaluation.
 * PostgreSQL only (EAUDIT_TEST_PG). */
#include "testutil.h"

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

#define MIN (INT64_C(60) * 1000000)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define T0 tu_utc(2026, 11, 3, 8, 0, 0)

static char g_db[64];
static char g_uri[1024];
static tu_clock g_clock;
static uint64_t g_seed;

static void db_setup(void) {
  g_clock = (tu_clock){tu_utc(2026, 11, 20, 0, 0, 0), 1000};
  g_seed = 11;
  tu_pg_create_db("central_rules", g_db, sizeof g_db, g_uri, sizeof g_uri);
}

static void db_teardown(void) {
  if (g_db[0])
    tu_pg_drop_db(g_db);
}

/* The central store with the built-in rules chosen explicitly. */
static eaudit_store *central_with_rules(const char *uri) {
  eaudit_store *c = tu_open_at(uri, &g_clock, &g_seed);
  char *json = NULL;
  EA_OK(eaudit_store_rules(c, &json));
  EA_OK(eaudit_store_set_rules(c, json, strlen(json), 1));
  eaudit_free(json);
  return c;
}

static eaudit_store *site_new(const char *name, char *path, size_t size) {
  tu_temp_path(path, size, name);
  return tu_open_at(path, &g_clock, &g_seed);
}

static void site_gone(eaudit_store *s, const char *path) {
  eaudit_store_free(s);
  tu_remove_store(path);
}

static void add_group(eaudit_store *s, int type, eaudit_time at,
                      int64_t subject, int64_t group) {
  eaudit_event *ev = tu_event(type, at, subject);
  EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_GROUP, group));
  EA_OK(eaudit_store_append(s, ev));
  eaudit_event_free(ev);
}

static void add(eaudit_store *s, int type, eaudit_time at, int64_t subject,
                int64_t door, int64_t site) {
  eaudit_event *ev = tu_event(type, at, subject);
  if (door >= 0)
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_DOOR, door));
  if (site >= 0)
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_SITE, site));
  if (type == EAUDIT_TYPE_DOOR_OPEN_FAILED)
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_REASON, EAUDIT_REASON_NO_PERMISSION));
  EA_OK(eaudit_store_append(s, ev));
  eaudit_event_free(ev);
}

/* Ship; want < 0: any number. */
static int64_t ship(eaudit_store *site, const char *uri, size_t batch,
                    int64_t want) {
  int64_t n = -1;
  EA_OK(eaudit_store_ship(site, uri, batch, &n));
  if (want >= 0)
    ck_assert_int_eq(n, want);
  return n;
}

/* The findings of the stores written out, one line each, sorted: id,
 * rule, key, severity, first_at, last_at, late, and its events' ids. Event
 * seqs are left out (they repeat across origins). */
static char *digest_many(eaudit_store **stores, size_t n_stores) {
  char **lines = NULL;
  size_t n = 0, total = 1;
  for (size_t si = 0; si < n_stores; si++) {
  eaudit_findings *l = tu_findings(stores[si], NULL);
  size_t m = eaudit_findings_size(l);
  lines = realloc(lines, (n + m + 1) * sizeof *lines);
  for (size_t i = 0; i < m; i++) {
    const eaudit_finding *f = eaudit_findings_get(l, i);
    uint8_t id[16], ev[16];
    char hex[33], line[8192];
    EA_OK(eaudit_finding_id(f, id));
    sodium_bin2hex(hex, sizeof hex, id, 16);
    int len = snprintf(line, sizeof line, "%s %s %s %d %lld %lld %d", hex,
                       eaudit_finding_rule(f), eaudit_finding_key(f),
                       eaudit_finding_severity(f),
                       (long long)eaudit_finding_first_at(f),
                       (long long)eaudit_finding_last_at(f),
                       eaudit_finding_late(f));
    for (size_t k = 0; k < eaudit_finding_event_count(f); k++) {
      EA_OK(eaudit_finding_event(f, k, ev, NULL));
      sodium_bin2hex(hex, sizeof hex, ev, 16);
      len += snprintf(line + len, sizeof line - (size_t)len, " %s", hex + 20);
      ck_assert_int_lt(len, (int)sizeof line - 16);
    }
    lines[n++] = strdup(line);
    total += strlen(line) + 1;
  }
  eaudit_findings_free(l);
  }
  /* Sorted by text: the order across origins is first_at, then id. */
  for (size_t i = 1; i < n; i++)
    for (size_t k = i; k > 0 && strcmp(lines[k - 1], lines[k]) > 0; k--) {
      char *t = lines[k];
      lines[k] = lines[k - 1];
      lines[k - 1] = t;
    }
  char *out = malloc(total);
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    strcat(out, lines[i]);
    strcat(out, "\n");
    free(lines[i]);
  }
  free(lines);
  return out;
}

static char *digest(eaudit_store *s) { return digest_many(&s, 1); }

/* Equal digests; else the first line that differs (messages stay short). */
static void same(const char *got, const char *want, int line) {
  if (strcmp(got, want) == 0)
    return;
  size_t i = 0, start = 0;
  while (got[i] && got[i] == want[i]) {
    if (got[i] == '\n')
      start = i + 1;
    i++;
  }
  ck_abort_msg("line %d: findings differ at\n got  %.160s\n want %.160s", line,
               got + start, want + start);
}
#define SAME(got, want) same((got), (want), __LINE__)

static int64_t site_origin_rows(PGconn *c, eaudit_store *site,
                                const char *table) {
  uint8_t id[16];
  char hex[33], sql[256];
  EA_OK(eaudit_store_id(site, id));
  sodium_bin2hex(hex, sizeof hex, id, 16);
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM eaudit.%s WHERE origin = '\\x%s'", table, hex);
  return tu_pg_int(c, sql);
}

/* ---- tests ---- */

/* A site's user logging in from unrecognized devices twice within a day
 * opens the abuse finding centrally, the very finding the site opened
 * (same id, same events); a near miss 25 h apart opens none; two sites
 * with one login each of the same user id do not combine. */
START_TEST(shipped_abuse_fires_per_site) {
  eaudit_store *c = central_with_rules(g_uri);
  char pa[512], pb[512], pc[512], pd[512];
  eaudit_store *a = site_new("cr-a", pa, sizeof pa);
  eaudit_store *b = site_new("cr-b", pb, sizeof pb);
  eaudit_store *sc = site_new("cr-c", pc, sizeof pc);
  eaudit_store *sd = site_new("cr-d", pd, sizeof pd);
  add(a, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, T0, 42, -1, 1);
  add(a, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, T0 + 23 * HOUR, 42, -1, 1);
  add(b, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, T0, 42, -1, 2);
  add(b, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, T0 + 25 * HOUR, 42, -1, 2);
  add(sc, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, T0, 77, -1, 3);
  add(sd, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, T0 + HOUR, 77, -1, 3);
  ship(a, g_uri, 0, 2);
  ship(b, g_uri, 0, 2);
  ship(sc, g_uri, 0, 1);
  ship(sd, g_uri, 0, 1);
  eaudit_findings *l = tu_findings(c, "unrecognized_device_abuse");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  const eaudit_finding *f = eaudit_findings_get(l, 0);
  ck_assert_str_eq(eaudit_finding_key(f), "subject:42");
  int64_t subj;
  EA_OK(eaudit_finding_subject(f, &subj));
  ck_assert_int_eq(subj, 42);
  ck_assert_int_eq(eaudit_finding_first_at(f), T0);
  ck_assert_int_eq(eaudit_finding_last_at(f), T0 + 23 * HOUR);
  ck_assert_uint_eq(eaudit_finding_event_count(f), 2);
  /* The site's own finding, by id and events. */
  eaudit_findings *la = tu_findings(a, "unrecognized_device_abuse");
  ck_assert_uint_eq(eaudit_findings_size(la), 1);
  const eaudit_finding *fa = eaudit_findings_get(la, 0);
  uint8_t id[16], ida[16], ev[16], eva[16];
  EA_OK(eaudit_finding_id(f, id));
  EA_OK(eaudit_finding_id(fa, ida));
  ck_assert_mem_eq(id, ida, 16);
  for (size_t k = 0; k < 2; k++) {
    int64_t seq, seqa;
    EA_OK(eaudit_finding_event(f, k, ev, &seq));
    EA_OK(eaudit_finding_event(fa, k, eva, &seqa));
    ck_assert_mem_eq(ev, eva, 16);
    ck_assert_int_eq(seq, seqa);
  }
  eaudit_findings_free(la);
  /* Loaded by id, and acknowledged, on the central handle. */
  eaudit_finding *one = NULL;
  EA_OK(eaudit_store_finding(c, id, &one));
  ck_assert_str_eq(eaudit_finding_rule(one), "unrecognized_device_abuse");
  eaudit_finding_free(one);
  EA_OK(eaudit_store_finding_set_state(c, id, EAUDIT_FINDING_ACKNOWLEDGED, 9));
  EA_OK(eaudit_store_finding(c, id, &one));
  ck_assert_int_eq(eaudit_finding_state(one), EAUDIT_FINDING_ACKNOWLEDGED);
  eaudit_finding_free(one);
  eaudit_findings_free(l);
  /* The near miss and the split pair open nothing, and nothing else
   * fired. */
  ck_assert_uint_eq(tu_nfind(c, NULL), 1);
  /* Each site's state is its own. */
  PGconn *pg = tu_pg_open(g_uri);
  ck_assert_int_eq(site_origin_rows(pg, a, "findings"), 1);
  ck_assert_int_eq(site_origin_rows(pg, b, "findings"), 0);
  ck_assert_int_eq(site_origin_rows(pg, sc, "findings"), 0);
  /* The second login of b's 42 a day later than a's: a third site
   * shipping later does not reach back into a's window either. */
  ck_assert_int_eq(site_origin_rows(pg, sd, "findings"), 0);
  PQfinish(pg);
  /* More events of the near-miss site continue its own windows: a login
   * 2 h after its second one fires there. */
  add(b, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, T0 + 27 * HOUR, 42, -1, 2);
  ship(b, g_uri, 0, 1);
  ck_assert_uint_eq(tu_nfind(c, "unrecognized_device_abuse"), 2);
  ck_assert_uint_eq(tu_nfind(b, "unrecognized_device_abuse"), 1);
  site_gone(a, pa);
  site_gone(b, pb);
  site_gone(sc, pc);
  site_gone(sd, pd);
  eaudit_store_free(c);
}
END_TEST

/* group-by site counts within one origin: two sites' stores both
 * recording site 5 do not add up; one store's three failures at site 5
 * do. */
START_TEST(group_by_site_stays_within_an_origin) {
  eaudit_store *c = tu_open_at(g_uri, &g_clock, &g_seed);
  static const char rules[] =
      "{\"rules\": [{\"id\": \"acme.site_failures\", \"types\":"
      " [\"door_open_failed\"], \"key\": \"site\", \"window\": \"10m\","
      " \"threshold\": 3}], \"builtins\": false}";
  EA_OK(eaudit_store_set_rules(c, rules, strlen(rules), 1));
  char pa[512], pb[512];
  eaudit_store *a = site_new("cr-ga", pa, sizeof pa);
  eaudit_store *b = site_new("cr-gb", pb, sizeof pb);
  add(a, EAUDIT_TYPE_DOOR_OPEN_FAILED, T0, 1, 7, 5);
  add(a, EAUDIT_TYPE_DOOR_OPEN_FAILED, T0 + MIN, 2, 7, 5);
  add(b, EAUDIT_TYPE_DOOR_OPEN_FAILED, T0 + 2 * MIN, 3, 7, 5);
  ship(a, g_uri, 0, 2);
  ship(b, g_uri, 0, 1);
  ck_assert_uint_eq(tu_nfind(c, "acme.site_failures"), 0);
  add(a, EAUDIT_TYPE_DOOR_OPEN_FAILED, T0 + 3 * MIN, 4, 8, 5);
  ship(a, g_uri, 0, 1);
  eaudit_findings *l = tu_findings(c, "acme.site_failures");
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  ck_assert_str_eq(eaudit_finding_key(eaudit_findings_get(l, 0)), "site:5");
  ck_assert_uint_eq(eaudit_finding_event_count(eaudit_findings_get(l, 0)), 3);
  eaudit_findings_free(l);
  site_gone(a, pa);
  site_gone(b, pb);
  eaudit_store_free(c);
}
END_TEST

/* A site history with bursts, logins and late events, one day apart. */
static void site_history(eaudit_store *s, int from, int to) {
  for (int d = from; d < to; d++) {
    eaudit_time day = T0 + d * DAY;
    /* A failure burst every third day, by user 10 + d % 4. */
    int burst = d % 3 == 0 ? 5 : 2;
    for (int i = 0; i < burst; i++)
      add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, day + i * MIN, 10 + d % 4, 3, 1);
    /* Three users failing at door 9 within ten minutes every fifth day. */
    if (d % 5 == 1)
      for (int u = 0; u < 3; u++)
        add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, day + HOUR + u * 2 * MIN, 20 + u,
            9, 1);
    /* Logins from unrecognized devices: user 30 three days a week. */
    if (d % 7 < 3)
      add(s, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, day + 2 * HOUR, 30, -1, 1);
    add(s, EAUDIT_TYPE_DOOR_OPENED, day + 3 * HOUR, 40 + d % 3, 3, 1);
    /* Temporary privilege: added, a door, removed within the hour (every
     * fourth day; on the others removed the next day). */
    if (d % 2 == 0) {
      add_group(s, EAUDIT_TYPE_GROUP_ADDED, day + 4 * HOUR, 50, 6);
      add(s, EAUDIT_TYPE_DOOR_OPENED, day + 4 * HOUR + 10 * MIN, 50, 2, 1);
      add_group(s, EAUDIT_TYPE_GROUP_REMOVED,
                day + (d % 4 == 0 ? 4 * HOUR + 30 * MIN : 20 * HOUR), 50, 6);
    }
    /* Credential churn: five updates within a day every sixth day. */
    if (d % 6 == 4)
      for (int i = 0; i < 5; i++)
        add(s, EAUDIT_TYPE_USER_UPDATED, day + 5 * HOUR + i * HOUR, 60, -1, 1);
    /* A late one now and then. */
    if (d % 11 == 10)
      add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, day - 3 * DAY, 10, 3, 1);
  }
}

/* One clean ship, a ship in small batches as the site grows, and a
 * shipper killed inside a batch then started again, each into its own
 * database, give the same findings, which are the site's own; re-shipping
 * adds none. */
START_TEST(batches_and_a_killed_shipper_fire_once) {
  char db2[64], uri2[1024], db3[64], uri3[1024];
  tu_pg_create_db("central_rules", db2, sizeof db2, uri2, sizeof uri2);
  tu_pg_create_db("central_rules", db3, sizeof db3, uri3, sizeof uri3);
  eaudit_store *c1 = central_with_rules(g_uri);
  eaudit_store *c2 = central_with_rules(uri2);
  eaudit_store *c3 = central_with_rules(uri3);
  char path[512];
  eaudit_store *s = site_new("cr-batches", path, sizeof path);
  site_history(s, 0, 14);
  ck_assert_int_gt(ship(s, uri2, 7, -1), 50);
  site_history(s, 14, 28);
  ck_assert_int_gt(ship(s, uri2, 7, -1), 50);
  int64_t total = ship(s, g_uri, 0, -1);
  /* A shipper killed midway into c3, then started again. */
  uint8_t id[16];
  EA_OK(eaudit_store_id(s, id));
  PGconn *pg = tu_pg_open(uri3);
  pid_t pid = tu_spawn_shipper(path, uri3, 5);
  tu_pg_wait_site_head(pg, id, 60);
  int64_t head = tu_kill_shipper_in_batch(pg, id, pid);
  ck_assert_int_lt(head, total);
  ck_assert_int_eq(head % 5, 0);
  PQfinish(pg);
  ship(s, uri3, 5, total - head);
  /* Re-shipping sends nothing and fires nothing. */
  ship(s, g_uri, 0, 0);
  ship(s, uri3, 3, 0);
  char *d1 = digest(c1), *d2 = digest(c2), *d3 = digest(c3), *ds = digest(s);
  SAME(d2, d1);
  SAME(d3, d1);
  SAME(ds, d1);
  ck_assert_uint_eq(tu_nfind(c1, "door_failure_burst"), 16);
  ck_assert_uint_eq(tu_nfind(c1, "unrecognized_device_abuse"), 1);
  ck_assert_uint_eq(tu_nfind(c1, "temporary_privilege"), 7);
  ck_assert_uint_eq(tu_nfind(c1, "credential_churn"), 4);
  free(d1);
  free(d2);
  free(d3);
  free(ds);
  site_gone(s, path);
  eaudit_store_free(c1);
  eaudit_store_free(c2);
  eaudit_store_free(c3);
  tu_pg_drop_db(db2);
  tu_pg_drop_db(db3);
}
END_TEST

/* Batch re-evaluation of the central store covers the shipped origins
 * and gives what shipping gave (and the own chain's findings); it also
 * covers events shipped before the rule set was chosen, and shipping goes
 * on from it. */
START_TEST(reevaluation_on_the_central_store_equals_incremental) {
  char db2[64], uri2[1024];
  tu_pg_create_db("central_rules", db2, sizeof db2, uri2, sizeof uri2);
  eaudit_store *c = central_with_rules(g_uri);
  char pa[512], pb[512];
  eaudit_store *a = site_new("cr-ra", pa, sizeof pa);
  eaudit_store *b = site_new("cr-rb", pb, sizeof pb);
  site_history(a, 0, 20);
  site_history(b, 3, 12);
  ship(a, g_uri, 40, -1);
  ship(b, g_uri, 0, -1);
  eaudit_store *sites[2] = {a, b};
  char *want = digest_many(sites, 2);
  char *got = digest(c);
  SAME(got, want);
  free(got);
  /* The central store's own chain fires too. */
  for (int i = 0; i < 5; i++)
    add(c, EAUDIT_TYPE_DOOR_OPEN_FAILED, T0 + i * MIN, 10, 3, 1);
  char *inc = digest(c);
  ck_assert_uint_gt(strlen(inc), strlen(want));
  int64_t count = -1;
  EA_OK(eaudit_store_reevaluate(c, 0, &count));
  ck_assert_int_eq(count, (int64_t)tu_nfind(c, NULL));
  char *re = digest(c);
  SAME(re, inc);
  free(re);
  free(inc);
  /* Shipped first, rules chosen later: nothing fired until a
   * re-evaluation, which then gives the same. */
  eaudit_store *c2 = tu_open_at(uri2, &g_clock, &g_seed);
  ship(a, uri2, 0, -1);
  ship(b, uri2, 0, -1);
  ck_assert_uint_eq(tu_nfind(c2, NULL), 0);
  char *json = NULL;
  EA_OK(eaudit_store_rules(c2, &json));
  EA_OK(eaudit_store_set_rules(c2, json, strlen(json), 1));
  eaudit_free(json);
  ck_assert_uint_eq(tu_nfind(c2, NULL), 0);
  EA_OK(eaudit_store_reevaluate(c2, 0, &count));
  got = digest(c2);
  SAME(got, want);
  free(got);
  free(want);
  /* Shipping goes on from there, alike on both central stores. */
  site_history(a, 20, 28);
  ship(a, g_uri, 0, -1);
  ship(a, uri2, 9, -1);
  want = digest_many(sites, 2);
  got = digest(c2);
  SAME(got, want);
  free(got);
  free(want);
  site_gone(a, pa);
  site_gone(b, pb);
  eaudit_store_free(c);
  eaudit_store_free(c2);
  tu_pg_drop_db(db2);
}
END_TEST

/* Without a rule set of the central store's own, or with every rule
 * disabled, shipped events are not evaluated: no findings, no rule state
 * for the site. Choosing rules later evaluates what is shipped from then
 * on. */
START_TEST(without_rules_shipping_is_unchanged) {
  eaudit_store *c = tu_open_at(g_uri, &g_clock, &g_seed);
  char path[512];
  eaudit_store *s = site_new("cr-none", path, sizeof path);
  PGconn *pg = tu_pg_open(g_uri);
  site_history(s, 0, 10);
  ship(s, g_uri, 0, -1);
  ck_assert_uint_eq(tu_nfind(c, NULL), 0);
  ck_assert_uint_gt(tu_nfind(s, NULL), 2);
  ck_assert_int_eq(site_origin_rows(pg, s, "rule_meta"), 0);
  static const char off[] = "{\"builtins\": true, \"rules\": ["
                            "{\"id\": \"unrecognized_device_abuse\", \"enabled\": false},"
                            "{\"id\": \"door_failure_burst\", \"enabled\": false},"
                            "{\"id\": \"keycard_add_failures\", \"enabled\": false},"
                            "{\"id\": \"admin_new_device_off_hours\", \"enabled\": false},"
                            "{\"id\": \"expired_while_inside\", \"enabled\": false},"
                            "{\"id\": \"temporary_privilege\", \"enabled\": false},"
                            "{\"id\": \"credential_churn\", \"enabled\": false}]}";
  EA_OK(eaudit_store_set_rules(c, off, strlen(off), 1));
  site_history(s, 10, 20);
  ship(s, g_uri, 0, -1);
  ck_assert_uint_eq(tu_nfind(c, NULL), 0);
  ck_assert_int_eq(site_origin_rows(pg, s, "rule_meta"), 0);
  ck_assert_int_eq(site_origin_rows(pg, s, "rule_state"), 0);
  /* Rules on: the next burst fires, the earlier ones stay unevaluated. */
  char *json = NULL;
  EA_OK(eaudit_store_set_rules(c, "{}", 2, 1));
  EA_OK(eaudit_store_rules(c, &json));
  eaudit_free(json);
  for (int i = 0; i < 5; i++)
    add(s, EAUDIT_TYPE_DOOR_OPEN_FAILED, T0 + 30 * DAY + i * MIN, 99, 4, 1);
  ship(s, g_uri, 0, 5);
  eaudit_findings *l = tu_findings(c, NULL);
  ck_assert_uint_eq(eaudit_findings_size(l), 1);
  ck_assert_str_eq(eaudit_finding_rule(eaudit_findings_get(l, 0)),
                   "door_failure_burst");
  ck_assert_str_eq(eaudit_finding_key(eaudit_findings_get(l, 0)), "subject:99");
  eaudit_findings_free(l);
  ck_assert_int_eq(site_origin_rows(pg, s, "findings"), 1);
  PQfinish(pg);
  site_gone(s, path);
  eaudit_store_free(c);
}
END_TEST

/* A site in another time zone counts its local days in its own zone.
 * Auckland's 2026-04-05 lasts 25 h (daylight saving time ends): two logins
 * 24 h 20 min apart fall on that one local day but on two UTC days, so
 * with a third two days later the Auckland site sees two distinct days
 * (no finding) where a UTC site sees three (a finding). */
START_TEST(local_days_are_the_sites) {
  eaudit_store *c = central_with_rules(g_uri);
  char pz[512], pu[512];
  tu_temp_path(pz, sizeof pz, "cr-zone");
  eaudit_options *o = tu_options(&g_clock, &g_seed);
  EA_OK(eaudit_options_set_str(o, EAUDIT_OPT_TIME_ZONE, "Pacific/Auckland"));
  eaudit_store *z = NULL;
  EA_OK(eaudit_store_open(&z, pz, o));
  eaudit_options_free(o);
  eaudit_store *u = site_new("cr-utc", pu, sizeof pu);
  eaudit_time a = tu_utc(2026, 4, 4, 11, 10, 0);
  const eaudit_time at[3] = {a, a + DAY + 20 * MIN, a + 3 * DAY - 10 * MIN};
  for (int i = 0; i < 3; i++) {
    add(z, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, at[i], 5, -1, 1);
    add(u, EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, at[i], 5, -1, 2);
  }
  ck_assert_uint_eq(tu_nfind(z, NULL), 0);
  ck_assert_uint_eq(tu_nfind(u, "unrecognized_device_abuse"), 1);
  ship(z, g_uri, 0, 3);
  ship(u, g_uri, 2, 3);
  eaudit_store *sites[2] = {z, u};
  char *dc = digest(c), *ds = digest_many(sites, 2);
  SAME(dc, ds);
  ck_assert_uint_eq(tu_nfind(c, NULL), 1);
  free(dc);
  free(ds);
  /* Re-evaluation uses the zone recorded for the origin. */
  int64_t count = -1;
  EA_OK(eaudit_store_reevaluate(c, 0, &count));
  ck_assert_int_eq(count, 1);
  dc = digest(c);
  ds = digest_many(sites, 2);
  SAME(dc, ds);
  free(dc);
  free(ds);
  site_gone(z, pz);
  site_gone(u, pu);
  eaudit_store_free(c);
}
END_TEST

#endif

int main(void) {
#ifdef EAUDIT_HAVE_LIBPQ
  if (tu_pg_base() != NULL) {
    Suite *su = suite_create("central_rules");
    TCase *tc = tcase_create("central");
    tcase_add_checked_fixture(tc, db_setup, db_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, shipped_abuse_fires_per_site);
    tcase_add_test(tc, group_by_site_stays_within_an_origin);
    tcase_add_test(tc, batches_and_a_killed_shipper_fire_once);
    tcase_add_test(tc, reevaluation_on_the_central_store_equals_incremental);
    tcase_add_test(tc, without_rules_shipping_is_unchanged);
    tcase_add_test(tc, local_days_are_the_sites);
    suite_add_tcase(su, tc);
    return tu_run(su);
  }
#endif
  const char *req = getenv("EAUDIT_REQUIRE_PG");
#ifdef EAUDIT_HAVE_LIBPQ
  if (req && strcmp(req, "1") == 0) {
    fprintf(stderr, "test_central_rules: EAUDIT_REQUIRE_PG=1 but "
                    "EAUDIT_TEST_PG is not set\n");
    return EXIT_FAILURE;
  }
  fprintf(stderr, "test_central_rules: skipped: EAUDIT_TEST_PG is not set\n");
  return 77;
#else
  (void)req;
  fprintf(stderr, "test_central_rules: built without PostgreSQL\n");
  return 0;
#endif
}
