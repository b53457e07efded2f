/* Tamper evidence: checkpoints, verification against raw-SQL tampering,
 * key rotation, several writers, retention and backup. */
#include "testutil.h"

#include "chain.h"
#include "checkpoint.h"
#include "store_internal.h"
#ifdef EAUDIT_HAVE_LIBPQ
#include "pg_internal.h"
#endif

#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const uint8_t SEED[32] = {7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
static const uint8_t SEED2[32] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
                                  9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
                                  9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
#define ACTOR 900
#define T0 tu_utc(2026, 3, 1, 8, 0, 0)

static void pubkey(const uint8_t seed[32], uint8_t pk[32]) {
  EA_OK(eaudit_signing_public_key(seed, 32, pk));
}

/* A varied event: every optional id, credential, reason and details show
 * up in some rows. */
static eaudit_event *make_event(int i) {
  static const int types[] = {3, 6, 1, 4, 5, 7, 10, 9, 11};
  int type = types[i % 9];
  eaudit_event *ev = tu_event(type, T0 + (eaudit_time)i * 60000000, 100 + i % 17);
  if (i % 3 == 0)
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_DOOR, 500 + i % 5));
  if (type == 4 || type == 5 || type == 9 || type == 11)
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_GROUP, 40 + i % 3));
  if (i % 5 == 0)
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_DEVICE, 7000 + i));
  if (i % 7 == 0)
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_SITE, 2));
  if (i % 11 == 0)
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_ACTOR, ACTOR));
  EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_CREDENTIAL, i % 6));
  if (type == 6)
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_REASON, 1 + i % 5));
  if (i % 4 == 0) {
    char d[64];
    int n = snprintf(d, sizeof d, "{\"n\":%d,\"note\":\"row\"}", i);
    EA_OK(eaudit_event_set_details(ev, d, (size_t)n));
  }
  return ev;
}

static tu_clock g_clock;
static uint64_t g_seed;

static eaudit_store *open_store(const char *path, const uint8_t *seed) {
  eaudit_options *o = tu_options(&g_clock, &g_seed);
  EA_OK(eaudit_options_set_int(o, EAUDIT_OPT_SYNCHRONOUS, EAUDIT_SYNC_NORMAL));
  eaudit_store *s = NULL;
  EA_OK(eaudit_store_open(&s, path, o));
  eaudit_options_free(o);
  if (seed)
    EA_OK(eaudit_store_set_signing_key(s, seed, 32));
  return s;
}

/* n events, a checkpoint every `every` events, one at the end, and a few
 * names for the search index. */
static void build_store(const char *path, int n, int every) {
  g_clock = (tu_clock){T0 + 3600000000LL * 24 * 30, 1000};
  g_seed = 42;
  eaudit_store *s = open_store(path, SEED);
  EA_OK(eaudit_store_set_checkpoint_policy(s, every, 0));
  eaudit_batch *b = NULL;
  EA_OK(eaudit_batch_new(&b));
  for (int i = 1; i <= n; i++) {
    eaudit_event *ev = make_event(i);
    if (n > 1000) {
      EA_OK(eaudit_batch_add(b, ev));
      if (eaudit_batch_size(b) == (size_t)every) {
        EA_OK(eaudit_store_append_batch(s, b, NULL));
        eaudit_batch_clear(b);
      }
    } else {
      EA_OK(eaudit_store_append(s, ev));
    }
    eaudit_event_free(ev);
  }
  if (eaudit_batch_size(b))
    EA_OK(eaudit_store_append_batch(s, b, NULL));
  eaudit_batch_free(b);
  EA_OK(eaudit_store_checkpoint(s, NULL));
  EA_OK(eaudit_store_set_name(s, EAUDIT_KIND_USER, 101, "Ada Lovelace",
                              EAUDIT_TIME_NONE));
  EA_OK(eaudit_store_set_name(s, EAUDIT_KIND_DOOR, 500, "Main entrance",
                              EAUDIT_TIME_NONE));
  EA_OK(eaudit_store_set_name(s, EAUDIT_KIND_USER, 102, "Grace Hopper",
                              EAUDIT_TIME_NONE));
  eaudit_store_free(s);
}

static void copy_file(const char *from, const char *to) {
  tu_remove_store(to);
  sqlite3 *src = NULL, *dst = NULL;
  ck_assert_int_eq(sqlite3_open(from, &src), SQLITE_OK);
  ck_assert_int_eq(sqlite3_open(to, &dst), SQLITE_OK);
  sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
  ck_assert_ptr_nonnull(b);
  ck_assert_int_eq(sqlite3_backup_step(b, -1), SQLITE_DONE);
  sqlite3_backup_finish(b);
  sqlite3_close(src);
  sqlite3_close(dst);
}

static void sql(sqlite3 *db, const char *fmt, ...) {
  char q[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(q, sizeof q, fmt, ap);
  va_end(ap);
  char *err = NULL;
  int rc = sqlite3_exec(db, q, NULL, NULL, &err);
  ck_assert_msg(rc == SQLITE_OK, "%s: %s", q, err ? err : "?");
}

static int64_t sql_int(sqlite3 *db, const char *fmt, ...) {
  char q[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(q, sizeof q, fmt, ap);
  va_end(ap);
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* The tamperer. On SQLite: a raw connection to the work copy, with the
 * pristine file attached as "o" to undo each mutation. On PostgreSQL: the
 * store's own database, with pristine copies of its tables (eaudit.o_*),
 * reached through a libpq connection of its own. */
typedef struct lab {
  char orig[512], work[1024];
  sqlite3 *db;     /* SQLite only */
  eaudit_store *s; /* the verifier's handle on the work copy */
  void *pg;        /* PostgreSQL only: the tamperer's connection */
  uint8_t pk[32];
  int64_t n;
} lab;

/* Raw SQL on the PostgreSQL work copy, through the lab's connection. */
static void lab_pg(lab *l, const char *q) {
#ifdef EAUDIT_HAVE_LIBPQ
  tu_pg_do(l->pg, q);
#else
  (void)l;
  ck_abort_msg("no PostgreSQL in this build: %s", q);
#endif
}

static void lab_pg_value(lab *l, const char *q, char *out, size_t size) {
#ifdef EAUDIT_HAVE_LIBPQ
  snprintf(out, size, "%s", tu_pg_one(l->pg, q));
#else
  (void)l;
  (void)out;
  (void)size;
  ck_abort_msg("no PostgreSQL in this build: %s", q);
#endif
}

/* Run raw SQL on the work copy: lite on SQLite, pg on PostgreSQL. */
static void lab_do(lab *l, const char *lite, const char *pg) {
  if (tu_backend_pg())
    lab_pg(l, pg);
  else
    sql(l->db, "%s", lite);
}

static int64_t lab_int(lab *l, const char *lite, const char *pg) {
  if (!tu_backend_pg())
    return sql_int(l->db, "%s", lite);
  char v[64];
  lab_pg_value(l, pg, v, sizeof v);
  return strtoll(v, NULL, 10);
}

static void lab_open(lab *l, const char *name, int n, int every) {
  l->db = NULL;
  l->pg = NULL;
  if (tu_backend_pg()) {
    tu_store_target(l->work, sizeof l->work, name);
    build_store(l->work, n, every);
#ifdef EAUDIT_HAVE_LIBPQ
    l->pg = tu_pg_open(l->work);
#endif
    tu_store_sql(l->work, NULL,
                 "CREATE TABLE eaudit.o_events AS SELECT * FROM eaudit.events;"
                 "CREATE TABLE eaudit.o_checkpoints AS SELECT * FROM"
                 " eaudit.checkpoints;"
                 "CREATE TABLE eaudit.o_sites AS SELECT * FROM eaudit.sites");
  } else {
    char b[600];
    snprintf(b, sizeof b, "%s-orig", name);
    tu_temp_path(l->orig, sizeof l->orig, b);
    tu_temp_path(l->work, sizeof l->work, name);
    build_store(l->orig, n, every);
    copy_file(l->orig, l->work);
    ck_assert_int_eq(sqlite3_open(l->work, &l->db), SQLITE_OK);
    sqlite3_busy_timeout(l->db, 5000);
    sql(l->db, "PRAGMA synchronous = OFF");
    sql(l->db, "ATTACH '%s' AS o", l->orig);
  }
  l->s = open_store(l->work, NULL);
  pubkey(SEED, l->pk);
  l->n = n;
}

static void lab_close(lab *l) {
  eaudit_store_free(l->s);
#ifdef EAUDIT_HAVE_LIBPQ
  if (l->pg)
    PQfinish(l->pg);
#endif
  if (l->db) {
    sqlite3_close(l->db);
    tu_remove_store(l->work);
    tu_remove_store(l->orig);
  }
}

/* Undo: events lo..hi and anything beyond the original head, the head and
 * the checkpoints. */
static void lab_restore(lab *l, int64_t lo, int64_t hi) {
  if (tu_backend_pg()) {
    char q[1024];
    snprintf(q, sizeof q,
             "BEGIN; DELETE FROM eaudit.checkpoints; INSERT INTO"
             " eaudit.checkpoints SELECT * FROM eaudit.o_checkpoints;"
             "DELETE FROM eaudit.events WHERE seq BETWEEN %lld AND %lld OR"
             " seq > %lld OR seq < 1;"
             "INSERT INTO eaudit.events SELECT * FROM eaudit.o_events WHERE"
             " seq BETWEEN %lld AND %lld;"
             "UPDATE eaudit.sites s SET head_seq = o.head_seq, head_hash ="
             " o.head_hash, events = o.events FROM eaudit.o_sites o"
             " WHERE s.site_id = o.site_id; COMMIT",
             (long long)lo, (long long)hi, (long long)l->n, (long long)lo,
             (long long)hi);
    lab_pg(l, q);
    return;
  }
  if (sql_int(l->db, "SELECT count(*) FROM main.checkpoints") !=
      sql_int(l->db, "SELECT count(*) FROM o.checkpoints"))
    sql(l->db, "BEGIN; DELETE FROM main.checkpoints; INSERT INTO "
               "main.checkpoints SELECT * FROM o.checkpoints; COMMIT");
  sql(l->db,
      "BEGIN;"
      "DELETE FROM main.events WHERE seq BETWEEN %lld AND %lld OR seq > "
      "%lld OR seq < 1;"
      "INSERT INTO main.events SELECT * FROM o.events WHERE seq BETWEEN %lld "
      "AND %lld;"
      "UPDATE main.head SET seq = (SELECT seq FROM o.head), hash = (SELECT "
      "hash FROM o.head); COMMIT",
      (long long)lo, (long long)hi, (long long)l->n, (long long)lo,
      (long long)hi);
}

/* Delete event seq. */
static void lab_delete(lab *l, int64_t seq) {
  char a[128], b[128];
  snprintf(a, sizeof a, "DELETE FROM events WHERE seq = %lld", (long long)seq);
  snprintf(b, sizeof b, "DELETE FROM eaudit.events WHERE seq = %lld",
           (long long)seq);
  lab_do(l, a, b);
}

typedef struct outcome {
  int rc, damage;
  int64_t first_bad;
  char msg[512];
} outcome;

static outcome lab_verify(lab *l, const uint8_t *newest, size_t len,
                          unsigned flags) {
  eaudit_verify_result *r = NULL;
  outcome o;
  o.rc = eaudit_store_verify(l->s, ACTOR, l->pk, newest, len,
                             flags | EAUDIT_VERIFY_NO_RECORD, &r);
  ck_assert_msg(r != NULL, "verify gave no result: %d %s", o.rc,
                eaudit_error_last()->message);
  o.damage = eaudit_verify_result_damage(r);
  o.first_bad = eaudit_verify_result_first_bad_seq(r);
  snprintf(o.msg, sizeof o.msg, "%s", eaudit_verify_result_message(r));
  eaudit_verify_result_free(r);
  return o;
}

#define EXPECT(o, kind, seq, what)                                             \
  ck_assert_msg((o).damage == (kind) && (o).first_bad == (seq),                \
                "%s: expected %s at %lld, got %s at %lld (%s)", what,          \
                eaudit_damage_name(kind), (long long)(seq),                    \
                eaudit_damage_name((o).damage), (long long)(o).first_bad,      \
                (o).msg)

/* --- mutations --- */

static void forge_from(lab *l, int64_t k);

static const char *const FIELDS[] = {
    "id",  "occurred_at", "recorded_at", "type",       "subject",
    "actor", "door",      "grp",         "device",     "site",
    "credential", "reason", "details",   "hash",       "seq"};
#define N_FIELDS 15

/* mut_field on PostgreSQL: the same flips in its column types (the
 * partition key, occurred_at, only in its low bytes, to stay in its
 * month). */
static void mut_field_pg(lab *l, int64_t seq, const char *col, unsigned which) {
  char q[512];
  if (strcmp(col, "id") == 0 || strcmp(col, "details") == 0 ||
      strcmp(col, "hash") == 0)
    snprintf(q, sizeof q,
             "UPDATE eaudit.events SET %s = CASE WHEN %s IS NULL THEN"
             " convert_to('{}', 'UTF8') ELSE set_byte(%s, (%u %% length(%s))"
             "::int, get_byte(%s, (%u %% length(%s))::int) # 32) END"
             " WHERE seq = %lld",
             col, col, col, which, col, col, which, col, (long long)seq);
  else if (strcmp(col, "type") == 0 || strcmp(col, "credential") == 0 ||
           strcmp(col, "reason") == 0)
    snprintf(q, sizeof q,
             "UPDATE eaudit.events SET %s = %s # (1 << %u) WHERE seq = %lld",
             col, col, 8 * (which % 4), (long long)seq);
  else
    snprintf(q, sizeof q,
             "UPDATE eaudit.events SET %s = coalesce(%s # (1::bigint << %u),"
             " 7) WHERE seq = %lld",
             col, col,
             strcmp(col, "seq") == 0           ? 40
             : strcmp(col, "occurred_at") == 0 ? 8 * (which % 3)
                                               : 8 * (which % 8),
             (long long)seq);
  lab_pg(l, q);
}

/* Change one byte of a field of row seq (an absent field gets a value). */
static void mut_field(lab *l, int64_t seq, const char *col, unsigned which) {
  if (tu_backend_pg()) {
    mut_field_pg(l, seq, col, which);
    return;
  }
  sqlite3_stmt *st = NULL;
  char q[256];
  snprintf(q, sizeof q, "SELECT %s, typeof(%s) FROM events WHERE seq = %lld",
           col, col, (long long)seq);
  ck_assert_int_eq(sqlite3_prepare_v2(l->db, q, -1, &st, NULL), SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  const char *t = (const char *)sqlite3_column_text(st, 1);
  sqlite3_stmt *up = NULL;
  snprintf(q, sizeof q, "UPDATE events SET %s = ?1 WHERE seq = %lld", col,
           (long long)seq);
  ck_assert_int_eq(sqlite3_prepare_v2(l->db, q, -1, &up, NULL), SQLITE_OK);
  if (strcmp(t, "blob") == 0) {
    int n = sqlite3_column_bytes(st, 0);
    uint8_t buf[4096];
    ck_assert_int_le(n, (int)sizeof buf);
    memcpy(buf, sqlite3_column_blob(st, 0), (size_t)n);
    buf[which % (unsigned)n] ^= 0x20;
    sqlite3_bind_blob(up, 1, buf, n, SQLITE_TRANSIENT);
  } else if (strcmp(t, "null") == 0) {
    if (strcmp(col, "details") == 0)
      sqlite3_bind_blob(up, 1, "{}", 2, SQLITE_STATIC);
    else
      sqlite3_bind_int64(up, 1, 7);
  } else {
    int64_t v = sqlite3_column_int64(st, 0);
    int byte = strcmp(col, "seq") == 0 ? 5 : (int)(which % 8);
    sqlite3_bind_int64(up, 1, v ^ ((int64_t)1 << (8 * byte)));
  }
  sqlite3_finalize(st);
  ck_assert_int_eq(sqlite3_step(up), SQLITE_DONE);
  sqlite3_finalize(up);
}

/* Exchange every column but seq of two rows. */
static void mut_swap(lab *l, int64_t a, int64_t b) {
  static const char cols[] =
      "id, occurred_at, recorded_at, type, subject, actor, door, grp, "
      "device, site, credential, reason, details, hash";
  if (tu_backend_pg()) {
    char q[1500];
    snprintf(q, sizeof q,
             "BEGIN; CREATE TEMP TABLE sw AS SELECT * FROM eaudit.events"
             " WHERE seq IN (%lld, %lld);"
             "UPDATE eaudit.events SET id = decode(md5(random()::text),"
             " 'hex') WHERE seq = %lld;"
             "UPDATE eaudit.events SET (%s) = (SELECT %s FROM sw WHERE seq ="
             " %lld) WHERE seq = %lld;"
             "UPDATE eaudit.events SET (%s) = (SELECT %s FROM sw WHERE seq ="
             " %lld) WHERE seq = %lld;"
             "DROP TABLE sw; COMMIT",
             (long long)a, (long long)b, (long long)a, cols, cols,
             (long long)a, (long long)b, cols, cols, (long long)b,
             (long long)a);
    lab_pg(l, q);
    return;
  }
  sql(l->db,
      "BEGIN; CREATE TEMP TABLE sw AS SELECT * FROM events WHERE seq IN "
      "(%lld, %lld);"
      "UPDATE events SET id = randomblob(16) WHERE seq = %lld;"
      "UPDATE events SET (%s) = (SELECT %s FROM sw WHERE seq = %lld) WHERE "
      "seq = %lld;"
      "UPDATE events SET (%s) = (SELECT %s FROM sw WHERE seq = %lld) WHERE "
      "seq = %lld;"
      "DROP TABLE sw; COMMIT",
      (long long)a, (long long)b, (long long)a, cols, cols, (long long)a,
      (long long)b, cols, cols, (long long)b, (long long)a);
}

/* Insert a forged row at k, renumbering k.. up by one. With valid_link the
 * forger gives it the right link to the row before (BLAKE2b is public). */
static void mut_insert_pg(lab *l, int64_t k, int valid_link);

static void mut_insert(lab *l, int64_t k, int valid_link) {
  if (tu_backend_pg()) {
    mut_insert_pg(l, k, valid_link);
    return;
  }
  sql(l->db,
      "BEGIN; UPDATE events SET seq = -seq WHERE seq >= %lld;"
      "UPDATE events SET seq = 1 - seq WHERE seq < 0;"
      "INSERT INTO events(seq, id, occurred_at, recorded_at, type, subject,"
      " actor, credential, reason, hash) VALUES (%lld, randomblob(16), %lld,"
      " %lld, 3, 101, 101, 1, 0, randomblob(32)); COMMIT",
      (long long)k, (long long)k, (long long)T0, (long long)T0);
  if (!valid_link)
    return;
  /* Recompute the forged row's link the way the library does. */
  eaudit_event *ev = NULL;
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(
      sqlite3_prepare_v2(l->db,
                         "SELECT seq, id, occurred_at, recorded_at, type, "
                         "subject, actor, door, grp, device, site, "
                         "credential, reason, details, hash FROM events "
                         "WHERE seq = ?1",
                         -1, &st, NULL),
      SQLITE_OK);
  sqlite3_bind_int64(st, 1, k);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  EA_OK(eaudit_event_new(&ev));
  eaudit__event_from_row(st, 0, ev);
  sqlite3_finalize(st);
  uint8_t prev[32], h[32];
  if (k == 1) {
    uint8_t id[16];
    EA_OK(eaudit_store_id(l->s, id));
    eaudit__chain_genesis(id, prev);
  } else {
    sqlite3_prepare_v2(l->db, "SELECT hash FROM events WHERE seq = ?1", -1,
                       &st, NULL);
    sqlite3_bind_int64(st, 1, k - 1);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    memcpy(prev, sqlite3_column_blob(st, 0), 32);
    sqlite3_finalize(st);
  }
  eaudit__chain_link(ev, prev, h);
  eaudit_event_free(ev);
  sqlite3_prepare_v2(l->db, "UPDATE events SET hash = ?1 WHERE seq = ?2", -1,
                     &st, NULL);
  sqlite3_bind_blob(st, 1, h, 32, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, k);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
}

static void hex_to(const char *hex, uint8_t *out, size_t n) {
  ck_assert_uint_eq(strlen(hex), 2 * n);
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
}

static void to_hex(const uint8_t *b, size_t n, char *out) {
  for (size_t i = 0; i < n; i++)
    snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The stored link of row seq on PostgreSQL, the genesis link for 0. */
static void pg_hash_at(lab *l, int64_t seq, uint8_t out[32]) {
  if (seq == 0) {
    uint8_t id[16];
    EA_OK(eaudit_store_id(l->s, id));
    eaudit__chain_genesis(id, out);
    return;
  }
  char q[160], v[80];
  snprintf(q, sizeof q,
           "SELECT encode(hash, 'hex') FROM eaudit.events WHERE seq = %lld",
           (long long)seq);
  lab_pg_value(l, q, v, sizeof v);
  hex_to(v, out, 32);
}

/* mut_insert on PostgreSQL: the same forged row, its link computed here. */
static void mut_insert_pg(lab *l, int64_t k, int valid_link) {
  uint8_t id[16] = {0xf0, 0x0d}, h[32];
  for (int i = 0; i < 8; i++)
    id[8 + i] = (uint8_t)(k >> (56 - 8 * i));
  memset(h, 0xab, sizeof h);
  if (valid_link) {
    uint8_t prev[32];
    pg_hash_at(l, k - 1, prev);
    eaudit_event *ev = tu_event(3, T0, 101);
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_CREDENTIAL, 1));
    eaudit__event_put(ev, EAUDIT_FIELD_SEQ, k);
    eaudit__event_put(ev, EAUDIT_FIELD_RECORDED_AT, T0);
    memcpy(ev->id, id, 16);
    ev->has_id = 1;
    eaudit__chain_link(ev, prev, h);
    eaudit_event_free(ev);
  }
  char hid[33], hh[65], q[1024];
  to_hex(id, 16, hid);
  to_hex(h, 32, hh);
  snprintf(q, sizeof q,
           "BEGIN; UPDATE eaudit.events SET seq = -seq WHERE seq >= %lld;"
           "UPDATE eaudit.events SET seq = 1 - seq WHERE seq < 0;"
           "INSERT INTO eaudit.events(origin, seq, id, occurred_at,"
           " recorded_at, type, subject, actor, credential, reason, hash)"
           " SELECT site_id, %lld, '\\x%s', %lld, %lld, 3, 101, 101, 1, 0,"
           " '\\x%s' FROM eaudit.sites WHERE own; COMMIT",
           (long long)k, (long long)k, hid, (long long)T0, (long long)T0, hh);
  lab_pg(l, q);
}

/* The link re-implemented from docs/integrity.md, independent of chain.c. */
static void be(uint8_t **p, uint64_t v, int n) {
  for (int i = 0; i < n; i++)
    *(*p)++ = (uint8_t)(v >> (8 * (n - 1 - i)));
}

START_TEST(canonical_bytes_match_the_documented_layout) {
  char path[1024];
  tu_store_target(path, sizeof path, "integ-canon");
  g_clock = (tu_clock){T0, 1000};
  g_seed = 77;
  eaudit_store *s = open_store(path, NULL);
  eaudit_event *ev = make_event(60); /* door, device, details, no site */
  EA_OK(eaudit_store_append(s, ev));
  uint8_t store_id[16], id[16], prev[32], want[32];
  EA_OK(eaudit_store_id(s, store_id));
  EA_OK(eaudit_event_id(ev, id));
  crypto_generichash_state h;
  crypto_generichash_init(&h, NULL, 0, 32);
  crypto_generichash_update(&h, (const uint8_t *)"eaudit-genesis-v1", 17);
  crypto_generichash_update(&h, store_id, 16);
  crypto_generichash_final(&h, prev, 32);
  int64_t v[13];
  for (int f = 1; f <= 12; f++)
    if (eaudit_event_get(ev, f, &v[f]) != 0)
      v[f] = INT64_MIN;
  uint8_t buf[256], *p = buf;
  memcpy(p, "eaudit-event", 12);
  p += 12;
  *p++ = 1;
  memcpy(p, id, 16);
  p += 16;
  be(&p, (uint64_t)v[EAUDIT_FIELD_SEQ], 8);
  be(&p, (uint64_t)v[EAUDIT_FIELD_OCCURRED_AT], 8);
  be(&p, (uint64_t)v[EAUDIT_FIELD_RECORDED_AT], 8);
  be(&p, (uint64_t)v[EAUDIT_FIELD_TYPE], 4);
  static const int ids[] = {EAUDIT_FIELD_SUBJECT, EAUDIT_FIELD_ACTOR,
                            EAUDIT_FIELD_DOOR,    EAUDIT_FIELD_GROUP,
                            EAUDIT_FIELD_DEVICE,  EAUDIT_FIELD_SITE};
  uint8_t bitmap = 0;
  for (int i = 0; i < 6; i++)
    if (v[ids[i]] != INT64_MIN)
      bitmap |= (uint8_t)(1u << i);
  ck_assert_int_eq(bitmap, 0x17); /* subject, actor, door, device */
  *p++ = bitmap;
  for (int i = 0; i < 6; i++)
    if (v[ids[i]] != INT64_MIN)
      be(&p, (uint64_t)v[ids[i]], 8);
  be(&p, (uint64_t)v[EAUDIT_FIELD_CREDENTIAL], 2);
  be(&p, (uint64_t)(v[EAUDIT_FIELD_REASON] == INT64_MIN ? 0 : v[EAUDIT_FIELD_REASON]), 2);
  size_t dlen = 0;
  const char *d = eaudit_event_details(ev, &dlen);
  be(&p, dlen, 4);
  memcpy(p, d, dlen);
  p += dlen;
  memcpy(p, prev, 32);
  p += 32;
  crypto_generichash(want, 32, buf, (size_t)(p - buf), NULL, 0);
  ck_assert_mem_eq(eaudit_event_hash(ev), want, 32);
  eaudit_event_free(ev);
  eaudit_store_free(s);
  tu_remove_store(path);
}
END_TEST

START_TEST(clean_store_verifies_with_its_key) {
  lab l;
  lab_open(&l, "integ-clean", 120, 25);
  eaudit_verify_result *r = NULL;
  EA_OK(eaudit_store_verify(l.s, ACTOR, l.pk, NULL, 0, 0, &r));
  ck_assert_int_eq(eaudit_verify_result_ok(r), 1);
  ck_assert_int_eq(eaudit_verify_result_events(r), 120);
  /* First append, then every 25 since the previous, then on demand. */
  ck_assert_int_eq(eaudit_verify_result_checkpoints(r), 6);
  ck_assert_int_eq(eaudit_verify_result_signed_through(r), 120);
  eaudit_verify_result_free(r);
  lab_close(&l);
}
END_TEST

START_TEST(a_long_checkpoint_history_verifies) {
  lab l;
  lab_open(&l, "integ-long", 150, 2);
  eaudit_verify_result *r = NULL;
  EA_OK(eaudit_store_verify(l.s, ACTOR, l.pk, NULL, 0, 0, &r));
  ck_assert_int_eq(eaudit_verify_result_checkpoints(r), 76);
  eaudit_verify_result_free(r);
  forge_from(&l, 140);
  outcome o = lab_verify(&l, NULL, 0, 0);
  EXPECT(o, EAUDIT_DAMAGE_MODIFIED, 140, "forged at 140");
  lab_close(&l);
}
END_TEST

START_TEST(every_mutation_of_a_300_event_store_is_found) {
  lab l;
  lab_open(&l, "integ-300", 300, 50);
  outcome o = lab_verify(&l, NULL, 0, EAUDIT_VERIFY_SKIP_DERIVED);
  ck_assert_int_eq(o.damage, EAUDIT_DAMAGE_NONE);
  int cases = 0, rows = 0;
  /* Every row on SQLite; on PostgreSQL, where each mutation and check is
   * a few round trips, every 6th and the last. */
  int64_t stride = tu_backend_pg() ? 6 : 1;
  for (int64_t i = 1; i <= 300; i = i + stride > 300 && i < 300 ? 300 : i + stride) {
    rows++;
    for (int f = 0; f < N_FIELDS; f++) {
      mut_field(&l, i, FIELDS[f], (unsigned)(i + f));
      o = lab_verify(&l, NULL, 0, EAUDIT_VERIFY_SKIP_DERIVED);
      char what[64];
      snprintf(what, sizeof what, "field %s of %lld", FIELDS[f], (long long)i);
      EXPECT(o, f == 14 ? EAUDIT_DAMAGE_DELETED : EAUDIT_DAMAGE_MODIFIED, i,
             what);
      lab_restore(&l, i, i);
      cases++;
    }
    lab_delete(&l, i);
    o = lab_verify(&l, NULL, 0, EAUDIT_VERIFY_SKIP_DERIVED);
    EXPECT(o, i == 300 ? EAUDIT_DAMAGE_TRUNCATED : EAUDIT_DAMAGE_DELETED, i,
           "delete");
    lab_restore(&l, i, i);
    int64_t j = i == 300 ? 1 : (i % 3 == 0 ? i + 1 : 1 + (i * 7919) % 300);
    if (j == i)
      j = i == 1 ? 2 : i - 1;
    mut_swap(&l, i, j);
    o = lab_verify(&l, NULL, 0, EAUDIT_VERIFY_SKIP_DERIVED);
    EXPECT(o, EAUDIT_DAMAGE_REORDERED, i < j ? i : j, "swap");
    lab_restore(&l, i < j ? i : j, i < j ? j : i);
    mut_insert(&l, i, (int)(i % 2));
    o = lab_verify(&l, NULL, 0, EAUDIT_VERIFY_SKIP_DERIVED);
    EXPECT(o, EAUDIT_DAMAGE_INSERTED, i, "insert");
    lab_restore(&l, i, 301);
    cases += 3;
  }
  /* A forged row after the last one, the head left alone. */
  mut_insert(&l, 301, 1);
  o = lab_verify(&l, NULL, 0, EAUDIT_VERIFY_SKIP_DERIVED);
  EXPECT(o, EAUDIT_DAMAGE_INSERTED, 301, "insert after the head");
  lab_restore(&l, 301, 301);
  ck_assert_int_eq(rows, tu_backend_pg() ? 51 : 300);
  ck_assert_int_eq(cases, rows * (N_FIELDS + 3));
  o = lab_verify(&l, NULL, 0, 0);
  ck_assert_msg(o.damage == EAUDIT_DAMAGE_NONE, "restored: %s", o.msg);
  lab_close(&l);
}
END_TEST

START_TEST(sampled_mutations_of_a_6000_event_store_are_found) {
  lab l;
  lab_open(&l, "integ-6000", 6000, 3000);
  uint64_t x = 0x9E3779B97F4A7C15u;
  int done = 0;
  /* On PostgreSQL every 16th sample or so: each check reads the 6,000
   * rows over the socket. */
  int64_t step = tu_backend_pg() ? 100 : 6;
  for (int64_t i = 1; i <= 6000; i += step, done++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int kind = (int)(x % 20);
    outcome o;
    if (kind < 10) {
      int f = (int)((x >> 8) % N_FIELDS);
      mut_field(&l, i, FIELDS[f], (unsigned)(x >> 16));
      o = lab_verify(&l, NULL, 0, EAUDIT_VERIFY_SKIP_DERIVED);
      EXPECT(o, f == 14 ? EAUDIT_DAMAGE_DELETED : EAUDIT_DAMAGE_MODIFIED, i,
             FIELDS[f]);
      lab_restore(&l, i, i);
    } else if (kind < 14) {
      lab_delete(&l, i);
      o = lab_verify(&l, NULL, 0, EAUDIT_VERIFY_SKIP_DERIVED);
      EXPECT(o, EAUDIT_DAMAGE_DELETED, i, "delete");
      lab_restore(&l, i, i);
    } else if (kind < 19) {
      int64_t j = 1 + (int64_t)((x >> 20) % 6000);
      if (j == i)
        j = i + 1;
      mut_swap(&l, i, j);
      o = lab_verify(&l, NULL, 0, EAUDIT_VERIFY_SKIP_DERIVED);
      EXPECT(o, EAUDIT_DAMAGE_REORDERED, i < j ? i : j, "swap");
      lab_restore(&l, i < j ? i : j, i < j ? j : i);
    } else {
      mut_insert(&l, i, (int)((x >> 30) & 1));
      o = lab_verify(&l, NULL, 0, EAUDIT_VERIFY_SKIP_DERIVED);
      EXPECT(o, EAUDIT_DAMAGE_INSERTED, i, "insert");
      lab_restore(&l, i, 6001);
    }
  }
  ck_assert_int_ge(done, tu_backend_pg() ? 60 : 1000);
  outcome o = lab_verify(&l, NULL, 0, 0);
  ck_assert_msg(o.damage == EAUDIT_DAMAGE_NONE, "restored: %s", o.msg);
  lab_close(&l);
}
END_TEST

START_TEST(truncation_is_found_against_the_newest_off_device_checkpoint) {
  lab l;
  lab_open(&l, "integ-trunc", 300, 50);
  uint8_t newest[EAUDIT_CHECKPOINT_SIZE];
  size_t len = 0;
  EA_OK(eaudit_store_checkpoint_get(l.s, 0, newest, sizeof newest, &len));
  int64_t last = 0;
  EA_OK(eaudit_checkpoint_info(newest, len, NULL, &last, NULL));
  ck_assert_int_eq(last, 300);
  int step = tu_backend_pg() ? 5 : 1;
  for (int k = 1; k <= 100; k = k + step > 100 && k < 100 ? 100 : k + step) {
    int64_t keep = 300 - k;
    /* A careful truncation: events, their checkpoints, and the head set to
     * the new last event. */
    char a[512], b[512];
    snprintf(a, sizeof a,
             "BEGIN; DELETE FROM events WHERE seq > %lld;"
             "DELETE FROM checkpoints WHERE last_seq > %lld;"
             "UPDATE head SET seq = %lld, hash = (SELECT hash FROM events "
             "WHERE seq = %lld); COMMIT",
             (long long)keep, (long long)keep, (long long)keep,
             (long long)keep);
    snprintf(b, sizeof b,
             "BEGIN; DELETE FROM eaudit.events WHERE seq > %lld;"
             "DELETE FROM eaudit.checkpoints WHERE last_seq > %lld;"
             "UPDATE eaudit.sites SET head_seq = %lld, head_hash = (SELECT"
             " hash FROM eaudit.events WHERE seq = %lld) WHERE own; COMMIT",
             (long long)keep, (long long)keep, (long long)keep,
             (long long)keep);
    lab_do(&l, a, b);
    outcome o = lab_verify(&l, newest, len, EAUDIT_VERIFY_SKIP_DERIVED);
    EXPECT(o, EAUDIT_DAMAGE_TRUNCATED, keep + 1, "truncation");
    ck_assert_int_eq(o.rc, EAUDIT_ETAMPER);
    if (k == 1 || k == 100) {
      /* Without the off-device copy nothing is left to tell. */
      o = lab_verify(&l, NULL, 0, EAUDIT_VERIFY_SKIP_DERIVED);
      ck_assert_int_eq(o.damage, EAUDIT_DAMAGE_NONE);
    }
    lab_restore(&l, keep + 1, 300);
  }
  lab_close(&l);
}
END_TEST

/* The forger recomputes every later link and the head: only a signature
 * tells. */
#ifdef EAUDIT_HAVE_LIBPQ
static void forge_from_pg(lab *l, int64_t k) {
  PGconn *c = l->pg;
  char q[512];
  snprintf(q, sizeof q,
           "UPDATE eaudit.events SET details = convert_to('{\"forged\":1}',"
           " 'UTF8') WHERE seq = %lld",
           (long long)k);
  tu_pg_do(c, q);
  uint8_t prev[32], h[32];
  pg_hash_at(l, k - 1, prev);
  snprintf(q, sizeof q,
           "SELECT seq, id, occurred_at, recorded_at, type, subject, actor,"
           " door, grp, device, site, credential, reason, details, hash"
           " FROM eaudit.events WHERE seq >= %lld ORDER BY seq",
           (long long)k);
  PGresult *r = PQexecParams(c, q, 0, NULL, NULL, NULL, NULL, 1);
  ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
  eaudit_event *ev = NULL;
  EA_OK(eaudit_event_new(&ev));
  tu_pg_do(c, "BEGIN");
  char hh[65];
  for (int i = 0; i < PQntuples(r); i++) {
    EA_OK(eaudit__pg_row_event(r, i, ev));
    eaudit__chain_link(ev, prev, h);
    memcpy(prev, h, 32);
    to_hex(h, 32, hh);
    snprintf(q, sizeof q,
             "UPDATE eaudit.events SET hash = '\\x%s' WHERE seq = %lld", hh,
             (long long)ev->v[EAUDIT_FIELD_SEQ]);
    tu_pg_do(c, q);
  }
  PQclear(r);
  eaudit_event_free(ev);
  to_hex(prev, 32, hh);
  snprintf(q, sizeof q,
           "UPDATE eaudit.sites SET head_hash = '\\x%s' WHERE own", hh);
  tu_pg_do(c, q);
  tu_pg_do(c, "COMMIT");
}
#endif

static void forge_from(lab *l, int64_t k) {
  if (tu_backend_pg()) {
#ifdef EAUDIT_HAVE_LIBPQ
    forge_from_pg(l, k);
#endif
    return;
  }
  sql(l->db, "UPDATE events SET details = CAST('{\"forged\":1}' AS BLOB) "
             "WHERE seq = %lld",
      (long long)k);
  sqlite3_stmt *st = NULL, *up = NULL;
  uint8_t prev[32];
  sqlite3_prepare_v2(l->db, "SELECT hash FROM events WHERE seq = ?1", -1, &st,
                     NULL);
  sqlite3_bind_int64(st, 1, k - 1);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  memcpy(prev, sqlite3_column_blob(st, 0), 32);
  sqlite3_finalize(st);
  sqlite3_prepare_v2(l->db,
                     "SELECT seq, id, occurred_at, recorded_at, type, "
                     "subject, actor, door, grp, device, site, credential, "
                     "reason, details, hash FROM events WHERE seq >= ?1 "
                     "ORDER BY seq",
                     -1, &st, NULL);
  sqlite3_bind_int64(st, 1, k);
  sqlite3_prepare_v2(l->db, "UPDATE events SET hash = ?1 WHERE seq = ?2", -1,
                     &up, NULL);
  sql(l->db, "BEGIN");
  eaudit_event *ev = NULL;
  EA_OK(eaudit_event_new(&ev));
  while (sqlite3_step(st) == SQLITE_ROW) {
    eaudit__event_from_row(st, 0, ev);
    uint8_t h[32];
    eaudit__chain_link(ev, prev, h);
    memcpy(prev, h, 32);
    int64_t seq;
    eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &seq);
    sqlite3_bind_blob(up, 1, h, 32, SQLITE_TRANSIENT);
    sqlite3_bind_int64(up, 2, seq);
    ck_assert_int_eq(sqlite3_step(up), SQLITE_DONE);
    sqlite3_reset(up);
  }
  sqlite3_finalize(st);
  sqlite3_finalize(up);
  eaudit_event_free(ev);
  sqlite3_prepare_v2(l->db, "UPDATE head SET hash = ?1", -1, &up, NULL);
  sqlite3_bind_blob(up, 1, prev, 32, SQLITE_STATIC);
  ck_assert_int_eq(sqlite3_step(up), SQLITE_DONE);
  sqlite3_finalize(up);
  sql(l->db, "COMMIT");
}

START_TEST(a_forger_who_recomputes_the_chain_is_caught_by_the_signature) {
  lab l;
  lab_open(&l, "integ-forge", 300, 50);
  /* Checkpoints cover 1, 51, 101, ..., 251 and 300. */
  forge_from(&l, 120);
  outcome o = lab_verify(&l, NULL, 0, 0);
  EXPECT(o, EAUDIT_DAMAGE_MODIFIED, 102, "forged at 120");
  lab_restore(&l, 1, 300);
  /* Also deleting the checkpoints after the forgery: the off-device copy
   * still tells. */
  uint8_t newest[EAUDIT_CHECKPOINT_SIZE];
  size_t len;
  EA_OK(eaudit_store_checkpoint_get(l.s, 0, newest, sizeof newest, &len));
  forge_from(&l, 280);
  lab_do(&l, "DELETE FROM checkpoints WHERE last_seq >= 280",
         "DELETE FROM eaudit.checkpoints WHERE last_seq >= 280");
  o = lab_verify(&l, newest, len, 0);
  EXPECT(o, EAUDIT_DAMAGE_MODIFIED, 252, "forged at 280, tail checkpoint gone");
  o = lab_verify(&l, NULL, 0, 0);
  ck_assert_int_eq(o.damage, EAUDIT_DAMAGE_NONE); /* the documented limit */
  lab_restore(&l, 1, 300);
  lab_close(&l);
}
END_TEST

START_TEST(derived_data_damage_is_found) {
  TU_SQLITE_ONLY("the search index and rollups are SQLite's derived data");
  lab l;
  lab_open(&l, "integ-derived", 200, 50);
  sql(l.db, "DELETE FROM names_fts WHERE rowid = (SELECT min(rowid) FROM "
            "names)");
  outcome o = lab_verify(&l, NULL, 0, 0);
  EXPECT(o, EAUDIT_DAMAGE_DERIVED, 0, "search index row deleted");
  ck_assert_int_eq(o.rc, EAUDIT_ETAMPER);
  o = lab_verify(&l, NULL, 0, EAUDIT_VERIFY_SKIP_DERIVED);
  ck_assert_int_eq(o.damage, EAUDIT_DAMAGE_NONE);
  sql(l.db, "DELETE FROM names_fts; INSERT INTO names_fts(rowid, name, kind, "
            "entity) SELECT rowid, name, kind, entity FROM names");
  o = lab_verify(&l, NULL, 0, 0);
  ck_assert_int_eq(o.damage, EAUDIT_DAMAGE_NONE);
  /* A rollup count off by one: named by the first event it counts. */
  int64_t first = sql_int(l.db, "SELECT min(seq) FROM events WHERE type = "
                                "(SELECT type FROM events WHERE seq = 40) AND "
                                "subject = (SELECT subject FROM events WHERE "
                                "seq = 40) AND occurred_at / 86400000000 = "
                                "(SELECT occurred_at / 86400000000 FROM "
                                "events WHERE seq = 40)");
  sql(l.db, "UPDATE rollup SET n = n + 1 WHERE (day, type, subject) IN "
            "(SELECT occurred_at - occurred_at %% 86400000000, type, subject "
            "FROM events WHERE seq = 40)");
  ck_assert_int_eq(sqlite3_changes(l.db), 1);
  o = lab_verify(&l, NULL, 0, 0);
  EXPECT(o, EAUDIT_DAMAGE_DERIVED, first, "rollup");
  sql(l.db, "UPDATE rollup SET n = n - 1 WHERE (day, type, subject) IN "
            "(SELECT occurred_at - occurred_at %% 86400000000, type, subject "
            "FROM events WHERE seq = 40)");
  o = lab_verify(&l, NULL, 0, 0);
  ck_assert_int_eq(o.damage, EAUDIT_DAMAGE_NONE);
  /* The users table: a last activity moved back is named by the newest
   * event of that user; a missing row by the same; a time no event shows
   * by 0. */
  int64_t user = sql_int(l.db, "SELECT subject FROM events WHERE seq = 40");
  int64_t newest = sql_int(l.db,
                           "SELECT seq FROM events WHERE subject = %lld OR "
                           "actor = %lld ORDER BY occurred_at DESC, seq LIMIT 1",
                           (long long)user, (long long)user);
  static const char restore[] = "DELETE FROM main.users; INSERT INTO "
                                "main.users SELECT * FROM temp.saved";
  sql(l.db, "CREATE TEMP TABLE saved AS SELECT * FROM main.users");
  sql(l.db, "UPDATE users SET last_at = last_at - 1 WHERE id = %lld",
      (long long)user);
  ck_assert_int_eq(sqlite3_changes(l.db), 1);
  o = lab_verify(&l, NULL, 0, 0);
  EXPECT(o, EAUDIT_DAMAGE_DERIVED, newest, "users.last_at behind");
  sql(l.db, restore);
  sql(l.db, "UPDATE users SET last_at = last_at + 1 WHERE id = %lld",
      (long long)user);
  o = lab_verify(&l, NULL, 0, 0);
  EXPECT(o, EAUDIT_DAMAGE_DERIVED, newest, "users.last_at ahead");
  sql(l.db, restore);
  sql(l.db, "DELETE FROM users WHERE id = %lld", (long long)user);
  o = lab_verify(&l, NULL, 0, 0);
  EXPECT(o, EAUDIT_DAMAGE_DERIVED, newest, "users row deleted");
  sql(l.db, restore);
  sql(l.db, "INSERT INTO users(id, expired_at) VALUES (999999, 5)");
  o = lab_verify(&l, NULL, 0, 0);
  EXPECT(o, EAUDIT_DAMAGE_DERIVED, 0, "expiry no event shows");
  sql(l.db, restore);
  o = lab_verify(&l, NULL, 0, 0);
  ck_assert_int_eq(o.damage, EAUDIT_DAMAGE_NONE);
  lab_close(&l);
}
END_TEST

START_TEST(wrong_key_and_missing_checkpoints_fail) {
  lab l;
  lab_open(&l, "integ-key", 60, 20);
  pubkey(SEED2, l.pk);
  outcome o = lab_verify(&l, NULL, 0, 0);
  EXPECT(o, EAUDIT_DAMAGE_WRONG_KEY, 1, "wrong key");
  ck_assert_int_eq(o.rc, EAUDIT_EKEY);
  pubkey(SEED, l.pk);
  lab_do(&l, "DELETE FROM checkpoints", "DELETE FROM eaudit.checkpoints");
  o = lab_verify(&l, NULL, 0, 0);
  EXPECT(o, EAUDIT_DAMAGE_UNSIGNED, 1, "no checkpoints");
  ck_assert_int_eq(o.rc, EAUDIT_ETAMPER);
  /* Without a key only the chain is checked. */
  eaudit_verify_result *r = NULL;
  EA_OK(eaudit_store_verify(l.s, ACTOR, NULL, NULL, 0, 0, &r));
  ck_assert_int_eq(eaudit_verify_result_checkpoints(r), 0);
  eaudit_verify_result_free(r);
  lab_restore(&l, 1, 60);
  /* A middle checkpoint removed breaks the checkpoint chain. */
  lab_do(&l, "DELETE FROM checkpoints WHERE cseq = 2",
         "DELETE FROM eaudit.checkpoints WHERE cseq = 2");
  o = lab_verify(&l, NULL, 0, 0);
  EXPECT(o, EAUDIT_DAMAGE_DELETED, 2, "checkpoint deleted");
  lab_restore(&l, 1, 60);
  /* Events newer than the newest checkpoint, when a signed tail is asked. */
  eaudit_store *w = open_store(l.work, SEED);
  eaudit_event *ev = make_event(61);
  EA_OK(eaudit_store_append(w, ev));
  eaudit_event_free(ev);
  eaudit_store_free(w);
  o = lab_verify(&l, NULL, 0, EAUDIT_VERIFY_REQUIRE_SIGNED_TAIL);
  EXPECT(o, EAUDIT_DAMAGE_UNSIGNED, 61, "unsigned tail");
  o = lab_verify(&l, NULL, 0, 0);
  ck_assert_int_eq(o.damage, EAUDIT_DAMAGE_NONE);
  lab_close(&l);
}
END_TEST

START_TEST(a_failed_verification_is_recorded_when_writable) {
  lab l;
  lab_open(&l, "integ-record", 30, 10);
  lab_do(&l, "UPDATE events SET door = 1 WHERE seq = 12",
         "UPDATE eaudit.events SET door = 1 WHERE seq = 12");
  eaudit_verify_result *r = NULL;
  ck_assert_int_eq(eaudit_store_verify(l.s, ACTOR, l.pk, NULL, 0, 0, &r),
                   EAUDIT_ETAMPER);
  ck_assert_int_eq(eaudit_verify_result_first_bad_seq(r), 12);
  eaudit_verify_result_free(r);
  ck_assert_int_eq(lab_int(&l, "SELECT type FROM events WHERE seq = 31",
                           "SELECT type FROM eaudit.events WHERE seq = 31"),
                   EAUDIT_TYPE_VERIFICATION_FAILED);
  ck_assert_int_eq(lab_int(&l, "SELECT actor FROM events WHERE seq = 31",
                           "SELECT actor FROM eaudit.events WHERE seq = 31"),
                   ACTOR);
  ck_assert_int_eq(lab_int(&l,
                           "SELECT details = CAST('{\"damage\":"
                           "\"modified\",\"first_bad_seq\":12}' AS "
                           "BLOB) FROM events WHERE seq = 31",
                           "SELECT (details = convert_to('{\"damage\":"
                           "\"modified\",\"first_bad_seq\":12}', 'UTF8'))"
                           "::int FROM eaudit.events WHERE seq = 31"),
                   1);
  lab_close(&l);
}
END_TEST

START_TEST(three_writer_processes_make_one_chain) {
  char path[1024];
  tu_store_target(path, sizeof path, "integ-writers");
  g_clock = (tu_clock){T0, 1000};
  g_seed = 5;
  eaudit_store *s = open_store(path, NULL);
  eaudit_store_free(s);
  pid_t pids[3];
  for (int w = 0; w < 3; w++) {
    pids[w] = fork();
    ck_assert_int_ge(pids[w], 0);
    if (pids[w] == 0) {
      eaudit_store *c = NULL;
      int bad = eaudit_store_open(&c, path, NULL) ||
                eaudit_store_set_signing_key(c, SEED, 32) ||
                eaudit_store_set_checkpoint_policy(c, 15, 0);
      for (int i = 0; !bad && i < 150; i++) {
        eaudit_event *ev = make_event(w * 1000 + i);
        bad = eaudit_store_append(c, ev) != 0;
        eaudit_event_free(ev);
      }
      eaudit_store_free(c);
      _exit(bad ? 1 : 0);
    }
  }
  for (int w = 0; w < 3; w++) {
    int st = 0;
    ck_assert_int_eq(waitpid(pids[w], &st, 0), pids[w]);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %d failed",
                  w);
  }
  s = open_store(path, NULL);
  uint8_t pk[32];
  pubkey(SEED, pk);
  eaudit_verify_result *r = NULL;
  EA_OK(eaudit_store_verify(s, ACTOR, pk, NULL, 0, 0, &r));
  ck_assert_int_eq(eaudit_verify_result_events(r), 450);
  ck_assert_int_ge(eaudit_verify_result_checkpoints(r), 30);
  eaudit_verify_result_free(r);
  int64_t last;
  EA_OK(eaudit_store_last_seq(s, &last));
  ck_assert_int_eq(last, 450);
  eaudit_store_free(s);
  tu_remove_store(path);
}
END_TEST

static int sink_count;
static int64_t sink_last_cseq;
static int sink(const uint8_t *rec, size_t len, void *payload) {
  (void)payload;
  sink_count++;
  ck_assert_int_eq(eaudit_checkpoint_info(rec, len, &sink_last_cseq, NULL,
                                          NULL),
                   0);
  return 0;
}

START_TEST(checkpoints_by_policy_demand_timer_and_sink) {
  char path[1024];
  tu_store_target(path, sizeof path, "integ-policy");
  g_clock = (tu_clock){T0, 0};
  g_seed = 3;
  eaudit_store *s = open_store(path, SEED);
  EA_OK(eaudit_store_set_checkpoint_policy(s, 10, 60000000));
  EA_OK(eaudit_store_set_checkpoint_sink(s, sink, NULL));
  sink_count = 0;
  for (int i = 1; i <= 25; i++) {
    eaudit_event *ev = make_event(i);
    EA_OK(eaudit_store_append(s, ev));
    eaudit_event_free(ev);
  }
  /* At seq 1 (the first), 11 and 21. */
  ck_assert_int_eq(sink_count, 3);
  ck_assert_int_eq(sink_last_cseq, 3);
  uint8_t rec[EAUDIT_CHECKPOINT_SIZE];
  size_t len;
  int64_t last;
  EA_OK(eaudit_store_checkpoint_get(s, 2, rec, sizeof rec, &len));
  EA_OK(eaudit_checkpoint_info(rec, len, NULL, &last, NULL));
  ck_assert_int_eq(last, 11);
  ck_assert_int_eq(eaudit_store_checkpoint_get(s, 9, rec, sizeof rec, &len),
                   EAUDIT_ENOTFOUND);
  ck_assert_int_eq(eaudit_store_checkpoint_get(s, 0, rec, 10, &len),
                   EAUDIT_ETOOBIG);
  /* The timer: nothing due yet, then due after the interval even though
   * nothing happened. */
  ck_assert_int_eq(eaudit_store_checkpoint_tick(s), EAUDIT_DONE);
  g_clock.now += 60000000;
  EA_OK(eaudit_store_checkpoint_tick(s));
  ck_assert_int_eq(eaudit_store_checkpoint_tick(s), EAUDIT_DONE);
  int64_t cseq = 0;
  EA_OK(eaudit_store_checkpoint(s, &cseq));
  ck_assert_int_eq(cseq, 5);
  ck_assert_int_eq(sink_count, 5);
  /* The interval also triggers inside an append. */
  g_clock.now += 60000000;
  eaudit_event *ev = make_event(26);
  EA_OK(eaudit_store_append(s, ev));
  eaudit_event_free(ev);
  ck_assert_int_eq(sink_count, 6);
  char file[512];
  tu_temp_path(file, sizeof file, "integ-policy-export");
  EA_OK(eaudit_store_export_checkpoints(s, file));
  FILE *f = fopen(file, "rb");
  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  ck_assert_int_eq(ftell(f), 6 * EAUDIT_CHECKPOINT_SIZE);
  fclose(f);
  ck_assert_int_eq(eaudit_store_export_checkpoints(s, file), EAUDIT_EEXISTS);
  unlink(file);
  uint8_t pk[32];
  pubkey(SEED, pk);
  EA_OK(eaudit_store_verify(s, ACTOR, pk, NULL, 0, 0, NULL));
  eaudit_store_free(s);
  tu_remove_store(path);
}
END_TEST

START_TEST(keys_are_checked) {
  uint8_t seed[32], pk[32], pk2[32], sk[64];
  EA_OK(eaudit_keypair_generate(seed, pk));
  EA_OK(eaudit_signing_public_key(seed, 32, pk2));
  ck_assert_mem_eq(pk, pk2, 32);
  memcpy(sk, seed, 32);
  memcpy(sk + 32, pk, 32);
  EA_OK(eaudit_signing_public_key(sk, 64, pk2));
  sk[40] ^= 1;
  ck_assert_int_eq(eaudit_signing_public_key(sk, 64, pk2), EAUDIT_EKEY);
  ck_assert_int_eq(eaudit_signing_public_key(seed, 31, pk2), EAUDIT_EKEY);
  eaudit_store *s = NULL;
  EA_OK(tu_store_open(&s, "integ-keys", NULL));
  ck_assert_int_eq(eaudit_store_checkpoint(s, NULL), EAUDIT_EKEY);
  ck_assert_int_eq(eaudit_store_set_checkpoint_policy(s, -1, 0), EAUDIT_ERANGE);
  ck_assert_int_eq(eaudit_store_verify(s, 1, NULL, NULL, 0, 64, NULL),
                   EAUDIT_ERANGE);
  uint8_t junk[EAUDIT_CHECKPOINT_SIZE] = {0};
  ck_assert_int_eq(eaudit_store_verify(s, 1, pk, junk, sizeof junk, 0, NULL),
                   EAUDIT_EFORMAT);
  EA_OK(eaudit_store_set_signing_key(s, seed, 32));
  EA_OK(eaudit_store_checkpoint(s, NULL));
  /* Another key is not the store's current one. */
  ck_assert_int_eq(eaudit_store_set_signing_key(s, SEED, 32), EAUDIT_EKEY);
  EA_OK(eaudit_store_set_signing_key(s, NULL, 0));
  ck_assert_int_eq(eaudit_store_checkpoint(s, NULL), EAUDIT_EKEY);
  /* An empty signed store verifies. */
  EA_OK(eaudit_store_verify(s, 1, pk, NULL, 0, 0, NULL));
  eaudit_store_free(s);
}
END_TEST

START_TEST(key_rotation_is_signed_by_the_old_key) {
  lab l;
  lab_open(&l, "integ-rotate", 30, 10);
  eaudit_store *w = open_store(l.work, SEED);
  EA_OK(eaudit_store_set_checkpoint_policy(w, 10, 0));
  EA_OK(eaudit_store_rotate_key(w, SEED2, 32));
  for (int i = 31; i <= 60; i++) {
    eaudit_event *ev = make_event(i);
    EA_OK(eaudit_store_append(w, ev));
    eaudit_event_free(ev);
  }
  eaudit_store_free(w);
  /* Old and new key both verify the whole history. */
  outcome o = lab_verify(&l, NULL, 0, 0);
  ck_assert_msg(o.damage == EAUDIT_DAMAGE_NONE, "old key: %s", o.msg);
  pubkey(SEED2, l.pk);
  o = lab_verify(&l, NULL, 0, 0);
  ck_assert_msg(o.damage == EAUDIT_DAMAGE_NONE, "new key: %s", o.msg);
  /* The old key can no longer sign. */
  w = open_store(l.work, NULL);
  ck_assert_int_eq(eaudit_store_set_signing_key(w, SEED, 32), EAUDIT_EKEY);
  EA_OK(eaudit_store_set_signing_key(w, SEED2, 32));
  eaudit_store_free(w);
  /* A key that never signed anything here. */
  uint8_t third[32];
  memset(third, 3, 32);
  pubkey(third, l.pk);
  o = lab_verify(&l, NULL, 0, 0);
  EXPECT(o, EAUDIT_DAMAGE_WRONG_KEY, 1, "a third key");
  lab_close(&l);
}
END_TEST

static int64_t store_int(const char *target, const char *sqlite_sql,
                         const char *pg_sql) {
  char v[64];
  tu_store_value(target, sqlite_sql, pg_sql, v, sizeof v);
  return strtoll(v, NULL, 10);
}

/* On PostgreSQL the store holds one chain here, its own: eaudit.events
 * has no other origin's rows. */
START_TEST(purge_removes_an_old_prefix_and_still_verifies) {
  char path[512];
  tu_store_target(path, sizeof path, "integ-purge");
  int pg = tu_backend_pg();
  g_clock = (tu_clock){T0 + 86400000000LL * 40, 1000};
  g_seed = 11;
  eaudit_store *s = open_store(path, SEED);
  EA_OK(eaudit_store_set_checkpoint_policy(s, 100, 0));
  /* 10 days of 100 events, then a late one from day 1. */
  for (int i = 0; i < 1000; i++) {
    eaudit_event *ev = make_event(i);
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT,
                           T0 + (i / 100) * 86400000000LL + (i % 100) * 1000000));
    EA_OK(eaudit_store_append(s, ev));
    eaudit_event_free(ev);
  }
  eaudit_event *late = make_event(5);
  EA_OK(eaudit_store_append(s, late));
  eaudit_event_free(late);
  /* A modified old event is not erased silently. */
  tu_store_sql(path, "UPDATE events SET door = 3 WHERE seq = 150",
               "UPDATE eaudit.events SET door = 3 WHERE seq = 150");
  int64_t n = -1;
  ck_assert_int_eq(eaudit_store_purge(s, T0 + 5 * 86400000000LL, ACTOR, 64, &n),
                   EAUDIT_ETAMPER);
  ck_assert_int_eq(n, 128); /* the batches before it */
  tu_store_sql(path, "UPDATE events SET door = NULL WHERE seq = 150",
               "UPDATE eaudit.events SET door = NULL WHERE seq = 150");
  EA_OK(eaudit_store_purge(s, T0 + 5 * 86400000000LL, ACTOR, 64, &n));
  ck_assert_int_eq(n, 500 - 128);
  int64_t last, count;
  EA_OK(eaudit_store_last_seq(s, &last));
  EA_OK(eaudit_store_event_count(s, &count));
  ck_assert_int_eq(last, 1003); /* two retention_purged events */
  ck_assert_int_eq(count, 1003 - 500);
  ck_assert_int_eq(store_int(path, "SELECT min(seq) FROM events",
                             "SELECT min(seq) FROM eaudit.events"),
                   501);
  ck_assert_int_eq(
      store_int(path, "SELECT type FROM events WHERE seq = 1003",
                "SELECT type FROM eaudit.events WHERE seq = 1003"),
      EAUDIT_TYPE_RETENTION_PURGED);
  ck_assert_int_eq(
      store_int(path, "SELECT subject FROM events WHERE seq = 1003",
                "SELECT subject FROM eaudit.events WHERE seq = 1003"),
      ACTOR);
  if (!pg)
    ck_assert_int_eq(store_int(path, "SELECT sum(n) FROM rollup", NULL),
                     count);
  ck_assert_int_eq(
      store_int(path, "SELECT count(*) FROM checkpoints WHERE last_seq < 500",
                "SELECT count(*) FROM eaudit.checkpoints"
                " WHERE last_seq < 500"),
      0);
  /* The newest checkpoint is the signed anchor at the new base, or a
   * regular one after it that signs the same base. */
  uint8_t rec[EAUDIT_CHECKPOINT_SIZE];
  size_t rec_len = 0;
  EA_OK(eaudit_store_checkpoint_get(s, 0, rec, sizeof rec, &rec_len));
  eaudit__cp newest;
  EA_OK(eaudit__cp_parse(rec, rec_len, &newest));
  ck_assert_int_eq(newest.base_seq, 500);
  uint8_t pk[32];
  pubkey(SEED, pk);
  eaudit_verify_result *r = NULL;
  EA_OK(eaudit_store_verify(s, ACTOR, pk, NULL, 0, 0, &r));
  ck_assert_int_eq(eaudit_verify_result_events(r), count);
  eaudit_verify_result_free(r);
  /* The late event from day 1 waits: nothing more is old enough. */
  EA_OK(eaudit_store_purge(s, T0 + 5 * 86400000000LL, ACTOR, 64, &n));
  ck_assert_int_eq(n, 0);
  /* Removing events before the anchor by hand is found. */
  tu_store_sql(path,
               "BEGIN; UPDATE anchor SET seq = 520, hash = (SELECT hash FROM "
               "events WHERE seq = 520); DELETE FROM events WHERE seq <= 520;"
               "COMMIT",
               /* the base and its anchor row, consistently */
               "BEGIN; UPDATE eaudit.sites SET base_seq = 520, base_hash ="
               " (SELECT hash FROM eaudit.events WHERE seq = 520) WHERE own;"
               " UPDATE eaudit.anchors SET seq = 520, hash = (SELECT hash FROM"
               " eaudit.events WHERE seq = 520) WHERE seq = 500;"
               " DELETE FROM eaudit.events WHERE seq <= 520; COMMIT");
  r = NULL;
  ck_assert_int_eq(eaudit_store_verify(s, ACTOR, pk, NULL, 0,
                                       EAUDIT_VERIFY_NO_RECORD, &r),
                   EAUDIT_ETAMPER);
  ck_assert_msg(eaudit_verify_result_damage(r) == EAUDIT_DAMAGE_DELETED,
                "%d at %lld: %s", eaudit_verify_result_damage(r),
                (long long)eaudit_verify_result_first_bad_seq(r),
                eaudit_verify_result_message(r));
  ck_assert_int_eq(eaudit_verify_result_first_bad_seq(r), 501);
  eaudit_verify_result_free(r);
  /* Without its key a signed chain is not purged past its signed anchor:
   * SQLite refuses; a central store purges the other sites' chains and
   * leaves its own where the key last signed it. */
  eaudit_store *nokey = open_store(path, NULL);
  int want = pg ? EAUDIT_OK : EAUDIT_EKEY;
  ck_assert_int_eq(
      eaudit_store_purge(nokey, T0 + 9 * 86400000000LL, ACTOR, 64, &n), want);
  if (pg) {
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(store_int(path, NULL, "SELECT min(seq) FROM eaudit.events"),
                     521);
  }
  eaudit_store_free(nokey);
  eaudit_store_free(s);
  tu_remove_store(path);
}
END_TEST

static int64_t finding_count(eaudit_store *s) {
  eaudit_findings *f = NULL;
  EA_OK(eaudit_store_findings(s, NULL, &f));
  int64_t n = (int64_t)eaudit_findings_size(f);
  eaudit_findings_free(f);
  return n;
}

static void door_failures(eaudit_store *s, int64_t user, eaudit_time at) {
  for (int i = 0; i < 5; i++) {
    eaudit_event *ev = tu_event(EAUDIT_TYPE_DOOR_OPEN_FAILED,
                                at + i * 60000000LL, user);
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_DOOR, 4));
    EA_OK(eaudit_store_append(s, ev));
    eaudit_event_free(ev);
  }
}

START_TEST(purge_removes_findings_of_purged_history_only) {
  char path[512];
  tu_store_target(path, sizeof path, "integ-purge-findings");
  g_clock = (tu_clock){T0 + 86400000000LL * 40, 1000};
  g_seed = 12;
  eaudit_store *s = open_store(path, SEED);
  door_failures(s, 5, T0);                       /* day 0: purged */
  door_failures(s, 6, T0 + 20 * 86400000000LL);  /* day 20: kept */
  ck_assert_int_eq(finding_count(s), 2);
  int64_t n = -1;
  EA_OK(eaudit_store_purge(s, T0 + 10 * 86400000000LL, ACTOR, 0, &n));
  ck_assert_int_eq(n, 5);
  ck_assert_int_eq(finding_count(s), 1);
  eaudit_findings *f = NULL;
  EA_OK(eaudit_store_findings(s, NULL, &f));
  int64_t subject = -1;
  ck_assert_int_eq(eaudit_finding_subject(eaudit_findings_get(f, 0), &subject),
                   0);
  ck_assert_int_eq(subject, 6);
  eaudit_findings_free(f);
  /* Asking for everything keeps what the rules may still read: the newest
   * event (the purge record, at the clock's day 40) minus the longest
   * window (7 days) and the lateness bound (1 day). */
  EA_OK(eaudit_store_purge(s, INT64_MAX, ACTOR, 0, &n));
  ck_assert_int_eq(n, 5);
  int64_t count = 0;
  EA_OK(eaudit_store_event_count(s, &count));
  ck_assert_int_eq(count, 2); /* the two retention_purged records */
  eaudit_store_free(s);
  tu_remove_store(path);
}
END_TEST

/* Another writer takes the lock as soon as a purge batch commits (here
 * from the checkpoint sink, which runs right after the commit) and commits
 * only when the purging handle waits for it (its busy handler): its
 * snapshot began before the purge copied the WAL back, so its commit does
 * not rewind the WAL, and neither does the purge's next batch, which sees
 * that commit not yet copied. The interleaving a busy appender makes. It
 * writes to a table of its own through plain SQLite, with its automatic
 * checkpoint off, so that only the purge copies the WAL back. */
typedef struct interleaver {
  sqlite3 *db;
  int began, committed;
} interleaver;

static int take_lock_after_commit(const uint8_t *cp, size_t len, void *p) {
  (void)cp;
  (void)len;
  interleaver *w = p;
  if (sqlite3_get_autocommit(w->db) &&
      sqlite3_exec(w->db, "BEGIN IMMEDIATE; INSERT INTO other_writer(x)"
                          " VALUES (1)",
                   NULL, NULL, NULL) == SQLITE_OK)
    w->began++;
  return 0;
}

static int commit_when_waited_for(void *p, int count) {
  interleaver *w = p;
  if (!sqlite3_get_autocommit(w->db) &&
      sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
    w->committed++;
  return count < 50;
}

static long long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

START_TEST(purge_rewinds_the_wal_while_others_append) {
  TU_SQLITE_ONLY("the WAL is SQLite's");
  char path[512], wal[600];
  tu_temp_path(path, sizeof path, "integ-purge-wal");
  snprintf(wal, sizeof wal, "%s-wal", path);
  g_clock = (tu_clock){T0 + 86400000000LL * 40, 1000};
  g_seed = 13;
  eaudit_store *s = open_store(path, SEED);
  eaudit_batch *b = NULL;
  EA_OK(eaudit_batch_new(&b));
  for (int i = 0; i < 20000; i++) {
    eaudit_event *ev = make_event(i);
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT,
                           T0 + (eaudit_time)i * 20000000));
    EA_OK(eaudit_batch_add(b, ev));
    eaudit_event_free(ev);
    if (eaudit_batch_size(b) == 5000) {
      EA_OK(eaudit_store_append_batch(s, b, NULL));
      eaudit_batch_clear(b);
    }
  }
  eaudit_batch_free(b);
  /* A recent event, so that the rules' horizon lets the old ones go. */
  eaudit_event *recent = tu_event(EAUDIT_TYPE_DOOR_OPENED,
                                  T0 + 30 * 86400000000LL, 7);
  EA_OK(eaudit_store_append(s, recent));
  eaudit_event_free(recent);
  eaudit_store_free(s); /* the last handle folds the WAL into the file */
  s = open_store(path, SEED);
  interleaver w = {NULL, 0, 0};
  ck_assert_int_eq(sqlite3_open(path, &w.db), SQLITE_OK);
  sql(w.db, "PRAGMA wal_autocheckpoint = 0; CREATE TABLE other_writer(x)");
  EA_OK(eaudit_store_set_checkpoint_sink(s, take_lock_after_commit, &w));
  sqlite3_busy_handler(s->db, commit_when_waited_for, &w);
  int64_t n = -1;
  EA_OK(eaudit_store_purge(s, T0 + 10 * 86400000000LL, ACTOR, 100, &n));
  ck_assert_int_eq(n, 20000);
  ck_assert_int_ge(w.began, 200); /* after each batch at least */
  ck_assert_int_eq(w.committed, w.began);
  /* The WAL was restarted once it passed half the 64 MiB journal size
   * limit, so it never held much more than 32 MiB and a batch: without the
   * restart it reached every batch's pages together (55 MB). */
  long long size = file_size(wal);
  ck_assert_int_gt(size, 0);
  ck_assert_msg(size <= 36 << 20, "WAL of %lld bytes", size);
  int64_t count = 0;
  EA_OK(eaudit_store_event_count(s, &count));
  ck_assert_int_eq(count, 2); /* the recent one and the purge record */
  uint8_t pk[32];
  pubkey(SEED, pk);
  eaudit_verify_result *r = NULL;
  EA_OK(eaudit_store_verify(s, ACTOR, pk, NULL, 0, EAUDIT_VERIFY_NO_RECORD, &r));
  ck_assert_int_eq(eaudit_verify_result_events(r), count);
  eaudit_verify_result_free(r);
  ck_assert_int_eq(sqlite3_close(w.db), SQLITE_OK);
  eaudit_store_free(s);
  tu_remove_store(path);
}
END_TEST

START_TEST(backup_verifies_on_its_own) {
  TU_SQLITE_ONLY("backup is SQLite's (pg_dump copies a PostgreSQL store)");
  lab l;
  lab_open(&l, "integ-backup", 80, 20);
  char copy[512];
  tu_temp_path(copy, sizeof copy, "integ-backup-copy");
  EA_OK(eaudit_store_backup(l.s, copy));
  ck_assert_int_eq(eaudit_store_backup(l.s, copy), EAUDIT_EEXISTS);
  struct stat st;
  ck_assert_int_eq(stat(copy, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  eaudit_store *b = open_store(copy, NULL);
  eaudit_verify_result *r = NULL;
  EA_OK(eaudit_store_verify(b, ACTOR, l.pk, NULL, 0, 0, &r));
  ck_assert_int_eq(eaudit_verify_result_events(r), 80);
  eaudit_verify_result_free(r);
  uint8_t a[16], c[16];
  EA_OK(eaudit_store_id(l.s, a));
  EA_OK(eaudit_store_id(b, c));
  ck_assert_mem_eq(a, c, 16);
  eaudit_store_free(b);
  tu_remove_store(copy);
  lab_close(&l);
}
END_TEST

int main(void) {
  Suite *su = suite_create("integrity");
  /* One case per test, so that CK_RUN_CASE can pick one. */
#define CASE(fn)                                                               \
  do {                                                                         \
    TCase *tc = tcase_create(#fn);                                             \
    tcase_set_timeout(tc, 600);                                                \
    tcase_add_test(tc, fn);                                                    \
    suite_add_tcase(su, tc);                                                   \
  } while (0)
  CASE(keys_are_checked);
  CASE(canonical_bytes_match_the_documented_layout);
  CASE(clean_store_verifies_with_its_key);
  CASE(checkpoints_by_policy_demand_timer_and_sink);
  CASE(a_long_checkpoint_history_verifies);
  CASE(every_mutation_of_a_300_event_store_is_found);
  CASE(sampled_mutations_of_a_6000_event_store_are_found);
  CASE(truncation_is_found_against_the_newest_off_device_checkpoint);
  CASE(a_forger_who_recomputes_the_chain_is_caught_by_the_signature);
  CASE(derived_data_damage_is_found);
  CASE(wrong_key_and_missing_checkpoints_fail);
  CASE(a_failed_verification_is_recorded_when_writable);
  CASE(three_writer_processes_make_one_chain);
  CASE(key_rotation_is_signed_by_the_old_key);
  CASE(purge_removes_an_old_prefix_and_still_verifies);
  CASE(purge_removes_findings_of_purged_history_only);
  CASE(purge_rewinds_the_wal_while_others_append);
  CASE(backup_verifies_on_its_own);
  return tu_run(su);
}
