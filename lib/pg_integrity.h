/* Signed checkpoints on the central PostgreSQL store (pg_integrity.c):
 * the storage integrity.c uses on a handle opened on a postgresql:// URI
 * (s->pg set), shipping of a site's checkpoints, and verification of the
 * central chains against them. Checkpoints live in eaudit.checkpoints,
 * keyed by (origin, cseq). Free of libpq types but for the last block.
 * Without libpq these answer EAUDIT_EUNSUPPORTED. See docs/scale-out.md,
 * "Checkpoints on the central store". */
#ifndef EAUDIT_PG_INTEGRITY_H
#define EAUDIT_PG_INTEGRITY_H

#include "checkpoint.h"
#include "store_internal.h"

/* The own chain's checkpoint cseq (0: the newest) into out (cap bytes):
 * *found 0 when there is none; *len the stored length, copied only when
 * it fits. */
int eaudit__pg_cp_read(eaudit_store *s, int64_t cseq, uint8_t *out,
                       size_t cap, size_t *len, int *found);
/* The own chain's head and base (its retention anchor), in the open
 * transaction if any. */
int eaudit__pg_cp_chain(eaudit_store *s, int64_t *head_seq, uint8_t head[32],
                        int64_t *anchor_seq, uint8_t anchor[32]);
/* Store a checkpoint of the own chain. */
int eaudit__pg_cp_insert(eaudit_store *s, int64_t cseq, int64_t last_seq,
                         const uint8_t *rec);
/* Remove the own chain's checkpoints about events before @p base_seq only
 * (last_seq below it), in the open transaction. */
int eaudit__pg_cp_prune(eaudit_store *s, int64_t base_seq);
/* Every checkpoint of the own chain, oldest first, concatenated into *out
 * (the caller frees it), *bytes long. */
int eaudit__pg_cp_all(eaudit_store *s, uint8_t **out, size_t *bytes);
/* A transaction holding the own chain's lock (the one appends take), and
 * its end: COMMIT when rc is 0, else ROLLBACK; returns the outcome. */
int eaudit__pg_cp_begin(eaudit_store *s);
int eaudit__pg_cp_end(eaudit_store *s, int rc);
/* eaudit_store_verify() on a PostgreSQL handle: every origin's chain in one
 * snapshot. trusted and newest apply to the chain newest names, or to the
 * own chain without newest; the other chains' checkpoints are checked
 * without signatures. */
int eaudit__pg_verify_store(eaudit_store *s, const uint8_t *trusted,
                            const eaudit__cp *newest, unsigned flags,
                            eaudit_verify_result *r);

#ifdef EAUDIT_HAVE_LIBPQ
#include <libpq-fe.h>

/* The base_seq of the origin's newest stored checkpoint (its signed
 * retention anchor); *found 0 when it has none. */
int eaudit__pg_cp_signed_base(PGconn *c, const uint8_t origin[16], int *found,
                              int64_t *base_seq);
/* Send the site's checkpoints the central store lacks, in cseq order, up
 * to the first that covers events not shipped yet, in one transaction
 * under the site's lock. */
int eaudit__pg_ship_checkpoints(eaudit_store *site, PGconn *c);
#endif

#endif
