/* findings: anomaly findings from the rules engine (include/eaudit/rules.h).
 * The flags are final; listing and state changes wait for that module. */
#include "cli.h"

#include <string.h>

static const char usage[] =
    "usage: entryfy-audit findings [--db PATH] [--rule ID] [--severity S]\n"
    "                              [--state S] [filters] [--format FMT]\n"
    "       entryfy-audit findings ack|resolve FINDING-ID --actor ID\n"
    "\n"
    "List findings (newest first): rule, severity, key, subject, first and\n"
    "last event times, state. Filters combine; --rule, --severity and\n"
    "--state repeat or take comma-separated values. --user, --since and\n"
    "--until select findings by subject and by last_at.\n"
    "\n"
    "  --rule ID          e.g. unrecognized_device_abuse, door_failure_burst\n"
    "  --severity S       info, warning, critical\n"
    "  --state S          open, acknowledged, resolved\n"
    "  -f, --format FMT   table (default) or jsonl (DESIGN section 7 shape)\n"
    "  --actor ID         who acknowledges or resolves\n"
    "\n"
    "Exit status: 0, 1 no finding matched, 2 usage error (or findings not in\n"
    "this build), 3 store error.\n";

enum { F_RULE = 100, F_SEVERITY, F_STATE, F_ACTOR };
static const cli_opt opts[] = {{"rule", 0, 1, F_RULE},
                               {"severity", 0, 1, F_SEVERITY},
                               {"state", 0, 1, F_STATE},
                               {"actor", 0, 1, F_ACTOR},
                               {NULL, 0, 0, 0}};

static int in_list(const char *val, const char *const *names) {
  /* Every comma-separated part must be a name. */
  const char *p = val;
  while (*p) {
    size_t n = strcspn(p, ",");
    int ok = n == 0;
    for (const char *const *k = names; !ok && *k; k++)
      ok = strlen(*k) == n && strncmp(*k, p, n) == 0;
    if (!ok)
      return 0;
    p += n + (p[n] == ',');
  }
  return 1;
}

static int on_opt(cli *c, int id, const char *val, void *p) {
  (void)p;
  static const char *const sev[] = {"info", "warning", "critical", NULL};
  static const char *const st[] = {"open", "acknowledged", "resolved", NULL};
  int64_t v;
  if (id == F_SEVERITY && !in_list(val, sev))
    return cli_usage(c, "--severity must be info, warning or critical, not "
                        "'%s'", val);
  if (id == F_STATE && !in_list(val, st))
    return cli_usage(c, "--state must be open, acknowledged or resolved, "
                        "not '%s'", val);
  if (id == F_ACTOR && (cli_parse_i64(val, &v) || v <= 0))
    return cli_usage(c, "--actor needs a positive user id, not '%s'", val);
  return -1;
}

int cmd_findings(int argc, char **argv) {
  cli c;
  int ret = cli_parse(&c, argc, argv, usage,
                      CLI_F_FILTER | CLI_F_PAGE | CLI_F_FORMAT, opts, on_opt,
                      NULL);
  if (ret >= 0)
    goto done;
  int format;
  if (c.format && out_format_from_name(c.format, (1 << OUT_TABLE) |
                                                     (1 << OUT_JSONL),
                                       &format)) {
    ret = cli_usage(&c, "--format must be table or jsonl, not '%s'",
                    c.format);
    goto done;
  }
  if (c.n_args && !((strcmp(c.args[0], "ack") == 0 ||
                     strcmp(c.args[0], "resolve") == 0) &&
                    c.n_args == 2)) {
    ret = cli_usage(&c, "expected 'ack FINDING-ID' or 'resolve FINDING-ID'");
    goto done;
  }
  /* A missing or damaged store is reported before the module's absence. */
  eaudit_store *s = NULL;
  if ((ret = cli_open(&c, 0, 1, NULL, &s)) != CLI_OK)
    goto done;
  eaudit_store_free(s);
  ret = cli_not_available(&c, "rules engine (include/eaudit/rules.h)");
done:
  cli_free(&c);
  return ret;
}
