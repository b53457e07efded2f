/* Report throughput and memory (docs/performance.md).
 *
 * Builds a store of N events over 100 days (users named), then, each in a
 * child process so that peak RSS is the report's own:
 *   - a CSV and an HTML report of the first 10% of the days and of all of
 *     them: peak RSS of the large minus the small must stay under 2 MiB;
 *   - events/s of the CSV report, against raw SQLite reading the same rows
 *     and writing the same CSV bytes in the same run (the ratio).
 * Usage: bench_report [--quick] [--no-summary] [--events N] [--keep PATH]
 * Exit status 1 when the memory bound is broken or the CSVs differ. */
#include <eaudit.h>

#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DAY_US INT64_C(86400000000)
#define DAYS 100
#define USERS 1000

static eaudit_time T0; /* 2026-01-01T00:00:00Z */
static int no_summary;

#define CHECK(expr)                                                            \
  do {                                                                         \
    int rc_ = (expr);                                                          \
    if (rc_ != 0) {                                                            \
      fprintf(stderr, "%s:%d: %s -> %d (%s)\n", __FILE__, __LINE__, #expr,     \
              rc_, eaudit_error_last()->message);                              \
      exit(2);                                                                 \
    }                                                                          \
  } while (0)

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void build(const char *path, int64_t n) {
  eaudit_options *o = NULL;
  CHECK(eaudit_options_new(&o));
  CHECK(eaudit_options_set_int(o, EAUDIT_OPT_SYNCHRONOUS, EAUDIT_SYNC_NORMAL));
  eaudit_store *s = NULL;
  CHECK(eaudit_store_open(&s, path, o));
  eaudit_options_free(o);
  char name[64];
  for (int u = 1; u <= USERS; u++) {
    snprintf(name, sizeof name, "User %d", u);
    CHECK(eaudit_store_set_user(s, u, name, 0, EAUDIT_TIME_NONE));
  }
  eaudit_batch *b = NULL;
  CHECK(eaudit_batch_new(&b));
  eaudit_event *ev = NULL;
  CHECK(eaudit_event_new(&ev));
  uint64_t seed = 88172645463325252ull;
  int64_t step = DAYS * DAY_US / n;
  for (int64_t i = 0; i < n; i++) {
    eaudit_event_reset(ev);
    int type = 1 + (int)(rnd(&seed) % 11);
    int64_t user = 1 + (int64_t)(rnd(&seed) % USERS);
    CHECK(eaudit_event_set(ev, EAUDIT_FIELD_TYPE, type));
    CHECK(eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, T0 + i * step));
    CHECK(eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, user));
    if (type == 3 || type == 6) {
      CHECK(eaudit_event_set(ev, EAUDIT_FIELD_DOOR, 1 + (int)(i % 50)));
      CHECK(eaudit_event_set(ev, EAUDIT_FIELD_CREDENTIAL, 1));
    }
    if (i % 10 == 0)
      CHECK(eaudit_event_set_details(ev, "{\"reader\":\"r12\"}", 16));
    CHECK(eaudit_batch_add(b, ev));
    if (eaudit_batch_size(b) == 10000 || i == n - 1) {
      CHECK(eaudit_store_append_batch(s, b, NULL));
      eaudit_batch_clear(b);
    }
  }
  eaudit_event_free(ev);
  eaudit_batch_free(b);
  eaudit_store_free(s);
}

/* FNV-1a over everything written, to compare outputs without keeping them. */
typedef struct hashed {
  uint64_t h, bytes;
  int fd;
} hashed;

static void hash_bytes(hashed *x, const void *p, size_t n) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++)
    x->h = (x->h ^ c[i]) * 1099511628211ull;
  x->bytes += n;
}

static int hashing_write(const void *p, size_t n, void *payload) {
  hashed *x = payload;
  hash_bytes(x, p, n);
  return write(x->fd, p, n) == (ssize_t)n ? 0 : 1;
}

typedef struct result {
  double secs;
  long maxrss_kib;
  uint64_t hash, bytes, events;
} result;

static void library_report(const char *path, int format, int days,
                           result *out) {
  eaudit_store *s = NULL;
  CHECK(eaudit_store_open(&s, path, NULL));
  eaudit_query *q = NULL;
  CHECK(eaudit_query_new(&q));
  CHECK(eaudit_query_set_interval(q, T0, T0 + days * DAY_US));
  eaudit_report_options *ro = NULL;
  CHECK(eaudit_report_options_new(&ro));
  CHECK(eaudit_report_options_set_int(ro, EAUDIT_REPORT_OPT_FORMAT, format));
  CHECK(eaudit_report_options_set_int(ro, EAUDIT_REPORT_OPT_RECORD, 0));
  CHECK(eaudit_report_options_set_int(ro, EAUDIT_REPORT_OPT_SUMMARY,
                                      !no_summary));
  hashed x = {14695981039346656037ull, 0, open("/dev/null", O_WRONLY)};
  eaudit_sink *k = NULL;
  CHECK(eaudit_sink_from_callback(&k, hashing_write, &x));
  double t = now_s();
  CHECK(eaudit_store_report(s, q, ro, k));
  out->secs = now_s() - t;
  int64_t n = 0;
  eaudit_counts *c = NULL;
  CHECK(eaudit_store_counts(s, q, EAUDIT_COUNT_BY_TYPE, &c));
  for (size_t i = 0; i < eaudit_counts_size(c); i++) {
    int64_t v;
    eaudit_counts_get(c, i, NULL, &v);
    n += v;
  }
  eaudit_counts_free(c);
  out->events = (uint64_t)n;
  out->hash = x.h;
  out->bytes = x.bytes;
  close(x.fd);
  eaudit_sink_free(k);
  eaudit_report_options_free(ro);
  eaudit_query_free(q);
  eaudit_store_free(s);
}

/* Raw SQLite: the same rows, the same CSV bytes, written the plain way:
 * user names cached in an array, times formatted with gmtime_r (the
 * bench store is in UTC). */
static void put_uuid(char *t, const unsigned char *id) {
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      *t++ = '-';
    *t++ = hex[id[i] >> 4];
    *t++ = hex[id[i] & 15];
  }
}

static void raw_csv(const char *path, int days, result *out) {
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    exit(2);
  char *names[USERS + 1] = {0};
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2(db,
                     "SELECT entity, name FROM names WHERE kind = 1 ORDER BY "
                     "valid_from",
                     -1, &st, NULL);
  while (sqlite3_step(st) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(st, 0);
    if (id >= 1 && id <= USERS) {
      free(names[id]);
      names[id] = strdup((const char *)sqlite3_column_text(st, 1));
    }
  }
  sqlite3_finalize(st);
  FILE *fp = fopen("/dev/null", "w");
  static char fbuf[65536];
  setvbuf(fp, fbuf, _IOFBF, sizeof fbuf);
  hashed x = {14695981039346656037ull, 0, -1};
  double t = now_s();
  sqlite3_prepare_v2(
      db,
      "SELECT seq, id, occurred_at, type, subject, actor, door, grp, device, "
      "site, credential, reason, details FROM events WHERE occurred_at >= ?1 "
      "AND occurred_at < ?2 ORDER BY occurred_at DESC, seq DESC",
      -1, &st, NULL);
  sqlite3_bind_int64(st, 1, T0);
  sqlite3_bind_int64(st, 2, T0 + days * DAY_US);
  const char *header =
      "seq,id,occurred_at,type,type_label,subject,subject_name,actor,"
      "actor_name,door,door_name,group,group_name,device,device_name,site,"
      "site_name,credential,reason,details\r\n";
  fputs(header, fp);
  hash_bytes(&x, header, strlen(header));
  char line[4096];
  uint64_t n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    char *p = line;
    p += sprintf(p, "%lld,", (long long)sqlite3_column_int64(st, 0));
    put_uuid(p, sqlite3_column_blob(st, 1));
    p += 36;
    int64_t at = sqlite3_column_int64(st, 2);
    time_t secs = (time_t)(at / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    p += strftime(p, 64, ",%Y-%m-%dT%H:%M:%S+00:00,", &tm);
    int type = sqlite3_column_int(st, 3);
    p += sprintf(p, "%s,%s,", eaudit_type_name(type), eaudit_type_label(type));
    for (int c = 4; c <= 5; c++) {
      if (sqlite3_column_type(st, c) == SQLITE_NULL) {
        p += sprintf(p, ",,");
        continue;
      }
      int64_t u = sqlite3_column_int64(st, c);
      p += sprintf(p, "%lld,%s,", (long long)u,
                   u >= 1 && u <= USERS && names[u] ? names[u] : "");
    }
    for (int c = 6; c <= 9; c++) {
      if (sqlite3_column_type(st, c) != SQLITE_NULL)
        p += sprintf(p, "%lld", (long long)sqlite3_column_int64(st, c));
      p += sprintf(p, ",,");
    }
    int cred = sqlite3_column_int(st, 10), reason = sqlite3_column_int(st, 11);
    p += sprintf(p, "%s,%s,", cred ? eaudit_credential_name(cred) : "",
                 reason ? eaudit_reason_name(reason) : "");
    int dn = sqlite3_column_bytes(st, 12);
    if (dn > 0) {
      const char *d = sqlite3_column_blob(st, 12);
      *p++ = '"';
      for (int i = 0; i < dn && p < line + sizeof line - 8; i++) {
        if (d[i] == '"')
          *p++ = '"';
        *p++ = d[i];
      }
      *p++ = '"';
    }
    *p++ = '\r';
    *p++ = '\n';
    fwrite(line, 1, (size_t)(p - line), fp);
    hash_bytes(&x, line, (size_t)(p - line));
    n++;
  }
  fflush(fp);
  out->secs = now_s() - t;
  out->events = n;
  out->hash = x.h;
  out->bytes = x.bytes;
  sqlite3_finalize(st);
  fclose(fp);
  for (int i = 0; i <= USERS; i++)
    free(names[i]);
  sqlite3_close(db);
}

/* Run one measurement in a child and read its result back. */
static result in_child(const char *path, int format, int days, int raw) {
  int pfd[2];
  fflush(stdout);
  if (pipe(pfd) != 0)
    exit(2);
  pid_t pid = fork();
  if (pid == 0) {
    close(pfd[0]);
    result r = {0};
    if (raw)
      raw_csv(path, days, &r);
    else
      library_report(path, format, days, &r);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r.maxrss_kib = ru.ru_maxrss;
    if (write(pfd[1], &r, sizeof r) != (ssize_t)sizeof r)
      _exit(2);
    _exit(0);
  }
  close(pfd[1]);
  result r = {0};
  if (read(pfd[0], &r, sizeof r) != (ssize_t)sizeof r) {
    fprintf(stderr, "measurement failed\n");
    exit(2);
  }
  close(pfd[0]);
  int status;
  waitpid(pid, &status, 0);
  return r;
}

int main(int argc, char **argv) {
  int64_t n = 1000000;
  const char *keep = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0)
      n = 10000;
    else if (strcmp(argv[i], "--no-summary") == 0)
      no_summary = 1;
    else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
      n = atoll(argv[++i]);
    else if (strcmp(argv[i], "--keep") == 0 && i + 1 < argc)
      keep = argv[++i];
    else {
      fprintf(stderr, "usage: %s [--quick] [--no-summary] [--events N] [--keep PATH]\n",
              argv[0]);
      return 2;
    }
  }
  T0 = INT64_C(1767225600) * 1000000; /* 2026-01-01T00:00:00Z */
  char path[256];
  if (keep)
    snprintf(path, sizeof path, "%s", keep);
  else
    snprintf(path, sizeof path, "/tmp/bench_report-%ld.db", (long)getpid());
  if (access(path, F_OK) != 0) {
    double t = now_s();
    build(path, n);
    printf("built %" PRId64 " events in %.1f s\n", n, now_s() - t);
  }
  int fail = 0;
  static const struct {
    int format;
    const char *name;
  } formats[] = {{EAUDIT_FORMAT_CSV, "CSV"}, {EAUDIT_FORMAT_HTML, "HTML"}};
  for (size_t f = 0; f < 2; f++) {
    result small = in_child(path, formats[f].format, DAYS / 10, 0);
    result large = in_child(path, formats[f].format, DAYS, 0);
    long diff = large.maxrss_kib - small.maxrss_kib;
    printf("%-4s report: %8" PRIu64 " events peak RSS %6ld KiB; %8" PRIu64
           " events peak RSS %6ld KiB; difference %ld KiB (bound 2048) %s\n",
           formats[f].name, small.events, small.maxrss_kib, large.events,
           large.maxrss_kib, diff, diff < 2048 ? "ok" : "FAIL");
    printf("%-4s report: %.0f events/s (%" PRIu64 " bytes in %.3f s)\n",
           formats[f].name, (double)large.events / large.secs, large.bytes,
           large.secs);
    if (diff >= 2048)
      fail = 1;
    if (formats[f].format == EAUDIT_FORMAT_CSV) {
      result raw = in_child(path, 0, DAYS, 1);
      double lib_rate = (double)large.events / large.secs;
      double raw_rate = (double)raw.events / raw.secs;
      printf("raw SQLite CSV: %.0f events/s (%" PRIu64
             " bytes); library/raw = %.2f; same bytes: %s\n",
             raw_rate, raw.bytes, lib_rate / raw_rate,
             raw.hash == large.hash && raw.bytes == large.bytes ? "yes" : "NO");
      if (raw.hash != large.hash || raw.bytes != large.bytes)
        fail = 1;
    }
  }
  if (!keep) {
    char b[300];
    unlink(path);
    snprintf(b, sizeof b, "%s-wal", path);
    unlink(b);
    snprintf(b, sizeof b, "%s-shm", path);
    unlink(b);
  }
  return fail;
}
