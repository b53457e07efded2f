/* Settings keyed by explicit enum numbers, with bounds. */
#include "options_internal.h"
#include "tz.h"

#include <string.h>

typedef struct option_spec {
  int key;
  int is_text;
  int64_t def, min, max;
  const char *name;
} option_spec;

static const option_spec specs[] = {
    {EAUDIT_OPT_SYNCHRONOUS, 0, EAUDIT_SYNC_FULL, EAUDIT_SYNC_NORMAL,
     EAUDIT_SYNC_FULL, "synchronous"},
    {EAUDIT_OPT_BUSY_TIMEOUT_MS, 0, 5000, 0, 3600000, "busy_timeout_ms"},
    {EAUDIT_OPT_TIME_ZONE, 1, 0, 0, 0, "time_zone"},
    {EAUDIT_OPT_READ_ONLY, 0, 0, 0, 1, "read_only"},
    {EAUDIT_OPT_CREATE, 0, 1, 0, 1, "create"},
    {EAUDIT_OPT_DETAILS_MAX_BYTES, 0, EAUDIT_DETAILS_MAX_DEFAULT, 2,
     EAUDIT_DETAILS_MAX_LIMIT, "details_max_bytes"},
    {EAUDIT_OPT_LATENESS_US, 0, INT64_C(86400000000), 0,
     INT64_C(31622400000000), "lateness_us"},
    {EAUDIT_OPT_JOURNAL_SIZE_LIMIT, 0, INT64_C(67108864), 0,
     INT64_C(1099511627776), "journal_size_limit"},
    /* Device recognition; the reasoning is in docs/devices.md. */
    {EAUDIT_OPT_DEVICE_THRESHOLD, 0, 750, 1, 1000, "device_threshold"},
    {EAUDIT_OPT_DEVICE_WEIGHT_PLATFORM, 0, 100, 0, 1000,
     "device_weight_platform"},
    {EAUDIT_OPT_DEVICE_WEIGHT_OS_FAMILY, 0, 150, 0, 1000,
     "device_weight_os_family"},
    {EAUDIT_OPT_DEVICE_WEIGHT_OS_VERSION, 0, 50, 0, 1000,
     "device_weight_os_version"},
    {EAUDIT_OPT_DEVICE_WEIGHT_BROWSER_FAMILY, 0, 150, 0, 1000,
     "device_weight_browser_family"},
    {EAUDIT_OPT_DEVICE_WEIGHT_BROWSER_VERSION, 0, 50, 0, 1000,
     "device_weight_browser_version"},
    {EAUDIT_OPT_DEVICE_WEIGHT_MODEL, 0, 200, 0, 1000, "device_weight_model"},
    {EAUDIT_OPT_DEVICE_WEIGHT_SCREEN, 0, 100, 0, 1000, "device_weight_screen"},
    {EAUDIT_OPT_DEVICE_WEIGHT_TIME_ZONE, 0, 50, 0, 1000,
     "device_weight_time_zone"},
    {EAUDIT_OPT_DEVICE_WEIGHT_LANGUAGE, 0, 50, 0, 1000,
     "device_weight_language"},
    {EAUDIT_OPT_DEVICE_WEIGHT_IP, 0, 30, 0, 1000, "device_weight_ip"},
    /* docs/rules.md, Performance: why 8 MiB. */
    {EAUDIT_OPT_CACHE_SIZE_KIB, 0, 8192, 64, INT64_C(1073741824),
     "cache_size_kib"},
};

static const option_spec *spec_of(int key) {
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
    if (specs[i].key == key)
      return &specs[i];
  return NULL;
}

static int unknown_key(int key) {
  return eaudit__error(EAUDIT_EOPTION, EAUDIT_ECLASS_INVALID, 0,
                       "unknown option key %d", key);
}

void eaudit__options_defaults(eaudit_options *o) {
  memset(o, 0, sizeof *o);
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
    if (!specs[i].is_text)
      o->ints[specs[i].key] = specs[i].def;
}

int eaudit_options_new(eaudit_options **out) {
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  *out = NULL;
  eaudit_options *o = eaudit__malloc(sizeof *o);
  if (o == NULL)
    return eaudit__enomem();
  eaudit__options_defaults(o);
  eaudit__object_born();
  *out = o;
  return EAUDIT_OK;
}

void eaudit_options_free(eaudit_options *opts) {
  if (opts == NULL)
    return;
  eaudit__free(opts->time_zone);
  eaudit__free(opts);
  eaudit__object_died();
}

int eaudit_option_bounds(int key, int64_t *min, int64_t *max) {
  const option_spec *s = spec_of(key);
  if (s == NULL || s->is_text)
    return unknown_key(key);
  if (min)
    *min = s->min;
  if (max)
    *max = s->max;
  return EAUDIT_OK;
}

int eaudit_options_set_int(eaudit_options *opts, int key, int64_t value) {
  if (opts == NULL)
    return eaudit__einval("options must not be NULL");
  const option_spec *s = spec_of(key);
  if (s == NULL)
    return unknown_key(key);
  if (s->is_text)
    return eaudit__error(EAUDIT_EOPTION, EAUDIT_ECLASS_INVALID, 0,
                         "option %s takes text, not an integer", s->name);
  if (value < s->min || value > s->max)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "option %s: %lld is outside [%lld, %lld]", s->name,
                         (long long)value, (long long)s->min,
                         (long long)s->max);
  opts->ints[key] = value;
  return EAUDIT_OK;
}

int eaudit_options_get_int(const eaudit_options *opts, int key, int64_t *out) {
  if (opts == NULL || out == NULL)
    return eaudit__einval("options and out must not be NULL");
  const option_spec *s = spec_of(key);
  if (s == NULL || s->is_text)
    return unknown_key(key);
  *out = opts->ints[key];
  return EAUDIT_OK;
}

int eaudit_options_set_str(eaudit_options *opts, int key, const char *value) {
  if (opts == NULL || value == NULL)
    return eaudit__einval("options and value must not be NULL");
  const option_spec *s = spec_of(key);
  if (s == NULL)
    return unknown_key(key);
  if (!s->is_text)
    return eaudit__error(EAUDIT_EOPTION, EAUDIT_ECLASS_INVALID, 0,
                         "option %s takes an integer, not text", s->name);
  if (!eaudit__tz_valid(value))
    return eaudit__error(EAUDIT_ETZ, EAUDIT_ECLASS_INVALID, 0,
                         "unknown time zone '%s'", value);
  char *copy = eaudit__strdup(value);
  if (copy == NULL)
    return eaudit__enomem();
  eaudit__free(opts->time_zone);
  opts->time_zone = copy;
  return EAUDIT_OK;
}

int eaudit_options_set_clock(eaudit_options *opts, eaudit_clock_fn fn,
                             void *payload) {
  if (opts == NULL)
    return eaudit__einval("options must not be NULL");
  opts->clock = fn;
  opts->clock_payload = payload;
  return EAUDIT_OK;
}

int eaudit_options_set_random(eaudit_options *opts, eaudit_random_fn fn,
                              void *payload) {
  if (opts == NULL)
    return eaudit__einval("options must not be NULL");
  opts->random = fn;
  opts->random_payload = payload;
  return EAUDIT_OK;
}
