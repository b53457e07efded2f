/* The event object, shared by the store, query and writers. */
#ifndef EAUDIT_EVENT_INTERNAL_H
#define EAUDIT_EVENT_INTERNAL_H

#include "internal.h"

#define EAUDIT__FIELD_MAX 12 /* highest eaudit_field code */

struct eaudit_event {
  uint32_t present;                  /* bit f set when field f is present */
  int64_t v[EAUDIT__FIELD_MAX + 1];  /* indexed by eaudit_field */
  int has_id, has_hash;
  int id_assigned; /* the store generated the id during this append */
  int late;        /* behind the newest by more than the lateness bound */
  uint8_t id[16];
  uint8_t hash[32];
  char *details; /* NULL when none; NUL-terminated copy */
  size_t details_len, details_cap;
};

#define EAUDIT__HAS(ev, f) (((ev)->present >> (f)) & 1u)

/* Set a field without the public checks (the store's own fields). */
void eaudit__event_put(eaudit_event *ev, int field, int64_t value);
/* Replace the details with a copy of [p, p+n). */
int eaudit__event_put_details(eaudit_event *ev, const char *p, size_t n);
/* Copy src into dst, reusing dst's details buffer. */
int eaudit__event_copy(eaudit_event *dst, const eaudit_event *src);
/* Release what an event owns, leaving it empty (for embedded events). */
void eaudit__event_release(eaudit_event *ev);

/* Validate details: a JSON object of at most max bytes in valid UTF-8. */
int eaudit__details_validate(const char *p, size_t n, size_t max);

#endif
