/* devices: the devices known to device recognition
 * (include/eaudit/device.h). The flags are final; the listing waits for
 * that module. */
#include "cli.h"

#include <string.h>

static const char usage[] =
    "usage: entryfy-audit devices [--db PATH] [--user ID] [--kind K] "
    "[--format FMT]\n"
    "       entryfy-audit devices rename DEVICE-ID NAME\n"
    "       entryfy-audit devices forget DEVICE-ID\n"
    "       entryfy-audit devices forget-unseen --days N\n"
    "\n"
    "List recognised devices: id, user, kind, name, platform, OS, browser,\n"
    "first and last seen.\n"
    "\n"
    "  -u, --user ID      one user's devices\n"
    "  --kind K           web (admin console sessions) or mobile\n"
    "  --days N           forget-unseen: devices unseen for N days\n"
    "  -f, --format FMT   table (default) or jsonl\n"
    "\n"
    "Exit status: 0, 1 no device matched, 2 usage error (or devices not in\n"
    "this build), 3 store error.\n";

enum { D_KIND = 100, D_DAYS };
static const cli_opt opts[] = {
    {"kind", 0, 1, D_KIND}, {"days", 0, 1, D_DAYS}, {NULL, 0, 0, 0}};

static int on_opt(cli *c, int id, const char *val, void *p) {
  (void)p;
  int64_t v;
  if (id == D_KIND && strcmp(val, "web") && strcmp(val, "mobile"))
    return cli_usage(c, "--kind must be web or mobile, not '%s'", val);
  if (id == D_DAYS && (cli_parse_i64(val, &v) || v < 1))
    return cli_usage(c, "--days needs a number >= 1, not '%s'", val);
  return -1;
}

int cmd_devices(int argc, char **argv) {
  cli c;
  int ret = cli_parse(&c, argc, argv, usage, CLI_F_FILTER | CLI_F_FORMAT,
                      opts, on_opt, NULL);
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
  if (c.n_args) {
    const char *a = c.args[0];
    size_t want = strcmp(a, "rename") == 0         ? 3
                  : strcmp(a, "forget") == 0       ? 2
                  : strcmp(a, "forget-unseen") == 0 ? 1
                                                    : 0;
    if (want == 0 || c.n_args != want) {
      ret = cli_usage(&c, "expected 'rename ID NAME', 'forget ID' or "
                          "'forget-unseen --days N'");
      goto done;
    }
  }
  /* A missing or damaged store is reported before the module's absence. */
  eaudit_store *s = NULL;
  if ((ret = cli_open(&c, 0, 1, NULL, &s)) != CLI_OK)
    goto done;
  eaudit_store_free(s);
  ret = cli_not_available(&c, "device recognition (include/eaudit/device.h)");
done:
  cli_free(&c);
  return ret;
}
