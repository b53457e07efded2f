/**
 * @file eaudit/device.h
 * @brief Device recognition: observations, login calls and the devices list.
 *
 * An administrator's browser or a user's phone is described by an
 * attributes handle (eaudit_device_info). Observing it against the user's
 * known devices of the same kind gives a decision (known, new, changed), a
 * reason code and a similarity score, following the decision table of
 * docs/devices.md. The login calls also append *Admin area login* or
 * *Login from unrecognized device* when the table says so, in the same
 * transaction that updates the device state. Every call works the same on
 * a store opened on a postgresql:// URI: the device state is the central
 * store's own, and the events go onto its own chain (docs/devices.md).
 */
#ifndef EAUDIT_DEVICE_H
#define EAUDIT_DEVICE_H

#include "query.h"
#include "store.h"

EAUDIT_BEGIN_DECLS

/** Observed attributes of a device (opaque). */
typedef struct eaudit_device_info eaudit_device_info;
/** The outcome of one observation (opaque). */
typedef struct eaudit_device_result eaudit_device_result;
/** A list of a user's known devices (opaque). */
typedef struct eaudit_devices eaudit_devices;

/** Device kinds. Values are ABI. */
typedef enum eaudit_device_kind {
  EAUDIT_DEVICE_ADMIN_WEB = 1, /**< a browser on a PC or laptop (console) */
  EAUDIT_DEVICE_MOBILE = 2     /**< an installation of the mobile app */
} eaudit_device_kind;

/** Decisions. Values are ABI. */
typedef enum eaudit_device_decision {
  EAUDIT_DEVICE_KNOWN = 1,  /**< a known device, possibly updated */
  EAUDIT_DEVICE_NEW = 2,    /**< a device the user never used before */
  EAUDIT_DEVICE_CHANGED = 3 /**< a known mobile device, reset or updated */
} eaudit_device_decision;

/**
 * Device attributes, all optional. Values are ABI. Text of at most
 * EAUDIT_DEVATTR_MAX_BYTES bytes of UTF-8. Families, platform and model are
 * compared without regard to case; docs/devices.md says what to feed.
 */
typedef enum eaudit_devattr {
  /** A stable key: a long-lived cookie (admin web) or the app's install id
   *  (mobile). A matching key dominates the attributes. */
  EAUDIT_DEVATTR_KEY = 1,
  /** Platform ("Windows", "macOS", "iPhone", "Android"). */
  EAUDIT_DEVATTR_PLATFORM = 2,
  /** OS family ("Windows", "macOS", "iOS", "Android", "Linux"). */
  EAUDIT_DEVATTR_OS_FAMILY = 3,
  /** OS version ("17.2.1", "10.0"). */
  EAUDIT_DEVATTR_OS_VERSION = 4,
  /** Browser family ("Chrome", "Firefox"); for the mobile kind, the app's
   *  name. */
  EAUDIT_DEVATTR_BROWSER_FAMILY = 5,
  /** Browser version; for the mobile kind, the app's version. */
  EAUDIT_DEVATTR_BROWSER_VERSION = 6,
  /** Device model ("iPhone15,2", "SM-S911B"); for a PC, whatever names the
   *  hardware (UA-CH model or the WebGL renderer). */
  EAUDIT_DEVATTR_MODEL = 7,
  /** Screen ("2560x1440"). */
  EAUDIT_DEVATTR_SCREEN = 8,
  /** IANA time zone reported by the device ("Europe/Berlin"). */
  EAUDIT_DEVATTR_TIME_ZONE = 9,
  /** Preferred language ("de-DE"). */
  EAUDIT_DEVATTR_LANGUAGE = 10,
  /** Client IP address, IPv4 or IPv6 text. */
  EAUDIT_DEVATTR_IP = 11
} eaudit_devattr;

/** Largest attribute value in bytes. */
#define EAUDIT_DEVATTR_MAX_BYTES 512

/** Default age, in days, after which eaudit_store_forget_unseen_devices()
 *  forgets a device (callers pass it explicitly). */
#define EAUDIT_DEVICE_FORGET_DAYS_DEFAULT 90

/** Create an empty attributes handle. Free it with eaudit_device_info_free(). */
EAUDIT_EXTERN int eaudit_device_info_new(eaudit_device_info **out);

/** Free an attributes handle. NULL is fine. */
EAUDIT_EXTERN void eaudit_device_info_free(eaudit_device_info *info);

/** Remove every attribute (and the site), for reuse. */
EAUDIT_EXTERN void eaudit_device_info_clear(eaudit_device_info *info);

/**
 * Set an attribute (copied; leading and trailing blanks are dropped). NULL
 * or a value that is empty after trimming removes it. EAUDIT_EINVAL for an
 * unknown attribute, EAUDIT_ETOOBIG over EAUDIT_DEVATTR_MAX_BYTES,
 * EAUDIT_EUTF8 for invalid UTF-8.
 */
EAUDIT_EXTERN int eaudit_device_info_set_str(eaudit_device_info *info,
                                             int attr, const char *value);

/** An attribute's value (borrowed), or NULL when absent or unknown. */
EAUDIT_EXTERN const char *eaudit_device_info_get_str(
    const eaudit_device_info *info, int attr);

/**
 * The site written on the events of the login calls (@p site < 0: none,
 * the default). Not used for recognition.
 */
EAUDIT_EXTERN int eaudit_device_info_set_site(eaudit_device_info *info,
                                              int64_t site);

/**
 * Observe a device of @p kind (eaudit_device_kind) for @p user at @p at:
 * match it against the user's known devices of that kind, learn it (a new
 * device, updated attributes, a re-learned key), update its last-seen time
 * and, for the admin kind, the user's login-hour histogram, in one
 * transaction. Appends no event (see the login calls). @p info may be NULL
 * (no attributes). @p out receives the result; free it with
 * eaudit_device_result_free().
 */
EAUDIT_EXTERN int eaudit_store_observe_device(eaudit_store *store,
                                              const eaudit_device_info *info,
                                              int64_t user, int kind,
                                              eaudit_time at,
                                              eaudit_device_result **out);

/**
 * An administrator entered the console: observe the browser
 * (EAUDIT_DEVICE_ADMIN_WEB) and, when the decision table says so, append an
 * *Admin area login* event (subject = actor = @p user, device, reason) in the
 * same transaction. @p out may be NULL.
 */
EAUDIT_EXTERN int eaudit_store_admin_login(eaudit_store *store,
                                           const eaudit_device_info *info,
                                           int64_t user, eaudit_time at,
                                           eaudit_device_result **out);

/**
 * A user logged into the mobile app: observe the device
 * (EAUDIT_DEVICE_MOBILE) and, when the decision table says so, append a
 * *Login from unrecognized device* event (subject = actor = @p user, device,
 * reason, credential mobile) in the same transaction. @p out may be NULL.
 */
EAUDIT_EXTERN int eaudit_store_mobile_login(eaudit_store *store,
                                            const eaudit_device_info *info,
                                            int64_t user, eaudit_time at,
                                            eaudit_device_result **out);

/** Free a result. NULL is fine. */
EAUDIT_EXTERN void eaudit_device_result_free(eaudit_device_result *r);

/** The decision (eaudit_device_decision), or 0 for NULL. */
EAUDIT_EXTERN int eaudit_device_result_decision(const eaudit_device_result *r);

/** The reason (eaudit_reason): 0 or one of the device reasons 30-36. */
EAUDIT_EXTERN int eaudit_device_result_reason(const eaudit_device_result *r);

/**
 * Attribute similarity, 0.0 to 1.0: with the matched device, or for a new
 * device with the nearest one scored (0.0 when none was, as for the first
 * device of its kind).
 */
EAUDIT_EXTERN double eaudit_device_result_score(const eaudit_device_result *r);

/** The matched or created device id. */
EAUDIT_EXTERN int64_t eaudit_device_result_device(
    const eaudit_device_result *r);

/** 1 when the decision table says to record an event, else 0. */
EAUDIT_EXTERN int eaudit_device_result_record(const eaudit_device_result *r);

/** Seq of the event a login call appended, or 0 when none was. */
EAUDIT_EXTERN int64_t eaudit_device_result_seq(const eaudit_device_result *r);

/**
 * The known devices of @p user, of @p kind (0: both), by id. Free the list
 * with eaudit_devices_free().
 */
EAUDIT_EXTERN int eaudit_store_devices(eaudit_store *store, int64_t user,
                                       int kind, eaudit_devices **out);

/** Number of devices in a list. */
EAUDIT_EXTERN size_t eaudit_devices_size(const eaudit_devices *list);

/**
 * The @p index-th device: id, kind, label (borrowed; NULL when none), first
 * and last seen times and how many times it was observed. Any output
 * pointer may be NULL. EAUDIT_ERANGE past the end.
 */
EAUDIT_EXTERN int eaudit_devices_get(const eaudit_devices *list, size_t index,
                                     int64_t *id, int *kind,
                                     const char **label,
                                     eaudit_time *first_seen,
                                     eaudit_time *last_seen,
                                     int64_t *times_seen);

/**
 * The last observed value of an attribute of the @p index-th device
 * (borrowed), or NULL. The key is never returned.
 */
EAUDIT_EXTERN const char *eaudit_devices_attr(const eaudit_devices *list,
                                              size_t index, int attr);

/** Free a devices list. NULL is fine. */
EAUDIT_EXTERN void eaudit_devices_free(eaudit_devices *list);

/**
 * Give a device a label (1-1024 bytes of UTF-8). The label is also recorded
 * in the directory of names (EAUDIT_KIND_DEVICE) from now on, so reports
 * show it. EAUDIT_ENOTFOUND for an unknown device.
 */
EAUDIT_EXTERN int eaudit_store_rename_device(eaudit_store *store,
                                             int64_t device,
                                             const char *label);

/**
 * Forget a device: its next observation is a new device. Events that name
 * it keep its id, which is never reused. EAUDIT_ENOTFOUND for an unknown
 * device.
 */
EAUDIT_EXTERN int eaudit_store_forget_device(eaudit_store *store,
                                             int64_t device);

/**
 * Forget every device not seen for @p days days (1 or more; the product's
 * default is EAUDIT_DEVICE_FORGET_DAYS_DEFAULT) before the store's clock.
 * @p forgotten (may be NULL) receives how many were forgotten.
 */
EAUDIT_EXTERN int eaudit_store_forget_unseen_devices(eaudit_store *store,
                                                     int days,
                                                     int64_t *forgotten);

EAUDIT_END_DECLS

#endif /* EAUDIT_DEVICE_H */
