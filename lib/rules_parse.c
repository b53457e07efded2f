/* The rule language (docs/rules.md): parsing and validating a rule set
 * document with json-c, merging overrides over the built-ins, and writing
 * the effective set back out. Every rejection names the field path. */
#include "rules_internal.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULESET_MAX_BYTES 1048576
#define MAX_TYPES 64
#define MAX_WINDOW_S (366LL * 86400)
#define MAX_THRESHOLD EAUDIT__RULE_MAX_ITEMS

const char eaudit__builtin_rules_json[] =
    "{\"version\": 1, \"builtins\": false, \"rules\": ["
    "{\"id\": \"unrecognized_device_abuse\", \"kind\": \"threshold\","
    " \"severity\": \"warning\", \"types\": [\"login_unrecognized_device\"],"
    " \"any\": [{\"key\": \"subject\", \"window\": \"24h\", \"threshold\": 2},"
    " {\"key\": \"subject\", \"window\": \"7d\", \"threshold\": 3,"
    " \"distinct\": \"day\"}]},"
    "{\"id\": \"door_failure_burst\", \"kind\": \"threshold\","
    " \"severity\": \"warning\", \"types\": [\"door_open_failed\"],"
    " \"any\": [{\"key\": \"subject\", \"window\": \"10m\", \"threshold\": 5},"
    " {\"key\": \"door\", \"window\": \"10m\", \"threshold\": 3,"
    " \"distinct\": \"subject\"}]},"
    "{\"id\": \"keycard_add_failures\", \"kind\": \"threshold\","
    " \"severity\": \"info\", \"types\": [\"keycard_add_failed\"],"
    " \"key\": \"subject\", \"window\": \"1h\", \"threshold\": 3},"
    "{\"id\": \"admin_new_device_off_hours\", \"kind\": \"off_hours\","
    " \"severity\": \"warning\", \"types\": [\"admin_area_login\"],"
    " \"key\": \"subject\", \"window\": \"24h\", \"min_history\": 20,"
    " \"rare_percent\": 5},"
    "{\"id\": \"expired_while_inside\", \"kind\": \"presence\","
    " \"severity\": \"critical\", \"key\": \"subject\", \"window\": \"1h\","
    " \"areas\": []},"
    "{\"id\": \"temporary_privilege\", \"kind\": \"sequence\","
    " \"severity\": \"warning\", \"key\": \"subject\", \"window\": \"1h\","
    " \"steps\": [{\"type\": \"group_added\", \"same\": \"group\"},"
    " {\"type\": \"door_opened\"},"
    " {\"type\": \"group_removed\", \"same\": \"group\"}]},"
    "{\"id\": \"credential_churn\", \"kind\": \"threshold\","
    " \"severity\": \"warning\", \"types\": [\"user_updated\"],"
    " \"key\": \"subject\", \"window\": \"24h\", \"threshold\": 5}"
    "]}";

static const char *const severity_names[] = {"info", "warning", "critical"};
static const char *const state_names[] = {"open", "acknowledged", "resolved"};

const char *eaudit_severity_name(int severity) {
  return severity >= 0 && severity <= 2 ? severity_names[severity] : NULL;
}

const char *eaudit_finding_state_name(int state) {
  return state >= 0 && state <= 2 ? state_names[state] : NULL;
}

static const char *const kind_names[] = {NULL, "threshold", "sequence",
                                         "presence", "off_hours"};

/* Field paths are short in practice; a long one is cut, never overrun. */
static void pathf(char *buf, size_t size, const char *fmt, ...)
    EAUDIT__PRINTF(3, 4);
static void pathf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, size, fmt, ap);
  va_end(ap);
}

static int perr(const char *path, const char *fmt, ...)
    EAUDIT__PRINTF(2, 3);
static int perr(const char *path, const char *fmt, ...) {
  char msg[384];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return eaudit__error(EAUDIT_ERULES, EAUDIT_ECLASS_INVALID, 0, "%s: %s", path,
                       msg);
}

/* Key and "distinct" fields by name. */
static int field_code(const char *name, int allow_group, int allow_day) {
  static const struct {
    const char *name;
    int field;
  } f[] = {{"subject", EAUDIT_FIELD_SUBJECT}, {"actor", EAUDIT_FIELD_ACTOR},
           {"door", EAUDIT_FIELD_DOOR},       {"device", EAUDIT_FIELD_DEVICE},
           {"site", EAUDIT_FIELD_SITE},       {"group", EAUDIT_FIELD_GROUP}};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
    if (strcmp(name, f[i].name) == 0)
      return f[i].field == EAUDIT_FIELD_GROUP && !allow_group ? 0
                                                             : f[i].field;
  if (allow_day && strcmp(name, "day") == 0)
    return EAUDIT__DISTINCT_DAY;
  return 0;
}

static const char *field_label(int field) {
  return field == EAUDIT__DISTINCT_DAY ? "day" : eaudit_field_name(field);
}

/* --- small typed readers --- */

static int get_string(json_object *o, const char *path, const char **out) {
  if (!json_object_is_type(o, json_type_string))
    return perr(path, "must be a string");
  *out = json_object_get_string(o);
  return EAUDIT_OK;
}

static int get_int(json_object *o, const char *path, int64_t min, int64_t max,
                   int64_t *out) {
  if (!json_object_is_type(o, json_type_int))
    return perr(path, "must be an integer");
  int64_t v = json_object_get_int64(o);
  if (v < min || v > max)
    return perr(path, "%lld is out of range [%lld, %lld]", (long long)v,
                (long long)min, (long long)max);
  *out = v;
  return EAUDIT_OK;
}

static int get_bool(json_object *o, const char *path, int *out) {
  if (!json_object_is_type(o, json_type_boolean))
    return perr(path, "must be true or false");
  *out = json_object_get_boolean(o);
  return EAUDIT_OK;
}

/* "90s", "10m", "24h", "7d" or an integer number of seconds. */
static int get_window(json_object *o, const char *path, int64_t *out) {
  int64_t secs;
  if (json_object_is_type(o, json_type_int)) {
    secs = json_object_get_int64(o);
  } else if (json_object_is_type(o, json_type_string)) {
    const char *t = json_object_get_string(o);
    char *end = NULL;
    if (t[0] < '0' || t[0] > '9')
      return perr(path, "'%s' is not a duration (use 90s, 10m, 24h, 7d or "
                        "seconds)", t);
    long long n = strtoll(t, &end, 10);
    int64_t unit = 0;
    if (end && end[0] && !end[1])
      unit = end[0] == 's'   ? 1
             : end[0] == 'm' ? 60
             : end[0] == 'h' ? 3600
             : end[0] == 'd' ? 86400
                             : 0;
    if (unit == 0 || n > MAX_WINDOW_S)
      return perr(path, "'%s' is not a duration (use 90s, 10m, 24h, 7d or "
                        "seconds)", t);
    secs = n * unit;
  } else {
    return perr(path, "must be a duration string or a number of seconds");
  }
  if (secs < 1 || secs > MAX_WINDOW_S)
    return perr(path, "must be from 1 second to 366 days");
  *out = secs * 1000000;
  return EAUDIT_OK;
}

static int get_type(eaudit_store *s, json_object *o, const char *path,
                    int *out) {
  if (json_object_is_type(o, json_type_int)) {
    int64_t c = json_object_get_int64(o);
    if (c < 1 || c > EAUDIT_TYPE_VENDOR_MAX ||
        eaudit_store_type_name(s, (int)c) == NULL)
      return perr(path, "unknown event type %lld", (long long)c);
    *out = (int)c;
    return EAUDIT_OK;
  }
  if (!json_object_is_type(o, json_type_string))
    return perr(path, "must be a type name or code");
  const char *n = json_object_get_string(o);
  if (eaudit_store_type_from_name(s, n, out) != 0)
    return perr(path, "unknown event type '%s'", n);
  return EAUDIT_OK;
}

static int get_reason(json_object *o, const char *path, int *out) {
  if (json_object_is_type(o, json_type_int)) {
    int64_t c = json_object_get_int64(o);
    if (c < 0 || c > 65535 || eaudit_reason_name((int)c) == NULL)
      return perr(path, "unknown reason %lld", (long long)c);
    *out = (int)c;
    return EAUDIT_OK;
  }
  if (!json_object_is_type(o, json_type_string))
    return perr(path, "must be a reason name or code");
  const char *n = json_object_get_string(o);
  if (eaudit_reason_from_name(n, out) != 0)
    return perr(path, "unknown reason '%s'", n);
  return EAUDIT_OK;
}

static int valid_id(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n > EAUDIT__RULE_ID_MAX || id[0] < 'a' || id[0] > 'z')
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-'))
      return 0;
  }
  return 1;
}

/* --- one rule --- */

static int in_list(const char *name, const char *const *list) {
  for (; *list; list++)
    if (strcmp(name, *list) == 0)
      return 1;
  return 0;
}

static int parse_cond(json_object *o, const char *path, eaudit__cond *c,
                      int require_all) {
  static const char *const fields[] = {"key", "window", "threshold",
                                       "distinct", NULL};
  char p[192];
  int rc;
  if (!json_object_is_type(o, json_type_object))
    return perr(path, "must be an object");
  /* Conditions inside 'any' check their fields; a rule's own top-level
   * fields were checked by parse_rule. */
  json_object_object_foreach(o, ck, cv) {
    (void)cv;
    if (require_all && !in_list(ck, fields)) {
      pathf(p, sizeof p, "%s.%s", path, ck);
      return perr(p, "unknown field");
    }
  }
  json_object *v;
  c->key = EAUDIT_FIELD_SUBJECT;
  if (json_object_object_get_ex(o, "key", &v)) {
    const char *n = NULL;
    pathf(p, sizeof p, "%s.key", path);
    if ((rc = get_string(v, p, &n)))
      return rc;
    if (!(c->key = field_code(n, 0, 0)))
      return perr(p, "'%s' is not one of subject, actor, door, device, site",
                  n);
  }
  pathf(p, sizeof p, "%s.window", path);
  if (json_object_object_get_ex(o, "window", &v)) {
    if ((rc = get_window(v, p, &c->window)))
      return rc;
  } else if (require_all) {
    return perr(p, "missing");
  }
  pathf(p, sizeof p, "%s.threshold", path);
  if (json_object_object_get_ex(o, "threshold", &v)) {
    if ((rc = get_int(v, p, 1, MAX_THRESHOLD, &c->threshold)))
      return rc;
  } else if (require_all) {
    return perr(p, "missing");
  }
  c->distinct = 0;
  if (json_object_object_get_ex(o, "distinct", &v)) {
    const char *n = NULL;
    pathf(p, sizeof p, "%s.distinct", path);
    if ((rc = get_string(v, p, &n)))
      return rc;
    if (!(c->distinct = field_code(n, 1, 1)))
      return perr(p, "'%s' is not one of subject, actor, door, group, device, "
                     "site, day", n);
    if (c->distinct == c->key)
      return perr(p, "must differ from the key");
  }
  return EAUDIT_OK;
}

static int door_cmp(const void *a, const void *b) {
  int64_t x = ((const eaudit__door_role *)a)->door;
  int64_t y = ((const eaudit__door_role *)b)->door;
  return x < y ? -1 : x > y;
}

static int add_door(eaudit__rule *r, int64_t door, int64_t area, int enters,
                    const char *path) {
  for (size_t i = 0; i < r->n_doors; i++)
    if (r->doors[i].door == door) {
      int64_t *slot = enters ? &r->doors[i].enters : &r->doors[i].exits;
      if (*slot)
        return perr(path, "door %lld already %s area %lld", (long long)door,
                    enters ? "enters" : "exits", (long long)*slot);
      *slot = area;
      return EAUDIT_OK;
    }
  if (r->n_doors == EAUDIT__RULE_MAX_DOORS)
    return perr(path, "more than %d doors", EAUDIT__RULE_MAX_DOORS);
  eaudit__door_role *d =
      eaudit__realloc(r->doors, (r->n_doors + 1) * sizeof *d);
  if (d == NULL)
    return eaudit__enomem();
  r->doors = d;
  d[r->n_doors].door = door;
  d[r->n_doors].enters = enters ? area : 0;
  d[r->n_doors].exits = enters ? 0 : area;
  r->n_doors++;
  return EAUDIT_OK;
}

static int parse_areas(json_object *o, const char *path, eaudit__rule *r) {
  static const char *const fields[] = {"id", "entry_doors", "exit_doors",
                                       "checkin_to_exit", NULL};
  char p[192], q[224];
  int rc;
  if (!json_object_is_type(o, json_type_array))
    return perr(path, "must be an array");
  size_t n = json_object_array_length(o);
  if (n > EAUDIT__RULE_MAX_AREAS)
    return perr(path, "more than %d areas", EAUDIT__RULE_MAX_AREAS);
  if (n && !(r->areas = eaudit__calloc(n, sizeof *r->areas)))
    return eaudit__enomem();
  for (size_t i = 0; i < n; i++) {
    json_object *a = json_object_array_get_idx(o, i), *v;
    pathf(p, sizeof p, "%s[%zu]", path, i);
    if (!json_object_is_type(a, json_type_object))
      return perr(p, "must be an object");
    json_object_object_foreach(a, k, unused) {
      (void)unused;
      if (!in_list(k, fields)) {
        pathf(q, sizeof q, "%s.%s", p, k);
        return perr(q, "unknown field");
      }
    }
    eaudit__area *ar = &r->areas[r->n_areas];
    pathf(q, sizeof q, "%s.id", p);
    if (!json_object_object_get_ex(a, "id", &v))
      return perr(q, "missing");
    if ((rc = get_int(v, q, 1, INT64_MAX, &ar->id)))
      return rc;
    for (size_t j = 0; j < r->n_areas; j++)
      if (r->areas[j].id == ar->id)
        return perr(q, "area %lld is defined twice", (long long)ar->id);
    ar->checkin_to_exit = 1;
    pathf(q, sizeof q, "%s.checkin_to_exit", p);
    if (json_object_object_get_ex(a, "checkin_to_exit", &v) &&
        (rc = get_bool(v, q, &ar->checkin_to_exit)))
      return rc;
    for (int e = 0; e < 2; e++) {
      const char *fname = e == 0 ? "entry_doors" : "exit_doors";
      pathf(q, sizeof q, "%s.%s", p, fname);
      if (!json_object_object_get_ex(a, fname, &v)) {
        if (e == 0)
          return perr(q, "missing");
        continue;
      }
      if (!json_object_is_type(v, json_type_array))
        return perr(q, "must be an array of door ids");
      size_t nd = json_object_array_length(v);
      if (e == 0 && nd == 0)
        return perr(q, "must name at least one door");
      for (size_t d = 0; d < nd; d++) {
        char dp[256];
        int64_t door = 0;
        pathf(dp, sizeof dp, "%s[%zu]", q, d);
        if ((rc = get_int(json_object_array_get_idx(v, d), dp, INT64_MIN,
                          INT64_MAX, &door)) ||
            (rc = add_door(r, door, ar->id, e == 0, dp)))
          return rc;
      }
    }
    r->n_areas++;
  }
  if (r->n_doors)
    qsort(r->doors, r->n_doors, sizeof *r->doors, door_cmp);
  return EAUDIT_OK;
}

static int parse_steps(eaudit_store *s, json_object *o, const char *path,
                       eaudit__rule *r) {
  char p[192], q[224];
  int rc;
  if (!json_object_is_type(o, json_type_array))
    return perr(path, "must be an array");
  size_t n = json_object_array_length(o);
  if (n < 2 || n > EAUDIT__RULE_MAX_STEPS)
    return perr(path, "must have 2 to %d steps", EAUDIT__RULE_MAX_STEPS);
  for (size_t i = 0; i < n; i++) {
    json_object *st = json_object_array_get_idx(o, i), *v;
    pathf(p, sizeof p, "%s[%zu]", path, i);
    if (!json_object_is_type(st, json_type_object))
      return perr(p, "must be an object");
    json_object_object_foreach(st, k, unused) {
      (void)unused;
      if (strcmp(k, "type") != 0 && strcmp(k, "same") != 0) {
        pathf(q, sizeof q, "%s.%s", p, k);
        return perr(q, "unknown field");
      }
    }
    pathf(q, sizeof q, "%s.type", p);
    if (!json_object_object_get_ex(st, "type", &v))
      return perr(q, "missing");
    if ((rc = get_type(s, v, q, &r->steps[i].type)))
      return rc;
    r->steps[i].same = 0;
    if (json_object_object_get_ex(st, "same", &v)) {
      const char *fn = NULL;
      pathf(q, sizeof q, "%s.same", p);
      if ((rc = get_string(v, q, &fn)))
        return rc;
      if (!(r->steps[i].same = field_code(fn, 1, 0)))
        return perr(q, "'%s' is not one of subject, actor, door, group, "
                       "device, site", fn);
      if (r->steps[i].same == r->key)
        return perr(q, "the key is always the same; name another field");
    }
    r->n_steps++;
  }
  /* Every "same" names one field, so partial matches carry one value. */
  for (size_t i = 1; i < n; i++)
    for (size_t j = 0; j < i; j++)
      if (r->steps[i].same && r->steps[j].same &&
          r->steps[i].same != r->steps[j].same) {
        pathf(p, sizeof p, "%s[%zu].same", path, i);
        return perr(p, "all steps must name the same field");
      }
  /* Watched types: the steps' types, once each. */
  r->types = eaudit__calloc(n, sizeof *r->types);
  if (r->types == NULL)
    return eaudit__enomem();
  for (size_t i = 0; i < n; i++) {
    int dup = 0;
    for (size_t j = 0; j < r->n_types; j++)
      dup |= r->types[j] == r->steps[i].type;
    if (!dup)
      r->types[r->n_types++] = r->steps[i].type;
  }
  return EAUDIT_OK;
}

static int parse_int_list(eaudit_store *s, json_object *o, const char *path,
                          int is_type, int **out, size_t *n_out) {
  char p[192];
  int rc;
  if (!json_object_is_type(o, json_type_array))
    return perr(path, "must be an array");
  size_t n = json_object_array_length(o);
  if (n == 0 || n > MAX_TYPES)
    return perr(path, "must list 1 to %d entries", MAX_TYPES);
  int *v = eaudit__calloc(n, sizeof *v);
  if (v == NULL)
    return eaudit__enomem();
  *out = v;
  *n_out = 0;
  for (size_t i = 0; i < n; i++) {
    pathf(p, sizeof p, "%s[%zu]", path, i);
    json_object *e = json_object_array_get_idx(o, i);
    int c;
    rc = is_type ? get_type(s, e, p, &c) : get_reason(e, p, &c);
    if (rc)
      return rc;
    for (size_t j = 0; j < i; j++)
      if (v[j] == c)
        return perr(p, "listed twice");
    v[i] = c;
    (*n_out)++;
  }
  return EAUDIT_OK;
}

static void rule_release(eaudit__rule *r) {
  eaudit__free(r->types);
  eaudit__free(r->reasons);
  eaudit__free(r->areas);
  eaudit__free(r->doors);
  eaudit__free(r->canonical);
  memset(r, 0, sizeof *r);
}

/* Fields each kind accepts besides id, kind, severity, enabled. */
static const char *const threshold_fields[] = {
    "types", "reasons", "key", "window", "threshold", "distinct", "any", NULL};
static const char *const sequence_fields[] = {"key", "window", "steps", NULL};
static const char *const presence_fields[] = {"key", "window", "areas", NULL};
static const char *const off_hours_fields[] = {
    "types", "reasons", "key", "window", "min_history", "rare_percent", NULL};

static int parse_rule(eaudit_store *s, json_object *o, const char *path,
                      int builtin, eaudit__rule *r) {
  static const char *const common[] = {"id", "kind", "severity", "enabled",
                                       NULL};
  char p[192];
  int rc;
  json_object *v;
  memset(r, 0, sizeof *r);
  r->builtin = builtin;
  if (!json_object_is_type(o, json_type_object))
    return perr(path, "must be an object");
  pathf(p, sizeof p, "%s.id", path);
  const char *id = NULL;
  if (!json_object_object_get_ex(o, "id", &v))
    return perr(p, "missing");
  if ((rc = get_string(v, p, &id)))
    return rc;
  if (!valid_id(id))
    return perr(p, "'%s' is not a rule id (a lower-case letter, then a-z, "
                   "0-9, '_', '.' or '-', at most %d bytes)",
                id, EAUDIT__RULE_ID_MAX);
  strcpy(r->id, id);
  r->kind = EAUDIT__KIND_THRESHOLD;
  if (json_object_object_get_ex(o, "kind", &v)) {
    const char *k = NULL;
    pathf(p, sizeof p, "%s.kind", path);
    if ((rc = get_string(v, p, &k)))
      return rc;
    r->kind = 0;
    for (int i = 1; i <= 4; i++)
      if (strcmp(k, kind_names[i]) == 0)
        r->kind = i;
    if (!r->kind)
      return perr(p, "'%s' is not one of threshold, sequence, presence, "
                     "off_hours", k);
  }
  const char *const *allowed =
      r->kind == EAUDIT__KIND_THRESHOLD  ? threshold_fields
      : r->kind == EAUDIT__KIND_SEQUENCE ? sequence_fields
      : r->kind == EAUDIT__KIND_PRESENCE ? presence_fields
                                         : off_hours_fields;
  json_object_object_foreach(o, k, unused) {
    (void)unused;
    if (!in_list(k, common) && !in_list(k, allowed)) {
      pathf(p, sizeof p, "%s.%s", path, k);
      int known = in_list(k, threshold_fields) || in_list(k, sequence_fields) ||
                  in_list(k, presence_fields) || in_list(k, off_hours_fields);
      return known ? perr(p, "not a field of a %s rule", kind_names[r->kind])
                   : perr(p, "unknown field");
    }
  }
  r->severity = EAUDIT_SEVERITY_WARNING;
  if (json_object_object_get_ex(o, "severity", &v)) {
    const char *sv = NULL;
    pathf(p, sizeof p, "%s.severity", path);
    if ((rc = get_string(v, p, &sv)))
      return rc;
    r->severity = -1;
    for (int i = 0; i < 3; i++)
      if (strcmp(sv, severity_names[i]) == 0)
        r->severity = i;
    if (r->severity < 0)
      return perr(p, "'%s' is not one of info, warning, critical", sv);
  }
  r->enabled = 1;
  pathf(p, sizeof p, "%s.enabled", path);
  if (json_object_object_get_ex(o, "enabled", &v) &&
      (rc = get_bool(v, p, &r->enabled)))
    return rc;
  if (json_object_object_get_ex(o, "types", &v)) {
    pathf(p, sizeof p, "%s.types", path);
    if ((rc = parse_int_list(s, v, p, 1, &r->types, &r->n_types)))
      return rc;
  } else if (r->kind == EAUDIT__KIND_THRESHOLD ||
             r->kind == EAUDIT__KIND_OFF_HOURS) {
    pathf(p, sizeof p, "%s.types", path);
    return perr(p, "missing");
  }
  if (json_object_object_get_ex(o, "reasons", &v)) {
    pathf(p, sizeof p, "%s.reasons", path);
    if ((rc = parse_int_list(s, v, p, 0, &r->reasons, &r->n_reasons)))
      return rc;
  }
  if (r->kind == EAUDIT__KIND_THRESHOLD) {
    json_object *any;
    if (json_object_object_get_ex(o, "any", &any)) {
      pathf(p, sizeof p, "%s.any", path);
      static const char *const single[] = {"key", "window", "threshold",
                                           "distinct"};
      for (int i = 0; i < 4; i++)
        if (json_object_object_get_ex(o, single[i], &v))
          return perr(p, "give either 'any' or '%s' and the other condition "
                         "fields, not both (an override of a built-in that "
                         "uses 'any' replaces 'any' as a whole)",
                      single[i]);
      if (!json_object_is_type(any, json_type_array))
        return perr(p, "must be an array of conditions");
      size_t n = json_object_array_length(any);
      if (n < 1 || n > EAUDIT__RULE_MAX_CONDS)
        return perr(p, "must have 1 to %d conditions", EAUDIT__RULE_MAX_CONDS);
      for (size_t i = 0; i < n; i++) {
        pathf(p, sizeof p, "%s.any[%zu]", path, i);
        if ((rc = parse_cond(json_object_array_get_idx(any, i), p,
                             &r->conds[i], 1)))
          return rc;
        r->n_conds++;
      }
    } else {
      if ((rc = parse_cond(o, path, &r->conds[0], 0)))
        return rc;
      if (!json_object_object_get_ex(o, "window", &v)) {
        pathf(p, sizeof p, "%s.window", path);
        return perr(p, "missing");
      }
      if (!json_object_object_get_ex(o, "threshold", &v)) {
        pathf(p, sizeof p, "%s.threshold", path);
        return perr(p, "missing");
      }
      r->n_conds = 1;
    }
    r->key = r->conds[0].key;
    r->window = r->conds[0].window;
    return EAUDIT_OK;
  }
  /* Kinds with one key and a window that ends episodes. */
  r->key = EAUDIT_FIELD_SUBJECT;
  if (json_object_object_get_ex(o, "key", &v)) {
    const char *n = NULL;
    pathf(p, sizeof p, "%s.key", path);
    if ((rc = get_string(v, p, &n)))
      return rc;
    if (!(r->key = field_code(n, 0, 0)))
      return perr(p, "'%s' is not one of subject, actor, door, device, site",
                  n);
    if (r->kind != EAUDIT__KIND_SEQUENCE && r->key != EAUDIT_FIELD_SUBJECT)
      return perr(p, "a %s rule is keyed by subject", kind_names[r->kind]);
  }
  pathf(p, sizeof p, "%s.window", path);
  if (!json_object_object_get_ex(o, "window", &v))
    return perr(p, "missing");
  if ((rc = get_window(v, p, &r->window)))
    return rc;
  if (r->kind == EAUDIT__KIND_SEQUENCE) {
    pathf(p, sizeof p, "%s.steps", path);
    if (!json_object_object_get_ex(o, "steps", &v))
      return perr(p, "missing");
    return parse_steps(s, v, p, r);
  }
  if (r->kind == EAUDIT__KIND_PRESENCE) {
    pathf(p, sizeof p, "%s.areas", path);
    if (json_object_object_get_ex(o, "areas", &v) &&
        (rc = parse_areas(v, p, r)))
      return rc;
    /* Door movements and user expiries. */
    r->types = eaudit__calloc(2, sizeof *r->types);
    if (r->types == NULL)
      return eaudit__enomem();
    r->n_types = 0;
    if (r->n_doors)
      r->types[r->n_types++] = EAUDIT_TYPE_DOOR_OPENED;
    r->types[r->n_types++] = EAUDIT_TYPE_PERMISSIONS_EXPIRED;
    return EAUDIT_OK;
  }
  /* off_hours */
  r->min_history = 20;
  r->rare_percent = 5;
  pathf(p, sizeof p, "%s.min_history", path);
  if (json_object_object_get_ex(o, "min_history", &v) &&
      (rc = get_int(v, p, 1, 1000000, &r->min_history)))
    return rc;
  pathf(p, sizeof p, "%s.rare_percent", path);
  if (json_object_object_get_ex(o, "rare_percent", &v) &&
      (rc = get_int(v, p, 0, 100, &r->rare_percent)))
    return rc;
  return EAUDIT_OK;
}

/* --- writing rules out --- */

static json_object *window_json(int64_t us) {
  int64_t s = us / 1000000;
  char b[32];
  if (s % 86400 == 0)
    snprintf(b, sizeof b, "%lldd", (long long)(s / 86400));
  else if (s % 3600 == 0)
    snprintf(b, sizeof b, "%lldh", (long long)(s / 3600));
  else if (s % 60 == 0)
    snprintf(b, sizeof b, "%lldm", (long long)(s / 60));
  else
    snprintf(b, sizeof b, "%llds", (long long)s);
  return json_object_new_string(b);
}

static json_object *type_json(eaudit_store *s, int type) {
  const char *n = eaudit_store_type_name(s, type);
  return n ? json_object_new_string(n) : json_object_new_int(type);
}

static json_object *rule_json(eaudit_store *s, const eaudit__rule *r) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(r->id));
  json_object_object_add(o, "kind", json_object_new_string(kind_names[r->kind]));
  json_object_object_add(o, "severity",
                         json_object_new_string(severity_names[r->severity]));
  json_object_object_add(o, "enabled", json_object_new_boolean(r->enabled));
  if (r->kind == EAUDIT__KIND_THRESHOLD || r->kind == EAUDIT__KIND_OFF_HOURS) {
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < r->n_types; i++)
      json_object_array_add(a, type_json(s, r->types[i]));
    json_object_object_add(o, "types", a);
    if (r->n_reasons) {
      a = json_object_new_array();
      for (size_t i = 0; i < r->n_reasons; i++)
        json_object_array_add(
            a, json_object_new_string(eaudit_reason_name(r->reasons[i])));
      json_object_object_add(o, "reasons", a);
    }
  }
  if (r->kind == EAUDIT__KIND_THRESHOLD) {
    json_object *any = json_object_new_array();
    for (size_t i = 0; i < r->n_conds; i++) {
      const eaudit__cond *c = &r->conds[i];
      json_object *co = r->n_conds == 1 ? o : json_object_new_object();
      json_object_object_add(co, "key",
                             json_object_new_string(field_label(c->key)));
      json_object_object_add(co, "window", window_json(c->window));
      json_object_object_add(co, "threshold",
                             json_object_new_int64(c->threshold));
      if (c->distinct)
        json_object_object_add(
            co, "distinct", json_object_new_string(field_label(c->distinct)));
      if (r->n_conds > 1)
        json_object_array_add(any, co);
    }
    if (r->n_conds > 1)
      json_object_object_add(o, "any", any);
    else
      json_object_put(any);
    return o;
  }
  json_object_object_add(o, "key", json_object_new_string(field_label(r->key)));
  json_object_object_add(o, "window", window_json(r->window));
  if (r->kind == EAUDIT__KIND_SEQUENCE) {
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < r->n_steps; i++) {
      json_object *st = json_object_new_object();
      json_object_object_add(st, "type", type_json(s, r->steps[i].type));
      if (r->steps[i].same)
        json_object_object_add(
            st, "same", json_object_new_string(field_label(r->steps[i].same)));
      json_object_array_add(a, st);
    }
    json_object_object_add(o, "steps", a);
  } else if (r->kind == EAUDIT__KIND_PRESENCE) {
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < r->n_areas; i++) {
      json_object *ar = json_object_new_object();
      json_object *en = json_object_new_array(), *ex = json_object_new_array();
      for (size_t d = 0; d < r->n_doors; d++) {
        if (r->doors[d].enters == r->areas[i].id)
          json_object_array_add(en, json_object_new_int64(r->doors[d].door));
        if (r->doors[d].exits == r->areas[i].id)
          json_object_array_add(ex, json_object_new_int64(r->doors[d].door));
      }
      json_object_object_add(ar, "id", json_object_new_int64(r->areas[i].id));
      json_object_object_add(ar, "entry_doors", en);
      json_object_object_add(ar, "exit_doors", ex);
      json_object_object_add(ar, "checkin_to_exit",
                             json_object_new_boolean(r->areas[i].checkin_to_exit));
      json_object_array_add(a, ar);
    }
    json_object_object_add(o, "areas", a);
  } else {
    json_object_object_add(o, "min_history",
                           json_object_new_int64(r->min_history));
    json_object_object_add(o, "rare_percent",
                           json_object_new_int64(r->rare_percent));
  }
  return o;
}

static int dup_json(json_object *o, char **out) {
  const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
  *out = t ? eaudit__strdup(t) : NULL;
  return *out ? EAUDIT_OK : eaudit__enomem();
}

int eaudit__ruleset_write(eaudit_store *s, const eaudit__ruleset *rs,
                          char **out) {
  json_object *root = json_object_new_object();
  if (root == NULL)
    return eaudit__enomem();
  json_object_object_add(root, "version", json_object_new_int(1));
  json_object_object_add(root, "builtins", json_object_new_boolean(rs->builtins));
  json_object *a = json_object_new_array();
  for (size_t i = 0; i < rs->n; i++)
    json_object_array_add(a, rule_json(s, &rs->rules[i]));
  json_object_object_add(root, "rules", a);
  int rc = dup_json(root, out);
  json_object_put(root);
  return rc;
}

/* --- the set --- */

void eaudit__ruleset_free(eaudit__ruleset *rs) {
  if (rs == NULL)
    return;
  for (size_t i = 0; i < rs->n; i++)
    rule_release(&rs->rules[i]);
  eaudit__free(rs->rules);
  for (size_t i = 0; i < rs->n_by_type; i++)
    eaudit__free(rs->by_type[i].rules);
  eaudit__free(rs->by_type);
  eaudit__free(rs);
}

static int tr_cmp(const void *a, const void *b) {
  int x = ((const eaudit__type_rules *)a)->type;
  int y = ((const eaudit__type_rules *)b)->type;
  return x < y ? -1 : x > y;
}

/* The type -> enabled rules table, so an event touches only its rules. */
static int build_index(eaudit__ruleset *rs) {
  for (size_t i = 0; i < rs->n; i++) {
    const eaudit__rule *r = &rs->rules[i];
    if (!r->enabled)
      continue;
    rs->any_enabled = 1;
    for (size_t t = 0; t < r->n_types; t++) {
      eaudit__type_rules *e = NULL;
      for (size_t k = 0; k < rs->n_by_type && !e; k++)
        if (rs->by_type[k].type == r->types[t])
          e = &rs->by_type[k];
      if (e == NULL) {
        eaudit__type_rules *bt = eaudit__realloc(
            rs->by_type, (rs->n_by_type + 1) * sizeof *bt);
        if (bt == NULL)
          return eaudit__enomem();
        rs->by_type = bt;
        e = &bt[rs->n_by_type++];
        memset(e, 0, sizeof *e);
        e->type = r->types[t];
      }
      uint16_t *v = eaudit__realloc(e->rules, (e->n + 1) * sizeof *v);
      if (v == NULL)
        return eaudit__enomem();
      e->rules = v;
      v[e->n++] = (uint16_t)i;
    }
  }
  if (rs->n_by_type)
    qsort(rs->by_type, rs->n_by_type, sizeof *rs->by_type, tr_cmp);
  return EAUDIT_OK;
}

const eaudit__type_rules *eaudit__ruleset_for_type(const eaudit__ruleset *rs,
                                                   int type) {
  size_t lo = 0, hi = rs->n_by_type;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (rs->by_type[mid].type < type)
      lo = mid + 1;
    else if (rs->by_type[mid].type > type)
      hi = mid;
    else
      return &rs->by_type[mid];
  }
  return NULL;
}

const eaudit__door_role *eaudit__rule_door(const eaudit__rule *r,
                                           int64_t door) {
  size_t lo = 0, hi = r->n_doors;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (r->doors[mid].door < door)
      lo = mid + 1;
    else if (r->doors[mid].door > door)
      hi = mid;
    else
      return &r->doors[mid];
  }
  return NULL;
}

static int parse_doc(const char *json, size_t len, json_object **out) {
  if (len > RULESET_MAX_BYTES)
    return perr("rule set", "larger than %d bytes", RULESET_MAX_BYTES);
  if (!eaudit__utf8_valid(json, len))
    return perr("rule set", "not valid UTF-8 (or contains a NUL byte)");
  json_tokener *tok = json_tokener_new();
  if (tok == NULL)
    return eaudit__enomem();
  json_object *o = json_tokener_parse_ex(tok, json, (int)len);
  enum json_tokener_error e = json_tokener_get_error(tok);
  size_t end = json_tokener_get_parse_end(tok);
  json_tokener_free(tok);
  if (o == NULL || e != json_tokener_success) {
    json_object_put(o);
    return perr("rule set", "not valid JSON at byte %zu: %s", end,
                e == json_tokener_continue ? "unexpected end"
                                           : json_tokener_error_desc(e));
  }
  for (; end < len; end++)
    if (json[end] != ' ' && json[end] != '\n' && json[end] != '\t' &&
        json[end] != '\r') {
      json_object_put(o);
      return perr("rule set", "not valid JSON at byte %zu: trailing data",
                  end);
    }
  *out = o;
  return EAUDIT_OK;
}

/* A built-in's object with the override's fields laid over it. */
static json_object *merged(json_object *base, json_object *over) {
  json_object *m = json_object_new_object();
  json_object_object_foreach(base, k, v) {
    if (!json_object_object_get_ex(over, k, NULL))
      json_object_object_add(m, k, json_object_get(v));
  }
  json_object_object_foreach(over, k2, v2) {
    json_object_object_add(m, k2, json_object_get(v2));
  }
  return m;
}

static int add_rule(eaudit__ruleset *rs, size_t *cap) {
  if (rs->n == *cap) {
    size_t c = *cap ? *cap * 2 : 16;
    eaudit__rule *r = eaudit__realloc(rs->rules, c * sizeof *r);
    if (r == NULL)
      return eaudit__enomem();
    rs->rules = r;
    *cap = c;
  }
  return EAUDIT_OK;
}

static int parse_set(eaudit_store *s, json_object *root, json_object *builtin,
                     eaudit__ruleset *rs) {
  static const char *const top[] = {"version", "builtins", "rules", NULL};
  char p[192];
  int rc;
  json_object *v, *rules = NULL, *brules = NULL;
  size_t cap = 0;
  if (!json_object_is_type(root, json_type_object))
    return perr("rule set", "must be a JSON object");
  json_object_object_foreach(root, k, unused) {
    (void)unused;
    if (!in_list(k, top))
      return perr(k, "unknown field");
  }
  if (json_object_object_get_ex(root, "version", &v)) {
    int64_t ver;
    if ((rc = get_int(v, "version", 1, 1, &ver)))
      return rc;
  }
  rs->builtins = 1;
  if (json_object_object_get_ex(root, "builtins", &v) &&
      (rc = get_bool(v, "builtins", &rs->builtins)))
    return rc;
  if (json_object_object_get_ex(root, "rules", &rules) &&
      !json_object_is_type(rules, json_type_array))
    return perr("rules", "must be an array");
  size_t n = rules ? json_object_array_length(rules) : 0;
  if (n > EAUDIT__RULE_MAX_RULES)
    return perr("rules", "more than %d rules", EAUDIT__RULE_MAX_RULES);
  if (builtin && rs->builtins)
    json_object_object_get_ex(builtin, "rules", &brules);
  size_t nb = brules ? json_object_array_length(brules) : 0;
  /* Ids must be unique within the document. */
  for (size_t i = 0; i < n; i++) {
    json_object *ri = json_object_array_get_idx(rules, i), *id;
    if (!json_object_is_type(ri, json_type_object) ||
        !json_object_object_get_ex(ri, "id", &id) ||
        !json_object_is_type(id, json_type_string))
      continue;
    for (size_t j = 0; j < i; j++) {
      json_object *rj = json_object_array_get_idx(rules, j), *jd;
      if (json_object_is_type(rj, json_type_object) &&
          json_object_object_get_ex(rj, "id", &jd) &&
          json_object_is_type(jd, json_type_string) &&
          strcmp(json_object_get_string(jd), json_object_get_string(id)) == 0) {
        pathf(p, sizeof p, "rules[%zu].id", i);
        return perr(p, "rule '%s' is defined twice", json_object_get_string(id));
      }
    }
  }
  /* Built-ins first, in their order, each with its override. */
  for (size_t b = 0; b < nb; b++) {
    json_object *bo = json_object_array_get_idx(brules, b), *bid, *bkind;
    json_object_object_get_ex(bo, "id", &bid);
    const char *id = json_object_get_string(bid);
    json_object *over = NULL;
    size_t oi = 0;
    for (size_t i = 0; i < n && !over; i++) {
      json_object *ri = json_object_array_get_idx(rules, i), *rid;
      if (json_object_is_type(ri, json_type_object) &&
          json_object_object_get_ex(ri, "id", &rid) &&
          json_object_is_type(rid, json_type_string) &&
          strcmp(json_object_get_string(rid), id) == 0) {
        over = ri;
        oi = i;
      }
    }
    if ((rc = add_rule(rs, &cap)))
      return rc;
    if (over == NULL) {
      pathf(p, sizeof p, "built-in '%s'", id);
      rc = parse_rule(s, bo, p, 1, &rs->rules[rs->n]);
    } else {
      json_object *ok;
      pathf(p, sizeof p, "rules[%zu].kind", oi);
      json_object_object_get_ex(bo, "kind", &bkind);
      if (json_object_object_get_ex(over, "kind", &ok) &&
          (!json_object_is_type(ok, json_type_string) ||
           strcmp(json_object_get_string(ok), json_object_get_string(bkind))))
        return perr(p, "built-in rule '%s' is a %s rule; its kind cannot "
                       "change", id, json_object_get_string(bkind));
      json_object *m = merged(bo, over);
      if (m == NULL)
        return eaudit__enomem();
      pathf(p, sizeof p, "rules[%zu]", oi);
      rc = parse_rule(s, m, p, 1, &rs->rules[rs->n]);
      json_object_put(m);
    }
    rs->n++;
    if (rc)
      return rc;
  }
  for (size_t i = 0; i < n; i++) {
    json_object *ri = json_object_array_get_idx(rules, i), *rid;
    int is_builtin = 0;
    if (json_object_is_type(ri, json_type_object) &&
        json_object_object_get_ex(ri, "id", &rid) &&
        json_object_is_type(rid, json_type_string))
      for (size_t b = 0; b < nb; b++) {
        json_object *bid;
        json_object_object_get_ex(json_object_array_get_idx(brules, b), "id",
                                  &bid);
        is_builtin |= strcmp(json_object_get_string(bid),
                             json_object_get_string(rid)) == 0;
      }
    if (is_builtin)
      continue;
    if ((rc = add_rule(rs, &cap)))
      return rc;
    pathf(p, sizeof p, "rules[%zu]", i);
    rc = parse_rule(s, ri, p, 0, &rs->rules[rs->n]);
    rs->n++;
    if (rc)
      return rc;
  }
  return EAUDIT_OK;
}

int eaudit__ruleset_parse(eaudit_store *s, const char *json, size_t len,
                          eaudit__ruleset **out) {
  *out = NULL;
  json_object *builtin = NULL, *root = NULL;
  int rc = parse_doc(eaudit__builtin_rules_json,
                     strlen(eaudit__builtin_rules_json), &builtin);
  if (rc)
    return rc;
  if (json == NULL) {
    root = json_object_new_object(); /* the built-ins as they are */
    if (root == NULL)
      rc = eaudit__enomem();
  } else {
    rc = parse_doc(json, len, &root);
  }
  eaudit__ruleset *rs = NULL;
  if (rc == 0 && (rs = eaudit__calloc(1, sizeof *rs)) == NULL)
    rc = eaudit__enomem();
  if (rc == 0)
    rc = parse_set(s, root, builtin, rs);
  for (size_t i = 0; rc == 0 && i < rs->n; i++) {
    json_object *o = rule_json(s, &rs->rules[i]);
    rc = o ? dup_json(o, &rs->rules[i].canonical) : eaudit__enomem();
    json_object_put(o);
  }
  if (rc == 0)
    rc = build_index(rs);
  json_object_put(builtin);
  json_object_put(root);
  if (rc) {
    eaudit__ruleset_free(rs);
    return rc;
  }
  *out = rs;
  return EAUDIT_OK;
}
