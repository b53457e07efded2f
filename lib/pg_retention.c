/* Retention on the central PostgreSQL store: whole monthly partitions
 * dropped where every event in them may go, bounded batch deletes
 * otherwise, each step moving the origins' bases and recording their
 * anchors. See docs/scale-out.md, "Retention on the central store". */
#include "pg_chain.h"
#include "pg_integrity.h"
#include "pg_store.h"
#include "store_internal.h"

#include <eaudit/integrity.h>

#ifdef EAUDIT_HAVE_LIBPQ

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* How long a drop waits for the locks on the partition and on
 * eaudit.events. While it waits, new statements on eaudit.events queue
 * behind it, so it gives up soon (EAUDIT_EBUSY) rather than stall
 * shippers behind a long reader. */
#define DROP_LOCK_TIMEOUT "SET LOCAL lock_timeout = '2s'"

/* An origin of the run: its chain as read at the start, and the highest seq
 * that may go (target: every event up to it occurred before the cutoff, and
 * it is below the head). */
typedef struct origin {
  uint8_t id[16];
  int32_t key;
  int64_t base, head, target;
  int64_t anchor; /* the seq of this run's anchor row, when anchored */
  int own;        /* the central store's own chain */
  eaudit_time before; /* the cutoff for this origin */
  int anchored, moved;
  int scattered; /* too many of its events below the partition lie elsewhere */
  /* per partition: the origin's min and max seq in it (present) */
  int present;
  int64_t pmin, pmax;
} origin;

typedef struct part {
  char name[64];
  int64_t lo, hi;
} part;

typedef struct run {
  PGconn *c;
  eaudit_time before;
  int64_t actor;
  size_t batch;
  origin *o;
  size_t no;
  part *p;
  size_t np;
  eaudit__pg_purge_stats *st;
  /* The handle that signs the own chain's new anchors, or NULL. Its
   * checkpoints wait for the sink until their step commits. */
  eaudit_store *signer;
  /* The rules' reach back from each origin's newest event: the own
   * chain's, and the shipped sites' (0 unless the central store's rules
   * evaluate shipped events). */
  int64_t horizon, site_horizon;
} run;

static int rollback(PGconn *c, int rc) {
  PQclear(PQexec(c, "ROLLBACK"));
  return rc;
}

static int exec_ok(PGconn *c, const char *sql, const eaudit__pgp *p,
                   const char *what, PGresult **out) {
  PGresult *r = eaudit__pg_exec(c, sql, p, what);
  if (r == NULL)
    return eaudit_error_last()->code;
  if (out)
    *out = r;
  else
    PQclear(r);
  return EAUDIT_OK;
}

static int key_cmp(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return x < y ? -1 : x > y;
}

static int part_cmp(const void *a, const void *b) {
  const part *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* ---- reading the state ---- */

/* The highest seq of an origin that may go: below the first event at or
 * after the cutoff and below the head. With a horizon (the rules' longest
 * window plus the lateness bound), the cutoff is at most the origin's
 * newest event time minus it: the rules rebuild their windows from the
 * stored events, as on SQLite. */
static int origin_target(PGconn *c, origin *o, eaudit_time before,
                         int64_t horizon, int flags) {
  if (horizon > 0) {
    eaudit__pgp q = {0};
    eaudit__pgp_bytes(&q, o->id, 16);
    PGresult *r = NULL;
    int rc = exec_ok(c,
                     "SELECT max(occurred_at) FROM eaudit.events"
                     " WHERE origin = $1",
                     &q, "reading the newest event time", &r);
    if (rc)
      return rc;
    if (!PQgetisnull(r, 0, 0)) {
      eaudit_time newest = eaudit__pg_i64(r, 0, 0);
      if (newest > INT64_MIN + horizon && before > newest - horizon)
        before = newest - horizon;
    }
    PQclear(r);
  }
  o->before = before;
  eaudit__pgp p = {0};
  eaudit__pgp_bytes(&p, o->id, 16);
  eaudit__pgp_i64(&p, before);
  eaudit__pgp_i64(&p, o->base);
  PGresult *r = NULL;
  int rc = exec_ok(c,
                   "SELECT min(seq) FROM eaudit.events WHERE origin = $1"
                   " AND occurred_at >= $2 AND seq > $3",
                   &p, "finding the purge limit", &r);
  if (rc)
    return rc;
  int64_t t = o->own && (flags & EAUDIT__PG_PURGE_OWN_HEAD) ? o->head
                                                           : o->head - 1;
  if (!PQgetisnull(r, 0, 0) && eaudit__pg_i64(r, 0, 0) - 1 < t)
    t = eaudit__pg_i64(r, 0, 0) - 1;
  PQclear(r);
  /* A signed chain goes no further than the retention anchor its newest
   * checkpoint signs: past it, its verification would rightly report the
   * removal, which no one with its key signed. */
  int64_t signed_base;
  int found;
  if ((rc = eaudit__pg_cp_signed_base(c, o->id, &found, &signed_base)))
    return rc;
  if (found && t > signed_base &&
      !(o->own && (flags & EAUDIT__PG_PURGE_OWN_SIGNED)))
    t = signed_base;
  o->target = t > o->base ? t : o->base;
  return EAUDIT_OK;
}

static int load_origins(run *u, int flags) {
  PGresult *r = NULL;
  int rc = exec_ok(u->c,
                   "SELECT site_id, base_seq, head_seq, own FROM eaudit.sites"
                   " ORDER BY site_id",
                   NULL, "reading the sites", &r);
  if (rc)
    return rc;
  int n = PQntuples(r);
  u->o = n ? eaudit__calloc((size_t)n, sizeof *u->o) : NULL;
  if (n && u->o == NULL) {
    PQclear(r);
    return eaudit__enomem();
  }
  for (int i = 0; i < n; i++) {
    origin *o = &u->o[u->no];
    if (PQgetlength(r, i, 0) != 16)
      continue;
    memcpy(o->id, PQgetvalue(r, i, 0), 16);
    o->key = eaudit__pg_site_key(o->id);
    o->base = eaudit__pg_i64(r, i, 1);
    o->head = eaudit__pg_i64(r, i, 2);
    o->own = PQgetlength(r, i, 3) == 1 && PQgetvalue(r, i, 3)[0] == 1;
    u->no++;
  }
  PQclear(r);
  for (size_t i = 0; rc == 0 && i < u->no; i++)
    rc = origin_target(u->c, &u->o[i], u->before,
                       u->o[i].own ? u->horizon : u->site_horizon, flags);
  return rc;
}

/* "events_2026_01" and nothing else reaches DDL text. */
static int name_ok(const char *s) {
  if (strncmp(s, "events_", 7) != 0)
    return 0;
  s += 7;
  for (int i = 0; i < 4; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return s[4] == '_' && s[5] >= '0' && s[5] <= '9' && s[6] >= '0' &&
         s[6] <= '9' && s[7] == '\0';
}

static int parse_bound(const char *s, int64_t *lo, int64_t *hi) {
  long long a, b;
  int used = 0;
  if ((sscanf(s, "FOR VALUES FROM ('%lld') TO ('%lld')%n", &a, &b, &used) ==
           2 ||
       sscanf(s, "FOR VALUES FROM (%lld) TO (%lld)%n", &a, &b, &used) == 2) &&
      s[used] == '\0') {
    *lo = a;
    *hi = b;
    return 1;
  }
  return 0;
}

/* The monthly partitions wholly before the cutoff, oldest first.
 * Partitions of other names or bounds (made by hand) are left alone. */
static int load_parts(run *u) {
  PGresult *r = NULL;
  int rc = exec_ok(
      u->c,
      "SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid)"
      " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
      " WHERE i.inhparent = 'eaudit.events'::regclass",
      NULL, "listing the partitions", &r);
  if (rc)
    return rc;
  int n = PQntuples(r);
  u->p = n ? eaudit__calloc((size_t)n, sizeof *u->p) : NULL;
  if (n && u->p == NULL) {
    PQclear(r);
    return eaudit__enomem();
  }
  for (int i = 0; i < n; i++) {
    part *p = &u->p[u->np];
    const char *name = PQgetvalue(r, i, 0);
    if (PQgetisnull(r, i, 1) || strlen(name) >= sizeof p->name ||
        !name_ok(name) || !parse_bound(PQgetvalue(r, i, 1), &p->lo, &p->hi) ||
        p->hi > u->before)
      continue;
    memcpy(p->name, name, strlen(name) + 1);
    u->np++;
  }
  PQclear(r);
  if (u->np > 1)
    qsort(u->p, u->np, sizeof *u->p, part_cmp);
  return EAUDIT_OK;
}

/* Each origin's min and max seq in the partition. The primary key
 * (origin, seq, occurred_at) of the partition answers both at once. */
static int look_in_part(PGconn *c, origin *o, const part *p) {
  eaudit__pgp q = {0};
  eaudit__pgp_bytes(&q, o->id, 16);
  eaudit__pgp_i64(&q, p->lo);
  eaudit__pgp_i64(&q, p->hi);
  PGresult *r = NULL;
  int rc = exec_ok(c,
                   "SELECT min(seq), max(seq) FROM eaudit.events"
                   " WHERE origin = $1 AND occurred_at >= $2"
                   " AND occurred_at < $3",
                   &q, "looking into a partition", &r);
  if (rc)
    return rc;
  o->present = !PQgetisnull(r, 0, 0);
  o->pmin = o->present ? eaudit__pg_i64(r, 0, 0) : 0;
  o->pmax = o->present ? eaudit__pg_i64(r, 0, 1) : 0;
  PQclear(r);
  return EAUDIT_OK;
}

/* ---- one step: the origin's new base and its anchor ---- */

static int lock_site(PGconn *c, int32_t key) {
  eaudit__pgp p = {0};
  eaudit__pgp_i32(&p, EAUDIT__PG_SITE_LOCK);
  eaudit__pgp_i32(&p, key);
  return exec_ok(c, "SELECT pg_advisory_xact_lock($1, $2)", &p,
                 "locking the site", NULL);
}

/* The origin's base, under its lock. */
static int read_base(PGconn *c, const origin *o, int64_t *base,
                     uint8_t hash[32], int64_t *head) {
  eaudit__pgp p = {0};
  eaudit__pgp_bytes(&p, o->id, 16);
  PGresult *r = NULL;
  int rc = exec_ok(c,
                   "SELECT base_seq, base_hash, head_seq FROM eaudit.sites"
                   " WHERE site_id = $1",
                   &p, "reading the site's base", &r);
  if (rc)
    return rc;
  if (PQntuples(r) != 1 || PQgetlength(r, 0, 1) != 32) {
    PQclear(r);
    return eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                         "central store: a site's row vanished or is "
                         "damaged during the purge");
  }
  *base = eaudit__pg_i64(r, 0, 0);
  memcpy(hash, PQgetvalue(r, 0, 1), 32);
  *head = eaudit__pg_i64(r, 0, 2);
  PQclear(r);
  return EAUDIT_OK;
}

/* The own chain's new base (seq, hash), signed by the handle's key as an
 * ANCHOR checkpoint in the step's transaction, as a SQLite purge does. */
static int signed_anchor(run *u, const origin *o, int64_t seq,
                         const uint8_t hash[32]) {
  if (!o->own || u->signer == NULL)
    return EAUDIT_OK;
  return eaudit__integrity_pg_anchor(u->signer, seq, hash);
}

/* A step's transaction: a checkpoint signed in a step that rolled back
 * never reaches the sink. */
static int step_begin(run *u, const char *what) {
  if (u->signer)
    eaudit__integrity_after_txn(u->signer, 0);
  return eaudit__pg_command(u->c, "BEGIN", what);
}

/* Move the base to (seq, hash), n events fewer, and record the anchor: one
 * row per origin and run, moved along by each later step of the run. */
/* The origin's findings whose every event went, the events linked to
 * them, and the login histograms of removed events: what a SQLite purge
 * removes with its events (rules.c). */
static int drop_findings(run *u, const origin *o, int64_t seq) {
  static const char *const sql[] = {
      ("DELETE FROM eaudit.finding_events WHERE finding IN (SELECT rowid FROM"
       " eaudit.findings WHERE origin = $1 AND first_seq <= $2"
       " AND last_seq <= $2)"),
      ("DELETE FROM eaudit.findings WHERE origin = $1 AND first_seq <= $2"
       " AND last_seq <= $2"),
      "DELETE FROM eaudit.rule_login_hours WHERE origin = $1 AND seq <= $2"};
  eaudit__pgp p = {0};
  eaudit__pgp_bytes(&p, o->id, 16);
  eaudit__pgp_i64(&p, seq);
  int rc = EAUDIT_OK;
  for (size_t i = 0; rc == 0 && i < sizeof sql / sizeof sql[0]; i++)
    rc = exec_ok(u->c, sql[i], &p, "purging findings", NULL);
  return rc;
}

static int move_base(run *u, origin *o, int64_t seq, const uint8_t hash[32],
                     int64_t n) {
  eaudit__pgp p = {0};
  eaudit__pgp_bytes(&p, o->id, 16);
  eaudit__pgp_i64(&p, seq);
  eaudit__pgp_bytes(&p, hash, 32);
  eaudit__pgp_i64(&p, n);
  int rc = exec_ok(u->c,
                   "UPDATE eaudit.sites SET base_seq = $2, base_hash = $3,"
                   " events = events - $4 WHERE site_id = $1",
                   &p, "moving the site's base", NULL);
  if (rc == 0)
    rc = drop_findings(u, o, seq);
  if (rc)
    return rc;
  p.n = 3;
  eaudit__pgp_i64(&p, u->before);
  eaudit__pgp_i64(&p, u->actor);
  PGresult *r = NULL;
  if (o->anchored) {
    eaudit__pgp_i64(&p, o->anchor);
    if ((rc = exec_ok(u->c,
                      "UPDATE eaudit.anchors SET seq = $2, hash = $3,"
                      " through_at = $4, actor = $5, dropped_at = now()"
                      " WHERE origin = $1 AND seq = $6",
                      &p, "moving the retention anchor", &r)))
      return rc;
    int moved = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    if (moved)
      return signed_anchor(u, o, seq, hash);
    p.n = 5;
  }
  if ((rc = exec_ok(u->c,
                    "INSERT INTO eaudit.anchors(origin, seq, hash, through_at,"
                    " actor) VALUES ($1, $2, $3, $4, $5)",
                    &p, "recording the retention anchor", NULL)))
    return rc;
  return signed_anchor(u, o, seq, hash);
}

static int commit(run *u) {
  int rc = eaudit__pg_command(u->c, "COMMIT", "committing a purge step");
  if (u->signer)
    eaudit__integrity_after_txn(u->signer, rc == 0);
  return rc;
}

/* After a committed step that moved o's base to seq. */
static void moved(run *u, origin *o, int64_t seq) {
  o->anchored = 1;
  o->anchor = seq;
  if (!o->moved) {
    o->moved = 1;
    u->st->origins++;
  }
  o->base = seq;
}

/* Delete o's events from its base up to upto, batch events per
 * transaction. */
static int trim(run *u, origin *o, int64_t upto) {
  for (;;) {
    int rc = step_begin(u, "starting a purge batch");
    if (rc)
      return rc;
    int64_t base, head;
    uint8_t hash[32];
    if ((rc = lock_site(u->c, o->key)) ||
        (rc = read_base(u->c, o, &base, hash, &head)))
      return rollback(u->c, rc);
    int64_t hi = upto - base > (int64_t)u->batch ? base + (int64_t)u->batch
                                                 : upto;
    if (hi <= base) {
      o->base = base;
      return rollback(u->c, EAUDIT_OK);
    }
    /* Re-check the links about to go: damaged evidence is not erased. */
    eaudit__pg_walk w;
    memset(&w, 0, sizeof w);
    w.from_seq = base;
    memcpy(w.from_hash, hash, 32);
    w.to_seq = hi;
    int64_t t0 = mono_us();
    rc = eaudit__pg_walk_chain(u->c, o->id, &w);
    int64_t t1 = mono_us();
    u->st->check_us += t1 - t0;
    if (rc)
      return rollback(u->c, rc);
    if (w.last_seq != hi)
      return rollback(
          u->c, eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                              "central store: event %lld is missing; "
                              "refusing to purge (run verify)",
                              (long long)w.last_seq + 1));
    eaudit__pgp p = {0};
    eaudit__pgp_bytes(&p, o->id, 16);
    eaudit__pgp_i64(&p, base);
    eaudit__pgp_i64(&p, hi);
    PGresult *r = NULL;
    if ((rc = exec_ok(u->c,
                      "DELETE FROM eaudit.events WHERE origin = $1"
                      " AND seq > $2 AND seq <= $3",
                      &p, "purging events", &r)))
      return rollback(u->c, rc);
    int64_t gone = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    if (gone != hi - base)
      return rollback(u->c,
                      eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                                    "central store: %lld rows deleted for "
                                    "%lld events; refusing to purge (run "
                                    "verify)",
                                    (long long)gone, (long long)(hi - base)));
    if ((rc = move_base(u, o, hi, w.last_hash, gone)))
      return rollback(u->c, rc);
    if ((rc = commit(u)))
      return rc;
    u->st->remove_us += mono_us() - t1;
    moved(u, o, hi);
    u->st->events += gone;
    u->st->batches++;
  }
}

/* ---- dropping a partition ---- */

/* 1 dropped, 0 not droppable now (trim instead), or an error. */
static int drop_part(run *u, const part *pt) {
  PGconn *c = u->c;
  int32_t *keys = NULL;
  size_t nk = 0;
  for (size_t i = 0; i < u->no; i++)
    nk += u->o[i].present;
  if (nk && (keys = eaudit__calloc(nk, sizeof *keys)) == NULL)
    return eaudit__enomem();
  nk = 0;
  for (size_t i = 0; i < u->no; i++)
    if (u->o[i].present)
      keys[nk++] = u->o[i].key;
  if (nk > 1)
    qsort(keys, nk, sizeof *keys, key_cmp);
  char *ident = PQescapeIdentifier(c, pt->name, strlen(pt->name));
  if (ident == NULL) {
    eaudit__free(keys);
    return eaudit__pg_error(c, NULL, "quoting a partition name");
  }
  char lock_sql[160], detach_sql[192], drop_sql[160];
  snprintf(lock_sql, sizeof lock_sql,
           "LOCK TABLE eaudit.%s IN ACCESS EXCLUSIVE MODE", ident);
  snprintf(detach_sql, sizeof detach_sql,
           "ALTER TABLE eaudit.events DETACH PARTITION eaudit.%s", ident);
  snprintf(drop_sql, sizeof drop_sql, "DROP TABLE eaudit.%s", ident);
  PQfreemem(ident);
  int rc = step_begin(u, "starting a partition drop");
  if (rc) {
    eaudit__free(keys);
    return rc;
  }
  rc = eaudit__pg_command(c, DROP_LOCK_TIMEOUT, "setting the lock timeout");
  /* The sites' locks first, in key order, as shipping takes its one: no
   * cycle with shippers or with another purge. Then the partition. */
  for (size_t i = 0; rc == 0 && i < nk; i++)
    if (i == 0 || keys[i] != keys[i - 1])
      rc = lock_site(c, keys[i]);
  eaudit__free(keys);
  if (rc == 0)
    rc = eaudit__pg_command(c, lock_sql, "locking the partition");
  if (rc)
    return rollback(c, rc);
  /* Look again under the locks: a site registered since the run began, or
   * a shipper that committed a late event into this month meanwhile, makes
   * the partition wait for the next run. */
  PGresult *r = NULL;
  if ((rc = exec_ok(c, "SELECT count(*) FROM eaudit.sites", NULL,
                    "counting the sites", &r)))
    return rollback(c, rc);
  int64_t nsites = eaudit__pg_i64(r, 0, 0);
  PQclear(r);
  if (nsites != (int64_t)u->no)
    return rollback(c, 0);
  int64_t dropped = 0, events = 0, check_us = 0, t_start = mono_us();
  for (size_t i = 0; i < u->no; i++) {
    origin *o = &u->o[i];
    int was = o->present;
    int64_t max = o->pmax;
    if ((rc = look_in_part(c, o, pt)))
      return rollback(c, rc);
    if (o->present != was || o->pmax != max || (o->present &&
                                                o->pmax > o->target))
      return rollback(c, 0);
  }
  for (size_t i = 0; i < u->no; i++) {
    origin *o = &u->o[i];
    if (!o->present)
      continue;
    int64_t base, head;
    uint8_t hash[32];
    if ((rc = read_base(c, o, &base, hash, &head)))
      return rollback(c, rc);
    char hex[33];
    sodium_bin2hex(hex, sizeof hex, o->id, 16);
    if (o->pmin <= base)
      return rollback(
          c, eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                           "site %s: event seq %lld lies at or before the "
                           "chain's base (seq %lld); refusing to purge (run "
                           "verify)",
                           hex, (long long)o->pmin, (long long)base));
    /* Every link that goes is checked, those in the partition and the
     * origin's older events elsewhere (late ones), which go with it. */
    eaudit__pg_walk w;
    memset(&w, 0, sizeof w);
    w.from_seq = base;
    memcpy(w.from_hash, hash, 32);
    w.to_seq = o->pmax;
    w.in_lo = pt->lo;
    w.in_hi = pt->hi;
    int64_t t0 = mono_us();
    rc = eaudit__pg_walk_chain(c, o->id, &w);
    check_us += mono_us() - t0;
    if (rc)
      return rollback(c, rc);
    if (w.last_seq != o->pmax)
      return rollback(
          c, eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                           "site %s: event %lld is missing; refusing to "
                           "purge (run verify)",
                           hex, (long long)w.last_seq + 1));
    int64_t others = w.n - w.n_in;
    if (others > (int64_t)u->batch) {
      o->scattered = 1; /* too many elsewhere: trim it first */
      return rollback(c, 0);
    }
    if (others > 0) {
      eaudit__pgp p = {0};
      eaudit__pgp_bytes(&p, o->id, 16);
      eaudit__pgp_i64(&p, base);
      eaudit__pgp_i64(&p, o->pmax);
      eaudit__pgp_i64(&p, pt->lo);
      eaudit__pgp_i64(&p, pt->hi);
      if ((rc = exec_ok(c,
                        "DELETE FROM eaudit.events WHERE origin = $1"
                        " AND seq > $2 AND seq <= $3"
                        " AND (occurred_at < $4 OR occurred_at >= $5)",
                        &p, "purging late events", &r)))
        return rollback(c, rc);
      int64_t gone = strtoll(PQcmdTuples(r), NULL, 10);
      PQclear(r);
      if (gone != others)
        return rollback(c, eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE,
                                         0,
                                         "site %s: %lld late rows deleted "
                                         "for %lld; refusing to purge",
                                         hex, (long long)gone,
                                         (long long)others));
    }
    if ((rc = move_base(u, o, o->pmax, w.last_hash, w.n)))
      return rollback(c, rc);
    dropped += w.n_in;
    events += w.n;
  }
  if ((rc = eaudit__pg_command(c, detach_sql, "detaching the partition")) ||
      (rc = eaudit__pg_command(c, drop_sql, "dropping the partition")))
    return rollback(c, rc);
  if ((rc = commit(u))) {
    /* Unknown outcome: the counts may be off, the store is consistent. */
    return rc;
  }
  for (size_t i = 0; i < u->no; i++)
    if (u->o[i].present)
      moved(u, &u->o[i], u->o[i].pmax);
  u->st->events += events;
  u->st->check_us += check_us;
  u->st->remove_us += mono_us() - t_start - check_us;
  u->st->dropped += dropped;
  u->st->partitions++;
  eaudit__log(EAUDIT_LOG_INFO, "central store: dropped partition %s",
              pt->name);
  return 1;
}

/* Every origin present in the partition may lose all its events there. */
static int droppable(const run *u) {
  for (size_t i = 0; i < u->no; i++)
    if (u->o[i].present && u->o[i].pmax > u->o[i].target)
      return 0;
  return 1;
}

static void run_free(run *u) {
  eaudit__free(u->o);
  eaudit__free(u->p);
}

static int args_ok(PGconn *c, size_t batch) {
  if (c == NULL)
    return eaudit__einval("central store connection must not be NULL");
  if (batch > EAUDIT__PG_PURGE_BATCH_MAX)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "batch size %zu is above %d", batch,
                         EAUDIT__PG_PURGE_BATCH_MAX);
  if (PQtransactionStatus(c) != PQTRANS_IDLE)
    return eaudit__error(EAUDIT_EMISUSE, EAUDIT_ECLASS_INVALID, 0,
                         "central store: a purge cannot run inside a "
                         "transaction");
  return EAUDIT_OK;
}

static int purge_run(PGconn *c, eaudit_store *signer,
                     const int64_t horizon[2], eaudit_time before,
                     int64_t actor, size_t batch, int flags,
                     eaudit__pg_purge_stats *out) {
  eaudit__pg_purge_stats st;
  memset(&st, 0, sizeof st);
  if (out)
    *out = st;
  int rc = args_ok(c, batch);
  if (rc)
    return rc;
  run u = {c,   before, actor, batch ? batch : EAUDIT__PG_PURGE_BATCH_DEFAULT,
           NULL, 0, NULL, 0, &st, signer, horizon[0], horizon[1]};
  if ((rc = load_origins(&u, flags)) == 0)
    rc = load_parts(&u);
  /* Oldest month first: drop it whole when it can go, else trim each
   * origin's prefix through its events there. Then the rest of each
   * origin's prefix (the month the cutoff falls in, and months kept). */
  for (size_t i = 0; rc == 0 && i < u.np; i++) {
    const part *pt = &u.p[i];
    for (size_t k = 0; rc == 0 && k < u.no; k++)
      rc = look_in_part(c, &u.o[k], pt);
    if (rc)
      break;
    int done = 0;
    /* A second try after trimming the origins whose older events lie
     * mostly elsewhere (late events): the others' rows still go whole. */
    for (int round = 0; rc == 0 && !done && round < 2; round++) {
      if ((flags & EAUDIT__PG_PURGE_NO_DROP) || !droppable(&u))
        break;
      for (size_t k = 0; k < u.no; k++)
        u.o[k].scattered = 0;
      for (int tries = 0;; tries++) {
        rc = drop_part(&u, pt);
        if (rc != EAUDIT_EBUSY || tries == 2)
          break;
        eaudit__log(EAUDIT_LOG_INFO, "central store: partition %s is busy; "
                    "trying again", pt->name);
      }
      done = rc == 1;
      if (rc == 1)
        rc = 0;
      int scattered = 0;
      for (size_t k = 0; rc == 0 && !done && k < u.no; k++) {
        origin *o = &u.o[k];
        if (o->scattered && o->present) {
          scattered = 1;
          rc = trim(&u, o, o->pmax < o->target ? o->pmax : o->target);
          if (rc == 0)
            rc = look_in_part(c, o, pt);
        }
      }
      if (!scattered)
        break;
    }
    for (size_t k = 0; rc == 0 && !done && k < u.no; k++) {
      origin *o = &u.o[k];
      if (o->present)
        rc = trim(&u, o, o->pmax < o->target ? o->pmax : o->target);
    }
  }
  for (size_t k = 0; rc == 0 && k < u.no; k++)
    rc = trim(&u, &u.o[k], u.o[k].target);
  if (signer) /* what a last step that rolled back signed */
    eaudit__integrity_after_txn(signer, 0);
  run_free(&u);
  if (out)
    *out = st;
  if (st.events || st.partitions)
    eaudit__log(EAUDIT_LOG_INFO,
                "central store: purged %lld events (%lld with %d partitions) "
                "of %d sites",
                (long long)st.events, (long long)st.dropped, st.partitions,
                st.origins);
  return rc;
}

int eaudit__pg_purge(PGconn *c, eaudit_time before, int64_t actor,
                     size_t batch, int flags, eaudit__pg_purge_stats *out) {
  static const int64_t none[2] = {0, 0};
  return purge_run(c, NULL, none, before, actor, batch,
                   flags & ~EAUDIT__PG_PURGE_OWN_SIGNED, out);
}

static int plan_run(PGconn *c, const int64_t horizon[2], eaudit_time before,
                    int flags, eaudit__pg_purge_stats *out) {
  eaudit__pg_purge_stats st;
  memset(&st, 0, sizeof st);
  if (out)
    *out = st;
  int rc = args_ok(c, 0);
  if (rc)
    return rc;
  st.own_before = before;
  run u = {c, before, 0, EAUDIT__PG_PURGE_BATCH_DEFAULT, NULL, 0, NULL, 0,
           &st, NULL, horizon[0], horizon[1]};
  /* One snapshot for the whole plan. */
  if ((rc = eaudit__pg_command(c,
                               "BEGIN ISOLATION LEVEL REPEATABLE READ "
                               "READ ONLY",
                               "starting the purge plan")))
    return rc;
  if ((rc = load_origins(&u, flags)) == 0)
    rc = load_parts(&u);
  for (size_t i = 0; rc == 0 && i < u.np; i++) {
    for (size_t k = 0; rc == 0 && k < u.no; k++)
      rc = look_in_part(c, &u.o[k], &u.p[i]);
    if (rc == 0 && droppable(&u))
      st.partitions++;
  }
  for (size_t k = 0; rc == 0 && k < u.no; k++) {
    origin *o = &u.o[k];
    if (o->own)
      st.own_before = o->before;
    if (o->target <= o->base)
      continue;
    eaudit__pgp p = {0};
    eaudit__pgp_bytes(&p, o->id, 16);
    eaudit__pgp_i64(&p, o->base);
    eaudit__pgp_i64(&p, o->target);
    PGresult *r = NULL;
    if ((rc = exec_ok(c,
                      "SELECT count(*) FROM eaudit.events WHERE origin = $1"
                      " AND seq > $2 AND seq <= $3",
                      &p, "counting the purge", &r)))
      break;
    int64_t n = eaudit__pg_i64(r, 0, 0);
    PQclear(r);
    if (n > 0) {
      st.events += n;
      st.origins++;
      if (o->own)
        st.own_through = o->target;
    }
  }
  run_free(&u);
  int end = eaudit__pg_command(c, rc ? "ROLLBACK" : "COMMIT",
                               "ending the purge plan");
  if (rc == 0)
    rc = end;
  if (rc == 0 && out)
    *out = st;
  return rc;
}

int eaudit__pg_purge_plan(PGconn *c, eaudit_time before, int flags,
                          eaudit__pg_purge_stats *out) {
  static const int64_t none[2] = {0, 0};
  return plan_run(c, none, before, flags, out);
}

/* ---- the public entry points' PostgreSQL side ---- */

/* How far back from each chain's newest event the rules still read: the
 * own chain's always (as on SQLite), the shipped sites' when the central
 * store's rules evaluate shipped events. */
static int horizons(eaudit_store *s, int64_t out[2]) {
  int active = 0;
  int rc = eaudit__rules_horizon(s, &out[0]);
  if (rc == 0)
    rc = eaudit__rules_ship_active(s, &active);
  out[1] = active ? out[0] : 0;
  return rc;
}

int eaudit__pg_store_purge(eaudit_store *s, eaudit_time before, int64_t actor,
                           size_t batch_size, int64_t *purged_out) {
  eaudit__pgstore *pg = s->pg;
  eaudit__pg_purge_stats st;
  int64_t head;
  /* Through the backend first, which reconnects a connection lost since
   * the last call. */
  int rc = eaudit__pg_store_last_seq(s, &head);
  if (rc == 0) /* the rules state a catch-up would rebuild, written first */
    rc = eaudit__rules_pg_before_purge(s);
  if (rc)
    return rc;
  /* A handle with the signing key moves its own chain's signed anchor
   * along, as on SQLite; without it the own chain stops at the anchor
   * its newest checkpoint signs. */
  int64_t horizon[2];
  if ((rc = horizons(s, horizon)))
    return rc;
  int sign = eaudit__integrity_can_sign(s);
  rc = purge_run(pg->conn, sign ? s : NULL, horizon, before, actor,
                 batch_size,
                 EAUDIT__PG_PURGE_OWN_HEAD |
                     (sign ? EAUDIT__PG_PURGE_OWN_SIGNED : 0),
                 &st);
  if (purged_out)
    *purged_out = st.events;
  if (st.events == 0)
    return rc;
  /* The audit record, on the central store's own chain, even when the run
   * stopped part way: what was removed stays removed. */
  char details[256];
  snprintf(details, sizeof details,
           "{\"purged\":%lld,\"before\":%lld,\"partitions\":%d,"
           "\"sites\":%d,\"dropped\":%lld}",
           (long long)st.events, (long long)before, st.partitions,
           st.origins, (long long)st.dropped);
  eaudit_event *ev = NULL;
  int erc = eaudit__audit_event(s, EAUDIT_TYPE_RETENTION_PURGED, actor,
                                details, &ev);
  if (erc == 0)
    erc = eaudit_store_append(s, ev);
  eaudit_event_free(ev);
  return rc ? rc : erc;
}

int eaudit__pg_store_purge_plan(eaudit_store *s, eaudit_time before,
                                eaudit_time *effective_before,
                                int64_t *through_seq, int64_t *events) {
  eaudit__pgstore *pg = s->pg;
  eaudit__pg_purge_stats st;
  int64_t head;
  int64_t horizon[2];
  int rc = eaudit__pg_store_last_seq(s, &head);
  if (rc == 0)
    rc = horizons(s, horizon);
  if (rc == 0)
    rc = plan_run(pg->conn, horizon, before,
                  EAUDIT__PG_PURGE_OWN_HEAD |
                      (eaudit__integrity_can_sign(s)
                           ? EAUDIT__PG_PURGE_OWN_SIGNED
                           : 0),
                  &st);
  if (rc)
    return rc;
  /* The own chain's cutoff: what the rules' cap left of before. */
  if (effective_before)
    *effective_before = st.own_before;
  if (through_seq)
    *through_seq = st.own_through;
  if (events)
    *events = st.events;
  return EAUDIT_OK;
}

#else /* !EAUDIT_HAVE_LIBPQ */

static int unsupported(void) {
  return eaudit__error(EAUDIT_EUNSUPPORTED, EAUDIT_ECLASS_INVALID, 0,
                       "this build of the library has no PostgreSQL support");
}

int eaudit__pg_store_purge(eaudit_store *s, eaudit_time before, int64_t actor,
                           size_t batch_size, int64_t *purged_out) {
  (void)s;
  (void)before;
  (void)actor;
  (void)batch_size;
  if (purged_out)
    *purged_out = 0;
  return unsupported();
}

int eaudit__pg_store_purge_plan(eaudit_store *s, eaudit_time before,
                                eaudit_time *effective_before,
                                int64_t *through_seq, int64_t *events) {
  (void)s;
  (void)before;
  (void)effective_before;
  (void)through_seq;
  (void)events;
  return unsupported();
}

#endif
