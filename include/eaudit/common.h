/**
 * @file eaudit/common.h
 * @brief Export macros, versions, error codes, the per-thread error, logging
 *        and the allocator hook.
 */
#ifndef EAUDIT_COMMON_H
#define EAUDIT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define EAUDIT_BEGIN_DECLS extern "C" {
#define EAUDIT_END_DECLS }
#else
#define EAUDIT_BEGIN_DECLS
#define EAUDIT_END_DECLS
#endif

/** Marks a public function. The library is built with hidden visibility. */
#if defined(EAUDIT_STATIC_DEFINE)
#define EAUDIT_EXTERN
#elif defined(__GNUC__) || defined(__clang__)
#define EAUDIT_EXTERN __attribute__((visibility("default")))
#else
#define EAUDIT_EXTERN
#endif

/**
 * Marks a deprecated function with a message naming the replacement and the
 * release. Define EAUDIT_NO_DEPRECATION_WARNINGS before including to silence.
 */
#if defined(EAUDIT_NO_DEPRECATION_WARNINGS)
#define EAUDIT_DEPRECATED(msg)
#elif defined(__GNUC__) || defined(__clang__)
#define EAUDIT_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define EAUDIT_DEPRECATED(msg)
#endif

/** @name Version of the headers (compile time) */
/**@{*/
#define EAUDIT_VERSION_MAJOR 1 /**< changes with an incompatible ABI */
#define EAUDIT_VERSION_MINOR 0 /**< changes when the API grows */
#define EAUDIT_VERSION_PATCH 0 /**< changes with fixes only */
#define EAUDIT_VERSION_STRING "1.0.0" /**< "MAJOR.MINOR.PATCH" */
/** MAJOR * 1000000 + MINOR * 1000 + PATCH, comparable with eaudit_version_number(). */
#define EAUDIT_VERSION_NUMBER                                                  \
  (EAUDIT_VERSION_MAJOR * 1000000 + EAUDIT_VERSION_MINOR * 1000 +             \
   EAUDIT_VERSION_PATCH)
/**@}*/

EAUDIT_BEGIN_DECLS

/** Times: microseconds since 1970-01-01T00:00:00Z. */
typedef int64_t eaudit_time;

/** A value meaning "no time" (an open interval end, an absent field). */
#define EAUDIT_TIME_NONE INT64_MIN

/**
 * Return codes. 0 is success; EAUDIT_DONE (positive) means "finished, not an
 * error"; every failure is negative. Values are ABI and never change.
 *
 * X(NAME, value, message)
 */
#define EAUDIT_ERROR_CODES(X)                                                  \
  X(OK, 0, "success")                                                          \
  X(DONE, 1, "no more items")                                                  \
  X(ERROR, -1, "generic error")                                                \
  X(EINVAL, -2, "invalid argument")                                            \
  X(ENOMEM, -3, "out of memory")                                               \
  X(ENOTFOUND, -4, "not found")                                                \
  X(EEXISTS, -5, "already exists")                                             \
  X(EBUSY, -6, "store is locked by another writer")                            \
  X(EIO, -7, "input/output error")                                             \
  X(EFULL, -8, "disk or database full")                                        \
  X(ECORRUPT, -9, "not a store, or the store is damaged")                      \
  X(ESCHEMA, -10, "store schema is newer than this library")                   \
  X(EREADONLY, -11, "store is read-only")                                      \
  X(EFORK, -12, "handle used in a child process after fork()")                 \
  X(ETYPE, -13, "unknown or invalid event type")                               \
  X(ESUBJECT, -14, "event has no subject")                                     \
  X(EDETAILS, -15, "event details are not a JSON object")                      \
  X(ETOOBIG, -16, "value too large")                                           \
  X(EUTF8, -17, "text is not valid UTF-8")                                     \
  X(ERANGE, -18, "value out of range")                                         \
  X(ETIME, -19, "invalid time or time expression")                             \
  X(ETZ, -20, "unknown time zone")                                             \
  X(EOPTION, -21, "unknown option")                                            \
  X(ETAMPER, -22, "verification found damage")                                 \
  X(ERULES, -23, "invalid rule set")                                           \
  X(EKEY, -24, "invalid or wrong key")                                         \
  X(ECANCELLED, -25, "cancelled by a callback")                                \
  X(EUNSUPPORTED, -26, "not supported")                                        \
  X(ECURSOR, -27, "invalid cursor")                                            \
  X(EMISUSE, -28, "library used in an unsupported way")                        \
  X(EFIELD, -29, "invalid event field")                                        \
  X(EFORMAT, -30, "malformed input")

/** Return codes; see EAUDIT_ERROR_CODES. */
typedef enum eaudit_code {
#define EAUDIT__CODE_ENUM(name, value, msg) EAUDIT_##name = value,
  EAUDIT_ERROR_CODES(EAUDIT__CODE_ENUM)
#undef EAUDIT__CODE_ENUM
} eaudit_code;

/** Where an error came from. Values are ABI. */
typedef enum eaudit_error_class {
  EAUDIT_ECLASS_NONE = 0,    /**< no error */
  EAUDIT_ECLASS_INVALID = 1, /**< bad argument or input from the caller */
  EAUDIT_ECLASS_NOMEMORY = 2,
  EAUDIT_ECLASS_OS = 3,      /**< the operating system; detail is errno */
  EAUDIT_ECLASS_SQLITE = 4,  /**< SQLite; detail is the extended result code */
  EAUDIT_ECLASS_STORE = 5,   /**< the store's content or state */
  EAUDIT_ECLASS_CALLBACK = 6 /**< a caller-supplied callback */
} eaudit_error_class;

/**
 * The last error of the calling thread. The layout is ABI and never changes.
 */
typedef struct eaudit_error {
  int code;            /**< an eaudit_code */
  int klass;           /**< an eaudit_error_class */
  int detail;          /**< errno, SQLite extended code, or 0 */
  const char *message; /**< never NULL; valid until the thread's next call */
} eaudit_error;

/**
 * The last error set on this thread by a failing call. Never returns NULL;
 * after a successful call the previous error is kept until the next failure
 * or eaudit_error_clear().
 */
EAUDIT_EXTERN const eaudit_error *eaudit_error_last(void);

/** Forget this thread's last error. */
EAUDIT_EXTERN void eaudit_error_clear(void);

/** Static text for a return code; "unknown error" for values not listed. */
EAUDIT_EXTERN const char *eaudit_strerror(int code);

/** The symbolic name of a return code ("EAUDIT_EINVAL"), or NULL. */
EAUDIT_EXTERN const char *eaudit_code_name(int code);

/** Run-time version string, "1.0.0". */
EAUDIT_EXTERN const char *eaudit_version_string(void);

/** Run-time version number, as EAUDIT_VERSION_NUMBER. */
EAUDIT_EXTERN int eaudit_version_number(void);

/** Log levels. */
typedef enum eaudit_log_level {
  EAUDIT_LOG_ERROR = 1,
  EAUDIT_LOG_WARN = 2,
  EAUDIT_LOG_INFO = 3,
  EAUDIT_LOG_DEBUG = 4
} eaudit_log_level;

/** Receives the library's log messages. The library never writes to stdio. */
typedef void (*eaudit_log_fn)(int level, const char *message, void *payload);

/**
 * Install the process-wide log callback (NULL to stop logging). Messages
 * above @p max_level are not formatted. Set it before opening stores; it is
 * read without a lock.
 */
EAUDIT_EXTERN void eaudit_set_log(eaudit_log_fn fn, int max_level,
                                  void *payload);

/** Allocator hook: malloc(). */
typedef void *(*eaudit_malloc_fn)(size_t size, void *payload);
/** Allocator hook: realloc(). */
typedef void *(*eaudit_realloc_fn)(void *ptr, size_t size, void *payload);
/** Allocator hook: free(). */
typedef void (*eaudit_free_fn)(void *ptr, void *payload);

/**
 * Route the library's own allocations through these functions (all three,
 * or all NULL for the C library's). Call it before any other function, when
 * no object of the library is alive; returns EAUDIT_EMISUSE otherwise.
 * SQLite, json-c and ICU keep their own allocators.
 */
EAUDIT_EXTERN int eaudit_set_allocator(eaudit_malloc_fn m, eaudit_realloc_fn r,
                                       eaudit_free_fn f, void *payload);

/** Free memory that the library returned through a `char **out`. NULL is fine. */
EAUDIT_EXTERN void eaudit_free(void *ptr);

EAUDIT_END_DECLS

#endif /* EAUDIT_COMMON_H */
