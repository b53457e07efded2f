/* Internal helpers shared by every module: allocation through the hook,
 * the per-thread error, logging and small text utilities. Nothing here is
 * exported. */
#ifndef EAUDIT_INTERNAL_H
#define EAUDIT_INTERNAL_H

#include "eaudit.h"

#include <stdbool.h>
#include <stdarg.h>

#if defined(__GNUC__)
#define EAUDIT__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define EAUDIT__PRINTF(a, b)
#endif

/* Allocation through the hook installed by eaudit_set_allocator(). Tests can
 * make the n-th allocation fail (see eaudit__alloc_fail_at). */
void *eaudit__malloc(size_t size);
void *eaudit__calloc(size_t n, size_t size);
void *eaudit__realloc(void *ptr, size_t size);
void eaudit__free(void *ptr);
char *eaudit__strdup(const char *s);
char *eaudit__strndup(const char *s, size_t n);
/* Number of live objects handed out by the library (for eaudit_set_allocator
 * misuse checks). */
long eaudit__live_objects(void);
void eaudit__object_born(void);
void eaudit__object_died(void);

/* Set this thread's error and return code. */
int eaudit__error(int code, int klass, int detail, const char *fmt, ...)
    EAUDIT__PRINTF(4, 5);
/* Shorthands. */
#define eaudit__einval(...) eaudit__error(EAUDIT_EINVAL, EAUDIT_ECLASS_INVALID, 0, __VA_ARGS__)
#define eaudit__enomem() eaudit__error(EAUDIT_ENOMEM, EAUDIT_ECLASS_NOMEMORY, 0, "out of memory")

/* Log through the installed callback. */
void eaudit__log(int level, const char *fmt, ...) EAUDIT__PRINTF(2, 3);

/* 1 when [s, s+len) is valid UTF-8 with no NUL byte. */
int eaudit__utf8_valid(const char *s, size_t len);

/* A growable byte buffer. */
typedef struct eaudit__buf {
  char *data;
  size_t len, cap;
} eaudit__buf;
int eaudit__buf_reserve(eaudit__buf *b, size_t extra);
int eaudit__buf_put(eaudit__buf *b, const void *p, size_t n);
int eaudit__buf_puts(eaudit__buf *b, const char *s);
int eaudit__buf_printf(eaudit__buf *b, const char *fmt, ...) EAUDIT__PRINTF(2, 3);
void eaudit__buf_free(eaudit__buf *b);

#endif
