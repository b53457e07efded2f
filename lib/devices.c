/* Device recognition (docs/devices.md): observations, the decision table,
 * the login calls, the devices list and the admin login-hour histogram. */
#include "devices_internal.h"

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

#define DEV_COLS                                                               \
  "id, dkey, platform, os_family, os_version, browser_family, "               \
  "browser_version, model, screen, time_zone, language, ip, last_seen"
#define COL_LAST_SEEN 12

#define DAY_US INT64_C(86400000000)

/* The UTC day of a time (floor division: days before 1970 are negative). */
static int64_t day_of(eaudit_time t) {
  int64_t d = t / DAY_US;
  return t % DAY_US < 0 ? d - 1 : d;
}

enum {
  Q_ANY,
  Q_BY_KEY,
  Q_BY_CLS,
  Q_CLS_NULL,
  Q_RECENT,
  Q_HAS_OS,
  Q_BY_OS,
  Q_INSERT,
  Q_UPDATE,
  Q_SEEN,
  Q_HOUR,
  Q_COUNT
};

/* The probes read at most ?4 rows in index order (no sort). */
#define RECENT_FIRST " ORDER BY seen_day DESC, id DESC LIMIT ?4"

static const char *const q_sql[Q_COUNT] = {
    [Q_ANY] = "SELECT 1 FROM devices WHERE user_id = ?1 AND kind = ?2 LIMIT 1",
    [Q_BY_KEY] = "SELECT " DEV_COLS " FROM devices WHERE user_id = ?1 AND "
                 "kind = ?2 AND dkey = ?3 ORDER BY id",
    [Q_BY_CLS] = "SELECT " DEV_COLS " FROM devices INDEXED BY devices_cls "
                 "WHERE user_id = ?1 AND kind = ?2 AND cls = ?3" RECENT_FIRST,
    [Q_CLS_NULL] = "SELECT " DEV_COLS " FROM devices INDEXED BY devices_cls "
                   "WHERE user_id = ?1 AND kind = ?2 AND cls IS NULL"
                   RECENT_FIRST,
    [Q_RECENT] = "SELECT " DEV_COLS " FROM devices INDEXED BY devices_recent "
                 "WHERE user_id = ?1 AND kind = ?2" RECENT_FIRST,
    [Q_HAS_OS] = "SELECT 1 FROM devices WHERE user_id = ?1 AND kind = ?2 AND "
                 "os_key = ?3 LIMIT 1",
    [Q_BY_OS] = "SELECT " DEV_COLS " FROM devices INDEXED BY devices_os "
                "WHERE user_id = ?1 AND kind = ?2 AND os_key = ?3"
                RECENT_FIRST,
    [Q_INSERT] =
        "INSERT INTO devices(user_id, kind, dkey, platform, os_family, "
        "os_version, browser_family, browser_version, model, screen, "
        "time_zone, language, ip, os_key, cls, label, first_seen, last_seen, "
        "times_seen, seen_day) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
        "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, 1, ?18)",
    [Q_UPDATE] = "UPDATE devices SET dkey = ?3, platform = ?4, os_family = ?5, "
                 "os_version = ?6, browser_family = ?7, browser_version = ?8, "
                 "model = ?9, screen = ?10, time_zone = ?11, language = ?12, "
                 "ip = ?13, os_key = ?14, cls = ?15, "
                 "last_seen = max(last_seen, ?17), "
                 "times_seen = times_seen + 1, seen_day = ?18 WHERE id = ?1",
    /* Seen again, nothing learned, same day: no indexed column changes. */
    [Q_SEEN] = "UPDATE devices SET last_seen = max(last_seen, ?2), "
               "times_seen = times_seen + 1 WHERE id = ?1",
    [Q_HOUR] = "INSERT INTO device_login_hours(user_id, hour, n) VALUES "
               "(?1, ?2, 1) ON CONFLICT(user_id, hour) DO UPDATE SET "
               "n = n + 1",
};

typedef struct devstate {
  sqlite3_stmt *st[Q_COUNT];
  /* The file's data version (SQLITE_FCNTL_DATA_VERSION) right after this
   * handle's last observation committed; valid when have_version. */
  unsigned version;
  int have_version;
} devstate;

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

void eaudit__devices_free(eaudit_store *s) {
  devstate *d = s->devices;
  if (d == NULL)
    return;
  /* After fork() the child must not touch the parent's SQLite state. */
  if (eaudit__store_same_process(s))
    for (int i = 0; i < Q_COUNT; i++)
      sqlite3_finalize(d->st[i]);
  eaudit__free(d);
  s->devices = NULL;
}

static sqlite3_stmt *q(eaudit_store *s, int id) {
  devstate *d = s->devices;
  if (d == NULL) {
    d = eaudit__calloc(1, sizeof *d);
    if (d == NULL) {
      eaudit__enomem();
      return NULL;
    }
    s->devices = d;
  }
  sqlite3_stmt *st = d->st[id];
  if (st == NULL) {
    int rc = sqlite3_prepare_v3(s->db, q_sql[id], -1,
                                SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
      eaudit__sqlite_error(s, rc, "preparing a device statement");
      return NULL;
    }
    d->st[id] = st;
  } else {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
  return st;
}

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

static int row_load(dev_row *r, sqlite3_stmt *st) {
  row_clear(r);
  r->id = sqlite3_column_int64(st, 0);
  r->last_seen = sqlite3_column_int64(st, COL_LAST_SEEN);
  for (int a = EAUDIT_DEVATTR_KEY; a <= LAST_ATTR; a++) {
    const char *t = (const char *)sqlite3_column_text(st, a);
    if (t && (r->v[a] = eaudit__strdup(t)) == NULL)
      return eaudit__enomem();
  }
  return EAUDIT_OK;
}

/* Column values of the current row as an attribute vector (borrowed). */
static void row_view(sqlite3_stmt *st, char *v[NATTR]) {
  v[0] = NULL;
  for (int a = EAUDIT_DEVATTR_KEY; a <= LAST_ATTR; a++)
    v[a] = (char *)sqlite3_column_text(st, a);
}

typedef struct matcher {
  eaudit_store *s;
  char *const *ov;
  int kind;
  double threshold;
  dev_row best;
  double best_score, near_score; /* the match; the nearest of all */
} matcher;

/* Score every row of a probe; keep the best one at or above threshold. */
static int scan(matcher *m, sqlite3_stmt *st) {
  int rc;
  char *dv[NATTR];
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    row_view(st, dv);
    double sc = score(m->s, dv, m->ov, 0);
    if (sc > m->near_score)
      m->near_score = sc;
    if (hard_conflict(dv, m->ov, 0) || sc < m->threshold)
      continue;
    /* Equal scores: the most recently seen wins, then the newest. */
    if (m->best.id &&
        (sc < m->best_score ||
         (sc == m->best_score &&
          (sqlite3_column_int64(st, COL_LAST_SEEN) < m->best.last_seen ||
           (sqlite3_column_int64(st, COL_LAST_SEEN) == m->best.last_seen &&
            sqlite3_column_int64(st, 0) < m->best.id)))))
      continue;
    m->best_score = sc;
    if ((rc = row_load(&m->best, st))) {
      sqlite3_reset(st);
      return rc;
    }
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? EAUDIT_OK
                           : eaudit__sqlite_error(m->s, rc, "reading devices");
}

static int bind_probe(sqlite3_stmt *st, int64_t user, int kind) {
  sqlite3_bind_int64(st, 1, user);
  sqlite3_bind_int(st, 2, kind);
  sqlite3_bind_int(st, 4, CANDIDATES);
  return EAUDIT_OK;
}

static int exists(eaudit_store *s, sqlite3_stmt *st, int *out) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return eaudit__sqlite_error(s, rc, "reading devices");
  *out = rc == SQLITE_ROW;
  return EAUDIT_OK;
}

/* "Different browser family on matching hardware attributes": a device of
 * the same OS family whose attributes, the browser left out, match. */
static int other_browser_same_hw(eaudit_store *s, char *const ov[NATTR],
                                 int64_t user, int kind, const char *os_key,
                                 double threshold, int *out) {
  *out = 0;
  sqlite3_stmt *st = q(s, os_key ? Q_BY_OS : Q_RECENT);
  if (st == NULL)
    return eaudit_error_last()->code;
  bind_probe(st, user, kind);
  if (os_key)
    sqlite3_bind_text(st, 3, os_key, -1, SQLITE_STATIC);
  int rc;
  char *dv[NATTR];
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    row_view(st, dv);
    if (!differs(dv[EAUDIT_DEVATTR_BROWSER_FAMILY],
                 ov[EAUDIT_DEVATTR_BROWSER_FAMILY]) ||
        hard_conflict(dv, ov, 1))
      continue;
    if (score(s, dv, ov, 1) >= threshold) {
      *out = 1;
      break;
    }
  }
  sqlite3_reset(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE
             ? EAUDIT_OK
             : eaudit__sqlite_error(s, rc, "reading devices");
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
  sqlite3_stmt *st = rc ? NULL : q(s, id ? Q_UPDATE : Q_INSERT);
  if (rc == 0 && st == NULL)
    rc = eaudit_error_last()->code;
  if (rc == 0) {
    if (id)
      sqlite3_bind_int64(st, 1, id);
    else {
      sqlite3_bind_int64(st, 1, user);
      sqlite3_bind_int(st, 2, kind);
      sqlite3_bind_text(st, 16, label, -1, SQLITE_STATIC);
    }
    for (int a = EAUDIT_DEVATTR_KEY; a <= LAST_ATTR; a++)
      if (v[a])
        sqlite3_bind_text(st, 2 + a, v[a], -1, SQLITE_STATIC);
    if (os_key)
      sqlite3_bind_text(st, 14, os_key, -1, SQLITE_STATIC);
    if (cls)
      sqlite3_bind_text(st, 15, cls, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 17, at);
    sqlite3_bind_int64(st, 18, day);
    int src = sqlite3_step(st);
    sqlite3_reset(st);
    if (src != SQLITE_DONE)
      rc = eaudit__sqlite_error(s, src, "writing a device");
    else if (id_out)
      *id_out = id ? id : sqlite3_last_insert_rowid(s->db);
  }
  eaudit__free(cls);
  eaudit__free(os_key);
  eaudit__free(label);
  return rc;
}

/* A known device seen again with nothing learned, on the UTC day it was
 * last seen: only the counters change, and no indexed column. */
static int seen_again(eaudit_store *s, int64_t id, eaudit_time at) {
  sqlite3_stmt *st = q(s, Q_SEEN);
  if (st == NULL)
    return eaudit_error_last()->code;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, at);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? EAUDIT_OK
                           : eaudit__sqlite_error(s, rc, "writing a device");
}

static int hour_seen(eaudit_store *s, int64_t user, eaudit_time at) {
  eaudit__civil cv;
  int rc = eaudit__tz_to_civil(s->tz, at, &cv);
  if (rc)
    return rc;
  sqlite3_stmt *st = q(s, Q_HOUR);
  if (st == NULL)
    return eaudit_error_last()->code;
  sqlite3_bind_int64(st, 1, user);
  sqlite3_bind_int(st, 2, cv.hour);
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? EAUDIT_OK
                           : eaudit__sqlite_error(s, rc, "counting login hours");
}

int eaudit__login_hours(eaudit_store *s, int64_t user, int64_t counts[24]) {
  memset(counts, 0, 24 * sizeof counts[0]);
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db,
                              "SELECT hour, n FROM device_login_hours WHERE "
                              "user_id = ?1",
                              -1, &st, NULL);
  if (rc != SQLITE_OK)
    return eaudit__sqlite_error(s, rc, "reading login hours");
  sqlite3_bind_int64(st, 1, user);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    int h = sqlite3_column_int(st, 0);
    if (h >= 0 && h < 24)
      counts[h] = sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? EAUDIT_OK
                           : eaudit__sqlite_error(s, rc, "reading login hours");
}

/* The decision table, inside the caller's write transaction. */
static int observe_locked(eaudit_store *s, char *const ov[NATTR],
                          int64_t user, int kind, eaudit_time at,
                          eaudit_device_result *res) {
  memset(res, 0, sizeof *res);
  matcher m = {.s = s, .ov = ov, .kind = kind};
  m.threshold = (double)s->opts.ints[EAUDIT_OPT_DEVICE_THRESHOLD] / 1000.0;
  int rc = EAUDIT_OK, any = 0, via_key = 0;
  sqlite3_stmt *st;
  /* A matching key dominates, unless the device it names is plainly other
   * hardware (a copied key). A device found by key also answers whether the
   * user has any device of this kind. */
  if (ov[EAUDIT_DEVATTR_KEY]) {
    if ((st = q(s, Q_BY_KEY)) == NULL)
      return eaudit_error_last()->code;
    bind_probe(st, user, kind);
    sqlite3_bind_text(st, 3, ov[EAUDIT_DEVATTR_KEY], -1, SQLITE_STATIC);
    char *dv[NATTR];
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
      row_view(st, dv);
      if (hard_conflict(dv, ov, 0))
        continue;
      m.best_score = score(s, dv, ov, 0);
      rc = row_load(&m.best, st);
      via_key = 1;
      break;
    }
    sqlite3_reset(st);
    if (rc == 0 && src != SQLITE_ROW && src != SQLITE_DONE)
      rc = eaudit__sqlite_error(s, src, "reading devices");
    if (rc)
      goto out;
  }
  if (!via_key) {
    if ((st = q(s, Q_ANY)) == NULL)
      return eaudit_error_last()->code;
    bind_probe(st, user, kind);
    if ((rc = exists(s, st, &any)))
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
    int probes[2] = {cls ? Q_BY_CLS : Q_RECENT, cls ? Q_CLS_NULL : -1};
    for (int i = 0; rc == 0 && i < 2 && probes[i] >= 0; i++) {
      if ((st = q(s, probes[i])) == NULL) {
        rc = eaudit_error_last()->code;
        break;
      }
      bind_probe(st, user, kind);
      if (probes[i] == Q_BY_CLS)
        sqlite3_bind_text(st, 3, cls, -1, SQLITE_STATIC);
      rc = scan(&m, st);
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
    if ((st = q(s, Q_HAS_OS)) == NULL)
      rc = eaudit_error_last()->code;
    else {
      bind_probe(st, user, kind);
      sqlite3_bind_text(st, 3, os_key, -1, SQLITE_STATIC);
      rc = exists(s, st, &has_os);
    }
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
  devstate *d = s->devices;
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
  devstate *d = s->devices;
  if (d == NULL)
    return;
  d->have_version = ok && data_version(s, &d->version) &&
                    d->version == before + 1;
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
  /* An observation the table says not to record commits without waiting
   * for the disk (see relaxable); one that records is redone at the
   * store's durability. */
  int relax = rc == 0 && relaxable(s), relaxed = 0;
  size_t n = 0;
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
  EAUDIT__CHECK_STORE(s);
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  return observe(s, info, user, kind, at, 0, out);
}

int eaudit_store_admin_login(eaudit_store *s, const eaudit_device_info *info,
                             int64_t user, eaudit_time at,
                             eaudit_device_result **out) {
  EAUDIT__CHECK_STORE(s);
  return observe(s, info, user, EAUDIT_DEVICE_ADMIN_WEB, at,
                 EAUDIT_TYPE_ADMIN_AREA_LOGIN, out);
}

int eaudit_store_mobile_login(eaudit_store *s, const eaudit_device_info *info,
                              int64_t user, eaudit_time at,
                              eaudit_device_result **out) {
  EAUDIT__CHECK_STORE(s);
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
  EAUDIT__CHECK_STORE(s);
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  *out = NULL;
  if (kind != 0 && kind != EAUDIT_DEVICE_ADMIN_WEB &&
      kind != EAUDIT_DEVICE_MOBILE)
    return eaudit__einval("unknown device kind %d", kind);
  sqlite3_stmt *st = NULL;
  int src = sqlite3_prepare_v2(
      s->db,
      "SELECT id, kind, label, first_seen, last_seen, times_seen, platform, "
      "os_family, os_version, browser_family, browser_version, model, "
      "screen, time_zone, language, ip FROM devices INDEXED BY devices_recent "
      "WHERE user_id = ?1 AND kind IN (?2, ?3) ORDER BY id",
      -1, &st, NULL);
  if (src != SQLITE_OK)
    return eaudit__sqlite_error(s, src, "listing devices");
  sqlite3_bind_int64(st, 1, user);
  sqlite3_bind_int(st, 2, kind ? kind : EAUDIT_DEVICE_ADMIN_WEB);
  sqlite3_bind_int(st, 3, kind ? kind : EAUDIT_DEVICE_MOBILE);
  dev_item *items = NULL;
  size_t n = 0, cap = 0;
  int rc = EAUDIT_OK;
  while ((src = sqlite3_step(st)) == SQLITE_ROW) {
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
    it->id = sqlite3_column_int64(st, 0);
    it->kind = sqlite3_column_int(st, 1);
    it->first_seen = sqlite3_column_int64(st, 3);
    it->last_seen = sqlite3_column_int64(st, 4);
    it->times_seen = sqlite3_column_int64(st, 5);
    const char *t = (const char *)sqlite3_column_text(st, 2);
    if (t && (it->label = eaudit__strdup(t)) == NULL)
      rc = eaudit__enomem();
    for (int a = FIRST_SCORED; rc == 0 && a <= LAST_ATTR; a++) {
      t = (const char *)sqlite3_column_text(st, 6 + a - FIRST_SCORED);
      if (t && (it->v[a] = eaudit__strdup(t)) == NULL)
        rc = eaudit__enomem();
    }
    if (rc)
      break;
  }
  sqlite3_finalize(st);
  if (rc == 0 && src != SQLITE_DONE && src != SQLITE_ROW)
    rc = eaudit__sqlite_error(s, src, "listing devices");
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
static int write_one(eaudit_store *s, const char *sql, int64_t a,
                     const char *text, int64_t *changed) {
  int rc = eaudit__txn_begin_write(s);
  if (rc)
    return rc;
  sqlite3_stmt *st = NULL;
  int src = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
  if (src == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, a);
    if (text)
      sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
  }
  sqlite3_finalize(st);
  if (src != SQLITE_DONE)
    rc = eaudit__sqlite_error(s, src, "writing devices");
  else
    *changed = sqlite3_changes(s->db);
  return eaudit__txn_end_write(s, rc, NULL, 0);
}

static int no_device(int64_t device) {
  return eaudit__error(EAUDIT_ENOTFOUND, EAUDIT_ECLASS_INVALID, 0,
                       "no device with id %lld", (long long)device);
}

int eaudit_store_rename_device(eaudit_store *s, int64_t device,
                               const char *label) {
  EAUDIT__CHECK_STORE(s);
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
  int rc = write_one(s, "UPDATE devices SET label = ?2 WHERE id = ?1",
                     device, label, &changed);
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
  EAUDIT__CHECK_STORE(s);
  int64_t changed = 0;
  int rc = write_one(s, "DELETE FROM devices WHERE id = ?1", device, NULL,
                     &changed);
  if (rc == 0 && changed == 0)
    rc = no_device(device);
  return rc;
}

int eaudit_store_forget_unseen_devices(eaudit_store *s, int days,
                                       int64_t *forgotten) {
  EAUDIT__CHECK_STORE(s);
  if (forgotten)
    *forgotten = 0;
  if (days < 1 || days > 365000)
    return eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                         "days must be 1-365000, not %d", days);
  eaudit_time cutoff = eaudit_store_now(s) - (int64_t)days * 86400 * 1000000;
  int64_t changed = 0;
  int rc = write_one(s, "DELETE FROM devices WHERE last_seen < ?1", cutoff,
                     NULL, &changed);
  if (rc == 0 && forgotten)
    *forgotten = changed;
  return rc;
}
