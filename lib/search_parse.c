/* The free-text parser: a person's search text becomes dates, times of day,
 * type sets and name prefixes (DESIGN §6). Parsing, not pattern matching,
 * is what keeps "Nov 3" from finding 13 November. */
#include "timeexpr.h"

#include "internal.h"

#include <string.h>

typedef struct token {
  const char *s;
  size_t n;
  int quoted;
} token;

static int lower(int ch) {
  return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

/* Letters, digits and every non-ASCII byte belong to words; spaces and ASCII
 * punctuation separate the words of a label. */
static int word_char(unsigned char ch) {
  return ch >= 0x80 || (ch >= '0' && ch <= '9') ||
         (lower(ch) >= 'a' && lower(ch) <= 'z');
}

static int is_sep(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' ||
         ch == '\v' || ch == ',';
}

/* Splits at white space and commas; "..." is one token (to the end of the
 * text when the closing quote is missing). */
static size_t tokenize(const char *p, token *toks) {
  size_t n = 0;
  while (*p) {
    if (is_sep(*p)) {
      p++;
    } else if (*p == '"') {
      const char *q = strchr(++p, '"');
      size_t len = q ? (size_t)(q - p) : strlen(p);
      if (toks)
        toks[n] = (token){p, len, 1};
      n++;
      p += len + (q != NULL);
    } else {
      const char *q = p;
      while (*q && !is_sep(*q) && *q != '"')
        q++;
      if (toks)
        toks[n] = (token){p, (size_t)(q - p), 0};
      n++;
      p = q;
    }
  }
  return n;
}

static int is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* The value of a token of min..max digits and nothing else, or -1. */
static int number(const token *t, size_t min, size_t max) {
  if (t->quoted || t->n < min || t->n > max)
    return -1;
  int v = 0;
  for (size_t i = 0; i < t->n; i++) {
    if ((unsigned)(t->s[i] - '0') > 9)
      return -1;
    v = v * 10 + (t->s[i] - '0');
  }
  return v;
}

/* 1-12 for an English month name or its three-letter form, else 0. */
static int month_name(const token *t) {
  static const char *const names[] = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  if (t->quoted || t->n < 3)
    return 0;
  for (int m = 0; m < 12; m++) {
    size_t len = strlen(names[m]);
    if (t->n != 3 && t->n != len && !(m == 8 && t->n == 4))
      continue; /* "sep", "sept" or "september" */
    size_t i = 0;
    while (i < t->n && lower((unsigned char)t->s[i]) == names[m][i])
      i++;
    if (i == t->n)
      return m + 1;
  }
  return 0;
}

/* A date starting at toks[i]: 2026-11-03, Nov 3 [2026], 3 Nov [2026].
 * Returns the number of tokens used, 0 if none; *y is -1 without a year. */
static size_t date_at(const token *toks, size_t n, size_t i, int *y, int *m,
                      int *d) {
  const token *t = &toks[i];
  size_t used = 2;
  *y = -1;
  if (!t->quoted && t->n == 10 && t->s[4] == '-' && t->s[7] == '-') {
    token a = {t->s, 4, 0}, b = {t->s + 5, 2, 0}, c = {t->s + 8, 2, 0};
    *y = number(&a, 4, 4);
    *m = number(&b, 2, 2);
    *d = number(&c, 2, 2);
    if (*y < 0)
      return 0;
    used = 1;
  } else if (i + 1 < n && (*m = month_name(t)) != 0) {
    *d = number(t + 1, 1, 2);
  } else if (i + 1 < n && (*m = month_name(t + 1)) != 0) {
    *d = number(t, 1, 2);
  } else {
    return 0;
  }
  if (used == 2 && i + 2 < n && (*y = number(t + 2, 4, 4)) >= 0)
    used = 3;
  /* Without a year, 29 February is a day that some year has. */
  if (*m < 1 || *m > 12 || *d < 1 ||
      *d > days_in_month(*y >= 0 ? *y : 2000, *m))
    return 0;
  return used;
}

/* Minutes [from, to) for 14:05, 14:05:09 (that minute) or 14: (that hour). */
static int time_at(const token *t, int *from, int *to) {
  size_t c = 0;
  while (c < t->n && t->s[c] != ':')
    c++;
  token h = {t->s, c, t->quoted};
  int hour = number(&h, 1, 2);
  if (c == t->n || hour < 0 || hour > 23)
    return 0;
  if (c + 1 == t->n) {
    *from = hour * 60;
    *to = *from + 60;
    return 1;
  }
  token m = {t->s + c + 1, 2, 0}, s = {t->s + c + 4, 2, 0};
  size_t rest = t->n - c - 1;
  int minute = rest == 2 || rest == 5 ? number(&m, 2, 2) : -1;
  if (rest == 5 &&
      (t->s[c + 3] != ':' || number(&s, 2, 2) < 0 || number(&s, 2, 2) > 59))
    return 0;
  if (minute < 0 || minute > 59)
    return 0;
  *from = hour * 60 + minute;
  *to = *from + 1;
  return 1;
}

/* Whether the words toks[i..j) appear in label as consecutive words, the
 * first at the start of a label word. The last may be the start of a label
 * word, so "door open" finds "Door opened" and "Door open attempt failed",
 * while "door opened" finds only the first. ASCII case is ignored. */
static int label_has(const char *label, const token *toks, size_t i, size_t j) {
  const unsigned char *l = (const unsigned char *)label;
  for (size_t k = 0; l[k]; k++) {
    if (!word_char(l[k]) || (k > 0 && word_char(l[k - 1])))
      continue;
    size_t q = k, w = i;
    for (; w < j; w++) {
      const token *t = &toks[w];
      size_t c = 0;
      while (c < t->n && l[q] && lower(l[q]) == lower((unsigned char)t->s[c]))
        c++, q++;
      if (c < t->n)
        break;
      if (w + 1 < j) {
        if (word_char(l[q]))
          break; /* a word before the last must be whole */
        while (l[q] && !word_char(l[q]))
          q++;
      }
    }
    if (w == j)
      return 1;
  }
  return 0;
}

/* Calls fn for each label matching toks[i..j); stops at its nonzero
 * return. Returns that value, a callback error, or 0. */
typedef int (*label_visit)(void *ctx, int code);
static int each_label(eaudit__label_fn labels, void *payload, const token *toks,
                      size_t i, size_t j, label_visit fn, void *ctx) {
  for (size_t k = 0;; k++) {
    int code = 0;
    const char *label = NULL;
    int rc = labels(payload, k, &code, &label);
    if (rc == EAUDIT_DONE)
      return 0;
    if (rc < 0)
      return rc;
    if (label && label_has(label, toks, i, j) && (rc = fn(ctx, code)) != 0)
      return rc;
  }
}

static int stop_at_first(void *ctx, int code) {
  (void)ctx;
  (void)code;
  return 1;
}

typedef struct type_set {
  int *codes;
  int len, cap; /* cap 0: only count */
} type_set;

static int collect(void *ctx, int code) {
  type_set *s = ctx;
  int have = s->len < s->cap ? s->len : s->cap;
  for (int i = 0; i < have; i++)
    if (s->codes[i] == code)
      return 0;
  if (s->len < s->cap)
    s->codes[s->len] = code;
  s->len++;
  return 0;
}

static int too_many(const char *what) {
  return eaudit__error(EAUDIT_ETOOBIG, EAUDIT_ECLASS_INVALID, 0,
                       "search text has more than %d %s",
                       EAUDIT__SEARCH_MAX_PARTS, what);
}

static int parse(eaudit__tz *tz, const token *toks, size_t n, eaudit_time now,
                 eaudit__label_fn labels, void *payload, eaudit__search *out) {
  eaudit__civil today;
  int rc = eaudit__tz_to_civil(tz, now, &today);
  if (rc)
    return rc;
  for (size_t i = 0; i < n;) {
    const token *t = &toks[i];
    int y, m, d, from, to;
    rc = 0;
    size_t used = date_at(toks, n, i, &y, &m, &d);
    if (used) {
      eaudit_time since, until;
      /* No year: the most recent such day that has begun by now. */
      for (int back = 0; y < 0 && back <= 8; back++) {
        int cy = today.year - back;
        eaudit__civil c = {.year = cy, .month = m, .day = d};
        if (d <= days_in_month(cy, m) &&
            (rc = eaudit__tz_from_civil(tz, &c, &since)) == 0 && since <= now)
          y = cy;
        if (rc)
          return rc;
      }
      eaudit__civil a = {.year = y, .month = m, .day = d};
      eaudit__civil b = {.year = y, .month = m, .day = d + 1};
      if ((rc = eaudit__tz_from_civil(tz, &a, &since)) ||
          (rc = eaudit__tz_from_civil(tz, &b, &until)))
        return rc;
      /* Every date must hold, so days intersect; two days leave nothing. */
      if (!out->has_interval || since > out->since)
        out->since = since;
      if (!out->has_interval || until < out->until)
        out->until = until;
      out->has_interval = 1;
      i += used;
      continue;
    }
    if (!t->quoted && time_at(t, &from, &to)) {
      if (out->n_tod == EAUDIT__SEARCH_MAX_PARTS)
        return too_many("times of day");
      out->tod_from[out->n_tod] = from;
      out->tod_to[out->n_tod++] = to;
      i++;
      continue;
    }
    /* The longest run of words that some label contains. */
    size_t j = i;
    while (labels && j < n && !toks[j].quoted &&
           (rc = each_label(labels, payload, toks, i, j + 1, stop_at_first,
                            NULL)) == 1)
      j++;
    if (rc < 0)
      return rc;
    if (j > i) {
      if (out->n_type_sets == EAUDIT__SEARCH_MAX_PARTS)
        return too_many("type phrases");
      type_set s = {NULL, 0, 0};
      if ((rc = each_label(labels, payload, toks, i, j, collect, &s)) < 0)
        return rc;
      if (!(s.codes = eaudit__malloc((size_t)s.len * sizeof(int))))
        return eaudit__enomem();
      s.cap = s.len;
      s.len = 0;
      out->type_sets[out->n_type_sets++] = s.codes;
      if ((rc = each_label(labels, payload, toks, i, j, collect, &s)) < 0)
        return rc;
      /* A callback that lists fewer labels the second time still fits. */
      out->type_set_len[out->n_type_sets - 1] = s.len < s.cap ? s.len : s.cap;
      i = j;
      continue;
    }
    /* A name prefix. Only ASCII letters are lowered here; the name index
     * folds the case of the rest. */
    i++;
    if (t->n == 0)
      continue;
    if (out->n_words == EAUDIT__SEARCH_MAX_PARTS)
      return too_many("names");
    char *w = eaudit__strndup(t->s, t->n);
    if (!w)
      return eaudit__enomem();
    for (char *p = w; *p; p++)
      *p = (char)lower((unsigned char)*p);
    out->words[out->n_words++] = w;
  }
  return EAUDIT_OK;
}

int eaudit__search_parse(eaudit__tz *tz, const char *text, eaudit_time now,
                         eaudit__label_fn labels, void *payload,
                         eaudit__search *out) {
  memset(out, 0, sizeof *out);
  if (!text || !*text)
    return EAUDIT_OK;
  if (!eaudit__utf8_valid(text, strlen(text)))
    return eaudit__error(EAUDIT_EUTF8, EAUDIT_ECLASS_INVALID, 0,
                         "search text is not valid UTF-8");
  size_t n = tokenize(text, NULL);
  token *toks = eaudit__malloc(n * sizeof *toks);
  if (!toks)
    return eaudit__enomem();
  tokenize(text, toks);
  int rc = parse(tz, toks, n, now, labels, payload, out);
  eaudit__free(toks);
  if (rc)
    eaudit__search_clear(out);
  return rc;
}

void eaudit__search_clear(eaudit__search *s) {
  if (!s)
    return;
  for (int i = 0; i < s->n_type_sets; i++)
    eaudit__free(s->type_sets[i]);
  for (int i = 0; i < s->n_words; i++)
    eaudit__free(s->words[i]);
  memset(s, 0, sizeof *s);
}
