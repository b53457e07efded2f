/* Tamper evidence: signed checkpoints, verification, retention and backup
 * (docs/integrity.md). The hash chain itself is computed by the append path
 * (chain.c); this module signs its head, checks it and cuts its prefix. */
#include "chain.h"
#include "checkpoint.h"
#include "pg_chain.h"
#include "pg_integrity.h"
#include "pg_store.h"
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char eaudit__integrity_schema[] =
    /* Checkpoint records exactly as signed; last_seq repeats the record's
     * field so that retention can find the old ones. */
    "CREATE TABLE checkpoints(cseq INTEGER PRIMARY KEY,"
    " last_seq INTEGER NOT NULL, record BLOB NOT NULL);"
    /* The retention anchor: the chain continues after seq with prev = hash.
     * No row means seq 0 and the genesis link. */
    "CREATE TABLE anchor(one INTEGER PRIMARY KEY CHECK (one = 1),"
    " seq INTEGER NOT NULL, hash BLOB NOT NULL);";

/* --- checkpoint records (checkpoint.c) --- */

typedef eaudit__cp cp;
#define CP_SIZE EAUDIT__CP_SIZE

/* --- per-handle state --- */

typedef struct integ {
  uint8_t *sk; /* libsodium secret key (seed || public), or NULL */
  uint8_t pk[32];
  int64_t every_events;
  eaudit_time every_us;
  eaudit_checkpoint_fn sink;
  void *sink_payload;
  uint8_t *pending; /* records written in the open transaction */
  size_t n_pending, cap_pending;
  sqlite3_stmt *st_newest, *st_insert, *st_anchor;
} integ;

static integ *state(eaudit_store *s) {
  if (s->integrity == NULL) {
    integ *g = eaudit__calloc(1, sizeof *g);
    if (g == NULL) {
      eaudit__enomem();
      return NULL;
    }
    g->every_events = 1000;
    g->every_us = INT64_C(3600000000);
    s->integrity = g;
  }
  return s->integrity;
}

static void key_wipe(integ *g) {
  if (g->sk) {
    sodium_memzero(g->sk, crypto_sign_SECRETKEYBYTES);
    sodium_munlock(g->sk, crypto_sign_SECRETKEYBYTES);
    eaudit__free(g->sk);
    g->sk = NULL;
  }
  sodium_memzero(g->pk, sizeof g->pk);
}

void eaudit__integrity_free(eaudit_store *s) {
  integ *g = s->integrity;
  if (g == NULL)
    return;
  key_wipe(g);
  if (s->pid == getpid()) {
    sqlite3_finalize(g->st_newest);
    sqlite3_finalize(g->st_insert);
    sqlite3_finalize(g->st_anchor);
  }
  eaudit__free(g->pending);
  eaudit__free(g);
  s->integrity = NULL;
}

static sqlite3_stmt *cached(eaudit_store *s, sqlite3_stmt **slot,
                            const char *sql) {
  if (*slot == NULL) {
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot,
                                NULL);
    if (rc != SQLITE_OK) {
      eaudit__sqlite_error(s, rc, "preparing a statement");
      return NULL;
    }
  } else {
    sqlite3_reset(*slot);
    sqlite3_clear_bindings(*slot);
  }
  return *slot;
}

static int prepare(eaudit_store *s, const char *sql, sqlite3_stmt **out) {
  int rc = sqlite3_prepare_v2(s->db, sql, -1, out, NULL);
  return rc == SQLITE_OK ? EAUDIT_OK
                         : eaudit__sqlite_error(s, rc, "preparing a statement");
}

static int step_done(eaudit_store *s, sqlite3_stmt *st, const char *what) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? EAUDIT_OK : eaudit__sqlite_error(s, rc, what);
}

/* End a read transaction. A COMMIT that fails (out of memory preparing it)
 * must not leave the snapshot open: the next write would then fail with
 * "cannot start a transaction within a transaction". */
static int end_read(eaudit_store *s) {
  int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK && !sqlite3_get_autocommit(s->db))
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  if (!sqlite3_get_autocommit(s->db))
    return eaudit__sqlite_error(s, rc, "ending a read transaction");
  return EAUDIT_OK;
}

/* Keys: a 32-byte seed or a 64-byte secret key whose second half is the
 * public key of its first. */
static int key_expand(const uint8_t *key, size_t size,
                      uint8_t sk[crypto_sign_SECRETKEYBYTES], uint8_t pk[32]) {
  if (key == NULL || (size != 32 && size != 64))
    return eaudit__error(EAUDIT_EKEY, EAUDIT_ECLASS_INVALID, 0,
                         "a signing key is a 32-byte seed or a 64-byte "
                         "secret key, not %zu bytes",
                         size);
  crypto_sign_seed_keypair(pk, sk, key);
  if (size == 64 && sodium_memcmp(key + 32, pk, 32) != 0) {
    sodium_memzero(sk, crypto_sign_SECRETKEYBYTES);
    return eaudit__error(EAUDIT_EKEY, EAUDIT_ECLASS_INVALID, 0,
                         "the secret key's public half does not belong to "
                         "its seed");
  }
  return EAUDIT_OK;
}

int eaudit_keypair_generate(uint8_t seed_out[32], uint8_t public_out[32]) {
  if (seed_out == NULL || public_out == NULL)
    return eaudit__einval("seed_out and public_out must not be NULL");
  if (sodium_init() < 0)
    return eaudit__error(EAUDIT_ERROR, EAUDIT_ECLASS_OS, 0,
                         "libsodium could not be initialised");
  uint8_t sk[crypto_sign_SECRETKEYBYTES];
  randombytes_buf(seed_out, 32);
  crypto_sign_seed_keypair(public_out, sk, seed_out);
  sodium_memzero(sk, sizeof sk);
  return EAUDIT_OK;
}

int eaudit_signing_public_key(const uint8_t *key, size_t size,
                              uint8_t out[32]) {
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  uint8_t sk[crypto_sign_SECRETKEYBYTES];
  int rc = key_expand(key, size, sk, out);
  sodium_memzero(sk, sizeof sk);
  return rc;
}

/* --- reading the chain's state --- */

static int head_read(eaudit_store *s, int64_t *seq, uint8_t hash[32]) {
  sqlite3_stmt *st = eaudit__stmt(s, EAUDIT__ST_HEAD);
  if (st == NULL)
    return eaudit_error_last()->code;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == 32) {
    *seq = sqlite3_column_int64(st, 0);
    memcpy(hash, sqlite3_column_blob(st, 1), 32);
    sqlite3_reset(st);
    return EAUDIT_OK;
  }
  sqlite3_reset(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE
             ? eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                             "the chain head is missing or damaged")
             : eaudit__sqlite_error(s, rc, "reading the chain head");
}

static int anchor_read(eaudit_store *s, integ *g, int64_t *seq,
                       uint8_t hash[32]) {
  sqlite3_stmt *st =
      cached(s, &g->st_anchor, "SELECT seq, hash FROM anchor WHERE one = 1");
  if (st == NULL)
    return eaudit_error_last()->code;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(st);
    *seq = 0;
    eaudit__chain_genesis(s->store_id, hash);
    return EAUDIT_OK;
  }
  if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == 32) {
    *seq = sqlite3_column_int64(st, 0);
    memcpy(hash, sqlite3_column_blob(st, 1), 32);
    sqlite3_reset(st);
    return EAUDIT_OK;
  }
  sqlite3_reset(st);
  return rc == SQLITE_ROW ? eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE,
                                          0, "the retention anchor is damaged")
                          : eaudit__sqlite_error(s, rc, "reading the anchor");
}

/* The newest stored checkpoint; *found = 0 when there is none. */
static int newest_read(eaudit_store *s, integ *g, cp *out, int *found) {
  if (s->pg) {
    uint8_t rec[CP_SIZE];
    size_t len = 0;
    int rc = eaudit__pg_cp_read(s, 0, rec, sizeof rec, &len, found);
    if (rc || !*found)
      return rc;
    if (eaudit__cp_parse(rec, len, out)) {
      *found = 0;
      return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                           "the newest checkpoint record is damaged");
    }
    return EAUDIT_OK;
  }
  sqlite3_stmt *st =
      cached(s, &g->st_newest,
             "SELECT record FROM checkpoints ORDER BY cseq DESC LIMIT 1");
  if (st == NULL)
    return eaudit_error_last()->code;
  int rc = sqlite3_step(st);
  *found = 0;
  if (rc == SQLITE_DONE) {
    sqlite3_reset(st);
    return EAUDIT_OK;
  }
  if (rc != SQLITE_ROW) {
    sqlite3_reset(st);
    return eaudit__sqlite_error(s, rc, "reading the newest checkpoint");
  }
  rc = eaudit__cp_parse(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                out);
  sqlite3_reset(st);
  if (rc)
    return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                         "the newest checkpoint record is damaged");
  *found = 1;
  return EAUDIT_OK;
}

static int key_mismatch(void) {
  return eaudit__error(EAUDIT_EKEY, EAUDIT_ECLASS_INVALID, 0,
                       "this handle's signing key is not the store's current "
                       "key (rotate with the current key first)");
}

/* The chain's head and retention anchor, inside the open transaction. */
static int chain_state(eaudit_store *s, integ *g, int64_t *head_seq,
                       uint8_t head[32], int64_t *anchor_seq,
                       uint8_t anchor_hash[32]) {
  if (s->pg)
    return eaudit__pg_cp_chain(s, head_seq, head, anchor_seq, anchor_hash);
  int rc = head_read(s, head_seq, head);
  return rc ? rc : anchor_read(s, g, anchor_seq, anchor_hash);
}

static int cp_insert(eaudit_store *s, integ *g, const cp *c) {
  if (s->pg)
    return eaudit__pg_cp_insert(s, c->cseq, c->last_seq, c->rec);
  sqlite3_stmt *st = cached(
      s, &g->st_insert,
      "INSERT INTO checkpoints(cseq, last_seq, record) VALUES (?1, ?2, ?3)");
  if (st == NULL)
    return eaudit_error_last()->code;
  sqlite3_bind_int64(st, 1, c->cseq);
  sqlite3_bind_int64(st, 2, c->last_seq);
  /* A TRANSIENT blob is copied: out of memory leaves the parameter NULL,
   * which must not reach the NOT NULL column as a constraint error. */
  int rc = sqlite3_bind_blob(st, 3, c->rec, CP_SIZE, SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) {
    sqlite3_clear_bindings(st);
    return eaudit__sqlite_error(s, rc, "writing a checkpoint");
  }
  return step_done(s, st, "writing a checkpoint");
}

/* Write a checkpoint inside the open write transaction. For an ANCHOR,
 * base_seq/base_hash are the new chain start; otherwise the retention
 * anchor must still be the one the newest checkpoint signed. */
static int write_checkpoint(eaudit_store *s, integ *g, int kind,
                            const uint8_t next_pk[32], int64_t base_seq,
                            const uint8_t *base_hash, cp *out) {
  if (g == NULL || g->sk == NULL)
    return eaudit__error(EAUDIT_EKEY, EAUDIT_ECLASS_INVALID, 0,
                         "no signing key was given to this handle");
  int64_t head_seq, anchor_seq;
  uint8_t head[32], anchor_hash[32];
  cp newest;
  int found, rc;
  if ((rc = chain_state(s, g, &head_seq, head, &anchor_seq, anchor_hash)) ||
      (rc = newest_read(s, g, &newest, &found)))
    return rc;
  if (found && sodium_memcmp(eaudit__cp_current_key(&newest), g->pk, 32) != 0)
    return key_mismatch();
  if (kind != EAUDIT_CHECKPOINT_ANCHOR) {
    base_seq = anchor_seq;
    base_hash = anchor_hash;
    if (found && (newest.base_seq != anchor_seq ||
                  memcmp(newest.base_hash, anchor_hash, 32) != 0))
      return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                           "the retention anchor moved without a signed "
                           "purge (seq %lld, signed %lld); not signing it",
                           (long long)anchor_seq, (long long)newest.base_seq);
  }
  eaudit__cp_fields f = {kind,     s->store_id, found ? &newest : NULL,
                         head_seq, head,        base_seq,
                         base_hash, eaudit_store_now(s), next_pk};
  cp c;
  eaudit__cp_make(c.rec, &f, g->pk, g->sk);
  eaudit__cp_point(&c);
  if ((rc = cp_insert(s, g, &c)))
    return rc;
  if (g->sink) {
    if (g->n_pending == g->cap_pending) {
      size_t cap = g->cap_pending ? g->cap_pending * 2 : 4;
      uint8_t *p = eaudit__realloc(g->pending, cap * CP_SIZE);
      if (p == NULL)
        return eaudit__enomem();
      g->pending = p;
      g->cap_pending = cap;
    }
    memcpy(g->pending + g->n_pending++ * CP_SIZE, c.rec, CP_SIZE);
  }
  if (out)
    eaudit__cp_parse(c.rec, CP_SIZE, out);
  return EAUDIT_OK;
}

int eaudit__integrity_on_append(eaudit_store *s, int64_t last_seq,
                                const uint8_t head_hash[32], size_t n) {
  (void)head_hash;
  (void)n;
  integ *g = s->integrity;
  /* Most appends end here: no key, or nothing due. */
  if (g == NULL || g->sk == NULL || (g->every_events == 0 && g->every_us == 0))
    return EAUDIT_OK;
  cp newest;
  int found;
  int rc = newest_read(s, g, &newest, &found);
  if (rc == EAUDIT_ETAMPER) {
    eaudit__log(EAUDIT_LOG_ERROR, "not checkpointing: %s",
                eaudit_error_last()->message);
    return EAUDIT_OK;
  }
  if (rc)
    return rc;
  int due =
      !found ||
      (g->every_events && last_seq - newest.last_seq >= g->every_events) ||
      (g->every_us && eaudit_store_now(s) - newest.at >= g->every_us);
  if (!due)
    return EAUDIT_OK;
  rc = write_checkpoint(s, g, EAUDIT_CHECKPOINT_REGULAR, NULL, 0, NULL, NULL);
  if (rc == EAUDIT_EKEY || rc == EAUDIT_ETAMPER) {
    /* The event matters more than its checkpoint: keep the append, say why
     * no checkpoint was written; verification will show it. */
    eaudit__log(EAUDIT_LOG_ERROR, "checkpoint after seq %lld not written: %s",
                (long long)last_seq, eaudit_error_last()->message);
    return EAUDIT_OK;
  }
  return rc;
}

int eaudit__integrity_can_sign(eaudit_store *s) {
  const integ *g = s->integrity;
  return g != NULL && g->sk != NULL;
}

int eaudit__integrity_pg_anchor(eaudit_store *s, int64_t seq,
                                const uint8_t hash[32]) {
  int rc = write_checkpoint(s, s->integrity, EAUDIT_CHECKPOINT_ANCHOR, NULL,
                            seq, hash, NULL);
  return rc ? rc : eaudit__pg_cp_prune(s, seq);
}

void eaudit__integrity_after_txn(eaudit_store *s, int committed) {
  integ *g = s->integrity;
  if (g == NULL || g->n_pending == 0)
    return;
  size_t n = g->n_pending;
  g->n_pending = 0;
  if (!committed || g->sink == NULL)
    return;
  for (size_t i = 0; i < n; i++) {
    int rc = g->sink(g->pending + i * CP_SIZE, CP_SIZE, g->sink_payload);
    if (rc != 0)
      eaudit__log(EAUDIT_LOG_WARN, "checkpoint sink returned %d; ignored", rc);
  }
}

/* --- keys, policy, on-demand checkpoints --- */

int eaudit_store_set_signing_key(eaudit_store *s, const uint8_t *key,
                                 size_t size) {
  EAUDIT__CHECK_STORE_ANY(s);
  integ *g = state(s);
  if (g == NULL)
    return EAUDIT_ENOMEM;
  if (key == NULL && size == 0) {
    key_wipe(g);
    return EAUDIT_OK;
  }
  uint8_t *sk = eaudit__malloc(crypto_sign_SECRETKEYBYTES);
  if (sk == NULL)
    return eaudit__enomem();
  sodium_mlock(sk, crypto_sign_SECRETKEYBYTES); /* best effort */
  uint8_t pk[32];
  int rc = key_expand(key, size, sk, pk);
  if (rc == 0) {
    cp newest;
    int found;
    rc = newest_read(s, g, &newest, &found);
    if (rc == 0 && found && sodium_memcmp(eaudit__cp_current_key(&newest), pk, 32) != 0)
      rc = key_mismatch();
  }
  if (rc) {
    sodium_memzero(sk, crypto_sign_SECRETKEYBYTES);
    sodium_munlock(sk, crypto_sign_SECRETKEYBYTES);
    eaudit__free(sk);
    return rc;
  }
  key_wipe(g);
  g->sk = sk;
  memcpy(g->pk, pk, 32);
  return EAUDIT_OK;
}

int eaudit_store_set_checkpoint_policy(eaudit_store *s, int64_t every_events,
                                       eaudit_time every_us) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (every_events < 0 || every_us < 0)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "checkpoint intervals must not be negative");
  integ *g = state(s);
  if (g == NULL)
    return EAUDIT_ENOMEM;
  g->every_events = every_events;
  g->every_us = every_us;
  return EAUDIT_OK;
}

int eaudit_store_set_checkpoint_sink(eaudit_store *s, eaudit_checkpoint_fn fn,
                                     void *payload) {
  EAUDIT__CHECK_STORE_ANY(s);
  integ *g = state(s);
  if (g == NULL)
    return EAUDIT_ENOMEM;
  g->sink = fn;
  g->sink_payload = payload;
  return EAUDIT_OK;
}

/* One checkpoint in its own write transaction. tick: only when due. */
static int checkpoint_txn(eaudit_store *s, int kind, const uint8_t *next_pk,
                          int tick, int64_t *cseq_out) {
  integ *g = s->integrity;
  if (g == NULL || g->sk == NULL)
    return eaudit__error(EAUDIT_EKEY, EAUDIT_ECLASS_INVALID, 0,
                         "no signing key was given to this handle");
  int rc = s->pg ? eaudit__pg_cp_begin(s) : eaudit__txn_begin_write(s);
  if (rc)
    return rc;
  int skipped = 0;
  cp out;
  if (tick) {
    cp newest;
    int found;
    rc = newest_read(s, g, &newest, &found);
    if (rc == 0 && found && g->every_us &&
        eaudit_store_now(s) - newest.at < g->every_us)
      skipped = 1;
  }
  if (rc == 0 && !skipped)
    rc = write_checkpoint(s, g, kind, next_pk, 0, NULL, &out);
  if (s->pg) {
    rc = eaudit__pg_cp_end(s, rc);
    eaudit__integrity_after_txn(s, rc == 0);
  } else
    rc = eaudit__txn_end_write(s, rc, NULL, 0);
  if (rc)
    return rc;
  if (skipped)
    return EAUDIT_DONE;
  if (cseq_out)
    *cseq_out = out.cseq;
  return EAUDIT_OK;
}

int eaudit_store_checkpoint(eaudit_store *s, int64_t *cseq_out) {
  EAUDIT__CHECK_STORE_ANY(s);
  return checkpoint_txn(s, EAUDIT_CHECKPOINT_REGULAR, NULL, 0, cseq_out);
}

int eaudit_store_checkpoint_tick(eaudit_store *s) {
  EAUDIT__CHECK_STORE_ANY(s);
  return checkpoint_txn(s, EAUDIT_CHECKPOINT_REGULAR, NULL, 1, NULL);
}

int eaudit_store_rotate_key(eaudit_store *s, const uint8_t *new_key,
                            size_t size) {
  EAUDIT__CHECK_STORE_ANY(s);
  uint8_t *sk = eaudit__malloc(crypto_sign_SECRETKEYBYTES);
  if (sk == NULL)
    return eaudit__enomem();
  sodium_mlock(sk, crypto_sign_SECRETKEYBYTES);
  uint8_t pk[32];
  int rc = key_expand(new_key, size, sk, pk);
  if (rc == 0 && s->integrity && ((integ *)s->integrity)->sk &&
      sodium_memcmp(((integ *)s->integrity)->pk, pk, 32) == 0)
    rc = eaudit__error(EAUDIT_EKEY, EAUDIT_ECLASS_INVALID, 0,
                       "the new key is the current key");
  if (rc == 0)
    rc = checkpoint_txn(s, EAUDIT_CHECKPOINT_ROTATION, pk, 0, NULL);
  if (rc) {
    sodium_memzero(sk, crypto_sign_SECRETKEYBYTES);
    sodium_munlock(sk, crypto_sign_SECRETKEYBYTES);
    eaudit__free(sk);
    return rc;
  }
  integ *g = s->integrity;
  key_wipe(g);
  g->sk = sk;
  memcpy(g->pk, pk, 32);
  return EAUDIT_OK;
}

int eaudit_store_checkpoint_get(eaudit_store *s, int64_t cseq, uint8_t *out,
                                size_t cap, size_t *len_out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL || cseq < 0)
    return eaudit__einval("out must not be NULL and cseq not negative");
  if (cap < CP_SIZE)
    return eaudit__error(EAUDIT_ETOOBIG, EAUDIT_ECLASS_INVALID, 0,
                         "a checkpoint needs %d bytes, the buffer has %zu",
                         CP_SIZE, cap);
  if (s->pg) {
    int found = 0;
    size_t len = 0;
    int rc = eaudit__pg_cp_read(s, cseq, out, cap, &len, &found);
    if (rc == 0 && !found)
      rc = eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_STORE, 0,
                         "no checkpoint %lld (0: none yet)", (long long)cseq);
    else if (rc == 0 && len != CP_SIZE)
      rc = eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                         "checkpoint record is damaged");
    if (rc == 0 && len_out)
      *len_out = CP_SIZE;
    return rc;
  }
  sqlite3_stmt *st = NULL;
  int rc = prepare(s,
                   cseq ? "SELECT record FROM checkpoints WHERE cseq = ?1"
                        : "SELECT record FROM checkpoints ORDER BY cseq DESC "
                          "LIMIT 1",
                   &st);
  if (rc)
    return rc;
  if (cseq)
    sqlite3_bind_int64(st, 1, cseq);
  int src = sqlite3_step(st);
  if (src == SQLITE_ROW) {
    int n = sqlite3_column_bytes(st, 0);
    if (n != CP_SIZE)
      rc = eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                         "checkpoint record is damaged");
    else {
      memcpy(out, sqlite3_column_blob(st, 0), CP_SIZE);
      if (len_out)
        *len_out = CP_SIZE;
    }
  } else if (src == SQLITE_DONE)
    rc = eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_STORE, 0,
                       "no checkpoint %lld (0: none yet)", (long long)cseq);
  else
    rc = eaudit__sqlite_error(s, src, "reading a checkpoint");
  sqlite3_finalize(st);
  return rc;
}

/* A new file, 0600 whatever the umask; EEXISTS when it is there. */
static int create_new(const char *path, int *fd_out) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return eaudit__error(errno == EEXIST ? EAUDIT_EEXISTS : EAUDIT_EIO,
                         EAUDIT_ECLASS_OS, errno, "cannot create '%s': %s",
                         path, strerror(errno));
  if (fchmod(fd, 0600) != 0) {
    int e = errno;
    close(fd);
    unlink(path);
    return eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_OS, e,
                         "cannot set the permissions of '%s': %s", path,
                         strerror(e));
  }
  *fd_out = fd;
  return EAUDIT_OK;
}

/* Write n bytes to fd. */
static int write_all(int fd, const char *path, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_OS, errno,
                           "writing '%s': %s", path, strerror(errno));
    p += w;
    n -= (size_t)w;
  }
  return EAUDIT_OK;
}

/* The file of export_checkpoints from the records already read, bytes
 * long. */
static int export_records(const char *path, const uint8_t *recs,
                          size_t bytes) {
  int fd;
  int rc = create_new(path, &fd);
  if (rc)
    return rc;
  rc = write_all(fd, path, recs, bytes);
  if (rc == 0 && fsync(fd) != 0)
    rc = eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_OS, errno, "syncing '%s': %s",
                       path, strerror(errno));
  close(fd);
  if (rc)
    unlink(path);
  return rc;
}

int eaudit_store_export_checkpoints(eaudit_store *s, const char *path) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (path == NULL || path[0] == '\0')
    return eaudit__einval("path must be given");
  if (s->pg) {
    uint8_t *recs = NULL;
    size_t n = 0;
    int rc = eaudit__pg_cp_all(s, &recs, &n);
    if (rc == 0)
      rc = export_records(path, recs, n);
    eaudit__free(recs);
    return rc;
  }
  sqlite3_stmt *st = NULL;
  int rc = prepare(s, "SELECT record FROM checkpoints ORDER BY cseq", &st);
  if (rc)
    return rc;
  int fd;
  if ((rc = create_new(path, &fd))) {
    sqlite3_finalize(st);
    return rc;
  }
  int src;
  while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
    rc = write_all(fd, path, sqlite3_column_blob(st, 0),
                   (size_t)sqlite3_column_bytes(st, 0));
  }
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__sqlite_error(s, src, "reading checkpoints");
  sqlite3_finalize(st);
  if (rc == 0 && fsync(fd) != 0)
    rc = eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_OS, errno, "syncing '%s': %s",
                       path, strerror(errno));
  close(fd);
  if (rc)
    unlink(path);
  return rc;
}

/* --- rollup keys: local day, type, subject --- */

typedef struct rkey {
  int64_t day, type, subject, n, min_seq;
  int used;
} rkey;

typedef struct rmap {
  rkey *slots;
  size_t cap, n;
} rmap;

static size_t rhash(int64_t day, int64_t type, int64_t subject) {
  uint64_t h = (uint64_t)day * 0x9E3779B97F4A7C15u;
  h ^= (uint64_t)type * 0xC2B2AE3D27D4EB4Fu + (h >> 29);
  h ^= (uint64_t)subject * 0x165667B19E3779F9u + (h >> 32);
  return (size_t)(h ^ (h >> 31));
}

static rkey *rmap_slot(rmap *m, int64_t day, int64_t type, int64_t subject) {
  size_t mask = m->cap - 1;
  for (size_t i = rhash(day, type, subject) & mask;; i = (i + 1) & mask) {
    rkey *k = &m->slots[i];
    if (!k->used || (k->day == day && k->type == type && k->subject == subject))
      return k;
  }
}

static int rmap_add(rmap *m, int64_t day, int64_t type, int64_t subject,
                    int64_t seq) {
  if (2 * (m->n + 1) > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 256;
    rmap bigger = {eaudit__calloc(cap, sizeof(rkey)), cap, 0};
    if (bigger.slots == NULL)
      return eaudit__enomem();
    for (size_t i = 0; i < m->cap; i++)
      if (m->slots[i].used) {
        rkey *k = &m->slots[i];
        *rmap_slot(&bigger, k->day, k->type, k->subject) = *k;
        bigger.n++;
      }
    eaudit__free(m->slots);
    *m = bigger;
  }
  rkey *k = rmap_slot(m, day, type, subject);
  if (!k->used) {
    k->used = 1;
    k->day = day;
    k->type = type;
    k->subject = subject;
    k->n = 0;
    k->min_seq = seq;
    m->n++;
  }
  k->n++;
  return EAUDIT_OK;
}

static void rmap_free(rmap *m) {
  eaudit__free(m->slots);
  m->slots = NULL;
  m->cap = m->n = 0;
}

static int rollup_key_add(eaudit_store *s, eaudit__day_cache *dc, rmap *m,
                          const eaudit_event *ev) {
  eaudit_time day;
  int rc =
      eaudit__tz_local_day(s->tz, dc, ev->v[EAUDIT_FIELD_OCCURRED_AT], &day);
  if (rc)
    return rc;
  return rmap_add(
      m, day, ev->v[EAUDIT_FIELD_TYPE],
      EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT) ? ev->v[EAUDIT_FIELD_SUBJECT] : -1,
      ev->v[EAUDIT_FIELD_SEQ]);
}

/* --- people: what users and groups keep from the events --- */

/* Per user (kind 0) or group (kind 1): the newest activity, expiry and
 * prolongation the events show, and the seqs that show them. */
typedef struct ukey {
  int64_t id, last, expired, prolonged;
  int64_t last_seq, expired_seq, prolonged_seq;
  int kind, used;
} ukey;

typedef struct umap {
  ukey *slots;
  size_t cap, n;
} umap;

static ukey *umap_slot(umap *m, int kind, int64_t id) {
  size_t mask = m->cap - 1;
  uint64_t h = ((uint64_t)id * 0x9E3779B97F4A7C15u) ^ (uint64_t)kind;
  for (size_t i = (size_t)(h ^ (h >> 29)) & mask;; i = (i + 1) & mask) {
    ukey *k = &m->slots[i];
    if (!k->used || (k->kind == kind && k->id == id))
      return k;
  }
}

static int umap_get(umap *m, int kind, int64_t id, ukey **out) {
  if (2 * (m->n + 1) > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 256;
    umap bigger = {eaudit__calloc(cap, sizeof(ukey)), cap, 0};
    if (bigger.slots == NULL)
      return eaudit__enomem();
    for (size_t i = 0; i < m->cap; i++)
      if (m->slots[i].used) {
        *umap_slot(&bigger, m->slots[i].kind, m->slots[i].id) = m->slots[i];
        bigger.n++;
      }
    eaudit__free(m->slots);
    *m = bigger;
  }
  ukey *k = umap_slot(m, kind, id);
  if (!k->used) {
    memset(k, 0, sizeof *k);
    k->used = 1;
    k->kind = kind;
    k->id = id;
    k->last = k->expired = k->prolonged = INT64_MIN;
    m->n++;
  }
  *out = k;
  return EAUDIT_OK;
}

static void umap_max(int64_t *v, int64_t *vseq, int64_t at, int64_t seq) {
  if (*vseq == 0 || at > *v) {
    *v = at;
    *vseq = seq;
  }
}

/* The append path's rules (append.c): the subject and a different actor
 * are seen at occurred_at; expiry and prolongation go to the subject, or
 * to the group when there is no subject. */
static int people_add(umap *m, const eaudit_event *ev) {
  int64_t at = ev->v[EAUDIT_FIELD_OCCURRED_AT], seq = ev->v[EAUDIT_FIELD_SEQ];
  int64_t type = ev->v[EAUDIT_FIELD_TYPE];
  int has_subject = EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT);
  ukey *k;
  int rc;
  if (has_subject) {
    if ((rc = umap_get(m, 0, ev->v[EAUDIT_FIELD_SUBJECT], &k)))
      return rc;
    umap_max(&k->last, &k->last_seq, at, seq);
  }
  if (EAUDIT__HAS(ev, EAUDIT_FIELD_ACTOR) &&
      (!has_subject ||
       ev->v[EAUDIT_FIELD_ACTOR] != ev->v[EAUDIT_FIELD_SUBJECT])) {
    if ((rc = umap_get(m, 0, ev->v[EAUDIT_FIELD_ACTOR], &k)))
      return rc;
    umap_max(&k->last, &k->last_seq, at, seq);
  }
  if (type != EAUDIT_TYPE_PERMISSIONS_EXPIRED &&
      type != EAUDIT_TYPE_PERMISSIONS_PROLONGED)
    return EAUDIT_OK;
  if (!has_subject && !EAUDIT__HAS(ev, EAUDIT_FIELD_GROUP))
    return EAUDIT_OK;
  if ((rc = umap_get(m, has_subject ? 0 : 1,
                     ev->v[has_subject ? EAUDIT_FIELD_SUBJECT
                                       : EAUDIT_FIELD_GROUP],
                     &k)))
    return rc;
  if (type == EAUDIT_TYPE_PERMISSIONS_EXPIRED)
    umap_max(&k->expired, &k->expired_seq, at, seq);
  else
    umap_max(&k->prolonged, &k->prolonged_seq, at, seq);
  return EAUDIT_OK;
}

static void umap_free(umap *m) {
  eaudit__free(m->slots);
  m->slots = NULL;
  m->cap = m->n = 0;
}

/* --- verification --- */

/* A checkpoint's claim "the chain link at seq is head". */
typedef struct expect {
  int64_t seq, cseq; /* cseq 0: the off-device checkpoint */
  const uint8_t *head;
} expect;

typedef struct vctx {
  eaudit_store *s; /* a SQLite store: its derived data is checked too */
  const eaudit__chain_src *src;
  const uint8_t *id; /* the store id the checkpoints must name */
  int copy;          /* eaudit__chain_view.copy */
  int derived;       /* collect what the derived tables must hold */
  eaudit_verify_result *r;
  unsigned flags;
  int64_t head_seq, anchor_seq;
  uint8_t head_hash[32], anchor_hash[32];
  cp *cps;
  size_t n_cps;
  cp newest; /* off-device */
  int has_newest;
  expect *exps;
  size_t n_exps;
  int base_exp; /* the newest checkpoint's base is a link to check */
  rmap roll;
  umap people;
  eaudit__day_cache dc;
} vctx;

static int damage(vctx *v, int kind, int64_t seq, const char *fmt, ...)
    EAUDIT__PRINTF(4, 5);
static int damage(vctx *v, int kind, int64_t seq, const char *fmt, ...) {
  if (v->r->damage == EAUDIT_DAMAGE_NONE) {
    v->r->damage = kind;
    v->r->first_bad = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->r->message, sizeof v->r->message, fmt, ap);
    va_end(ap);
  }
  return 1; /* stop */
}

/* One stored checkpoint, in cseq order; 1 stops on damage. */
static int add_checkpoint(void *arg, int64_t cseq, int64_t last_seq,
                          const void *rec, size_t len) {
  vctx *v = arg;
  if (v->n_cps % 64 == 0) {
    cp *p = eaudit__realloc(v->cps, (v->n_cps + 64) * sizeof *p);
    if (p == NULL)
      return eaudit__enomem();
    v->cps = p;
    for (size_t i = 0; i < v->n_cps; i++)
      eaudit__cp_point(&v->cps[i]); /* the array moved */
  }
  cp *c = &v->cps[v->n_cps];
  if (eaudit__cp_parse(rec, len, c) != 0) {
    eaudit_error_clear();
    return damage(v, EAUDIT_DAMAGE_MODIFIED, v->anchor_seq + 1,
                  "checkpoint %lld is not a valid record", (long long)cseq);
  }
  v->n_cps++;
  if (c->cseq != cseq || c->last_seq != last_seq)
    return damage(v, EAUDIT_DAMAGE_MODIFIED, v->anchor_seq + 1,
                  "checkpoint %lld's row does not match its record",
                  (long long)cseq);
  return 0;
}

static int load_checkpoints(vctx *v) {
  int rc = v->src->checkpoints(v->src->ctx, add_checkpoint, v);
  return rc > 0 ? 0 : rc; /* damage is in the result */
}

/* The first seq not covered by the checkpoints before index i. */
static int64_t after_cp(const vctx *v, size_t i) {
  int64_t seq = i > 0 ? v->cps[i - 1].last_seq : v->anchor_seq;
  return (seq > v->anchor_seq ? seq : v->anchor_seq) + 1;
}

/* Structure, links and signatures of the stored checkpoints. Returns 1
 * when damage was found. */
static int check_checkpoints(vctx *v, const uint8_t *trusted) {
  uint8_t cur[32];
  int have_cur = 0, reached = 0;
  for (size_t i = 0; i < v->n_cps; i++) {
    const cp *c = &v->cps[i];
    if (memcmp(c->store, v->id, 16) != 0)
      return damage(v, EAUDIT_DAMAGE_MODIFIED, after_cp(v, i),
                    "checkpoint %lld belongs to another store",
                    (long long)c->cseq);
    if (i > 0) {
      const cp *p = &v->cps[i - 1];
      uint8_t d[32];
      eaudit__cp_digest(p->rec, d);
      if (c->cseq != p->cseq + 1)
        return damage(v, EAUDIT_DAMAGE_DELETED, after_cp(v, i),
                      "checkpoints %lld to %lld are missing",
                      (long long)p->cseq + 1, (long long)c->cseq - 1);
      if (memcmp(c->prev, d, 32) != 0 || c->last_seq < p->last_seq ||
          c->base_seq < p->base_seq)
        return damage(v, EAUDIT_DAMAGE_MODIFIED, after_cp(v, i),
                      "checkpoint %lld does not follow checkpoint %lld",
                      (long long)c->cseq, (long long)p->cseq);
    }
    if (c->count != c->last_seq - c->base_seq)
      return damage(v, EAUDIT_DAMAGE_MODIFIED, after_cp(v, i),
                    "checkpoint %lld counts %lld events for seq %lld..%lld",
                    (long long)c->cseq, (long long)c->count,
                    (long long)c->base_seq + 1, (long long)c->last_seq);
    if (trusted == NULL)
      continue;
    v->r->checkpoints++;
    if (!have_cur) {
      if (eaudit__cp_signed_by(c, trusted)) {
        memcpy(cur, trusted, 32);
      } else if (eaudit__cp_signed_by(c, c->signer)) {
        memcpy(cur, c->signer, 32);
      } else
        return damage(v, EAUDIT_DAMAGE_MODIFIED, after_cp(v, i),
                      "checkpoint %lld has a bad signature",
                      (long long)c->cseq);
      have_cur = 1;
    } else if (!eaudit__cp_signed_by(c, cur)) {
      if (eaudit__cp_signed_by(c, c->signer))
        return damage(v, EAUDIT_DAMAGE_WRONG_KEY, after_cp(v, i),
                      "checkpoint %lld is signed by a key that is not the "
                      "store's current one",
                      (long long)c->cseq);
      return damage(v, EAUDIT_DAMAGE_MODIFIED, after_cp(v, i),
                    "checkpoint %lld has a bad signature", (long long)c->cseq);
    }
    if (sodium_memcmp(c->signer, cur, 32) != 0)
      return damage(v, EAUDIT_DAMAGE_MODIFIED, after_cp(v, i),
                    "checkpoint %lld names another signer", (long long)c->cseq);
    if (sodium_memcmp(cur, trusted, 32) == 0)
      reached = 1;
    if (c->kind == EAUDIT_CHECKPOINT_ROTATION) {
      memcpy(cur, c->next, 32);
      if (sodium_memcmp(cur, trusted, 32) == 0 && i + 1 < v->n_cps)
        reached = 1;
    }
  }
  if (trusted && !reached)
    return damage(v, EAUDIT_DAMAGE_WRONG_KEY, v->anchor_seq + 1,
                  "no checkpoint is signed by the trusted public key");
  if (trusted && v->has_newest) {
    const cp *c = &v->newest;
    int ok = eaudit__cp_signed_by(c, trusted) || (have_cur && eaudit__cp_signed_by(c, cur));
    if (!ok)
      return damage(v, EAUDIT_DAMAGE_WRONG_KEY, v->anchor_seq + 1,
                    "the off-device checkpoint %lld is not signed by the "
                    "trusted key",
                    (long long)c->cseq);
    v->r->checkpoints++;
  }
  if (v->has_newest) {
    const cp *c = &v->newest;
    for (size_t i = 0; i < v->n_cps; i++)
      if (v->cps[i].cseq == c->cseq &&
          memcmp(v->cps[i].rec, c->rec, CP_SIZE) != 0)
        return damage(v, EAUDIT_DAMAGE_MODIFIED, after_cp(v, i),
                      "checkpoint %lld differs from its off-device copy",
                      (long long)c->cseq);
  }
  /* The chain must start where the newest checkpoint says retention left
   * it: events removed outside a signed purge show here. */
  if (v->n_cps > 0) {
    const cp *n = &v->cps[v->n_cps - 1];
    if (v->anchor_seq > n->base_seq)
      return damage(v, EAUDIT_DAMAGE_DELETED, n->base_seq + 1,
                    "events %lld..%lld were removed without a signed "
                    "retention anchor",
                    (long long)n->base_seq + 1, (long long)v->anchor_seq);
    if (v->copy && v->anchor_seq < n->base_seq)
      v->base_exp = 1; /* the site purged after this copy's base */
    else if (v->anchor_seq != n->base_seq ||
             memcmp(v->anchor_hash, n->base_hash, 32) != 0)
      return damage(v, EAUDIT_DAMAGE_MODIFIED, v->anchor_seq + 1,
                    "the retention anchor (seq %lld) is not the signed one "
                    "(seq %lld)",
                    (long long)v->anchor_seq, (long long)n->base_seq);
  }
  return 0;
}

static int exp_cmp(const void *a, const void *b) {
  const expect *x = a, *y = b;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

static int build_expectations(vctx *v) {
  v->exps = eaudit__calloc(v->n_cps + 2, sizeof *v->exps);
  if (v->exps == NULL)
    return eaudit__enomem();
  for (size_t i = 0; i < v->n_cps; i++)
    v->exps[v->n_exps++] =
        (expect){v->cps[i].last_seq, v->cps[i].cseq, v->cps[i].head};
  if (v->has_newest)
    v->exps[v->n_exps++] = (expect){v->newest.last_seq, 0, v->newest.head};
  if (v->base_exp) {
    const cp *n = &v->cps[v->n_cps - 1];
    v->exps[v->n_exps++] = (expect){n->base_seq, n->cseq, n->base_hash};
  }
  qsort(v->exps, v->n_exps, sizeof *v->exps, exp_cmp);
  return EAUDIT_OK;
}

static int link_is(const eaudit_event *ev, int64_t seq, const uint8_t prev[32],
                   const uint8_t want[32]) {
  eaudit_event *e = (eaudit_event *)ev;
  int64_t keep = e->v[EAUDIT_FIELD_SEQ];
  uint8_t h[32];
  e->v[EAUDIT_FIELD_SEQ] = seq;
  eaudit__chain_link(e, prev, h);
  e->v[EAUDIT_FIELD_SEQ] = keep;
  return memcmp(h, want, 32) == 0;
}

#define ROW_SQL "SELECT " EAUDIT__EVENT_COLUMNS " FROM events "

/* The canonical bytes hold type in 4 bytes and credential and reason in 2:
 * a stored value outside those widths would not be covered by the hash. */
static int fits_canonical(const eaudit_event *ev) {
  return (uint64_t)ev->v[EAUDIT_FIELD_TYPE] <= UINT32_MAX &&
         (uint64_t)ev->v[EAUDIT_FIELD_CREDENTIAL] <= UINT16_MAX &&
         (uint64_t)ev->v[EAUDIT_FIELD_REASON] <= UINT16_MAX;
}

/* The row at seq i fails its link (prev is the good link before it, pprev
 * the one before that or NULL). Tell a modified event from inserted,
 * removed (and renumbered) and reordered ones; *bad is the first bad seq. */
static int classify(vctx *v, const eaudit_event *row, int64_t i,
                    const uint8_t prev[32], const uint8_t *pprev, int *kind,
                    int64_t *bad) {
  *kind = EAUDIT_DAMAGE_MODIFIED;
  *bad = i;
  if (!row->has_id || !row->has_hash)
    return EAUDIT_OK;
  /* This row belongs one seq earlier: the row before it was slipped in
   * (with a link the forger computed). */
  if (pprev && link_is(row, i - 1, pprev, row->hash)) {
    *kind = EAUDIT_DAMAGE_INSERTED;
    *bad = i - 1;
    return EAUDIT_OK;
  }
  const eaudit__chain_src *src = v->src;
  void *it = NULL;
  eaudit_event nx, other;
  memset(&nx, 0, sizeof nx);
  memset(&other, 0, sizeof other);
  int rc = src->open(src->ctx, i, &it);
  if (rc)
    return rc;
  rc = src->next(it, &nx);
  src->close(it);
  int have_nx = rc == EAUDIT_OK;
  if (rc == EAUDIT_DONE)
    rc = EAUDIT_OK;
  if (rc)
    goto out;
  /* Removed and the rest renumbered down: the next row continues the chain
   * from this row's hash one seq later. */
  if (have_nx && nx.has_hash && link_is(&nx, i + 2, row->hash, nx.hash)) {
    *kind = EAUDIT_DAMAGE_DELETED;
    goto out;
  }
  /* The next row still continues from this row's stored link: the link is
   * genuine and the row's content was changed in place. */
  if (have_nx && nx.has_hash &&
      link_is(&nx, nx.v[EAUDIT_FIELD_SEQ], row->hash, nx.hash))
    goto out;
  /* Where is the event that belongs at i? */
  if ((rc = src->open(src->ctx, INT64_MIN, &it)))
    goto out;
  int64_t found = 0;
  uint8_t found_hash[32];
  while ((rc = src->next(it, &other)) == EAUDIT_OK) {
    if (other.v[EAUDIT_FIELD_SEQ] == i)
      continue;
    if (other.has_hash && link_is(&other, i, prev, other.hash)) {
      found = other.v[EAUDIT_FIELD_SEQ];
      memcpy(found_hash, other.hash, 32);
      break;
    }
  }
  src->close(it);
  if (rc == EAUDIT_DONE)
    rc = EAUDIT_OK;
  if (rc || found == 0)
    goto out;
  if (found == i + 1 && !link_is(row, i + 1, found_hash, row->hash))
    *kind = EAUDIT_DAMAGE_INSERTED; /* a forged row pushed it down */
  else
    *kind = EAUDIT_DAMAGE_REORDERED;
out:
  eaudit__event_release(&nx);
  eaudit__event_release(&other);
  return rc;
}

/* Recompute the chain from the anchor. Returns 1 on damage.
 * A checkpoint that disagrees with the chain at seq L says "something after
 * the last good checkpoint was rewritten". The next row may say more
 * precisely what (a row slipped in at L with a forged link), so that
 * verdict waits one row. */
static int scan_events(vctx *v) {
  void *it = NULL;
  int rc = v->src->open(v->src->ctx, INT64_MIN, &it);
  if (rc)
    return rc;
  eaudit_event ev;
  memset(&ev, 0, sizeof ev);
  uint8_t prev[32], pprev[32], link[32];
  memcpy(prev, v->anchor_hash, 32);
  int64_t expected = v->anchor_seq + 1, good = v->anchor_seq;
  int64_t pend_at = 0, pend_bad = 0; /* a checkpoint mismatch waiting */
  char pend_msg[256] = "";
  size_t k = 0;
#define PENDING_FIRST(d)                                                       \
  do {                                                                         \
    if (pend_at && (d) > pend_at)                                              \
      damage(v, EAUDIT_DAMAGE_MODIFIED, pend_bad, "%s", pend_msg);             \
  } while (0)
  /* Claims about links at or before the anchor: only the anchor's own. */
  for (; k < v->n_exps && v->exps[k].seq <= v->anchor_seq; k++)
    if (v->exps[k].seq == v->anchor_seq &&
        memcmp(v->exps[k].head, v->anchor_hash, 32) != 0) {
      rc = damage(v, EAUDIT_DAMAGE_MODIFIED, v->anchor_seq + 1,
                  "the retention anchor does not match checkpoint %lld",
                  (long long)v->exps[k].cseq);
      goto out;
    }
  int src;
  while ((src = v->src->next(it, &ev)) == EAUDIT_OK) {
    int64_t seq = ev.v[EAUDIT_FIELD_SEQ];
    if (seq < expected) {
      PENDING_FIRST(seq);
      rc = damage(v, EAUDIT_DAMAGE_INSERTED, seq,
                  "event %lld lies before the retention anchor (seq %lld)",
                  (long long)seq, (long long)v->anchor_seq);
      goto out;
    }
    if (seq > expected && expected <= v->head_seq) {
      PENDING_FIRST(expected);
      if (seq - expected > 1)
        rc = damage(v, EAUDIT_DAMAGE_DELETED, expected,
                    "events %lld..%lld are missing", (long long)expected,
                    (long long)(seq - 1));
      else
        rc = damage(v, EAUDIT_DAMAGE_DELETED, expected, "event %lld is missing",
                    (long long)expected);
      goto out;
    }
    if (seq > v->head_seq) {
      PENDING_FIRST(seq);
      rc = damage(v, EAUDIT_DAMAGE_INSERTED, seq,
                  "event %lld lies beyond the chain head (seq %lld)",
                  (long long)seq, (long long)v->head_seq);
      goto out;
    }
    if (!ev.has_id || !ev.has_hash || !fits_canonical(&ev)) {
      PENDING_FIRST(seq);
      rc = damage(v, EAUDIT_DAMAGE_MODIFIED, seq,
                  "event %lld has a damaged id, hash or code", (long long)seq);
      goto out;
    }
    eaudit__chain_link(&ev, prev, link);
    if (memcmp(link, ev.hash, 32) != 0) {
      int kind;
      int64_t bad;
      if ((rc = classify(v, &ev, seq, prev,
                         seq - 1 > v->anchor_seq ? pprev : NULL, &kind, &bad)))
        goto out;
      PENDING_FIRST(bad);
      rc = damage(v, kind, bad, "event %lld does not match its chain link (%s)",
                  (long long)bad, eaudit_damage_name(kind));
      goto out;
    }
    if (pend_at) {
      rc = damage(v, EAUDIT_DAMAGE_MODIFIED, pend_bad, "%s", pend_msg);
      goto out;
    }
    memcpy(pprev, prev, 32);
    memcpy(prev, link, 32);
    expected = seq + 1;
    v->r->events++;
    if (v->derived && ((rc = rollup_key_add(v->s, &v->dc, &v->roll, &ev)) ||
                    (rc = people_add(&v->people, &ev))))
      goto out;
    for (; k < v->n_exps && v->exps[k].seq == seq; k++) {
      if (memcmp(v->exps[k].head, link, 32) != 0) {
        char which[64];
        if (v->exps[k].cseq)
          snprintf(which, sizeof which, "checkpoint %lld",
                   (long long)v->exps[k].cseq);
        else
          snprintf(which, sizeof which, "the off-device checkpoint");
        pend_at = seq;
        pend_bad = good + 1;
        snprintf(pend_msg, sizeof pend_msg,
                 "%s does not match the chain at seq %lld: events after seq "
                 "%lld were rewritten",
                 which, (long long)seq, (long long)good);
        break;
      }
      good = seq;
    }
  }
  if (src != EAUDIT_DONE) {
    rc = src;
    goto out;
  }
  if (pend_at) {
    rc = damage(v, EAUDIT_DAMAGE_MODIFIED, pend_bad, "%s", pend_msg);
    goto out;
  }
#undef PENDING_FIRST
  if (expected <= v->head_seq) {
    rc = damage(v, EAUDIT_DAMAGE_TRUNCATED, expected,
                "events %lld..%lld named by the chain head are missing",
                (long long)expected, (long long)v->head_seq);
    goto out;
  }
  if (memcmp(prev, v->head_hash, 32) != 0) {
    rc = damage(v, EAUDIT_DAMAGE_MODIFIED, v->head_seq,
                "the chain head does not match event %lld",
                (long long)v->head_seq);
    goto out;
  }
  if (k < v->n_exps) {
    rc = damage(v, EAUDIT_DAMAGE_TRUNCATED, v->head_seq + 1,
                "checkpoint %lld (0: off-device) covers seq %lld but the "
                "chain ends at seq %lld",
                (long long)v->exps[k].cseq, (long long)v->exps[k].seq,
                (long long)v->head_seq);
    goto out;
  }
  /* Checkpoint records deleted from the end while their events stayed. */
  if (v->has_newest &&
      (v->n_cps == 0 || v->newest.cseq > v->cps[v->n_cps - 1].cseq)) {
    int64_t last = v->n_cps ? v->cps[v->n_cps - 1].last_seq : v->anchor_seq;
    rc = damage(v, EAUDIT_DAMAGE_DELETED, last + 1,
                "stored checkpoints end before the off-device checkpoint "
                "%lld",
                (long long)v->newest.cseq);
    goto out;
  }
  rc = 0;
out:
  v->src->close(it);
  eaudit__event_release(&ev);
  return rc;
}

static int check_rollups(vctx *v) {
  sqlite3_stmt *st = NULL;
  int rc = prepare(v->s, "SELECT day, type, subject, n FROM rollup", &st);
  if (rc)
    return rc;
  int64_t bad = INT64_MAX;
  char msg[160] = "";
  int src;
  size_t seen = 0;
  while ((src = sqlite3_step(st)) == SQLITE_ROW) {
    int64_t day = sqlite3_column_int64(st, 0),
            type = sqlite3_column_int64(st, 1),
            subject = sqlite3_column_int64(st, 2),
            n = sqlite3_column_int64(st, 3);
    rkey *k = v->roll.cap ? rmap_slot(&v->roll, day, type, subject) : NULL;
    int64_t want = k && k->used ? k->n : 0;
    if (k && k->used) {
      seen++;
      k->used = 2; /* matched */
    }
    if (n != want) {
      int64_t at = k && k->used ? k->min_seq : 0;
      if (msg[0] == '\0' || (at && at < bad)) {
        bad = at ? at : bad;
        snprintf(msg, sizeof msg,
                 "rollup day %lld type %lld subject %lld counts %lld, the "
                 "events %lld",
                 (long long)day, (long long)type, (long long)subject,
                 (long long)n, (long long)want);
      }
    }
  }
  sqlite3_finalize(st);
  if (src != SQLITE_DONE)
    return eaudit__sqlite_error(v->s, src, "reading rollups");
  if (seen < v->roll.n)
    for (size_t i = 0; i < v->roll.cap; i++) {
      rkey *k = &v->roll.slots[i];
      if (k->used == 1 && k->min_seq < bad) {
        bad = k->min_seq;
        snprintf(msg, sizeof msg,
                 "rollup day %lld type %lld subject %lld is missing (%lld "
                 "events)",
                 (long long)k->day, (long long)k->type, (long long)k->subject,
                 (long long)k->n);
      }
    }
  if (msg[0])
    return damage(v, EAUDIT_DAMAGE_DERIVED, bad == INT64_MAX ? 0 : bad, "%s",
                  msg);
  return 0;
}

/* The users and groups tables against the events. Before any purge every
 * stored time is the newest of its kind among the events; after one, a
 * purged event may have set it, so it must only not be older. */
static int check_people(vctx *v) {
  static const char *const sql[2] = {
      "SELECT id, last_at, expired_at, prolonged_at FROM users",
      "SELECT id, NULL, expired_at, prolonged_at FROM groups"};
  static const char *const what[3] = {"last activity", "expiry",
                                      "prolongation"};
  static const char *const whom[2] = {"user", "group"};
  int exact = v->anchor_seq == 0;
  int64_t bad = INT64_MAX;
  char msg[200] = "";
  for (int kind = 0; kind < 2; kind++) {
    sqlite3_stmt *st = NULL;
    int rc = prepare(v->s, sql[kind], &st);
    if (rc)
      return rc;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
      int64_t id = sqlite3_column_int64(st, 0);
      ukey *k = v->people.cap ? umap_slot(&v->people, kind, id) : NULL;
      if (k && !k->used)
        k = NULL;
      if (k)
        k->used = 2; /* has its row */
      for (int j = kind; j < 3; j++) {
        int has = sqlite3_column_type(st, j + 1) != SQLITE_NULL;
        int64_t stored = sqlite3_column_int64(st, j + 1);
        int64_t want = 0, wseq = 0;
        if (k) {
          wseq = j == 0 ? k->last_seq : j == 1 ? k->expired_seq
                                               : k->prolonged_seq;
          want = j == 0 ? k->last : j == 1 ? k->expired : k->prolonged;
        }
        int ok = exact ? has == (wseq != 0) && (!has || stored == want)
                       : wseq == 0 || (has && stored >= want);
        if (ok || (msg[0] && (wseq == 0 || wseq >= bad)))
          continue;
        if (wseq)
          bad = wseq;
        if (has && wseq)
          snprintf(msg, sizeof msg,
                   "%s %lld has %s %lld, the events %lld", whom[kind],
                   (long long)id, what[j], (long long)stored,
                   (long long)want);
        else if (has)
          snprintf(msg, sizeof msg, "%s %lld has %s %lld, which no event "
                   "shows", whom[kind], (long long)id, what[j],
                   (long long)stored);
        else
          snprintf(msg, sizeof msg, "%s %lld has no %s; the events say %lld",
                   whom[kind], (long long)id, what[j], (long long)want);
      }
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE)
      return eaudit__sqlite_error(v->s, src, "reading users and groups");
  }
  for (size_t i = 0; i < v->people.cap; i++) {
    const ukey *k = &v->people.slots[i];
    if (k->used != 1)
      continue;
    int64_t seq = k->last_seq ? k->last_seq
                  : k->expired_seq ? k->expired_seq
                                   : k->prolonged_seq;
    if (msg[0] && seq >= bad)
      continue;
    bad = seq;
    snprintf(msg, sizeof msg, "%s %lld is missing from the %s table",
             whom[k->kind], (long long)k->id, k->kind ? "groups" : "users");
  }
  if (msg[0])
    return damage(v, EAUDIT_DAMAGE_DERIVED, bad == INT64_MAX ? 0 : bad, "%s",
                  msg);
  return 0;
}

static int check_names(vctx *v) {
  static const char *const sql[] = {
      "SELECT n.rowid FROM names n WHERE NOT EXISTS (SELECT 1 FROM names_fts "
      "f WHERE f.rowid = n.rowid AND f.name = n.name AND f.kind = n.kind AND "
      "f.entity = n.entity) LIMIT 1",
      "SELECT f.rowid FROM names_fts f WHERE NOT EXISTS (SELECT 1 FROM names "
      "n WHERE n.rowid = f.rowid) LIMIT 1"};
  for (int i = 0; i < 2; i++) {
    sqlite3_stmt *st = NULL;
    int rc = prepare(v->s, sql[i], &st);
    if (rc)
      return rc;
    int src = sqlite3_step(st);
    int64_t row = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (src == SQLITE_ROW)
      return damage(v, EAUDIT_DAMAGE_DERIVED, 0,
                    i == 0 ? "name %lld is missing from the search index"
                           : "the search index has name %lld, which the "
                             "directory does not",
                    (long long)row);
    if (src != SQLITE_DONE)
      return eaudit__sqlite_error(v->s, src, "checking the search index");
  }
  return 0;
}

/* One chain from its view, with v->src and v->r set. Returns 1 on
 * damage (in the result). */
static int verify_core(vctx *v, const eaudit__chain_view *cv,
                       const uint8_t *trusted) {
  v->id = cv->id;
  v->copy = cv->copy;
  v->head_seq = cv->head_seq;
  v->anchor_seq = cv->anchor_seq;
  memcpy(v->head_hash, cv->head_hash, 32);
  memcpy(v->anchor_hash, cv->anchor_hash, 32);
  int rc;
  if ((rc = load_checkpoints(v)))
    return rc;
  if (v->r->damage)
    return 1;
  if (trusted && v->n_cps == 0)
    return damage(v, EAUDIT_DAMAGE_UNSIGNED,
                  v->head_seq > v->anchor_seq ? v->anchor_seq + 1 : 0,
                  "the store has no checkpoints; a signed store was "
                  "expected");
  if (v->has_newest && memcmp(v->newest.store, v->id, 16) != 0)
    return eaudit__einval("the off-device checkpoint belongs to another "
                          "store");
  if ((rc = check_checkpoints(v, trusted)))
    return rc;
  int64_t through = 0;
  if (v->n_cps)
    through = v->cps[v->n_cps - 1].last_seq;
  if (v->has_newest && v->newest.last_seq > through)
    through = v->newest.last_seq;
  if (trusted)
    v->r->signed_through = through;
  else
    through = 0;
  if ((rc = build_expectations(v)))
    return rc;
  if ((rc = scan_events(v)))
    return rc;
  if ((v->flags & EAUDIT_VERIFY_REQUIRE_SIGNED_TAIL) && v->head_seq > through)
    return damage(v, EAUDIT_DAMAGE_UNSIGNED, through + 1,
                  "events %lld..%lld are not covered by a signed checkpoint",
                  (long long)through + 1, (long long)v->head_seq);
  return 0;
}

int eaudit__verify_chain(const eaudit__chain_src *src,
                         const eaudit__chain_view *cv, const uint8_t *trusted,
                         const eaudit__cp *newest, unsigned flags,
                         eaudit_verify_result *r) {
  vctx v;
  memset(&v, 0, sizeof v);
  v.src = src;
  v.r = r;
  v.flags = flags;
  if (newest) {
    v.newest = *newest;
    eaudit__cp_point(&v.newest);
    v.has_newest = 1;
  }
  int rc = verify_core(&v, cv, trusted);
  eaudit__free(v.cps);
  eaudit__free(v.exps);
  return rc > 0 ? EAUDIT_OK : rc;
}

/* ---- the SQLite store as a chain source ---- */

typedef struct sq_rows {
  eaudit_store *s;
  sqlite3_stmt *st;
} sq_rows;

static int sq_open(void *ctx, int64_t after, void **out) {
  sq_rows *it = eaudit__calloc(1, sizeof *it);
  if (it == NULL)
    return eaudit__enomem();
  it->s = ctx;
  int rc = prepare(it->s, ROW_SQL "WHERE seq > ?1 ORDER BY seq", &it->st);
  if (rc) {
    eaudit__free(it);
    return rc;
  }
  sqlite3_bind_int64(it->st, 1, after);
  *out = it;
  return EAUDIT_OK;
}

static int sq_next(void *p, eaudit_event *ev) {
  sq_rows *it = p;
  int src = sqlite3_step(it->st);
  if (src == SQLITE_DONE)
    return EAUDIT_DONE;
  if (src != SQLITE_ROW)
    return eaudit__sqlite_error(it->s, src, "reading events");
  return eaudit__event_from_row(it->st, 0, ev) ? eaudit__enomem() : EAUDIT_OK;
}

static void sq_close(void *p) {
  sq_rows *it = p;
  sqlite3_finalize(it->st);
  eaudit__free(it);
}

static int sq_checkpoints(void *ctx,
                          int (*add)(void *arg, int64_t cseq, int64_t last_seq,
                                     const void *rec, size_t len),
                          void *arg) {
  eaudit_store *s = ctx;
  sqlite3_stmt *st = NULL;
  int rc = prepare(s,
                   "SELECT cseq, last_seq, record FROM checkpoints ORDER BY "
                   "cseq",
                   &st);
  if (rc)
    return rc;
  int src;
  while ((src = sqlite3_step(st)) == SQLITE_ROW &&
         (rc = add(arg, sqlite3_column_int64(st, 0),
                   sqlite3_column_int64(st, 1), sqlite3_column_blob(st, 2),
                   (size_t)sqlite3_column_bytes(st, 2))) == 0)
    ;
  sqlite3_finalize(st);
  if (rc)
    return rc;
  return src == SQLITE_DONE ? EAUDIT_OK
                            : eaudit__sqlite_error(s, src, "reading "
                                                           "checkpoints");
}

static int verify_snapshot(vctx *v, const uint8_t *trusted) {
  integ *g = state(v->s);
  if (g == NULL)
    return EAUDIT_ENOMEM;
  int64_t head_seq = 0, anchor_seq = 0;
  uint8_t head[32], anchor[32];
  int rc;
  if ((rc = eaudit__store_revalidate(v->s)) ||
      (rc = head_read(v->s, &head_seq, head)) ||
      (rc = anchor_read(v->s, g, &anchor_seq, anchor)))
    return rc == EAUDIT_ETAMPER ? damage(v, EAUDIT_DAMAGE_MODIFIED, 1, "%s",
                                         eaudit_error_last()->message)
                                : rc;
  eaudit__chain_src src = {v->s, sq_open, sq_next, sq_close, sq_checkpoints};
  eaudit__chain_view cv = {v->s->store_id, head_seq, anchor_seq, head, anchor,
                           0};
  v->src = &src;
  v->derived = !(v->flags & EAUDIT_VERIFY_SKIP_DERIVED);
  if ((rc = verify_core(v, &cv, trusted)))
    return rc;
  if (v->derived && ((rc = check_rollups(v)) || (rc = check_people(v)) ||
                     (rc = check_names(v))))
    return rc;
  return 0;
}

static void record_failure(eaudit_store *s, int64_t actor,
                           const eaudit_verify_result *r) {
  char details[128];
  snprintf(details, sizeof details,
           "{\"damage\":\"%s\",\"first_bad_seq\":%lld}",
           eaudit_damage_name(r->damage), (long long)r->first_bad);
  eaudit_event *ev = NULL;
  int rc = eaudit__audit_event(s, EAUDIT_TYPE_VERIFICATION_FAILED, actor,
                               details, &ev);
  if (rc == 0)
    rc = eaudit_store_append(s, ev);
  if (rc)
    eaudit__log(EAUDIT_LOG_ERROR,
                "could not record the failed verification: %s",
                eaudit_error_last()->message);
  eaudit_event_free(ev);
}

int eaudit_store_verify(eaudit_store *s, int64_t actor,
                        const uint8_t *public_key, const uint8_t *newest,
                        size_t newest_len, unsigned flags,
                        eaudit_verify_result **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out)
    *out = NULL;
  if (flags & ~7u)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "unknown verify flags 0x%x", flags & ~7u);
  if (s->in_txn)
    return eaudit__error(EAUDIT_EMISUSE, EAUDIT_ECLASS_INVALID, 0,
                         "verify was called from inside a callback of the "
                         "same handle");
  vctx v;
  memset(&v, 0, sizeof v);
  v.s = s;
  v.flags = flags;
  if (newest) {
    if (public_key == NULL)
      return eaudit__einval("an off-device checkpoint needs the public key");
    int rc = eaudit__cp_parse(newest, newest_len, &v.newest);
    if (rc)
      return rc;
    v.has_newest = 1;
  }
  v.r = eaudit__verify_result_new();
  if (v.r == NULL)
    return EAUDIT_ENOMEM;
  int rc;
  if (s->pg) /* every origin's chain; no derived tables */
    rc = eaudit__pg_verify_store(s, public_key,
                                 v.has_newest ? &v.newest : NULL, flags, v.r);
  else if ((rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK)
    rc = eaudit__sqlite_error(s, rc, "starting a read transaction");
  else {
    rc = verify_snapshot(&v, public_key);
    if (rc > 0)
      rc = 0; /* damage stops the checks; it is in the result */
    int erc = end_read(s);
    if (rc == 0)
      rc = erc;
  }
  eaudit__free(v.cps);
  eaudit__free(v.exps);
  rmap_free(&v.roll);
  umap_free(&v.people);
  if (rc) {
    eaudit_verify_result_free(v.r);
    return rc;
  }
  eaudit_verify_result *r = v.r;
  if (r->damage != EAUDIT_DAMAGE_NONE && !s->read_only &&
      !(flags & EAUDIT_VERIFY_NO_RECORD))
    record_failure(s, actor, r);
  int code = eaudit__verify_result_code(r);
  if (out)
    *out = r;
  else
    eaudit_verify_result_free(r);
  return code;
}

/* --- retention --- */

/* Modules with state tied to events drop what refers to purged seqs
 * (rules.c: findings; devices.c: observations). They define these; the
 * defaults keep everything. */
__attribute__((weak)) int eaudit__rules_on_purge(eaudit_store *s,
                                                 int64_t through_seq) {
  (void)s;
  (void)through_seq;
  return EAUDIT_OK;
}

__attribute__((weak)) int eaudit__rules_before_purge(eaudit_store *s,
                                                     int64_t through_seq) {
  (void)s;
  (void)through_seq;
  return EAUDIT_OK;
}

__attribute__((weak)) int eaudit__devices_on_purge(eaudit_store *s,
                                                   int64_t through_seq) {
  (void)s;
  (void)through_seq;
  return EAUDIT_OK;
}

static eaudit_time mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (eaudit_time)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_us(eaudit_time us) {
  struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static int rollups_subtract(eaudit_store *s, const rmap *m) {
  /* One statement per count; the delete only for those that reach 0. */
  sqlite3_stmt *up = NULL, *del = NULL;
  int rc = prepare(s,
                   "UPDATE rollup SET n = n - ?4 WHERE day = ?1 AND type = ?2 "
                   "AND subject = ?3 RETURNING n",
                   &up);
  for (size_t i = 0; rc == 0 && i < m->cap; i++) {
    const rkey *k = &m->slots[i];
    if (!k->used)
      continue;
    sqlite3_bind_int64(up, 1, k->day);
    sqlite3_bind_int64(up, 2, k->type);
    sqlite3_bind_int64(up, 3, k->subject);
    sqlite3_bind_int64(up, 4, k->n);
    int src = sqlite3_step(up);
    int gone = src == SQLITE_ROW && sqlite3_column_int64(up, 0) <= 0;
    while (src == SQLITE_ROW)
      src = sqlite3_step(up);
    sqlite3_reset(up);
    if (src != SQLITE_DONE) {
      rc = eaudit__sqlite_error(s, src, "updating counts");
      break;
    }
    if (!gone)
      continue;
    if (del == NULL &&
        (rc = prepare(s,
                      "DELETE FROM rollup WHERE day = ?1 AND type = ?2 AND "
                      "subject = ?3 AND n <= 0",
                      &del)))
      break;
    sqlite3_bind_int64(del, 1, k->day);
    sqlite3_bind_int64(del, 2, k->type);
    sqlite3_bind_int64(del, 3, k->subject);
    rc = step_done(s, del, "updating counts");
  }
  sqlite3_finalize(up);
  sqlite3_finalize(del);
  return rc;
}

/* One batch, inside a write transaction: check and remove events
 * anchor+1 .. min(anchor+batch, target), move the anchor, sign it. */
static int purge_batch(eaudit_store *s, int64_t target, size_t batch,
                       int64_t *n_out) {
  integ *g = state(s);
  if (g == NULL)
    return EAUDIT_ENOMEM;
  *n_out = 0;
  int64_t lo;
  uint8_t prev[32];
  cp newest;
  int found;
  int rc = anchor_read(s, g, &lo, prev);
  if (rc == 0)
    rc = newest_read(s, g, &newest, &found);
  if (rc)
    return rc;
  if (lo >= target)
    return EAUDIT_OK;
  if (found && (g->sk == NULL))
    return eaudit__error(EAUDIT_EKEY, EAUDIT_ECLASS_INVALID, 0,
                         "the store is signed: give the handle the signing "
                         "key before purging");
  if (found && (newest.base_seq != lo || memcmp(newest.base_hash, prev, 32)))
    return eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                         "the retention anchor (seq %lld) is not the signed "
                         "one (seq %lld); run verify",
                         (long long)lo, (long long)newest.base_seq);
  int64_t hi = target - lo > (int64_t)batch ? lo + (int64_t)batch : target;
  sqlite3_stmt *st = NULL;
  if ((rc = prepare(s, ROW_SQL "WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
                    &st)))
    return rc;
  sqlite3_bind_int64(st, 1, lo);
  sqlite3_bind_int64(st, 2, hi);
  eaudit_event ev;
  memset(&ev, 0, sizeof ev);
  rmap m = {0};
  eaudit__day_cache dc = {0, 0};
  int64_t expected = lo + 1;
  int src;
  uint8_t link[32];
  while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
    if (eaudit__event_from_row(st, 0, &ev)) {
      rc = eaudit__enomem();
      break;
    }
    int whole = ev.v[EAUDIT_FIELD_SEQ] == expected && ev.has_hash &&
                ev.has_id && fits_canonical(&ev);
    if (whole)
      eaudit__chain_link(&ev, prev, link);
    if (!whole || memcmp(link, ev.hash, 32) != 0) {
      rc = eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                         "event %lld does not verify; refusing to purge "
                         "damaged evidence (run verify)",
                         (long long)expected);
      break;
    }
    memcpy(prev, link, 32);
    expected++;
    rc = rollup_key_add(s, &dc, &m, &ev);
  }
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__sqlite_error(s, src, "reading events to purge");
  sqlite3_finalize(st);
  eaudit__event_release(&ev);
  if (rc == 0 && expected != hi + 1)
    rc = eaudit__error(EAUDIT_ETAMPER, EAUDIT_ECLASS_STORE, 0,
                       "event %lld is missing; refusing to purge (run "
                       "verify)",
                       (long long)expected);
  /* The rules may still replay some of these events: they write their
   * state first. */
  if (rc == 0)
    rc = eaudit__rules_before_purge(s, hi);
  if (rc == 0 && (rc = prepare(s,
                               "DELETE FROM events WHERE seq > ?1 AND seq <= "
                               "?2",
                               &st)) == 0) {
    sqlite3_bind_int64(st, 1, lo);
    sqlite3_bind_int64(st, 2, hi);
    rc = step_done(s, st, "purging events");
    sqlite3_finalize(st);
  }
  if (rc == 0)
    rc = rollups_subtract(s, &m);
  rmap_free(&m);
  if (rc == 0 && (rc = prepare(s,
                               "INSERT INTO anchor(one, seq, hash) VALUES "
                               "(1, ?1, ?2) ON CONFLICT(one) DO UPDATE SET "
                               "seq = excluded.seq, hash = excluded.hash",
                               &st)) == 0) {
    sqlite3_bind_int64(st, 1, hi);
    sqlite3_bind_blob(st, 2, prev, 32, SQLITE_STATIC);
    rc = step_done(s, st, "moving the retention anchor");
    sqlite3_finalize(st);
  }
  if (rc == 0)
    rc = eaudit__rules_on_purge(s, hi);
  if (rc == 0)
    rc = eaudit__devices_on_purge(s, hi);
  if (rc == 0 && g->sk)
    rc = write_checkpoint(s, g, EAUDIT_CHECKPOINT_ANCHOR, NULL, hi, prev, NULL);
  /* Checkpoints about purged events only can no longer be checked. */
  if (rc == 0 && (rc = prepare(s, "DELETE FROM checkpoints WHERE last_seq < ?1",
                               &st)) == 0) {
    sqlite3_bind_int64(st, 1, hi);
    rc = step_done(s, st, "removing old checkpoints");
    sqlite3_finalize(st);
  }
  if (rc == 0)
    *n_out = hi - lo;
  return rc;
}

/* Highest S with every event up to S older than before; also the anchor. */
static int purge_target(eaudit_store *s, eaudit_time before, int64_t *target,
                        int64_t *anchor) {
  integ *g = state(s);
  if (g == NULL)
    return EAUDIT_ENOMEM;
  int rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return eaudit__sqlite_error(s, rc, "starting a read transaction");
  uint8_t h[32];
  int64_t head;
  sqlite3_stmt *st = NULL;
  rc = head_read(s, &head, h);
  if (rc == 0)
    rc = anchor_read(s, g, anchor, h);
  if (rc == 0)
    rc = prepare(s, "SELECT min(seq) FROM events WHERE occurred_at >= ?1", &st);
  if (rc == 0) {
    sqlite3_bind_int64(st, 1, before);
    int src = sqlite3_step(st);
    if (src != SQLITE_ROW)
      rc = eaudit__sqlite_error(s, src, "finding the purge limit");
    else if (sqlite3_column_type(st, 0) == SQLITE_NULL)
      *target = head;
    else
      *target = sqlite3_column_int64(st, 0) - 1;
  }
  sqlite3_finalize(st);
  int erc = end_read(s);
  return rc ? rc : erc;
}

/* Never purge what the rules still read: their windows are rebuilt from
 * the stored events, so the limit stops at the newest event's time minus
 * the longest rule window and the lateness bound. */
static int purge_cap(eaudit_store *s, eaudit_time *before) {
  int64_t horizon = 0, newest = INT64_MIN;
  int rc = eaudit__rules_horizon(s, &horizon);
  sqlite3_stmt *st = NULL;
  if (rc == 0 && (rc = prepare(s, "SELECT newest FROM head", &st)) == 0 &&
      sqlite3_step(st) == SQLITE_ROW &&
      sqlite3_column_type(st, 0) != SQLITE_NULL)
    newest = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  if (rc == 0 && newest != INT64_MIN && *before > newest - horizon)
    *before = newest - horizon;
  return rc;
}

int eaudit_store_purge_plan(eaudit_store *s, eaudit_time before,
                            eaudit_time *effective_before, int64_t *through_seq,
                            int64_t *events) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (s->in_txn)
    return eaudit__error(EAUDIT_EMISUSE, EAUDIT_ECLASS_INVALID, 0,
                         "purge plan was asked from inside a callback of the "
                         "same handle");
  if (s->pg)
    return eaudit__pg_store_purge_plan(s, before, effective_before,
                                       through_seq, events);
  int64_t target = 0, anchor = 0, n = 0;
  int rc = purge_cap(s, &before);
  if (rc == 0)
    rc = purge_target(s, before, &target, &anchor);
  if (rc == 0 && target > anchor) {
    sqlite3_stmt *st = NULL;
    if ((rc = prepare(s,
                      "SELECT count(*) FROM events WHERE seq > ?1 AND "
                      "seq <= ?2",
                      &st)) == 0) {
      sqlite3_bind_int64(st, 1, anchor);
      sqlite3_bind_int64(st, 2, target);
      int src = sqlite3_step(st);
      if (src == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
      else
        rc = eaudit__sqlite_error(s, src, "counting the purge");
    }
    sqlite3_finalize(st);
  }
  if (rc)
    return rc;
  if (effective_before)
    *effective_before = before;
  if (through_seq)
    *through_seq = n ? target : 0;
  if (events)
    *events = n;
  return EAUDIT_OK;
}

/* Pacing. An appender that wants the write lock while a purge step holds
 * it waits in its busy handler, so every step is kept short: with no batch
 * size from the caller, each batch is sized to hold the lock about
 * PACE_HOLD_US, measured from BEGIN to the end of COMMIT (reading and
 * checking the events, deleting them and their index entries, the rollups,
 * the signed anchor and the WAL sync all grow with the batch). Between
 * steps the lock stays free for at least PACE_GAP_US, longer than the
 * busy handler's longest sleep (store.c), and half the step's hold time
 * beyond that, so that waiting writers get in. The WAL is copied back by a
 * passive checkpoint after each step, with the lock free, rather than by
 * the automatic checkpoint inside whichever commit crosses the threshold
 * (an appender's, which would then stall for it). */
enum {
  PACE_HOLD_US = 20000,
  PACE_GAP_US = 4000,
  PACE_FIRST = 64,
  PACE_MIN = 16,
  PACE_MAX = 10000,
  PACE_RESTART_MS = 10,      /* longest wait of a WAL restart */
  PACE_RESTART_FRAMES = 1000 /* restart past this when autockpt is off */
};

typedef struct pacer {
  double size;    /* next batch when adapting */
  double cost;    /* us of lock per event, a cautious estimate */
  size_t fixed;   /* the caller's batch size, or 0 */
  int autockpt;   /* the handle's wal_autocheckpoint, restored at the end */
  int64_t restart; /* WAL frames past which the WAL is restarted */
  eaudit_time released; /* when the last step gave the lock back */
} pacer;

static int64_t pragma_value(eaudit_store *s, const char *sql, int64_t dflt) {
  sqlite3_stmt *st = NULL;
  int64_t v = dflt;
  if (prepare(s, sql, &st) == 0 && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static void pace_begin(eaudit_store *s, pacer *p, size_t fixed) {
  p->size = PACE_FIRST;
  p->cost = 0;
  p->fixed = fixed;
  p->released = 0;
  p->autockpt = (int)pragma_value(s, "PRAGMA wal_autocheckpoint", -1);
  /* Half the size the WAL is truncated to when it is restarted, so that a
   * restart never has a long file to cut, and no less than the automatic
   * checkpoint's threshold (1,000 pages by default). */
  int64_t limit = pragma_value(s, "PRAGMA journal_size_limit", -1);
  int64_t frame = pragma_value(s, "PRAGMA page_size", 4096) + 24;
  p->restart = p->autockpt > 0 ? p->autockpt : PACE_RESTART_FRAMES;
  if (limit > 0 && limit / 2 / frame > p->restart)
    p->restart = limit / 2 / frame;
  if (p->autockpt > 0)
    sqlite3_wal_autocheckpoint(s->db, 0);
}

static void pace_end(eaudit_store *s, pacer *p) {
  if (p->autockpt > 0)
    sqlite3_wal_autocheckpoint(s->db, p->autockpt);
}

static size_t pace_size(const pacer *p) {
  return p->fixed ? p->fixed : (size_t)p->size;
}

/* After a step, with the lock free: copy the WAL back into the file. A
 * passive checkpoint copies without blocking anyone, but it does not
 * rewind the WAL: only a writer whose snapshot began with every frame
 * copied starts writing at the front again, and the appender that was
 * waiting for the lock takes it before the copy ends. The WAL then grows
 * by every batch (240 MB over a 300,000-event purge), and whichever
 * commit finally rewinds it truncates the file to journal_size_limit
 * inside its own lock hold: a stall of up to a second for an appender. So
 * once the copied WAL is past p->restart frames (half that size limit), a
 * RESTART checkpoint takes the lock to copy what was added since and
 * waits for readers to leave the WAL, so that the next writer rewinds it
 * while it is still short. Each of its waits (for the lock, then for the
 * readers) is capped at PACE_RESTART_MS through the busy handler: a reader
 * holding an old snapshot makes it give up rather than keep appenders
 * out, and a later step tries again. */
static void wal_copy_back(eaudit_store *s, const pacer *p) {
  int log = 0, copied = 0;
  int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                     &log, &copied);
  if (rc != SQLITE_OK || log < p->restart || copied < log)
    return;
  int64_t timeout = s->opts.ints[EAUDIT_OPT_BUSY_TIMEOUT_MS];
  if (timeout > PACE_RESTART_MS)
    s->opts.ints[EAUDIT_OPT_BUSY_TIMEOUT_MS] = PACE_RESTART_MS;
  sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL,
                            NULL);
  s->opts.ints[EAUDIT_OPT_BUSY_TIMEOUT_MS] = timeout;
}

/* Before a step: let the lock stay free long enough after the last one. */
static void pace_wait(pacer *p, eaudit_time held) {
  if (p->released == 0)
    return;
  eaudit_time gap = held / 2 > PACE_GAP_US ? held / 2 : PACE_GAP_US;
  eaudit_time left = p->released + gap - mono_us();
  if (left > 0)
    sleep_us(left);
}

/* After a step of n units that held the lock for held us: aim the next at
 * the budget. The cost per event follows a slower batch at once and a
 * quicker one by a tenth per batch, so that one lucky batch (no other
 * process on the CPU or the disk) does not size the next. */
static void pace_step(eaudit_store *s, pacer *p, int64_t n, eaudit_time held) {
  p->released = mono_us();
  wal_copy_back(s, p);
  if (p->fixed || n <= 0)
    return;
  double cost = (double)(held > 0 ? held : 1) / (double)n;
  p->cost = cost > p->cost * 0.9 ? cost : p->cost * 0.9;
  double want = PACE_HOLD_US / p->cost;
  if (want > p->size * 1.5)
    want = p->size * 1.5;
  p->size = want < PACE_MIN ? PACE_MIN : want > PACE_MAX ? PACE_MAX : want;
}

static int64_t freelist(eaudit_store *s) {
  sqlite3_stmt *st = NULL;
  if (prepare(s, "PRAGMA freelist_count", &st))
    return 0;
  int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  return n;
}

/* Free pages back to the file system in short paced steps: 16 to 256
 * pages, one level down at once after a step over the budget, one up
 * after three quick ones in a row. The step sizes are fixed statements (a
 * pragma takes no bound parameter). */
static void give_space_back(eaudit_store *s, pacer *p) {
  static const char *const steps[] = {
      "PRAGMA incremental_vacuum(16)", "PRAGMA incremental_vacuum(32)",
      "PRAGMA incremental_vacuum(64)", "PRAGMA incremental_vacuum(128)",
      "PRAGMA incremental_vacuum(256)"};
  int level = 2, quick = 0;
  eaudit_time held = 0;
  for (int64_t left = freelist(s); left > 0;) {
    pace_wait(p, held);
    int rc = eaudit__begin(s);
    eaudit_time t0 = mono_us();
    if (rc == 0) {
      if ((rc = eaudit__exec(s, steps[level])) == 0)
        rc = eaudit__commit(s);
      else
        eaudit__rollback(s);
    }
    held = mono_us() - t0;
    if (rc) {
      eaudit__log(EAUDIT_LOG_WARN, "incremental vacuum stopped: %s",
                  eaudit_error_last()->message);
      return;
    }
    pace_step(s, p, 0, held);
    quick = held < PACE_HOLD_US / 3 ? quick + 1 : 0;
    if (held > PACE_HOLD_US && level > 0)
      level--;
    else if (quick >= 3 && level < 4) {
      level++;
      quick = 0;
    }
    int64_t now = freelist(s);
    if (now >= left)
      return; /* no progress: leave the rest */
    left = now;
  }
}

int eaudit_store_purge(eaudit_store *s, eaudit_time before, int64_t actor,
                       size_t batch_size, int64_t *purged_out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (purged_out)
    *purged_out = 0;
  if (batch_size > 1000000)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "batch size %zu is above 1000000", batch_size);
  if (s->read_only)
    return eaudit__error(EAUDIT_EREADONLY, EAUDIT_ECLASS_INVALID, 0,
                         "store was opened read-only");
  if (s->in_txn)
    return eaudit__error(EAUDIT_EMISUSE, EAUDIT_ECLASS_INVALID, 0,
                         "purge was called from inside a callback of the "
                         "same handle");
  if (s->pg)
    return eaudit__pg_store_purge(s, before, actor, batch_size, purged_out);
  int64_t target = 0, anchor = 0, total = 0;
  int rc = purge_cap(s, &before);
  if (rc == 0)
    rc = purge_target(s, before, &target, &anchor);
  if (rc)
    return rc;
  if (target <= anchor)
    return EAUDIT_OK;
  pacer p;
  pace_begin(s, &p, batch_size);
  eaudit_time held = 0;
  for (;;) {
    int64_t n = 0;
    pace_wait(&p, held);
    rc = eaudit__txn_begin_write(s);
    if (rc)
      break;
    eaudit_time t0 = mono_us();
    rc = purge_batch(s, target, pace_size(&p), &n);
    rc = eaudit__txn_end_write(s, rc, NULL, 0);
    held = mono_us() - t0;
    if (rc)
      break;
    total += n;
    if (purged_out)
      *purged_out = total;
    pace_step(s, &p, n, held);
    if (n == 0 || anchor + total >= target)
      break;
  }
  if (total > 0) {
    char details[160];
    snprintf(details, sizeof details,
             "{\"through_seq\":%lld,\"purged\":%lld,\"before\":%lld}",
             (long long)(anchor + total), (long long)total, (long long)before);
    eaudit_event *ev = NULL;
    int erc = eaudit__audit_event(s, EAUDIT_TYPE_RETENTION_PURGED, actor,
                                  details, &ev);
    if (erc == 0) {
      pace_wait(&p, held);
      erc = eaudit_store_append(s, ev);
    }
    eaudit_event_free(ev);
    if (rc == 0)
      rc = erc;
    if (erc == 0)
      pace_step(s, &p, 0, 0);
    give_space_back(s, &p);
  }
  pace_end(s, &p);
  return rc;
}

/* --- backup --- */

int eaudit_store_backup(eaudit_store *s, const char *path) {
  EAUDIT__CHECK_STORE(s);
  if (path == NULL || path[0] == '\0' || strcmp(path, ":memory:") == 0)
    return eaudit__einval("a file path must be given");
  if (s->in_txn)
    return eaudit__error(EAUDIT_EMISUSE, EAUDIT_ECLASS_INVALID, 0,
                         "backup was called from inside a callback of the "
                         "same handle");
  int fd;
  int rc = create_new(path, &fd);
  if (rc)
    return rc;
  close(fd);
  sqlite3 *dst = NULL;
  int src = sqlite3_open_v2(path, &dst,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (src == SQLITE_OK) {
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", s->db, "main");
    if (b == NULL)
      src = sqlite3_errcode(dst);
    else {
      do {
        src = sqlite3_backup_step(b, -1);
        if (src == SQLITE_BUSY || src == SQLITE_LOCKED)
          sleep_us(5000);
      } while (src == SQLITE_OK || src == SQLITE_BUSY || src == SQLITE_LOCKED);
      int frc = sqlite3_backup_finish(b);
      if (src == SQLITE_DONE)
        src = frc;
    }
  }
  if (src != SQLITE_OK && src != SQLITE_DONE)
    rc = eaudit__error(src == SQLITE_FULL ? EAUDIT_EFULL : EAUDIT_EIO,
                       EAUDIT_ECLASS_SQLITE, src, "backing up to '%s': %s",
                       path, dst ? sqlite3_errmsg(dst) : sqlite3_errstr(src));
  if (rc == 0 && sqlite3_exec(dst, "PRAGMA journal_mode = WAL", NULL, NULL,
                              NULL) != SQLITE_OK)
    rc = eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_SQLITE, 0,
                       "setting up '%s': %s", path, sqlite3_errmsg(dst));
  sqlite3_close_v2(dst);
  if (rc) {
    char b[4096];
    unlink(path);
    snprintf(b, sizeof b, "%s-wal", path);
    unlink(b);
    snprintf(b, sizeof b, "%s-shm", path);
    unlink(b);
  }
  return rc;
}
