/* Events as JSON in the interchange shape (DESIGN §7, docs/formats.md):
 * encoding for export and reports, decoding for import, and ids derived
 * from content for lines that come without one. */
#include "report_internal.h"
#include "timeexpr.h"
#include "types_internal.h"

#include <json-c/json_object.h>
#include <json-c/json_object_iterator.h>
#include <json-c/json_tokener.h>
#include <json-c/json_util.h>
#include <sodium.h>

static const struct {
  int field;
  const char *name;
  int kind;
  const char *name_key; /* the key of its name */
} id_fields[] = {
    {EAUDIT_FIELD_SUBJECT, "subject", EAUDIT_KIND_USER, "subject_name"},
    {EAUDIT_FIELD_ACTOR, "actor", EAUDIT_KIND_USER, "actor_name"},
    {EAUDIT_FIELD_DOOR, "door", EAUDIT_KIND_DOOR, "door_name"},
    {EAUDIT_FIELD_GROUP, "group", EAUDIT_KIND_GROUP, "group_name"},
    {EAUDIT_FIELD_DEVICE, "device", EAUDIT_KIND_DEVICE, "device_name"},
    {EAUDIT_FIELD_SITE, "site", EAUDIT_KIND_SITE, "site_name"},
};
#define N_ID_FIELDS 6

static void put_key(eaudit_sink *k, const char *key, int first) {
  if (!first)
    eaudit__putc(k, ',');
  eaudit__putc(k, '"');
  eaudit__puts(k, key);
  eaudit__puts(k, "\":");
}

static void put_code_name(eaudit_sink *k, const char *name, int64_t code) {
  if (name) {
    eaudit__putc(k, '"');
    eaudit__puts(k, name); /* names are [a-z0-9_] */
    eaudit__putc(k, '"');
  } else {
    eaudit__put_i64(k, code);
  }
}

/* Details are written as stored, except that line breaks (which valid JSON
 * can only hold between tokens) become spaces so that a line stays one. */
static void put_details(eaudit_sink *k, const char *d, size_t n) {
  if (memchr(d, '\n', n) == NULL && memchr(d, '\r', n) == NULL) {
    eaudit__put(k, d, n);
    return;
  }
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    if (d[i] != '\n' && d[i] != '\r')
      continue;
    eaudit__put(k, d + run, i - run);
    eaudit__putc(k, ' ');
    run = i + 1;
  }
  eaudit__put(k, d + run, n - run);
}

void eaudit__put_event_json(eaudit_sink *k, eaudit_store *s,
                            const eaudit_event *ev, int flags,
                            eaudit__names *names, eaudit__clockfmt *local) {
  char tbuf[48];
  eaudit__putc(k, '{');
  int first = 1;
  if (ev->has_id) {
    char id[EAUDIT_UUID_STRLEN + 1];
    eaudit_uuid_format(ev->id, id);
    put_key(k, "id", first);
    first = 0;
    eaudit__putc(k, '"');
    eaudit__put(k, id, EAUDIT_UUID_STRLEN);
    eaudit__putc(k, '"');
  }
  if ((flags & EAUDIT_JSON_STORED) && EAUDIT__HAS(ev, EAUDIT_FIELD_SEQ)) {
    put_key(k, "seq", first);
    first = 0;
    eaudit__put_i64(k, ev->v[EAUDIT_FIELD_SEQ]);
  }
  put_key(k, "type", first);
  int64_t type = ev->v[EAUDIT_FIELD_TYPE];
  put_code_name(k, eaudit_store_type_name(s, (int)type), type);
  put_key(k, "occurred_at", 0);
  if (local && eaudit__clockfmt_local(local, ev->v[EAUDIT_FIELD_OCCURRED_AT],
                                      1, 0, tbuf, sizeof tbuf) == 0) {
    eaudit__putc(k, '"');
    eaudit__puts(k, tbuf);
    eaudit__putc(k, '"');
  } else {
    eaudit__fmt_utc(ev->v[EAUDIT_FIELD_OCCURRED_AT], tbuf);
    eaudit__putc(k, '"');
    eaudit__puts(k, tbuf);
    eaudit__putc(k, '"');
  }
  if ((flags & EAUDIT_JSON_STORED) &&
      EAUDIT__HAS(ev, EAUDIT_FIELD_RECORDED_AT)) {
    put_key(k, "recorded_at", 0);
    eaudit__fmt_utc(ev->v[EAUDIT_FIELD_RECORDED_AT], tbuf);
    eaudit__putc(k, '"');
    eaudit__puts(k, tbuf);
    eaudit__putc(k, '"');
  }
  for (int i = 0; i < N_ID_FIELDS; i++) {
    put_key(k, id_fields[i].name, 0);
    if (EAUDIT__HAS(ev, id_fields[i].field))
      eaudit__put_i64(k, ev->v[id_fields[i].field]);
    else
      eaudit__puts(k, "null");
  }
  put_key(k, "credential", 0);
  int64_t cred = EAUDIT__HAS(ev, EAUDIT_FIELD_CREDENTIAL)
                     ? ev->v[EAUDIT_FIELD_CREDENTIAL]
                     : 0;
  if (cred == 0)
    eaudit__puts(k, "null");
  else
    put_code_name(k, eaudit_credential_name((int)cred), cred);
  put_key(k, "reason", 0);
  int64_t reason =
      EAUDIT__HAS(ev, EAUDIT_FIELD_REASON) ? ev->v[EAUDIT_FIELD_REASON] : 0;
  if (reason == 0)
    eaudit__puts(k, "null");
  else
    put_code_name(k, eaudit_reason_name((int)reason), reason);
  put_key(k, "details", 0);
  if (ev->details_len)
    put_details(k, ev->details, ev->details_len);
  else
    eaudit__puts(k, "null");
  if ((flags & EAUDIT_JSON_STORED) && ev->has_hash) {
    static const char hex[] = "0123456789abcdef";
    char h[64];
    for (int i = 0; i < 32; i++) {
      h[2 * i] = hex[ev->hash[i] >> 4];
      h[2 * i + 1] = hex[ev->hash[i] & 15];
    }
    put_key(k, "hash", 0);
    eaudit__putc(k, '"');
    eaudit__put(k, h, 64);
    eaudit__putc(k, '"');
  }
  if ((flags & EAUDIT_JSON_NAMES) && names) {
    for (int i = 0; i < N_ID_FIELDS; i++) {
      if (!EAUDIT__HAS(ev, id_fields[i].field))
        continue;
      size_t len = 0;
      const char *nm = eaudit__names_get_len(
          names, id_fields[i].kind, ev->v[id_fields[i].field],
          ev->v[EAUDIT_FIELD_OCCURRED_AT], &len);
      if (nm == NULL)
        continue;
      put_key(k, id_fields[i].name_key, 0);
      eaudit__put_json_str(k, nm, len);
    }
  }
  eaudit__putc(k, '}');
}

int eaudit_event_to_json(eaudit_store *s, const eaudit_event *ev, int flags,
                         char **out) {
  EAUDIT__CHECK_STORE_ANY(s); /* names only */
  if (ev == NULL || out == NULL)
    return eaudit__einval("event and out must not be NULL");
  *out = NULL;
  if (flags & ~(EAUDIT_JSON_STORED | EAUDIT_JSON_NAMES))
    return eaudit__einval("unknown flags 0x%x", (unsigned)flags);
  if (!EAUDIT__HAS(ev, EAUDIT_FIELD_TYPE) ||
      !EAUDIT__HAS(ev, EAUDIT_FIELD_OCCURRED_AT))
    return eaudit__error(EAUDIT_EFIELD, EAUDIT_ECLASS_INVALID, 0,
                         "an event needs a type and occurred_at to be "
                         "encoded");
  eaudit__buf b = {0};
  eaudit_sink *k = NULL;
  eaudit__names names;
  int have_names = 0;
  int rc = eaudit__sink_memory(&k, &b);
  if (rc == 0 && (flags & EAUDIT_JSON_NAMES)) {
    rc = eaudit__names_init(&names, s, 2 * EAUDIT__NAME_WAYS);
    have_names = rc == 0;
  }
  if (rc == 0) {
    eaudit__put_event_json(k, s, ev, flags, have_names ? &names : NULL, NULL);
    rc = eaudit__sink_flush(k);
  }
  if (have_names)
    eaudit__names_free(&names);
  eaudit_sink_free(k);
  if (rc == 0 && eaudit__buf_put(&b, "", 1))
    rc = eaudit__enomem();
  if (rc) {
    eaudit__buf_free(&b);
    return rc == EAUDIT_EIO ? eaudit__enomem() : rc;
  }
  *out = b.data;
  return EAUDIT_OK;
}

/* --- decoding --- */

/* Skip white space. */
static size_t ws(const char *p, size_t i, size_t n) {
  while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
                   p[i] == '\r'))
    i++;
  return i;
}

/* Index just past the JSON string starting at p[i] == '"', or n. */
static size_t skip_string(const char *p, size_t i, size_t n) {
  for (i++; i < n; i++) {
    if (p[i] == '\\')
      i++;
    else if (p[i] == '"')
      return i + 1;
  }
  return n;
}

/* Index just past the JSON value at p[i] (the text is known to be valid). */
static size_t skip_value(const char *p, size_t i, size_t n) {
  if (i >= n)
    return n;
  if (p[i] == '"')
    return skip_string(p, i, n);
  if (p[i] == '{' || p[i] == '[') {
    int depth = 0;
    while (i < n) {
      char c = p[i];
      if (c == '"') {
        i = skip_string(p, i, n);
        continue;
      }
      if (c == '{' || c == '[')
        depth++;
      else if (c == '}' || c == ']') {
        if (--depth == 0)
          return i + 1;
      }
      i++;
    }
    return n;
  }
  while (i < n && p[i] != ',' && p[i] != '}' && p[i] != ']' && p[i] != ' ' &&
         p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
    i++;
  return i;
}

/* The bytes of the top-level member "details" of a valid JSON object, as
 * received (the last one when repeated). 0 when found. */
static int details_span(const char *p, size_t n, size_t *off, size_t *len) {
  int found = 0;
  size_t i = ws(p, 0, n);
  if (i >= n || p[i] != '{')
    return -1;
  i = ws(p, i + 1, n);
  while (i < n && p[i] == '"') {
    size_t ks = i + 1;
    size_t ke = skip_string(p, i, n);
    int is_details = ke - ks - 1 == 7 && memcmp(p + ks, "details", 7) == 0;
    i = ws(p, ke, n);
    if (i >= n || p[i] != ':')
      return -1;
    i = ws(p, i + 1, n);
    size_t ve = skip_value(p, i, n);
    if (is_details) {
      *off = i;
      *len = ve - i;
      found = 1;
    }
    i = ws(p, ve, n);
    if (i < n && p[i] == ',')
      i = ws(p, i + 1, n);
    else
      break;
  }
  return found ? 0 : -1;
}

static int efield(const char *name, const char *want) {
  return eaudit__error(EAUDIT_EFIELD, EAUDIT_ECLASS_INVALID, 0,
                       "field \"%s\" must be %s", name, want);
}

/* A code given by name or number. */
static int code_value(eaudit_store *s, json_object *v, const char *field,
                      int which, int64_t *out) {
  if (json_object_is_type(v, json_type_int)) {
    *out = json_object_get_int64(v);
    return EAUDIT_OK;
  }
  if (!json_object_is_type(v, json_type_string))
    return efield(field, "a name or a numeric code");
  const char *name = json_object_get_string(v);
  int code = 0, rc;
  if (which == 't')
    rc = eaudit_store_type_from_name(s, name, &code);
  else if (which == 'c')
    rc = eaudit_credential_from_name(name, &code);
  else
    rc = eaudit_reason_from_name(name, &code);
  if (rc)
    return eaudit__error(which == 't' ? EAUDIT_ETYPE : EAUDIT_ERANGE,
                         EAUDIT_ECLASS_INVALID, 0, "unknown %s \"%.64s\"",
                         field, name);
  *out = code;
  return EAUDIT_OK;
}

static int ignored_key(const char *key) {
  static const char *const keys[] = {
      "seq",        "recorded_at", "hash",        "subject_name",
      "actor_name", "door_name",   "group_name",  "device_name",
      "site_name"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    if (strcmp(key, keys[i]) == 0)
      return 1;
  return 0;
}

int eaudit__event_from_json(eaudit_store *s, const char *p, size_t n,
                            eaudit_event *ev, size_t *unknown) {
  *unknown = 0;
  if (n > (size_t)INT32_MAX)
    return eaudit__error(EAUDIT_ETOOBIG, EAUDIT_ECLASS_INVALID, 0,
                         "line of %zu bytes is too long", n);
  if (!eaudit__utf8_valid(p, n))
    return eaudit__error(EAUDIT_EUTF8, EAUDIT_ECLASS_INVALID, 0,
                         "line is not valid UTF-8 (or holds a NUL byte)");
  json_tokener *tok = json_tokener_new();
  if (tok == NULL)
    return eaudit__enomem();
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  json_object *obj = json_tokener_parse_ex(tok, p, (int)n);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  size_t used = json_tokener_get_parse_end(tok);
  json_tokener_free(tok);
  int rc = EAUDIT_OK;
  if (obj == NULL || jerr != json_tokener_success) {
    rc = eaudit__error(EAUDIT_EFORMAT, EAUDIT_ECLASS_INVALID, 0,
                       "not valid JSON: %s at byte %zu",
                       jerr == json_tokener_continue
                           ? "unexpected end"
                           : json_tokener_error_desc(jerr),
                       used);
    json_object_put(obj);
    return rc;
  }
  if (ws(p, used, n) != n)
    rc = eaudit__error(EAUDIT_EFORMAT, EAUDIT_ECLASS_INVALID, 0,
                       "trailing data after the object at byte %zu", used);
  else if (!json_object_is_type(obj, json_type_object))
    rc = eaudit__error(EAUDIT_EFORMAT, EAUDIT_ECLASS_INVALID, 0,
                       "a line must hold a JSON object, not %s",
                       json_type_to_name(json_object_get_type(obj)));
  eaudit_event_reset(ev);
  if (rc == 0) {
  struct json_object_iterator it = json_object_iter_begin(obj);
  struct json_object_iterator end = json_object_iter_end(obj);
  for (; rc == 0 && !json_object_iter_equal(&it, &end);
       json_object_iter_next(&it)) {
    const char *key = json_object_iter_peek_name(&it);
    json_object *v = json_object_iter_peek_value(&it);
    int null = v == NULL || json_object_is_type(v, json_type_null);
    int f = -1;
    for (int i = 0; i < N_ID_FIELDS; i++)
      if (strcmp(key, id_fields[i].name) == 0)
        f = id_fields[i].field;
    if (f >= 0) {
      if (null)
        continue;
      if (!json_object_is_type(v, json_type_int))
        rc = efield(key, "an integer id or null");
      else
        eaudit__event_put(ev, f, json_object_get_int64(v));
    } else if (strcmp(key, "id") == 0) {
      if (null)
        continue;
      if (!json_object_is_type(v, json_type_string))
        rc = efield(key, "an id in text form or null");
      else if ((rc = eaudit_uuid_parse(json_object_get_string(v), ev->id)) ==
               0)
        ev->has_id = 1;
    } else if (strcmp(key, "type") == 0) {
      int64_t code;
      if (null)
        continue;
      if ((rc = code_value(s, v, key, 't', &code)) == 0)
        eaudit__event_put(ev, EAUDIT_FIELD_TYPE, code);
    } else if (strcmp(key, "credential") == 0 || strcmp(key, "reason") == 0) {
      int64_t code;
      if (null)
        continue;
      int cred = key[0] == 'c';
      if ((rc = code_value(s, v, key, cred ? 'c' : 'r', &code)) == 0)
        eaudit__event_put(
            ev, cred ? EAUDIT_FIELD_CREDENTIAL : EAUDIT_FIELD_REASON, code);
    } else if (strcmp(key, "occurred_at") == 0) {
      if (null)
        continue;
      eaudit_time t;
      if (!json_object_is_type(v, json_type_string))
        rc = efield(key, "an RFC 3339 time");
      else if ((rc = eaudit__rfc3339_parse(json_object_get_string(v),
                                           (size_t)json_object_get_string_len(v),
                                           &t)) == 0)
        eaudit__event_put(ev, EAUDIT_FIELD_OCCURRED_AT, t);
    } else if (strcmp(key, "details") == 0) {
      if (null) {
        ev->details_len = 0;
        continue;
      }
      if (!json_object_is_type(v, json_type_object)) {
        rc = efield(key, "a JSON object or null");
        continue;
      }
      size_t off, len;
      if (details_span(p, n, &off, &len) == 0) {
        rc = eaudit__event_put_details(ev, p + off, len);
      } else {
        /* An escaped key ("det\u0061ils"): fall back to json-c's text. */
        const char *t = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        rc = eaudit__event_put_details(ev, t, strlen(t));
      }
    } else if (!ignored_key(key)) {
      (*unknown)++;
    }
  }
  }
  json_object_put(obj);
  /* Credential and reason 0 mean none. */
  if (rc == 0 && EAUDIT__HAS(ev, EAUDIT_FIELD_CREDENTIAL) &&
      ev->v[EAUDIT_FIELD_CREDENTIAL] == 0)
    eaudit_event_unset(ev, EAUDIT_FIELD_CREDENTIAL);
  if (rc == 0 && EAUDIT__HAS(ev, EAUDIT_FIELD_REASON) &&
      ev->v[EAUDIT_FIELD_REASON] == 0)
    eaudit_event_unset(ev, EAUDIT_FIELD_REASON);
  return rc;
}

int eaudit_event_from_json(eaudit_store *s, const char *json, size_t len,
                           size_t *unknown_fields, eaudit_event **out) {
  EAUDIT__CHECK_STORE_ANY(s); /* names only */
  if (json == NULL || out == NULL)
    return eaudit__einval("json and out must not be NULL");
  *out = NULL;
  eaudit_event *ev;
  int rc = eaudit_event_new(&ev);
  if (rc)
    return rc;
  size_t unknown = 0;
  rc = eaudit__event_from_json(s, json, len, ev, &unknown);
  if (rc) {
    eaudit_event_free(ev);
    return rc;
  }
  if (unknown_fields)
    *unknown_fields = unknown;
  *out = ev;
  return EAUDIT_OK;
}

/* --- derived ids --- */

static void be64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (56 - 8 * i));
}

int eaudit_event_derive_id(const eaudit_event *ev, uint8_t out[16]) {
  if (ev == NULL || out == NULL)
    return eaudit__einval("event and out must not be NULL");
  if (!EAUDIT__HAS(ev, EAUDIT_FIELD_OCCURRED_AT) ||
      !EAUDIT__HAS(ev, EAUDIT_FIELD_TYPE))
    return eaudit__error(EAUDIT_EFIELD, EAUDIT_ECLASS_INVALID, 0,
                         "an id is derived from an event with a type and "
                         "occurred_at");
  /* docs/formats.md, "Derived ids": the canonical content. */
  static const char tag[] = "eaudit-import-id-v1";
  uint8_t head[sizeof tag + 8 + 8 + 1 + 8 * N_ID_FIELDS + 8 + 8 + 8];
  size_t n = 0;
  memcpy(head, tag, sizeof tag); /* with its NUL */
  n += sizeof tag;
  be64(head + n, (uint64_t)ev->v[EAUDIT_FIELD_OCCURRED_AT]);
  n += 8;
  be64(head + n, (uint64_t)ev->v[EAUDIT_FIELD_TYPE]);
  n += 8;
  uint8_t bits = 0;
  int64_t vals[N_ID_FIELDS];
  for (int i = 0; i < N_ID_FIELDS; i++) {
    int f = id_fields[i].field;
    int has = EAUDIT__HAS(ev, f);
    vals[i] = ev->v[f];
    /* The store fills an absent actor with the subject; so does the id. */
    if (f == EAUDIT_FIELD_ACTOR && !has &&
        EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT)) {
      has = 1;
      vals[i] = ev->v[EAUDIT_FIELD_SUBJECT];
    }
    if (has)
      bits |= (uint8_t)(1u << i);
  }
  head[n++] = bits;
  for (int i = 0; i < N_ID_FIELDS; i++)
    if (bits & (1u << i)) {
      be64(head + n, (uint64_t)vals[i]);
      n += 8;
    }
  be64(head + n, (uint64_t)(EAUDIT__HAS(ev, EAUDIT_FIELD_CREDENTIAL)
                                ? ev->v[EAUDIT_FIELD_CREDENTIAL]
                                : 0));
  n += 8;
  be64(head + n, (uint64_t)(EAUDIT__HAS(ev, EAUDIT_FIELD_REASON)
                                ? ev->v[EAUDIT_FIELD_REASON]
                                : 0));
  n += 8;
  be64(head + n, (uint64_t)ev->details_len);
  n += 8;
  uint8_t h[16];
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, sizeof h);
  crypto_generichash_update(&st, head, n);
  if (ev->details_len)
    crypto_generichash_update(&st, (const uint8_t *)ev->details,
                              ev->details_len);
  crypto_generichash_final(&st, h, sizeof h);
  int64_t at = ev->v[EAUDIT_FIELD_OCCURRED_AT];
  uint64_t ms = at < 0 ? 0 : (uint64_t)(at / 1000);
  for (int i = 0; i < 6; i++)
    out[i] = (uint8_t)(ms >> (8 * (5 - i)));
  memcpy(out + 6, h, 10);
  out[6] = (uint8_t)(0x70 | (out[6] & 0x0F));
  out[8] = (uint8_t)(0x80 | (out[8] & 0x3F));
  return EAUDIT_OK;
}
