/* The append transaction (docs/schema.md): validate outside the
 * transaction, BEGIN IMMEDIATE, revalidate cached state, assign seq and the
 * chain link, write the event and everything derived from it, COMMIT, then
 * notify subscribers. */
#include "chain.h"
#include "pg_store.h"
#include "store_internal.h"
#include "types_internal.h"

#include <stdio.h>
#include <string.h>

struct eaudit_batch {
  eaudit_event **events;
  size_t n, cap;
};

int eaudit_batch_new(eaudit_batch **out) {
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  *out = eaudit__calloc(1, sizeof **out);
  if (*out == NULL)
    return eaudit__enomem();
  eaudit__object_born();
  return EAUDIT_OK;
}

void eaudit_batch_clear(eaudit_batch *b) {
  if (b == NULL)
    return;
  for (size_t i = 0; i < b->n; i++)
    eaudit_event_free(b->events[i]);
  b->n = 0;
}

void eaudit_batch_free(eaudit_batch *b) {
  if (b == NULL)
    return;
  eaudit_batch_clear(b);
  eaudit__free(b->events);
  eaudit__free(b);
  eaudit__object_died();
}

int eaudit_batch_add(eaudit_batch *b, const eaudit_event *ev) {
  if (b == NULL || ev == NULL)
    return eaudit__einval("batch and event must not be NULL");
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    eaudit_event **e = eaudit__realloc(b->events, cap * sizeof *e);
    if (e == NULL)
      return eaudit__enomem();
    b->events = e;
    b->cap = cap;
  }
  eaudit_event *copy;
  int rc = eaudit_event_dup(&copy, ev);
  if (rc)
    return rc;
  b->events[b->n++] = copy;
  return EAUDIT_OK;
}

size_t eaudit_batch_size(const eaudit_batch *b) { return b ? b->n : 0; }

const eaudit_event *eaudit_batch_get(const eaudit_batch *b, size_t index) {
  return b && index < b->n ? b->events[index] : NULL;
}

/* Every check that needs no transaction. */
static int validate(eaudit_store *s, const eaudit_event *ev) {
  if (!EAUDIT__HAS(ev, EAUDIT_FIELD_TYPE))
    return eaudit__error(EAUDIT_ETYPE, EAUDIT_ECLASS_INVALID, 0,
                         "event has no type");
  int64_t type = ev->v[EAUDIT_FIELD_TYPE];
  if (type <= 0 || type > EAUDIT_TYPE_VENDOR_MAX ||
      (type < EAUDIT_TYPE_VENDOR_MIN && !eaudit__type_builtin((int)type)))
    return eaudit__error(EAUDIT_ETYPE, EAUDIT_ECLASS_INVALID, 0,
                         "unknown event type %lld", (long long)type);
  if (type >= EAUDIT_TYPE_VENDOR_MIN && !eaudit__type_known(s, (int)type)) {
    int rc = eaudit__types_reload(s); /* another handle may have added it */
    if (rc)
      return rc;
    if (!eaudit__type_known(s, (int)type))
      return eaudit__error(EAUDIT_ETYPE, EAUDIT_ECLASS_INVALID, 0,
                           "vendor event type %lld is not registered",
                           (long long)type);
  }
  if (!EAUDIT__HAS(ev, EAUDIT_FIELD_OCCURRED_AT))
    return eaudit__error(EAUDIT_ETIME, EAUDIT_ECLASS_INVALID, 0,
                         "event has no occurred_at");
  /* 0001-01-01 .. 9999-12-31, the years RFC 3339 can write. */
  int64_t at = ev->v[EAUDIT_FIELD_OCCURRED_AT];
  if (at < INT64_C(-62135596800000000) || at > INT64_C(253402300799999999))
    return eaudit__error(EAUDIT_ETIME, EAUDIT_ECLASS_INVALID, 0,
                         "occurred_at %lld is outside years 1-9999",
                         (long long)at);
  /* A group's own expiry (and its prolongation, which ends it) concerns
   * no single user. */
  if (!EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT) &&
      !((type == EAUDIT_TYPE_PERMISSIONS_EXPIRED ||
         type == EAUDIT_TYPE_PERMISSIONS_PROLONGED) &&
        EAUDIT__HAS(ev, EAUDIT_FIELD_GROUP)))
    return eaudit__error(EAUDIT_ESUBJECT, EAUDIT_ECLASS_INVALID, 0,
                         "event of type %s has no subject (only a group's "
                         "expiry or prolongation may omit it)",
                         eaudit_store_type_name(s, (int)type));
  if (!eaudit__credential_valid(ev->v[EAUDIT_FIELD_CREDENTIAL]))
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "unknown credential code %lld",
                         (long long)ev->v[EAUDIT_FIELD_CREDENTIAL]);
  if (!eaudit__reason_valid(ev->v[EAUDIT_FIELD_REASON]))
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "unknown reason code %lld",
                         (long long)ev->v[EAUDIT_FIELD_REASON]);
  if (ev->details_len > 0)
    return eaudit__details_validate(
        ev->details, ev->details_len,
        (size_t)s->opts.ints[EAUDIT_OPT_DETAILS_MAX_BYTES]);
  return EAUDIT_OK;
}

static void bind_opt(sqlite3_stmt *st, int col, const eaudit_event *ev,
                     int field) {
  if (EAUDIT__HAS(ev, field))
    sqlite3_bind_int64(st, col, ev->v[field]);
  else
    sqlite3_bind_null(st, col);
}

static int step_done(eaudit_store *s, sqlite3_stmt *st, const char *what) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? EAUDIT_OK : eaudit__sqlite_error(s, rc, what);
}

static int rollup_add(eaudit_store *s, eaudit__day_cache *dc,
                      const eaudit_event *ev, int64_t n) {
  eaudit_time day;
  int rc =
      eaudit__tz_local_day(s->tz, dc, ev->v[EAUDIT_FIELD_OCCURRED_AT], &day);
  if (rc)
    return rc;
  sqlite3_stmt *st = eaudit__stmt(s, EAUDIT__ST_ROLLUP);
  if (st == NULL)
    return eaudit_error_last()->code;
  sqlite3_bind_int64(st, 1, day);
  sqlite3_bind_int64(st, 2, ev->v[EAUDIT_FIELD_TYPE]);
  sqlite3_bind_int64(
      st, 3,
      EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT) ? ev->v[EAUDIT_FIELD_SUBJECT] : -1);
  sqlite3_bind_int64(st, 4, n);
  return step_done(s, st, "updating counts");
}

static int user_seen(eaudit_store *s, int64_t user, eaudit_time at) {
  sqlite3_stmt *st = eaudit__stmt(s, EAUDIT__ST_USER_SEEN);
  if (st == NULL)
    return eaudit_error_last()->code;
  sqlite3_bind_int64(st, 1, user);
  sqlite3_bind_int64(st, 2, at);
  return step_done(s, st, "updating a user's last activity");
}

/* Expiry and prolongation, for the users list and "expired now". */
static int expiry(eaudit_store *s, const eaudit_event *ev) {
  int64_t type = ev->v[EAUDIT_FIELD_TYPE];
  if (type != EAUDIT_TYPE_PERMISSIONS_EXPIRED &&
      type != EAUDIT_TYPE_PERMISSIONS_PROLONGED)
    return EAUDIT_OK;
  int is_user = EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT);
  if (!is_user && !EAUDIT__HAS(ev, EAUDIT_FIELD_GROUP))
    return EAUDIT_OK;
  sqlite3_stmt *st = eaudit__stmt(s, is_user ? EAUDIT__ST_USER_EXPIRED
                                             : EAUDIT__ST_GROUP_EXPIRED);
  if (st == NULL)
    return eaudit_error_last()->code;
  sqlite3_bind_int64(
      st, 1, ev->v[is_user ? EAUDIT_FIELD_SUBJECT : EAUDIT_FIELD_GROUP]);
  sqlite3_bind_int64(st, type == EAUDIT_TYPE_PERMISSIONS_EXPIRED ? 2 : 3,
                     ev->v[EAUDIT_FIELD_OCCURRED_AT]);
  return step_done(s, st, "updating expiry");
}

static int insert_event(eaudit_store *s, const eaudit_event *ev) {
  sqlite3_stmt *st = eaudit__stmt(s, EAUDIT__ST_INSERT_EVENT);
  if (st == NULL)
    return eaudit_error_last()->code;
  sqlite3_bind_int64(st, 1, ev->v[EAUDIT_FIELD_SEQ]);
  sqlite3_bind_blob(st, 2, ev->id, 16, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, ev->v[EAUDIT_FIELD_OCCURRED_AT]);
  sqlite3_bind_int64(st, 4, ev->v[EAUDIT_FIELD_RECORDED_AT]);
  sqlite3_bind_int64(st, 5, ev->v[EAUDIT_FIELD_TYPE]);
  bind_opt(st, 6, ev, EAUDIT_FIELD_SUBJECT);
  bind_opt(st, 7, ev, EAUDIT_FIELD_ACTOR);
  bind_opt(st, 8, ev, EAUDIT_FIELD_DOOR);
  bind_opt(st, 9, ev, EAUDIT_FIELD_GROUP);
  bind_opt(st, 10, ev, EAUDIT_FIELD_DEVICE);
  bind_opt(st, 11, ev, EAUDIT_FIELD_SITE);
  sqlite3_bind_int64(st, 12, ev->v[EAUDIT_FIELD_CREDENTIAL]);
  sqlite3_bind_int64(st, 13, ev->v[EAUDIT_FIELD_REASON]);
  if (ev->details_len)
    sqlite3_bind_blob(st, 14, ev->details, (int)ev->details_len, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, 14);
  sqlite3_bind_blob(st, 15, ev->hash, 32, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc == SQLITE_DONE)
    return EAUDIT_OK;
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    char id[EAUDIT_UUID_STRLEN + 1];
    eaudit_uuid_format(ev->id, id);
    return eaudit__error(EAUDIT_EEXISTS, EAUDIT_ECLASS_INVALID, 0,
                         "an event with id %s is already stored", id);
  }
  return eaudit__sqlite_error(s, rc, "inserting an event");
}

/* Undo what a failed append wrote into a caller's event. */
void eaudit__event_unassign(eaudit_event *ev) {
  ev->present &= ~((1u << EAUDIT_FIELD_SEQ) | (1u << EAUDIT_FIELD_RECORDED_AT));
  ev->v[EAUDIT_FIELD_SEQ] = ev->v[EAUDIT_FIELD_RECORDED_AT] = 0;
  ev->has_hash = 0;
  if (ev->id_assigned)
    ev->has_id = 0;
  ev->id_assigned = 0;
}

void eaudit__notify(eaudit_store *s, eaudit_event *const *evs, size_t n) {
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < s->n_subs; k++) {
      eaudit__subscriber *sub = &s->subs[k];
      if (sub->filter && !eaudit__query_matches(sub->filter, evs[i]))
        continue;
      int rc = sub->fn(evs[i], sub->payload);
      if (rc != 0)
        eaudit__log(EAUDIT_LOG_WARN,
                    "subscriber %d returned %d for seq %lld; ignored", sub->id,
                    rc, (long long)evs[i]->v[EAUDIT_FIELD_SEQ]);
    }
}

int eaudit__validate_events(eaudit_store *s, eaudit_event *const *evs, size_t n,
                            size_t *failed) {
  for (size_t i = 0; i < n; i++) {
    int rc = validate(s, evs[i]);
    if (rc) {
      if (failed)
        *failed = i;
      if (n > 1) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", eaudit_error_last()->message);
        eaudit__error(rc, EAUDIT_ECLASS_INVALID, 0, "event %zu: %s", i, msg);
      }
      return rc;
    }
  }
  return EAUDIT_OK;
}

int eaudit__append_locked(eaudit_store *s, eaudit_event *const *evs, size_t n,
                          size_t *failed) {
  sqlite3_stmt *st = eaudit__stmt(s, EAUDIT__ST_HEAD);
  if (st == NULL)
    return eaudit_error_last()->code;
  int rc = 0;
  int64_t seq = 0;
  eaudit_time newest = INT64_MIN;
  uint8_t prev[32];
  int src = sqlite3_step(st);
  if (src == SQLITE_ROW && sqlite3_column_bytes(st, 1) == 32) {
    seq = sqlite3_column_int64(st, 0);
    memcpy(prev, sqlite3_column_blob(st, 1), 32);
    if (sqlite3_column_type(st, 2) != SQLITE_NULL)
      newest = sqlite3_column_int64(st, 2);
  } else {
    rc = src == SQLITE_ROW || src == SQLITE_DONE
             ? eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                             "the chain head is missing or damaged")
             : eaudit__sqlite_error(s, src, "reading the chain head");
  }
  sqlite3_reset(st);
  eaudit__day_cache dc = {0, 0};
  if (failed)
    *failed = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    eaudit_event *ev = evs[i];
    if (failed)
      *failed = i;
    eaudit_time now = eaudit_store_now(s);
    eaudit__event_put(ev, EAUDIT_FIELD_SEQ, ++seq);
    eaudit__event_put(ev, EAUDIT_FIELD_RECORDED_AT, now);
    if (!EAUDIT__HAS(ev, EAUDIT_FIELD_ACTOR) &&
        EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT))
      eaudit__event_put(ev, EAUDIT_FIELD_ACTOR, ev->v[EAUDIT_FIELD_SUBJECT]);
    if (!ev->has_id) {
      if ((rc = eaudit__uuid_v7(s, now, ev->id)))
        break;
      ev->has_id = 1;
      ev->id_assigned = 1;
    }
    eaudit__chain_link(ev, prev, ev->hash);
    ev->has_hash = 1;
    memcpy(prev, ev->hash, 32);
    ev->late = newest != INT64_MIN &&
               ev->v[EAUDIT_FIELD_OCCURRED_AT] <
                   newest - s->opts.ints[EAUDIT_OPT_LATENESS_US];
    if (ev->v[EAUDIT_FIELD_OCCURRED_AT] > newest)
      newest = ev->v[EAUDIT_FIELD_OCCURRED_AT];
    if ((rc = insert_event(s, ev)) || (rc = rollup_add(s, &dc, ev, 1)) ||
        (rc = expiry(s, ev)))
      break;
    if (EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT) &&
        (rc = user_seen(s, ev->v[EAUDIT_FIELD_SUBJECT],
                        ev->v[EAUDIT_FIELD_OCCURRED_AT])))
      break;
    if (EAUDIT__HAS(ev, EAUDIT_FIELD_ACTOR) &&
        (!EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT) ||
         ev->v[EAUDIT_FIELD_ACTOR] != ev->v[EAUDIT_FIELD_SUBJECT]) &&
        (rc = user_seen(s, ev->v[EAUDIT_FIELD_ACTOR],
                        ev->v[EAUDIT_FIELD_OCCURRED_AT])))
      break;
    /* Modules that derive state from events, in seq order. */
    if ((rc = eaudit__rules_on_event(s, ev)))
      break;
  }
  if (rc == 0)
    rc = eaudit__rules_end_append(s);
  if (rc == 0) {
    st = eaudit__stmt(s, EAUDIT__ST_HEAD_UPDATE);
    if (st == NULL)
      return eaudit_error_last()->code;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_blob(st, 2, prev, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, newest);
    rc = step_done(s, st, "updating the chain head");
  }
  if (rc == 0)
    rc = eaudit__integrity_on_append(s, seq, prev, n);
  return rc;
}

int eaudit__txn_begin_write(eaudit_store *s) {
  int rc = eaudit__begin(s);
  if (rc == 0 && (rc = eaudit__store_revalidate(s)) != 0)
    eaudit__rollback(s);
  return rc;
}

int eaudit__txn_end_write(eaudit_store *s, int rc, eaudit_event *const *evs,
                          size_t n) {
  if (rc == 0)
    rc = eaudit__commit(s);
  else
    eaudit__rollback(s);
  if (rc) {
    for (size_t i = 0; i < n; i++)
      eaudit__event_unassign(evs[i]);
    eaudit__rules_after_txn(s, 0);
    eaudit__integrity_after_txn(s, 0);
    return rc;
  }
  eaudit__notify(s, evs, n);
  eaudit__rules_after_txn(s, 1);
  eaudit__integrity_after_txn(s, 1);
  return EAUDIT_OK;
}

static int append_events(eaudit_store *s, eaudit_event **evs, size_t n,
                         size_t *failed) {
  int rc = eaudit__validate_events(s, evs, n, failed);
  if (rc)
    return rc;
  if (s->pg) /* rules and devices do not run on PostgreSQL */
    return eaudit__pg_store_append(s, evs, n, failed);
  if ((rc = eaudit__txn_begin_write(s)))
    return rc;
  rc = eaudit__append_locked(s, evs, n, failed);
  return eaudit__txn_end_write(s, rc, evs, n);
}

int eaudit_store_append(eaudit_store *s, eaudit_event *ev) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (ev == NULL)
    return eaudit__einval("event must not be NULL");
  return append_events(s, &ev, 1, NULL);
}

int eaudit_store_append_batch(eaudit_store *s, eaudit_batch *b,
                              size_t *failed_index) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (b == NULL)
    return eaudit__einval("batch must not be NULL");
  if (b->n == 0)
    return EAUDIT_OK;
  size_t failed = 0;
  int rc = append_events(s, b->events, b->n, &failed);
  if (failed_index)
    *failed_index = rc ? failed : 0;
  return rc;
}

int eaudit__rollup_rebuild(eaudit_store *s) {
  int rc = eaudit__exec(s, "DELETE FROM rollup");
  if (rc)
    return rc;
  sqlite3_stmt *st = NULL;
  int src = sqlite3_prepare_v2(
      s->db, "SELECT occurred_at, type, subject FROM events", -1, &st, NULL);
  if (src != SQLITE_OK)
    return eaudit__sqlite_error(s, src, "reading events");
  eaudit__day_cache dc = {0, 0};
  eaudit_event ev;
  memset(&ev, 0, sizeof ev);
  while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
    ev.present = 0;
    eaudit__event_put(&ev, EAUDIT_FIELD_OCCURRED_AT,
                      sqlite3_column_int64(st, 0));
    eaudit__event_put(&ev, EAUDIT_FIELD_TYPE, sqlite3_column_int64(st, 1));
    if (sqlite3_column_type(st, 2) != SQLITE_NULL)
      eaudit__event_put(&ev, EAUDIT_FIELD_SUBJECT, sqlite3_column_int64(st, 2));
    rc = rollup_add(s, &dc, &ev, 1);
  }
  sqlite3_finalize(st);
  if (rc == 0 && src != SQLITE_DONE)
    rc = eaudit__sqlite_error(s, src, "reading events");
  return rc;
}

/* --- subscribers --- */

int eaudit_store_subscribe(eaudit_store *s, const eaudit_query *filter,
                           eaudit_event_fn fn, void *payload, int *id_out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (fn == NULL)
    return eaudit__einval("callback must not be NULL");
  eaudit__subscriber *subs =
      eaudit__realloc(s->subs, (s->n_subs + 1) * sizeof *subs);
  if (subs == NULL)
    return eaudit__enomem();
  s->subs = subs;
  eaudit__subscriber *sub = &subs[s->n_subs];
  memset(sub, 0, sizeof *sub);
  if (filter) {
    int rc = eaudit_query_dup(&sub->filter, filter);
    if (rc)
      return rc;
  }
  sub->id = s->next_sub_id++;
  sub->fn = fn;
  sub->payload = payload;
  s->n_subs++;
  if (id_out)
    *id_out = sub->id;
  return EAUDIT_OK;
}

int eaudit_store_unsubscribe(eaudit_store *s, int id) {
  EAUDIT__CHECK_STORE_ANY(s);
  for (size_t i = 0; i < s->n_subs; i++)
    if (s->subs[i].id == id) {
      eaudit_query_free(s->subs[i].filter);
      memmove(&s->subs[i], &s->subs[i + 1],
              (s->n_subs - i - 1) * sizeof s->subs[0]);
      s->n_subs--;
      return EAUDIT_OK;
    }
  return eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_INVALID, 0,
                       "no subscriber with id %d", id);
}

void eaudit__subscribers_free(eaudit_store *s) {
  for (size_t i = 0; i < s->n_subs; i++)
    eaudit_query_free(s->subs[i].filter);
  eaudit__free(s->subs);
  s->subs = NULL;
  s->n_subs = 0;
}
