/* rules: show, load or re-evaluate the anomaly rule set
 * (include/eaudit/rules.h). The flags are final; the actions wait for that
 * module. */
#include "cli.h"

#include <string.h>

static const char usage[] =
    "usage: entryfy-audit rules show [--db PATH] [--defaults]\n"
    "       entryfy-audit rules load FILE --actor ID [--db PATH]\n"
    "       entryfy-audit rules evaluate --since TIME [--until TIME] "
    "[--db PATH]\n"
    "\n"
    "  show               print the active rule set as JSON (--defaults:\n"
    "                     the built-in one)\n"
    "  load FILE          validate FILE (JSON, - for standard input) and make\n"
    "                     it the active rule set; records 'Anomaly rules\n"
    "                     changed' with --actor\n"
    "  evaluate           re-evaluate the events of [--since, --until) in seq\n"
    "                     order and print the findings that yields\n"
    "\n"
    "Exit status: 0, 2 usage error or invalid rule set (or rules not in this\n"
    "build), 3 store error.\n";

enum { L_ACTOR = 100, L_DEFAULTS };
static const cli_opt opts[] = {{"actor", 0, 1, L_ACTOR},
                               {"defaults", 0, 0, L_DEFAULTS},
                               {NULL, 0, 0, 0}};

static int on_opt(cli *c, int id, const char *val, void *p) {
  int64_t v;
  int *have_actor = p;
  if (id == L_ACTOR) {
    if (cli_parse_i64(val, &v) || v <= 0)
      return cli_usage(c, "--actor needs a positive user id, not '%s'", val);
    *have_actor = 1;
  }
  return -1;
}

int cmd_rules(int argc, char **argv) {
  cli c;
  int have_actor = 0;
  int ret = cli_parse(&c, argc, argv, usage, CLI_F_FILTER, opts, on_opt,
                      &have_actor);
  if (ret >= 0)
    goto done;
  const char *a = c.n_args ? c.args[0] : "show";
  if (strcmp(a, "show") == 0 ? c.n_args > 1
      : strcmp(a, "load") == 0 ? c.n_args != 2 || !have_actor
      : strcmp(a, "evaluate") == 0 ? c.n_args != 1 || !c.f.since
                                   : 1) {
    ret = cli_usage(&c, "expected 'show', 'load FILE --actor ID' or "
                        "'evaluate --since TIME'");
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
