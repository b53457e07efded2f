/* The benchmark harness: flags, timing, output and the shared data set.
 * See bench.h for the protocol. */
#include "bench.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double bench_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--quick] [--scale 1m|10m|N] [--reps N] [--dir DIR] "
          "[--only PREFIX,...]\n",
          argv0);
}

static int parse_scale(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || v <= 0)
    return -1;
  if (*end == 'k' || *end == 'K')
    v *= 1e3, end++;
  else if (*end == 'm' || *end == 'M')
    v *= 1e6, end++;
  if (*end != '\0' || v > 1e9)
    return -1;
  *out = (int64_t)v;
  return 0;
}

static void scale_name(int64_t n, char *buf, size_t size) {
  if (n >= 1000000 && n % 1000000 == 0)
    snprintf(buf, size, "%" PRId64 "m", n / 1000000);
  else if (n >= 1000 && n % 1000 == 0)
    snprintf(buf, size, "%" PRId64 "k", n / 1000);
  else
    snprintf(buf, size, "%" PRId64, n);
}

int bench_init(bench *b, int argc, char **argv) {
  memset(b, 0, sizeof *b);
  const char *slash = strrchr(argv[0], '/');
  b->prog = slash ? slash + 1 : argv[0];
  if (strncmp(b->prog, "bench_", 6) == 0)
    b->prog += 6;
  b->scale = 1000000;
  b->reps = -1;
  snprintf(b->dir, sizeof b->dir, "bench-data");
  const char *scale = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--quick") == 0)
      b->quick = 1;
    else if (strcmp(a, "--scale") == 0 && i + 1 < argc)
      scale = argv[++i];
    else if (strcmp(a, "--reps") == 0 && i + 1 < argc)
      b->reps = atoi(argv[++i]);
    else if (strcmp(a, "--only") == 0 && i + 1 < argc)
      snprintf(b->only, sizeof b->only, "%s", argv[++i]);
    else if (strcmp(a, "--dir") == 0 && i + 1 < argc)
      snprintf(b->dir, sizeof b->dir, "%s", argv[++i]);
    else {
      usage(argv[0]);
      return 2;
    }
  }
  if (b->quick)
    b->scale = 2000;
  if (scale && parse_scale(scale, &b->scale) != 0) {
    fprintf(stderr, "%s: bad --scale '%s'\n", argv[0], scale);
    return 2;
  }
  if (b->reps < 0)
    b->reps = b->quick ? 2 : 5;
  if (b->reps < 1 || b->reps > 1000) {
    fprintf(stderr, "%s: --reps must be 1..1000\n", argv[0]);
    return 2;
  }
  b->min_rep_ms = b->quick ? 0 : 200;
  scale_name(b->scale, b->scale_name, sizeof b->scale_name);
  if (mkdir(b->dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "%s: cannot create %s: %s\n", argv[0], b->dir,
            strerror(errno));
    return 2;
  }
  if (sodium_init() < 0)
    return 2;
  printf("# %s: scale %s, %d repetitions per side%s\n", b->prog,
         b->scale_name, b->reps, b->quick ? " (quick)" : "");
  fflush(stdout);
  return 0;
}

void bench_progress(const bench *b, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "[%s] ", b->prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

void bench_fail(bench *b, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "[%s] error: ", b->prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  b->failed = 1;
}

static int is_rate(const char *unit) {
  size_t n = strlen(unit);
  return n >= 2 && strcmp(unit + n - 2, "/s") == 0;
}

static void fmt_num(char *buf, size_t size, double v) {
  if (v >= 1000 || v <= -1000)
    snprintf(buf, size, "%.0f", v);
  else
    snprintf(buf, size, "%.4g", v);
}

static void print_line(const bench *b, const char *scenario, const char *side,
                       double med, double min, double max, double ratio,
                       const char *unit) {
  char m[32], lo[32], hi[32], r[32];
  fmt_num(m, sizeof m, med);
  fmt_num(lo, sizeof lo, min);
  fmt_num(hi, sizeof hi, max);
  if (ratio < 0)
    snprintf(r, sizeof r, "-");
  else
    snprintf(r, sizeof r, "%.3f", ratio);
  printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", scenario, side, b->scale_name, m,
         lo, hi, r, unit);
  fflush(stdout);
}

/* One timed repetition: value per the unit, or < 0 on failure. */
static double one_rep(bench *b, const char *unit, bench_fn fn, void *arg) {
  double t0 = bench_now_ms(), el;
  int64_t ops = 0;
  do {
    int64_t r = fn(arg);
    if (r < 0)
      return -1;
    ops += r;
    el = bench_now_ms() - t0;
  } while (el < b->min_rep_ms);
  if (ops == 0 || el <= 0)
    el = 1e-6, ops = ops ? ops : 1;
  if (is_rate(unit))
    return (double)ops / (el / 1e3);
  if (strcmp(unit, "us") == 0)
    return el * 1e3 / (double)ops;
  return el / (double)ops;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct stats {
  double med, min, max;
} stats;

static stats summarise(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  stats s = {n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[0],
             v[n - 1]};
  return s;
}

int bench_want(const bench *b, const char *scenario) {
  if (b->only[0] == '\0')
    return 1;
  const char *p = b->only;
  while (*p) {
    size_t n = strcspn(p, ",");
    if (n > 0 && strncmp(scenario, p, n) == 0)
      return 1;
    p += n + (p[n] == ',');
  }
  return 0;
}

int bench_multi(bench *b, const char *scenario, const char *unit, int n,
                const char *const *sides, bench_fn const *fns,
                void *const *args) {
  if (!bench_want(b, scenario))
    return 1;
  double *v = calloc((size_t)(b->reps * n), sizeof *v);
  int rc = -1;
  if (v == NULL)
    return -1;
  bench_progress(b, "%s", scenario);
  /* Warm-up: caches, prepared statements, the first pages of a file. */
  for (int k = 0; k < n; k++)
    if (fns[k](args[k]) < 0) {
      bench_fail(b, "%s (%s): warm-up failed", scenario, sides[k]);
      goto out;
    }
  /* Interleaved, so drift in the machine's load hits every side alike. */
  for (int i = 0; i < b->reps; i++)
    for (int k = 0; k < n; k++)
      if ((v[k * b->reps + i] = one_rep(b, unit, fns[k], args[k])) < 0) {
        bench_fail(b, "%s (%s): repetition %d failed", scenario, sides[k],
                   i + 1);
        goto out;
      }
  /* Ratios against the "raw" side when there is one. */
  double base = -1;
  stats *st = calloc((size_t)n, sizeof *st);
  if (st == NULL)
    goto out;
  for (int k = 0; k < n; k++) {
    st[k] = summarise(&v[k * b->reps], b->reps);
    if (strcmp(sides[k], "raw") == 0)
      base = st[k].med;
  }
  for (int k = 0; k < n; k++)
    print_line(b, scenario, sides[k], st[k].med, st[k].min, st[k].max,
               base > 0 && strcmp(sides[k], "raw") != 0 ? st[k].med / base
                                                        : -1,
               unit);
  free(st);
  rc = 0;
out:
  free(v);
  return rc;
}

int bench_ab(bench *b, const char *scenario, const char *unit, bench_fn lib,
             void *lib_arg, bench_fn raw, void *raw_arg) {
  const char *const sides[2] = {"lib", "raw"};
  bench_fn const fns[2] = {lib, raw};
  void *const args[2] = {lib_arg, raw_arg};
  return bench_multi(b, scenario, unit, 2, sides, fns, args);
}

double bench_one(bench *b, const char *scenario, const char *side,
                 const char *unit, bench_fn fn, void *arg) {
  if (!bench_want(b, scenario))
    return 0;
  double *v = calloc((size_t)b->reps, sizeof *v);
  if (v == NULL)
    return -1;
  bench_progress(b, "%s (%s)", scenario, side);
  double med = -1;
  if (fn(arg) < 0) {
    bench_fail(b, "%s (%s): warm-up failed", scenario, side);
    goto out;
  }
  for (int i = 0; i < b->reps; i++)
    if ((v[i] = one_rep(b, unit, fn, arg)) < 0) {
      bench_fail(b, "%s (%s): repetition %d failed", scenario, side, i + 1);
      goto out;
    }
  stats s = summarise(v, b->reps);
  print_line(b, scenario, side, s.med, s.min, s.max, -1, unit);
  med = s.med;
out:
  free(v);
  return med;
}

void bench_value(bench *b, const char *scenario, const char *side,
                 const char *unit, double value, double ratio) {
  if (!bench_want(b, scenario))
    return;
  print_line(b, scenario, side, value, value, value, ratio, unit);
}

void bench_na(bench *b, const char *scenario, const char *why) {
  printf("%s\tn/a\t%s\t-\t-\t-\t-\t%s\n", scenario, b->scale_name, why);
  fflush(stdout);
}

int bench_main_na(int argc, char **argv, const char *scenario,
                  const char *why) {
  bench b;
  int rc = bench_init(&b, argc, argv);
  if (rc)
    return rc;
  bench_na(&b, scenario, why);
  return bench_finish(&b);
}

double bench_peak_rss_mib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) {
      kib = strtod(line + 6, NULL);
      break;
    }
  if (f)
    fclose(f);
  if (kib < 0) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    kib = (double)ru.ru_maxrss;
  }
  return kib / 1024.0;
}

int bench_finish(bench *b) {
  char scen[64];
  snprintf(scen, sizeof scen, "peak_rss_%s", b->prog);
  bench_value(b, scen, "process", "MiB", bench_peak_rss_mib(), -1);
  return b->failed ? 1 : 0;
}

/* --- the shared data set --- */

static uint64_t mix64(uint64_t x) {
  x += UINT64_C(0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

static const char *const first_names[16] = {
    "Anna",  "Bernd", "Clara", "David", "Elif",  "Farid", "Greta", "Hugo",
    "Ines",  "Jonas", "Kira",  "Lukas", "Annika", "Nils", "Olga",  "Pavel"};
static const char *const surnames[20] = {
    "Schmidt", "Novak",  "Garcia",  "Rossi",   "Larsen", "Kowalski", "Dubois",
    "Meyer",   "Silva",  "Horvath", "Nielsen", "Costa",  "Fischer",  "Berg",
    "Moreau",  "Weber",  "Jensen",  "Romano",  "Keller", "Lindqvist"};
static const char *const zones[6] = {"lobby", "lab",     "garage",
                                     "office", "storage", "roof"};

void bench_user_name(int64_t id, char *buf, size_t size) {
  /* "Ann..." starts 2 of 16 first names (common prefix); only
   * BENCH_RARE_USER has a surname starting "Zeb" (rare prefix). */
  const char *last = id == BENCH_RARE_USER ? "Zebrowski"
                                           : surnames[(id / 16) % 20];
  snprintf(buf, size, "%s %s", first_names[id % 16], last);
}

void bench_row_make(int64_t n, int64_t i, bench_row *r) {
  uint64_t h = mix64((uint64_t)i ^ UINT64_C(0x5eed));
  uint64_t g = mix64(h);
  int64_t span = BENCH_SPAN_DAYS * BENCH_DAY_US;
  int64_t step = span / (n > 0 ? n : 1);
  memset(r, 0, sizeof *r);
  r->ts = BENCH_NOW - span + i * step + (int64_t)(h % (uint64_t)step);
  int k = (int)((h >> 16) % 1000);
  r->subject = (int64_t)((h >> 32) % BENCH_USERS) + 1;
  r->actor = r->subject;
  r->site = (int64_t)(g % 3) + 1;
  int64_t admin = (int64_t)((g >> 8) % BENCH_ADMINS) + 1;
  if (k < 800) { /* door opened or failed */
    r->type = k < 700 ? EAUDIT_TYPE_DOOR_OPENED : EAUDIT_TYPE_DOOR_OPEN_FAILED;
    r->door = (int64_t)((h >> 24) % BENCH_DOORS) + 1;
    r->credential = (int)((g >> 16) % 5) + 1;
    if (k >= 700)
      r->reason = (int)((g >> 24) % 4) + 1;
  } else if (k < 840) {
    r->type = EAUDIT_TYPE_USER_UPDATED;
    r->reason = 20 + (int)((g >> 24) % 4);
  } else if (k < 870) {
    r->type = EAUDIT_TYPE_KEYCARD_ADDED;
    r->credential = EAUDIT_CREDENTIAL_KEYCARD;
  } else if (k < 885) {
    r->type = EAUDIT_TYPE_KEYCARD_ADD_FAILED;
    r->credential = EAUDIT_CREDENTIAL_KEYCARD;
    r->reason = 10 + (int)((g >> 24) % 3);
  } else if (k < 935) {
    r->type = k < 915 ? EAUDIT_TYPE_GROUP_ADDED : EAUDIT_TYPE_GROUP_REMOVED;
    r->grp = (int64_t)((h >> 24) % BENCH_GROUPS) + 1;
    r->actor = admin;
  } else if (k < 955) {
    r->type = EAUDIT_TYPE_ADMIN_AREA_LOGIN;
    r->subject = r->actor = admin;
    r->device = admin * 8 + (int64_t)((g >> 24) % 8);
    r->reason = 30 + (int)((g >> 32) % 4);
  } else if (k < 970) {
    r->type = EAUDIT_TYPE_LOGIN_UNRECOGNIZED_DEVICE;
    r->device = 1000 + r->subject * 8 + (int64_t)((g >> 24) % 8);
    r->credential = EAUDIT_CREDENTIAL_MOBILE;
    r->reason = 30 + (int)((g >> 32) % 7);
  } else if (k < 985) {
    r->type = EAUDIT_TYPE_PERMISSIONS_EXPIRED;
    r->grp = (int64_t)((h >> 24) % BENCH_GROUPS) + 1;
  } else {
    r->type = EAUDIT_TYPE_PERMISSIONS_PROLONGED;
    r->grp = (int64_t)((h >> 24) % BENCH_GROUPS) + 1;
    r->actor = admin;
  }
  uint64_t ip = g >> 40;
  r->details_len = snprintf(
      r->details, sizeof r->details,
      "{\"reader\":\"r-%03d\",\"zone\":\"%s\",\"ip\":\"10.%u.%u.%u\","
      "\"app\":\"EntryfyApp/4.%u (Android 14; Pixel 7)\",\"attempt\":%u}",
      (int)(h % 997), zones[(h >> 8) % 6], (unsigned)(ip & 255),
      (unsigned)((ip >> 8) & 255), (unsigned)((ip >> 16) & 255),
      (unsigned)(g % 9), (unsigned)(g >> 60) + 1);
}

int bench_row_event(eaudit_event *ev, const bench_row *r) {
  eaudit_event_reset(ev);
  int rc = eaudit_event_set(ev, EAUDIT_FIELD_TYPE, r->type);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_OCCURRED_AT, r->ts);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_SUBJECT, r->subject);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_ACTOR, r->actor);
  if (rc == 0 && r->door)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_DOOR, r->door);
  if (rc == 0 && r->grp)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_GROUP, r->grp);
  if (rc == 0 && r->device)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_DEVICE, r->device);
  if (rc == 0)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_SITE, r->site);
  if (rc == 0 && r->credential)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_CREDENTIAL, r->credential);
  if (rc == 0 && r->reason)
    rc = eaudit_event_set(ev, EAUDIT_FIELD_REASON, r->reason);
  if (rc == 0)
    rc = eaudit_event_set_details(ev, r->details, (size_t)r->details_len);
  return rc;
}

static double start_ms = -1;

/* Time frozen at BENCH_NOW, moving only with the run's own elapsed time so
 * recorded_at still increases. */
static eaudit_time bench_clock(void *payload) {
  (void)payload;
  if (start_ms < 0)
    start_ms = bench_now_ms();
  return BENCH_NOW + (eaudit_time)((bench_now_ms() - start_ms) * 1e3);
}

int bench_lib_open(const char *path, int sync, eaudit_store **out) {
  eaudit_options *o = NULL;
  int rc = eaudit_options_new(&o);
  if (rc == 0)
    rc = eaudit_options_set_int(o, EAUDIT_OPT_SYNCHRONOUS, sync);
  if (rc == 0)
    rc = eaudit_options_set_str(o, EAUDIT_OPT_TIME_ZONE, "UTC");
  if (rc == 0)
    rc = eaudit_options_set_clock(o, bench_clock, NULL);
  if (rc == 0)
    rc = eaudit_store_open(out, path, o);
  eaudit_options_free(o);
  return rc;
}

void bench_uuid_v7(int64_t t, uint8_t out[16]) {
  randombytes_buf(out, 16);
  uint64_t ms = t < 0 ? 0 : (uint64_t)(t / 1000);
  for (int i = 0; i < 6; i++)
    out[i] = (uint8_t)(ms >> (8 * (5 - i)));
  out[6] = (uint8_t)(0x70 | (out[6] & 0x0F));
  out[8] = (uint8_t)(0x80 | (out[8] & 0x3F));
}

int bench_raw_open(const char *path, const char *sync, int indexes,
                   sqlite3 **out) {
  char sql[1024];
  *out = NULL;
  if (sqlite3_open_v2(path, out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      NULL) != SQLITE_OK)
    return -1;
  sqlite3_busy_timeout(*out, 5000);
  snprintf(sql, sizeof sql,
           "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s;"
           "CREATE TABLE IF NOT EXISTS ev(id BLOB NOT NULL, ts INTEGER NOT "
           "NULL, recorded INTEGER NOT NULL, type INTEGER NOT NULL, subject "
           "INTEGER, actor INTEGER, door INTEGER, details TEXT);"
           "CREATE TABLE IF NOT EXISTS names(kind INTEGER NOT NULL, id "
           "INTEGER NOT NULL, name TEXT NOT NULL, PRIMARY KEY(kind, id));"
           "%s",
           sync,
           indexes ? "CREATE INDEX IF NOT EXISTS ev_actor ON ev(actor, ts);"
                     "CREATE INDEX IF NOT EXISTS ev_type ON ev(type, ts);"
                     "CREATE INDEX IF NOT EXISTS ev_ts ON ev(ts);"
                   : "");
  if (sqlite3_exec(*out, sql, NULL, NULL, NULL) != SQLITE_OK) {
    fprintf(stderr, "raw open %s: %s\n", path, sqlite3_errmsg(*out));
    sqlite3_close(*out);
    *out = NULL;
    return -1;
  }
  return 0;
}

int bench_raw_insert(sqlite3_stmt *st, const bench_row *r, int64_t recorded) {
  uint8_t id[16];
  bench_uuid_v7(recorded, id);
  sqlite3_bind_blob(st, 1, id, 16, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, r->ts);
  sqlite3_bind_int64(st, 3, recorded);
  sqlite3_bind_int(st, 4, r->type);
  sqlite3_bind_int64(st, 5, r->subject);
  sqlite3_bind_int64(st, 6, r->actor);
  if (r->door)
    sqlite3_bind_int64(st, 7, r->door);
  else
    sqlite3_bind_null(st, 7);
  sqlite3_bind_text(st, 8, r->details, r->details_len, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

static void door_name(int64_t id, char *buf, size_t size) {
  snprintf(buf, size, "%s door %" PRId64,
           id % 4 == 0   ? "North"
           : id % 4 == 1 ? "South"
           : id % 4 == 2 ? "Lab"
                         : "Garage",
           id);
}

int bench_lib_names(eaudit_store *s) {
  char name[64];
  eaudit_time from = BENCH_NOW - (BENCH_SPAN_DAYS + 30) * BENCH_DAY_US;
  for (int64_t id = 1; id <= BENCH_USERS; id++) {
    bench_user_name(id, name, sizeof name);
    int rc = eaudit_store_set_user(s, id, name,
                                   id <= BENCH_ADMINS ? EAUDIT_USER_ROLE_ADMIN
                                                      : EAUDIT_USER_ROLE_USER,
                                   from);
    if (rc)
      return rc;
  }
  for (int64_t id = 1; id <= BENCH_DOORS; id++) {
    door_name(id, name, sizeof name);
    int rc = eaudit_store_set_name(s, EAUDIT_KIND_DOOR, id, name, from);
    if (rc)
      return rc;
  }
  for (int64_t id = 1; id <= BENCH_GROUPS; id++) {
    snprintf(name, sizeof name, "Group %" PRId64, id);
    int rc = eaudit_store_set_name(s, EAUDIT_KIND_GROUP, id, name, from);
    if (rc)
      return rc;
  }
  return 0;
}

int bench_raw_names(sqlite3 *db) {
  sqlite3_stmt *st = NULL;
  char name[64];
  if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "INSERT OR REPLACE INTO names(kind, id, name) "
                         "VALUES (?1, ?2, ?3)",
                         -1, &st, NULL) != SQLITE_OK)
    return -1;
  int rc = 0;
  for (int kind = 1; rc == 0 && kind <= 3; kind++) {
    int64_t max = kind == 1 ? BENCH_USERS : kind == 2 ? BENCH_DOORS
                                                      : BENCH_GROUPS;
    for (int64_t id = 1; rc == 0 && id <= max; id++) {
      if (kind == 1)
        bench_user_name(id, name, sizeof name);
      else if (kind == 2)
        door_name(id, name, sizeof name);
      else
        snprintf(name, sizeof name, "Group %" PRId64, id);
      sqlite3_bind_int(st, 1, kind);
      sqlite3_bind_int64(st, 2, id);
      sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
      rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
      sqlite3_reset(st);
    }
  }
  sqlite3_finalize(st);
  if (sqlite3_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) !=
      SQLITE_OK)
    rc = -1;
  return rc;
}

void bench_remove(const char *path) {
  char p[700];
  unlink(path);
  snprintf(p, sizeof p, "%s-wal", path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", path);
  unlink(p);
}

int64_t bench_file_bytes(const char *path) {
  struct stat st;
  char p[700];
  int64_t n = 0;
  if (stat(path, &st) == 0)
    n += st.st_size;
  snprintf(p, sizeof p, "%s-wal", path);
  if (stat(p, &st) == 0)
    n += st.st_size;
  return n;
}

#define FILL_BATCH 10000

static int fill_lib(bench *b, const char *path, int64_t n) {
  eaudit_store *s = NULL;
  eaudit_batch *batch = NULL;
  eaudit_event *ev = NULL;
  int rc = bench_lib_open(path, EAUDIT_SYNC_NORMAL, &s);
  if (rc == 0)
    rc = bench_lib_names(s);
  if (rc == 0)
    rc = eaudit_batch_new(&batch);
  if (rc == 0)
    rc = eaudit_event_new(&ev);
  bench_row r;
  for (int64_t i = 0; rc == 0 && i < n; i++) {
    bench_row_make(n, i, &r);
    if ((rc = bench_row_event(ev, &r)) == 0)
      rc = eaudit_batch_add(batch, ev);
    if (rc == 0 && (eaudit_batch_size(batch) == FILL_BATCH || i == n - 1)) {
      rc = eaudit_store_append_batch(s, batch, NULL);
      eaudit_batch_clear(batch);
      if ((i + 1) % 1000000 == 0)
        bench_progress(b, "fixture: %" PRId64 " library events", i + 1);
    }
  }
  if (rc)
    bench_fail(b, "filling %s: %s", path, eaudit_error_last()->message);
  eaudit_event_free(ev);
  eaudit_batch_free(batch);
  eaudit_store_free(s);
  return rc ? -1 : 0;
}

static int fill_raw(bench *b, const char *path, int64_t n) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int rc = bench_raw_open(path, "NORMAL", 1, &db);
  if (rc == 0)
    rc = bench_raw_names(db);
  if (rc == 0 &&
      sqlite3_prepare_v2(db, BENCH_RAW_INSERT_SQL, -1, &st, NULL) != SQLITE_OK)
    rc = -1;
  bench_row r;
  for (int64_t i = 0; rc == 0 && i < n; i += FILL_BATCH) {
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
      rc = -1;
      break;
    }
    for (int64_t j = i; rc == 0 && j < n && j < i + FILL_BATCH; j++) {
      bench_row_make(n, j, &r);
      rc = bench_raw_insert(st, &r, BENCH_NOW);
    }
    if (sqlite3_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) !=
        SQLITE_OK)
      rc = -1;
  }
  /* The raw side gets planner statistics; the library's queries do not
   * depend on them. */
  if (rc == 0 && sqlite3_exec(db, "ANALYZE", NULL, NULL, NULL) != SQLITE_OK)
    rc = -1;
  if (rc)
    bench_fail(b, "filling %s: %s", path, sqlite3_errmsg(db));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rc;
}

int bench_fixture_get(bench *b, int64_t n, bench_fixture *fx) {
  char tmp[640];
  fx->n = n;
  snprintf(fx->lib_path, sizeof fx->lib_path, "%s/fixture-%" PRId64 "-lib.db",
           b->dir, n);
  snprintf(fx->raw_path, sizeof fx->raw_path, "%s/fixture-%" PRId64 "-raw.db",
           b->dir, n);
  /* Built under a temporary name and renamed when complete, so a file
   * present is a finished fixture. */
  if (access(fx->lib_path, F_OK) != 0) {
    bench_progress(b, "building library fixture of %" PRId64 " events", n);
    double t0 = bench_now_ms();
    snprintf(tmp, sizeof tmp, "%s.tmp", fx->lib_path);
    bench_remove(tmp);
    if (fill_lib(b, tmp, n) != 0 || rename(tmp, fx->lib_path) != 0)
      return -1;
    printf("# fixture %s built in %.1f s (synchronous NORMAL)\n",
           fx->lib_path, (bench_now_ms() - t0) / 1e3);
  }
  if (access(fx->raw_path, F_OK) != 0) {
    bench_progress(b, "building raw fixture of %" PRId64 " events", n);
    double t0 = bench_now_ms();
    snprintf(tmp, sizeof tmp, "%s.tmp", fx->raw_path);
    bench_remove(tmp);
    if (fill_raw(b, tmp, n) != 0 || rename(tmp, fx->raw_path) != 0)
      return -1;
    printf("# fixture %s built in %.1f s (synchronous NORMAL)\n",
           fx->raw_path, (bench_now_ms() - t0) / 1e3);
  }
  fflush(stdout);
  return 0;
}

#ifdef EAUDIT_HAVE_LIBPQ
#include <libpq-fe.h>

const char *bench_pg_server(void) {
  const char *u = getenv("EAUDIT_BENCH_PG");
  if (u == NULL || *u == '\0')
    u = getenv("EAUDIT_TEST_PG");
  return u && *u ? u : NULL;
}

int bench_pg_uri_for(char *out, size_t size, const char *db) {
  char *err = NULL;
  const char *server = bench_pg_server();
  PQconninfoOption *o = server ? PQconninfoParse(server, &err) : NULL;
  if (o == NULL) {
    fprintf(stderr, "bench: bad server URI: %s\n", err ? err : "none set");
    PQfreemem(err);
    return -1;
  }
  int n = snprintf(out, size, "postgresql:///%s?connect_timeout=10", db);
  for (PQconninfoOption *p = o; p->keyword && n > 0 && (size_t)n < size; p++)
    if (p->val && (strcmp(p->keyword, "host") == 0 ||
                   strcmp(p->keyword, "port") == 0 ||
                   strcmp(p->keyword, "user") == 0 ||
                   strcmp(p->keyword, "password") == 0))
      n += snprintf(out + n, size - (size_t)n, "&%s=%s", p->keyword, p->val);
  PQconninfoFree(o);
  return n > 0 && (size_t)n < size ? 0 : -1;
}

void bench_pg_quiet(void *arg, const char *message) {
  (void)arg;
  (void)message;
}
#endif
