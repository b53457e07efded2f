/* The hash chain: canonical event bytes and BLAKE2b-256 links.
 * docs/integrity.md specifies the bytes for verifiers in other languages. */
#ifndef EAUDIT_CHAIN_H
#define EAUDIT_CHAIN_H

#include "event_internal.h"

#define EAUDIT__HASH_LEN 32

/* The link before seq 1: BLAKE2b-256("eaudit-genesis-v1" || store id). */
void eaudit__chain_genesis(const uint8_t store_id[16],
                           uint8_t out[EAUDIT__HASH_LEN]);

/* hash = BLAKE2b-256(canonical(ev) || prev). The event must carry seq,
 * recorded_at and its id. */
int eaudit__chain_link(const eaudit_event *ev,
                       const uint8_t prev[EAUDIT__HASH_LEN],
                       uint8_t out[EAUDIT__HASH_LEN]);

#endif
