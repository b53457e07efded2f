/* Queries on the PostgreSQL backend: the same eaudit_query compiled to SQL
 * on eaudit.events with bound parameters only, read in keyset batches.
 * Results span every origin of the central store, in the total order
 * (occurred_at, origin, seq). See docs/scale-out.md, "Queries on a
 * PostgreSQL store". */
#include "query_internal.h"
#include "timeexpr.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Positions: "p2:" and the base64url (no padding) of occurred_at (8 bytes,
 * big-endian), origin (16) and seq (8): 46 characters, within
 * EAUDIT_POSITION_MAX. */
#define POS_BYTES 32

static uint64_t be_get(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

int eaudit__pg_position_parse(eaudit_query *q, const char *token) {
  uint8_t raw[POS_BYTES];
  size_t n = 0;
  const char *end = NULL;
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  size_t want = 3 + sodium_base64_ENCODED_LEN(POS_BYTES, variant) - 1;
  if (strlen(token) != want ||
      sodium_base642bin(raw, sizeof raw, token + 3, want - 3, NULL, &n, &end,
                        variant) != 0 ||
      n != POS_BYTES || *end != '\0' || (int64_t)be_get(raw + 24) < 0)
    return eaudit__error(EAUDIT_ECURSOR, EAUDIT_ECLASS_INVALID, 0,
                         "'%.64s' is not a cursor position", token);
  q->has_after = 2;
  q->after_t = (eaudit_time)be_get(raw);
  memcpy(q->after_origin, raw + 8, 16);
  q->after_seq = (int64_t)be_get(raw + 24);
  return EAUDIT_OK;
}

#ifdef EAUDIT_HAVE_LIBPQ

#include "pg_internal.h"

static void be_put(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* Rows per round trip. Each batch is its own statement (no transaction is
 * held open between the caller's steps: the server ends sessions idle in a
 * transaction, and a held snapshot would stall vacuum). */
#define BATCH 256
/* The first batch is a page's worth: a search whose matches are rare
 * reads a fourth of the index a full batch would before its first page. */
#define FIRST_BATCH 64
/* Time-of-day terms become one occurred_at range per local day when the
 * interval spans at most this many days; beyond, a filter on the local
 * time computed by the server. */
#define TOD_MAX_DAYS 100

#define OID_INT4_ARRAY 1007
#define OID_INT8_ARRAY 1016

#define COLUMNS                                                                \
  "seq, id, occurred_at, recorded_at, type, subject, actor, door, grp, "       \
  "device, site, credential, reason, details, hash, origin"

/* ---- parameters: owned values, binary except arrays ---- */

typedef struct params {
  int n, cap;
  char **v;
  int *len, *fmt;
  Oid *types;
} params;

static void params_free(params *p) {
  for (int i = 0; i < p->n; i++)
    eaudit__free(p->v[i]);
  eaudit__free(p->v);
  eaudit__free(p->len);
  eaudit__free(p->fmt);
  eaudit__free(p->types);
  memset(p, 0, sizeof *p);
}

/* Appends a copy; returns the parameter's number ($n) or -1 when out of
 * memory. */
static int param_add(params *p, const void *v, int len, int fmt, Oid type) {
  if (p->n == p->cap) {
    int cap = p->cap ? p->cap * 2 : 16;
    char **nv = eaudit__realloc(p->v, (size_t)cap * sizeof *nv);
    if (nv)
      p->v = nv;
    int *nl = nv ? eaudit__realloc(p->len, (size_t)cap * sizeof *nl) : NULL;
    if (nl)
      p->len = nl;
    int *nf = nl ? eaudit__realloc(p->fmt, (size_t)cap * sizeof *nf) : NULL;
    if (nf)
      p->fmt = nf;
    Oid *nt = nf ? eaudit__realloc(p->types, (size_t)cap * sizeof *nt) : NULL;
    if (nt == NULL)
      return -1;
    p->types = nt;
    p->cap = cap;
  }
  char *copy = eaudit__malloc(len > 0 ? (size_t)len + 1 : 1);
  if (copy == NULL)
    return -1;
  if (len > 0)
    memcpy(copy, v, (size_t)len);
  copy[len > 0 ? len : 0] = '\0';
  p->v[p->n] = copy;
  p->len[p->n] = len;
  p->fmt[p->n] = fmt;
  p->types[p->n] = type;
  return ++p->n;
}

static int param_i64(params *p, int64_t v) {
  uint8_t b[8];
  be_put(b, (uint64_t)v);
  return param_add(p, b, 8, 1, EAUDIT__OID_INT8);
}

static int param_bytes(params *p, const uint8_t *b, int n) {
  return param_add(p, b, n, 1, EAUDIT__OID_BYTEA);
}

static int param_text(params *p, const char *t) {
  return param_add(p, t, (int)strlen(t), 0, EAUDIT__OID_TEXT);
}

/* An int4[] in the text form "{1,2,3}" (the value is bound, not SQL). */
static int param_int_array(params *p, const int *v, size_t n) {
  eaudit__buf b = {0};
  int rc = eaudit__buf_puts(&b, "{");
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = eaudit__buf_printf(&b, "%s%d", i ? "," : "", v[i]);
  if (rc == 0)
    rc = eaudit__buf_puts(&b, "}");
  int k = rc ? -1 : param_add(p, b.data, (int)b.len, 0, OID_INT4_ARRAY);
  eaudit__buf_free(&b);
  return k;
}

/* ---- compiling ---- */

typedef struct compiled {
  eaudit_time since, until; /* the effective interval (EAUDIT_TIME_NONE) */
  int n_ranges;             /* time-of-day ranges in the conditions */
  eaudit__buf where;        /* " AND ..." conditions shared by every arm */
  char arms[5][512]; /* each arm's condition */
  /* An arm driven by a few entities: the number of their int8[] parameter
   * and the condition on one of them, u.v (see batch_sql); 0: none. */
  int lateral[5];
  char lateral_cond[5][96];
  int n_arms;
  int distinct; /* the arms may overlap: UNION, not UNION ALL */
  params p;
  int rc;
} compiled;

static void cond(compiled *c, const char *fmt, ...) EAUDIT__PRINTF(2, 3);
static void cond(compiled *c, const char *fmt, ...) {
  if (c->rc)
    return;
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (eaudit__buf_puts(&c->where, " AND ") || eaudit__buf_puts(&c->where, tmp))
    c->rc = eaudit__enomem();
}

/* A parameter number, or 0 with c->rc set. */
static int chk(compiled *c, int k) {
  if (k < 0 && c->rc == 0)
    c->rc = eaudit__enomem();
  return k < 0 ? 0 : k;
}

static eaudit_time max_t(eaudit_time a, eaudit_time b) {
  return a == EAUDIT_TIME_NONE ? b : b == EAUDIT_TIME_NONE ? a : a > b ? a : b;
}

static eaudit_time min_t(eaudit_time a, eaudit_time b) {
  return a == EAUDIT_TIME_NONE ? b : b == EAUDIT_TIME_NONE ? a : a < b ? a : b;
}

#define MIN_US INT64_C(60000000)
#define DAY_US INT64_C(86400000000)

static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int offset_at(eaudit__tz *tz, eaudit_time t, int *off) {
  eaudit__civil cv;
  int rc = eaudit__tz_to_civil(tz, t, &cv);
  if (rc == 0)
    *off = cv.offset;
  return rc;
}

/* The instants of [a, b) whose local minute of the day lies in
 * [from, to), on local day `day` (days since 1970-01-01 in local civil
 * time), appended as "(occurred_at >= $x AND occurred_at < $y)" alternatives.
 * Within a stretch of one UTC offset the local time is t + offset, so the
 * minutes form one range; a stretch holding an offset change is split at
 * the change (found to the second by bisection, as ICU reports it). */
/* Where the offset changes between lo (offset oa) and hi (another): the
 * first instant in (lo, hi] with another offset, found to the second by
 * bisection, as ICU reports it. */
static int offset_change(eaudit__tz *tz, eaudit_time lo, eaudit_time hi,
                         int oa, eaudit_time *cut) {
  while (hi - lo > 1000000) {
    eaudit_time mid = lo + (hi - lo) / 2;
    int om, rc = offset_at(tz, mid, &om);
    if (rc)
      return rc;
    if (om == oa)
      lo = mid;
    else
      hi = mid;
  }
  /* Offsets change on whole seconds. */
  eaudit_time c = hi - ((hi % 1000000) + 1000000) % 1000000;
  *cut = c <= lo ? hi : c;
  return EAUDIT_OK;
}

static int tod_stretch(compiled *c, eaudit__tz *tz, eaudit__buf *ors,
                       int64_t day, int from, int to, eaudit_time a,
                       eaudit_time b, int depth) {
  int oa, ob, rc;
  if ((rc = offset_at(tz, a, &oa)) || (rc = offset_at(tz, b - 1, &ob)))
    return rc;
  if (oa != ob && depth < 4) {
    eaudit_time cut;
    if ((rc = offset_change(tz, a, b - 1, oa, &cut)))
      return rc;
    rc = tod_stretch(c, tz, ors, day, from, to, a, cut, depth + 1);
    return rc ? rc : tod_stretch(c, tz, ors, day, from, to, cut, b, depth + 1);
  }
  eaudit_time lo = day * DAY_US + from * MIN_US - (eaudit_time)oa * 1000000;
  eaudit_time hi = day * DAY_US + to * MIN_US - (eaudit_time)oa * 1000000;
  lo = lo > a ? lo : a;
  hi = hi < b ? hi : b;
  if (lo >= hi)
    return EAUDIT_OK;
  int pl = chk(c, param_i64(&c->p, lo)), ph = chk(c, param_i64(&c->p, hi));
  if (c->rc)
    return c->rc;
  if (eaudit__buf_printf(ors, "%s(occurred_at >= $%d AND occurred_at < $%d)",
                         ors->len ? " OR " : "", pl, ph))
    return eaudit__enomem();
  c->n_ranges++;
  return EAUDIT_OK;
}


static PGresult *run(PGconn *conn, const char *sql, const params *p,
                     const char *what);

#define TOD_MAX_PERIODS 64
/* How far before the store's first event and after its last event (or
 * now) the periods of an open interval reach; beyond, the server computes
 * the local time itself. */
#define TOD_MARGIN_US (366 * DAY_US)

/* A stretch of one UTC offset: from start to the next one's start. */
typedef struct tz_period {
  eaudit_time start;
  int off; /* seconds east of UTC */
} tz_period;

/* The stretches of one offset that cover [lo, hi): the offset is read at
 * every day's end (zones change offset at most a few times a year, and
 * not twice within a day and back), and each change is found to the
 * second. EAUDIT_DONE when there are more than TOD_MAX_PERIODS or the
 * span is too long to walk. */
static int tz_periods(eaudit__tz *tz, eaudit_time lo, eaudit_time hi,
                      tz_period *p, int *n_out) {
  *n_out = 0;
  if (hi <= lo || (hi - lo) / DAY_US > 200 * 366)
    return EAUDIT_DONE;
  int n = 0, cur, rc;
  if ((rc = offset_at(tz, lo, &cur)))
    return rc;
  p[n++] = (tz_period){lo, cur};
  for (eaudit_time t = lo; t < hi - 1;) {
    eaudit_time end = hi - 1 - t > DAY_US ? t + DAY_US : hi - 1;
    int o;
    if ((rc = offset_at(tz, end, &o)))
      return rc;
    while (o != cur) {
      eaudit_time cut;
      if ((rc = offset_change(tz, t, end, cur, &cut)) ||
          (rc = offset_at(tz, cut, &cur)))
        return rc;
      if (n == TOD_MAX_PERIODS)
        return EAUDIT_DONE;
      p[n++] = (tz_period){cut, cur};
      t = cut;
    }
    t = end;
  }
  *n_out = n;
  return EAUDIT_OK;
}

/* The local minute of the day of occurred_at in [$pf, $pt) minutes, as
 * the server computes it in the store's zone ($pz, the same IANA name in
 * its own time zone database): exact anywhere, but costly per row. */
static int tod_exact_sql(eaudit__buf *b, int pz, int pf, int pt) {
  return eaudit__buf_printf(
      b,
      "(date_part('hour', to_timestamp(occurred_at / 1000000.0) AT TIME"
      " ZONE $%d) * 60 + date_part('minute', to_timestamp(occurred_at /"
      " 1000000.0) AT TIME ZONE $%d)) >= $%d AND (date_part('hour',"
      " to_timestamp(occurred_at / 1000000.0) AT TIME ZONE $%d) * 60 +"
      " date_part('minute', to_timestamp(occurred_at / 1000000.0) AT TIME"
      " ZONE $%d)) < $%d",
      pz, pz, pf, pz, pz, pt);
}

/* A time of day over a long or open interval, as integer arithmetic: one
 * alternative per stretch of one offset, "in the stretch, and the UTC
 * microsecond of the day moved by its offset lies in [from, to)". An open
 * end is the store's first or last event (or now) moved out by
 * TOD_MARGIN_US; events beyond it, appended later, get the server's
 * computation. EAUDIT_DONE when the stretches are too many: the caller
 * lets the server compute every row. */
static int tod_periods(compiled *c, eaudit_store *s, eaudit_time since,
                       eaudit_time until, int from, int to) {
  eaudit_time lo = since, hi = until;
  if (since == EAUDIT_TIME_NONE || until == EAUDIT_TIME_NONE) {
    params none;
    memset(&none, 0, sizeof none);
    PGresult *r = run(((eaudit__pgstore *)s->pg)->conn,
                      "SELECT min(occurred_at), max(occurred_at) + 1"
                      " FROM eaudit.events",
                      &none, "reading the store's time span");
    if (r == NULL)
      return eaudit_error_last()->code;
    eaudit_time now = eaudit_store_now(s);
    int empty = PQntuples(r) != 1 || PQgetisnull(r, 0, 0);
    eaudit_time first = empty ? now : eaudit__pg_i64(r, 0, 0);
    eaudit_time last = empty ? now : eaudit__pg_i64(r, 0, 1);
    PQclear(r);
    if (last < now)
      last = now;
    if (since == EAUDIT_TIME_NONE)
      lo = first > INT64_MIN + TOD_MARGIN_US ? first - TOD_MARGIN_US
                                             : INT64_MIN;
    if (until == EAUDIT_TIME_NONE)
      hi = last < INT64_MAX - TOD_MARGIN_US ? last + TOD_MARGIN_US
                                            : INT64_MAX;
  }
  tz_period per[TOD_MAX_PERIODS];
  int n;
  int rc = tz_periods(s->tz, lo, hi, per, &n);
  if (rc)
    return rc;
  int pf = chk(c, param_i64(&c->p, from * MIN_US));
  int pt = chk(c, param_i64(&c->p, to * MIN_US));
  eaudit__buf ors = {0};
  /* Padded to a power of two with empty stretches, so that the
   * statements a session prepares stay few. */
  int pad = 1;
  while (pad < n)
    pad *= 2;
  for (int i = 0; rc == 0 && c->rc == 0 && i < pad; i++) {
    eaudit_time a = i < n ? per[i].start : 0;
    eaudit_time b = i + 1 < n ? per[i + 1].start : i < n ? hi : 0;
    int pa = chk(c, param_i64(&c->p, a)), pb = chk(c, param_i64(&c->p, b));
    int po = chk(c, param_i64(&c->p, i < n ? (int64_t)per[i].off * 1000000
                                             : 0));
    /* occurred_at % DAY lies in (-DAY, DAY); adding two days keeps the
     * sum positive for any offset under a day. */
    rc = eaudit__buf_printf(
        &ors,
        "%s(occurred_at >= $%d AND occurred_at < $%d AND (occurred_at %%"
        " 86400000000 + 172800000000 + $%d) %% 86400000000 BETWEEN $%d AND"
        " $%d - 1)",
        i ? " OR " : "", pa, pb, po, pf, pt);
  }
  if (rc == 0 && c->rc == 0 &&
      (since == EAUDIT_TIME_NONE || until == EAUDIT_TIME_NONE)) {
    int pz = chk(c, param_text(&c->p, eaudit_store_time_zone(s)));
    int pfm = chk(c, param_i64(&c->p, from));
    int ptm = chk(c, param_i64(&c->p, to));
    int plo = chk(c, param_i64(&c->p, lo)), phi = chk(c, param_i64(&c->p, hi));
    rc = eaudit__buf_printf(&ors,
                            " OR ((occurred_at < $%d OR occurred_at >= $%d)"
                            " AND ",
                            plo, phi);
    if (rc == 0)
      rc = tod_exact_sql(&ors, pz, pfm, ptm);
    if (rc == 0)
      rc = eaudit__buf_puts(&ors, ")");
  }
  if (rc == 0 && c->rc == 0 &&
      eaudit__buf_printf(&c->where, " AND (%s)", ors.data))
    rc = eaudit__enomem();
  eaudit__buf_free(&ors);
  return rc ? eaudit__enomem() : c->rc;
}

/* Times of day AND-ed: one minute range [from, to) of the local day. */
static int tod_cond(compiled *c, eaudit_store *s, eaudit_time since,
                    eaudit_time until, int from, int to) {
  if (from >= to) {
    cond(c, "false");
    return c->rc;
  }
  int rc;
  if (since != EAUDIT_TIME_NONE && until != EAUDIT_TIME_NONE &&
      until - since <= (int64_t)(TOD_MAX_DAYS + 1) * DAY_US) {
    eaudit__buf ors = {0};
    eaudit_time day;
    if ((rc = eaudit__tz_day_start(s->tz, since, &day)))
      return rc;
    while (rc == 0 && day < until) {
      eaudit__civil cv;
      if ((rc = eaudit__tz_to_civil(s->tz, day, &cv)))
        break;
      int64_t lday = days_from_civil(cv.year, cv.month, cv.day);
      eaudit__civil nx = {cv.year, cv.month, cv.day + 1, 0, 0, 0, 0, 0, 0};
      eaudit_time next;
      if ((rc = eaudit__tz_from_civil(s->tz, &nx, &next)))
        break;
      if (next <= day) {
        rc = eaudit__error(EAUDIT_ETIME, EAUDIT_ECLASS_INVALID, 0,
                           "the time zone's days do not advance");
        break;
      }
      eaudit_time a = day > since ? day : since,
                  b = next < until ? next : until;
      if (a < b)
        rc = tod_stretch(c, s->tz, &ors, lday, from, to, a, b, 0);
      day = next;
    }
    /* Pad the list to a power of two with an empty range, so that the
     * statements a session prepares stay few (one per size class, not one
     * per interval length). */
    int n = c->n_ranges, pad = 1;
    while (pad < n)
      pad *= 2;
    for (; rc == 0 && c->rc == 0 && n > 0 && n < pad; n++) {
      /* Parameters of their own, so that the numbering after the list
       * is the same for the whole size class. */
      int pl = chk(c, param_i64(&c->p, 0)), ph = chk(c, param_i64(&c->p, 0));
      if (c->rc == 0 &&
          eaudit__buf_printf(
              &ors, " OR (occurred_at >= $%d AND occurred_at < $%d)", pl, ph))
        rc = eaudit__enomem();
    }
    /* The list can outgrow cond()'s buffer: append it directly. */
    if (rc == 0 && c->rc == 0 &&
        eaudit__buf_printf(&c->where, " AND (%s)",
                           ors.len ? ors.data : "false"))
      rc = eaudit__enomem();
    eaudit__buf_free(&ors);
    return rc ? rc : c->rc;
  }
  /* Unbounded or long intervals: integer arithmetic per stretch of one
   * offset; when the zone changes too often for that, the server computes
   * the local time in the store's zone for every row. */
  if ((rc = tod_periods(c, s, since, until, from, to)) != EAUDIT_DONE)
    return rc;
  int pz = chk(c, param_text(&c->p, eaudit_store_time_zone(s)));
  int pf = chk(c, param_i64(&c->p, from));
  int pt = chk(c, param_i64(&c->p, to));
  eaudit__buf exact = {0};
  if (c->rc == 0 && (tod_exact_sql(&exact, pz, pf, pt) ||
                     eaudit__buf_printf(&c->where, " AND (%s)", exact.data)))
    c->rc = eaudit__enomem();
  eaudit__buf_free(&exact);
  return c->rc;
}

/* ---- name words ---- */

/* One word of a search, bound: the folded words of its text (the same
 * tokenizer as SQLite's names_fts), and the parameters of its match. */
typedef struct word_params {
  int n_tok;   /* folded words in it: 0 matches nothing, as "..."* */
  int lo, hi;  /* one word: the range [lo, hi) of the words it starts */
  int first;   /* more: the first, whole */
  int pattern; /* and the LIKE pattern of the phrase on names.words */
} word_params;

/* Above every word that starts with the prefix in byte order: U+10FFFF,
 * which no folded word holds (the tokenizer drops non-characters). */
#define WORD_HI "\xf4\x8f\xbf\xbf"

static void word_bind(compiled *c, eaudit__folder *f, const char *word,
                      word_params *w) {
  memset(w, 0, sizeof *w);
  if (c->rc)
    return;
  eaudit__buf b = {0}, pat = {0};
  int rc = eaudit__fold_words(f, word, &b, &w->n_tok);
  if (rc == 0 && w->n_tok == 1) {
    w->lo = chk(c, param_text(&c->p, b.data));
    rc = eaudit__buf_puts(&b, WORD_HI) ? eaudit__enomem() : 0;
    if (rc == 0)
      w->hi = chk(c, param_text(&c->p, b.data));
  } else if (rc == 0 && w->n_tok > 1) {
    /* FTS5's "a b"* : a whole word, then the next ones, the last as a
     * prefix. The first drives through the index; the phrase filters. */
    size_t first = strcspn(b.data, " ");
    w->first = chk(c, param_add(&c->p, b.data, (int)first, 0,
                                EAUDIT__OID_TEXT));
    rc = eaudit__buf_puts(&pat, "% ");
    for (const char *t = b.data; rc == 0 && *t; t++)
      rc = (*t == '%' || *t == '_' || *t == '\\')
               ? eaudit__buf_printf(&pat, "\\%c", *t)
               : eaudit__buf_put(&pat, t, 1);
    if (rc == 0)
      rc = eaudit__buf_puts(&pat, "%");
    if (rc)
      rc = eaudit__enomem();
    else
      w->pattern = chk(c, param_text(&c->p, pat.data));
  }
  eaudit__buf_free(&b);
  eaudit__buf_free(&pat);
  if (rc && c->rc == 0)
    c->rc = rc;
}

/* The entities of one kind that have (or had) a name with the word. */
static void word_sub(char *out, size_t size, const word_params *w, int kind) {
  if (w->n_tok == 0)
    snprintf(out, size, "(SELECT NULL::bigint WHERE false)");
  else if (w->n_tok == 1)
    snprintf(out, size,
             "(SELECT entity FROM eaudit.name_words WHERE kind = %d AND "
             "word >= $%d AND word < $%d)",
             kind, w->lo, w->hi);
  else
    snprintf(out, size,
             "(SELECT w.entity FROM eaudit.name_words w JOIN eaudit.names n "
             "USING (kind, entity, valid_from) WHERE w.kind = %d AND w.word "
             "= $%d AND ' ' || n.words LIKE $%d)",
             kind, w->first, w->pattern);
}

/* An event mentions a word when one of its entities has (or had) a name
 * with a word starting with it (lib/query.c's word_cond). */
static void word_cond(compiled *c, const word_params *w) {
  if (c->rc)
    return;
  char u[256], d[256], g[256], v[256];
  word_sub(u, sizeof u, w, EAUDIT_KIND_USER);
  word_sub(d, sizeof d, w, EAUDIT_KIND_DOOR);
  word_sub(g, sizeof g, w, EAUDIT_KIND_GROUP);
  word_sub(v, sizeof v, w, EAUDIT_KIND_DEVICE);
  if (eaudit__buf_printf(&c->where,
                         " AND (subject IN %s OR actor IN %s OR door IN %s OR "
                         "grp IN %s OR device IN %s)",
                         u, u, d, g, v))
    c->rc = eaudit__enomem();
}

/* Above this many entities of a kind, the first word's events of that
 * kind are found by walking the time index with the entities as a filter;
 * up to it, from each entity's own index, newest first (docs/scale-out.md,
 * Queries). */
#define SPARSE_MAX 32

/* The entities of each kind (user, door, group, device: index kind - 1)
 * whose names have the word, as int8[] text and a count. */
typedef struct word_entities {
  char *ids[4];
  int64_t n[4];
} word_entities;

static void word_entities_free(word_entities *e) {
  for (int i = 0; i < 4; i++)
    eaudit__free(e->ids[i]);
  memset(e, 0, sizeof *e);
}

static PGresult *run(PGconn *conn, const char *sql, const params *p,
                     const char *what);

static int word_resolve(eaudit_store *s, eaudit__folder *f, const char *word,
                        word_entities *out) {
  memset(out, 0, sizeof *out);
  compiled t;
  memset(&t, 0, sizeof t);
  word_params w;
  word_bind(&t, f, word, &w);
  int rc = t.rc;
  if (rc == 0 && w.n_tok > 0) {
    char sql[512];
    if (w.n_tok == 1)
      snprintf(sql, sizeof sql,
               "SELECT kind, count(DISTINCT entity),"
               " array_agg(DISTINCT entity)::text FROM eaudit.name_words"
               " WHERE kind = ANY('{1,2,3,4}') AND word >= $%d AND word < $%d"
               " GROUP BY kind",
               w.lo, w.hi);
    else
      snprintf(sql, sizeof sql,
               "SELECT w.kind, count(DISTINCT w.entity),"
               " array_agg(DISTINCT w.entity)::text FROM eaudit.name_words w"
               " JOIN eaudit.names n USING (kind, entity, valid_from)"
               " WHERE w.kind = ANY('{1,2,3,4}') AND w.word = $%d AND"
               " ' ' || n.words LIKE $%d GROUP BY w.kind",
               w.first, w.pattern);
    eaudit__pgstore *pg = s->pg;
    PGresult *r = run(pg->conn, sql, &t.p, "finding the names of a search");
    if (r == NULL)
      rc = eaudit_error_last()->code;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
      int k = eaudit__pg_i32(r, i, 0) - 1;
      if (k < 0 || k > 3)
        continue;
      out->n[k] = eaudit__pg_i64(r, i, 1);
      if ((out->ids[k] = eaudit__strdup(PQgetvalue(r, i, 2))) == NULL)
        rc = eaudit__enomem();
    }
    PQclear(r);
  }
  params_free(&t.p);
  eaudit__buf_free(&t.where);
  if (rc)
    word_entities_free(out);
  return rc;
}

/* The arms of a search driven by its first word: the kinds with more than
 * SPARSE_MAX entities in one arm that walks the time index, each kind with
 * fewer in arms that read each entity's newest events from its index. */
static void word_arms(compiled *c, const word_entities *e) {
  static const char *const cols[4] = {"subject", "door", "grp", "device"};
  eaudit__buf dense = {0};
  int arr[4] = {0};
  for (int k = 0; k < 4 && c->rc == 0; k++)
    if (e->n[k] > 0)
      arr[k] = chk(c, param_add(&c->p, e->ids[k], (int)strlen(e->ids[k]), 0,
                                OID_INT8_ARRAY));
  for (int k = 0; k < 4 && c->rc == 0; k++) {
    if (e->n[k] == 0)
      continue;
    if (e->n[k] > SPARSE_MAX) {
      int rc = eaudit__buf_printf(&dense, "%s%s = ANY($%d)",
                                  dense.len ? " OR " : "", cols[k], arr[k]);
      if (rc == 0 && k == 0)
        rc = eaudit__buf_printf(&dense, " OR actor = ANY($%d)", arr[k]);
      if (rc)
        c->rc = eaudit__enomem();
      continue;
    }
    int i = c->n_arms++;
    snprintf(c->arms[i], sizeof c->arms[0], "%s = ANY($%d)", cols[k], arr[k]);
    c->lateral[i] = arr[k];
    snprintf(c->lateral_cond[i], sizeof c->lateral_cond[0], "%s = u.v",
             cols[k]);
    if (k == 0) { /* the actor who is not the subject: its partial index */
      i = c->n_arms++;
      snprintf(c->arms[i], sizeof c->arms[0],
               "actor = ANY($%d) AND actor IS DISTINCT FROM subject", arr[k]);
      c->lateral[i] = arr[k];
      snprintf(c->lateral_cond[i], sizeof c->lateral_cond[0],
               "actor = u.v AND actor IS DISTINCT FROM subject");
    }
  }
  if (c->rc == 0 && dense.len) {
    if (dense.len + 3 > sizeof c->arms[0])
      c->rc = eaudit__error(EAUDIT_ETOOBIG, EAUDIT_ECLASS_INVALID, 0,
                            "search condition too long");
    else
      snprintf(c->arms[c->n_arms++], sizeof c->arms[0], "(%s)", dense.data);
  }
  if (c->rc == 0 && c->n_arms == 0) /* no name has the word */
    snprintf(c->arms[c->n_arms++], sizeof c->arms[0], "false");
  eaudit__buf_free(&dense);
  c->distinct = c->n_arms > 1;
}

static int compile(eaudit_store *s, const eaudit_query *q, compiled *c) {
  memset(c, 0, sizeof *c);
  eaudit__search terms;
  memset(&terms, 0, sizeof terms);
  if (q->has_after == 1)
    return c->rc = eaudit__error(EAUDIT_ECURSOR, EAUDIT_ECLASS_INVALID, 0,
                                 "the position comes from a SQLite store; "
                                 "this store is PostgreSQL");
  if (q->text) {
    /* Labels another handle set since (pg_directory.c). */
    if ((c->rc = eaudit__types_reload(s)))
      return c->rc;
    c->rc = eaudit__search_parse(s->tz, q->text, eaudit_store_now(s),
                                 eaudit__type_label_at, s, &terms);
    if (c->rc)
      return c->rc;
  }
  eaudit_time since = q->since, until = q->until;
  if (terms.has_interval) {
    since = max_t(since, terms.since);
    until = min_t(until, terms.until);
  }
  c->since = since;
  c->until = until;
  if (since != EAUDIT_TIME_NONE && until != EAUDIT_TIME_NONE && since >= until)
    cond(c, "false");
  if (since != EAUDIT_TIME_NONE)
    cond(c, "occurred_at >= $%d", chk(c, param_i64(&c->p, since)));
  if (until != EAUDIT_TIME_NONE)
    cond(c, "occurred_at < $%d", chk(c, param_i64(&c->p, until)));
  if (q->n_types)
    cond(c, "type = ANY($%d)",
         chk(c, param_int_array(&c->p, q->types, q->n_types)));
  for (int i = 0; i < terms.n_type_sets; i++)
    cond(c, "type = ANY($%d)",
         chk(c, param_int_array(&c->p, terms.type_sets[i],
                                (size_t)terms.type_set_len[i])));
  static const char *const entity_columns[EAUDIT__N_ENTITY] = {
      "door", "grp", "device", "site"};
  for (int i = 0; i < EAUDIT__N_ENTITY; i++)
    if (q->has_entity[i])
      cond(c, "%s = $%d", entity_columns[i],
           chk(c, param_i64(&c->p, q->entity[i])));
  if (terms.n_tod && c->rc == 0) {
    int from = 0, to = 24 * 60;
    for (int i = 0; i < terms.n_tod; i++) {
      from = terms.tod_from[i] > from ? terms.tod_from[i] : from;
      to = terms.tod_to[i] < to ? terms.tod_to[i] : to;
    }
    int rc = tod_cond(c, s, since, until, from, to);
    if (rc && c->rc == 0)
      c->rc = rc;
  }
  /* Words: the first drives the query through the name indexes when
   * there is no user filter; the others filter (as on SQLite). */
  word_entities first;
  memset(&first, 0, sizeof first);
  int first_word = 0;
  if (terms.n_words && c->rc == 0) {
    eaudit__folder f;
    int rc = eaudit__fold_open(&f);
    if (rc && c->rc == 0)
      c->rc = rc;
    for (int i = 0; c->rc == 0 && i < terms.n_words; i++) {
      if (i == 0 && !q->has_user) {
        first_word = 1;
        if ((rc = word_resolve(s, &f, terms.words[i], &first)))
          c->rc = rc;
      } else {
        word_params w;
        word_bind(c, &f, terms.words[i], &w);
        word_cond(c, &w);
      }
    }
    if (rc == 0)
      eaudit__fold_close(&f);
  }
  /* Arms as on SQLite: each driven by one index, together covering the
   * result once (the actor arm has the partial index's predicate); the
   * word arms may overlap, so they are UNIONed. */
  if (first_word && c->rc == 0) {
    word_arms(c, &first);
  } else if (q->has_user && c->rc == 0) {
    int pu = chk(c, param_i64(&c->p, q->user));
    if (q->role != EAUDIT_ROLE_ACTOR)
      snprintf(c->arms[c->n_arms++], sizeof c->arms[0], "subject = $%d", pu);
    else
      snprintf(c->arms[c->n_arms++], sizeof c->arms[0],
               "subject = $%d AND actor = $%d", pu, pu);
    if (q->role != EAUDIT_ROLE_SUBJECT)
      snprintf(c->arms[c->n_arms++], sizeof c->arms[0],
               "actor = $%d AND actor IS DISTINCT FROM subject", pu);
  } else {
    snprintf(c->arms[c->n_arms++], sizeof c->arms[0], "true");
  }
  word_entities_free(&first);
  eaudit__search_clear(&terms);
  return c->rc;
}

static void compiled_free(compiled *c) {
  eaudit__buf_free(&c->where);
  params_free(&c->p);
}

/* The SQL of a batch: the compiled conditions, then the keyset triple at
 * $k, $k+1, $k+2 when keyset is set, and the batch limit at $lim. */
static int batch_sql(const compiled *c, int desc, int keyset, int k, int lim,
                     eaudit__buf *sql) {
  const char *dir = desc ? "DESC" : "ASC";
  const char *where = c->where.data ? c->where.data : "";
  char ks[128] = "";
  if (keyset)
    snprintf(ks, sizeof ks,
             " AND (occurred_at, origin, seq) %s ($%d, $%d, $%d)",
             desc ? "<" : ">", k, k + 1, k + 2);
  int rc = 0;
  for (int i = 0; rc == 0 && i < c->n_arms; i++) {
    const char *sep = i ? (c->distinct ? " UNION " : " UNION ALL ") : "";
    if (c->lateral[i])
      /* Each entity's newest from its own index, then the newest of all. */
      rc = eaudit__buf_printf(
          sql,
          "%s(SELECT e.* FROM unnest($%d::bigint[]) AS u(v), LATERAL "
          "(SELECT " COLUMNS " FROM eaudit.events WHERE %s%s%s ORDER BY "
          "occurred_at %s, origin %s, seq %s LIMIT $%d) e ORDER BY "
          "e.occurred_at %s, e.origin %s, e.seq %s LIMIT $%d)",
          sep, c->lateral[i], c->lateral_cond[i], where, ks, dir, dir, dir,
          lim, dir, dir, dir, lim);
    else
      rc = eaudit__buf_printf(
          sql,
          "%s(SELECT " COLUMNS " FROM eaudit.events WHERE %s%s%s ORDER BY "
          "occurred_at %s, origin %s, seq %s LIMIT $%d)",
          sep, c->arms[i], where, ks, dir, dir, dir, lim);
  }
  if (rc == 0 && c->n_arms > 1)
    rc = eaudit__buf_printf(sql,
                            " ORDER BY occurred_at %s, origin %s, seq %s "
                            "LIMIT $%d",
                            dir, dir, dir, lim);
  return rc ? eaudit__enomem() : EAUDIT_OK;
}

/* ---- statements: prepared once per session, named by their text ---- */

/* The name is a digest of the SQL and the parameter types, so that the
 * same query shape finds the statement a session prepared before, without
 * any state on the handle. */
static void stmt_name(const char *sql, const params *p, char out[48]) {
  crypto_generichash_state st;
  uint8_t h[16];
  crypto_generichash_init(&st, NULL, 0, sizeof h);
  crypto_generichash_update(&st, (const uint8_t *)sql, strlen(sql));
  crypto_generichash_update(&st, (const uint8_t *)p->types,
                            (size_t)p->n * sizeof *p->types);
  crypto_generichash_final(&st, h, sizeof h);
  memcpy(out, "eaudit_q_", 9);
  sodium_bin2hex(out + 9, 33, h, sizeof h);
}

static PGresult *run(PGconn *conn, const char *sql, const params *p,
                     const char *what) {
  char name[48];
  stmt_name(sql, p, name);
  if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
    /* Inside a transaction a failed execution would abort it: look the
     * statement up instead of trying it. */
    const char *v[1] = {name};
    PGresult *r = PQexecParams(
        conn, "SELECT 1 FROM pg_prepared_statements WHERE name = $1", 1, NULL,
        v, NULL, NULL, 0);
    int found = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r);
    if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
      eaudit__pg_error(conn, r, what);
      PQclear(r);
      return NULL;
    }
    PQclear(r);
    if (!found) {
      r = PQprepare(conn, name, sql, p->n, p->types);
      if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
        eaudit__pg_error(conn, r, what);
        PQclear(r);
        return NULL;
      }
      PQclear(r);
    }
  }
  for (int attempt = 0; attempt < 2; attempt++) {
    PGresult *r = PQexecPrepared(conn, name, p->n, (const char *const *)p->v,
                                 p->len, p->fmt, 1);
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK)
      return r;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (attempt == 0 && state && strcmp(state, "26000") == 0) {
      /* Not prepared in this session yet. */
      PQclear(r);
      r = PQprepare(conn, name, sql, p->n, p->types);
      if (r && PQresultStatus(r) == PGRES_COMMAND_OK) {
        PQclear(r);
        continue;
      }
    }
    eaudit__pg_error(conn, r, what);
    PQclear(r);
    return NULL;
  }
  return NULL;
}

/* ---- the cursor ---- */

struct eaudit__pgcur {
  PGconn *conn;
  int tail, desc;
  char *sql_first, *sql_next; /* sql_first NULL: every batch is "next" */
  params p;                   /* the query's parameters, then 4 slots */
  int base_n;
  size_t remaining; /* rows still allowed by the limit */
  int fetched;      /* batches fetched */
  int limited;
  int has_pos;
  eaudit_time pos_t;
  uint8_t pos_origin[16];
  int64_t pos_seq;
  int has_last;
  PGresult *res;
  int row, exhausted;
};

void eaudit__pg_cursor_free(eaudit__pgcur *c) {
  if (c == NULL)
    return;
  PQclear(c->res);
  eaudit__free(c->sql_first);
  eaudit__free(c->sql_next);
  params_free(&c->p);
  eaudit__free(c);
}

static eaudit__pgcur *cur_new(eaudit_store *s) {
  eaudit__pgcur *c = eaudit__calloc(1, sizeof *c);
  if (c)
    c->conn = ((eaudit__pgstore *)s->pg)->conn;
  return c;
}

/* Bind the trailing slots of a batch: the keyset (t, origin, seq; the
 * tail's seq alone) and the limit. Both statements of a query number them
 * alike; the first leaves the keyset unused, which typed parameters
 * allow. */
static int set_slots(eaudit__pgcur *c, int64_t lim) {
  c->p.n = c->base_n;
  int ok;
  if (c->tail)
    ok = param_i64(&c->p, c->pos_seq) > 0;
  else
    ok = param_i64(&c->p, c->pos_t) > 0 &&
         param_bytes(&c->p, c->pos_origin, 16) > 0 &&
         param_i64(&c->p, c->pos_seq) > 0;
  if (ok)
    ok = param_i64(&c->p, lim) > 0;
  return ok ? EAUDIT_OK : eaudit__enomem();
}

static void slots_release(eaudit__pgcur *c) {
  for (int i = c->base_n; i < c->p.n; i++)
    eaudit__free(c->p.v[i]);
  c->p.n = c->base_n;
}

static int fetch(eaudit__pgcur *c) {
  PQclear(c->res);
  c->res = NULL;
  c->row = 0;
  int64_t lim = c->fetched++ ? BATCH : FIRST_BATCH;
  if (c->limited && c->remaining < (size_t)lim)
    lim = (int64_t)c->remaining;
  if (lim == 0) {
    c->exhausted = 1;
    return EAUDIT_OK;
  }
  const char *sql =
      c->has_pos || c->sql_first == NULL ? c->sql_next : c->sql_first;
  int rc = set_slots(c, lim);
  if (rc == 0) {
    c->res = run(c->conn, sql, &c->p, "reading events");
    if (c->res == NULL)
      rc = eaudit_error_last()->code;
  }
  slots_release(c);
  if (rc == 0 && PQntuples(c->res) < lim)
    c->exhausted = 1;
  return rc;
}


int eaudit__pg_cursor_next(eaudit__pgcur *c, eaudit_event *ev) {
  if (c->res == NULL || c->row >= PQntuples(c->res)) {
    if (c->exhausted)
      return EAUDIT_DONE;
    int rc = fetch(c);
    if (rc)
      return rc;
    if (c->res == NULL || PQntuples(c->res) == 0) {
      c->exhausted = 1;
      return EAUDIT_DONE;
    }
  }
  int rc = eaudit__pg_row_event(c->res, c->row, ev);
  if (rc)
    return rc;
  if (PQgetlength(c->res, c->row, 15) != 16)
    return eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                         "central store: an event's origin is damaged");
  c->pos_t = ev->v[EAUDIT_FIELD_OCCURRED_AT];
  c->pos_seq = ev->v[EAUDIT_FIELD_SEQ];
  memcpy(c->pos_origin, PQgetvalue(c->res, c->row, 15), 16);
  c->has_pos = c->has_last = 1;
  c->row++;
  if (c->limited)
    c->remaining--;
  return EAUDIT_OK;
}

int eaudit__pg_cursor_position(const eaudit__pgcur *c, char *buf, size_t size) {
  uint8_t raw[POS_BYTES];
  be_put(raw, (uint64_t)c->pos_t);
  memcpy(raw + 8, c->pos_origin, 16);
  be_put(raw + 24, (uint64_t)c->pos_seq);
  char enc[sodium_base64_ENCODED_LEN(POS_BYTES,
                                     sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(enc, sizeof enc, raw, sizeof raw,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  int n = snprintf(buf, size, "p2:%s", enc);
  if (n < 0 || (size_t)n >= size)
    return eaudit__error(EAUDIT_ETOOBIG, EAUDIT_ECLASS_INVALID, 0,
                         "buffer of %zu bytes is too small", size);
  return EAUDIT_OK;
}

static int query_sqls(const compiled *cp, int desc, char **first, char **next) {
  eaudit__buf a = {0}, b = {0};
  int base = cp->p.n;
  int rc = batch_sql(cp, desc, 0, 0, base + 4, &a);
  if (rc == 0)
    rc = batch_sql(cp, desc, 1, base + 1, base + 4, &b);
  if (rc) {
    eaudit__buf_free(&a);
    eaudit__buf_free(&b);
    return rc;
  }
  *first = a.data;
  *next = b.data;
  return EAUDIT_OK;
}

int eaudit__pg_query_open(eaudit_store *s, const eaudit_query *q,
                          eaudit__pgcur **out) {
  *out = NULL;
  compiled cp;
  int rc = compile(s, q, &cp);
  eaudit__pgcur *c = NULL;
  if (rc == 0 && (c = cur_new(s)) == NULL)
    rc = eaudit__enomem();
  if (rc == 0) {
    c->desc = q->order != EAUDIT_ORDER_OLDEST_FIRST;
    c->limited = q->limit != 0;
    c->remaining = q->limit;
    if (q->has_after == 2) {
      c->has_pos = 1;
      c->pos_t = q->after_t;
      c->pos_seq = q->after_seq;
      memcpy(c->pos_origin, q->after_origin, 16);
    }
    rc = query_sqls(&cp, c->desc, &c->sql_first, &c->sql_next);
  }
  if (rc == 0) {
    c->p = cp.p; /* the cursor takes the parameters over */
    c->base_n = cp.p.n;
    memset(&cp.p, 0, sizeof cp.p);
  }
  compiled_free(&cp);
  if (rc) {
    eaudit__pg_cursor_free(c);
    return rc;
  }
  *out = c;
  return EAUDIT_OK;
}

int eaudit__pg_tail_open(eaudit_store *s, int64_t after_seq, size_t limit,
                         eaudit__pgcur **out) {
  *out = NULL;
  eaudit__pgcur *c = cur_new(s);
  if (c == NULL)
    return eaudit__enomem();
  c->tail = 1;
  c->limited = limit != 0;
  c->remaining = limit;
  c->pos_seq = after_seq;
  c->has_pos = 1;
  /* The handle's own chain: seq numbers are per origin. */
  c->sql_next = eaudit__strdup(
      "SELECT " COLUMNS " FROM eaudit.events WHERE origin = $1 AND seq > $2"
      " ORDER BY seq LIMIT $3");
  if (c->sql_next == NULL ||
      param_bytes(&c->p, ((eaudit__pgstore *)s->pg)->origin, 16) < 0) {
    eaudit__pg_cursor_free(c);
    return eaudit__enomem();
  }
  c->base_n = 1;
  *out = c;
  return EAUDIT_OK;
}

/* ---- counts ---- */

/* The matching rows' @p cols, every arm UNION ALL-ed, no order. */
static int arms_sql(const compiled *c, const char *cols, int keyset_k, int desc,
                    eaudit__buf *sql) {
  const char *where = c->where.data ? c->where.data : "";
  char ks[128] = "";
  if (keyset_k)
    snprintf(ks, sizeof ks,
             " AND (occurred_at, origin, seq) %s ($%d, $%d, $%d)",
             desc ? "<" : ">", keyset_k, keyset_k + 1, keyset_k + 2);
  int rc = 0;
  for (int i = 0; rc == 0 && i < c->n_arms; i++)
    rc = eaudit__buf_printf(
        sql, "%s(SELECT %s%s FROM eaudit.events WHERE %s%s%s)",
        i ? (c->distinct ? " UNION " : " UNION ALL ") : "", cols,
        c->distinct ? ", origin, seq" : "", c->arms[i], where, ks);
  return rc ? eaudit__enomem() : EAUDIT_OK;
}

#define MAX_DAYS 400000 /* about 1,100 years of local days */

/* The starts of the local days from the one holding lo to the first at or
 * after hi, from ICU as on SQLite. */
static int day_bounds(eaudit__tz *tz, eaudit_time lo, eaudit_time hi,
                      int64_t **out, size_t *n) {
  int64_t *b = NULL;
  size_t nb = 0, cap = 0;
  eaudit_time day;
  int rc = eaudit__tz_day_start(tz, lo, &day);
  while (rc == 0) {
    if (nb == cap) {
      if (cap >= MAX_DAYS) {
        rc = eaudit__error(EAUDIT_ERANGE, EAUDIT_ECLASS_INVALID, 0,
                           "counts per day over more than %d days", MAX_DAYS);
        break;
      }
      cap = cap ? cap * 2 : 64;
      int64_t *nbv = eaudit__realloc(b, cap * sizeof *nbv);
      if (nbv == NULL) {
        rc = eaudit__enomem();
        break;
      }
      b = nbv;
    }
    b[nb++] = day;
    if (day >= hi)
      break;
    eaudit__civil cv;
    if ((rc = eaudit__tz_to_civil(tz, day, &cv)))
      break;
    eaudit__civil nx = {cv.year, cv.month, cv.day + 1, 0, 0, 0, 0, 0, 0};
    eaudit_time next;
    if ((rc = eaudit__tz_from_civil(tz, &nx, &next)))
      break;
    day = next > day ? next : day + DAY_US;
  }
  if (rc) {
    eaudit__free(b);
    return rc;
  }
  *out = b;
  *n = nb;
  return EAUDIT_OK;
}

int eaudit__pg_counts(eaudit_store *s, const eaudit_query *q, int by,
                      int (*add)(void *payload, int64_t key, int64_t n),
                      void *payload) {
  compiled cp;
  int rc = compile(s, q, &cp);
  PGconn *conn = ((eaudit__pgstore *)s->pg)->conn;
  eaudit__buf inner = {0}, sql = {0};
  int64_t *bounds = NULL;
  size_t nb = 0;
  PGresult *r = NULL;
  int keyset = 0, empty = 0;
  if (rc == 0 && q->has_after == 2) {
    keyset = cp.p.n + 1;
    if (param_i64(&cp.p, q->after_t) < 0 ||
        param_bytes(&cp.p, q->after_origin, 16) < 0 ||
        param_i64(&cp.p, q->after_seq) < 0)
      rc = eaudit__enomem();
  }
  if (rc == 0)
    rc = arms_sql(&cp,
                  by == EAUDIT_COUNT_BY_TYPE   ? "type AS k"
                  : by == EAUDIT_COUNT_BY_USER ? "subject AS k"
                                               : "occurred_at AS k",
                  keyset, q->order != EAUDIT_ORDER_OLDEST_FIRST, &inner);
  if (rc == 0 && by == EAUDIT_COUNT_BY_DAY) {
    /* Local days' starts are the bounds of width_bucket(): the server
     * groups by the days ICU gives, as SQLite's rollups do. An open end
     * is taken from the matching events themselves. */
    eaudit_time lo = cp.since, hi = cp.until;
    if (lo == EAUDIT_TIME_NONE || hi == EAUDIT_TIME_NONE) {
      if (eaudit__buf_printf(&sql, "SELECT min(k), max(k) FROM (%s) e",
                             inner.data))
        rc = eaudit__enomem();
      if (rc == 0 &&
          (r = run(conn, sql.data, &cp.p, "counting events")) == NULL)
        rc = eaudit_error_last()->code;
      if (rc == 0 && PQgetisnull(r, 0, 0)) {
        empty = 1;
      } else if (rc == 0) {
        if (lo == EAUDIT_TIME_NONE)
          lo = eaudit__pg_i64(r, 0, 0);
        if (hi == EAUDIT_TIME_NONE)
          hi = eaudit__pg_i64(r, 0, 1) + 1;
      }
      PQclear(r);
      r = NULL;
      sql.len = 0;
    }
    if (rc == 0 && !empty && lo >= hi)
      empty = 1;
    if (rc == 0 && !empty)
      rc = day_bounds(s->tz, lo, hi, &bounds, &nb);
    if (rc == 0 && !empty) {
      eaudit__buf arr = {0};
      int brc = eaudit__buf_puts(&arr, "{");
      for (size_t i = 0; brc == 0 && i < nb; i++)
        brc = eaudit__buf_printf(&arr, "%s%lld", i ? "," : "",
                                 (long long)bounds[i]);
      if (brc == 0)
        brc = eaudit__buf_puts(&arr, "}");
      int pb =
          brc ? -1
              : param_add(&cp.p, arr.data, (int)arr.len, 0, OID_INT8_ARRAY);
      eaudit__buf_free(&arr);
      if (pb < 0 ||
          eaudit__buf_printf(&sql,
                             "SELECT width_bucket(k, $%d), count(*) FROM (%s)"
                             " e GROUP BY 1",
                             pb, inner.data))
        rc = eaudit__enomem();
    }
  } else if (rc == 0) {
    if (eaudit__buf_printf(
            &sql, "SELECT k, count(*) FROM (%s) e%s GROUP BY k", inner.data,
            by == EAUDIT_COUNT_BY_USER ? " WHERE k IS NOT NULL" : ""))
      rc = eaudit__enomem();
  }
  if (rc == 0 && !empty &&
      (r = run(conn, sql.data, &cp.p, "counting events")) == NULL)
    rc = eaudit_error_last()->code;
  for (int i = 0; rc == 0 && !empty && i < PQntuples(r); i++) {
    int64_t key, n = eaudit__pg_i64(r, i, 1);
    if (by == EAUDIT_COUNT_BY_TYPE)
      key = eaudit__pg_i32(r, i, 0);
    else if (by == EAUDIT_COUNT_BY_USER)
      key = eaudit__pg_i64(r, i, 0);
    else {
      int32_t b = eaudit__pg_i32(r, i, 0);
      if (b < 1 || (size_t)b >= nb) {
        rc = eaudit__error(EAUDIT_ERROR, EAUDIT_ECLASS_STORE, 0,
                           "central store: an event fell outside the days "
                           "counted");
        break;
      }
      key = bounds[b - 1];
    }
    rc = add(payload, key, n);
  }
  PQclear(r);
  eaudit__free(bounds);
  eaudit__buf_free(&inner);
  eaudit__buf_free(&sql);
  compiled_free(&cp);
  return rc;
}

/* ---- the users list ---- */

/* Users seen in events, as subject or actor, and those set with a name or
 * a role (eaudit.users): each side's distinct ids by a
 * skip scan of its index (one probe per id), their last activity by one
 * backward probe per index, and expiry from the expiry events alone
 * (through the type index). */
static const char users_sql[] =
    "WITH RECURSIVE subj(u) AS ("
    " (SELECT subject FROM eaudit.events WHERE subject IS NOT NULL"
    "  ORDER BY subject LIMIT 1)"
    " UNION ALL SELECT (SELECT subject FROM eaudit.events"
    "  WHERE subject > subj.u ORDER BY subject LIMIT 1)"
    " FROM subj WHERE subj.u IS NOT NULL),"
    " act(u) AS ("
    " (SELECT actor FROM eaudit.events WHERE actor IS NOT NULL"
    "  AND actor IS DISTINCT FROM subject ORDER BY actor LIMIT 1)"
    " UNION ALL SELECT (SELECT actor FROM eaudit.events WHERE actor > act.u"
    "  AND actor IS DISTINCT FROM subject ORDER BY actor LIMIT 1)"
    " FROM act WHERE act.u IS NOT NULL),"
    " ids(u) AS (SELECT u FROM subj WHERE u IS NOT NULL"
    "  UNION SELECT u FROM act WHERE u IS NOT NULL"
    "  UNION SELECT id FROM eaudit.users),"
    " exp(u, expired_at, prolonged_at) AS ("
    "  SELECT subject, max(occurred_at) FILTER (WHERE type = 9),"
    "  max(occurred_at) FILTER (WHERE type = 11) FROM eaudit.events"
    "  WHERE type IN (9, 11) AND subject IS NOT NULL GROUP BY subject)"
    " SELECT ids.u, greatest("
    "  (SELECT max(occurred_at) FROM eaudit.events WHERE subject = ids.u),"
    "  (SELECT max(occurred_at) FROM eaudit.events WHERE actor = ids.u"
    "   AND actor IS DISTINCT FROM subject)),"
    "  coalesce(exp.expired_at IS NOT NULL AND (exp.prolonged_at IS NULL"
    "   OR exp.prolonged_at < exp.expired_at), false)::int4,"
    "  (SELECT name FROM eaudit.names WHERE kind = 1 AND entity = ids.u"
    "   ORDER BY valid_from DESC LIMIT 1),"
    "  coalesce((SELECT role FROM eaudit.users WHERE id = ids.u), 0)"
    " FROM ids LEFT JOIN exp ON exp.u = ids.u";

int eaudit__pg_users(eaudit_store *s, const char *prefix, size_t limit,
                     int (*add)(void *payload, int64_t id, const char *name,
                                eaudit_time last, int expired, int role),
                     void *payload) {
  PGconn *conn = ((eaudit__pgstore *)s->pg)->conn;
  compiled c;
  memset(&c, 0, sizeof c);
  eaudit__buf sql = {0};
  int pl = chk(&c, param_i64(&c.p, limit ? (int64_t)limit : INT64_MAX));
  char sub[256] = "";
  if (prefix && prefix[0] && c.rc == 0) {
    /* The prefix is one search word: a name of the user has a word
     * starting with it (names_fts's "prefix"* on SQLite). */
    eaudit__folder f;
    word_params w;
    c.rc = eaudit__fold_open(&f);
    if (c.rc == 0) {
      word_bind(&c, &f, prefix, &w);
      eaudit__fold_close(&f);
      word_sub(sub, sizeof sub, &w, EAUDIT_KIND_USER);
    }
  }
  if (c.rc == 0 &&
      eaudit__buf_printf(&sql, "%s%s%s ORDER BY ids.u LIMIT $%d", users_sql,
                         sub[0] ? " WHERE ids.u IN " : "", sub, pl))
    c.rc = eaudit__enomem();
  PGresult *r = c.rc ? NULL : run(conn, sql.data, &c.p, "reading the users list");
  int rc = c.rc ? c.rc : r == NULL ? eaudit_error_last()->code : EAUDIT_OK;
  params_free(&c.p);
  eaudit__buf_free(&sql);
  for (int i = 0; rc == 0 && i < PQntuples(r); i++)
    rc = add(payload, eaudit__pg_i64(r, i, 0),
             PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3),
             PQgetisnull(r, i, 1) ? EAUDIT_TIME_NONE : eaudit__pg_i64(r, i, 1),
             eaudit__pg_i32(r, i, 2), eaudit__pg_i32(r, i, 4));
  PQclear(r);
  return rc;
}

int eaudit__pg_query_explain(eaudit_store *s, const eaudit_query *q,
                             char **out) {
  *out = NULL;
  eaudit__pgcur *c = NULL;
  int rc = eaudit__pg_query_open(s, q, &c);
  if (rc)
    return rc;
  eaudit__buf sql = {0}, text = {0};
  const char *body = c->has_pos ? c->sql_next : c->sql_first;
  int64_t lim =
      c->limited && c->remaining < BATCH ? (int64_t)c->remaining : BATCH;
  rc = set_slots(c, lim);
  if (rc == 0 &&
      (eaudit__buf_puts(&sql, "EXPLAIN ") || eaudit__buf_puts(&sql, body)))
    rc = eaudit__enomem();
  PGresult *r = NULL;
  if (rc == 0) {
    r = PQexecParams(c->conn, sql.data, c->p.n, c->p.types,
                     (const char *const *)c->p.v, c->p.len, c->p.fmt, 0);
    if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK)
      rc = eaudit__pg_error(c->conn, r, "explaining a query");
  }
  for (int i = 0; rc == 0 && i < PQntuples(r); i++)
    if (eaudit__buf_puts(&text, PQgetvalue(r, i, 0)) ||
        eaudit__buf_puts(&text, "\n"))
      rc = eaudit__enomem();
  PQclear(r);
  eaudit__buf_free(&sql);
  slots_release(c);
  eaudit__pg_cursor_free(c);
  if (rc) {
    eaudit__buf_free(&text);
    return rc;
  }
  *out = text.data;
  return EAUDIT_OK;
}

#else /* !EAUDIT_HAVE_LIBPQ: no PostgreSQL store can be opened. */

static int no_pg(void) {
  return eaudit__error(EAUDIT_EUNSUPPORTED, EAUDIT_ECLASS_INVALID, 0,
                       "this build of the library has no PostgreSQL support");
}

int eaudit__pg_query_open(eaudit_store *s, const eaudit_query *q,
                          eaudit__pgcur **out) {
  (void)s;
  (void)q;
  *out = NULL;
  return no_pg();
}

int eaudit__pg_tail_open(eaudit_store *s, int64_t after_seq, size_t limit,
                         eaudit__pgcur **out) {
  (void)s;
  (void)after_seq;
  (void)limit;
  *out = NULL;
  return no_pg();
}

int eaudit__pg_cursor_next(eaudit__pgcur *c, eaudit_event *ev) {
  (void)c;
  (void)ev;
  return no_pg();
}

int eaudit__pg_cursor_position(const eaudit__pgcur *c, char *buf, size_t size) {
  (void)c;
  (void)buf;
  (void)size;
  return no_pg();
}

void eaudit__pg_cursor_free(eaudit__pgcur *c) { (void)c; }

int eaudit__pg_query_explain(eaudit_store *s, const eaudit_query *q,
                             char **out) {
  (void)s;
  (void)q;
  *out = NULL;
  return no_pg();
}

int eaudit__pg_counts(eaudit_store *s, const eaudit_query *q, int by,
                      int (*add)(void *payload, int64_t key, int64_t n),
                      void *payload) {
  (void)s;
  (void)q;
  (void)by;
  (void)add;
  (void)payload;
  return no_pg();
}

int eaudit__pg_users(eaudit_store *s, const char *prefix, size_t limit,
                     int (*add)(void *payload, int64_t id, const char *name,
                                eaudit_time last, int expired, int role),
                     void *payload) {
  (void)s;
  (void)prefix;
  (void)limit;
  (void)add;
  (void)payload;
  return no_pg();
}

#endif
