/**
 * @file eaudit/types.h
 * @brief Opaque handles and the code tables of the event model: event types,
 *        reasons, credentials, fields, roles and directory kinds.
 *
 * Every code here is ABI: never renumbered, never reused. Each table is an
 * X-macro so that the enum, the names and the labels come from one place.
 */
#ifndef EAUDIT_TYPES_H
#define EAUDIT_TYPES_H

#include "common.h"

EAUDIT_BEGIN_DECLS

/** @name Opaque handles */
/**@{*/
typedef struct eaudit_store eaudit_store;     /**< an open store */
typedef struct eaudit_options eaudit_options; /**< settings for opening */
typedef struct eaudit_event eaudit_event;     /**< one event */
typedef struct eaudit_batch eaudit_batch;     /**< events appended together */
typedef struct eaudit_query eaudit_query;     /**< filters for a query */
typedef struct eaudit_cursor eaudit_cursor;   /**< streams query results */
typedef struct eaudit_counts eaudit_counts;   /**< aggregate counts */
typedef struct eaudit_users eaudit_users;     /**< the users list */
/**@}*/

/**
 * Built-in event types: X(ENUM, code, name, label).
 * Codes 1-999 belong to the library; vendor types start at 1000.
 */
#define EAUDIT_EVENT_TYPES(X)                                                  \
  X(ADMIN_AREA_LOGIN, 1, "admin_area_login", "Admin area login")               \
  X(LOGIN_UNRECOGNIZED_DEVICE, 2, "login_unrecognized_device",                 \
    "Login from unrecognized device")                                          \
  X(DOOR_OPENED, 3, "door_opened", "Door opened")                              \
  X(GROUP_ADDED, 4, "group_added", "Added to a group")                         \
  X(GROUP_REMOVED, 5, "group_removed", "Removed from a group")                 \
  X(DOOR_OPEN_FAILED, 6, "door_open_failed", "Door open attempt failed")       \
  X(KEYCARD_ADDED, 7, "keycard_added", "Keycard added")                        \
  X(KEYCARD_ADD_FAILED, 8, "keycard_add_failed", "Keycard failed to add")      \
  X(PERMISSIONS_EXPIRED, 9, "permissions_expired", "Permissions expired")      \
  X(USER_UPDATED, 10, "user_updated", "User updated")                          \
  X(PERMISSIONS_PROLONGED, 11, "permissions_prolonged",                        \
    "Permissions prolonged")                                                   \
  X(REPORT_EXPORTED, 12, "report_exported", "Audit report exported")           \
  X(RETENTION_PURGED, 13, "retention_purged", "Audit log purged")              \
  X(RULES_CHANGED, 14, "rules_changed", "Anomaly rules changed")               \
  X(VERIFICATION_FAILED, 15, "verification_failed",                            \
    "Audit log verification failed")

/** Event type codes. */
typedef enum eaudit_type {
  EAUDIT_TYPE_NONE = 0,
#define EAUDIT__TYPE_ENUM(e, code, name, label) EAUDIT_TYPE_##e = code,
  EAUDIT_EVENT_TYPES(EAUDIT__TYPE_ENUM)
#undef EAUDIT__TYPE_ENUM
  EAUDIT_TYPE_VENDOR_MIN = 1000, /**< first vendor code */
  EAUDIT_TYPE_VENDOR_MAX = 65535 /**< last vendor code */
} eaudit_type;

/**
 * Reason codes: X(ENUM, code, name, label). New reasons are appended after
 * the last of their range, never inserted.
 */
#define EAUDIT_REASONS(X)                                                      \
  X(NONE, 0, "none", "No reason")                                              \
  X(NO_PERMISSION, 1, "no_permission", "No permission for this door")          \
  X(OUTSIDE_SCHEDULE, 2, "outside_schedule", "Outside the door's schedule")    \
  X(WRONG_CREDENTIAL, 3, "wrong_credential", "Wrong credential")               \
  X(USER_SUSPENDED, 4, "user_suspended", "User suspended")                     \
  X(PERMISSIONS_EXPIRED, 5, "permissions_expired", "Permissions expired")      \
  X(CARD_UNSUPPORTED, 10, "card_unsupported", "Card type not supported")       \
  X(CARD_ALREADY_REGISTERED, 11, "card_already_registered",                    \
    "Card already registered")                                                 \
  X(CARD_READ_ERROR, 12, "card_read_error", "Card could not be read")          \
  X(QR_REGENERATED, 20, "qr_regenerated", "QR code regenerated")               \
  X(PASSCODE_REGENERATED, 21, "passcode_regenerated", "Passcode regenerated")  \
  X(PIN_CHANGED, 22, "pin_changed", "PIN set or changed")                      \
  X(KEYCARD_CHANGED, 23, "keycard_changed", "Keycard set or changed")          \
  X(FIRST_SEEN, 30, "first_seen", "First device of its kind")                  \
  X(NEW_BROWSER, 31, "new_browser", "New browser")                             \
  X(NEW_OS, 32, "new_os", "New operating system")                              \
  X(NEW_HARDWARE, 33, "new_hardware", "New hardware")                          \
  X(OS_UPDATED, 34, "os_updated", "Operating system updated")                  \
  X(BROWSER_UPDATED, 35, "browser_updated", "Browser updated")                 \
  X(DEVICE_RESET, 36, "device_reset", "Device reset")

/** Reason codes. */
typedef enum eaudit_reason {
#define EAUDIT__REASON_ENUM(e, code, name, label) EAUDIT_REASON_##e = code,
  EAUDIT_REASONS(EAUDIT__REASON_ENUM)
#undef EAUDIT__REASON_ENUM
} eaudit_reason;

/** Credential codes: X(ENUM, code, name, label). */
#define EAUDIT_CREDENTIALS(X)                                                  \
  X(NONE, 0, "none", "None")                                                   \
  X(KEYCARD, 1, "keycard", "Keycard")                                          \
  X(QR, 2, "qr", "QR code")                                                    \
  X(PASSCODE, 3, "passcode", "Passcode")                                       \
  X(PIN, 4, "pin", "PIN")                                                      \
  X(MOBILE, 5, "mobile", "Mobile app")

/** Credential codes. */
typedef enum eaudit_credential {
#define EAUDIT__CRED_ENUM(e, code, name, label) EAUDIT_CREDENTIAL_##e = code,
  EAUDIT_CREDENTIALS(EAUDIT__CRED_ENUM)
#undef EAUDIT__CRED_ENUM
} eaudit_credential;

/**
 * Integer fields of an event: X(ENUM, code, name). The JSON interchange
 * format uses these names.
 */
#define EAUDIT_FIELDS(X)                                                       \
  X(SEQ, 1, "seq")                                                             \
  X(OCCURRED_AT, 2, "occurred_at")                                             \
  X(RECORDED_AT, 3, "recorded_at")                                             \
  X(TYPE, 4, "type")                                                           \
  X(SUBJECT, 5, "subject")                                                     \
  X(ACTOR, 6, "actor")                                                         \
  X(DOOR, 7, "door")                                                           \
  X(GROUP, 8, "group")                                                         \
  X(DEVICE, 9, "device")                                                       \
  X(SITE, 10, "site")                                                          \
  X(CREDENTIAL, 11, "credential")                                              \
  X(REASON, 12, "reason")

/** Event fields. */
typedef enum eaudit_field {
#define EAUDIT__FIELD_ENUM(e, code, name) EAUDIT_FIELD_##e = code,
  EAUDIT_FIELDS(EAUDIT__FIELD_ENUM)
#undef EAUDIT__FIELD_ENUM
} eaudit_field;

/** Which role a user filter matches. */
typedef enum eaudit_role {
  EAUDIT_ROLE_ANY = 0,     /**< subject or actor */
  EAUDIT_ROLE_SUBJECT = 1, /**< the user whose log it is */
  EAUDIT_ROLE_ACTOR = 2    /**< the user who did it */
} eaudit_role;

/** Directory entity kinds (the ids of users, doors, groups, devices). */
typedef enum eaudit_kind {
  EAUDIT_KIND_USER = 1,
  EAUDIT_KIND_DOOR = 2,
  EAUDIT_KIND_GROUP = 3,
  EAUDIT_KIND_DEVICE = 4,
  EAUDIT_KIND_SITE = 5
} eaudit_kind;

/** A user's role in the directory. */
typedef enum eaudit_user_role {
  EAUDIT_USER_ROLE_USER = 0,
  EAUDIT_USER_ROLE_ADMIN = 1
} eaudit_user_role;

/**
 * Name of a built-in event type ("door_opened"), or NULL when @p code is not
 * built-in. Vendor names are looked up with eaudit_store_type_name().
 */
EAUDIT_EXTERN const char *eaudit_type_name(int code);

/** English label of a built-in event type ("Door opened"), or NULL. */
EAUDIT_EXTERN const char *eaudit_type_label(int code);

/** Code of a built-in type name; EAUDIT_ENOTFOUND if unknown. */
EAUDIT_EXTERN int eaudit_type_from_name(const char *name, int *out);

/** Name of a reason ("outside_schedule"), or NULL. */
EAUDIT_EXTERN const char *eaudit_reason_name(int code);

/** English label of a reason, or NULL. */
EAUDIT_EXTERN const char *eaudit_reason_label(int code);

/** Code of a reason name; EAUDIT_ENOTFOUND if unknown. */
EAUDIT_EXTERN int eaudit_reason_from_name(const char *name, int *out);

/** Name of a credential ("keycard"), or NULL. */
EAUDIT_EXTERN const char *eaudit_credential_name(int code);

/** English label of a credential, or NULL. */
EAUDIT_EXTERN const char *eaudit_credential_label(int code);

/** Code of a credential name; EAUDIT_ENOTFOUND if unknown. */
EAUDIT_EXTERN int eaudit_credential_from_name(const char *name, int *out);

/** Name of an event field ("door"), or NULL. */
EAUDIT_EXTERN const char *eaudit_field_name(int field);

/** Code of an event field name; EAUDIT_ENOTFOUND if unknown. */
EAUDIT_EXTERN int eaudit_field_from_name(const char *name, int *out);

/**
 * Iterate a code table: writes the @p index-th code of @p table into @p out.
 * @p table is 't' (types), 'r' (reasons), 'c' (credentials) or 'f' (fields).
 * Returns EAUDIT_DONE past the end. Bindings build their enums with this.
 */
EAUDIT_EXTERN int eaudit_code_at(int table, size_t index, int *out);

EAUDIT_END_DECLS

#endif /* EAUDIT_TYPES_H */
