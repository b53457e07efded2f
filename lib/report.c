/* Reports and export (docs/formats.md): one report model (summary, then
 * events newest first) written as CSV, JSON, JSON Lines, HTML with an SVG
 * chart, RFC 5424 syslog or CEF, always streaming: events come from a
 * cursor, names from a fixed-size cache, bytes leave through the sink's
 * fixed buffer. Only the summary is held, and it is bounded by days x
 * types and by users, never by events. */
#include "report_internal.h"
#include "timeexpr.h"

#include <inttypes.h>

/* --- options --- */

static void options_defaults(eaudit_report_options *o) {
  memset(o, 0, sizeof *o);
  o->neutralize = 1;
  o->record = 1;
  o->batch = 1000;
  o->summary = 1;
}

int eaudit_report_options_new(eaudit_report_options **out) {
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  *out = eaudit__malloc(sizeof **out);
  if (*out == NULL)
    return eaudit__enomem();
  options_defaults(*out);
  eaudit__object_born();
  return EAUDIT_OK;
}

void eaudit_report_options_free(eaudit_report_options *o) {
  if (o == NULL)
    return;
  eaudit__free(o->hostname);
  eaudit__free(o->appname);
  eaudit__free(o->title);
  eaudit__free(o);
  eaudit__object_died();
}

static int erange(int key, int64_t v, const char *want) {
  return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                       "report option %d: %lld is out of range (%s)", key,
                       (long long)v, want);
}

int eaudit_report_options_set_int(eaudit_report_options *o, int key,
                                  int64_t v) {
  if (o == NULL)
    return eaudit__einval("options must not be NULL");
  switch (key) {
  case EAUDIT_REPORT_OPT_FORMAT:
    if (v < EAUDIT_FORMAT_CSV || v > EAUDIT_FORMAT_CEF)
      return erange(key, v, "an eaudit_format, 1 to 6");
    o->format = (int)v;
    return EAUDIT_OK;
  case EAUDIT_REPORT_OPT_CSV_NEUTRALIZE:
  case EAUDIT_REPORT_OPT_RECORD:
  case EAUDIT_REPORT_OPT_SUMMARY:
    if (v != 0 && v != 1)
      return erange(key, v, "0 or 1");
    if (key == EAUDIT_REPORT_OPT_CSV_NEUTRALIZE)
      o->neutralize = (int)v;
    else if (key == EAUDIT_REPORT_OPT_RECORD)
      o->record = (int)v;
    else
      o->summary = (int)v;
    return EAUDIT_OK;
  case EAUDIT_REPORT_OPT_ACTOR:
    o->has_actor = 1;
    o->actor = v;
    return EAUDIT_OK;
  case EAUDIT_REPORT_OPT_IMPORT_BATCH:
    if (v < 1 || v > 100000)
      return erange(key, v, "1 to 100000");
    o->batch = (int)v;
    return EAUDIT_OK;
  case EAUDIT_REPORT_OPT_SYSLOG_HOSTNAME:
  case EAUDIT_REPORT_OPT_SYSLOG_APPNAME:
  case EAUDIT_REPORT_OPT_TITLE:
    return eaudit__error(EAUDIT_EOPTION, EAUDIT_ECLASS_INVALID, 0,
                         "report option %d takes text", key);
  default:
    return eaudit__error(EAUDIT_EOPTION, EAUDIT_ECLASS_INVALID, 0,
                         "unknown report option %d", key);
  }
}

/* Syslog header fields are printable US-ASCII without spaces (RFC 5424
 * §6.2); the hostname at most 255 and the app name at most 48 bytes. */
static int printusascii(const char *v, size_t max) {
  size_t n = strlen(v);
  if (n == 0 || n > max)
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)v[i] < 33 || (unsigned char)v[i] > 126)
      return 0;
  return 1;
}

int eaudit_report_options_set_str(eaudit_report_options *o, int key,
                                  const char *v) {
  if (o == NULL)
    return eaudit__einval("options must not be NULL");
  char **slot;
  switch (key) {
  case EAUDIT_REPORT_OPT_SYSLOG_HOSTNAME:
    slot = &o->hostname;
    break;
  case EAUDIT_REPORT_OPT_SYSLOG_APPNAME:
    slot = &o->appname;
    break;
  case EAUDIT_REPORT_OPT_TITLE:
    slot = &o->title;
    break;
  case EAUDIT_REPORT_OPT_FORMAT:
  case EAUDIT_REPORT_OPT_CSV_NEUTRALIZE:
  case EAUDIT_REPORT_OPT_ACTOR:
  case EAUDIT_REPORT_OPT_RECORD:
  case EAUDIT_REPORT_OPT_IMPORT_BATCH:
  case EAUDIT_REPORT_OPT_SUMMARY:
    return eaudit__error(EAUDIT_EOPTION, EAUDIT_ECLASS_INVALID, 0,
                         "report option %d takes an integer", key);
  default:
    return eaudit__error(EAUDIT_EOPTION, EAUDIT_ECLASS_INVALID, 0,
                         "unknown report option %d", key);
  }
  char *c = NULL;
  if (v) {
    size_t n = strlen(v);
    if (n > 255 || !eaudit__utf8_valid(v, n))
      return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                           "report option %d must be at most 255 bytes of "
                           "UTF-8",
                           key);
    if (key != EAUDIT_REPORT_OPT_TITLE &&
        !printusascii(v, key == EAUDIT_REPORT_OPT_SYSLOG_APPNAME ? 48 : 255))
      return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                           "syslog %s must be printable ASCII without spaces",
                           key == EAUDIT_REPORT_OPT_SYSLOG_APPNAME
                               ? "app name (at most 48)"
                               : "host name");
    if ((c = eaudit__strdup(v)) == NULL)
      return eaudit__enomem();
  }
  eaudit__free(*slot);
  *slot = c;
  return EAUDIT_OK;
}

int eaudit_report_options_set_progress(eaudit_report_options *o,
                                       eaudit_progress_fn fn, void *payload) {
  if (o == NULL)
    return eaudit__einval("options must not be NULL");
  o->progress = fn;
  o->progress_payload = payload;
  return EAUDIT_OK;
}

/* --- per-type facts: syslog severity, CEF severity, OCSF class --- */

typedef struct type_facts {
  int syslog_sev; /* RFC 5424 severity */
  int cef_sev;    /* 0-10 */
  int ocsf;       /* OCSF class_uid */
} type_facts;

static type_facts facts_of(int64_t type, int has_subject) {
  switch (type) {
  case EAUDIT_TYPE_ADMIN_AREA_LOGIN: return (type_facts){5, 4, 3002};
  case EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE: return (type_facts){4, 6, 3002};
  case EAUDIT_TYPE_DOOR_OPENED: return (type_facts){6, 2, 3002};
  case EAUDIT_TYPE_GROUP_ADDED: return (type_facts){5, 4, 3006};
  case EAUDIT_TYPE_GROUP_REMOVED: return (type_facts){5, 4, 3006};
  case EAUDIT_TYPE_DOOR_OPEN_FAILED: return (type_facts){4, 6, 3002};
  case EAUDIT_TYPE_KEYCARD_ADDED: return (type_facts){6, 2, 3001};
  case EAUDIT_TYPE_KEYCARD_ADD_FAILED: return (type_facts){4, 5, 3001};
  case EAUDIT_TYPE_PERMISSIONS_EXPIRED:
    return (type_facts){4, 7, has_subject ? 3001 : 3006};
  case EAUDIT_TYPE_USER_UPDATED: return (type_facts){6, 3, 3001};
  case EAUDIT_TYPE_PERMISSIONS_PROLONGED: return (type_facts){6, 3, 3001};
  case EAUDIT_TYPE_REPORT_EXPORTED: return (type_facts){5, 3, 6005};
  case EAUDIT_TYPE_RETENTION_PURGED: return (type_facts){5, 4, 6005};
  case EAUDIT_TYPE_RULES_CHANGED: return (type_facts){5, 5, 3004};
  case EAUDIT_TYPE_VERIFICATION_FAILED: return (type_facts){3, 9, 2004};
  default: return (type_facts){5, 3, 0};
  }
}

/* --- the report context --- */

#define CSV_TYPE_SLOTS 32

typedef struct rep rep;
typedef struct writer {
  int (*begin)(rep *r);
  int (*event)(rep *r, const eaudit_event *ev);
  int (*end)(rep *r);
} writer;

struct rep {
  eaudit_store *s;
  const eaudit_query *q;
  const eaudit_report_options *o;
  eaudit_sink *k;
  int format;
  int export_mode; /* seq order, no summary */
  eaudit__names names;
  eaudit__clockfmt clk;
  eaudit_time generated_at;
  uint64_t total, done;
  int n_events_written;
  /* Summary (bounded by types x days, and by users). */
  eaudit_counts *by_type, *by_day;
  /* Per-user counts, kept here rather than in an eaudit_counts: see
   * user_counts(). has_by_user = 0 when the query is for one subject. */
  int has_by_user;
  size_t n_users, cap_users;
  int64_t *user_keys, *user_counts;
  size_t n_days;
  eaudit_time *days;        /* local day starts of the chart */
  int64_t *cells;           /* n_days x n_by_type, per-day per-type counts */
  int64_t n_findings, n_expired;
  /* CSV: the formatted type and label cells of recent types. */
  struct csv_type_cell {
    int64_t type;
    size_t len; /* 0: empty */
    char text[120];
  } csv_types[CSV_TYPE_SLOTS];
};

static const char *type_name(rep *r, int64_t type) {
  return eaudit_store_type_name(r->s, (int)type);
}

static const char *type_label(rep *r, int64_t type) {
  const char *l = eaudit_store_type_label(r->s, (int)type);
  return l ? l : type_name(r, type);
}

static const char *name_of(rep *r, const eaudit_event *ev, int field,
                           int kind) {
  if (!EAUDIT__HAS(ev, field))
    return NULL;
  return eaudit__names_get(&r->names, kind, ev->v[field],
                           ev->v[EAUDIT_FIELD_OCCURRED_AT]);
}

/* The same with its length. */
static const char *name_len_of(rep *r, const eaudit_event *ev, int field,
                               int kind, size_t *len) {
  if (!EAUDIT__HAS(ev, field))
    return NULL;
  return eaudit__names_get_len(&r->names, kind, ev->v[field],
                               ev->v[EAUDIT_FIELD_OCCURRED_AT], len);
}

static void put_uuid(eaudit_sink *k, const uint8_t id[16]) {
  static const char hex[] = "0123456789abcdef";
  char t[36];
  char *p = t;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      *p++ = '-';
    *p++ = hex[id[i] >> 4];
    *p++ = hex[id[i] & 15];
  }
  eaudit__put(k, t, 36);
}

static int local_time(rep *r, eaudit_time t, int usec, int plain, char *buf) {
  return eaudit__clockfmt_local(&r->clk, t, usec, plain, buf, 48);
}

static int progress(rep *r, int final) {
  if (r->o->progress == NULL)
    return EAUDIT_OK;
  if (!final && (r->done & 1023) != 0)
    return EAUDIT_OK;
  if (r->o->progress(r->done, r->total, r->o->progress_payload) != 0)
    return eaudit__error(EAUDIT_ECANCELLED, EAUDIT_ECLASS_CALLBACK, 0,
                         "cancelled by the progress callback");
  return EAUDIT_OK;
}

/* ===================== CSV ===================== */

static const char *const csv_header =
    "seq,id,occurred_at,type,type_label,subject,subject_name,actor,"
    "actor_name,door,door_name,group,group_name,device,device_name,site,"
    "site_name,credential,reason,details\r\n";

/* Bytes that make a CSV cell quoted: , " CR LF. */
static const unsigned char csv_special[256] = {
    ['"'] = 1, [','] = 1, ['\n'] = 1, ['\r'] = 1};

/* One text cell: quoted when it holds a comma, a quote, CR or LF; with an
 * apostrophe in front when it starts with = + - @ and neutralising is on.
 * A quoted cell that fits the sink's buffer is written straight into it. */
static void csv_text(rep *r, const char *s, size_t n) {
  eaudit_sink *k = r->k;
  int neutral = r->o->neutralize && n > 0 &&
                (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@');
  size_t i = 0;
  while (i < n && !csv_special[(unsigned char)s[i]])
    i++;
  if (i == n) {
    if (neutral)
      eaudit__putc(k, '\'');
    eaudit__put(k, s, n);
    return;
  }
  /* Worst case: every byte a quote, plus the two quotes and the
   * apostrophe. */
  if (n <= (EAUDIT__SINK_CAP - 3) / 2 && k->len + 2 * n + 3 <= EAUDIT__SINK_CAP) {
    char *p = k->buf + k->len, *start = p;
    *p++ = '"';
    if (neutral)
      *p++ = '\'';
    memcpy(p, s, i);
    p += i;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Eight bytes at a time: copy them, then find the first quote among
     * them (the lowest zero byte of x ^ '"'...), double it and go on after
     * it. The copy may run ahead of a quote; the next round overwrites
     * that part. */
    while (i + 8 <= n) {
      uint64_t x;
      memcpy(&x, s + i, 8);
      memcpy(p, &x, 8);
      uint64_t y = x ^ UINT64_C(0x2222222222222222);
      uint64_t m = (y - UINT64_C(0x0101010101010101)) & ~y &
                   UINT64_C(0x8080808080808080);
      if (m == 0) {
        p += 8;
        i += 8;
        continue;
      }
      size_t b = (size_t)__builtin_ctzll(m) / 8 + 1;
      p += b;
      *p++ = '"';
      i += b;
    }
#endif
    for (; i < n; i++) {
      char c = s[i];
      *p++ = c;
      if (c == '"')
        *p++ = '"';
    }
    *p++ = '"';
    size_t w = (size_t)(p - start);
    k->len += w;
    k->total += w;
    return;
  }
  eaudit__putc(k, '"');
  if (neutral)
    eaudit__putc(k, '\'');
  size_t run = 0;
  for (i = 0; i < n; i++)
    if (s[i] == '"') {
      eaudit__put(k, s + run, i + 1 - run);
      eaudit__putc(k, '"');
      run = i + 1;
    }
  eaudit__put(k, s + run, n - run);
  eaudit__putc(k, '"');
}

static void csv_name(rep *r, const char *nm) {
  if (nm)
    csv_text(r, nm, strlen(nm));
  eaudit__putc(r->k, ',');
}

/* An id column and its name column. */
static void csv_entity(rep *r, const eaudit_event *ev, int field, int kind) {
  eaudit_sink *k = r->k;
  if (!EAUDIT__HAS(ev, field)) {
    eaudit__put(k, ",,", 2);
    return;
  }
  eaudit__put_i64(k, ev->v[field]);
  eaudit__putc(k, ',');
  size_t n = 0;
  const char *nm = name_len_of(r, ev, field, kind, &n);
  if (nm)
    csv_text(r, nm, n);
  eaudit__putc(k, ',');
}

/* "type,type_label," of a type, formatted once per report and type (the
 * names and labels do not change while the report runs). */
static int csv_type(rep *r, int64_t type) {
  eaudit_sink *k = r->k;
  struct csv_type_cell *c = &r->csv_types[(uint64_t)type % CSV_TYPE_SLOTS];
  if (c->len && c->type == type)
    return eaudit__put(k, c->text, c->len);
  /* Format into the sink, then keep a copy when it is short. */
  uint64_t before = k->total;
  size_t at = k->len;
  const char *tn = type_name(r, type);
  if (tn)
    eaudit__puts(k, tn);
  else
    eaudit__put_i64(k, type);
  eaudit__putc(k, ',');
  csv_name(r, type_label(r, type));
  size_t n = (size_t)(k->total - before);
  if (k->len == at + n && n <= sizeof c->text) {
    memcpy(c->text, k->buf + at, n);
    c->len = n;
    c->type = type;
  }
  return k->err;
}

static int csv_begin(rep *r) { return eaudit__puts(r->k, csv_header); }

static int csv_event(rep *r, const eaudit_event *ev) {
  eaudit_sink *k = r->k;
  char t[48];
  eaudit__put_i64(k, ev->v[EAUDIT_FIELD_SEQ]);
  eaudit__putc(k, ',');
  put_uuid(k, ev->id);
  eaudit__putc(k, ',');
  int rc = local_time(r, ev->v[EAUDIT_FIELD_OCCURRED_AT], 0, 0, t);
  if (rc)
    return rc;
  eaudit__puts(k, t);
  eaudit__putc(k, ',');
  csv_type(r, ev->v[EAUDIT_FIELD_TYPE]);
  csv_entity(r, ev, EAUDIT_FIELD_SUBJECT, EAUDIT_KIND_USER);
  csv_entity(r, ev, EAUDIT_FIELD_ACTOR, EAUDIT_KIND_USER);
  csv_entity(r, ev, EAUDIT_FIELD_DOOR, EAUDIT_KIND_DOOR);
  csv_entity(r, ev, EAUDIT_FIELD_GROUP, EAUDIT_KIND_GROUP);
  csv_entity(r, ev, EAUDIT_FIELD_DEVICE, EAUDIT_KIND_DEVICE);
  csv_entity(r, ev, EAUDIT_FIELD_SITE, EAUDIT_KIND_SITE);
  if (EAUDIT__HAS(ev, EAUDIT_FIELD_CREDENTIAL))
    eaudit__puts(k, eaudit_credential_name((int)ev->v[EAUDIT_FIELD_CREDENTIAL]));
  eaudit__putc(k, ',');
  if (EAUDIT__HAS(ev, EAUDIT_FIELD_REASON))
    eaudit__puts(k, eaudit_reason_name((int)ev->v[EAUDIT_FIELD_REASON]));
  eaudit__putc(k, ',');
  if (ev->details_len)
    csv_text(r, ev->details, ev->details_len);
  return eaudit__put(k, "\r\n", 2);
}

static int csv_end(rep *r) { return r->k->err; }

/* ===================== JSON Lines ===================== */

static int jsonl_begin(rep *r) { return r->k->err; }

static int jsonl_event(rep *r, const eaudit_event *ev) {
  eaudit__put_event_json(r->k, r->s, ev, EAUDIT_JSON_STORED | EAUDIT_JSON_NAMES,
                         &r->names, NULL);
  return eaudit__putc(r->k, '\n');
}

/* ===================== summary helpers ===================== */

static void day_text(rep *r, eaudit_time day, char out[16]) {
  char t[48];
  if (local_time(r, day, 0, 1, t) == 0) {
    memcpy(out, t, 10);
    out[10] = '\0';
  } else {
    strcpy(out, "?");
  }
}

/* A name for the summary, looked up now (not at an event's time). */
static const char *current_name(rep *r, int kind, int64_t id) {
  return eaudit__names_get(&r->names, kind, id, INT64_MAX - 1);
}

/* ===================== JSON ===================== */

static void json_key(eaudit_sink *k, const char *key) {
  eaudit__putc(k, '"');
  eaudit__puts(k, key);
  eaudit__puts(k, "\":");
}

static void json_str_or_null(eaudit_sink *k, const char *s) {
  if (s)
    eaudit__put_json_str(k, s, strlen(s));
  else
    eaudit__puts(k, "null");
}

static void json_time_or_null(rep *r, eaudit_time t) {
  char b[48];
  if (t == EAUDIT_TIME_NONE || local_time(r, t, 1, 0, b) != 0) {
    eaudit__puts(r->k, "null");
    return;
  }
  eaudit__putc(r->k, '"');
  eaudit__puts(r->k, b);
  eaudit__putc(r->k, '"');
}

static const char *role_name(int role) {
  return role == EAUDIT_ROLE_SUBJECT ? "subject"
         : role == EAUDIT_ROLE_ACTOR ? "actor"
                                     : "any";
}

static int json_finding(const eaudit__report_finding *f, void *payload) {
  rep *r = payload;
  eaudit_sink *k = r->k;
  eaudit__puts(k, r->n_findings++ ? ",\n" : "\n");
  eaudit__putc(k, '{');
  json_key(k, "id");
  json_str_or_null(k, f->id);
  eaudit__putc(k, ',');
  json_key(k, "rule");
  json_str_or_null(k, f->rule);
  eaudit__putc(k, ',');
  json_key(k, "severity");
  json_str_or_null(k, f->severity);
  eaudit__putc(k, ',');
  json_key(k, "subject");
  if (f->has_subject)
    eaudit__put_i64(k, f->subject);
  else
    eaudit__puts(k, "null");
  eaudit__putc(k, ',');
  json_key(k, "key");
  json_str_or_null(k, f->key);
  eaudit__putc(k, ',');
  json_key(k, "first_at");
  json_time_or_null(r, f->first_at);
  eaudit__putc(k, ',');
  json_key(k, "last_at");
  json_time_or_null(r, f->last_at);
  eaudit__putc(k, ',');
  json_key(k, "state");
  json_str_or_null(k, f->state);
  eaudit__putc(k, ',');
  json_key(k, "event_count");
  eaudit__put_i64(k, f->n_events);
  return eaudit__putc(k, '}');
}

typedef struct expired_ctx {
  rep *r;
  int kind;
  int64_t n;
} expired_ctx;

static int json_expired(const eaudit__report_expired *e, void *payload) {
  expired_ctx *x = payload;
  rep *r = x->r;
  eaudit_sink *k = r->k;
  if (e->kind != x->kind) {
    eaudit__puts(k, x->n ? "\n]," : "],");
    json_key(k, "groups");
    eaudit__putc(k, '[');
    x->kind = e->kind;
    x->n = 0;
  }
  eaudit__puts(k, x->n++ ? ",\n" : "\n");
  r->n_expired++;
  eaudit__putc(k, '{');
  json_key(k, "id");
  eaudit__put_i64(k, e->id);
  eaudit__putc(k, ',');
  json_key(k, "name");
  json_str_or_null(k, current_name(r, e->kind, e->id));
  eaudit__putc(k, ',');
  json_key(k, "expired_at");
  json_time_or_null(r, e->expired_at);
  return eaudit__putc(k, '}');
}

static int json_begin(rep *r) {
  eaudit_sink *k = r->k;
  const eaudit_query *q = r->q;
  eaudit__puts(k, "{\"report\":{");
  json_key(k, "title");
  json_str_or_null(k, r->o->title ? r->o->title : "Audit log report");
  eaudit__putc(k, ',');
  json_key(k, "generated_at");
  json_time_or_null(r, r->generated_at);
  eaudit__putc(k, ',');
  json_key(k, "time_zone");
  json_str_or_null(k, eaudit_store_time_zone(r->s));
  eaudit__putc(k, ',');
  json_key(k, "actor");
  if (r->o->has_actor)
    eaudit__put_i64(k, r->o->actor);
  else
    eaudit__puts(k, "null");
  eaudit__putc(k, ',');
  json_key(k, "query");
  eaudit__putc(k, '{');
  json_key(k, "user");
  if (q->has_user)
    eaudit__put_i64(k, q->user);
  else
    eaudit__puts(k, "null");
  eaudit__putc(k, ',');
  json_key(k, "role");
  json_str_or_null(k, q->has_user ? role_name(q->role) : NULL);
  eaudit__putc(k, ',');
  json_key(k, "since");
  json_time_or_null(r, q->since);
  eaudit__putc(k, ',');
  json_key(k, "until");
  json_time_or_null(r, q->until);
  eaudit__putc(k, ',');
  json_key(k, "types");
  eaudit__putc(k, '[');
  for (size_t i = 0; i < q->n_types; i++) {
    if (i)
      eaudit__putc(k, ',');
    const char *tn = type_name(r, q->types[i]);
    if (tn)
      json_str_or_null(k, tn);
    else
      eaudit__put_i64(k, q->types[i]);
  }
  eaudit__puts(k, "],");
  json_key(k, "text");
  json_str_or_null(k, q->text);
  eaudit__puts(k, "}},\n");
  if (r->o->summary) {
    json_key(k, "summary");
    eaudit__putc(k, '{');
    json_key(k, "total");
    eaudit__put_i64(k, (int64_t)r->total);
    eaudit__putc(k, ',');
    json_key(k, "by_type");
    eaudit__putc(k, '[');
    for (size_t i = 0; i < eaudit_counts_size(r->by_type); i++) {
      int64_t key, n;
      eaudit_counts_get(r->by_type, i, &key, &n);
      eaudit__puts(k, i ? ",\n{" : "\n{");
      json_key(k, "type");
      const char *tn = type_name(r, key);
      if (tn)
        json_str_or_null(k, tn);
      else
        eaudit__put_i64(k, key);
      eaudit__putc(k, ',');
      json_key(k, "label");
      json_str_or_null(k, type_label(r, key));
      eaudit__putc(k, ',');
      json_key(k, "count");
      eaudit__put_i64(k, n);
      eaudit__putc(k, '}');
    }
    eaudit__puts(k, "],\n");
    json_key(k, "by_day");
    eaudit__putc(k, '[');
    for (size_t i = 0; i < eaudit_counts_size(r->by_day); i++) {
      int64_t key, n;
      char d[16];
      eaudit_counts_get(r->by_day, i, &key, &n);
      day_text(r, key, d);
      eaudit__puts(k, i ? ",\n{" : "\n{");
      json_key(k, "day");
      json_str_or_null(k, d);
      eaudit__putc(k, ',');
      json_key(k, "count");
      eaudit__put_i64(k, n);
      eaudit__putc(k, '}');
    }
    eaudit__puts(k, "],\n");
    json_key(k, "by_user");
    if (!r->has_by_user) {
      eaudit__puts(k, "null");
    } else {
      eaudit__putc(k, '[');
      for (size_t i = 0; i < r->n_users; i++) {
        int64_t key = r->user_keys[i], n = r->user_counts[i];
        eaudit__puts(k, i ? ",\n{" : "\n{");
        json_key(k, "user");
        eaudit__put_i64(k, key);
        eaudit__putc(k, ',');
        json_key(k, "name");
        json_str_or_null(k, current_name(r, EAUDIT_KIND_USER, key));
        eaudit__putc(k, ',');
        json_key(k, "count");
        eaudit__put_i64(k, n);
        eaudit__putc(k, '}');
      }
      eaudit__putc(k, ']');
    }
    eaudit__puts(k, ",\n");
    json_key(k, "findings");
    eaudit__putc(k, '[');
    int rc = eaudit__report_findings(r->s, r->q, json_finding, r);
    if (rc)
      return rc;
    eaudit__puts(k, r->n_findings ? "\n],\n" : "],\n");
    json_key(k, "expired");
    eaudit__putc(k, '{');
    json_key(k, "users");
    eaudit__putc(k, '[');
    expired_ctx x = {r, EAUDIT_KIND_USER, 0};
    if ((rc = eaudit__report_expired_each(r->s, r->q, json_expired, &x)))
      return rc;
    if (x.kind == EAUDIT_KIND_USER) {
      eaudit__puts(k, x.n ? "\n]," : "],");
      json_key(k, "groups");
      eaudit__putc(k, '[');
      x.n = 0;
    }
    eaudit__puts(k, x.n ? "\n]}},\n" : "]}},\n");
  }
  json_key(k, "events");
  return eaudit__putc(k, '[');
}

static int json_event(rep *r, const eaudit_event *ev) {
  eaudit__puts(r->k, r->n_events_written ? ",\n" : "\n");
  eaudit__put_event_json(r->k, r->s, ev, EAUDIT_JSON_STORED | EAUDIT_JSON_NAMES,
                         &r->names, &r->clk);
  return r->k->err;
}

static int json_end(rep *r) {
  return eaudit__puts(r->k, r->n_events_written ? "\n]}\n" : "]}\n");
}

/* ===================== HTML ===================== */

static void html_text(eaudit_sink *k, const char *s) {
  if (s)
    eaudit__put_xml(k, s, strlen(s));
}

static void html_cell(eaudit_sink *k, const char *s) {
  eaudit__puts(k, "<td>");
  html_text(k, s);
  eaudit__puts(k, "</td>");
}

static void html_num_cell(eaudit_sink *k, int64_t v) {
  eaudit__puts(k, "<td class=\"num\">");
  eaudit__put_i64(k, v);
  eaudit__puts(k, "</td>");
}

/* "Name (id)" or "id" or empty. */
static void html_entity_cell(rep *r, const eaudit_event *ev, int field,
                             int kind) {
  eaudit_sink *k = r->k;
  eaudit__puts(k, "<td>");
  if (EAUDIT__HAS(ev, field)) {
    const char *nm = name_of(r, ev, field, kind);
    if (nm && nm[0]) {
      html_text(k, nm);
      eaudit__puts(k, " (");
      eaudit__put_i64(k, ev->v[field]);
      eaudit__putc(k, ')');
    } else {
      eaudit__put_i64(k, ev->v[field]);
    }
  }
  eaudit__puts(k, "</td>");
}

static const char *const palette[] = {
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#8c564b",
    "#17becf", "#bcbd22", "#7f7f7f", "#d62728"};

static const char *type_colour(int64_t type) {
  if (type >= 1 && type <= 15)
    return palette[type - 1];
  return palette[15 - (type % 5)];
}

static const char *const html_style =
    "body{font-family:Helvetica,Arial,sans-serif;font-size:10pt;margin:1.5em;"
    "color:#111}\n"
    "h1{font-size:16pt}h2{font-size:13pt;margin-top:1.5em}"
    "h3{font-size:11pt}\n"
    "table{border-collapse:collapse;margin:0.4em 0 1.2em}\n"
    "th,td{border:1px solid #999;padding:2px 6px;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#eee}\ntd.num{text-align:right}\n"
    "td.details{font-family:monospace;font-size:8pt;word-break:break-all}\n"
    ".red,.red td,.red th{color:#b00000}\ntr.red{background:#fff0f0}\n"
    "svg text{font-size:10px;font-family:Helvetica,Arial,sans-serif}\n"
    "@media print{body{margin:0}tr{page-break-inside:avoid}"
    "thead{display:table-header-group}}\n";

static int html_chart(rep *r) {
  eaudit_sink *k = r->k;
  size_t nd = r->n_days, nt = eaudit_counts_size(r->by_type);
  if (nd == 0) {
    eaudit__puts(k, "<p>No days to chart.</p>\n");
    return k->err;
  }
  int64_t max = 0;
  for (size_t d = 0; d < nd; d++) {
    int64_t sum = 0;
    for (size_t t = 0; t < nt; t++)
      sum += r->cells[d * nt + t];
    if (sum > max)
      max = sum;
  }
  /* A tick step of 1, 2 or 5 times a power of ten, about five ticks. */
  int64_t step = 1;
  while (max / step > 5) {
    if (max / (step * 2) <= 5) {
      step *= 2;
      break;
    }
    if (max / (step * 5) <= 5) {
      step *= 5;
      break;
    }
    step *= 10;
  }
  int64_t top = max == 0 ? 1 : ((max + step - 1) / step) * step;
  int bw = nd <= 20 ? 24 : nd <= 62 ? 12 : nd <= 200 ? 5 : 2;
  int gap = bw >= 12 ? 4 : 1;
  int left = 56, plot_h = 200, top_m = 10;
  int plot_w = (int)nd * (bw + gap);
  int legend_x = left + plot_w + 20;
  int width = legend_x + 200, height = top_m + plot_h + 60;
  int legend_h = top_m + (int)nt * 16 + 10;
  if (legend_h > height)
    height = legend_h;
  char buf[512];
  snprintf(buf, sizeof buf,
           "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" "
           "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n"
           "<title>Events per day, stacked by type</title>\n",
           width, height, width, height);
  eaudit__puts(k, buf);
  /* Axes, grid and labels. */
  int y0 = top_m + plot_h;
  eaudit__puts(k, "<g class=\"axes\">\n");
  for (int64_t v = 0; v <= top; v += step) {
    int y = y0 - (int)(v * plot_h / top);
    snprintf(buf, sizeof buf,
             "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
             "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%" PRId64
             "</text>\n",
             left, y, left + plot_w, y, left - 4, y + 3, v);
    eaudit__puts(k, buf);
  }
  snprintf(buf, sizeof buf,
           "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>"
           "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n"
           "<text x=\"12\" y=\"%d\" text-anchor=\"middle\" "
           "transform=\"rotate(-90 12 %d)\">Events</text>\n",
           left, top_m, left, y0, left, y0, left + plot_w, y0,
           top_m + plot_h / 2, top_m + plot_h / 2);
  eaudit__puts(k, buf);
  snprintf(buf, sizeof buf,
           "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">Day (",
           left + plot_w / 2, y0 + 48);
  eaudit__puts(k, buf);
  html_text(k, eaudit_store_time_zone(r->s));
  eaudit__puts(k, ")</text>\n");
  size_t every = nd <= 14 ? 1 : (nd + 13) / 14;
  for (size_t d = 0; d < nd; d += every) {
    char day[16];
    day_text(r, r->days[d], day);
    int x = left + (int)d * (bw + gap) + bw / 2;
    snprintf(buf, sizeof buf,
             "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
             "transform=\"rotate(-45 %d %d)\">%s</text>\n",
             x, y0 + 12, x, y0 + 12, day);
    eaudit__puts(k, buf);
  }
  eaudit__puts(k, "</g>\n<g class=\"bars\">\n");
  for (size_t d = 0; d < nd; d++) {
    char day[16];
    day_text(r, r->days[d], day);
    int x = left + (int)d * (bw + gap);
    snprintf(buf, sizeof buf, "<g class=\"day\" data-day=\"%s\">", day);
    eaudit__puts(k, buf);
    int64_t below = 0;
    for (size_t t = 0; t < nt; t++) {
      int64_t n = r->cells[d * nt + t];
      if (n == 0)
        continue;
      int64_t key;
      eaudit_counts_get(r->by_type, t, &key, NULL);
      int ya = y0 - (int)((below + n) * plot_h / top);
      int yb = y0 - (int)(below * plot_h / top);
      below += n;
      snprintf(buf, sizeof buf,
               "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
               "fill=\"%s\"><title>%s: ",
               x, ya, bw, yb - ya, type_colour(key), day);
      eaudit__puts(k, buf);
      html_text(k, type_label(r, key));
      snprintf(buf, sizeof buf, " %" PRId64 "</title></rect>", n);
      eaudit__puts(k, buf);
    }
    eaudit__puts(k, "</g>\n");
  }
  eaudit__puts(k, "</g>\n<g class=\"legend\">\n");
  for (size_t t = 0; t < nt; t++) {
    int64_t key;
    eaudit_counts_get(r->by_type, t, &key, NULL);
    int y = top_m + (int)t * 16;
    snprintf(buf, sizeof buf,
             "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" "
             "fill=\"%s\"/><text x=\"%d\" y=\"%d\">",
             legend_x, y, type_colour(key), legend_x + 14, y + 9);
    eaudit__puts(k, buf);
    html_text(k, type_label(r, key));
    eaudit__puts(k, "</text>\n");
  }
  return eaudit__puts(k, "</g>\n</svg>\n");
}

static int html_finding(const eaudit__report_finding *f, void *payload) {
  rep *r = payload;
  eaudit_sink *k = r->k;
  if (r->n_findings++ == 0)
    eaudit__puts(k, "<table class=\"findings red\"><thead><tr><th>Rule</th>"
                    "<th>Severity</th><th>Key</th><th>User</th><th>First</th>"
                    "<th>Last</th><th>State</th><th>Events</th></tr></thead>"
                    "<tbody>\n");
  char a[48], b[48];
  if (local_time(r, f->first_at, 0, 1, a))
    strcpy(a, "?");
  if (local_time(r, f->last_at, 0, 1, b))
    strcpy(b, "?");
  eaudit__puts(k, "<tr class=\"red\">");
  html_cell(k, f->rule);
  html_cell(k, f->severity);
  html_cell(k, f->key);
  eaudit__puts(k, "<td>");
  if (f->has_subject) {
    const char *nm = current_name(r, EAUDIT_KIND_USER, f->subject);
    if (nm && nm[0]) {
      html_text(k, nm);
      eaudit__puts(k, " (");
      eaudit__put_i64(k, f->subject);
      eaudit__putc(k, ')');
    } else {
      eaudit__put_i64(k, f->subject);
    }
  }
  eaudit__puts(k, "</td>");
  html_cell(k, a);
  html_cell(k, b);
  html_cell(k, f->state);
  html_num_cell(k, f->n_events);
  return eaudit__puts(k, "</tr>\n");
}

static int html_expired(const eaudit__report_expired *e, void *payload) {
  rep *r = payload;
  eaudit_sink *k = r->k;
  if (r->n_expired++ == 0)
    eaudit__puts(k, "<table class=\"expired red\"><thead><tr><th>Kind</th>"
                    "<th>Id</th><th>Name</th><th>Expired at</th></tr></thead>"
                    "<tbody>\n");
  char a[48];
  if (local_time(r, e->expired_at, 0, 1, a))
    strcpy(a, "?");
  eaudit__puts(k, "<tr class=\"red\">");
  html_cell(k, e->kind == EAUDIT_KIND_USER ? "user" : "group");
  html_num_cell(k, e->id);
  html_cell(k, current_name(r, e->kind, e->id));
  html_cell(k, a);
  return eaudit__puts(k, "</tr>\n");
}

static void html_meta_row(eaudit_sink *k, const char *label, const char *v) {
  eaudit__puts(k, "<tr><th>");
  html_text(k, label);
  eaudit__puts(k, "</th>");
  html_cell(k, v);
  eaudit__puts(k, "</tr>\n");
}

static int html_begin(rep *r) {
  eaudit_sink *k = r->k;
  const eaudit_query *q = r->q;
  const char *title = r->o->title ? r->o->title : "Audit log report";
  eaudit__puts(k, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/"
                  "xhtml\" lang=\"en\" xml:lang=\"en\">\n<head>\n<meta "
                  "charset=\"utf-8\"/>\n<title>");
  html_text(k, title);
  eaudit__puts(k, "</title>\n<style>\n");
  eaudit__puts(k, html_style);
  eaudit__puts(k, "</style>\n</head>\n<body>\n<h1>");
  html_text(k, title);
  eaudit__puts(k, "</h1>\n<table class=\"meta\"><tbody>\n");
  char t[48], buf[160];
  if (local_time(r, r->generated_at, 0, 1, t))
    strcpy(t, "?");
  html_meta_row(k, "Generated", t);
  html_meta_row(k, "Time zone", eaudit_store_time_zone(r->s));
  if (q->has_user) {
    const char *nm = current_name(r, EAUDIT_KIND_USER, q->user);
    eaudit__puts(k, "<tr><th>User</th><td>");
    if (nm && nm[0]) {
      html_text(k, nm);
      eaudit__puts(k, " (");
    }
    eaudit__put_i64(k, q->user);
    if (nm && nm[0])
      eaudit__putc(k, ')');
    eaudit__puts(k, ", as ");
    eaudit__puts(k, role_name(q->role));
    eaudit__puts(k, "</td></tr>\n");
  } else {
    html_meta_row(k, "User", "all users");
  }
  char a[48] = "beginning", b[48] = "now";
  if (q->since != EAUDIT_TIME_NONE && local_time(r, q->since, 0, 1, a))
    strcpy(a, "?");
  if (q->until != EAUDIT_TIME_NONE && local_time(r, q->until, 0, 1, b))
    strcpy(b, "?");
  snprintf(buf, sizeof buf, "%s to %s (exclusive)", a, b);
  html_meta_row(k, "Interval", buf);
  if (q->text)
    html_meta_row(k, "Search", q->text);
  if (r->o->has_actor) {
    const char *nm = current_name(r, EAUDIT_KIND_USER, r->o->actor);
    eaudit__puts(k, "<tr><th>Requested by</th><td>");
    if (nm && nm[0]) {
      html_text(k, nm);
      eaudit__puts(k, " (");
    }
    eaudit__put_i64(k, r->o->actor);
    if (nm && nm[0])
      eaudit__putc(k, ')');
    eaudit__puts(k, "</td></tr>\n");
  }
  snprintf(buf, sizeof buf, "%" PRIu64, r->total);
  html_meta_row(k, "Events", buf);
  eaudit__puts(k, "</tbody></table>\n");
  if (r->o->summary) {
    eaudit__puts(k, "<h2>Summary</h2>\n<h3>Events per type</h3>\n");
    eaudit__puts(k, "<table class=\"by-type\"><thead><tr><th>Type</th>"
                    "<th>Events</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < eaudit_counts_size(r->by_type); i++) {
      int64_t key, n;
      eaudit_counts_get(r->by_type, i, &key, &n);
      eaudit__puts(k, key == EAUDIT_TYPE_PERMISSIONS_EXPIRED
                          ? "<tr class=\"red\">"
                          : "<tr>");
      html_cell(k, type_label(r, key));
      html_num_cell(k, n);
      eaudit__puts(k, "</tr>\n");
    }
    eaudit__puts(k, "<tr><th>Total</th>");
    html_num_cell(k, (int64_t)r->total);
    eaudit__puts(k, "</tr>\n</tbody></table>\n<h3>Activity per day</h3>\n");
    int rc = html_chart(r);
    if (rc)
      return rc;
    if (r->has_by_user) {
      eaudit__puts(k, "<h3>Events per user</h3>\n<table class=\"by-user\">"
                      "<thead><tr><th>User</th><th>Name</th><th>Events</th>"
                      "</tr></thead><tbody>\n");
      for (size_t i = 0; i < r->n_users; i++) {
        int64_t key = r->user_keys[i], n = r->user_counts[i];
        eaudit__puts(k, "<tr>");
        html_num_cell(k, key);
        html_cell(k, current_name(r, EAUDIT_KIND_USER, key));
        html_num_cell(k, n);
        eaudit__puts(k, "</tr>\n");
      }
      eaudit__puts(k, "</tbody></table>\n");
    }
    eaudit__puts(k, "<h3>Findings</h3>\n");
    if ((rc = eaudit__report_findings(r->s, r->q, html_finding, r)))
      return rc;
    eaudit__puts(k, r->n_findings ? "</tbody></table>\n"
                                  : "<p>No findings in this interval.</p>\n");
    eaudit__puts(k, "<h3>Expired permissions</h3>\n");
    if ((rc = eaudit__report_expired_each(r->s, r->q, html_expired, r)))
      return rc;
    eaudit__puts(k, r->n_expired ? "</tbody></table>\n"
                                 : "<p>No expired permissions.</p>\n");
  }
  eaudit__puts(k, "<h2>Events</h2>\n<table class=\"events\"><thead><tr>"
                  "<th>Time</th><th>Type</th><th>User</th><th>Actor</th>"
                  "<th>Door</th><th>Group</th><th>Device</th><th>Site</th>"
                  "<th>Credential</th><th>Reason</th><th>Details</th>"
                  "</tr></thead><tbody>\n");
  return k->err;
}

static int html_event(rep *r, const eaudit_event *ev) {
  eaudit_sink *k = r->k;
  char t[48];
  int rc = local_time(r, ev->v[EAUDIT_FIELD_OCCURRED_AT], 0, 1, t);
  if (rc)
    return rc;
  int64_t type = ev->v[EAUDIT_FIELD_TYPE];
  eaudit__puts(k, type == EAUDIT_TYPE_PERMISSIONS_EXPIRED ? "<tr class=\"red\">"
                                                          : "<tr>");
  html_cell(k, t);
  html_cell(k, type_label(r, type));
  html_entity_cell(r, ev, EAUDIT_FIELD_SUBJECT, EAUDIT_KIND_USER);
  html_entity_cell(r, ev, EAUDIT_FIELD_ACTOR, EAUDIT_KIND_USER);
  html_entity_cell(r, ev, EAUDIT_FIELD_DOOR, EAUDIT_KIND_DOOR);
  html_entity_cell(r, ev, EAUDIT_FIELD_GROUP, EAUDIT_KIND_GROUP);
  html_entity_cell(r, ev, EAUDIT_FIELD_DEVICE, EAUDIT_KIND_DEVICE);
  html_entity_cell(r, ev, EAUDIT_FIELD_SITE, EAUDIT_KIND_SITE);
  html_cell(k, EAUDIT__HAS(ev, EAUDIT_FIELD_CREDENTIAL)
                   ? eaudit_credential_label(
                         (int)ev->v[EAUDIT_FIELD_CREDENTIAL])
                   : NULL);
  html_cell(k, EAUDIT__HAS(ev, EAUDIT_FIELD_REASON)
                   ? eaudit_reason_label((int)ev->v[EAUDIT_FIELD_REASON])
                   : NULL);
  eaudit__puts(k, "<td class=\"details\">");
  if (ev->details_len)
    eaudit__put_xml(k, ev->details, ev->details_len);
  return eaudit__puts(k, "</td></tr>\n");
}

static int html_end(rep *r) {
  eaudit_sink *k = r->k;
  if (r->n_events_written == 0)
    eaudit__puts(k, "<tr><td colspan=\"11\">No events.</td></tr>\n");
  return eaudit__puts(k, "</tbody></table>\n</body>\n</html>\n");
}

/* ===================== syslog (RFC 5424) ===================== */

/* PARAM-VALUE escaping (RFC 5424 §6.3.3): '"', '\' and ']' get a
 * backslash. Line breaks, which would split the line, become the two
 * characters \n or \r, and other C0 controls a space. */
static const char *sd_escape(unsigned char c) {
  switch (c) {
  case '"': return "\\\"";
  case '\\': return "\\\\";
  case ']': return "\\]";
  case '\n': return "\\n";
  case '\r': return "\\r";
  default: return c < 0x20 || c == 0x7f ? " " : NULL;
  }
}

/* Write [s, s+n), replacing each byte escape() maps to a text; runs of
 * unchanged bytes are written whole. */
static void put_escaped(eaudit_sink *k, const char *s, size_t n,
                        const char *(*escape)(unsigned char)) {
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    const char *rep = escape((unsigned char)s[i]);
    if (rep == NULL)
      continue;
    eaudit__put(k, s + run, i - run);
    eaudit__puts(k, rep);
    run = i + 1;
  }
  eaudit__put(k, s + run, n - run);
}

static void sd_value(eaudit_sink *k, const char *s, size_t n) {
  put_escaped(k, s, n, sd_escape);
}

static void sd_param(eaudit_sink *k, const char *name, const char *v) {
  eaudit__putc(k, ' ');
  eaudit__puts(k, name);
  eaudit__puts(k, "=\"");
  sd_value(k, v, strlen(v));
  eaudit__putc(k, '"');
}

static void sd_int(eaudit_sink *k, const char *name, int64_t v) {
  eaudit__putc(k, ' ');
  eaudit__puts(k, name);
  eaudit__puts(k, "=\"");
  eaudit__put_i64(k, v);
  eaudit__putc(k, '"');
}

static const struct {
  int field, kind;
  const char *name, *name_key;
} entity_params[] = {
    {EAUDIT_FIELD_SUBJECT, EAUDIT_KIND_USER, "subject", "subject_name"},
    {EAUDIT_FIELD_ACTOR, EAUDIT_KIND_USER, "actor", "actor_name"},
    {EAUDIT_FIELD_DOOR, EAUDIT_KIND_DOOR, "door", "door_name"},
    {EAUDIT_FIELD_GROUP, EAUDIT_KIND_GROUP, "group", "group_name"},
    {EAUDIT_FIELD_DEVICE, EAUDIT_KIND_DEVICE, "device", "device_name"},
    {EAUDIT_FIELD_SITE, EAUDIT_KIND_SITE, "site", "site_name"},
};

static int syslog_event(rep *r, const eaudit_event *ev) {
  eaudit_sink *k = r->k;
  int64_t type = ev->v[EAUDIT_FIELD_TYPE];
  type_facts f = facts_of(type, EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT));
  char t[48];
  eaudit__putc(k, '<');
  eaudit__put_i64(k, 13 * 8 + f.syslog_sev); /* facility 13: log audit */
  eaudit__puts(k, ">1 ");
  eaudit__fmt_utc(ev->v[EAUDIT_FIELD_OCCURRED_AT], t);
  eaudit__puts(k, t);
  eaudit__putc(k, ' ');
  eaudit__puts(k, r->o->hostname ? r->o->hostname : "-");
  eaudit__putc(k, ' ');
  eaudit__puts(k, r->o->appname ? r->o->appname : "entryfy-audit");
  eaudit__puts(k, " - ");
  const char *tn = type_name(r, type);
  if (tn)
    eaudit__put(k, tn, strlen(tn) > 32 ? 32 : strlen(tn)); /* MSGID <= 32 */
  else
    eaudit__put_i64(k, type);
  eaudit__puts(k, " [eaudit@32473");
  eaudit__puts(k, " id=\"");
  put_uuid(k, ev->id);
  eaudit__putc(k, '"');
  sd_int(k, "seq", ev->v[EAUDIT_FIELD_SEQ]);
  if (tn)
    sd_param(k, "type", tn);
  sd_int(k, "type_code", type);
  sd_int(k, "ocsf_class", f.ocsf);
  for (size_t i = 0; i < sizeof entity_params / sizeof *entity_params; i++) {
    if (!EAUDIT__HAS(ev, entity_params[i].field))
      continue;
    sd_int(k, entity_params[i].name, ev->v[entity_params[i].field]);
    const char *nm =
        name_of(r, ev, entity_params[i].field, entity_params[i].kind);
    if (nm)
      sd_param(k, entity_params[i].name_key, nm);
  }
  if (EAUDIT__HAS(ev, EAUDIT_FIELD_CREDENTIAL))
    sd_param(k, "credential",
             eaudit_credential_name((int)ev->v[EAUDIT_FIELD_CREDENTIAL]));
  if (EAUDIT__HAS(ev, EAUDIT_FIELD_REASON))
    sd_param(k, "reason", eaudit_reason_name((int)ev->v[EAUDIT_FIELD_REASON]));
  if (ev->details_len) {
    eaudit__puts(k, " details=\"");
    sd_value(k, ev->details, ev->details_len);
    eaudit__putc(k, '"');
  }
  eaudit__puts(k, "] ");
  /* MSG: the label; marked as UTF-8 with a BOM only when not ASCII. */
  const char *label = type_label(r, type);
  if (label == NULL)
    label = "event";
  int ascii = 1;
  for (const char *p = label; *p && ascii; p++)
    ascii = (unsigned char)*p < 0x80;
  if (!ascii)
    eaudit__puts(k, "\xef\xbb\xbf");
  for (const char *p = label; *p; p++)
    eaudit__putc(k, *p == '\n' || *p == '\r' ? ' ' : *p);
  return eaudit__putc(k, '\n');
}

/* ===================== CEF ===================== */

/* Header fields: '|' and '\' get a backslash; line breaks become spaces. */
static void cef_header(eaudit_sink *k, const char *s) {
  for (; *s; s++) {
    if (*s == '|' || *s == '\\')
      eaudit__putc(k, '\\');
    eaudit__putc(k, *s == '\n' || *s == '\r' ? ' ' : *s);
  }
}

/* Extension values: '\' and '=' get a backslash, CR and LF are written as
 * \r and \n. */
static const char *cef_escape(unsigned char c) {
  switch (c) {
  case '\\': return "\\\\";
  case '=': return "\\=";
  case '\n': return "\\n";
  case '\r': return "\\r";
  default: return NULL;
  }
}

static void cef_value(eaudit_sink *k, const char *s, size_t n) {
  put_escaped(k, s, n, cef_escape);
}

static void cef_str(eaudit_sink *k, const char *key, const char *v) {
  eaudit__putc(k, ' ');
  eaudit__puts(k, key);
  eaudit__putc(k, '=');
  cef_value(k, v, strlen(v));
}

static void cef_int(eaudit_sink *k, const char *key, int64_t v) {
  eaudit__putc(k, ' ');
  eaudit__puts(k, key);
  eaudit__putc(k, '=');
  eaudit__put_i64(k, v);
}

static int cef_event(rep *r, const eaudit_event *ev) {
  eaudit_sink *k = r->k;
  int64_t type = ev->v[EAUDIT_FIELD_TYPE];
  type_facts f = facts_of(type, EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT));
  eaudit__puts(k, "CEF:0|Entryfy|entryfy-audit|" EAUDIT_VERSION_STRING "|");
  eaudit__put_i64(k, type);
  eaudit__putc(k, '|');
  const char *label = type_label(r, type);
  cef_header(k, label ? label : "event");
  eaudit__putc(k, '|');
  eaudit__put_i64(k, f.cef_sev);
  eaudit__putc(k, '|');
  /* Extension, in a fixed order (docs/formats.md). */
  eaudit__puts(k, "rt=");
  int64_t at = ev->v[EAUDIT_FIELD_OCCURRED_AT];
  eaudit__put_i64(k, at >= 0 ? at / 1000 : -((-at + 999) / 1000));
  eaudit__puts(k, " externalId=");
  put_uuid(k, ev->id);
  const char *tn = type_name(r, type);
  if (tn)
    cef_str(k, "cat", tn);
  cef_int(k, "cn1", ev->v[EAUDIT_FIELD_SEQ]);
  eaudit__puts(k, " cn1Label=seq");
  if (EAUDIT__HAS(ev, EAUDIT_FIELD_ACTOR)) {
    cef_int(k, "suid", ev->v[EAUDIT_FIELD_ACTOR]);
    const char *nm = name_of(r, ev, EAUDIT_FIELD_ACTOR, EAUDIT_KIND_USER);
    if (nm)
      cef_str(k, "suser", nm);
  }
  if (EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT)) {
    cef_int(k, "duid", ev->v[EAUDIT_FIELD_SUBJECT]);
    const char *nm = name_of(r, ev, EAUDIT_FIELD_SUBJECT, EAUDIT_KIND_USER);
    if (nm)
      cef_str(k, "duser", nm);
  }
  static const struct {
    int field, kind;
    const char *id_key, *id_label, *name_key, *name_label;
  } ents[] = {
      {EAUDIT_FIELD_DOOR, EAUDIT_KIND_DOOR, "cn2", "door", "cs4", "door_name"},
      {EAUDIT_FIELD_GROUP, EAUDIT_KIND_GROUP, "cn3", "group", "cs5",
       "group_name"},
      {EAUDIT_FIELD_DEVICE, EAUDIT_KIND_DEVICE, "flexNumber1", "device",
       "cs6", "device_name"},
      {EAUDIT_FIELD_SITE, EAUDIT_KIND_SITE, "flexNumber2", "site",
       "flexString1", "site_name"},
  };
  char lbl[32];
  for (size_t i = 0; i < sizeof ents / sizeof *ents; i++) {
    if (!EAUDIT__HAS(ev, ents[i].field))
      continue;
    cef_int(k, ents[i].id_key, ev->v[ents[i].field]);
    snprintf(lbl, sizeof lbl, "%sLabel", ents[i].id_key);
    cef_str(k, lbl, ents[i].id_label);
    const char *nm = name_of(r, ev, ents[i].field, ents[i].kind);
    if (nm) {
      cef_str(k, ents[i].name_key, nm);
      snprintf(lbl, sizeof lbl, "%sLabel", ents[i].name_key);
      cef_str(k, lbl, ents[i].name_label);
    }
  }
  if (EAUDIT__HAS(ev, EAUDIT_FIELD_CREDENTIAL)) {
    cef_str(k, "cs1",
            eaudit_credential_name((int)ev->v[EAUDIT_FIELD_CREDENTIAL]));
    eaudit__puts(k, " cs1Label=credential");
  }
  if (EAUDIT__HAS(ev, EAUDIT_FIELD_REASON)) {
    cef_str(k, "reason", eaudit_reason_name((int)ev->v[EAUDIT_FIELD_REASON]));
  }
  if (ev->details_len) {
    eaudit__puts(k, " cs3=");
    cef_value(k, ev->details, ev->details_len);
    eaudit__puts(k, " cs3Label=details");
  }
  cef_int(k, "flexString2", f.ocsf);
  eaudit__puts(k, " flexString2Label=ocsf_class");
  return eaudit__putc(k, '\n');
}

static int nothing(rep *r) { return r->k->err; }

static const writer writers[] = {
    [EAUDIT_FORMAT_CSV] = {csv_begin, csv_event, csv_end},
    [EAUDIT_FORMAT_JSON] = {json_begin, json_event, json_end},
    [EAUDIT_FORMAT_JSONL] = {jsonl_begin, jsonl_event, nothing},
    [EAUDIT_FORMAT_HTML] = {html_begin, html_event, html_end},
    [EAUDIT_FORMAT_SYSLOG] = {nothing, syslog_event, nothing},
    [EAUDIT_FORMAT_CEF] = {nothing, cef_event, nothing},
};

static const char *const format_names[] = {
    "", "csv", "json", "jsonl", "html", "syslog", "cef"};

/* ===================== the summary ===================== */

static int next_day(eaudit__tz *tz, eaudit_time day, eaudit_time *out) {
  eaudit__civil cv;
  int rc = eaudit__tz_to_civil(tz, day, &cv);
  if (rc)
    return rc;
  cv.day++;
  cv.hour = cv.minute = cv.second = cv.usec = 0;
  return eaudit__tz_from_civil(tz, &cv, out);
}

#define MAX_CHART_DAYS 3660

/* The chart's days: every local day of the interval; an open end is taken
 * from the first or last day with events. */
static int summary_days(rep *r) {
  eaudit_time first = EAUDIT_TIME_NONE, last = EAUDIT_TIME_NONE;
  size_t nd = eaudit_counts_size(r->by_day);
  int rc;
  if (r->q->since != EAUDIT_TIME_NONE) {
    if ((rc = eaudit__tz_day_start(r->s->tz, r->q->since, &first)))
      return rc;
  } else if (nd) {
    eaudit_counts_get(r->by_day, 0, &first, NULL);
  }
  if (r->q->until != EAUDIT_TIME_NONE) {
    if ((rc = eaudit__tz_day_start(r->s->tz, r->q->until - 1, &last)))
      return rc;
  } else if (nd) {
    eaudit_counts_get(r->by_day, nd - 1, &last, NULL);
  }
  if (first == EAUDIT_TIME_NONE || last == EAUDIT_TIME_NONE || last < first)
    return EAUDIT_OK;
  size_t cap = 0;
  for (eaudit_time d = first; d <= last && r->n_days < MAX_CHART_DAYS;) {
    if (r->n_days == cap) {
      cap = cap ? cap * 2 : 64;
      eaudit_time *p = eaudit__realloc(r->days, cap * sizeof *p);
      if (p == NULL)
        return eaudit__enomem();
      r->days = p;
    }
    r->days[r->n_days++] = d;
    if ((rc = next_day(r->s->tz, d, &d)))
      return rc;
  }
  return EAUDIT_OK;
}

/* Add n to user key, keeping keys sorted. */
static int user_add(rep *r, int64_t key, int64_t n) {
  size_t lo = 0, hi = r->n_users;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (r->user_keys[mid] < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < r->n_users && r->user_keys[lo] == key) {
    r->user_counts[lo] += n;
    return EAUDIT_OK;
  }
  if (r->n_users == r->cap_users) {
    size_t cap = r->cap_users ? r->cap_users * 2 : 64;
    int64_t *k = eaudit__realloc(r->user_keys, cap * sizeof *k);
    if (k == NULL)
      return eaudit__enomem();
    r->user_keys = k;
    int64_t *c = eaudit__realloc(r->user_counts, cap * sizeof *c);
    if (c == NULL)
      return eaudit__enomem();
    r->user_counts = c;
    r->cap_users = cap;
  }
  memmove(r->user_keys + lo + 1, r->user_keys + lo,
          (r->n_users - lo) * sizeof *r->user_keys);
  memmove(r->user_counts + lo + 1, r->user_counts + lo,
          (r->n_users - lo) * sizeof *r->user_counts);
  r->user_keys[lo] = key;
  r->user_counts[lo] = n;
  r->n_users++;
  return EAUDIT_OK;
}

static int user_add_cb(void *payload, int64_t key, int64_t n) {
  return user_add(payload, key, n);
}

static int user_add_counts(rep *r, const eaudit_query *q) {
  eaudit_counts *c = NULL;
  int rc = eaudit_store_counts(r->s, q, EAUDIT_COUNT_BY_USER, &c);
  for (size_t i = 0; rc == 0 && i < eaudit_counts_size(c); i++) {
    int64_t key, n;
    eaudit_counts_get(c, i, &key, &n);
    rc = user_add(r, key, n);
  }
  eaudit_counts_free(c);
  return rc;
}

/* Counts per user. eaudit_store_counts() groups the rollup rows with an
 * SQL GROUP BY, whose sorter takes up to SQLite's cache size (about
 * 2 MiB) on long intervals; here the whole days are streamed from the
 * rollup in key order and summed into an array bounded by the number of
 * users. Partial days at the ends, and queries the rollups cannot answer,
 * go through eaudit_store_counts() (which counts those events one by one,
 * without a sort). The central store keeps no rollups: there, every count
 * comes from eaudit_store_counts(). */
static int user_counts(rep *r, eaudit_query *q) {
  r->has_by_user = 1;
  int answerable = !r->s->pg && !q->text &&
                   !(q->has_user && q->role != EAUDIT_ROLE_SUBJECT);
  for (int i = 0; i < EAUDIT__N_ENTITY; i++)
    answerable = answerable && !q->has_entity[i];
  if (!answerable || q->since == EAUDIT_TIME_NONE ||
      q->until == EAUDIT_TIME_NONE)
    return user_add_counts(r, q);
  eaudit_time from, to;
  int rc = eaudit__tz_day_start(r->s->tz, q->since, &from);
  if (rc == 0 && from < q->since)
    rc = next_day(r->s->tz, from, &from);
  if (rc == 0)
    rc = eaudit__tz_day_start(r->s->tz, q->until, &to);
  if (rc)
    return rc;
  if (from >= to)
    return user_add_counts(r, q);
  rc = eaudit__report_rollup_users(r->s, q, from, to, user_add_cb, r);
  eaudit_query edge = *q;
  if (rc == 0 && q->since < from) {
    edge.since = q->since;
    edge.until = from;
    rc = user_add_counts(r, &edge);
  }
  if (rc == 0 && to < q->until) {
    edge.since = to;
    edge.until = q->until;
    rc = user_add_counts(r, &edge);
  }
  return rc;
}

static int summary(rep *r) {
  /* The event lines formats (CSV, JSON Lines, syslog, CEF) use the total
   * only for the progress callback: without one, counting would only cost
   * time (about a tenth of a CSV report of a long interval). */
  if (r->format != EAUDIT_FORMAT_JSON && r->format != EAUDIT_FORMAT_HTML &&
      r->o->progress == NULL)
    return EAUDIT_OK;
  eaudit_query *q = NULL;
  int rc = eaudit_query_dup(&q, r->q);
  if (rc)
    return rc;
  q->limit = 0;
  q->has_after = 0;
  rc = eaudit_store_counts(r->s, q, EAUDIT_COUNT_BY_TYPE, &r->by_type);
  for (size_t i = 0; rc == 0 && i < eaudit_counts_size(r->by_type); i++) {
    int64_t n;
    eaudit_counts_get(r->by_type, i, NULL, &n);
    r->total += (uint64_t)n;
  }
  if (rc || !r->o->summary ||
      (r->format != EAUDIT_FORMAT_JSON && r->format != EAUDIT_FORMAT_HTML))
    goto done;
  if ((rc = eaudit_store_counts(r->s, q, EAUDIT_COUNT_BY_DAY, &r->by_day)))
    goto done;
  if (!(q->has_user && q->role == EAUDIT_ROLE_SUBJECT) &&
      (rc = user_counts(r, q)))
    goto done;
  if (r->format != EAUDIT_FORMAT_HTML || (rc = summary_days(r)) != 0)
    goto done;
  /* Per-day counts of each type, for the stacked bars. */
  size_t nt = eaudit_counts_size(r->by_type);
  if (r->n_days == 0 || nt == 0)
    goto done;
  r->cells = eaudit__calloc(r->n_days * nt, sizeof *r->cells);
  if (r->cells == NULL) {
    rc = eaudit__enomem();
    goto done;
  }
  for (size_t t = 0; rc == 0 && t < nt; t++) {
    int64_t type;
    eaudit_counts_get(r->by_type, t, &type, NULL);
    eaudit_query_clear_types(q);
    if ((rc = eaudit_query_add_type(q, (int)type)))
      break;
    eaudit_counts *c = NULL;
    if ((rc = eaudit_store_counts(r->s, q, EAUDIT_COUNT_BY_DAY, &c)))
      break;
    size_t d = 0;
    for (size_t i = 0; i < eaudit_counts_size(c); i++) {
      int64_t day, n;
      eaudit_counts_get(c, i, &day, &n);
      while (d < r->n_days && r->days[d] < day)
        d++;
      if (d < r->n_days && r->days[d] == day)
        r->cells[d * nt + t] = n;
    }
    eaudit_counts_free(c);
  }
done:
  eaudit_query_free(q);
  return rc;
}

/* ===================== running ===================== */

static void rep_free(rep *r) {
  eaudit__names_free(&r->names);
  eaudit_counts_free(r->by_type);
  eaudit_counts_free(r->by_day);
  eaudit__free(r->user_keys);
  eaudit__free(r->user_counts);
  eaudit__free(r->days);
  eaudit__free(r->cells);
}

/* Append the report_exported event. */
static int record(eaudit_store *s, const eaudit_report_options *o,
                  int64_t subject, const char *details, size_t len) {
  eaudit_event *ev = NULL;
  int rc = eaudit_event_new(&ev);
  if (rc)
    return rc;
  eaudit__event_put(ev, EAUDIT_FIELD_TYPE, EAUDIT_TYPE_REPORT_EXPORTED);
  eaudit__event_put(ev, EAUDIT_FIELD_OCCURRED_AT, eaudit_store_now(s));
  eaudit__event_put(ev, EAUDIT_FIELD_SUBJECT, subject);
  eaudit__event_put(ev, EAUDIT_FIELD_ACTOR, o->actor);
  rc = eaudit__event_put_details(ev, details, len);
  if (rc == 0)
    rc = eaudit_store_append(s, ev);
  eaudit_event_free(ev);
  return rc;
}

static void details_time(eaudit__buf *b, const char *key, eaudit_time t) {
  char u[32];
  if (t == EAUDIT_TIME_NONE) {
    eaudit__buf_printf(b, ",\"%s\":null", key);
    return;
  }
  eaudit__fmt_utc(t, u);
  eaudit__buf_printf(b, ",\"%s\":\"%s\"", key, u);
}

static int check_common(eaudit_store *s, const eaudit_report_options *o,
                        eaudit_sink *k) {
  if (o == NULL || k == NULL)
    return eaudit__einval("options and sink must not be NULL");
  if (o->record && !o->has_actor)
    return eaudit__einval("a recorded report needs an actor "
                          "(EAUDIT_REPORT_OPT_ACTOR), or set "
                          "EAUDIT_REPORT_OPT_RECORD to 0");
  if (o->record && s->read_only)
    return eaudit__error(EAUDIT_EREADONLY, EAUDIT_ECLASS_INVALID, 0,
                         "a read-only store cannot record the report; set "
                         "EAUDIT_REPORT_OPT_RECORD to 0");
  return k->err;
}

int eaudit_store_report(eaudit_store *s, const eaudit_query *query,
                        const eaudit_report_options *o, eaudit_sink *k) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (query == NULL)
    return eaudit__einval("query must not be NULL");
  int rc = check_common(s, o, k);
  if (rc)
    return rc;
  rep r;
  memset(&r, 0, sizeof r);
  r.s = s;
  r.q = query;
  r.o = o;
  r.k = k;
  r.format = o->format ? o->format : EAUDIT_FORMAT_CSV;
  r.clk.tz = s->tz;
  r.generated_at = eaudit_store_now(s);
  const writer *w = &writers[r.format];
  if ((rc = eaudit__names_init(&r.names, s, EAUDIT__NAME_CACHE)))
    return rc;
  /* Everything is read in one snapshot, so that the summary and the events
   * agree even while others append. */
  int began = 0, wrote = 0;
  rc = eaudit__report_snapshot_begin(s, &began);
  eaudit__evsrc cur;
  memset(&cur, 0, sizeof cur);
  eaudit_query *q = NULL;
  eaudit_event ev;
  memset(&ev, 0, sizeof ev);
  if (rc == 0)
    rc = summary(&r);
  if (rc == 0 && (rc = eaudit_query_dup(&q, query)) == 0) {
    q->order = EAUDIT_ORDER_NEWEST_FIRST;
    q->limit = 0;
    q->has_after = 0;
    rc = eaudit__evsrc_open_query(s, q, &cur);
  }
  if (rc == 0) {
    wrote = 1;
    rc = w->begin(&r);
  }
  while (rc == 0 && (rc = eaudit__evsrc_next(&cur, &ev)) == EAUDIT_OK) {
    if ((rc = w->event(&r, &ev)))
      break;
    r.n_events_written++;
    r.done++;
    rc = progress(&r, 0);
  }
  if (rc == EAUDIT_DONE)
    rc = 0;
  if (rc == 0)
    rc = w->end(&r);
  if (rc == 0)
    rc = eaudit__sink_flush(k);
  if (rc == 0)
    rc = progress(&r, 1);
  eaudit__evsrc_close(&cur);
  eaudit__event_release(&ev);
  eaudit__report_snapshot_end(s, began);
  if (wrote && o->record) {
    /* Keep the writer's error message if it failed. */
    eaudit__buf d = {0};
    eaudit__buf_printf(&d, "{\"format\":\"%s\",\"events\":%d",
                       format_names[r.format], r.n_events_written);
    if (q && q->has_user)
      eaudit__buf_printf(&d, ",\"user\":%lld,\"role\":\"%s\"",
                         (long long)q->user, role_name(q->role));
    else
      eaudit__buf_puts(&d, ",\"user\":null");
    details_time(&d, "since", query->since);
    details_time(&d, "until", query->until);
    eaudit__buf_printf(&d, ",\"complete\":%s}", rc == 0 ? "true" : "false");
    if (d.data) {
      int64_t subject = q && q->has_user ? q->user : o->actor;
      int rrc = record(s, o, subject, d.data, d.len);
      if (rc == 0)
        rc = rrc;
    } else if (rc == 0) {
      rc = eaudit__enomem();
    }
    eaudit__buf_free(&d);
  }
  eaudit_query_free(q);
  rep_free(&r);
  return rc;
}

int eaudit_store_export(eaudit_store *s, int64_t after_seq,
                        const eaudit_report_options *o, eaudit_sink *k,
                        int64_t *out_last_seq) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out_last_seq)
    *out_last_seq = after_seq;
  int rc = check_common(s, o, k);
  if (rc)
    return rc;
  int format = o->format ? o->format : EAUDIT_FORMAT_JSONL;
  if (format == EAUDIT_FORMAT_JSON || format == EAUDIT_FORMAT_HTML)
    return eaudit__error(EAUDIT_EUNSUPPORTED, EAUDIT_ECLASS_INVALID, 0,
                         "export writes event lines: JSON Lines, CSV, syslog "
                         "or CEF; use a report for JSON and HTML");
  eaudit_query none;
  memset(&none, 0, sizeof none);
  none.since = none.until = EAUDIT_TIME_NONE;
  rep r;
  memset(&r, 0, sizeof r);
  r.s = s;
  r.q = &none;
  r.o = o;
  r.k = k;
  r.format = format;
  r.export_mode = 1;
  r.clk.tz = s->tz;
  const writer *w = &writers[format];
  if ((rc = eaudit__names_init(&r.names, s, EAUDIT__NAME_CACHE)))
    return rc;
  int began = 0;
  rc = eaudit__report_snapshot_begin(s, &began);
  if (rc == 0 && o->progress)
    rc = eaudit__evsrc_count_chain(s, after_seq, &r.total);
  eaudit__evsrc cur;
  memset(&cur, 0, sizeof cur);
  eaudit_event ev;
  memset(&ev, 0, sizeof ev);
  if (rc == 0)
    rc = eaudit__evsrc_open_chain(s, after_seq, &cur);
  int wrote = 0;
  int64_t last = after_seq;
  if (rc == 0) {
    wrote = 1;
    rc = w->begin(&r);
  }
  while (rc == 0 && (rc = eaudit__evsrc_next(&cur, &ev)) == EAUDIT_OK) {
    if ((rc = w->event(&r, &ev)))
      break;
    last = ev.v[EAUDIT_FIELD_SEQ];
    r.n_events_written++;
    r.done++;
    rc = progress(&r, 0);
  }
  if (rc == EAUDIT_DONE)
    rc = 0;
  if (rc == 0)
    rc = w->end(&r);
  if (rc == 0)
    rc = eaudit__sink_flush(k);
  if (rc == 0)
    rc = progress(&r, 1);
  eaudit__evsrc_close(&cur);
  eaudit__event_release(&ev);
  eaudit__report_snapshot_end(s, began);
  if (wrote && o->record) {
    eaudit__buf d = {0};
    eaudit__buf_printf(&d,
                       "{\"format\":\"%s\",\"export\":true,\"events\":%d,"
                       "\"after_seq\":%lld,\"last_seq\":%lld,\"complete\":%s}",
                       format_names[format], r.n_events_written,
                       (long long)after_seq, (long long)last,
                       rc == 0 ? "true" : "false");
    if (d.data) {
      int rrc = record(s, o, o->actor, d.data, d.len);
      if (rc == 0)
        rc = rrc;
    } else if (rc == 0) {
      rc = eaudit__enomem();
    }
    eaudit__buf_free(&d);
  }
  if (out_last_seq && rc == 0)
    *out_last_seq = last;
  rep_free(&r);
  return rc;
}
