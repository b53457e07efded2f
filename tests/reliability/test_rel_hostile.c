/* Hostile input: quotes, NUL bytes, invalid UTF-8, 1 MB strings, SQL
 * keywords, FTS syntax and control characters in every text field and
 * filter. Each value is stored byte-exact or refused with a specific code
 * and a message. Every SQL statement any connection of the process runs is
 * traced (sqlite3_trace_v2, installed on each new connection through
 * sqlite3_auto_extension); each value carries a marker, and the marker
 * must never appear in SQL text: values reach SQL only as bound
 * parameters. Also: files are 0600 under umask 000 and 022, including
 * -wal and -shm, also when a second process opens the store. */
#include "internal.h"
#include "rel.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MARK "zqxmark"

/* Case-insensitive search (strcasestr is a GNU extension). */
static const char *find_mark(const char *hay) {
  size_t n = strlen(MARK);
  for (; *hay; hay++)
    if (strncasecmp(hay, MARK, n) == 0)
      return hay;
  return NULL;
}

static long traced, marker_hits;
static char first_hit[256];

static int on_trace(unsigned type, void *ctx, void *p, void *x) {
  (void)ctx;
  if (type != SQLITE_TRACE_STMT)
    return 0;
  traced++;
  const char *sql = sqlite3_sql((sqlite3_stmt *)p);
  const char *text = x;
  const char *hit = NULL;
  if (sql && find_mark(sql))
    hit = sql;
  else if (text && find_mark(text))
    hit = text;
  if (hit) {
    if (marker_hits++ == 0)
      snprintf(first_hit, sizeof first_hit, "%s", hit);
  }
  return 0;
}

static int trace_ext(sqlite3 *db, char **err, const void *api) {
  (void)err;
  (void)api;
  sqlite3_trace_v2(db, SQLITE_TRACE_STMT, on_trace, NULL);
  return SQLITE_OK;
}

static char path[512];

/* Hostile values, each with the marker. len < 0: NUL-terminated. */
typedef struct hv {
  const char *what;
  char *v;
  size_t len;
} hv;

static hv vals[16];
static size_t n_vals;

static void add(const char *what, const char *v, size_t len) {
  vals[n_vals].what = what;
  vals[n_vals].v = malloc(len + 1);
  memcpy(vals[n_vals].v, v, len);
  vals[n_vals].v[len] = '\0';
  vals[n_vals].len = len;
  n_vals++;
}

static void build_values(void) {
  n_vals = 0;
  add("quotes", MARK "'\"`'' \"\"", strlen(MARK "'\"`'' \"\""));
  add("sql", MARK "'); DROP TABLE events; --", strlen(MARK "'); DROP TABLE events; --"));
  add("keywords", MARK " SELECT * FROM meta WHERE 1=1 OR", strlen(MARK " SELECT * FROM meta WHERE 1=1 OR"));
  add("fts", MARK " NEAR(a b) OR \"x* ^col: AND NOT", strlen(MARK " NEAR(a b) OR \"x* ^col: AND NOT"));
  add("like", MARK "%_\\%", strlen(MARK "%_\\%"));
  add("control", MARK "\x01\x1b[31m\r\n\t\x7f", strlen(MARK "\x01\x1b[31m\r\n\t\x7f"));
  add("nul", MARK "a\0b", sizeof MARK "a\0b" - 1);
  add("bad-utf8", MARK "\xff\xfe", strlen(MARK "\xff\xfe"));
  add("overlong", MARK "\xc0\xaf", strlen(MARK "\xc0\xaf"));
  add("surrogate", MARK "\xed\xa0\x80", strlen(MARK "\xed\xa0\x80"));
  add("unicode", MARK " Zo\xc3\xab \xe2\x80\xae \xf0\x9f\x9a\xaa", strlen(MARK " Zo\xc3\xab \xe2\x80\xae \xf0\x9f\x9a\xaa"));
  size_t big = 1 << 20;
  char *b = malloc(big);
  memset(b, 'x', big);
  memcpy(b, MARK, strlen(MARK));
  add("1MB", b, big);
  free(b);
}

/* A refused value: a specific code and a message. */
static long refused, stored;
static void refused_ok(int rc, const char *field, const hv *h) {
  ck_assert_msg(rc == EAUDIT_EINVAL || rc == EAUDIT_EUTF8 ||
                    rc == EAUDIT_ETOOBIG || rc == EAUDIT_EDETAILS ||
                    rc == EAUDIT_ETIME || rc == EAUDIT_ETZ ||
                    rc == EAUDIT_EFORMAT || rc == EAUDIT_ECURSOR,
                "%s/%s: refused with %d (%s)", field, h->what, rc,
                eaudit_error_last()->message);
  ck_assert_msg(eaudit_error_last()->message[0] != '\0', "%s/%s: no message",
                field, h->what);
  refused++;
}

START_TEST(hostile_values_are_stored_exactly_or_refused_and_never_reach_sql) {
  tu_temp_path(path, sizeof path, "hostile");
  build_values();
  traced = marker_hits = 0;
  eaudit_store *s;
  EA_OK(eaudit_store_open(&s, path, NULL));
  tu_append_doors(s, 5, 42, 7, tu_utc(2026, 1, 1, 0, 0, 0), 1000000);
  int code = 1100;
  for (size_t i = 0; i < n_vals; i++) {
    const hv *h = &vals[i];
    /* Names of each kind, read back byte-exact. */
    for (int kind = EAUDIT_KIND_USER; kind <= EAUDIT_KIND_SITE; kind++) {
      int rc = eaudit_store_set_name(s, kind, 500 + (int64_t)i, h->v,
                                     EAUDIT_TIME_NONE);
      if (rc) {
        refused_ok(rc, "name", h);
        continue;
      }
      /* Text parameters are C strings: an embedded NUL ends the value
       * the caller passes; only length-counted input (details) can carry
       * one, and there it is refused (below). */
      char *back = NULL;
      EA_OK(eaudit_store_name_at(s, kind, 500 + (int64_t)i, EAUDIT_TIME_NONE,
                                 &back));
      ck_assert_msg(strcmp(back, h->v) == 0, "name/%s not byte-exact",
                    h->what);
      eaudit_free(back);
      stored++;
    }
    int rc = eaudit_store_set_user(s, 600 + (int64_t)i, h->v,
                                   EAUDIT_USER_ROLE_ADMIN, EAUDIT_TIME_NONE);
    rc ? refused_ok(rc, "user", h) : (void)stored++;
    /* Vendor type names are strict; labels are free text. */
    rc = eaudit_store_register_type(s, code, h->v, "Label");
    if (rc == 0) { /* only [a-z0-9_] gets here */
      ck_assert_str_eq(eaudit_store_type_name(s, code), h->v);
      stored++;
      code++;
    } else {
      refused_ok(rc, "type name", h);
    }
    char tname[32];
    snprintf(tname, sizeof tname, "vendor_%d", code);
    rc = eaudit_store_register_type(s, code, tname, h->v);
    if (rc == 0) {
      ck_assert_str_eq(eaudit_store_type_label(s, code), h->v);
      stored++;
    } else {
      refused_ok(rc, "type label", h);
    }
    code++;
    rc = eaudit_store_set_type_label(s, EAUDIT_TYPE_DOOR_OPENED, h->v);
    if (rc == 0) {
      ck_assert_str_eq(eaudit_store_type_label(s, EAUDIT_TYPE_DOOR_OPENED),
                       h->v);
      stored++;
    } else {
      refused_ok(rc, "translated label", h);
    }
    /* Details: the raw bytes (never a JSON object: refused), and the value
     * inside a JSON string (stored byte-exact when valid). */
    eaudit_event *ev = rel_event(42, tu_utc(2026, 1, 2, 0, 0, 0), 0);
    rc = eaudit_event_set_details(ev, h->v, h->len);
    if (rc == 0)
      rc = eaudit_store_append(s, ev);
    ck_assert_msg(rc != 0, "details/%s: raw bytes accepted", h->what);
    refused_ok(rc, "details", h);
    eaudit__buf jb = {0};
    eaudit__buf_puts(&jb, "{\"v\":\"");
    for (size_t k = 0; k < h->len; k++) {
      unsigned char ch = (unsigned char)h->v[k];
      if (ch == '"' || ch == '\\')
        eaudit__buf_printf(&jb, "\\%c", ch);
      else if (ch < 0x20)
        eaudit__buf_printf(&jb, "\\u%04x", ch);
      else
        eaudit__buf_put(&jb, &h->v[k], 1);
    }
    eaudit__buf_puts(&jb, "\"}");
    eaudit_options *unused = NULL;
    (void)unused;
    rc = eaudit_event_set_details(ev, jb.data, jb.len);
    if (rc == 0)
      rc = eaudit_store_append(s, ev);
    if (rc == 0) {
      int64_t seq;
      EA_OK(eaudit_event_get(ev, EAUDIT_FIELD_SEQ, &seq));
      eaudit_cursor *c;
      EA_OK(eaudit_store_tail(s, seq - 1, 1, &c));
      const eaudit_event *got;
      EA_OK(eaudit_cursor_next(c, &got));
      size_t len;
      const char *d = eaudit_event_details(got, &len);
      ck_assert_msg(len == jb.len && memcmp(d, jb.data, len) == 0,
                    "details/%s not byte-exact", h->what);
      eaudit_cursor_free(c);
      stored++;
    } else {
      refused_ok(rc, "details (JSON string)", h);
    }
    eaudit__buf_free(&jb);
    eaudit_event_free(ev);
    /* Filters: free text, users prefix, time expressions, zones, ids. */
    eaudit_query *q;
    EA_OK(eaudit_query_new(&q));
    rc = eaudit_query_set_text(q, h->v);
    if (rc == 0) {
      eaudit_cursor *c = NULL;
      rc = eaudit_store_query(s, q, &c);
      const eaudit_event *e;
      while (rc == 0 && (rc = eaudit_cursor_next(c, &e)) == 0)
        ;
      eaudit_cursor_free(c);
      if (rc != EAUDIT_DONE)
        refused_ok(rc, "search text", h);
    } else {
      refused_ok(rc, "search text", h);
    }
    rc = eaudit_query_set_after(q, h->v);
    if (rc)
      refused_ok(rc, "cursor token", h);
    eaudit_query_free(q);
    eaudit_users *u = NULL;
    rc = eaudit_store_users(s, h->v, 0, &u);
    rc ? refused_ok(rc, "users prefix", h) : (void)0;
    eaudit_users_free(u);
    eaudit_time b, e;
    rc = eaudit_store_parse_time(s, h->v, EAUDIT_TIME_NONE, &b, &e);
    ck_assert_msg(rc != 0, "time expression/%s accepted", h->what);
    refused_ok(rc, "time expression", h);
    rc = eaudit_store_set_time_zone(s, h->v);
    ck_assert_msg(rc != 0, "time zone/%s accepted", h->what);
    refused_ok(rc, "time zone", h);
    uint8_t id[16];
    rc = eaudit_uuid_parse(h->v, id);
    ck_assert_msg(rc != 0, "id/%s accepted", h->what);
    refused_ok(rc, "id", h);
  }
  /* The store is whole and its chain verifies. */
  eaudit_store_free(s);
  rel_check c;
  rel_check_store(path, &c);
  ck_assert_msg(c.ok, "%s", c.why);
  rel_figure("hostile", "values=%zu stored_exact=%ld refused=%ld "
             "sql_statements_traced=%ld marker_in_sql=%ld findings=%ld",
             n_vals, stored, refused, traced, marker_hits, marker_hits);
  ck_assert_int_gt(traced, 0);
  ck_assert_msg(marker_hits == 0,
                "a value reached SQL text %ld times, first: %.200s",
                marker_hits, first_hit);
  for (size_t i = 0; i < n_vals; i++)
    free(vals[i].v);
  tu_remove_store(path);
}
END_TEST

static int mode_of(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

START_TEST(store_files_are_0600_under_umask_000_and_022) {
  mode_t masks[] = {0, 022};
  long files = 0;
  for (int m = 0; m < 2; m++) {
    tu_temp_path(path, sizeof path, "perms");
    mode_t old = umask(masks[m]);
    eaudit_store *s;
    EA_OK(eaudit_store_open(&s, path, NULL));
    tu_append_doors(s, 3, 1, 1, tu_utc(2026, 1, 1, 0, 0, 0), 1000);
    eaudit_store_free(s);
    /* A second process opens the existing store: -wal and -shm are made
     * anew and must be 0600 too. */
    pid_t pid = fork();
    if (pid == 0) {
      eaudit_store *t;
      if (eaudit_store_open(&t, path, NULL))
        _exit(1);
      eaudit_event *ev = rel_event(1, tu_utc(2026, 1, 3, 0, 0, 0), 1);
      int rc = eaudit_store_append(t, ev);
      char wal[600], shm[600];
      snprintf(wal, sizeof wal, "%s-wal", path);
      snprintf(shm, sizeof shm, "%s-shm", path);
      int ok = rc == 0 && mode_of(path) == 0600 && mode_of(wal) == 0600 &&
               mode_of(shm) == 0600;
      eaudit_event_free(ev);
      eaudit_store_free(t);
      _exit(ok ? 0 : 2);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "umask %03o: a file is not 0600 (status %d)", masks[m],
                  status);
    files += 3;
    umask(old);
    tu_remove_store(path);
  }
  rel_figure("permissions", "umasks=2 files_checked=%ld findings=0", files);
}
END_TEST

int main(void) {
  sqlite3_auto_extension((void (*)(void))trace_ext);
  Suite *s = suite_create("rel_hostile");
  TCase *tc = tcase_create("hostile");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, hostile_values_are_stored_exactly_or_refused_and_never_reach_sql);
  tcase_add_test(tc, store_files_are_0600_under_umask_000_and_022);
  suite_add_tcase(s, tc);
  return tu_run(s);
}
