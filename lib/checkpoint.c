/* The version-1 checkpoint record: parsing, composing and signing it,
 * whatever stores it (docs/integrity.md, "Checkpoints"). */
#include "checkpoint.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

_Static_assert(EAUDIT__CP_SIZE == EAUDIT_CHECKPOINT_SIZE, "record size");

static const char cp_tag[] = "eaudit-checkpoint";

static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static int64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = (v << 8) | p[i];
  return (int64_t)v;
}

void eaudit__cp_point(eaudit__cp *c) {
  const uint8_t *r = c->rec;
  c->kind = r[EAUDIT__CP_OFF_KIND];
  c->store = r + EAUDIT__CP_OFF_STORE;
  c->cseq = get64(r + EAUDIT__CP_OFF_CSEQ);
  c->last_seq = get64(r + EAUDIT__CP_OFF_LAST);
  c->head = r + EAUDIT__CP_OFF_HEAD;
  c->base_seq = get64(r + EAUDIT__CP_OFF_BASE_SEQ);
  c->base_hash = r + EAUDIT__CP_OFF_BASE_HASH;
  c->count = get64(r + EAUDIT__CP_OFF_COUNT);
  c->at = get64(r + EAUDIT__CP_OFF_TIME);
  c->prev = r + EAUDIT__CP_OFF_PREV;
  c->signer = r + EAUDIT__CP_OFF_SIGNER;
  c->next = r + EAUDIT__CP_OFF_NEXT;
  c->sig = r + EAUDIT__CP_BODY;
}

int eaudit__cp_parse(const uint8_t *rec, size_t len, eaudit__cp *out) {
  if (rec == NULL || len != EAUDIT__CP_SIZE ||
      memcmp(rec, cp_tag, EAUDIT__CP_TAG_LEN) != 0 ||
      rec[EAUDIT__CP_OFF_VERSION] != EAUDIT__CP_VERSION ||
      rec[EAUDIT__CP_OFF_KIND] < 1 || rec[EAUDIT__CP_OFF_KIND] > 3)
    return eaudit__error(EAUDIT_EFORMAT, EAUDIT_ECLASS_INVALID, 0,
                         "not a version-%d checkpoint record of %d bytes",
                         EAUDIT__CP_VERSION, EAUDIT__CP_SIZE);
  memcpy(out->rec, rec, EAUDIT__CP_SIZE);
  eaudit__cp_point(out);
  return EAUDIT_OK;
}

void eaudit__cp_digest(const uint8_t rec[EAUDIT__CP_SIZE], uint8_t out[32]) {
  crypto_generichash(out, 32, rec, EAUDIT__CP_SIZE, NULL, 0);
}

int eaudit__cp_signed_by(const eaudit__cp *c, const uint8_t pk[32]) {
  return crypto_sign_verify_detached(c->sig, c->rec, EAUDIT__CP_BODY, pk) == 0;
}

const uint8_t *eaudit__cp_current_key(const eaudit__cp *newest) {
  return newest->kind == EAUDIT_CHECKPOINT_ROTATION ? newest->next
                                                    : newest->signer;
}

void eaudit__cp_make(uint8_t r[EAUDIT__CP_SIZE], const eaudit__cp_fields *f,
                     const uint8_t pk[32], const uint8_t *sk) {
  memset(r, 0, EAUDIT__CP_SIZE);
  memcpy(r, cp_tag, EAUDIT__CP_TAG_LEN);
  r[EAUDIT__CP_OFF_VERSION] = EAUDIT__CP_VERSION;
  r[EAUDIT__CP_OFF_KIND] = (uint8_t)f->kind;
  memcpy(r + EAUDIT__CP_OFF_STORE, f->store, 16);
  put64(r + EAUDIT__CP_OFF_CSEQ, (uint64_t)(f->prev ? f->prev->cseq + 1 : 1));
  put64(r + EAUDIT__CP_OFF_LAST, (uint64_t)f->last_seq);
  memcpy(r + EAUDIT__CP_OFF_HEAD, f->head, 32);
  put64(r + EAUDIT__CP_OFF_BASE_SEQ, (uint64_t)f->base_seq);
  memcpy(r + EAUDIT__CP_OFF_BASE_HASH, f->base_hash, 32);
  put64(r + EAUDIT__CP_OFF_COUNT, (uint64_t)(f->last_seq - f->base_seq));
  put64(r + EAUDIT__CP_OFF_TIME, (uint64_t)f->at);
  if (f->prev)
    eaudit__cp_digest(f->prev->rec, r + EAUDIT__CP_OFF_PREV);
  memcpy(r + EAUDIT__CP_OFF_SIGNER, pk, 32);
  if (f->next)
    memcpy(r + EAUDIT__CP_OFF_NEXT, f->next, 32);
  crypto_sign_detached(r + EAUDIT__CP_BODY, NULL, r, EAUDIT__CP_BODY, sk);
}

int eaudit_checkpoint_info(const uint8_t *record, size_t len, int64_t *cseq_out,
                           int64_t *last_seq_out, eaudit_time *time_out) {
  eaudit__cp c;
  int rc = eaudit__cp_parse(record, len, &c);
  if (rc)
    return rc;
  if (cseq_out)
    *cseq_out = c.cseq;
  if (last_seq_out)
    *last_seq_out = c.last_seq;
  if (time_out)
    *time_out = c.at;
  return EAUDIT_OK;
}

/* ---- results ---- */

static const char *const damage_names[] = {
    "none",      "modified",  "deleted",  "inserted", "reordered",
    "truncated", "wrong_key", "unsigned", "derived"};

const char *eaudit_damage_name(int kind) {
  return kind >= 0 && kind <= EAUDIT_DAMAGE_DERIVED ? damage_names[kind] : NULL;
}

eaudit_verify_result *eaudit__verify_result_new(void) {
  eaudit_verify_result *r = eaudit__calloc(1, sizeof *r);
  if (r == NULL) {
    eaudit__enomem();
    return NULL;
  }
  eaudit__object_born();
  return r;
}

int eaudit__verify_result_code(eaudit_verify_result *r) {
  if (r->damage == EAUDIT_DAMAGE_NONE) {
    snprintf(r->message, sizeof r->message,
             "%lld events and %lld checkpoint signatures verified",
             (long long)r->events, (long long)r->checkpoints);
    return EAUDIT_OK;
  }
  int code = r->damage == EAUDIT_DAMAGE_WRONG_KEY ? EAUDIT_EKEY
                                                  : EAUDIT_ETAMPER;
  return eaudit__error(code, EAUDIT_ECLASS_STORE, 0, "%s: %s",
                       damage_names[r->damage], r->message);
}

int eaudit_verify_result_ok(const eaudit_verify_result *r) {
  return r != NULL && r->damage == EAUDIT_DAMAGE_NONE;
}
int eaudit_verify_result_damage(const eaudit_verify_result *r) {
  return r ? r->damage : EAUDIT_DAMAGE_NONE;
}
int64_t eaudit_verify_result_first_bad_seq(const eaudit_verify_result *r) {
  return r ? r->first_bad : 0;
}
int64_t eaudit_verify_result_events(const eaudit_verify_result *r) {
  return r ? r->events : 0;
}
int64_t eaudit_verify_result_checkpoints(const eaudit_verify_result *r) {
  return r ? r->checkpoints : 0;
}
int64_t eaudit_verify_result_signed_through(const eaudit_verify_result *r) {
  return r ? r->signed_through : 0;
}
const char *eaudit_verify_result_message(const eaudit_verify_result *r) {
  return r ? r->message : "";
}
void eaudit_verify_result_free(eaudit_verify_result *r) {
  if (r == NULL)
    return;
  eaudit__free(r);
  eaudit__object_died();
}
