/**
 * @file eaudit/options.h
 * @brief Settings for opening a store: an opaque handle with typed setters
 *        keyed by explicit enum numbers.
 */
#ifndef EAUDIT_OPTIONS_H
#define EAUDIT_OPTIONS_H

#include "types.h"

EAUDIT_BEGIN_DECLS

/**
 * Option keys. Values are ABI. Integer options are set with
 * eaudit_options_set_int(), text options with eaudit_options_set_str().
 */
typedef enum eaudit_option {
  /** int: EAUDIT_SYNC_FULL (default) or EAUDIT_SYNC_NORMAL. */
  EAUDIT_OPT_SYNCHRONOUS = 1,
  /** int: how long a writer waits for the lock, ms (default 5000). */
  EAUDIT_OPT_BUSY_TIMEOUT_MS = 2,
  /** str: IANA time zone of a new store (default "UTC"); ignored when the
   *  store exists (change it with eaudit_store_set_time_zone()). */
  EAUDIT_OPT_TIME_ZONE = 3,
  /** int: 1 opens read-only (default 0). */
  EAUDIT_OPT_READ_ONLY = 4,
  /** int: 1 creates a missing store (default), 0 fails with ENOTFOUND. */
  EAUDIT_OPT_CREATE = 5,
  /** int: largest accepted details object in bytes (default 16384). */
  EAUDIT_OPT_DETAILS_MAX_BYTES = 6,
  /** int: events older than the newest by more than this many microseconds
   *  are flagged late by the rules engine (default 24 h). */
  EAUDIT_OPT_LATENESS_US = 7,
  /** int: bound on the WAL file kept after checkpoints, bytes
   *  (default 64 MiB). */
  EAUDIT_OPT_JOURNAL_SIZE_LIMIT = 8,
  /** int: device recognition: the similarity, per mille, at which attributes
   *  match a known device (default 750). See docs/devices.md. */
  EAUDIT_OPT_DEVICE_THRESHOLD = 9,
  /** int: device recognition: weight (0-1000) of each attribute in the
   *  similarity score: platform (default 100), OS family (150), OS version
   *  (50), browser family (150), browser version (50), model (200), screen
   *  (100), time zone (50), language (50), IP (30). The weight of attribute
   *  eaudit_devattr A is key 8 + A. */
  EAUDIT_OPT_DEVICE_WEIGHT_PLATFORM = 10,
  EAUDIT_OPT_DEVICE_WEIGHT_OS_FAMILY = 11,
  EAUDIT_OPT_DEVICE_WEIGHT_OS_VERSION = 12,
  EAUDIT_OPT_DEVICE_WEIGHT_BROWSER_FAMILY = 13,
  EAUDIT_OPT_DEVICE_WEIGHT_BROWSER_VERSION = 14,
  EAUDIT_OPT_DEVICE_WEIGHT_MODEL = 15,
  EAUDIT_OPT_DEVICE_WEIGHT_SCREEN = 16,
  EAUDIT_OPT_DEVICE_WEIGHT_TIME_ZONE = 17,
  EAUDIT_OPT_DEVICE_WEIGHT_LANGUAGE = 18,
  EAUDIT_OPT_DEVICE_WEIGHT_IP = 19,
  /** int: the most memory, in KiB, SQLite's page cache of one handle may
   *  hold (default 8192, i.e. 8 MiB; at least 64). A commit whose changed
   *  pages do not fit spills them to the WAL and reads evicted pages back;
   *  the default holds a 500-event batch with every built-in rule on.
   *  Ignored by a PostgreSQL store. */
  EAUDIT_OPT_CACHE_SIZE_KIB = 20
} eaudit_option;

/** Values of EAUDIT_OPT_SYNCHRONOUS. */
typedef enum eaudit_sync {
  EAUDIT_SYNC_NORMAL = 1, /**< may lose the last commits on power loss */
  EAUDIT_SYNC_FULL = 2    /**< an acknowledged append survives power loss */
} eaudit_sync;

/** An injectable clock: returns the current time in microseconds, UTC. */
typedef eaudit_time (*eaudit_clock_fn)(void *payload);

/**
 * An injectable random source: fill @p buf with @p len random bytes and
 * return 0, or return nonzero on failure.
 */
typedef int (*eaudit_random_fn)(uint8_t *buf, size_t len, void *payload);

/** Create an options handle holding every default. */
EAUDIT_EXTERN int eaudit_options_new(eaudit_options **out);

/** Free an options handle. NULL is fine. */
EAUDIT_EXTERN void eaudit_options_free(eaudit_options *opts);

/**
 * Set an integer option. EAUDIT_EOPTION for an unknown key or a text key,
 * EAUDIT_ERANGE for a value outside eaudit_option_bounds().
 */
EAUDIT_EXTERN int eaudit_options_set_int(eaudit_options *opts, int key,
                                         int64_t value);

/** Read an integer option into @p out. */
EAUDIT_EXTERN int eaudit_options_get_int(const eaudit_options *opts, int key,
                                         int64_t *out);

/**
 * Set a text option (copied). EAUDIT_ETZ for an unknown time zone.
 */
EAUDIT_EXTERN int eaudit_options_set_str(eaudit_options *opts, int key,
                                         const char *value);

/** The inclusive bounds of an integer option. */
EAUDIT_EXTERN int eaudit_option_bounds(int key, int64_t *min, int64_t *max);

/** Use @p fn as the store's clock (NULL restores the system clock). */
EAUDIT_EXTERN int eaudit_options_set_clock(eaudit_options *opts,
                                           eaudit_clock_fn fn, void *payload);

/** Use @p fn as the random source (NULL restores libsodium's). */
EAUDIT_EXTERN int eaudit_options_set_random(eaudit_options *opts,
                                            eaudit_random_fn fn,
                                            void *payload);

EAUDIT_END_DECLS

#endif /* EAUDIT_OPTIONS_H */
