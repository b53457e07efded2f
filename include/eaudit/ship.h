/**
 * @file eaudit/ship.h
 * @brief Shipping a site store's events into a central PostgreSQL store.
 *
 * A central store is a PostgreSQL database (schema `eaudit`) that receives
 * the events of many site stores. Each site keeps its own hash chain there,
 * keyed by its 16-byte store id (eaudit_store_id()), so every site stays
 * verifiable on its own. See docs/scale-out.md.
 *
 * The central store is named by a libpq URI, `postgresql://...` or
 * `postgres://...` (https://www.postgresql.org/docs/current/libpq-connect.html).
 * A library built without libpq (CMake option EAUDIT_WITH_POSTGRESQL=OFF)
 * answers every call here with EAUDIT_EUNSUPPORTED.
 */
#ifndef EAUDIT_SHIP_H
#define EAUDIT_SHIP_H

#include "common.h"
#include "integrity.h"
#include "types.h"

EAUDIT_BEGIN_DECLS

/** Schema version of the central store this library creates and reads. */
#define EAUDIT_CENTRAL_SCHEMA_VERSION 6

/** Batch size used when eaudit_store_ship() is given 0. */
#define EAUDIT_SHIP_BATCH_DEFAULT 1000

/**
 * Create the central schema in the database at @p central_uri, or migrate
 * it to EAUDIT_CENTRAL_SCHEMA_VERSION. Idempotent, and safe while other
 * processes do the same. A newer schema gives EAUDIT_ESCHEMA and changes
 * nothing; a server that cannot be reached gives EAUDIT_EIO with libpq's
 * message; a malformed URI gives EAUDIT_EINVAL.
 */
EAUDIT_EXTERN int eaudit_central_init(const char *central_uri);

/**
 * Send the events of @p site that the central store does not have yet,
 * oldest first, in batches of @p batch_size (0 for
 * EAUDIT_SHIP_BATCH_DEFAULT). Creates the central schema when missing.
 *
 * Each batch is one PostgreSQL transaction holding the site's advisory
 * lock: it checks that the batch continues the site's chain as stored
 * centrally (each event's hash is recomputed), inserts the events, and
 * moves the site's cursor (its shipped head seq and hash) with them. A
 * crash or a lost connection at any point leaves whole batches only; the
 * next call resumes after the cursor. Events already present (same site
 * and id) are not inserted twice. Then the site's signed checkpoints that
 * the central store lacks (those covering shipped events) are sent, for
 * eaudit_central_verify_site_signed(). One more transaction syncs the
 * site's directory: names, vendor types, labels and user roles
 * (docs/scale-out.md).
 *
 * When the central store has a rule set of its own (chosen with
 * eaudit_store_set_rules() on a handle of it), each batch also evaluates
 * the events it inserts under that set, in the site's seq order with the
 * site's own rule state, inside the batch's transaction; the findings are
 * read on a central handle (docs/scale-out.md, "Shipped events under the
 * central store's rules").
 *
 * @param site         the site store (a read-only handle will do).
 * @param central_uri  the central store, `postgresql://...`.
 * @param batch_size   events per transaction, at most 100000; 0 for
 *                     EAUDIT_SHIP_BATCH_DEFAULT.
 * @param shipped      may be NULL; receives the number of events inserted
 *                     by this call, also when it fails after some batches.
 * @return 0 when the central store holds every event the site had when the
 *         call started; EAUDIT_ETAMPER when the site's chain does not
 *         continue the central one (nothing of that batch is written);
 *         EAUDIT_ECURSOR when the site purged events that were never
 *         shipped; EAUDIT_EIO when the server fails or cannot be reached
 *         (with libpq's message); EAUDIT_EINVAL for a bad argument or URI.
 */
EAUDIT_EXTERN int eaudit_store_ship(eaudit_store *site,
                                    const char *central_uri,
                                    size_t batch_size, int64_t *shipped);

/**
 * Verify one site's chain in the central store end to end: from the site's
 * base (its genesis link, or the retention anchor it had when first
 * shipped) through every event in seq order to the stored cursor.
 *
 * @param central_uri  the central store, `postgresql://...`.
 * @param site_id      the site store's id (eaudit_store_id()).
 * @param out          may be NULL; receives the number of events checked.
 * The site's signatures are not checked here: see
 * eaudit_central_verify_site_signed().
 *
 * @return 0 when the chain verifies; EAUDIT_ETAMPER naming the first bad
 *         seq; EAUDIT_ENOTFOUND when the site never shipped here or the
 *         central schema does not exist.
 */
EAUDIT_EXTERN int eaudit_central_verify_site(const char *central_uri,
                                             const uint8_t site_id[16],
                                             int64_t *out);

/**
 * Verify one site's chain in the central store against the site's own
 * signed checkpoints, shipped with its events: as
 * eaudit_central_verify_site(), and also the checkpoints' links and
 * signatures by @p public_key (the site's, from the caller; NULL checks
 * their structure only), every link they sign, and that the chain starts
 * no later than the retention anchor the site signed. So a central chain
 * whose oldest events were deleted, with its base and anchor rewritten to
 * match, is DELETED damage. @p newest (may be NULL; needs @p public_key)
 * is the site's newest checkpoint kept elsewhere, against truncation.
 * @p flags: EAUDIT_VERIFY_REQUIRE_SIGNED_TAIL (the others are accepted and
 * change nothing).
 *
 * @return EAUDIT_OK, EAUDIT_ETAMPER on damage (EAUDIT_EKEY for WRONG_KEY),
 *         with @p out (may be NULL) receiving the result, as
 *         eaudit_store_verify(); EAUDIT_ENOTFOUND when the site never
 *         shipped here; EAUDIT_EINVAL for a bad argument or URI (an
 *         off-device checkpoint of another store); EAUDIT_EFORMAT for a
 *         malformed @p newest; EAUDIT_EIO when the server fails.
 */
EAUDIT_EXTERN int eaudit_central_verify_site_signed(
    const char *central_uri, const uint8_t site_id[16],
    const uint8_t *public_key, const uint8_t *newest, size_t newest_len,
    unsigned flags, eaudit_verify_result **out);

EAUDIT_END_DECLS

#endif /* EAUDIT_SHIP_H */
