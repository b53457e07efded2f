/* A C peer for the Python tests: opens a store through <eaudit.h> in the
 * same process as the Python binding, so a test can show both sides see the
 * same events. It links libentryfy-audit by SONAME, as any C program does. */
#include <eaudit.h>

#include <stddef.h>
#include <stdint.h>

#define PEER_EXPORT __attribute__((visibility("default")))

/* The address of a library function as this object resolved it. */
PEER_EXPORT const void *peer_library_symbol(void) {
  return (const void *)&eaudit_store_open;
}

/* Append n door_opened events for subject at occurred_at + i seconds.
 * Returns the last seq, or a negative eaudit_code. */
PEER_EXPORT int64_t peer_append(const char *path, int64_t subject,
                                int64_t door, eaudit_time occurred_at, int n) {
  eaudit_store *s = NULL;
  eaudit_event *ev = NULL;
  int rc = eaudit_store_open(&s, path, NULL);
  if (rc == 0)
    rc = eaudit_event_new(&ev);
  int64_t seq = 0;
  for (int i = 0; rc == 0 && i < n; i++) {
    eaudit_event_reset(ev);
    eaudit_event_set(ev, EAUDIT_FIELD_TYPE, EAUDIT_TYPE_DOOR_OPENED);
    eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, subject);
    eaudit_event_set(ev, EAUDIT_FIELD_DOOR, door);
    eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT,
                     occurred_at + (int64_t)i * 1000000);
    rc = eaudit_store_append(s, ev);
    if (rc == 0)
      rc = eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &seq);
  }
  eaudit_event_free(ev);
  eaudit_store_free(s);
  return rc ? rc : seq;
}

/* Read the events of user (any role), oldest first: seq, type and the
 * 16-byte id of each, at most cap. Returns the number read or a negative
 * eaudit_code. */
PEER_EXPORT int peer_read(const char *path, int64_t user, int64_t *seqs,
                          int64_t *types, uint8_t *ids, size_t cap) {
  eaudit_store *s = NULL;
  eaudit_query *q = NULL;
  eaudit_cursor *c = NULL;
  int rc = eaudit_store_open(&s, path, NULL);
  if (rc == 0)
    rc = eaudit_query_new(&q);
  if (rc == 0)
    rc = eaudit_query_set_user(q, user, EAUDIT_ROLE_ANY);
  if (rc == 0)
    rc = eaudit_query_set_order(q, EAUDIT_ORDER_OLDEST_FIRST);
  if (rc == 0)
    rc = eaudit_store_query(s, q, &c);
  int n = 0;
  const eaudit_event *ev;
  while (rc == 0 && (size_t)n < cap && (rc = eaudit_cursor_next(c, &ev)) == 0) {
    eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &seqs[n]);
    eaudit_event_get(ev, EAUDIT_FIELD_TYPE, &types[n]);
    eaudit_event_id(ev, ids + 16 * (size_t)n);
    n++;
  }
  eaudit_cursor_free(c);
  eaudit_query_free(q);
  eaudit_store_free(s);
  return rc < 0 ? rc : n;
}
