/* Canonical event bytes and the BLAKE2b-256 chain (libsodium). */
#include "chain.h"

#include <sodium.h>
#include <string.h>

static const char genesis_tag[] = "eaudit-genesis-v1";
/* Domain tag and format version that open every canonical encoding. */
static const char event_tag[] = "eaudit-event";
#define EAUDIT__CANONICAL_VERSION 1

/* The optional ids, in bitmap order (bit 0 first). */
static const int id_fields[] = {EAUDIT_FIELD_SUBJECT, EAUDIT_FIELD_ACTOR,
                                EAUDIT_FIELD_DOOR,    EAUDIT_FIELD_GROUP,
                                EAUDIT_FIELD_DEVICE,  EAUDIT_FIELD_SITE};

static uint8_t *put_be(uint8_t *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++)
    p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
  return p + bytes;
}

void eaudit__chain_genesis(const uint8_t store_id[16],
                           uint8_t out[EAUDIT__HASH_LEN]) {
  crypto_generichash_state h;
  crypto_generichash_init(&h, NULL, 0, EAUDIT__HASH_LEN);
  crypto_generichash_update(&h, (const uint8_t *)genesis_tag,
                            sizeof genesis_tag - 1);
  crypto_generichash_update(&h, store_id, 16);
  crypto_generichash_final(&h, out, EAUDIT__HASH_LEN);
}

int eaudit__chain_link(const eaudit_event *ev,
                       const uint8_t prev[EAUDIT__HASH_LEN],
                       uint8_t out[EAUDIT__HASH_LEN]) {
  /* The fixed part is at most 12 + 1 + 16 + 3 * 8 + 4 + 1 + 6 * 8 + 2 + 2 +
   * 4 = 114 bytes: assemble it, then hash it, the details and prev. */
  uint8_t buf[128], *p = buf;
  memcpy(p, event_tag, sizeof event_tag - 1);
  p += sizeof event_tag - 1;
  p = put_be(p, EAUDIT__CANONICAL_VERSION, 1);
  memcpy(p, ev->id, 16);
  p += 16;
  p = put_be(p, (uint64_t)ev->v[EAUDIT_FIELD_SEQ], 8);
  p = put_be(p, (uint64_t)ev->v[EAUDIT_FIELD_OCCURRED_AT], 8);
  p = put_be(p, (uint64_t)ev->v[EAUDIT_FIELD_RECORDED_AT], 8);
  p = put_be(p, (uint64_t)ev->v[EAUDIT_FIELD_TYPE], 4);
  uint8_t bitmap = 0;
  for (size_t i = 0; i < sizeof id_fields / sizeof id_fields[0]; i++)
    if (EAUDIT__HAS(ev, id_fields[i]))
      bitmap |= (uint8_t)(1u << i);
  p = put_be(p, bitmap, 1);
  for (size_t i = 0; i < sizeof id_fields / sizeof id_fields[0]; i++)
    if (EAUDIT__HAS(ev, id_fields[i]))
      p = put_be(p, (uint64_t)ev->v[id_fields[i]], 8);
  p = put_be(p, (uint64_t)ev->v[EAUDIT_FIELD_CREDENTIAL], 2);
  p = put_be(p, (uint64_t)ev->v[EAUDIT_FIELD_REASON], 2);
  p = put_be(p, (uint64_t)ev->details_len, 4);
  crypto_generichash_state h;
  crypto_generichash_init(&h, NULL, 0, EAUDIT__HASH_LEN);
  crypto_generichash_update(&h, buf, (unsigned long long)(p - buf));
  if (ev->details_len)
    crypto_generichash_update(&h, (const uint8_t *)ev->details,
                              ev->details_len);
  crypto_generichash_update(&h, prev, EAUDIT__HASH_LEN);
  crypto_generichash_final(&h, out, EAUDIT__HASH_LEN);
  return EAUDIT_OK;
}
