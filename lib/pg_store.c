/* The PostgreSQL backend of a store handle: eaudit_store_open on a
 * postgresql:// URI opens the central store itself. Direct appends go to
 * the central store's own chain (the eaudit.sites row marked own), under
 * the same per-origin advisory lock shipping takes, so that handles and
 * shippers append side by side without breaking a chain. See
 * docs/scale-out.md. */
#include "pg_store.h"

#ifdef EAUDIT_HAVE_LIBPQ

#include "chain.h"
#include "pg_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PGS(s) ((eaudit__pgstore *)(s)->pg)

static int rollback(PGconn *c, int rc) {
  PQclear(PQexec(c, "ROLLBACK"));
  return rc;
}

/* Settings of a handle's session, applied after each (re)connection. */
static int session_setup(eaudit_store *s) {
  if (!s->read_only)
    return EAUDIT_OK;
  /* A read-only handle's transactions are read-only on the server too. */
  return eaudit__pg_command(PGS(s)->conn,
                            "SET default_transaction_read_only = on",
                            "making the session read-only");
}

/* A connection the server dropped (restart, idle timeout, network cut)
 * is reset once before the next call; its prepared statements are gone. */
static int ready(eaudit_store *s) {
  eaudit__pgstore *p = PGS(s);
  if (PQstatus(p->conn) == CONNECTION_OK)
    return EAUDIT_OK;
  PQreset(p->conn);
  p->prepared = 0;
  if (PQstatus(p->conn) != CONNECTION_OK)
    return eaudit__pg_error(p->conn, NULL, "reconnecting");
  PQsetClientEncoding(p->conn, "UTF8");
  return session_setup(s);
}

/* The own chain's id, found = 0 when the database has none. */
static int own_get(PGconn *c, int *found, uint8_t id[16]) {
  PGresult *r = eaudit__pg_exec(c, "SELECT site_id FROM eaudit.sites WHERE own",
                                NULL, "reading the store's own chain");
  if (r == NULL)
    return eaudit_error_last()->code;
  int rc = EAUDIT_OK;
  *found = PQntuples(r) == 1;
  if (*found && PQgetlength(r, 0, 0) != 16)
    rc = eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                       "central store: the own chain's id is damaged");
  else if (*found)
    memcpy(id, PQgetvalue(r, 0, 0), 16);
  PQclear(r);
  return rc;
}

/* A text setting; *out NULL when absent. */
static int setting_get(PGconn *c, const char *key, char **out) {
  *out = NULL;
  eaudit__pgp p = {0};
  eaudit__pgp_text(&p, key);
  PGresult *r =
      eaudit__pg_exec(c, "SELECT value FROM eaudit.settings WHERE key = $1", &p,
                      "reading a setting");
  if (r == NULL)
    return eaudit_error_last()->code;
  int rc = EAUDIT_OK;
  if (PQntuples(r) == 1) {
    size_t n = (size_t)PQgetlength(r, 0, 0);
    *out = eaudit__malloc(n + 1);
    if (*out == NULL)
      rc = eaudit__enomem();
    else {
      memcpy(*out, PQgetvalue(r, 0, 0), n);
      (*out)[n] = '\0';
    }
  }
  PQclear(r);
  return rc;
}

/* Find or create the own chain and the time zone setting, in one
 * transaction. Two handles opening a new database at once both try the
 * insert; the unique index on own lets one row in and the other's
 * ON CONFLICT does nothing, after waiting for the first to commit. */
static int identity_create(eaudit_store *s, const char *zone) {
  PGconn *c = PGS(s)->conn;
  int rc = eaudit__pg_command(c, "BEGIN", "starting the store's setup");
  if (rc)
    return rc;
  int found = 0;
  uint8_t id[16], genesis[32];
  if ((rc = own_get(c, &found, id)))
    return rollback(c, rc);
  if (!found) {
    if ((rc = eaudit__uuid_v7(s, eaudit_store_now(s), id)))
      return rollback(c, rc);
    eaudit__chain_genesis(id, genesis);
    eaudit__pgp p = {0};
    eaudit__pgp_bytes(&p, id, 16);
    eaudit__pgp_bytes(&p, genesis, 32);
    PGresult *r = eaudit__pg_exec(
        c,
        "INSERT INTO eaudit.sites(site_id, base_seq, base_hash, head_seq,"
        " head_hash, own) VALUES ($1, 0, $2, 0, $2, true)"
        " ON CONFLICT DO NOTHING",
        &p, "creating the store's own chain");
    if (r == NULL)
      return rollback(c, eaudit_error_last()->code);
    PQclear(r);
    if ((rc = own_get(c, &found, id)))
      return rollback(c, rc);
    if (!found)
      return rollback(c, eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                                       "central store: the own chain could "
                                       "not be created (its id is taken by "
                                       "a site)"));
  }
  eaudit__pgp p = {0};
  eaudit__pgp_text(&p, zone);
  PGresult *r = eaudit__pg_exec(
      c,
      "INSERT INTO eaudit.settings(key, value) VALUES ('time_zone', $1)"
      " ON CONFLICT DO NOTHING",
      &p, "recording the time zone");
  if (r == NULL)
    return rollback(c, eaudit_error_last()->code);
  PQclear(r);
  if ((rc = eaudit__pg_command(c, "COMMIT", "committing the store's setup")))
    return rc;
  memcpy(PGS(s)->origin, id, 16);
  PGS(s)->has_own = 1;
  return EAUDIT_OK;
}

/* Switch the handle to zone, unless it is already there. */
static int zone_use(eaudit_store *s, char *zone) {
  if (s->tz_name && strcmp(s->tz_name, zone) == 0) {
    eaudit__free(zone);
    return EAUDIT_OK;
  }
  eaudit__tz *tz = NULL;
  int rc = eaudit__tz_open(&tz, zone);
  if (rc) {
    eaudit__free(zone);
    return rc;
  }
  eaudit__tz_free(s->tz);
  eaudit__free(s->tz_name);
  s->tz = tz;
  s->tz_name = zone;
  return EAUDIT_OK;
}

int eaudit__pg_store_open(eaudit_store *s, const char *uri, const char *zone) {
  eaudit__pgstore *p = eaudit__calloc(1, sizeof *p);
  if (p == NULL)
    return eaudit__enomem();
  s->pg = p;
  int rc = eaudit__pg_connect(uri, &p->conn);
  if (rc)
    return rc;
  /* Read-only first: a read-only handle does not migrate the schema. */
  if ((rc = session_setup(s)))
    return rc;
  int create = (int)s->opts.ints[EAUDIT_OPT_CREATE] && !s->read_only;
  if ((rc = eaudit__pg_schema_open(p->conn, create)))
    return rc;
  if (s->read_only) {
    if ((rc = own_get(p->conn, &p->has_own, p->origin)))
      return rc;
  } else if ((rc = identity_create(s, zone))) {
    return rc;
  }
  memcpy(s->store_id, p->origin, 16);
  char *stored = NULL;
  if ((rc = setting_get(p->conn, "time_zone", &stored)))
    return rc;
  if (stored == NULL && (stored = eaudit__strdup(zone)) == NULL)
    return eaudit__enomem();
  return zone_use(s, stored);
}

void eaudit__pg_store_free(eaudit_store *s) {
  eaudit__pgstore *p = PGS(s);
  if (p == NULL)
    return;
  /* PQfinish would end the parent's session on the shared socket. */
  if (p->conn && eaudit__store_same_process(s))
    PQfinish(p->conn);
  eaudit__free(p);
  s->pg = NULL;
}

int eaudit__pg_store_last_seq(eaudit_store *s, int64_t *out) {
  eaudit__pgstore *p = PGS(s);
  *out = 0;
  int rc = ready(s);
  if (rc || !p->has_own)
    return rc;
  eaudit__pgp q = {0};
  eaudit__pgp_bytes(&q, p->origin, 16);
  PGresult *r = eaudit__pg_exec(
      p->conn, "SELECT head_seq FROM eaudit.sites WHERE site_id = $1", &q,
      "reading the chain head");
  if (r == NULL)
    return eaudit_error_last()->code;
  if (PQntuples(r) != 1)
    rc = eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                       "central store: the own chain's head is missing");
  else
    *out = eaudit__pg_i64(r, 0, 0);
  PQclear(r);
  return rc;
}

int eaudit__pg_store_event_count(eaudit_store *s, int64_t *out) {
  *out = 0;
  int rc = ready(s);
  if (rc)
    return rc;
  PGresult *r =
      eaudit__pg_exec(PGS(s)->conn, "SELECT count(*) FROM eaudit.events", NULL,
                      "counting events");
  if (r == NULL)
    return eaudit_error_last()->code;
  *out = eaudit__pg_i64(r, 0, 0);
  PQclear(r);
  return EAUDIT_OK;
}

int eaudit__pg_store_set_time_zone(eaudit_store *s, const char *zone) {
  int rc = eaudit__write_guard(s);
  if (rc)
    return rc;
  eaudit__tz *tz = NULL;
  rc = eaudit__tz_open(&tz, zone);
  if (rc)
    return rc;
  eaudit__tz_free(tz);
  char *name = eaudit__strdup(zone);
  if (name == NULL)
    return eaudit__enomem();
  if ((rc = ready(s))) {
    eaudit__free(name);
    return rc;
  }
  eaudit__pgp p = {0};
  eaudit__pgp_text(&p, zone);
  PGresult *r = eaudit__pg_exec(
      PGS(s)->conn,
      "INSERT INTO eaudit.settings(key, value) VALUES ('time_zone', $1)"
      " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      &p, "recording the time zone");
  if (r == NULL) {
    eaudit__free(name);
    return eaudit_error_last()->code;
  }
  PQclear(r);
  return zone_use(s, name);
}

/* ---- appending ---- */

/* The same columns and search text as shipping (pg_ship.c). */
static const char insert_sql[] =
    "INSERT INTO eaudit.events(origin, seq, id, occurred_at, recorded_at,"
    " type, subject, actor, door, grp, device, site, credential, reason,"
    " details, hash, search) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
    " $10, $11, $12, $13, $14, $15, $16,"
    " to_tsvector('simple'::regconfig, convert_from($15, 'UTF8')))";

/* An id is unique per origin whatever the event's time; the table's
 * unique constraint holds occurred_at (the partition key), so a caller's
 * own id is looked up first. */
static const char id_taken_sql[] =
    "SELECT 1 FROM eaudit.events WHERE origin = $1 AND id = $2 LIMIT 1";

static int prepare_one(PGconn *c, const char *name, const char *sql, int n,
                       const Oid *types) {
  PGresult *r = PQprepare(c, name, sql, n, types);
  int rc = EAUDIT_OK;
  if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK)
    rc = eaudit__pg_error(c, r, "preparing a statement");
  PQclear(r);
  return rc;
}

static int prepare_all(eaudit__pgstore *p) {
  if (p->prepared)
    return EAUDIT_OK;
  static const Oid types[16] = {
      EAUDIT__OID_BYTEA, EAUDIT__OID_INT8, EAUDIT__OID_BYTEA,
      EAUDIT__OID_INT8,  EAUDIT__OID_INT8, EAUDIT__OID_INT4,
      EAUDIT__OID_INT8,  EAUDIT__OID_INT8, EAUDIT__OID_INT8,
      EAUDIT__OID_INT8,  EAUDIT__OID_INT8, EAUDIT__OID_INT8,
      EAUDIT__OID_INT4,  EAUDIT__OID_INT4, EAUDIT__OID_BYTEA,
      EAUDIT__OID_BYTEA};
  static const Oid id_types[2] = {EAUDIT__OID_BYTEA, EAUDIT__OID_BYTEA};
  int rc = prepare_one(p->conn, "eaudit_store_insert", insert_sql, 16, types);
  if (rc == 0)
    rc = prepare_one(p->conn, "eaudit_store_id_taken", id_taken_sql, 2,
                     id_types);
  if (rc == 0)
    p->prepared = 1;
  return rc;
}

/* Make sure of the partitions of the events' months (each in its own
 * short transaction, like shipping, so that no append holds the partition
 * lock while it waits for its origin's). */
static int ensure_months(eaudit__pgstore *p, eaudit_event *const *evs, size_t n,
                         size_t *failed) {
  for (size_t i = 0; i < n; i++) {
    int64_t t = evs[i]->v[EAUDIT_FIELD_OCCURRED_AT], lo, hi;
    int y, m, seen = 0;
    int rc = eaudit__pg_month_bounds(t, &lo, &hi, &y, &m);
    for (int k = 0; rc == 0 && k < p->n_months && !seen; k++)
      seen = p->months[k] == lo;
    if (rc == 0 && !seen && (rc = eaudit__pg_ensure_month(p->conn, t)) == 0) {
      p->months[p->next_month] = lo;
      p->next_month = (p->next_month + 1) % 8;
      if (p->n_months < 8)
        p->n_months++;
    }
    if (rc) {
      *failed = i;
      return rc;
    }
  }
  return EAUDIT_OK;
}


static int id_exists_error(const eaudit_event *ev) {
  char id[EAUDIT_UUID_STRLEN + 1];
  eaudit_uuid_format(ev->id, id);
  return eaudit__error(EAUDIT_EEXISTS, EAUDIT_ECLASS_INVALID, 0,
                       "an event with id %s is already stored", id);
}

/* Whether the caller's own id of ev is stored already. */
static int id_taken(eaudit__pgstore *p, const eaudit_event *ev, int *out) {
  *out = 0;
  if (!ev->has_id || ev->id_assigned)
    return EAUDIT_OK;
  eaudit__pgp q = {0};
  eaudit__pgp_bytes(&q, p->origin, 16);
  eaudit__pgp_bytes(&q, ev->id, 16);
  PGresult *r = eaudit__pg_exec_prepared(p->conn, "eaudit_store_id_taken", &q,
                                         "looking up an event id");
  if (r == NULL)
    return eaudit_error_last()->code;
  *out = PQntuples(r) > 0;
  PQclear(r);
  return EAUDIT_OK;
}

/* The error of a refused insert: a stored id (the unique constraint) is
 * EAUDIT_EEXISTS; 23514 (no partition for the row: dropped by retention
 * since this handle made sure of it) asks for one more try. */
static int insert_error(eaudit__pgstore *p, const PGresult *r,
                        const eaudit_event *ev, int *no_partition) {
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  if (state && strcmp(state, "23505") == 0)
    return id_exists_error(ev);
  *no_partition = state && strcmp(state, "23514") == 0;
  return eaudit__pg_error(p->conn, r, "inserting an event");
}

/* Insert evs[idx[0..k)], pipelined as shipping does (EAUDIT__PG_PIPE_CHUNK
 * per round trip); on failure *failed is the failing event's index in
 * evs. */
static int insert_events(eaudit__pgstore *p, eaudit_event *const *evs,
                         const size_t *idx, size_t k, size_t *failed,
                         int *no_partition) {
  PGconn *c = p->conn;
  eaudit__pgp q = {0};
  for (size_t lo = 0; lo < k; lo += EAUDIT__PG_PIPE_CHUNK) {
    size_t hi = k - lo > EAUDIT__PG_PIPE_CHUNK ? lo + EAUDIT__PG_PIPE_CHUNK : k;
    if (PQenterPipelineMode(c) != 1)
      return eaudit__pg_error(c, NULL, "entering pipeline mode");
    for (size_t i = lo; i < hi; i++) {
      eaudit__pg_event_params(&q, p->origin, evs[idx[i]]);
      if (!PQsendQueryPrepared(c, "eaudit_store_insert", q.n, q.v, q.len, q.fmt,
                               1)) {
        *failed = idx[i];
        int rc = eaudit__pg_error(c, NULL, "sending an event");
        PQpipelineSync(c);
        return eaudit__pg_pipe_drain(c, rc);
      }
    }
    if (!PQpipelineSync(c))
      return eaudit__pg_pipe_drain(c, eaudit__pg_error(c, NULL, "sending a sync"));
    int rc = EAUDIT_OK;
    for (size_t i = lo; i < hi; i++) {
      PGresult *r = PQgetResult(c);
      if (r == NULL)
        return eaudit__pg_pipe_drain(
            c, rc ? rc : eaudit__pg_error(c, NULL, "inserting an event"));
      if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK) {
        *failed = idx[i];
        rc = insert_error(p, r, evs[idx[i]], no_partition);
      }
      PQclear(r);
      /* Each query's results end with a NULL. */
      if ((r = PQgetResult(c)) != NULL) {
        PQclear(r);
        return eaudit__pg_pipe_drain(c,
                          rc ? rc
                             : eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_STORE, 0,
                                             "central store: an insert "
                                             "returned more than one "
                                             "result"));
      }
    }
    if ((rc = eaudit__pg_pipe_drain(c, rc)))
      return rc;
  }
  return EAUDIT_OK;
}

/* Caller-set ids repeated within one call: dup[i] = 1 for each event whose
 * id an earlier event of the call carries. */
typedef struct id_ref {
  const uint8_t *id;
  size_t i;
} id_ref;

static int id_ref_cmp(const void *a, const void *b) {
  const id_ref *x = a, *y = b;
  int c = memcmp(x->id, y->id, 16);
  return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int mark_repeated_ids(eaudit_event *const *evs, size_t n, uint8_t *dup) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += evs[i]->has_id && !evs[i]->id_assigned;
  if (k < 2)
    return EAUDIT_OK;
  id_ref *refs = eaudit__malloc(k * sizeof *refs);
  if (refs == NULL)
    return eaudit__enomem();
  k = 0;
  for (size_t i = 0; i < n; i++)
    if (evs[i]->has_id && !evs[i]->id_assigned)
      refs[k++] = (id_ref){evs[i]->id, i};
  qsort(refs, k, sizeof *refs, id_ref_cmp);
  for (size_t j = 1; j < k; j++)
    if (memcmp(refs[j].id, refs[j - 1].id, 16) == 0)
      dup[refs[j].i] = 1;
  eaudit__free(refs);
  return EAUDIT_OK;
}

/* A module's writes inside an append transaction (eaudit__pg_store_append_with). */
typedef struct append_hook {
  int (*fn)(eaudit_store *s, void *payload, size_t *n);
  void *payload;
} append_hook;

/* BEGIN, then a module's writes (a hook, which may leave fewer events in
 * *n_io), then, unless no event is left to append, the origin's lock, as
 * shipping takes it: one writer per chain. */
static int txn_begin(eaudit_store *s, const append_hook *hook, size_t *n_io) {
  eaudit__pgstore *p = PGS(s);
  PGconn *c = p->conn;
  int rc = eaudit__pg_command(c, "BEGIN", "starting an append");
  if (rc)
    return rc;
  if (hook && (rc = hook->fn(s, hook->payload, n_io)))
    return rollback(c, rc);
  if (n_io && *n_io == 0)
    return EAUDIT_OK;
  eaudit__pgp q = {0};
  eaudit__pgp_i32(&q, EAUDIT__PG_SITE_LOCK);
  eaudit__pgp_i32(&q, eaudit__pg_site_key(p->origin));
  PGresult *r = eaudit__pg_exec(c, "SELECT pg_advisory_xact_lock($1, $2)", &q,
                                "locking the store's chain");
  if (r == NULL)
    return rollback(c, eaudit_error_last()->code);
  PQclear(r);
  return EAUDIT_OK;
}

/* The append inside a transaction holding the origin's lock (the caller
 * rolls back on failure). */
static int append_locked(eaudit_store *s, eaudit_event *const *evs, size_t n,
                         size_t *failed, int *no_partition,
                         eaudit_event **fresh, size_t *n_fresh) {
  eaudit__pgstore *p = PGS(s);
  PGconn *c = p->conn;
  int rc;
  PGresult *r;
  eaudit__pgp q = {0};
  eaudit__pgp_bytes(&q, p->origin, 16);
  r = eaudit__pg_exec(c,
                      "SELECT head_seq, head_hash FROM eaudit.sites"
                      " WHERE site_id = $1 AND own FOR UPDATE",
                      &q, "reading the chain head");
  if (r == NULL)
    return eaudit_error_last()->code;
  if (PQntuples(r) != 1 || PQgetlength(r, 0, 1) != 32) {
    PQclear(r);
    return eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                         "central store: the own chain's head is missing or "
                         "damaged");
  }
  int64_t seq = eaudit__pg_i64(r, 0, 0);
  uint8_t prev[32];
  memcpy(prev, PQgetvalue(r, 0, 1), 32);
  PQclear(r);
  /* Which events to insert (indexes into evs), and which repeat an id
   * set earlier in this call. */
  size_t *ins = eaudit__malloc(n * sizeof *ins);
  uint8_t *dup = eaudit__calloc(n, 1);
  if (ins == NULL || dup == NULL) {
    eaudit__free(ins);
    eaudit__free(dup);
    return eaudit__enomem();
  }
  rc = mark_repeated_ids(evs, n, dup);
  size_t appended = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    eaudit_event *ev = evs[i];
    *failed = i;
    int taken = dup[i];
    if (!taken && (rc = id_taken(p, ev, &taken)))
      break;
    if (taken && fresh)
      continue;
    if (taken) {
      rc = id_exists_error(ev);
      break;
    }
    if (fresh)
      fresh[appended] = ev;
    ins[appended++] = i;
    eaudit_time now = eaudit_store_now(s);
    eaudit__event_put(ev, EAUDIT_FIELD_SEQ, ++seq);
    eaudit__event_put(ev, EAUDIT_FIELD_RECORDED_AT, now);
    if (!EAUDIT__HAS(ev, EAUDIT_FIELD_ACTOR) &&
        EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT))
      eaudit__event_put(ev, EAUDIT_FIELD_ACTOR, ev->v[EAUDIT_FIELD_SUBJECT]);
    if (!ev->has_id) {
      if ((rc = eaudit__uuid_v7(s, now, ev->id)))
        break;
      ev->has_id = 1;
      ev->id_assigned = 1;
    }
    if ((rc = eaudit__chain_link(ev, prev, ev->hash)))
      break;
    ev->has_hash = 1;
    ev->late = 0; /* its only reader, the rules hook below, sets it */
    memcpy(prev, ev->hash, 32);
  }
  if (rc == 0)
    rc = insert_events(p, evs, ins, appended, failed, no_partition);
  /* The rules evaluate the appended events in seq order (rules.c). */
  if (rc == 0 && (rc = eaudit__rules_pg_on_append(s, evs, ins, appended)))
    *failed = 0;
  eaudit__free(ins);
  eaudit__free(dup);
  if (rc)
    return rc;
  *failed = 0;
  if (n_fresh)
    *n_fresh = appended;
  q.n = 0;
  eaudit__pgp_bytes(&q, p->origin, 16);
  eaudit__pgp_i64(&q, seq);
  eaudit__pgp_bytes(&q, prev, 32);
  eaudit__pgp_i64(&q, (int64_t)appended);
  r = eaudit__pg_exec(c,
                      "UPDATE eaudit.sites SET head_seq = $2, head_hash = $3,"
                      " events = events + $4, last_shipped_at = now()"
                      " WHERE site_id = $1",
                      &q, "moving the chain head");
  if (r == NULL)
    return eaudit_error_last()->code;
  PQclear(r);
  /* Checkpoints due by the handle's policy, in this transaction. */
  if ((rc = eaudit__integrity_on_append(s, seq, prev, appended)))
    return rc;
  return EAUDIT_OK;
}

/* One append transaction. With fresh set (import), events whose id is
 * stored already are skipped rather than refused, and the appended ones
 * are listed in fresh[0..*n_fresh). A hook runs first and may leave fewer
 * events (*n_io). */
static int append_txn(eaudit_store *s, eaudit_event *const *evs, size_t *n_io,
                      size_t *failed, int *no_partition, eaudit_event **fresh,
                      size_t *n_fresh, const append_hook *hook) {
  PGconn *c = PGS(s)->conn;
  int rc = txn_begin(s, hook, n_io);
  if (rc == 0 && *n_io > 0 &&
      (rc = append_locked(s, evs, *n_io, failed, no_partition, fresh,
                          n_fresh)))
    return rollback(c, rc);
  return rc ? rc : eaudit__pg_command(c, "COMMIT", "committing an append");
}

static int append_common(eaudit_store *s, eaudit_event *const *evs, size_t n,
                         size_t *failed, eaudit_event **fresh,
                         size_t *n_fresh, const append_hook *hook,
                         size_t *n_done) {
  eaudit__pgstore *p = PGS(s);
  size_t f = 0;
  int rc = eaudit__pg_write_checks(s);
  if (rc)
    return rc;
  rc = ready(s);
  if (rc == 0)
    rc = prepare_all(p);
  s->in_txn = 1;
  for (int attempt = 0; rc == 0; attempt++) {
    int no_partition = 0;
    if ((rc = ensure_months(p, evs, n, &f)))
      break;
    size_t m = n;
    rc = append_txn(s, evs, &m, &f, &no_partition, fresh, n_fresh, hook);
    if (n_done)
      *n_done = m;
    eaudit__integrity_after_txn(s, rc == 0); /* the checkpoint sink */
    if (rc)
      eaudit__rules_after_txn(s, 0);
    if (rc == 0 || !no_partition || attempt > 0)
      break;
    /* A partition this handle created was dropped meanwhile: forget what
     * it knew and try once more. */
    for (size_t i = 0; i < n; i++)
      eaudit__event_unassign(evs[i]);
    p->n_months = p->next_month = 0;
    rc = EAUDIT_OK;
  }
  s->in_txn = 0;
  if (rc) {
    for (size_t i = 0; i < n; i++)
      eaudit__event_unassign(evs[i]);
    if (failed)
      *failed = f;
    return rc;
  }
  if (fresh)
    eaudit__notify(s, fresh, *n_fresh);
  else
    eaudit__notify(s, evs, n_done ? *n_done : n);
  eaudit__rules_after_txn(s, 1);
  return EAUDIT_OK;
}

/* ---- writes of other modules around an append (rules.c) ---- */

int eaudit__pg_write_checks(eaudit_store *s) {
  int rc = eaudit__write_guard(s);
  if (rc == 0 && !PGS(s)->has_own)
    rc = eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                       "central store: the store has no own chain");
  return rc;
}

int eaudit__pg_store_write_begin(eaudit_store *s, eaudit_event *const *evs,
                                 size_t n) {
  eaudit__pgstore *p = PGS(s);
  size_t f = 0;
  int rc = eaudit__pg_write_checks(s);
  if (rc == 0)
    rc = ready(s);
  if (rc == 0)
    rc = prepare_all(p);
  if (rc == 0)
    rc = ensure_months(p, evs, n, &f);
  if (rc == 0)
    rc = txn_begin(s, NULL, NULL);
  if (rc == 0)
    s->in_txn = 1;
  return rc;
}

int eaudit__pg_store_append_locked(eaudit_store *s, eaudit_event *const *evs,
                                   size_t n) {
  size_t f = 0;
  int no_partition = 0;
  return append_locked(s, evs, n, &f, &no_partition, NULL, NULL);
}

int eaudit__pg_store_write_end(eaudit_store *s, int rc,
                               eaudit_event *const *evs, size_t n) {
  s->in_txn = 0;
  if (rc == 0)
    rc = eaudit__pg_command(PGS(s)->conn, "COMMIT", "committing");
  else
    PQclear(PQexec(PGS(s)->conn, "ROLLBACK"));
  eaudit__integrity_after_txn(s, rc == 0); /* the checkpoint sink */
  if (rc) {
    for (size_t i = 0; i < n; i++)
      eaudit__event_unassign(evs[i]);
    eaudit__rules_after_txn(s, 0);
    return rc;
  }
  eaudit__notify(s, evs, n);
  eaudit__rules_after_txn(s, 1);
  return EAUDIT_OK;
}

int eaudit__pg_store_append(eaudit_store *s, eaudit_event *const *evs, size_t n,
                            size_t *failed) {
  return append_common(s, evs, n, failed, NULL, NULL, NULL, NULL);
}

int eaudit__pg_store_append_with(eaudit_store *s, eaudit_event *const *evs,
                                 size_t n,
                                 int (*fn)(eaudit_store *s, void *payload,
                                           size_t *n),
                                 void *payload, size_t *appended) {
  size_t failed;
  append_hook hook = {fn, payload};
  *appended = 0;
  return append_common(s, evs, n, &failed, NULL, NULL, &hook, appended);
}

int eaudit__pg_store_append_new(eaudit_store *s, eaudit_event *const *evs,
                                size_t n, eaudit_event **fresh,
                                size_t *n_fresh) {
  size_t failed;
  *n_fresh = 0;
  return append_common(s, evs, n, &failed, fresh, n_fresh, NULL, NULL);
}

/* ---- the rules engine on a shipped origin (rules.c) ---- */

void eaudit__pg_store_rules_origin(eaudit_store *s, const uint8_t *origin) {
  eaudit__pgstore *p = PGS(s);
  p->rules_shipped = origin != NULL;
  if (origin)
    memcpy(p->rules_origin, origin, 16);
}

int eaudit__pg_store_lock_origin(eaudit_store *s, const uint8_t origin[16]) {
  eaudit__pgp q = {0};
  eaudit__pgp_i32(&q, EAUDIT__PG_SITE_LOCK);
  eaudit__pgp_i32(&q, eaudit__pg_site_key(origin));
  PGresult *r = eaudit__pg_exec(PGS(s)->conn,
                                "SELECT pg_advisory_xact_lock($1, $2)", &q,
                                "locking a shipped site");
  if (r == NULL)
    return eaudit_error_last()->code;
  PQclear(r);
  return EAUDIT_OK;
}

#else /* !EAUDIT_HAVE_LIBPQ */

int eaudit__pg_store_open(eaudit_store *s, const char *uri, const char *zone) {
  (void)s;
  (void)uri;
  (void)zone;
  return eaudit__error(EAUDIT_EUNSUPPORTED, EAUDIT_ECLASS_INVALID, 0,
                       "postgresql:// stores need PostgreSQL support, which "
                       "this build of the library lacks (built with "
                       "EAUDIT_WITH_POSTGRESQL=OFF or without libpq)");
}

void eaudit__pg_store_free(eaudit_store *s) { (void)s; }

static int absent(void) {
  return eaudit__error(EAUDIT_EUNSUPPORTED, EAUDIT_ECLASS_INVALID, 0,
                       "this build of the library has no PostgreSQL support");
}

int eaudit__pg_store_last_seq(eaudit_store *s, int64_t *out) {
  (void)s;
  *out = 0;
  return absent();
}

int eaudit__pg_store_event_count(eaudit_store *s, int64_t *out) {
  (void)s;
  *out = 0;
  return absent();
}

int eaudit__pg_store_set_time_zone(eaudit_store *s, const char *zone) {
  (void)s;
  (void)zone;
  return absent();
}

int eaudit__pg_store_append(eaudit_store *s, eaudit_event *const *evs, size_t n,
                            size_t *failed) {
  (void)s;
  (void)evs;
  (void)n;
  if (failed)
    *failed = 0;
  return absent();
}

int eaudit__pg_store_append_new(eaudit_store *s, eaudit_event *const *evs,
                                size_t n, eaudit_event **fresh,
                                size_t *n_fresh) {
  (void)s;
  (void)evs;
  (void)n;
  (void)fresh;
  *n_fresh = 0;
  return absent();
}

int eaudit__pg_store_append_with(eaudit_store *s, eaudit_event *const *evs,
                                 size_t n,
                                 int (*fn)(eaudit_store *s, void *payload,
                                           size_t *n),
                                 void *payload, size_t *appended) {
  (void)s, (void)evs, (void)n, (void)fn, (void)payload;
  *appended = 0;
  return absent();
}

int eaudit__pg_store_write_begin(eaudit_store *s, eaudit_event *const *evs,
                                 size_t n) {
  (void)s;
  (void)evs;
  (void)n;
  return absent();
}

int eaudit__pg_store_append_locked(eaudit_store *s, eaudit_event *const *evs,
                                   size_t n) {
  (void)s;
  (void)evs;
  (void)n;
  return absent();
}

int eaudit__pg_store_write_end(eaudit_store *s, int rc,
                               eaudit_event *const *evs, size_t n) {
  (void)s;
  (void)evs;
  (void)n;
  return rc ? rc : absent();
}

void eaudit__pg_store_rules_origin(eaudit_store *s, const uint8_t *origin) {
  (void)s;
  (void)origin;
}

int eaudit__pg_store_lock_origin(eaudit_store *s, const uint8_t origin[16]) {
  (void)s;
  (void)origin;
  return absent();
}

#endif
