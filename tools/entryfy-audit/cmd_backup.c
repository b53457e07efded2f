/* backup: an online copy of the store (eaudit_store_backup()), which
 * verifies on its own with the same public key. */
#include "cli.h"

static const char usage[] =
    "usage: entryfy-audit backup [--db PATH] --to PATH\n"
    "\n"
    "Copy the store, while it is in use, into a new file with SQLite's\n"
    "online backup: one consistent snapshot; writers in other processes\n"
    "are not blocked. The copy keeps the store id, the events, the\n"
    "checkpoints and the retention anchor, so it verifies on its own with\n"
    "the same public key (entryfy-audit verify --db PATH).\n"
    "\n"
    "  --to PATH          the new file, mode 0600 (an existing file is\n"
    "                     refused)\n"
    "\n"
    "Exit status: 0, 2 usage error (or PATH exists), 3 store or file error.\n";

enum { B_TO = 100 };
static const cli_opt opts[] = {{"to", 0, 1, B_TO}, {NULL, 0, 0, 0}};

static int on_opt(cli *c, int id, const char *val, void *p) {
  (void)id;
  if (!*val)
    return cli_usage(c, "--to needs a path");
  *(const char **)p = val;
  return -1;
}

int cmd_backup(int argc, char **argv) {
  cli c;
  const char *to = NULL;
  int ret = cli_parse(&c, argc, argv, usage, 0, opts, on_opt, &to);
  eaudit_store *s = NULL;
  if (ret >= 0)
    goto done;
  if (c.n_args) {
    ret = cli_usage(&c, "unexpected argument '%s'", c.args[0]);
    goto done;
  }
  if (to == NULL) {
    ret = cli_usage(&c, "backup needs --to PATH");
    goto done;
  }
  if ((ret = cli_open_read_only(&c, 0, &s)) != CLI_OK)
    goto done;
  int rc = eaudit_store_backup(s, to);
  if (rc == EAUDIT_EEXISTS)
    ret = cli_fail(&c, CLI_USAGE, "'%s' already exists; not overwritten", to);
  else if (rc)
    ret = cli_lib_fail(&c, rc, "backup to '%s' failed", to);
  else {
    printf("backed up %s to %s\n", c.db, to);
    ret = CLI_OK;
  }
done:
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
