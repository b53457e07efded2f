/* Sinks (FILE *, fd, callback) with one fixed buffer, escapers, local time
 * formatting with a cached offset, and the cache of names at a time. */
#include "report_internal.h"
#include "timeexpr.h"

#include <errno.h>
#include <inttypes.h>
#include <unistd.h>

static int sink_new(eaudit_sink **out, int kind) {
  if (out == NULL)
    return eaudit__einval("out must not be NULL");
  eaudit_sink *k = eaudit__malloc(sizeof *k);
  if (k == NULL)
    return eaudit__enomem();
  memset(k, 0, offsetof(eaudit_sink, buf));
  k->kind = kind;
  k->fd = -1;
  eaudit__object_born();
  *out = k;
  return EAUDIT_OK;
}

int eaudit_sink_from_file(eaudit_sink **out, FILE *fp) {
  if (fp == NULL)
    return eaudit__einval("file must not be NULL");
  int rc = sink_new(out, EAUDIT__SINK_FILE);
  if (rc == 0)
    (*out)->fp = fp;
  return rc;
}

int eaudit_sink_from_fd(eaudit_sink **out, int fd) {
  if (fd < 0)
    return eaudit__einval("file descriptor %d is not valid", fd);
  int rc = sink_new(out, EAUDIT__SINK_FD);
  if (rc == 0)
    (*out)->fd = fd;
  return rc;
}

int eaudit_sink_from_callback(eaudit_sink **out, eaudit_write_fn fn,
                              void *payload) {
  if (fn == NULL)
    return eaudit__einval("callback must not be NULL");
  int rc = sink_new(out, EAUDIT__SINK_FN);
  if (rc == 0) {
    (*out)->fn = fn;
    (*out)->payload = payload;
  }
  return rc;
}

void eaudit_sink_free(eaudit_sink *k) {
  if (k == NULL)
    return;
  eaudit__free(k);
  eaudit__object_died();
}

uint64_t eaudit_sink_bytes(const eaudit_sink *k) { return k ? k->total : 0; }

/* Hand bytes to the destination. */
static int emit(eaudit_sink *k, const char *p, size_t n) {
  if (k->err)
    return k->err;
  if (n == 0)
    return EAUDIT_OK;
  int rc = EAUDIT_OK;
  switch (k->kind) {
  case EAUDIT__SINK_FILE:
    if (fwrite(p, 1, n, k->fp) != n)
      rc = eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_OS, errno,
                         "writing the report failed: %s", strerror(errno));
    break;
  case EAUDIT__SINK_FD:
    while (n > 0) {
      ssize_t w = write(k->fd, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        rc = eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_OS, errno,
                           "writing the report failed: %s", strerror(errno));
        break;
      }
      p += w;
      n -= (size_t)w;
    }
    break;
  default: {
    int r = k->fn(p, n, k->payload);
    if (r != 0)
      rc = eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_CALLBACK, r,
                         "the write callback returned %d", r);
  }
  }
  k->err = rc;
  return rc;
}

int eaudit__sink_write_out(eaudit_sink *k, const void *p, size_t n) {
  if (k->err)
    return k->err;
  k->total += n;
  if (k->len + n <= EAUDIT__SINK_CAP) {
    memcpy(k->buf + k->len, p, n);
    k->len += n;
    return EAUDIT_OK;
  }
  /* Fill the buffer, write it, then either buffer the rest or, when it is
   * larger than the buffer, write it straight through. */
  size_t room = EAUDIT__SINK_CAP - k->len;
  memcpy(k->buf + k->len, p, room);
  k->len = EAUDIT__SINK_CAP;
  int rc = emit(k, k->buf, k->len);
  k->len = 0;
  if (rc)
    return rc;
  const char *rest = (const char *)p + room;
  n -= room;
  if (n >= EAUDIT__SINK_CAP)
    return emit(k, rest, n);
  memcpy(k->buf, rest, n);
  k->len = n;
  return EAUDIT_OK;
}

int eaudit__sink_flush(eaudit_sink *k) {
  int rc = emit(k, k->buf, k->len);
  k->len = 0;
  if (rc == 0 && k->kind == EAUDIT__SINK_FILE && fflush(k->fp) != 0)
    rc = k->err = eaudit__error(EAUDIT_EIO, EAUDIT_ECLASS_OS, errno,
                                "writing the report failed: %s",
                                strerror(errno));
  return rc;
}

int eaudit_sink_flush(eaudit_sink *k) {
  if (k == NULL)
    return eaudit__einval("sink must not be NULL");
  return eaudit__sink_flush(k);
}

static int to_memory(const void *p, size_t n, void *payload) {
  return eaudit__buf_put(payload, p, n) ? 1 : 0;
}

int eaudit__sink_memory(eaudit_sink **out, eaudit__buf *b) {
  return eaudit_sink_from_callback(out, to_memory, b);
}

int eaudit__put_i64(eaudit_sink *k, int64_t v) {
  /* Two digits per division. */
  static const char pairs[201] =
      "00010203040506070809101112131415161718192021222324252627282930313233"
      "34353637383940414243444546474849505152535455565758596061626364656667"
      "6869707172737475767778798081828384858687888990919293949596979899";
  char tmp[24];
  char *p = tmp + sizeof tmp;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  while (u >= 100) {
    unsigned d = (unsigned)(u % 100);
    u /= 100;
    p -= 2;
    memcpy(p, pairs + 2 * d, 2);
  }
  if (u >= 10) {
    p -= 2;
    memcpy(p, pairs + 2 * u, 2);
  } else {
    *--p = (char)('0' + u);
  }
  if (v < 0)
    *--p = '-';
  return eaudit__put(k, p, (size_t)(tmp + sizeof tmp - p));
}

/* --- escapers --- */

void eaudit__put_json_str(eaudit_sink *k, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  eaudit__putc(k, '"');
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    eaudit__put(k, s + run, i - run);
    run = i + 1;
    char e[7] = {'\\', 0};
    size_t el = 2;
    switch (c) {
    case '"': e[1] = '"'; break;
    case '\\': e[1] = '\\'; break;
    case '\n': e[1] = 'n'; break;
    case '\r': e[1] = 'r'; break;
    case '\t': e[1] = 't'; break;
    default:
      memcpy(e + 1, "u00", 3);
      e[4] = hex[c >> 4];
      e[5] = hex[c & 15];
      el = 6;
    }
    eaudit__put(k, e, el);
  }
  eaudit__put(k, s + run, n - run);
  eaudit__putc(k, '"');
}

/* Text for XML and HTML: & < > " ' escaped (so "]]>" cannot appear), and
 * the characters XML 1.0 forbids (C0 controls but tab, LF and CR; U+FFFE,
 * U+FFFF) replaced by U+FFFD. */
/* Bytes that put_xml must look at: & < > " ', the C0 controls but tab,
 * LF and CR, DEL, and 0xef (the lead byte of U+FFFE and U+FFFF). */
static const unsigned char xml_special[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
    [0x06] = 1, [0x07] = 1, [0x08] = 1, [0x0b] = 1, [0x0c] = 1, [0x0e] = 1,
    [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
    [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1,
    [0x1b] = 1, [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['&'] = 1,
    ['<'] = 1,  ['>'] = 1,  ['"'] = 1,  ['\''] = 1, [0x7f] = 1, [0xef] = 1};

void eaudit__put_xml(eaudit_sink *k, const char *s, size_t n) {
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!xml_special[c])
      continue;
    const char *rep = NULL;
    size_t skip = 1, len = 3;
    switch (c) {
    case '&': rep = "&amp;"; len = 5; break;
    case '<': rep = "&lt;"; len = 4; break;
    case '>': rep = "&gt;"; len = 4; break;
    case '"': rep = "&quot;"; len = 6; break;
    case '\'': rep = "&#39;"; len = 5; break;
    case '\t': case '\n': case '\r': break;
    default:
      if (c < 0x20 || c == 0x7f)
        rep = "\xef\xbf\xbd";
      else if (c == 0xef && i + 2 < n && (unsigned char)s[i + 1] == 0xbf &&
               ((unsigned char)s[i + 2] == 0xbe ||
                (unsigned char)s[i + 2] == 0xbf)) {
        rep = "\xef\xbf\xbd";
        skip = 3;
      }
    }
    if (rep == NULL)
      continue;
    eaudit__put(k, s + run, i - run);
    eaudit__put(k, rep, len);
    i += skip - 1;
    run = i + 1;
  }
  eaudit__put(k, s + run, n - run);
}

/* --- times --- */

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static char *two(char *p, int v) {
  p[0] = (char)('0' + v / 10);
  p[1] = (char)('0' + v % 10);
  return p + 2;
}

/* YYYY-MM-DD of a day since 1970. */
static char *date_text(char *p, int64_t days) {
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  int yy = (int)(y < 0 ? 0 : y > 9999 ? 9999 : y);
  p = two(p, yy / 100);
  p = two(p, yy % 100);
  *p++ = '-';
  p = two(p, m);
  *p++ = '-';
  return two(p, d);
}

/* YYYY-MM-DD?hh:mm:ss[.uuuuuu] of t shifted by offset seconds; the date
 * comes from *cache when it holds that day (cache may be NULL). */
static char *civil_text_cached(char *p, eaudit_time t, int offset, char sep,
                               int usec, eaudit__clockfmt *cache) {
  t += (eaudit_time)offset * 1000000;
  int64_t days = floor_div(t, INT64_C(86400000000));
  int64_t us = t - days * INT64_C(86400000000);
  if (cache == NULL) {
    p = date_text(p, days);
  } else {
    if (!cache->date_valid || cache->date_day != days) {
      date_text(cache->date, days);
      cache->date_day = days;
      cache->date_valid = 1;
    }
    memcpy(p, cache->date, 10);
    p += 10;
  }
  *p++ = sep;
  int64_t sec = us / 1000000;
  p = two(p, (int)(sec / 3600));
  *p++ = ':';
  p = two(p, (int)(sec / 60 % 60));
  *p++ = ':';
  p = two(p, (int)(sec % 60));
  if (usec) {
    int f = (int)(us % 1000000);
    *p++ = '.';
    for (int i = 5; i >= 0; i--) {
      p[i] = (char)('0' + f % 10);
      f /= 10;
    }
    p += 6;
  }
  return p;
}

static char *civil_text(char *p, eaudit_time t, int offset, char sep,
                        int usec) {
  return civil_text_cached(p, t, offset, sep, usec, NULL);
}

void eaudit__fmt_utc(eaudit_time t, char *buf) {
  char *p = civil_text(buf, t, 0, 'T', 1);
  *p++ = 'Z';
  *p = '\0';
}

static int offset_at(eaudit__tz *tz, eaudit_time t, int *out) {
  eaudit__civil c;
  int rc = eaudit__tz_to_civil(tz, t, &c);
  if (rc == 0)
    *out = c.offset;
  return rc;
}

int eaudit__clockfmt_local(eaudit__clockfmt *c, eaudit_time t, int usec,
                           int plain, char *buf, size_t size) {
  if (size < 40)
    return eaudit__einval("time buffer too small");
  int64_t day = floor_div(t, INT64_C(86400000000));
  int64_t minute = floor_div(t, 60000000);
  if (!(c->day_valid && day == c->day) &&
      !(c->valid && minute == c->minute)) {
    /* When the offset is the same at both ends of the UTC day, no zone
     * transition falls inside it (zones change at most once a day);
     * otherwise the same test on the minute, and failing that, the instant
     * itself. */
    int a, b;
    int rc = offset_at(c->tz, day * INT64_C(86400000000), &a);
    if (rc == 0)
      rc = offset_at(c->tz, (day + 1) * INT64_C(86400000000) - 1, &b);
    if (rc)
      return rc;
    c->day_valid = a == b;
    c->day = day;
    c->offset = a;
    c->valid = 0;
    if (!c->day_valid) {
      if ((rc = offset_at(c->tz, minute * 60000000, &a)) == 0)
        rc = offset_at(c->tz, minute * 60000000 + 59999999, &b);
      if (rc)
        return rc;
      c->valid = a == b;
      c->minute = minute;
      c->offset = a;
      if (!c->valid && (rc = offset_at(c->tz, t, &c->offset)))
        return rc;
    }
  }
  int off = c->offset;
  char *p = civil_text_cached(buf, t, off, plain ? ' ' : 'T', usec, c);
  if (!plain) {
    int o = off < 0 ? -off : off;
    *p++ = off < 0 ? '-' : '+';
    p = two(p, o / 3600);
    *p++ = ':';
    p = two(p, o / 60 % 60);
    if (o % 60) {
      *p++ = ':';
      p = two(p, o % 60);
    }
  }
  *p = '\0';
  return EAUDIT_OK;
}

/* --- names at a time --- */

int eaudit__names_init(eaudit__names *n, eaudit_store *s, size_t entries) {
  memset(n, 0, sizeof *n);
  n->s = s;
  n->n_sets = entries / EAUDIT__NAME_WAYS ? entries / EAUDIT__NAME_WAYS : 1;
  n->tags = eaudit__calloc(n->n_sets * EAUDIT__NAME_WAYS, sizeof *n->tags);
  n->victim = eaudit__calloc(n->n_sets, 1);
  n->e = eaudit__calloc(n->n_sets * EAUDIT__NAME_WAYS, sizeof *n->e);
  if (!n->tags || !n->victim || !n->e) {
    eaudit__names_free(n);
    return eaudit__enomem();
  }
  if (s->pg)
    return EAUDIT_OK; /* one statement per miss: eaudit__pg_name_span */
  static const char *const sql[3] = {
      "SELECT valid_from, name FROM names WHERE kind = ?1 AND entity = ?2 AND "
      "valid_from <= ?3 ORDER BY valid_from DESC LIMIT 1",
      "SELECT min(valid_from) FROM names WHERE kind = ?1 AND entity = ?2 AND "
      "valid_from > ?3",
      "SELECT valid_from, name FROM names WHERE kind = ?1 AND entity = ?2 "
      "ORDER BY valid_from LIMIT 1"};
  sqlite3_stmt **st[3] = {&n->at, &n->next, &n->first};
  for (int i = 0; i < 3; i++) {
    int rc = sqlite3_prepare_v2(s->db, sql[i], -1, st[i], NULL);
    if (rc != SQLITE_OK) {
      eaudit__names_free(n);
      return eaudit__sqlite_error(s, rc, "preparing name lookups");
    }
  }
  return EAUDIT_OK;
}

static void entry_clear(eaudit__name_entry *e) {
  if (e->name != e->text)
    eaudit__free(e->name);
  e->name = NULL;
  e->len = 0;
}

void eaudit__names_free(eaudit__names *n) {
  sqlite3_finalize(n->at);
  sqlite3_finalize(n->next);
  sqlite3_finalize(n->first);
  n->at = n->next = n->first = NULL;
  if (n->e)
    for (size_t i = 0; i < n->n_sets * EAUDIT__NAME_WAYS; i++)
      entry_clear(&n->e[i]);
  eaudit__free(n->tags);
  eaudit__free(n->victim);
  eaudit__free(n->e);
  n->tags = NULL;
  n->victim = NULL;
  n->e = NULL;
  n->n_sets = 0;
}

/* Keep a copy of the name: in the entry when it fits. */
static void entry_set_name(eaudit__name_entry *e, const char *name,
                           size_t len) {
  if (len < EAUDIT__NAME_INLINE) {
    e->name = e->text;
  } else if ((e->name = eaudit__malloc(len + 1)) == NULL) {
    return;
  }
  memcpy(e->name, name, len);
  e->name[len] = '\0';
  e->len = (uint32_t)len;
}

const char *eaudit__names_get_len(eaudit__names *n, int kind, int64_t id,
                                  eaudit_time t, size_t *len) {
  /* The kind goes in before the multiply so that it moves every bit of
   * the hash; the set comes from the top bits, the tag is the hash. */
  uint64_t h = ((uint64_t)id ^ ((uint64_t)(unsigned)kind << 56)) *
               UINT64_C(0x9E3779B97F4A7C15);
  size_t set = (size_t)((h >> 32) % n->n_sets);
  uint64_t *tags = &n->tags[set * EAUDIT__NAME_WAYS];
  eaudit__name_entry *ways = &n->e[set * EAUDIT__NAME_WAYS];
  eaudit__name_entry *e = NULL;
  for (int w = 0; w < EAUDIT__NAME_WAYS; w++) {
    if (tags[w] != h)
      continue;
    eaudit__name_entry *c = &ways[w];
    if (c->kind != kind || c->id != id)
      continue;
    if (t >= c->from && t < c->until) {
      if (len)
        *len = c->len;
      return c->name;
    }
    e = c; /* the same entity at another time: reuse its entry */
  }
  if (e == NULL) {
    unsigned char *v = &n->victim[set];
    e = &ways[*v];
    tags[*v] = h;
    *v = (unsigned char)((*v + 1) % EAUDIT__NAME_WAYS);
  }
  entry_clear(e);
  e->kind = kind;
  e->id = id;
  e->from = INT64_MIN;
  e->until = INT64_MAX;
  if (n->s->pg) {
    char *name = NULL;
    if (eaudit__pg_name_span(n->s, kind, id, t, &e->from, &e->until, &name)) {
      e->kind = 0; /* failed: show no name, ask again next time */
    } else if (name) {
      entry_set_name(e, name, strlen(name));
      if (e->name == NULL)
        e->kind = 0;
    }
    eaudit__free(name);
    if (len)
      *len = e->len;
    return e->name;
  }
  sqlite3_stmt *st = n->at;
  sqlite3_bind_int(st, 1, kind);
  sqlite3_bind_int64(st, 2, id);
  sqlite3_bind_int64(st, 3, t);
  int found = sqlite3_step(st) == SQLITE_ROW;
  if (!found) {
    /* Named only after the event: the first name known is the best. */
    sqlite3_reset(st);
    st = n->first;
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_int64(st, 2, id);
    found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
      e->until = sqlite3_column_int64(st, 0);
    }
  } else {
    e->from = sqlite3_column_int64(st, 0);
  }
  if (found) {
    const char *name = (const char *)sqlite3_column_text(st, 1);
    entry_set_name(e, name ? name : "", name ? strlen(name) : 0);
  }
  sqlite3_reset(st);
  if (found && st == n->at) {
    sqlite3_bind_int(n->next, 1, kind);
    sqlite3_bind_int64(n->next, 2, id);
    sqlite3_bind_int64(n->next, 3, t);
    if (sqlite3_step(n->next) == SQLITE_ROW &&
        sqlite3_column_type(n->next, 0) != SQLITE_NULL)
      e->until = sqlite3_column_int64(n->next, 0);
    sqlite3_reset(n->next);
  } else if (!found) {
    e->until = INT64_MAX; /* no name at all; cached as such */
  }
  if (found && e->name == NULL)
    e->kind = 0; /* out of memory: show no name, ask again next time */
  if (len)
    *len = e->len;
  return e->name;
}
