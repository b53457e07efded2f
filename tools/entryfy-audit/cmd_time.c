/* time: what a time word means, in a store's time zone. Lets an operator
 * check --since/--until before running a long report. */
#include "cli.h"

#include <string.h>

static const char usage[] =
    "usage: entryfy-audit time [--db PATH | --tz ZONE] EXPR...\n"
    "\n"
    "Print the period or instant each time expression names, in the store's\n"
    "time zone (or ZONE), as: EXPR<TAB>begin<TAB>end. Instants have\n"
    "begin = end. --since and --until take the begin.\n"
    "\n"
    "  --tz ZONE          resolve in ZONE without opening a store\n"
    "  --utc              print times in UTC (RFC 3339) instead of local\n"
    "\n"
    "EXPR: now, today, yesterday, this-week, last-week, this-month,\n"
    "last-month, -2h, -30m, +1h, -7d, -2w, -1mo, -1y, 2026-11-03,\n"
    "2026-11-03T14:05, RFC 3339.\n"
    "\n"
    "Exit status: 0, 2 when an expression is not a time, 3 store error.\n";

enum { M_TZ = 100, M_UTC };
static const cli_opt opts[] = {
    {"tz", 0, 1, M_TZ}, {"utc", 0, 0, M_UTC}, {NULL, 0, 0, 0}};

typedef struct {
  const char *tz;
  int utc;
} time_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  (void)c;
  time_args *a = p;
  if (id == M_TZ)
    a->tz = val;
  else
    a->utc = 1;
  return -1;
}

int cmd_time(int argc, char **argv) {
  cli c;
  time_args a = {NULL, 0};
  int ret = cli_parse(&c, argc, argv, usage, 0, opts, on_opt, &a);
  eaudit_store *s = NULL;
  if (ret >= 0)
    goto done;
  if (c.n_args == 0) {
    ret = cli_usage(&c, "give at least one time expression");
    goto done;
  }
  if (a.tz) {
    /* An in-memory store carries the zone; nothing touches a file. */
    const char *db = c.db;
    c.db = ":memory:";
    ret = cli_open(&c, 1, 1, a.tz, &s);
    c.db = db;
  } else {
    ret = cli_open(&c, 0, 1, NULL, &s);
  }
  if (ret != CLI_OK)
    goto done;
  ret = -1;
  int fmt = a.utc ? EAUDIT_TIME_RFC3339_UTC : EAUDIT_TIME_LOCAL_OFFSET;
  for (size_t i = 0; i < c.n_args; i++) {
    eaudit_time b, e;
    if (eaudit_store_parse_time(s, c.args[i], cli_now(&c), &b, &e)) {
      ret = cli_usage(&c, "'%s' is not a time expression", c.args[i]);
      break;
    }
    char tb[EAUDIT_TIME_STRMAX], te[EAUDIT_TIME_STRMAX];
    eaudit_store_format_time(s, b, fmt, tb, sizeof tb);
    eaudit_store_format_time(s, e, fmt, te, sizeof te);
    printf("%s\t%s\t%s\n", c.args[i], tb, te);
  }
  if (ret < 0)
    ret = CLI_OK;
done:
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
