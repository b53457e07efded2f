/* Device recognition's storage seam (devices_store.c): every read and
 * write of the device state is one statement id below, with its SQLite
 * text and its PostgreSQL text (central tables eaudit.devices and
 * eaudit.device_login_hours, keyed by the handle's own origin). The
 * scoring and the decision table in devices.c run the same on both
 * backends through it. Parameters keep the SQLite numbering (?1..?18);
 * on PostgreSQL the origin is $19. */
#ifndef EAUDIT_DEVICES_STORE_H
#define EAUDIT_DEVICES_STORE_H

#include "store_internal.h"

enum {
  EAUDIT__DQ_ANY,       /* ?1 user, ?2 kind: any device */
  EAUDIT__DQ_BY_KEY,    /* ?3 key: device columns */
  EAUDIT__DQ_BY_CLS,    /* ?3 class, ?4 limit: the most recent first */
  EAUDIT__DQ_CLS_NULL,  /* ?4 limit */
  EAUDIT__DQ_RECENT,    /* ?4 limit */
  EAUDIT__DQ_HAS_OS,    /* ?3 OS key: any device */
  EAUDIT__DQ_BY_OS,     /* ?3 OS key, ?4 limit */
  EAUDIT__DQ_INSERT,    /* the new device's id in insert_id */
  EAUDIT__DQ_UPDATE,    /* ?1 id */
  EAUDIT__DQ_SEEN,      /* ?1 id, ?2 time */
  EAUDIT__DQ_HOUR,      /* ?1 user, ?2 local hour: count one */
  EAUDIT__DQ_HOURS,     /* ?1 user: rows hour, n */
  EAUDIT__DQ_LIST,      /* ?1 user, ?2 ?3 kinds: the devices list */
  EAUDIT__DQ_RENAME,    /* ?1 id, ?2 label */
  EAUDIT__DQ_FORGET,    /* ?1 id */
  EAUDIT__DQ_FORGET_UNSEEN, /* ?1 cutoff */
  EAUDIT__DQ_COUNT
};

/* The columns of the probes (BY_KEY .. BY_OS): id, the attributes
 * EAUDIT_DEVATTR_KEY .. EAUDIT_DEVATTR_IP at their own index, last_seen. */
#define EAUDIT__DQ_COL_LAST_SEEN 12

#define EAUDIT__DQ_MAXP 18

/* One statement run. Use: start, set parameters, run, then for reads next
 * until EAUDIT_DONE and the column getters, and always end. */
typedef struct eaudit__dq {
  eaudit_store *s;
  int id;
  const char *what;
  char kind[EAUDIT__DQ_MAXP + 1]; /* 0 unset, 'i' integer, 't' text */
  int64_t i[EAUDIT__DQ_MAXP + 1];
  const char *t[EAUDIT__DQ_MAXP + 1];
  void *st;  /* SQLite: the cached statement */
  void *res; /* PostgreSQL: the result */
  int row;
  int64_t changed;   /* rows a write changed */
  int64_t insert_id; /* EAUDIT__DQ_INSERT: the new id */
} eaudit__dq;

/* Per-handle state (eaudit_store.devices): the cached SQLite statements,
 * and the file's data version after the handle's last observation. */
typedef struct eaudit__devstate {
  void *st[EAUDIT__DQ_COUNT];
  unsigned version;
  int have_version;
} eaudit__devstate;

/* The handle's state, created on first use (NULL with the error set). */
eaudit__devstate *eaudit__devstate_get(eaudit_store *s);

void eaudit__dq_start(eaudit__dq *q, eaudit_store *s, int id);
void eaudit__dq_int(eaudit__dq *q, int i, int64_t v);
/* NULL is a NULL text. */
void eaudit__dq_text(eaudit__dq *q, int i, const char *v);
/* Run the statement (a write completes here); what names it in errors. */
int eaudit__dq_run(eaudit__dq *q, const char *what);
/* The next row: EAUDIT_OK, EAUDIT_DONE after the last, or an error. */
int eaudit__dq_next(eaudit__dq *q);
int64_t eaudit__dq_col_int(const eaudit__dq *q, int col);
/* NULL for NULL; valid until the next call on q. */
const char *eaudit__dq_col_text(const eaudit__dq *q, int col);
void eaudit__dq_end(eaudit__dq *q);

/* Serialise observations of one user of the handle's origin until the
 * transaction ends (PostgreSQL: a transaction-scoped advisory lock; on
 * SQLite the write transaction already does). */
int eaudit__dq_lock_user(eaudit_store *s, int64_t user);

#endif
