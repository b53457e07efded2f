/* Signed checkpoints on the central PostgreSQL store: the own chain's
 * checkpoints for a handle opened on a postgresql:// URI, the checkpoints
 * shipped with each site's events, and verification of every chain
 * against them with the verifier of integrity.c. The records are those of
 * SQLite, byte for byte (checkpoint.c). See docs/scale-out.md,
 * "Checkpoints on the central store". */
#include "pg_integrity.h"

#include <eaudit/ship.h>

#ifdef EAUDIT_HAVE_LIBPQ

#include "chain.h"
#include "pg_chain.h"
#include "pg_internal.h"
#include "pg_store.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define PGS(s) ((eaudit__pgstore *)(s)->pg)

static int rollback(PGconn *c, int rc) {
  PQclear(PQexec(c, "ROLLBACK"));
  return rc;
}

/* The handle's connection, reconnected (through the store backend) when
 * the server dropped it while no transaction was open. */
static int conn(eaudit_store *s, PGconn **out) {
  eaudit__pgstore *p = PGS(s);
  if (PQstatus(p->conn) != CONNECTION_OK) {
    int64_t head;
    int rc = eaudit__pg_store_last_seq(s, &head);
    if (rc)
      return rc;
  }
  *out = p->conn;
  return EAUDIT_OK;
}

/* ---- the own chain's checkpoints ---- */

/* Run @p sql, a SELECT of record FROM eaudit.checkpoints with $1 the
 * handle's origin (and $2 @p cseq unless 0). *out stays NULL when the
 * handle has no own chain yet, so there is nothing to read. */
static int own_records(eaudit_store *s, const char *sql, int64_t cseq,
                       const char *what, PGresult **out) {
  *out = NULL;
  PGconn *c;
  int rc = conn(s, &c);
  if (rc || !PGS(s)->has_own)
    return rc;
  eaudit__pgp p = {0};
  eaudit__pgp_bytes(&p, PGS(s)->origin, 16);
  if (cseq)
    eaudit__pgp_i64(&p, cseq);
  if ((*out = eaudit__pg_exec(c, sql, &p, what)) == NULL)
    return eaudit_error_last()->code;
  return EAUDIT_OK;
}

int eaudit__pg_cp_read(eaudit_store *s, int64_t cseq, uint8_t *out,
                       size_t cap, size_t *len, int *found) {
  *found = 0;
  *len = 0;
  PGresult *r;
  int rc = own_records(
      s,
      cseq ? "SELECT record FROM eaudit.checkpoints WHERE origin = $1"
             " AND cseq = $2"
           : "SELECT record FROM eaudit.checkpoints WHERE origin = $1"
             " ORDER BY cseq DESC LIMIT 1",
      cseq, "reading a checkpoint", &r);
  if (rc || r == NULL)
    return rc;
  if (PQntuples(r) == 1) {
    *found = 1;
    *len = (size_t)PQgetlength(r, 0, 0);
    if (*len <= cap)
      memcpy(out, PQgetvalue(r, 0, 0), *len);
  }
  PQclear(r);
  return EAUDIT_OK;
}

int eaudit__pg_cp_chain(eaudit_store *s, int64_t *head_seq, uint8_t head[32],
                        int64_t *anchor_seq, uint8_t anchor[32]) {
  PGconn *c;
  int rc = conn(s, &c);
  if (rc)
    return rc;
  eaudit__pgp p = {0};
  eaudit__pgp_bytes(&p, PGS(s)->origin, 16);
  PGresult *r = eaudit__pg_exec(c,
                                "SELECT head_seq, head_hash, base_seq,"
                                " base_hash FROM eaudit.sites"
                                " WHERE site_id = $1 AND own",
                                &p, "reading the chain head");
  if (r == NULL)
    return eaudit_error_last()->code;
  if (PQntuples(r) != 1 || PQgetlength(r, 0, 1) != 32 ||
      PQgetlength(r, 0, 3) != 32)
    rc = eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                       "central store: the own chain's head is missing or "
                       "damaged");
  else {
    *head_seq = eaudit__pg_i64(r, 0, 0);
    memcpy(head, PQgetvalue(r, 0, 1), 32);
    *anchor_seq = eaudit__pg_i64(r, 0, 2);
    memcpy(anchor, PQgetvalue(r, 0, 3), 32);
  }
  PQclear(r);
  return rc;
}

int eaudit__pg_cp_insert(eaudit_store *s, int64_t cseq, int64_t last_seq,
                         const uint8_t *rec) {
  eaudit__pgp p = {0};
  eaudit__pgp_bytes(&p, PGS(s)->origin, 16);
  eaudit__pgp_i64(&p, cseq);
  eaudit__pgp_i64(&p, last_seq);
  eaudit__pgp_bytes(&p, rec, EAUDIT__CP_SIZE);
  PGresult *r = eaudit__pg_exec(PGS(s)->conn,
                                "INSERT INTO eaudit.checkpoints(origin, cseq,"
                                " last_seq, record) VALUES ($1, $2, $3, $4)",
                                &p, "writing a checkpoint");
  if (r == NULL)
    return eaudit_error_last()->code;
  PQclear(r);
  return EAUDIT_OK;
}

int eaudit__pg_cp_prune(eaudit_store *s, int64_t base_seq) {
  eaudit__pgp p = {0};
  eaudit__pgp_bytes(&p, PGS(s)->origin, 16);
  eaudit__pgp_i64(&p, base_seq);
  PGresult *r = eaudit__pg_exec(PGS(s)->conn,
                                "DELETE FROM eaudit.checkpoints WHERE"
                                " origin = $1 AND last_seq < $2",
                                &p, "removing old checkpoints");
  if (r == NULL)
    return eaudit_error_last()->code;
  PQclear(r);
  return EAUDIT_OK;
}

int eaudit__pg_cp_all(eaudit_store *s, uint8_t **out, size_t *bytes) {
  *out = NULL;
  *bytes = 0;
  PGresult *r;
  int rc = own_records(s,
                       "SELECT record FROM eaudit.checkpoints"
                       " WHERE origin = $1 ORDER BY cseq",
                       0, "reading checkpoints", &r);
  if (rc || r == NULL)
    return rc;
  size_t n = 0;
  for (int i = 0; i < PQntuples(r); i++)
    n += (size_t)PQgetlength(r, i, 0);
  uint8_t *buf = eaudit__malloc(n ? n : 1);
  if (buf == NULL) {
    PQclear(r);
    return eaudit__enomem();
  }
  size_t at = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    memcpy(buf + at, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));
    at += (size_t)PQgetlength(r, i, 0);
  }
  PQclear(r);
  *out = buf;
  *bytes = n;
  return EAUDIT_OK;
}

int eaudit__pg_cp_begin(eaudit_store *s) {
  PGconn *c = NULL;
  int rc = eaudit__pg_write_checks(s);
  if (rc == 0)
    rc = conn(s, &c);
  if (rc == 0)
    rc = eaudit__pg_command(c, "BEGIN", "starting a checkpoint");
  if (rc)
    return rc;
  /* The lock appends take: the head does not move under the checkpoint. */
  eaudit__pgp p = {0};
  eaudit__pgp_i32(&p, EAUDIT__PG_SITE_LOCK);
  eaudit__pgp_i32(&p, eaudit__pg_site_key(PGS(s)->origin));
  PGresult *r = eaudit__pg_exec(c, "SELECT pg_advisory_xact_lock($1, $2)", &p,
                                "locking the store's chain");
  if (r == NULL)
    return rollback(c, eaudit_error_last()->code);
  PQclear(r);
  return EAUDIT_OK;
}

int eaudit__pg_cp_end(eaudit_store *s, int rc) {
  PGconn *c = PGS(s)->conn;
  if (rc)
    return rollback(c, rc);
  return eaudit__pg_command(c, "COMMIT", "committing a checkpoint");
}

int eaudit__pg_cp_signed_base(PGconn *c, const uint8_t origin[16], int *found,
                              int64_t *base_seq) {
  *found = 0;
  *base_seq = 0;
  eaudit__pgp p = {0};
  eaudit__pgp_bytes(&p, origin, 16);
  PGresult *r = eaudit__pg_exec(c,
                                "SELECT record FROM eaudit.checkpoints"
                                " WHERE origin = $1 ORDER BY cseq DESC"
                                " LIMIT 1",
                                &p, "reading the newest checkpoint");
  if (r == NULL)
    return eaudit_error_last()->code;
  int rc = EAUDIT_OK;
  if (PQntuples(r) == 1) {
    eaudit__cp cp;
    if (eaudit__cp_parse((const uint8_t *)PQgetvalue(r, 0, 0),
                         (size_t)PQgetlength(r, 0, 0), &cp))
      rc = eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                         "central store: a newest checkpoint record is "
                         "damaged (run verify)");
    else {
      *found = 1;
      *base_seq = cp.base_seq;
    }
  }
  PQclear(r);
  return rc;
}

/* ---- a central chain as the verifier's row source ---- */

typedef struct pg_src {
  PGconn *c;
  const uint8_t *origin;
} pg_src;

/* Rows are read in keyset pages, small first (classification often needs
 * one row), then larger. */
typedef struct pg_rows {
  const pg_src *src;
  PGresult *r;
  int row, rows, end;
  int64_t last, page;
} pg_rows;

static int rows_open(void *ctx, int64_t after, void **out) {
  pg_rows *it = eaudit__calloc(1, sizeof *it);
  if (it == NULL)
    return eaudit__enomem();
  it->src = ctx;
  it->last = after;
  it->page = 64;
  *out = it;
  return EAUDIT_OK;
}

static int rows_next(void *p, eaudit_event *ev) {
  pg_rows *it = p;
  if (it->row >= it->rows) {
    if (it->end)
      return EAUDIT_DONE;
    PQclear(it->r);
    it->r = NULL;
    it->row = it->rows = 0;
    eaudit__pgp q = {0};
    eaudit__pgp_bytes(&q, it->src->origin, 16);
    eaudit__pgp_i64(&q, it->last);
    eaudit__pgp_i64(&q, it->page);
    it->r = eaudit__pg_exec(
        it->src->c,
        "SELECT seq, id, occurred_at, recorded_at, type, subject, actor,"
        " door, grp, device, site, credential, reason, details, hash"
        " FROM eaudit.events WHERE origin = $1 AND seq > $2 ORDER BY seq"
        " LIMIT $3",
        &q, "reading events");
    if (it->r == NULL)
      return eaudit_error_last()->code;
    it->rows = PQntuples(it->r);
    it->end = it->rows < it->page;
    if (it->page < 10000)
      it->page *= 4;
    if (it->rows == 0)
      return EAUDIT_DONE;
  }
  int rc = eaudit__pg_row_event(it->r, it->row, ev);
  if (rc)
    return rc;
  it->last = ev->v[EAUDIT_FIELD_SEQ];
  it->row++;
  return EAUDIT_OK;
}

static void rows_close(void *p) {
  pg_rows *it = p;
  PQclear(it->r);
  eaudit__free(it);
}

static int src_checkpoints(void *ctx,
                           int (*add)(void *arg, int64_t cseq,
                                      int64_t last_seq, const void *rec,
                                      size_t len),
                           void *arg) {
  const pg_src *src = ctx;
  eaudit__pgp p = {0};
  eaudit__pgp_bytes(&p, src->origin, 16);
  PGresult *r = eaudit__pg_exec(src->c,
                                "SELECT cseq, last_seq, record FROM"
                                " eaudit.checkpoints WHERE origin = $1"
                                " ORDER BY cseq",
                                &p, "reading checkpoints");
  if (r == NULL)
    return eaudit_error_last()->code;
  int rc = EAUDIT_OK;
  for (int i = 0; rc == 0 && i < PQntuples(r); i++)
    rc = add(arg, eaudit__pg_i64(r, i, 0), eaudit__pg_i64(r, i, 1),
             PQgetvalue(r, i, 2), (size_t)PQgetlength(r, i, 2));
  PQclear(r);
  return rc;
}

/* One origin's chain from its eaudit.sites row, inside the caller's
 * snapshot: its base against the anchors, then the verifier. Damage goes
 * into r with the chain named in the message (what: "own chain" or
 * "site"). */
static int verify_origin(PGconn *c, const uint8_t id[16], int64_t base_seq,
                         const uint8_t base[32], int64_t head_seq,
                         const uint8_t head[32], int own,
                         const uint8_t *trusted, const eaudit__cp *newest,
                         unsigned flags, eaudit_verify_result *r) {
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, id, 16);
  const char *what = own ? "own chain" : "site";
  int rc = eaudit__pg_check_base(c, id, hex, base_seq, base);
  if (rc == EAUDIT_ETAMPER) {
    r->damage = EAUDIT_DAMAGE_MODIFIED;
    r->first_bad = base_seq > 0 ? base_seq : 1;
    snprintf(r->message, sizeof r->message, "%s", eaudit_error_last()->message);
    eaudit_error_clear();
    return EAUDIT_OK;
  }
  if (rc)
    return rc;
  pg_src ps = {c, id};
  eaudit__chain_src src = {&ps, rows_open, rows_next, rows_close,
                           src_checkpoints};
  /* A site's copy may go back further than the site's own anchor (it
   * purged after shipping); the own chain is purged only with a signed
   * anchor. */
  eaudit__chain_view cv = {id, head_seq, base_seq, head, base, !own};
  rc = eaudit__verify_chain(&src, &cv, trusted, newest, flags, r);
  if (rc == 0 && r->damage != EAUDIT_DAMAGE_NONE) {
    char msg[sizeof r->message];
    int n = snprintf(msg, sizeof msg, "%s %s: ", what, hex);
    if (n > 0 && (size_t)n < sizeof msg)
      snprintf(msg + n, sizeof msg - (size_t)n, "%.*s",
               (int)(sizeof msg - (size_t)n - 1), r->message);
    memcpy(r->message, msg, sizeof msg);
  }
  return rc;
}

/* The snapshot of a verification. The lock on eaudit.events comes before
 * it, as in eaudit_central_verify_site: a retention drop then either
 * committed before the snapshot (base and partition together) or waits
 * until the verification ends. */
static int snapshot_begin(PGconn *c) {
  int rc = eaudit__pg_command(c,
                              "BEGIN ISOLATION LEVEL REPEATABLE READ "
                              "READ ONLY",
                              "starting the verification");
  if (rc == 0 &&
      (rc = eaudit__pg_command(c,
                               "LOCK TABLE eaudit.events IN ACCESS SHARE MODE",
                               "locking the events")))
    return rollback(c, rc);
  return rc;
}

/* Row i of a result of site_id, base_seq, base_hash, head_seq, head_hash,
 * own from eaudit.sites. */
static int site_row(const PGresult *r, int i, uint8_t id[16],
                    int64_t *base_seq, uint8_t base[32], int64_t *head_seq,
                    uint8_t head[32], int *own) {
  if (PQgetlength(r, i, 0) != 16 || PQgetlength(r, i, 2) != 32 ||
      PQgetlength(r, i, 4) != 32)
    return eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                         "central store: a chain's record is damaged");
  memcpy(id, PQgetvalue(r, i, 0), 16);
  *base_seq = eaudit__pg_i64(r, i, 1);
  memcpy(base, PQgetvalue(r, i, 2), 32);
  *head_seq = eaudit__pg_i64(r, i, 3);
  memcpy(head, PQgetvalue(r, i, 4), 32);
  *own = PQgetvalue(r, i, 5)[0] != 0;
  return EAUDIT_OK;
}

int eaudit__pg_verify_store(eaudit_store *s, const uint8_t *trusted,
                            const eaudit__cp *newest, unsigned flags,
                            eaudit_verify_result *r) {
  PGconn *c;
  int rc = conn(s, &c);
  if (rc || (rc = snapshot_begin(c)))
    return rc;
  /* The own chain first, then the shipped sites. */
  PGresult *sites =
      eaudit__pg_exec(c,
                      "SELECT site_id, base_seq, base_hash, head_seq,"
                      " head_hash, own FROM eaudit.sites"
                      " ORDER BY own DESC, site_id",
                      NULL, "reading the chains");
  if (sites == NULL)
    return rollback(c, eaudit_error_last()->code);
  int used = newest == NULL;
  for (int i = 0; rc == 0 && r->damage == EAUDIT_DAMAGE_NONE &&
                  i < PQntuples(sites);
       i++) {
    uint8_t id[16], base[32], head[32];
    int64_t base_seq, head_seq;
    int own;
    if ((rc = site_row(sites, i, id, &base_seq, base, &head_seq, head, &own)))
      break;
    /* The caller's key and off-device checkpoint belong to the chain the
     * checkpoint names, or to the own chain. */
    int mine = newest ? memcmp(newest->store, id, 16) == 0 : own;
    used |= newest && mine;
    rc = verify_origin(c, id, base_seq, base, head_seq, head, own,
                       mine ? trusted : NULL, mine ? newest : NULL,
                       mine ? flags : flags & ~(unsigned)
                                                 EAUDIT_VERIFY_REQUIRE_SIGNED_TAIL,
                       r);
  }
  PQclear(sites);
  if (rc == 0 && !used && r->damage == EAUDIT_DAMAGE_NONE)
    rc = eaudit__einval("the off-device checkpoint belongs to no chain of "
                        "this store");
  if (rc)
    return rollback(c, rc);
  return eaudit__pg_command(c, "COMMIT", "ending the verification");
}

int eaudit_central_verify_site_signed(const char *central_uri,
                                      const uint8_t site_id[16],
                                      const uint8_t *public_key,
                                      const uint8_t *newest, size_t newest_len,
                                      unsigned flags,
                                      eaudit_verify_result **out) {
  if (out)
    *out = NULL;
  if (site_id == NULL)
    return eaudit__einval("site id must not be NULL");
  if (flags & ~7u)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "unknown verify flags 0x%x", flags & ~7u);
  eaudit__cp nc;
  if (newest) {
    if (public_key == NULL)
      return eaudit__einval("an off-device checkpoint needs the public key");
    int rc = eaudit__cp_parse(newest, newest_len, &nc);
    if (rc)
      return rc;
    if (memcmp(nc.store, site_id, 16) != 0)
      return eaudit__einval("the off-device checkpoint belongs to another "
                            "store");
  }
  PGconn *c = NULL;
  int rc = eaudit__pg_connect(central_uri, &c);
  if (rc)
    return rc;
  eaudit_verify_result *r = eaudit__verify_result_new();
  if (r == NULL)
    rc = EAUDIT_ENOMEM;
  if (rc == 0)
    rc = eaudit__pg_schema_open(c, 0);
  if (rc == 0)
    rc = snapshot_begin(c);
  if (rc)
    goto out;
  eaudit__pgp p = {0};
  eaudit__pgp_bytes(&p, site_id, 16);
  PGresult *row = eaudit__pg_exec(
      c,
      "SELECT site_id, base_seq, base_hash, head_seq, head_hash, own"
      " FROM eaudit.sites WHERE site_id = $1",
      &p, "reading the site");
  if (row == NULL) {
    rc = rollback(c, eaudit_error_last()->code);
    goto out;
  }
  if (PQntuples(row) != 1) {
    char hex[33];
    sodium_bin2hex(hex, sizeof hex, site_id, 16);
    rc = eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_STORE, 0,
                       "site %s never shipped to this central store", hex);
  } else {
    uint8_t id[16], base[32], head[32];
    int64_t base_seq, head_seq;
    int own;
    rc = site_row(row, 0, id, &base_seq, base, &head_seq, head, &own);
    if (rc == 0)
      rc = verify_origin(c, id, base_seq, base, head_seq, head, own,
                         public_key, newest ? &nc : NULL, flags, r);
  }
  PQclear(row);
  rc = rc ? rollback(c, rc)
          : eaudit__pg_command(c, "COMMIT", "ending the verification");
out:
  PQfinish(c);
  if (rc) {
    eaudit_verify_result_free(r);
    return rc;
  }
  rc = eaudit__verify_result_code(r);
  if (out)
    *out = r;
  else
    eaudit_verify_result_free(r);
  return rc;
}

/* ---- shipping a site's checkpoints ---- */

int eaudit__pg_ship_checkpoints(eaudit_store *s, PGconn *c) {
  int rc = eaudit__pg_command(c, "BEGIN", "starting to ship checkpoints");
  if (rc)
    return rc;
  eaudit__pgp p = {0};
  eaudit__pgp_i32(&p, EAUDIT__PG_SITE_LOCK);
  eaudit__pgp_i32(&p, eaudit__pg_site_key(s->store_id));
  PGresult *r = eaudit__pg_exec(c, "SELECT pg_advisory_xact_lock($1, $2)", &p,
                                "locking the site");
  if (r == NULL)
    return rollback(c, eaudit_error_last()->code);
  PQclear(r);
  /* Only checkpoints of events the central store holds: one past its
   * head would read as a truncation there. */
  p.n = 0;
  eaudit__pgp_bytes(&p, s->store_id, 16);
  r = eaudit__pg_exec(c,
                      "SELECT s.head_seq, (SELECT coalesce(max(cseq), 0)"
                      " FROM eaudit.checkpoints WHERE origin = $1)"
                      " FROM eaudit.sites s WHERE s.site_id = $1",
                      &p, "reading the site's cursor");
  if (r == NULL)
    return rollback(c, eaudit_error_last()->code);
  if (PQntuples(r) != 1) {
    PQclear(r);
    return rollback(c, EAUDIT_OK); /* never shipped: nothing to sign */
  }
  int64_t head = eaudit__pg_i64(r, 0, 0), have = eaudit__pg_i64(r, 0, 1);
  PQclear(r);
  sqlite3_stmt *st = NULL;
  if ((rc = eaudit__stmt_acquire(s,
                                 "SELECT cseq, last_seq, record FROM "
                                 "checkpoints WHERE cseq > ?1 ORDER BY cseq",
                                 &st)))
    return rollback(c, rc);
  sqlite3_bind_int64(st, 1, have);
  int src;
  int64_t sent = 0;
  while ((src = sqlite3_step(st)) == SQLITE_ROW &&
         sqlite3_column_int64(st, 1) <= head) {
    /* As stored on the site, damaged or not: verification judges it. */
    p.n = 0;
    eaudit__pgp_bytes(&p, s->store_id, 16);
    eaudit__pgp_i64(&p, sqlite3_column_int64(st, 0));
    eaudit__pgp_i64(&p, sqlite3_column_int64(st, 1));
    eaudit__pgp_bytes(&p, sqlite3_column_blob(st, 2),
                      (size_t)sqlite3_column_bytes(st, 2));
    r = eaudit__pg_exec(c,
                        "INSERT INTO eaudit.checkpoints(origin, cseq,"
                        " last_seq, record) VALUES ($1, $2, $3, $4)"
                        " ON CONFLICT DO NOTHING",
                        &p, "shipping a checkpoint");
    if (r == NULL) {
      rc = eaudit_error_last()->code;
      break;
    }
    PQclear(r);
    sent++;
  }
  if (rc == 0 && src != SQLITE_ROW && src != SQLITE_DONE)
    rc = eaudit__sqlite_error(s, src, "reading the site's checkpoints");
  eaudit__stmt_release(s, st);
  if (rc)
    return rollback(c, rc);
  if (sent)
    eaudit__log(EAUDIT_LOG_INFO, "shipped %lld checkpoints", (long long)sent);
  return eaudit__pg_command(c, "COMMIT", "committing the checkpoints");
}

#else /* !EAUDIT_HAVE_LIBPQ */

static int absent(void) {
  return eaudit__error(EAUDIT_EUNSUPPORTED, EAUDIT_ECLASS_INVALID, 0,
                       "this build of the library has no PostgreSQL support");
}

int eaudit__pg_cp_read(eaudit_store *s, int64_t cseq, uint8_t *out,
                       size_t cap, size_t *len, int *found) {
  (void)s;
  (void)cseq;
  (void)out;
  (void)cap;
  *len = 0;
  *found = 0;
  return absent();
}

int eaudit__pg_cp_chain(eaudit_store *s, int64_t *head_seq, uint8_t head[32],
                        int64_t *anchor_seq, uint8_t anchor[32]) {
  (void)s;
  (void)head;
  (void)anchor;
  *head_seq = *anchor_seq = 0;
  return absent();
}

int eaudit__pg_cp_insert(eaudit_store *s, int64_t cseq, int64_t last_seq,
                         const uint8_t *rec) {
  (void)s;
  (void)cseq;
  (void)last_seq;
  (void)rec;
  return absent();
}

int eaudit__pg_cp_prune(eaudit_store *s, int64_t base_seq) {
  (void)s;
  (void)base_seq;
  return absent();
}

int eaudit__pg_cp_all(eaudit_store *s, uint8_t **out, size_t *bytes) {
  (void)s;
  *out = NULL;
  *bytes = 0;
  return absent();
}

int eaudit__pg_cp_begin(eaudit_store *s) {
  (void)s;
  return absent();
}

int eaudit__pg_cp_end(eaudit_store *s, int rc) {
  (void)s;
  return rc ? rc : absent();
}

int eaudit__pg_verify_store(eaudit_store *s, const uint8_t *trusted,
                            const eaudit__cp *newest, unsigned flags,
                            eaudit_verify_result *r) {
  (void)s;
  (void)trusted;
  (void)newest;
  (void)flags;
  (void)r;
  return absent();
}

int eaudit_central_verify_site_signed(const char *central_uri,
                                      const uint8_t site_id[16],
                                      const uint8_t *public_key,
                                      const uint8_t *newest, size_t newest_len,
                                      unsigned flags,
                                      eaudit_verify_result **out) {
  (void)central_uri;
  (void)site_id;
  (void)public_key;
  (void)newest;
  (void)newest_len;
  (void)flags;
  if (out)
    *out = NULL;
  return eaudit__error(EAUDIT_EUNSUPPORTED, EAUDIT_ECLASS_INVALID, 0,
                       "this build of the library has no PostgreSQL support "
                       "(built with EAUDIT_WITH_POSTGRESQL=OFF or without "
                       "libpq)");
}

#endif
