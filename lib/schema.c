/* The SQLite schema and its migrations. See docs/schema.md. */
#include "chain.h"
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

/* 'EAUD': marks a file as a store (PRAGMA application_id). */
#define EAUDIT__APPLICATION_ID 0x45415544

/* Version 1. Indexes end in occurred_at; SQLite appends the rowid (seq), so
 * each one serves the (occurred_at, seq) keyset order. The actor index
 * leaves out the common case actor = subject, which the subject index
 * already answers. */
static const char schema_v1[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "CREATE TABLE head(one INTEGER PRIMARY KEY CHECK (one = 1),"
    " seq INTEGER NOT NULL, hash BLOB NOT NULL, newest INTEGER);"
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, id BLOB NOT NULL,"
    " occurred_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL,"
    " type INTEGER NOT NULL, subject INTEGER, actor INTEGER, door INTEGER,"
    " grp INTEGER, device INTEGER, site INTEGER,"
    " credential INTEGER NOT NULL, reason INTEGER NOT NULL, details BLOB,"
    " hash BLOB NOT NULL);"
    "CREATE UNIQUE INDEX events_id ON events(id);"
    "CREATE INDEX events_time ON events(occurred_at);"
    "CREATE INDEX events_subject ON events(subject, occurred_at);"
    "CREATE INDEX events_actor ON events(actor, occurred_at)"
    " WHERE actor IS NOT subject;"
    "CREATE INDEX events_type ON events(type, occurred_at);"
    "CREATE INDEX events_door ON events(door, occurred_at)"
    " WHERE door IS NOT NULL;"
    "CREATE INDEX events_grp ON events(grp, occurred_at) WHERE grp IS NOT NULL;"
    "CREATE INDEX events_device ON events(device, occurred_at)"
    " WHERE device IS NOT NULL;"
    /* Counts per local day, type and subject; subject -1 stands for none
     * (only a group's expiry has no subject). */
    "CREATE TABLE rollup(day INTEGER NOT NULL, type INTEGER NOT NULL,"
    " subject INTEGER NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY(day, type, subject)) WITHOUT ROWID;"
    "CREATE TABLE users(id INTEGER PRIMARY KEY, role INTEGER NOT NULL DEFAULT 0,"
    " last_at INTEGER, expired_at INTEGER, prolonged_at INTEGER);"
    "CREATE TABLE groups(id INTEGER PRIMARY KEY, expired_at INTEGER,"
    " prolonged_at INTEGER);"
    "CREATE TABLE names(rowid INTEGER PRIMARY KEY, kind INTEGER NOT NULL,"
    " entity INTEGER NOT NULL, valid_from INTEGER NOT NULL, name TEXT NOT NULL);"
    "CREATE UNIQUE INDEX names_entity ON names(kind, entity, valid_from);"
    "CREATE VIRTUAL TABLE names_fts USING fts5(name, kind UNINDEXED,"
    " entity UNINDEXED, tokenize = 'unicode61 remove_diacritics 2',"
    " prefix = '1 2 3');"
    "CREATE TABLE types(code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " label TEXT NOT NULL);"
    "CREATE TABLE labels(code INTEGER PRIMARY KEY, label TEXT NOT NULL);";

/* Migrations from version i to i + 1, indexed by i. None yet: version 1 is
 * the first. A migration runs inside the same transaction that bumps
 * user_version, so a failed one changes nothing. */
static const char *const migrations[] = {NULL};

static int pragma_int(eaudit_store *s, const char *sql, int64_t *out) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      *out = sqlite3_column_int64(st, 0);
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      *out = 0;
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(st);
  return rc == SQLITE_OK ? EAUDIT_OK
                         : eaudit__sqlite_error(s, rc, "reading the schema");
}

static int create_v1(eaudit_store *s) {
  int rc = eaudit__exec(s, schema_v1);
  if (rc == 0)
    rc = eaudit__exec(s, eaudit__devices_schema);
  if (rc == 0)
    rc = eaudit__exec(s, eaudit__rules_schema);
  if (rc == 0)
    rc = eaudit__exec(s, eaudit__integrity_schema);
  if (rc)
    return rc;
  uint8_t genesis[32];
  eaudit__chain_genesis(s->store_id, genesis);
  sqlite3_stmt *st = NULL;
  rc = sqlite3_prepare_v2(s->db,
                          "INSERT INTO head(one, seq, hash) VALUES (1, 0, ?1)",
                          -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_blob(st, 1, genesis, 32, SQLITE_STATIC);
    rc = sqlite3_step(st);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return eaudit__sqlite_error(s, rc, "creating the chain head");
  st = NULL;
  rc = sqlite3_prepare_v2(
      s->db, "INSERT INTO meta(key, value) VALUES ('store_id', ?1),"
             " ('time_zone', ?2), ('created_at', ?3), ('types_version', 0)",
      -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_blob(st, 1, s->store_id, 16, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, s->tz_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, eaudit_store_now(s));
    rc = sqlite3_step(st);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return eaudit__sqlite_error(s, rc, "writing the store's identity");
  char sql[128];
  snprintf(sql, sizeof sql, "PRAGMA application_id = %d;"
                            "PRAGMA user_version = %d;",
           EAUDIT__APPLICATION_ID, EAUDIT_SCHEMA_VERSION);
  return eaudit__exec(s, sql);
}

int eaudit__schema_open(eaudit_store *s, int create) {
  int64_t version = 0, app = 0, tables = 0;
  int rc = pragma_int(s, "PRAGMA user_version", &version);
  if (rc)
    return rc;
  if (version < 0)
    return eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                         "not an entryfy-audit store (schema version %lld)",
                         (long long)version);
  if (version > EAUDIT_SCHEMA_VERSION)
    return eaudit__error(EAUDIT_ESCHEMA, EAUDIT_ECLASS_STORE, 0,
                         "store schema version %lld is newer than this "
                         "library's %d; upgrade the library",
                         (long long)version, EAUDIT_SCHEMA_VERSION);
  if (version == EAUDIT_SCHEMA_VERSION) {
    rc = pragma_int(s, "PRAGMA application_id", &app);
    if (rc)
      return rc;
    if (app != EAUDIT__APPLICATION_ID)
      return eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                           "not an entryfy-audit store (application id %lld)",
                           (long long)app);
    return EAUDIT_OK;
  }
  if (s->read_only)
    return eaudit__error(version == 0 ? EAUDIT_ECORRUPT : EAUDIT_EREADONLY,
                         EAUDIT_ECLASS_STORE, 0,
                         version == 0 ? "not an entryfy-audit store"
                                      : "store needs a migration, which a "
                                        "read-only handle cannot run");
  /* Create or migrate under the write lock; another process may be doing
   * the same, so look again once the lock is held. */
  rc = eaudit__begin(s);
  if (rc)
    return rc;
  rc = pragma_int(s, "PRAGMA user_version", &version);
  if (rc == 0 && (version < 0 || version > EAUDIT_SCHEMA_VERSION))
    rc = eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                       "schema version changed to %lld while opening",
                       (long long)version);
  else if (rc == 0 && version == 0) {
    rc = pragma_int(s, "SELECT count(*) FROM sqlite_schema", &tables);
    if (rc == 0 && tables != 0)
      rc = eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                         "not an entryfy-audit store (a database with "
                         "%lld other objects)",
                         (long long)tables);
    else if (rc == 0 && !create)
      rc = eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_STORE, 0,
                         "store does not exist and creation is off");
    else if (rc == 0)
      rc = create_v1(s);
  } else {
    while (rc == 0 && version < EAUDIT_SCHEMA_VERSION) {
      const char *m = migrations[version];
      if (m == NULL)
        rc = eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                           "no migration from schema version %lld",
                           (long long)version);
      else if ((rc = eaudit__exec(s, m)) == 0) {
        char sql[64];
        version++;
        snprintf(sql, sizeof sql, "PRAGMA user_version = %lld",
                 (long long)version);
        rc = eaudit__exec(s, sql);
      }
    }
  }
  if (rc) {
    eaudit__rollback(s);
    return rc;
  }
  return eaudit__commit(s);
}
