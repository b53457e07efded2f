/* purge: retention (include/eaudit/integrity.h). The flags are final; the
 * purge waits for that module. */
#include "cli.h"

static const char usage[] =
    "usage: entryfy-audit purge [--db PATH] --older-than TIME --actor ID\n"
    "                           [--signing-key FILE] [--dry-run]\n"
    "\n"
    "Remove the oldest events: every event up to the highest seq S such\n"
    "that all events up to S happened before TIME (for example -365d).\n"
    "Works in bounded batches, keeps a signed anchor so the rest of the\n"
    "chain still verifies, and records 'Audit log purged' with --actor.\n"
    "\n"
    "  --older-than TIME  the retention limit (a time word: -90d, -1y, a date)\n"
    "  --actor ID         who asked for the purge\n"
    "  --signing-key FILE the Ed25519 key that signs the anchor checkpoint\n"
    "  --dry-run          only print how many events would go\n"
    "\n"
    "Exit status: 0, 1 nothing to purge, 2 usage error (or purge not in this\n"
    "build), 3 store error.\n";

enum { P_OLDER = 100, P_ACTOR, P_KEY, P_DRY };
static const cli_opt opts[] = {{"older-than", 0, 1, P_OLDER},
                               {"actor", 0, 1, P_ACTOR},
                               {"signing-key", 0, 1, P_KEY},
                               {"dry-run", 0, 0, P_DRY},
                               {NULL, 0, 0, 0}};

typedef struct {
  int older, actor;
} purge_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  purge_args *a = p;
  int64_t v;
  if (id == P_OLDER)
    a->older = 1;
  if (id == P_ACTOR) {
    if (cli_parse_i64(val, &v) || v <= 0)
      return cli_usage(c, "--actor needs a positive user id, not '%s'", val);
    a->actor = 1;
  }
  return -1;
}

int cmd_purge(int argc, char **argv) {
  cli c;
  purge_args a = {0, 0};
  int ret = cli_parse(&c, argc, argv, usage, 0, opts, on_opt, &a);
  if (ret >= 0)
    goto done;
  if (c.n_args) {
    ret = cli_usage(&c, "unexpected argument '%s'", c.args[0]);
    goto done;
  }
  if (!a.older || !a.actor) {
    ret = cli_usage(&c, "purge needs --older-than TIME and --actor ID");
    goto done;
  }
  /* A missing or damaged store is reported before the module's absence. */
  eaudit_store *s = NULL;
  if ((ret = cli_open(&c, 0, 1, NULL, &s)) != CLI_OK)
    goto done;
  eaudit_store_free(s);
  ret = cli_not_available(&c, "retention (include/eaudit/integrity.h)");
done:
  cli_free(&c);
  return ret;
}
