/* Reports: throughput and memory (docs/performance.md), on the shared
 * fixture of --scale events (bench_fixture_get).
 *
 *   report_csv       events/s of a CSV report of every event, against raw
 *                    SQLite reading the same rows of the library's file and
 *                    writing the same CSV bytes (checked once: the run
 *                    fails when the bytes differ). The raw side caches the
 *                    names up front (the fixture's names never change),
 *                    formats numbers and times by hand as the library does
 *                    (times as UTC: the bench store is in UTC), and opens
 *                    its handle without mutexes, as the library does.
 *   report_html      events/s of the HTML report with its summary.
 *   report_json, report_syslog, report_cef
 *                    events/s of the JSON report (with its summary) and of
 *                    the two SIEM formats.
 *   report_csv_rss, report_html_rss
 *                    peak RSS (VmHWM, MiB) of a fresh process (fork and
 *                    exec of this program) writing the report of every
 *                    event; for CSV the raw side's process is on the raw
 *                    line. Goal: < 32 MiB.
 *   report_csv_rss_growth, report_html_rss_growth
 *                    that peak minus the peak of the same report over the
 *                    last 10% of the days (a tenth of the events): what
 *                    the report's memory grows with the events, which
 *                    streaming keeps near 0.
 * Output goes through a callback sink that writes it to /dev/null (the raw
 * side: stdio with a 64 KiB buffer, to /dev/null); only the check run of
 * report_csv also hashes the bytes, so the timed runs measure the report,
 * not the hash. Flags: see bench.h. */
#include "bench.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ALL_SINCE (BENCH_NOW - (BENCH_SPAN_DAYS + 1) * BENCH_DAY_US)
#define TENTH_SINCE (BENCH_NOW - BENCH_SPAN_DAYS * BENCH_DAY_US / 10)
#define UNTIL (BENCH_NOW + BENCH_DAY_US)

/* FNV-1a over everything written, to compare outputs without keeping
 * them. */
typedef struct hashed {
  uint64_t h, bytes;
  int fd;
  int on; /* hash only in the check run: timed runs just write */
} hashed;

static void hash_bytes(hashed *x, const void *p, size_t n) {
  x->bytes += n;
  if (!x->on)
    return;
  const unsigned char *c = p;
  uint64_t h = x->h;
  for (size_t i = 0; i < n; i++)
    h = (h ^ c[i]) * 1099511628211ull;
  x->h = h;
}

static int hashing_write(const void *p, size_t n, void *payload) {
  hashed *x = payload;
  hash_bytes(x, p, n);
  return write(x->fd, p, n) == (ssize_t)n ? 0 : 1;
}

typedef struct result {
  uint64_t hash, bytes, events;
} result;

/* --- the library --- */

typedef struct lib_side {
  bench *b;
  eaudit_store *s;
  int format;
  int check; /* hash the output (the check run only) */
  eaudit_time since;
  int64_t events; /* in the interval */
  result last;
} lib_side;

static int lib_open(lib_side *l, const char *path, int format,
                    eaudit_time since) {
  l->format = format;
  l->since = since;
  int rc = bench_lib_open(path, EAUDIT_SYNC_NORMAL, &l->s);
  eaudit_query *q = NULL;
  eaudit_counts *c = NULL;
  if (rc == 0)
    rc = eaudit_query_new(&q);
  if (rc == 0)
    rc = eaudit_query_set_interval(q, since, UNTIL);
  if (rc == 0)
    rc = eaudit_store_counts(l->s, q, EAUDIT_COUNT_BY_TYPE, &c);
  for (size_t i = 0; rc == 0 && i < eaudit_counts_size(c); i++) {
    int64_t v = 0;
    eaudit_counts_get(c, i, NULL, &v);
    l->events += v;
  }
  eaudit_counts_free(c);
  eaudit_query_free(q);
  return rc;
}

static int64_t lib_report(void *arg) {
  lib_side *l = arg;
  eaudit_query *q = NULL;
  eaudit_report_options *ro = NULL;
  eaudit_sink *k = NULL;
  hashed x = {14695981039346656037ull, 0, open("/dev/null", O_WRONLY),
              l->check};
  int rc = eaudit_query_new(&q);
  if (rc == 0)
    rc = eaudit_query_set_interval(q, l->since, UNTIL);
  if (rc == 0)
    rc = eaudit_report_options_new(&ro);
  if (rc == 0)
    rc = eaudit_report_options_set_int(ro, EAUDIT_REPORT_OPT_FORMAT,
                                       l->format);
  if (rc == 0)
    rc = eaudit_report_options_set_int(ro, EAUDIT_REPORT_OPT_RECORD, 0);
  if (rc == 0)
    rc = eaudit_sink_from_callback(&k, hashing_write, &x);
  if (rc == 0)
    rc = eaudit_store_report(l->s, q, ro, k);
  if (rc && l->b)
    bench_fail(l->b, "report: %s", eaudit_error_last()->message);
  eaudit_sink_free(k);
  eaudit_report_options_free(ro);
  eaudit_query_free(q);
  close(x.fd);
  l->last = (result){x.h, x.bytes, (uint64_t)l->events};
  return rc ? -1 : l->events;
}

/* --- raw SQLite writing the same CSV --- */

typedef struct names {
  char **v;
  int64_t n;
} names;

typedef struct raw_side {
  bench *b;
  sqlite3 *db;
  sqlite3_stmt *st;
  eaudit_time since;
  int check; /* hash the output (the check run only) */
  names kinds[6]; /* by EAUDIT_KIND_* */
  FILE *fp;
  result last;
} raw_side;

static int raw_open(raw_side *r, const char *path, eaudit_time since) {
  r->since = since;
  /* Single-threaded use, as the library opens its handles. */
  if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK)
    return -1;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(r->db,
                         "SELECT kind, entity, name FROM names ORDER BY "
                         "valid_from",
                         -1, &st, NULL) != SQLITE_OK)
    return -1;
  while (sqlite3_step(st) == SQLITE_ROW) {
    int kind = sqlite3_column_int(st, 0);
    int64_t id = sqlite3_column_int64(st, 1);
    if (kind < 1 || kind > 5 || id < 0 || id > 1000000)
      continue;
    names *n = &r->kinds[kind];
    if (id >= n->n) {
      char **v = realloc(n->v, (size_t)(id + 1) * sizeof *v);
      if (v == NULL)
        break;
      memset(v + n->n, 0, (size_t)(id + 1 - n->n) * sizeof *v);
      n->v = v;
      n->n = id + 1;
    }
    free(n->v[id]);
    n->v[id] = strdup((const char *)sqlite3_column_text(st, 2));
  }
  sqlite3_finalize(st);
  if (sqlite3_prepare_v2(
          r->db,
          "SELECT seq, id, occurred_at, type, subject, actor, door, grp, "
          "device, site, credential, reason, details FROM events WHERE "
          "occurred_at >= ?1 AND occurred_at < ?2 ORDER BY occurred_at DESC, "
          "seq DESC",
          -1, &r->st, NULL) != SQLITE_OK)
    return -1;
  r->fp = fopen("/dev/null", "w");
  if (r->fp == NULL)
    return -1;
  static char fbuf[65536];
  setvbuf(r->fp, fbuf, _IOFBF, sizeof fbuf);
  return 0;
}

static void raw_close(raw_side *r) {
  for (int k = 0; k < 6; k++) {
    for (int64_t i = 0; i < r->kinds[k].n; i++)
      free(r->kinds[k].v[i]);
    free(r->kinds[k].v);
  }
  sqlite3_finalize(r->st);
  sqlite3_close(r->db);
  if (r->fp)
    fclose(r->fp);
}

/* One CSV cell as the library writes it (docs/formats.md): quoted when it
 * holds , " CR or LF; an apostrophe in front of = + - @. */
static char *cell(char *p, const char *s, size_t n) {
  int neutral = n > 0 && (s[0] == '=' || s[0] == '+' || s[0] == '-' ||
                          s[0] == '@');
  int quote = 0;
  for (size_t i = 0; i < n && !quote; i++)
    quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
  if (quote)
    *p++ = '"';
  if (neutral)
    *p++ = '\'';
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"')
      *p++ = '"';
    *p++ = s[i];
  }
  if (quote)
    *p++ = '"';
  return p;
}

/* Decimal digits of v, by hand as the library writes them (sprintf alone
 * would cost the raw side more than all of its SQLite work). */
static char *num(char *p, int64_t v) {
  char tmp[24];
  char *t = tmp + sizeof tmp;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    *--t = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0)
    *--t = '-';
  size_t n = (size_t)(tmp + sizeof tmp - t);
  memcpy(p, t, n);
  return p + n;
}

static char *two(char *p, int v) {
  p[0] = (char)('0' + v / 10);
  p[1] = (char)('0' + v % 10);
  return p + 2;
}

/* ,YYYY-MM-DDThh:mm:ss+00:00, of a UTC instant (the bench store's zone),
 * from the days since 1970 (H. Hinnant's civil_from_days). */
static char *utc(char *p, int64_t at) {
  int64_t secs = at >= 0 ? at / 1000000 : -((-at + 999999) / 1000000);
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int sod = (int)(secs - days * 86400);
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = (int)(doy - (153 * mp + 2) / 5 + 1);
  int m = (int)(mp < 10 ? mp + 3 : mp - 9);
  int y = (int)(yoe + era * 400 + (m <= 2));
  *p++ = ',';
  p = two(p, y / 100);
  p = two(p, y % 100);
  *p++ = '-';
  p = two(p, m);
  *p++ = '-';
  p = two(p, d);
  *p++ = 'T';
  p = two(p, sod / 3600);
  *p++ = ':';
  p = two(p, sod / 60 % 60);
  *p++ = ':';
  p = two(p, sod % 60);
  memcpy(p, "+00:00,", 7);
  return p + 7;
}

static char *text(char *p, const char *s) {
  size_t n = strlen(s);
  memcpy(p, s, n);
  return p + n;
}

static char *id_and_name(raw_side *r, char *p, int col, int kind) {
  if (sqlite3_column_type(r->st, col) != SQLITE_NULL) {
    int64_t id = sqlite3_column_int64(r->st, col);
    p = num(p, id);
    *p++ = ',';
    const names *n = &r->kinds[kind];
    if (id >= 0 && id < n->n && n->v[id])
      p = cell(p, n->v[id], strlen(n->v[id]));
  } else {
    *p++ = ',';
  }
  *p++ = ',';
  return p;
}

static void put_uuid(char *t, const unsigned char *id) {
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      *t++ = '-';
    *t++ = hex[id[i] >> 4];
    *t++ = hex[id[i] & 15];
  }
}

static int64_t raw_csv(void *arg) {
  raw_side *r = arg;
  sqlite3_stmt *st = r->st;
  hashed x = {14695981039346656037ull, 0, -1, r->check};
  static const char header[] =
      "seq,id,occurred_at,type,type_label,subject,subject_name,actor,"
      "actor_name,door,door_name,group,group_name,device,device_name,site,"
      "site_name,credential,reason,details\r\n";
  fputs(header, r->fp);
  hash_bytes(&x, header, sizeof header - 1);
  sqlite3_bind_int64(st, 1, r->since);
  sqlite3_bind_int64(st, 2, UNTIL);
  static char line[16384];
  int64_t n = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    char *p = line;
    p = num(p, sqlite3_column_int64(st, 0));
    *p++ = ',';
    if (sqlite3_column_bytes(st, 1) != 16)
      break;
    put_uuid(p, sqlite3_column_blob(st, 1));
    p += 36;
    p = utc(p, sqlite3_column_int64(st, 2));
    int type = sqlite3_column_int(st, 3);
    const char *label = eaudit_type_label(type);
    p = text(p, eaudit_type_name(type));
    *p++ = ',';
    p = cell(p, label, strlen(label));
    *p++ = ',';
    p = id_and_name(r, p, 4, EAUDIT_KIND_USER);
    p = id_and_name(r, p, 5, EAUDIT_KIND_USER);
    p = id_and_name(r, p, 6, EAUDIT_KIND_DOOR);
    p = id_and_name(r, p, 7, EAUDIT_KIND_GROUP);
    p = id_and_name(r, p, 8, EAUDIT_KIND_DEVICE);
    p = id_and_name(r, p, 9, EAUDIT_KIND_SITE);
    int cred = sqlite3_column_int(st, 10), reason = sqlite3_column_int(st, 11);
    if (cred)
      p = text(p, eaudit_credential_name(cred));
    *p++ = ',';
    if (reason)
      p = text(p, eaudit_reason_name(reason));
    *p++ = ',';
    int dn = sqlite3_column_bytes(st, 12);
    if (dn > 0 && dn < (int)sizeof line / 2 - 1024)
      p = cell(p, sqlite3_column_blob(st, 12), (size_t)dn);
    *p++ = '\r';
    *p++ = '\n';
    fwrite(line, 1, (size_t)(p - line), r->fp);
    hash_bytes(&x, line, (size_t)(p - line));
    n++;
  }
  sqlite3_reset(st);
  fflush(r->fp);
  if (rc != SQLITE_DONE) {
    if (r->b)
      bench_fail(r->b, "raw CSV: %s", sqlite3_errmsg(r->db));
    return -1;
  }
  r->last = (result){x.h, x.bytes, (uint64_t)n};
  return n;
}

/* --- memory, in a fresh process --- */

/* The child: bench_report --child csv|html|raw PATH SINCE. Prints
 * "events bytes vmhwm_kib". */
static int child_main(int argc, char **argv) {
  if (argc != 5)
    return 2;
  const char *what = argv[2], *path = argv[3];
  eaudit_time since = strtoll(argv[4], NULL, 10);
  int64_t n = -1;
  result res = {0};
  if (strcmp(what, "raw") == 0) {
    raw_side r = {0};
    if (raw_open(&r, path, since) == 0)
      n = raw_csv(&r);
    res = r.last;
    raw_close(&r);
  } else {
    lib_side l = {0};
    int format =
        strcmp(what, "html") == 0 ? EAUDIT_FORMAT_HTML : EAUDIT_FORMAT_CSV;
    if (lib_open(&l, path, format, since) == 0)
      n = lib_report(&l);
    res = l.last;
    eaudit_store_free(l.s);
  }
  if (n < 0)
    return 1;
  printf("%" PRIu64 " %" PRIu64 " %.0f\n", res.events, res.bytes,
         bench_peak_rss_mib() * 1024);
  return 0;
}

/* Run the child and read its peak RSS (MiB), or -1. */
static double child_rss(bench *b, const char *what, const char *path,
                        eaudit_time since, uint64_t *events) {
  int pfd[2];
  char since_s[32];
  snprintf(since_s, sizeof since_s, "%" PRId64, since);
  fflush(stdout);
  if (pipe(pfd) != 0)
    return -1;
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    dup2(pfd[1], 1);
    close(pfd[0]);
    close(pfd[1]);
    char *args[] = {"bench_report", "--child", (char *)what, (char *)path,
                    since_s, NULL};
    execv("/proc/self/exe", args);
    _exit(127);
  }
  close(pfd[1]);
  char buf[128] = {0};
  size_t got = 0;
  ssize_t k;
  while (got < sizeof buf - 1 &&
         (k = read(pfd[0], buf + got, sizeof buf - 1 - got)) > 0)
    got += (size_t)k;
  close(pfd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  uint64_t bytes = 0;
  double kib = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      sscanf(buf, "%" SCNu64 " %" SCNu64 " %lf", events, &bytes, &kib) != 3) {
    bench_fail(b, "child %s %s failed (status %d)", what, path, status);
    return -1;
  }
  return kib / 1024;
}

static void memory(bench *b, const char *path, const char *what,
                   const char *scen, const char *growth) {
  if (!bench_want(b, scen) && !bench_want(b, growth))
    return;
  bench_progress(b, "%s (child processes)", scen);
  uint64_t n_all = 0, n_tenth = 0, n_raw = 0;
  double all = child_rss(b, what, path, ALL_SINCE, &n_all);
  double tenth = child_rss(b, what, path, TENTH_SINCE, &n_tenth);
  double raw = -1, raw_tenth = -1;
  if (strcmp(what, "csv") == 0) {
    raw = child_rss(b, "raw", path, ALL_SINCE, &n_raw);
    raw_tenth = child_rss(b, "raw", path, TENTH_SINCE, &n_raw);
  }
  if (all < 0 || tenth < 0)
    return;
  printf("# %s: %" PRIu64 " events peak %.1f MiB, %" PRIu64
         " events peak %.1f MiB\n",
         scen, n_all, all, n_tenth, tenth);
  bench_value(b, scen, "lib", "MiB", all, raw > 0 ? all / raw : -1);
  if (raw > 0)
    bench_value(b, scen, "raw", "MiB", raw, -1);
  bench_value(b, growth, "lib", "MiB", all - tenth, -1);
  if (raw > 0 && raw_tenth > 0)
    bench_value(b, growth, "raw", "MiB", raw - raw_tenth, -1);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--child") == 0)
    return child_main(argc, argv);
  bench b;
  int rc = bench_init(&b, argc, argv);
  if (rc)
    return rc;
  bench_fixture fx;
  if (bench_fixture_get(&b, b.scale, &fx) != 0)
    return bench_finish(&b);
  lib_side csv = {.b = &b}, html = csv, json = csv, syslog = csv, cef = csv;
  raw_side raw = {0};
  raw.b = &b;
  if (lib_open(&csv, fx.lib_path, EAUDIT_FORMAT_CSV, ALL_SINCE) ||
      lib_open(&html, fx.lib_path, EAUDIT_FORMAT_HTML, ALL_SINCE) ||
      lib_open(&json, fx.lib_path, EAUDIT_FORMAT_JSON, ALL_SINCE) ||
      lib_open(&syslog, fx.lib_path, EAUDIT_FORMAT_SYSLOG, ALL_SINCE) ||
      lib_open(&cef, fx.lib_path, EAUDIT_FORMAT_CEF, ALL_SINCE)) {
    bench_fail(&b, "open: %s", eaudit_error_last()->message);
  } else if (raw_open(&raw, fx.lib_path, ALL_SINCE) != 0) {
    bench_fail(&b, "raw open: %s", sqlite3_errmsg(raw.db));
  } else {
    /* The two sides must write the same bytes: one hashed run each, then
     * timed runs that only write. */
    csv.check = raw.check = 1;
    if (bench_want(&b, "report_csv") &&
        (lib_report(&csv) < 0 || raw_csv(&raw) < 0 ||
         csv.last.hash != raw.last.hash || csv.last.bytes != raw.last.bytes ||
         csv.last.events != raw.last.events))
      bench_fail(&b,
                 "report_csv: the library and raw SQLite wrote different "
                 "CSV (%" PRIu64 " / %" PRIu64 " bytes, %" PRIu64
                 " / %" PRIu64 " events)",
                 csv.last.bytes, raw.last.bytes, csv.last.events,
                 raw.last.events);
    else {
      csv.check = raw.check = 0;
      bench_ab(&b, "report_csv", "events/s", lib_report, &csv, raw_csv, &raw);
    }
    bench_one(&b, "report_html", "lib", "events/s", lib_report, &html);
    bench_one(&b, "report_json", "lib", "events/s", lib_report, &json);
    bench_one(&b, "report_syslog", "lib", "events/s", lib_report, &syslog);
    bench_one(&b, "report_cef", "lib", "events/s", lib_report, &cef);
    memory(&b, fx.lib_path, "csv", "report_csv_rss", "report_csv_rss_growth");
    memory(&b, fx.lib_path, "html", "report_html_rss",
           "report_html_rss_growth");
  }
  raw_close(&raw);
  eaudit_store_free(csv.s);
  eaudit_store_free(html.s);
  eaudit_store_free(json.s);
  eaudit_store_free(syslog.s);
  eaudit_store_free(cef.s);
  return bench_finish(&b);
}
