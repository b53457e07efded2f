/* The benchmark harness shared by every bench/bench_<name>.c program.
 *
 * Each program times the library and raw SQLite doing the same work in the
 * same process run, interleaved lib/raw/lib/raw, and prints its results.
 * bench/run builds the programs, runs each with the same flags and prints
 * one combined table (docs/performance.md explains the method).
 *
 * Flags every program accepts (bench_init parses them):
 *   --quick       tiny scale, 1-2 repetitions: the whole program runs in
 *                 seconds; ctest runs it so the benchmarks never rot.
 *   --scale S     events in the fixture store: 1m (default), 10m, or a
 *                 plain number.
 *   --reps N      timed repetitions per side (default 5, quick 2).
 *   --dir DIR     where stores are built (default bench-data/ under the
 *                 working directory). Fixture stores found there are reused,
 *                 so several programs of one run share them.
 *   --only P,...  run only the scenarios whose names start with one of
 *                 these prefixes (for profiling one scenario).
 *
 * Output, one line per result on stdout, tab-separated, 8 fields:
 *   scenario  side  scale  median  min  max  ratio  unit
 * side is "lib", "raw" or a variant name; scale is the fixture size
 * (e.g. 1m, 10m, 2000); ratio is the lib median over the raw median
 * (written on the lib line, "-" elsewhere). For rate units (ending in
 * "/s") a ratio above 1 means the library is faster; for times (ms, us)
 * below 1 does. A scenario that cannot run prints side "n/a" and its
 * reason in the unit field. Lines starting with '#' are comments; progress
 * goes to stderr. Exit status 0 means every scenario ran.
 *
 * The interface:
 *   bench_init(&b, argc, argv)      parse the flags; 0 or exit status 2.
 *   bench_ab(&b, scen, unit, lib, la, raw, ra)
 *       one untimed warm-up call per side, then b.reps timed repetitions
 *       of each side, alternating. A repetition calls fn until it has run
 *       for at least b.min_rep_ms (at least once); fn returns how many
 *       operations it did (events, queries), or < 0 on failure. unit "ms"
 *       or "us" reports time per operation, a unit ending in "/s"
 *       operations per second. Prints the lib and raw lines.
 *   bench_multi(&b, scen, unit, n, sides, fns, args)  the same for n
 *       sides, interleaved in rounds; ratios are against the side named
 *       "raw" when there is one.
 *   bench_one(&b, scen, side, unit, fn, arg)   the same for one side; its
 *       median is returned.
 *   bench_want(&b, scen)            0 when --only leaves scen out (the
 *       functions above then skip it and return 1; bench_one returns 0).
 *   bench_value(&b, scen, side, unit, value, ratio)  a single measured
 *       value (bytes per event, MiB); ratio < 0 prints "-".
 *   bench_na(&b, scen, why)         a scenario that cannot run here.
 *   bench_main_na(argc, argv, scen, why)  the whole main of a program
 *       that cannot run here (built without PostgreSQL): its flags
 *       parsed, one n/a line, the exit status.
 *   bench_fail(&b, fmt, ...)        report an error; the exit status is 1.
 *   bench_finish(&b)                print peak RSS; returns the exit status.
 *   bench_peak_rss_mib()            VmHWM of this process.
 *
 * The data every program shares (so numbers are comparable):
 *   bench_row_make(n, i, &r)        event i of a fixture of n events:
 *       365 days ending at BENCH_NOW, BENCH_USERS users, a realistic type
 *       mix and ~120-byte JSON details. Deterministic.
 *   bench_lib_open(path, sync, &s)  a store with the bench clock (time
 *       frozen at BENCH_NOW plus the run's elapsed time), zone UTC.
 *   bench_row_event(ev, &r)         fill an eaudit_event from a row.
 *   bench_raw_open(path, sync, &db) raw SQLite: WAL, the given synchronous,
 *       the typical table "ev" with exactly three indexes, (actor, ts),
 *       (type, ts) and (ts), plus a names(kind, id, name) table.
 *   bench_raw_insert(st, &r)        bind and step the raw insert statement
 *       (BENCH_RAW_INSERT_SQL).
 *   bench_fixture(&b, n, &fx)       a library store and a raw store holding
 *       the same n events and names, built once with batched appends
 *       (synchronous NORMAL during the fill) and reused while the files
 *       exist in b.dir.
 */
#ifndef EAUDIT_BENCH_H
#define EAUDIT_BENCH_H

#include <eaudit.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* The bench clock's "now": 2026-06-01T12:00:00Z. */
#define BENCH_NOW INT64_C(1780315200000000)
#define BENCH_DAY_US INT64_C(86400000000)
#define BENCH_SPAN_DAYS 365
#define BENCH_USERS 1000
#define BENCH_ADMINS 20    /* users 1..20 are administrators */
#define BENCH_DOORS 200
#define BENCH_GROUPS 50
#define BENCH_RARE_USER 777 /* the only user whose surname starts "Zeb" */

typedef struct bench {
  const char *prog; /* program name without "bench_" */
  int quick;
  int64_t scale;        /* fixture events */
  char scale_name[24];  /* "1m", "10m", "2000" */
  int reps;
  double min_rep_ms;    /* a repetition lasts at least this long */
  char dir[512];
  char only[256]; /* --only prefixes, comma-separated; empty: all */
  int failed;
} bench;

typedef int64_t (*bench_fn)(void *arg);

int bench_init(bench *b, int argc, char **argv);
int bench_ab(bench *b, const char *scenario, const char *unit, bench_fn lib,
             void *lib_arg, bench_fn raw, void *raw_arg);
int bench_multi(bench *b, const char *scenario, const char *unit, int n,
                const char *const *sides, bench_fn const *fns,
                void *const *args);
int bench_want(const bench *b, const char *scenario);
double bench_one(bench *b, const char *scenario, const char *side,
                 const char *unit, bench_fn fn, void *arg);
void bench_value(bench *b, const char *scenario, const char *side,
                 const char *unit, double value, double ratio);
void bench_na(bench *b, const char *scenario, const char *why);
int bench_main_na(int argc, char **argv, const char *scenario, const char *why);
void bench_fail(bench *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void bench_progress(const bench *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int bench_finish(bench *b);
double bench_peak_rss_mib(void);
double bench_now_ms(void);

/* One event of the shared data set. */
typedef struct bench_row {
  int64_t ts;
  int type;
  int64_t subject, actor, door, grp, device, site;
  int credential, reason;
  char details[192];
  int details_len;
} bench_row;

void bench_row_make(int64_t n, int64_t i, bench_row *r);
int bench_row_event(eaudit_event *ev, const bench_row *r);
/* The display name of user id (deterministic; see bench_row_make). */
void bench_user_name(int64_t id, char *buf, size_t size);

int bench_lib_open(const char *path, int sync, eaudit_store **out);

#define BENCH_RAW_INSERT_SQL                                                   \
  "INSERT INTO ev(id, ts, recorded, type, subject, actor, door, details) "    \
  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
/* sync: "FULL" or "NORMAL". indexes 0 leaves the three indexes out. */
int bench_raw_open(const char *path, const char *sync, int indexes,
                   sqlite3 **out);
int bench_raw_insert(sqlite3_stmt *st, const bench_row *r, int64_t recorded);
/* A random v7 id, as the library makes them (libsodium). */
void bench_uuid_v7(int64_t t, uint8_t out[16]);

/* Names of users, doors and groups, in both stores. */
int bench_lib_names(eaudit_store *s);
int bench_raw_names(sqlite3 *db);

typedef struct bench_fixture {
  int64_t n;
  char lib_path[600];
  char raw_path[600];
} bench_fixture;

int bench_fixture_get(bench *b, int64_t n, bench_fixture *fx);

/* Remove a store file with its -wal and -shm. */
void bench_remove(const char *path);
/* Size of a store file with its -wal, in bytes. */
int64_t bench_file_bytes(const char *path);

#ifdef EAUDIT_HAVE_LIBPQ
/* The PostgreSQL server of the central-store benchmarks: the URI of a
 * maintenance database in EAUDIT_BENCH_PG, else EAUDIT_TEST_PG; NULL when
 * neither is set. */
const char *bench_pg_server(void);
/* The URI of database db on that server (its host, port, user and
 * password kept). 0, or -1 when it does not fit or the URI is bad. */
int bench_pg_uri_for(char *out, size_t size, const char *db);
/* A libpq notice processor that drops the server's notices. */
void bench_pg_quiet(void *arg, const char *message);
#endif

#endif
