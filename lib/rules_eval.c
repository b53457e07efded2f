/* Incremental evaluation (docs/rules.md): per-key sliding-window state,
 * cached on the handle, the four rule kinds, and episodes (open, extend,
 * quiet window, reopen).
 *
 * What is persisted (rule_state) is what cannot be read back from the
 * events cheaply: episodes, partial sequences, presence, and the window
 * items of conditions keyed by a field without an events index. Changed
 * states are written once per append, at its end, except presence and
 * sequence states, which are written at checkpoints (every CKPT_GAP seqs)
 * and when an episode changes them: between checkpoints the events since
 * the last one rebuild them (catch_up()). A threshold window keyed by
 * subject, door or device is rebuilt from the events index when its key is
 * not cached (rebuild()).
 *
 * Everything here is a function of the events in seq order and the state
 * they left, never of transaction boundaries or the wall clock, so batch
 * re-evaluation and incremental evaluation reach the same findings. */
#include "rules_internal.h"
#include "timeexpr.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct item {
  int64_t t, v, seq;
  int32_t tag, stage;
  /* The event's id when known (has_id): a finding links it without
   * reading the event back. Not stored in rule_state. */
  int has_id;
  uint8_t id[16];
} item;

struct eaudit__rstate {
  uint16_t rule;
  uint8_t kf;
  int64_t kv;
  int in_db;
  int dirty; /* changed since the last flush; on r->dirty */
  /* Presence and sequence (defers()): on r->deferred, changed since the
   * last checkpoint and not written since; an episode changed it, so the
   * next flush writes it; the row holds the state before row_at (every
   * event of the key from there on is replayed by a catch-up); the state
   * in memory holds every event before upto (its last change + 1). */
  int deferred, must;
  int64_t row_at, upto;
  int64_t finding, quiet_until;
  /* The finding's first_at while has_first (not stored: known when this
   * handle opened or extended the finding), so that an extension that
   * does not reach earlier leaves the row's indexed first_at alone. */
  int has_first;
  int64_t first_at;
  /* The row as rule_state holds it (kept_len bytes; 0: not known, or too
   * long to keep), so that a state changed and changed back within a
   * transaction is not written again. */
  uint8_t kept_len;
  uint8_t kept[47];
  int64_t a, b, c; /* kind-specific: presence area, entry seq, entry time;
                      sequence: next partial tag */
  /* Filled by preload() and not used yet: the items are those of the
   * window for an event at or after pre_from (occurred_at). */
  int pre;
  int64_t pre_from;
  item *items;
  size_t n, cap;
};

/* --- the cache --- */

static size_t slot_of(const eaudit__rules *r, uint16_t rule, uint8_t kf,
                      int64_t kv) {
  uint64_t h = (uint64_t)kv * UINT64_C(0x9E3779B97F4A7C15);
  h ^= ((uint64_t)rule << 8 | kf) * UINT64_C(0xC2B2AE3D27D4EB4F);
  h ^= h >> 29;
  return (size_t)(h & (r->cap - 1));
}

static void rstate_free(eaudit__rstate *st) {
  if (st) {
    eaudit__free(st->items);
    eaudit__free(st);
  }
}

void eaudit__rules_cache_clear(eaudit__rules *r) {
  for (size_t i = 0; i < r->cap; i++) {
    rstate_free(r->slots[i]);
    r->slots[i] = NULL;
  }
  r->used = 0;
  r->n_dirty = 0;
  r->n_deferred = 0;
  r->caught = 0;
  r->ckpt = -1;
  r->ckpt_due = 0;
  r->clears++;
  for (size_t i = 0; i < r->n_preload; i++) {
    r->preload[i].done = r->preload[i].misses = 0;
    r->num[i] = 0;
  }
}

/* The number of rule in rule_state (rule_ids) into *out: 0 when it has
 * none yet, unless create, which gives it the next free one. */
static int rule_num(eaudit_store *s, eaudit__rules *r, uint16_t rule,
                    int create, int64_t *out) {
  int64_t *num = &r->num[rule];
  for (int pass = 0; *num <= 0; pass++) {
    if (*num == 0 || create) {
      eaudit__rq *q = eaudit__rules_stmt(s, r, EAUDIT__RS_RULE_NUM_GET);
      if (q == NULL)
        return eaudit_error_last()->code;
      eaudit__rq_text(q, 1, r->rs->rules[rule].id);
      int rc = eaudit__rq_step(q);
      *num = rc == SQLITE_ROW ? eaudit__rq_col_i64(q, 0) : -1;
      eaudit__rq_reset(q);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return eaudit__rq_fail(s, rc, "reading a rule's number");
    }
    if (*num > 0 || !create)
      break;
    if (pass > 0)
      return eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                           "rule %s could not be numbered",
                           r->rs->rules[rule].id);
    eaudit__rq *q = eaudit__rules_stmt(s, r, EAUDIT__RS_RULE_NUM_PUT);
    if (q == NULL)
      return eaudit_error_last()->code;
    eaudit__rq_text(q, 1, r->rs->rules[rule].id);
    int rc = eaudit__rq_step(q);
    eaudit__rq_reset(q);
    if (rc != SQLITE_DONE)
      return eaudit__rq_fail(s, rc, "numbering a rule");
  }
  *out = *num > 0 ? *num : 0;
  return EAUDIT_OK;
}

int eaudit__rules_key_rebuilds(int key_field) {
  return key_field == EAUDIT_FIELD_SUBJECT || key_field == EAUDIT_FIELD_DOOR ||
         key_field == EAUDIT_FIELD_DEVICE;
}

/* Are st's window items kept in rule_state, or rebuilt from the events? */
static int persists_items(const eaudit__rules *r, const eaudit__rstate *st) {
  return r->rs->rules[st->rule].kind != EAUDIT__KIND_THRESHOLD ||
         !eaudit__rules_key_rebuilds(st->kf);
}

/* Is st written at checkpoints rather than at every append? */
static int defers_rule(const eaudit__rules *r, uint16_t rule) {
  int k = r->rs->rules[rule].kind;
  return k == EAUDIT__KIND_PRESENCE || k == EAUDIT__KIND_SEQUENCE;
}

static int defers(const eaudit__rules *r, const eaudit__rstate *st) {
  return defers_rule(r, st->rule);
}

#define CACHE_MAX ((size_t)1 << 16)

static int cache_put(eaudit_store *s, eaudit__rules *r, eaudit__rstate *st) {
  if (r->used + 1 > r->cap / 4 * 3) {
    if (r->cap >= CACHE_MAX && !r->catching) {
      /* Bounded memory: start over; the rows are in the database once the
       * changes are written. The event being evaluated may have been
       * evaluated by some rules already: the checkpoint is its seq, and
       * the rows of the states it changed say they hold it. (A catch-up
       * must finish before its states can be written: it grows the
       * cache.) */
      int rc = eaudit__rules_checkpoint(s, r, r->cur_seq);
      if (rc)
        return rc;
      eaudit__rules_cache_clear(r);
    } else {
      size_t ncap = r->cap ? r->cap * 2 : 1024;
      eaudit__rstate **ns = eaudit__calloc(ncap, sizeof *ns);
      if (ns == NULL)
        return eaudit__enomem();
      eaudit__rstate **old = r->slots;
      size_t ocap = r->cap;
      r->slots = ns;
      r->cap = ncap;
      for (size_t i = 0; i < ocap; i++)
        if (old[i]) {
          size_t k = slot_of(r, old[i]->rule, old[i]->kf, old[i]->kv);
          while (r->slots[k])
            k = (k + 1) & (r->cap - 1);
          r->slots[k] = old[i];
        }
      eaudit__free(old);
    }
  }
  size_t k = slot_of(r, st->rule, st->kf, st->kv);
  while (r->slots[k])
    k = (k + 1) & (r->cap - 1);
  r->slots[k] = st;
  r->used++;
  return EAUDIT_OK;
}

static eaudit__rstate *cache_find(eaudit__rules *r, uint16_t rule, uint8_t kf,
                                  int64_t kv) {
  if (r->cap == 0)
    return NULL;
  size_t k = slot_of(r, rule, kf, kv);
  for (eaudit__rstate *st; (st = r->slots[k]) != NULL;
       k = (k + 1) & (r->cap - 1))
    if (st->rule == rule && st->kf == kf && st->kv == kv)
      return st;
  return NULL;
}

/* A rule_state row: a format byte (2), a byte whose bits 0-4 say which of
 * finding, quiet_until, a, b, c are nonzero, those as varints, the item
 * count as a varint, and per item t, v, seq (each as the difference from
 * the previous item's), tag and stage as varints. Signed values are
 * zigzag-encoded, 7 bits a byte, low bits first. */
#define STATE_FORMAT 2
/* Presence and sequence rows: format 2's bytes with format byte 3, then
 * row_at as a varint. */
#define STATE_FORMAT_AT 3
/* The longest row header: 2 bytes, 5 varints and the count. */
#define HDR_MAX (2 + 6 * 10)
/* The longest item: 5 varints. */
#define ITEM_MAX (5 * 10)

static size_t put_var(uint8_t *p, int64_t v) {
  uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v < 0 ? -1 : 0);
  size_t n = 0;
  while (u >= 0x80) {
    p[n++] = (uint8_t)(u | 0x80);
    u >>= 7;
  }
  p[n++] = (uint8_t)u;
  return n;
}

/* A varint at *p (before end) into *v; 0 when damaged. */
static int get_var(const uint8_t **p, const uint8_t *end, int64_t *v) {
  uint64_t u = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p == end)
      return 0;
    uint8_t c = *(*p)++;
    u |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
      return 1;
    }
  }
  return 0;
}

/* "subject:42": the field name, a colon, the value in decimal. Written
 * by hand: it runs for every rule_state row read or written. */
int eaudit__rules_key_text(char *buf, size_t size, int kf, int64_t kv) {
  const char *name = eaudit_field_name(kf);
  size_t len = name ? strlen(name) : 0;
  char digits[24];
  size_t nd = 0;
  uint64_t u = kv < 0 ? 0 - (uint64_t)kv : (uint64_t)kv;
  do {
    digits[nd++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (kv < 0)
    digits[nd++] = '-';
  if (len + 1 + nd + 1 > size)
    return snprintf(buf, size, "%s:%lld", name ? name : "",
                    (long long)kv); /* cut, as snprintf cuts */
  memcpy(buf, name, len);
  buf[len] = ':';
  for (size_t i = 0; i < nd; i++)
    buf[len + 1 + i] = digits[nd - 1 - i];
  buf[len + 1 + nd] = '\0';
  return (int)(len + 1 + nd);
}

static int items_reserve(eaudit__rstate *st, size_t n) {
  if (n <= st->cap)
    return EAUDIT_OK;
  size_t c = st->cap ? st->cap * 2 : 8;
  while (c < n)
    c *= 2;
  item *it = eaudit__realloc(st->items, c * sizeof *it);
  if (it == NULL)
    return eaudit__enomem();
  st->items = it;
  st->cap = c;
  return EAUDIT_OK;
}

static int rebuild(eaudit_store *s, eaudit__rules *r, eaudit__rstate *st,
                   const eaudit_event *ev);
static int preload(eaudit_store *s, eaudit__rules *r, uint16_t rule,
                   const eaudit_event *ev);
static int catch_up(eaudit_store *s, eaudit__rules *r, int64_t upto);

/* A rule_state row into st: the header, and the items when st keeps them
 * there. */
static int state_decode(eaudit__rules *r, eaudit__rstate *st,
                        const uint8_t *b, size_t len) {
  const uint8_t *p = b + 2, *end = b + len;
  int64_t h[5] = {0}, n = 0;
  int ok = len >= 2 && (b[0] == STATE_FORMAT || b[0] == STATE_FORMAT_AT) &&
           b[1] < 32;
  for (int i = 0; ok && i < 5; i++)
    if (b[1] & (1 << i))
      ok = get_var(&p, end, &h[i]) && h[i] != 0;
  /* Every item takes at least 5 bytes. */
  ok = ok && get_var(&p, end, &n) && n >= 0 && n <= (end - p) / 5;
  if (!ok) {
    char key[EAUDIT_FINDING_KEY_MAX];
    eaudit__rules_key_text(key, sizeof key, st->kf, st->kv);
    return eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                         "rule state of %s/%s is damaged",
                         r->rs->rules[st->rule].id, key);
  }
  st->in_db = 1;
  st->kept_len = 0;
  st->row_at = 0;
  st->finding = h[0];
  st->quiet_until = h[1];
  st->a = h[2];
  st->b = h[3];
  st->c = h[4];
  int keep = persists_items(r, st);
  int rc;
  if (keep && n && (rc = items_reserve(st, (size_t)n)) != 0)
    return rc;
  uint64_t t = 0, v = 0, seq = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t d[5];
    for (int k = 0; k < 5; k++)
      if (!get_var(&p, end, &d[k]))
        ok = 0;
    if (!ok)
      break;
    t += (uint64_t)d[0];
    v += (uint64_t)d[1];
    seq += (uint64_t)d[2];
    if (keep)
      st->items[i] = (item){(int64_t)t, (int64_t)v, (int64_t)seq,
                            (int32_t)d[3], (int32_t)d[4], 0, {0}};
  }
  /* What kept compares is the row without row_at. */
  size_t body = (size_t)(p - b);
  if (ok && b[0] == STATE_FORMAT_AT)
    ok = get_var(&p, end, &st->row_at) && st->row_at >= 0;
  if (!ok || p != end) {
    if (keep) {
      eaudit__free(st->items);
      st->items = NULL;
      st->n = st->cap = 0;
    }
    char key[EAUDIT_FINDING_KEY_MAX];
    eaudit__rules_key_text(key, sizeof key, st->kf, st->kv);
    return eaudit__error(EAUDIT_ECORRUPT, EAUDIT_ECLASS_STORE, 0,
                         "rule state of %s/%s is damaged",
                         r->rs->rules[st->rule].id, key);
  }
  st->n = keep ? (size_t)n : 0;
  if (body <= sizeof st->kept) {
    memcpy(st->kept, b, body);
    st->kept_len = (uint8_t)body;
  }
  return EAUDIT_OK;
}

/* Cache misses of a rule before its windows are preloaded. */
#define PRELOAD_AFTER 16

/* A threshold window keyed by subject, door or device whose items can be
 * preloaded for the whole rule (preload()). */
static int preloadable(const eaudit__rules *r, uint16_t rule, int kf) {
  return rule < r->n_preload &&
         r->rs->rules[rule].kind == EAUDIT__KIND_THRESHOLD &&
         eaudit__rules_key_rebuilds(kf);
}

/* The state of (rule, key), from the cache, or read from rule_state; a
 * threshold state also gets its window items rebuilt as they stood before
 * ev. */
static int state_get(eaudit_store *s, eaudit__rules *r, uint16_t rule, int kf,
                     int64_t kv, const eaudit_event *ev,
                     eaudit__rstate **out) {
  eaudit_time t = ev->v[EAUDIT_FIELD_OCCURRED_AT];
  int rc;
  /* Presence and sequence states changed since the checkpoint are in the
   * cache only once a catch-up has replayed the events since. */
  if (!r->caught && !r->catching && defers_rule(r, rule) &&
      (rc = catch_up(s, r, ev->v[EAUDIT_FIELD_SEQ])))
    return rc;
  eaudit__rstate *st = cache_find(r, rule, (uint8_t)kf, kv);
  if (st == NULL && preloadable(r, rule, kf)) {
    /* A handle that meets few keys (single appends, short-lived
     * processes) rebuilds them one by one; from the PRELOAD_AFTER-th miss
     * on, the whole rule is loaded at once. */
    if (r->preload[rule].done == 0 &&
        ++r->preload[rule].misses >= PRELOAD_AFTER &&
        (rc = preload(s, r, rule, ev)))
      return rc;
    st = cache_find(r, rule, (uint8_t)kf, kv);
    if (st == NULL && r->preload[rule].done && t >= r->preload[rule].from) {
      /* The preload found neither events nor a rule_state row of this
       * key: its window is empty. */
      if ((st = eaudit__calloc(1, sizeof *st)) == NULL)
        return eaudit__enomem();
      st->rule = rule;
      st->kf = (uint8_t)kf;
      st->kv = kv;
      if ((rc = cache_put(s, r, st))) {
        rstate_free(st);
        return rc;
      }
      *out = st;
      return EAUDIT_OK;
    }
  }
  if (st) {
    if (st->pre) {
      /* A preloaded window serves events from pre_from on; an earlier
       * (late) event rebuilds it from the key's own index. */
      st->pre = 0;
      if (t < st->pre_from && (rc = rebuild(s, r, st, ev)))
        return rc;
    }
    *out = st;
    return EAUDIT_OK;
  }
  st = eaudit__calloc(1, sizeof *st);
  if (st == NULL)
    return eaudit__enomem();
  st->rule = rule;
  st->kf = (uint8_t)kf;
  st->kv = kv;
  int64_t num;
  if ((rc = rule_num(s, r, rule, 0, &num))) {
    rstate_free(st);
    return rc;
  }
  eaudit__rq *q =
      num ? eaudit__rules_stmt(s, r, EAUDIT__RS_STATE_GET) : NULL;
  if (num && q == NULL) {
    rstate_free(st);
    return eaudit_error_last()->code;
  }
  rc = SQLITE_DONE; /* a rule without a number has no rows */
  if (q) {
    eaudit__rq_i64(q, 1, num);
    eaudit__rq_int(q, 2, kf);
    eaudit__rq_i64(q, 3, kv);
    rc = eaudit__rq_step(q);
  }
  if (rc == SQLITE_ROW) {
    int drc = state_decode(r, st, eaudit__rq_col_blob(q, 0),
                           (size_t)eaudit__rq_col_bytes(q, 0));
    if (drc) {
      eaudit__rq_reset(q);
      rstate_free(st);
      return drc;
    }
    rc = SQLITE_DONE;
  }
  if (q)
    eaudit__rq_reset(q);
  if (rc != SQLITE_DONE) {
    rstate_free(st);
    return eaudit__rq_fail(s, rc, "reading rule state");
  }
  if (!persists_items(r, st) && (rc = rebuild(s, r, st, ev))) {
    rstate_free(st);
    return rc;
  }
  if ((rc = cache_put(s, r, st))) {
    rstate_free(st);
    return rc;
  }
  *out = st;
  return EAUDIT_OK;
}

/* Mark st changed; it is written by the next flush. */
static int state_touch(eaudit__rules *r, eaudit__rstate *st) {
  st->upto = r->cur_seq + 1;
  if (st->dirty)
    return EAUDIT_OK;
  if (r->n_dirty == r->cap_dirty) {
    size_t c = r->cap_dirty ? r->cap_dirty * 2 : 64;
    eaudit__rstate **d = eaudit__realloc(r->dirty, c * sizeof *d);
    if (d == NULL)
      return eaudit__enomem();
    r->dirty = d;
    r->cap_dirty = c;
  }
  r->dirty[r->n_dirty++] = st;
  st->dirty = 1;
  return EAUDIT_OK;
}

static int state_write(eaudit_store *s, eaudit__rules *r, eaudit__rstate *st) {
  size_t n_items = persists_items(r, st) ? st->n : 0;
  int empty = n_items == 0 && st->finding == 0 && st->a == 0;
  if (empty && !st->in_db)
    return EAUDIT_OK;
  int64_t num;
  int rc = rule_num(s, r, st->rule, 1, &num);
  if (rc)
    return rc;
  eaudit__rq *q = eaudit__rules_stmt(
      s, r, empty ? EAUDIT__RS_STATE_DEL : EAUDIT__RS_STATE_PUT);
  if (q == NULL)
    return eaudit_error_last()->code;
  eaudit__rq_i64(q, 1, num);
  eaudit__rq_int(q, 2, st->kf);
  eaudit__rq_i64(q, 3, st->kv);
  uint8_t small[HDR_MAX + 8 * ITEM_MAX], *b = small;
  size_t cap = HDR_MAX + n_items * ITEM_MAX;
  if (!empty) {
    if (cap > sizeof small && (b = eaudit__malloc(cap)) == NULL)
      return eaudit__enomem();
    const int64_t h[5] = {st->finding, st->quiet_until, st->a, st->b, st->c};
    size_t len = 2;
    int at = defers(r, st);
    b[0] = at ? STATE_FORMAT_AT : STATE_FORMAT;
    b[1] = 0;
    for (int i = 0; i < 5; i++)
      if (h[i]) {
        b[1] |= (uint8_t)(1 << i);
        len += put_var(b + len, h[i]);
      }
    len += put_var(b + len, (int64_t)n_items);
    uint64_t t = 0, v = 0, seq = 0;
    for (size_t i = 0; i < n_items; i++) {
      const item *it = &st->items[i];
      len += put_var(b + len, (int64_t)((uint64_t)it->t - t));
      len += put_var(b + len, (int64_t)((uint64_t)it->v - v));
      len += put_var(b + len, (int64_t)((uint64_t)it->seq - seq));
      len += put_var(b + len, it->tag);
      len += put_var(b + len, it->stage);
      t = (uint64_t)it->t;
      v = (uint64_t)it->v;
      seq = (uint64_t)it->seq;
    }
    if (st->in_db && st->kept_len == len && memcmp(st->kept, b, len) == 0) {
      /* The row holds this already (for a presence or sequence state, as
       * of its row_at: the events since changed it and changed it back,
       * so replaying them from there gives it again). */
      eaudit__rq_reset(q);
      if (b != small)
        eaudit__free(b);
      return EAUDIT_OK;
    }
    st->kept_len = 0;
    if (len <= sizeof st->kept) {
      memcpy(st->kept, b, len);
      st->kept_len = (uint8_t)len;
    }
    if (at) {
      /* Every event before upto is in the state; those after its last
       * change left it alone. */
      int64_t upto = st->upto > st->row_at ? st->upto : st->row_at;
      len += put_var(b + len, upto);
      st->row_at = upto;
    }
    eaudit__rq_blob(q, 4, b, len);
  }
  rc = eaudit__rq_step(q);
  eaudit__rq_reset(q);
  if (b != small)
    eaudit__free(b);
  if (rc != SQLITE_DONE) {
    st->kept_len = 0;
    return eaudit__rq_fail(s, rc, "writing rule state");
  }
  st->in_db = !empty;
  if (empty) {
    st->kept_len = 0;
    st->row_at = 0;
  }
  return EAUDIT_OK;
}

/* Seqs between checkpoints: what a catch-up replays at most, bar the
 * events of one append. */
#define CKPT_GAP 8192

static const char ckpt_key[] = "rules_checkpoint";

/* r->ckpt from meta, once per cache generation. */
static int ckpt_get(eaudit_store *s, eaudit__rules *r, int64_t *out) {
  if (r->ckpt < 0) {
    eaudit__rq *q = eaudit__rules_stmt(s, r, EAUDIT__RS_META_GET);
    if (q == NULL)
      return eaudit_error_last()->code;
    eaudit__rq_text(q, 1, ckpt_key);
    int rc = eaudit__rq_step(q);
    int64_t v = rc == SQLITE_ROW ? eaudit__rq_col_i64(q, 0) : 0;
    eaudit__rq_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      return eaudit__rq_fail(s, rc, "reading the rules checkpoint");
    r->ckpt = v > 0 ? v : 0;
  }
  *out = r->ckpt;
  return EAUDIT_OK;
}

static int any_defers(const eaudit__rules *r) {
  for (size_t i = 0; r->rs && i < r->rs->n; i++)
    if (r->rs->rules[i].enabled && defers_rule(r, (uint16_t)i))
      return 1;
  return 0;
}

static int defer_add(eaudit__rules *r, eaudit__rstate *st) {
  if (st->deferred)
    return EAUDIT_OK;
  if (r->n_deferred == r->cap_deferred) {
    size_t c = r->cap_deferred ? r->cap_deferred * 2 : 64;
    eaudit__rstate **d = eaudit__realloc(r->deferred, c * sizeof *d);
    if (d == NULL)
      return eaudit__enomem();
    r->deferred = d;
    r->cap_deferred = c;
  }
  r->deferred[r->n_deferred++] = st;
  st->deferred = 1;
  return EAUDIT_OK;
}

int eaudit__rules_flush(eaudit_store *s, eaudit__rules *r) {
  int rc;
  for (size_t i = 0; i < r->n_dirty; i++) {
    eaudit__rstate *st = r->dirty[i];
    if (defers(r, st) && !st->must)
      rc = defer_add(r, st);
    else
      rc = state_write(s, r, st);
    if (rc)
      return rc; /* the transaction rolls back; the cache is dropped */
    st->dirty = st->must = 0;
  }
  r->n_dirty = 0;
  if (!any_defers(r))
    return EAUDIT_OK;
  /* A first deferred change needs a checkpoint to replay from; later, one
   * every CKPT_GAP seqs bounds what a catch-up replays. */
  int64_t ckpt = 0, next = r->cur_seq + 1;
  if ((rc = ckpt_get(s, r, &ckpt)))
    return rc;
  if (ckpt == 0 ? r->n_deferred > 0
                : next - ckpt >= CKPT_GAP || r->ckpt_due)
    return eaudit__rules_checkpoint(s, r, next);
  return EAUDIT_OK;
}

int eaudit__rules_checkpoint(eaudit_store *s, eaudit__rules *r,
                             int64_t next_seq) {
  int rc;
  /* Changes of other handles since the last checkpoint are only in the
   * events: replay them before the checkpoint moves past them. */
  if (!r->caught && any_defers(r) && (rc = catch_up(s, r, next_seq)))
    return rc;
  for (size_t i = 0; i < r->n_dirty; i++) {
    eaudit__rstate *st = r->dirty[i];
    if ((rc = state_write(s, r, st)))
      return rc;
    st->dirty = st->must = 0;
  }
  r->n_dirty = 0;
  for (size_t i = 0; i < r->n_deferred; i++) {
    eaudit__rstate *st = r->deferred[i];
    if ((rc = state_write(s, r, st)))
      return rc;
    st->deferred = 0;
  }
  r->n_deferred = 0;
  if ((rc = eaudit__rules_meta_set(s, r, ckpt_key, NULL, next_seq)))
    return rc;
  r->ckpt = next_seq;
  r->ckpt_due = 0;
  return EAUDIT_OK;
}

int eaudit__rules_catch_up_reads(eaudit_store *s, eaudit__rules *r,
                                 int64_t through_seq) {
  int64_t ckpt = 0;
  if (ckpt_get(s, r, &ckpt))
    return 1;
  /* No checkpoint yet: no change was ever left to a catch-up. */
  return ckpt > 0 && ckpt <= through_seq;
}

static int eval_presence(eaudit_store *s, eaudit__rules *r, uint16_t ri,
                         const eaudit_event *ev);
static int eval_sequence(eaudit_store *s, eaudit__rules *r, uint16_t ri,
                         const eaudit_event *ev);
static int reason_ok(const eaudit__rule *rule, const eaudit_event *ev);

/* Bring the presence and sequence states of the cache up to date with
 * the events before upto: replay, in seq order, the events from the
 * checkpoint on through those rules, each on the state its row holds, an
 * event only on a state whose row does not hold it already (seq >=
 * row_at) and only from the rule's rule_since on. The states so changed
 * are those the handle that evaluated the events held; no episode comes
 * of it (each was written with its state, whose row_at is past it). The
 * states changed are deferred, so the next checkpoint writes them. */
static int catch_up(eaudit_store *s, eaudit__rules *r, int64_t upto) {
  int64_t from = 0, cur = r->cur_seq;
  int rc = ckpt_get(s, r, &from);
  if (rc)
    return rc;
  r->catching = 1;
  eaudit__rq *q = NULL;
  int src = SQLITE_DONE;
  eaudit_event ev;
  memset(&ev, 0, sizeof ev);
  /* The append that needed a catch-up ends with a checkpoint: handles
   * appending in turn (each transaction after another handle's commit
   * catches up) then replay only what the other wrote since its last
   * append's checkpoint, i.e. nothing, instead of up to CKPT_GAP seqs,
   * and a reopened handle replays once. */
  r->ckpt_due = 1;
  if (from > 0 && from < upto) {
    if ((q = eaudit__rules_stmt(s, r, EAUDIT__RS_CATCH_UP)) == NULL) {
      r->catching = 0;
      return eaudit_error_last()->code;
    }
    eaudit__rq_i64(q, 1, from);
    eaudit__rq_i64(q, 2, upto);
    while (rc == 0 && (src = eaudit__rq_step(q)) == SQLITE_ROW) {
      const eaudit__type_rules *tr =
          eaudit__ruleset_for_type(r->rs, eaudit__rq_col_int(q, 4));
      size_t i = 0;
      while (tr && i < tr->n && !defers_rule(r, tr->rules[i]))
        i++;
      if (tr == NULL || i == tr->n)
        continue;
      if ((rc = eaudit__rq_event(q, &ev)))
        break;
      int64_t seq = ev.v[EAUDIT_FIELD_SEQ];
      r->cur_seq = seq;
      for (; rc == 0 && i < tr->n; i++) {
        uint16_t ri = tr->rules[i];
        const eaudit__rule *rule = &r->rs->rules[ri];
        if (!defers_rule(r, ri) || seq < r->since[ri] || !reason_ok(rule, &ev))
          continue;
        rc = rule->kind == EAUDIT__KIND_PRESENCE
                 ? eval_presence(s, r, ri, &ev)
                 : eval_sequence(s, r, ri, &ev);
      }
    }
    eaudit__rq_reset(q);
    if (rc == 0 && src != SQLITE_DONE)
      rc = eaudit__rq_fail(s, src, "replaying events since the rules "
                                        "checkpoint");
  }
  eaudit__event_release(&ev);
  r->cur_seq = cur;
  /* The changes go out with the next checkpoint, not at every flush. */
  size_t kept = 0;
  for (size_t i = 0; i < r->n_dirty; i++) {
    eaudit__rstate *st = r->dirty[i];
    if (rc == 0 && defers(r, st) && (rc = defer_add(r, st)) == 0)
      st->dirty = 0;
    else
      r->dirty[kept++] = st;
  }
  r->n_dirty = kept;
  r->catching = 0;
  if (rc == 0)
    r->caught = 1;
  return rc;
}

/* --- findings and episodes --- */

typedef struct ref {
  int64_t seq, t;
  const uint8_t *id; /* the event's id, or NULL: read from events */
} ref;

static void finding_id(const char *rule, const char *key, const uint8_t ev[16],
                       eaudit_time first_at, uint8_t out[16]) {
  crypto_generichash_state h;
  crypto_generichash_init(&h, NULL, 0, 16);
  crypto_generichash_update(&h, (const uint8_t *)rule, strlen(rule) + 1);
  crypto_generichash_update(&h, (const uint8_t *)key, strlen(key) + 1);
  crypto_generichash_update(&h, ev, 16);
  crypto_generichash_final(&h, out, 16);
  /* Time-ordered like the event ids: milliseconds of first_at first. */
  uint64_t ms = first_at < 0 ? 0 : (uint64_t)(first_at / 1000);
  for (int i = 0; i < 6; i++)
    out[i] = (uint8_t)(ms >> (8 * (5 - i)));
  out[6] = (uint8_t)(0x80 | (out[6] & 0x0F)); /* version 8: custom */
  out[8] = (uint8_t)(0x80 | (out[8] & 0x3F));
}

static int step_done(eaudit_store *s, eaudit__rq *q, const char *what) {
  int rc = eaudit__rq_step(q);
  eaudit__rq_reset(q);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? EAUDIT_OK
                                               : eaudit__rq_fail(s, rc, what);
}

/* The lowest seq in events, read once per transaction. A purge removes a
 * prefix of the seqs, so an event at or above it is still there. */
static int live_from(eaudit_store *s, eaudit__rules *r, int64_t *out) {
  if (!r->live_known) {
    eaudit__rq *q = eaudit__rules_stmt(s, r, EAUDIT__RS_LIVE_FROM);
    if (q == NULL)
      return eaudit_error_last()->code;
    int rc = eaudit__rq_step(q);
    r->live_from = rc == SQLITE_ROW && !eaudit__rq_col_null(q, 0)
                       ? eaudit__rq_col_i64(q, 0)
                       : INT64_MAX;
    eaudit__rq_reset(q);
    if (rc != SQLITE_ROW)
      return eaudit__rq_fail(s, rc, "reading the first event");
    r->live_known = 1;
  }
  *out = r->live_from;
  return EAUDIT_OK;
}

/* Link the events to the finding, with their ids copied: from the
 * engine's memory when it holds them and the event is still stored, else
 * from the events table in the same statement; an event purged since
 * links nothing. */
static int refs_insert_many(eaudit_store *s, eaudit__rules *r,
                            int64_t finding, const ref *refs, size_t n);

static int refs_insert(eaudit_store *s, eaudit__rules *r, int64_t finding,
                       const ref *refs, size_t n) {
  if (s->pg)
    return refs_insert_many(s, r, finding, refs, n);
  for (size_t i = 0; i < n; i++) {
    int64_t from = INT64_MAX;
    int rc = refs[i].id ? live_from(s, r, &from) : EAUDIT_OK;
    if (rc)
      return rc;
    int direct = refs[i].id && refs[i].seq >= from;
    eaudit__rq *q = eaudit__rules_stmt(
        s, r, direct ? EAUDIT__RS_REF_INSERT_ID : EAUDIT__RS_REF_INSERT);
    if (q == NULL)
      return eaudit_error_last()->code;
    eaudit__rq_i64(q, 1, finding);
    eaudit__rq_i64(q, 2, refs[i].seq);
    if (direct)
      eaudit__rq_blob(q, 3, refs[i].id, 16);
    if ((rc = step_done(s, q, "linking a finding to its events")))
      return rc;
  }
  return EAUDIT_OK;
}

static void put_be32(uint8_t *p, uint32_t v) {
  for (int k = 0; k < 4; k++)
    p[k] = (uint8_t)(v >> (24 - 8 * k));
}

/* The same on PostgreSQL, where each statement is a round trip: the
 * events whose ids the engine holds go in one statement, as two arrays in
 * PostgreSQL's binary array format (int8[] seqs, bytea[] ids); the others
 * are read from the events one by one, as on SQLite. */
static int refs_insert_many(eaudit_store *s, eaudit__rules *r,
                            int64_t finding, const ref *refs, size_t n) {
  int64_t from = INT64_MAX;
  size_t k = 0;
  int rc = EAUDIT_OK;
  for (size_t i = 0; i < n && rc == 0; i++)
    if (refs[i].id && (rc = live_from(s, r, &from)) == 0 &&
        refs[i].seq >= from)
      k++;
  if (rc)
    return rc;
  uint8_t *seqs = NULL, *ids = NULL;
  if (k && ((seqs = eaudit__malloc(20 + k * 12)) == NULL ||
            (ids = eaudit__malloc(20 + k * 20)) == NULL)) {
    eaudit__free(seqs);
    return eaudit__enomem();
  }
  if (k) {
    /* ndim, no nulls, element type, length, lower bound. */
    const uint32_t hs[5] = {1, 0, 20, (uint32_t)k, 1},
                   hi[5] = {1, 0, 17, (uint32_t)k, 1};
    for (int h = 0; h < 5; h++) {
      put_be32(seqs + 4 * h, hs[h]);
      put_be32(ids + 4 * h, hi[h]);
    }
  }
  size_t j = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (refs[i].id && refs[i].seq >= from) {
      uint8_t *ps = seqs + 20 + j * 12, *pi = ids + 20 + j * 20;
      put_be32(ps, 8);
      put_be32(ps + 4, (uint32_t)((uint64_t)refs[i].seq >> 32));
      put_be32(ps + 8, (uint32_t)refs[i].seq);
      put_be32(pi, 16);
      memcpy(pi + 4, refs[i].id, 16);
      j++;
      continue;
    }
    eaudit__rq *q = eaudit__rules_stmt(s, r, EAUDIT__RS_REF_INSERT);
    if (q == NULL) {
      rc = eaudit_error_last()->code;
      break;
    }
    eaudit__rq_i64(q, 1, finding);
    eaudit__rq_i64(q, 2, refs[i].seq);
    rc = step_done(s, q, "linking a finding to its events");
  }
  if (rc == 0 && k) {
    eaudit__rq *q = eaudit__rules_stmt(s, r, EAUDIT__RS_REF_INSERT_MANY);
    if (q == NULL) {
      rc = eaudit_error_last()->code;
    } else {
      eaudit__rq_i64(q, 1, finding);
      eaudit__rq_blob(q, 2, seqs, 20 + k * 12);
      eaudit__rq_blob(q, 3, ids, 20 + k * 20);
      rc = step_done(s, q, "linking a finding to its events");
    }
  }
  eaudit__free(seqs);
  eaudit__free(ids);
  return rc;
}

/* The condition of rule `ri` holds for the key of st at event ev: open a
 * finding, or extend the one whose quiet window has not ended. */
static int episode(eaudit_store *s, eaudit__rules *r, uint16_t ri,
                   eaudit__rstate *st, const eaudit_event *ev, int64_t window,
                   const ref *refs, size_t n) {
  const eaudit__rule *rule = &r->rs->rules[ri];
  eaudit_time t = ev->v[EAUDIT_FIELD_OCCURRED_AT];
  int64_t seq = ev->v[EAUDIT_FIELD_SEQ];
  eaudit_time lo = t, hi = t;
  int64_t min_seq = seq, max_seq = seq;
  for (size_t i = 0; i < n; i++) {
    lo = refs[i].t < lo ? refs[i].t : lo;
    hi = refs[i].t > hi ? refs[i].t : hi;
    min_seq = refs[i].seq < min_seq ? refs[i].seq : min_seq;
    max_seq = refs[i].seq > max_seq ? refs[i].seq : max_seq;
  }
  int rc;
  st->must = 1; /* an episode is written with its state */
  if (st->finding && t < st->quiet_until) {
    eaudit__rq *q = eaudit__rules_stmt(s, r, EAUDIT__RS_FINDING_EXTEND);
    if (q == NULL)
      return eaudit_error_last()->code;
    eaudit__rq_i64(q, 1, hi);
    eaudit__rq_i64(q, 2, t + window);
    eaudit__rq_i64(q, 3, max_seq);
    eaudit__rq_int(q, 4, ev->late);
    eaudit__rq_i64(q, 5, st->finding);
    if ((rc = step_done(s, q, "extending a finding")))
      return rc;
    if (!st->has_first || lo < st->first_at) {
      if ((q = eaudit__rules_stmt(s, r, EAUDIT__RS_FINDING_EXTEND_FIRST)) ==
          NULL)
        return eaudit_error_last()->code;
      eaudit__rq_i64(q, 1, lo);
      eaudit__rq_i64(q, 2, st->finding);
      if ((rc = step_done(s, q, "extending a finding")))
        return rc;
      if (st->has_first)
        st->first_at = lo;
    }
    if (t + window > st->quiet_until)
      st->quiet_until = t + window;
    return refs_insert(s, r, st->finding, refs, n);
  }
  int64_t num;
  if ((rc = rule_num(s, r, ri, 1, &num)))
    return rc;
  char key[EAUDIT_FINDING_KEY_MAX];
  eaudit__rules_key_text(key, sizeof key, st->kf, st->kv);
  uint8_t id[16];
  finding_id(rule->id, key, ev->id, lo, id);
  int existed = 0;
  int64_t rowid = 0;
  eaudit__rq *q;
  if (r->replay) {
    /* Found again by a re-evaluation: keep its row, id and state. */
    if ((q = eaudit__rules_stmt(s, r, EAUDIT__RS_FINDING_EXISTS)) == NULL)
      return eaudit_error_last()->code;
    eaudit__rq_blob(q, 1, id, 16);
    rc = eaudit__rq_step(q);
    existed = rc == SQLITE_ROW;
    if (existed)
      rowid = eaudit__rq_col_i64(q, 0);
    eaudit__rq_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      return eaudit__rq_fail(s, rc, "looking up a finding");
  }
  if ((q = eaudit__rules_stmt(s, r, EAUDIT__RS_FINDING_INSERT)) == NULL)
    return eaudit_error_last()->code;
  eaudit__rq_blob(q, 1, id, 16);
  eaudit__rq_i64(q, 2, num);
  eaudit__rq_int(q, 3, rule->severity);
  eaudit__rq_int(q, 4, st->kf);
  eaudit__rq_i64(q, 5, st->kv);
  if (st->kf == EAUDIT_FIELD_SUBJECT || st->kf == EAUDIT_FIELD_ACTOR)
    eaudit__rq_i64(q, 6, st->kv);
  else if (st->kf == EAUDIT_FIELD_DEVICE && EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT))
    eaudit__rq_i64(q, 6, ev->v[EAUDIT_FIELD_SUBJECT]);
  else
    eaudit__rq_null(q, 6);
  eaudit__rq_i64(q, 7, lo);
  eaudit__rq_i64(q, 8, hi);
  eaudit__rq_i64(q, 9, t + window);
  eaudit__rq_i64(q, 10, min_seq);
  eaudit__rq_i64(q, 11, max_seq);
  eaudit__rq_int(q, 12, ev->late);
  /* No RETURNING clause: it makes SQLite open a statement journal (a
   * 64 KiB buffer allocated and freed per finding). A new row's rowid is
   * the connection's last insert rowid; a re-found one's was read above,
   * and should the insert have met an existing id all the same, the
   * lookup gives it. PostgreSQL returns the rowid instead. */
  int64_t before = s->pg ? 0 : sqlite3_last_insert_rowid(s->db);
  rc = eaudit__rq_step(q);
  int64_t returned = rc == SQLITE_ROW ? eaudit__rq_col_i64(q, 0) : 0;
  eaudit__rq_reset(q);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return eaudit__rq_fail(s, rc, "storing a finding");
  if (!existed &&
      (rowid = s->pg ? returned : sqlite3_last_insert_rowid(s->db)) ==
          before) {
    if ((q = eaudit__rules_stmt(s, r, EAUDIT__RS_FINDING_EXISTS)) == NULL)
      return eaudit_error_last()->code;
    eaudit__rq_blob(q, 1, id, 16);
    rc = eaudit__rq_step(q);
    rowid = rc == SQLITE_ROW ? eaudit__rq_col_i64(q, 0) : 0;
    eaudit__rq_reset(q);
    if (rc != SQLITE_ROW)
      return eaudit__rq_fail(s, rc, "looking up a finding");
  }
  if (existed) {
    if ((q = eaudit__rules_stmt(s, r, EAUDIT__RS_REFS_DELETE)) == NULL)
      return eaudit_error_last()->code;
    eaudit__rq_i64(q, 1, rowid);
    if ((rc = step_done(s, q, "replacing a finding's events")))
      return rc;
  }
  st->finding = rowid;
  st->quiet_until = t + window;
  st->has_first = 1;
  st->first_at = lo;
  if ((rc = refs_insert(s, r, rowid, refs, n)))
    return rc;
  return existed ? EAUDIT_OK : eaudit__rules_pending_add(r, rowid);
}

/* --- threshold rules --- */

/* Items of condition `tag` are kept together, sorted by (t, seq). */
static int item_insert(eaudit__rstate *st, item it, size_t *pos) {
  int rc = items_reserve(st, st->n + 1);
  if (rc)
    return rc;
  size_t i = st->n;
  while (i > 0 && (st->items[i - 1].tag > it.tag ||
                   (st->items[i - 1].tag == it.tag &&
                    (st->items[i - 1].t > it.t ||
                     (st->items[i - 1].t == it.t &&
                      st->items[i - 1].seq > it.seq)))))
    i--;
  memmove(&st->items[i + 1], &st->items[i], (st->n - i) * sizeof *st->items);
  st->items[i] = it;
  st->n++;
  *pos = i;
  return EAUDIT_OK;
}

static void tag_range(const eaudit__rstate *st, int32_t tag, size_t *b,
                      size_t *e) {
  size_t i = 0;
  while (i < st->n && st->items[i].tag < tag)
    i++;
  *b = i;
  while (i < st->n && st->items[i].tag == tag)
    i++;
  *e = i;
}

static void items_remove(eaudit__rstate *st, size_t from, size_t to) {
  memmove(&st->items[from], &st->items[to], (st->n - to) * sizeof *st->items);
  st->n -= to - from;
}

/* Drop what no window can reach any more: items older than the newest
 * of their condition by more than the window plus the lateness bound,
 * then the oldest beyond the cap. */
static void prune(eaudit__rstate *st, int32_t tag, int64_t keep) {
  size_t b, e;
  tag_range(st, tag, &b, &e);
  if (b == e)
    return;
  int64_t newest = st->items[b].t;
  for (size_t i = b; i < e; i++)
    newest = st->items[i].t > newest ? st->items[i].t : newest;
  size_t k = b;
  while (k < e && st->items[k].t < newest - keep)
    k++;
  if (e - k > EAUDIT__RULE_MAX_ITEMS)
    k = e - EAUDIT__RULE_MAX_ITEMS;
  items_remove(st, b, k);
}

static size_t distinct_in(const item *it, size_t from, size_t to) {
  size_t d = 0;
  for (size_t k = from; k <= to; k++) {
    size_t j = from;
    while (j < k && it[j].v != it[k].v)
      j++;
    d += j == k;
  }
  return d;
}

/* Is there a window [x, x + w) holding the new item at p with at least
 * `threshold` items (or distinct values)? Sets [*lo, *hi] to it. */
static int cond_holds(const eaudit__rstate *st, size_t b, size_t e, size_t p,
                      const eaudit__cond *c, size_t *lo, size_t *hi) {
  const item *it = st->items;
  int64_t t = it[p].t;
  size_t i = p;
  while (i > b && t - it[i - 1].t < c->window)
    i--;
  size_t j = p;
  for (; i <= p; i++) {
    while (j + 1 < e && it[j + 1].t - it[i].t < c->window)
      j++;
    size_t n = c->distinct ? distinct_in(it, i, j) : j - i + 1;
    if ((int64_t)n >= c->threshold) {
      *lo = i;
      *hi = j;
      return 1;
    }
  }
  return 0;
}

static int item_cmp(const void *a, const void *b) {
  const item *x = a, *y = b;
  if (x->tag != y->tag)
    return x->tag < y->tag ? -1 : 1;
  if (x->t != y->t)
    return x->t < y->t ? -1 : 1;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

static int rule_watches(const eaudit__rule *rule, int type, int64_t reason) {
  size_t i = 0;
  while (i < rule->n_types && rule->types[i] != type)
    i++;
  if (i == rule->n_types)
    return 0;
  if (rule->n_reasons == 0)
    return 1;
  for (i = 0; i < rule->n_reasons; i++)
    if (rule->reasons[i] == reason)
      return 1;
  return 0;
}

/* Rebuild the window items of st's conditions as incremental evaluation
 * holds them just before ev, from the events index of the key. The items
 * are the matching events with since <= seq < ev's seq; prune() keeps of
 * them, per condition, those at or after newest - (window + lateness),
 * where newest is the latest occurred_at among them, and of those the
 * newest 1024 by (occurred_at, seq). Here the bound is max(newest, ev's
 * occurred_at) - (window + lateness): the kept items older than that lie
 * outside every window holding ev and are pruned right after ev, so
 * leaving them out changes no decision. The scan reads the key's events
 * newest first down to that bound. */
static int rebuild(eaudit_store *s, eaudit__rules *r, eaudit__rstate *st,
                   const eaudit_event *ev) {
  const eaudit__rule *rule = &r->rs->rules[st->rule];
  int64_t lateness = s->opts.ints[EAUDIT_OPT_LATENESS_US];
  eaudit_time t = ev->v[EAUDIT_FIELD_OCCURRED_AT];
  int64_t newest[EAUDIT__RULE_MAX_CONDS], floor = t;
  int found[EAUDIT__RULE_MAX_CONDS] = {0}, done[EAUDIT__RULE_MAX_CONDS] = {0};
  size_t count[EAUDIT__RULE_MAX_CONDS] = {0};
  size_t live = 0;
  for (size_t ci = 0; ci < rule->n_conds; ci++) {
    if (rule->conds[ci].key != st->kf) {
      done[ci] = 1;
      continue;
    }
    live++;
    int64_t f = t - (rule->conds[ci].window + lateness);
    floor = f < floor ? f : floor;
  }
  st->n = 0;
  if (live == 0)
    return EAUDIT_OK;
  int id = st->kf == EAUDIT_FIELD_SUBJECT ? EAUDIT__RS_SCAN_SUBJECT
           : st->kf == EAUDIT_FIELD_DOOR  ? EAUDIT__RS_SCAN_DOOR
                                          : EAUDIT__RS_SCAN_DEVICE;
  eaudit__rq *q = eaudit__rules_stmt(s, r, id);
  if (q == NULL)
    return eaudit_error_last()->code;
  eaudit__rq_i64(q, 1, st->kv);
  eaudit__rq_i64(q, 2, floor);
  eaudit__rq_i64(q, 3, r->since[st->rule]);
  eaudit__rq_i64(q, 4, ev->v[EAUDIT_FIELD_SEQ]);
  int rc = EAUDIT_OK, src = SQLITE_DONE;
  while (live && (src = eaudit__rq_step(q)) == SQLITE_ROW) {
    if (!rule_watches(rule, eaudit__rq_col_int(q, 2),
                      eaudit__rq_col_i64(q, 3)))
      continue;
    eaudit_time rt = eaudit__rq_col_i64(q, 0);
    int64_t seq = eaudit__rq_col_i64(q, 1);
    for (size_t ci = 0; ci < rule->n_conds && rc == 0; ci++) {
      const eaudit__cond *c = &rule->conds[ci];
      if (done[ci])
        continue;
      int64_t v = 0;
      if (c->distinct == EAUDIT__DISTINCT_DAY) {
        if ((rc = eaudit__tz_day_start(s->tz, rt, &v)))
          break;
      } else if (c->distinct) {
        /* Columns subject..site follow type and reason. */
        int col = c->distinct - EAUDIT_FIELD_SUBJECT + 4;
        if (eaudit__rq_col_null(q, col))
          continue;
        v = eaudit__rq_col_i64(q, col);
      }
      if (!found[ci]) {
        found[ci] = 1;
        newest[ci] = rt;
      }
      int64_t bound =
          (newest[ci] > t ? newest[ci] : t) - (c->window + lateness);
      if (rt < bound) {
        done[ci] = 1;
        live--;
        continue;
      }
      if ((rc = items_reserve(st, st->n + 1)))
        break;
      item *it = &st->items[st->n++];
      *it = (item){rt, v, seq, (int32_t)ci, 0, 0, {0}};
      if (eaudit__rq_col_bytes(q, 10) == 16) {
        memcpy(it->id, eaudit__rq_col_blob(q, 10), 16);
        it->has_id = 1;
      }
      if (++count[ci] == EAUDIT__RULE_MAX_ITEMS) {
        done[ci] = 1;
        live--;
      }
    }
    if (rc)
      break;
  }
  eaudit__rq_reset(q);
  if (rc == 0 && live && src != SQLITE_DONE)
    rc = eaudit__rq_fail(s, src, "rebuilding a rule window");
  if (rc == 0 && st->n > 1)
    qsort(st->items, st->n, sizeof *st->items, item_cmp);
  return rc;
}

/* --- preloading the windows of every key of a rule --- */

typedef struct pre_item {
  int64_t kv;
  int kf;
  item it;
} pre_item;

typedef struct pre_head {
  int64_t kv;
  int kf;
  int64_t finding, quiet_until, a, b, c;
} pre_head;

static int pre_key_cmp(int kf1, int64_t kv1, int kf2, int64_t kv2) {
  if (kf1 != kf2)
    return kf1 < kf2 ? -1 : 1;
  return (kv1 > kv2) - (kv1 < kv2);
}

static int pre_item_cmp(const void *a, const void *b) {
  const pre_item *x = a, *y = b;
  int c = pre_key_cmp(x->kf, x->kv, y->kf, y->kv);
  return c ? c : item_cmp(&x->it, &y->it);
}

static int pre_head_cmp(const void *a, const void *b) {
  const pre_head *x = a, *y = b;
  return pre_key_cmp(x->kf, x->kv, y->kf, y->kv);
}

/* Items a preload may gather before it gives up (the per-key rebuild then
 * serves the rule). */
#define PRELOAD_MAX_ITEMS ((size_t)1 << 20)

/* Load the windows of every key of threshold rule ri keyed by subject,
 * door or device at once, at the first key of the rule the cache misses,
 * instead of rebuilding them key by key: one scan of the events_type
 * index per watched type, and one of the rule's rule_state rows.
 *
 * Let from = ev's occurred_at - lateness. For each condition the scan
 * reads the matching events with since <= seq < ev's seq and occurred_at
 * >= from - (window + lateness); each key's items are then pruned as
 * prune() holds them (the newest of the key minus window plus lateness,
 * at most 1024). For a later first event of a key at or after from this
 * is the window rebuild() would read, minus only items older than every
 * window holding that event, which the prune after it drops anyway (the
 * argument of rebuild()); a key the scan did not meet has an empty
 * window for such an event. An event before from (more than the lateness
 * bound out of order) rebuilds its key's window from the key's index as
 * before. The preload holds while the cache does: clearing the cache
 * resets it. */
static int preload(eaudit_store *s, eaudit__rules *r, uint16_t ri,
                   const eaudit_event *ev) {
  const eaudit__rule *rule = &r->rs->rules[ri];
  int64_t lateness = s->opts.ints[EAUDIT_OPT_LATENESS_US];
  eaudit_time t = ev->v[EAUDIT_FIELD_OCCURRED_AT];
  int64_t from, lo[EAUDIT__RULE_MAX_CONDS], scan_lo = INT64_MAX;
  int use[EAUDIT__RULE_MAX_CONDS] = {0}, mask = 0;
  r->preload[ri].done = -1; /* not usable unless completed below */
  if (__builtin_sub_overflow(t, lateness, &from))
    return EAUDIT_OK;
  for (size_t ci = 0; ci < rule->n_conds; ci++) {
    const eaudit__cond *c = &rule->conds[ci];
    if (!eaudit__rules_key_rebuilds(c->key))
      continue;
    int64_t keep;
    if (__builtin_add_overflow(c->window, lateness, &keep) ||
        __builtin_sub_overflow(from, keep, &lo[ci]))
      return EAUDIT_OK;
    use[ci] = 1;
    mask |= 1 << c->key;
    scan_lo = lo[ci] < scan_lo ? lo[ci] : scan_lo;
  }
  if (mask == 0)
    return EAUDIT_OK;
  uint64_t clears = r->clears;
  pre_item *v = NULL;
  pre_head *h = NULL;
  size_t n = 0, cap = 0, nh = 0, caph = 0;
  int rc = EAUDIT_OK, src = SQLITE_DONE, gave_up = 0;
  for (size_t ti = 0; rc == 0 && !gave_up && ti < rule->n_types; ti++) {
    eaudit__rq *q = eaudit__rules_stmt(s, r, EAUDIT__RS_SCAN_TYPE);
    if (q == NULL) {
      rc = eaudit_error_last()->code;
      break;
    }
    eaudit__rq_int(q, 1, rule->types[ti]);
    eaudit__rq_i64(q, 2, scan_lo);
    eaudit__rq_i64(q, 3, r->since[ri]);
    eaudit__rq_i64(q, 4, ev->v[EAUDIT_FIELD_SEQ]);
    while (rc == 0 && (src = eaudit__rq_step(q)) == SQLITE_ROW) {
      if (!rule_watches(rule, eaudit__rq_col_int(q, 2),
                        eaudit__rq_col_i64(q, 3)))
        continue;
      eaudit_time rt = eaudit__rq_col_i64(q, 0);
      int64_t seq = eaudit__rq_col_i64(q, 1);
      for (size_t ci = 0; ci < rule->n_conds; ci++) {
        const eaudit__cond *c = &rule->conds[ci];
        /* Columns subject..site follow type and reason. */
        int kcol = c->key - EAUDIT_FIELD_SUBJECT + 4;
        if (!use[ci] || rt < lo[ci] ||
            eaudit__rq_col_null(q, kcol))
          continue;
        int64_t val = 0;
        if (c->distinct == EAUDIT__DISTINCT_DAY) {
          if ((rc = eaudit__tz_day_start(s->tz, rt, &val)))
            break;
        } else if (c->distinct) {
          int col = c->distinct - EAUDIT_FIELD_SUBJECT + 4;
          if (eaudit__rq_col_null(q, col))
            continue;
          val = eaudit__rq_col_i64(q, col);
        }
        if (n == cap) {
          if (cap >= PRELOAD_MAX_ITEMS) {
            gave_up = 1;
            break;
          }
          size_t nc = cap ? cap * 2 : 256;
          pre_item *nv = eaudit__realloc(v, nc * sizeof *nv);
          if (nv == NULL) {
            rc = eaudit__enomem();
            break;
          }
          v = nv;
          cap = nc;
        }
        v[n] = (pre_item){eaudit__rq_col_i64(q, kcol), c->key,
                          (item){rt, val, seq, (int32_t)ci, 0, 0, {0}}};
        if (eaudit__rq_col_bytes(q, 10) == 16) {
          memcpy(v[n].it.id, eaudit__rq_col_blob(q, 10), 16);
          v[n].it.has_id = 1;
        }
        n++;
      }
      if (gave_up)
        break;
    }
    eaudit__rq_reset(q);
    if (rc == 0 && !gave_up && src != SQLITE_DONE)
      rc = eaudit__rq_fail(s, src, "preloading a rule's windows");
  }
  /* The episodes of the rule's keys. */
  eaudit__rq *q = NULL;
  int64_t num = 0;
  if (rc == 0 && !gave_up)
    rc = rule_num(s, r, ri, 0, &num);
  src = SQLITE_DONE;
  if (rc == 0 && !gave_up &&
      (q = eaudit__rules_stmt(s, r, EAUDIT__RS_STATE_RULE)) == NULL)
    rc = eaudit_error_last()->code;
  if (rc == 0 && !gave_up) {
    eaudit__rq_i64(q, 1, num);
    while (rc == 0 && num && (src = eaudit__rq_step(q)) == SQLITE_ROW) {
      int kf = eaudit__rq_col_int(q, 0);
      int64_t kv = eaudit__rq_col_i64(q, 1);
      if (kf < 0 || kf >= 32 || !(mask & (1 << kf)))
        continue;
      eaudit__rstate tmp = {.rule = ri, .kf = (uint8_t)kf, .kv = kv};
      if ((rc = state_decode(r, &tmp, eaudit__rq_col_blob(q, 2),
                             (size_t)eaudit__rq_col_bytes(q, 2))))
        break;
      eaudit__free(tmp.items);
      if (nh == caph) {
        size_t nc = caph ? caph * 2 : 64;
        pre_head *nv = eaudit__realloc(h, nc * sizeof *nv);
        if (nv == NULL) {
          rc = eaudit__enomem();
          break;
        }
        h = nv;
        caph = nc;
      }
      h[nh++] = (pre_head){kv, kf, tmp.finding, tmp.quiet_until, tmp.a,
                           tmp.b, tmp.c};
    }
    eaudit__rq_reset(q);
    if (rc == 0 && src != SQLITE_DONE)
      rc = eaudit__rq_fail(s, src, "reading rule state");
  }
  if (rc || gave_up) {
    eaudit__free(v);
    eaudit__free(h);
    return rc;
  }
  if (n > 1)
    qsort(v, n, sizeof *v, pre_item_cmp);
  if (nh > 1)
    qsort(h, nh, sizeof *h, pre_head_cmp);
  /* One state per key met, in key order. */
  size_t i = 0, k = 0;
  while (rc == 0 && (i < n || k < nh)) {
    int kf;
    int64_t kv;
    if (k == nh || (i < n && pre_key_cmp(v[i].kf, v[i].kv, h[k].kf,
                                         h[k].kv) <= 0)) {
      kf = v[i].kf;
      kv = v[i].kv;
    } else {
      kf = h[k].kf;
      kv = h[k].kv;
    }
    size_t e = i;
    while (e < n && v[e].kf == kf && v[e].kv == kv)
      e++;
    const pre_head *hd = NULL;
    if (k < nh && h[k].kf == kf && h[k].kv == kv)
      hd = &h[k++];
    size_t b = i;
    i = e;
    if (cache_find(r, ri, (uint8_t)kf, kv))
      continue; /* cached already, and so current */
    eaudit__rstate *st = eaudit__calloc(1, sizeof *st);
    if (st == NULL) {
      rc = eaudit__enomem();
      break;
    }
    st->rule = ri;
    st->kf = (uint8_t)kf;
    st->kv = kv;
    if (hd) {
      st->in_db = 1;
      st->finding = hd->finding;
      st->quiet_until = hd->quiet_until;
      st->a = hd->a;
      st->b = hd->b;
      st->c = hd->c;
    }
    if (e > b && (rc = items_reserve(st, e - b)) == 0) {
      for (size_t x = b; x < e; x++)
        st->items[st->n++] = v[x].it;
      for (size_t ci = 0; ci < rule->n_conds; ci++)
        if (use[ci] && rule->conds[ci].key == kf)
          prune(st, (int32_t)ci, rule->conds[ci].window + lateness);
    }
    st->pre = 1;
    st->pre_from = from;
    if (rc == 0)
      rc = cache_put(s, r, st);
    if (rc)
      rstate_free(st);
  }
  eaudit__free(v);
  eaudit__free(h);
  /* A cache clear on the way dropped some of them: no claim about the
   * keys not cached. */
  if (rc == 0 && r->clears == clears) {
    r->preload[ri].done = 1;
    r->preload[ri].from = from;
  }
  return rc;
}

static int eval_threshold(eaudit_store *s, eaudit__rules *r, uint16_t ri,
                          const eaudit_event *ev) {
  const eaudit__rule *rule = &r->rs->rules[ri];
  int64_t keep_extra = s->opts.ints[EAUDIT_OPT_LATENESS_US];
  eaudit_time t = ev->v[EAUDIT_FIELD_OCCURRED_AT];
  int done_keys = 0; /* bit per key field already evaluated */
  for (size_t c0 = 0; c0 < rule->n_conds; c0++) {
    int kf = rule->conds[c0].key;
    if (done_keys & (1 << kf) || !EAUDIT__HAS(ev, kf))
      continue;
    done_keys |= 1 << kf;
    eaudit__rstate *st;
    int rc = state_get(s, r, ri, kf, ev->v[kf], ev, &st);
    if (rc)
      return rc;
    int holds = 0;
    int64_t window = 0;
    ref refs[EAUDIT__RULE_MAX_ITEMS];
    size_t n_refs = 0;
    for (size_t ci = c0; ci < rule->n_conds; ci++) {
      const eaudit__cond *c = &rule->conds[ci];
      if (c->key != kf)
        continue;
      int64_t v = 0;
      if (c->distinct == EAUDIT__DISTINCT_DAY) {
        if ((rc = eaudit__tz_day_start(s->tz, t, &v)))
          return rc;
      } else if (c->distinct) {
        if (!EAUDIT__HAS(ev, c->distinct))
          continue;
        v = ev->v[c->distinct];
      }
      item it = {t, v, ev->v[EAUDIT_FIELD_SEQ], (int32_t)ci, 0, 1, {0}};
      memcpy(it.id, ev->id, 16);
      size_t p, b, e, lo, hi;
      if ((rc = item_insert(st, it, &p)))
        return rc;
      tag_range(st, (int32_t)ci, &b, &e);
      if (!holds && cond_holds(st, b, e, p, c, &lo, &hi)) {
        holds = 1;
        window = c->window;
        /* The ids are copied: later conditions move the items. */
        size_t want = hi - lo + 1;
        if (r->cap_ref_ids < want) {
          uint8_t(*ids)[16] = eaudit__realloc(r->ref_ids, want * 16);
          if (ids == NULL)
            return eaudit__enomem();
          r->ref_ids = ids;
          r->cap_ref_ids = want;
        }
        for (size_t k = lo; k <= hi && n_refs < EAUDIT__RULE_MAX_ITEMS; k++) {
          const item *x = &st->items[k];
          refs[n_refs] = (ref){x->seq, x->t, NULL};
          if (x->has_id) {
            memcpy(r->ref_ids[n_refs], x->id, 16);
            refs[n_refs].id = r->ref_ids[n_refs];
          }
          n_refs++;
        }
      }
      /* After the decision, so even an event beyond the lateness bound is
       * evaluated against what is kept. */
      prune(st, (int32_t)ci, c->window + keep_extra);
    }
    if (holds && ((rc = episode(s, r, ri, st, ev, window, refs, n_refs)) ||
                  (rc = state_touch(r, st))))
      return rc;
    if (persists_items(r, st) && (rc = state_touch(r, st)))
      return rc;
  }
  return EAUDIT_OK;
}

/* --- sequence rules --- */

/* Partial matches are items sharing a tag; stage is the step reached. A
 * partial's "same" value rides in v once a step has named the field. */
static int eval_sequence(eaudit_store *s, eaudit__rules *r, uint16_t ri,
                         const eaudit_event *ev) {
  const eaudit__rule *rule = &r->rs->rules[ri];
  if (!EAUDIT__HAS(ev, rule->key))
    return EAUDIT_OK;
  int type = (int)ev->v[EAUDIT_FIELD_TYPE];
  eaudit_time t = ev->v[EAUDIT_FIELD_OCCURRED_AT];
  int64_t seq = ev->v[EAUDIT_FIELD_SEQ];
  eaudit__rstate *st = NULL;
  int rc, changed = 0, holds = 0;
  ref refs[EAUDIT__RULE_MAX_STEPS * EAUDIT__RULE_MAX_PARTIALS];
  size_t n_refs = 0;
  /* From the last step down, so one event advances a partial once. */
  for (size_t k = rule->n_steps; k-- > 0;) {
    const eaudit__step *sp = &rule->steps[k];
    if (sp->type != type || (sp->same && !EAUDIT__HAS(ev, sp->same)))
      continue;
    /* Cached, absent rows included: most door events have no partial to
     * advance and cost one lookup. */
    if (st == NULL) {
      if ((rc = state_get(s, r, ri, rule->key, ev->v[rule->key], ev, &st)))
        return rc;
      if (r->catching && seq < st->row_at)
        return EAUDIT_OK; /* the row holds this event already */
    }
    if (k > 0 && st->n == 0)
      continue;
    int64_t v = sp->same ? ev->v[sp->same] : 0;
    if (k == 0) {
      item it = {t, v, seq, (int32_t)st->c++, 0, 0, {0}};
      size_t pos;
      if ((rc = item_insert(st, it, &pos)))
        return rc;
      changed = 1;
      continue;
    }
    int has_v = 0;
    for (size_t j = 0; j < k; j++)
      has_v |= rule->steps[j].same != 0;
    /* Each partial at stage k-1, in window, in time order, same value. */
    for (size_t i = 0; i < st->n;) {
      size_t b, e;
      tag_range(st, st->items[i].tag, &b, &e);
      const item *first = &st->items[b], *last = &st->items[e - 1];
      for (size_t x = b; x < e; x++)
        if (st->items[x].stage > last->stage)
          last = &st->items[x];
      if (last->stage == (int32_t)k - 1 && t - first->t < rule->window &&
          t >= last->t && (!sp->same || !has_v || last->v == v)) {
        item it = {t, sp->same ? v : last->v, seq, first->tag, (int32_t)k,
                   0, {0}};
        changed = 1;
        if (k + 1 == rule->n_steps) {
          for (size_t x = b; x < e && n_refs + 1 < sizeof refs / sizeof *refs;
               x++)
            refs[n_refs++] = (ref){st->items[x].seq, st->items[x].t, NULL};
          items_remove(st, b, e);
          holds = 1;
          continue; /* the next partial now starts at b */
        }
        size_t pos;
        if ((rc = item_insert(st, it, &pos)))
          return rc;
        tag_range(st, it.tag, &b, &e);
      }
      i = e;
    }
  }
  if (st == NULL)
    return EAUDIT_OK;
  if (holds)
    refs[n_refs++] = (ref){seq, t, ev->id};
  /* Drop partials that no event can complete any more, then the oldest
   * beyond the cap. */
  int64_t keep = rule->window + s->opts.ints[EAUDIT_OPT_LATENESS_US];
  int64_t newest = t;
  for (size_t i = 0; i < st->n; i++)
    newest = st->items[i].t > newest ? st->items[i].t : newest;
  size_t partials = 0;
  for (size_t i = 0; i < st->n;) {
    size_t b, e;
    tag_range(st, st->items[i].tag, &b, &e);
    if (st->items[b].t < newest - keep) {
      items_remove(st, b, e);
      changed = 1;
      i = b;
    } else {
      partials++;
      i = e;
    }
  }
  while (partials > EAUDIT__RULE_MAX_PARTIALS) {
    size_t b, e;
    tag_range(st, st->items[0].tag, &b, &e);
    items_remove(st, b, e);
    partials--;
    changed = 1;
  }
  if (holds && !r->catching &&
      (rc = episode(s, r, ri, st, ev, rule->window, refs, n_refs)))
    return rc;
  return changed || holds ? state_touch(r, st) : EAUDIT_OK;
}

/* --- presence: who is inside an area that needs a check-in to exit --- */

static int eval_presence(eaudit_store *s, eaudit__rules *r, uint16_t ri,
                         const eaudit_event *ev) {
  const eaudit__rule *rule = &r->rs->rules[ri];
  if (!EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT))
    return EAUDIT_OK; /* a group's own expiry names nobody */
  int64_t user = ev->v[EAUDIT_FIELD_SUBJECT];
  eaudit__rstate *st;
  int rc;
  if (ev->v[EAUDIT_FIELD_TYPE] == EAUDIT_TYPE_DOOR_OPENED) {
    if (!EAUDIT__HAS(ev, EAUDIT_FIELD_DOOR))
      return EAUDIT_OK;
    const eaudit__door_role *d = eaudit__rule_door(rule, ev->v[EAUDIT_FIELD_DOOR]);
    if (d == NULL)
      return EAUDIT_OK;
    if ((rc = state_get(s, r, ri, EAUDIT_FIELD_SUBJECT, user, ev, &st)))
      return rc;
    if (r->catching && ev->v[EAUDIT_FIELD_SEQ] < st->row_at)
      return EAUDIT_OK; /* the row holds this event already */
    if (d->enters) {
      st->a = d->enters;
      st->b = ev->v[EAUDIT_FIELD_SEQ];
      st->c = ev->v[EAUDIT_FIELD_OCCURRED_AT];
    } else if (d->exits && d->exits == st->a) {
      st->a = st->b = st->c = 0;
    } else {
      return EAUDIT_OK;
    }
    return state_touch(r, st);
  }
  if ((rc = state_get(s, r, ri, EAUDIT_FIELD_SUBJECT, user, ev, &st)))
    return rc;
  if (st->a == 0 || r->catching)
    return EAUDIT_OK; /* a catch-up meets no episode: see catch_up() */
  int trapping = 0;
  for (size_t i = 0; i < rule->n_areas; i++)
    if (rule->areas[i].id == st->a)
      trapping = rule->areas[i].checkin_to_exit;
  if (!trapping)
    return EAUDIT_OK;
  ref refs[2] = {
      {st->b, st->c, NULL},
      {ev->v[EAUDIT_FIELD_SEQ], ev->v[EAUDIT_FIELD_OCCURRED_AT], ev->id}};
  if ((rc = episode(s, r, ri, st, ev, rule->window, refs, 2)))
    return rc;
  return state_touch(r, st);
}

/* --- admin logins at hours the admin almost never uses --- */

/* The histogram as it was when the login was first evaluated, so that a
 * re-evaluation decides from the same history. */
static int login_hours(eaudit_store *s, eaudit__rules *r,
                       const eaudit_event *ev, int64_t counts[24]) {
  int64_t seq = ev->v[EAUDIT_FIELD_SEQ];
  /* A login being appended has no histogram yet (seqs are not reused),
   * unless another rule of this kind just stored it: only a re-evaluation
   * or that case reads one back. */
  int look = r->replay || r->hours_seq == seq;
  eaudit__rq *q =
      look ? eaudit__rules_stmt(s, r, EAUDIT__RS_HOURS_GET) : NULL;
  if (look && q == NULL)
    return eaudit_error_last()->code;
  int rc = SQLITE_DONE;
  if (look) {
    eaudit__rq_i64(q, 1, seq);
    rc = eaudit__rq_step(q);
  }
  if (rc == SQLITE_ROW) {
    const uint8_t *p = eaudit__rq_col_blob(q, 0);
    const uint8_t *end = p + eaudit__rq_col_bytes(q, 0);
    int ok = p != NULL;
    for (int h = 0; ok && h < 24; h++)
      ok = get_var(&p, end, &counts[h]);
    if (ok && p == end) {
      eaudit__rq_reset(q);
      return EAUDIT_OK;
    } /* damaged: judged again from the current history, as when absent */
  }
  if (look)
    eaudit__rq_reset(q);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return eaudit__rq_fail(s, rc, "reading a login histogram");
  int64_t user = ev->v[EAUDIT_FIELD_SUBJECT];
  rc = r->hours_fn ? r->hours_fn(s, user, counts, r->hours_payload)
          : s->pg ? EAUDIT_ENOTFOUND /* device recognition is SQLite's */
                   : eaudit__login_hours(s, user, counts);
  if (rc)
    return rc;
  /* 24 varints: a few dozen bytes instead of 192. */
  uint8_t b[24 * 10];
  size_t len = 0;
  for (int h = 0; h < 24; h++)
    len += put_var(b + len, counts[h]);
  if ((q = eaudit__rules_stmt(s, r, EAUDIT__RS_HOURS_PUT)) == NULL)
    return eaudit_error_last()->code;
  eaudit__rq_i64(q, 1, seq);
  eaudit__rq_blob(q, 2, b, len);
  r->hours_seq = seq;
  return step_done(s, q, "recording a login histogram");
}

static int eval_off_hours(eaudit_store *s, eaudit__rules *r, uint16_t ri,
                          const eaudit_event *ev) {
  const eaudit__rule *rule = &r->rs->rules[ri];
  if (!EAUDIT__HAS(ev, EAUDIT_FIELD_SUBJECT))
    return EAUDIT_OK;
  int64_t counts[24];
  int rc = login_hours(s, r, ev, counts);
  if (rc == EAUDIT_ENOTFOUND)
    return EAUDIT_OK; /* no history: nothing is unusual yet */
  if (rc)
    return rc;
  eaudit__civil cv;
  if ((rc = eaudit__tz_to_civil(s->tz, ev->v[EAUDIT_FIELD_OCCURRED_AT], &cv)))
    return rc;
  int64_t total = 0;
  for (int h = 0; h < 24; h++)
    total += counts[h];
  int64_t near = counts[(cv.hour + 23) % 24] + counts[cv.hour] +
                 counts[(cv.hour + 1) % 24];
  if (total < rule->min_history || near * 100 > rule->rare_percent * total)
    return EAUDIT_OK;
  eaudit__rstate *st;
  if ((rc = state_get(s, r, ri, EAUDIT_FIELD_SUBJECT,
                      ev->v[EAUDIT_FIELD_SUBJECT], ev, &st)))
    return rc;
  ref me = {ev->v[EAUDIT_FIELD_SEQ], ev->v[EAUDIT_FIELD_OCCURRED_AT], ev->id};
  if ((rc = episode(s, r, ri, st, ev, rule->window, &me, 1)))
    return rc;
  return state_touch(r, st);
}

static int reason_ok(const eaudit__rule *rule, const eaudit_event *ev) {
  if (rule->n_reasons == 0)
    return 1;
  for (size_t i = 0; i < rule->n_reasons; i++)
    if (rule->reasons[i] == ev->v[EAUDIT_FIELD_REASON])
      return 1;
  return 0;
}

int eaudit__rules_eval(eaudit_store *s, eaudit__rules *r,
                       const eaudit_event *ev) {
  r->cur_seq = ev->v[EAUDIT_FIELD_SEQ];
  const eaudit__type_rules *tr =
      eaudit__ruleset_for_type(r->rs, (int)ev->v[EAUDIT_FIELD_TYPE]);
  if (tr == NULL)
    return EAUDIT_OK;
  for (size_t i = 0; i < tr->n; i++) {
    uint16_t ri = tr->rules[i];
    const eaudit__rule *rule = &r->rs->rules[ri];
    if (!reason_ok(rule, ev))
      continue;
    int rc;
    switch (rule->kind) {
    case EAUDIT__KIND_THRESHOLD:
      rc = eval_threshold(s, r, ri, ev);
      break;
    case EAUDIT__KIND_SEQUENCE:
      rc = eval_sequence(s, r, ri, ev);
      break;
    case EAUDIT__KIND_PRESENCE:
      rc = eval_presence(s, r, ri, ev);
      break;
    default:
      rc = eval_off_hours(s, r, ri, ev);
    }
    if (rc)
      return rc;
  }
  return EAUDIT_OK;
}
