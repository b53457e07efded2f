/* The store handle and the helpers every store module uses. */
#ifndef EAUDIT_STORE_INTERNAL_H
#define EAUDIT_STORE_INTERNAL_H

#include "event_internal.h"
#include "options_internal.h"
#include "tz.h"

#include <sqlite3.h>
#include <sys/types.h>

/* Cached prepared statements, prepared on first use. */
typedef enum eaudit__stmt_id {
  EAUDIT__ST_HEAD,
  EAUDIT__ST_HEAD_UPDATE,
  EAUDIT__ST_INSERT_EVENT,
  EAUDIT__ST_ROLLUP,
  EAUDIT__ST_USER_SEEN,
  EAUDIT__ST_USER_EXPIRED,
  EAUDIT__ST_GROUP_EXPIRED,
  EAUDIT__ST_META_GET,
  EAUDIT__ST_META_SET,
  EAUDIT__ST_NAME_AT,
  EAUDIT__ST_NAME_INSERT,
  EAUDIT__ST_NAME_FTS_INSERT,
  EAUDIT__ST_EVENT_COUNT,
  EAUDIT__ST_COUNT
} eaudit__stmt_id;

typedef struct eaudit__vendor_type {
  int code;
  char *name;
  char *label;
} eaudit__vendor_type;

typedef struct eaudit__label {
  int code;
  char *label;
} eaudit__label;

/* Prepared query statements kept for reuse, keyed by their SQL text:
 * compiling the same query shape again costs a lookup, not a prepare. */
#define EAUDIT__QCACHE 16
typedef struct eaudit__qcached {
  char *sql;
  sqlite3_stmt *st;
  int busy; /* handed out to a cursor */
  uint64_t used;
} eaudit__qcached;

typedef struct eaudit__subscriber {
  int id;
  eaudit_event_fn fn;
  void *payload;
  eaudit_query *filter; /* owned copy or NULL */
} eaudit__subscriber;

#define EAUDIT__RANDOM_POOL 512

struct eaudit_store {
  sqlite3 *db;
  pid_t pid;
  unsigned fork_gen; /* see eaudit__store_same_process() */
  char *path;
  int memory, read_only;
  eaudit_options opts; /* a copy; opts.time_zone is not owned */
  eaudit__tz *tz;
  char *tz_name;
  uint8_t store_id[16];
  /* Random bytes drawn ahead from the system (eaudit__random): one
   * getrandom() call serves EAUDIT__RANDOM_POOL / 16 event ids. A handle
   * refuses use after fork(), so parent and child never share them. */
  size_t rnd_used;
  uint8_t rnd[EAUDIT__RANDOM_POOL];
  sqlite3_stmt *stmts[EAUDIT__ST_COUNT];
  /* Vendor types and translated labels, reloaded at each transaction when
   * another handle changed them (meta 'types_version'). */
  eaudit__vendor_type *vtypes;
  size_t n_vtypes;
  eaudit__label *labels;
  size_t n_labels;
  int64_t types_version;
  eaudit__qcached qcache[EAUDIT__QCACHE];
  uint64_t qclock;
  eaudit__subscriber *subs;
  size_t n_subs;
  int next_sub_id;
  int in_txn;
  /* The PostgreSQL backend's state (struct eaudit__pgstore, pg_internal.h)
   * when the store was opened on a postgresql:// URI; NULL on SQLite, where
   * db is set. */
  void *pg;
  /* State owned by the device, rules and integrity modules. */
  void *devices;
  void *rules;
  void *integrity;
};

/* Fails with EAUDIT_EFORK when the handle crossed a fork(). Every public
 * entry point on a store calls it first. */
int eaudit__store_check(const eaudit_store *s);
/* 1 unless the process forked since the handle was opened. */
int eaudit__store_same_process(const eaudit_store *s);
/* 1 when @p path names a PostgreSQL store (postgresql:// or postgres://). */
int eaudit__pg_is_uri(const char *path);
/* EAUDIT_EUNSUPPORTED naming @p fn, for a call the PostgreSQL backend does
 * not offer. */
int eaudit__pg_unsupported(const char *fn);
/* Entry points that work on both backends check the handle with
 * EAUDIT__CHECK_STORE_ANY and dispatch on s->pg themselves. The others use
 * EAUDIT__CHECK_STORE, which refuses a PostgreSQL handle. */
#define EAUDIT__CHECK_STORE_ANY(s)                                             \
  do {                                                                         \
    if ((s) == NULL)                                                           \
      return eaudit__einval("store must not be NULL");                         \
    int chk_ = eaudit__store_check(s);                                         \
    if (chk_)                                                                  \
      return chk_;                                                             \
  } while (0)
#define EAUDIT__CHECK_STORE(s)                                                 \
  do {                                                                         \
    EAUDIT__CHECK_STORE_ANY(s);                                                \
    if ((s)->pg)                                                               \
      return eaudit__pg_unsupported(__func__);                                 \
  } while (0)

/* Map an SQLite result code to an eaudit error, with a context message. */
int eaudit__sqlite_error(eaudit_store *s, int rc, const char *what);

/* The cached statement (reset, bindings cleared), or NULL with the error
 * set. */
sqlite3_stmt *eaudit__stmt(eaudit_store *s, eaudit__stmt_id id);

/* A prepared statement for @p sql from the query cache (or newly
 * prepared), with bindings cleared; give it back with eaudit__stmt_release
 * instead of finalizing it. */
int eaudit__stmt_acquire(eaudit_store *s, const char *sql, sqlite3_stmt **out);
void eaudit__stmt_release(eaudit_store *s, sqlite3_stmt *st);
void eaudit__qcache_free(eaudit_store *s);

/* Run SQL without results. */
int eaudit__exec(eaudit_store *s, const char *sql);

/* Transactions: BEGIN IMMEDIATE (waiting up to the busy timeout) and
 * revalidation of cached state; COMMIT; ROLLBACK. */
/* The checks of every write: EAUDIT_EREADONLY on a read-only handle,
 * EAUDIT_EMISUSE from inside a callback of the same handle. */
int eaudit__write_guard(const eaudit_store *s);
int eaudit__begin(eaudit_store *s);
int eaudit__commit(eaudit_store *s);
void eaudit__rollback(eaudit_store *s);

/* Meta key/value. */
int eaudit__meta_get_int(eaudit_store *s, const char *key, int64_t *out);
int eaudit__meta_set_int(eaudit_store *s, const char *key, int64_t value);
int eaudit__meta_get_text(eaudit_store *s, const char *key, char **out);
int eaudit__meta_set_text(eaudit_store *s, const char *key, const char *v);

/* Schema: create or migrate (store.c calls it during open). */
int eaudit__schema_open(eaudit_store *s, int create);

/* Vendor types. */
int eaudit__types_reload(eaudit_store *s);
int eaudit__type_known(eaudit_store *s, int code);
/* Enumerate every label search can see (eaudit__label_fn). */
int eaudit__type_label_at(void *store, size_t i, int *code,
                          const char **label);

/* Random bytes from the injected source or libsodium. */
int eaudit__random(eaudit_store *s, uint8_t *buf, size_t n);
/* A v7 id for time t. */
int eaudit__uuid_v7(eaudit_store *s, eaudit_time t, uint8_t out[16]);

/* A new audit-of-the-audit event of @p type at the store's now, with the
 * actor as subject and actor and the JSON @p details. */
int eaudit__audit_event(eaudit_store *s, int type, int64_t actor,
                        const char *details, eaudit_event **out);

/* Read one event row (columns in EAUDIT__EVENT_COLUMNS order). */
#define EAUDIT__EVENT_COLUMNS                                                  \
  "seq, id, occurred_at, recorded_at, type, subject, actor, door, grp, "      \
  "device, site, credential, reason, details, hash"
int eaudit__event_from_row(sqlite3_stmt *st, int first_col, eaudit_event *ev);

/* The append path, for modules that write events inside their own
 * transaction (device observations, exports, purges):
 *   validate_events; txn_begin_write; [module state]; append_locked;
 *   txn_end_write (commit or roll back, then notify).
 * append_locked assigns seq, recorded_at, id and hash, writes each event
 * and its derived state, and calls the module hooks below. */
int eaudit__validate_events(eaudit_store *s, eaudit_event *const *evs,
                            size_t n, size_t *failed);
int eaudit__txn_begin_write(eaudit_store *s);
int eaudit__append_locked(eaudit_store *s, eaudit_event *const *evs, size_t n,
                          size_t *failed);
int eaudit__txn_end_write(eaudit_store *s, int rc, eaudit_event *const *evs,
                          size_t n);
void eaudit__event_unassign(eaudit_event *ev);
void eaudit__notify(eaudit_store *s, eaudit_event *const *evs, size_t n);
int eaudit__store_revalidate(eaudit_store *s);

/* Module hooks called by the append path.
 * rules.c: evaluate one stored event inside the transaction; at the end
 * of append_locked (before the head update) write what the evaluation
 * changed; after the transaction ended (committed = 1) deliver or (0)
 * drop pending findings.
 * integrity.c: after the head moved to last_seq/head_hash (n events were
 * appended), e.g. to write a checkpoint in the same transaction. */
int eaudit__rules_on_event(eaudit_store *s, eaudit_event *ev);
int eaudit__rules_end_append(eaudit_store *s);
void eaudit__rules_after_txn(eaudit_store *s, int committed);
int eaudit__integrity_on_append(eaudit_store *s, int64_t last_seq,
                                const uint8_t head_hash[32], size_t n);
/* integrity.c: after a write transaction ended, hand the checkpoints it
 * wrote to the handle's sink (committed = 1) or drop them. */
void eaudit__integrity_after_txn(eaudit_store *s, int committed);
/* 1 when the handle holds a signing key. */
int eaudit__integrity_can_sign(eaudit_store *s);
/* A PostgreSQL handle's purge moved its own chain's base to (seq, hash)
 * in the open transaction: sign it as an ANCHOR checkpoint and drop the
 * checkpoints about removed events only, as a SQLite purge does. */
int eaudit__integrity_pg_anchor(eaudit_store *s, int64_t seq,
                                const uint8_t hash[32]);
/* Retention calls these inside each purge batch, after events up to
 * through_seq were removed. integrity.c has weak defaults that keep
 * everything; rules.c (findings) and devices.c define their own. */
int eaudit__rules_on_purge(eaudit_store *s, int64_t through_seq);
/* How far behind the newest event the rules still read stored events: the
 * longest window of an enabled rule plus the lateness bound. Purges never
 * reach into it. */
int eaudit__rules_horizon(eaudit_store *s, int64_t *out);
int eaudit__devices_on_purge(eaudit_store *s, int64_t through_seq);
/* Free module state kept on the handle (called by eaudit_store_free). */
void eaudit__rules_free(eaudit_store *s);
void eaudit__devices_free(eaudit_store *s);
void eaudit__integrity_free(eaudit_store *s);

/* Tables each module adds to the schema, created with it (schema.c). */
extern const char eaudit__devices_schema[];
extern const char eaudit__rules_schema[];
extern const char eaudit__integrity_schema[];

/* Subscriber filters (query.c). */
int eaudit__query_matches(const eaudit_query *q, const eaudit_event *ev);

#endif
