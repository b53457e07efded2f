/**
 * @file eaudit/store.h
 * @brief Opening a store, appending events, the directory of names, vendor
 *        event types and subscribers.
 *
 * One handle per thread. A handle must not be used in a child process after
 * fork(): every call there fails with EAUDIT_EFORK (free it, open another).
 */
#ifndef EAUDIT_STORE_H
#define EAUDIT_STORE_H

#include "event.h"
#include "options.h"

EAUDIT_BEGIN_DECLS

/** The schema version this library writes. */
#define EAUDIT_SCHEMA_VERSION 1

/**
 * Open (or create) a store. @p path is a file path or ":memory:". @p opts
 * may be NULL for the defaults. A new file is created 0600 (and so are its
 * -wal and -shm files), whatever the umask. A store written by a newer
 * library fails with EAUDIT_ESCHEMA and is left unchanged; a file that is
 * not a store fails with EAUDIT_ECORRUPT. A postgresql:// or postgres://
 * URI opens the central PostgreSQL store instead (docs/scale-out.md): the
 * calls that it does not offer return EAUDIT_EUNSUPPORTED, and so does
 * opening one in a build without PostgreSQL.
 */
EAUDIT_EXTERN int eaudit_store_open(eaudit_store **out, const char *path,
                                    const eaudit_options *opts);

/** Close a store and free the handle. NULL is fine. */
EAUDIT_EXTERN void eaudit_store_free(eaudit_store *store);

/**
 * Append one event. It is validated first; a bad event is rejected with a
 * specific code (ETYPE, ESUBJECT, EDETAILS, ETOOBIG, EUTF8, ERANGE, ETIME)
 * and nothing is written. On success the store has filled in the event's
 * seq, recorded_at, id (when it had none) and hash, and subscribers have
 * been called. EAUDIT_EEXISTS when an event with the same id is stored.
 */
EAUDIT_EXTERN int eaudit_store_append(eaudit_store *store, eaudit_event *ev);

/** Create an empty batch. */
EAUDIT_EXTERN int eaudit_batch_new(eaudit_batch **out);

/** Free a batch and its events. NULL is fine. */
EAUDIT_EXTERN void eaudit_batch_free(eaudit_batch *batch);

/** Add a copy of @p ev to the batch. */
EAUDIT_EXTERN int eaudit_batch_add(eaudit_batch *batch, const eaudit_event *ev);

/** Number of events in the batch. */
EAUDIT_EXTERN size_t eaudit_batch_size(const eaudit_batch *batch);

/** The @p index-th event (borrowed); after an append it carries its seq. */
EAUDIT_EXTERN const eaudit_event *eaudit_batch_get(const eaudit_batch *batch,
                                                   size_t index);

/** Remove every event from the batch. */
EAUDIT_EXTERN void eaudit_batch_clear(eaudit_batch *batch);

/**
 * Append every event of a batch in one transaction: all or nothing. When an
 * event is invalid, nothing is written and @p failed_index (may be NULL)
 * receives its index.
 */
EAUDIT_EXTERN int eaudit_store_append_batch(eaudit_store *store,
                                            eaudit_batch *batch,
                                            size_t *failed_index);

/** The store's 16-byte id, fixed at creation. */
EAUDIT_EXTERN int eaudit_store_id(const eaudit_store *store, uint8_t out[16]);

/** Highest seq ever assigned (0 for a new store), read fresh. */
EAUDIT_EXTERN int eaudit_store_last_seq(eaudit_store *store, int64_t *out);

/** Number of events stored. */
EAUDIT_EXTERN int eaudit_store_event_count(eaudit_store *store, int64_t *out);

/** The store's clock: the time recorded_at would get now. */
EAUDIT_EXTERN eaudit_time eaudit_store_now(const eaudit_store *store);

/** The store's IANA time zone (borrowed). */
EAUDIT_EXTERN const char *eaudit_store_time_zone(const eaudit_store *store);

/** Change the store's time zone. EAUDIT_ETZ when unknown. */
EAUDIT_EXTERN int eaudit_store_set_time_zone(eaudit_store *store,
                                             const char *zone);

/** @name Vendor event types and labels */
/**@{*/

/**
 * Register a vendor type in the store: @p code from EAUDIT_TYPE_VENDOR_MIN
 * to EAUDIT_TYPE_VENDOR_MAX, a unique lower-case @p name ([a-z0-9_], at most
 * 64 bytes) and a @p label. Registering the same triple again is a no-op;
 * a clash is EAUDIT_EEXISTS.
 */
EAUDIT_EXTERN int eaudit_store_register_type(eaudit_store *store, int code,
                                             const char *name,
                                             const char *label);

/** Name of a built-in or registered type, or NULL (borrowed). */
EAUDIT_EXTERN const char *eaudit_store_type_name(eaudit_store *store,
                                                 int code);

/** Label of a type, translated if one was installed, or NULL (borrowed). */
EAUDIT_EXTERN const char *eaudit_store_type_label(eaudit_store *store,
                                                  int code);

/** Code of a built-in or registered type name. */
EAUDIT_EXTERN int eaudit_store_type_from_name(eaudit_store *store,
                                              const char *name, int *out);

/**
 * Install a translated label for a type in this store (NULL restores the
 * English one). Search matches the installed labels.
 */
EAUDIT_EXTERN int eaudit_store_set_type_label(eaudit_store *store, int code,
                                              const char *label);
/**@}*/

/** @name The directory of names */
/**@{*/

/**
 * Record that entity @p id of @p kind is named @p name from @p valid_from
 * on (EAUDIT_TIME_NONE: from the beginning of time). Earlier names are kept
 * as history. Names are never part of the hashed event bytes.
 */
EAUDIT_EXTERN int eaudit_store_set_name(eaudit_store *store, int kind,
                                        int64_t id, const char *name,
                                        eaudit_time valid_from);

/** As eaudit_store_set_name() for a user, also setting the user's role. */
EAUDIT_EXTERN int eaudit_store_set_user(eaudit_store *store, int64_t id,
                                        const char *name, int role,
                                        eaudit_time valid_from);

/**
 * The name entity @p id had at time @p at (EAUDIT_TIME_NONE: the current
 * name), allocated; free with eaudit_free(). EAUDIT_ENOTFOUND when none.
 */
EAUDIT_EXTERN int eaudit_store_name_at(eaudit_store *store, int kind,
                                       int64_t id, eaudit_time at,
                                       char **out);

/** Erase every name an entity ever had (a GDPR request). Chains stay valid. */
EAUDIT_EXTERN int eaudit_store_erase_names(eaudit_store *store, int kind,
                                           int64_t id);
/**@}*/

/** @name Subscribers */
/**@{*/

/**
 * Called once for each event committed through this handle, after commit,
 * in seq order. The event is borrowed for the call. A nonzero return is
 * logged and otherwise ignored: the append has already succeeded.
 */
typedef int (*eaudit_event_fn)(const eaudit_event *ev, void *payload);

/**
 * Subscribe to events appended through this handle. @p filter (copied; may
 * be NULL) selects by types, user and entity filters; its interval and text
 * are ignored. @p id_out (may be NULL) receives an id for unsubscribing.
 */
EAUDIT_EXTERN int eaudit_store_subscribe(eaudit_store *store,
                                         const eaudit_query *filter,
                                         eaudit_event_fn fn, void *payload,
                                         int *id_out);

/** Remove a subscriber. EAUDIT_ENOTFOUND for an unknown id. */
EAUDIT_EXTERN int eaudit_store_unsubscribe(eaudit_store *store, int id);
/**@}*/

EAUDIT_END_DECLS

#endif /* EAUDIT_STORE_H */
