/* The central PostgreSQL store: connection, errors, bound parameters,
 * schema and partitions (pg_schema.c), shared with shipping (pg_ship.c).
 * Compiled only with EAUDIT_HAVE_LIBPQ. See docs/scale-out.md. */
#ifndef EAUDIT_PG_INTERNAL_H
#define EAUDIT_PG_INTERNAL_H

#include "internal.h"

#include <libpq-fe.h>
#include <sqlite3.h>

/* Advisory lock keys. The site lock uses the two-int4 form with this first
 * key and a fold of the site id; schema creation and partition creation
 * use the one-bigint form (a separate key space in pg_locks). */
#define EAUDIT__PG_SITE_LOCK 1161909572 /* 'EAUD' */
#define EAUDIT__PG_SCHEMA_LOCK "4990363612649357313" /* 'EAUD' << 32 | 1 */

/* The second key of a site's lock: a fold of its id. Two sites that share
 * it only serialise their shipping. */
int32_t eaudit__pg_site_key(const uint8_t id[16]);

/* Type oids of the parameters we bind (pg_type.h is server-side). */
#define EAUDIT__OID_BYTEA 17
#define EAUDIT__OID_INT8 20
#define EAUDIT__OID_INT4 23
#define EAUDIT__OID_TEXT 25

/* Bound parameters, all sent in binary. */
#define EAUDIT__PG_MAXP 20
typedef struct eaudit__pgp {
  int n;
  const char *v[EAUDIT__PG_MAXP];
  int len[EAUDIT__PG_MAXP];
  int fmt[EAUDIT__PG_MAXP];
  unsigned types[EAUDIT__PG_MAXP];
  uint8_t num[EAUDIT__PG_MAXP][8];
} eaudit__pgp;

void eaudit__pgp_i64(eaudit__pgp *p, int64_t v);
void eaudit__pgp_i32(eaudit__pgp *p, int32_t v);
void eaudit__pgp_bytes(eaudit__pgp *p, const void *b, size_t n);
void eaudit__pgp_text(eaudit__pgp *p, const char *s);
void eaudit__pgp_null(eaudit__pgp *p, unsigned type);

/* Run a statement with binary parameters and binary results. Returns the
 * result (the caller PQclear()s it) or NULL with the error set. */
PGresult *eaudit__pg_exec(PGconn *c, const char *sql, const eaudit__pgp *p,
                          const char *what);
/* The same with a statement prepared earlier by name. */
PGresult *eaudit__pg_exec_prepared(PGconn *c, const char *name,
                                   const eaudit__pgp *p, const char *what);
/* Run SQL without parameters or results (BEGIN, COMMIT, DDL). */
int eaudit__pg_command(PGconn *c, const char *sql, const char *what);
/* Set the error from a failed result (or the connection when res is NULL):
 * EAUDIT_EIO by default, with the SQLSTATE and the server's message. */
int eaudit__pg_error(PGconn *c, const PGresult *res, const char *what);

/* The bound parameters of one event row of eaudit.events, in the column
 * order origin, seq, id, occurred_at, recorded_at, type, subject, actor,
 * door, grp, device, site, credential, reason, details, hash ($1..$16). */
void eaudit__pg_event_params(eaudit__pgp *p, const uint8_t origin[16],
                             const eaudit_event *ev);
/* Read an event from a binary result row whose columns are seq, id,
 * occurred_at, recorded_at, type, the six ids, credential, reason,
 * details, hash. */
int eaudit__pg_row_event(const PGresult *r, int row, eaudit_event *ev);

/* Inserts go out in libpq pipeline mode, this many between syncs: the
 * results the server sends while we still send stay far below the socket
 * buffers (a blocking-mode pipeline could otherwise deadlock with both
 * sides writing). A sync inside a transaction block does not commit. */
#define EAUDIT__PG_PIPE_CHUNK 256
/* After a failure inside a pipeline: read up to its sync, leave pipeline
 * mode, and return rc, so that the connection stays usable. */
int eaudit__pg_pipe_drain(PGconn *c, int rc);

/* Binary result readers. */
int64_t eaudit__pg_i64(const PGresult *r, int row, int col);
int32_t eaudit__pg_i32(const PGresult *r, int row, int col);

/* A store handle opened on a postgresql:// URI (eaudit_store.pg). Direct
 * appends go to the central store's own chain: the eaudit.sites row with
 * own = true, whose site_id is the origin below. Shipped sites keep their
 * own chains (own = false). */
typedef struct eaudit__pgstore {
  PGconn *conn;       /* one connection per handle */
  uint8_t origin[16]; /* the central store's own chain */
  int has_own;        /* 0: read-only on a database without one yet */
  int prepared;       /* the append statements are prepared */
  /* While the rules evaluate a shipped origin's events (rules.c), the
   * origin their statements bind as $o instead of the own one. */
  int rules_shipped;
  uint8_t rules_origin[16];
  /* First microseconds of the months whose partitions this handle made
   * sure of (pg_store.c). */
  int64_t months[8];
  int n_months, next_month;
} eaudit__pgstore;

/* Check one origin's events against its chain from (base_seq, base_hash)
 * to (head_seq, head_hash), in the caller's snapshot (pg_ship.c). Damage
 * returns EAUDIT_ETAMPER with its EAUDIT_DAMAGE_* kind in *damage and the
 * first bad seq in *bad_seq; *checked counts the events that verified. */
int eaudit__pg_verify_rows(PGconn *c, const uint8_t site[16],
                           int64_t base_seq, const uint8_t base_hash[32],
                           int64_t head_seq, const uint8_t head_hash[32],
                           int64_t *checked, int *damage, int64_t *bad_seq);

/* Validate the URI and connect. */
int eaudit__pg_connect(const char *uri, PGconn **out);
/* Create or migrate the central schema (under its advisory lock). */
int eaudit__pg_schema_open(PGconn *c, int create);
/* Make sure the monthly partition holding time t and the next one
 * exist. */
int eaudit__pg_ensure_month(PGconn *c, int64_t t);
/* The first microsecond of the UTC month holding t, and of the next one
 * (ERANGE near the ends of int64). */
int eaudit__pg_month_bounds(int64_t t, int64_t *lo, int64_t *hi, int *year,
                            int *month);

/* Words of a name folded as SQLite's names_fts folds them: its unicode61
 * tokenizer with remove_diacritics 2, from an in-memory SQLite connection
 * (pg_names.c). */
typedef struct eaudit__folder {
  sqlite3 *db;
  fts5_tokenizer tok;
  Fts5Tokenizer *t;
} eaudit__folder;
int eaudit__fold_open(eaudit__folder *f);
void eaudit__fold_close(eaudit__folder *f);
/* The folded words of text joined by single spaces into out (reset first;
 * NUL-terminated), their number in *n_words when not NULL. */
int eaudit__fold_words(eaudit__folder *f, const char *text, eaudit__buf *out,
                       int *n_words);

#endif
