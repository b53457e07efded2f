/* Allocation through the caller's hook, and small shared utilities. */
#include "internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static eaudit_malloc_fn hook_malloc;
static eaudit_realloc_fn hook_realloc;
static eaudit_free_fn hook_free;
static void *hook_payload;
static atomic_long live_objects;

int eaudit_set_allocator(eaudit_malloc_fn m, eaudit_realloc_fn r,
                         eaudit_free_fn f, void *payload) {
  if (!((m && r && f) || (!m && !r && !f)))
    return eaudit__einval("eaudit_set_allocator: give all three functions or none");
  if (atomic_load(&live_objects) != 0)
    return eaudit__error(EAUDIT_EMISUSE, EAUDIT_ECLASS_INVALID, 0,
                         "eaudit_set_allocator: %ld library objects are alive",
                         (long)atomic_load(&live_objects));
  hook_malloc = m;
  hook_realloc = r;
  hook_free = f;
  hook_payload = payload;
  return EAUDIT_OK;
}

long eaudit__live_objects(void) { return atomic_load(&live_objects); }
void eaudit__object_born(void) { atomic_fetch_add(&live_objects, 1); }
void eaudit__object_died(void) { atomic_fetch_sub(&live_objects, 1); }

void *eaudit__malloc(size_t size) {
  if (size == 0)
    size = 1;
  return hook_malloc ? hook_malloc(size, hook_payload) : malloc(size);
}

void *eaudit__calloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size)
    return NULL;
  void *p = eaudit__malloc(n * size);
  if (p)
    memset(p, 0, n * size);
  return p;
}

void *eaudit__realloc(void *ptr, size_t size) {
  if (size == 0)
    size = 1;
  return hook_realloc ? hook_realloc(ptr, size, hook_payload)
                      : realloc(ptr, size);
}

void eaudit__free(void *ptr) {
  if (ptr == NULL)
    return;
  if (hook_free)
    hook_free(ptr, hook_payload);
  else
    free(ptr);
}

void eaudit_free(void *ptr) { eaudit__free(ptr); }

char *eaudit__strndup(const char *s, size_t n) {
  char *p = eaudit__malloc(n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

char *eaudit__strdup(const char *s) { return eaudit__strndup(s, strlen(s)); }

int eaudit__utf8_valid(const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    if (c == 0)
      return 0;
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t n;
    unsigned min;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      min = 0x80;
      c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      min = 0x800;
      c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      min = 0x10000;
      c &= 0x07;
    } else {
      return 0;
    }
    if (i + n >= len)
      return 0;
    for (size_t k = 1; k <= n; k++) {
      if ((s[i + k] & 0xC0) != 0x80)
        return 0;
      c = (c << 6) | (s[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
      return 0;
    i += n + 1;
  }
  return 1;
}

int eaudit__buf_reserve(eaudit__buf *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap)
    return EAUDIT_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1)
    cap *= 2;
  char *p = eaudit__realloc(b->data, cap);
  if (!p)
    return eaudit__enomem();
  b->data = p;
  b->cap = cap;
  return EAUDIT_OK;
}

int eaudit__buf_put(eaudit__buf *b, const void *p, size_t n) {
  int rc = eaudit__buf_reserve(b, n);
  if (rc)
    return rc;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return EAUDIT_OK;
}

int eaudit__buf_puts(eaudit__buf *b, const char *s) {
  return eaudit__buf_put(b, s, strlen(s));
}

int eaudit__buf_printf(eaudit__buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return eaudit__einval("bad format");
  int rc = eaudit__buf_reserve(b, (size_t)n);
  if (rc)
    return rc;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return EAUDIT_OK;
}

void eaudit__buf_free(eaudit__buf *b) {
  eaudit__free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
