/**
 * @file eaudit/integrity.h
 * @brief Tamper evidence: signed checkpoints, verification, retention and backup.
 *
 * Every event is a link of a BLAKE2b-256 hash chain, computed inside the
 * append transaction. A store given a signing key (Ed25519) also writes
 * signed checkpoints of the chain head. Verification recomputes the chain,
 * checks the checkpoints with a public key the caller trusts, and checks
 * the derived data (search index, rollups) against the events.
 * docs/integrity.md specifies the bytes and what is and is not guaranteed.
 */
#ifndef EAUDIT_INTEGRITY_H
#define EAUDIT_INTEGRITY_H

#include "query.h"
#include "store.h"

EAUDIT_BEGIN_DECLS

/** @name Key and record sizes */
/**@{*/
#define EAUDIT_SIGN_SEED_SIZE 32   /**< an Ed25519 seed */
#define EAUDIT_SIGN_SECRET_SIZE 64 /**< libsodium's secret key (seed || public) */
#define EAUDIT_PUBLIC_KEY_SIZE 32  /**< an Ed25519 public key */
#define EAUDIT_CHECKPOINT_SIZE 299 /**< a version-1 checkpoint record */
/**@}*/

/** The outcome of eaudit_store_verify(). */
typedef struct eaudit_verify_result eaudit_verify_result;

/** Kinds of damage verification reports. Values are ABI. */
typedef enum eaudit_damage {
  EAUDIT_DAMAGE_NONE = 0,      /**< nothing found */
  EAUDIT_DAMAGE_MODIFIED = 1,  /**< an event, its hash or a checkpoint changed */
  EAUDIT_DAMAGE_DELETED = 2,   /**< an event or checkpoint is missing */
  EAUDIT_DAMAGE_INSERTED = 3,  /**< an event that was never appended */
  EAUDIT_DAMAGE_REORDERED = 4, /**< genuine events at the wrong seq */
  EAUDIT_DAMAGE_TRUNCATED = 5, /**< the newest events are missing */
  EAUDIT_DAMAGE_WRONG_KEY = 6, /**< checkpoints not signed by the trusted key */
  EAUDIT_DAMAGE_UNSIGNED = 7,  /**< a signed store was expected; it is not */
  EAUDIT_DAMAGE_DERIVED = 8    /**< search index or rollups disagree */
} eaudit_damage;

/** Flags of eaudit_store_verify(). Values are ABI. */
typedef enum eaudit_verify_flag {
  /** Skip the rollup and search-index checks (faster). */
  EAUDIT_VERIFY_SKIP_DERIVED = 1,
  /** Do not append a verification_failed event on damage. */
  EAUDIT_VERIFY_NO_RECORD = 2,
  /** Report events newer than the newest checkpoint as UNSIGNED damage. */
  EAUDIT_VERIFY_REQUIRE_SIGNED_TAIL = 4
} eaudit_verify_flag;

/** Kinds of checkpoint (byte 18 of a record). Values are ABI. */
typedef enum eaudit_checkpoint_kind {
  EAUDIT_CHECKPOINT_REGULAR = 1,  /**< by policy, on demand or by the timer */
  EAUDIT_CHECKPOINT_ROTATION = 2, /**< signed by the old key, names the new */
  EAUDIT_CHECKPOINT_ANCHOR = 3    /**< written by a purge: the new chain start */
} eaudit_checkpoint_kind;

/**
 * Receives each checkpoint written through a handle, after its transaction
 * committed: @p record is @p len bytes (EAUDIT_CHECKPOINT_SIZE), borrowed
 * for the call. Ship it off the device. A nonzero return is logged.
 */
typedef int (*eaudit_checkpoint_fn)(const uint8_t *record, size_t len,
                                    void *payload);

/** @name Keys */
/**@{*/
/**
 * Make a new Ed25519 key pair from libsodium's random source: the 32-byte
 * seed (keep it secret; it is the signing key) and the public key.
 */
EAUDIT_EXTERN int eaudit_keypair_generate(uint8_t seed_out[32],
                                          uint8_t public_out[32]);

/**
 * The public key of a signing key: a 32-byte seed or a 64-byte libsodium
 * secret key (@p size). EAUDIT_EKEY for another size or a 64-byte key whose
 * halves disagree.
 */
EAUDIT_EXTERN int eaudit_signing_public_key(const uint8_t *key, size_t size,
                                            uint8_t out[32]);

/**
 * Give this handle the signing key (32-byte seed or 64-byte secret key).
 * On a PostgreSQL store it signs the central store's own chain; the
 * checkpoint calls below work there too, with the records stored in the
 * central table eaudit.checkpoints.
 * It is kept in this handle's memory only, never written to the store, and
 * wiped when replaced or when the handle is freed. NULL (size 0) forgets it.
 * From now on checkpoints are written by the policy. EAUDIT_EKEY when the
 * store's newest checkpoint names another current key.
 */
EAUDIT_EXTERN int eaudit_store_set_signing_key(eaudit_store *store,
                                               const uint8_t *key,
                                               size_t size);

/**
 * Checkpoint policy of this handle: a checkpoint inside the append that
 * brings the events since the newest checkpoint to @p every_events, or that
 * comes @p every_us microseconds or more after it. 0 turns either off.
 * Defaults: 1000 events, 3600 s. EAUDIT_ERANGE for negative values.
 */
EAUDIT_EXTERN int eaudit_store_set_checkpoint_policy(eaudit_store *store,
                                                     int64_t every_events,
                                                     eaudit_time every_us);

/**
 * Write a checkpoint now, signed with the handle's key. @p cseq_out (may be
 * NULL) receives its checkpoint seq. EAUDIT_EKEY without a key or when the
 * key is not the store's current one.
 */
EAUDIT_EXTERN int eaudit_store_checkpoint(eaudit_store *store,
                                          int64_t *cseq_out);

/**
 * The timer call: writes a checkpoint when the newest is at least the
 * policy's interval old (or there is none), whether or not events came in,
 * so that a quiet period is signed too and a missing one shows. Returns
 * EAUDIT_OK when it wrote one, EAUDIT_DONE when none was due.
 */
EAUDIT_EXTERN int eaudit_store_checkpoint_tick(eaudit_store *store);

/**
 * Rotate the signing key: writes a ROTATION checkpoint signed with the
 * current key that names the public key of @p new_key (seed or secret key),
 * then signs with @p new_key from now on. Other handles must switch to the
 * new key: checkpoints signed with the old key afterwards are refused.
 */
EAUDIT_EXTERN int eaudit_store_rotate_key(eaudit_store *store,
                                          const uint8_t *new_key,
                                          size_t size);
/**@}*/

/** @name Exporting checkpoints */
/**@{*/
/** Call @p fn with every checkpoint this handle writes (NULL stops it). */
EAUDIT_EXTERN int eaudit_store_set_checkpoint_sink(eaudit_store *store,
                                                   eaudit_checkpoint_fn fn,
                                                   void *payload);

/**
 * Copy checkpoint @p cseq (0: the newest) into @p out (@p cap bytes, at
 * least EAUDIT_CHECKPOINT_SIZE); @p len_out receives its length.
 * EAUDIT_ENOTFOUND when there is none, EAUDIT_ETOOBIG when @p cap is short.
 */
EAUDIT_EXTERN int eaudit_store_checkpoint_get(eaudit_store *store,
                                              int64_t cseq, uint8_t *out,
                                              size_t cap, size_t *len_out);

/**
 * Write every stored checkpoint, oldest first, as concatenated records to a
 * new file at @p path (mode 0600). EAUDIT_EEXISTS when the file exists.
 */
EAUDIT_EXTERN int eaudit_store_export_checkpoints(eaudit_store *store,
                                                  const char *path);

/**
 * Read the main fields of a checkpoint record (each out may be NULL): its
 * checkpoint seq, the last event seq it covers and its time. The signature
 * is not checked. EAUDIT_EFORMAT when it is not a version-1 record.
 */
EAUDIT_EXTERN int eaudit_checkpoint_info(const uint8_t *record, size_t len,
                                         int64_t *cseq_out,
                                         int64_t *last_seq_out,
                                         eaudit_time *time_out);
/**@}*/

/** @name Verification */
/**@{*/
/**
 * Verify the store: the hash chain, the checkpoints and (unless
 * EAUDIT_VERIFY_SKIP_DERIVED) the search index and rollups.
 *
 * On a PostgreSQL store, every chain in the database (the own chain and
 * each shipped site) with its checkpoints; there is no derived data to
 * check. @p public_key and @p newest apply to the chain @p newest names,
 * or to the own chain without @p newest; the other chains' checkpoints are
 * checked without their signatures (see
 * eaudit_central_verify_site_signed()).
 *
 * @p public_key (32 bytes, from the caller, never from the store) is the
 * trusted key; with it a store without checkpoints is UNSIGNED damage.
 * NULL checks the chain alone. @p newest (may be NULL) is the newest
 * checkpoint record kept off the device; with it, truncation and a rewritten
 * tail are detected. Verification reads one consistent snapshot.
 *
 * Returns EAUDIT_OK when nothing was found, EAUDIT_ETAMPER on damage (and
 * EAUDIT_EKEY when it is WRONG_KEY), with @p out (may be NULL) receiving the
 * result either way. On damage a writable handle appends a
 * verification_failed event by @p actor, unless EAUDIT_VERIFY_NO_RECORD.
 * Other errors (I/O, a malformed @p newest: EAUDIT_EFORMAT) give no result.
 */
EAUDIT_EXTERN int eaudit_store_verify(eaudit_store *store, int64_t actor,
                                      const uint8_t *public_key,
                                      const uint8_t *newest, size_t newest_len,
                                      unsigned flags,
                                      eaudit_verify_result **out);

/** 1 when verification found nothing, 0 otherwise (also for NULL). */
EAUDIT_EXTERN int eaudit_verify_result_ok(const eaudit_verify_result *r);

/** The kind of the first damage found (an eaudit_damage). */
EAUDIT_EXTERN int eaudit_verify_result_damage(const eaudit_verify_result *r);

/**
 * The first seq that is damaged (or, for damage a signature reveals, the
 * first seq no longer covered by a good checkpoint); 0 when none or when the
 * damage concerns no event (a search-index row).
 */
EAUDIT_EXTERN int64_t
eaudit_verify_result_first_bad_seq(const eaudit_verify_result *r);

/** Number of events whose chain link was checked. */
EAUDIT_EXTERN int64_t eaudit_verify_result_events(const eaudit_verify_result *r);

/** Number of checkpoints whose signature was checked. */
EAUDIT_EXTERN int64_t
eaudit_verify_result_checkpoints(const eaudit_verify_result *r);

/**
 * The highest seq covered by a good checkpoint signed by the trusted key
 * (or by a key it rotated to); events after it are signed by nobody yet.
 */
EAUDIT_EXTERN int64_t
eaudit_verify_result_signed_through(const eaudit_verify_result *r);

/** A sentence describing the outcome (borrowed, never NULL). */
EAUDIT_EXTERN const char *
eaudit_verify_result_message(const eaudit_verify_result *r);

/** Free a result. NULL is fine. */
EAUDIT_EXTERN void eaudit_verify_result_free(eaudit_verify_result *r);

/** Name of a damage kind ("modified"), or NULL. */
EAUDIT_EXTERN const char *eaudit_damage_name(int kind);
/**@}*/

/** @name Retention and backup */
/**@{*/
/**
 * Purge old events: every event up to the highest seq S such that all
 * events up to S occurred before @p before (a late old event waits until
 * the prefix reaches it). Works in transactions of @p batch_size events,
 * or with 0 (recommended) of as many as hold the write lock about 20 ms,
 * and pauses between them so appenders are not held up.
 * Each batch checks the chain links it removes (EAUDIT_ETAMPER rather than
 * erase damaged evidence), decrements the rollups and moves the signed
 * retention anchor. Then a retention_purged event by @p actor is appended
 * and free pages are given back. @p purged_out (may be NULL) receives the
 * number of events removed. A signed store needs the signing key
 * (EAUDIT_EKEY). On a PostgreSQL store every chain in it is purged, and
 * the own chain, when signed, goes past the anchor its newest checkpoint
 * signs only with the key (docs/scale-out.md, "Retention on the central
 * store"). Seq numbers are never reused. Events the anomaly rules may
 * still read are kept: @p before is capped at the newest event's time minus
 * the longest enabled rule window and the lateness bound.
 */
EAUDIT_EXTERN int eaudit_store_purge(eaudit_store *store, eaudit_time before,
                                     int64_t actor, size_t batch_size,
                                     int64_t *purged_out);

/**
 * What eaudit_store_purge() would remove now for @p before, without
 * writing (a read-only handle will do): the limit after the cap for the
 * rules' windows (@p effective_before), the highest seq it would remove
 * (@p through_seq, 0 when none) and how many events (@p events). Any output
 * pointer may be NULL.
 */
EAUDIT_EXTERN int eaudit_store_purge_plan(eaudit_store *store,
                                          eaudit_time before,
                                          eaudit_time *effective_before,
                                          int64_t *through_seq,
                                          int64_t *events);

/**
 * Copy the store, while it is in use, into a new file at @p path (mode
 * 0600) with SQLite's online backup. The copy verifies on its own with the
 * same public key. EAUDIT_EEXISTS when the file exists. SQLite stores
 * only: a PostgreSQL store answers EAUDIT_EUNSUPPORTED (copy it with
 * pg_dump).
 */
EAUDIT_EXTERN int eaudit_store_backup(eaudit_store *store, const char *path);
/**@}*/

EAUDIT_END_DECLS

#endif /* EAUDIT_INTEGRITY_H */
