/* The central PostgreSQL store: connection, errors, the versioned schema and
 * the monthly partitions. See docs/scale-out.md. */
#ifdef EAUDIT_HAVE_LIBPQ

#include "pg_internal.h"
#include "store_internal.h"

#include <eaudit/ship.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- bound parameters and results (binary) ---- */

static void put_be(uint8_t *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++)
    p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

void eaudit__pgp_i64(eaudit__pgp *p, int64_t v) {
  int i = p->n++;
  put_be(p->num[i], (uint64_t)v, 8);
  p->v[i] = (const char *)p->num[i];
  p->len[i] = 8;
  p->fmt[i] = 1;
  p->types[i] = EAUDIT__OID_INT8;
}

void eaudit__pgp_i32(eaudit__pgp *p, int32_t v) {
  int i = p->n++;
  put_be(p->num[i], (uint32_t)v, 4);
  p->v[i] = (const char *)p->num[i];
  p->len[i] = 4;
  p->fmt[i] = 1;
  p->types[i] = EAUDIT__OID_INT4;
}

void eaudit__pgp_bytes(eaudit__pgp *p, const void *b, size_t n) {
  int i = p->n++;
  p->v[i] = (const char *)b;
  p->len[i] = (int)n;
  p->fmt[i] = 1;
  p->types[i] = EAUDIT__OID_BYTEA;
}

void eaudit__pgp_text(eaudit__pgp *p, const char *s) {
  int i = p->n++;
  p->v[i] = s;
  p->len[i] = (int)strlen(s);
  p->fmt[i] = 1; /* binary text is the UTF-8 bytes */
  p->types[i] = EAUDIT__OID_TEXT;
}

void eaudit__pgp_null(eaudit__pgp *p, unsigned type) {
  int i = p->n++;
  p->v[i] = NULL;
  p->len[i] = 0;
  p->fmt[i] = 1;
  p->types[i] = type;
}

static uint64_t get_be(const char *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++)
    v = v << 8 | (uint8_t)p[i];
  return v;
}

int64_t eaudit__pg_i64(const PGresult *r, int row, int col) {
  if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8)
    return 0;
  return (int64_t)get_be(PQgetvalue(r, row, col), 8);
}

int32_t eaudit__pg_i32(const PGresult *r, int row, int col) {
  if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 4)
    return 0;
  return (int32_t)(uint32_t)get_be(PQgetvalue(r, row, col), 4);
}

/* ---- errors ---- */

int eaudit__pg_error(PGconn *c, const PGresult *res, const char *what) {
  const char *msg = res ? PQresultErrorMessage(res) : NULL;
  if (msg == NULL || *msg == '\0')
    msg = c ? PQerrorMessage(c) : "no connection";
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  size_t n = strlen(msg);
  while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
    n--;
  int code = EAUDIT_EIO, klass = EAUDIT_ECLASS_STORE;
  if (state && strlen(state) == 5) {
    if (strncmp(state, "53", 2) == 0) /* insufficient resources */
      code = EAUDIT_EFULL;
    else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
             strcmp(state, "55P03") == 0) /* serialization, deadlock, lock */
      code = EAUDIT_EBUSY;
    else if (strcmp(state, "25006") == 0) /* read-only transaction */
      code = EAUDIT_EREADONLY;
    else if (strcmp(state, "57014") == 0) /* query cancelled */
      code = EAUDIT_ECANCELLED;
  }
  if (c && PQstatus(c) == CONNECTION_BAD)
    code = EAUDIT_EIO;
  return eaudit__error(code, klass, 0, "central store: %s: %s%s%s%.*s", what,
                       state ? "SQLSTATE " : "", state ? state : "",
                       state ? ": " : "", (int)n, msg);
}

static int result_ok(const PGresult *r) {
  ExecStatusType st = PQresultStatus(r);
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ||
         st == PGRES_SINGLE_TUPLE;
}

PGresult *eaudit__pg_exec(PGconn *c, const char *sql, const eaudit__pgp *p,
                          const char *what) {
  PGresult *r = PQexecParams(c, sql, p ? p->n : 0, p ? p->types : NULL,
                             p ? p->v : NULL, p ? p->len : NULL,
                             p ? p->fmt : NULL, 1);
  if (r && result_ok(r))
    return r;
  eaudit__pg_error(c, r, what);
  PQclear(r);
  return NULL;
}

PGresult *eaudit__pg_exec_prepared(PGconn *c, const char *name,
                                   const eaudit__pgp *p, const char *what) {
  PGresult *r =
      PQexecPrepared(c, name, p->n, p->v, p->len, p->fmt, 1);
  if (r && result_ok(r))
    return r;
  eaudit__pg_error(c, r, what);
  PQclear(r);
  return NULL;
}

int eaudit__pg_pipe_drain(PGconn *c, int rc) {
  for (;;) {
    PGresult *r = PQgetResult(c);
    if (r == NULL) { /* between two queries' results */
      if (PQstatus(c) == CONNECTION_BAD)
        break;
      continue;
    }
    int done = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (done)
      break;
  }
  PQexitPipelineMode(c);
  return rc;
}

int eaudit__pg_command(PGconn *c, const char *sql, const char *what) {
  PGresult *r = PQexec(c, sql);
  int rc = EAUDIT_OK;
  if (r == NULL || !result_ok(r))
    rc = eaudit__pg_error(c, r, what);
  PQclear(r);
  return rc;
}

/* ---- connection ---- */

static void quiet_notice(void *arg, const char *message) {
  (void)arg;
  eaudit__log(EAUDIT_LOG_DEBUG, "central store: %s", message);
}

int eaudit__pg_connect(const char *uri, PGconn **out) {
  *out = NULL;
  if (uri == NULL)
    return eaudit__einval("central store URI must not be NULL");
  if (!eaudit__pg_is_uri(uri))
    /* Not echoed: a URI may carry a password. */
    return eaudit__einval("central store URI must start with postgresql:// "
                          "or postgres://");
  char *perr = NULL;
  PQconninfoOption *parsed = PQconninfoParse(uri, &perr);
  if (parsed == NULL) {
    int rc = perr ? eaudit__einval("malformed central store URI: %s", perr)
                  : eaudit__enomem();
    PQfreemem(perr);
    return rc;
  }
  PQconninfoFree(parsed);
  /* Defaults first: the URI's own settings, expanded from dbname, come
   * later and win. Without a connect_timeout an unreachable host would
   * block for the TCP timeout. */
  /* A shipper cut off mid-batch (a network cut leaves no FIN) would keep
   * its site's lock while its backend waits: the server ends a session
   * idle inside a transaction for a minute. */
  const char *const keys[] = {"connect_timeout", "application_name",
                              "client_encoding", "options", "dbname", NULL};
  const char *const vals[] = {"10", "entryfy-audit", "UTF8",
                              "-c idle_in_transaction_session_timeout=60000",
                              uri, NULL};
  PGconn *c = PQconnectdbParams(keys, vals, 1);
  if (c == NULL)
    return eaudit__enomem();
  if (PQstatus(c) != CONNECTION_OK) {
    int rc = eaudit__pg_error(c, NULL, "cannot connect");
    PQfinish(c);
    return rc;
  }
  PQsetNoticeProcessor(c, quiet_notice, NULL);
  /* Everything we write is UTF-8; a server that converts would change the
   * details text we index (the hashed bytes are bytea and never convert). */
  if (PQsetClientEncoding(c, "UTF8") != 0) {
    int rc = eaudit__pg_error(c, NULL, "setting client_encoding");
    PQfinish(c);
    return rc;
  }
  *out = c;
  return EAUDIT_OK;
}

/* ---- schema ---- */

/* Version 1. occurred_at and recorded_at are bigint microseconds UTC, the
 * library's own eaudit_time: an exact round trip of what the hash covers,
 * with no time zone conversion; eaudit.events_ts shows them as timestamptz.
 * Unique constraints of a partitioned table must hold the partition key, so
 * (origin, seq) and (origin, id) carry occurred_at: an origin's seq and id
 * are unique in the origin store and an event's occurred_at never changes,
 * so the constraints are as strong for shipped events. The indexes match
 * the SQLite ones (lib/schema.c), with the origin column added. */
static const char schema_v1[] =
    "CREATE TABLE eaudit.meta(key text PRIMARY KEY, value bigint NOT NULL);"
    "CREATE TABLE eaudit.sites("
    " site_id bytea PRIMARY KEY CHECK (octet_length(site_id) = 16),"
    " base_seq bigint NOT NULL CHECK (base_seq >= 0),"
    " base_hash bytea NOT NULL CHECK (octet_length(base_hash) = 32),"
    " head_seq bigint NOT NULL,"
    " head_hash bytea NOT NULL CHECK (octet_length(head_hash) = 32),"
    " events bigint NOT NULL DEFAULT 0,"
    " first_shipped_at timestamptz NOT NULL DEFAULT now(),"
    " last_shipped_at timestamptz NOT NULL DEFAULT now(),"
    " CHECK (head_seq >= base_seq));"
    "CREATE TABLE eaudit.events("
    " origin bytea NOT NULL, seq bigint NOT NULL, id bytea NOT NULL,"
    " occurred_at bigint NOT NULL, recorded_at bigint NOT NULL,"
    " type integer NOT NULL, subject bigint, actor bigint, door bigint,"
    " grp bigint, device bigint, site bigint, credential integer NOT NULL,"
    " reason integer NOT NULL, details bytea, hash bytea NOT NULL,"
    " search tsvector,"
    " CONSTRAINT events_seq PRIMARY KEY (origin, seq, occurred_at),"
    " CONSTRAINT events_id UNIQUE (origin, id, occurred_at)"
    ") PARTITION BY RANGE (occurred_at);"
    "CREATE INDEX events_time ON eaudit.events(occurred_at);"
    "CREATE INDEX events_origin_time ON eaudit.events(origin, occurred_at);"
    "CREATE INDEX events_subject ON eaudit.events(subject, occurred_at);"
    "CREATE INDEX events_actor ON eaudit.events(actor, occurred_at)"
    " WHERE actor IS DISTINCT FROM subject;"
    "CREATE INDEX events_type ON eaudit.events(type, occurred_at);"
    "CREATE INDEX events_door ON eaudit.events(door, occurred_at)"
    " WHERE door IS NOT NULL;"
    "CREATE INDEX events_grp ON eaudit.events(grp, occurred_at)"
    " WHERE grp IS NOT NULL;"
    "CREATE INDEX events_device ON eaudit.events(device, occurred_at)"
    " WHERE device IS NOT NULL;"
    "CREATE INDEX events_search ON eaudit.events USING gin(search);"
    "CREATE VIEW eaudit.events_ts AS SELECT *,"
    " to_timestamp(occurred_at / 1000000.0) AS occurred_ts,"
    " to_timestamp(recorded_at / 1000000.0) AS recorded_ts"
    " FROM eaudit.events;"
    /* Partitions are created by the shippers, idempotently: a look without
     * a lock, then under a transaction-scoped advisory lock a second look
     * and the CREATE. Only values typed bigint reach the DDL text. */
    "CREATE FUNCTION eaudit.ensure_month(part text, lo bigint, hi bigint)"
    " RETURNS boolean LANGUAGE plpgsql AS $f$"
    " BEGIN"
    "  IF part !~ '^events_[0-9m]+_[0-9]{2}$' THEN"
    "   RAISE EXCEPTION 'bad partition name %', part;"
    "  END IF;"
    "  IF to_regclass(format('eaudit.%I', part)) IS NOT NULL THEN"
    "   RETURN false;"
    "  END IF;"
    "  PERFORM pg_advisory_xact_lock(4990363612649357314);"
    /* The advisory lock does not refresh the catalog caches to_regclass
     * reads; pg_class through a new snapshot does. */
    "  IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n"
    "   ON n.oid = c.relnamespace WHERE n.nspname = 'eaudit'"
    "   AND c.relname = part) THEN"
    "   RETURN false;"
    "  END IF;"
    "  BEGIN"
    "   EXECUTE format('CREATE TABLE eaudit.%I PARTITION OF eaudit.events"
    " FOR VALUES FROM (%s) TO (%s)', part, lo, hi);"
    "  EXCEPTION WHEN duplicate_table THEN"
    "   RETURN false;"
    "  END;"
    "  RETURN true;"
    " END $f$;";

/* Version 2: stores opened directly on the database (eaudit_store_open on a
 * postgresql:// URI) append to the central store's own chain, a sites row
 * marked own; settings keeps text settings such as the time zone; anchors
 * records, per origin, the last event of each retention drop, so that a
 * chain whose start was dropped still verifies from there. */
static const char schema_v2[] =
    "ALTER TABLE eaudit.sites ADD COLUMN own boolean NOT NULL DEFAULT false;"
    "CREATE UNIQUE INDEX sites_own ON eaudit.sites(own) WHERE own;"
    "CREATE TABLE eaudit.settings(key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE eaudit.anchors("
    " origin bytea NOT NULL CHECK (octet_length(origin) = 16),"
    " seq bigint NOT NULL CHECK (seq >= 0),"
    " hash bytea NOT NULL CHECK (octet_length(hash) = 32),"
    " through_at bigint NOT NULL,"
    " actor bigint,"
    " dropped_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (origin, seq));"
    /* Names with history, global (one directory for every site, as the
     * access-control system assigns ids). words holds the name's words
     * folded by SQLite's unicode61 tokenizer (remove_diacritics 2), joined
     * by single spaces; the trigger spreads them into name_words, whose
     * (kind, word) index in byte order serves word-prefix ranges. origin
     * is the site that last shipped the row (NULL: set on this store). */
    "CREATE TABLE eaudit.names(kind int NOT NULL, entity bigint NOT NULL,"
    " valid_from bigint NOT NULL, name text NOT NULL, words text NOT NULL,"
    " origin bytea, PRIMARY KEY (kind, entity, valid_from));"
    "CREATE INDEX names_origin ON eaudit.names(origin) WHERE origin IS NOT"
    " NULL;"
    "CREATE TABLE eaudit.name_words(kind int NOT NULL, entity bigint NOT NULL,"
    " valid_from bigint NOT NULL, pos int NOT NULL,"
    " word text COLLATE \"C\" NOT NULL,"
    " PRIMARY KEY (kind, entity, valid_from, pos),"
    " FOREIGN KEY (kind, entity, valid_from) REFERENCES eaudit.names"
    " ON DELETE CASCADE);"
    "CREATE INDEX name_words_word ON eaudit.name_words(kind, word);"
    "CREATE FUNCTION eaudit.names_words() RETURNS trigger LANGUAGE plpgsql"
    " AS $f$ BEGIN"
    "  IF TG_OP = 'UPDATE' THEN"
    "   IF NEW.words = OLD.words THEN RETURN NULL; END IF;"
    "   DELETE FROM eaudit.name_words WHERE kind = NEW.kind"
    "    AND entity = NEW.entity AND valid_from = NEW.valid_from;"
    "  END IF;"
    "  INSERT INTO eaudit.name_words(kind, entity, valid_from, pos, word)"
    "   SELECT NEW.kind, NEW.entity, NEW.valid_from, w.pos, w.word"
    "   FROM string_to_table(NEW.words, ' ') WITH ORDINALITY AS w(word, pos)"
    "   WHERE w.word <> '';"
    "  RETURN NULL;"
    " END $f$;"
    "CREATE TRIGGER names_words AFTER INSERT OR UPDATE ON eaudit.names"
    " FOR EACH ROW EXECUTE FUNCTION eaudit.names_words();"
    /* Sites whose first shipment started past seq 0 (they had purged
     * before) get the anchor verification expects at their base. */
    "INSERT INTO eaudit.anchors(origin, seq, hash, through_at)"
    " SELECT site_id, base_seq, base_hash, 0 FROM eaudit.sites"
    " WHERE base_seq > 0 ON CONFLICT DO NOTHING;";

/* Version 3: signed checkpoints, per origin: the own chain's, written
 * through a handle, and each site's, shipped with its events. record is
 * the version-1 record exactly as signed; cseq and last_seq repeat its
 * fields. */
static const char schema_v3[] =
    "CREATE TABLE eaudit.checkpoints("
    " origin bytea NOT NULL CHECK (octet_length(origin) = 16),"
    " cseq bigint NOT NULL CHECK (cseq > 0),"
    " last_seq bigint NOT NULL,"
    " record bytea NOT NULL,"
    " received_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (origin, cseq));";
/* Version 4: the anomaly rules engine on a store opened on the database
 * (lib/rules.c, docs/rules.md), the same tables as SQLite's
 * eaudit__rules_schema, keyed by the own chain's origin (the only chain
 * the rules evaluate; findings and states name its seqs). rule_meta holds
 * the rule set, its version, the rules checkpoint and a generation moved
 * by every transaction that changes rule state, by which other handles
 * know to drop their cached state. Integers are bigint throughout. */
static const char schema_rules[] =
    "CREATE TABLE eaudit.rule_meta(origin bytea NOT NULL, key text NOT NULL,"
    " value text NOT NULL, PRIMARY KEY (origin, key));"
    "CREATE TABLE eaudit.rule_ids(origin bytea NOT NULL, rule text NOT NULL,"
    " num bigint NOT NULL, PRIMARY KEY (origin, rule), UNIQUE (origin, num));"
    "CREATE TABLE eaudit.rule_state(origin bytea NOT NULL,"
    " rule bigint NOT NULL, kf bigint NOT NULL, kv bigint NOT NULL,"
    " state bytea NOT NULL, PRIMARY KEY (origin, rule, kf, kv));"
    "CREATE TABLE eaudit.rule_since(origin bytea NOT NULL, rule text NOT NULL,"
    " seq bigint NOT NULL, PRIMARY KEY (origin, rule));"
    "CREATE TABLE eaudit.findings("
    " rowid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " origin bytea NOT NULL, id bytea NOT NULL, rule bigint NOT NULL,"
    " severity bigint NOT NULL, kf bigint NOT NULL, kv bigint NOT NULL,"
    " subject bigint, first_at bigint NOT NULL, last_at bigint NOT NULL,"
    " quiet_until bigint NOT NULL, first_seq bigint NOT NULL,"
    " last_seq bigint NOT NULL, late bigint NOT NULL DEFAULT 0,"
    " state bigint NOT NULL DEFAULT 0, state_by bigint, state_at bigint,"
    " stale bigint NOT NULL DEFAULT 0, UNIQUE (origin, id));"
    "CREATE INDEX findings_first ON eaudit.findings(origin, first_at);"
    "CREATE INDEX findings_seq ON eaudit.findings(origin, first_seq);"
    "CREATE TABLE eaudit.finding_events(finding bigint NOT NULL,"
    " seq bigint NOT NULL, id bytea NOT NULL, PRIMARY KEY (finding, seq));"
    "CREATE TABLE eaudit.rule_login_hours(origin bytea NOT NULL,"
    " seq bigint NOT NULL, counts bytea NOT NULL, PRIMARY KEY (origin, seq));";
/* Version 5: the directory beyond names, as SQLite keeps it (lib/schema.c,
 * lib/devices.c). users holds the users set with a name or a role (the
 * users list adds those seen in events); types and labels the vendor
 * types and translated labels, global like the names (pg_directory.c);
 * devices and device_login_hours the device recognition state of each
 * origin store (pg_devices.c). */
static const char schema_directory[] =
    "CREATE TABLE eaudit.users(id bigint PRIMARY KEY,"
    " role int NOT NULL DEFAULT 0);"
    "CREATE TABLE eaudit.types(code int PRIMARY KEY, name text NOT NULL"
    " UNIQUE, label text NOT NULL);"
    "CREATE TABLE eaudit.labels(code int PRIMARY KEY, label text NOT NULL);"
    /* lib/devices.c's devices and device_login_hours, per origin; the
     * probe indexes end with id for their (seen_day, id) order. */
    "CREATE TABLE eaudit.devices("
    " id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " origin bytea NOT NULL CHECK (octet_length(origin) = 16),"
    " user_id bigint NOT NULL, kind int NOT NULL, dkey text,"
    " platform text, os_family text, os_version text, browser_family text,"
    " browser_version text, model text, screen text, time_zone text,"
    " language text, ip text, os_key text, cls text, label text,"
    " first_seen bigint NOT NULL, last_seen bigint NOT NULL,"
    " times_seen bigint NOT NULL, seen_day bigint NOT NULL);"
    "CREATE INDEX devices_key ON eaudit.devices(origin, user_id, kind, dkey)"
    " WHERE dkey IS NOT NULL;"
    "CREATE INDEX devices_cls ON eaudit.devices(origin, user_id, kind, cls,"
    " seen_day, id);"
    "CREATE INDEX devices_os ON eaudit.devices(origin, user_id, kind, os_key,"
    " seen_day, id);"
    "CREATE INDEX devices_recent ON eaudit.devices(origin, user_id, kind,"
    " seen_day, id);"
    "CREATE INDEX devices_last_seen ON eaudit.devices(origin, last_seen);"
    "CREATE TABLE eaudit.device_login_hours("
    " origin bytea NOT NULL CHECK (octet_length(origin) = 16),"
    " user_id bigint NOT NULL, hour int NOT NULL, n bigint NOT NULL,"
    " PRIMARY KEY (origin, user_id, hour));";

/* Version 6: a central handle reads the findings of every origin, its
 * own chain's and those the rules opened on shipped sites' events
 * (lib/findings.c, lib/rules.c): listed by first_at and found by id
 * across origins. */
static const char schema_central_findings[] =
    "CREATE INDEX findings_all_first ON eaudit.findings(first_at);"
    "CREATE INDEX findings_id ON eaudit.findings(id);";

/* Migrations from version i to i + 1, indexed by i. Each runs in the
 * transaction that bumps eaudit.meta's schema_version; a new database runs
 * them all after creating version 1. */
static const char *const migrations[] = {NULL,         schema_v2,
                                         schema_v3,    schema_rules,
                                         schema_directory,
                                         schema_central_findings};

/* The stored schema version, 0 when there is no central schema. */
static int read_version(PGconn *c, int64_t *out) {
  *out = 0;
  /* Two steps: a statement naming a missing table fails at parse time,
   * which would abort the surrounding transaction. */
  /* pg_class through the statement's snapshot, not to_regclass: after
   * another process created the schema while we waited for the schema
   * lock, the catalog caches to_regclass reads may not show it yet (an
   * advisory lock processes no invalidations), and we would create the
   * tables a second time. */
  PGresult *r = eaudit__pg_exec(
      c,
      "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c"
      " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
      " WHERE n.nspname = 'eaudit' AND c.relname = 'meta')",
      NULL, "looking for the central schema");
  if (r == NULL)
    return eaudit_error_last()->code;
  int exists = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 1;
  PQclear(r);
  if (!exists)
    return EAUDIT_OK;
  r = eaudit__pg_exec(
      c, "SELECT value FROM eaudit.meta WHERE key = 'schema_version'", NULL,
      "reading the schema version");
  if (r == NULL)
    return eaudit_error_last()->code;
  if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
    *out = eaudit__pg_i64(r, 0, 0);
  else
    *out = -1; /* the table without its version row */
  PQclear(r);
  return EAUDIT_OK;
}

static int version_check(int64_t v) {
  if (v > EAUDIT_CENTRAL_SCHEMA_VERSION)
    return eaudit__error(EAUDIT_ESCHEMA, EAUDIT_ECLASS_STORE, 0,
                         "central store schema version %lld is newer than "
                         "this library's %d; upgrade the library",
                         (long long)v, EAUDIT_CENTRAL_SCHEMA_VERSION);
  if (v < 0)
    return eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                         "central store schema version %lld is invalid",
                         (long long)v);
  return EAUDIT_OK;
}

int eaudit__pg_schema_open(PGconn *c, int create) {
  int64_t v;
  int rc = read_version(c, &v);
  if (rc == 0)
    rc = version_check(v);
  if (rc || v == EAUDIT_CENTRAL_SCHEMA_VERSION)
    return rc;
  if (v == 0 && !create)
    return eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_STORE, 0,
                         "the database holds no central store (schema "
                         "eaudit)");
  /* Create or migrate under the schema lock; look again once it is held,
   * since another process may have done it meanwhile. */
  if ((rc = eaudit__pg_command(c, "BEGIN", "starting the schema change")))
    return rc;
  rc = eaudit__pg_command(
      c, "SELECT pg_advisory_xact_lock(" EAUDIT__PG_SCHEMA_LOCK ")",
      "locking the schema");
  if (rc == 0)
    rc = read_version(c, &v);
  if (rc == 0)
    rc = version_check(v);
  if (rc == 0 && v == 0) {
    rc = eaudit__pg_command(c, "CREATE SCHEMA IF NOT EXISTS eaudit",
                            "creating schema eaudit");
    if (rc == 0)
      rc = eaudit__pg_command(c, schema_v1, "creating the central schema");
    if (rc == 0)
      rc = eaudit__pg_command(c,
                              "INSERT INTO eaudit.meta(key, value) VALUES"
                              " ('schema_version', 1)",
                              "writing the schema version");
    v = 1;
  }
  {
    while (rc == 0 && v < EAUDIT_CENTRAL_SCHEMA_VERSION) {
      const char *m = migrations[v];
      if (m == NULL) {
        rc = eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                           "no migration from central schema version %lld",
                           (long long)v);
        break;
      }
      if ((rc = eaudit__pg_command(c, m, "migrating the central schema")))
        break;
      v++;
      eaudit__pgp p = {0};
      eaudit__pgp_i64(&p, v);
      PGresult *r = eaudit__pg_exec(
          c, "UPDATE eaudit.meta SET value = $1 WHERE key = 'schema_version'",
          &p, "writing the schema version");
      rc = r ? EAUDIT_OK : eaudit_error_last()->code;
      PQclear(r);
    }
  }
  if (rc) {
    PQclear(PQexec(c, "ROLLBACK"));
    return rc;
  }
  return eaudit__pg_command(c, "COMMIT", "committing the schema change");
}

/* ---- partitions ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back
 * (H. Hinnant's algorithms). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

#define DAY_US INT64_C(86400000000)

int eaudit__pg_month_bounds(int64_t t, int64_t *lo, int64_t *hi, int *year,
                            int *month) {
  int64_t day = t / DAY_US - (t % DAY_US < 0);
  int64_t y;
  int m;
  civil_from_days(day, &y, &m);
  /* Years 0..9999 cover every time the partition names and bounds can
   * hold comfortably; further out the int64 bounds would overflow. */
  if (y < 0 || y > 9999)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "occurred_at %lld is outside the years 0..9999 the "
                         "central store partitions",
                         (long long)t);
  *lo = days_from_civil(y, m, 1) * DAY_US;
  *hi = (m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1)) *
        DAY_US;
  *year = (int)y;
  *month = m;
  return EAUDIT_OK;
}

static int ensure_one(PGconn *c, int64_t t) {
  int64_t lo = 0, hi = 0;
  int y = 0, m = 0;
  int rc = eaudit__pg_month_bounds(t, &lo, &hi, &y, &m);
  if (rc)
    return rc;
  char name[32];
  snprintf(name, sizeof name, "events_%04d_%02d", y, m);
  eaudit__pgp p = {0};
  eaudit__pgp_text(&p, name);
  eaudit__pgp_i64(&p, lo);
  eaudit__pgp_i64(&p, hi);
  PGresult *r = eaudit__pg_exec(c, "SELECT eaudit.ensure_month($1, $2, $3)",
                                &p, "creating a monthly partition");
  if (r == NULL)
    return eaudit_error_last()->code;
  if (PQgetvalue(r, 0, 0)[0] == 1)
    eaudit__log(EAUDIT_LOG_INFO, "central store: created partition %s", name);
  PQclear(r);
  return EAUDIT_OK;
}

int eaudit__pg_ensure_month(PGconn *c, int64_t t) {
  int64_t lo = 0, hi = 0;
  int y = 0, m = 0;
  int rc = eaudit__pg_month_bounds(t, &lo, &hi, &y, &m);
  if (rc == 0)
    rc = ensure_one(c, t);
  /* The next month too, so that appends crossing midnight of the month's
   * last day find their partition. */
  if (rc == 0 && !(y == 9999 && m == 12))
    rc = ensure_one(c, hi);
  return rc;
}

#else
/* Built without libpq: pg_ship.c answers with EAUDIT_EUNSUPPORTED. */
typedef int eaudit__pg_schema_unused;
#endif
