/* Signed checkpoints and chain verification, independent of the storage:
 * the version-1 record (docs/integrity.md), its signature, and the
 * verifier of one chain against its checkpoints, which reads the chain
 * through a row source. integrity.c keeps them in SQLite tables,
 * pg_integrity.c in eaudit.checkpoints on the central store; both call
 * these. */
#ifndef EAUDIT_CHECKPOINT_H
#define EAUDIT_CHECKPOINT_H

#include "event_internal.h"
#include "internal.h"

#include <eaudit/integrity.h>

/* Layout of a version-1 record: the body, then its Ed25519 signature. */
enum {
  EAUDIT__CP_TAG_LEN = 17, /* "eaudit-checkpoint" */
  EAUDIT__CP_VERSION = 1,
  EAUDIT__CP_OFF_VERSION = 17,
  EAUDIT__CP_OFF_KIND = 18,
  EAUDIT__CP_OFF_STORE = 19,
  EAUDIT__CP_OFF_CSEQ = 35,
  EAUDIT__CP_OFF_LAST = 43,
  EAUDIT__CP_OFF_HEAD = 51,
  EAUDIT__CP_OFF_BASE_SEQ = 83,
  EAUDIT__CP_OFF_BASE_HASH = 91,
  EAUDIT__CP_OFF_COUNT = 123,
  EAUDIT__CP_OFF_TIME = 131,
  EAUDIT__CP_OFF_PREV = 139,
  EAUDIT__CP_OFF_SIGNER = 171,
  EAUDIT__CP_OFF_NEXT = 203,
  EAUDIT__CP_BODY = 235,
  EAUDIT__CP_SIZE = EAUDIT__CP_BODY + 64
};

/* A parsed record. The field pointers point into rec, so re-point them
 * (eaudit__cp_point) whenever a record is moved, e.g. by realloc. */
typedef struct eaudit__cp {
  int kind;
  int64_t cseq, last_seq, base_seq, count;
  eaudit_time at;
  const uint8_t *store, *head, *base_hash, *prev, *signer, *next, *sig;
  uint8_t rec[EAUDIT__CP_SIZE];
} eaudit__cp;

/* Parse a record (EAUDIT_EFORMAT when it is not a version-1 record). */
int eaudit__cp_parse(const uint8_t *rec, size_t len, eaudit__cp *out);
void eaudit__cp_point(eaudit__cp *c);
/* BLAKE2b-256 of a whole record: the next record's prev. */
void eaudit__cp_digest(const uint8_t rec[EAUDIT__CP_SIZE], uint8_t out[32]);
/* 1 when the record's signature is by pk. */
int eaudit__cp_signed_by(const eaudit__cp *c, const uint8_t pk[32]);
/* The key that must sign the checkpoint after newest. */
const uint8_t *eaudit__cp_current_key(const eaudit__cp *newest);

/* What a new checkpoint states. */
typedef struct eaudit__cp_fields {
  int kind;
  const uint8_t *store;      /* 16 bytes: the chain's store id */
  const eaudit__cp *prev;    /* the newest stored checkpoint, or NULL */
  int64_t last_seq;          /* the chain head */
  const uint8_t *head;       /* its link */
  int64_t base_seq;          /* the retention anchor */
  const uint8_t *base_hash;  /* its link */
  eaudit_time at;
  const uint8_t *next;       /* ROTATION: the new public key, else NULL */
} eaudit__cp_fields;

/* Compose the record of f and sign it with sk (libsodium's 64-byte secret
 * key, whose public half is pk); its cseq follows f->prev's, or is 1. */
void eaudit__cp_make(uint8_t rec[EAUDIT__CP_SIZE], const eaudit__cp_fields *f,
                     const uint8_t pk[32], const uint8_t *sk);

/* ---- the outcome of a verification ---- */

struct eaudit_verify_result {
  int damage;
  int64_t first_bad, events, checkpoints, signed_through;
  char message[512];
};

/* A new, empty result (counted as a live object), NULL on ENOMEM. */
eaudit_verify_result *eaudit__verify_result_new(void);
/* Fill the message of a clean result and set the error of a damaged one;
 * returns EAUDIT_OK, EAUDIT_ETAMPER or EAUDIT_EKEY (WRONG_KEY). */
int eaudit__verify_result_code(eaudit_verify_result *r);

/* ---- verifying one chain, wherever it is stored ---- */

/* Reading a chain's rows and checkpoints. open() starts reading the rows
 * with seq > after in seq order (INT64_MIN: every row); next() gives the
 * next one (EAUDIT_OK), EAUDIT_DONE at the end, or an error; close() ends
 * it. Several readings may be open at once. checkpoints() calls add() with
 * every stored checkpoint of the chain in cseq order (the row's cseq and
 * last_seq and the record); a nonzero return of add() stops it and is
 * returned. */
typedef struct eaudit__chain_src {
  void *ctx;
  int (*open)(void *ctx, int64_t after, void **it);
  int (*next)(void *it, eaudit_event *ev);
  void (*close)(void *it);
  int (*checkpoints)(void *ctx,
                     int (*add)(void *arg, int64_t cseq, int64_t last_seq,
                                const void *rec, size_t len),
                     void *arg);
} eaudit__chain_src;

/* The chain as its store records it. */
typedef struct eaudit__chain_view {
  const uint8_t *id;          /* 16 bytes: the store id the records name */
  int64_t head_seq, anchor_seq;
  const uint8_t *head_hash;   /* 32 bytes each */
  const uint8_t *anchor_hash;
  /* A copy of a chain in a central store, which may go back further than
   * the site's own retention anchor: a signed base after the anchor must
   * then be a link of the chain. */
  int copy;
} eaudit__chain_view;

/* Verify one chain: its checkpoints (structure, links, signatures by
 * trusted, may be NULL), the off-device checkpoint newest (may be NULL),
 * every link from the anchor to the head, and EAUDIT_VERIFY_REQUIRE_
 * SIGNED_TAIL in flags. Damage goes into r (the first found is kept;
 * events and checkpoints add up) and returns EAUDIT_OK; other errors are
 * returned. */
int eaudit__verify_chain(const eaudit__chain_src *src,
                         const eaudit__chain_view *cv, const uint8_t *trusted,
                         const eaudit__cp *newest, unsigned flags,
                         eaudit_verify_result *r);

#endif
