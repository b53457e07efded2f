/* Shipping a site store's events into the central PostgreSQL store, and
 * verifying a site's chain there. See docs/scale-out.md. */
#include "internal.h"

#include <eaudit/ship.h>

#ifdef EAUDIT_HAVE_LIBPQ

#include "chain.h"
#include "pg_chain.h"
#include "pg_integrity.h"
#include "pg_directory.h"
#include "pg_internal.h"
#include "pg_store.h"
#include "options_internal.h"
#include "store_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define SHIP_BATCH_MAX 100000

int32_t eaudit__pg_site_key(const uint8_t id[16]) {
  uint32_t k = 0;
  for (int i = 0; i < 16; i += 4)
    k ^= (uint32_t)id[i] << 24 | (uint32_t)id[i + 1] << 16 |
         (uint32_t)id[i + 2] << 8 | id[i + 3];
  return (int32_t)k;
}

/* The events of one batch read from the site, with the site's chain base
 * and head seen in the same SQLite snapshot. */
typedef struct site_batch {
  int64_t anchor_seq, head_seq;
  uint8_t anchor_hash[32];
  eaudit_event *evs;
  uint8_t *fresh; /* per event: inserted by this batch (not present yet) */
  size_t n, cap;
} site_batch;

static void batch_release(site_batch *b) {
  for (size_t i = 0; i < b->cap; i++)
    eaudit__event_release(&b->evs[i]);
  eaudit__free(b->evs);
  eaudit__free(b->fresh);
}

static int step_one_int(eaudit_store *s, const char *sql, int64_t *seq,
                        uint8_t hash[32], int *found) {
  sqlite3_stmt *st = NULL;
  int rc = eaudit__stmt_acquire(s, sql, &st);
  if (rc)
    return rc;
  *found = 0;
  int src = sqlite3_step(st);
  if (src == SQLITE_ROW) {
    *seq = sqlite3_column_int64(st, 0);
    if (hash) {
      if (sqlite3_column_bytes(st, 1) != 32) {
        eaudit__stmt_release(s, st);
        return eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                             "the site's retention anchor is damaged");
      }
      memcpy(hash, sqlite3_column_blob(st, 1), 32);
    }
    *found = 1;
    src = SQLITE_DONE;
  }
  eaudit__stmt_release(s, st);
  return src == SQLITE_DONE ? EAUDIT_OK
                            : eaudit__sqlite_error(s, src, "reading the site");
}

/* Read up to max events with seq > after, in one read transaction. */
static int site_read(eaudit_store *s, int64_t after, size_t max,
                     site_batch *b) {
  b->n = 0;
  if (b->cap < max) {
    eaudit_event *e = eaudit__realloc(b->evs, max * sizeof *e);
    if (e == NULL)
      return eaudit__enomem();
    memset(e + b->cap, 0, (max - b->cap) * sizeof *e);
    b->evs = e;
    uint8_t *f = eaudit__realloc(b->fresh, max);
    if (f == NULL)
      return eaudit__enomem();
    b->fresh = f;
    b->cap = max;
  }
  int rc = eaudit__exec(s, "BEGIN");
  if (rc)
    return rc;
  int found;
  rc = step_one_int(s, "SELECT seq, hash FROM anchor WHERE one = 1",
                    &b->anchor_seq, b->anchor_hash, &found);
  if (rc == 0 && !found) {
    b->anchor_seq = 0;
    eaudit__chain_genesis(s->store_id, b->anchor_hash);
  }
  if (rc == 0)
    rc = step_one_int(s, "SELECT seq FROM head WHERE one = 1", &b->head_seq,
                      NULL, &found);
  if (rc == 0 && !found)
    rc = eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                       "the site store has no chain head");
  sqlite3_stmt *st = NULL;
  if (rc == 0)
    rc = eaudit__stmt_acquire(s,
                              "SELECT " EAUDIT__EVENT_COLUMNS
                              " FROM events WHERE seq > ?1 ORDER BY seq"
                              " LIMIT ?2",
                              &st);
  if (rc == 0) {
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW && b->n < max) {
      if (eaudit__event_from_row(st, 0, &b->evs[b->n])) {
        rc = eaudit__enomem();
        break;
      }
      b->n++;
    }
    if (rc == 0 && src != SQLITE_DONE && src != SQLITE_ROW)
      rc = eaudit__sqlite_error(s, src, "reading the site's events");
    eaudit__stmt_release(s, st);
  }
  int end = eaudit__exec(s, rc ? "ROLLBACK" : "COMMIT");
  return rc ? rc : end;
}

/* The central cursor of a site: found = 0 when it never shipped. */
static int cursor_get(PGconn *c, const uint8_t id[16], int *found,
                      int64_t *base_seq, uint8_t base_hash[32],
                      int64_t *head_seq, uint8_t head_hash[32],
                      int64_t *events) {
  eaudit__pgp p = {0};
  eaudit__pgp_bytes(&p, id, 16);
  PGresult *r =
      eaudit__pg_exec(c,
                      "SELECT base_seq, base_hash, head_seq, head_hash, events"
                      " FROM eaudit.sites WHERE site_id = $1",
                      &p, "reading the site's cursor");
  if (r == NULL)
    return eaudit_error_last()->code;
  *found = PQntuples(r) == 1;
  int rc = EAUDIT_OK;
  if (*found) {
    if (PQgetlength(r, 0, 1) != 32 || PQgetlength(r, 0, 3) != 32)
      rc = eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                         "central store: the site's cursor is damaged");
    else {
      *base_seq = eaudit__pg_i64(r, 0, 0);
      memcpy(base_hash, PQgetvalue(r, 0, 1), 32);
      *head_seq = eaudit__pg_i64(r, 0, 2);
      memcpy(head_hash, PQgetvalue(r, 0, 3), 32);
      if (events)
        *events = eaudit__pg_i64(r, 0, 4);
    }
  }
  PQclear(r);
  return rc;
}

/* The search column indexes the details as text. Not through jsonb, which
 * refuses some JSON the site accepted (a \u0000 or a lone surrogate
 * escape): the insert would fail and the site could never ship again. */
static const char insert_sql[] =
    "INSERT INTO eaudit.events(origin, seq, id, occurred_at, recorded_at,"
    " type, subject, actor, door, grp, device, site, credential, reason,"
    " details, hash, search) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
    " $10, $11, $12, $13, $14, $15, $16,"
    " to_tsvector('simple'::regconfig, convert_from($15, 'UTF8')))"
    " ON CONFLICT DO NOTHING RETURNING seq";

static const int id_fields[] = {EAUDIT_FIELD_SUBJECT, EAUDIT_FIELD_ACTOR,
                                EAUDIT_FIELD_DOOR,    EAUDIT_FIELD_GROUP,
                                EAUDIT_FIELD_DEVICE,  EAUDIT_FIELD_SITE};

void eaudit__pg_event_params(eaudit__pgp *p, const uint8_t origin[16],
                             const eaudit_event *ev) {
  p->n = 0;
  eaudit__pgp_bytes(p, origin, 16);
  eaudit__pgp_i64(p, ev->v[EAUDIT_FIELD_SEQ]);
  eaudit__pgp_bytes(p, ev->id, 16);
  eaudit__pgp_i64(p, ev->v[EAUDIT_FIELD_OCCURRED_AT]);
  eaudit__pgp_i64(p, ev->v[EAUDIT_FIELD_RECORDED_AT]);
  eaudit__pgp_i32(p, (int32_t)ev->v[EAUDIT_FIELD_TYPE]);
  for (size_t i = 0; i < sizeof id_fields / sizeof id_fields[0]; i++)
    if (EAUDIT__HAS(ev, id_fields[i]))
      eaudit__pgp_i64(p, ev->v[id_fields[i]]);
    else
      eaudit__pgp_null(p, EAUDIT__OID_INT8);
  eaudit__pgp_i32(p, (int32_t)ev->v[EAUDIT_FIELD_CREDENTIAL]);
  eaudit__pgp_i32(p, (int32_t)ev->v[EAUDIT_FIELD_REASON]);
  if (ev->details_len)
    eaudit__pgp_bytes(p, ev->details, ev->details_len);
  else
    eaudit__pgp_null(p, EAUDIT__OID_BYTEA);
  eaudit__pgp_bytes(p, ev->hash, 32);
}

static int rollback(PGconn *c, int rc) {
  PQclear(PQexec(c, "ROLLBACK"));
  return rc;
}

/* Check that the batch continues the chain at (prev_seq, prev) and that
 * each event's stored hash is its recomputed link. */
static int check_chain(const uint8_t site[16], const site_batch *b,
                       int64_t prev_seq, const uint8_t prev_in[32]) {
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, site, 16);
  uint8_t prev[32], h[32];
  memcpy(prev, prev_in, 32);
  for (size_t i = 0; i < b->n; i++) {
    const eaudit_event *ev = &b->evs[i];
    int64_t seq = ev->v[EAUDIT_FIELD_SEQ];
    if (seq != prev_seq + 1)
      return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                           "site %s: event seq %lld is missing (next event "
                           "is seq %lld); refused",
                           hex, (long long)prev_seq + 1, (long long)seq);
    if (!ev->has_id || !ev->has_hash)
      return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                           "site %s: event seq %lld has no id or hash; "
                           "refused",
                           hex, (long long)seq);
    int rc = eaudit__chain_link(ev, prev, h);
    if (rc)
      return rc;
    if (memcmp(h, ev->hash, 32) != 0)
      return eaudit__error(
          EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
          "site %s: event seq %lld does not link to %s (its hash is not "
          "the recomputed chain link: modified, or a different chain); "
          "refused",
          hex, (long long)seq,
          i == 0 ? "the head shipped to the central store" : "its predecessor");
    memcpy(prev, h, 32);
    prev_seq = seq;
  }
  return EAUDIT_OK;
}

/* A row ON CONFLICT skipped must be this very event. */
static int check_existing(PGconn *c, const uint8_t site[16],
                          const eaudit_event *ev) {
  eaudit__pgp p = {0};
  eaudit__pgp_bytes(&p, site, 16);
  eaudit__pgp_i64(&p, ev->v[EAUDIT_FIELD_SEQ]);
  eaudit__pgp_bytes(&p, ev->id, 16);
  eaudit__pgp_i64(&p, ev->v[EAUDIT_FIELD_OCCURRED_AT]);
  eaudit__pgp_bytes(&p, ev->hash, 32);
  PGresult *r = eaudit__pg_exec(
      c,
      "SELECT count(*) FROM eaudit.events WHERE origin = $1 AND seq = $2"
      " AND id = $3 AND occurred_at = $4 AND hash = $5",
      &p, "comparing an event already present");
  if (r == NULL)
    return eaudit_error_last()->code;
  int64_t n = eaudit__pg_i64(r, 0, 0);
  PQclear(r);
  if (n == 1)
    return EAUDIT_OK;
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, site, 16);
  return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                       "site %s: the central store already holds a different "
                       "event with seq %lld or its id; refused",
                       hex, (long long)ev->v[EAUDIT_FIELD_SEQ]);
}

/* Pipelined, EAUDIT__PG_PIPE_CHUNK inserts per round trip. */
static int insert_events(PGconn *c, const uint8_t site[16], site_batch *b,
                         int64_t *inserted) {
  eaudit__pgp p = {0};
  uint8_t dup[EAUDIT__PG_PIPE_CHUNK];
  for (size_t lo = 0; lo < b->n; lo += EAUDIT__PG_PIPE_CHUNK) {
    size_t hi =
        b->n - lo > EAUDIT__PG_PIPE_CHUNK ? lo + EAUDIT__PG_PIPE_CHUNK : b->n;
    if (PQenterPipelineMode(c) != 1)
      return eaudit__pg_error(c, NULL, "entering pipeline mode");
    for (size_t i = lo; i < hi; i++) {
      eaudit__pg_event_params(&p, site, &b->evs[i]);
      if (!PQsendQueryPrepared(c, "eaudit_ship_insert", p.n, p.v, p.len, p.fmt,
                               1)) {
        int rc = eaudit__pg_error(c, NULL, "sending an event");
        PQpipelineSync(c);
        return eaudit__pg_pipe_drain(c, rc);
      }
    }
    if (!PQpipelineSync(c))
      return eaudit__pg_pipe_drain(c,
                                   eaudit__pg_error(c, NULL, "sending a sync"));
    int rc = EAUDIT_OK;
    for (size_t i = lo; i < hi; i++) {
      PGresult *r = PQgetResult(c);
      if (r == NULL)
        return eaudit__pg_pipe_drain(
            c, eaudit__pg_error(c, NULL, "inserting an event"));
      if (rc == 0 && PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = eaudit__pg_error(c, r, "inserting an event");
      else if (rc == 0)
        dup[i - lo] = PQntuples(r) != 1;
      PQclear(r);
      /* Each query's results end with a NULL. */
      if ((r = PQgetResult(c)) != NULL) {
        PQclear(r);
        return eaudit__pg_pipe_drain(
            c, rc ? rc
                  : eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_STORE, 0,
                                  "central store: an insert "
                                  "returned more than one "
                                  "result"));
      }
    }
    rc = eaudit__pg_pipe_drain(c, rc);
    if (rc)
      return rc;
    for (size_t i = lo; i < hi; i++) {
      b->fresh[i] = !dup[i - lo];
      if (!dup[i - lo])
        (*inserted)++;
      else if ((rc = check_existing(c, site, &b->evs[i])))
        return rc;
    }
  }
  return EAUDIT_OK;
}

/* Months of the batch whose partitions were made sure of in this call. */
typedef struct month_cache {
  int64_t lo[8];
  int n, next;
} month_cache;

static int ensure_months(PGconn *c, month_cache *mc, const site_batch *b) {
  for (size_t i = 0; i < b->n; i++) {
    int64_t t = b->evs[i].v[EAUDIT_FIELD_OCCURRED_AT], lo, hi;
    int y, m, seen = 0;
    int rc = eaudit__pg_month_bounds(t, &lo, &hi, &y, &m);
    if (rc)
      return rc;
    for (int k = 0; k < mc->n && !seen; k++)
      seen = mc->lo[k] == lo;
    if (seen)
      continue;
    if ((rc = eaudit__pg_ensure_month(c, t)))
      return rc;
    mc->lo[mc->next] = lo;
    mc->next = (mc->next + 1) % 8;
    if (mc->n < 8)
      mc->n++;
  }
  return EAUDIT_OK;
}

/* One batch in one transaction. *again = 1 when another shipper moved the
 * cursor meanwhile (nothing done, read again). With rules (a handle of the
 * central store on connection c, or NULL), the events inserted are
 * evaluated in the same transaction, local days in the site's zone. */
static int ship_batch(PGconn *c, const uint8_t site[16], site_batch *b,
                      int had, int64_t seen_head, eaudit_store *rules,
                      const char *zone, int64_t *inserted, int *again) {
  *inserted = 0;
  *again = 0;
  int rc = eaudit__pg_command(c, "BEGIN", "starting a batch");
  if (rc)
    return rc;
  eaudit__pgp p = {0};
  eaudit__pgp_i32(&p, EAUDIT__PG_SITE_LOCK);
  eaudit__pgp_i32(&p, eaudit__pg_site_key(site));
  PGresult *r = eaudit__pg_exec(c, "SELECT pg_advisory_xact_lock($1, $2)", &p,
                                "locking the site");
  if (r == NULL)
    return rollback(c, eaudit_error_last()->code);
  PQclear(r);
  int found;
  int64_t base_seq, head_seq;
  uint8_t base_hash[32], head_hash[32];
  if ((rc = cursor_get(c, site, &found, &base_seq, base_hash, &head_seq,
                       head_hash, NULL)))
    return rollback(c, rc);
  if (found != had || (found && head_seq != seen_head)) {
    *again = 1;
    return rollback(c, EAUDIT_OK);
  }
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, site, 16);
  if (!found) {
    /* First contact: the central chain starts where the site's does now,
     * at its genesis or its retention anchor. */
    head_seq = b->anchor_seq;
    memcpy(head_hash, b->anchor_hash, 32);
    p.n = 0;
    eaudit__pgp_bytes(&p, site, 16);
    eaudit__pgp_i64(&p, head_seq);
    eaudit__pgp_bytes(&p, head_hash, 32);
    r = eaudit__pg_exec(c,
                        "INSERT INTO eaudit.sites(site_id, base_seq, "
                        "base_hash, head_seq, head_hash) VALUES ($1, $2, $3,"
                        " $2, $3)",
                        &p, "registering the site");
    if (r == NULL)
      return rollback(c, eaudit_error_last()->code);
    PQclear(r);
    /* A site that purged before its first contact starts at its own
     * retention anchor: record it, so that verification can tell this
     * base from one moved by hand. through_at 0: dropped on the site. */
    if (head_seq > 0) {
      r = eaudit__pg_exec(c,
                          "INSERT INTO eaudit.anchors(origin, seq, hash,"
                          " through_at) VALUES ($1, $2, $3, 0)"
                          " ON CONFLICT DO NOTHING",
                          &p, "recording the site's retention anchor");
      if (r == NULL)
        return rollback(c, eaudit_error_last()->code);
      PQclear(r);
    }
  } else if (b->anchor_seq > head_seq) {
    return rollback(
        c,
        eaudit__error(EAUDIT_ECURSOR, EAUDIT_ECLASS_STORE, 0,
                      "site %s purged events %lld..%lld before they were "
                      "shipped; the central chain cannot continue",
                      hex, (long long)head_seq + 1, (long long)b->anchor_seq));
  } else if (b->head_seq < head_seq) {
    return rollback(
        c, eaudit__error(EAUDIT_ECURSOR, EAUDIT_ECLASS_STORE, 0,
                         "site %s: the central store holds events up to seq "
                         "%lld but the site's newest is %lld (restored from "
                         "an old copy, or another store with the same id)",
                         hex, (long long)head_seq, (long long)b->head_seq));
  }
  if ((rc = check_chain(site, b, head_seq, head_hash)))
    return rollback(c, rc);
  if ((rc = insert_events(c, site, b, inserted)))
    return rollback(c, rc);
  if (b->n) {
    const eaudit_event *last = &b->evs[b->n - 1];
    p.n = 0;
    eaudit__pgp_bytes(&p, site, 16);
    eaudit__pgp_i64(&p, last->v[EAUDIT_FIELD_SEQ]);
    eaudit__pgp_bytes(&p, last->hash, 32);
    eaudit__pgp_i64(&p, *inserted);
    r = eaudit__pg_exec(c,
                        "UPDATE eaudit.sites SET head_seq = $2, head_hash = "
                        "$3, events = events + $4, last_shipped_at = now()"
                        " WHERE site_id = $1",
                        &p, "moving the site's cursor");
    if (r == NULL)
      return rollback(c, eaudit_error_last()->code);
    PQclear(r);
  }
  if (rules && *inserted &&
      (rc = eaudit__rules_ship_eval(rules, site, zone, b->evs, b->n,
                                    b->fresh)))
    return rollback(c, rc);
  rc = eaudit__pg_command(c, "COMMIT", "committing a batch");
  if (rc)
    *inserted = 0;
  return rc;
}

/* ---- names: the site's whole directory, synced on every ship ---- */

/* Text-format COPY escaping of one field. */
static int copy_field(eaudit__buf *b, const char *v) {
  for (const char *p = v; *p; p++) {
    const char *e = *p == '\\'   ? "\\\\"
                    : *p == '\n' ? "\\n"
                    : *p == '\r' ? "\\r"
                    : *p == '\t' ? "\\t"
                                 : NULL;
    if (e ? eaudit__buf_puts(b, e) : eaudit__buf_put(b, p, 1))
      return eaudit__enomem();
  }
  return EAUDIT_OK;
}

/* The site's names, folded, as COPY text rows. */
static int names_rows(eaudit_store *s, eaudit__buf *rows, int64_t *n) {
  *n = 0;
  eaudit__folder f;
  int rc = eaudit__fold_open(&f);
  if (rc)
    return rc;
  eaudit__buf words = {0};
  sqlite3_stmt *st = NULL;
  int src = sqlite3_prepare_v2(
      s->db, "SELECT kind, entity, valid_from, name FROM names", -1, &st, NULL);
  while (rc == 0 && st && (src = sqlite3_step(st)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(st, 3);
    if (name == NULL)
      name = "";
    rc = eaudit__fold_words(&f, name, &words, NULL);
    if (rc == 0 &&
        eaudit__buf_printf(rows, "%d\t%lld\t%lld\t", sqlite3_column_int(st, 0),
                           (long long)sqlite3_column_int64(st, 1),
                           (long long)sqlite3_column_int64(st, 2)))
      rc = eaudit__enomem();
    if (rc == 0)
      rc = copy_field(rows, name);
    if (rc == 0 && eaudit__buf_puts(rows, "\t"))
      rc = eaudit__enomem();
    if (rc == 0)
      rc = copy_field(rows, words.data);
    if (rc == 0 && eaudit__buf_puts(rows, "\n"))
      rc = eaudit__enomem();
    (*n)++;
  }
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__sqlite_error(s, src, "reading the names to ship");
  sqlite3_finalize(st);
  eaudit__buf_free(&words);
  eaudit__fold_close(&f);
  return rc;
}

/* Upsert the site's names keyed on (kind, entity, valid_from), then remove
 * the names this site shipped before and no longer holds (erased there),
 * in one transaction under the site's lock: idempotent, and a failure
 * leaves the previous state for the next ship to redo. */
static int ship_names(eaudit_store *s, PGconn *c) {
  eaudit__buf rows = {0};
  int64_t n;
  int rc = names_rows(s, &rows, &n);
  if (rc) {
    eaudit__buf_free(&rows);
    return rc;
  }
  rc = eaudit__pg_command(c, "BEGIN", "starting the names");
  eaudit__pgp p = {0};
  PGresult *r = NULL;
  if (rc == 0) {
    eaudit__pgp_i32(&p, EAUDIT__PG_SITE_LOCK);
    eaudit__pgp_i32(&p, eaudit__pg_site_key(s->store_id));
    r = eaudit__pg_exec(c, "SELECT pg_advisory_xact_lock($1, $2)", &p,
                        "locking the site");
    rc = r ? 0 : eaudit_error_last()->code;
    PQclear(r);
  }
  if (rc == 0)
    rc = eaudit__pg_command(
        c,
        "CREATE TEMP TABLE eaudit_ship_names(kind int, entity bigint,"
        " valid_from bigint, name text, words text) ON COMMIT DROP",
        "staging the names");
  if (rc == 0) {
    r = PQexec(c, "COPY eaudit_ship_names FROM STDIN");
    if (r == NULL || PQresultStatus(r) != PGRES_COPY_IN)
      rc = eaudit__pg_error(c, r, "sending the names");
    PQclear(r);
    if (rc == 0) {
      int ok = rows.len == 0 || PQputCopyData(c, rows.data, (int)rows.len) == 1;
      if (PQputCopyEnd(c, ok ? NULL : "not sent") != 1)
        ok = 0;
      while ((r = PQgetResult(c)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0)
          rc = eaudit__pg_error(c, r, "sending the names");
        PQclear(r);
      }
      if (!ok && rc == 0)
        rc = eaudit__pg_error(c, NULL, "sending the names");
    }
  }
  eaudit__buf_free(&rows);
  static const char *const sql[] = {
      "INSERT INTO eaudit.names(kind, entity, valid_from, name, words, "
      "origin) SELECT kind, entity, valid_from, name, words, $1 FROM "
      "eaudit_ship_names ON CONFLICT (kind, entity, valid_from) DO UPDATE "
      "SET name = excluded.name, words = excluded.words, origin = "
      "excluded.origin WHERE eaudit.names.name IS DISTINCT FROM "
      "excluded.name",
      "DELETE FROM eaudit.names n WHERE origin = $1 AND NOT EXISTS (SELECT "
      "1 FROM eaudit_ship_names t WHERE t.kind = n.kind AND t.entity = "
      "n.entity AND t.valid_from = n.valid_from)"};
  for (size_t i = 0; rc == 0 && i < 2; i++) {
    p.n = 0;
    eaudit__pgp_bytes(&p, s->store_id, 16);
    r = eaudit__pg_exec(c, sql[i], &p, "writing the names");
    rc = r ? 0 : eaudit_error_last()->code;
    PQclear(r);
  }
  if (rc == 0) /* vendor types, labels and user roles (pg_directory.c) */
    rc = eaudit__pg_ship_directory(s, c);
  if (rc == 0)
    return eaudit__pg_command(c, "COMMIT", "committing the names");
  return rollback(c, rc);
}

/* A handle of the central store when it holds a rule set of its own with
 * a rule enabled (docs/scale-out.md), else NULL: without one, shipping
 * costs this one query. */
static int rules_open(PGconn *c, const char *uri, eaudit_store *site,
                      eaudit_store **out) {
  *out = NULL;
  PGresult *r = eaudit__pg_exec(
      c,
      "SELECT EXISTS (SELECT 1 FROM eaudit.rule_meta m JOIN eaudit.sites t"
      " ON t.site_id = m.origin WHERE t.own AND m.key = 'rules_version')",
      NULL, "looking for the central store's rules");
  if (r == NULL)
    return eaudit_error_last()->code;
  int any = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 1;
  PQclear(r);
  if (!any)
    return EAUDIT_OK;
  /* The shipping handle's options (lateness, clock), read-write. */
  eaudit_options o = site->opts;
  o.time_zone = NULL;
  o.ints[EAUDIT_OPT_READ_ONLY] = 0;
  o.ints[EAUDIT_OPT_CREATE] = 0;
  eaudit_store *cs = NULL;
  int rc = eaudit_store_open(&cs, uri, &o);
  int on = 0;
  if (rc == 0)
    rc = eaudit__rules_ship_ready(cs, &on);
  if (rc || !on) {
    eaudit_store_free(cs);
    return rc;
  }
  *out = cs;
  return EAUDIT_OK;
}

int eaudit_store_ship(eaudit_store *s, const char *central_uri,
                      size_t batch_size, int64_t *shipped) {
  if (shipped)
    *shipped = 0;
  EAUDIT__CHECK_STORE(s);
  if (central_uri == NULL)
    return eaudit__einval("central store URI must not be NULL");
  if (batch_size == 0)
    batch_size = EAUDIT_SHIP_BATCH_DEFAULT;
  if (batch_size > SHIP_BATCH_MAX)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "batch size %zu is above %d", batch_size,
                         SHIP_BATCH_MAX);
  if (s->in_txn)
    return eaudit__error(EAUDIT_EMISUSE, EAUDIT_ECLASS_INVALID, 0,
                         "cannot ship from inside a store transaction or "
                         "callback");
  PGconn *c = NULL;
  int rc = eaudit__pg_connect(central_uri, &c);
  if (rc)
    return rc;
  site_batch b = {0};
  month_cache mc = {{0}, 0, 0};
  int64_t total = 0;
  eaudit_store *rules = NULL;
  if ((rc = eaudit__pg_schema_open(c, 1)))
    goto out;
  /* Under the central store's rule set, through a handle of it whose
   * connection then carries the batches. */
  if ((rc = rules_open(c, central_uri, s, &rules)))
    goto out;
  if (rules) {
    PQfinish(c);
    c = ((eaudit__pgstore *)rules->pg)->conn;
  }
  static const Oid types[16] = {
      EAUDIT__OID_BYTEA, EAUDIT__OID_INT8, EAUDIT__OID_BYTEA,
      EAUDIT__OID_INT8,  EAUDIT__OID_INT8, EAUDIT__OID_INT4,
      EAUDIT__OID_INT8,  EAUDIT__OID_INT8, EAUDIT__OID_INT8,
      EAUDIT__OID_INT8,  EAUDIT__OID_INT8, EAUDIT__OID_INT8,
      EAUDIT__OID_INT4,  EAUDIT__OID_INT4, EAUDIT__OID_BYTEA,
      EAUDIT__OID_BYTEA};
  PGresult *r = PQprepare(c, "eaudit_ship_insert", insert_sql, 16, types);
  if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
    rc = eaudit__pg_error(c, r, "preparing the insert");
    PQclear(r);
    goto out;
  }
  PQclear(r);
  for (;;) {
    int found;
    int64_t base_seq = 0, head_seq = 0, inserted;
    uint8_t base_hash[32], head_hash[32];
    if ((rc = cursor_get(c, s->store_id, &found, &base_seq, base_hash,
                         &head_seq, head_hash, NULL)))
      break;
    /* Before the first contact the anchor is only known with the events,
     * so read from the anchor of this snapshot. */
    if (!found) {
      if ((rc = site_read(s, 0, 1, &b)))
        break;
      head_seq = b.anchor_seq;
    }
    if ((rc = site_read(s, head_seq, batch_size, &b)))
      break;
    if (!found && b.anchor_seq != head_seq)
      continue; /* a purge moved the anchor between the two reads */
    if (found && b.n == 0 && b.anchor_seq <= head_seq && b.head_seq >= head_seq)
      break; /* up to date */
    if ((rc = ensure_months(c, &mc, &b)))
      break;
    int again;
    rc = ship_batch(c, s->store_id, &b, found, head_seq, rules, s->tz_name,
                    &inserted, &again);
    if (rc)
      break;
    total += inserted;
    if (shipped)
      *shipped = total;
    if (!again && b.n < batch_size)
      break;
  }
  if (rc == 0)
    rc = eaudit__pg_ship_checkpoints(s, c);
  if (rc == 0)
    rc = ship_names(s, c);
out:
  if (rc == 0 && total)
    eaudit__log(EAUDIT_LOG_INFO, "shipped %lld events", (long long)total);
  batch_release(&b);
  if (rules)
    eaudit_store_free(rules);
  else
    PQfinish(c);
  return rc;
}

int eaudit_central_init(const char *central_uri) {
  PGconn *c = NULL;
  int rc = eaudit__pg_connect(central_uri, &c);
  if (rc == 0)
    rc = eaudit__pg_schema_open(c, 1);
  PQfinish(c);
  return rc;
}

/* ---- verification ---- */

int eaudit__pg_row_event(const PGresult *r, int row, eaudit_event *ev) {
  ev->present = 0;
  ev->has_id = ev->has_hash = 0;
  ev->details_len = 0;
  memset(ev->v, 0, sizeof ev->v);
  eaudit__event_put(ev, EAUDIT_FIELD_SEQ, eaudit__pg_i64(r, row, 0));
  if (PQgetlength(r, row, 1) == 16) {
    memcpy(ev->id, PQgetvalue(r, row, 1), 16);
    ev->has_id = 1;
  }
  eaudit__event_put(ev, EAUDIT_FIELD_OCCURRED_AT, eaudit__pg_i64(r, row, 2));
  eaudit__event_put(ev, EAUDIT_FIELD_RECORDED_AT, eaudit__pg_i64(r, row, 3));
  eaudit__event_put(ev, EAUDIT_FIELD_TYPE, eaudit__pg_i32(r, row, 4));
  for (int i = 0; i < 6; i++)
    if (!PQgetisnull(r, row, 5 + i))
      eaudit__event_put(ev, id_fields[i], eaudit__pg_i64(r, row, 5 + i));
  int32_t cred = eaudit__pg_i32(r, row, 11),
          reason = eaudit__pg_i32(r, row, 12);
  if (cred)
    eaudit__event_put(ev, EAUDIT_FIELD_CREDENTIAL, cred);
  if (reason)
    eaudit__event_put(ev, EAUDIT_FIELD_REASON, reason);
  if (!PQgetisnull(r, row, 13) && PQgetlength(r, row, 13) > 0 &&
      eaudit__event_put_details(ev, PQgetvalue(r, row, 13),
                                (size_t)PQgetlength(r, row, 13)))
    return eaudit__enomem();
  if (PQgetlength(r, row, 14) == 32) {
    memcpy(ev->hash, PQgetvalue(r, row, 14), 32);
    ev->has_hash = 1;
  }
  return EAUDIT_OK;
}

/* Check one row against the walk so far. */
static int walk_row(eaudit__pg_walk *w, const char *hex,
                    const eaudit_event *ev) {
  int64_t seq = ev->v[EAUDIT_FIELD_SEQ];
  int64_t at = ev->v[EAUDIT_FIELD_OCCURRED_AT];
  uint8_t h[32];
  int rc = EAUDIT_OK;
  if (seq <= w->from_seq || seq > w->to_seq) {
    w->damage = EAUDIT_DAMAGE_INSERTED;
    w->bad_seq = seq;
  } else if (seq != w->last_seq + 1) {
    w->damage = EAUDIT_DAMAGE_DELETED;
    w->bad_seq = w->last_seq + 1;
  } else {
    w->damage = EAUDIT_DAMAGE_MODIFIED;
    w->bad_seq = seq;
  }
  if (seq <= w->from_seq)
    return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                         "site %s: event seq %lld lies at or before the "
                         "chain's base (seq %lld): inserted",
                         hex, (long long)seq, (long long)w->from_seq);
  if (seq > w->to_seq)
    return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                         "site %s: event seq %lld lies after the shipped "
                         "head (seq %lld): inserted",
                         hex, (long long)seq, (long long)w->to_seq);
  if (seq != w->last_seq + 1)
    return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                         "site %s: event seq %lld is missing: deleted", hex,
                         (long long)w->last_seq + 1);
  if (!ev->has_id || !ev->has_hash ||
      (rc = eaudit__chain_link(ev, w->last_hash, h)) != 0 ||
      memcmp(h, ev->hash, 32) != 0)
    return rc ? rc
              : eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                              "site %s: event seq %lld does not match its "
                              "chain link: modified",
                              hex, (long long)seq);
  w->damage = EAUDIT_DAMAGE_NONE;
  w->bad_seq = 0;
  memcpy(w->last_hash, h, 32);
  w->last_seq = seq;
  w->n++;
  if (at >= w->in_lo && at < w->in_hi)
    w->n_in++;
  return EAUDIT_OK;
}

/* Rows are read in pages by seq (keyset): one result per page costs far
 * less than a result per row in single-row mode. */
#define WALK_PAGE 10000

int eaudit__pg_walk_chain(PGconn *c, const uint8_t origin[16],
                          eaudit__pg_walk *w) {
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, origin, 16);
  memcpy(w->last_hash, w->from_hash, 32);
  w->last_seq = w->from_seq;
  w->n = w->n_in = 0;
  w->damage = EAUDIT_DAMAGE_NONE;
  w->bad_seq = 0;
  eaudit_event ev;
  memset(&ev, 0, sizeof ev);
  int rc = EAUDIT_OK, first = 1;
  for (;;) {
    eaudit__pgp p = {0};
    eaudit__pgp_bytes(&p, origin, 16);
    const char *sql;
    if (w->whole && first) {
      /* The first page of a whole walk has no lower bound: rows at or
       * before the base are damage. */
      sql = "SELECT seq, id, occurred_at, recorded_at, type, subject,"
            " actor, door, grp, device, site, credential, reason, details,"
            " hash FROM eaudit.events WHERE origin = $1 ORDER BY seq"
            " LIMIT $2";
    } else if (w->whole) {
      sql = "SELECT seq, id, occurred_at, recorded_at, type, subject,"
            " actor, door, grp, device, site, credential, reason, details,"
            " hash FROM eaudit.events WHERE origin = $1 AND seq > $2"
            " ORDER BY seq LIMIT $3";
      eaudit__pgp_i64(&p, w->last_seq);
    } else {
      sql = "SELECT seq, id, occurred_at, recorded_at, type, subject,"
            " actor, door, grp, device, site, credential, reason, details,"
            " hash FROM eaudit.events WHERE origin = $1 AND seq > $2"
            " AND seq <= $3 ORDER BY seq LIMIT $4";
      eaudit__pgp_i64(&p, w->last_seq);
      eaudit__pgp_i64(&p, w->to_seq);
    }
    eaudit__pgp_i64(&p, WALK_PAGE);
    first = 0;
    PGresult *r = eaudit__pg_exec(c, sql, &p, "reading the site's events");
    if (r == NULL) {
      rc = eaudit_error_last()->code;
      break;
    }
    int rows = PQntuples(r);
    for (int i = 0; rc == 0 && i < rows; i++)
      if ((rc = eaudit__pg_row_event(r, i, &ev)) == 0)
        rc = walk_row(w, hex, &ev);
    PQclear(r);
    if (rc || rows < WALK_PAGE)
      break;
  }
  eaudit__event_release(&ev);
  if (rc != EAUDIT_ETAMPER) {
    w->damage = EAUDIT_DAMAGE_NONE;
    w->bad_seq = 0;
  }
  return rc;
}

/* The base of a chain must be where it starts: the genesis link at seq 0,
 * else the newest retention anchor recorded for the origin (by a central
 * purge, or by shipping when the site had purged before its first
 * contact). */
int eaudit__pg_check_base(PGconn *c, const uint8_t site[16], const char *hex,
                          int64_t base_seq, const uint8_t base_hash[32]) {
  eaudit__pgp p = {0};
  eaudit__pgp_bytes(&p, site, 16);
  PGresult *r =
      eaudit__pg_exec(c,
                      "SELECT seq, hash FROM eaudit.anchors WHERE origin = $1"
                      " ORDER BY seq DESC LIMIT 1",
                      &p, "reading the site's retention anchor");
  if (r == NULL)
    return eaudit_error_last()->code;
  int found = PQntuples(r) == 1;
  int64_t aseq = found ? eaudit__pg_i64(r, 0, 0) : 0;
  int same = found && aseq == base_seq && PQgetlength(r, 0, 1) == 32 &&
             memcmp(PQgetvalue(r, 0, 1), base_hash, 32) == 0;
  PQclear(r);
  if (found && !same)
    return eaudit__error(
        EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
        "site %s: the chain's base (seq %lld) is not its newest retention "
        "anchor (seq %lld): the base or the anchor was modified",
        hex, (long long)base_seq, (long long)aseq);
  if (!found && base_seq != 0)
    return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                         "site %s: the chain's base (seq %lld) has no "
                         "retention anchor: the base was moved or the anchor "
                         "deleted",
                         hex, (long long)base_seq);
  if (base_seq == 0) {
    uint8_t genesis[32];
    eaudit__chain_genesis(site, genesis);
    if (memcmp(base_hash, genesis, 32) != 0)
      return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                           "site %s: the chain's base is not the site's "
                           "genesis link",
                           hex);
  }
  return EAUDIT_OK;
}

int eaudit__pg_verify_rows(PGconn *c, const uint8_t site[16], int64_t base_seq,
                           const uint8_t base_hash[32], int64_t head_seq,
                           const uint8_t head_hash[32], int64_t *checked,
                           int *damage, int64_t *bad_seq) {
  *checked = 0;
  *damage = EAUDIT_DAMAGE_NONE;
  *bad_seq = 0;
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, site, 16);
  int rc = eaudit__pg_check_base(c, site, hex, base_seq, base_hash);
  if (rc) {
    if (rc == EAUDIT_ETAMPER) {
      *damage = EAUDIT_DAMAGE_MODIFIED;
      *bad_seq = base_seq > 0 ? base_seq : 1;
    }
    return rc;
  }
  eaudit__pg_walk w;
  memset(&w, 0, sizeof w);
  w.from_seq = base_seq;
  memcpy(w.from_hash, base_hash, 32);
  w.to_seq = head_seq;
  w.whole = 1;
  rc = eaudit__pg_walk_chain(c, site, &w);
  *checked = w.n;
  if (rc) {
    *damage = w.damage;
    *bad_seq = w.bad_seq;
    return rc;
  }
  if (w.last_seq != head_seq) {
    *damage = EAUDIT_DAMAGE_TRUNCATED;
    *bad_seq = w.last_seq + 1;
    return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                         "site %s: events %lld..%lld are missing: deleted "
                         "or truncated",
                         hex, (long long)w.last_seq + 1, (long long)head_seq);
  }
  if (memcmp(w.last_hash, head_hash, 32) != 0) {
    *damage = EAUDIT_DAMAGE_MODIFIED;
    *bad_seq = head_seq;
    return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                         "site %s: the chain ends on a hash that is not the "
                         "shipped head's (seq %lld)",
                         hex, (long long)head_seq);
  }
  return EAUDIT_OK;
}

int eaudit__pg_verify_origin(PGconn *c, const uint8_t origin[16],
                             int64_t *checked) {
  *checked = 0;
  int found;
  int64_t base_seq = 0, head_seq = 0, events = 0;
  uint8_t base_hash[32], head_hash[32];
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, origin, 16);
  int rc = cursor_get(c, origin, &found, &base_seq, base_hash, &head_seq,
                      head_hash, &events);
  if (rc)
    return rc;
  if (!found)
    return eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_STORE, 0,
                         "site %s never shipped to this central store", hex);
  int64_t n = 0, bad;
  int damage;
  if ((rc = eaudit__pg_verify_rows(c, origin, base_seq, base_hash, head_seq,
                                   head_hash, &n, &damage, &bad)))
    return rc;
  if (n != events)
    return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                         "site %s: %lld events verify but the site's record "
                         "counts %lld",
                         hex, (long long)n, (long long)events);
  *checked = n;
  return EAUDIT_OK;
}

int eaudit_central_verify_site(const char *central_uri,
                               const uint8_t site_id[16], int64_t *out) {
  if (out)
    *out = 0;
  if (site_id == NULL)
    return eaudit__einval("site id must not be NULL");
  PGconn *c = NULL;
  int rc = eaudit__pg_connect(central_uri, &c);
  if (rc)
    return rc;
  if ((rc = eaudit__pg_schema_open(c, 0)))
    goto out;
  /* One snapshot for the cursor, the anchor and the events. The lock on
   * eaudit.events comes first, before the snapshot: a retention drop
   * (which detaches a partition under an ACCESS EXCLUSIVE lock) then
   * either committed before the snapshot, base and partition together, or
   * waits for the verification to end. Without it the snapshot could see
   * the old base while the partition is already gone. */
  if ((rc = eaudit__pg_command(c,
                               "BEGIN ISOLATION LEVEL REPEATABLE READ "
                               "READ ONLY",
                               "starting the verification")))
    goto out;
  if ((rc = eaudit__pg_command(c,
                               "LOCK TABLE eaudit.events IN ACCESS SHARE MODE",
                               "locking the events")))
    goto out;
  int64_t checked = 0;
  rc = eaudit__pg_verify_origin(c, site_id, &checked);
  if (rc == 0 && out)
    *out = checked;
out:
  PQfinish(c);
  return rc;
}

#else /* !EAUDIT_HAVE_LIBPQ */

static int unsupported(void) {
  return eaudit__error(EAUDIT_EUNSUPPORTED, EAUDIT_ECLASS_INVALID, 0,
                       "this build of the library has no PostgreSQL support "
                       "(built with EAUDIT_WITH_POSTGRESQL=OFF or without "
                       "libpq)");
}

int eaudit_central_init(const char *central_uri) {
  (void)central_uri;
  return unsupported();
}

int eaudit_store_ship(eaudit_store *s, const char *central_uri,
                      size_t batch_size, int64_t *shipped) {
  (void)s;
  (void)central_uri;
  (void)batch_size;
  if (shipped)
    *shipped = 0;
  return unsupported();
}

int eaudit_central_verify_site(const char *central_uri,
                               const uint8_t site_id[16], int64_t *out) {
  (void)central_uri;
  (void)site_id;
  if (out)
    *out = 0;
  return unsupported();
}

#endif
