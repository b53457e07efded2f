/* verify: the hash chain, the signed checkpoints and the derived data
 * (include/eaudit/integrity.h). The flags are final; verification waits
 * for that module. */
#include "cli.h"

static const char usage[] =
    "usage: entryfy-audit verify [--db PATH] --public-key FILE "
    "[--checkpoint FILE]\n"
    "\n"
    "Check the hash chain, the signed checkpoints and that the search index\n"
    "and rollups agree with the events. Names the first bad seq and the\n"
    "kind of damage (modified, deleted, inserted, reordered, truncated,\n"
    "wrong key, unsigned).\n"
    "\n"
    "  --public-key FILE  the trusted Ed25519 public key (never taken from\n"
    "                     the store)\n"
    "  --checkpoint FILE  the newest checkpoint kept off the device, to\n"
    "                     detect truncation\n"
    "  -f, --format FMT   table (default) or json\n"
    "\n"
    "Exit status: 0 intact, 4 damage found, 2 usage error (or verification\n"
    "not in this build), 3 store error.\n";

enum { V_KEY = 100, V_CHECKPOINT };
static const cli_opt opts[] = {{"public-key", 0, 1, V_KEY},
                               {"checkpoint", 0, 1, V_CHECKPOINT},
                               {NULL, 0, 0, 0}};

static int on_opt(cli *c, int id, const char *val, void *p) {
  (void)c;
  (void)val;
  if (id == V_KEY)
    *(int *)p = 1;
  return -1;
}

int cmd_verify(int argc, char **argv) {
  cli c;
  int have_key = 0;
  int ret = cli_parse(&c, argc, argv, usage, CLI_F_FORMAT, opts, on_opt,
                      &have_key);
  if (ret >= 0)
    goto done;
  if (c.n_args) {
    ret = cli_usage(&c, "unexpected argument '%s'", c.args[0]);
    goto done;
  }
  /* A missing or damaged store is reported before the module's absence. */
  eaudit_store *s = NULL;
  if ((ret = cli_open(&c, 0, 1, NULL, &s)) != CLI_OK)
    goto done;
  eaudit_store_free(s);
  ret = cli_not_available(&c, "tamper evidence (include/eaudit/integrity.h)");
done:
  cli_free(&c);
  return ret;
}
