/* import: JSON Lines (the DESIGN section 7 event shape) from a file or
 * standard input. Each good line is appended, a line whose id is already
 * stored is skipped, and each bad line is reported by number and reason. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: entryfy-audit import [--db PATH] [--tz ZONE] [FILE|-]\n"
    "\n"
    "Append events from JSON Lines (one event object per line, as export\n"
    "writes them) read from FILE or standard input. Creates the store when\n"
    "it does not exist (in time zone ZONE, default UTC).\n"
    "\n"
    "A line without an id gets one derived from its content, so importing\n"
    "the same file twice adds nothing. Lines whose id is already stored are\n"
    "skipped; bad lines are rejected and listed on stderr by line number.\n"
    "Unknown fields are ignored and counted.\n"
    "\n"
    "  --tz ZONE        IANA time zone of a store created by this import\n"
    "  --batch N        events per transaction (default 256)\n"
    "\n"
    "Prints 'appended N, skipped N, rejected N, unknown fields N'.\n"
    "Exit status: 0 no line rejected, 1 some lines rejected, 2 usage error,\n"
    "3 the input or the store could not be used.\n";

enum { I_TZ = 100, I_BATCH };
static const cli_opt opts[] = {
    {"tz", 0, 1, I_TZ}, {"batch", 0, 1, I_BATCH}, {NULL, 0, 0, 0}};

typedef struct {
  const char *tz;
  int64_t batch;
} import_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  import_args *a = p;
  if (id == I_TZ) {
    a->tz = val;
    return -1;
  }
  if (cli_parse_i64(val, &a->batch) || a->batch < 1 || a->batch > 100000)
    return cli_usage(c, "--batch needs a number from 1 to 100000, not '%s'",
                     val);
  return -1;
}

/* Fields import knows; the export-only ones are read past silently. */
static const char *const known[] = {
    "id",          "type",        "occurred_at", "subject",   "actor",
    "door",        "group",       "device",      "site",      "credential",
    "reason",      "details",     "seq",         "recorded_at", "hash",
    "subject_name", "actor_name", "door_name",   "group_name", "device_name",
    "site_name"};

static uint64_t fnv1a(const void *data, size_t n, uint64_t h) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

/* An id from the content: a time-ordered prefix (milliseconds of
 * occurred_at, as in v7) and a hash of the fields, in the v8 layout. */
static void derive_id(const eaudit_event *ev, uint8_t id[16]) {
  char canon[256];
  int64_t v[12] = {0};
  for (int f = EAUDIT_FIELD_OCCURRED_AT; f <= EAUDIT_FIELD_REASON; f++)
    if (f != EAUDIT_FIELD_RECORDED_AT &&
        eaudit_event_get(ev, f, &v[f - 1]) != 0)
      v[f - 1] = INT64_MIN;
  int n = 0;
  for (int i = 0; i < 12; i++)
    n += snprintf(canon + n, sizeof canon - (size_t)n, "%" PRId64 "|", v[i]);
  size_t dlen = 0;
  const char *d = eaudit_event_details(ev, &dlen);
  uint64_t h1 = fnv1a(canon, (size_t)n, 0xcbf29ce484222325ULL);
  uint64_t h2 = fnv1a(canon, (size_t)n, 0x84222325cbf29ce4ULL);
  if (d) {
    h1 = fnv1a(d, dlen, h1);
    h2 = fnv1a(d, dlen, h2);
  }
  int64_t at = v[EAUDIT_FIELD_OCCURRED_AT - 1];
  uint64_t ms = (uint64_t)(at / 1000);
  for (int i = 0; i < 6; i++)
    id[i] = (uint8_t)(ms >> (40 - 8 * i));
  for (int i = 0; i < 8; i++) {
    id[6 + i] = (uint8_t)(h1 >> (56 - 8 * i));
    if (i < 2)
      id[14 + i] = (uint8_t)(h2 >> (56 - 8 * i));
  }
  id[6] = (uint8_t)(0x80 | (id[6] & 0x0f)); /* version 8 */
  id[8] = (uint8_t)(0x80 | (id[8] & 0x3f)); /* RFC 9562 variant */
}

/* The raw bytes of a top-level member of a JSON object that json-c has
 * already accepted, so that details are stored as received. */
static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
    p++;
  return p;
}

static const char *skip_string(const char *p) {
  for (p++; *p && *p != '"'; p++)
    if (*p == '\\' && p[1])
      p++;
  return *p ? p + 1 : p;
}

static const char *skip_value(const char *p) {
  if (*p == '"')
    return skip_string(p);
  if (*p == '{' || *p == '[') {
    int depth = 0;
    do {
      if (*p == '"') {
        p = skip_string(p);
        continue;
      }
      if (*p == '{' || *p == '[')
        depth++;
      else if (*p == '}' || *p == ']')
        depth--;
      p++;
    } while (*p && depth > 0);
    return p;
  }
  while (*p && *p != ',' && *p != '}' && *p != ']' && *p != ' ' &&
         *p != '\t' && *p != '\r' && *p != '\n')
    p++;
  return p;
}

static int raw_member(const char *line, const char *key, const char **start,
                      size_t *len) {
  size_t klen = strlen(key);
  int found = 0;
  const char *p = skip_ws(line);
  if (*p++ != '{')
    return 0;
  for (;;) {
    p = skip_ws(p);
    if (*p != '"')
      break;
    const char *k = p + 1;
    p = skip_string(p);
    int match = (size_t)(p - 1 - k) == klen && strncmp(k, key, klen) == 0;
    p = skip_ws(p);
    if (*p++ != ':')
      break;
    p = skip_ws(p);
    const char *v = p;
    p = skip_value(p);
    if (match) { /* the last one wins, as in json-c */
      *start = v;
      *len = (size_t)(p - v);
      found = 1;
    }
    p = skip_ws(p);
    if (*p != ',')
      break;
    p++;
  }
  return found;
}

static int int_field(json_object *o, const char *key, eaudit_event *ev,
                     int field, char *err, size_t esz) {
  json_object *v;
  if (!json_object_object_get_ex(o, key, &v) || v == NULL)
    return 0;
  if (!json_object_is_type(v, json_type_int)) {
    snprintf(err, esz, "'%s' must be an integer or null", key);
    return -1;
  }
  errno = 0;
  int64_t n = json_object_get_int64(v);
  if (errno) {
    snprintf(err, esz, "'%s' is out of range", key);
    return -1;
  }
  eaudit_event_set(ev, field, n);
  return 0;
}

static int code_field(eaudit_store *s, json_object *o, const char *key,
                      eaudit_event *ev, int field, char *err, size_t esz) {
  json_object *v;
  if (!json_object_object_get_ex(o, key, &v) || v == NULL)
    return 0;
  int code;
  if (json_object_is_type(v, json_type_int)) {
    code = (int)json_object_get_int64(v);
  } else if (json_object_is_type(v, json_type_string)) {
    const char *name = json_object_get_string(v);
    int rc = field == EAUDIT_FIELD_TYPE
                 ? eaudit_store_type_from_name(s, name, &code)
             : field == EAUDIT_FIELD_REASON
                 ? eaudit_reason_from_name(name, &code)
                 : eaudit_credential_from_name(name, &code);
    if (rc) {
      snprintf(err, esz, "unknown %s '%s'", key, name);
      return -1;
    }
  } else {
    snprintf(err, esz, "'%s' must be a name, a code or null", key);
    return -1;
  }
  eaudit_event_set(ev, field, code);
  return 0;
}

/* Build an event from one line; returns 0, or -1 with err filled in. */
static int parse_line(eaudit_store *s, const char *line, eaudit_event *ev,
                      size_t *unknown, char *err, size_t esz) {
  json_tokener *tok = json_tokener_new();
  json_object *o = json_tokener_parse_ex(tok, line, (int)strlen(line));
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  int bad = o == NULL || jerr != json_tokener_success ||
            (int)json_tokener_get_parse_end(tok) < (int)strlen(line);
  if (bad) {
    /* Trailing blanks after the object are fine. */
    if (o && jerr == json_tokener_success &&
        strspn(line + (int)json_tokener_get_parse_end(tok), " \t\r") ==
            strlen(line + (int)json_tokener_get_parse_end(tok)))
      bad = 0;
    else
      snprintf(err, esz, "not JSON: %s",
               jerr != json_tokener_success ? json_tokener_error_desc(jerr)
                                            : "text after the object");
  }
  json_tokener_free(tok);
  int rc = -1;
  if (bad)
    goto out;
  if (!json_object_is_type(o, json_type_object)) {
    snprintf(err, esz, "not a JSON object");
    goto out;
  }
  json_object_object_foreach(o, key, val) {
    (void)val;
    size_t k = 0;
    while (k < sizeof known / sizeof known[0] && strcmp(known[k], key))
      k++;
    if (k == sizeof known / sizeof known[0])
      (*unknown)++;
  }
  json_object *v;
  if (!json_object_object_get_ex(o, "type", &v) || v == NULL) {
    snprintf(err, esz, "'type' is missing");
    goto out;
  }
  if (!json_object_object_get_ex(o, "occurred_at", &v) ||
      !json_object_is_type(v, json_type_string)) {
    snprintf(err, esz, "'occurred_at' is missing or not a string");
    goto out;
  }
  eaudit_time at;
  if (cli_parse_instant(s, json_object_get_string(v), &at)) {
    snprintf(err, esz, "'occurred_at' is not RFC 3339 with an offset: '%s'",
             json_object_get_string(v));
    goto out;
  }
  eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, at);
  if (code_field(s, o, "type", ev, EAUDIT_FIELD_TYPE, err, esz) ||
      code_field(s, o, "credential", ev, EAUDIT_FIELD_CREDENTIAL, err, esz) ||
      code_field(s, o, "reason", ev, EAUDIT_FIELD_REASON, err, esz) ||
      int_field(o, "subject", ev, EAUDIT_FIELD_SUBJECT, err, esz) ||
      int_field(o, "actor", ev, EAUDIT_FIELD_ACTOR, err, esz) ||
      int_field(o, "door", ev, EAUDIT_FIELD_DOOR, err, esz) ||
      int_field(o, "group", ev, EAUDIT_FIELD_GROUP, err, esz) ||
      int_field(o, "device", ev, EAUDIT_FIELD_DEVICE, err, esz) ||
      int_field(o, "site", ev, EAUDIT_FIELD_SITE, err, esz))
    goto out;
  if (json_object_object_get_ex(o, "details", &v) && v != NULL) {
    if (!json_object_is_type(v, json_type_object)) {
      snprintf(err, esz, "'details' must be an object or null");
      goto out;
    }
    const char *d;
    size_t dlen;
    if (!raw_member(line, "details", &d, &dlen)) {
      /* An escaped key: fall back to json-c's compact text. */
      d = json_object_to_json_string_ext(
          v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
      dlen = strlen(d);
    }
    eaudit_event_set_details(ev, d, dlen);
  }
  uint8_t id[16];
  if (json_object_object_get_ex(o, "id", &v) && v != NULL) {
    if (!json_object_is_type(v, json_type_string) ||
        eaudit_uuid_parse(json_object_get_string(v), id)) {
      snprintf(err, esz, "'id' is not a UUID");
      goto out;
    }
  } else {
    derive_id(ev, id);
  }
  eaudit_event_set_id(ev, id);
  rc = 0;
out:
  json_object_put(o);
  return rc;
}

typedef struct pending {
  eaudit_event *ev;
  size_t line;
} pending;

typedef struct counts {
  size_t appended, skipped, rejected;
} counts;

/* Append the pending events; a failing one is set aside (skipped when its
 * id is stored, rejected otherwise) and the rest retried. */
static int flush(cli *c, eaudit_store *s, pending *p, size_t *n, counts *k) {
  eaudit_batch *b;
  int rc = eaudit_batch_new(&b);
  if (rc)
    return cli_lib_fail(c, rc, "import");
  while (*n > 0) {
    eaudit_batch_clear(b);
    for (size_t i = 0; i < *n; i++)
      if ((rc = eaudit_batch_add(b, p[i].ev))) {
        eaudit_batch_free(b);
        return cli_lib_fail(c, rc, "import");
      }
    size_t failed = 0;
    rc = eaudit_store_append_batch(s, b, &failed);
    if (rc == 0) {
      k->appended += *n;
      break;
    }
    if (rc == EAUDIT_EBUSY || rc == EAUDIT_EIO || rc == EAUDIT_EFULL ||
        rc == EAUDIT_ECORRUPT || rc == EAUDIT_EREADONLY ||
        rc == EAUDIT_ENOMEM || failed >= *n) {
      eaudit_batch_free(b);
      return cli_lib_fail(c, rc, "appending to '%s' failed", c->db);
    }
    if (rc == EAUDIT_EEXISTS) {
      k->skipped++;
    } else {
      k->rejected++;
      fprintf(stderr, "line %zu: rejected: %s\n", p[failed].line,
              eaudit_error_last()->message);
    }
    eaudit_event_free(p[failed].ev);
    memmove(p + failed, p + failed + 1, (*n - failed - 1) * sizeof *p);
    (*n)--;
  }
  for (size_t i = 0; i < *n; i++)
    eaudit_event_free(p[i].ev);
  *n = 0;
  eaudit_batch_free(b);
  return -1;
}

int cmd_import(int argc, char **argv) {
  cli c;
  import_args a = {NULL, 256};
  int ret = cli_parse(&c, argc, argv, usage, 0, opts, on_opt, &a);
  eaudit_store *s = NULL;
  FILE *in = NULL;
  pending *p = NULL;
  size_t np = 0;
  char *line = NULL;
  size_t cap = 0;
  if (ret >= 0)
    goto done;
  if (c.n_args > 1) {
    ret = cli_usage(&c, "give one input file (or - for standard input)");
    goto done;
  }
  const char *path = c.n_args ? c.args[0] : "-";
  int64_t total = 0;
  if (strcmp(path, "-") == 0) {
    in = stdin;
  } else if ((in = fopen(path, "r")) == NULL) {
    ret = cli_fail(&c, CLI_FAIL, "cannot read '%s': %s", path,
                   strerror(errno));
    goto done;
  } else {
    struct stat st;
    if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode))
      total = st.st_size;
  }
  if ((ret = cli_open(&c, 1, 0, a.tz, &s)) != CLI_OK)
    goto done;
  ret = -1;
  if ((p = calloc((size_t)a.batch, sizeof *p)) == NULL) {
    ret = cli_fail(&c, CLI_FAIL, "out of memory");
    goto done;
  }
  progress pr;
  progress_start(&pr, "import", total);
  counts k = {0, 0, 0};
  size_t unknown = 0, lineno = 0;
  int64_t bytes = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, in)) >= 0) {
    lineno++;
    bytes += len;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = 0;
    if (strspn(line, " \t") == (size_t)len)
      continue; /* blank lines are not events */
    eaudit_event *ev;
    if (eaudit_event_new(&ev)) {
      ret = cli_fail(&c, CLI_FAIL, "out of memory");
      break;
    }
    char err[256];
    if (parse_line(s, line, ev, &unknown, err, sizeof err)) {
      fprintf(stderr, "line %zu: rejected: %s\n", lineno, err);
      k.rejected++;
      eaudit_event_free(ev);
      continue;
    }
    p[np].ev = ev;
    p[np++].line = lineno;
    if (np == (size_t)a.batch && (ret = flush(&c, s, p, &np, &k)) >= 0)
      break;
    progress_update(&pr, total ? bytes : (int64_t)lineno);
  }
  if (ret < 0 && ferror(in))
    ret = cli_fail(&c, CLI_FAIL, "reading '%s' failed: %s", path,
                   strerror(errno));
  if (ret < 0)
    ret = flush(&c, s, p, &np, &k);
  progress_end(&pr);
  for (size_t i = 0; i < np; i++)
    eaudit_event_free(p[i].ev);
  printf("appended %zu, skipped %zu, rejected %zu, unknown fields %zu\n",
         k.appended, k.skipped, k.rejected, unknown);
  if (ret < 0)
    ret = k.rejected ? CLI_NOTHING : CLI_OK;
done:
  free(line);
  free(p);
  if (in && in != stdin)
    fclose(in);
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
