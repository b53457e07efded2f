/* demo: a store filled with a realistic simulated month, then the default
 * view, the findings and the reports, as the README's first command. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static const char usage[] =
    "usage: entryfy-audit demo [--db PATH] [--fresh] [--seed N] [--tz ZONE]\n"
    "                          [--show N]\n"
    "\n"
    "Create a store holding a simulated month that ends now: 200 users, 21\n"
    "doors with schedules, 10 groups, 4 administrators, phones and PCs;\n"
    "door traffic shaped by working hours, failed attempts, keycards, group\n"
    "changes by admins, permission expiries (one while the person is inside\n"
    "the cleanroom, where exit needs a check-in), console and app logins\n"
    "judged by device recognition (one user on a fresh phone twice a day,\n"
    "an admin on an unknown laptop at 03:10), a failure burst at a door, a\n"
    "borrowed server-room privilege and a PIN changed five times in a day.\n"
    "The anomaly rules judge the month as it is appended. Then print the\n"
    "default view (user 1, past month) and the findings, and write\n"
    "report.html and report.csv (the past month, every user) beside the\n"
    "store, recorded as exported by user 1. The store is signed: its\n"
    "checkpoints are made with a demo key derived from the seed, written\n"
    "beside it as NAME.key (the store's path without .db; mode 0600), and\n"
    "the public key and a verify command line are printed at the end.\n"
    "\n"
    "  --fresh            replace an existing store at PATH (only a store:\n"
    "                     any other file is left alone) and its demo key\n"
    "  --seed N           the simulation's seed (default 1); the same seed\n"
    "                     and end time give the same store\n"
    "  --tz ZONE          the store's time zone (default Europe/Berlin)\n"
    "  --show N           rows of the default view to print (default 20)\n"
    "\n"
    "The month ends at the current time, or at ENTRYFY_AUDIT_NOW when set.\n"
    "The bulk fill runs with synchronous=NORMAL (the store is a demo; a\n"
    "power cut during the fill loses at most its last batches).\n"
    "\n"
    "Exit status: 0, 2 usage error (or the store or its key exists without\n"
    "--fresh), 3 the store, its key or a report could not be written.\n";

enum { D_FRESH = 100, D_SEED, D_TZ, D_SHOW };
static const cli_opt opts[] = {{"fresh", 0, 0, D_FRESH},
                               {"seed", 0, 1, D_SEED},
                               {"tz", 0, 1, D_TZ},
                               {"show", 0, 1, D_SHOW},
                               {NULL, 0, 0, 0}};

typedef struct {
  int fresh;
  int64_t seed, show;
  const char *tz;
} demo_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  demo_args *a = p;
  switch (id) {
  case D_FRESH:
    a->fresh = 1;
    break;
  case D_SEED:
    if (cli_parse_i64(val, &a->seed))
      return cli_usage(c, "--seed needs a number, not '%s'", val);
    break;
  case D_TZ:
    a->tz = val;
    break;
  case D_SHOW:
    if (cli_parse_i64(val, &a->show) || a->show < 0)
      return cli_usage(c, "--show needs a number >= 0, not '%s'", val);
    break;
  }
  return -1;
}

typedef struct sim_clock {
  eaudit_time t;
} sim_clock;

static eaudit_time clock_fn(void *payload) {
  return ((sim_clock *)payload)->t;
}

static void clock_set(void *payload, eaudit_time t) {
  ((sim_clock *)payload)->t = t;
}

static int random_fn(uint8_t *buf, size_t len, void *payload) {
  rng *r = payload;
  for (size_t i = 0; i < len; i += 8) {
    uint64_t v = rng_next(r);
    for (size_t k = 0; k < 8 && i + k < len; k++)
      buf[i + k] = (uint8_t)(v >> (8 * k));
  }
  return 0;
}

/* Remove a store and its -wal/-shm, after checking it is one. */
static int remove_store(cli *c) {
  eaudit_store *old;
  int ret = cli_open(c, 0, 0, NULL, &old);
  if (ret != CLI_OK)
    return cli_fail(c, ret, "--fresh replaces only an entryfy-audit store; "
                            "'%s' was left unchanged", c->db);
  eaudit_store_free(old);
  static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
  char path[4096];
  for (int i = 0; i < 4; i++) {
    snprintf(path, sizeof path, "%s%s", c->db, suffix[i]);
    if (unlink(path) != 0 && errno != ENOENT)
      return cli_fail(c, CLI_FAIL, "cannot remove '%s': %s", path,
                      strerror(errno));
  }
  return -1;
}

/* report.html and report.csv in the directory of the store, for the past
 * month and every user, through eaudit_store_report(). */
static int write_reports(cli *c, eaudit_store *s, eaudit_time end) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", c->db);
  char *slash = strrchr(dir, '/');
  if (slash == NULL)
    snprintf(dir, sizeof dir, ".");
  else if (slash == dir)
    dir[1] = 0;
  else
    *slash = 0;
  static const struct {
    const char *name;
    int format;
  } reports[] = {{"report.html", EAUDIT_FORMAT_HTML},
                 {"report.csv", EAUDIT_FORMAT_CSV}};
  eaudit_time since, e2;
  int rc = eaudit_store_parse_time(s, "-1mo", end, &since, &e2);
  printf("Reports (the past month, every user; recorded as exported by "
         "Alex Morgan):\n");
  for (size_t i = 0; rc == 0 && i < 2; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, reports[i].name);
    /* Reports hold what the store holds: 0600, like the store. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = NULL;
    if (fd >= 0 && (fchmod(fd, 0600) != 0 || (f = fdopen(fd, "w")) == NULL))
      close(fd);
    if (f == NULL)
      return cli_fail(c, CLI_FAIL, "cannot write '%s': %s", path,
                      strerror(errno));
    eaudit_query *q = NULL;
    eaudit_report_options *o = NULL;
    eaudit_sink *k = NULL;
    rc = eaudit_query_new(&q);
    if (rc == 0)
      rc = eaudit_query_set_interval(q, since, end);
    if (rc == 0)
      rc = eaudit_report_options_new(&o);
    if (rc == 0)
      rc = eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_FORMAT,
                                         reports[i].format);
    if (rc == 0)
      rc = eaudit_report_options_set_int(o, EAUDIT_REPORT_OPT_ACTOR, 1);
    if (rc == 0)
      rc = eaudit_report_options_set_str(o, EAUDIT_REPORT_OPT_TITLE,
                                         "Harbour Street HQ: the past month");
    if (rc == 0)
      rc = eaudit_sink_from_file(&k, f);
    if (rc == 0)
      rc = eaudit_store_report(s, q, o, k);
    uint64_t bytes = k ? eaudit_sink_bytes(k) : 0;
    eaudit_sink_free(k);
    eaudit_report_options_free(o);
    eaudit_query_free(q);
    int bad = fclose(f) != 0;
    if (rc)
      return cli_lib_fail(c, rc, "writing '%s' failed", path);
    if (bad)
      return cli_fail(c, CLI_FAIL, "writing '%s' failed: %s", path,
                      strerror(errno));
    printf("  %s (%" PRIu64 " bytes)\n", path, bytes);
  }
  if (rc)
    return cli_lib_fail(c, rc, "writing the reports failed");
  return -1;
}

/* The demo key beside the store: PATH without ".db", plus ".key". */
static void key_path(const char *db, char *out, size_t size) {
  size_t n = strlen(db);
  if (n > 3 && strcmp(db + n - 3, ".db") == 0)
    n -= 3;
  snprintf(out, size, "%.*s.key", (int)n, db);
}

/* The demo's signing key, derived from the seed so that the same seed
 * gives the same store, checkpoints included. A demo key only. */
static void demo_key(uint64_t seed, uint8_t key[EAUDIT_SIGN_SEED_SIZE]) {
  rng r;
  rng_seed(&r, seed ^ 0x6b65792d64656d6fULL);
  random_fn(key, EAUDIT_SIGN_SEED_SIZE, &r);
}

int cmd_demo(int argc, char **argv) {
  cli c;
  demo_args a = {0, 1, 20, "Europe/Berlin"};
  int ret = cli_parse(&c, argc, argv, usage, 0, opts, on_opt, &a);
  eaudit_store *s = NULL;
  eaudit_options *o = NULL;
  eaudit_query *q = NULL;
  eaudit_finding_query *fq = NULL;
  if (ret >= 0)
    goto done;
  if (c.n_args) {
    ret = cli_usage(&c, "unexpected argument '%s'", c.args[0]);
    goto done;
  }
  char keyfile[4200];
  key_path(c.db, keyfile, sizeof keyfile);
  if (!a.fresh && access(keyfile, F_OK) == 0) {
    ret = cli_fail(&c, CLI_USAGE,
                   "'%s' already exists; add --fresh to replace it with a "
                   "new demo store and key",
                   keyfile);
    goto done;
  }
  if (access(c.db, F_OK) == 0) {
    if (!a.fresh) {
      ret = cli_fail(&c, CLI_USAGE,
                     "'%s' already exists; add --fresh to replace it with a "
                     "new demo store",
                     c.db);
      goto done;
    }
    if ((ret = remove_store(&c)) >= 0)
      goto done;
  }
  eaudit_time end = c.now;
  if (!c.has_now) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    end = (eaudit_time)tv.tv_sec * 1000000 + tv.tv_usec;
  }
  sim_clock clk = {end};
  rng ids;
  rng_seed(&ids, (uint64_t)a.seed ^ 0x5eed1d5ULL);
  int rc = eaudit_options_new(&o);
  if (rc == 0)
    rc = eaudit_options_set_str(o, EAUDIT_OPT_TIME_ZONE, a.tz);
  if (rc == EAUDIT_ETZ) {
    ret = cli_usage(&c, "unknown time zone '%s' (an IANA name such as "
                        "Europe/Berlin or UTC)", a.tz);
    goto done;
  }
  if (rc == 0)
    rc = eaudit_options_set_int(o, EAUDIT_OPT_SYNCHRONOUS, EAUDIT_SYNC_NORMAL);
  if (rc == 0)
    rc = eaudit_options_set_clock(o, clock_fn, &clk);
  if (rc == 0)
    rc = eaudit_options_set_random(o, random_fn, &ids);
  uint8_t key[EAUDIT_SIGN_SEED_SIZE], pk[EAUDIT_PUBLIC_KEY_SIZE];
  demo_key((uint64_t)a.seed, key);
  if (rc == 0 && (ret = key_write_secret(&c, keyfile, key, a.fresh)) >= 0) {
    explicit_bzero(key, sizeof key);
    goto done;
  }
  if (rc == 0)
    rc = eaudit_store_open(&s, c.db, o);
  /* Checkpoints by the default policy while the month is appended. */
  if (rc == 0)
    rc = eaudit_store_set_signing_key(s, key, sizeof key);
  if (rc == 0)
    rc = eaudit_signing_public_key(key, sizeof key, pk);
  explicit_bzero(key, sizeof key);
  if (rc) {
    ret = cli_lib_fail(&c, rc, "cannot create '%s'", c.db);
    ret = CLI_FAIL;
    goto done;
  }
  progress pr;
  demo_stats st;
  rc = demo_fill(s, (uint64_t)a.seed, end, clock_set, &clk, &pr, &st);
  if (rc) {
    ret = cli_lib_fail(&c, rc, "filling '%s' failed", c.db);
    ret = CLI_FAIL;
    goto done;
  }
  char from[EAUDIT_TIME_STRMAX], to[EAUDIT_TIME_STRMAX];
  eaudit_time since, e2;
  eaudit_store_parse_time(s, "-1mo", end, &since, &e2);
  eaudit_store_format_time(s, since, EAUDIT_TIME_LOCAL, from, sizeof from);
  eaudit_store_format_time(s, end, EAUDIT_TIME_LOCAL, to, sizeof to);
  int64_t stored = 0;
  eaudit_store_last_seq(s, &stored);
  printf("Created %s (time zone %s, seed %" PRId64 "): %" PRId64 " events "
         "from %s to %s;\n%zu users, %zu doors, %zu groups; %zu console and "
         "app logins on %zu devices.\n\n",
         c.db, eaudit_store_time_zone(s), a.seed, stored, from, to, st.users,
         st.doors, st.groups, st.logins, st.devices);

  /* The console's default view: user 1, the past month, newest first. */
  if ((rc = eaudit_store_default_query(s, &q))) {
    ret = cli_lib_fail(&c, rc, "building the default view");
    goto done;
  }
  eaudit_counts *k = NULL;
  int64_t total = 0;
  if (eaudit_store_counts(s, q, EAUDIT_COUNT_BY_TYPE, &k) == 0)
    for (size_t i = 0; i < eaudit_counts_size(k); i++) {
      int64_t key, n;
      eaudit_counts_get(k, i, &key, &n);
      total += n;
    }
  eaudit_counts_free(k);
  printf("Default view: Alex Morgan (user 1) as subject or actor, past month "
         "- %" PRId64 " events, newest %" PRId64 ":\n\n",
         total, a.show < total ? a.show : total);
  if (a.show > 0) {
    size_t n;
    eaudit_query_set_limit(q, (size_t)a.show);
    c.f.limit = NULL; /* no "more" hint for the demo */
    if ((ret = search_print(&c, s, q, stdout, OUT_TABLE, &n)) >= 0)
      goto done;
  }
  printf("\nMore: entryfy-audit search --db %s [--user ID] [--since TIME] "
         "[--search TEXT]\n\n",
         c.db);
  /* What the rules found while the month was appended. */
  size_t nf = 0;
  if ((rc = eaudit_finding_query_new(&fq))) {
    ret = cli_lib_fail(&c, rc, "building the findings query");
    goto done;
  }
  printf("Findings of the month (the anomaly rules, evaluated on append):"
         "\n\n");
  fflush(stdout);
  if ((ret = findings_print(&c, s, fq, stdout, 0, NULL, NULL, &nf)) >= 0)
    goto done;
  if (nf == 0)
    printf("(none)\n");
  printf("\nMore: entryfy-audit findings --db %s [--rule ID] [--severity S] "
         "[--format jsonl]\n\n",
         c.db);
  /* The reports: the past month, every user, beside the store. */
  if ((ret = write_reports(&c, s, end)) >= 0)
    goto done;
  /* Sign everything, the report records included. */
  int64_t cseq = 0;
  if ((rc = eaudit_store_checkpoint(s, &cseq))) {
    ret = cli_lib_fail(&c, rc, "signing '%s' failed", c.db);
    goto done;
  }
  char hex[2 * EAUDIT_PUBLIC_KEY_SIZE + 1];
  key_hex(pk, sizeof pk, hex);
  printf("\nTamper evidence: %" PRId64 " signed checkpoints. The demo key is "
         "%s\n(derived from the seed: a demo key, never for real use). Its "
         "public key:\n  %s\nVerify the store:\n  entryfy-audit verify "
         "--db %s --public-key %s\n",
         cseq, keyfile, hex, c.db, hex);
  fflush(stdout);
  ret = CLI_OK;
done:
  eaudit_finding_query_free(fq);
  eaudit_query_free(q);
  eaudit_store_free(s);
  eaudit_options_free(o);
  cli_free(&c);
  return ret;
}
