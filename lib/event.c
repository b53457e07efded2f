/* Events: building, reading, ids. */
#include "event_internal.h"

#include <json-c/json_tokener.h>
#include <json-c/json_object.h>
#include <json-c/json_util.h>
#include <string.h>
#include <uuid/uuid.h>

static int field_valid(int field) {
  return field >= EAUDIT_FIELD_SEQ && field <= EAUDIT__FIELD_MAX;
}

int eaudit_event_new(eaudit_event **out) {
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  *out = eaudit__calloc(1, sizeof **out);
  if (*out == NULL)
    return eaudit__enomem();
  eaudit__object_born();
  return EAUDIT_OK;
}

void eaudit__event_release(eaudit_event *ev) {
  eaudit__free(ev->details);
  memset(ev, 0, sizeof *ev);
}

void eaudit_event_free(eaudit_event *ev) {
  if (ev == NULL)
    return;
  eaudit__event_release(ev);
  eaudit__free(ev);
  eaudit__object_died();
}

void eaudit_event_reset(eaudit_event *ev) {
  if (ev == NULL)
    return;
  char *d = ev->details;
  size_t cap = ev->details_cap;
  memset(ev, 0, sizeof *ev);
  ev->details = d; /* keep the buffer for reuse, but no details */
  ev->details_cap = cap;
  ev->details_len = 0;
}

int eaudit__event_copy(eaudit_event *dst, const eaudit_event *src) {
  char *d = dst->details;
  size_t cap = dst->details_cap;
  memcpy(dst, src, sizeof *dst);
  dst->details = d;
  dst->details_cap = cap;
  dst->details_len = 0;
  if (src->details_len > 0)
    return eaudit__event_put_details(dst, src->details, src->details_len);
  return EAUDIT_OK;
}

int eaudit_event_dup(eaudit_event **out, const eaudit_event *ev) {
  if (out == NULL || ev == NULL)
    return eaudit__einval("out and ev must not be NULL");
  int rc = eaudit_event_new(out);
  if (rc)
    return rc;
  rc = eaudit__event_copy(*out, ev);
  if (rc) {
    eaudit_event_free(*out);
    *out = NULL;
  }
  return rc;
}

void eaudit__event_put(eaudit_event *ev, int field, int64_t value) {
  ev->v[field] = value;
  ev->present |= 1u << field;
}

int eaudit_event_set(eaudit_event *ev, int field, int64_t value) {
  if (ev == NULL)
    return eaudit__einval("event must not be NULL");
  if (!field_valid(field))
    return eaudit__error(EAUDIT_EFIELD, EAUDIT_ECLASS_INVALID, 0,
                         "unknown event field %d", field);
  if (field == EAUDIT_FIELD_SEQ || field == EAUDIT_FIELD_RECORDED_AT)
    return eaudit__error(EAUDIT_EFIELD, EAUDIT_ECLASS_INVALID, 0,
                         "field %s is assigned by the store",
                         eaudit_field_name(field));
  eaudit__event_put(ev, field, value);
  return EAUDIT_OK;
}

int eaudit_event_unset(eaudit_event *ev, int field) {
  if (ev == NULL)
    return eaudit__einval("event must not be NULL");
  if (!field_valid(field))
    return eaudit__error(EAUDIT_EFIELD, EAUDIT_ECLASS_INVALID, 0,
                         "unknown event field %d", field);
  ev->present &= ~(1u << field);
  ev->v[field] = 0;
  return EAUDIT_OK;
}

int eaudit_event_get(const eaudit_event *ev, int field, int64_t *out) {
  if (ev == NULL || out == NULL)
    return eaudit__einval("event and out must not be NULL");
  if (!field_valid(field))
    return eaudit__error(EAUDIT_EFIELD, EAUDIT_ECLASS_INVALID, 0,
                         "unknown event field %d", field);
  if (!EAUDIT__HAS(ev, field)) {
    if (field == EAUDIT_FIELD_CREDENTIAL || field == EAUDIT_FIELD_REASON) {
      *out = 0;
      return EAUDIT_OK;
    }
    /* Not an error worth a message: absence is an ordinary answer. */
    return EAUDIT_ENOTFOUND;
  }
  *out = ev->v[field];
  return EAUDIT_OK;
}

int eaudit_event_has(const eaudit_event *ev, int field) {
  return ev != NULL && field_valid(field) && EAUDIT__HAS(ev, field);
}

int eaudit__event_put_details(eaudit_event *ev, const char *p, size_t n) {
  if (n + 1 > ev->details_cap) {
    char *d = eaudit__realloc(ev->details, n + 1);
    if (d == NULL)
      return eaudit__enomem();
    ev->details = d;
    ev->details_cap = n + 1;
  }
  memcpy(ev->details, p, n);
  ev->details[n] = '\0';
  ev->details_len = n;
  return EAUDIT_OK;
}

int eaudit_event_set_details(eaudit_event *ev, const char *json, size_t len) {
  if (ev == NULL)
    return eaudit__einval("event must not be NULL");
  if (json == NULL || len == 0) {
    ev->details_len = 0;
    return EAUDIT_OK;
  }
  if (len > EAUDIT_DETAILS_MAX_LIMIT)
    return eaudit__error(EAUDIT_ETOOBIG, EAUDIT_ECLASS_INVALID, 0,
                         "details of %zu bytes exceed the hard limit of %d",
                         len, EAUDIT_DETAILS_MAX_LIMIT);
  return eaudit__event_put_details(ev, json, len);
}

const char *eaudit_event_details(const eaudit_event *ev, size_t *len_out) {
  if (ev == NULL || ev->details_len == 0) {
    if (len_out)
      *len_out = 0;
    return NULL;
  }
  if (len_out)
    *len_out = ev->details_len;
  return ev->details;
}

int eaudit_event_set_id(eaudit_event *ev, const uint8_t id[16]) {
  if (ev == NULL || id == NULL)
    return eaudit__einval("event and id must not be NULL");
  memcpy(ev->id, id, 16);
  ev->has_id = 1;
  return EAUDIT_OK;
}

int eaudit_event_id(const eaudit_event *ev, uint8_t out[16]) {
  if (ev == NULL || out == NULL)
    return eaudit__einval("event and out must not be NULL");
  if (!ev->has_id)
    return EAUDIT_ENOTFOUND;
  memcpy(out, ev->id, 16);
  return EAUDIT_OK;
}

const uint8_t *eaudit_event_hash(const eaudit_event *ev) {
  return ev != NULL && ev->has_hash ? ev->hash : NULL;
}

int eaudit_uuid_format(const uint8_t id[16], char out[EAUDIT_UUID_STRLEN + 1]) {
  if (id == NULL || out == NULL)
    return eaudit__einval("id and out must not be NULL");
  uuid_unparse_lower(id, out);
  return EAUDIT_OK;
}

int eaudit_uuid_parse(const char *text, uint8_t out[16]) {
  if (text == NULL || out == NULL)
    return eaudit__einval("text and out must not be NULL");
  if (strlen(text) != EAUDIT_UUID_STRLEN || uuid_parse(text, out) != 0)
    return eaudit__error(EAUDIT_EFORMAT, EAUDIT_ECLASS_INVALID, 0,
                         "'%.40s' is not an id (8-4-4-4-12 hex digits)", text);
  return EAUDIT_OK;
}

int eaudit__details_validate(const char *p, size_t n, size_t max) {
  if (n > max)
    return eaudit__error(EAUDIT_ETOOBIG, EAUDIT_ECLASS_INVALID, 0,
                         "details of %zu bytes exceed the limit of %zu", n,
                         max);
  if (!eaudit__utf8_valid(p, n))
    return eaudit__error(EAUDIT_EUTF8, EAUDIT_ECLASS_INVALID, 0,
                         "details are not valid UTF-8 (or contain NUL)");
  json_tokener *tok = json_tokener_new();
  if (tok == NULL)
    return eaudit__enomem();
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  json_object *obj = json_tokener_parse_ex(tok, p, (int)n);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  size_t used = json_tokener_get_parse_end(tok);
  int rc = EAUDIT_OK;
  if (obj == NULL || jerr != json_tokener_success) {
    rc = eaudit__error(EAUDIT_EDETAILS, EAUDIT_ECLASS_INVALID, 0,
                       "details are not valid JSON: %s at byte %zu",
                       jerr == json_tokener_continue
                           ? "unexpected end"
                           : json_tokener_error_desc(jerr),
                       used);
  } else if (!json_object_is_type(obj, json_type_object)) {
    rc = eaudit__error(EAUDIT_EDETAILS, EAUDIT_ECLASS_INVALID, 0,
                       "details must be a JSON object, not %s",
                       json_type_to_name(json_object_get_type(obj)));
  } else {
    /* Only white space may follow the object. */
    for (size_t i = used; i < n; i++)
      if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') {
        rc = eaudit__error(EAUDIT_EDETAILS, EAUDIT_ECLASS_INVALID, 0,
                           "details have trailing data at byte %zu", i);
        break;
      }
  }
  json_object_put(obj);
  json_tokener_free(tok);
  return rc;
}
