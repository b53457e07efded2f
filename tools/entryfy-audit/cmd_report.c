/* report: a report for a user and/or an interval, written by the report
 * module (include/eaudit/report.h). The flags are final; the writing waits
 * for that module. */
#include "cli.h"

#include <string.h>

static const char usage[] =
    "usage: entryfy-audit report [--db PATH] [filters] [--format FMT] "
    "[-o FILE]\n"
    "\n"
    "Write a report: a summary (counts per type, day and user; findings;\n"
    "expired users and groups) then the events, newest first, with the\n"
    "names of the time, in the store's time zone. Takes the filters of\n"
    "search; with none, the default view (user 1, past month).\n"
    "\n"
    "  -f, --format FMT   csv (default), json, jsonl, html, syslog, cef\n"
    "  -o, --output FILE  write to FILE (default: standard output)\n"
    "  --actor ID         who asked for the report (recorded as an\n"
    "                     'Audit report exported' event; default 1)\n"
    "  --no-neutralise    CSV: do not prefix cells starting with = + - @\n"
    "\n"
    "Exit status: 0, 2 usage error (or reports not in this build), 3 store\n"
    "or output error.\n";

enum { R_ACTOR = 100, R_NO_NEUTRALISE };
static const cli_opt opts[] = {{"actor", 0, 1, R_ACTOR},
                               {"no-neutralise", 0, 0, R_NO_NEUTRALISE},
                               {NULL, 0, 0, 0}};

typedef struct {
  int64_t actor;
  int no_neutralise;
} report_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  report_args *a = p;
  if (id == R_NO_NEUTRALISE) {
    a->no_neutralise = 1;
    return -1;
  }
  if (cli_parse_i64(val, &a->actor) || a->actor <= 0)
    return cli_usage(c, "--actor needs a positive user id, not '%s'", val);
  return -1;
}

int cmd_report(int argc, char **argv) {
  cli c;
  report_args a = {1, 0};
  int ret = cli_parse(&c, argc, argv, usage,
                      CLI_F_FILTER | CLI_F_PAGE | CLI_F_FORMAT | CLI_F_OUTPUT,
                      opts, on_opt, &a);
  if (ret >= 0)
    goto done;
  static const char *const formats[] = {"csv",  "json",   "jsonl",
                                        "html", "syslog", "cef"};
  int ok = c.format == NULL;
  for (size_t i = 0; !ok && i < 6; i++)
    ok = strcmp(c.format, formats[i]) == 0;
  if (!ok) {
    ret = cli_usage(&c, "--format must be csv, json, jsonl, html, syslog or "
                        "cef, not '%s'", c.format);
    goto done;
  }
  if (c.n_args) {
    ret = cli_usage(&c, "unexpected argument '%s'", c.args[0]);
    goto done;
  }
  /* A missing or damaged store is reported before the module's absence. */
  eaudit_store *s = NULL;
  if ((ret = cli_open(&c, 0, 1, NULL, &s)) != CLI_OK)
    goto done;
  eaudit_store_free(s);
  ret = cli_not_available(&c, "report writers (include/eaudit/report.h)");
done:
  cli_free(&c);
  return ret;
}
