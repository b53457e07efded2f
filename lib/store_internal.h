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

typedef struct eaudit__subscriber {
  int id;
  eaudit_event_fn fn;
  void *payload;
  eaudit_query *filter; /* owned copy or NULL */
} eaudit__subscriber;

struct eaudit_store {
  sqlite3 *db;
  pid_t pid;
  char *path;
  int memory, read_only;
  eaudit_options opts; /* a copy; opts.time_zone is not owned */
  eaudit__tz *tz;
  char *tz_name;
  uint8_t store_id[16];
  sqlite3_stmt *stmts[EAUDIT__ST_COUNT];
  /* Vendor types and translated labels, reloaded at each transaction when
   * another handle changed them (meta 'types_version'). */
  eaudit__vendor_type *vtypes;
  size_t n_vtypes;
  eaudit__label *labels;
  size_t n_labels;
  int64_t types_version;
  eaudit__subscriber *subs;
  size_t n_subs;
  int next_sub_id;
  int in_txn;
};

/* Fails with EAUDIT_EFORK when the handle crossed a fork(). Every public
 * entry point on a store calls it first. */
int eaudit__store_check(const eaudit_store *s);
#define EAUDIT__CHECK_STORE(s)                                                 \
  do {                                                                         \
    if ((s) == NULL)                                                           \
      return eaudit__einval("store must not be NULL");                         \
    int chk_ = eaudit__store_check(s);                                         \
    if (chk_)                                                                  \
      return chk_;                                                             \
  } while (0)

/* Map an SQLite result code to an eaudit error, with a context message. */
int eaudit__sqlite_error(eaudit_store *s, int rc, const char *what);

/* The cached statement (reset, bindings cleared), or NULL with the error
 * set. */
sqlite3_stmt *eaudit__stmt(eaudit_store *s, eaudit__stmt_id id);

/* Run SQL without results. */
int eaudit__exec(eaudit_store *s, const char *sql);

/* Transactions: BEGIN IMMEDIATE (waiting up to the busy timeout) and
 * revalidation of cached state; COMMIT; ROLLBACK. */
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

/* Read one event row (columns in EAUDIT__EVENT_COLUMNS order). */
#define EAUDIT__EVENT_COLUMNS                                                  \
  "seq, id, occurred_at, recorded_at, type, subject, actor, door, grp, "      \
  "device, site, credential, reason, details, hash"
int eaudit__event_from_row(sqlite3_stmt *st, int first_col, eaudit_event *ev);

/* Subscriber filters (query.c). */
int eaudit__query_matches(const eaudit_query *q, const eaudit_event *ev);

#endif
