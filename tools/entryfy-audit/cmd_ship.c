/* ship: send a site store's new events to a central PostgreSQL store
 * (eaudit_store_ship(), include/eaudit/ship.h, docs/scale-out.md). */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

static const char usage[] =
    "usage: entryfy-audit ship --from SITE.db --to postgresql://...\n"
    "                          [--batch N] [--verify]\n"
    "\n"
    "Send the events of a site store that the central store does not have\n"
    "yet, oldest first, in batches. Each batch is one PostgreSQL transaction\n"
    "that checks the site's hash chain continues the one stored centrally,\n"
    "inserts the events and moves the site's cursor with them, so an\n"
    "interrupted run (crash, lost connection) is resumed by running it\n"
    "again, and an event is never stored twice. The central schema is\n"
    "created on first use. The site store is opened read-only.\n"
    "\n"
    "  --from PATH        the site store (same as --db PATH)\n"
    "  --to URI           the central store: a libpq URI,\n"
    "                     postgresql://[user[:password]@][host][:port]/db?...\n"
    "  --batch N          events per transaction (default 1000)\n"
    "  --verify           then verify the site's whole chain in the central\n"
    "                     store\n"
    "\n"
    "Exit status: 0 shipped (possibly nothing new), 4 the site's chain does\n"
    "not continue the central one (nothing of that batch is written) or\n"
    "--verify found damage, 2 usage error, 3 the store or the server could\n"
    "not be used (or the site purged events that were never shipped).\n";

enum { S_FROM = 100, S_TO, S_BATCH, S_VERIFY };
static const cli_opt opts[] = {{"from", 0, 1, S_FROM},
                               {"to", 0, 1, S_TO},
                               {"batch", 0, 1, S_BATCH},
                               {"verify", 0, 0, S_VERIFY},
                               {NULL, 0, 0, 0}};

typedef struct {
  const char *to;
  int64_t batch;
  int verify;
} ship_args;

static int on_opt(cli *c, int id, const char *val, void *p) {
  ship_args *a = p;
  switch (id) {
  case S_FROM:
    if (!*val)
      return cli_usage(c, "--from needs a path");
    c->db = val;
    break;
  case S_TO:
    if (!*val)
      return cli_usage(c, "--to needs a postgresql:// URI");
    a->to = val;
    break;
  case S_BATCH:
    if (cli_parse_i64(val, &a->batch) || a->batch <= 0 || a->batch > 100000)
      return cli_usage(c, "--batch needs a number from 1 to 100000, not '%s'",
                       val);
    break;
  case S_VERIFY:
    a->verify = 1;
    break;
  }
  return -1;
}

static int ship_fail(const cli *c, int rc, const char *what) {
  if (rc == EAUDIT_ETAMPER)
    return cli_fail(c, CLI_DAMAGE, "%s: %s", what,
                    eaudit_error_last()->message);
  if (rc == EAUDIT_ECURSOR || rc == EAUDIT_EIO || rc == EAUDIT_EUNSUPPORTED)
    return cli_fail(c, CLI_FAIL, "%s: %s", what, eaudit_error_last()->message);
  return cli_lib_fail(c, rc, "%s", what);
}

int cmd_ship(int argc, char **argv) {
  cli c;
  ship_args a = {NULL, 0, 0};
  int ret = cli_parse(&c, argc, argv, usage, 0, opts, on_opt, &a);
  eaudit_store *s = NULL;
  if (ret >= 0)
    goto done;
  if (c.n_args) {
    ret = cli_usage(&c, "unexpected argument '%s'", c.args[0]);
    goto done;
  }
  if (a.to == NULL) {
    ret = cli_usage(&c, "ship needs --to postgresql://...");
    goto done;
  }
  if (strncmp(a.to, "postgresql://", 13) != 0 &&
      strncmp(a.to, "postgres://", 11) != 0) {
    ret = cli_usage(&c, "--to must be a postgresql:// URI");
    goto done;
  }
  if ((ret = cli_open_read_only(&c, 0, &s)) != CLI_OK)
    goto done;
  uint8_t id[16];
  char hex[33];
  eaudit_store_id(s, id);
  key_hex(id, 16, hex);
  int64_t n = 0;
  int rc = eaudit_store_ship(s, a.to, (size_t)a.batch, &n);
  if (rc) {
    if (n)
      fprintf(stderr, "entryfy-audit ship: %" PRId64 " events were shipped "
                      "before the failure\n", n);
    ret = ship_fail(&c, rc, "shipping failed");
    goto done;
  }
  printf("shipped %" PRId64 " events from %s (site %s)\n", n, c.db, hex);
  if (a.verify) {
    int64_t checked = 0;
    rc = eaudit_central_verify_site(a.to, id, &checked);
    if (rc) {
      ret = ship_fail(&c, rc, "central verification failed");
      goto done;
    }
    printf("central chain of site %s verifies: %" PRId64 " events\n", hex,
           checked);
  }
  ret = CLI_OK;
done:
  eaudit_store_free(s);
  cli_free(&c);
  return ret;
}
