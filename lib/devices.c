/* Device recognition (docs/devices.md): observations, the decision table,
 * the login calls, the devices list and the admin login-hour histogram. */
#include "devices_internal.h"
#include "devices_store.h"
#include "pg_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NATTR 12 /* attributes are 1..11 */
#define FIRST_SCORED EAUDIT_DEVATTR_PLATFORM
#define LAST_ATTR EAUDIT_DEVATTR_IP

/* How many devices of one class (or, without a class, of one user and
 * kind) are scored, the most recently seen first. Bounds the cost of an
 * observation whatever the number of devices; a device pushed out of the
 * window by this many more recent ones of the same class is seen as new. */
#define CANDIDATES 64

/* Key lookups, the candidate probes, the existence checks and the
 * histogram all hit an index. The class (cls) is the attributes that never
 * change on one device: OS family, platform, and the browser family (admin)
 * or the model (mobile), folded to lower case; NULL when one is unknown.
 *
 * Recency in the indexes is the UTC day of last_seen (seen_day), not
 * last_seen itself: seeing a known device again on the day it was last
 * seen rewrites its row (last_seen, times_seen) and no index entry, so the
 * common observation dirties one table page, as a plain update does. The
 * candidate probes take the devices seen on the latest days, the most
 * recently learned (highest id) first within a day. */
const char eaudit__devices_schema[] =
    "CREATE TABLE devices(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " user_id INTEGER NOT NULL, kind INTEGER NOT NULL, dkey TEXT,"
    " platform TEXT, os_family TEXT, os_version TEXT, browser_family TEXT,"
    " browser_version TEXT, model TEXT, screen TEXT, time_zone TEXT,"
    " language TEXT, ip TEXT, os_key TEXT, cls TEXT, label TEXT,"
    " first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    " times_seen INTEGER NOT NULL, seen_day INTEGER NOT NULL);"
    "CREATE INDEX devices_key ON devices(user_id, kind, dkey)"
    " WHERE dkey IS NOT NULL;"
    "CREATE INDEX devices_cls ON devices(user_id, kind, cls, seen_day);"
    "CREATE INDEX devices_os ON devices(user_id, kind, os_key, seen_day);"
    "CREATE INDEX devices_recent ON devices(user_id, kind, seen_day);"
    "CREATE TABLE device_login_hours(user_id INTEGER NOT NULL,"
    " hour INTEGER NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY(user_id, hour)) WITHOUT ROWID;";

#define COL_LAST_SEEN EAUDIT__DQ_COL_LAST_SEEN

#define DAY_US INT64_C(86400000000)

/* The UTC day of a time (floor division: days before 1970 are negative). */
static int64_t day_of(eaudit_time t) {
  int64_t d = t / DAY_US;
  return t % DAY_US < 0 ? d - 1 : d;
}

struct eaudit_device_info {
  char *v[NATTR];
  int64_t site; /* < 0: none */
};

struct eaudit_device_result {
  int decision, reason, record;
  double score;
  int64_t device, seq;
};

typedef struct dev_item {
  int64_t id, first_seen, last_seen, times_seen;
  int kind;
  char *label;
  char *v[NATTR];
} dev_item;

struct eaudit_devices {
  dev_item *items;
  size_t n;
};

/* A device read from the store, with owned copies of its attributes. */
typedef struct dev_row {
  int64_t id, last_seen;
  char *v[NATTR];
} dev_row;

/* --- the attributes handle --- */

static int attr_ok(int attr) {
  return attr >= EAUDIT_DEVATTR_KEY && attr <= LAST_ATTR;
}

int eaudit_device_info_new(eaudit_device_info **out) {
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  *out = eaudit__calloc(1, sizeof **out);
  if (*out == NULL)
    return eaudit__enomem();
  (*out)->site = -1;
  eaudit__object_born();
  return EAUDIT_OK;
}

void eaudit_device_info_clear(eaudit_device_info *info) {
  if (info == NULL)
    return;
  for (int i = 0; i < NATTR; i++) {
    eaudit__free(info->v[i]);
    info->v[i] = NULL;
  }
  info->site = -1;
}

void eaudit_device_info_free(eaudit_device_info *info) {
  if (info == NULL)
    return;
  eaudit_device_info_clear(info);
  eaudit__free(info);
  eaudit__object_died();
}

static int blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int eaudit_device_info_set_str(eaudit_device_info *info, int attr,
                               const char *value) {
  if (info == NULL)
    return eaudit__einval("device info must not be NULL");
  if (!attr_ok(attr))
    return eaudit__einval("unknown device attribute %d", attr);
  char *copy = NULL;
  if (value != NULL) {
    size_t n = strlen(value);
    if (n > EAUDIT_DEVATTR_MAX_BYTES)
      return eaudit__error(EAUDIT_ETOOBIG, EAUDIT_ECLASS_INVALID, 0,
                           "device attribute %d is %zu bytes; the limit is %d",
                           attr, n, EAUDIT_DEVATTR_MAX_BYTES);
    if (!eaudit__utf8_valid(value, n))
      return eaudit__error(EAUDIT_EUTF8, EAUDIT_ECLASS_INVALID, 0,
                           "device attribute %d is not valid UTF-8", attr);
    while (n > 0 && blank(*value))
      value++, n--;
    while (n > 0 && blank(value[n - 1]))
      n--;
    if (n > 0 && (copy = eaudit__strndup(value, n)) == NULL)
      return eaudit__enomem();
  }
  eaudit__free(info->v[attr]);
  info->v[attr] = copy;
  return EAUDIT_OK;
}

const char *eaudit_device_info_get_str(const eaudit_device_info *info,
                                       int attr) {
  return info && attr_ok(attr) ? info->v[attr] : NULL;
}

int eaudit_device_info_set_site(eaudit_device_info *info, int64_t site) {
  if (info == NULL)
    return eaudit__einval("device info must not be NULL");
  info->site = site < 0 ? -1 : site;
  return EAUDIT_OK;
}

/* --- results --- */

void eaudit_device_result_free(eaudit_device_result *r) {
  if (r == NULL)
    return;
  eaudit__free(r);
  eaudit__object_died();
}
int eaudit_device_result_decision(const eaudit_device_result *r) {
  return r ? r->decision : 0;
}
int eaudit_device_result_reason(const eaudit_device_result *r) {
  return r ? r->reason : 0;
}
double eaudit_device_result_score(const eaudit_device_result *r) {
  return r ? r->score : 0.0;
}
int64_t eaudit_device_result_device(const eaudit_device_result *r) {
  return r ? r->device : 0;
}
int eaudit_device_result_record(const eaudit_device_result *r) {
  return r ? r->record : 0;
}
int64_t eaudit_device_result_seq(const eaudit_device_result *r) {
  return r ? r->seq : 0;
}

/* --- comparison --- */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int same(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (lower((unsigned char)*a) != lower((unsigned char)*b))
      return 0;
  return *a == *b;
}

/* "2560x1440" and "1440x2560" are one screen turned. */
static int same_screen(const char *a, const char *b) {
  if (same(a, b))
    return 1;
  unsigned long aw, ah, bw, bh;
  char c1, c2;
  if (sscanf(a, "%lu%c%lu", &aw, &c1, &ah) != 3 ||
      sscanf(b, "%lu%c%lu", &bw, &c2, &bh) != 3)
    return 0;
  return aw == bh && ah == bw;
}

/* Length of the prefix that decides "same network": three octets of IPv4
 * (a /24), three groups of IPv6 (a /48). 0 when not an address. */
static size_t net_prefix(const char *ip) {
  int v6 = strchr(ip, ':') != NULL;
  char sep = v6 ? ':' : '.';
  int seen = 0;
  for (const char *p = ip; *p; p++)
    if (*p == sep && ++seen == 3)
      return (size_t)(p - ip);
  return 0;
}

/* Primary language subtag length ("de" of "de-DE"). */
static size_t primary_tag(const char *l) {
  size_t n = strcspn(l, "-_");
  return n;
}

/* Similarity of one attribute present on both sides, in [0, 1]. */
static double attr_sim(int attr, const char *a, const char *b) {
  switch (attr) {
  case EAUDIT_DEVATTR_OS_VERSION:
  case EAUDIT_DEVATTR_BROWSER_VERSION:
    /* A version bump is how a known device changes; half credit keeps an
     * updated device well above the threshold. */
    return same(a, b) ? 1.0 : 0.5;
  case EAUDIT_DEVATTR_SCREEN:
    return same_screen(a, b) ? 1.0 : 0.0;
  case EAUDIT_DEVATTR_IP: {
    if (same(a, b))
      return 1.0;
    size_t pa = net_prefix(a), pb = net_prefix(b);
    return pa && pa == pb && strncmp(a, b, pa) == 0 ? 0.5 : 0.0;
  }
  case EAUDIT_DEVATTR_LANGUAGE: {
    if (same(a, b))
      return 1.0;
    size_t pa = primary_tag(a), pb = primary_tag(b);
    if (pa != pb || pa == 0)
      return 0.0;
    for (size_t i = 0; i < pa; i++)
      if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
        return 0.0;
    return 0.5;
  }
  default:
    return same(a, b) ? 1.0 : 0.0;
  }
}

static int64_t weight(const eaudit_store *s, int attr) {
  return s->opts.ints[EAUDIT_OPT_DEVICE_THRESHOLD + 1 + (attr - FIRST_SCORED)];
}

/* Weighted similarity over the attributes either side knows: one known on
 * only one side counts as a difference, so an attacker cannot raise a
 * score by withholding attributes. @p skip_browser leaves the browser out
 * (the "same hardware, other browser" test). */
static double score(const eaudit_store *s, char *const dv[NATTR],
                    char *const ov[NATTR], int skip_browser) {
  double num = 0, den = 0;
  for (int a = FIRST_SCORED; a <= LAST_ATTR; a++) {
    if (skip_browser && (a == EAUDIT_DEVATTR_BROWSER_FAMILY ||
                         a == EAUDIT_DEVATTR_BROWSER_VERSION))
      continue;
    if (dv[a] == NULL && ov[a] == NULL)
      continue;
    double w = (double)weight(s, a);
    den += w;
    if (dv[a] && ov[a])
      num += w * attr_sim(a, dv[a], ov[a]);
  }
  return den > 0 ? num / den : 0.0;
}

/* Attributes that never change on one device: when both sides know one
 * and they differ, this is another device. */
static int hard_differs(char *const dv[NATTR], char *const ov[NATTR], int a) {
  return dv[a] && ov[a] && !same(dv[a], ov[a]);
}

static int hard_conflict(char *const dv[NATTR], char *const ov[NATTR],
                         int skip_browser) {
  return hard_differs(dv, ov, EAUDIT_DEVATTR_PLATFORM) ||
         hard_differs(dv, ov, EAUDIT_DEVATTR_OS_FAMILY) ||
         hard_differs(dv, ov, EAUDIT_DEVATTR_MODEL) ||
         (!skip_browser &&
          hard_differs(dv, ov, EAUDIT_DEVATTR_BROWSER_FAMILY));
}

static int differs(const char *a, const char *b) {
  return a && b && !same(a, b);
}

static char *fold(const char *v) {
  char *c = eaudit__strdup(v);
  if (c)
    for (char *p = c; *p; p++)
      *p = (char)lower((unsigned char)*p);
  return c;
}

/* The class key; NULL (and *oom = 0) when an element is unknown. */
static char *class_key(char *const v[NATTR], int kind, int *oom) {
  int third = kind == EAUDIT_DEVICE_ADMIN_WEB ? EAUDIT_DEVATTR_BROWSER_FAMILY
                                              : EAUDIT_DEVATTR_MODEL;
  *oom = 0;
  if (!v[EAUDIT_DEVATTR_OS_FAMILY] || !v[EAUDIT_DEVATTR_PLATFORM] ||
      !v[third])
    return NULL;
  eaudit__buf b = {0};
  if (eaudit__buf_printf(&b, "%s\x1f%s\x1f%s", v[EAUDIT_DEVATTR_OS_FAMILY],
                         v[EAUDIT_DEVATTR_PLATFORM], v[third])) {
    *oom = 1;
    return NULL;
  }
  for (size_t i = 0; i < b.len; i++)
    b.data[i] = (char)lower((unsigned char)b.data[i]);
  return b.data;
}

static void row_clear(dev_row *r) {
  for (int i = 0; i < NATTR; i++) {
    eaudit__free(r->v[i]);
    r->v[i] = NULL;
  }
  r->id = 0;
}

static int row_load(dev_row *r, const eaudit__dq *q) {
  row_clear(r);
  r->id = eaudit__dq_col_int(q, 0);
  r->last_seen = eaudit__dq_col_int(q, COL_LAST_SEEN);
  for (int a = EAUDIT_DEVATTR_KEY; a <= LAST_ATTR; a++) {
    const char *t = eaudit__dq_col_text(q, a);
    if (t && (r->v[a] = eaudit__strdup(t)) == NULL)
      return eaudit__enomem();
  }
  return EAUDIT_OK;
}

/* Column values of the current row as an attribute vector (borrowed). */
static void row_view(const eaudit__dq *q, char *v[NATTR]) {
  v[0] = NULL;
  for (int a = EAUDIT_DEVATTR_KEY; a <= LAST_ATTR; a++)
    v[a] = (char *)eaudit__dq_col_text(q, a);
}

typedef struct matcher {
  eaudit_store *s;
  char *const *ov;
  int kind;
  double threshold;
  dev_row best;
  double best_score, near_score; /* the match; the nearest of all */
} matcher;

/* Score every row of a probe that ran; keep the best one at or above
 * threshold. Ends the probe. */
static int scan(matcher *m, eaudit__dq *q) {
  int rc;
  char *dv[NATTR];
  while ((rc = eaudit__dq_next(q)) == EAUDIT_OK) {
    row_view(q, dv);
    double sc = score(m->s, dv, m->ov, 0);
    if (sc > m->near_score)
      m->near_score = sc;
    if (hard_conflict(dv, m->ov, 0) || sc < m->threshold)
      continue;
    /* Equal scores: the most recently seen wins, then the newest. */
    int64_t last = eaudit__dq_col_int(q, COL_LAST_SEEN);
    if (m->best.id &&
        (sc < m->best_score ||
         (sc == m->best_score &&
          (last < m->best.last_seen ||
           (last == m->best.last_seen &&
            eaudit__dq_col_int(q, 0) < m->best.id)))))
      continue;
    m->best_score = sc;
    if ((rc = row_load(&m->best, q)))
      break;
  }
  eaudit__dq_end(q);
  return rc == EAUDIT_DONE ? EAUDIT_OK : rc;
}

/* Start a probe of @p user's devices of @p kind (text: ?3 when given). */
static void probe(eaudit__dq *q, eaudit_store *s, int id, int64_t user,
                  int kind, const char *text) {
  eaudit__dq_start(q, s, id);
  eaudit__dq_int(q, 1, user);
  eaudit__dq_int(q, 2, kind);
  if (text)
    eaudit__dq_text(q, 3, text);
  eaudit__dq_int(q, 4, CANDIDATES);
}

/* Whether a probe finds a row. */
static int exists(eaudit__dq *q, int *out) {
  *out = 0;
  int rc = eaudit__dq_run(q, "reading devices");
  if (rc == 0)
    rc = eaudit__dq_next(q);
  eaudit__dq_end(q);
  *out = rc == EAUDIT_OK;
  return rc == EAUDIT_OK || rc == EAUDIT_DONE ? EAUDIT_OK : rc;
}

/* "Different browser family on matching hardware attributes": a device of
 * the same OS family whose attributes, the browser left out, match. */
static int other_browser_same_hw(eaudit_store *s, char *const ov[NATTR],
                                 int64_t user, int kind, const char *os_key,
                                 double threshold, int *out) {
  *out = 0;
  eaudit__dq q;
  probe(&q, s, os_key ? EAUDIT__DQ_BY_OS : EAUDIT__DQ_RECENT, user, kind,
        os_key);
  int rc = eaudit__dq_run(&q, "reading devices");
  char *dv[NATTR];
  while (rc == 0 && (rc = eaudit__dq_next(&q)) == EAUDIT_OK) {
    row_view(&q, dv);
    if (!differs(dv[EAUDIT_DEVATTR_BROWSER_FAMILY],
                 ov[EAUDIT_DEVATTR_BROWSER_FAMILY]) ||
        hard_conflict(dv, ov, 1))
      continue;
    if (score(s, dv, ov, 1) >= threshold) {
      *out = 1;
      break;
    }
  }
  eaudit__dq_end(&q);
  return rc == EAUDIT_OK || rc == EAUDIT_DONE ? EAUDIT_OK : rc;
}

static char *default_label(char *const v[NATTR], int kind) {
  const char *os = v[EAUDIT_DEVATTR_OS_FAMILY];
  const char *main = kind == EAUDIT_DEVICE_ADMIN_WEB
                         ? v[EAUDIT_DEVATTR_BROWSER_FAMILY]
                         : v[EAUDIT_DEVATTR_MODEL];
  eaudit__buf b = {0};
  int rc;
  if (main && os)
    rc = eaudit__buf_printf(&b, kind == EAUDIT_DEVICE_ADMIN_WEB ? "%s on %s"
                                                                : "%s (%s)",
                            main, os);
  else if (main || os)
    rc = eaudit__buf_puts(&b, main ? main : os);
  else
    rc = eaudit__buf_puts(&b, kind == EAUDIT_DEVICE_ADMIN_WEB
                                  ? "Web browser"
                                  : "Mobile device");
  if (rc) {
    eaudit__buf_free(&b);
    return NULL;
  }
  return b.data;
}

/* Write the device row: insert (id == 0) or update with the merged
 * attributes; @p day is the seen_day of the row's new last_seen. */
static int write_device(eaudit_store *s, int64_t id, int64_t user, int kind,
                        char *const v[NATTR], eaudit_time at, int64_t day,
                        int64_t *id_out) {
  int oom = 0;
  char *cls = class_key(v, kind, &oom);
  char *os_key = v[EAUDIT_DEVATTR_OS_FAMILY]
                     ? fold(v[EAUDIT_DEVATTR_OS_FAMILY])
                     : NULL;
  char *label = id == 0 ? default_label(v, kind) : NULL;
  int rc = EAUDIT_OK;
  if (oom || (v[EAUDIT_DEVATTR_OS_FAMILY] && os_key == NULL) ||
      (id == 0 && label == NULL))
    rc = eaudit__enomem();
  if (rc == 0) {
    eaudit__dq q;
    eaudit__dq_start(&q, s, id ? EAUDIT__DQ_UPDATE : EAUDIT__DQ_INSERT);
    if (id)
      eaudit__dq_int(&q, 1, id);
    else {
      eaudit__dq_int(&q, 1, user);
      eaudit__dq_int(&q, 2, kind);
      eaudit__dq_text(&q, 16, label);
    }
    for (int a = EAUDIT_DEVATTR_KEY; a <= LAST_ATTR; a++)
      eaudit__dq_text(&q, 2 + a, v[a]);
    eaudit__dq_text(&q, 14, os_key);
    eaudit__dq_text(&q, 15, cls);
    eaudit__dq_int(&q, 17, at);
    eaudit__dq_int(&q, 18, day);
    rc = eaudit__dq_run(&q, "writing a device");
    if (rc == 0 && id_out)
      *id_out = id ? id : q.insert_id;
    eaudit__dq_end(&q);
  }
  eaudit__free(cls);
  eaudit__free(os_key);
  eaudit__free(label);
  return rc;
}

/* A known device seen again with nothing learned, on the UTC day it was
 * last seen: only the counters change, and no indexed column. */
static int seen_again(eaudit_store *s, int64_t id, eaudit_time at) {
  eaudit__dq q;
  eaudit__dq_start(&q, s, EAUDIT__DQ_SEEN);
  eaudit__dq_int(&q, 1, id);
  eaudit__dq_int(&q, 2, at);
  int rc = eaudit__dq_run(&q, "writing a device");
  eaudit__dq_end(&q);
  return rc;
}

static int hour_seen(eaudit_store *s, int64_t user, eaudit_time at) {
  eaudit__civil cv;
  int rc = eaudit__tz_to_civil(s->tz, at, &cv);
  if (rc)
    return rc;
  eaudit__dq q;
  eaudit__dq_start(&q, s, EAUDIT__DQ_HOUR);
  eaudit__dq_int(&q, 1, user);
  eaudit__dq_int(&q, 2, cv.hour);
  rc = eaudit__dq_run(&q, "counting login hours");
  eaudit__dq_end(&q);
  return rc;
}

int eaudit__login_hours(eaudit_store *s, int64_t user, int64_t counts[24]) {
  memset(counts, 0, 24 * sizeof counts[0]);
  eaudit__dq q;
  eaudit__dq_start(&q, s, EAUDIT__DQ_HOURS);
  eaudit__dq_int(&q, 1, user);
  int rc = eaudit__dq_run(&q, "reading login hours");
  while (rc == 0 && (rc = eaudit__dq_next(&q)) == EAUDIT_OK) {
    int64_t h = eaudit__dq_col_int(&q, 0);
    if (h >= 0 && h < 24)
      counts[h] = eaudit__dq_col_int(&q, 1);
  }
  eaudit__dq_end(&q);
  return rc == EAUDIT_DONE ? EAUDIT_OK : rc;
}

/* The decision table, inside the caller's write transaction. */
static int observe_locked(eaudit_store *s, char *const ov[NATTR],
                          int64_t user, int kind, eaudit_time at,
                          eaudit_device_result *res) {
  memset(res, 0, sizeof *res);
  matcher m = {.s = s, .ov = ov, .kind = kind};
  m.threshold = (double)s->opts.ints[EAUDIT_OPT_DEVICE_THRESHOLD] / 1000.0;
  int rc = EAUDIT_OK, any = 0, via_key = 0;
  eaudit__dq q;
  /* A matching key dominates, unless the device it names is plainly other
   * hardware (a copied key). A device found by key also answers whether the
   * user has any device of this kind. */
  if (ov[EAUDIT_DEVATTR_KEY]) {
    probe(&q, s, EAUDIT__DQ_BY_KEY, user, kind, ov[EAUDIT_DEVATTR_KEY]);
    rc = eaudit__dq_run(&q, "reading devices");
    char *dv[NATTR];
    while (rc == 0 && (rc = eaudit__dq_next(&q)) == EAUDIT_OK) {
      row_view(&q, dv);
      if (hard_conflict(dv, ov, 0))
        continue;
      m.best_score = score(s, dv, ov, 0);
      rc = row_load(&m.best, &q);
      via_key = 1;
      break;
    }
    eaudit__dq_end(&q);
    if (rc == EAUDIT_DONE)
      rc = EAUDIT_OK;
    if (rc)
      goto out;
  }
  if (!via_key) {
    probe(&q, s, EAUDIT__DQ_ANY, user, kind, NULL);
    if ((rc = exists(&q, &any)))
      return rc;
    if (!any) {
      res->decision = EAUDIT_DEVICE_NEW;
      res->reason = EAUDIT_REASON_FIRST_SEEN;
      res->record = 1;
      rc = write_device(s, 0, user, kind, ov, at, day_of(at), &res->device);
      goto hours;
    }
  }
  int oom = 0;
  char *cls = via_key ? NULL : class_key(ov, kind, &oom);
  if (oom) {
    rc = eaudit__enomem();
    goto out;
  }
  if (!via_key) {
    int probes[2] = {cls ? EAUDIT__DQ_BY_CLS : EAUDIT__DQ_RECENT,
                     cls ? EAUDIT__DQ_CLS_NULL : -1};
    for (int i = 0; rc == 0 && i < 2 && probes[i] >= 0; i++) {
      probe(&q, s, probes[i], user, kind,
            probes[i] == EAUDIT__DQ_BY_CLS ? cls : NULL);
      if ((rc = eaudit__dq_run(&q, "reading devices")) == 0)
        rc = scan(&m, &q);
      else
        eaudit__dq_end(&q);
    }
  }
  eaudit__free(cls);
  if (rc)
    goto out;

  if (m.best.id) {
    char **dv = m.best.v;
    int os_changed = differs(dv[EAUDIT_DEVATTR_OS_VERSION],
                             ov[EAUDIT_DEVATTR_OS_VERSION]);
    int br_changed = differs(dv[EAUDIT_DEVATTR_BROWSER_VERSION],
                             ov[EAUDIT_DEVATTR_BROWSER_VERSION]);
    int key_changed = differs(dv[EAUDIT_DEVATTR_KEY], ov[EAUDIT_DEVATTR_KEY]);
    res->device = m.best.id;
    res->score = m.best_score;
    res->decision = EAUDIT_DEVICE_KNOWN;
    if (kind == EAUDIT_DEVICE_MOBILE && key_changed) {
      res->decision = EAUDIT_DEVICE_CHANGED;
      res->reason = EAUDIT_REASON_DEVICE_RESET;
      res->record = 1;
    } else if (os_changed) {
      res->reason = EAUDIT_REASON_OS_UPDATED;
      if (kind == EAUDIT_DEVICE_MOBILE) {
        res->decision = EAUDIT_DEVICE_CHANGED;
        res->record = 1;
      }
    } else if (br_changed) {
      res->reason = EAUDIT_REASON_BROWSER_UPDATED;
    }
    /* Learn: the newest observation's attributes (an older, late one
     * changes nothing but the counters), a re-learned key. */
    char *merged[NATTR] = {0};
    int learned = 0;
    for (int a = EAUDIT_DEVATTR_KEY; a <= LAST_ATTR; a++) {
      merged[a] = at >= m.best.last_seen && ov[a] ? ov[a] : dv[a];
      if (merged[a] != dv[a] && (dv[a] == NULL || strcmp(merged[a], dv[a])))
        learned = 1;
    }
    eaudit_time last = at > m.best.last_seen ? at : m.best.last_seen;
    if (learned || day_of(last) != day_of(m.best.last_seen))
      rc = write_device(s, m.best.id, user, kind, merged, at, day_of(last),
                        NULL);
    else
      rc = seen_again(s, m.best.id, at);
    goto out;
  }

  /* No match: a new device, and why it is new. */
  res->decision = EAUDIT_DEVICE_NEW;
  res->record = 1;
  res->score = m.near_score;
  res->reason = EAUDIT_REASON_NEW_HARDWARE;
  char *os_key = NULL;
  if (ov[EAUDIT_DEVATTR_OS_FAMILY]) {
    if ((os_key = fold(ov[EAUDIT_DEVATTR_OS_FAMILY])) == NULL) {
      rc = eaudit__enomem();
      goto out;
    }
    int has_os = 0;
    probe(&q, s, EAUDIT__DQ_HAS_OS, user, kind, os_key);
    rc = exists(&q, &has_os);
    if (rc == 0 && !has_os)
      res->reason = EAUDIT_REASON_NEW_OS;
  }
  if (rc == 0 && res->reason == EAUDIT_REASON_NEW_HARDWARE &&
      kind == EAUDIT_DEVICE_ADMIN_WEB && ov[EAUDIT_DEVATTR_BROWSER_FAMILY]) {
    int hw = 0;
    rc = other_browser_same_hw(s, ov, user, kind, os_key, m.threshold, &hw);
    if (rc == 0 && hw)
      res->reason = EAUDIT_REASON_NEW_BROWSER;
  }
  eaudit__free(os_key);
  if (rc == 0)
    rc = write_device(s, 0, user, kind, ov, at, day_of(at), &res->device);
  goto hours;
out:
  row_clear(&m.best);
  if (rc)
    return rc;
hours:
  if (rc == 0 && kind == EAUDIT_DEVICE_ADMIN_WEB)
    rc = hour_seen(s, user, at);
  return rc;
}

static int check_args(const eaudit_store *s, int kind, eaudit_time at) {
  (void)s;
  if (kind != EAUDIT_DEVICE_ADMIN_WEB && kind != EAUDIT_DEVICE_MOBILE)
    return eaudit__einval("unknown device kind %d", kind);
  if (at < INT64_C(-62135596800000000) || at > INT64_C(253402300799999999))
    return eaudit__error(EAUDIT_ETIME, EAUDIT_ECLASS_INVALID, 0,
                         "observation time %lld is outside years 1-9999",
                         (long long)at);
  return EAUDIT_OK;
}

/* Durability of observations. On a store at synchronous=FULL an
 * observation whose decision is not to record (a known device seen again)
 * commits at NORMAL: atomic and consistent, but the fsync of the WAL is left
 * to the next durable commit of any handle or the next checkpoint, so a
 * power loss may undo the latest such updates of last-seen, times-seen,
 * learned attributes and the login-hour histogram. Never an event and never
 * a new device: a recording decision is redone in a transaction at FULL.
 * Not inside another transaction of the handle (the level cannot change
 * there; eaudit__begin refuses that case anyway) and not for :memory:. */
static int relaxable(const eaudit_store *s) {
  return !s->memory && !s->in_txn &&
         s->opts.ints[EAUDIT_OPT_SYNCHRONOUS] == EAUDIT_SYNC_FULL &&
         sqlite3_get_autocommit(s->db);
}

/* The level is set when the pragma is compiled, so it is run as text, not
 * as a cached statement. */
static int set_sync(eaudit_store *s, int full) {
  int rc = sqlite3_exec(s->db,
                        full ? "PRAGMA synchronous = FULL"
                             : "PRAGMA synchronous = NORMAL",
                        NULL, NULL, NULL);
  return rc == SQLITE_OK ? EAUDIT_OK
                         : eaudit__sqlite_error(s, rc, "setting the durability");
}

static int data_version(eaudit_store *s, unsigned *out) {
  return sqlite3_file_control(s->db, "main", SQLITE_FCNTL_DATA_VERSION, out) ==
         SQLITE_OK;
}

/* Begin the observation's write transaction. The handle's cached state
 * (store id, zone, vendor types) is revalidated, as for any write, unless
 * the file is unchanged since this handle's last observation committed: the
 * data version moves with every commit, this handle's or another's. */
static int begin_observe(eaudit_store *s) {
  int rc = eaudit__begin(s);
  if (rc)
    return rc;
  eaudit__devstate *d = s->devices;
  unsigned v;
  if (d && d->have_version && data_version(s, &v) && v == d->version)
    return EAUDIT_OK;
  if ((rc = eaudit__store_revalidate(s)))
    eaudit__rollback(s);
  return rc;
}

/* After the observation's commit: remember the data version when the
 * commit is the only change since @p before (read just before it); a
 * subscriber or hook that read the store meanwhile may have seen another
 * handle's commit, which must then be revalidated. */
static void note_version(eaudit_store *s, int ok, unsigned before) {
  eaudit__devstate *d = s->devices;
  if (d == NULL)
    return;
  d->have_version = ok && data_version(s, &d->version) &&
                    d->version == before + 1;
}

/* An observation on PostgreSQL: the decision, inside the append
 * transaction, under a lock on the user's devices; *n = 1 when the login
 * event is to be appended. */
typedef struct observe_ctx {
  char *const *ov;
  int64_t user;
  int kind;
  eaudit_time at;
  eaudit_device_result *res;
  eaudit_event *ev;
} observe_ctx;

static int observe_hook(eaudit_store *s, void *payload, size_t *n) {
  observe_ctx *x = payload;
  *n = 0;
  int rc = eaudit__dq_lock_user(s, x->user);
  if (rc == 0)
    rc = observe_locked(s, x->ov, x->user, x->kind, x->at, x->res);
  if (rc == 0 && x->ev && x->res->record) {
    eaudit_event_set(x->ev, EAUDIT_FIELD_DEVICE, x->res->device);
    eaudit_event_set(x->ev, EAUDIT_FIELD_REASON, x->res->reason);
    *n = 1;
  }
  return rc;
}

/* Observe, and append the login event when @p type is nonzero and the
 * table says to record, in one transaction. */
static int observe(eaudit_store *s, const eaudit_device_info *info,
                   int64_t user, int kind, eaudit_time at, int type,
                   eaudit_device_result **out) {
  if (out)
    *out = NULL;
  int rc = check_args(s, kind, at);
  if (rc)
    return rc;
  static char *const none[NATTR];
  char *const *ov = info ? info->v : none;
  eaudit_device_result *res = eaudit__calloc(1, sizeof *res);
  if (res == NULL)
    return eaudit__enomem();
  eaudit_event *ev = NULL;
  if (type) {
    /* Everything about the event but its device and reason is known now:
     * validate it before the transaction, as the append path does. */
    if ((rc = eaudit_event_new(&ev)) == 0) {
      eaudit_event_set(ev, EAUDIT_FIELD_TYPE, type);
      eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, at);
      eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, user);
      eaudit_event_set(ev, EAUDIT_FIELD_ACTOR, user);
      eaudit_event_set(ev, EAUDIT_FIELD_REASON, EAUDIT_REASON_FIRST_SEEN);
      if (kind == EAUDIT_DEVICE_MOBILE)
        eaudit_event_set(ev, EAUDIT_FIELD_CREDENTIAL,
                         EAUDIT_CREDENTIAL_MOBILE);
      if (info && info->site >= 0)
        eaudit_event_set(ev, EAUDIT_FIELD_SITE, info->site);
      rc = eaudit__validate_events(s, &ev, 1, NULL);
    }
  }
  size_t n = 0;
  if (s->pg) {
    /* The same decision inside the PostgreSQL append transaction, before
     * the own chain takes the event (pg_store.c). */
    if (rc == 0) {
      observe_ctx x = {ov, user, kind, at, res, ev};
      rc = eaudit__pg_store_append_with(s, &ev, ev ? 1 : 0, observe_hook, &x,
                                        &n);
    }
    goto done;
  }
  /* An observation the table says not to record commits without waiting
   * for the disk (see relaxable); one that records is redone at the
   * store's durability. */
  int relax = rc == 0 && relaxable(s), relaxed = 0;
  for (;;) {
    if (rc == 0 && relax && (rc = set_sync(s, 0)) == 0)
      relaxed = 1;
    if (rc == 0)
      rc = begin_observe(s);
    if (rc)
      break;
    rc = observe_locked(s, ov, user, kind, at, res);
    if (rc == 0 && relaxed && res->record) {
      eaudit__rollback(s);
      relax = 0;
      if ((rc = set_sync(s, 1)) == 0)
        relaxed = 0;
      continue;
    }
    if (rc == 0 && ev && res->record) {
      eaudit_event_set(ev, EAUDIT_FIELD_DEVICE, res->device);
      eaudit_event_set(ev, EAUDIT_FIELD_REASON, res->reason);
      n = 1;
      rc = eaudit__append_locked(s, &ev, 1, NULL);
    }
    unsigned before = 0;
    int known = rc == 0 && data_version(s, &before);
    rc = eaudit__txn_end_write(s, rc, &ev, n);
    note_version(s, known && rc == 0, before);
    break;
  }
  if (relaxed) {
    int rc2 = set_sync(s, 1);
    if (rc == 0)
      rc = rc2;
  }
done:
  if (rc == 0 && n)
    res->seq = ev->v[EAUDIT_FIELD_SEQ];
  eaudit_event_free(ev);
  if (rc) {
    eaudit__free(res);
    return rc;
  }
  eaudit__object_born();
  if (out)
    *out = res;
  else
    eaudit_device_result_free(res);
  return EAUDIT_OK;
}

int eaudit_store_observe_device(eaudit_store *s,
                                const eaudit_device_info *info, int64_t user,
                                int kind, eaudit_time at,
                                eaudit_device_result **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  return observe(s, info, user, kind, at, 0, out);
}

int eaudit_store_admin_login(eaudit_store *s, const eaudit_device_info *info,
                             int64_t user, eaudit_time at,
                             eaudit_device_result **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  return observe(s, info, user, EAUDIT_DEVICE_ADMIN_WEB, at,
                 EAUDIT_TYPE_ADMIN_AREA_LOGIN, out);
}

int eaudit_store_mobile_login(eaudit_store *s, const eaudit_device_info *info,
                              int64_t user, eaudit_time at,
                              eaudit_device_result **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  return observe(s, info, user, EAUDIT_DEVICE_MOBILE, at,
                 EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE, out);
}

/* --- the devices list and its maintenance --- */

static void items_free(dev_item *items, size_t n) {
  for (size_t i = 0; i < n; i++) {
    eaudit__free(items[i].label);
    for (int a = 0; a < NATTR; a++)
      eaudit__free(items[i].v[a]);
  }
  eaudit__free(items);
}

void eaudit_devices_free(eaudit_devices *list) {
  if (list == NULL)
    return;
  items_free(list->items, list->n);
  eaudit__free(list);
  eaudit__object_died();
}

size_t eaudit_devices_size(const eaudit_devices *list) {
  return list ? list->n : 0;
}

int eaudit_devices_get(const eaudit_devices *list, size_t index, int64_t *id,
                       int *kind, const char **label, eaudit_time *first_seen,
                       eaudit_time *last_seen, int64_t *times_seen) {
  if (list == NULL)
    return eaudit__einval("devices list must not be NULL");
  if (index >= list->n)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "device index %zu is past the end (%zu)", index,
                         list->n);
  const dev_item *it = &list->items[index];
  if (id)
    *id = it->id;
  if (kind)
    *kind = it->kind;
  if (label)
    *label = it->label;
  if (first_seen)
    *first_seen = it->first_seen;
  if (last_seen)
    *last_seen = it->last_seen;
  if (times_seen)
    *times_seen = it->times_seen;
  return EAUDIT_OK;
}

const char *eaudit_devices_attr(const eaudit_devices *list, size_t index,
                                int attr) {
  if (list == NULL || index >= list->n || attr <= EAUDIT_DEVATTR_KEY ||
      attr > LAST_ATTR)
    return NULL;
  return list->items[index].v[attr];
}

int eaudit_store_devices(eaudit_store *s, int64_t user, int kind,
                         eaudit_devices **out) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  *out = NULL;
  if (kind != 0 && kind != EAUDIT_DEVICE_ADMIN_WEB &&
      kind != EAUDIT_DEVICE_MOBILE)
    return eaudit__einval("unknown device kind %d", kind);
  eaudit__dq q;
  eaudit__dq_start(&q, s, EAUDIT__DQ_LIST);
  eaudit__dq_int(&q, 1, user);
  eaudit__dq_int(&q, 2, kind ? kind : EAUDIT_DEVICE_ADMIN_WEB);
  eaudit__dq_int(&q, 3, kind ? kind : EAUDIT_DEVICE_MOBILE);
  dev_item *items = NULL;
  size_t n = 0, cap = 0;
  int rc = eaudit__dq_run(&q, "listing devices");
  while (rc == 0 && (rc = eaudit__dq_next(&q)) == EAUDIT_OK) {
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 8;
      dev_item *ni = eaudit__realloc(items, nc * sizeof *ni);
      if (ni == NULL) {
        rc = eaudit__enomem();
        break;
      }
      items = ni;
      cap = nc;
    }
    dev_item *it = &items[n++];
    memset(it, 0, sizeof *it);
    it->id = eaudit__dq_col_int(&q, 0);
    it->kind = (int)eaudit__dq_col_int(&q, 1);
    it->first_seen = eaudit__dq_col_int(&q, 3);
    it->last_seen = eaudit__dq_col_int(&q, 4);
    it->times_seen = eaudit__dq_col_int(&q, 5);
    const char *t = eaudit__dq_col_text(&q, 2);
    if (t && (it->label = eaudit__strdup(t)) == NULL)
      rc = eaudit__enomem();
    for (int a = FIRST_SCORED; rc == 0 && a <= LAST_ATTR; a++) {
      t = eaudit__dq_col_text(&q, 6 + a - FIRST_SCORED);
      if (t && (it->v[a] = eaudit__strdup(t)) == NULL)
        rc = eaudit__enomem();
    }
  }
  eaudit__dq_end(&q);
  if (rc == EAUDIT_DONE)
    rc = EAUDIT_OK;
  eaudit_devices *list = rc ? NULL : eaudit__calloc(1, sizeof *list);
  if (rc == 0 && list == NULL)
    rc = eaudit__enomem();
  if (rc) {
    items_free(items, n);
    return rc;
  }
  list->items = items;
  list->n = n;
  eaudit__object_born();
  *out = list;
  return EAUDIT_OK;
}

/* Run one statement (?1 an integer, ?2 optional text) in its own write
 * transaction; report how many rows changed. */
static int write_one(eaudit_store *s, int id, int64_t a, const char *text,
                     int64_t *changed) {
  if (s->pg && s->read_only)
    return eaudit__error(EAUDIT_EREADONLY, EAUDIT_ECLASS_INVALID, 0,
                         "store was opened read-only");
  int rc = s->pg ? EAUDIT_OK : eaudit__txn_begin_write(s);
  if (rc)
    return rc;
  eaudit__dq q;
  eaudit__dq_start(&q, s, id);
  eaudit__dq_int(&q, 1, a);
  if (text)
    eaudit__dq_text(&q, 2, text);
  rc = eaudit__dq_run(&q, "writing devices");
  *changed = q.changed;
  eaudit__dq_end(&q);
  return s->pg ? rc : eaudit__txn_end_write(s, rc, NULL, 0);
}

static int no_device(int64_t device) {
  return eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_INVALID, 0,
                       "no device with id %lld", (long long)device);
}

int eaudit_store_rename_device(eaudit_store *s, int64_t device,
                               const char *label) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (label == NULL)
    return eaudit__einval("label must not be NULL");
  size_t n = strlen(label);
  if (n == 0 || n > 1024)
    return eaudit__error(n ? EAUDIT_ETOOBIG : EAUDIT_EINVAL,
                         EAUDIT_ECLASS_INVALID, 0,
                         "a device label must be 1-1024 bytes, not %zu", n);
  if (!eaudit__utf8_valid(label, n))
    return eaudit__error(EAUDIT_EUTF8, EAUDIT_ECLASS_INVALID, 0,
                         "device label is not valid UTF-8");
  int64_t changed = 0;
  int rc = write_one(s, EAUDIT__DQ_RENAME, device, label, &changed);
  if (rc)
    return rc;
  if (changed == 0)
    return no_device(device);
  /* The first name a device gets in the directory holds from the start,
   * so reports name it on its earlier events too. */
  char *old = NULL;
  rc = eaudit_store_name_at(s, EAUDIT_KIND_DEVICE, device, EAUDIT_TIME_NONE,
                            &old);
  eaudit_free(old);
  if (rc != 0 && rc != EAUDIT_ENOTFOUND)
    return rc;
  return eaudit_store_set_name(s, EAUDIT_KIND_DEVICE, device, label,
                               rc == EAUDIT_ENOTFOUND ? EAUDIT_TIME_NONE
                                                      : eaudit_store_now(s));
}

int eaudit_store_forget_device(eaudit_store *s, int64_t device) {
  EAUDIT__CHECK_STORE_ANY(s);
  int64_t changed = 0;
  int rc = write_one(s, EAUDIT__DQ_FORGET, device, NULL, &changed);
  if (rc == 0 && changed == 0)
    rc = no_device(device);
  return rc;
}

int eaudit_store_forget_unseen_devices(eaudit_store *s, int days,
                                       int64_t *forgotten) {
  EAUDIT__CHECK_STORE_ANY(s);
  if (forgotten)
    *forgotten = 0;
  if (days < 1 || days > 365000)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "days must be 1-365000, not %d", days);
  eaudit_time cutoff = eaudit_store_now(s) - (int64_t)days * 86400 * 1000000;
  int64_t changed = 0;
  int rc = write_one(s, EAUDIT__DQ_FORGET_UNSEEN, cutoff, NULL, &changed);
  if (rc == 0 && forgotten)
    *forgotten = changed;
  return rc;
}
