/* The CSV writer's fast paths, checked against a plain reference: quoting
 * of details with quotes at every offset (the eight-bytes-at-a-time copy,
 * its tail, and cells that straddle the sink's buffer), and names at a
 * time through the report's name cache with more entities than it holds,
 * equal ids of different kinds, renames and long names. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

typedef struct membuf {
  char *data;
  size_t len;
} membuf;

static int mem_write(const void *p, size_t n, void *payload) {
  membuf *m = payload;
  m->data = realloc(m->data, m->len + n + 1);
  memcpy(m->data + m->len, p, n);
  m->len += n;
  m->data[m->len] = '\0';
  return 0;
}

static eaudit_store *utc_store(tu_clock *c, uint64_t *seed) {
  eaudit_options *o = tu_options(c, seed);
  EA_OK(eaudit_options_set_str(o, EAUDIT_OPT_TIME_ZONE, "UTC"));
  eaudit_store *s = NULL;
  if (tu_backend_pg())
    EA_OK(tu_store_open(&s, "report-csv", o));
  else
    EA_OK(eaudit_store_open(&s, ":memory:", o)); /* fast: no fsync */
  eaudit_options_free(o);
  return s;
}

/* The CSV report of every event, oldest last (the report's order). */
static void csv_report(eaudit_store *s, membuf *m) {
  eaudit_query *q = NULL;
  EA_OK(eaudit_query_new(&q));
  eaudit_report_options *o = NULL;
  EA_OK(eaudit_report_options_new(&o));
  EA_OK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_FORMAT,
                                      EAUDIT_FORMAT_CSV));
  EA_OK(eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_RECORD, 0));
  eaudit_sink *k = NULL;
  EA_OK(eaudit_sink_from_callback(&k, mem_write, m));
  EA_OK(eaudit_store_report(s, q, o, k));
  eaudit_sink_free(k);
  eaudit_report_options_free(o);
  eaudit_query_free(q);
}

/* Split the CSV into records (CRLF-terminated, quotes respected) and the
 * records into fields, unquoted. fields[r][f] are malloc'd. */
typedef struct table {
  size_t n;
  char ***rows;
  size_t *n_fields;
} table;

static void parse_csv(const char *p, size_t len, table *t) {
  memset(t, 0, sizeof *t);
  size_t cap = 0;
  size_t i = 0;
  char *f = malloc(len + 1); /* one field at a time, then copied */
  while (i < len) {
    if (t->n == cap) {
      cap = cap ? 2 * cap : 64;
      t->rows = realloc(t->rows, cap * sizeof *t->rows);
      t->n_fields = realloc(t->n_fields, cap * sizeof *t->n_fields);
    }
    char **fields = NULL;
    size_t nf = 0;
    for (;;) {
      size_t fl = 0;
      if (p[i] == '"') {
        i++;
        for (;;) {
          ck_assert_uint_lt(i, len);
          if (p[i] == '"' && i + 1 < len && p[i + 1] == '"') {
            f[fl++] = '"';
            i += 2;
          } else if (p[i] == '"') {
            i++;
            break;
          } else {
            f[fl++] = p[i++];
          }
        }
      } else {
        while (i < len && p[i] != ',' && p[i] != '\r')
          f[fl++] = p[i++];
      }
      f[fl] = '\0';
      fields = realloc(fields, (nf + 1) * sizeof *fields);
      fields[nf++] = strdup(f);
      ck_assert_uint_lt(i, len);
      if (p[i] == ',') {
        i++;
        continue;
      }
      ck_assert_int_eq(p[i], '\r');
      ck_assert_int_eq(p[i + 1], '\n');
      i += 2;
      break;
    }
    t->rows[t->n] = fields;
    t->n_fields[t->n++] = nf;
  }
  free(f);
}

static void free_table(table *t) {
  for (size_t r = 0; r < t->n; r++) {
    for (size_t f = 0; f < t->n_fields[r]; f++)
      free(t->rows[r][f]);
    free(t->rows[r]);
  }
  free(t->rows);
  free(t->n_fields);
}

/* Details {"v":"..."} of length about len with escaped quotes placed by
 * pattern, so that quotes fall on every offset of an eight-byte word. */
static size_t make_details(char *buf, int i) {
  int len = i % 53;
  size_t n = 0;
  n += (size_t)sprintf(buf + n, "{\"v\":\"");
  for (int j = 0; j < len; j++) {
    if ((j + i) % (1 + i % 9) == 0) {
      buf[n++] = '\\';
      buf[n++] = '"';
    } else {
      buf[n++] = (char)('a' + (i + j) % 26);
    }
  }
  n += (size_t)sprintf(buf + n, "\",\"i\":%d}", i);
  return n;
}

START_TEST(csv_quotes_details_at_every_offset) {
  tu_clock c = {tu_utc(2026, 11, 3, 12, 0, 0), 1000};
  uint64_t seed = 7;
  eaudit_store *s = utc_store(&c, &seed);
  /* Enough events that the output crosses the 64 KiB buffer many times,
   * with values of about 16 KiB among them: whether the quoted cell
   * (up to twice that) still fits the buffer depends on where it falls,
   * so both the direct and the piecewise writes are taken. */
  enum { N = 1200 };
  char *big = malloc(40000);
  for (int i = 0; i < N; i++) {
    eaudit_event *ev = tu_event(EAUDIT_TYPE_DOOR_OPENED,
                                tu_utc(2026, 11, 1, 0, 0, 0) + i * 1000000LL,
                                1);
    size_t n;
    if (i % 60 == 30) {
      int target = 16000 + (i / 60) % 8;
      n = (size_t)sprintf(big, "{\"v\":\"");
      while ((int)n < target - 2) {
        big[n] = (char)(n % 7 ? 'x' : 'z');
        n++;
      }
      /* and a run of quotes */
      for (int q = 0; q < 40; q++) {
        big[n - 80 + 2 * q] = '\\';
        big[n - 79 + 2 * q] = '"';
      }
      big[n++] = '"';
      big[n++] = '}';
    } else {
      n = make_details(big, i);
    }
    EA_OK(eaudit_event_set_details(ev, big, n));
    EA_OK(eaudit_store_append(s, ev));
    eaudit_event_free(ev);
  }
  membuf m = {0};
  csv_report(s, &m);
  table t;
  parse_csv(m.data, m.len, &t);
  ck_assert_uint_eq(t.n, N + 1);
  /* Every record has every column; the details come back as stored. */
  eaudit_query *q = NULL;
  EA_OK(eaudit_query_new(&q));
  eaudit_cursor *cur = NULL;
  EA_OK(eaudit_store_query(s, q, &cur));
  const eaudit_event *ev;
  size_t row = 1, quoted = 0;
  while (eaudit_cursor_next(cur, &ev) == 0) {
    ck_assert_uint_lt(row, t.n);
    ck_assert_uint_eq(t.n_fields[row], 20);
    size_t dn = 0;
    const char *d = eaudit_event_details(ev, &dn);
    ck_assert_uint_eq(strlen(t.rows[row][19]), dn);
    ck_assert_mem_eq(t.rows[row][19], d, dn);
    quoted += memchr(d, '"', dn) != NULL;
    row++;
  }
  ck_assert_uint_eq(row, N + 1);
  ck_assert_uint_eq(quoted, N);
  /* And byte for byte: the details cell is "..." with quotes doubled. */
  const char *p = strstr(m.data, "\"{\"\"v\"\":\"\"");
  ck_assert_ptr_nonnull(p);
  eaudit_cursor_free(cur);
  eaudit_query_free(q);
  free_table(&t);
  free(m.data);
  free(big);
  eaudit_store_free(s);
}
END_TEST

/* The name of entity id of a kind, version v (0: the first). */
static void entity_name(char *buf, int kind, int64_t id, int v) {
  if (id % 7 == 3)
    sprintf(buf, "k%d entity %lld, version %d, with a name longer than "
                 "the inline slot",
            kind, (long long)id, v);
  else
    sprintf(buf, "k%d-%lld-v%d", kind, (long long)id, v);
}

START_TEST(csv_names_at_a_time_through_a_small_cache) {
  tu_clock c = {tu_utc(2026, 11, 3, 12, 0, 0), 1000};
  uint64_t seed = 9;
  eaudit_store *s = utc_store(&c, &seed);
  /* 2,100 users and 2,100 doors with the same ids (more than the cache's
   * 4,096 entries together); every third entity renamed at the middle. */
  enum { E = 2100, N = 4000 };
  eaudit_time t0 = tu_utc(2026, 10, 1, 0, 0, 0);
  eaudit_time mid = t0 + (eaudit_time)N / 2 * 60000000LL;
  char name[128];
  for (int64_t id = 1; id <= E; id++) {
    int kinds[2] = {EAUDIT_KIND_USER, EAUDIT_KIND_DOOR};
    for (int k = 0; k < 2; k++) {
      entity_name(name, kinds[k], id, 0);
      EA_OK(eaudit_store_set_name(s, kinds[k], id, name, t0));
      if (id % 3 == 0) {
        entity_name(name, kinds[k], id, 1);
        EA_OK(eaudit_store_set_name(s, kinds[k], id, name, mid));
      }
    }
  }
  eaudit_batch *b = NULL;
  EA_OK(eaudit_batch_new(&b));
  for (int i = 0; i < N; i++) {
    /* Ids in a scattered order, subject and door different. */
    int64_t subject = 1 + (int64_t)((uint64_t)i * 2654435761u % E);
    int64_t door = 1 + (int64_t)((uint64_t)(i + 17) * 40503u % E);
    eaudit_event *ev = tu_event(EAUDIT_TYPE_DOOR_OPENED,
                                t0 + (eaudit_time)i * 60000000LL, subject);
    EA_OK(eaudit_event_set(ev, EAUDIT_FIELD_DOOR, door));
    EA_OK(eaudit_batch_add(b, ev));
    eaudit_event_free(ev);
    if (eaudit_batch_size(b) == 1000 || i == N - 1) {
      EA_OK(eaudit_store_append_batch(s, b, NULL));
      eaudit_batch_clear(b);
    }
  }
  eaudit_batch_free(b);
  membuf m = {0};
  csv_report(s, &m);
  table t;
  parse_csv(m.data, m.len, &t);
  ck_assert_uint_eq(t.n, N + 1);
  for (size_t r = 1; r < t.n; r++) {
    ck_assert_uint_eq(t.n_fields[r], 20);
    int i = N - (int)r; /* newest first */
    int64_t subject = 1 + (int64_t)((uint64_t)i * 2654435761u % E);
    int64_t door = 1 + (int64_t)((uint64_t)(i + 17) * 40503u % E);
    eaudit_time at = t0 + (eaudit_time)i * 60000000LL;
    ck_assert_int_eq(atoll(t.rows[r][5]), subject);
    entity_name(name, EAUDIT_KIND_USER, subject,
                subject % 3 == 0 && at >= mid);
    ck_assert_str_eq(t.rows[r][6], name);
    ck_assert_int_eq(atoll(t.rows[r][9]), door);
    entity_name(name, EAUDIT_KIND_DOOR, door, door % 3 == 0 && at >= mid);
    ck_assert_str_eq(t.rows[r][10], name);
  }
  free_table(&t);
  free(m.data);
  eaudit_store_free(s);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("report_csv");
  TCase *t = tcase_create("csv");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, csv_quotes_details_at_every_offset);
  tcase_add_test(t, csv_names_at_a_time_through_a_small_cache);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tu_run(suite()); }
