/**
 * @file eaudit/event.h
 * @brief Building and reading events, and event ids.
 *
 * An event is built with eaudit_event_new() and its setters, then appended
 * with eaudit_store_append(). Events read from a cursor are borrowed: valid
 * until the cursor's next step.
 */
#ifndef EAUDIT_EVENT_H
#define EAUDIT_EVENT_H

#include "types.h"

EAUDIT_BEGIN_DECLS

/** Length of the text form of an id, without the terminating NUL. */
#define EAUDIT_UUID_STRLEN 36

/** Default largest details object in bytes (see EAUDIT_OPT_DETAILS_MAX_BYTES). */
#define EAUDIT_DETAILS_MAX_DEFAULT 16384

/** Hard upper limit on details in bytes. */
#define EAUDIT_DETAILS_MAX_LIMIT 1048576

/**
 * Create an empty event: no type, no subject, credential and reason 0.
 * The caller frees it with eaudit_event_free().
 */
EAUDIT_EXTERN int eaudit_event_new(eaudit_event **out);

/** Free an event. NULL is fine. */
EAUDIT_EXTERN void eaudit_event_free(eaudit_event *ev);

/** Return an event to the state eaudit_event_new() gives. */
EAUDIT_EXTERN void eaudit_event_reset(eaudit_event *ev);

/** Copy an event (for keeping one read from a cursor). */
EAUDIT_EXTERN int eaudit_event_dup(eaudit_event **out, const eaudit_event *ev);

/**
 * Set an integer field. SEQ and RECORDED_AT are assigned by the store and
 * may not be set (EAUDIT_EFIELD). Codes are checked when appended.
 */
EAUDIT_EXTERN int eaudit_event_set(eaudit_event *ev, int field, int64_t value);

/** Make an optional field absent. */
EAUDIT_EXTERN int eaudit_event_unset(eaudit_event *ev, int field);

/**
 * Read a field. EAUDIT_ENOTFOUND when the field is absent (an unset door,
 * a seq before the event is stored). Credential and reason read 0 when unset.
 */
EAUDIT_EXTERN int eaudit_event_get(const eaudit_event *ev, int field,
                                   int64_t *out);

/** 1 when the field is present, 0 otherwise. */
EAUDIT_EXTERN int eaudit_event_has(const eaudit_event *ev, int field);

/**
 * Set the details: a JSON object, copied as given (never re-serialised).
 * Validated when appended. NULL or length 0 removes them.
 */
EAUDIT_EXTERN int eaudit_event_set_details(eaudit_event *ev, const char *json,
                                           size_t len);

/**
 * The details bytes (not NUL-terminated when read from a store; use
 * @p len_out), or NULL when there are none. Borrowed.
 */
EAUDIT_EXTERN const char *eaudit_event_details(const eaudit_event *ev,
                                               size_t *len_out);

/** Set the event id (16 bytes). Without one, the store assigns a v7 id. */
EAUDIT_EXTERN int eaudit_event_set_id(eaudit_event *ev, const uint8_t id[16]);

/** Copy the event id into @p out; EAUDIT_ENOTFOUND if it has none yet. */
EAUDIT_EXTERN int eaudit_event_id(const eaudit_event *ev, uint8_t out[16]);

/** Write the text form of an id (36 characters and a NUL) into @p out. */
EAUDIT_EXTERN int eaudit_uuid_format(const uint8_t id[16],
                                     char out[EAUDIT_UUID_STRLEN + 1]);

/** Parse the text form of an id. EAUDIT_EFORMAT when malformed. */
EAUDIT_EXTERN int eaudit_uuid_parse(const char *text, uint8_t out[16]);

/**
 * The hash-chain link of a stored event (32 bytes), or NULL before it is
 * stored or when the store keeps no chain. Borrowed.
 */
EAUDIT_EXTERN const uint8_t *eaudit_event_hash(const eaudit_event *ev);

EAUDIT_END_DECLS

#endif /* EAUDIT_EVENT_H */
